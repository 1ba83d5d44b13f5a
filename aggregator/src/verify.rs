//! Signature verification in batches, fair between connections.
//!
//! Every signature on one message is checked at once ([`verify_batch_hashed`]: random 64-bit
//! coefficients, two Miller loops and one final exponentiation whatever the batch size), with
//! `H(m)` hashed once per message and kept for later batches and halves.
//!
//! Signatures from *trusted* connections (whose last call verified cleanly) are checked together
//! across connections and messages, in one check ([`verify_many`]: one Miller loop per set of
//! keys that signed the same messages, or per message or key, one final exponentiation): the hot
//! path. If it fails, each message's signatures are
//! checked at once, and if such a check fails, each connection's part is checked on its own; the parts that fail are queued as their
//! connection's work, and that connection is no longer trusted. Signatures from every other
//! connection (new ones, and ones that sent a bad signature) are queued per connection, grouped
//! by message, and checked one unit per connection in turn, a bounded number per round: a failed
//! unit is split in halves until each bad signature is isolated, so one forger costs
//! `O(log n)` checks per bad signature, pays for them from its own turns, and never makes the
//! good signatures beside it (or anyone else's) fail or wait behind its flood.

use std::{
    collections::{HashMap, VecDeque, hash_map::Entry},
    hash::Hash,
};

use alloy::primitives::{B256, map::B256Map};
use surety_primitives::{HashedMessage, PublicKey, Signature, verify_batch_hashed, verify_many};

/// `H(m)` of this many messages is kept; beyond, the cache starts over.
const HASH_CACHE: usize = 4_096;

/// One signature to check: the 32-byte message, the key (and its hash, which names it) and the
/// signature.
#[derive(Debug, Clone, Copy)]
pub struct Item {
    pub message: B256,
    pub public_key: PublicKey,
    pub key_hash: B256,
    pub signature: Signature,
}

/// Counters of the work done.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Work {
    /// Batch checks (a batch of one included).
    pub batch_checks: u64,
    /// Signatures found invalid.
    pub invalid: u64,
}

/// A message and the trusted connections' signatures on it.
type Group<P, T> = (B256, Vec<(P, T, Item)>);

/// Signatures on one message from one connection, checked together.
struct Unit<T> {
    message: B256,
    members: Vec<(T, Item)>,
}

/// The verification state: cached message hashes and the untrusted connections' queued work.
/// `P` names a connection, `T` an item to the caller.
pub struct Verifier<P, T> {
    hashes: HashMap<B256, HashedMessage>,
    queues: HashMap<P, VecDeque<Unit<T>>>,
    /// Connections with queued units, in turn order.
    turns: VecDeque<P>,
    pub work: Work,
}

impl<P: Copy + Eq + Hash, T: Copy> Default for Verifier<P, T> {
    fn default() -> Self {
        Self {
            hashes: HashMap::new(),
            queues: HashMap::new(),
            turns: VecDeque::new(),
            work: Work::default(),
        }
    }
}

impl<P: Copy + Eq + Hash, T: Copy> Verifier<P, T> {
    /// Whether no connection has queued work.
    pub fn is_idle(&self) -> bool {
        self.turns.is_empty()
    }

    /// Checks trusted connections' signatures, all messages' batches now. Reports each item's
    /// validity to `verdict`, except the failed parts, which are queued as their connections'
    /// work; returns those connections, which are no longer to be trusted.
    pub fn check_trusted(
        &mut self,
        items: impl IntoIterator<Item = (P, T, Item)>,
        verdict: &mut impl FnMut(T, bool),
    ) -> Vec<P> {
        let mut groups: Vec<Group<P, T>> = Vec::new();
        let mut index: HashMap<B256, usize> = HashMap::new();
        for (peer, tag, item) in items {
            let i = *index.entry(item.message).or_insert_with(|| {
                groups.push((item.message, Vec::new()));
                groups.len() - 1
            });
            groups[i].1.push((peer, tag, item));
        }
        let mut failed: Vec<P> = Vec::new();
        if self.check_all(&groups) {
            for (_, tag, _) in groups.into_iter().flat_map(|(_, members)| members) {
                verdict(tag, true);
            }
            return failed;
        }
        for (message, mut members) in groups {
            // A connection caught in an earlier group waits in its own queue with the rest.
            members.retain(|(peer, tag, item)| {
                let caught = failed.contains(peer);
                if caught {
                    self.push_back(*peer, message, vec![(*tag, *item)]);
                }
                !caught
            });
            if members.is_empty() || self.check(message, members.iter().map(|m| &m.2)) {
                for (_, tag, _) in members {
                    verdict(tag, true);
                }
                continue;
            }
            let mut parts: Vec<(P, Vec<(T, Item)>)> = Vec::new();
            for (peer, tag, item) in members {
                match parts.iter_mut().find(|(p, _)| *p == peer) {
                    Some((_, part)) => part.push((tag, item)),
                    None => parts.push((peer, vec![(tag, item)])),
                }
            }
            let alone = parts.len() == 1;
            for (peer, part) in parts {
                if !alone && self.check(message, part.iter().map(|m| &m.1)) {
                    for (tag, _) in part {
                        verdict(tag, true);
                    }
                    continue;
                }
                if !failed.contains(&peer) {
                    failed.push(peer);
                }
                self.failed(
                    peer,
                    Unit {
                        message,
                        members: part,
                    },
                    verdict,
                );
            }
        }
        failed
    }

    /// Queues an untrusted connection's signatures, one unit per message.
    pub fn enqueue(&mut self, peer: P, items: impl IntoIterator<Item = (T, Item)>) {
        let mut units: Vec<Unit<T>> = Vec::new();
        for (tag, item) in items {
            match units.iter_mut().find(|u| u.message == item.message) {
                Some(unit) => unit.members.push((tag, item)),
                None => units.push(Unit {
                    message: item.message,
                    members: vec![(tag, item)],
                }),
            }
        }
        for unit in units {
            self.push_back(peer, unit.message, unit.members);
        }
    }

    /// Runs at most `budget` checks of queued units, one per connection in turn, and reports
    /// each item decided to `verdict` with its connection.
    pub fn run_queued(&mut self, budget: usize, verdict: &mut impl FnMut(P, T, bool)) {
        for _ in 0..budget {
            let Some(peer) = self.turns.pop_front() else {
                return;
            };
            let Some(unit) = self.queues.get_mut(&peer).and_then(VecDeque::pop_front) else {
                continue;
            };
            if self.check(unit.message, unit.members.iter().map(|m| &m.1)) {
                for (tag, _) in unit.members {
                    verdict(peer, tag, true);
                }
            } else {
                self.failed(peer, unit, &mut |tag, ok| verdict(peer, tag, ok));
            }
            if self.queues.get(&peer).is_some_and(|q| !q.is_empty()) {
                self.turns.push_back(peer);
            } else {
                self.queues.remove(&peer);
            }
        }
    }

    /// A unit known to hold a bad signature: a single one is decided, a larger one is split
    /// and its halves go first in its connection's queue.
    fn failed(&mut self, peer: P, mut unit: Unit<T>, verdict: &mut impl FnMut(T, bool)) {
        if unit.members.len() == 1 {
            self.work.invalid += 1;
            verdict(unit.members[0].0, false);
            return;
        }
        let right = unit.members.split_off(unit.members.len() / 2);
        let queue = self.queue(peer);
        queue.push_front(Unit {
            message: unit.message,
            members: right,
        });
        queue.push_front(unit);
    }

    fn push_back(&mut self, peer: P, message: B256, members: Vec<(T, Item)>) {
        self.queue(peer).push_back(Unit { message, members });
    }

    fn queue(&mut self, peer: P) -> &mut VecDeque<Unit<T>> {
        match self.queues.entry(peer) {
            Entry::Occupied(queue) => queue.into_mut(),
            Entry::Vacant(slot) => {
                self.turns.push_back(peer);
                slot.insert(VecDeque::new())
            }
        }
    }

    /// `H(message)`, from the cache when it is there.
    fn hashed(&mut self, message: B256) -> HashedMessage {
        if self.hashes.len() >= HASH_CACHE && !self.hashes.contains_key(&message) {
            self.hashes.clear();
        }
        *self
            .hashes
            .entry(message)
            .or_insert_with(|| HashedMessage::new(&message.0))
    }

    /// Every group's signatures in one check.
    fn check_all(&mut self, groups: &[Group<P, T>]) -> bool {
        if groups.is_empty() {
            return true;
        }
        self.work.batch_checks += 1;
        let messages: Vec<HashedMessage> = groups.iter().map(|(m, _)| self.hashed(*m)).collect();
        let mut keys: Vec<PublicKey> = Vec::new();
        let mut key_index: B256Map<usize> = B256Map::default();
        let mut claims = Vec::with_capacity(groups.iter().map(|(_, g)| g.len()).sum());
        for (m, (_, members)) in groups.iter().enumerate() {
            for (_, _, item) in members {
                let k = *key_index.entry(item.key_hash).or_insert_with(|| {
                    keys.push(item.public_key);
                    keys.len() - 1
                });
                claims.push((m, k, item.signature));
            }
        }
        verify_many(&messages, &keys, &claims)
    }

    fn check<'a>(&mut self, message: B256, items: impl Iterator<Item = &'a Item>) -> bool {
        self.work.batch_checks += 1;
        let hashed = self.hashed(message);
        let (keys, signatures): (Vec<PublicKey>, Vec<Signature>) =
            items.map(|i| (i.public_key, i.signature)).unzip();
        verify_batch_hashed(&hashed, &keys, &signatures)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use surety_primitives::SecretKey;

    fn items(n: usize, message: B256) -> Vec<Item> {
        (0..n)
            .map(|i| {
                let key = SecretKey::from_ikm(&[u8::try_from(i).unwrap() + 1; 32]);
                Item {
                    message,
                    public_key: key.public_key(),
                    key_hash: key.public_key().key_hash(),
                    signature: key.sign(&message.0),
                }
            })
            .collect()
    }

    /// Runs queued work to the end; every item's verdict by tag.
    fn drain(v: &mut Verifier<u8, usize>, verdicts: &mut HashMap<usize, bool>) {
        while !v.is_idle() {
            v.run_queued(1, &mut |_, tag, ok| {
                assert!(verdicts.insert(tag, ok).is_none(), "decided twice");
            });
        }
    }

    #[test]
    fn trusted_signatures_take_one_check_per_round() {
        let mut all = items(16, B256::repeat_byte(1));
        all.extend(items(8, B256::repeat_byte(2)));
        let mut v = Verifier::<u8, usize>::default();
        let mut verdicts = HashMap::new();
        // Two connections, interleaved.
        let failed = v.check_trusted(
            all.iter()
                .enumerate()
                .map(|(i, item)| (i as u8 % 2, i, *item)),
            &mut |tag, ok| {
                verdicts.insert(tag, ok);
            },
        );
        assert!(failed.is_empty());
        assert_eq!(verdicts.len(), 24);
        assert!(verdicts.values().all(|ok| *ok));
        assert_eq!(
            v.work,
            Work {
                batch_checks: 1,
                invalid: 0
            }
        );
        assert!(v.is_idle());
    }

    #[test]
    fn bisection_attributes_each_bad_signature_to_its_connection() {
        let message = B256::repeat_byte(1);
        let mut all = items(32, message);
        // A signature on another message, and a swapped pair (each valid for the other key),
        // all from connection 1; the rest from connection 0.
        all[5].signature = items(1, B256::repeat_byte(9))[0].signature;
        let (a, b) = (all[20].signature, all[21].signature);
        all[20].signature = b;
        all[21].signature = a;
        let bad = [5, 20, 21];
        let peer = |i: usize| u8::from(bad.contains(&i) || i > 28);
        let mut v = Verifier::<u8, usize>::default();
        let mut verdicts = HashMap::new();
        let failed = v.check_trusted(
            all.iter().enumerate().map(|(i, item)| (peer(i), i, *item)),
            &mut |tag, ok| {
                verdicts.insert(tag, ok);
            },
        );
        assert_eq!(failed, vec![1]);
        // Connection 0's signatures are decided in the round; connection 1's are queued.
        assert_eq!(verdicts.len(), 32 - 6);
        assert!(verdicts.values().all(|ok| *ok));
        drain(&mut v, &mut verdicts);
        for (i, ok) in verdicts {
            assert_eq!(ok, !bad.contains(&i), "item {i}");
        }
        assert_eq!(v.work.invalid, 3);
        // Far fewer checks than one per signature.
        assert!(v.work.batch_checks < 16, "{:?}", v.work);
    }

    #[test]
    fn a_flooding_connection_does_not_delay_another_ones_turn() {
        let message = B256::repeat_byte(1);
        let mut forged = items(64, message);
        let stranger = items(1, B256::repeat_byte(7))[0].signature;
        for item in &mut forged {
            item.signature = stranger;
        }
        let mut v = Verifier::<u8, usize>::default();
        // The flooder queues first, with 64 forgeries on one message and 16 on others.
        v.enqueue(0, forged.iter().copied().enumerate());
        let others = (0..16).map(|i| {
            let mut item = items(1, B256::with_last_byte(i + 100))[0];
            item.signature = stranger;
            (1_000 + usize::from(i), item)
        });
        v.enqueue(0, others);
        let honest = items(4, B256::repeat_byte(2));
        v.enqueue(
            1,
            honest
                .iter()
                .copied()
                .enumerate()
                .map(|(i, x)| (10_000 + i, x)),
        );
        // Two checks: the flooder's first, then the honest connection's, which passes.
        let mut verdicts = HashMap::new();
        v.run_queued(2, &mut |peer, tag, ok| {
            verdicts.insert(tag, (peer, ok));
        });
        assert_eq!(verdicts.len(), 4);
        assert!(verdicts.values().all(|v| *v == (1, true)));
        let mut rest = HashMap::new();
        drain(&mut v, &mut rest);
        assert_eq!(rest.len(), 64 + 16);
        assert!(rest.values().all(|ok| !ok));
    }
}
