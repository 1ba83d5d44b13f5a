//! The whole L1 side at once: checks that a chain can host Surety, deploys the EigenLayer core
//! and Surety on it, describes the result as the addresses JSON, and onboards operators onto it.

use alloy::{
    network::TransactionBuilder,
    primitives::{B256, Bytes, U256, address},
    providers::{Provider, WalletProvider},
    rpc::types::TransactionRequest,
};
use serde::{Deserialize, Serialize};
use surety_primitives::{ProofOfPossession, SecretKey};

use crate::{
    CoreParams, EigenLayerDeployment, Error, SuretyDeployment, SuretyParams,
    bindings::{CertificateVerifier, CompensationPool, OperatorRegistry, SuretyRegistrar},
    deploy_eigenlayer, deploy_posted_root_source, deploy_surety,
    eigenlayer::FULL_MAGNITUDE,
    tx::{read, send},
};

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

/// Checks the chain, deploys the EigenLayer core, then Surety on it.
///
/// # Errors
/// As [`check_l1`], [`deploy_eigenlayer`] and [`deploy_surety`].
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

    /// Makes `provider`'s account a Surety operator restaking `stake` freshly minted test tokens,
    /// in the order `docs/contracts.md` prescribes, and returns the strategy shares it restaked:
    ///
    /// 1. EigenLayer: register as operator with `allocation_delay`, mint and deposit `stake`;
    /// 2. Surety: register `key` with a proof of possession bound to this account, chain and
    ///    registry, and deposit the registrar's minimum collateral into the pool;
    /// 3. allocate the whole stake to Surety's operator set, then register for the set (the
    ///    registrar's callback locks the collateral and adds the key to the aggregate key).
    ///
    /// The allocation becomes slashable `allocation_delay` blocks after it is made; until keepers
    /// then call `OperatorRegistry.update`, the registry records the stake it saw at
    /// registration (zero if the delay had not passed). Step 3 needs the allocation delay to be
    /// configured, which the five transactions of steps 1–2 wait out for
    /// [`CoreParams::DEVNET`] timing.
    ///
    /// # Errors
    /// Fails with the step that failed, e.g. when the account already is an operator or the key
    /// is registered to another one.
    pub async fn onboard_operator<P>(
        &self,
        provider: &P,
        key: &SecretKey,
        stake: U256,
        allocation_delay: u32,
    ) -> Result<U256, Error>
    where
        P: Provider + WalletProvider,
    {
        let (core, surety) = (&self.eigenlayer, &self.surety);
        let operator = provider.default_signer_address();
        core.register_operator(provider, allocation_delay, "")
            .await?;
        core.mint(provider, operator, stake).await?;
        let shares = core.deposit(provider, stake).await?;

        let public_key = key.public_key();
        let pop = ProofOfPossession::new(key, operator, self.chain_id, surety.operator_registry);
        send(
            "register the BLS key",
            OperatorRegistry::new(surety.operator_registry, provider)
                .registerKey(public_key.to_eip2537().into(), pop.to_eip2537().into()),
        )
        .await?;
        let collateral = read(
            "SuretyRegistrar.minCollateral",
            SuretyRegistrar::new(surety.registrar, provider).minCollateral(),
        )
        .await?;
        send(
            "deposit collateral",
            CompensationPool::new(surety.compensation_pool, provider)
                .depositCollateral()
                .value(collateral),
        )
        .await?;

        let set = surety.operator_set();
        core.allocate(provider, set.clone(), FULL_MAGNITUDE).await?;
        core.register_for_operator_sets(provider, set.avs, vec![set.id], Bytes::new())
            .await?;
        tracing::info!(%operator, key = %public_key, %shares, "operator onboarded");
        Ok(shares)
    }
}
