//! Evidence is keyed by height and block hash: two lies at one height are both kept.

use alloy_consensus::Header;
use alloy_primitives::B256;
use redb::{Database, TableDefinition};

use super::{Evidence, EvidenceStatus, StateStore};

fn lie(number: u64, hash: u8, claimed: u8) -> (B256, Header) {
    let header = Header {
        number,
        state_root: B256::repeat_byte(claimed),
        ..Header::default()
    };
    (B256::repeat_byte(hash), header)
}

#[test]
fn two_lies_at_one_height_are_both_kept() {
    let store = StateStore::in_memory().unwrap();
    let (first_hash, first) = lie(5, 0xa1, 0x11);
    let (second_hash, second) = lie(5, 0xa2, 0x22);
    let (later_hash, later) = lie(6, 0xa3, 0x33);
    store
        .reject_block(first_hash, &first, "first lie".into(), vec![1])
        .unwrap();
    store
        .reject_block(second_hash, &second, "second lie".into(), vec![2])
        .unwrap();
    store
        .reject_block(later_hash, &later, "later lie".into(), vec![3])
        .unwrap();

    let evidence = store.evidence().unwrap();
    let kept: Vec<(u64, B256, B256, Option<&str>)> = evidence
        .iter()
        .map(|e| (e.number, e.hash, e.claimed, e.invalid.as_deref()))
        .collect();
    assert_eq!(
        kept,
        [
            (5, first_hash, first.state_root, Some("first lie")),
            (5, second_hash, second.state_root, Some("second lie")),
            (6, later_hash, later.state_root, Some("later lie")),
        ]
    );
    assert_eq!(evidence[1].block_rlp, [2]);

    // Removing a height removes every lie at it, and nothing else.
    assert!(store.remove_evidence(5).unwrap());
    let left: Vec<u64> = store.evidence().unwrap().iter().map(|e| e.number).collect();
    assert_eq!(left, [6]);
    assert!(!store.remove_evidence(5).unwrap());
}

#[test]
fn evidence_keyed_by_height_alone_is_migrated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.redb");
    let old = Evidence {
        number: 9,
        hash: B256::repeat_byte(0xb1),
        claimed: B256::repeat_byte(0x44),
        computed: B256::repeat_byte(0x55),
        invalid: None,
        block_rlp: vec![7, 7],
        status: EvidenceStatus::Recorded,
    };
    {
        // A store as written before evidence was keyed by hash.
        const LEGACY: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("evidence");
        let db = Database::create(&path).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let mut record = Vec::new();
            record.extend_from_slice(old.hash.as_slice());
            record.extend_from_slice(old.claimed.as_slice());
            record.extend_from_slice(old.computed.as_slice());
            record.extend_from_slice(&0u32.to_be_bytes());
            record.extend_from_slice(&old.block_rlp);
            txn.open_table(LEGACY)
                .unwrap()
                .insert(old.number, record.as_slice())
                .unwrap();
        }
        txn.commit().unwrap();
    }
    let store = StateStore::open(&path).unwrap();
    assert_eq!(store.evidence().unwrap(), std::slice::from_ref(&old));
    drop(store);
    // Reopening finds it once, in the new table.
    assert_eq!(StateStore::open(&path).unwrap().evidence().unwrap(), [old]);
}
