//! Turning an account into a Surety operator, idempotently: every step reads the chain first and
//! is skipped if already done, so a second run changes nothing and an interrupted run can simply
//! be repeated. The order is the one `docs/contracts.md` prescribes:
//!
//! 1. EigenLayer: register as an operator (self-delegated; existing deposits move with it);
//! 2. Surety: register the BLS key with a proof of possession bound to this account, chain and
//!    registry;
//! 3. deposit collateral into the `CompensationPool` (top up to the target);
//! 4. allocate magnitude of every strategy of Surety's operator set the operator has shares in;
//! 5. register for the operator set through the `AllocationManager` (the registrar's callback
//!    locks the collateral and adds the key to the aggregate key).
//!
//! Getting restaked shares is not a step: on a real network stakers deposit and delegate; on a
//! devnet, `Deployment::fund_test_stake` mints and deposits test tokens.

use alloy::{
    primitives::{Address, B256, Bytes, TxHash, U256},
    providers::{Provider, WalletProvider},
};
use serde::Serialize;
use surety_primitives::{ProofOfPossession, SecretKey};

use crate::{
    Error,
    bindings::{CompensationPool, OperatorRegistry, SuretyRegistrar},
    eigenlayer::{
        FULL_MAGNITUDE, IAllocationManager, IDelegationManager, IStrategy, OperatorSet, allocate,
        register_for_operator_sets,
    },
    tx::{read, send},
};

/// The contracts registration touches, all reachable from the `OperatorRegistry`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistrationContracts {
    /// Surety's `OperatorRegistry` (BLS keys, stakes).
    pub operator_registry: Address,
    /// Surety's `SuretyRegistrar`: the AVS and the operator set's registrar.
    pub registrar: Address,
    /// Surety's `CompensationPool` (collateral).
    pub compensation_pool: Address,
    /// EigenLayer's `AllocationManager`.
    pub allocation_manager: Address,
    /// EigenLayer's `DelegationManager`.
    pub delegation_manager: Address,
}

impl RegistrationContracts {
    /// Reads every address from the chain, starting at the `OperatorRegistry` (its registrar and
    /// allocation manager, the registrar's pool, the allocation manager's delegation manager),
    /// so an operator needs to be told only one address.
    ///
    /// # Errors
    /// [`Error::Read`] if a view fails, e.g. when `operator_registry` is not one.
    pub async fn discover<P: Provider>(
        provider: &P,
        operator_registry: Address,
    ) -> Result<Self, Error> {
        let registry = OperatorRegistry::new(operator_registry, provider);
        let registrar = read("OperatorRegistry.registrar", registry.registrar()).await?;
        let allocation_manager = read(
            "OperatorRegistry.allocationManager",
            registry.allocationManager(),
        )
        .await?;
        let compensation_pool = read(
            "SuretyRegistrar.pool",
            SuretyRegistrar::new(registrar, provider).pool(),
        )
        .await?;
        let delegation_manager = read(
            "AllocationManager.delegation",
            IAllocationManager::new(allocation_manager, provider).delegation(),
        )
        .await?;
        Ok(Self {
            operator_registry,
            registrar,
            compensation_pool,
            allocation_manager,
            delegation_manager,
        })
    }

    /// Surety's operator set (id 0 of the registrar).
    pub fn operator_set(&self) -> OperatorSet {
        OperatorSet {
            avs: self.registrar,
            id: 0,
        }
    }
}

/// What to register with; only used for the steps still to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisterOptions {
    /// Blocks between an allocation and the moment it is slashable, set when registering with
    /// EigenLayer.
    pub allocation_delay: u32,
    /// The operator's metadata URI in EigenLayer (may be empty).
    pub metadata_uri: String,
    /// Share of the allocatable magnitude of each strategy to allocate, out of
    /// [`FULL_MAGNITUDE`] (a WAD).
    pub magnitude_wad: u64,
    /// Collateral (wei) the operator holds in the pool afterwards; `None` means the registrar's
    /// `minCollateral`.
    pub collateral: Option<U256>,
}

impl Default for RegisterOptions {
    fn default() -> Self {
        Self {
            allocation_delay: 0,
            metadata_uri: String::new(),
            magnitude_wad: FULL_MAGNITUDE,
            collateral: None,
        }
    }
}

/// One registration step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// EigenLayer operator registration.
    EigenlayerOperator,
    /// The BLS key in the `OperatorRegistry`.
    BlsKey,
    /// Collateral in the `CompensationPool`.
    Collateral,
    /// Magnitude allocated to the operator set.
    Allocation,
    /// Membership of the operator set.
    OperatorSet,
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `pad` so that width and alignment flags apply (the command prints a table).
        f.pad(match self {
            Self::EigenlayerOperator => "EigenLayer operator",
            Self::BlsKey => "BLS key",
            Self::Collateral => "collateral",
            Self::Allocation => "allocation",
            Self::OperatorSet => "operator set",
        })
    }
}

/// What a step did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StepReport {
    /// The step.
    pub step: Step,
    /// The transaction that did it; `None` if it was already done.
    pub tx: Option<TxHash>,
    /// What is in place now, for people (e.g. the key hash or the amount of collateral).
    pub detail: String,
}

impl StepReport {
    /// Whether this run sent a transaction for the step.
    pub fn done_now(&self) -> bool {
        self.tx.is_some()
    }
}

/// Why registration stopped. Steps reported before the error stay done.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// An L1 read or transaction failed.
    #[error(transparent)]
    L1(#[from] Error),
    /// The account is delegated to another operator, so it cannot become one.
    #[error(
        "{operator} is delegated to operator {delegated_to}; undelegate it in EigenLayer's \
         DelegationManager first, or register another account"
    )]
    DelegatedElsewhere {
        /// The account being registered.
        operator: Address,
        /// The operator it is delegated to.
        delegated_to: Address,
    },
    /// The operator registered a different BLS key; Surety keys cannot be replaced.
    #[error(
        "{operator} already registered BLS key {registered} with Surety, not the configured key \
         {configured}; configure that key's keystore"
    )]
    OtherKeyRegistered {
        /// The account being registered.
        operator: Address,
        /// Key hash on chain.
        registered: B256,
        /// Key hash of the configured key.
        configured: B256,
    },
    /// Another operator registered this BLS key.
    #[error("BLS key {key_hash} is registered to another operator, {owner}; use a fresh key")]
    KeyInUse {
        /// Key hash of the configured key.
        key_hash: B256,
        /// The operator it belongs to.
        owner: Address,
    },
    /// A collateral target below what the registrar requires.
    #[error("collateral {requested} wei is below the registrar's minimum of {minimum} wei")]
    CollateralBelowMinimum {
        /// The requested target.
        requested: U256,
        /// `SuretyRegistrar.minCollateral`.
        minimum: U256,
    },
    /// Not enough ether to deposit the collateral.
    #[error(
        "{operator} holds {balance} wei but must deposit {needed} wei of collateral (plus gas); \
         fund the account"
    )]
    InsufficientBalance {
        /// The account being registered.
        operator: Address,
        /// Its balance.
        balance: U256,
        /// The deposit still missing.
        needed: U256,
    },
    /// No shares of any of the operator set's strategies are delegated to the operator.
    #[error(
        "{operator} has no restaked shares in Surety's strategies ({strategies}); deposit the \
         strategy's token through EigenLayer's StrategyManager (depositIntoStrategy) from the \
         operator account, or have stakers delegate to it, then run again"
    )]
    NoRestakedShares {
        /// The operator.
        operator: Address,
        /// `strategy (token)` of every strategy in the set.
        strategies: String,
    },
    /// Every magnitude of the operator's strategies is already allocated elsewhere.
    #[error(
        "{operator} has no allocatable magnitude left in Surety's strategies (all of it is \
         allocated to other operator sets); deallocate some first"
    )]
    NothingAllocatable {
        /// The operator.
        operator: Address,
    },
    /// EigenLayer has not applied the operator's allocation delay yet, so it cannot allocate.
    #[error(
        "EigenLayer applies {operator}'s allocation delay {blocks} blocks after its operator \
         registration and has not yet; run again later"
    )]
    AllocationDelayPending {
        /// The operator.
        operator: Address,
        /// `AllocationManager.ALLOCATION_CONFIGURATION_DELAY + 1`.
        blocks: u64,
    },
}

/// Registers `provider`'s account as a Surety operator with BLS key `key`, doing only the steps
/// that are not done yet (module docs), and calls `on_step` after each one.
///
/// # Errors
/// [`RegisterError`], naming what to do about it.
pub async fn register_operator<P>(
    provider: &P,
    contracts: &RegistrationContracts,
    key: &SecretKey,
    options: &RegisterOptions,
    mut on_step: impl FnMut(&StepReport),
) -> Result<Vec<StepReport>, RegisterError>
where
    P: Provider + WalletProvider,
{
    let operator = provider.default_signer_address();
    let mut reports = Vec::new();
    let mut report = |step, tx, detail: String| {
        let report = StepReport { step, tx, detail };
        on_step(&report);
        reports.push(report);
    };

    let (tx, detail) = eigenlayer_operator(provider, contracts, options).await?;
    report(Step::EigenlayerOperator, tx, detail);
    let (tx, detail) = bls_key(provider, contracts, key).await?;
    report(Step::BlsKey, tx, detail);
    let (tx, detail) = collateral(provider, contracts, options).await?;
    report(Step::Collateral, tx, detail);
    let (tx, detail) = allocation(provider, contracts, options).await?;
    report(Step::Allocation, tx, detail);

    let set = contracts.operator_set();
    let allocations = IAllocationManager::new(contracts.allocation_manager, provider);
    let member = read(
        "AllocationManager.isMemberOfOperatorSet",
        allocations.isMemberOfOperatorSet(operator, set.clone()),
    )
    .await?;
    let tx = if member {
        None
    } else {
        let receipt = register_for_operator_sets(
            provider,
            contracts.allocation_manager,
            set.avs,
            vec![set.id],
            Bytes::new(),
        )
        .await?;
        Some(receipt.transaction_hash)
    };
    report(
        Step::OperatorSet,
        tx,
        format!("member of operator set {} of AVS {}", set.id, set.avs),
    );
    tracing::info!(%operator, key = %key.public_key(), "Surety operator registered");
    Ok(reports)
}

type Outcome = (Option<TxHash>, String);

async fn eigenlayer_operator<P: Provider + WalletProvider>(
    provider: &P,
    contracts: &RegistrationContracts,
    options: &RegisterOptions,
) -> Result<Outcome, RegisterError> {
    let operator = provider.default_signer_address();
    let delegation = IDelegationManager::new(contracts.delegation_manager, provider);
    if read(
        "DelegationManager.isOperator",
        delegation.isOperator(operator),
    )
    .await?
    {
        return Ok((None, format!("{operator} is an EigenLayer operator")));
    }
    let delegated_to = read(
        "DelegationManager.delegatedTo",
        delegation.delegatedTo(operator),
    )
    .await?;
    if !delegated_to.is_zero() {
        return Err(RegisterError::DelegatedElsewhere {
            operator,
            delegated_to,
        });
    }
    let receipt = send(
        "register as EigenLayer operator",
        delegation.registerAsOperator(
            Address::ZERO,
            options.allocation_delay,
            options.metadata_uri.clone(),
        ),
    )
    .await?;
    Ok((
        Some(receipt.transaction_hash),
        format!(
            "{operator} registered, allocation delay {} blocks",
            options.allocation_delay
        ),
    ))
}

async fn bls_key<P: Provider + WalletProvider>(
    provider: &P,
    contracts: &RegistrationContracts,
    key: &SecretKey,
) -> Result<Outcome, RegisterError> {
    let operator = provider.default_signer_address();
    let public_key = key.public_key();
    let key_hash = public_key.key_hash();
    let registry = OperatorRegistry::new(contracts.operator_registry, provider);
    let registered = read("OperatorRegistry.keyHashOf", registry.keyHashOf(operator)).await?;
    if registered == key_hash {
        return Ok((None, format!("key {key_hash}")));
    }
    if !registered.is_zero() {
        return Err(RegisterError::OtherKeyRegistered {
            operator,
            registered,
            configured: key_hash,
        });
    }
    let owner = read("OperatorRegistry.operatorOf", registry.operatorOf(key_hash)).await?;
    if !owner.is_zero() {
        return Err(RegisterError::KeyInUse { key_hash, owner });
    }
    let chain_id = provider.get_chain_id().await.map_err(Error::Unreachable)?;
    let pop = ProofOfPossession::new(key, operator, chain_id, contracts.operator_registry);
    let receipt = send(
        "register the BLS key",
        registry.registerKey(public_key.to_eip2537().into(), pop.to_eip2537().into()),
    )
    .await?;
    Ok((Some(receipt.transaction_hash), format!("key {key_hash}")))
}

async fn collateral<P: Provider + WalletProvider>(
    provider: &P,
    contracts: &RegistrationContracts,
    options: &RegisterOptions,
) -> Result<Outcome, RegisterError> {
    let operator = provider.default_signer_address();
    let minimum = read(
        "SuretyRegistrar.minCollateral",
        SuretyRegistrar::new(contracts.registrar, provider).minCollateral(),
    )
    .await?;
    let target = options.collateral.unwrap_or(minimum);
    if target < minimum {
        return Err(RegisterError::CollateralBelowMinimum {
            requested: target,
            minimum,
        });
    }
    let pool = CompensationPool::new(contracts.compensation_pool, provider);
    let held = read("CompensationPool.collateralOf", pool.collateralOf(operator))
        .await?
        .amount;
    if held >= target {
        return Ok((None, format!("{held} wei held (minimum {minimum})")));
    }
    let needed = target - held;
    let balance = provider
        .get_balance(operator)
        .await
        .map_err(Error::Unreachable)?;
    if balance < needed {
        return Err(RegisterError::InsufficientBalance {
            operator,
            balance,
            needed,
        });
    }
    let receipt = send("deposit collateral", pool.depositCollateral().value(needed)).await?;
    Ok((
        Some(receipt.transaction_hash),
        format!("{target} wei held (minimum {minimum})"),
    ))
}

async fn allocation<P: Provider + WalletProvider>(
    provider: &P,
    contracts: &RegistrationContracts,
    options: &RegisterOptions,
) -> Result<Outcome, RegisterError> {
    let operator = provider.default_signer_address();
    let set = contracts.operator_set();
    let allocations = IAllocationManager::new(contracts.allocation_manager, provider);
    let strategies = read(
        "AllocationManager.getStrategiesInOperatorSet",
        allocations.getStrategiesInOperatorSet(set.clone()),
    )
    .await?;
    let shares = read(
        "DelegationManager.getOperatorShares",
        IDelegationManager::new(contracts.delegation_manager, provider)
            .getOperatorShares(operator, strategies.clone()),
    )
    .await?;
    if shares.len() != strategies.len() {
        return Err(Error::Malformed {
            what: "DelegationManager.getOperatorShares",
        }
        .into());
    }
    let restaked: Vec<Address> = strategies
        .iter()
        .zip(&shares)
        .filter(|(_, shares)| !shares.is_zero())
        .map(|(strategy, _)| *strategy)
        .collect();
    if restaked.is_empty() {
        let mut described = Vec::new();
        for strategy in &strategies {
            let token = read(
                "IStrategy.underlyingToken",
                IStrategy::new(*strategy, provider).underlyingToken(),
            )
            .await?;
            described.push(format!("{strategy} (token {token})"));
        }
        return Err(RegisterError::NoRestakedShares {
            operator,
            strategies: described.join(", "),
        });
    }

    // A strategy with any allocation to the set (in effect or pending) is left as it is.
    let mut todo = Vec::new();
    let mut in_place = 0;
    for strategy in restaked {
        let current = read(
            "AllocationManager.getAllocation",
            allocations.getAllocation(operator, set.clone(), strategy),
        )
        .await?;
        if current.currentMagnitude > 0 || current.pendingDiff != 0 {
            in_place += 1;
            continue;
        }
        let allocatable = read(
            "AllocationManager.getAllocatableMagnitude",
            allocations.getAllocatableMagnitude(operator, strategy),
        )
        .await?;
        let magnitude = u128::from(allocatable) * u128::from(options.magnitude_wad)
            / u128::from(FULL_MAGNITUDE);
        // ≤ allocatable, which is a u64.
        let magnitude = u64::try_from(magnitude).unwrap_or(allocatable);
        if magnitude > 0 {
            todo.push((strategy, magnitude));
        }
    }
    if todo.is_empty() {
        if in_place == 0 {
            return Err(RegisterError::NothingAllocatable { operator });
        }
        return Ok((
            None,
            format!("{in_place} strategies allocated to the operator set"),
        ));
    }

    let delay = read(
        "AllocationManager.getAllocationDelay",
        allocations.getAllocationDelay(operator),
    )
    .await?;
    if !delay.isSet {
        let configuration = read(
            "AllocationManager.ALLOCATION_CONFIGURATION_DELAY",
            allocations.ALLOCATION_CONFIGURATION_DELAY(),
        )
        .await?;
        return Err(RegisterError::AllocationDelayPending {
            operator,
            blocks: u64::from(configuration) + 1,
        });
    }
    let detail = todo
        .iter()
        .map(|(strategy, magnitude)| format!("{magnitude} of strategy {strategy}"))
        .collect::<Vec<_>>()
        .join(", ");
    let (strategies, magnitudes) = todo.into_iter().unzip();
    let receipt = allocate(
        provider,
        contracts.allocation_manager,
        set,
        strategies,
        magnitudes,
    )
    .await?;
    Ok((
        Some(receipt.transaction_hash),
        format!("allocated {detail} (magnitude out of {FULL_MAGNITUDE})"),
    ))
}
