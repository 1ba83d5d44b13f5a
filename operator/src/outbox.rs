//! The durable outbox: every attestation and mismatch report the node signed, queued in redb
//! until each configured aggregator has it.
//!
//! Layout (one redb file, `outbox.redb`):
//! - `messages`: sequence number → one encoded [`Message`]; sequence numbers only grow;
//! - `cursors`: aggregator URL → the highest sequence number it has settled (accepted,
//!   duplicate, or refused for good);
//! - `signed`: rollup id → the highest height whose attestation is queued.
//!
//! A message is written in the same transaction that advances `signed`, with immediate
//! durability, before any aggregator sees it; cursors advance without an fsync of their own and
//! persist with the next durable commit (a lost cursor only re-sends messages, which
//! aggregators answer as duplicates). Messages every
//! aggregator has settled are deleted, so the outbox stays as long as the slowest aggregator's
//! backlog.

use std::path::Path;

use alloy_primitives::B256;
use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};
use surety_primitives::{Attestation, Mismatch, MismatchReport, PublicKey, Signature, Statement};

const MESSAGES: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("messages");
const CURSORS: TableDefinition<'_, &str, u64> = TableDefinition::new("cursors");
const SIGNED: TableDefinition<'_, u64, u64> = TableDefinition::new("signed");

/// The outbox's working set is small: its own cache, not redb's 1 GiB default.
const CACHE_BYTES: usize = 16 << 20;

const ATTESTATION: u8 = 1;
const REPORT: u8 = 2;

/// Errors of the outbox store.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("outbox database: {0}")]
    Db(#[from] redb::Error),
    #[error("corrupt outbox message {0}")]
    Corrupt(u64),
}

fn db_err(e: impl Into<redb::Error>) -> OutboxError {
    OutboxError::Db(e.into())
}

/// What the outbox holds: the node's own signed messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {
    Attestation(Attestation),
    Report(MismatchReport),
}

impl Message {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + 16 + 4 * 32 + 96 + 48);
        let words = |out: &mut Vec<u8>, words: &[B256]| {
            for w in words {
                out.extend_from_slice(w.as_slice());
            }
        };
        let (public_key, signature) = match self {
            Self::Attestation(a) => {
                let s = &a.statement;
                out.push(ATTESTATION);
                out.extend_from_slice(&s.rollup_id.to_be_bytes());
                out.extend_from_slice(&s.block_number.to_be_bytes());
                words(&mut out, &[s.block_hash, s.parent_hash, s.state_root]);
                (a.public_key, a.signature)
            }
            Self::Report(r) => {
                let m = &r.mismatch;
                out.push(REPORT);
                out.extend_from_slice(&m.rollup_id.to_be_bytes());
                out.extend_from_slice(&m.block_number.to_be_bytes());
                words(
                    &mut out,
                    &[
                        m.block_hash,
                        m.parent_hash,
                        m.claimed_state_root,
                        m.computed_state_root,
                    ],
                );
                (r.public_key, r.signature)
            }
        };
        out.extend_from_slice(&public_key.to_bytes());
        out.extend_from_slice(&signature.to_bytes());
        out
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        let (&kind, rest) = bytes.split_first()?;
        let u64_at = |i: usize| Some(u64::from_be_bytes(rest.get(i..i + 8)?.try_into().ok()?));
        let word = |i: usize| Some(B256::from_slice(rest.get(16 + 32 * i..16 + 32 * (i + 1))?));
        let (rollup_id, block_number) = (u64_at(0)?, u64_at(8)?);
        let n_words = match kind {
            ATTESTATION => 3,
            REPORT => 4,
            _ => return None,
        };
        let keys = rest.get(16 + 32 * n_words..)?;
        if keys.len() != 96 + 48 {
            return None;
        }
        let public_key = PublicKey::from_bytes(&keys[..96]).ok()?;
        let signature = Signature::from_bytes(&keys[96..]).ok()?;
        Some(match kind {
            ATTESTATION => Self::Attestation(Attestation {
                statement: Statement {
                    rollup_id,
                    block_number,
                    block_hash: word(0)?,
                    parent_hash: word(1)?,
                    state_root: word(2)?,
                },
                public_key,
                signature,
            }),
            _ => Self::Report(MismatchReport {
                mismatch: Mismatch {
                    rollup_id,
                    block_number,
                    block_hash: word(0)?,
                    parent_hash: word(1)?,
                    claimed_state_root: word(2)?,
                    computed_state_root: word(3)?,
                },
                public_key,
                signature,
            }),
        })
    }
}

/// The outbox of one node.
#[derive(Debug)]
pub struct Outbox {
    db: Database,
    /// Aggregator URLs whose cursors bound what may be deleted.
    aggregators: Vec<String>,
}

impl Outbox {
    /// Opens (or creates) the outbox at `path` for these aggregators.
    pub fn open(path: &Path, aggregators: Vec<String>) -> Result<Self, OutboxError> {
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(path)
            .map_err(db_err)?;
        let txn = db.begin_write().map_err(db_err)?;
        txn.open_table(MESSAGES).map_err(db_err)?;
        txn.open_table(CURSORS).map_err(db_err)?;
        txn.open_table(SIGNED).map_err(db_err)?;
        txn.commit().map_err(db_err)?;
        Ok(Self { db, aggregators })
    }

    /// The highest height of `rollup_id` whose attestation is queued (or was delivered).
    pub fn last_signed(&self, rollup_id: u64) -> Result<Option<u64>, OutboxError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let signed = txn.open_table(SIGNED).map_err(db_err)?;
        Ok(signed.get(rollup_id).map_err(db_err)?.map(|h| h.value()))
    }

    /// Durably queues `messages` in order (one fsync) and records the highest attested height
    /// per rollup. Returns the sequence number of the last one.
    pub fn push(&self, messages: &[Message]) -> Result<u64, OutboxError> {
        let mut txn = self.db.begin_write().map_err(db_err)?;
        txn.set_durability(Durability::Immediate).map_err(db_err)?;
        let mut last = 0;
        {
            let mut table = txn.open_table(MESSAGES).map_err(db_err)?;
            let mut signed = txn.open_table(SIGNED).map_err(db_err)?;
            for (seq, message) in (next_seq(&table)?..).zip(messages) {
                table
                    .insert(seq, message.encode().as_slice())
                    .map_err(db_err)?;
                if let Message::Attestation(a) = message {
                    let s = &a.statement;
                    let prev = signed.get(s.rollup_id).map_err(db_err)?.map(|h| h.value());
                    if prev.is_none_or(|h| h < s.block_number) {
                        signed.insert(s.rollup_id, s.block_number).map_err(db_err)?;
                    }
                }
                last = seq;
            }
        }
        txn.commit().map_err(db_err)?;
        Ok(last)
    }

    /// Up to `limit` messages after `aggregator`'s cursor, with their sequence numbers.
    pub fn pending(
        &self,
        aggregator: &str,
        limit: usize,
    ) -> Result<Vec<(u64, Message)>, OutboxError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let cursor = cursor(&txn.open_table(CURSORS).map_err(db_err)?, aggregator)?;
        let table = txn.open_table(MESSAGES).map_err(db_err)?;
        let mut out = Vec::new();
        for entry in table.range(cursor.map_or(0, |c| c + 1)..).map_err(db_err)? {
            let (seq, bytes) = entry.map_err(db_err)?;
            let seq = seq.value();
            out.push((
                seq,
                Message::decode(bytes.value()).ok_or(OutboxError::Corrupt(seq))?,
            ));
            if out.len() == limit {
                break;
            }
        }
        Ok(out)
    }

    /// Messages queued after `aggregator`'s cursor.
    pub fn depth(&self, aggregator: &str) -> Result<u64, OutboxError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let cursor = cursor(&txn.open_table(CURSORS).map_err(db_err)?, aggregator)?;
        let table = txn.open_table(MESSAGES).map_err(db_err)?;
        let last = table.last().map_err(db_err)?.map(|(k, _)| k.value());
        Ok(match (last, cursor) {
            (Some(last), Some(cursor)) => last.saturating_sub(cursor),
            (Some(last), None) => {
                let first = table
                    .first()
                    .map_err(db_err)?
                    .map_or(last, |(k, _)| k.value());
                last - first + 1
            }
            (None, _) => 0,
        })
    }

    /// Marks everything up to `seq` settled for `aggregator`, and deletes what every aggregator
    /// has settled.
    pub fn settle(&self, aggregator: &str, seq: u64) -> Result<(), OutboxError> {
        let mut txn = self.db.begin_write().map_err(db_err)?;
        txn.set_durability(Durability::None).map_err(db_err)?;
        {
            let mut cursors = txn.open_table(CURSORS).map_err(db_err)?;
            if cursor(&cursors, aggregator)?.is_none_or(|c| c < seq) {
                cursors.insert(aggregator, seq).map_err(db_err)?;
            }
            let mut settled = u64::MAX;
            for url in &self.aggregators {
                settled = settled.min(cursor(&cursors, url)?.unwrap_or(0));
            }
            if settled > 0 && settled != u64::MAX {
                let mut table = txn.open_table(MESSAGES).map_err(db_err)?;
                // Keep the newest message so sequence numbers keep growing after a restart.
                let last = table.last().map_err(db_err)?.map(|(k, _)| k.value());
                let bound = last.map_or(settled, |last| settled.min(last.saturating_sub(1)));
                table.retain_in(..=bound, |_, _| false).map_err(db_err)?;
            }
        }
        txn.commit().map_err(db_err)?;
        Ok(())
    }
}

fn next_seq(table: &redb::Table<'_, u64, &[u8]>) -> Result<u64, OutboxError> {
    Ok(table
        .last()
        .map_err(db_err)?
        .map_or(1, |(k, _)| k.value() + 1))
}

fn cursor(
    table: &impl ReadableTable<&'static str, u64>,
    aggregator: &str,
) -> Result<Option<u64>, OutboxError> {
    Ok(table.get(aggregator).map_err(db_err)?.map(|c| c.value()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::Address;
    use surety_primitives::{Domain, SecretKey};

    fn attestation(height: u64) -> Message {
        let key = SecretKey::from_ikm(&[3; 32]);
        let statement = Statement {
            rollup_id: 1,
            block_number: height,
            block_hash: B256::repeat_byte(1),
            parent_hash: B256::repeat_byte(2),
            state_root: B256::repeat_byte(3),
        };
        let domain = Domain::new(1, Address::ZERO);
        Message::Attestation(Attestation {
            statement,
            public_key: key.public_key(),
            signature: key.sign(&statement.signing_root(&domain).0),
        })
    }

    #[test]
    fn messages_round_trip_their_encoding() {
        let Message::Attestation(a) = attestation(9) else {
            unreachable!()
        };
        let report = Message::Report(MismatchReport {
            mismatch: Mismatch {
                rollup_id: 2,
                block_number: 9,
                block_hash: B256::repeat_byte(4),
                parent_hash: B256::repeat_byte(5),
                claimed_state_root: B256::repeat_byte(6),
                computed_state_root: B256::repeat_byte(7),
            },
            public_key: a.public_key,
            signature: a.signature,
        });
        for m in [attestation(9), report] {
            assert_eq!(Message::decode(&m.encode()), Some(m));
        }
        assert_eq!(Message::decode(&[9; 20]), None);
    }

    #[test]
    fn each_aggregator_drains_at_its_pace_and_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outbox.redb");
        let urls = vec!["a".to_owned(), "b".to_owned()];
        {
            let outbox = Outbox::open(&path, urls.clone()).unwrap();
            let batch: Vec<Message> = (1..=5).map(attestation).collect();
            assert_eq!(outbox.push(&batch).unwrap(), 5);
            assert_eq!(outbox.last_signed(1).unwrap(), Some(5));
            assert_eq!(outbox.depth("a").unwrap(), 5);
            outbox.settle("a", 3).unwrap();
            assert_eq!(outbox.depth("a").unwrap(), 2);
            assert_eq!(outbox.pending("a", 10).unwrap()[0].0, 4);
            // `b` has settled nothing, so nothing is deleted.
            assert_eq!(outbox.pending("b", 10).unwrap().len(), 5);
        }
        let outbox = Outbox::open(&path, urls).unwrap();
        assert_eq!(outbox.pending("b", 2).unwrap()[1].1, attestation(2));
        outbox.settle("b", 5).unwrap();
        outbox.settle("a", 5).unwrap();
        assert_eq!(outbox.depth("a").unwrap(), 0);
        assert_eq!(
            outbox.push(&[attestation(6)]).unwrap(),
            6,
            "sequence keeps growing"
        );
        assert_eq!(outbox.pending("a", 10).unwrap().len(), 1);
        assert_eq!(outbox.last_signed(1).unwrap(), Some(6));
    }
}
