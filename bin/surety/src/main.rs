//! `surety`: one binary for every Surety user — operators, aggregators, rollups and users —
//! in the manner of `lighthouse bn|vc|account` or `reth node|db`.
//!
//! Each subcommand lives in its own module and owns its arguments; this file only parses the
//! command line, sets up logging and dispatches.

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

mod aggregator;
mod chain;
#[cfg(feature = "devnet")]
mod devnet;
mod keys;
mod operator;

/// Surety: economic finality for rollups, secured by restaked EigenLayer operators.
#[derive(Debug, Parser)]
#[command(name = "surety", version, about, propagate_version = true)]
struct Cli {
    /// Log filter, in `RUST_LOG` syntax (e.g. `info`, `surety_operator=debug`).
    #[arg(long, global = true, env = "RUST_LOG", default_value = "info")]
    log: String,
    /// Log line format on stderr: `text` for people, `json` (one object per line) for log
    /// collectors.
    #[arg(long, global = true, value_enum, env = "SURETY_LOG_FORMAT", default_value_t = LogFormat::Text)]
    log_format: LogFormat,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Aggregator service.
    #[command(subcommand)]
    Aggregator(aggregator::AggregatorCommand),
    /// For cover holders: where a claim stands, and paying it.
    #[command(subcommand)]
    Claim(chain::claim::ClaimCommand),
    /// For users and apps: insure against a certificate being wrong.
    #[command(subcommand)]
    Cover(chain::cover::CoverCommand),
    /// Surety live on local chains: L1 with EigenLayer and Surety, a busy L2, operator nodes and
    /// aggregators as processes, certificates landing on L1.
    #[cfg(feature = "devnet")]
    Devnet(devnet::Args),
    /// The manual path from a fault to a slash: double signing, invalid statements, accusing,
    /// resolving and slashing a wrong certificate's signers.
    #[command(subcommand)]
    Evidence(chain::evidence::EvidenceCommand),
    /// Create, import and list BLS signing keys (EIP-2335 keystores).
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Operator node and tools.
    #[command(subcommand)]
    Operator(operator::OperatorCommand),
    /// For rollup owners: register, inspect, fund, set the threshold, pause.
    #[command(subcommand)]
    Rollup(chain::rollup::RollupCommand),
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

fn main() -> eyre::Result<()> {
    let cli = Cli::parse();
    let logs = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_new(&cli.log)?)
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().flatten_event(true).init(),
    }
    match cli.command {
        Command::Aggregator(command) => aggregator::run(command),
        Command::Claim(command) => chain::claim::run(command),
        Command::Cover(command) => chain::cover::run(command),
        #[cfg(feature = "devnet")]
        Command::Devnet(args) => devnet::run(args),
        Command::Evidence(command) => chain::evidence::run(command),
        Command::Keys(command) => keys::run(command),
        Command::Operator(command) => operator::run(command),
        Command::Rollup(command) => chain::rollup::run(command),
    }
}
