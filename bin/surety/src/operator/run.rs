//! `surety operator run --config FILE`: the node a restaker runs — follow every configured
//! rollup, re-execute each block, sign what the finality policy allows, deliver to every
//! aggregator.

use std::path::PathBuf;

use eyre::{WrapErr, eyre};
use surety_operator::{
    NodeOutcome, NodeSpec, OperatorNode, RollupSpec, SigningSpec, config::OperatorConfig,
};
use surety_primitives::{Keystore, SecretKey};

use crate::keys::read_password_file;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The node's TOML configuration (see `config/operator.example.toml`).
    #[arg(long, value_name = "FILE", env = "SURETY_OPERATOR_CONFIG")]
    config: PathBuf,
    /// Stop once every rollup is verified and signed up to this block (default: run until
    /// Ctrl-C or SIGTERM).
    #[arg(long, value_name = "N")]
    until: Option<u64>,
}

pub(crate) fn run(args: Args) -> eyre::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run_node(args))
}

async fn run_node(args: Args) -> eyre::Result<()> {
    let config = OperatorConfig::load(&args.config)?;
    let secret_key = unlock(&config)?;
    let verifier = match (&config.l1.deployment, config.l1.certificate_verifier) {
        (_, Some(verifier)) => verifier,
        (Some(path), None) => {
            let json = std::fs::read_to_string(path)
                .wrap_err_with(|| format!("reading the deployment file {}", path.display()))?;
            let deployment: surety_contracts::Deployment = serde_json::from_str(&json)
                .wrap_err_with(|| format!("parsing the deployment file {}", path.display()))?;
            deployment.surety.certificate_verifier
        }
        (None, None) => unreachable!("validated at load"),
    };
    let spec = NodeSpec {
        datadir: config.datadir.clone(),
        http_addr: config.http_addr,
        rollups: config
            .rollups
            .iter()
            .map(|r| RollupSpec {
                id: r.id,
                rpc: r.rpc.clone(),
                genesis: r.genesis.clone(),
                hardfork: r.hardfork,
                rules: r.rules,
                sign_at: r.sign_at,
            })
            .collect(),
        signing: Some(SigningSpec {
            l1_rpc: config.l1.rpc.clone(),
            verifier,
            secret_key,
            aggregators: config.aggregators.iter().map(|a| a.url.clone()).collect(),
            delivery: config.delivery.clone(),
        }),
        until: args.until,
        poll_interval: std::time::Duration::from_millis(250),
    };
    let node = OperatorNode::build_with_storage(spec, config.storage.spec()).await?;
    match node.run(super::shutdown_signal()).await? {
        NodeOutcome::Stopped => Ok(()),
        NodeOutcome::Reached => {
            println!(
                "every rollup verified and signed up to block {}",
                args.until.unwrap_or(0)
            );
            Ok(())
        }
        NodeOutcome::Fault(faults) => Err(eyre!(
            "{}",
            faults
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        )),
    }
}

fn unlock(config: &OperatorConfig) -> eyre::Result<SecretKey> {
    let keys = &config.keys;
    let keystore = Keystore::read(&keys.bls_keystore)
        .wrap_err_with(|| format!("reading keys.bls_keystore {}", keys.bls_keystore.display()))?;
    let password = read_password_file(&keys.bls_password_file)?;
    keystore
        .decrypt(&password)
        .wrap_err_with(|| format!("unlocking {}", keys.bls_keystore.display()))
}
