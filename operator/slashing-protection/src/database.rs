//! The redb store of signed statements and the rules that decide what may be signed.
//!
//! Tables (see `docs/slashing-protection.md`):
//! - `metadata`: schema version and the domain the database was created for;
//! - `signed_statements`: `(pubkey, rollup id, block number)` → block hash ‖ parent hash ‖
//!   state root ‖ signing root;
//! - `low_watermarks`: `(pubkey, rollup id)` → the height at or below which the history may be
//!   incomplete (pruned, or imported as a watermark only).

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::atomic::{AtomicBool, Ordering},
};

use alloy_primitives::{Address, B256, FixedBytes};
use redb::{
    Database, DatabaseError, Durability, ReadableDatabase, ReadableTable, StorageBackend, Table,
    TableDefinition, WriteTransaction,
};
use surety_primitives::{Domain, PublicKey, Statement};

use super::{
    error::{Error, InterchangeError, Refusal},
    interchange::{Interchange, KeyHistory, Metadata, RollupHistory, SignedStatement},
};

/// A BLS public key in its compressed G2 encoding: the identity of a signing history.
pub type PublicKeyBytes = [u8; 96];

/// Bumped on any change of the layout below; a database of another version is refused.
const SCHEMA_VERSION: u32 = 1;

const METADATA: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("metadata");
const SIGNED: TableDefinition<'_, (PublicKeyBytes, u64, u64), [u8; 128]> =
    TableDefinition::new("signed_statements");
const WATERMARKS: TableDefinition<'_, (PublicKeyBytes, u64), u64> =
    TableDefinition::new("low_watermarks");

const META_SCHEMA: &str = "schema_version";
const META_CHAIN_ID: &str = "l1_chain_id";
const META_VERIFIER: &str = "verifier";

/// redb's default cache is 1 GiB; the working set here is a few pages per rollup.
const CACHE_BYTES: usize = 16 << 20;

/// A statement a key signed, with its signing root under the database's domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedRecord {
    pub statement: Statement,
    pub signing_root: B256,
}

impl SignedRecord {
    fn encode(&self) -> [u8; 128] {
        let mut out = [0u8; 128];
        out[..32].copy_from_slice(self.statement.block_hash.as_slice());
        out[32..64].copy_from_slice(self.statement.parent_hash.as_slice());
        out[64..96].copy_from_slice(self.statement.state_root.as_slice());
        out[96..].copy_from_slice(self.signing_root.as_slice());
        out
    }

    fn decode(rollup_id: u64, block_number: u64, bytes: &[u8; 128]) -> Self {
        let word = |i: usize| B256::from_slice(&bytes[i * 32..(i + 1) * 32]);
        Self {
            statement: Statement {
                rollup_id,
                block_number,
                block_hash: word(0),
                parent_hash: word(1),
                state_root: word(2),
            },
            signing_root: word(3),
        }
    }
}

/// What a durable [`SlashingDatabase::record`] call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recorded {
    /// Statements recorded for the first time (committed durably).
    pub new: usize,
    /// Identical repeats of statements already recorded (nothing written).
    pub repeated: usize,
}

/// What an import changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub new_records: usize,
    pub known_records: usize,
    pub raised_watermarks: usize,
}

/// The rule set, for one request at one `(key, rollup, height)`. It is the whole of the
/// slashing-safety logic; everything else is making its inputs durable and atomic.
///
/// - an identical statement (same signing root) already recorded is re-signed: BLS signatures
///   are deterministic, so this releases no new signature;
/// - any other statement at a recorded height is a conflict (double signing; a statement that
///   differs only in `parentHash` is refused too — no honest node needs it);
/// - an unrecorded height at or below the low watermark is refused: the history there is
///   incomplete;
/// - anything else is new and may be signed once recorded.
fn check(
    requested: &SignedRecord,
    existing: Option<SignedRecord>,
    watermark: Option<u64>,
) -> Result<bool, Refusal> {
    let statement = &requested.statement;
    match existing {
        Some(existing) if existing.signing_root == requested.signing_root => Ok(false),
        Some(existing) => Err(Refusal::Conflict {
            existing: Box::new(existing.statement),
            requested: Box::new(*statement),
        }),
        None => match watermark {
            Some(watermark) if statement.block_number <= watermark => {
                Err(Refusal::BelowWatermark {
                    rollup_id: statement.rollup_id,
                    block_number: statement.block_number,
                    watermark,
                })
            }
            _ => Ok(true),
        },
    }
}

/// The slashing-protection database of one L1 domain. Every write commits with
/// [`Durability::Immediate`] and two-phase commit; the file is locked for one process.
#[derive(Debug)]
pub struct SlashingDatabase {
    db: Database,
    domain: Domain,
    /// Set by any storage failure: redb's in-memory state may then be ahead of the disk, and a
    /// record visible only in memory must never justify a signature.
    poisoned: AtomicBool,
}

impl SlashingDatabase {
    /// Opens the database at `path`, creating it for `domain` if it does not exist. An existing
    /// database must have been created for the same domain.
    pub fn create_or_open(path: &Path, domain: &Domain) -> Result<Self, Error> {
        let db = builder().create(path).map_err(|e| open_error(e, path))?;
        Self::init(db, Some(domain))
    }

    /// Opens an existing database with the domain it was created for.
    pub fn open(path: &Path) -> Result<Self, Error> {
        if !path.exists() {
            return Err(Error::NotFound {
                path: path.to_owned(),
            });
        }
        let db = builder().open(path).map_err(|e| open_error(e, path))?;
        Self::init(db, None)
    }

    /// Opens or creates a database on any redb storage backend (in-memory, fault-injecting…).
    pub fn create_with_backend(
        backend: impl StorageBackend,
        domain: &Domain,
    ) -> Result<Self, Error> {
        let db = builder()
            .create_with_backend(backend)
            .map_err(|e| open_error(e, Path::new("<backend>")))?;
        Self::init(db, Some(domain))
    }

    fn init(db: Database, requested: Option<&Domain>) -> Result<Self, Error> {
        let txn = begin_write(&db)?;
        let domain = {
            let mut meta = txn.open_table(METADATA).map_err(redb::Error::from)?;
            let stored = read_domain(&meta)?;
            match (stored, requested) {
                (Some(stored), Some(requested)) if stored != *requested => {
                    return Err(Error::DomainMismatch {
                        stored,
                        requested: *requested,
                    });
                }
                (Some(stored), _) => stored,
                (None, Some(requested)) => {
                    write_domain(&mut meta, requested)?;
                    *requested
                }
                (None, None) => {
                    return Err(Error::BadMetadata("no domain recorded".to_owned()));
                }
            }
        };
        txn.open_table(SIGNED).map_err(redb::Error::from)?;
        txn.open_table(WATERMARKS).map_err(redb::Error::from)?;
        txn.commit().map_err(redb::Error::from)?;
        Ok(Self {
            db,
            domain,
            poisoned: AtomicBool::new(false),
        })
    }

    /// The domain the database was created for.
    pub const fn domain(&self) -> &Domain {
        &self.domain
    }

    /// Checks `statements` (with their signing roots) for `pubkey` against the history and
    /// records them in one durable commit: all of them or, on the first refusal or failure,
    /// none. On `Ok`, every statement is durably recorded and may be signed.
    pub fn record(
        &self,
        pubkey: &PublicKeyBytes,
        statements: &[(Statement, B256)],
    ) -> Result<Recorded, Error> {
        let txn = self.begin_write()?;
        let mut recorded = Recorded {
            new: 0,
            repeated: 0,
        };
        {
            let mut signed = txn.open_table(SIGNED).map_err(|e| self.fail(e))?;
            let watermarks = txn.open_table(WATERMARKS).map_err(|e| self.fail(e))?;
            for &(statement, signing_root) in statements {
                let requested = SignedRecord {
                    statement,
                    signing_root,
                };
                // Reads see this transaction's own inserts, so two statements of one batch
                // are checked against each other too.
                let existing = self.get_record(&signed, pubkey, &statement)?;
                let watermark = watermarks
                    .get((*pubkey, statement.rollup_id))
                    .map_err(|e| self.fail(e))?
                    .map(|g| g.value());
                if check(&requested, existing, watermark)? {
                    signed
                        .insert(key(pubkey, &statement), requested.encode())
                        .map_err(|e| self.fail(e))?;
                    recorded.new += 1;
                } else {
                    recorded.repeated += 1;
                }
            }
        }
        if recorded.new == 0 {
            txn.abort().map_err(|e| self.fail(e))?;
        } else {
            txn.commit().map_err(|e| self.fail(e))?;
        }
        Ok(recorded)
    }

    /// The record of `pubkey` at `(rollup_id, block_number)`, if any.
    pub fn signed_at(
        &self,
        pubkey: &PublicKeyBytes,
        rollup_id: u64,
        block_number: u64,
    ) -> Result<Option<SignedRecord>, Error> {
        let txn = self.db.begin_read().map_err(|e| self.fail(e))?;
        let table = txn.open_table(SIGNED).map_err(|e| self.fail(e))?;
        let value = table
            .get((*pubkey, rollup_id, block_number))
            .map_err(|e| self.fail(e))?
            .map(|g| SignedRecord::decode(rollup_id, block_number, &g.value()));
        Ok(value)
    }

    /// The low watermark of `pubkey` on `rollup_id`, if any.
    pub fn low_watermark(
        &self,
        pubkey: &PublicKeyBytes,
        rollup_id: u64,
    ) -> Result<Option<u64>, Error> {
        let txn = self.db.begin_read().map_err(|e| self.fail(e))?;
        let table = txn.open_table(WATERMARKS).map_err(|e| self.fail(e))?;
        let value = table
            .get((*pubkey, rollup_id))
            .map_err(|e| self.fail(e))?
            .map(|g| g.value());
        Ok(value)
    }

    /// Deletes the records of `pubkey` on `rollup_id` at heights `<= up_to` and raises the low
    /// watermark to `up_to`, so those heights stay refused. Returns the number deleted.
    pub fn prune(&self, pubkey: &PublicKeyBytes, rollup_id: u64, up_to: u64) -> Result<u64, Error> {
        let txn = self.begin_write()?;
        let deleted = {
            let mut signed = txn.open_table(SIGNED).map_err(|e| self.fail(e))?;
            let mut watermarks = txn.open_table(WATERMARKS).map_err(|e| self.fail(e))?;
            raise_watermark(&mut watermarks, pubkey, rollup_id, up_to).map_err(|e| self.fail(e))?;
            let mut deleted = 0;
            signed
                .retain_in(
                    (*pubkey, rollup_id, 0)..=(*pubkey, rollup_id, up_to),
                    |_, _| {
                        deleted += 1;
                        false
                    },
                )
                .map_err(|e| self.fail(e))?;
            deleted
        };
        txn.commit().map_err(|e| self.fail(e))?;
        Ok(deleted)
    }

    /// The whole history in the interchange format, ordered by key, rollup and height.
    pub fn export(&self) -> Result<Interchange, Error> {
        let txn = self.db.begin_read().map_err(|e| self.fail(e))?;
        let signed = txn.open_table(SIGNED).map_err(|e| self.fail(e))?;
        let watermarks = txn.open_table(WATERMARKS).map_err(|e| self.fail(e))?;
        let mut histories: BTreeMap<PublicKeyBytes, BTreeMap<u64, RollupHistory>> = BTreeMap::new();
        fn entry(
            histories: &mut BTreeMap<PublicKeyBytes, BTreeMap<u64, RollupHistory>>,
            pubkey: PublicKeyBytes,
            rollup_id: u64,
        ) -> &mut RollupHistory {
            histories
                .entry(pubkey)
                .or_default()
                .entry(rollup_id)
                .or_insert_with(|| RollupHistory {
                    rollup_id,
                    low_watermark: None,
                    signed_statements: Vec::new(),
                })
        }
        for item in watermarks.iter().map_err(|e| self.fail(e))? {
            let (k, v) = item.map_err(|e| self.fail(e))?;
            let (pubkey, rollup_id) = k.value();
            entry(&mut histories, pubkey, rollup_id).low_watermark = Some(v.value());
        }
        for item in signed.iter().map_err(|e| self.fail(e))? {
            let (k, v) = item.map_err(|e| self.fail(e))?;
            let (pubkey, rollup_id, block_number) = k.value();
            let record = SignedRecord::decode(rollup_id, block_number, &v.value());
            entry(&mut histories, pubkey, rollup_id)
                .signed_statements
                .push(SignedStatement {
                    block_number,
                    block_hash: record.statement.block_hash,
                    parent_hash: record.statement.parent_hash,
                    state_root: record.statement.state_root,
                    signing_root: record.signing_root,
                });
        }
        let data = histories
            .into_iter()
            .map(|(pubkey, rollups)| KeyHistory {
                pubkey: FixedBytes(pubkey),
                rollups: rollups.into_values().collect(),
            })
            .collect();
        Ok(Interchange {
            metadata: Metadata::new(&self.domain),
            data,
        })
    }

    /// Merges `interchange` into the database in one transaction: records are added unless
    /// they conflict with the history (or with each other), watermarks keep the higher value.
    /// Any conflict or invalid record refuses the whole import. Importing twice changes nothing.
    pub fn import(&self, interchange: &Interchange) -> Result<ImportSummary, Error> {
        let requested = interchange.domain();
        if requested != self.domain {
            return Err(Error::DomainMismatch {
                stored: self.domain,
                requested,
            });
        }
        let txn = self.begin_write()?;
        let mut summary = ImportSummary::default();
        {
            let mut signed = txn.open_table(SIGNED).map_err(|e| self.fail(e))?;
            let mut watermarks = txn.open_table(WATERMARKS).map_err(|e| self.fail(e))?;
            for history in &interchange.data {
                let pubkey = &history.pubkey.0;
                PublicKey::from_bytes(pubkey).map_err(|e| InterchangeError::InvalidPublicKey {
                    pubkey: history.pubkey,
                    reason: e.to_string(),
                })?;
                for rollup in &history.rollups {
                    if let Some(watermark) = rollup.low_watermark
                        && raise_watermark(&mut watermarks, pubkey, rollup.rollup_id, watermark)
                            .map_err(|e| self.fail(e))?
                    {
                        summary.raised_watermarks += 1;
                    }
                    for s in &rollup.signed_statements {
                        let record = self.verified_record(rollup.rollup_id, s)?;
                        let existing = self.get_record(&signed, pubkey, &record.statement)?;
                        match existing {
                            Some(existing) if existing.signing_root == record.signing_root => {
                                summary.known_records += 1;
                            }
                            Some(existing) => {
                                return Err(Refusal::Conflict {
                                    existing: Box::new(existing.statement),
                                    requested: Box::new(record.statement),
                                }
                                .into());
                            }
                            // Watermarks do not gate imports: a record below one only permits
                            // re-releasing a signature the key already made.
                            None => {
                                signed
                                    .insert(key(pubkey, &record.statement), record.encode())
                                    .map_err(|e| self.fail(e))?;
                                summary.new_records += 1;
                            }
                        }
                    }
                }
            }
        }
        txn.commit().map_err(|e| self.fail(e))?;
        Ok(summary)
    }

    fn verified_record(&self, rollup_id: u64, s: &SignedStatement) -> Result<SignedRecord, Error> {
        let statement = Statement {
            rollup_id,
            block_number: s.block_number,
            block_hash: s.block_hash,
            parent_hash: s.parent_hash,
            state_root: s.state_root,
        };
        let expected = statement.signing_root(&self.domain);
        if expected != s.signing_root {
            return Err(InterchangeError::SigningRootMismatch {
                rollup_id,
                block_number: s.block_number,
                found: s.signing_root,
                expected,
            }
            .into());
        }
        Ok(SignedRecord {
            statement,
            signing_root: expected,
        })
    }

    fn get_record(
        &self,
        signed: &Table<'_, (PublicKeyBytes, u64, u64), [u8; 128]>,
        pubkey: &PublicKeyBytes,
        statement: &Statement,
    ) -> Result<Option<SignedRecord>, Error> {
        Ok(signed
            .get(key(pubkey, statement))
            .map_err(|e| self.fail(e))?
            .map(|g| SignedRecord::decode(statement.rollup_id, statement.block_number, &g.value())))
    }

    fn begin_write(&self) -> Result<WriteTransaction, Error> {
        if self.poisoned.load(Ordering::Acquire) {
            return Err(Error::Poisoned);
        }
        begin_write(&self.db).inspect_err(|_| self.poisoned.store(true, Ordering::Release))
    }

    fn fail(&self, err: impl Into<redb::Error>) -> Error {
        self.poisoned.store(true, Ordering::Release);
        Error::Storage(err.into())
    }
}

fn builder() -> redb::Builder {
    let mut builder = Database::builder();
    // Verify every page checksum on open: a damaged file fails closed instead of being trusted.
    builder
        .set_cache_size(CACHE_BYTES)
        .set_check_integrity_on_open(true);
    builder
}

fn begin_write(db: &Database) -> Result<WriteTransaction, Error> {
    let mut txn = db.begin_write().map_err(redb::Error::from)?;
    txn.set_durability(Durability::Immediate)
        .map_err(redb::Error::from)?;
    // Two fsyncs per commit: the new root is only made primary once its pages are on disk, so
    // recovery never depends on checksums alone to reject a torn commit.
    txn.set_two_phase_commit(true);
    Ok(txn)
}

fn open_error(err: DatabaseError, path: &Path) -> Error {
    match err {
        DatabaseError::DatabaseAlreadyOpen => Error::Locked {
            path: PathBuf::from(path),
        },
        other => Error::Storage(other.into()),
    }
}

const fn key(pubkey: &PublicKeyBytes, statement: &Statement) -> (PublicKeyBytes, u64, u64) {
    (*pubkey, statement.rollup_id, statement.block_number)
}

/// Sets the watermark to `max(current, watermark)`; returns whether it changed.
fn raise_watermark(
    table: &mut Table<'_, (PublicKeyBytes, u64), u64>,
    pubkey: &PublicKeyBytes,
    rollup_id: u64,
    watermark: u64,
) -> Result<bool, redb::StorageError> {
    let current = table.get((*pubkey, rollup_id))?.map(|g| g.value());
    if current.is_some_and(|c| c >= watermark) {
        return Ok(false);
    }
    table.insert((*pubkey, rollup_id), watermark)?;
    Ok(true)
}

fn read_domain(meta: &Table<'_, &str, &[u8]>) -> Result<Option<Domain>, Error> {
    let get = |name: &str| -> Result<Option<Vec<u8>>, Error> {
        Ok(meta
            .get(name)
            .map_err(redb::Error::from)?
            .map(|g| g.value().to_vec()))
    };
    let Some(version) = get(META_SCHEMA)? else {
        return Ok(None);
    };
    let version = <[u8; 4]>::try_from(version.as_slice())
        .map(u32::from_be_bytes)
        .map_err(|_| Error::BadMetadata("malformed schema version".to_owned()))?;
    if version != SCHEMA_VERSION {
        return Err(Error::BadMetadata(format!(
            "schema version {version}, this build reads {SCHEMA_VERSION}"
        )));
    }
    let chain_id = get(META_CHAIN_ID)?
        .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| Error::BadMetadata("missing or malformed l1 chain id".to_owned()))?;
    let verifier = get(META_VERIFIER)?
        .and_then(|b| <[u8; 20]>::try_from(b.as_slice()).ok())
        .map(Address::from)
        .ok_or_else(|| Error::BadMetadata("missing or malformed verifier".to_owned()))?;
    Ok(Some(Domain::new(chain_id, verifier)))
}

fn write_domain(meta: &mut Table<'_, &str, &[u8]>, domain: &Domain) -> Result<(), redb::Error> {
    meta.insert(META_SCHEMA, SCHEMA_VERSION.to_be_bytes().as_slice())?;
    meta.insert(META_CHAIN_ID, domain.l1_chain_id.to_be_bytes().as_slice())?;
    meta.insert(META_VERIFIER, domain.verifier.as_slice())?;
    Ok(())
}
