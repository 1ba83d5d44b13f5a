//! `surety aggregator …`: the aggregator service.

use std::path::PathBuf;

use clap::Subcommand;
use eyre::WrapErr;
use surety_aggregator::{Aggregator, AggregatorConfig};
use surety_primitives::config::ConfigFile;

#[derive(Debug, Subcommand)]
pub(crate) enum AggregatorCommand {
    /// Run the aggregator: take operators' attestations over gRPC, verify and aggregate them,
    /// post certificates and double-signing evidence to L1, serve the status page, /status and
    /// /metrics.
    Run(RunArgs),
}

#[derive(Debug, clap::Args)]
pub(crate) struct RunArgs {
    /// The aggregator's TOML configuration (see `config/aggregator.example.toml`).
    #[arg(long, value_name = "FILE", env = "SURETY_AGGREGATOR_CONFIG")]
    config: PathBuf,
}

pub(crate) fn run(command: AggregatorCommand) -> eyre::Result<()> {
    let AggregatorCommand::Run(args) = command;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async {
            let config = AggregatorConfig::load(&args.config)?;
            let aggregator = Aggregator::start(&config)
                .await
                .wrap_err("starting the aggregator")?;
            println!("aggregator gRPC on {}", aggregator.grpc_addr());
            if let Some(http) = aggregator.http_addr() {
                println!("aggregator status page on http://{http}/ (JSON at /status)");
            }
            crate::operator::shutdown_signal().await;
            aggregator.stop().await;
            Ok(())
        })
}
