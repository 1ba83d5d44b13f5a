//! `surety devnet`: Surety on local chains.
//!
//! Without a subcommand it runs the whole system live (see [`run`]); `surety devnet deploy` only
//! deploys the L1 contracts to a running anvil.

mod deploy;
mod faults;
mod layout;
mod monitor;
mod process;
mod run;
mod scenario;

use clap::Subcommand;

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Option<DevnetCommand>,
    #[command(flatten)]
    run: run::RunArgs,
}

#[derive(Debug, Subcommand)]
enum DevnetCommand {
    /// Deploy the EigenLayer core, a restakable test token and Surety's contracts on a running
    /// L1 (anvil with `--hardfork prague`), wire them, and print every address.
    Deploy(deploy::DeployArgs),
}

pub(crate) fn run(args: Args) -> eyre::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match args.command {
        Some(DevnetCommand::Deploy(deploy)) => runtime.block_on(deploy::deploy(deploy)),
        None => runtime.block_on(run::run(args.run)),
    }
}
