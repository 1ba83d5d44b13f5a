//! Soak / speed run of the workload generator on a fresh anvil L2:
//!
//! ```text
//! cargo run -p surety-testkit --release --example workload -- [BLOCKS] [TXS_PER_BLOCK] [SEED]
//! ```
//!
//! Prints one line per 100 blocks and a summary (defaults: 1,000 blocks, 40 txs, seed 1). The
//! anvil URL is printed first so a verifier can follow the chain while it grows.

use std::time::Instant;

use surety_testkit::{
    l2::L2,
    workload::{Workload, WorkloadConfig},
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let arg = |i: usize, default: u64| {
        std::env::args()
            .nth(i)
            .and_then(|a| a.parse().ok())
            .unwrap_or(default)
    };
    let (blocks, txs, seed) = (arg(1, 1_000), arg(2, 40) as usize, arg(3, 1));

    let l2 = L2::start(901, 64)?;
    println!(
        "L2 at {} (chain 901), genesis {}",
        l2.anvil.endpoint(),
        l2.file.path().display()
    );
    let provider = l2.provider();
    let mut workload = Workload::new(
        seed,
        WorkloadConfig::new(l2.genesis.keys.clone()).txs_per_block(txs),
    );

    let start = Instant::now();
    let (mut sent, mut reverted, mut gas) = (0, 0, 0u64);
    for i in 1..=blocks {
        let block = workload.next_block(&provider).await?;
        sent += block.sent;
        reverted += block.reverted;
        gas += block.gas_used;
        if i % 100 == 0 || i == blocks {
            let secs = start.elapsed().as_secs_f64();
            println!(
                "block {:>6}  txs {sent:>8}  reverted {reverted:>6}  gas {:>8.1} M  {:>6.1} blocks/s  {:>6.1} Mgas/s",
                block.number,
                gas as f64 / 1e6,
                i as f64 / secs,
                gas as f64 / 1e6 / secs,
            );
        }
    }
    Ok(())
}
