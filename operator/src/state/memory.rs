//! An in-memory [`StateSource`]: the state with no trie and no disk, for measuring what block
//! execution alone costs (the engine benchmark's limit) and for tests.

use alloy_primitives::{Address, B256, U256};
use alloy_trie::KECCAK_EMPTY;
use revm::{
    database::DatabaseRef,
    state::{AccountInfo, Bytecode},
};
use std::collections::HashMap;

use super::{AccountState, StateChanges, StateError, StateSource};

/// Accounts, storage, code and block hashes in hash maps; blocks are applied with
/// [`MemoryState::apply`].
#[derive(Debug, Default, Clone)]
pub struct MemoryState {
    accounts: HashMap<Address, AccountState>,
    storage: HashMap<(Address, U256), U256>,
    code: HashMap<B256, Bytecode>,
    block_hashes: HashMap<u64, B256>,
}

impl MemoryState {
    /// Applies block `number` (with hash `hash`) on top of the current state, as the store does:
    /// a deleted account's storage goes with it.
    pub fn apply(&mut self, number: u64, hash: B256, changes: &StateChanges) {
        self.block_hashes.insert(number, hash);
        for (code_hash, code) in &changes.contracts {
            self.code.insert(*code_hash, code.clone());
        }
        for change in &changes.accounts {
            if change.wipe_storage || change.info.is_none() {
                self.storage
                    .retain(|(address, _), _| *address != change.address);
            }
            let Some(info) = change.info else {
                self.accounts.remove(&change.address);
                continue;
            };
            self.accounts.insert(change.address, info);
            for (slot, value) in &change.storage {
                match value {
                    Some(value) => self.storage.insert((change.address, *slot), *value),
                    None => self.storage.remove(&(change.address, *slot)),
                };
            }
        }
    }
}

impl DatabaseRef for MemoryState {
    type Error = StateError;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, StateError> {
        Ok(self.accounts.get(&address).map(AccountState::info))
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode, StateError> {
        if code_hash == KECCAK_EMPTY {
            return Ok(Bytecode::default());
        }
        self.code
            .get(&code_hash)
            .cloned()
            .ok_or(StateError::Corrupt("code"))
    }

    fn storage_ref(&self, address: Address, index: U256) -> Result<U256, StateError> {
        Ok(self
            .storage
            .get(&(address, index))
            .copied()
            .unwrap_or_default())
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256, StateError> {
        Ok(self.block_hashes.get(&number).copied().unwrap_or_default())
    }
}

impl StateSource for MemoryState {
    fn has_slot(&self, address: Address, slot: U256) -> Result<bool, StateError> {
        Ok(self.storage.contains_key(&(address, slot)))
    }
}
