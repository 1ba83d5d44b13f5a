//! Surety's contracts on top of a deployed EigenLayer core, wired as `docs/contracts.md`
//! prescribes: the registrar is the AVS, creates operator set 0 over the strategies and installs
//! itself as the set's registrar; only the slasher may make it slash.

use alloy::{
    primitives::{Address, U256},
    providers::{Provider, WalletProvider},
};
use serde::{Deserialize, Serialize};

use crate::{
    EigenLayerDeployment, Error,
    bindings::{
        CertificateVerifier, CompensationPool, ExampleBridge, OperatorRegistry, PostedRootSource,
        Slasher, SuretyRegistrar,
    },
    eigenlayer::{IAllocationManager, OperatorSet},
    tx::{create, read, send},
};

/// One ether, in wei.
const ETHER: u128 = 1_000_000_000_000_000_000;

/// Surety's deployment parameters (all immutable once deployed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuretyParams {
    /// How many L1 blocks old a certificate's reference block may be. Must stay well below
    /// EigenLayer's deallocation delay so that signers remain slashable while evidence lands.
    pub max_reference_age: u32,
    /// Cover premium, in basis points of the amount covered.
    pub premium_bps: u16,
    /// Seconds between a proven fault and its settlement, for slashing its signers; claims are
    /// paid after it.
    pub claim_window_secs: u64,
    /// Seconds after a certificate is recorded during which cover can be bought on it.
    pub cover_window_secs: u64,
    /// Seconds an operator's collateral stays locked after it leaves; at least the deallocation
    /// delay's duration so evidence can still forfeit it.
    pub collateral_withdrawal_delay_secs: u64,
    /// Collateral (wei) an operator must lock in the pool to register.
    pub min_collateral_wei: U256,
    /// Bond (wei) an invalid-root accuser posts, lost if the accusation fails.
    pub accusation_bond_wei: U256,
    /// Share of a guilty operator's allocation slashed, as a WAD (1e18 = all of it).
    pub slash_wad: U256,
    /// Where rollups' fees go; `None` means the deployer.
    pub treasury: Option<Address>,
    /// The AVS metadata URI published in the `AllocationManager`.
    pub metadata_uri: String,
}

impl SuretyParams {
    /// Devnet values: reference blocks up to 64 blocks old (a quarter of
    /// [`CoreParams::DEVNET`](crate::CoreParams::DEVNET)'s deallocation delay), a 1% premium,
    /// a 10-minute claim window, cover sold for 5 minutes after certification, collateral locked an
    /// hour after leaving, 1 ETH collateral, a
    /// 0.1 ETH accusation bond, and equivocation or a wrong root costing the whole allocation.
    pub fn devnet() -> Self {
        Self {
            max_reference_age: 64,
            premium_bps: 100,
            claim_window_secs: 600,
            cover_window_secs: 300,
            collateral_withdrawal_delay_secs: 3_600,
            min_collateral_wei: U256::from(ETHER),
            accusation_bond_wei: U256::from(ETHER / 10),
            slash_wad: U256::from(ETHER),
            treasury: None,
            metadata_uri: "https://surety.invalid/devnet/avs.json".to_owned(),
        }
    }
}

/// Addresses of a Surety deployment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuretyDeployment {
    /// `OperatorRegistry`: BLS keys, aggregate key and stake histories.
    pub operator_registry: Address,
    /// `CertificateVerifier`: rollup registry, certificates, `isFinal`.
    pub certificate_verifier: Address,
    /// `CompensationPool`: collateral, cover, claims.
    pub compensation_pool: Address,
    /// `SuretyRegistrar`: the AVS address on EigenLayer and the operator set's registrar.
    pub registrar: Address,
    /// `Slasher`: evidence and bonds.
    pub slasher: Address,
    /// The L1 block before the first of these contracts was created: no Surety event is older,
    /// so log scans start here (0 in files written before it was recorded).
    #[serde(default)]
    pub deployed_at: u64,
}

impl SuretyDeployment {
    /// Surety's operator set in the `AllocationManager`.
    pub fn operator_set(&self) -> OperatorSet {
        OperatorSet {
            avs: self.registrar,
            id: 0,
        }
    }
}

/// Deploys and wires Surety on top of `core` through `provider`, whose wallet becomes the
/// registrar's owner and must hold the deployer role `initialize` checks.
///
/// # Errors
/// Fails with the step that failed; a failure after the contracts exist leaves them unwired.
pub async fn deploy_surety<P>(
    provider: &P,
    core: &EigenLayerDeployment,
    params: &SuretyParams,
) -> Result<SuretyDeployment, Error>
where
    P: Provider + WalletProvider,
{
    let deployer = provider.default_signer_address();
    let treasury = params.treasury.unwrap_or(deployer);
    tracing::info!(%deployer, ?params, "deploying Surety");
    let deployed_at = provider
        .get_block_number()
        .await
        .map_err(Error::Unreachable)?;

    let operator_registry = create(
        "OperatorRegistry",
        OperatorRegistry::deploy_builder(provider, core.allocation_manager),
    )
    .await?;
    let certificate_verifier = create(
        "CertificateVerifier",
        CertificateVerifier::deploy_builder(
            provider,
            operator_registry,
            params.max_reference_age,
            treasury,
        ),
    )
    .await?;
    let compensation_pool = create(
        "CompensationPool",
        CompensationPool::deploy_builder(
            provider,
            certificate_verifier,
            params.premium_bps,
            params.claim_window_secs,
            params.collateral_withdrawal_delay_secs,
            params.cover_window_secs,
        ),
    )
    .await?;
    let registrar = create(
        "SuretyRegistrar",
        SuretyRegistrar::deploy_builder(
            provider,
            core.allocation_manager,
            operator_registry,
            compensation_pool,
            params.min_collateral_wei,
            deployer,
        ),
    )
    .await?;
    let slasher = create(
        "Slasher",
        Slasher::deploy_builder(
            provider,
            certificate_verifier,
            registrar,
            compensation_pool,
            params.accusation_bond_wei,
            params.slash_wad,
        ),
    )
    .await?;

    send(
        "OperatorRegistry.initialize",
        OperatorRegistry::new(operator_registry, provider).initialize(registrar),
    )
    .await?;
    send(
        "CertificateVerifier.initialize",
        CertificateVerifier::new(certificate_verifier, provider).initialize(slasher),
    )
    .await?;
    send(
        "CompensationPool.initialize",
        CompensationPool::new(compensation_pool, provider).initialize(registrar, slasher),
    )
    .await?;
    // The AllocationManager wants the set's strategies in ascending order.
    let mut strategies = vec![core.strategy];
    strategies.sort_unstable();
    send(
        "SuretyRegistrar.initialize (AVS metadata, operator set, registrar)",
        SuretyRegistrar::new(registrar, provider).initialize(
            slasher,
            params.metadata_uri.clone(),
            strategies,
        ),
    )
    .await?;

    let surety = SuretyDeployment {
        operator_registry,
        certificate_verifier,
        compensation_pool,
        registrar,
        slasher,
        deployed_at,
    };
    // EigenLayer must now route the set's registrations to the registrar.
    let installed = read(
        "AllocationManager.getAVSRegistrar",
        IAllocationManager::new(core.allocation_manager, provider).getAVSRegistrar(registrar),
    )
    .await?;
    if installed != registrar {
        return Err(Error::Miswired {
            what: "the operator set's registrar",
            expected: registrar,
            found: installed,
        });
    }
    tracing::info!(?surety, "Surety deployed");
    Ok(surety)
}

/// Deploys a `PostedRootSource` whose `poster` alone posts a rollup's final state roots, once per
/// height: the canonical-root source of the devnet and of rollups without an on-chain settlement
/// adapter. Pass its address to `CertificateVerifier.register`.
///
/// # Errors
/// Fails if the creation transaction fails.
pub async fn deploy_posted_root_source<P: Provider>(
    provider: &P,
    poster: Address,
) -> Result<Address, Error> {
    create(
        "PostedRootSource",
        PostedRootSource::deploy_builder(provider, poster),
    )
    .await
}

/// Deploys the example bridge (`contracts/src/examples/ExampleBridge.sol`) for rollup `rollup_id`
/// of the verifier `certificate_verifier`: it releases withdrawals only on certified blocks and
/// stops while a circuit-breaker alert halts the rollup. It pays withdrawals from the ETH its
/// `deposit` calls locked (it has no `receive`).
///
/// # Errors
/// Fails if the creation transaction fails.
pub async fn deploy_example_bridge<P: Provider>(
    provider: &P,
    certificate_verifier: Address,
    rollup_id: u64,
) -> Result<Address, Error> {
    create(
        "ExampleBridge",
        ExampleBridge::deploy_builder(provider, certificate_verifier, rollup_id),
    )
    .await
}
