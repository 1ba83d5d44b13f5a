//! Pruning below a finalized height: undo journals and old headers go, what the engine still
//! needs stays (genesis, the BLOCKHASH window, the parent of the next block), and reorgs above
//! the finalized height still roll back.

use alloy_consensus::Header;
use alloy_primitives::{Address, B256, U256};
use surety_operator::state::{
    AccountChange, AccountState, BLOCKHASH_WINDOW, EMPTY_CODE_HASH, StateChanges, StateError,
    StateStore, Verdict,
};

fn balance_change(balance: u64) -> StateChanges {
    StateChanges {
        accounts: vec![AccountChange {
            address: Address::repeat_byte(0x11),
            info: Some(AccountState {
                nonce: 0,
                balance: U256::from(balance),
                code_hash: EMPTY_CODE_HASH,
            }),
            wipe_storage: false,
            storage: vec![(U256::from(1), Some(U256::from(balance)))],
        }],
        contracts: Vec::new(),
    }
}

/// A store with blocks 1..=`blocks` applied, each changing one balance and one slot.
fn chain(blocks: u64) -> (StateStore, Vec<B256>) {
    let store = StateStore::in_memory().unwrap();
    let genesis = Header::default();
    store.bootstrap(&genesis, balance_change(0)).unwrap();
    let mut roots = vec![store.head().unwrap().state_root];
    let mut parent = store.head().unwrap().hash;
    for number in 1..=blocks {
        // The root this block leads to, from a scratch store with the same state.
        let scratch = StateStore::in_memory().unwrap();
        let root = scratch.bootstrap(&genesis, balance_change(number)).unwrap();
        let header = Header {
            number,
            parent_hash: parent,
            state_root: root,
            ..Header::default()
        };
        let hash = header.hash_slow();
        let verdict = store
            .apply_block(hash, &header, balance_change(number), Vec::new)
            .unwrap();
        assert_eq!(verdict, Verdict::Match(root));
        roots.push(root);
        parent = hash;
    }
    (store, roots)
}

#[test]
fn prune_keeps_what_the_engine_needs() {
    let (store, roots) = chain(400);
    store.prune(350).unwrap();
    // Genesis stays, headers below the BLOCKHASH window go, the window stays.
    assert!(store.header(0).unwrap().is_some());
    let window_start = 400 - BLOCKHASH_WINDOW;
    assert!(store.header(window_start - 1).unwrap().is_none());
    assert!(store.header(window_start).unwrap().is_some());
    assert!(store.block_header(400).unwrap().is_some());
    // Reorgs down to the finalized height still work; below it the journal is gone.
    assert!(matches!(
        store.rollback_to(340),
        Err(StateError::TooDeep { .. })
    ));
    assert_eq!(
        store.head().unwrap().number,
        400,
        "a refused rollback changes nothing"
    );
    store.rollback_to(350).unwrap();
    assert_eq!(store.head().unwrap().state_root, roots[350]);
    assert_eq!(store.full_state_root().unwrap(), roots[350]);
}

#[test]
fn submitted_evidence_can_be_forgotten() {
    let (store, _) = chain(2);
    let header = Header {
        number: 3,
        parent_hash: store.head().unwrap().hash,
        state_root: B256::repeat_byte(0x42),
        ..Header::default()
    };
    let verdict = store
        .apply_block(header.hash_slow(), &header, balance_change(3), || vec![1])
        .unwrap();
    assert!(matches!(verdict, Verdict::Mismatch { .. }));
    assert_eq!(store.evidence().unwrap().len(), 1);
    assert!(store.remove_evidence(3).unwrap());
    assert!(store.evidence().unwrap().is_empty());
    assert!(!store.remove_evidence(3).unwrap());
}
