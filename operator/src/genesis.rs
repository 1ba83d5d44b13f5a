//! Bootstrap from a geth-style `genesis.json` (the file anvil's `--init` accepts).

use alloy::genesis::Genesis;
use alloy_eips::eip2935::{HISTORY_STORAGE_ADDRESS, HISTORY_STORAGE_CODE};
use alloy_primitives::{U256, keccak256};
use alloy_trie::KECCAK_EMPTY;
use revm::state::Bytecode;
use std::path::Path;

use crate::state::{AccountChange, AccountState, StateChanges};

/// Errors reading a genesis file.
#[derive(Debug, thiserror::Error)]
pub enum GenesisError {
    #[error("reading {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("parsing genesis JSON: {0}")]
    Parse(#[from] serde_json::Error),
}

/// A parsed genesis file.
#[derive(Debug, Clone)]
pub struct GenesisFile {
    pub genesis: Genesis,
}

impl GenesisFile {
    pub fn load(path: impl AsRef<Path>) -> Result<Self, GenesisError> {
        let path = path.as_ref();
        let json = std::fs::read_to_string(path).map_err(|source| GenesisError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&json)
    }

    pub fn parse(json: &str) -> Result<Self, GenesisError> {
        Ok(Self {
            genesis: serde_json::from_str(json)?,
        })
    }

    pub fn chain_id(&self) -> u64 {
        self.genesis.config.chain_id
    }

    /// The genesis state as changes to an empty store.
    ///
    /// With `history_contract`, the EIP-2935 block-hash history contract is added (nonce 0) when
    /// the file does not list it — anvil does this from Prague on, and its system call writes to it
    /// from block 1.
    pub fn state(&self, history_contract: bool) -> StateChanges {
        let mut changes = StateChanges::default();
        for (address, account) in &self.genesis.alloc {
            let code = account.code.as_ref().filter(|c| !c.is_empty());
            let code_hash = code.map_or(KECCAK_EMPTY, keccak256);
            if let Some(code) = code {
                changes
                    .contracts
                    .push((code_hash, Bytecode::new_raw(code.clone())));
            }
            let storage = account
                .storage
                .iter()
                .flatten()
                .map(|(slot, value)| (U256::from_be_bytes(slot.0), U256::from_be_bytes(value.0)))
                .filter(|(_, value)| !value.is_zero())
                .map(|(slot, value)| (slot, Some(value)))
                .collect();
            changes.accounts.push(AccountChange {
                address: *address,
                info: Some(AccountState {
                    nonce: account.nonce.unwrap_or_default(),
                    balance: account.balance,
                    code_hash,
                }),
                wipe_storage: false,
                storage,
            });
        }
        if history_contract && !self.genesis.alloc.contains_key(&HISTORY_STORAGE_ADDRESS) {
            let code_hash = keccak256(&HISTORY_STORAGE_CODE);
            changes
                .contracts
                .push((code_hash, Bytecode::new_raw(HISTORY_STORAGE_CODE.clone())));
            changes.accounts.push(AccountChange {
                address: HISTORY_STORAGE_ADDRESS,
                info: Some(AccountState {
                    nonce: 0,
                    balance: U256::ZERO,
                    code_hash,
                }),
                wipe_storage: false,
                storage: Vec::new(),
            });
        }
        changes
    }
}
