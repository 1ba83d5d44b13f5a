//! `surety operator …`: the operator's node and tools.

use clap::Subcommand;

mod blocktest;
mod slashing_protection;
mod verify;

pub(crate) use verify::serve_metrics;

#[derive(Debug, Subcommand)]
pub(crate) enum OperatorCommand {
    /// Run Ethereum BlockchainTest fixtures (execution-spec-tests) through the engine.
    Blocktest(blocktest::Args),
    /// Export or import the signing history (slashing protection).
    #[command(subcommand)]
    SlashingProtection(slashing_protection::Command),
    /// Follow a rollup over JSON-RPC, re-execute every block and check its state root.
    Verify(verify::Args),
}

pub(crate) fn run(command: OperatorCommand) -> eyre::Result<()> {
    match command {
        OperatorCommand::Blocktest(args) => blocktest::run(args),
        OperatorCommand::SlashingProtection(command) => slashing_protection::run(command),
        OperatorCommand::Verify(args) => verify::run(args),
    }
}
