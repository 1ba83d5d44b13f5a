//! The aggregator's redb database: accepted attestations, double-signing evidence, mismatch
//! reports and certificate submissions. Layout in `docs/aggregator.md`.
//!
//! Every intake batch is one transaction committed with [`Durability::Immediate`] before any
//! attestation in it is answered as accepted, so an answer an operator saw survives a SIGKILL.

use std::path::Path;

use alloy::primitives::{B256, TxHash};
use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};
use surety_primitives::{Attestation, Mismatch, MismatchReport, PublicKey, Signature, Statement};

use crate::double_sign::{Evidence, EvidenceState};

/// `rollup ‖ height ‖ key hash` → `block hash ‖ parent hash ‖ state root ‖ key ‖ signature`.
const ATTESTATIONS: TableDefinition<'_, &[u8], &[u8]> = TableDefinition::new("attestations");
/// `rollup ‖ height ‖ key hash` → state byte ‖ key ‖ both statements and signatures.
const EVIDENCE: TableDefinition<'_, &[u8], &[u8]> = TableDefinition::new("evidence");
/// `rollup ‖ height ‖ key hash` → the report's hashes ‖ key ‖ signature.
const MISMATCHES: TableDefinition<'_, &[u8], &[u8]> = TableDefinition::new("mismatches");
/// `rollup ‖ height` → `block hash ‖ state root ‖ tx hash ‖ nonce ‖ state`.
const SUBMISSIONS: TableDefinition<'_, &[u8], &[u8]> = TableDefinition::new("submissions");

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("aggregator database: {0}")]
    Db(#[from] redb::Error),
    #[error("aggregator database: corrupt {0} record")]
    Corrupt(&'static str),
}

fn db_err(e: impl Into<redb::Error>) -> StoreError {
    StoreError::Db(e.into())
}

/// A certificate transaction this aggregator sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Submission {
    pub rollup_id: u64,
    pub block_number: u64,
    pub block_hash: B256,
    pub state_root: B256,
    pub tx_hash: TxHash,
    pub nonce: u64,
    pub state: SubmissionState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubmissionState {
    Pending,
    /// Mined and recorded a certificate.
    Confirmed,
    /// Another aggregator certified this statement (or a higher one) first.
    CertifiedByOther,
    /// Mined but reverted, or dropped.
    Failed,
}

impl SubmissionState {
    fn to_byte(self) -> u8 {
        match self {
            Self::Pending => 0,
            Self::Confirmed => 1,
            Self::CertifiedByOther => 2,
            Self::Failed => 3,
        }
    }

    fn from_byte(b: u8) -> Option<Self> {
        Some(match b {
            0 => Self::Pending,
            1 => Self::Confirmed,
            2 => Self::CertifiedByOther,
            3 => Self::Failed,
            _ => return None,
        })
    }
}

fn key(rollup: u64, height: u64, key_hash: Option<&B256>) -> Vec<u8> {
    let mut k = Vec::with_capacity(48);
    k.extend_from_slice(&rollup.to_be_bytes());
    k.extend_from_slice(&height.to_be_bytes());
    if let Some(h) = key_hash {
        k.extend_from_slice(h.as_slice());
    }
    k
}

fn split_key(k: &[u8]) -> Option<(u64, u64)> {
    Some((
        u64::from_be_bytes(k.get(..8)?.try_into().ok()?),
        u64::from_be_bytes(k.get(8..16)?.try_into().ok()?),
    ))
}

fn encode_statement(out: &mut Vec<u8>, s: &Statement) {
    out.extend_from_slice(s.block_hash.as_slice());
    out.extend_from_slice(s.parent_hash.as_slice());
    out.extend_from_slice(s.state_root.as_slice());
}

/// Reads fixed-size fields off the front of a record.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    fn hash(&mut self) -> Option<B256> {
        self.take(32).map(B256::from_slice)
    }

    fn statement(&mut self, rollup_id: u64, block_number: u64) -> Option<Statement> {
        Some(Statement {
            rollup_id,
            block_number,
            block_hash: self.hash()?,
            parent_hash: self.hash()?,
            state_root: self.hash()?,
        })
    }

    fn public_key(&mut self) -> Option<PublicKey> {
        PublicKey::from_bytes(self.take(96)?).ok()
    }

    fn signature(&mut self) -> Option<Signature> {
        Signature::from_bytes(self.take(48)?).ok()
    }
}

/// The aggregator's database.
#[derive(Debug)]
pub struct Store {
    db: Database,
}

impl Store {
    /// Opens (or creates) the database at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let db = Database::create(path).map_err(db_err)?;
        let txn = db.begin_write().map_err(db_err)?;
        for table in [ATTESTATIONS, EVIDENCE, MISMATCHES, SUBMISSIONS] {
            txn.open_table(table).map_err(db_err)?;
        }
        txn.commit().map_err(db_err)?;
        Ok(Self { db })
    }

    /// Durably records newly accepted attestations and new evidence in one transaction.
    pub fn commit_intake(
        &self,
        accepted: &[(Attestation, B256)],
        evidence: &[Evidence],
    ) -> Result<(), StoreError> {
        let mut txn = self.db.begin_write().map_err(db_err)?;
        txn.set_durability(Durability::Immediate).map_err(db_err)?;
        {
            let mut table = txn.open_table(ATTESTATIONS).map_err(db_err)?;
            let mut value = Vec::with_capacity(240);
            for (a, key_hash) in accepted {
                let s = &a.statement;
                value.clear();
                encode_statement(&mut value, s);
                value.extend_from_slice(&a.public_key.to_bytes());
                value.extend_from_slice(&a.signature.to_bytes());
                table
                    .insert(
                        key(s.rollup_id, s.block_number, Some(key_hash)).as_slice(),
                        value.as_slice(),
                    )
                    .map_err(db_err)?;
            }
            let mut table = txn.open_table(EVIDENCE).map_err(db_err)?;
            for e in evidence {
                let k = key(e.rollup_id(), e.block_number(), Some(&e.key_hash()));
                table
                    .insert(
                        k.as_slice(),
                        encode_evidence(e, EvidenceState::Pending).as_slice(),
                    )
                    .map_err(db_err)?;
            }
        }
        txn.commit().map_err(db_err)
    }

    /// Every stored attestation with its signer's key hash.
    pub fn attestations(&self) -> Result<Vec<(Attestation, B256)>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(ATTESTATIONS).map_err(db_err)?;
        let mut out = Vec::new();
        for entry in table.iter().map_err(db_err)? {
            let (k, v) = entry.map_err(db_err)?;
            let (k, v) = (k.value(), v.value());
            let decoded = (|| {
                let (rollup, height) = split_key(k)?;
                let key_hash = B256::from_slice(k.get(16..48)?);
                let mut r = Reader(v);
                let statement = r.statement(rollup, height)?;
                Some((
                    Attestation {
                        statement,
                        public_key: r.public_key()?,
                        signature: r.signature()?,
                    },
                    key_hash,
                ))
            })();
            out.push(decoded.ok_or(StoreError::Corrupt("attestation"))?);
        }
        Ok(out)
    }

    /// Deletes attestations of `rollup` at heights up to `head` (certified: no longer needed).
    pub fn prune(&self, rollup: u64, head: u64) -> Result<(), StoreError> {
        let mut txn = self.db.begin_write().map_err(db_err)?;
        // Losing a prune in a crash only means pruning again.
        txn.set_durability(Durability::None).map_err(db_err)?;
        {
            let mut table = txn.open_table(ATTESTATIONS).map_err(db_err)?;
            let (start, end) = (
                key(rollup, 0, None),
                key(rollup, head.saturating_add(1), None),
            );
            table
                .retain_in::<&[u8], _>(start.as_slice()..end.as_slice(), |_, _| false)
                .map_err(db_err)?;
        }
        txn.commit().map_err(db_err)
    }

    /// All evidence with its state.
    pub fn evidence(&self) -> Result<Vec<(Evidence, EvidenceState)>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(EVIDENCE).map_err(db_err)?;
        let mut out = Vec::new();
        for entry in table.iter().map_err(db_err)? {
            let (k, v) = entry.map_err(db_err)?;
            let decoded = (|| {
                let (rollup, height) = split_key(k.value())?;
                let v = v.value();
                let state = EvidenceState::from_byte(*v.first()?);
                let mut r = Reader(&v[1..]);
                let public_key = r.public_key()?;
                let first = (r.statement(rollup, height)?, r.signature()?);
                let second = (r.statement(rollup, height)?, r.signature()?);
                Some((
                    Evidence {
                        public_key,
                        first,
                        second,
                    },
                    state,
                ))
            })();
            out.push(decoded.ok_or(StoreError::Corrupt("evidence"))?);
        }
        Ok(out)
    }

    pub fn set_evidence_state(
        &self,
        evidence: &Evidence,
        state: EvidenceState,
    ) -> Result<(), StoreError> {
        let mut txn = self.db.begin_write().map_err(db_err)?;
        txn.set_durability(Durability::Immediate).map_err(db_err)?;
        {
            let mut table = txn.open_table(EVIDENCE).map_err(db_err)?;
            let k = key(
                evidence.rollup_id(),
                evidence.block_number(),
                Some(&evidence.key_hash()),
            );
            table
                .insert(k.as_slice(), encode_evidence(evidence, state).as_slice())
                .map_err(db_err)?;
        }
        txn.commit().map_err(db_err)
    }

    /// Records a verified mismatch report; `false` if this key already reported this height.
    pub fn insert_mismatch(
        &self,
        report: &MismatchReport,
        key_hash: &B256,
    ) -> Result<bool, StoreError> {
        let m = &report.mismatch;
        let k = key(m.rollup_id, m.block_number, Some(key_hash));
        let mut txn = self.db.begin_write().map_err(db_err)?;
        txn.set_durability(Durability::Immediate).map_err(db_err)?;
        let new = {
            let mut table = txn.open_table(MISMATCHES).map_err(db_err)?;
            if table.get(k.as_slice()).map_err(db_err)?.is_some() {
                false
            } else {
                let mut v = Vec::with_capacity(4 * 32 + 96 + 48);
                for h in [
                    m.block_hash,
                    m.parent_hash,
                    m.claimed_state_root,
                    m.computed_state_root,
                ] {
                    v.extend_from_slice(h.as_slice());
                }
                v.extend_from_slice(&report.public_key.to_bytes());
                v.extend_from_slice(&report.signature.to_bytes());
                table.insert(k.as_slice(), v.as_slice()).map_err(db_err)?;
                true
            }
        };
        txn.commit().map_err(db_err)?;
        Ok(new)
    }

    /// Every stored mismatch report.
    pub fn mismatches(&self) -> Result<Vec<MismatchReport>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(MISMATCHES).map_err(db_err)?;
        let mut out = Vec::new();
        for entry in table.iter().map_err(db_err)? {
            let (k, v) = entry.map_err(db_err)?;
            let decoded = (|| {
                let (rollup_id, block_number) = split_key(k.value())?;
                let mut r = Reader(v.value());
                Some(MismatchReport {
                    mismatch: Mismatch {
                        rollup_id,
                        block_number,
                        block_hash: r.hash()?,
                        parent_hash: r.hash()?,
                        claimed_state_root: r.hash()?,
                        computed_state_root: r.hash()?,
                    },
                    public_key: r.public_key()?,
                    signature: r.signature()?,
                })
            })();
            out.push(decoded.ok_or(StoreError::Corrupt("mismatch"))?);
        }
        Ok(out)
    }

    pub fn record_submission(&self, s: &Submission) -> Result<(), StoreError> {
        let mut txn = self.db.begin_write().map_err(db_err)?;
        txn.set_durability(Durability::Immediate).map_err(db_err)?;
        {
            let mut table = txn.open_table(SUBMISSIONS).map_err(db_err)?;
            let mut v = Vec::with_capacity(105);
            for h in [s.block_hash, s.state_root, s.tx_hash] {
                v.extend_from_slice(h.as_slice());
            }
            v.extend_from_slice(&s.nonce.to_be_bytes());
            v.push(s.state.to_byte());
            table
                .insert(
                    key(s.rollup_id, s.block_number, None).as_slice(),
                    v.as_slice(),
                )
                .map_err(db_err)?;
        }
        txn.commit().map_err(db_err)
    }

    /// Every recorded submission, oldest height first per rollup.
    pub fn submissions(&self) -> Result<Vec<Submission>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(SUBMISSIONS).map_err(db_err)?;
        let mut out = Vec::new();
        for entry in table.iter().map_err(db_err)? {
            let (k, v) = entry.map_err(db_err)?;
            let decoded = (|| {
                let (rollup_id, block_number) = split_key(k.value())?;
                let mut r = Reader(v.value());
                Some(Submission {
                    rollup_id,
                    block_number,
                    block_hash: r.hash()?,
                    state_root: r.hash()?,
                    tx_hash: r.hash()?,
                    nonce: u64::from_be_bytes(r.take(8)?.try_into().ok()?),
                    state: SubmissionState::from_byte(*r.take(1)?.first()?)?,
                })
            })();
            out.push(decoded.ok_or(StoreError::Corrupt("submission"))?);
        }
        Ok(out)
    }

    /// The key hashes that signed at each of `rollup`'s `heights` newest attested heights (for
    /// the status page's participation figures); keys only, newest height first.
    pub fn recent_signers(
        &self,
        rollup: u64,
        heights: usize,
    ) -> Result<Vec<(u64, Vec<B256>)>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(ATTESTATIONS).map_err(db_err)?;
        let (start, end) = (
            key(rollup, 0, None),
            key(rollup, u64::MAX, Some(&B256::repeat_byte(0xff))),
        );
        let mut out: Vec<(u64, Vec<B256>)> = Vec::new();
        for entry in table
            .range::<&[u8]>(start.as_slice()..=end.as_slice())
            .map_err(db_err)?
            .rev()
        {
            let (k, _) = entry.map_err(db_err)?;
            let k = k.value();
            let (_, height) = split_key(k).ok_or(StoreError::Corrupt("attestation"))?;
            let key_hash =
                B256::from_slice(k.get(16..48).ok_or(StoreError::Corrupt("attestation"))?);
            if let Some((h, signers)) = out.last_mut()
                && *h == height
            {
                signers.push(key_hash);
            } else if out.len() == heights {
                break;
            } else {
                out.push((height, vec![key_hash]));
            }
        }
        Ok(out)
    }
}

fn encode_evidence(e: &Evidence, state: EvidenceState) -> Vec<u8> {
    let mut v = Vec::with_capacity(1 + 96 + 2 * (96 + 48));
    v.push(state.to_byte());
    v.extend_from_slice(&e.public_key.to_bytes());
    for (s, sig) in [e.first, e.second] {
        encode_statement(&mut v, &s);
        v.extend_from_slice(&sig.to_bytes());
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use surety_primitives::SecretKey;

    fn attestation(key: u8, height: u64, root: u8) -> (Attestation, B256) {
        let sk = SecretKey::from_ikm(&[key; 32]);
        let statement = Statement {
            rollup_id: 1,
            block_number: height,
            block_hash: B256::repeat_byte(height as u8),
            parent_hash: B256::repeat_byte(height as u8 - 1),
            state_root: B256::repeat_byte(root),
        };
        let a = Attestation {
            statement,
            public_key: sk.public_key(),
            signature: sk.sign(&[root; 32]),
        };
        (a, sk.public_key().key_hash())
    }

    #[test]
    fn everything_survives_reopening_and_prune_drops_certified_heights() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("aggregator.redb");
        let accepted: Vec<_> = (2..6).map(|h| attestation(1, h, 7)).collect();
        let (b, _) = attestation(1, 3, 8);
        let evidence =
            Evidence::from_pair((accepted[1].0.statement, accepted[1].0.signature), &b).unwrap();
        let submission = Submission {
            rollup_id: 1,
            block_number: 4,
            block_hash: B256::repeat_byte(4),
            state_root: B256::repeat_byte(7),
            tx_hash: B256::repeat_byte(9),
            nonce: 12,
            state: SubmissionState::Pending,
        };
        {
            let store = Store::open(&path).unwrap();
            store.commit_intake(&accepted, &[evidence]).unwrap();
            store.record_submission(&submission).unwrap();
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(store.attestations().unwrap(), accepted);
        assert_eq!(
            store.evidence().unwrap(),
            vec![(evidence, EvidenceState::Pending)]
        );
        assert_eq!(store.submissions().unwrap(), vec![submission]);
        store
            .set_evidence_state(&evidence, EvidenceState::Proven)
            .unwrap();
        assert_eq!(store.evidence().unwrap()[0].1, EvidenceState::Proven);
        store.prune(1, 3).unwrap();
        assert_eq!(store.attestations().unwrap(), accepted[2..]);
    }

    #[test]
    fn recent_signers_are_the_newest_heights_keys_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("aggregator.redb")).unwrap();
        let mut accepted: Vec<_> = (2..6).map(|h| attestation(1, h, 7)).collect();
        accepted.push(attestation(2, 5, 7));
        let mut other_rollup = attestation(3, 9, 7);
        other_rollup.0.statement.rollup_id = 2;
        accepted.push(other_rollup);
        store.commit_intake(&accepted, &[]).unwrap();
        let (one, two) = (accepted[0].1, accepted[4].1);
        let mut newest = store.recent_signers(1, 2).unwrap();
        newest[0].1.sort();
        let mut both = vec![one, two];
        both.sort();
        assert_eq!(newest, vec![(5, both), (4, vec![one])]);
        assert_eq!(store.recent_signers(1, 10).unwrap().len(), 4);
        assert!(store.recent_signers(3, 10).unwrap().is_empty());
    }
}
