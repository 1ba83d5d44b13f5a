//! Transactions: the plan drawn for each one, and signing it as its envelope type.

use alloy::{
    consensus::{SignableTransaction, TxEip1559, TxEip2930, TxEip7702, TxEnvelope, TxLegacy},
    eips::{
        eip2718::Encodable2718,
        eip2930::{AccessList, AccessListItem},
        eip7702::SignedAuthorization,
    },
    primitives::{B256, Bytes, TxKind, U256},
    signers::{SignerSync, local::PrivateKeySigner},
};
use rand::{Rng, rngs::StdRng};

use super::{Action, WorkloadError};

/// Gas for the access lists [`access_list`] builds: one address and up to three keys.
pub(super) const ACCESS_LIST_GAS: u64 = 2_400 + 3 * 1_900;

/// Which transaction envelope to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Envelope {
    Legacy,
    Eip2930,
    Eip1559,
}

/// A transaction before fees, nonce and signature.
#[derive(Debug)]
pub(super) struct Plan {
    pub(super) action: Action,
    pub(super) sender: usize,
    pub(super) to: TxKind,
    pub(super) input: Bytes,
    pub(super) value: U256,
    pub(super) gas: u64,
    pub(super) envelope: Envelope,
    pub(super) authorizations: Vec<SignedAuthorization>,
    /// Initial balance of the owner, for token deployments.
    pub(super) token_supply: U256,
}

impl Plan {
    pub(super) fn new(action: Action, sender: usize, to: TxKind, input: Vec<u8>, gas: u64) -> Self {
        Self {
            action,
            sender,
            to,
            input: input.into(),
            value: U256::ZERO,
            gas,
            envelope: Envelope::Eip1559,
            authorizations: Vec::new(),
            token_supply: U256::ZERO,
        }
    }
}

/// Sign `plan` as its envelope type; returns the EIP-2718 encoding and the transaction hash.
pub(super) fn sign(
    signer: &PrivateKeySigner,
    chain_id: u64,
    nonce: u64,
    tip: u128,
    max_fee: u128,
    plan: &Plan,
    rng: &mut StdRng,
) -> Result<(Bytes, B256), WorkloadError> {
    fn finish<T>(signer: &PrivateKeySigner, tx: T) -> Result<TxEnvelope, WorkloadError>
    where
        T: SignableTransaction<alloy::primitives::Signature>,
        TxEnvelope: From<alloy::consensus::Signed<T>>,
    {
        let signature = signer.sign_hash_sync(&tx.signature_hash())?;
        Ok(tx.into_signed(signature).into())
    }
    let input = plan.input.clone();
    let envelope = if !plan.authorizations.is_empty() {
        // Delegation plans always call the first authority.
        let to = plan.to.to().copied().unwrap_or_default();
        finish(
            signer,
            TxEip7702 {
                chain_id,
                nonce,
                gas_limit: plan.gas,
                max_fee_per_gas: max_fee,
                max_priority_fee_per_gas: tip,
                to,
                value: plan.value,
                access_list: AccessList::default(),
                authorization_list: plan.authorizations.clone(),
                input,
            },
        )?
    } else {
        match plan.envelope {
            Envelope::Legacy => finish(
                signer,
                TxLegacy {
                    chain_id: Some(chain_id),
                    nonce,
                    gas_price: max_fee,
                    gas_limit: plan.gas,
                    to: plan.to,
                    value: plan.value,
                    input,
                },
            )?,
            Envelope::Eip2930 => {
                let access_list = access_list(plan.to, rng);
                finish(
                    signer,
                    TxEip2930 {
                        chain_id,
                        nonce,
                        gas_price: max_fee,
                        gas_limit: plan.gas,
                        to: plan.to,
                        value: plan.value,
                        access_list,
                        input,
                    },
                )?
            }
            Envelope::Eip1559 => finish(
                signer,
                TxEip1559 {
                    chain_id,
                    nonce,
                    gas_limit: plan.gas,
                    max_fee_per_gas: max_fee,
                    max_priority_fee_per_gas: tip,
                    to: plan.to,
                    value: plan.value,
                    access_list: AccessList::default(),
                    input,
                },
            )?,
        }
    };
    let hash = *envelope.tx_hash();
    Ok((envelope.encoded_2718().into(), hash))
}

/// An access list naming the callee with a few of its low storage slots (the Workbench's hot
/// range), or empty for creations.
fn access_list(to: TxKind, rng: &mut StdRng) -> AccessList {
    let TxKind::Call(address) = to else {
        return AccessList::default();
    };
    let storage_keys = (0..rng.gen_range(0..=3))
        .map(|_| B256::from(U256::from(rng.gen_range(0..64u64))))
        .collect();
    AccessList(vec![AccessListItem {
        address,
        storage_keys,
    }])
}
