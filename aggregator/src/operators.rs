//! The Surety operator set as the `OperatorRegistry` records it: every registered key, whether it
//! is in the aggregate key, and its stake. Rebuilt from the registry's events (`KeyRegistered`,
//! `StakeUpdated`), which carry everything the checkpointed histories hold, so a snapshot taken
//! after the events of block `B` is exactly the set a certificate with reference block `B` is
//! verified against.

use std::collections::HashMap;

use alloy::primitives::{Address, B256, U256, map::B256Map};
use surety_primitives::PublicKey;

/// One registered operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operator {
    pub address: Address,
    pub public_key: PublicKey,
    /// In the aggregate key (registered for the operator set).
    pub active: bool,
    /// Slashable stake the registry last recorded (0 while inactive).
    pub stake: U256,
}

/// The operator set at the end of L1 block [`Self::block`].
#[derive(Debug, Clone, Default)]
pub struct OperatorSet {
    block: u64,
    by_hash: B256Map<Operator>,
    /// Keys as operators send them (compressed), for lookups without decoding.
    by_bytes: HashMap<[u8; 96], B256>,
    total: U256,
}

impl OperatorSet {
    pub fn block(&self) -> u64 {
        self.block
    }

    pub(crate) fn set_block(&mut self, block: u64) {
        self.block = block;
    }

    /// A `KeyRegistered` event.
    pub(crate) fn register_key(&mut self, address: Address, public_key: PublicKey) {
        let hash = public_key.key_hash();
        self.by_bytes.insert(public_key.to_bytes(), hash);
        self.by_hash.entry(hash).or_insert(Operator {
            address,
            public_key,
            active: false,
            stake: U256::ZERO,
        });
    }

    /// A `StakeUpdated` event (the registry emits one on activation, deactivation and refresh).
    pub(crate) fn update_stake(&mut self, key_hash: B256, active: bool, stake: U256) {
        if let Some(op) = self.by_hash.get_mut(&key_hash) {
            self.total = self.total - op.stake + stake;
            op.active = active;
            op.stake = stake;
        }
    }

    /// Every registered operator by key hash, active or not, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&B256, &Operator)> {
        self.by_hash.iter()
    }

    /// The operator with this key hash, active or not.
    pub fn get(&self, key_hash: &B256) -> Option<&Operator> {
        self.by_hash.get(key_hash)
    }

    /// The key hash of a registered key, from its compressed bytes.
    pub fn key_hash_of(&self, compressed: &[u8]) -> Option<B256> {
        let bytes: &[u8; 96] = compressed.try_into().ok()?;
        self.by_bytes.get(bytes).copied()
    }

    /// A registered key (validated when its event was read) and its hash, from its compressed
    /// bytes.
    pub fn key_by_bytes(&self, compressed: &[u8]) -> Option<(PublicKey, B256)> {
        let hash = self.key_hash_of(compressed)?;
        Some((self.by_hash.get(&hash)?.public_key, hash))
    }

    /// Whether `key_hash` is in the aggregate key.
    pub fn is_active(&self, key_hash: &B256) -> bool {
        self.by_hash.get(key_hash).is_some_and(|op| op.active)
    }

    /// Σ stake of the active operators (the registry's total stake).
    pub fn total_stake(&self) -> U256 {
        self.total
    }

    /// Keys of every active operator.
    pub fn active_keys(&self) -> Vec<PublicKey> {
        self.by_hash
            .values()
            .filter(|op| op.active)
            .map(|op| op.public_key)
            .collect()
    }

    /// Stake behind `signers` (inactive or unknown keys count nothing).
    pub fn stake_of<'a>(&self, signers: impl IntoIterator<Item = &'a B256>) -> U256 {
        signers
            .into_iter()
            .filter_map(|h| self.by_hash.get(h))
            .filter(|op| op.active)
            .map(|op| op.stake)
            .sum()
    }

    /// `stake` as basis points of the total stake (0 when nothing is staked).
    pub fn bps(&self, stake: U256) -> u32 {
        if self.total.is_zero() {
            return 0;
        }
        let bps = stake.saturating_mul(U256::from(10_000)) / self.total;
        u32::try_from(bps).unwrap_or(u32::MAX)
    }

    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }
}
