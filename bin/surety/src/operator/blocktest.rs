//! `surety operator blocktest PATH…`: Ethereum's BlockchainTest fixtures through the engine.

use eyre::eyre;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Fixture files, or directories searched recursively for `*.json`.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
}

/// Prints one line per failing case, then `N passed, N failed, N skipped`; fails if any failed.
pub(crate) fn run(args: Args) -> eyre::Result<()> {
    let summary = surety_operator::blocktest::run(&args.paths, |failure| println!("{failure}"));
    println!("{summary}");
    if summary.failed > 0 {
        return Err(eyre!("{} blocktest case(s) failed", summary.failed));
    }
    Ok(())
}
