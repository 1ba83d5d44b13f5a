//! Pruning by the running node on real parts: an anvil L2 under traffic (its `finalized` block
//! is the safe height), an anvil L1 with Surety, a real gRPC aggregator, real redb stores. The
//! node runs well past the retention window and through a reorg; then its datadir is opened and
//! checked: below the pruned height the undo journals, the old headers, the delivered evidence
//! and the signing history are gone, above it everything is still there, and evidence no
//! aggregator has is kept.

mod node_support;

use std::{net::SocketAddr, time::Duration};

use alloy::{
    eips::BlockNumberOrTag,
    primitives::{B256, Bytes},
    providers::Provider,
};
use alloy_consensus::Header;
use node_support::{
    L1, Recorder,
    engine_support::{AnvilL2, drive_traffic, signers, write_genesis},
    node_spec, register_genesis, rollup,
};
use surety_operator::{
    OperatorNode, StorageSpec,
    config::SignAt,
    state::{BLOCKHASH_WINDOW, EvidenceStatus, StateChanges, StateError, StateStore, Verdict},
};
use surety_primitives::SecretKey;
use surety_slashing_protection::{SlashingDatabase, database_path};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    sync::oneshot,
};

const RETENTION: u64 = 32;
/// Blocks on the L2 before the node starts; the last [`REORGED`] are then replaced.
const BLOCKS: u64 = 500;
const REORGED: u64 = 5;
/// A pruned height that drops headers too (they are kept [`BLOCKHASH_WINDOW`] deeper).
const PRUNED_AT_LEAST: u64 = BLOCKHASH_WINDOW + 64;
const TIMEOUT: Duration = Duration::from_secs(180);

fn key() -> SecretKey {
    SecretKey::from_ikm(&[5; 32])
}

/// A lying block 1 (another root than re-execution gives, told apart by `tag`), recorded as
/// evidence in `store` with `status`.
fn record_lie(store: &StateStore, tag: u8, status: EvidenceStatus) -> B256 {
    let genesis = store.head().unwrap();
    let header = Header {
        number: 1,
        parent_hash: genesis.hash,
        state_root: B256::repeat_byte(0x42),
        extra_data: Bytes::from(vec![tag]),
        ..Header::default()
    };
    let hash = header.hash_slow();
    let verdict = store
        .apply_block(hash, &header, StateChanges::default(), || vec![tag])
        .unwrap();
    assert!(matches!(verdict, Verdict::Mismatch { .. }));
    if status != EvidenceStatus::Recorded {
        store.set_evidence_status(1, hash, status).unwrap();
    }
    hash
}

/// The body of `GET path` on the node's HTTP endpoint (empty while it is not serving).
async fn http_get(addr: SocketAddr, path: &str) -> String {
    let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await else {
        return String::new();
    };
    stream
        .write_all(format!("GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default()
}

/// `surety_pruned_height` from the node's `/metrics`.
async fn pruned_height(addr: SocketAddr) -> u64 {
    http_get(addr, "/metrics")
        .await
        .lines()
        .find(|line| line.starts_with("surety_pruned_height{"))
        .and_then(|line| line.rsplit(' ').next()?.parse().ok())
        .unwrap_or(0)
}

/// The verified head from the node's `/status`.
async fn verified_head(addr: SocketAddr) -> Option<u64> {
    let status: serde_json::Value =
        serde_json::from_str(&http_get(addr, "/status").await).unwrap_or_default();
    status["rollups"][0]["verified_head"].as_u64()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_prunes_below_the_safe_height_and_still_follows_reorgs() {
    let dir = tempfile::tempdir().unwrap();
    let signers = signers(4);
    let genesis = write_genesis(dir.path(), &signers);
    let l2 = AnvilL2::spawn(&genesis);
    let provider = l2.provider();
    drive_traffic(&l2.url, &signers, BLOCKS - REORGED).await;
    let snapshot: String = provider
        .raw_request("evm_snapshot".into(), ())
        .await
        .unwrap();
    drive_traffic(&l2.url, &signers, REORGED).await;

    let l1 = L1::start().await;
    let datadir = dir.path().join("node");
    // Signing at the L2's finalized block: the blocks the reorg replaces were never signed.
    let spec = rollup(&l2.url, &genesis, SignAt::Finalized);
    register_genesis(&l1, &datadir, &spec).await;
    let store_path = datadir.join("rollups/1/state.redb");
    // Evidence of two lies at block 1: one whose report every aggregator has, one never reported.
    let (delivered, kept) = {
        let store = StateStore::open(&store_path).unwrap();
        (
            record_lie(&store, 1, EvidenceStatus::Delivered),
            record_lie(&store, 2, EvidenceStatus::Recorded),
        )
    };

    let recorder = Recorder::start(l1.domain()).await;
    let mut spec = node_spec(&datadir, &l1, spec, key(), &[&recorder]);
    let http = surety_testkit::ports::reserve().unwrap();
    spec.http_addr = Some(http);
    let storage = StorageSpec {
        retention: RETENTION,
        ..StorageSpec::default()
    };
    // The node on a runtime of its own: dropping it stops every task the node spawned (its
    // HTTP endpoint holds the stores), so the datadir can be opened afterwards.
    let (stop, stopped) = oneshot::channel::<()>();
    let node = std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let node = OperatorNode::build_with_storage(spec, storage)
                .await
                .unwrap();
            node.run(async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
    });
    // The node prunes every 64 verified blocks, never above what it signed: should a pass come
    // before the signing loop got far enough, more blocks bring another.
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    let mut last_nudge = tokio::time::Instant::now();
    let pruned_live = loop {
        let height = pruned_height(http).await;
        if height >= PRUNED_AT_LEAST {
            break height;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not pruned up to {PRUNED_AT_LEAST} within {TIMEOUT:?} (at {height})"
        );
        if last_nudge.elapsed() > Duration::from_secs(30) {
            drive_traffic(&l2.url, &signers, 64).await;
            last_nudge = tokio::time::Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    recorder.wait_for(pruned_live + 1, TIMEOUT).await;

    // A reorg above the pruned height: the last blocks replaced by a longer branch.
    let reverted: bool = provider
        .raw_request("evm_revert".into(), (snapshot,))
        .await
        .unwrap();
    assert!(reverted);
    drive_traffic(&l2.url, &signers[1..], REORGED + 3).await;
    let tip = provider.get_block_number().await.unwrap();
    assert_eq!(tip, BLOCKS + 3);
    let tip_hash = provider
        .get_block_by_number(BlockNumberOrTag::Number(tip))
        .await
        .unwrap()
        .unwrap()
        .header
        .hash;
    // No branch before the reorg reaches this height: once verified, the reorg was followed.
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while verified_head(http).await != Some(tip) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the new tip {tip} not verified"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(stop);
    tokio::task::spawn_blocking(|| node.join().unwrap())
        .await
        .unwrap();

    let store = StateStore::open(&store_path).unwrap();
    let head = store.head().unwrap();
    assert_eq!((head.number, head.hash), (tip, tip_hash), "the new branch");
    assert_eq!(store.full_state_root().unwrap(), head.state_root);

    // The pruned height, from the store itself: the oldest undo journal is just above it.
    let pruned = match store.rollback_to(0) {
        Err(StateError::TooDeep { oldest, .. }) => oldest - 1,
        other => panic!("undo journals below the pruned height survived: {other:?}"),
    };
    // Below the fork point (the reorg rolled back to it), at least where the metric said.
    assert!(
        (pruned_live..BLOCKS - REORGED).contains(&pruned),
        "pruned at {pruned}"
    );
    // Headers: genesis and the BLOCKHASH window below the pruned height stay, older ones go.
    let keep_from = pruned - BLOCKHASH_WINDOW;
    assert!(store.header(0).unwrap().is_some());
    for number in 1..keep_from {
        assert!(store.header(number).unwrap().is_none(), "header {number}");
    }
    for number in keep_from..=tip {
        assert!(store.header(number).unwrap().is_some(), "header {number}");
    }
    // Evidence: the delivered lie went with the pruning, the unreported one stays.
    let evidence: Vec<B256> = store.evidence().unwrap().iter().map(|e| e.hash).collect();
    assert_eq!(evidence, [kept]);
    assert_ne!(delivered, kept);
    // Signing history: gone up to the pruned height (and refused there), kept above it.
    let db = SlashingDatabase::open(&database_path(&datadir)).unwrap();
    let pubkey = key().public_key().to_bytes();
    assert_eq!(db.low_watermark(&pubkey, 1).unwrap(), Some(pruned));
    for number in 1..=pruned {
        assert!(
            db.signed_at(&pubkey, 1, number).unwrap().is_none(),
            "{number}"
        );
    }
    assert!(db.signed_at(&pubkey, 1, pruned + 1).unwrap().is_some());
    // The undo journals above the pruned height still roll back, down to it.
    store.rollback_to(pruned).unwrap();
    let at = store.header(pruned).unwrap().unwrap();
    assert_eq!(store.head().unwrap(), at);
    assert_eq!(store.full_state_root().unwrap(), at.state_root);
}
