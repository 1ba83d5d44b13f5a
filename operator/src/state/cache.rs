//! Hot accounts and storage slots of the committed state, in memory: the EVM reads the same
//! senders, tokens and counters block after block, and each read would otherwise be a redb
//! B-tree lookup.
//!
//! The cache always describes exactly one committed state, named by a generation. A reader
//! records the generation when it opens its snapshot and uses (and fills) the cache only while
//! the generation is unchanged; every commit that changes the state tables first withdraws the
//! generation (readers fall back to their snapshot), then, once redb has committed, writes the
//! block's new values through and names a new generation. A rollback or a failed commit empties
//! the cache. Negative entries (an absent account or slot) are cached too: anvil's rules ask for
//! them on every loaded slot.
//!
//! Bounded by two generations of recency: entries live in a hot map; when it is full it becomes
//! the cold map (the previous cold map is dropped) and a hit in the cold map moves the entry back
//! to the hot one. At most twice [`ACCOUNTS`] accounts and twice [`SLOTS`] slots are held.

use alloy_primitives::{
    Address, FixedBytes, U256,
    map::{FbBuildHasher, HashMap},
};
use std::{
    hash::{BuildHasher, Hash},
    sync::{Mutex, MutexGuard, PoisonError},
};

use super::AccountRecord;

/// Accounts per recency generation (~140 bytes each).
const ACCOUNTS: usize = 1 << 15;
/// Slots per recency generation (~100 bytes each).
const SLOTS: usize = 1 << 17;

/// `address (20) ‖ slot (32)`, the `storage` table's key.
pub(crate) type SlotKey = FixedBytes<52>;

/// What a committed block changed, written through to the cache after its commit.
#[derive(Debug, Default)]
pub(crate) struct CacheUpdate {
    /// Some account's storage was wiped: every cached slot is dropped before `slots` apply.
    pub(crate) wiped: bool,
    pub(crate) accounts: Vec<(Address, Option<AccountRecord>)>,
    pub(crate) slots: Vec<(SlotKey, Option<U256>)>,
}

#[derive(Debug, Default)]
pub(crate) struct StateCache {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// The committed state the entries describe; `None` while a commit is in flight.
    generation: Option<u64>,
    last_generation: u64,
    accounts: Recent<Address, Option<AccountRecord>, FbBuildHasher<20>>,
    slots: Recent<SlotKey, Option<U256>, FbBuildHasher<52>>,
}

impl StateCache {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The generation of the committed state, to take *before* opening a read snapshot: if a
    /// commit lands in between, the generation has already moved and the reader bypasses the
    /// cache. `None` while a commit is in flight.
    pub(crate) fn generation(&self) -> Option<u64> {
        self.lock().generation
    }

    /// The cached account at `generation`: `Some(None)` is a cached absence.
    pub(crate) fn account(
        &self,
        generation: Option<u64>,
        address: &Address,
    ) -> Option<Option<AccountRecord>> {
        let mut inner = self.lock();
        (generation.is_some() && inner.generation == generation)
            .then(|| inner.accounts.get(address, ACCOUNTS))
            .flatten()
    }

    /// Remembers an account read from the snapshot of `generation`.
    pub(crate) fn fill_account(
        &self,
        generation: Option<u64>,
        address: Address,
        record: Option<AccountRecord>,
    ) {
        let mut inner = self.lock();
        if generation.is_some() && inner.generation == generation {
            inner.accounts.insert(address, record, ACCOUNTS);
        }
    }

    /// The cached slot at `generation`: `Some(None)` is a cached absence.
    pub(crate) fn slot(&self, generation: Option<u64>, key: &SlotKey) -> Option<Option<U256>> {
        let mut inner = self.lock();
        (generation.is_some() && inner.generation == generation)
            .then(|| inner.slots.get(key, SLOTS))
            .flatten()
    }

    /// Remembers a slot read from the snapshot of `generation`.
    pub(crate) fn fill_slot(&self, generation: Option<u64>, key: SlotKey, value: Option<U256>) {
        let mut inner = self.lock();
        if generation.is_some() && inner.generation == generation {
            inner.slots.insert(key, value, SLOTS);
        }
    }

    /// Withdraws the generation: called before a commit that changes the state tables.
    pub(crate) fn begin_commit(&self) {
        self.lock().generation = None;
    }

    /// The commit landed: writes its changes through and names the new state.
    pub(crate) fn committed(&self, update: CacheUpdate) {
        let mut inner = self.lock();
        if update.wiped {
            inner.slots.clear();
        }
        for (address, record) in update.accounts {
            inner.accounts.set(address, record, ACCOUNTS);
        }
        for (key, value) in update.slots {
            inner.slots.set(key, value, SLOTS);
        }
        inner.next_generation();
    }

    /// Forgets everything (after a rollback or a failed commit) and names a new generation.
    pub(crate) fn reset(&self) {
        let mut inner = self.lock();
        inner.accounts.clear();
        inner.slots.clear();
        inner.next_generation();
    }
}

impl Inner {
    fn next_generation(&mut self) {
        self.last_generation += 1;
        self.generation = Some(self.last_generation);
    }
}

/// Two generations of recently used entries (see the module docs).
#[derive(Debug)]
struct Recent<K, V, S> {
    hot: HashMap<K, V, S>,
    cold: HashMap<K, V, S>,
}

impl<K, V, S: Default> Default for Recent<K, V, S> {
    fn default() -> Self {
        Self {
            hot: HashMap::default(),
            cold: HashMap::default(),
        }
    }
}

impl<K: Hash + Eq + Copy, V: Copy, S: BuildHasher + Default> Recent<K, V, S> {
    fn get(&mut self, key: &K, capacity: usize) -> Option<V> {
        if let Some(value) = self.hot.get(key) {
            return Some(*value);
        }
        let value = self.cold.remove(key)?;
        self.insert(*key, value, capacity);
        Some(value)
    }

    fn insert(&mut self, key: K, value: V, capacity: usize) {
        if self.hot.len() >= capacity && !self.hot.contains_key(&key) {
            self.cold = std::mem::take(&mut self.hot);
        }
        self.hot.insert(key, value);
    }

    /// Stores a newly committed value, shadowing any older one.
    fn set(&mut self, key: K, value: V, capacity: usize) {
        self.cold.remove(&key);
        self.insert(key, value, capacity);
    }

    fn clear(&mut self) {
        self.hot = HashMap::default();
        self.cold = HashMap::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(n: u8) -> SlotKey {
        SlotKey::repeat_byte(n)
    }

    #[test]
    fn readers_use_the_cache_only_at_their_generation() {
        let cache = StateCache::default();
        cache.reset();
        let before = cache.generation();
        cache.fill_slot(before, slot(1), Some(U256::from(7)));
        assert_eq!(cache.slot(before, &slot(1)), Some(Some(U256::from(7))));
        assert_eq!(cache.slot(before, &slot(2)), None);

        // While a commit is in flight nobody reads or fills the cache.
        cache.begin_commit();
        assert_eq!(cache.generation(), None);
        assert_eq!(cache.slot(before, &slot(1)), None);
        cache.fill_slot(before, slot(3), None);
        cache.committed(CacheUpdate {
            slots: vec![(slot(1), None)],
            ..CacheUpdate::default()
        });

        // The old reader is locked out, a new one sees the committed values.
        let after = cache.generation();
        assert_ne!(after, before);
        assert_eq!(cache.slot(before, &slot(1)), None);
        assert_eq!(cache.slot(after, &slot(1)), Some(None));
        assert_eq!(cache.slot(after, &slot(3)), None, "filled while committing");
        cache.fill_slot(before, slot(4), Some(U256::from(1)));
        assert_eq!(
            cache.slot(after, &slot(4)),
            None,
            "filled from an old snapshot"
        );

        // A wipe drops every slot; a reset drops everything.
        cache.fill_slot(after, slot(5), Some(U256::from(5)));
        cache.begin_commit();
        cache.committed(CacheUpdate {
            wiped: true,
            ..CacheUpdate::default()
        });
        let wiped = cache.generation();
        assert_eq!(cache.slot(wiped, &slot(5)), None);
        cache.fill_account(wiped, Address::ZERO, None);
        assert_eq!(cache.account(wiped, &Address::ZERO), Some(None));
        cache.reset();
        assert_eq!(cache.account(cache.generation(), &Address::ZERO), None);
    }

    #[test]
    fn two_generations_bound_the_entries_and_keep_the_recent_ones() {
        let mut recent = Recent::<u32, u32, std::hash::RandomState>::default();
        for key in 0..10 {
            recent.insert(key, key, 4);
        }
        assert!(recent.hot.len() + recent.cold.len() <= 8);
        // The oldest are gone, the newest stay.
        assert_eq!(recent.get(&0, 4), None);
        assert_eq!(recent.get(&9, 4), Some(9));
        // A hit in the cold map survives the next rotation.
        let cold = *recent.cold.keys().next().unwrap();
        assert_eq!(recent.get(&cold, 4), Some(cold));
        assert!(recent.hot.contains_key(&cold));
        // A committed value shadows the older one in either map.
        recent.set(9, 90, 4);
        assert_eq!(recent.get(&9, 4), Some(90));
    }
}
