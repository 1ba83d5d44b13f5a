//! Blocks executed but not yet committed, layered over a committed snapshot: while block N's
//! state root is computed and committed, block N+1 executes on [`Layered`] — the snapshot plus
//! the pending blocks' changes in memory (see [`crate::execution::ExecutionKind::verify_chain`]).
//!
//! A layer is built by taking the pending list first and the snapshot second. A pending block
//! is dropped from the list only after its commit, so every block the snapshot lacks is in the
//! list; a block that committed in between is in both, which reads the same (its values are the
//! snapshot's or overwritten by a newer pending block).

use alloy_primitives::{Address, B256, U256, map::HashMap};
use alloy_trie::KECCAK_EMPTY;
use revm::{
    database::DatabaseRef,
    state::{AccountInfo, Bytecode},
};
use std::{collections::HashSet, sync::Arc};

use super::{AccountState, StateChanges, StateError, StateSource};

/// One executed block's changes, indexed for reads.
#[derive(Debug, Default)]
pub struct PendingBlock {
    number: u64,
    hash: B256,
    /// `None`: deleted in this block.
    accounts: HashMap<Address, Option<AccountState>>,
    /// Accounts whose storage this block wiped (destroyed, re-created or deleted): their slots
    /// not in `slots` are absent, whatever older layers hold.
    wiped: HashSet<Address>,
    /// `None`: deleted in this block.
    slots: HashMap<(Address, U256), Option<U256>>,
    code: HashMap<B256, Bytecode>,
}

impl PendingBlock {
    /// Indexes the changes of block `number` (hash `hash`).
    pub fn new(number: u64, hash: B256, changes: &StateChanges) -> Self {
        let mut block = Self {
            number,
            hash,
            ..Self::default()
        };
        block.code.extend(changes.contracts.iter().cloned());
        for change in &changes.accounts {
            let address = change.address;
            block.accounts.insert(address, change.info);
            if change.wipe_storage || change.info.is_none() {
                block.wiped.insert(address);
            }
            if change.info.is_some() {
                block.slots.extend(
                    change
                        .storage
                        .iter()
                        .map(|(slot, value)| ((address, *slot), *value)),
                );
            }
        }
        block
    }
}

/// `base` (a committed snapshot) with `pending` blocks on top, oldest first.
#[derive(Debug)]
pub struct Layered<S> {
    base: S,
    pending: Vec<Arc<PendingBlock>>,
}

impl<S: StateSource> Layered<S> {
    /// `pending` must be the blocks after some state at or below `base`'s, in order, up to the
    /// state to read (see the module docs for why redundant blocks are harmless).
    pub fn new(base: S, pending: Vec<Arc<PendingBlock>>) -> Self {
        Self { base, pending }
    }

    /// `Some(entry)` if a pending block decides the slot (`entry` `None`: no entry).
    fn pending_slot(&self, address: Address, slot: U256) -> Option<Option<U256>> {
        for block in self.pending.iter().rev() {
            if let Some(value) = block.slots.get(&(address, slot)) {
                return Some(*value);
            }
            if block.wiped.contains(&address) {
                return Some(None);
            }
        }
        None
    }
}

impl<S: StateSource> DatabaseRef for Layered<S> {
    type Error = StateError;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, StateError> {
        match self
            .pending
            .iter()
            .rev()
            .find_map(|b| b.accounts.get(&address))
        {
            Some(account) => Ok(account.as_ref().map(AccountState::info)),
            None => self.base.basic_ref(address),
        }
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode, StateError> {
        if code_hash == KECCAK_EMPTY {
            return Ok(Bytecode::default());
        }
        match self.pending.iter().find_map(|b| b.code.get(&code_hash)) {
            Some(code) => Ok(code.clone()),
            None => self.base.code_by_hash_ref(code_hash),
        }
    }

    fn storage_ref(&self, address: Address, index: U256) -> Result<U256, StateError> {
        match self.pending_slot(address, index) {
            Some(value) => Ok(value.unwrap_or_default()),
            None => self.base.storage_ref(address, index),
        }
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256, StateError> {
        match self.pending.iter().find(|block| block.number == number) {
            Some(block) => Ok(block.hash),
            None => self.base.block_hash_ref(number),
        }
    }
}

impl<S: StateSource> StateSource for Layered<S> {
    fn has_slot(&self, address: Address, slot: U256) -> Result<bool, StateError> {
        match self.pending_slot(address, slot) {
            Some(value) => Ok(value.is_some()),
            None => self.base.has_slot(address, slot),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{AccountChange, MemoryState};

    /// A small deterministic generator, so a failing sequence replays.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self, below: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % below
        }
    }

    fn random_block(rng: &mut Rng) -> StateChanges {
        let mut accounts = Vec::new();
        for a in 0..4u8 {
            if rng.next(3) == 0 {
                continue;
            }
            let info = (rng.next(5) != 0).then(|| AccountState {
                nonce: rng.next(10),
                balance: U256::from(rng.next(1_000)),
                code_hash: if rng.next(2) == 0 {
                    KECCAK_EMPTY
                } else {
                    B256::repeat_byte(a + 1)
                },
            });
            let storage = (0..rng.next(4))
                .map(|_| {
                    let value = (rng.next(3) != 0).then(|| U256::from(rng.next(3)));
                    (U256::from(rng.next(6)), value)
                })
                .collect();
            accounts.push(AccountChange {
                address: Address::repeat_byte(a),
                info,
                wipe_storage: rng.next(6) == 0,
                storage,
            });
        }
        let contracts = (rng.next(4) == 0)
            .then(|| {
                let code = Bytecode::new_raw(vec![0x60, rng.next(256) as u8].into());
                (code.hash_slow(), code)
            })
            .into_iter()
            .collect();
        StateChanges {
            accounts,
            contracts,
        }
    }

    fn assert_same_reads(layered: &Layered<&MemoryState>, expected: &MemoryState, context: &str) {
        for a in 0..4u8 {
            let address = Address::repeat_byte(a);
            assert_eq!(
                layered.basic_ref(address).unwrap(),
                expected.basic_ref(address).unwrap(),
                "{context}: account {a}"
            );
            for slot in 0..6u64 {
                let slot = U256::from(slot);
                assert_eq!(
                    layered.has_slot(address, slot).unwrap(),
                    expected.has_slot(address, slot).unwrap(),
                    "{context}: account {a} has slot {slot}"
                );
                assert_eq!(
                    layered.storage_ref(address, slot).unwrap(),
                    expected.storage_ref(address, slot).unwrap(),
                    "{context}: account {a} slot {slot}"
                );
            }
        }
        for number in 0..12 {
            assert_eq!(
                layered.block_hash_ref(number).unwrap(),
                expected.block_hash_ref(number).unwrap(),
                "{context}: hash of block {number}"
            );
        }
    }

    /// Reading through any number of pending blocks over any older snapshot — including blocks
    /// the snapshot already holds — reads exactly the state after the last block.
    #[test]
    fn layers_over_any_older_snapshot_read_as_the_applied_state() {
        for seed in 1..200u64 {
            let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
            let blocks: Vec<StateChanges> = (0..6).map(|_| random_block(&mut rng)).collect();
            let hash = |n: u64| B256::with_last_byte(n as u8 + 1);
            let mut states = vec![MemoryState::default()];
            for (i, changes) in blocks.iter().enumerate() {
                let mut next = states[i].clone();
                next.apply(i as u64 + 1, hash(i as u64 + 1), changes);
                states.push(next);
            }
            let pending: Vec<Arc<PendingBlock>> = blocks
                .iter()
                .enumerate()
                .map(|(i, changes)| {
                    Arc::new(PendingBlock::new(i as u64 + 1, hash(i as u64 + 1), changes))
                })
                .collect();
            // The state after block `tip`, from the snapshot after `base` and the pending blocks
            // from `from` on (`from <= base`: the blocks in between are redundant).
            for tip in 0..=blocks.len() {
                for base in 0..=tip {
                    for from in 0..=base {
                        let layered = Layered::new(&states[base], pending[from..tip].to_vec());
                        let context = format!("seed {seed}, tip {tip}, base {base}, from {from}");
                        assert_same_reads(&layered, &states[tip], &context);
                        for changes in &blocks[..tip] {
                            for (code_hash, code) in &changes.contracts {
                                assert_eq!(
                                    layered.code_by_hash_ref(*code_hash).unwrap(),
                                    *code,
                                    "{context}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}
