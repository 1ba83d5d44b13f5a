//! Block re-execution. [`ExecutionKind`] is the seam between rollup families: each kind applies
//! its own rules (hardfork schedule, system calls, fee handling, block validity) and yields the
//! block's state changes. Today there is one kind, Ethereum L1 rules — exact by default, or bent
//! the way anvil bends them ([`RuleSet::Anvil`]); an OP Stack kind on `op-revm` would be a second
//! variant with its own executor.
//!
//! [`ExecutionKind::verify`] is the one path every block takes (the follower and `blocktest`
//! alike): header against its parent, execution, every header field execution computes, then the
//! state root through the store.

mod chain;
mod hardforks;
mod validation;

pub use alloy_hardforks::EthereumHardfork;
pub use hardforks::ForkSchedule;
pub use validation::InvalidBlock;

use alloy_consensus::{Header, Transaction, TxEnvelope, transaction::Recovered};
use alloy_eips::{eip4895::Withdrawals, eip7840::BlobParams};
use alloy_evm::{
    EthEvmFactory, Evm, EvmEnv, EvmFactory,
    block::{BlockExecutionError, BlockExecutor, StateChangeSource},
    eth::{EthBlockExecutionCtx, EthBlockExecutor, receipt_builder::AlloyReceiptBuilder},
};
use alloy_primitives::{Address, B256, U256};
use alloy_trie::KECCAK_EMPTY;
use revm::{
    context::{BlockEnv, CfgEnv},
    context_interface::block::BlobExcessGasAndPrice,
    database::{AccountStatus, Database, State, states::bundle_state::BundleRetention},
    primitives::hardfork::SpecId,
    state::{AccountInfo, EvmState},
};
use std::{
    borrow::Cow,
    sync::{Arc, Mutex, PoisonError},
};

use crate::state::{
    AccountChange, AccountState, StateChanges, StateError, StateSource, StateStore, Verdict,
};

/// A block whose senders were recovered locally (never taken from an endpoint). Its body is
/// checked against the header by [`BlockInput::from_block`] or the follower.
#[derive(Debug, Clone)]
pub struct BlockInput {
    pub hash: B256,
    pub header: Header,
    pub transactions: Vec<Recovered<TxEnvelope>>,
    pub withdrawals: Option<Withdrawals>,
}

/// The outcome of executing a block whose computed header fields all matched.
#[derive(Debug)]
pub struct ExecutedBlock {
    pub changes: StateChanges,
    pub gas_used: u64,
}

/// Errors of block execution: the block is invalid (a fault of whoever produced it), or the
/// local state could not be read (an operator-side failure; nothing can be concluded).
#[derive(Debug, thiserror::Error)]
pub enum ExecutionError {
    #[error("block {number} is invalid: {reason}")]
    Invalid { number: u64, reason: InvalidBlock },
    #[error("block {number}: internal execution error: {message}")]
    Internal { number: u64, message: String },
    #[error(transparent)]
    State(#[from] StateError),
}

/// A block checked end to end by [`ExecutionKind::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub verdict: Verdict,
    /// Gas the block used (zero when it was rejected before execution finished).
    pub gas_used: u64,
}

/// The rules a rollup's blocks follow.
#[derive(Debug, Clone)]
pub enum ExecutionKind {
    /// Ethereum L1 rules at one hardfork, active from genesis.
    Ethereum(EthereumRules),
}

/// Which variant of Ethereum's rules a rollup follows: the configuration value
/// `rules = "ethereum" | "anvil"`.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum RuleSet {
    /// The exact rules of the Ethereum specification.
    #[default]
    Ethereum,
    /// Ethereum as anvil 1.7.1 executes it (its state quirks, documented on [`EthereumRules`]).
    Anvil,
}

impl RuleSet {
    /// The rules of this set for a chain, every fork up to `hardfork` active from genesis.
    pub fn rules(self, chain_id: u64, hardfork: EthereumHardfork) -> EthereumRules {
        match self {
            Self::Ethereum => EthereumRules::new(chain_id, hardfork),
            Self::Anvil => EthereumRules::anvil(chain_id, hardfork),
        }
    }
}

/// An unknown [`RuleSet`] name.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown rules `{0}` (expected `ethereum` or `anvil`)")]
pub struct UnknownRuleSet(String);

impl std::str::FromStr for RuleSet {
    type Err = UnknownRuleSet;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ethereum" => Ok(Self::Ethereum),
            "anvil" => Ok(Self::Anvil),
            other => Err(UnknownRuleSet(other.to_owned())),
        }
    }
}

impl std::fmt::Display for RuleSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Ethereum => "ethereum",
            Self::Anvil => "anvil",
        })
    }
}

/// Ethereum execution rules. [`EthereumRules::new`] is the specification; the quirk flags are
/// off there and on in [`EthereumRules::anvil`].
#[derive(Debug, Clone)]
pub struct EthereumRules {
    pub chain_id: u64,
    pub schedule: ForkSchedule,
    /// Enforce the EIP-7825 per-transaction gas cap (from Osaka on). Anvil leaves it off
    /// unless asked.
    pub tx_gas_limit_cap: bool,
    /// Keep every account a transaction loaded and left empty as an existing empty account,
    /// instead of leaving it absent (EIP-161). Anvil's in-memory database caches each account a
    /// transaction reads — even one that does not exist — and its state root covers that cache,
    /// so e.g. a zero-value call to a precompile adds an empty account to anvil's state, and so
    /// does a contract created and self-destructed in one transaction (EIP-6780). Anvil's
    /// system calls do not leave such accounts. A re-executor of an anvil chain must do the same.
    pub keep_loaded_empty_accounts: bool,
    /// Keep every storage slot a transaction loaded or set to zero as a trie leaf with value
    /// zero instead of deleting it (the same cache of anvil's, for slots).
    pub keep_zero_slots: bool,
    /// Grant EIP-7702's existing-authority refund (12,500 gas) for every valid authorization,
    /// also when the authority does not exist yet. The EIP grants it only for existing accounts;
    /// anvil 1.7.1 grants it always (a fresh authority's delegation costs 36,800 gas there, not
    /// 46,000), so its blocks only re-execute to the same gas with this rule on.
    pub authorities_always_exist: bool,
    /// Genesis holds the EIP-2935 history contract even when the genesis file does not list it
    /// (anvil inserts it from Prague on).
    pub genesis_history_contract: bool,
    /// A block may carry its parent's timestamp: anvil mines blocks requested within the same
    /// second with equal timestamps.
    pub equal_timestamps: bool,
    /// Check each header's base fee against the EIP-1559 update from its parent. Anvil's base
    /// fee does not follow its parent header: block 1 keeps the genesis base fee, and after
    /// `evm_revert` the next block's fee still derives from the reverted branch.
    pub base_fee_from_parent: bool,
}

impl EthereumRules {
    /// The exact Ethereum rules, every fork up to and including `hardfork` active from genesis.
    pub fn new(chain_id: u64, hardfork: EthereumHardfork) -> Self {
        Self {
            chain_id,
            schedule: ForkSchedule::new(hardfork),
            tx_gas_limit_cap: true,
            keep_loaded_empty_accounts: false,
            keep_zero_slots: false,
            authorities_always_exist: false,
            genesis_history_contract: false,
            equal_timestamps: false,
            base_fee_from_parent: true,
        }
    }

    /// The rules of anvil 1.7.1 run with `--hardfork <hardfork>` (its default, `latest`, is
    /// BPO1): the specification plus anvil's quirks.
    pub fn anvil(chain_id: u64, hardfork: EthereumHardfork) -> Self {
        Self {
            tx_gas_limit_cap: false,
            keep_loaded_empty_accounts: true,
            keep_zero_slots: true,
            authorities_always_exist: true,
            genesis_history_contract: true,
            equal_timestamps: true,
            base_fee_from_parent: false,
            ..Self::new(chain_id, hardfork)
        }
    }

    fn evm_env(&self, header: &Header) -> EvmEnv<SpecId> {
        let spec = self.schedule.spec_id();
        let mut cfg = CfgEnv::new_with_spec(spec).with_chain_id(self.chain_id);
        let blob_params = self.schedule.blob_params();
        if let Some(params) = &blob_params {
            cfg.set_max_blobs_per_tx(params.max_blobs_per_tx);
        }
        if !self.tx_gas_limit_cap {
            cfg.tx_gas_limit_cap = Some(u64::MAX);
        }
        let blob_excess_gas_and_price =
            header
                .excess_blob_gas
                .zip(blob_params)
                .map(|(excess_blob_gas, params)| BlobExcessGasAndPrice {
                    excess_blob_gas,
                    blob_gasprice: params.calc_blob_fee(excess_blob_gas),
                });
        let post_merge = spec >= SpecId::MERGE;
        let block = BlockEnv {
            number: U256::from(header.number),
            beneficiary: header.beneficiary,
            timestamp: U256::from(header.timestamp),
            difficulty: if post_merge {
                U256::ZERO
            } else {
                header.difficulty
            },
            prevrandao: post_merge.then_some(header.mix_hash),
            gas_limit: header.gas_limit,
            basefee: header.base_fee_per_gas.unwrap_or_default(),
            blob_excess_gas_and_price,
            slot_num: 0,
        };
        EvmEnv::new(cfg, block)
    }
}

impl ExecutionKind {
    /// Validates `block` against the store's head, executes it, checks every header field
    /// execution computes and applies it if its state root matches: the verdict on the block.
    /// An invalid block or a state-root mismatch is recorded as evidence and never applied;
    /// only storage failures are errors. [`verify_chain`](Self::verify_chain) does the same for
    /// a run of blocks on two threads.
    pub fn verify(
        &self,
        store: &StateStore,
        block: &BlockInput,
        block_rlp: impl FnOnce() -> Vec<u8>,
    ) -> Result<Verified, ExecutionError> {
        let (parent_hash, parent) = next_parent(store)?;
        let executed = self
            .check_parent(parent_hash, &parent, block)
            .and_then(|()| self.execute(store.reader()?, block));
        settle(store, block, executed, block_rlp)
    }

    /// Checks that `block` extends the block `parent_hash` with header `parent`.
    fn check_parent(
        &self,
        parent_hash: B256,
        parent: &Header,
        block: &BlockInput,
    ) -> Result<(), ExecutionError> {
        let checked = if block.header.parent_hash != parent_hash {
            Err(InvalidBlock::UnknownParent {
                parent: block.header.parent_hash,
                head: parent_hash,
            })
        } else {
            self.validate_header(parent, &block.header)
        };
        checked.map_err(|reason| ExecutionError::Invalid {
            number: block.header.number,
            reason,
        })
    }

    /// Checks `header` against its parent's: number, timestamp, gas limit bounds, base fee,
    /// excess blob gas, and the fields each active fork requires.
    pub fn validate_header(&self, parent: &Header, header: &Header) -> Result<(), InvalidBlock> {
        match self {
            Self::Ethereum(rules) => validation::validate_header(rules, parent, header),
        }
    }

    /// Executes `block` on top of `state` (the state after its parent), checks the header fields
    /// execution computes (gas used, blob gas used, receipts root, logs bloom, requests hash) and
    /// returns its state changes.
    pub fn execute<S: StateSource>(
        &self,
        state: S,
        block: &BlockInput,
    ) -> Result<ExecutedBlock, ExecutionError> {
        match self {
            Self::Ethereum(rules) => execute_ethereum(rules, state, block),
        }
    }

    /// The chain id transactions must carry.
    pub fn chain_id(&self) -> u64 {
        match self {
            Self::Ethereum(rules) => rules.chain_id,
        }
    }

    /// Whether genesis holds the EIP-2935 history contract beyond what the genesis file lists.
    pub fn has_history_contract(&self) -> bool {
        match self {
            Self::Ethereum(rules) => {
                rules.genesis_history_contract
                    && rules.schedule.latest() >= EthereumHardfork::Prague
            }
        }
    }
}

/// The store's head, which the next block must extend: its hash and full header.
fn next_parent(store: &StateStore) -> Result<(B256, Header), ExecutionError> {
    let head = store.head().ok_or(StateError::NotBootstrapped)?;
    let header = store
        .block_header(head.number)?
        .ok_or(StateError::MissingHeader(head.number))?;
    Ok((head.hash, header))
}

/// Turns the execution of `block` (on the store's head) into its verdict: applied if its root
/// matches, recorded as evidence if it does not or if the block is invalid.
fn settle(
    store: &StateStore,
    block: &BlockInput,
    executed: Result<ExecutedBlock, ExecutionError>,
    block_rlp: impl FnOnce() -> Vec<u8>,
) -> Result<Verified, ExecutionError> {
    match executed {
        Ok(executed) => {
            let verdict =
                store.apply_block(block.hash, &block.header, executed.changes, block_rlp)?;
            Ok(Verified {
                verdict,
                gas_used: executed.gas_used,
            })
        }
        Err(ExecutionError::Invalid { reason, .. }) => {
            let verdict =
                store.reject_block(block.hash, &block.header, reason.to_string(), block_rlp())?;
            Ok(Verified {
                verdict,
                gas_used: 0,
            })
        }
        Err(other) => Err(other),
    }
}

fn execute_ethereum<S: StateSource>(
    rules: &EthereumRules,
    state: S,
    block: &BlockInput,
) -> Result<ExecutedBlock, ExecutionError> {
    let header = &block.header;
    let number = header.number;
    let invalid = |reason| ExecutionError::Invalid { number, reason };
    let mut db = State::builder()
        .with_database_ref(state)
        .with_bundle_update()
        .build();
    let evm = EthEvmFactory::default().create_evm(&mut db, rules.evm_env(header));
    let ctx = EthBlockExecutionCtx {
        parent_hash: header.parent_hash,
        parent_beacon_block_root: header.parent_beacon_block_root,
        ommers: &[],
        withdrawals: block
            .withdrawals
            .as_ref()
            .map(|w| Cow::Borrowed(w.as_slice())),
        extra_data: header.extra_data.clone(),
        tx_count_hint: Some(block.transactions.len()),
    };
    let mut executor =
        EthBlockExecutor::new(evm, ctx, &rules.schedule, AlloyReceiptBuilder::default());
    let loaded_empty = Arc::new(Mutex::new(Vec::new()));
    if rules.keep_loaded_empty_accounts || rules.keep_zero_slots {
        let loaded_empty = loaded_empty.clone();
        executor.set_state_hook(Some(Box::new(move |source, state: &EvmState| {
            // System calls run as the system address, which stays out of the state.
            if let StateChangeSource::Transaction(_) = source {
                let mut loaded = loaded_empty.lock().unwrap_or_else(PoisonError::into_inner);
                for (address, account) in state.iter() {
                    if account.is_selfdestructed() {
                        loaded.push((*address, None));
                        continue;
                    }
                    if account.is_empty() {
                        loaded.push((*address, None));
                    }
                    // A reverted call un-touches the accounts it wrote, and anvil keeps the
                    // slots of touched accounts only: a write undone by a revert leaves no leaf.
                    if account.is_touched() {
                        loaded.extend(account.storage.keys().map(|slot| (*address, Some(*slot))));
                    }
                }
            }
        })));
    }
    let block_error = |source: BlockExecutionError| match source {
        BlockExecutionError::Validation(error) => {
            invalid(InvalidBlock::Execution(error.to_string()))
        }
        BlockExecutionError::Internal(error) => ExecutionError::Internal {
            number,
            message: error.to_string(),
        },
    };
    executor
        .apply_pre_execution_changes()
        .map_err(block_error)?;
    for tx in &block.transactions {
        if rules.authorities_always_exist {
            materialise_authorities(executor.evm_mut().db_mut(), tx, rules.chain_id)?;
        }
        executor
            .execute_transaction(tx.as_recovered_ref())
            .map_err(block_error)?;
    }
    let result = executor
        .apply_post_execution_changes()
        .map_err(block_error)?;
    validation::check_executed(rules, header, &result).map_err(invalid)?;
    db.merge_transitions(BundleRetention::PlainState);
    let mut changes = StateChanges::from_bundle(db.take_bundle(), rules.keep_zero_slots);
    let loaded_empty =
        std::mem::take(&mut *loaded_empty.lock().unwrap_or_else(PoisonError::into_inner));
    for (address, slot) in loaded_empty {
        match slot {
            None if rules.keep_loaded_empty_accounts => {
                keep_empty_account(&mut changes, &db.database.0, address)?
            }
            Some(slot) if rules.keep_zero_slots => {
                keep_zero_slot(&mut changes, &db.database.0, address, slot)?
            }
            _ => {}
        }
    }
    Ok(ExecutedBlock {
        changes,
        gas_used: result.gas_used,
    })
}
/// Makes every authority of a valid-looking EIP-7702 authorization that does not exist (and was
/// not changed earlier in the block) an existing empty account for the EVM, so that revm grants
/// the refund anvil grants. The authorization still sets its nonce to 1, so the account exists
/// afterwards either way; invalid authorizations are skipped by revm as before.
fn materialise_authorities<DB: Database<Error = StateError>>(
    db: &mut State<DB>,
    tx: &Recovered<TxEnvelope>,
    chain_id: u64,
) -> Result<(), StateError> {
    let Some(authorizations) = tx.authorization_list() else {
        return Ok(());
    };
    for authorization in authorizations {
        let chain = authorization.chain_id;
        if !(chain.is_zero() || chain == U256::from(chain_id)) || authorization.nonce != 0 {
            continue;
        }
        let Ok(authority) = authorization.recover_authority() else {
            continue;
        };
        let account = db.load_cache_account(authority)?;
        if account.status == AccountStatus::LoadedNotExisting {
            db.insert_account(authority, AccountInfo::default());
        }
    }
    Ok(())
}

/// Makes `address` an existing empty account at the end of the block unless it exists already.
fn keep_empty_account(
    changes: &mut StateChanges,
    store: &impl StateSource,
    address: Address,
) -> Result<(), StateError> {
    let empty = AccountState {
        nonce: 0,
        balance: U256::ZERO,
        code_hash: KECCAK_EMPTY,
    };
    match changes
        .accounts
        .iter_mut()
        .find(|change| change.address == address)
    {
        Some(change) => {
            if change.info.is_none() {
                change.info = Some(empty);
            }
        }
        None => {
            if store.basic_ref(address)?.is_none() {
                changes.accounts.push(AccountChange {
                    address,
                    info: Some(empty),
                    wipe_storage: false,
                    storage: Vec::new(),
                });
            }
        }
    }
    Ok(())
}

/// Makes a loaded storage slot an existing (possibly zero) leaf unless it exists already.
fn keep_zero_slot(
    changes: &mut StateChanges,
    store: &impl StateSource,
    address: Address,
    slot: U256,
) -> Result<(), StateError> {
    if let Some(change) = changes
        .accounts
        .iter_mut()
        .find(|change| change.address == address)
    {
        if change.info.is_some()
            && !change.storage.iter().any(|(key, _)| *key == slot)
            && !store.has_slot(address, slot)?
        {
            change.storage.push((slot, Some(U256::ZERO)));
        }
        return Ok(());
    }
    let Some(info) = store.basic_ref(address)? else {
        return Ok(());
    };
    if !store.has_slot(address, slot)? {
        changes.accounts.push(AccountChange {
            address,
            info: Some(AccountState {
                nonce: info.nonce,
                balance: info.balance,
                code_hash: info.code_hash,
            }),
            wipe_storage: false,
            storage: vec![(slot, Some(U256::ZERO))],
        });
    }
    Ok(())
}

pub(crate) fn blob_params_for(fork: EthereumHardfork) -> Option<BlobParams> {
    use EthereumHardfork::*;
    match fork {
        Cancun => Some(BlobParams::cancun()),
        Prague => Some(BlobParams::prague()),
        Osaka => Some(BlobParams::osaka()),
        Bpo1 => Some(BlobParams::bpo1()),
        Bpo2 | Bpo3 | Bpo4 | Bpo5 | Amsterdam | Bogota => Some(BlobParams::bpo2()),
        _ => None,
    }
}
