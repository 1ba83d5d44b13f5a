//! Accepted attestations grouped per statement, stake progress against each rollup's threshold,
//! and the choice of what to certify: the newest statement with quorum whose parent chain links
//! to the certified head.

use std::collections::{BTreeMap, HashMap};

use alloy::primitives::map::B256Map;

use alloy::primitives::{B256, U256};
use surety_primitives::{Attestation, PublicKey, Signature, Statement};

use crate::l1::L1View;

/// The attestations of one statement, by signer key hash.
#[derive(Debug, Clone)]
pub struct Signed {
    pub statement: Statement,
    pub signatures: BTreeMap<B256, (PublicKey, Signature)>,
}

/// Every statement attested at one height, and which statement each key signed.
#[derive(Debug, Default)]
struct Height {
    statements: Vec<Signed>,
    by_key: B256Map<usize>,
}

/// What [`Pool::check`] finds for an attestation.
// Short-lived and matched on at once: boxing the conflict would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// The key has not signed at this height.
    New,
    /// The key signed exactly this statement already.
    Duplicate,
    /// The key signed a different statement at this height.
    Conflict(Statement, Signature),
}

/// A statement ready to be certified.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub statement: Statement,
    pub signers: Vec<(PublicKey, Signature)>,
    pub signed_stake: U256,
}

/// Certified heights whose attestations are kept below each rollup's head. A certificate
/// proven faulty moves the head back to its predecessor; the honest attestations at the heights
/// it covered are then still here to certify the true chain from.
pub const RETAINED_BELOW_HEAD: u64 = 64;

/// Accepted attestations above each rollup's certified head, and the last
/// [`RETAINED_BELOW_HEAD`] heights below it.
#[derive(Debug, Default)]
pub struct Pool {
    rollups: HashMap<u64, BTreeMap<u64, Height>>,
}

impl Pool {
    pub fn check(&self, statement: &Statement, key_hash: &B256) -> Seen {
        let Some(height) = self
            .rollups
            .get(&statement.rollup_id)
            .and_then(|r| r.get(&statement.block_number))
        else {
            return Seen::New;
        };
        match height.by_key.get(key_hash) {
            None => Seen::New,
            Some(&i) => {
                let signed = &height.statements[i];
                if signed.statement == *statement {
                    Seen::Duplicate
                } else {
                    Seen::Conflict(signed.statement, signed.signatures[key_hash].1)
                }
            }
        }
    }

    /// Counts `attestation` (which must be [`Seen::New`]).
    pub fn insert(&mut self, attestation: &Attestation, key_hash: B256) {
        let s = attestation.statement;
        let height = self
            .rollups
            .entry(s.rollup_id)
            .or_default()
            .entry(s.block_number)
            .or_default();
        let i = match height.statements.iter().position(|x| x.statement == s) {
            Some(i) => i,
            None => {
                height.statements.push(Signed {
                    statement: s,
                    signatures: BTreeMap::new(),
                });
                height.statements.len() - 1
            }
        };
        height.statements[i]
            .signatures
            .insert(key_hash, (attestation.public_key, attestation.signature));
        height.by_key.insert(key_hash, i);
    }

    fn signed(&self, statement: &Statement) -> Option<&Signed> {
        self.rollups
            .get(&statement.rollup_id)?
            .get(&statement.block_number)?
            .statements
            .iter()
            .find(|x| x.statement == *statement)
    }

    /// Stake-weighted progress of `statement`, in basis points of the total stake.
    pub fn progress_bps(&self, statement: &Statement, view: &L1View) -> u32 {
        self.signed(statement).map_or(0, |signed| {
            let ops = &view.operators;
            ops.bps(ops.stake_of(signed.signatures.keys()))
        })
    }

    /// Forgets heights more than [`RETAINED_BELOW_HEAD`] below each rollup's certified head.
    pub fn prune(&mut self, view: &L1View) {
        for (id, heights) in &mut self.rollups {
            if let Some(rollup) = view.rollups.get(id) {
                *heights =
                    heights.split_off(&(rollup.head.saturating_sub(RETAINED_BELOW_HEAD) + 1));
            }
        }
    }

    /// The newest statement of `rollup_id` above its head whose active signers reach the
    /// threshold and whose chain of parents, through attested statements, reaches the head.
    pub fn candidate(&self, rollup_id: u64, view: &L1View) -> Option<Candidate> {
        let rollup = view.rollups.get(&rollup_id)?;
        let heights = self.rollups.get(&rollup_id)?;
        // Which statements link to the head, in one pass up from it (following every
        // statement's parents down on its own would cost a pass per statement). A statement
        // links through the first statement below with its parent's hash.
        let mut linked: Vec<(&Height, Vec<bool>)> = Vec::new();
        for ((&number, height), expected) in heights.range(rollup.head + 1..).zip(rollup.head + 1..)
        {
            if number != expected {
                break;
            }
            let links: Vec<bool> = height
                .statements
                .iter()
                .map(|x| {
                    let parent = x.statement.parent_hash;
                    match linked.last() {
                        None => rollup.head_hash.is_none_or(|head| head == parent),
                        Some((below, ok)) => below
                            .statements
                            .iter()
                            .position(|y| y.statement.block_hash == parent)
                            .is_some_and(|i| ok[i]),
                    }
                })
                .collect();
            if !links.contains(&true) {
                break;
            }
            linked.push((height, links));
        }
        let ops = &view.operators;
        let total = ops.total_stake();
        for (height, links) in linked.iter().rev() {
            for (signed, _) in height.statements.iter().zip(links).filter(|(_, ok)| **ok) {
                let stake = ops.stake_of(signed.signatures.keys());
                if !stake.is_zero()
                    && stake * U256::from(10_000) >= total * U256::from(rollup.threshold_bps)
                {
                    return Some(Candidate {
                        statement: signed.statement,
                        signers: signed
                            .signatures
                            .iter()
                            .filter(|(h, _)| ops.is_active(h))
                            .map(|(_, pair)| *pair)
                            .collect(),
                        signed_stake: stake,
                    });
                }
            }
        }
        None
    }

    /// For the status page: per rollup, the highest attested height and the best progress there.
    pub fn summary(&self, view: &L1View) -> BTreeMap<u64, (u64, u32)> {
        self.rollups
            .iter()
            .filter_map(|(id, heights)| {
                let (&number, height) = heights.iter().next_back()?;
                let best = height
                    .statements
                    .iter()
                    .map(|s| self.progress_bps(&s.statement, view))
                    .max()
                    .unwrap_or(0);
                Some((*id, (number, best)))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::l1::Rollup;
    use alloy::primitives::{Address, keccak256};
    use surety_primitives::SecretKey;

    const GENESIS: B256 = B256::repeat_byte(0xee);

    /// Four operators with stakes 10, 20, 30, 40 and one rollup at `head` (threshold 66.67%).
    fn setup(head: u64, head_hash: Option<B256>) -> (Vec<SecretKey>, L1View) {
        let keys: Vec<SecretKey> = (1..=4u8).map(|i| SecretKey::from_ikm(&[i; 32])).collect();
        let mut view = L1View::default();
        for (i, key) in keys.iter().enumerate() {
            let pk = key.public_key();
            view.operators
                .register_key(Address::repeat_byte(i as u8), pk);
            view.operators
                .update_stake(pk.key_hash(), true, U256::from(10 * (i + 1)));
        }
        view.rollups.insert(
            1,
            Rollup {
                threshold_bps: 6_667,
                paused: false,
                head,
                head_hash,
            },
        );
        (keys, view)
    }

    fn chain(from: B256, numbers: std::ops::RangeInclusive<u64>, tag: &str) -> Vec<Statement> {
        let mut parent = from;
        numbers
            .map(|n| {
                let s = Statement {
                    rollup_id: 1,
                    block_number: n,
                    block_hash: keccak256(format!("{tag} {n}")),
                    parent_hash: parent,
                    state_root: keccak256(format!("{tag} root {n}")),
                };
                parent = s.block_hash;
                s
            })
            .collect()
    }

    fn sign(pool: &mut Pool, keys: &[SecretKey], signers: &[usize], s: &Statement) {
        for &i in signers {
            let a = Attestation {
                statement: *s,
                public_key: keys[i].public_key(),
                signature: keys[i].sign(&[0; 32]),
            };
            assert_eq!(pool.check(s, &a.public_key.key_hash()), Seen::New);
            pool.insert(&a, a.public_key.key_hash());
        }
    }

    #[test]
    fn the_newest_linked_statement_with_quorum_is_chosen() {
        let (keys, view) = setup(0, Some(GENESIS));
        let mut pool = Pool::default();
        let main = chain(GENESIS, 1..=4, "main");
        for s in &main[..3] {
            sign(&mut pool, &keys, &[1, 2, 3], s); // 90%
        }
        sign(&mut pool, &keys, &[0, 1, 2], &main[3]); // 60%: below
        assert_eq!(pool.progress_bps(&main[3], &view), 6_000);
        let c = pool.candidate(1, &view).unwrap();
        assert_eq!(c.statement, main[2]);
        assert_eq!(c.signers.len(), 3);
        assert_eq!(c.signed_stake, U256::from(90));

        // A fork at 5 with quorum whose parent nobody attested does not link.
        let orphan = chain(keccak256("unknown"), 5..=5, "orphan");
        sign(&mut pool, &keys, &[0, 1, 2, 3], &orphan[0]);
        assert_eq!(pool.candidate(1, &view).unwrap().statement, main[2]);

        // Double signing is seen as a conflict, duplicates as duplicates.
        let key = keys[1].public_key().key_hash();
        assert_eq!(pool.check(&main[0], &key), Seen::Duplicate);
        let other = chain(GENESIS, 1..=1, "other")[0];
        assert!(matches!(pool.check(&other, &key), Seen::Conflict(s, _) if s == main[0]));
    }

    #[test]
    fn a_wrong_parent_for_the_head_or_inactive_signers_block_a_certificate() {
        let (keys, mut view) = setup(0, Some(B256::repeat_byte(1)));
        let mut pool = Pool::default();
        let main = chain(GENESIS, 1..=1, "main");
        sign(&mut pool, &keys, &[0, 1, 2, 3], &main[0]);
        assert!(pool.candidate(1, &view).is_none(), "parent is not the head");
        view.rollups.get_mut(&1).unwrap().head_hash = None;
        assert!(
            pool.candidate(1, &view).is_some(),
            "unknown head hash links anything"
        );
        // Operator 3 (40%) leaves the set: its signature no longer counts or goes in.
        view.operators
            .update_stake(keys[3].public_key().key_hash(), false, U256::ZERO);
        let c = pool.candidate(1, &view).unwrap();
        assert_eq!(c.signers.len(), 3);
        // Once certified, a height is no candidate; it is kept a while, so a head that falls
        // back (its certificate proven faulty) can be certified again from what is held.
        view.rollups.get_mut(&1).unwrap().head = 1;
        pool.prune(&view);
        assert!(pool.candidate(1, &view).is_none());
        view.rollups.get_mut(&1).unwrap().head = 0;
        assert_eq!(pool.candidate(1, &view).unwrap().statement, main[0]);
        // Far enough below the head it is forgotten.
        view.rollups.get_mut(&1).unwrap().head = 1 + RETAINED_BELOW_HEAD;
        pool.prune(&view);
        assert_eq!(
            pool.check(&main[0], &keys[0].public_key().key_hash()),
            Seen::New
        );
    }
}
