//! Reads of the committed state for the EVM (revm's `DatabaseRef`).

use alloy_primitives::{Address, B256, U256, keccak256};
use alloy_trie::{EMPTY_ROOT_HASH, KECCAK_EMPTY};
use redb::{ReadOnlyTable, ReadTransaction, ReadableTable};
use revm::{
    database::DatabaseRef,
    state::{AccountInfo, Bytecode},
};

use std::sync::{Arc, Mutex, PoisonError};

use super::{
    ACCOUNTS, AccountRecord, AccountState, CODE, CodeCache, HEADERS, STORAGE, StateError,
    StateSource,
    cache::{SlotKey, StateCache},
    db_err, trie, trie_account,
};

/// One account of [`StateReader::dump`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DumpedAccount {
    pub(crate) address: Address,
    pub(crate) state: AccountState,
    pub(crate) storage: Vec<(U256, U256)>,
}

/// A consistent snapshot of the committed state (one redb read transaction), read through the
/// store's hot account and slot cache while the cache describes the same state.
pub struct StateReader {
    accounts: ReadOnlyTable<&'static [u8], &'static [u8]>,
    storage: ReadOnlyTable<&'static [u8], &'static [u8]>,
    code: ReadOnlyTable<&'static [u8], &'static [u8]>,
    headers: ReadOnlyTable<u64, &'static [u8]>,
    code_cache: Arc<Mutex<CodeCache>>,
    cache: Arc<StateCache>,
    /// The cache generation taken before the snapshot was opened.
    generation: Option<u64>,
}

impl std::fmt::Debug for StateReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateReader").finish_non_exhaustive()
    }
}

impl StateReader {
    pub(crate) fn new(
        txn: ReadTransaction,
        code_cache: Arc<Mutex<CodeCache>>,
        cache: Arc<StateCache>,
        generation: Option<u64>,
    ) -> Result<Self, StateError> {
        Ok(Self {
            accounts: txn.open_table(ACCOUNTS).map_err(db_err)?,
            storage: txn.open_table(STORAGE).map_err(db_err)?,
            code: txn.open_table(CODE).map_err(db_err)?,
            headers: txn.open_table(HEADERS).map_err(db_err)?,
            code_cache,
            cache,
            generation,
        })
    }

    pub(crate) fn account(&self, address: Address) -> Result<Option<AccountRecord>, StateError> {
        if let Some(record) = self.cache.account(self.generation, &address) {
            return Ok(record);
        }
        let record = self
            .accounts
            .get(address.as_slice())
            .map_err(db_err)?
            .map(|v| AccountRecord::decode(v.value()))
            .transpose()?;
        self.cache.fill_account(self.generation, address, record);
        Ok(record)
    }

    /// The stored value of a slot (`None`: no entry).
    fn slot(&self, address: Address, slot: U256) -> Result<Option<U256>, StateError> {
        let key = SlotKey::from(storage_key(address, slot));
        if let Some(value) = self.cache.slot(self.generation, &key) {
            return Ok(value);
        }
        let value = self
            .storage
            .get(key.as_slice())
            .map_err(db_err)?
            .map(|v| U256::from_be_slice(v.value()));
        self.cache.fill_slot(self.generation, key, value);
        Ok(value)
    }

    /// Every account with its stored slots, in address order (fixture checks; O(state)).
    pub(crate) fn dump(&self) -> Result<Vec<DumpedAccount>, StateError> {
        let mut out = Vec::new();
        for entry in self.accounts.iter().map_err(db_err)? {
            let (address, record) = entry.map_err(db_err)?;
            let address = Address::from_slice(address.value());
            let state = AccountRecord::decode(record.value())?.state;
            let mut storage = Vec::new();
            for entry in self.storage.range(address.as_slice()..).map_err(db_err)? {
                let (key, value) = entry.map_err(db_err)?;
                let key = key.value();
                if !key.starts_with(address.as_slice()) {
                    break;
                }
                storage.push((
                    U256::from_be_slice(&key[20..]),
                    U256::from_be_slice(value.value()),
                ));
            }
            out.push(DumpedAccount {
                address,
                state,
                storage,
            });
        }
        Ok(out)
    }

    /// The state root recomputed from the flat tables, ignoring the stored trie nodes.
    pub(crate) fn full_state_root(&self) -> Result<B256, StateError> {
        let mut leaves = Vec::new();
        for entry in self.accounts.iter().map_err(db_err)? {
            let (address, record) = entry.map_err(db_err)?;
            let address = Address::from_slice(address.value());
            let mut record = AccountRecord::decode(record.value())?;
            let mut slots = Vec::new();
            for entry in self.storage.range(address.as_slice()..).map_err(db_err)? {
                let (key, value) = entry.map_err(db_err)?;
                let key = key.value();
                if !key.starts_with(address.as_slice()) {
                    break;
                }
                let value = U256::from_be_slice(value.value());
                slots.push((keccak256(&key[20..]), alloy_rlp::encode(value)));
            }
            record.storage_root = if slots.is_empty() {
                EMPTY_ROOT_HASH
            } else {
                trie::root_of(slots)
            };
            leaves.push((keccak256(address), alloy_rlp::encode(trie_account(&record))));
        }
        Ok(trie::root_of(leaves))
    }
}

impl StateSource for StateReader {
    fn has_slot(&self, address: Address, slot: U256) -> Result<bool, StateError> {
        Ok(self.slot(address, slot)?.is_some())
    }
}

impl DatabaseRef for StateReader {
    type Error = StateError;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, StateError> {
        Ok(self.account(address)?.map(|record| record.state.info()))
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode, StateError> {
        if code_hash == KECCAK_EMPTY {
            return Ok(Bytecode::default());
        }
        let cache = || {
            self.code_cache
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
        };
        if let Some(code) = cache().get(&code_hash) {
            return Ok(code);
        }
        let code = self.code.get(code_hash.as_slice()).map_err(db_err)?;
        let code = code.ok_or(StateError::Corrupt("code"))?;
        let code = Bytecode::new_raw(code.value().to_vec().into());
        cache().insert(code_hash, code.clone());
        Ok(code)
    }

    fn storage_ref(&self, address: Address, index: U256) -> Result<U256, StateError> {
        Ok(self.slot(address, index)?.unwrap_or_default())
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256, StateError> {
        let record = self.headers.get(number).map_err(db_err)?;
        // BLOCKHASH of an unknown block is zero, as in every client.
        Ok(record.map_or(B256::ZERO, |r| B256::from_slice(&r.value()[..32])))
    }
}

pub(crate) fn storage_key(address: Address, slot: U256) -> [u8; 52] {
    let mut key = [0u8; 52];
    key[..20].copy_from_slice(address.as_slice());
    key[20..].copy_from_slice(&slot.to_be_bytes::<32>());
    key
}
