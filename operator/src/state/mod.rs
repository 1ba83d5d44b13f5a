//! The operator's own copy of the rollup state, in redb.
//!
//! Flat tables (accounts, storage, code) serve the EVM's reads; a path-keyed node table holds the
//! account trie and every storage trie, updated incrementally per block (see [`trie`]). Each
//! block is applied in one redb write transaction together with its undo record and the new
//! head, so a restart — even after `kill -9` — resumes from the last committed block. The table
//! layout is documented in `docs/execution.md`.

mod cache;
mod db;
#[cfg(test)]
mod durability_tests;
#[cfg(test)]
mod evidence_tests;
mod journal;
mod memory;
mod pending;
pub(crate) mod trie;

pub use db::StateReader;
pub use memory::MemoryState;
pub use pending::{Layered, PendingBlock};

/// The state block execution reads (the state after the parent block): [`StateReader`] over
/// the store, or [`MemoryState`].
pub trait StateSource: revm::database::DatabaseRef<Error = StateError> + std::fmt::Debug {
    /// Whether `slot` of `address` has an entry (anvil's rules keep zero-valued slots).
    fn has_slot(&self, address: Address, slot: U256) -> Result<bool, StateError>;
}

use alloy_consensus::Header;
use alloy_primitives::{Address, B256, U256, keccak256};
use alloy_rlp::Encodable;
use alloy_trie::{EMPTY_ROOT_HASH, KECCAK_EMPTY, Nibbles, TrieAccount};
use cache::{CacheUpdate, SlotKey, StateCache};
use journal::{Journal, Tag};
use redb::{
    Database, Durability, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction,
};
use revm::{database::BundleState, state::Bytecode};
use std::{
    collections::{BTreeMap, HashMap},
    path::Path,
    sync::{
        Arc, Mutex, MutexGuard, PoisonError,
        atomic::{AtomicBool, Ordering},
        mpsc,
    },
    thread::JoinHandle,
};
use surety_slashing_protection::{ChainError, VerifiedBlock, VerifiedChain};
use tokio::sync::watch;

/// `address (20)` → [`AccountRecord`] encoding.
pub(crate) const ACCOUNTS: TableDefinition<'_, &[u8], &[u8]> = TableDefinition::new("accounts");
/// `address (20) ‖ slot (32)` → value (32, big-endian); zero values are absent.
pub(crate) const STORAGE: TableDefinition<'_, &[u8], &[u8]> = TableDefinition::new("storage");
/// `code hash (32)` → bytecode. Content-addressed, so never rolled back.
pub(crate) const CODE: TableDefinition<'_, &[u8], &[u8]> = TableDefinition::new("code");
/// `owner (32) ‖ nibble path (one byte per nibble)` → node RLP. The account trie's owner is
/// zero, a storage trie's owner is `keccak256(address)`.
pub(crate) const TRIE: TableDefinition<'_, &[u8], &[u8]> = TableDefinition::new("trie_nodes");
/// Verified chain: `number` → `block hash (32) ‖ state root (32) ‖ header RLP`; the full header
/// is what the next block's header is validated against.
const HEADERS: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("headers");
/// `number` → the journal that undoes that block.
const UNDO: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("undo");
/// Fault evidence: `(number, block hash)` → `block hash ‖ claimed root ‖ computed root ‖ reason
/// length (4, BE) ‖ reason (UTF-8; empty for a state-root mismatch) ‖ block RLP`. Keyed by the
/// hash too, so two different blocks an endpoint serves at one height (two lies) are both kept.
const EVIDENCE: TableDefinition<'_, (u64, [u8; 32]), &[u8]> =
    TableDefinition::new("evidence_by_block");
/// How far each evidence record got towards the aggregators: `(number, block hash)` → one
/// [`EvidenceStatus`] byte; no entry is [`EvidenceStatus::Recorded`].
const EVIDENCE_STATUS: TableDefinition<'_, (u64, [u8; 32]), u8> =
    TableDefinition::new("evidence_status");
/// Evidence of stores written before [`EVIDENCE`] existed (keyed by height alone; same
/// records): moved into [`EVIDENCE`] when the store opens.
const LEGACY_EVIDENCE: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("evidence");
/// Single values: `head` (u64 BE).
const META: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("meta");

/// How many blocks back a reorg can be undone.
pub const UNDO_DEPTH: u64 = 1024;

/// Headers kept below the head whatever is pruned: the EVM's BLOCKHASH reaches 256 blocks back.
pub const BLOCKHASH_WINDOW: u64 = 256;

/// Errors of the state store.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("database: {0}")]
    Db(#[from] redb::Error),
    #[error("undecodable trie node at path {path:?}: {source}")]
    TrieNode {
        path: Nibbles,
        source: alloy_rlp::Error,
    },
    #[error("trie node missing at path {0:?} (corrupt store)")]
    MissingNode(Nibbles),
    #[error("corrupt record in table `{0}`")]
    Corrupt(&'static str),
    #[error("the store is not bootstrapped (no genesis)")]
    NotBootstrapped,
    #[error("the store is already bootstrapped (head {0})")]
    AlreadyBootstrapped(u64),
    #[error("block {number} does not extend the head {head}")]
    NotNext { number: u64, head: u64 },
    #[error("cannot roll back to {target}: undo data kept only down to {oldest}")]
    TooDeep { target: u64, oldest: u64 },
    #[error("no header stored for block {0}")]
    MissingHeader(u64),
    #[error("starting the state store's sync thread: {0}")]
    SyncThread(std::io::Error),
}

impl revm::database::DBErrorMarker for StateError {}

/// Moves evidence keyed by height alone (older stores) into [`EVIDENCE`].
fn migrate_legacy_evidence(txn: &redb::WriteTransaction) -> Result<(), StateError> {
    let legacy = redb::TableHandle::name(&LEGACY_EVIDENCE);
    if !txn
        .list_tables()
        .map_err(db_err)?
        .any(|t| redb::TableHandle::name(&t) == legacy)
    {
        return Ok(());
    }
    {
        let old = txn.open_table(LEGACY_EVIDENCE).map_err(db_err)?;
        let mut new = txn.open_table(EVIDENCE).map_err(db_err)?;
        for entry in old.iter().map_err(db_err)? {
            let (number, record) = entry.map_err(db_err)?;
            let record = record.value();
            let hash: [u8; 32] = record
                .get(..32)
                .and_then(|h| h.try_into().ok())
                .ok_or(StateError::Corrupt("evidence"))?;
            new.insert((number.value(), hash), record).map_err(db_err)?;
        }
    }
    txn.delete_table(LEGACY_EVIDENCE).map_err(db_err)?;
    Ok(())
}

pub(crate) fn db_err(e: impl Into<redb::Error>) -> StateError {
    StateError::Db(e.into())
}

/// One account's change in a block: its new info (`None` deletes it), whether its storage was
/// wiped first (destroyed and possibly re-created), and its changed slots.
#[derive(Debug, Clone, Default)]
pub struct AccountChange {
    pub address: Address,
    pub info: Option<AccountState>,
    pub wipe_storage: bool,
    /// `None` deletes the slot; `Some(value)` stores it as a trie leaf — zero included, which
    /// only rules that keep zero-valued slots produce (see [`StateChanges::from_bundle`]).
    pub storage: Vec<(U256, Option<U256>)>,
}

/// The flat (non-trie) part of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountState {
    pub nonce: u64,
    pub balance: U256,
    pub code_hash: B256,
}

impl AccountState {
    /// The account as revm reads it (code loaded separately by hash).
    pub(crate) fn info(&self) -> revm::state::AccountInfo {
        revm::state::AccountInfo {
            balance: self.balance,
            nonce: self.nonce,
            code_hash: self.code_hash,
            account_id: None,
            code: None,
        }
    }
}

/// The state changes of one block, as the store applies them.
#[derive(Debug, Default)]
pub struct StateChanges {
    pub accounts: Vec<AccountChange>,
    pub contracts: Vec<(B256, Bytecode)>,
}

impl StateChanges {
    /// Converts revm's bundle (merged with [`revm::database::states::bundle_state::BundleRetention::PlainState`]).
    /// A slot that became zero is deleted, unless `keep_zero_slots` (anvil's rules, see
    /// [`crate::execution::EthereumRules::keep_zero_slots`]) keeps it as a zero leaf.
    pub fn from_bundle(bundle: BundleState, keep_zero_slots: bool) -> Self {
        let contracts = bundle.contracts.into_iter().collect();
        let accounts = bundle
            .state
            .into_iter()
            .map(|(address, account)| {
                let wipe_storage = account.was_destroyed();
                let storage = account
                    .storage
                    .into_iter()
                    .filter(|(_, slot)| wipe_storage || slot.is_changed())
                    .map(|(key, slot)| {
                        let value = slot.present_value;
                        (key, (keep_zero_slots || !value.is_zero()).then_some(value))
                    })
                    .collect();
                let info = account.info.map(|info| AccountState {
                    nonce: info.nonce,
                    balance: info.balance,
                    code_hash: info.code_hash,
                });
                AccountChange {
                    address,
                    info,
                    wipe_storage,
                    storage,
                }
            })
            .collect();
        Self {
            accounts,
            contracts,
        }
    }
}

/// An account as stored: flat fields plus its storage root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AccountRecord {
    pub(crate) state: AccountState,
    pub(crate) storage_root: B256,
}

impl AccountRecord {
    const LEN: usize = 8 + 32 + 32 + 32;

    fn encode(&self) -> [u8; Self::LEN] {
        let mut out = [0u8; Self::LEN];
        out[..8].copy_from_slice(&self.state.nonce.to_be_bytes());
        out[8..40].copy_from_slice(&self.state.balance.to_be_bytes::<32>());
        out[40..72].copy_from_slice(self.state.code_hash.as_slice());
        out[72..].copy_from_slice(self.storage_root.as_slice());
        out
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, StateError> {
        if bytes.len() != Self::LEN {
            return Err(StateError::Corrupt("accounts"));
        }
        let mut nonce = [0u8; 8];
        nonce.copy_from_slice(&bytes[..8]);
        Ok(Self {
            state: AccountState {
                nonce: u64::from_be_bytes(nonce),
                balance: U256::from_be_slice(&bytes[8..40]),
                code_hash: B256::from_slice(&bytes[40..72]),
            },
            storage_root: B256::from_slice(&bytes[72..]),
        })
    }
}

/// A verified block as recorded in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredHeader {
    pub number: u64,
    pub hash: B256,
    pub state_root: B256,
}

/// The verdict on a block: its header's state root checked against re-execution, or the block
/// rejected as invalid. Only `Match` may ever be signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The header's root is the one re-execution produced.
    Match(B256),
    /// The header claims a root re-execution does not produce.
    Mismatch { claimed: B256, computed: B256 },
    /// The block breaks a validity rule (header against its parent, body, execution, or a header
    /// field execution computes); `reason` names the first rule broken.
    Invalid { reason: String },
}

/// Recorded evidence of a fault: a state-root mismatch or an invalid block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    pub number: u64,
    pub hash: B256,
    /// The header's state root.
    pub claimed: B256,
    /// The root re-execution computed (zero when the block is invalid).
    pub computed: B256,
    /// Why the block is invalid; `None` for a state-root mismatch.
    pub invalid: Option<String>,
    /// RLP of the block (header and transactions) as the endpoint served it.
    pub block_rlp: Vec<u8>,
    /// How far it got towards the aggregators (what pruning looks at).
    pub status: EvidenceStatus,
}

/// Where an evidence record stands: pruning forgets only [`Delivered`](Self::Delivered) ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum EvidenceStatus {
    /// Kept locally only (a verify-only node's, or an invalid block's: no report carries it).
    #[default]
    Recorded,
    /// A signed mismatch report for it is queued in the node's outbox.
    Reported,
    /// Every aggregator has settled the report.
    Delivered,
}

impl EvidenceStatus {
    fn from_byte(byte: u8) -> Result<Self, StateError> {
        match byte {
            0 => Ok(Self::Recorded),
            1 => Ok(Self::Reported),
            2 => Ok(Self::Delivered),
            _ => Err(StateError::Corrupt("evidence_status")),
        }
    }

    const fn byte(self) -> u8 {
        self as u8
    }
}

/// The store is the node's record of what it verified: the signer reads it directly.
impl VerifiedChain for StateStore {
    fn verified_head(&self) -> Option<u64> {
        self.durable_head().map(|head| head.number)
    }

    fn verified_block(&self, number: u64) -> Result<Option<VerifiedBlock>, ChainError> {
        Ok(Self::verified_block(self, number)?)
    }
}

/// What one [`StateStore::prune`] removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Undo journals (one per block).
    pub undo: u64,
    /// Verified headers.
    pub headers: u64,
    /// Evidence records.
    pub evidence: u64,
}

/// Bytes stored in a store's tables ([`StateStore::sizes`]), excluding redb's free pages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreSizes {
    /// The live state: accounts, storage, code and trie nodes.
    pub state: u64,
    /// The history: headers, undo journals and evidence.
    pub history: u64,
}

/// redb's page cache of a store opened with [`StateStore::open`]; the node's default
/// (`storage.cache_mib`). redb's own default is 1 GiB.
pub const DEFAULT_CACHE_BYTES: usize = 256 << 20;

/// Blocks committed without an fsync before a background sync is started (group commit): no
/// block waits for an fsync, and only synced blocks are announced.
pub const DURABLE_EVERY: u64 = 16;

/// Analysed contract code by hash, shared by the store's readers: code is content-addressed,
/// so an entry is never stale, and each contract's jump table is built once, not once per block.
#[derive(Debug, Default)]
pub(crate) struct CodeCache {
    code: HashMap<B256, Bytecode>,
    bytes: usize,
}

/// Code kept in [`CodeCache`] before it starts over.
const CODE_CACHE_BYTES: usize = 64 << 20;

impl CodeCache {
    pub(crate) fn get(&self, hash: &B256) -> Option<Bytecode> {
        self.code.get(hash).cloned()
    }

    pub(crate) fn insert(&mut self, hash: B256, code: Bytecode) {
        if self.bytes + code.len() > CODE_CACHE_BYTES {
            self.code.clear();
            self.bytes = 0;
        }
        self.bytes += code.len();
        self.code.insert(hash, code);
    }
}

/// The redb state store.
///
/// Each block is one atomic redb transaction committed without an fsync. After every
/// [`DURABLE_EVERY`]th block a background thread syncs everything committed so far (one durable
/// commit, taking redb's write lock only while it writes), so the next block executes while the
/// sync runs; rollbacks, evidence, pruning and [`flush`](Self::flush) sync in line.
/// [`head`](Self::head) is the last committed block, the one the next block executes on;
/// [`durable_head`](Self::durable_head) — what [`subscribe_head`](Self::subscribe_head) announces
/// and the only height the signer may sign up to — is the last synced one: a block's root may be
/// signed once its sync has returned, never when [`apply_block`](Self::apply_block) returns. A
/// crash loses at most the unsynced blocks, which were never announced, and the store reopens at
/// its durable head.
#[derive(Debug)]
pub struct StateStore {
    shared: Arc<Shared>,
    code: Arc<Mutex<CodeCache>>,
    cache: Arc<StateCache>,
    /// Wakes the sync thread; `None` once the store is closing.
    sync: Option<mpsc::SyncSender<()>>,
    sync_thread: Option<JoinHandle<()>>,
}

/// The part of the store the sync thread uses too.
#[derive(Debug)]
struct Shared {
    db: Database,
    heads: Mutex<Heads>,
    /// The durable head, announced.
    announced: watch::Sender<Option<StoredHeader>>,
    /// The last background sync failed: the next one runs in line, so its error is returned.
    sync_failed: AtomicBool,
}

#[derive(Debug, Default)]
struct Heads {
    /// The last committed block.
    tip: Option<StoredHeader>,
    /// Counts rollbacks: a sync that made a head durable announces it only if no rollback
    /// announced an older head in the meantime.
    rollbacks: u64,
}

impl Shared {
    fn heads(&self) -> MutexGuard<'_, Heads> {
        self.heads.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Commits `txn` with an fsync and announces the head it leaves: read inside the
    /// transaction, so it is exactly the block that became durable with it (and every commit
    /// before it).
    fn commit_durable(&self, mut txn: WriteTransaction) -> Result<(), StateError> {
        txn.set_durability(Durability::Immediate).map_err(db_err)?;
        let head = head_in(&txn)?;
        let rollbacks = self.heads().rollbacks;
        txn.commit().map_err(db_err)?;
        let heads = self.heads();
        if heads.rollbacks == rollbacks {
            self.announced.send_if_modified(|announced| {
                let newer = head.is_some_and(|h| announced.is_none_or(|a| a.number < h.number));
                if newer {
                    *announced = head;
                }
                newer
            });
        }
        drop(heads);
        Ok(())
    }

    /// Makes every committed block durable and announces the head (one fsync; nothing to do if
    /// it is already announced).
    fn sync(&self) -> Result<(), StateError> {
        let txn = self.db.begin_write().map_err(db_err)?;
        let head = head_in(&txn)?;
        let Some(head) = head.filter(|head| *self.announced.borrow() != Some(*head)) else {
            txn.abort().map_err(db_err)?;
            return Ok(());
        };
        // Rewrites the head's own value: the commit then always has a write to make durable.
        txn.open_table(META)
            .map_err(db_err)?
            .insert("head", head.number.to_be_bytes().as_slice())
            .map_err(db_err)?;
        self.commit_durable(txn)
    }

    /// The sync thread: one sync per wake-up (wake-ups that arrive during a sync are covered by
    /// the next one), until the store closes.
    fn run_syncs(&self, wake: &mpsc::Receiver<()>) {
        while wake.recv().is_ok() {
            if let Err(error) = self.sync() {
                tracing::error!(%error, "syncing the state store failed; the next block retries");
                self.sync_failed.store(true, Ordering::Relaxed);
            }
        }
    }
}

/// The committed head as `txn` sees it.
fn head_in(txn: &WriteTransaction) -> Result<Option<StoredHeader>, StateError> {
    head_of(
        &txn.open_table(META).map_err(db_err)?,
        &txn.open_table(HEADERS).map_err(db_err)?,
    )
}

/// The head that `meta` names, with its header from `headers` (a read or a write view).
fn head_of(
    meta: &impl ReadableTable<&'static str, &'static [u8]>,
    headers: &impl ReadableTable<u64, &'static [u8]>,
) -> Result<Option<StoredHeader>, StateError> {
    let Some(head) = meta.get("head").map_err(db_err)? else {
        return Ok(None);
    };
    let number = decode_u64(head.value()).ok_or(StateError::Corrupt("meta"))?;
    let record = headers
        .get(number)
        .map_err(db_err)?
        .ok_or(StateError::Corrupt("headers"))?;
    Ok(Some(decode_header(number, record.value())?))
}

impl StateStore {
    /// Opens (or creates) the store at `path` with a page cache of [`DEFAULT_CACHE_BYTES`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StateError> {
        Self::open_with_cache(path, DEFAULT_CACHE_BYTES)
    }

    /// Opens (or creates) the store at `path` with a page cache of `cache_bytes`.
    pub fn open_with_cache(path: impl AsRef<Path>, cache_bytes: usize) -> Result<Self, StateError> {
        let db = Database::builder()
            .set_cache_size(cache_bytes)
            .create(path)
            .map_err(db_err)?;
        Self::init(db)
    }

    /// A store in memory (the same tables, trie and journal, no file): for fixtures and tests.
    pub fn in_memory() -> Result<Self, StateError> {
        let db = Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .map_err(db_err)?;
        Self::init(db)
    }

    fn init(db: Database) -> Result<Self, StateError> {
        let txn = db.begin_write().map_err(db_err)?;
        for table in [ACCOUNTS, STORAGE, CODE, TRIE] {
            txn.open_table(table).map_err(db_err)?;
        }
        for table in [HEADERS, UNDO] {
            txn.open_table(table).map_err(db_err)?;
        }
        txn.open_table(EVIDENCE).map_err(db_err)?;
        txn.open_table(EVIDENCE_STATUS).map_err(db_err)?;
        txn.open_table(META).map_err(db_err)?;
        migrate_legacy_evidence(&txn)?;
        txn.commit().map_err(db_err)?;
        let shared = Arc::new(Shared {
            db,
            heads: Mutex::default(),
            announced: watch::Sender::new(None),
            sync_failed: AtomicBool::new(false),
        });
        // One pending wake-up is enough: the sync it starts covers every commit before it.
        let (sync, wake) = mpsc::sync_channel(1);
        let syncer = shared.clone();
        let sync_thread = std::thread::Builder::new()
            .name("state-sync".into())
            .spawn(move || syncer.run_syncs(&wake))
            .map_err(StateError::SyncThread)?;
        let store = Self {
            shared,
            code: Arc::default(),
            cache: Arc::default(),
            sync: Some(sync),
            sync_thread: Some(sync_thread),
        };
        store.cache.reset();
        store.set_durable_head(store.read_head()?);
        Ok(store)
    }

    /// The last verified block, the one the next block executes on (`None` before bootstrap).
    pub fn head(&self) -> Option<StoredHeader> {
        self.shared.heads().tip
    }

    /// The last verified block synced to disk: it survives any crash.
    pub fn durable_head(&self) -> Option<StoredHeader> {
        *self.shared.announced.borrow()
    }

    /// Follows the durable head: the signer may only sign at or below it.
    pub fn subscribe_head(&self) -> watch::Receiver<Option<StoredHeader>> {
        self.shared.announced.subscribe()
    }

    /// Sets the head after opening or a rollback (both durable), announcing it exactly, even
    /// below what was announced before.
    fn set_durable_head(&self, head: Option<StoredHeader>) {
        let mut heads = self.shared.heads();
        heads.tip = head;
        self.shared.announced.send_if_modified(|announced| {
            let changed = *announced != head;
            *announced = head;
            changed
        });
        drop(heads);
    }

    /// Syncs the blocks committed since the last synced one, announcing the head (one fsync;
    /// nothing to do if the head is already durable). The follower calls it whenever it has
    /// caught up with the chain, so a node at the tip announces every block at once.
    pub fn flush(&self) -> Result<(), StateError> {
        self.shared.sync_failed.store(false, Ordering::Relaxed);
        self.shared.sync()
    }

    /// Starts a background sync of everything committed so far; syncs in line instead if the
    /// last background sync failed (returning its error) or the sync thread is gone.
    fn request_sync(&self) -> Result<(), StateError> {
        if self.shared.sync_failed.load(Ordering::Relaxed) {
            return self.flush();
        }
        match self.sync.as_ref().map(|sync| sync.try_send(())) {
            Some(Ok(()) | Err(mpsc::TrySendError::Full(()))) => Ok(()),
            Some(Err(mpsc::TrySendError::Disconnected(()))) | None => self.flush(),
        }
    }

    fn read_head(&self) -> Result<Option<StoredHeader>, StateError> {
        let txn = self.shared.db.begin_read().map_err(db_err)?;
        head_of(
            &txn.open_table(META).map_err(db_err)?,
            &txn.open_table(HEADERS).map_err(db_err)?,
        )
    }

    /// The verified header at `number`, if it is on the local chain.
    pub fn header(&self, number: u64) -> Result<Option<StoredHeader>, StateError> {
        let txn = self.shared.db.begin_read().map_err(db_err)?;
        let headers = txn.open_table(HEADERS).map_err(db_err)?;
        headers
            .get(number)
            .map_err(db_err)?
            .map(|r| decode_header(number, r.value()))
            .transpose()
    }

    /// The verified block at `number` (never genesis, which is registered, not signed).
    pub fn verified_block(&self, number: u64) -> Result<Option<VerifiedBlock>, StateError> {
        let txn = self.shared.db.begin_read().map_err(db_err)?;
        let headers = txn.open_table(HEADERS).map_err(db_err)?;
        if number == 0 {
            return Ok(None);
        }
        let Some(record) = headers.get(number).map_err(db_err)? else {
            return Ok(None);
        };
        let stored = decode_header(number, record.value())?;
        let header = decode_header_rlp(record.value())?;
        Ok(Some(VerifiedBlock {
            number,
            hash: stored.hash,
            parent_hash: header.parent_hash,
            state_root: stored.state_root,
        }))
    }

    /// The full verified header at `number` (what its child is validated against).
    pub fn block_header(&self, number: u64) -> Result<Option<Header>, StateError> {
        let txn = self.shared.db.begin_read().map_err(db_err)?;
        let headers = txn.open_table(HEADERS).map_err(db_err)?;
        let Some(record) = headers.get(number).map_err(db_err)? else {
            return Ok(None);
        };
        decode_header_rlp(record.value()).map(Some)
    }

    /// A snapshot reader of the state at the current head.
    pub fn reader(&self) -> Result<StateReader, StateError> {
        // The generation first: a commit landing before the snapshot opens then locks the
        // reader out of the cache instead of mixing two states.
        let generation = self.cache.generation();
        StateReader::new(
            self.shared.db.begin_read().map_err(db_err)?,
            self.code.clone(),
            self.cache.clone(),
            generation,
        )
    }

    /// Writes the genesis state as block 0 (with `genesis` as its header) and returns its
    /// computed state root.
    pub fn bootstrap(&self, genesis: &Header, changes: StateChanges) -> Result<B256, StateError> {
        if let Some(head) = self.head() {
            return Err(StateError::AlreadyBootstrapped(head.number));
        }
        let hash = genesis.hash_slow();
        let header = |root| StoredHeader {
            number: 0,
            hash,
            state_root: root,
        };
        let root = self.write_block(genesis, changes, |root| Some(header(root)))?;
        // Announced (durable) before it returns: the follower starts from an announced head.
        self.flush()?;
        Ok(root.unwrap_or_default())
    }

    /// Applies the changes of the block `hash` with `header` (which must extend the head) and
    /// commits them if the resulting root equals the header's. On a mismatch nothing is applied
    /// and the evidence is kept.
    pub fn apply_block(
        &self,
        hash: B256,
        header: &Header,
        changes: StateChanges,
        block_rlp: impl FnOnce() -> Vec<u8>,
    ) -> Result<Verdict, StateError> {
        let (number, claimed) = (header.number, header.state_root);
        let head = self.head().ok_or(StateError::NotBootstrapped)?;
        if number != head.number + 1 {
            return Err(StateError::NotNext {
                number,
                head: head.number,
            });
        }
        let mut computed = B256::ZERO;
        let committed = self.write_block(header, changes, |root| {
            computed = root;
            (root == claimed).then_some(StoredHeader {
                number,
                hash,
                state_root: root,
            })
        })?;
        if committed.is_some() {
            return Ok(Verdict::Match(computed));
        }
        let evidence = Evidence {
            number,
            hash,
            claimed,
            computed,
            invalid: None,
            block_rlp: block_rlp(),
            status: EvidenceStatus::Recorded,
        };
        self.record_evidence(&evidence)?;
        Ok(Verdict::Mismatch { claimed, computed })
    }

    /// Records that the block `hash` with `header` is invalid (nothing of it is applied) and
    /// returns the [`Verdict::Invalid`] to act on.
    pub fn reject_block(
        &self,
        hash: B256,
        header: &Header,
        reason: String,
        block_rlp: Vec<u8>,
    ) -> Result<Verdict, StateError> {
        self.record_evidence(&Evidence {
            number: header.number,
            hash,
            claimed: header.state_root,
            computed: B256::ZERO,
            invalid: Some(reason.clone()),
            block_rlp,
            status: EvidenceStatus::Recorded,
        })?;
        Ok(Verdict::Invalid { reason })
    }

    /// Applies `changes` in one write transaction, commits it if `accept(root)` names the header
    /// to record, otherwise aborts. Returns the root if committed.
    fn write_block(
        &self,
        block: &Header,
        changes: StateChanges,
        accept: impl FnOnce(B256) -> Option<StoredHeader>,
    ) -> Result<Option<B256>, StateError> {
        let number = block.number;
        let mut txn = self.shared.db.begin_write().map_err(db_err)?;
        txn.set_durability(Durability::None).map_err(db_err)?;
        let mut journal = Journal::default();
        let mut update = CacheUpdate::default();
        let cached = Cached {
            cache: &self.cache,
            generation: self.cache.generation(),
        };
        let root = apply_changes(&txn, &mut journal, &mut update, cached, changes)?;
        let Some(header) = accept(root) else {
            txn.abort().map_err(db_err)?;
            return Ok(None);
        };
        {
            let mut headers = txn.open_table(HEADERS).map_err(db_err)?;
            headers
                .insert(number, encode_header(&header, block).as_slice())
                .map_err(db_err)?;
            let mut undo = txn.open_table(UNDO).map_err(db_err)?;
            undo.insert(number, journal.as_bytes()).map_err(db_err)?;
            if let Some(expired) = number.checked_sub(UNDO_DEPTH) {
                undo.remove(expired).map_err(db_err)?;
            }
            let mut meta = txn.open_table(META).map_err(db_err)?;
            meta.insert("head", number.to_be_bytes().as_slice())
                .map_err(db_err)?;
        }
        self.commit_state(txn, |cache| cache.committed(update))?;
        self.shared.heads().tip = Some(header);
        // Genesis is synced by `bootstrap` itself.
        if number > 0 && number.is_multiple_of(DURABLE_EVERY) {
            self.request_sync()?;
        }
        Ok(Some(root))
    }

    /// Commits a transaction that changed the state tables, keeping the read cache out of the
    /// way meanwhile: `then` updates it once the commit landed; a failed commit empties it.
    fn commit_state(
        &self,
        txn: redb::WriteTransaction,
        then: impl FnOnce(&StateCache),
    ) -> Result<(), StateError> {
        self.cache.begin_commit();
        match txn.commit() {
            Ok(()) => {
                then(&self.cache);
                Ok(())
            }
            Err(e) => {
                self.cache.reset();
                Err(db_err(e))
            }
        }
    }

    fn record_evidence(&self, evidence: &Evidence) -> Result<(), StateError> {
        let txn = self.shared.db.begin_write().map_err(db_err)?;
        {
            let mut table = txn.open_table(EVIDENCE).map_err(db_err)?;
            let reason = evidence.invalid.as_deref().unwrap_or_default().as_bytes();
            let mut record = Vec::with_capacity(100 + reason.len() + evidence.block_rlp.len());
            record.extend_from_slice(evidence.hash.as_slice());
            record.extend_from_slice(evidence.claimed.as_slice());
            record.extend_from_slice(evidence.computed.as_slice());
            // Reasons are short messages, far below u32::MAX.
            record.extend_from_slice(&(reason.len() as u32).to_be_bytes());
            record.extend_from_slice(reason);
            record.extend_from_slice(&evidence.block_rlp);
            table
                .insert((evidence.number, evidence.hash.0), record.as_slice())
                .map_err(db_err)?;
        }
        self.shared.commit_durable(txn)
    }

    /// All recorded fault evidence, by block number, then block hash.
    pub fn evidence(&self) -> Result<Vec<Evidence>, StateError> {
        let txn = self.shared.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(EVIDENCE).map_err(db_err)?;
        let statuses = txn.open_table(EVIDENCE_STATUS).map_err(db_err)?;
        let mut out = Vec::new();
        for entry in table.iter().map_err(db_err)? {
            let (key, record) = entry.map_err(db_err)?;
            let key = key.value();
            let status = statuses
                .get(key)
                .map_err(db_err)?
                .map_or(Ok(EvidenceStatus::Recorded), |s| {
                    EvidenceStatus::from_byte(s.value())
                })?;
            let (number, _) = key;
            let record = record.value();
            let corrupt = || StateError::Corrupt("evidence");
            let reason_len = record.get(96..100).ok_or_else(corrupt)?;
            let reason_end =
                100 + u32::from_be_bytes(reason_len.try_into().map_err(|_| corrupt())?) as usize;
            let reason = record.get(100..reason_end).ok_or_else(corrupt)?;
            let reason = std::str::from_utf8(reason).map_err(|_| corrupt())?;
            out.push(Evidence {
                number,
                hash: B256::from_slice(&record[..32]),
                claimed: B256::from_slice(&record[32..64]),
                computed: B256::from_slice(&record[64..96]),
                invalid: (!reason.is_empty()).then(|| reason.to_owned()),
                block_rlp: record[reason_end..].to_vec(),
                status,
            });
        }
        Ok(out)
    }

    /// Drops what is only needed above a finalized height (one durable commit): the undo
    /// journals of blocks at or below `finalized` (they can no longer be reorged), the headers
    /// more than [`BLOCKHASH_WINDOW`] below it (genesis stays: it is what the store was
    /// bootstrapped from) and the evidence at or below it that was
    /// [`Delivered`](EvidenceStatus::Delivered) — evidence no aggregator has yet is kept, however
    /// old. Headers are kept from
    /// `finalized - BLOCKHASH_WINDOW`, not from the head's window, because a reorg may roll back
    /// to `finalized` itself and the block re-executed on top of it reads the 256 hashes below.
    pub fn prune(&self, finalized: u64) -> Result<Pruned, StateError> {
        let head = self.head().ok_or(StateError::NotBootstrapped)?;
        let finalized = finalized.min(head.number);
        let keep_headers_from = finalized.saturating_sub(BLOCKHASH_WINDOW).max(1);
        let mut pruned = Pruned::default();
        let txn = self.shared.db.begin_write().map_err(db_err)?;
        {
            let mut undo = txn.open_table(UNDO).map_err(db_err)?;
            undo.retain_in(..=finalized, delete_counting(&mut pruned.undo))
                .map_err(db_err)?;
            let mut headers = txn.open_table(HEADERS).map_err(db_err)?;
            headers
                .retain_in(1..keep_headers_from, delete_counting(&mut pruned.headers))
                .map_err(db_err)?;
            let mut statuses = txn.open_table(EVIDENCE_STATUS).map_err(db_err)?;
            let mut delivered = Vec::new();
            for entry in statuses.range(..=(finalized, [0xff; 32])).map_err(db_err)? {
                let (key, status) = entry.map_err(db_err)?;
                if EvidenceStatus::from_byte(status.value())? == EvidenceStatus::Delivered {
                    delivered.push(key.value());
                }
            }
            let mut evidence = txn.open_table(EVIDENCE).map_err(db_err)?;
            for key in delivered {
                statuses.remove(key).map_err(db_err)?;
                if evidence.remove(key).map_err(db_err)?.is_some() {
                    pruned.evidence += 1;
                }
            }
        }
        if pruned == Pruned::default() {
            txn.abort().map_err(db_err)?;
        } else {
            self.shared.commit_durable(txn)?;
        }
        Ok(pruned)
    }

    /// Records how far the evidence of block `hash` at `number` got; whether there is such
    /// evidence. A status never goes back (a report queued again does not undo its delivery).
    pub fn set_evidence_status(
        &self,
        number: u64,
        hash: B256,
        status: EvidenceStatus,
    ) -> Result<bool, StateError> {
        let txn = self.shared.db.begin_write().map_err(db_err)?;
        let key = (number, hash.0);
        let exists = txn
            .open_table(EVIDENCE)
            .map_err(db_err)?
            .get(key)
            .map_err(db_err)?
            .is_some();
        if exists {
            let mut statuses = txn.open_table(EVIDENCE_STATUS).map_err(db_err)?;
            let current = statuses
                .get(key)
                .map_err(db_err)?
                .map_or(Ok(EvidenceStatus::Recorded), |s| {
                    EvidenceStatus::from_byte(s.value())
                })?;
            if status > current {
                statuses.insert(key, status.byte()).map_err(db_err)?;
            }
        }
        self.shared.commit_durable(txn)?;
        Ok(exists)
    }

    /// Forgets the evidence recorded for every block at height `number`, whatever its status;
    /// whether there was any.
    pub fn remove_evidence(&self, number: u64) -> Result<bool, StateError> {
        let txn = self.shared.db.begin_write().map_err(db_err)?;
        let mut removed = false;
        let range = (number, [0; 32])..=(number, [0xff; 32]);
        txn.open_table(EVIDENCE)
            .map_err(db_err)?
            .retain_in(range.clone(), |_, _| {
                removed = true;
                false
            })
            .map_err(db_err)?;
        txn.open_table(EVIDENCE_STATUS)
            .map_err(db_err)?
            .retain_in(range, |_, _| false)
            .map_err(db_err)?;
        self.shared.commit_durable(txn)?;
        Ok(removed)
    }

    /// Undoes every block above `target`, making `target` the head again (a reorg's fork point).
    pub fn rollback_to(&self, target: u64) -> Result<(), StateError> {
        let head = self.head().ok_or(StateError::NotBootstrapped)?;
        if target >= head.number {
            return Ok(());
        }
        let mut txn = self.shared.db.begin_write().map_err(db_err)?;
        txn.set_durability(Durability::Immediate).map_err(db_err)?;
        {
            let mut undo = txn.open_table(UNDO).map_err(db_err)?;
            let mut headers = txn.open_table(HEADERS).map_err(db_err)?;
            // Genesis has no undo record and cannot be rolled back.
            let oldest = head.number.saturating_sub(UNDO_DEPTH - 1).max(1);
            if target + 1 < oldest {
                return Err(StateError::TooDeep { target, oldest });
            }
            for number in (target + 1..=head.number).rev() {
                let record = undo.remove(number).map_err(db_err)?;
                let record = record.ok_or(StateError::TooDeep {
                    target,
                    oldest: number + 1,
                })?;
                journal::undo(&txn, record.value())?;
                headers.remove(number).map_err(db_err)?;
            }
            let mut meta = txn.open_table(META).map_err(db_err)?;
            meta.insert("head", target.to_be_bytes().as_slice())
                .map_err(db_err)?;
        }
        // Before the commit: a background sync that made the undone blocks durable must not
        // announce them once they are gone.
        self.shared.heads().rollbacks += 1;
        self.commit_state(txn, StateCache::reset)?;
        self.set_durable_head(self.read_head()?);
        Ok(())
    }

    /// Bytes stored in the state and history tables (what pruning bounds is the history).
    pub fn sizes(&self) -> Result<StoreSizes, StateError> {
        use redb::ReadableTableMetadata;
        let txn = self.shared.db.begin_read().map_err(db_err)?;
        let mut sizes = StoreSizes::default();
        for table in [ACCOUNTS, STORAGE, CODE, TRIE] {
            let stats = txn
                .open_table(table)
                .map_err(db_err)?
                .stats()
                .map_err(db_err)?;
            sizes.state += stats.stored_bytes() + stats.metadata_bytes();
        }
        for table in [HEADERS, UNDO] {
            let stats = txn
                .open_table(table)
                .map_err(db_err)?
                .stats()
                .map_err(db_err)?;
            sizes.history += stats.stored_bytes() + stats.metadata_bytes();
        }
        let evidence = txn
            .open_table(EVIDENCE)
            .map_err(db_err)?
            .stats()
            .map_err(db_err)?;
        sizes.history += evidence.stored_bytes() + evidence.metadata_bytes();
        Ok(sizes)
    }

    /// Recomputes the state root from the flat tables alone (for audits and tests; O(state)).
    pub fn full_state_root(&self) -> Result<B256, StateError> {
        self.reader()?.full_state_root()
    }
}

/// The read cache as of the start of a write transaction (its generation is the state the
/// transaction starts from).
#[derive(Clone, Copy)]
struct Cached<'a> {
    cache: &'a StateCache,
    generation: Option<u64>,
}

/// Applies `changes` to the tables in `txn` and returns the new state root; what it wrote is
/// collected in `update` for the read cache.
fn apply_changes(
    txn: &redb::WriteTransaction,
    journal: &mut Journal,
    update: &mut CacheUpdate,
    cached: Cached<'_>,
    changes: StateChanges,
) -> Result<B256, StateError> {
    let mut accounts = txn.open_table(ACCOUNTS).map_err(db_err)?;
    let mut storage = txn.open_table(STORAGE).map_err(db_err)?;
    let mut nodes = txn.open_table(TRIE).map_err(db_err)?;
    let mut code = txn.open_table(CODE).map_err(db_err)?;
    for (hash, bytecode) in changes.contracts {
        if code.get(hash.as_slice()).map_err(db_err)?.is_none() {
            code.insert(hash.as_slice(), bytecode.original_byte_slice())
                .map_err(db_err)?;
        }
    }

    let mut account_leaves = BTreeMap::new();
    for change in changes.accounts {
        let address = change.address;
        let hashed = keccak256(address);
        let old = match cached.cache.account(cached.generation, &address) {
            Some(old) => old,
            None => accounts
                .get(address.as_slice())
                .map_err(db_err)?
                .map(|v| AccountRecord::decode(v.value()))
                .transpose()?,
        };
        let wipe = change.wipe_storage || change.info.is_none();
        let mut storage_root = old.map_or(EMPTY_ROOT_HASH, |a| a.storage_root);
        if wipe && storage_root != EMPTY_ROOT_HASH {
            update.wiped = true;
            journal.remove_prefix(&mut storage, Tag::Storage, address.as_slice())?;
            journal.remove_prefix(&mut nodes, Tag::Trie, hashed.as_slice())?;
            storage_root = EMPTY_ROOT_HASH;
        }
        if change.info.is_some() && !change.storage.is_empty() {
            let mut slots = BTreeMap::new();
            for (slot, value) in change.storage {
                let slot_bytes = slot.to_be_bytes::<32>();
                let mut key = [0u8; 52];
                key[..20].copy_from_slice(address.as_slice());
                key[20..].copy_from_slice(&slot_bytes);
                update.slots.push((SlotKey::from(key), value));
                let leaf = match value {
                    None => {
                        journal.remove(&mut storage, Tag::Storage, &key)?;
                        None
                    }
                    Some(value) => {
                        journal.insert(
                            &mut storage,
                            Tag::Storage,
                            &key,
                            &value.to_be_bytes::<32>(),
                        )?;
                        Some(alloy_rlp::encode(value))
                    }
                };
                slots.insert(keccak256(slot_bytes), leaf);
            }
            let mut trie_store = journal::TrieNodes::new(&mut nodes, journal, hashed);
            storage_root = trie::update(&mut trie_store, slots)?;
        }
        match change.info {
            Some(state) => {
                let record = AccountRecord {
                    state,
                    storage_root,
                };
                // An unchanged account (e.g. only read, under anvil's rules) keeps its leaf: no
                // trie path to rewrite.
                if old != Some(record) {
                    journal.insert(
                        &mut accounts,
                        Tag::Accounts,
                        address.as_slice(),
                        &record.encode(),
                    )?;
                    update.accounts.push((address, Some(record)));
                    account_leaves.insert(hashed, Some(alloy_rlp::encode(trie_account(&record))));
                }
            }
            None => {
                if old.is_some() {
                    journal.remove(&mut accounts, Tag::Accounts, address.as_slice())?;
                    update.accounts.push((address, None));
                    account_leaves.insert(hashed, None);
                }
            }
        }
    }
    let mut trie_store = journal::TrieNodes::new(&mut nodes, journal, B256::ZERO);
    trie::update(&mut trie_store, account_leaves)
}

pub(crate) fn trie_account(record: &AccountRecord) -> TrieAccount {
    TrieAccount {
        nonce: record.state.nonce,
        balance: record.state.balance,
        storage_root: record.storage_root,
        code_hash: record.state.code_hash,
    }
}

fn encode_header(header: &StoredHeader, block: &Header) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + block.length());
    out.extend_from_slice(header.hash.as_slice());
    out.extend_from_slice(header.state_root.as_slice());
    block.encode(&mut out);
    out
}

/// The header RLP stored after the hash and root of a `headers` record.
fn decode_header_rlp(record: &[u8]) -> Result<Header, StateError> {
    let mut rlp = record.get(64..).ok_or(StateError::Corrupt("headers"))?;
    alloy_rlp::Decodable::decode(&mut rlp).map_err(|_| StateError::Corrupt("headers"))
}

fn decode_header(number: u64, bytes: &[u8]) -> Result<StoredHeader, StateError> {
    if bytes.len() < 64 {
        return Err(StateError::Corrupt("headers"));
    }
    Ok(StoredHeader {
        number,
        hash: B256::from_slice(&bytes[..32]),
        state_root: B256::from_slice(&bytes[32..64]),
    })
}

/// A `retain_in` predicate that deletes every entry and counts it.
fn delete_counting(count: &mut u64) -> impl for<'f> FnMut(u64, &'f [u8]) -> bool + '_ {
    |_, _| {
        *count += 1;
        false
    }
}

fn decode_u64(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.try_into().ok()?))
}

/// A store dropped cleanly stops its sync thread and syncs its last blocks.
impl Drop for StateStore {
    fn drop(&mut self) {
        self.sync = None;
        if let Some(thread) = self.sync_thread.take()
            && thread.join().is_err()
        {
            tracing::warn!("the state store's sync thread panicked");
        }
        if let Err(error) = self.flush() {
            tracing::warn!(%error, "syncing the state store on close failed");
        }
    }
}

/// The code hash of an account without code, re-exported for callers building changes.
pub const EMPTY_CODE_HASH: B256 = KECCAK_EMPTY;

impl<T: StateSource> StateSource for &T {
    fn has_slot(&self, address: Address, slot: U256) -> Result<bool, StateError> {
        (**self).has_slot(address, slot)
    }
}
