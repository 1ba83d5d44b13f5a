//! `surety operator …`: the operator's node and tools.

use clap::Subcommand;

mod slashing_protection;

#[derive(Debug, Subcommand)]
pub(crate) enum OperatorCommand {
    /// Export or import the signing history (slashing protection).
    #[command(subcommand)]
    SlashingProtection(slashing_protection::Command),
}

pub(crate) fn run(command: OperatorCommand) -> eyre::Result<()> {
    match command {
        OperatorCommand::SlashingProtection(command) => slashing_protection::run(command),
    }
}
