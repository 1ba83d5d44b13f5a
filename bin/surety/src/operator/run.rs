//! `surety operator run --config FILE`: the node a restaker runs — follow every configured
//! rollup, re-execute each block, sign what the finality policy allows, deliver to every
//! aggregator.

use std::path::PathBuf;

use alloy::primitives::Address;
use eyre::{WrapErr, eyre};
use surety_operator::{
    NodeOutcome, NodeSpec, OperatorNode, RollupSpec, SigningSpec,
    config::OperatorConfig,
    watchtower::{WatchContracts, WatchtowerSpec},
};
use surety_primitives::{Keystore, SecretKey, config::ConfigFile};

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
    let contracts = contracts(&config)?;
    let watchtower = match (&config.keys.ecdsa_key_file, contracts.slasher) {
        (Some(_), Some(slasher)) => Some(WatchtowerSpec {
            l1_rpc: config.l1.rpc.clone(),
            contracts: WatchContracts {
                verifier: contracts.verifier,
                registry: contracts.registry,
                slasher,
            },
            wallet: super::ecdsa_signer(&config)?,
        }),
        _ => {
            tracing::warn!(
                "watchtower off: it needs keys.ecdsa_key_file and the Slasher's address \
                 (l1.deployment or l1.slasher)"
            );
            None
        }
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
            verifier: contracts.verifier,
            secret_key,
            aggregators: config.aggregators.iter().map(|a| a.url.clone()).collect(),
            delivery: config.delivery.clone(),
            watchtower,
        }),
        until: args.until,
        poll_interval: std::time::Duration::from_millis(config.poll_interval_ms),
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

pub(crate) fn unlock(config: &OperatorConfig) -> eyre::Result<SecretKey> {
    let keys = &config.keys;
    let keystore = Keystore::read(&keys.bls_keystore)
        .wrap_err_with(|| format!("reading keys.bls_keystore {}", keys.bls_keystore.display()))?;
    let password = read_password_file(&keys.bls_password_file)?;
    keystore
        .decrypt(&password)
        .wrap_err_with(|| format!("unlocking {}", keys.bls_keystore.display()))
}

/// The contract addresses the node needs, from the deployment file or the explicit keys.
struct Contracts {
    verifier: Address,
    registry: Address,
    slasher: Option<Address>,
}

fn contracts(config: &OperatorConfig) -> eyre::Result<Contracts> {
    let l1 = &config.l1;
    if let Some(path) = &l1.deployment {
        let s = super::read_deployment(path)?.surety;
        return Ok(Contracts {
            verifier: s.certificate_verifier,
            registry: s.operator_registry,
            slasher: Some(s.slasher),
        });
    }
    match (l1.certificate_verifier, l1.operator_registry) {
        (Some(verifier), Some(registry)) => Ok(Contracts {
            verifier,
            registry,
            slasher: l1.slasher,
        }),
        _ => Err(eyre!("l1: give `deployment` or the contract addresses")),
    }
}
