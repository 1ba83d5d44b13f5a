//! The per-block undo journal: every write to a state table records the value it replaced, so a
//! reorg can restore the exact prior bytes (flat state and trie nodes alike).
//!
//! Encoding, one entry after another: `tag (1) ‖ key len (2, BE) ‖ key ‖ 0 | 1 ‖ [old len (4, BE)
//! ‖ old value]` — `0` means the key did not exist before the block.

use alloy_primitives::B256;
use alloy_trie::Nibbles;
use redb::{ReadableTable, Table, TableDefinition, WriteTransaction};

use super::{ACCOUNTS, STORAGE, StateError, TRIE, db_err, trie::NodeStore};

/// Which table a journal entry belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Tag {
    Accounts = 1,
    Storage = 2,
    Trie = 3,
}

impl Tag {
    fn table(self) -> TableDefinition<'static, &'static [u8], &'static [u8]> {
        match self {
            Self::Accounts => ACCOUNTS,
            Self::Storage => STORAGE,
            Self::Trie => TRIE,
        }
    }

    fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            1 => Some(Self::Accounts),
            2 => Some(Self::Storage),
            3 => Some(Self::Trie),
            _ => None,
        }
    }
}

type BytesTable<'t> = Table<'t, &'static [u8], &'static [u8]>;

#[derive(Debug, Default)]
pub(crate) struct Journal {
    bytes: Vec<u8>,
}

impl Journal {
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    fn record(&mut self, tag: Tag, key: &[u8], old: Option<&[u8]>) {
        self.bytes.push(tag as u8);
        // Keys are at most 32 + 64 bytes (trie paths), far below u16::MAX.
        self.bytes
            .extend_from_slice(&(key.len() as u16).to_be_bytes());
        self.bytes.extend_from_slice(key);
        match old {
            None => self.bytes.push(0),
            Some(old) => {
                self.bytes.push(1);
                self.bytes
                    .extend_from_slice(&(old.len() as u32).to_be_bytes());
                self.bytes.extend_from_slice(old);
            }
        }
    }

    pub(crate) fn insert(
        &mut self,
        table: &mut BytesTable<'_>,
        tag: Tag,
        key: &[u8],
        value: &[u8],
    ) -> Result<(), StateError> {
        let old = table.insert(key, value).map_err(db_err)?;
        let old = old.as_ref().map(|v| v.value());
        if old != Some(value) {
            self.record(tag, key, old);
        }
        Ok(())
    }

    pub(crate) fn remove(
        &mut self,
        table: &mut BytesTable<'_>,
        tag: Tag,
        key: &[u8],
    ) -> Result<(), StateError> {
        if let Some(old) = table.remove(key).map_err(db_err)? {
            self.record(tag, key, Some(old.value()));
        }
        Ok(())
    }

    /// Removes every key starting with `prefix`.
    pub(crate) fn remove_prefix(
        &mut self,
        table: &mut BytesTable<'_>,
        tag: Tag,
        prefix: &[u8],
    ) -> Result<(), StateError> {
        let mut removed = Vec::new();
        for entry in table.range(prefix..).map_err(db_err)? {
            let (key, value) = entry.map_err(db_err)?;
            if !key.value().starts_with(prefix) {
                break;
            }
            removed.push((key.value().to_vec(), value.value().to_vec()));
        }
        for (key, value) in removed {
            table.remove(key.as_slice()).map_err(db_err)?;
            self.record(tag, &key, Some(&value));
        }
        Ok(())
    }
}

/// Restores the state before the block whose journal is `bytes`.
pub(crate) fn undo(txn: &WriteTransaction, bytes: &[u8]) -> Result<(), StateError> {
    let mut entries = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let corrupt = StateError::Corrupt("undo");
        let (&tag, tail) = rest.split_first().ok_or(StateError::Corrupt("undo"))?;
        let tag = Tag::from_byte(tag).ok_or(StateError::Corrupt("undo"))?;
        let (key_len, tail) = tail
            .split_at_checked(2)
            .ok_or(StateError::Corrupt("undo"))?;
        let key_len = u16::from_be_bytes([key_len[0], key_len[1]]) as usize;
        let (key, tail) = tail
            .split_at_checked(key_len)
            .ok_or(StateError::Corrupt("undo"))?;
        let (&present, tail) = tail.split_first().ok_or(StateError::Corrupt("undo"))?;
        let (old, tail) = match present {
            0 => (None, tail),
            1 => {
                let (len, tail) = tail
                    .split_at_checked(4)
                    .ok_or(StateError::Corrupt("undo"))?;
                let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
                let (old, tail) = tail
                    .split_at_checked(len)
                    .ok_or(StateError::Corrupt("undo"))?;
                (Some(old), tail)
            }
            _ => return Err(corrupt),
        };
        entries.push((tag, key, old));
        rest = tail;
    }
    let mut accounts = txn.open_table(Tag::Accounts.table()).map_err(db_err)?;
    let mut storage = txn.open_table(Tag::Storage.table()).map_err(db_err)?;
    let mut trie = txn.open_table(Tag::Trie.table()).map_err(db_err)?;
    // Newest first, so a key written twice in the block ends with its oldest value.
    for (tag, key, old) in entries.into_iter().rev() {
        let table = match tag {
            Tag::Accounts => &mut accounts,
            Tag::Storage => &mut storage,
            Tag::Trie => &mut trie,
        };
        match old {
            Some(old) => table.insert(key, old).map_err(db_err)?,
            None => table.remove(key).map_err(db_err)?,
        };
    }
    Ok(())
}

/// One trie's nodes in the `trie_nodes` table, with writes journaled.
pub(crate) struct TrieNodes<'a, 't> {
    table: &'a mut BytesTable<'t>,
    journal: &'a mut Journal,
    key: Vec<u8>,
}

impl<'a, 't> TrieNodes<'a, 't> {
    pub(crate) fn new(
        table: &'a mut BytesTable<'t>,
        journal: &'a mut Journal,
        owner: B256,
    ) -> Self {
        let mut key = Vec::with_capacity(32 + 64);
        key.extend_from_slice(owner.as_slice());
        Self {
            table,
            journal,
            key,
        }
    }

    fn key(&mut self, path: &Nibbles) -> &[u8] {
        self.key.truncate(32);
        self.key.extend(path.iter());
        &self.key
    }
}

impl NodeStore for TrieNodes<'_, '_> {
    fn get(&mut self, path: &Nibbles) -> Result<Option<Vec<u8>>, StateError> {
        self.key(path);
        Ok(self
            .table
            .get(self.key.as_slice())
            .map_err(db_err)?
            .map(|v| v.value().to_vec()))
    }

    fn put(&mut self, path: &Nibbles, rlp: &[u8]) -> Result<(), StateError> {
        self.key(path);
        self.journal.insert(self.table, Tag::Trie, &self.key, rlp)
    }

    fn delete(&mut self, path: &Nibbles) -> Result<(), StateError> {
        self.key(path);
        self.journal.remove(self.table, Tag::Trie, &self.key)
    }
}
