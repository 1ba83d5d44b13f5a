//! `surety operator …`: the operator's node and tools.

use std::path::Path;

use alloy::signers::local::PrivateKeySigner;
use clap::Subcommand;
use eyre::{WrapErr, eyre};
use surety_contracts::account::load_signer;
use surety_operator::config::OperatorConfig;

mod blocktest;
mod register;
mod run;
mod slashing_protection;
mod status;
mod verify;

#[derive(Debug, Subcommand)]
pub(crate) enum OperatorCommand {
    /// Run the operator node: follow every configured rollup, re-execute each block, sign what
    /// the rollup's finality policy allows and deliver the attestations to every aggregator.
    Run(run::Args),
    /// Register the configured account as a Surety operator (EigenLayer operator, BLS key,
    /// collateral, allocation, operator set), skipping every step already done.
    Register(register::Args),
    /// Show what a running node is doing, per rollup and per aggregator.
    Status(status::Args),
    /// Run Ethereum BlockchainTest fixtures (execution-spec-tests) through the engine.
    Blocktest(blocktest::Args),
    /// Follow a rollup over JSON-RPC, re-execute every block and check its state root (no keys,
    /// no signing).
    Verify(verify::Args),
    /// Export or import the signing history (slashing protection).
    #[command(subcommand)]
    SlashingProtection(slashing_protection::Command),
}

pub(crate) fn run(command: OperatorCommand) -> eyre::Result<()> {
    match command {
        OperatorCommand::Run(args) => run::run(args),
        OperatorCommand::Register(args) => register::run(args),
        OperatorCommand::Status(args) => status::run(args),
        OperatorCommand::Blocktest(args) => blocktest::run(args),
        OperatorCommand::Verify(args) => verify::run(args),
        OperatorCommand::SlashingProtection(command) => slashing_protection::run(command),
    }
}

/// Reads an addresses file as `surety devnet deploy` writes it (`[l1] deployment`).
pub(crate) fn read_deployment(path: &Path) -> eyre::Result<surety_contracts::Deployment> {
    let json = std::fs::read_to_string(path)
        .wrap_err_with(|| format!("reading the deployment file {}", path.display()))?;
    serde_json::from_str(&json)
        .wrap_err_with(|| format!("parsing the deployment file {}", path.display()))
}

/// The operator's L1 account (registration, watchtower), from `[keys] ecdsa_key_file` (and
/// `ecdsa_password_file` for an encrypted keystore).
pub(crate) fn ecdsa_signer(config: &OperatorConfig) -> eyre::Result<PrivateKeySigner> {
    let path = config.keys.ecdsa_key_file.as_ref().ok_or_else(|| {
        eyre!(
            "no ECDSA key configured: registration and the watchtower send L1 transactions from the \
             operator's account; set `[keys] ecdsa_key_file` to its hex key or encrypted keystore"
        )
    })?;
    load_signer(path, config.keys.ecdsa_password_file.as_deref())
        .wrap_err("loading keys.ecdsa_key_file")
}

/// Completes on Ctrl-C or SIGTERM.
pub(crate) async fn shutdown_signal() {
    let mut terminate =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(_) => return std::future::pending().await,
        };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}
