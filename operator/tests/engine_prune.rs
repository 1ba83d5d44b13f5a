//! Pruning below a finalized height: undo journals and old headers go, what the engine still
//! needs stays (genesis, the BLOCKHASH window, the parent of the next block), and reorgs above
//! the finalized height still roll back.

use alloy_consensus::Header;
use alloy_primitives::{Address, B256, U256};
use revm::database::DatabaseRef;
use surety_operator::state::{
    AccountChange, AccountState, BLOCKHASH_WINDOW, EMPTY_CODE_HASH, EvidenceStatus, Pruned,
    StateChanges, StateError, StateStore, Verdict,
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
    let (store, roots) = chain(700);
    let pruned = store.prune(650).unwrap();
    // Undo journals at or below the pruned height go (genesis's included), headers more than
    // BLOCKHASH_WINDOW below it go, genesis's header stays.
    assert_eq!(pruned.undo, 651);
    let keep_from = 650 - BLOCKHASH_WINDOW;
    assert_eq!(pruned.headers, keep_from - 1);
    assert!(store.header(0).unwrap().is_some());
    assert!(store.header(keep_from - 1).unwrap().is_none());
    assert!(store.header(keep_from).unwrap().is_some());
    assert!(store.block_header(700).unwrap().is_some());
    // Pruning again at the same height finds nothing.
    assert_eq!(store.prune(650).unwrap(), Pruned::default());
    // Reorgs down to the pruned height still work; below it the journal is gone.
    assert!(matches!(
        store.rollback_to(640),
        Err(StateError::TooDeep { .. })
    ));
    assert_eq!(
        store.head().unwrap().number,
        700,
        "a refused rollback changes nothing"
    );
    store.rollback_to(650).unwrap();
    assert_eq!(store.head().unwrap().state_root, roots[650]);
    assert_eq!(store.full_state_root().unwrap(), roots[650]);
    // The block re-executed on top of the fork point still sees the whole BLOCKHASH window.
    let reader = store.reader().unwrap();
    for number in 651 - BLOCKHASH_WINDOW..=650 {
        assert_ne!(
            reader.block_hash_ref(number).unwrap(),
            B256::ZERO,
            "{number}"
        );
    }
}

#[test]
fn prune_drops_evidence_once_delivered_and_the_chain_is_verified_past_it() {
    let (store, _) = chain(2);
    let parent_hash = store.head().unwrap().hash;
    let lying = Header {
        number: 3,
        parent_hash,
        state_root: B256::repeat_byte(0x42),
        ..Header::default()
    };
    let verdict = store
        .apply_block(lying.hash_slow(), &lying, balance_change(3), || vec![1])
        .unwrap();
    assert!(matches!(verdict, Verdict::Mismatch { .. }));
    let lie = (3, lying.hash_slow());
    // The pruned height is clamped to the verified head: evidence above it stays.
    assert_eq!(store.prune(3).unwrap().evidence, 0);
    assert_eq!(store.evidence().unwrap().len(), 1);
    // The L2 replaces the lying block and the chain is verified past it: once the pruned height
    // reaches it, the evidence goes too.
    let scratch = StateStore::in_memory().unwrap();
    let root = scratch
        .bootstrap(&Header::default(), balance_change(3))
        .unwrap();
    let honest = Header {
        state_root: root,
        ..lying
    };
    let verdict = store
        .apply_block(honest.hash_slow(), &honest, balance_change(3), Vec::new)
        .unwrap();
    assert_eq!(verdict, Verdict::Match(root));
    // Old enough, but no aggregator has the report yet: kept, however often pruned.
    assert_eq!(
        store.evidence().unwrap()[0].status,
        EvidenceStatus::Recorded
    );
    assert_eq!(store.prune(3).unwrap().evidence, 0);
    assert!(
        store
            .set_evidence_status(lie.0, lie.1, EvidenceStatus::Reported)
            .unwrap()
    );
    assert_eq!(store.prune(3).unwrap().evidence, 0);
    assert_eq!(
        store.evidence().unwrap()[0].status,
        EvidenceStatus::Reported
    );
    // Delivered: pruned once the pruned height reaches it, not before.
    assert!(
        store
            .set_evidence_status(lie.0, lie.1, EvidenceStatus::Delivered)
            .unwrap()
    );
    assert_eq!(store.prune(2).unwrap().evidence, 0);
    assert_eq!(store.prune(3).unwrap().evidence, 1);
    assert!(store.evidence().unwrap().is_empty());
    // No evidence, no status.
    assert!(
        !store
            .set_evidence_status(lie.0, lie.1, EvidenceStatus::Delivered)
            .unwrap()
    );
}

#[test]
fn an_evidence_status_never_goes_back() {
    let (store, _) = chain(2);
    let header = Header {
        number: 3,
        parent_hash: store.head().unwrap().hash,
        state_root: B256::repeat_byte(0x42),
        ..Header::default()
    };
    let hash = header.hash_slow();
    store
        .apply_block(hash, &header, balance_change(3), || vec![1])
        .unwrap();
    store
        .set_evidence_status(3, hash, EvidenceStatus::Delivered)
        .unwrap();
    // A report queued again for the same block (after a restart) does not undo the delivery.
    store
        .set_evidence_status(3, hash, EvidenceStatus::Reported)
        .unwrap();
    assert_eq!(
        store.evidence().unwrap()[0].status,
        EvidenceStatus::Delivered
    );
    // Another block at the same height has its own status.
    assert!(
        !store
            .set_evidence_status(3, B256::repeat_byte(9), EvidenceStatus::Delivered)
            .unwrap()
    );
}

#[test]
fn evidence_can_be_forgotten_by_hand() {
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
