//! The EigenLayer core (slashing release, v1.3): its addresses and timing, and the operator-side
//! calls (registration, allocation, joining an operator set) through `sol!` bindings of just the
//! functions Surety uses, so a node links neither eigensdk nor the deployer crate.
//!
//! With the `devnet` feature, [`deploy_eigenlayer`] puts the core on a local chain from the
//! bytecode the `eigenlayer-contract-deployer` crate ships, with a mintable test token and its
//! strategy, and [`EigenLayerDeployment::mint`] / [`EigenLayerDeployment::deposit`] fund test
//! stake. Every core contract sits behind a `TransparentUpgradeableProxy` owned by one
//! `ProxyAdmin`, as on mainnet: proxies are created empty first because the implementations'
//! constructors take each other's (proxy) addresses as immutables, then each proxy is upgraded
//! to its implementation and initialised in the same transaction. One mintable ERC-20 and its
//! `StrategyBase` (created through the `StrategyFactory`, which whitelists it for deposits) give
//! operators something to restake.
//!
//! There is no beacon chain on a devnet: the `EigenPodManager` is deployed because the
//! `DelegationManager` needs its address, with the zero address as the deposit contract, so
//! native restaking is unusable.

use alloy::{
    primitives::{Address, Bytes, U256},
    providers::{Provider, WalletProvider},
};
use serde::{Deserialize, Serialize};

#[cfg(feature = "devnet")]
mod deploy;

#[cfg(feature = "devnet")]
pub use deploy::{MockERC20, bindings, deploy_eigenlayer};
pub use interfaces::{IAllocationManager, IDelegationManager, IStrategy, OperatorSet};

use crate::{
    Error,
    tx::{read, send},
};

/// The EigenLayer v1.3 functions Surety calls, with the exact signatures of the core's ABI.
#[allow(missing_docs, clippy::too_many_arguments)]
pub mod interfaces {
    alloy::sol! {
        /// An AVS's operator set.
        #[derive(Debug, PartialEq, Eq)]
        struct OperatorSet {
            address avs;
            uint32 id;
        }

        /// Operator registration and delegated shares.
        #[sol(rpc)]
        interface IDelegationManager {
            function registerAsOperator(
                address initDelegationApprover,
                uint32 allocationDelay,
                string metadataURI
            ) external;
            function isOperator(address operator) external view returns (bool);
            function delegatedTo(address staker) external view returns (address operator);
            function operatorShares(address operator, address strategy)
                external view returns (uint256 shares);
            function getOperatorShares(address operator, address[] strategies)
                external view returns (uint256[] memory);
        }

        /// Operator sets, allocations and their registration callbacks.
        #[sol(rpc)]
        interface IAllocationManager {
            #[derive(Debug)]
            struct AllocateParams {
                OperatorSet operatorSet;
                address[] strategies;
                uint64[] newMagnitudes;
            }
            #[derive(Debug)]
            struct Allocation {
                uint64 currentMagnitude;
                int128 pendingDiff;
                uint32 effectBlock;
            }
            #[derive(Debug)]
            struct RegisterParams {
                address avs;
                uint32[] operatorSetIds;
                bytes data;
            }

            function delegation() external view returns (address);
            function ALLOCATION_CONFIGURATION_DELAY() external view returns (uint32);
            function modifyAllocations(address operator, AllocateParams[] params) external;
            function registerForOperatorSets(address operator, RegisterParams params) external;
            function getAllocationDelay(address operator) external view returns (bool isSet, uint32 delay);
            function getAllocatableMagnitude(address operator, address strategy)
                external view returns (uint64);
            function getAllocation(address operator, OperatorSet operatorSet, address strategy)
                external view returns (Allocation memory);
            function getAllocatedStake(
                OperatorSet operatorSet,
                address[] operators,
                address[] strategies
            ) external view returns (uint256[][] memory);
            function getStrategiesInOperatorSet(OperatorSet operatorSet)
                external view returns (address[] memory);
            function isMemberOfOperatorSet(address operator, OperatorSet operatorSet)
                external view returns (bool);
            function isOperatorSet(OperatorSet operatorSet) external view returns (bool);
            function getAVSRegistrar(address avs) external view returns (address);
        }

        /// A strategy: what token its shares stand for.
        #[sol(rpc)]
        interface IStrategy {
            function underlyingToken() external view returns (address);
        }
    }
}

/// Version string baked into the core implementations (EIP-712 domains read its major part).
pub const EIGENLAYER_VERSION: &str = "v1.3.0";

/// The magnitude that stands for an operator's whole stake in a strategy (1e18, a WAD).
pub const FULL_MAGNITUDE: u64 = 1_000_000_000_000_000_000;

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
    /// The mintable ERC-20 devnet operators restake (`MockERC20`).
    pub token: Address,
    /// The `StrategyBase` holding deposits of [`Self::token`].
    pub strategy: Address,
    /// Timing parameters the core was built with.
    pub params: CoreParams,
}

/// What an operator does against the core, each call signed by `provider`'s wallet.
impl EigenLayerDeployment {
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
        let delegation = IDelegationManager::new(self.delegation_manager, provider);
        let call =
            delegation.registerAsOperator(Address::ZERO, allocation_delay, metadata_uri.to_owned());
        send("register as EigenLayer operator", call)
            .await
            .map(drop)
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
        allocate(
            provider,
            self.allocation_manager,
            operator_set,
            vec![self.strategy],
            vec![magnitude],
        )
        .await
        .map(drop)
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
        register_for_operator_sets(provider, self.allocation_manager, avs, ids, data)
            .await
            .map(drop)
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
            IDelegationManager::new(self.delegation_manager, provider)
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
            IAllocationManager::new(self.allocation_manager, provider).getAllocatedStake(
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

/// Sets `provider`'s allocations of `strategies` to `operator_set` to `magnitudes`.
pub(crate) async fn allocate<P: Provider + WalletProvider>(
    provider: &P,
    allocation_manager: Address,
    operator_set: OperatorSet,
    strategies: Vec<Address>,
    magnitudes: Vec<u64>,
) -> Result<alloy::rpc::types::TransactionReceipt, Error> {
    let params = interfaces::IAllocationManager::AllocateParams {
        operatorSet: operator_set,
        strategies,
        newMagnitudes: magnitudes,
    };
    let allocations = IAllocationManager::new(allocation_manager, provider);
    let call = allocations.modifyAllocations(provider.default_signer_address(), vec![params]);
    send("allocate to the operator set", call).await
}

/// Registers `provider`'s operator for operator sets `ids` of `avs`.
pub(crate) async fn register_for_operator_sets<P: Provider + WalletProvider>(
    provider: &P,
    allocation_manager: Address,
    avs: Address,
    ids: Vec<u32>,
    data: Bytes,
) -> Result<alloy::rpc::types::TransactionReceipt, Error> {
    let params = interfaces::IAllocationManager::RegisterParams {
        avs,
        operatorSetIds: ids,
        data,
    };
    let allocations = IAllocationManager::new(allocation_manager, provider);
    let call = allocations.registerForOperatorSets(provider.default_signer_address(), params);
    send("register for the operator sets", call).await
}
