//! `surety devnet`: what runs end to end today, on local chains.
//!
//! 1. L1: anvil (Prague) with the EigenLayer core and Surety deployed and wired;
//! 2. operators: anvil dev accounts restake fresh test tokens, register BLS keys with proofs of
//!    possession, lock collateral and join Surety's operator set through the AllocationManager;
//!    a keeper refresh records their slashable stake;
//! 3. L2: a second anvil under steady mixed traffic, registered as a Surety rollup;
//! 4. an operator node re-executing every L2 block and checking its state root, with progress.
//!
//! Ctrl-C (or SIGTERM) stops everything; `--blocks N` stops after block N is verified. `--lying-l2-at N` puts
//! a proxy between the operator and the L2 that lies about block N's state root (with a
//! consistent block hash): the operator must refuse it.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use alloy::{
    primitives::{B256, U256},
    providers::{Provider, ProviderBuilder, RootProvider, WalletProvider},
};
use eyre::{WrapErr, eyre};
use surety_contracts::{
    CoreParams, Deployment, SuretyParams, bindings::OperatorRegistry, deploy_all, send,
};
use surety_operator::{
    NodeOutcome, NodeSpec, OperatorNode, RollupSpec, compute_genesis,
    config::SignAt,
    execution::{EthereumHardfork, RuleSet},
};
use surety_primitives::SecretKey;

use surety_testkit::{
    anvil::{Anvil, AnvilInstance},
    genesis::GenesisBuilder,
    proxy::{RpcProxy, lie_about_state_root},
    workload::{Workload, WorkloadConfig},
};

/// The devnet rollup's chain id.
const L2_CHAIN_ID: u64 = 901;
/// The devnet rollup's Surety id (the first registered).
const ROLLUP_ID: u64 = 1;
/// Quorum threshold of the devnet rollup, in basis points (the minimum Surety allows).
const THRESHOLD_BPS: u16 = 6_667;
/// Blocks between an operator's allocation and the moment EigenLayer counts it.
const ALLOCATION_DELAY: u32 = 1;
const ETHER: u128 = 1_000_000_000_000_000_000;

#[derive(Debug, clap::Args)]
pub(super) struct RunArgs {
    /// Directory for the devnet's files: `l1.json` (addresses), `l2-genesis.json`, and the
    /// operator's state under `operator/` (wiped at start: every run begins new chains).
    #[arg(long, value_name = "DIR", default_value = ".surety/devnet")]
    datadir: PathBuf,
    /// Operators to register (anvil dev accounts 1..=N, restaking 10, 20, … ETH).
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u8).range(1..=9))]
    operators: u8,
    /// Seconds between L2 blocks.
    #[arg(long, value_name = "SECS", default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..))]
    l2_block_time: u64,
    /// Transactions per L2 block (transfers, ERC-20s, contract creation, storage, reverts, logs,
    /// precompiles, EIP-7702).
    #[arg(long, value_name = "N", default_value_t = 20)]
    txs_per_block: usize,
    /// Stop once the operator has verified this L2 block (default: run until Ctrl-C).
    #[arg(long, value_name = "N")]
    blocks: Option<u64>,
    /// Fault injection: the operator reads the L2 through a proxy that serves block N with a
    /// wrong state root (and a block hash recomputed to match it). N ≥ 1: the operator builds
    /// block 0's state from the genesis file itself.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    lying_l2_at: Option<u64>,
    /// Seed of the L2 workload.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Serve the operator's Prometheus metrics at http://ADDR/metrics.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9100")]
    metrics_addr: std::net::SocketAddr,
}

pub(super) async fn run(args: RunArgs) -> eyre::Result<()> {
    let operator_dir = args.datadir.join("operator");
    if operator_dir.exists() {
        std::fs::remove_dir_all(&operator_dir)
            .wrap_err_with(|| format!("clearing {}", operator_dir.display()))?;
    }
    std::fs::create_dir_all(&operator_dir)
        .wrap_err_with(|| format!("creating {}", operator_dir.display()))?;

    // Set up on an auto-mining L1 (one block per transaction); it gets a steady clock once the
    // rollup is registered.
    let l1 = Anvil::new().spawn().wrap_err("starting the L1 anvil")?;
    println!("L1   {} (chain {}, Prague)", l1.url(), l1.chain_id());
    let deployer = account(&l1, 0);
    let deployment = deploy(&deployer, &args.datadir).await?;
    onboard_operators(&l1, &deployer, &deployment, args.operators).await?;

    let genesis = GenesisBuilder::new(L2_CHAIN_ID).funded_accounts(32).build();
    let genesis_path = args.datadir.join("l2-genesis.json");
    std::fs::write(&genesis_path, genesis.to_json()?)
        .wrap_err_with(|| format!("writing {}", genesis_path.display()))?;
    let l2 = genesis
        .anvil(&genesis_path)
        .no_mining()
        .spawn()
        .wrap_err("starting the L2 anvil")?;
    println!("L2   {} (chain {L2_CHAIN_ID})", l2.url());

    let _proxy;
    let endpoint = match args.lying_l2_at {
        Some(number) => {
            let proxy = RpcProxy::spawn(
                l2.url(),
                lie_about_state_root(number, B256::repeat_byte(0x11)),
            )
            .await
            .wrap_err("starting the lying L2 proxy")?;
            println!(
                "     FAULT: the operator reads the L2 through {}, which lies about block \
                 {number}'s state root",
                proxy.url()
            );
            let url = proxy.url();
            _proxy = proxy;
            url
        }
        None => l2.url(),
    };
    // The operator computes the genesis root itself (anvil reports the empty root for block 0),
    // and the rollup is registered with it.
    let rollup = RollupSpec {
        id: ROLLUP_ID,
        rpc: endpoint.to_string(),
        genesis: genesis_path.clone(),
        hardfork: EthereumHardfork::Prague,
        // The devnet's L2 is anvil, so the operator follows anvil's rules.
        rules: RuleSet::Anvil,
        sign_at: SignAt::Latest,
    };
    let genesis_block = compute_genesis(&operator_dir, &rollup).await?;
    register_rollup(
        &deployer,
        &deployment,
        genesis_block.hash,
        genesis_block.state_root,
    )
    .await?;
    let node = OperatorNode::build(NodeSpec {
        datadir: operator_dir.clone(),
        http_addr: Some(args.metrics_addr),
        rollups: vec![rollup],
        signing: None,
        until: args.blocks,
        poll_interval: Duration::from_millis(200),
    })
    .await?;

    let config = WorkloadConfig::new(genesis.keys.clone()).txs_per_block(args.txs_per_block);
    let workload = Workload::new(args.seed, config).spawn(
        RootProvider::new_http(l2.url()),
        Duration::from_secs(args.l2_block_time),
    );
    println!(
        "     mixed workload: {} txs every {} s",
        args.txs_per_block, args.l2_block_time
    );
    println!(
        "operator re-executing every L2 block (state in {}); Ctrl-C stops the devnet",
        operator_dir.display()
    );
    let started = std::time::Instant::now();
    let outcome = node.run(crate::operator::shutdown_signal()).await;
    let workload = workload.stop().await;
    match outcome? {
        NodeOutcome::Stopped => {
            // On Ctrl-C the terminal stops the anvils too, so the workload's last block may have
            // failed; that is the stop, not an error.
            println!("stopped after {:.0} s", started.elapsed().as_secs_f64());
            Ok(())
        }
        NodeOutcome::Reached => {
            println!(
                "operator verified every L2 block up to {} in {:.1} s",
                args.blocks.unwrap_or(0),
                started.elapsed().as_secs_f64()
            );
            workload.map(drop).wrap_err("the L2 workload failed")
        }
        NodeOutcome::Fault(faults) => Err(eyre!(
            "ALERT: {}. The operator stopped at block {} and kept the evidence in {}",
            faults[0],
            faults[0].block_number() - 1,
            operator_dir.display()
        )),
    }
}

/// A provider signing with anvil's dev account `index`.
fn account(l1: &AnvilInstance, index: usize) -> impl Provider + WalletProvider + use<> {
    ProviderBuilder::new()
        .wallet(l1.keys()[index].clone())
        .connect_http(l1.url())
}

/// Deploys everything through `deployer` and writes `l1.json` into `datadir`.
async fn deploy(
    deployer: &(impl Provider + WalletProvider),
    datadir: &Path,
) -> eyre::Result<Deployment> {
    // EigenLayer v1.3 cannot slash before block `min_withdrawal_delay + 1` (docs/contracts.md).
    let past_withdrawal_delay = U256::from(CoreParams::DEVNET.min_withdrawal_delay) + U256::from(1);
    deployer
        .raw_request::<_, ()>("anvil_mine".into(), (past_withdrawal_delay,))
        .await
        .wrap_err("mining past EigenLayer's withdrawal delay")?;
    let deployment = deploy_all(deployer, CoreParams::DEVNET, &SuretyParams::devnet())
        .await
        .wrap_err("deploying EigenLayer and Surety on the L1")?;
    let addresses = datadir.join("l1.json");
    std::fs::write(
        &addresses,
        serde_json::to_string_pretty(&deployment)? + "\n",
    )
    .wrap_err_with(|| format!("writing {}", addresses.display()))?;
    println!(
        "     EigenLayer core + Surety deployed (verifier {}, registrar {}; all in {})",
        deployment.surety.certificate_verifier,
        deployment.surety.registrar,
        addresses.display()
    );
    Ok(deployment)
}

/// Onboards `count` operators from anvil's dev accounts 1..=count with stakes 10, 20, … ETH.
async fn onboard_operators(
    l1: &AnvilInstance,
    keeper: &impl Provider,
    deployment: &Deployment,
    count: u8,
) -> eyre::Result<()> {
    let mut operators = Vec::new();
    for i in 1..=count {
        let provider = account(l1, usize::from(i));
        // Devnet keys are public knowledge, like anvil's accounts.
        let key = SecretKey::from_ikm(&[i; 32]);
        let stake = U256::from(u128::from(i) * 10 * ETHER);
        deployment
            .onboard_operator(&provider, &key, stake, ALLOCATION_DELAY)
            .await
            .wrap_err_with(|| format!("onboarding operator {i}"))?;
        operators.push(provider.default_signer_address());
    }
    keeper
        .raw_request::<_, ()>("anvil_mine".into(), (U256::from(ALLOCATION_DELAY),))
        .await?;
    let registry = OperatorRegistry::new(deployment.surety.operator_registry, keeper);
    send("refresh operator stakes", registry.update(operators)).await?;
    let total = registry.totalStake().call().await?;
    println!(
        "     {count} operators registered with EigenLayer and Surety, {} ETH slashable in total",
        total / U256::from(ETHER)
    );
    Ok(())
}

/// Registers the L2 as a Surety rollup whose canonical roots the deployer posts, then lets the L1
/// mine one block per second.
async fn register_rollup(
    owner: &(impl Provider + WalletProvider),
    deployment: &Deployment,
    genesis_hash: B256,
    genesis_root: B256,
) -> eyre::Result<()> {
    let rollup_id = deployment
        .register_rollup(
            owner,
            L2_CHAIN_ID,
            genesis_hash,
            genesis_root,
            THRESHOLD_BPS,
        )
        .await?;
    println!(
        "     registered as Surety rollup {rollup_id} (threshold {THRESHOLD_BPS} bps, genesis root \
         {genesis_root})"
    );
    owner
        .raw_request::<_, ()>("evm_setIntervalMining".into(), (1,))
        .await
        .wrap_err("switching the L1 to 1 s blocks")?;
    Ok(())
}
