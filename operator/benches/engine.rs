//! Re-execution engine throughput on one generated chain, measured in one run:
//! - the full engine: execution + incremental state root + one redb commit per block (every
//!   16th synced to disk on the store's sync thread), exactly what the follower (`surety operator
//!   run` and `verify`) does on a run of blocks while catching up, minus the JSON-RPC fetch: block
//!   N+1 executes while block N's root is computed and committed on a second thread
//!   ([`ExecutionKind::verify_chain`]);
//! - raw revm: the same execution rules on the same blocks over an in-memory state, no trie and
//!   no disk — the limit the engine can approach;
//!
//! and the ratio. The chain is the testkit's mixed workload on an anvil L2, generated once and
//! replayed three times through each path, alternating (the fastest replay of each counts). The
//! full engine's time includes syncing its last blocks.
//!
//! Run: `cargo bench -p surety-operator --bench engine`
//! (`SURETY_ENGINE_BENCH_BLOCKS`, default 200; `SURETY_ENGINE_BENCH_TXS` per block, default 60).

use std::time::{Duration, Instant};

use alloy::providers::Provider;
use surety_operator::{
    execution::{BlockInput, EthereumHardfork, EthereumRules, ExecutionKind},
    follower::checked_input,
    genesis::GenesisFile,
    state::{MemoryState, StateChanges, StateStore, Verdict},
};
use surety_testkit::{
    l2::L2,
    workload::{Workload, WorkloadConfig},
};

const CHAIN_ID: u64 = 4_244;
/// Replays of the generated chain through each path; the fastest counts.
const REPLAYS: usize = 3;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).map_or(default, |v| v.parse().expect(name))
}

struct Figures {
    elapsed: Duration,
    /// CPU time of the whole process (every thread) over the same span.
    cpu: Duration,
    gas: u64,
}

/// CPU time this process has used (user + system, all threads), from `/proc/self/stat`.
fn process_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let fields: Vec<&str> = stat[stat.rfind(')').expect("stat") + 2..]
        .split(' ')
        .collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // Linux reports them in USER_HZ, 100 on every architecture we run on.
    Duration::from_millis(ticks * 10)
}

impl Figures {
    fn print(&self, label: &str, blocks: usize) {
        let secs = self.elapsed.as_secs_f64();
        println!(
            "{label:<58} {:>8.1} blocks/s {:>8.1} Mgas/s  ({secs:.2} s, CPU {:.2} s)",
            blocks as f64 / secs,
            self.gas as f64 / 1e6 / secs,
            self.cpu.as_secs_f64(),
        );
    }
}

fn full_engine(kind: &ExecutionKind, genesis: StateChanges, blocks: &[BlockInput]) -> Figures {
    let dir = tempfile::tempdir().unwrap();
    let store = StateStore::open(dir.path().join("state.redb")).unwrap();
    store.bootstrap(&blocks[0].header, genesis).unwrap();
    let (started, cpu) = (Instant::now(), process_cpu());
    let verdicts = kind
        .verify_chain(&store, &blocks[1..], |_| Vec::new())
        .unwrap();
    assert_eq!(verdicts.len(), blocks.len() - 1);
    let mut gas = 0;
    for (block, verified) in blocks[1..].iter().zip(verdicts) {
        gas += verified.gas_used;
        assert!(
            matches!(verified.verdict, Verdict::Match(_)),
            "block {}: {:?}",
            block.header.number,
            verified.verdict
        );
    }
    // The last blocks' sync is part of the work: timed, not left to the sync thread.
    store.flush().unwrap();
    Figures {
        elapsed: started.elapsed(),
        cpu: process_cpu() - cpu,
        gas,
    }
}

fn raw_revm(kind: &ExecutionKind, genesis: StateChanges, blocks: &[BlockInput]) -> Figures {
    let mut state = MemoryState::default();
    state.apply(0, blocks[0].hash, &genesis);
    let (started, cpu, mut gas) = (Instant::now(), process_cpu(), 0);
    for block in &blocks[1..] {
        let executed = kind.execute(&state, block).unwrap();
        gas += executed.gas_used;
        state.apply(block.header.number, block.hash, &executed.changes);
    }
    Figures {
        elapsed: started.elapsed(),
        cpu: process_cpu() - cpu,
        gas,
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this too and must stay quick.
    let quick = !std::env::args().any(|arg| arg == "--bench");
    let count = if quick {
        5
    } else {
        env("SURETY_ENGINE_BENCH_BLOCKS", 200)
    };
    let txs = env("SURETY_ENGINE_BENCH_TXS", 60) as usize;

    let l2 = L2::start(CHAIN_ID, 64).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let blocks: Vec<BlockInput> = runtime.block_on(async {
        let provider = l2.provider();
        let config = WorkloadConfig::new(l2.genesis.keys.clone()).txs_per_block(txs);
        Workload::new(1, config)
            .run(&provider, count)
            .await
            .unwrap();
        let head = provider.get_block_number().await.unwrap();
        let mut blocks = Vec::new();
        for number in 0..=head {
            let block = provider
                .get_block_by_number(number.into())
                .full()
                .await
                .unwrap()
                .unwrap();
            blocks.push(checked_input(block).unwrap());
        }
        blocks
    });
    let genesis = GenesisFile::load(l2.file.path()).unwrap();
    let kind = ExecutionKind::Ethereum(EthereumRules::anvil(CHAIN_ID, EthereumHardfork::Prague));
    let history = kind.has_history_contract();
    let n = blocks.len() - 1;
    let tx_count: usize = blocks.iter().map(|b| b.transactions.len()).sum();

    // Best of a few replays of each path, the two paths alternating so that a change in the
    // machine's load falls on both: the chain is generated once, and the fastest replay is the
    // least disturbed by whatever else the machine is doing.
    let runs = if quick { 1 } else { REPLAYS };
    let faster = |best: Option<Figures>, run: Figures| match best {
        Some(best) if best.elapsed <= run.elapsed => best,
        _ => run,
    };
    let (mut raw, mut full) = (None, None);
    for _ in 0..runs {
        let r = raw_revm(&kind, genesis.state(history), &blocks);
        let f = full_engine(&kind, genesis.state(history), &blocks);
        assert_eq!(r.gas, f.gas);
        raw = Some(faster(raw, r));
        full = Some(faster(full, f));
    }
    let (raw, full) = (raw.expect("one replay"), full.expect("one replay"));

    println!(
        "engine: {n} blocks, {tx_count} transactions, {:.1} Mgas of the mixed workload \
         (best of {runs} replays each)",
        full.gas as f64 / 1e6
    );
    full.print("full engine (execute ‖ incremental root + redb commit)", n);
    raw.print("raw revm, same blocks, in-memory state (the limit)", n);
    println!(
        "full engine / raw revm: {:.0} %",
        100.0 * raw.elapsed.as_secs_f64() / full.elapsed.as_secs_f64()
    );
}
