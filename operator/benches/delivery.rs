//! The operator node end to end on loopback, one run: the real `OperatorNode` (re-execution,
//! slashing protection, BLS signing, durable outbox, gRPC delivery) against a real anvil L2, a
//! real L1 with Surety (for the genesis anchor and the signing domain) and a real tonic server
//! recording when each attestation arrives.
//!
//! - **Latency**: an L2 block is mined, the node (polling every 10 ms, signing at `latest`)
//!   sees, re-executes, signs and delivers it; measured from the moment the mining call returns
//!   to the attestation's arrival at the server, one block at a time.
//! - **Throughput from the verified head**: a verify-only node first verifies a backlog of
//!   workload blocks; then a signing node on the same datadir signs and delivers all of them.
//!   Attestations per second between the first and the last arrival.
//!
//! `SURETY_BENCH_BACKLOG` (default 1000) and `SURETY_BENCH_LATENCY_BLOCKS` (default 200) set the
//! sizes.

#[path = "../tests/node_support/mod.rs"]
mod node_support;

use std::time::{Duration, Instant};

use node_support::{
    L1, Recorder,
    engine_support::{AnvilL2, drive_traffic, signers, write_genesis},
    node_spec, register_genesis, rollup,
};
use surety_operator::{NodeOutcome, OperatorNode, config::SignAt};
use surety_primitives::SecretKey;

const POLL: Duration = Duration::from_millis(10);
const TIMEOUT: Duration = Duration::from_secs(600);

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let backlog = env("SURETY_BENCH_BACKLOG", 1_000);
    let latency_blocks = env("SURETY_BENCH_LATENCY_BLOCKS", 200);
    let dir = tempfile::tempdir().unwrap();
    let signers = signers(4);
    let genesis = write_genesis(dir.path(), &signers);
    let l2 = AnvilL2::spawn(&genesis);
    drive_traffic(&l2.url, &signers, backlog).await;
    let l1 = L1::start().await;
    let datadir = dir.path().join("node");
    let spec = rollup(&l2.url, &genesis, SignAt::Latest);
    register_genesis(&l1, &datadir, &spec).await;
    let recorder = Recorder::start(l1.domain()).await;
    let key = SecretKey::from_ikm(&[7; 32]);

    // Verify the backlog without signing.
    let mut verify = node_spec(&datadir, &l1, spec.clone(), key.clone(), &[&recorder]);
    verify.signing = None;
    verify.until = Some(backlog);
    let verified = Instant::now();
    let outcome = OperatorNode::build(verify)
        .await
        .unwrap()
        .run(std::future::pending())
        .await
        .unwrap();
    assert!(matches!(outcome, NodeOutcome::Reached), "{outcome:?}");
    let verify_time = verified.elapsed();

    // Sign and deliver it all, then follow new blocks one at a time.
    let mut sign = node_spec(&datadir, &l1, spec, key, &[&recorder]);
    sign.poll_interval = POLL;
    let node = OperatorNode::build(sign).await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(node.run(async move {
        let _ = stopped.await;
    }));
    recorder.wait_for(backlog, TIMEOUT).await;
    let (first, last) = {
        let seen = recorder.seen.lock().unwrap();
        assert_eq!(seen.invalid, 0);
        (seen.arrivals[0], *seen.arrivals.last().unwrap())
    };
    let delivered = recorder.seen.lock().unwrap().attestations.len();
    let throughput = (delivered - 1) as f64 / (last - first).as_secs_f64();

    let mut latencies = Vec::new();
    for height in backlog + 1..=backlog + latency_blocks {
        l2.mine().await;
        let mined = Instant::now();
        let arrival = loop {
            let arrived = {
                let seen = recorder.seen.lock().unwrap();
                seen.attestations
                    .iter()
                    .position(|a| a.statement.block_number == height)
                    .map(|i| seen.arrivals[i])
            };
            if let Some(arrival) = arrived {
                break arrival;
            }
            assert!(mined.elapsed() < TIMEOUT, "block {height} never delivered");
            tokio::time::sleep(Duration::from_millis(1)).await;
        };
        latencies.push(arrival.saturating_duration_since(mined));
    }
    drop(stop);
    task.await.unwrap().unwrap();
    latencies.sort_unstable();

    println!(
        "verify-only backlog: {backlog} workload blocks verified in {:.2} s ({:.0} blocks/s)",
        verify_time.as_secs_f64(),
        backlog as f64 / verify_time.as_secs_f64()
    );
    println!(
        "verified head -> delivered: {delivered} attestations, {throughput:.0} attestations/s \
         (first to last arrival, {:.3} s)",
        (last - first).as_secs_f64()
    );
    println!(
        "block mined -> attestation delivered ({} empty blocks, one at a time, poll {} ms): \
         p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        latencies.len(),
        POLL.as_millis(),
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().unwrap().as_secs_f64() * 1e3,
    );
}
