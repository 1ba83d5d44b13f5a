//! Soak of the re-execution engine and its storage: the testkit's mixed workload on a real anvil
//! L2, every block re-executed and committed through the real engine and redb state store, every
//! block signed through the real slashing-protection database (one batch per chunk), and — unless
//! `--no-prune` — both pruned as the node prunes them: at the L2's `finalized` block (anvil:
//! 64 below its head) minus the retention, never past the signed head.
//!
//! Prints, every `--report-every` blocks, the datadir's size (state store + signing history;
//! the files' length and the disk they occupy),
//! the bytes in the store's state and history tables, and the process' resident and peak
//! resident memory (`VmRSS`, `VmHWM`). The datadir is a temporary directory, deleted at the end.
//!
//! ```sh
//! cargo run --release -p surety-operator --example soak -- --blocks 20000
//! cargo run --release -p surety-operator --example soak -- --blocks 20000 --no-prune
//! ```
//!
//! Options: `--blocks N` (default 20000), `--txs N` workload transactions per block (default 4),
//! `--retention N` (default 128, the node's), `--report-every N` (default 1000),
//! `--cache-mib N` (default 256, the node's), `--churn` (only traffic that rewrites a bounded
//! state — storage fills and clears over 536 slots, compute, reverts, logs, precompiles — instead
//! of the full mix, whose transfers to fresh addresses and contract creations grow the state
//! itself by design: with `--churn` every byte of growth would be history or redb garbage).

use std::{collections::HashMap, path::Path, sync::Arc, time::Instant};

use alloy::{eips::BlockNumberOrTag, providers::Provider};
use alloy_primitives::Address;
use surety_operator::{
    execution::{EthereumHardfork, EthereumRules, ExecutionKind},
    follower::checked_input,
    genesis::GenesisFile,
    node::prune_height,
    state::{StateStore, Verdict},
};
use surety_primitives::{Domain, SecretKey, Statement};
use surety_slashing_protection::{ProtectedSigner, SlashingDatabase, database_path};
use surety_testkit::{
    genesis::GenesisBuilder,
    workload::{Mix, Workload, WorkloadConfig},
};

const CHAIN_ID: u64 = 4_246;
const ROLLUP_ID: u64 = 1;
/// Blocks generated, verified and signed per round (the node prunes every 64 blocks).
const CHUNK: u64 = 64;

struct Args {
    blocks: u64,
    txs: usize,
    prune: bool,
    retention: u64,
    report_every: u64,
    cache_mib: usize,
    churn: bool,
}

impl Args {
    fn parse() -> Self {
        let mut args = Self {
            blocks: 20_000,
            txs: 4,
            prune: true,
            retention: 128,
            report_every: 1_000,
            cache_mib: 256,
            churn: false,
        };
        let mut it = std::env::args().skip(1);
        while let Some(arg) = it.next() {
            let mut value = || -> u64 {
                it.next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| panic!("{arg} takes a number"))
            };
            match arg.as_str() {
                "--blocks" => args.blocks = value(),
                "--txs" => args.txs = value() as usize,
                "--retention" => args.retention = value(),
                "--report-every" => args.report_every = value().max(1),
                "--cache-mib" => args.cache_mib = value() as usize,
                "--no-prune" => args.prune = false,
                "--churn" => args.churn = true,
                other => panic!("unknown argument {other} (see the example's docs)"),
            }
        }
        args
    }
}

/// `VmRSS` and `VmHWM` of this process, in KiB.
fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Apparent size and allocated disk space of the files under `dir` (redb grows its file in
/// large regions it has not written yet, so the two differ).
fn dir_bytes(dir: &Path) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| match entry.metadata() {
            Ok(meta) if meta.is_dir() => dir_bytes(&entry.path()),
            Ok(meta) => (meta.len(), meta.blocks() * 512),
            Err(_) => (0, 0),
        })
        .fold((0, 0), |(a, b), (c, d)| (a + c, b + d))
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1 << 20) as f64
}

fn main() {
    let args = Args::parse();
    let genesis = GenesisBuilder::new(CHAIN_ID).funded_accounts(16).build();
    let genesis_file = genesis.write_temp().expect("genesis file");
    // Anvil keeps only recent states in memory (and none on disk): the soak runs for hours of
    // chain time and the disk is the resource under test.
    let anvil = genesis
        .anvil(genesis_file.path())
        .no_mining()
        .arg("--prune-history=256")
        .spawn()
        .expect("anvil");
    let provider = alloy::providers::RootProvider::new_http(anvil.url());
    let runtime = tokio::runtime::Runtime::new().expect("runtime");

    let datadir = tempfile::tempdir().expect("datadir");
    let store_dir = datadir.path().join("rollups").join(ROLLUP_ID.to_string());
    std::fs::create_dir_all(&store_dir).expect("store dir");
    let store = Arc::new(
        StateStore::open_with_cache(store_dir.join("state.redb"), args.cache_mib << 20)
            .expect("state store"),
    );
    let kind = ExecutionKind::Ethereum(EthereumRules::anvil(CHAIN_ID, EthereumHardfork::Prague));
    let block0 = runtime
        .block_on(async { provider.get_block_by_number(0.into()).full().await })
        .expect("block 0")
        .expect("block 0 exists");
    let block0 = checked_input(block0).expect("block 0");
    let genesis_state = GenesisFile::load(genesis_file.path())
        .expect("genesis")
        .state(kind.has_history_contract());
    store
        .bootstrap(&block0.header, genesis_state)
        .expect("bootstrap");

    let domain = Domain::new(31_337, Address::repeat_byte(0x5e));
    let db = SlashingDatabase::create_or_open(&database_path(datadir.path()), &domain)
        .expect("slashing-protection database");
    let chains = HashMap::from([(ROLLUP_ID, store.clone())]);
    let signer = ProtectedSigner::new(db, SecretKey::from_ikm(&[9; 32]), chains);

    let mut config = WorkloadConfig::new(genesis.keys.clone()).txs_per_block(args.txs);
    if args.churn {
        config = config.mix(Mix {
            transfer: 0,
            erc20: 0,
            create: 0,
            delegation: 0,
            ..Mix::default()
        });
    }
    let mut workload = Workload::new(7, config);
    println!(
        "soak: {} blocks of the {} workload ({} txs per block), pruning {}, retention {}, \
         cache {} MiB, datadir {}",
        args.blocks,
        if args.churn { "churning" } else { "mixed" },
        args.txs,
        if args.prune { "on" } else { "off" },
        args.retention,
        args.cache_mib,
        datadir.path().display()
    );
    println!(
        "{:>7} {:>10} {:>10} {:>10} {:>11} {:>11} {:>9} {:>9} {:>8} {:>9}",
        "blocks",
        "txs",
        "files",
        "on disk",
        "state tbls",
        "history",
        "RSS",
        "peak RSS",
        "blk/s",
        "elapsed"
    );
    let started = Instant::now();
    let (mut verified, mut txs, mut next_report) = (0u64, 0usize, args.report_every);
    let mut generation = std::time::Duration::ZERO;
    while verified < args.blocks {
        let chunk = CHUNK.min(args.blocks - verified);
        let generating = Instant::now();
        let blocks = runtime.block_on(async {
            workload.run(&provider, chunk).await.expect("workload");
            let head = provider.get_block_number().await.expect("head");
            let from = store.head().expect("bootstrapped").number + 1;
            let mut blocks = Vec::new();
            for number in from..=head {
                let block = provider
                    .get_block_by_number(number.into())
                    .full()
                    .await
                    .expect("block")
                    .expect("mined block");
                blocks.push(checked_input(block).expect("well-formed block"));
            }
            blocks
        });
        generation += generating.elapsed();
        let mut statements = Vec::new();
        for block in &blocks {
            let verdict = kind
                .verify(&store, block, Vec::new)
                .expect("verify")
                .verdict;
            assert!(
                matches!(verdict, Verdict::Match(_)),
                "block {}: {verdict:?}",
                block.header.number
            );
            txs += block.transactions.len();
            let verified_block = store
                .verified_block(block.header.number)
                .expect("store")
                .expect("just verified");
            statements.push(Statement {
                rollup_id: ROLLUP_ID,
                block_number: verified_block.number,
                block_hash: verified_block.hash,
                parent_hash: verified_block.parent_hash,
                state_root: verified_block.state_root,
            });
        }
        // Caught up with the generated chain: sync and announce, as the follower does.
        store.flush().expect("flush");
        signer
            .sign_batch(&domain, &statements)
            .expect("signing verified blocks");
        let head = store.head().expect("bootstrapped").number;
        if args.prune {
            let finalized = runtime
                .block_on(async {
                    provider
                        .get_block_by_number(BlockNumberOrTag::Finalized)
                        .await
                })
                .expect("finalized block")
                .map(|b| b.header.number);
            if let Some(height) = prune_height(finalized, args.retention, Some(head)) {
                store.prune(height).expect("prune the store");
                signer
                    .prune(ROLLUP_ID, height)
                    .expect("prune the signing history");
            }
        }
        verified = head;
        while verified >= next_report {
            let sizes = store.sizes().expect("sizes");
            let (rss, peak) = memory_kib();
            let (files, disk) = dir_bytes(datadir.path());
            let secs = started.elapsed().as_secs_f64();
            println!(
                "{:>7} {:>10} {:>6.1} MiB {:>6.1} MiB {:>7.2} MiB {:>7.2} MiB {:>5} MiB {:>5} MiB {:>8.1} {:>7.0} s",
                next_report,
                txs,
                mib(files),
                mib(disk),
                mib(sizes.state),
                mib(sizes.history),
                rss / 1024,
                peak / 1024,
                verified as f64 / secs,
                secs
            );
            next_report += args.report_every;
        }
    }
    let (_, peak) = memory_kib();
    let (files, disk) = dir_bytes(datadir.path());
    println!(
        "done: {verified} blocks, {txs} transactions in {:.0} s ({:.0} s generating them on \
         anvil); datadir {:.1} MiB ({:.1} MiB on disk); peak RSS {} MiB",
        started.elapsed().as_secs_f64(),
        generation.as_secs_f64(),
        mib(files),
        mib(disk),
        peak / 1024
    );
}
