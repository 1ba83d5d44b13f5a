//! The operator node end to end on real parts: anvil L1 with the EigenLayer core and Surety,
//! an anvil L2 registered as a rollup, real BLS keys, real gRPC aggregators recording what
//! arrives. Each test asserts on what an external observer received.

mod node_support;

use std::time::Duration;

use alloy::{
    eips::BlockNumberOrTag,
    primitives::B256,
    providers::{Provider, RootProvider},
};
use node_support::{
    L1, Recorder,
    engine_support::{AnvilL2, drive_traffic, signers, write_genesis},
    node_spec, register_genesis, rollup,
};
use surety_operator::{NodeError, OperatorNode, config::SignAt};
use surety_primitives::{SecretKey, Statement};
use tokio::sync::oneshot;

const DELIVERY_TIMEOUT: Duration = Duration::from_secs(120);

fn key() -> SecretKey {
    SecretKey::from_ikm(&[7; 32])
}

/// The L2's own view of block `number`, as a statement.
async fn canonical(l2: &RootProvider, number: u64) -> Statement {
    let block = l2
        .get_block_by_number(BlockNumberOrTag::Number(number))
        .await
        .unwrap()
        .unwrap();
    Statement {
        rollup_id: node_support::ROLLUP_ID,
        block_number: number,
        block_hash: block.header.hash,
        parent_hash: block.header.parent_hash,
        state_root: block.header.state_root,
    }
}

/// Starts `node` in the background; dropping the returned sender stops it.
fn spawn(node: OperatorNode) -> (oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        node.run(async {
            let _ = stopped.await;
        })
        .await
        .expect("node run");
    });
    (stop, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivers_one_valid_attestation_per_block_to_every_aggregator() {
    let dir = tempfile::tempdir().unwrap();
    let signers = signers(4);
    let genesis = write_genesis(dir.path(), &signers);
    let l2 = AnvilL2::spawn(&genesis);
    drive_traffic(&l2.url, &signers, 100).await;
    let l1 = L1::start().await;
    let datadir = dir.path().join("node");
    let spec = rollup(&l2.url, &genesis, SignAt::Latest);
    register_genesis(&l1, &datadir, &spec).await;
    let (a, b) = (
        Recorder::start(l1.domain()).await,
        Recorder::start(l1.domain()).await,
    );

    let node = OperatorNode::build(node_spec(&datadir, &l1, spec, key(), &[&a, &b]))
        .await
        .unwrap();
    let (stop, task) = spawn(node);
    a.wait_for(100, DELIVERY_TIMEOUT).await;
    b.wait_for(100, DELIVERY_TIMEOUT).await;
    drop(stop);
    task.await.unwrap();

    let provider = l2.provider();
    for recorder in [&a, &b] {
        let seen = recorder.seen.lock().unwrap();
        assert_eq!(seen.invalid, 0);
        assert_eq!(seen.attestations.len(), 100, "exactly one per block");
        for (i, attestation) in seen.attestations.iter().enumerate() {
            assert_eq!(attestation.public_key, key().public_key());
            assert_eq!(attestation.statement.block_number, i as u64 + 1);
        }
    }
    // What was signed is the L2's own chain, root included (re-executed, equal to anvil's).
    let seen = a.seen.lock().unwrap().attestations.clone();
    for attestation in seen {
        let number = attestation.statement.block_number;
        assert_eq!(attestation.statement, canonical(&provider, number).await);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aggregator_outage_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let signers = signers(4);
    let genesis = write_genesis(dir.path(), &signers);
    let l2 = AnvilL2::spawn(&genesis);
    drive_traffic(&l2.url, &signers, 30).await;
    let l1 = L1::start().await;
    let datadir = dir.path().join("node");
    let spec = rollup(&l2.url, &genesis, SignAt::Latest);
    register_genesis(&l1, &datadir, &spec).await;
    let up = Recorder::start(l1.domain()).await;
    let mut flaky = Recorder::start(l1.domain()).await;
    flaky.down().await;

    let node = OperatorNode::build(node_spec(&datadir, &l1, spec, key(), &[&up, &flaky]))
        .await
        .unwrap();
    let (stop, task) = spawn(node);
    up.wait_for(30, DELIVERY_TIMEOUT).await;
    assert!(flaky.heights().is_empty());
    flaky.up().await;
    flaky.wait_for(30, DELIVERY_TIMEOUT).await;

    // Down again while the chain grows and the node signs; back later.
    flaky.down().await;
    drive_traffic(&l2.url, &signers, 20).await;
    up.wait_for(50, DELIVERY_TIMEOUT).await;
    flaky.up().await;
    flaky.wait_for(50, DELIVERY_TIMEOUT).await;
    drop(stop);
    task.await.unwrap();
    for recorder in [&up, &flaky] {
        assert_eq!(recorder.seen.lock().unwrap().invalid, 0);
        assert_eq!(recorder.heights().len(), 50);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_head_is_never_signed_and_its_replacement_is() {
    let dir = tempfile::tempdir().unwrap();
    let signers = signers(4);
    let genesis = write_genesis(dir.path(), &signers);
    let l2 = AnvilL2::spawn(&genesis);
    drive_traffic(&l2.url, &signers, 5).await;
    let l1 = L1::start().await;
    let datadir = dir.path().join("node");
    // One confirmation: the head itself is verified but not yet signable.
    let spec = rollup(&l2.url, &genesis, SignAt::Confirmations(1));
    register_genesis(&l1, &datadir, &spec).await;
    let recorder = Recorder::start(l1.domain()).await;
    let node = OperatorNode::build(node_spec(&datadir, &l1, spec, key(), &[&recorder]))
        .await
        .unwrap();
    let (stop, task) = spawn(node);
    recorder.wait_for(4, DELIVERY_TIMEOUT).await;

    let provider = l2.provider();
    let snapshot: String = provider
        .raw_request("evm_snapshot".into(), ())
        .await
        .unwrap();
    drive_traffic(&l2.url, &signers[..1], 1).await;
    let replaced = canonical(&provider, 6).await;
    // The node follows block 6 (and signs 5, which it confirms).
    recorder.wait_for(5, DELIVERY_TIMEOUT).await;
    tokio::time::sleep(Duration::from_secs(1)).await;

    // Same height, another block: revert to 5 and mine a different 6, then a 7 confirming it.
    let reverted: bool = provider
        .raw_request("evm_revert".into(), (snapshot,))
        .await
        .unwrap();
    assert!(reverted);
    drive_traffic(&l2.url, &signers[1..2], 2).await;
    let replacement = canonical(&provider, 6).await;
    assert_ne!(replacement.block_hash, replaced.block_hash);
    recorder.wait_for(6, DELIVERY_TIMEOUT).await;
    drop(stop);
    task.await.unwrap();

    let seen = recorder.seen.lock().unwrap();
    let at_6: Vec<B256> = seen
        .attestations
        .iter()
        .filter(|a| a.statement.block_number == 6)
        .map(|a| a.statement.block_hash)
        .collect();
    assert_eq!(
        at_6,
        vec![replacement.block_hash],
        "only the replacement is signed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_genesis_other_than_the_registered_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let signers = signers(2);
    let genesis = write_genesis(dir.path(), &signers);
    let l2 = AnvilL2::spawn(&genesis);
    let l1 = L1::start().await;
    let datadir = dir.path().join("node");
    let spec = rollup(&l2.url, &genesis, SignAt::Latest);
    let computed = surety_operator::compute_genesis(&datadir, &spec)
        .await
        .unwrap();
    // The rollup registered another genesis root than the one this file yields.
    l1.register(
        node_support::engine_support::CHAIN_ID,
        computed.hash,
        B256::repeat_byte(0x42),
    )
    .await;
    let recorder = Recorder::start(l1.domain()).await;
    let error = OperatorNode::build(node_spec(&datadir, &l1, spec, key(), &[&recorder]))
        .await
        .err()
        .expect("a wrong genesis must be refused");
    let NodeError::GenesisMismatch(mismatch) = &error else {
        panic!("{error}");
    };
    assert_eq!(mismatch.local_root, computed.state_root);
    assert_eq!(mismatch.registered_root, B256::repeat_byte(0x42));
    assert!(error.to_string().contains("check `genesis`"), "{error}");
}
