//! The EigenLayer core (slashing release, v1.3) on a local chain, from the bytecode that the
//! `eigenlayer-contract-deployer` crate ships, plus the operator-side calls a devnet needs.
//!
//! Every core contract sits behind a `TransparentUpgradeableProxy` owned by one `ProxyAdmin`, as
//! on mainnet: proxies are created empty first because the implementations' constructors take
//! each other's (proxy) addresses as immutables, then each proxy is upgraded to its
//! implementation and initialised in the same transaction. One mintable ERC-20 and its
//! `StrategyBase` (created through the `StrategyFactory`, which whitelists it for deposits) give
//! operators something to restake.
//!
//! There is no beacon chain on a devnet: the `EigenPodManager` is deployed because the
//! `DelegationManager` needs its address, with the zero address as the deposit contract, so
//! native restaking is unusable.

use alloy::{
    primitives::{Address, Bytes, U256},
    providers::{Provider, WalletProvider},
    sol_types::SolCall,
};
pub use eigenlayer_contract_deployer::bindings::{self as bindings, core::OperatorSet};
use eigenlayer_contract_deployer::bindings::{
    AVSDirectory, AllocationManager, DelegationManager, EigenPod, EigenPodManager, EmptyContract,
    PauserRegistry, PermissionController, ProxyAdmin, RewardsCoordinator, StrategyBase,
    StrategyFactory, StrategyManager, TransparentUpgradeableProxy, UpgradeableBeacon,
    core::{
        allocation_manager::IAllocationManagerTypes::{AllocateParams, RegisterParams},
        rewards_coordinator::IRewardsCoordinatorTypes::RewardsCoordinatorConstructorParams,
    },
};
/// The mintable ERC-20 that devnet operators restake (anyone may mint it).
pub use eigensdk::utils::slashing::sdk::mock_erc20::MockERC20;
use serde::{Deserialize, Serialize};

use crate::{
    Error,
    tx::{create, read, send},
};

/// Version string baked into the core implementations (EIP-712 domains read its major part).
pub const EIGENLAYER_VERSION: &str = "v1.3.0";

/// The magnitude that stands for an operator's whole stake in a strategy (1e18, a WAD).
pub const FULL_MAGNITUDE: u64 = 1_000_000_000_000_000_000;

/// Mainnet's rewards parameters: a devnet does not calculate rewards, but the constructor insists
/// on their day-aligned shape.
const REWARDS_CALCULATION_INTERVAL: u32 = 86_400;
const REWARDS_MAX_DURATION: u32 = 70 * 86_400;
const REWARDS_MAX_RETROACTIVE_LENGTH: u32 = 90 * 86_400;
const REWARDS_MAX_FUTURE_LENGTH: u32 = 30 * 86_400;
const REWARDS_GENESIS_TIMESTAMP: u32 = 1_710_979_200;
const REWARDS_DEFAULT_SPLIT_BIPS: u16 = 1_000;

/// Immutable timing parameters of the core, all in L1 blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoreParams {
    /// Blocks before an operator's new allocation delay applies (mainnet: 126,000). Until the
    /// first one applies (`+ 1` block) the operator cannot allocate.
    pub allocation_configuration_delay: u32,
    /// Blocks that deallocated or deregistered stake stays slashable (mainnet: 100,800, 14 days).
    /// Surety must decide evidence well inside this window.
    pub deallocation_delay: u32,
    /// Minimum blocks a withdrawal waits; matches the deallocation delay so that withdrawing
    /// stake is slashable for as long as deallocated stake is.
    ///
    /// Every slash makes the `DelegationManager` look this many blocks back
    /// (`uint32(block.number) - delay - 1`), which underflows before block `delay + 1`: on a
    /// chain younger than that, `slashOperator` reverts and Surety's registrar only logs
    /// `SlashFailed`, so a fresh devnet chain must be mined past it before evidence can slash.
    pub min_withdrawal_delay: u32,
}

impl CoreParams {
    /// Devnet timing: an operator can allocate two blocks after registering, and stake stays
    /// slashable for 256 blocks after it leaves (minutes on a 1-second-block anvil): four times
    /// the oldest reference block a devnet certificate may name, so evidence has time to land.
    pub const DEVNET: Self = Self {
        allocation_configuration_delay: 1,
        deallocation_delay: 256,
        min_withdrawal_delay: 256,
    };
}

impl Default for CoreParams {
    fn default() -> Self {
        Self::DEVNET
    }
}

/// Addresses of a deployed EigenLayer core (proxies, where a contract is upgradeable) and of the
/// restakable test token and its strategy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EigenLayerDeployment {
    /// Admin of every core proxy; owned by the deployer.
    pub proxy_admin: Address,
    /// Pauser registry; the deployer is the only pauser and the unpauser.
    pub pauser_registry: Address,
    /// `DelegationManager` proxy: operator registration, delegated shares.
    pub delegation_manager: Address,
    /// `StrategyManager` proxy: deposits.
    pub strategy_manager: Address,
    /// `AllocationManager` proxy: operator sets, allocations, slashing.
    pub allocation_manager: Address,
    /// `AVSDirectory` proxy (pre-operator-set registrations; deployed for completeness).
    pub avs_directory: Address,
    /// `RewardsCoordinator` proxy.
    pub rewards_coordinator: Address,
    /// `PermissionController` proxy: AVS and operator appointees.
    pub permission_controller: Address,
    /// `EigenPodManager` proxy (native restaking is unusable without a beacon chain).
    pub eigen_pod_manager: Address,
    /// `StrategyFactory` proxy: creates and whitelists one strategy per token.
    pub strategy_factory: Address,
    /// Beacon that every factory-made `StrategyBase` proxies to.
    pub strategy_beacon: Address,
    /// The mintable ERC-20 operators restake ([`MockERC20`]).
    pub token: Address,
    /// The `StrategyBase` holding deposits of [`Self::token`].
    pub strategy: Address,
    /// Timing parameters the core was built with.
    pub params: CoreParams,
}

/// Deploys the EigenLayer core and a restakable test token through `provider`, whose wallet
/// becomes the owner of everything.
///
/// # Errors
/// Fails with the step that failed if any creation or initialisation does not succeed.
pub async fn deploy_eigenlayer<P>(
    provider: &P,
    params: CoreParams,
) -> Result<EigenLayerDeployment, Error>
where
    P: Provider + WalletProvider,
{
    let owner = provider.default_signer_address();
    let version = EIGENLAYER_VERSION.to_owned();
    tracing::info!(%owner, ?params, "deploying the EigenLayer core");

    let proxy_admin = create("ProxyAdmin", ProxyAdmin::deploy_builder(provider)).await?;
    let pauser_registry = create(
        "PauserRegistry",
        PauserRegistry::deploy_builder(provider, vec![owner], owner),
    )
    .await?;

    // Implementations reference each other through proxy addresses, so the proxies come first,
    // all pointing at one placeholder until their upgrade.
    let empty = create("EmptyContract", EmptyContract::deploy_builder(provider)).await?;
    let proxy = async |name| {
        create(
            name,
            TransparentUpgradeableProxy::deploy_builder(provider, empty, proxy_admin, Bytes::new()),
        )
        .await
    };
    let delegation_manager = proxy("DelegationManager proxy").await?;
    let strategy_manager = proxy("StrategyManager proxy").await?;
    let allocation_manager = proxy("AllocationManager proxy").await?;
    let avs_directory = proxy("AVSDirectory proxy").await?;
    let rewards_coordinator = proxy("RewardsCoordinator proxy").await?;
    let permission_controller = proxy("PermissionController proxy").await?;
    let eigen_pod_manager = proxy("EigenPodManager proxy").await?;
    let strategy_factory = proxy("StrategyFactory proxy").await?;

    let permission_controller_impl = create(
        "PermissionController",
        PermissionController::deploy_builder(provider, version.clone()),
    )
    .await?;
    let delegation_manager_impl = create(
        "DelegationManager",
        DelegationManager::deploy_builder(
            provider,
            strategy_manager,
            eigen_pod_manager,
            allocation_manager,
            pauser_registry,
            permission_controller,
            params.min_withdrawal_delay,
            version.clone(),
        ),
    )
    .await?;
    let strategy_manager_impl = create(
        "StrategyManager",
        StrategyManager::deploy_builder(
            provider,
            delegation_manager,
            pauser_registry,
            version.clone(),
        ),
    )
    .await?;
    let allocation_manager_impl = create(
        "AllocationManager",
        AllocationManager::deploy_builder(
            provider,
            delegation_manager,
            pauser_registry,
            permission_controller,
            params.deallocation_delay,
            params.allocation_configuration_delay,
            version.clone(),
        ),
    )
    .await?;
    let avs_directory_impl = create(
        "AVSDirectory",
        AVSDirectory::deploy_builder(
            provider,
            delegation_manager,
            pauser_registry,
            version.clone(),
        ),
    )
    .await?;
    let rewards_coordinator_impl = create(
        "RewardsCoordinator",
        RewardsCoordinator::deploy_builder(
            provider,
            RewardsCoordinatorConstructorParams {
                delegationManager: delegation_manager,
                strategyManager: strategy_manager,
                allocationManager: allocation_manager,
                pauserRegistry: pauser_registry,
                permissionController: permission_controller,
                CALCULATION_INTERVAL_SECONDS: REWARDS_CALCULATION_INTERVAL,
                MAX_REWARDS_DURATION: REWARDS_MAX_DURATION,
                MAX_RETROACTIVE_LENGTH: REWARDS_MAX_RETROACTIVE_LENGTH,
                MAX_FUTURE_LENGTH: REWARDS_MAX_FUTURE_LENGTH,
                GENESIS_REWARDS_TIMESTAMP: REWARDS_GENESIS_TIMESTAMP,
                version: version.clone(),
            },
        ),
    )
    .await?;
    let eigen_pod_impl = create(
        "EigenPod",
        EigenPod::deploy_builder(
            provider,
            Address::ZERO,
            eigen_pod_manager,
            0,
            version.clone(),
        ),
    )
    .await?;
    let eigen_pod_beacon = create(
        "EigenPod beacon",
        UpgradeableBeacon::deploy_builder(provider, eigen_pod_impl),
    )
    .await?;
    let eigen_pod_manager_impl = create(
        "EigenPodManager",
        EigenPodManager::deploy_builder(
            provider,
            Address::ZERO,
            eigen_pod_beacon,
            delegation_manager,
            pauser_registry,
            version.clone(),
        ),
    )
    .await?;
    let strategy_factory_impl = create(
        "StrategyFactory",
        StrategyFactory::deploy_builder(
            provider,
            strategy_manager,
            pauser_registry,
            version.clone(),
        ),
    )
    .await?;
    let strategy_base_impl = create(
        "StrategyBase",
        StrategyBase::deploy_builder(provider, strategy_manager, pauser_registry, version),
    )
    .await?;
    let strategy_beacon = create(
        "StrategyBase beacon",
        UpgradeableBeacon::deploy_builder(provider, strategy_base_impl),
    )
    .await?;

    let admin = ProxyAdmin::new(proxy_admin, provider);
    let unpaused = U256::ZERO;
    let upgrade = async |step, proxy, implementation, init: Vec<u8>| {
        send(
            step,
            admin.upgradeAndCall(proxy, implementation, init.into()),
        )
        .await
        .map(drop)
    };
    // No initializer: the controller has no owner or pause state.
    send(
        "upgrade PermissionController",
        admin.upgrade(permission_controller, permission_controller_impl),
    )
    .await?;
    upgrade(
        "initialise DelegationManager",
        delegation_manager,
        delegation_manager_impl,
        DelegationManager::initializeCall {
            initialOwner: owner,
            initialPausedStatus: unpaused,
        }
        .abi_encode(),
    )
    .await?;
    upgrade(
        "initialise StrategyManager",
        strategy_manager,
        strategy_manager_impl,
        // The factory whitelists the strategies it creates, so it is the whitelister.
        StrategyManager::initializeCall {
            initialOwner: owner,
            initialStrategyWhitelister: strategy_factory,
            initialPausedStatus: unpaused,
        }
        .abi_encode(),
    )
    .await?;
    upgrade(
        "initialise AllocationManager",
        allocation_manager,
        allocation_manager_impl,
        AllocationManager::initializeCall {
            initialOwner: owner,
            initialPausedStatus: unpaused,
        }
        .abi_encode(),
    )
    .await?;
    upgrade(
        "initialise AVSDirectory",
        avs_directory,
        avs_directory_impl,
        AVSDirectory::initializeCall {
            initialOwner: owner,
            initialPausedStatus: unpaused,
        }
        .abi_encode(),
    )
    .await?;
    upgrade(
        "initialise RewardsCoordinator",
        rewards_coordinator,
        rewards_coordinator_impl,
        RewardsCoordinator::initializeCall {
            initialOwner: owner,
            initialPausedStatus: unpaused,
            _rewardsUpdater: owner,
            _activationDelay: 0,
            _defaultSplitBips: REWARDS_DEFAULT_SPLIT_BIPS,
        }
        .abi_encode(),
    )
    .await?;
    upgrade(
        "initialise EigenPodManager",
        eigen_pod_manager,
        eigen_pod_manager_impl,
        EigenPodManager::initializeCall {
            initialOwner: owner,
            _initPausedStatus: unpaused,
        }
        .abi_encode(),
    )
    .await?;
    upgrade(
        "initialise StrategyFactory",
        strategy_factory,
        strategy_factory_impl,
        StrategyFactory::initializeCall {
            _initialOwner: owner,
            _initialPausedStatus: unpaused,
            _strategyBeacon: strategy_beacon,
        }
        .abi_encode(),
    )
    .await?;

    let token = create("MockERC20", MockERC20::deploy_builder(provider)).await?;
    let factory = StrategyFactory::new(strategy_factory, provider);
    send(
        "create the token's strategy",
        factory.deployNewStrategy(token),
    )
    .await?;
    let strategy = read(
        "StrategyFactory.deployedStrategies",
        factory.deployedStrategies(token),
    )
    .await?;
    if strategy.is_zero() {
        return Err(Error::NoStrategy { token });
    }

    let deployment = EigenLayerDeployment {
        proxy_admin,
        pauser_registry,
        delegation_manager,
        strategy_manager,
        allocation_manager,
        avs_directory,
        rewards_coordinator,
        permission_controller,
        eigen_pod_manager,
        strategy_factory,
        strategy_beacon,
        token,
        strategy,
        params,
    };
    tracing::info!(?deployment, "EigenLayer core deployed");
    Ok(deployment)
}

/// What an operator (or a staker) does against the core, each call signed by `provider`'s wallet.
impl EigenLayerDeployment {
    /// Mints `amount` of the test token to `to` (the devnet token lets anyone mint).
    ///
    /// # Errors
    /// Fails if the transaction fails.
    pub async fn mint<P: Provider>(
        &self,
        provider: &P,
        to: Address,
        amount: U256,
    ) -> Result<(), Error> {
        let token = MockERC20::new(self.token, provider);
        send("mint test tokens", token.mint(to, amount))
            .await
            .map(drop)
    }

    /// Registers `provider`'s account as an EigenLayer operator (self-delegated, no delegation
    /// approver) whose allocations take effect `allocation_delay` blocks after they are made.
    ///
    /// The operator can allocate only once the delay is configured:
    /// `params.allocation_configuration_delay + 1` blocks after this call.
    ///
    /// # Errors
    /// Fails if the transaction fails, e.g. when the account already is an operator.
    pub async fn register_operator<P: Provider>(
        &self,
        provider: &P,
        allocation_delay: u32,
        metadata_uri: &str,
    ) -> Result<(), Error> {
        let delegation = DelegationManager::new(self.delegation_manager, provider);
        let call =
            delegation.registerAsOperator(Address::ZERO, allocation_delay, metadata_uri.to_owned());
        send("register as EigenLayer operator", call)
            .await
            .map(drop)
    }

    /// Deposits `amount` of the test token held by `provider`'s account into the strategy and
    /// returns the strategy shares it received; they count towards the operator the account is
    /// delegated to.
    ///
    /// # Errors
    /// Fails if the approval or the deposit fails (e.g. an insufficient token balance).
    pub async fn deposit<P: Provider>(&self, provider: &P, amount: U256) -> Result<U256, Error> {
        let token = MockERC20::new(self.token, provider);
        send(
            "approve the StrategyManager",
            token.approve(self.strategy_manager, amount),
        )
        .await?;
        let manager = StrategyManager::new(self.strategy_manager, provider);
        let receipt = send(
            "deposit into the strategy",
            manager.depositIntoStrategy(self.strategy, self.token, amount),
        )
        .await?;
        let shares = receipt
            .decoded_log::<StrategyManager::Deposit>()
            .map(|deposit| deposit.shares)
            .ok_or(Error::MissingEvent {
                step: "deposit into the strategy",
                event: "StrategyManager.Deposit",
            })?;
        Ok(shares)
    }

    /// Allocates `magnitude` (out of [`FULL_MAGNITUDE`]) of the operator's stake in the strategy
    /// to `operator_set`. It becomes slashable after the operator's allocation delay.
    ///
    /// # Errors
    /// Fails if the transaction fails, e.g. before the allocation delay is configured.
    pub async fn allocate<P: Provider + WalletProvider>(
        &self,
        provider: &P,
        operator_set: OperatorSet,
        magnitude: u64,
    ) -> Result<(), Error> {
        let allocations = AllocationManager::new(self.allocation_manager, provider);
        let params = AllocateParams {
            operatorSet: operator_set,
            strategies: vec![self.strategy],
            newMagnitudes: vec![magnitude],
        };
        let call = allocations.modifyAllocations(provider.default_signer_address(), vec![params]);
        send("allocate to the operator set", call).await.map(drop)
    }

    /// Registers `provider`'s operator for operator sets `ids` of `avs`; `data` goes to the AVS's
    /// registrar, which may reject the registration.
    ///
    /// # Errors
    /// Fails if the transaction fails (including a revert of the registrar).
    pub async fn register_for_operator_sets<P: Provider + WalletProvider>(
        &self,
        provider: &P,
        avs: Address,
        ids: Vec<u32>,
        data: Bytes,
    ) -> Result<(), Error> {
        let allocations = AllocationManager::new(self.allocation_manager, provider);
        let params = RegisterParams {
            avs,
            operatorSetIds: ids,
            data,
        };
        let call = allocations.registerForOperatorSets(provider.default_signer_address(), params);
        send("register for the operator sets", call).await.map(drop)
    }

    /// The shares of the strategy delegated to `operator`.
    ///
    /// # Errors
    /// Fails if the view cannot be read.
    pub async fn operator_shares<P: Provider>(
        &self,
        provider: &P,
        operator: Address,
    ) -> Result<U256, Error> {
        read(
            "DelegationManager.operatorShares",
            DelegationManager::new(self.delegation_manager, provider)
                .operatorShares(operator, self.strategy),
        )
        .await
    }

    /// Stake in the strategy that `operator` has allocated to `operator_set` and that has taken
    /// effect (shares × allocated magnitude ÷ max magnitude).
    ///
    /// # Errors
    /// Fails if the view cannot be read.
    pub async fn allocated_stake<P: Provider>(
        &self,
        provider: &P,
        operator_set: OperatorSet,
        operator: Address,
    ) -> Result<U256, Error> {
        let stake = read(
            "AllocationManager.getAllocatedStake",
            AllocationManager::new(self.allocation_manager, provider).getAllocatedStake(
                operator_set,
                vec![operator],
                vec![self.strategy],
            ),
        )
        .await?;
        stake
            .first()
            .and_then(|row| row.first())
            .copied()
            .ok_or(Error::Malformed {
                what: "AllocationManager.getAllocatedStake",
            })
    }
}
