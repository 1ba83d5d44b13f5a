//! The whole L1 side at once: checks that a chain can host Surety, describes a deployment as
//! the addresses JSON, and (feature `devnet`) deploys the EigenLayer core and Surety on a local
//! chain and onboards operators with test stake.

use alloy::{
    network::TransactionBuilder,
    primitives::{B256, Bytes, address},
    providers::{Provider, WalletProvider},
    rpc::types::TransactionRequest,
};
use serde::{Deserialize, Serialize};

#[cfg(feature = "devnet")]
use crate::{
    CoreParams, SuretyParams, deploy_eigenlayer, deploy_surety,
    register::{RegisterError, RegisterOptions, register_operator},
};
use crate::{
    EigenLayerDeployment, Error, RegistrationContracts, SuretyDeployment,
    bindings::CertificateVerifier,
    deploy_posted_root_source,
    tx::{read, send},
};
#[cfg(feature = "devnet")]
use alloy::primitives::U256;
#[cfg(feature = "devnet")]
use surety_primitives::SecretKey;

/// Every address of a devnet L1, as `surety devnet deploy --out` writes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    /// The L1 chain id (part of every signing domain).
    pub chain_id: u64,
    /// The EigenLayer core and the restakable test token.
    pub eigenlayer: EigenLayerDeployment,
    /// Surety's contracts.
    pub surety: SuretyDeployment,
}

/// EIP-2537's G1ADD precompile: present from Prague on.
const BLS12_G1ADD: alloy::primitives::Address =
    address!("0x000000000000000000000000000000000000000b");

/// Checks that the endpoint answers and that its chain has the EIP-2537 precompiles Surety's
/// verifier needs; returns the chain id.
///
/// # Errors
/// [`Error::Unreachable`] if the endpoint does not answer, [`Error::NoPrague`] if G1ADD is absent.
pub async fn check_l1<P: Provider>(provider: &P) -> Result<u64, Error> {
    let chain_id = provider.get_chain_id().await.map_err(Error::Unreachable)?;
    // Infinity + infinity: 128 zero bytes from the precompile; an account without code (no
    // precompile) returns nothing.
    let probe = TransactionRequest::default()
        .with_to(BLS12_G1ADD)
        .with_input(Bytes::from(vec![0; 256]));
    let sum = provider.call(probe).await.map_err(Error::Unreachable)?;
    if sum.len() != 128 {
        return Err(Error::NoPrague { chain_id });
    }
    Ok(chain_id)
}

/// Checks the chain, deploys the EigenLayer core, then Surety on it (feature `devnet`).
///
/// # Errors
/// As [`check_l1`], [`deploy_eigenlayer`] and [`deploy_surety`].
#[cfg(feature = "devnet")]
pub async fn deploy_all<P>(
    provider: &P,
    core: CoreParams,
    surety: &SuretyParams,
) -> Result<Deployment, Error>
where
    P: Provider + WalletProvider,
{
    let chain_id = check_l1(provider).await?;
    let eigenlayer = deploy_eigenlayer(provider, core).await?;
    let surety = deploy_surety(provider, &eigenlayer, surety).await?;
    Ok(Deployment {
        chain_id,
        eigenlayer,
        surety,
    })
}

impl Deployment {
    /// Registers the L2 with chain id `chain_id` as a Surety rollup owned by `owner`, whose
    /// canonical roots `owner` posts (a `PostedRootSource`), and returns its rollup id.
    ///
    /// # Errors
    /// As the deployment and the registration transaction.
    pub async fn register_rollup<P>(
        &self,
        owner: &P,
        chain_id: u64,
        genesis_hash: B256,
        genesis_root: B256,
        threshold_bps: u16,
    ) -> Result<u64, Error>
    where
        P: Provider + WalletProvider,
    {
        let source = deploy_posted_root_source(owner, owner.default_signer_address()).await?;
        let verifier = CertificateVerifier::new(self.surety.certificate_verifier, owner);
        send(
            "register the rollup",
            verifier.register(chain_id, genesis_hash, genesis_root, threshold_bps, source),
        )
        .await?;
        read(
            "CertificateVerifier.rollupIdOfChain",
            verifier.rollupIdOfChain(chain_id),
        )
        .await
    }

    /// The contracts [`register_operator`](crate::register_operator) touches.
    pub fn registration_contracts(&self) -> RegistrationContracts {
        RegistrationContracts {
            operator_registry: self.surety.operator_registry,
            registrar: self.surety.registrar,
            compensation_pool: self.surety.compensation_pool,
            allocation_manager: self.eigenlayer.allocation_manager,
            delegation_manager: self.eigenlayer.delegation_manager,
        }
    }

    /// Devnet only: mints `stake` test tokens to `provider`'s account and deposits them into the
    /// test token's strategy; returns the shares received. They count towards the account once
    /// it is (or becomes) an EigenLayer operator, so this may run before or after
    /// `surety operator register`.
    ///
    /// # Errors
    /// Fails with the step that failed.
    #[cfg(feature = "devnet")]
    pub async fn fund_test_stake<P>(&self, provider: &P, stake: U256) -> Result<U256, Error>
    where
        P: Provider + WalletProvider,
    {
        let core = &self.eigenlayer;
        core.mint(provider, provider.default_signer_address(), stake)
            .await?;
        core.deposit(provider, stake).await
    }

    /// Devnet only: makes `provider`'s account a Surety operator restaking `stake` freshly
    /// minted test tokens ([`Self::fund_test_stake`], then
    /// [`register_operator`](crate::register_operator) with `allocation_delay`, the minimum
    /// collateral and all of the magnitude), and returns the strategy shares it restaked.
    ///
    /// The allocation becomes slashable `allocation_delay` blocks after it is made; until keepers
    /// then call `OperatorRegistry.update`, the registry records the stake it saw at
    /// registration (zero if the delay had not passed). Allocating needs the allocation delay to
    /// be configured, which the key and collateral transactions after the EigenLayer
    /// registration wait out for [`CoreParams::DEVNET`] timing.
    ///
    /// # Errors
    /// Fails with the step that failed, e.g. when the key is registered to another operator.
    #[cfg(feature = "devnet")]
    pub async fn onboard_operator<P>(
        &self,
        provider: &P,
        key: &SecretKey,
        stake: U256,
        allocation_delay: u32,
    ) -> Result<U256, RegisterError>
    where
        P: Provider + WalletProvider,
    {
        let shares = self.fund_test_stake(provider, stake).await?;
        let options = RegisterOptions {
            allocation_delay,
            ..RegisterOptions::default()
        };
        register_operator(
            provider,
            &self.registration_contracts(),
            key,
            &options,
            |_| {},
        )
        .await?;
        Ok(shares)
    }
}
