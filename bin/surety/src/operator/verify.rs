//! `surety operator verify`: follow a rollup, re-execute every block, compare state roots —
//! the node without keys, signing or L1.

use eyre::eyre;
use std::{path::PathBuf, time::Duration};
use surety_operator::{
    NodeOutcome, NodeSpec, OperatorNode, RollupSpec, config::SignAt, execution::RuleSet,
};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// JSON-RPC endpoint of the rollup (L2).
    #[arg(long)]
    l2_rpc: String,
    /// The rollup's geth-style genesis file (as given to anvil's `--init`).
    #[arg(long)]
    genesis: PathBuf,
    /// Directory of the operator's state database (created if missing; resumes if present).
    #[arg(long)]
    datadir: PathBuf,
    /// Stop after verifying this block; exit 0 only if every block up to it matched.
    #[arg(long)]
    until: Option<u64>,
    /// The rollup's hardfork (Ethereum rules, every fork up to it active from genesis).
    #[arg(long, default_value = "prague")]
    hardfork: String,
    /// The rules the rollup's blocks follow: `ethereum` (the specification) or `anvil` (an
    /// anvil-run chain, with anvil's state quirks).
    #[arg(long, default_value_t = RuleSet::Ethereum)]
    rules: RuleSet,
    /// Serve Prometheus metrics at http://ADDR/metrics, status at /status and the EigenLayer
    /// node API at /eigen/node.
    #[arg(long, value_name = "ADDR")]
    metrics_addr: Option<std::net::SocketAddr>,
}

pub(crate) fn run(args: Args) -> eyre::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(verify(args))
}

async fn verify(args: Args) -> eyre::Result<()> {
    let hardfork = args
        .hardfork
        .parse()
        .map_err(|_| eyre!("unknown hardfork `{}`", args.hardfork))?;
    let node = OperatorNode::build(NodeSpec {
        datadir: args.datadir,
        http_addr: args.metrics_addr,
        rollups: vec![RollupSpec {
            id: 0,
            rpc: args.l2_rpc,
            genesis: args.genesis,
            hardfork,
            rules: args.rules,
            sign_at: SignAt::Latest,
        }],
        signing: None,
        until: args.until,
        poll_interval: Duration::from_millis(250),
    })
    .await?;
    let started = std::time::Instant::now();
    let outcome = node.run(super::shutdown_signal()).await?;
    match outcome {
        NodeOutcome::Reached => {
            println!(
                "every block up to {} matched its state root ({:.1} s)",
                args.until.unwrap_or(0),
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        NodeOutcome::Stopped => Ok(()),
        NodeOutcome::Fault(faults) => Err(eyre!("{}", faults[0])),
    }
}
