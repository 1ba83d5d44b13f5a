//! Block re-execution. [`ExecutionKind`] is the seam between rollup families: each kind applies
//! its own rules (hardfork schedule, system calls, fee handling) and yields the block's state
//! changes. Today there is one kind, Ethereum rules as anvil applies them; an OP Stack kind on
//! `op-revm` would be a second variant with its own executor.

mod hardforks;

pub use alloy_hardforks::EthereumHardfork;
pub use hardforks::ForkSchedule;

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

use crate::state::{AccountChange, AccountState, StateChanges, StateError, StateSource};

/// A block whose header hash, parent link and transaction root were checked, with its senders
/// recovered locally (never taken from the endpoint).
#[derive(Debug, Clone)]
pub struct BlockInput {
    pub hash: B256,
    pub header: Header,
    pub transactions: Vec<Recovered<TxEnvelope>>,
    pub withdrawals: Option<Withdrawals>,
}

/// The outcome of executing a block.
#[derive(Debug)]
pub struct ExecutedBlock {
    pub changes: StateChanges,
    pub gas_used: u64,
}

/// Errors of block execution (invalid blocks and state read failures).
#[derive(Debug, thiserror::Error)]
pub enum ExecutionError {
    #[error("block {number}: {source}")]
    Block {
        number: u64,
        source: BlockExecutionError,
    },
    #[error("block {number}: executed gas {executed} differs from the header's {header}")]
    GasUsed {
        number: u64,
        executed: u64,
        header: u64,
    },
    #[error(transparent)]
    State(#[from] StateError),
}

/// The rules a rollup's blocks follow.
#[derive(Debug, Clone)]
pub enum ExecutionKind {
    /// Ethereum L1 rules at one hardfork, active from genesis (how anvil runs a chain).
    Ethereum(EthereumRules),
}

/// Ethereum execution rules.
#[derive(Debug, Clone)]
pub struct EthereumRules {
    pub chain_id: u64,
    pub schedule: ForkSchedule,
    /// Enforce the EIP-7825 per-transaction gas cap. Anvil leaves it off unless asked.
    pub tx_gas_limit_cap: bool,
    /// Keep every account a transaction loaded and left empty as an existing empty account,
    /// instead of leaving it absent (EIP-161). Anvil's in-memory database caches each account a
    /// transaction reads — even one that does not exist — and its state root covers that cache,
    /// so e.g. a zero-value call to a precompile adds an empty account to anvil's state, and so
    /// does a contract created and self-destructed in one transaction (EIP-6780). Anvil's
    /// system calls do not leave such accounts. A re-executor of an anvil chain must do the same.
    pub keep_loaded_empty_accounts: bool,
    /// Grant EIP-7702's existing-authority refund (12,500 gas) for every valid authorization,
    /// also when the authority does not exist yet. The EIP grants it only for existing accounts;
    /// anvil 1.7.1 grants it always (a fresh authority's delegation costs 36,800 gas there, not
    /// 46,000), so its blocks only re-execute to the same gas with this rule on.
    pub authorities_always_exist: bool,
}

impl EthereumRules {
    /// The rules of anvil 1.7.1 with default flags (`--hardfork latest` = BPO1, no EIP-7825 cap).
    pub fn anvil(chain_id: u64) -> Self {
        Self::new(chain_id, EthereumHardfork::Bpo1)
    }

    /// Every fork up to and including `hardfork` active from genesis.
    pub fn new(chain_id: u64, hardfork: EthereumHardfork) -> Self {
        Self {
            chain_id,
            schedule: ForkSchedule::new(hardfork),
            tx_gas_limit_cap: false,
            keep_loaded_empty_accounts: true,
            authorities_always_exist: true,
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
    /// Executes `block` on top of `state` (the state after its parent) and returns its changes.
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

    /// Whether genesis holds the EIP-2935 history contract (anvil inserts it from Prague on).
    pub fn has_history_contract(&self) -> bool {
        match self {
            Self::Ethereum(rules) => rules.schedule.latest() >= EthereumHardfork::Prague,
        }
    }
}

fn execute_ethereum<S: StateSource>(
    rules: &EthereumRules,
    state: S,
    block: &BlockInput,
) -> Result<ExecutedBlock, ExecutionError> {
    let header = &block.header;
    let number = header.number;
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
    if rules.keep_loaded_empty_accounts {
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
                    loaded.extend(account.storage.keys().map(|slot| (*address, Some(*slot))));
                }
            }
        })));
    }
    let block_error = |source| ExecutionError::Block { number, source };
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
    if result.gas_used != header.gas_used {
        return Err(ExecutionError::GasUsed {
            number,
            executed: result.gas_used,
            header: header.gas_used,
        });
    }
    db.merge_transitions(BundleRetention::PlainState);
    let mut changes = StateChanges::from_bundle(db.take_bundle());
    let loaded_empty =
        std::mem::take(&mut *loaded_empty.lock().unwrap_or_else(PoisonError::into_inner));
    changes.keep_zero_slots = rules.keep_loaded_empty_accounts;
    for (address, slot) in loaded_empty {
        match slot {
            None => keep_empty_account(&mut changes, &db.database.0, address)?,
            Some(slot) => keep_zero_slot(&mut changes, &db.database.0, address, slot)?,
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
            change.storage.push((slot, U256::ZERO));
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
            storage: vec![(slot, U256::ZERO)],
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
