//! Crash test of the re-execution engine (`harness = false`).
//!
//! The supervisor starts an anvil L2, mines a workload chain, then re-executes this binary as a
//! child follower that verifies the chain into one datadir and prints every head it committed.
//! It SIGKILLs the child at random instants and restarts it. After every kill it checks that
//! the stored head covers every head the child announced (nothing committed is lost) and that
//! the next child resumes exactly there (no gap, no repeat); at the end every stored block hash
//! and state root equals anvil's. Kills: `SURETY_ENGINE_CRASH_RUNS` (default 25).

use std::{
    io::{BufRead, BufReader, Write},
    path::Path,
    process::{Command, Stdio},
    sync::{Arc, mpsc},
    time::Duration,
};

use alloy::providers::Provider;
use rand::{Rng, SeedableRng, rngs::StdRng};
use surety_operator::{
    execution::{EthereumHardfork, EthereumRules, ExecutionKind},
    follower::{Follower, FollowerConfig, Outcome, connect_http},
    genesis::GenesisFile,
    metrics::Metrics,
    state::StateStore,
};
use surety_testkit::{l2::L2, workload::WorkloadConfig};

const CHAIN_ID: u64 = 4_243;
const BLOCKS: u64 = 200;
const CHILD_URL: &str = "SURETY_ENGINE_CRASH_CHILD_URL";
const CHILD_GENESIS: &str = "SURETY_ENGINE_CRASH_CHILD_GENESIS";
const CHILD_DATADIR: &str = "SURETY_ENGINE_CRASH_CHILD_DATADIR";
const RUNS: &str = "SURETY_ENGINE_CRASH_RUNS";

fn main() {
    match std::env::var(CHILD_URL) {
        Ok(url) => child(&url),
        Err(_) => supervisor(),
    }
}

fn rules() -> ExecutionKind {
    ExecutionKind::Ethereum(EthereumRules::anvil(CHAIN_ID, EthereumHardfork::Prague))
}

fn store_path(datadir: &Path) -> std::path::PathBuf {
    datadir.join("state.redb")
}

/// Verifies up to `BLOCKS`; prints `resume N` once, then `head N` for every head it sees
/// committed (a line is printed only after the commit returned, so it is proof of durability).
fn child(url: &str) {
    let genesis = GenesisFile::load(std::env::var(CHILD_GENESIS).unwrap()).unwrap();
    let datadir = std::env::var(CHILD_DATADIR).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = Arc::new(StateStore::open(store_path(Path::new(&datadir))).unwrap());
        let config = FollowerConfig {
            until: Some(BLOCKS),
            poll_interval: Duration::from_millis(20),
            ..FollowerConfig::default()
        };
        let metrics = Arc::new(Metrics::default());
        let follower = Follower::new(
            connect_http(url).unwrap(),
            store.clone(),
            rules(),
            metrics,
            config,
        );
        follower.bootstrap(&genesis).await.unwrap();
        let mut heads = store.subscribe_head();
        let resumed = heads.borrow_and_update().as_ref().unwrap().number;
        println!("resume {resumed}");
        tokio::spawn(async move {
            while heads.changed().await.is_ok() {
                let number = heads.borrow_and_update().as_ref().unwrap().number;
                let mut out = std::io::stdout().lock();
                writeln!(out, "head {number}").unwrap();
                out.flush().unwrap();
            }
        });
        let (outcome, _) = follower.run().await.unwrap();
        assert_eq!(outcome, Outcome::Reached { head: BLOCKS });
        println!("done");
    });
}

struct ChildRun {
    resumed: u64,
    max_announced: u64,
    finished: bool,
}

/// Runs one child; kills it after `kill_after` unless it finishes first.
fn run_child(l2: &L2, datadir: &Path, kill_after: Option<Duration>) -> ChildRun {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .env(CHILD_URL, l2.anvil.url().as_str())
        .env(CHILD_GENESIS, l2.file.path())
        .env(CHILD_DATADIR, datadir)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines_tx, lines) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            lines_tx.send(line.unwrap()).unwrap();
        }
    });
    // The kill timer starts once the child has opened its store and begun following, so the
    // kills land during verification rather than during process start-up.
    let first = lines.recv_timeout(Duration::from_secs(60)).ok();
    if let Some(delay) = kill_after {
        std::thread::sleep(delay);
        // SIGKILL on Unix; an already exited child is fine.
        let _ = child.kill();
    }
    let status = child.wait().unwrap();
    reader.join().unwrap();
    let mut run = ChildRun {
        resumed: u64::MAX,
        max_announced: 0,
        finished: false,
    };
    for line in first.into_iter().chain(lines.try_iter()) {
        match line.split_once(' ') {
            Some(("resume", n)) => run.resumed = n.parse().unwrap(),
            Some(("head", n)) => run.max_announced = run.max_announced.max(n.parse().unwrap()),
            _ if line == "done" => run.finished = true,
            _ => panic!("unexpected child output {line:?}"),
        }
    }
    if kill_after.is_none() {
        assert!(status.success(), "the last child failed: {status}");
    }
    run
}

fn stored_head(datadir: &Path) -> Option<u64> {
    let store = StateStore::open(store_path(datadir)).unwrap();
    store.head().map(|head| head.number)
}

fn supervisor() {
    let runs: u32 = std::env::var(RUNS).map_or(25, |v| v.parse().expect(RUNS));
    let seed: u64 = rand::random();
    println!("engine crash test: {runs} kills, seed {seed}");
    let mut rng = StdRng::seed_from_u64(seed);

    let l2 = L2::start(CHAIN_ID, 16).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let config = WorkloadConfig::new(l2.genesis.keys.clone()).txs_per_block(12);
        surety_testkit::workload::Workload::new(seed, config)
            .run(&l2.provider(), BLOCKS)
            .await
            .unwrap();
    });
    let dir = tempfile::tempdir().unwrap();
    let datadir = dir.path();

    let (mut kills, mut mid_chain) = (0, 0);
    let mut expected_resume = 0;
    while kills < runs {
        let before = stored_head(datadir);
        if before == Some(BLOCKS) {
            break;
        }
        // Blocks are synced in groups of DURABLE_EVERY: the window must span a few groups for
        // kills to land both between and during synced commits.
        let delay = Duration::from_millis(rng.gen_range(0..3_000));
        let run = run_child(&l2, datadir, Some(delay));
        let after = stored_head(datadir);
        if run.resumed != u64::MAX {
            assert_eq!(run.resumed, expected_resume, "resumed off the stored head");
        }
        let after = after.unwrap_or(0);
        assert!(
            after >= run.max_announced,
            "announced head {} lost: stored head is {after}",
            run.max_announced
        );
        if !run.finished && after > before.unwrap_or(0) && after < BLOCKS {
            mid_chain += 1;
        }
        expected_resume = after;
        kills += u32::from(!run.finished);
    }
    // The kills must land while blocks are being verified, not only before or after.
    assert!(mid_chain > 0, "no kill interrupted verification");
    let last = run_child(&l2, datadir, None);
    assert!(last.finished);
    assert_eq!(last.resumed, expected_resume);

    let store = StateStore::open(store_path(datadir)).unwrap();
    let provider = l2.provider();
    runtime.block_on(async {
        for number in 1..=BLOCKS {
            let block = provider
                .get_block_by_number(number.into())
                .await
                .unwrap()
                .unwrap();
            let stored = store.header(number).unwrap().unwrap();
            assert_eq!(stored.hash, block.header.hash, "block {number}");
            assert_eq!(stored.state_root, block.header.state_root, "block {number}");
        }
    });
    assert!(store.evidence().unwrap().is_empty());
    assert_eq!(
        store.full_state_root().unwrap(),
        store.head().unwrap().state_root
    );
    println!(
        "{kills} kills ({mid_chain} mid-chain), every root of {BLOCKS} blocks equal to anvil's: 1 passed, 0 failed"
    );
}
