//! The parts of a BlockchainTest fixture the runner reads.

use alloy_primitives::{Address, B256, Bytes, U64, U256, keccak256};
use alloy_trie::KECCAK_EMPTY;
use revm::state::Bytecode;
use serde::Deserialize;
use std::collections::BTreeMap;

use crate::state::{AccountChange, AccountState, StateChanges};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Case {
    pub(super) network: String,
    pub(super) config: Option<Config>,
    pub(super) pre: BTreeMap<Address, FixtureAccount>,
    #[serde(rename = "genesisRLP")]
    pub(super) genesis_rlp: Bytes,
    pub(super) genesis_block_header: FixtureHeader,
    pub(super) blocks: Vec<FixtureBlock>,
    pub(super) post_state: Option<BTreeMap<Address, FixtureAccount>>,
    pub(super) post_state_hash: Option<B256>,
    pub(super) lastblockhash: B256,
}

#[derive(Debug, Deserialize)]
pub(super) struct Config {
    pub(super) chainid: U64,
}

#[derive(Debug, Deserialize)]
pub(super) struct FixtureHeader {
    pub(super) hash: B256,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct FixtureBlock {
    pub(super) rlp: Bytes,
    pub(super) expect_exception: Option<String>,
    pub(super) block_header: Option<FixtureHeader>,
}

#[derive(Debug, Deserialize)]
pub(super) struct FixtureAccount {
    pub(super) nonce: U64,
    pub(super) balance: U256,
    pub(super) code: Bytes,
    #[serde(default)]
    pub(super) storage: BTreeMap<U256, U256>,
}

/// The `pre` allocation as changes to an empty store.
pub(super) fn pre_state(pre: &BTreeMap<Address, FixtureAccount>) -> StateChanges {
    let mut changes = StateChanges::default();
    for (address, account) in pre {
        let code_hash = if account.code.is_empty() {
            KECCAK_EMPTY
        } else {
            let hash = keccak256(&account.code);
            changes
                .contracts
                .push((hash, Bytecode::new_raw(account.code.clone())));
            hash
        };
        changes.accounts.push(AccountChange {
            address: *address,
            info: Some(AccountState {
                nonce: account.nonce.to(),
                balance: account.balance,
                code_hash,
            }),
            wipe_storage: false,
            storage: account
                .storage
                .iter()
                .filter(|(_, value)| !value.is_zero())
                .map(|(slot, value)| (*slot, Some(*value)))
                .collect(),
        });
    }
    changes
}
