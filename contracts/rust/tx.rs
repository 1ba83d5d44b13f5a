//! Sending transactions and reading views with the step they belong to attached to every failure.

use alloy::{
    contract::{CallBuilder, CallDecoder},
    primitives::Address,
    providers::Provider,
    rpc::types::TransactionReceipt,
};

use crate::Error;

/// Sends `call`, waits for its receipt and insists that it succeeded.
///
/// # Errors
/// [`Error::Call`], [`Error::Receipt`] or [`Error::Reverted`], naming `step`.
pub async fn send<P: Provider, D: CallDecoder>(
    step: &'static str,
    call: CallBuilder<P, D>,
) -> Result<TransactionReceipt, Error> {
    let pending = call
        .send()
        .await
        .map_err(|source| Error::Call { step, source })?;
    let receipt = pending
        .get_receipt()
        .await
        .map_err(|source| Error::Receipt { step, source })?;
    if !receipt.status() {
        return Err(Error::Reverted {
            step,
            tx: receipt.transaction_hash,
        });
    }
    tracing::debug!(step, gas = receipt.gas_used, "transaction mined");
    Ok(receipt)
}

/// Sends a creation transaction built by a binding's `deploy_builder` and returns the address.
pub(crate) async fn create<P: Provider, D: CallDecoder>(
    contract: &'static str,
    builder: CallBuilder<P, D>,
) -> Result<Address, Error> {
    let address = builder
        .deploy()
        .await
        .map_err(|source| Error::Deploy { contract, source })?;
    tracing::debug!(contract, %address, "contract created");
    Ok(address)
}

/// Calls the view `call` and decodes what it returns.
pub(crate) async fn read<P: Provider, D: CallDecoder>(
    what: &'static str,
    call: CallBuilder<P, D>,
) -> Result<D::CallOutput, Error> {
    call.call()
        .await
        .map_err(|source| Error::Read { what, source })
}
