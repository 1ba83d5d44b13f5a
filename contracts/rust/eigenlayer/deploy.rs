//! Devnet only: the EigenLayer core from the bytecode that the `eigenlayer-contract-deployer`
//! crate ships, a mintable test token with its strategy, and funding an account with restaked
//! test tokens. A node never needs any of it (feature `devnet`).

use alloy::{
    primitives::{Address, Bytes, U256},
    providers::{Provider, WalletProvider},
    sol_types::SolCall,
};
pub use eigenlayer_contract_deployer::bindings;
use eigenlayer_contract_deployer::bindings::{
    AVSDirectory, AllocationManager, DelegationManager, EigenPod, EigenPodManager, EmptyContract,
    PauserRegistry, PermissionController, ProxyAdmin, RewardsCoordinator, StrategyBase,
    StrategyFactory, StrategyManager, TransparentUpgradeableProxy, UpgradeableBeacon,
    core::rewards_coordinator::IRewardsCoordinatorTypes::RewardsCoordinatorConstructorParams,
};
/// The mintable ERC-20 that devnet operators restake (anyone may mint it).
pub use eigensdk::utils::slashing::sdk::mock_erc20::MockERC20;

use super::{CoreParams, EIGENLAYER_VERSION, EigenLayerDeployment};
use crate::{
    Error,
    tx::{create, read, send},
};

/// Mainnet's rewards parameters: a devnet does not calculate rewards, but the constructor insists
/// on their day-aligned shape.
const REWARDS_CALCULATION_INTERVAL: u32 = 86_400;
const REWARDS_MAX_DURATION: u32 = 70 * 86_400;
const REWARDS_MAX_RETROACTIVE_LENGTH: u32 = 90 * 86_400;
const REWARDS_MAX_FUTURE_LENGTH: u32 = 30 * 86_400;
const REWARDS_GENESIS_TIMESTAMP: u32 = 1_710_979_200;
const REWARDS_DEFAULT_SPLIT_BIPS: u16 = 1_000;

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

/// Funding with the devnet's test token, each call signed by `provider`'s wallet.
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
}
