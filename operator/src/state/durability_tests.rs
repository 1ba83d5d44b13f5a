//! Blocks are committed without an fsync and synced in the background every
//! [`DURABLE_EVERY`] blocks: the announced (signable) head moves only with a sync, and a
//! rollback is never overtaken by the announcement of a sync that preceded it.

use alloy_consensus::Header;
use alloy_primitives::{Address, U256};
use std::time::Duration;

use super::{
    AccountChange, AccountState, DURABLE_EVERY, EMPTY_CODE_HASH, StateChanges, StateStore,
    StoredHeader, Verdict,
};

fn genesis() -> StateChanges {
    StateChanges {
        accounts: vec![AccountChange {
            address: Address::repeat_byte(1),
            info: Some(AccountState {
                nonce: 0,
                balance: U256::from(1),
                code_hash: EMPTY_CODE_HASH,
            }),
            ..AccountChange::default()
        }],
        contracts: Vec::new(),
    }
}

/// Appends empty blocks up to `to` (the state root stays the genesis root).
fn extend(store: &StateStore, to: u64) {
    let mut head = store.head().unwrap();
    while head.number < to {
        let header = Header {
            number: head.number + 1,
            parent_hash: head.hash,
            state_root: head.state_root,
            ..Header::default()
        };
        let hash = header.hash_slow();
        let verdict = store
            .apply_block(hash, &header, StateChanges::default(), Vec::new)
            .unwrap();
        assert_eq!(verdict, Verdict::Match(head.state_root));
        head = store.head().unwrap();
    }
}

/// Waits for the announced head to reach `number` (a sync thread that never announces it
/// fails the test instead of hanging it).
fn announced(store: &StateStore, number: u64) -> StoredHeader {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let mut heads = store.subscribe_head();
    runtime.block_on(async {
        let wait = heads.wait_for(|head| head.is_some_and(|head| head.number >= number));
        let head = tokio::time::timeout(Duration::from_secs(60), wait)
            .await
            .expect("the sync thread announces the group's last block")
            .unwrap();
        head.unwrap()
    })
}

#[test]
fn only_synced_blocks_are_announced() {
    let store = StateStore::in_memory().unwrap();
    store.bootstrap(&Header::default(), genesis()).unwrap();
    assert_eq!(store.durable_head().map(|h| h.number), Some(0));

    extend(&store, DURABLE_EVERY - 1);
    assert_eq!(store.head().unwrap().number, DURABLE_EVERY - 1);
    assert_eq!(
        store.durable_head().unwrap().number,
        0,
        "nothing synced yet"
    );

    extend(&store, DURABLE_EVERY + 2);
    let synced = announced(&store, DURABLE_EVERY);
    assert_eq!(synced, store.header(synced.number).unwrap().unwrap());
    assert!(synced.number <= DURABLE_EVERY + 2);

    store.flush().unwrap();
    assert_eq!(store.durable_head(), store.head());
}

#[test]
fn a_rollback_announces_its_target_after_a_background_sync() {
    let store = StateStore::in_memory().unwrap();
    store.bootstrap(&Header::default(), genesis()).unwrap();
    extend(&store, DURABLE_EVERY + 3);
    announced(&store, DURABLE_EVERY);

    store.rollback_to(DURABLE_EVERY - 2).unwrap();
    let target = store.header(DURABLE_EVERY - 2).unwrap().unwrap();
    assert_eq!(store.head(), Some(target));
    assert_eq!(store.durable_head(), Some(target));
    assert!(store.verified_block(DURABLE_EVERY).unwrap().is_none());

    // The chain grows again from the target and the next group is announced.
    extend(&store, 2 * DURABLE_EVERY);
    assert_eq!(
        announced(&store, 2 * DURABLE_EVERY).number,
        2 * DURABLE_EVERY
    );
}

#[test]
fn a_reopened_store_resumes_at_the_last_block() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.redb");
    let head = {
        let store = StateStore::open(&path).unwrap();
        store.bootstrap(&Header::default(), genesis()).unwrap();
        extend(&store, DURABLE_EVERY + 5);
        store.head()
    };
    let store = StateStore::open(&path).unwrap();
    assert_eq!(store.head(), head);
    assert_eq!(store.durable_head(), head);
    assert_eq!(store.full_state_root().unwrap(), head.unwrap().state_root);
}
