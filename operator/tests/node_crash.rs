//! Crash test of the operator node (`harness = false`).
//!
//! The supervisor runs real chains (an anvil L1 with Surety, an anvil L2 under traffic) and a
//! real gRPC aggregator that records every attestation it receives: the external observer. It
//! re-executes this binary as the node, SIGKILLs it at a random instant while it verifies, signs
//! and delivers, and restarts it — `KILLS` times. Then it lets one last node catch up and checks
//! that every block was delivered and that no two conflicting signatures ever arrived.

mod node_support;

use std::{
    collections::BTreeMap,
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use alloy::providers::Provider;
use node_support::{
    L1, Recorder,
    engine_support::{AnvilL2, drive_traffic, signers, write_genesis},
    register_genesis, rollup, spec,
};
use rand::{Rng, SeedableRng, rngs::StdRng};
use surety_operator::{OperatorNode, config::SignAt};
use surety_primitives::SecretKey;

const KILLS: usize = 50;
const READY: &str = "node ready";
const CHILD: &str = "SURETY_NODE_CRASH_CHILD";

fn key() -> SecretKey {
    SecretKey::from_ikm(&[9; 32])
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    if let Ok(args) = std::env::var(CHILD) {
        runtime.block_on(child(&args));
    } else {
        runtime.block_on(supervise());
        println!("1 passed, 0 failed");
    }
}

/// Runs the node until killed. `args`: datadir, L1 RPC, verifier, L2 RPC, genesis, aggregator.
async fn child(args: &str) {
    let a: Vec<&str> = args.split('\n').collect();
    let rollup = rollup(a[3], &PathBuf::from(a[4]), SignAt::Latest);
    let spec = spec(
        &PathBuf::from(a[0]),
        a[1],
        a[2].parse().unwrap(),
        rollup,
        key(),
        vec![a[5].to_owned()],
    );
    let node = OperatorNode::build(spec).await.expect("build the node");
    println!("{READY}");
    node.run(std::future::pending()).await.expect("node run");
}

async fn supervise() {
    let dir = tempfile::tempdir().unwrap();
    let signers = signers(4);
    let genesis = write_genesis(dir.path(), &signers);
    let l2 = AnvilL2::spawn(&genesis);
    let l1 = L1::start().await;
    let datadir = dir.path().join("node");
    register_genesis(&l1, &datadir, &rollup(&l2.url, &genesis, SignAt::Latest)).await;
    let recorder = Recorder::start(l1.domain()).await;
    let args = [
        datadir.display().to_string(),
        l1.anvil.endpoint(),
        l1.deployment.surety.certificate_verifier.to_string(),
        l2.url.clone(),
        genesis.display().to_string(),
        recorder.url(),
    ]
    .join("\n");

    // Blocks keep coming while nodes die.
    let traffic = {
        let (url, signers) = (l2.url.clone(), signers.clone());
        tokio::spawn(async move {
            loop {
                drive_traffic(&url, &signers, 1).await;
                tokio::time::sleep(Duration::from_millis(60)).await;
            }
        })
    };
    let mut rng = StdRng::seed_from_u64(0x5eed);
    let mut mid_run = 0;
    for _ in 0..KILLS {
        let mut node = spawn_child(&args);
        let before = recorder.seen.lock().unwrap().attestations.len();
        tokio::time::sleep(Duration::from_millis(rng.gen_range(20..600))).await;
        node.kill().unwrap();
        node.wait().unwrap();
        if recorder.seen.lock().unwrap().attestations.len() > before {
            mid_run += 1;
        }
    }
    traffic.abort();
    let head = l2.provider().get_block_number().await.unwrap();

    let mut last = spawn_child(&args);
    recorder.wait_for(head, Duration::from_secs(180)).await;
    last.kill().unwrap();
    last.wait().unwrap();

    let seen = recorder.seen.lock().unwrap();
    assert_eq!(seen.invalid, 0, "every delivered signature verifies");
    let mut by_height = BTreeMap::new();
    for attestation in &seen.attestations {
        let first = by_height
            .entry(attestation.statement.block_number)
            .or_insert(attestation.statement);
        assert_eq!(
            *first, attestation.statement,
            "two conflicting signatures at height {}",
            attestation.statement.block_number
        );
    }
    assert_eq!(
        by_height.keys().copied().collect::<Vec<_>>(),
        (1..=head).collect::<Vec<_>>(),
        "every block delivered"
    );
    println!(
        "node_crash: {KILLS} SIGKILLs ({mid_run} while delivering), {head} blocks, {} \
         attestations received ({} duplicates after restarts), none conflicting",
        seen.attestations.len(),
        seen.attestations.len() as u64 - head
    );
}

/// Starts a node child and waits until it is built (genesis anchored, stores open).
fn spawn_child(args: &str) -> std::process::Child {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .env(CHILD, args)
        .env("RUST_LOG", "off")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let started = Instant::now();
    loop {
        match lines.next() {
            Some(Ok(line)) if line == READY => return child,
            Some(Ok(_)) => {}
            _ => panic!(
                "node child exited before it was ready ({:?})",
                started.elapsed()
            ),
        }
    }
}
