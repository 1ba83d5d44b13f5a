//! `surety operator verify`: follow a rollup, re-execute every block, compare state roots.

use eyre::{WrapErr, eyre};
use std::{path::PathBuf, sync::Arc, time::Duration};
use surety_operator::{
    execution::{EthereumHardfork, ExecutionKind, RuleSet},
    follower::{Follower, FollowerConfig, Outcome, connect_http},
    genesis::GenesisFile,
    metrics::Metrics,
    metrics::serve as serve_prometheus,
    state::StateStore,
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
    /// Stay this many blocks behind the endpoint's head.
    #[arg(long, default_value_t = 0)]
    confirmations: u64,
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
    /// Serve Prometheus metrics at http://ADDR/metrics (e.g. 127.0.0.1:9100).
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
    let genesis = GenesisFile::load(&args.genesis)?;
    let hardfork: EthereumHardfork = args
        .hardfork
        .parse()
        .map_err(|_| eyre!("unknown hardfork `{}`", args.hardfork))?;
    std::fs::create_dir_all(&args.datadir)
        .wrap_err_with(|| format!("creating {}", args.datadir.display()))?;
    let store = Arc::new(StateStore::open(args.datadir.join("state.redb"))?);
    let kind = ExecutionKind::Ethereum(args.rules.rules(genesis.chain_id(), hardfork));
    let config = FollowerConfig {
        confirmations: args.confirmations,
        until: args.until,
        poll_interval: Duration::from_millis(250),
        ..FollowerConfig::default()
    };
    let metrics = Arc::new(Metrics::default());
    if let Some(addr) = args.metrics_addr {
        serve_metrics(addr, metrics.clone()).await?;
    }
    let follower = Follower::new(
        connect_http(&args.l2_rpc)?,
        store.clone(),
        kind,
        metrics,
        config,
    );
    follower.bootstrap(&genesis).await?;
    if let Some(head) = store.head() {
        tracing::info!(head = head.number, root = %head.state_root, "resuming from the verified head");
    }
    let (outcome, stats) = follower.run().await?;
    let secs = stats.elapsed.as_secs_f64().max(1e-9);
    println!(
        "verified {} blocks, {:.1} Mgas in {:.1}s ({:.1} blocks/s, {:.1} Mgas/s)",
        stats.blocks,
        stats.gas as f64 / 1e6,
        secs,
        stats.blocks as f64 / secs,
        stats.gas as f64 / 1e6 / secs
    );
    match outcome {
        Outcome::Reached { head } => {
            println!("every block up to {head} matched its state root");
            Ok(())
        }
        Outcome::Mismatch {
            number,
            hash,
            claimed,
            computed,
        } => Err(eyre!(
            "state root mismatch at block {number} ({hash}): header claims {claimed}, \
             re-execution computed {computed}"
        )),
        Outcome::Invalid {
            number,
            hash,
            reason,
        } => Err(eyre!("block {number} ({hash}) is invalid: {reason}")),
    }
}

/// Binds `addr` and serves the engine's metrics there for the life of the process.
pub(crate) async fn serve_metrics(
    addr: std::net::SocketAddr,
    metrics: Arc<Metrics>,
) -> eyre::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .wrap_err_with(|| format!("binding the metrics endpoint {addr}"))?;
    let bound = listener.local_addr()?;
    tracing::info!("serving Prometheus metrics at http://{bound}/metrics");
    tokio::spawn(serve_prometheus(listener, move || {
        metrics.render_prometheus()
    }));
    Ok(())
}
