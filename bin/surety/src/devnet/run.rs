//! `surety devnet`: the whole system live on local chains.
//!
//! 1. L1: anvil (Prague) with the EigenLayer core and Surety deployed and wired;
//! 2. operators: anvil dev accounts restake fresh test tokens, register BLS keys with proofs of
//!    possession, lock collateral and join Surety's operator set through the AllocationManager;
//! 3. L2: a second anvil under steady mixed traffic, registered as a Surety rollup whose
//!    canonical roots the deployer posts;
//! 4. two aggregators and N operator nodes, each its own `surety aggregator run` /
//!    `surety operator run` process with its own config, keys and datadir (see [`super::layout`]);
//! 5. a line per certificate that lands on L1, and a summary at the end.
//!
//! Ctrl-C (or SIGTERM) stops everything; `--blocks N` stops once L2 block N is certified on L1.

use std::{
    net::SocketAddr,
    path::Path,
    time::{Duration, Instant},
};

use alloy::{
    primitives::{Address, B256, U256},
    providers::{DynProvider, Provider, ProviderBuilder, RootProvider, WalletProvider},
    transports::http::reqwest,
};
use eyre::{WrapErr, eyre};
use surety_contracts::{
    CoreParams, Deployment, SuretyParams,
    bindings::{CertificateVerifier, OperatorRegistry},
    deploy_all, deploy_example_bridge, send,
};
use surety_operator::{
    RollupSpec, compute_genesis,
    config::SignAt,
    execution::{EthereumHardfork, RuleSet},
};
use surety_primitives::{Domain, SecretKey};
use surety_testkit::{
    anvil::{Anvil, AnvilInstance},
    genesis::GenesisBuilder,
    ports,
    proxy::{RpcProxy, lie_about_state_root},
    workload::{Workload, WorkloadConfig},
};

use super::{
    faults::{self, Byzantine, DoubleSign},
    layout::{
        AggregatorFiles, Contracts, L1Entry, Layout, Manifest, OperatorEntry, OperatorFiles,
        ProcessEntry, RollupEntry,
    },
    monitor::{L1Watch, Timeline},
    process::Service,
    scenario::{InvalidRoot, post_canonical_root},
};

/// The devnet rollup's chain id.
const L2_CHAIN_ID: u64 = 901;
/// The devnet rollup's Surety id: the first registered, which the operators' configs name
/// before it is registered.
const ROLLUP_ID: u64 = 1;
/// Quorum threshold of the devnet rollup, in basis points (the minimum Surety allows).
const THRESHOLD_BPS: u16 = 6_667;
/// Blocks between an operator's allocation and the moment EigenLayer counts it.
const ALLOCATION_DELAY: u32 = 1;
const ETHER: u128 = 1_000_000_000_000_000_000;
/// The two aggregators submit from anvil's last two dev accounts; operators use 1..=7.
const SUBMITTER_ACCOUNTS: [usize; 2] = [8, 9];
/// The devnet pool's claim window: the time signers have to be slashed after a fault is
/// proven, before claims are settled and paid.
const CLAIM_WINDOW_SECS: u64 = 20;
/// The user who buys cover in the `--byzantine` scenario (never an operator: at most 6 then).
const USER_ACCOUNT: usize = 7;
/// How often the devnet polls the chains and the aggregators.
pub(super) const TICK: Duration = Duration::from_millis(50);
/// How long `--lying-l2-at` waits, from the start, for its alert to be raised and cleared
/// before the devnet ends with every operator stopped.
const LYING_SCENARIO_LIMIT: Duration = Duration::from_secs(180);
/// How often it prints a progress line when nothing else happened.
const PROGRESS_EVERY: Duration = Duration::from_secs(15);

#[derive(Debug, clap::Args)]
pub(super) struct RunArgs {
    /// Directory for the devnet's files: `devnet.json`, `l1.json`, `l2-genesis.json`, and one
    /// directory per operator and aggregator with its config, keys, data and log (cleared at
    /// start: every run begins new chains).
    #[arg(long, value_name = "DIR", default_value = ".surety/devnet")]
    datadir: std::path::PathBuf,
    /// Operators to run (anvil dev accounts 1..=N, restaking 10, 20, … ETH), each a
    /// `surety operator run` process.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u8).range(1..=7))]
    operators: u8,
    /// Seconds between L2 blocks.
    #[arg(long, value_name = "SECS", default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..))]
    l2_block_time: u64,
    /// Transactions per L2 block (transfers, ERC-20s, contract creation, storage, reverts, logs,
    /// precompiles, EIP-7702).
    #[arg(long, value_name = "N", default_value_t = 20)]
    txs_per_block: usize,
    /// Stop once L2 block N is certified on L1 (default: run until Ctrl-C).
    #[arg(long, value_name = "N")]
    blocks: Option<u64>,
    /// Fault: the operators read the L2 through a proxy that serves block N with a wrong state
    /// root (and a block hash recomputed to match it). Every operator refuses block N, reports
    /// the mismatch to the aggregators and stops; nothing at or above N is certified. The
    /// reports become a circuit-breaker alert on L1 and the example bridge pauses; once the root
    /// poster settles the true root (`--settle-after`), the alert clears and the bridge resumes.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    lying_l2_at: Option<u64>,
    /// Fault: operator K (1-based) also signs a second, different block at the height given by
    /// `--double-sign-at`. The aggregators catch it and prove it on L1; the operator is slashed.
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u8).range(1..=7))]
    double_sign: Option<u8>,
    /// Height of the `--double-sign` fault.
    #[arg(long, value_name = "N", default_value_t = 3, requires = "double_sign", value_parser = clap::value_parser!(u64).range(1..))]
    double_sign_at: u64,
    /// Fault: the K operators with the most stake turn byzantine (together they must hold the
    /// rollup's threshold). Their nodes do not run; the devnet signs for them, and at the height
    /// given by `--byzantine-at` they sign a wrong state root, which gets certified. A user buys
    /// cover on it; the honest operators' watchtowers accuse it; the root poster settles the
    /// true root `--settle-after` seconds later; the certificate is proven wrong, every signer is
    /// slashed through EigenLayer and loses its collateral, and the user's claim is paid.
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u8).range(1..=6))]
    byzantine: Option<u8>,
    /// Height of the `--byzantine` fault.
    #[arg(long, value_name = "N", default_value_t = 4, requires = "byzantine", value_parser = clap::value_parser!(u64).range(1..))]
    byzantine_at: u64,
    /// Seconds after the wrong certificate lands (`--byzantine`), or the alert is raised
    /// (`--lying-l2-at`), before the root poster settles the true root.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    settle_after: u64,
    /// Chaos: SIGKILL aggregator 2 at random instants, on average every SECS seconds, and
    /// restart it at once from its datadir. Certificates keep landing through aggregator 1.
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    kill_aggregator_every: Option<u64>,
    /// Seed of the L2 workload.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

pub(super) async fn run(args: RunArgs) -> eyre::Result<()> {
    if let Some(k) = args.double_sign
        && k > args.operators
    {
        return Err(eyre!(
            "--double-sign {k}: there are only {} operators",
            args.operators
        ));
    }
    if let Some(k) = args.byzantine {
        check_byzantine(k, args.operators)?;
    }
    let layout = Layout::fresh(&args.datadir)?;

    // Set up on an auto-mining L1 (one block per transaction); it gets a steady clock once the
    // rollup is registered.
    let l1 = Anvil::new().spawn().wrap_err("starting the L1 anvil")?;
    println!("L1   {} (chain {}, Prague)", l1.url(), l1.chain_id());
    let deployer = account(&l1, 0);
    let deployment = deploy(&deployer, &layout).await?;

    let genesis = GenesisBuilder::new(L2_CHAIN_ID).funded_accounts(32).build();
    std::fs::write(layout.genesis(), genesis.to_json()?)
        .wrap_err_with(|| format!("writing {}", layout.genesis().display()))?;
    let l2 = genesis
        .anvil(&layout.genesis())
        .no_mining()
        .spawn()
        .wrap_err("starting the L2 anvil")?;
    println!("L2   {} (chain {L2_CHAIN_ID})", l2.url());

    let _proxy;
    let operator_l2 = match args.lying_l2_at {
        Some(number) => {
            let proxy = RpcProxy::spawn(
                l2.url(),
                lie_about_state_root(number, B256::repeat_byte(0x11)),
            )
            .await
            .wrap_err("starting the lying L2 proxy")?;
            println!(
                "     FAULT: the operators read the L2 through {}, which lies about block \
                 {number}'s state root",
                proxy.url()
            );
            let url = proxy.url();
            _proxy = proxy;
            url
        }
        None => l2.url(),
    };
    // Every operator gets the files a real one has, then registers with `surety operator
    // register` like one; the aggregators' addresses are chosen now for the operators' configs.
    let aggregator_addrs = [(free_port()?, free_port()?), (free_port()?, free_port()?)];
    let aggregator_urls: Vec<String> = aggregator_addrs
        .iter()
        .map(|(grpc, _)| format!("http://{grpc}"))
        .collect();
    let operators = onboard_operators(
        &l1,
        &deployer,
        &deployment,
        &layout,
        args.operators,
        &OperatorContext {
            l2_rpc: operator_l2.as_str(),
            rollup_id: ROLLUP_ID,
            aggregators: &aggregator_urls,
        },
    )
    .await?;
    let (rollup_id, root_source) =
        register_rollup(&deployer, &deployment, &layout, l2.endpoint()).await?;
    if rollup_id != ROLLUP_ID {
        return Err(eyre!(
            "the devnet rollup was registered as rollup {rollup_id}, not {ROLLUP_ID}"
        ));
    }
    let bridge =
        deploy_example_bridge(&deployer, deployment.surety.certificate_verifier, rollup_id)
            .await
            .wrap_err("deploying the example bridge")?;
    println!("     example bridge {bridge}: releases withdrawals on isFinal, pauses on an alert");

    let aggregators = start_aggregators(
        &layout,
        &l1,
        aggregator_addrs,
        (rollup_id, l2.endpoint().as_str()),
    )
    .await?;
    // The byzantine ones are those with the most stake: the last.
    let honest = operators.len() - usize::from(args.byzantine.unwrap_or(0));
    let mut nodes = Vec::new();
    for (i, operator) in operators.iter().enumerate().take(honest) {
        nodes.push(start_operator(&layout, i + 1, operator)?);
    }
    let http = reqwest::Client::new();
    for node in &mut nodes {
        wait_for_http(&http, node.http, &mut node.service).await?;
    }
    println!(
        "     {} operator nodes and {} aggregators running (logs beside their configs)",
        nodes.len(),
        aggregators.len()
    );

    let manifest = Manifest {
        l1: L1Entry {
            rpc: l1.endpoint(),
            chain_id: deployment.chain_id,
            contracts: Contracts::from(&deployment),
        },
        rollups: vec![RollupEntry {
            id: rollup_id,
            chain_id: L2_CHAIN_ID,
            rpc: l2.endpoint(),
            root_source,
            bridge,
        }],
        aggregators: aggregators.iter().map(Aggregator::entry).collect(),
        operators: nodes
            .iter()
            .map(Node::entry)
            .chain(operators[honest..].iter().map(|o| OperatorEntry {
                address: o.address,
                public_key: o.key.public_key().to_string(),
                stake_wei: o.stake.to_string(),
                http: String::new(),
                pid: 0,
                config: std::path::PathBuf::new(),
                log: std::path::PathBuf::new(),
                byzantine: true,
            }))
            .collect(),
    };
    let manifest_path = layout.write_manifest(&manifest)?;
    println!(
        "     everything is described in {}",
        manifest_path.display()
    );

    let config = WorkloadConfig::new(genesis.keys.clone()).txs_per_block(args.txs_per_block);
    let workload = Workload::new(args.seed, config).spawn(
        RootProvider::new_http(l2.url()),
        Duration::from_secs(args.l2_block_time),
    );
    println!(
        "     mixed workload: {} txs every {} s; Ctrl-C stops the devnet",
        args.txs_per_block, args.l2_block_time
    );

    let double_sign = args.double_sign.map(|k| DoubleSign {
        key: operators[usize::from(k) - 1].key.clone(),
        height: args.double_sign_at,
        rollup_id,
        domain: Domain::new(deployment.chain_id, deployment.surety.certificate_verifier),
    });
    let byzantine = args.byzantine.map(|_| {
        (
            Byzantine {
                keys: operators[honest..].iter().map(|o| o.key.clone()).collect(),
                at: args.byzantine_at,
                rollup_id,
                domain: Domain::new(deployment.chain_id, deployment.surety.certificate_verifier),
                signed_up_to: 0,
            },
            InvalidRoot::new(
                deployment.clone(),
                account(&l1, USER_ACCOUNT).erased(),
                account(&l1, 0).erased(),
                RootProvider::new_http(l2.url()).erased(),
                operators[honest..].iter().map(|o| o.address).collect(),
                Duration::from_secs(args.settle_after),
            ),
        )
    });
    if let Some((b, _)) = &byzantine {
        println!(
            "     FAULT: operators {}..={} are byzantine: the devnet signs for them, and a wrong \
             root at L2 #{}",
            honest + 1,
            operators.len(),
            b.at
        );
    }
    let session = Session {
        lying: args.lying_l2_at.map(|_| LyingL2 {
            poster: account(&l1, 0).erased(),
            l2: RootProvider::new_http(l2.url()).erased(),
            settle_after: Duration::from_secs(args.settle_after),
            raised: None,
            settled: false,
            cleared: false,
        }),
        bridge,
        byzantine,
        l1: RootProvider::new_http(l1.url()).erased(),
        l2: RootProvider::new_http(l2.url()).erased(),
        http,
        deployment: &deployment,
        aggregators,
        nodes,
        aggregator_urls,
        double_sign,
        kill_every: args.kill_aggregator_every.map(Duration::from_secs),
        until: args.blocks,
    };
    let started = Instant::now();
    let result = session.watch(started).await;
    // On Ctrl-C the terminal stops the anvils too, so the workload's last block may have
    // failed; that is the stop, not an error.
    drop(workload.stop().await);
    result
}

/// A provider signing with anvil's dev account `index`.
fn account(l1: &AnvilInstance, index: usize) -> impl Provider + WalletProvider + use<> {
    ProviderBuilder::new()
        .wallet(l1.keys()[index].clone())
        .connect_http(l1.url())
}

/// Deploys everything through `deployer` and writes `l1.json`.
async fn deploy(
    deployer: &(impl Provider + WalletProvider),
    layout: &Layout,
) -> eyre::Result<Deployment> {
    // EigenLayer v1.3 cannot slash before block `min_withdrawal_delay + 1` (docs/contracts.md).
    let past_withdrawal_delay = U256::from(CoreParams::DEVNET.min_withdrawal_delay) + U256::from(1);
    deployer
        .raw_request::<_, ()>("anvil_mine".into(), (past_withdrawal_delay,))
        .await
        .wrap_err("mining past EigenLayer's withdrawal delay")?;
    // A short claim window, so a fault's claims are payable within the devnet's minute.
    let params = SuretyParams {
        claim_window_secs: CLAIM_WINDOW_SECS,
        ..SuretyParams::devnet()
    };
    let deployment = deploy_all(deployer, CoreParams::DEVNET, &params)
        .await
        .wrap_err("deploying EigenLayer and Surety on the L1")?;
    let addresses = layout.deployment();
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

/// A devnet operator: its L1 account, BLS key and the HTTP address its node will serve.
struct Operator {
    address: Address,
    key: SecretKey,
    stake: U256,
    http: SocketAddr,
    config: std::path::PathBuf,
}

/// What every operator's config names besides its own keys.
struct OperatorContext<'a> {
    l2_rpc: &'a str,
    rollup_id: u64,
    aggregators: &'a [String],
}

/// Onboards `count` operators from anvil's dev accounts 1..=count with stakes 10, 20, … ETH: the
/// devnet funds each with restaked test tokens, writes its config and keystore, and runs
/// `surety operator register --config` for it, as a real operator would.
async fn onboard_operators(
    l1: &AnvilInstance,
    keeper: &impl Provider,
    deployment: &Deployment,
    layout: &Layout,
    count: u8,
    context: &OperatorContext<'_>,
) -> eyre::Result<Vec<Operator>> {
    let mut operators = Vec::new();
    for i in 1..=count {
        let index = usize::from(i);
        let provider = account(l1, index);
        // Devnet keys are public knowledge, like anvil's accounts.
        let key = SecretKey::from_ikm(&[i; 32]);
        let stake = U256::from(u128::from(i) * 10 * ETHER);
        deployment
            .fund_test_stake(&provider, stake)
            .await
            .wrap_err_with(|| format!("funding operator {i}'s test stake"))?;
        let http = free_port()?;
        let config = layout.write_operator(
            index,
            &OperatorFiles {
                bls_key: &key,
                ecdsa_key: &l1.keys()[index].to_bytes()[..],
                http,
                l1_rpc: &l1.endpoint(),
                l2_rpc: context.l2_rpc,
                rollup_id: context.rollup_id,
                aggregators: context.aggregators,
            },
        )?;
        register_operator(&config, &layout.operator_dir(index).join("register.log"))
            .await
            .wrap_err_with(|| format!("registering operator {i}"))?;
        operators.push(Operator {
            address: provider.default_signer_address(),
            key,
            stake,
            http,
            config,
        });
    }
    keeper
        .raw_request::<_, ()>("anvil_mine".into(), (U256::from(ALLOCATION_DELAY),))
        .await?;
    let registry = OperatorRegistry::new(deployment.surety.operator_registry, keeper);
    send(
        "refresh operator stakes",
        registry.update(operators.iter().map(|o| o.address).collect()),
    )
    .await?;
    let total = registry.totalStake().call().await?;
    println!(
        "     {count} operators registered with `surety operator register`, {} ETH slashable in total",
        total / U256::from(ETHER)
    );
    Ok(operators)
}

/// Runs `surety operator register --config` to completion, its output in `log`.
async fn register_operator(config: &Path, log: &Path) -> eyre::Result<()> {
    let config_arg = config.display().to_string();
    let delay = ALLOCATION_DELAY.to_string();
    let mut register = Service::start(
        format!("surety operator register --config {config_arg}"),
        &[
            "operator",
            "register",
            "--config",
            &config_arg,
            "--allocation-delay",
            &delay,
        ],
        log,
    )?;
    let status = register.wait().await?;
    if !status.success() {
        return Err(eyre!(
            "{} failed ({status}): {} (log: {})",
            register.name(),
            register.last_words(),
            log.display()
        ));
    }
    Ok(())
}

/// Registers the L2 as a Surety rollup whose canonical roots the deployer posts, with the genesis
/// an operator computes from the genesis file (anvil reports the empty root for block 0), then
/// lets the L1 mine one block per second. Returns the rollup id and its root source.
async fn register_rollup(
    owner: &(impl Provider + WalletProvider),
    deployment: &Deployment,
    layout: &Layout,
    l2_rpc: String,
) -> eyre::Result<(u64, Address)> {
    let scratch = layout.root().join("genesis-check");
    let spec = RollupSpec {
        id: 0,
        rpc: l2_rpc,
        genesis: layout.genesis(),
        hardfork: EthereumHardfork::Prague,
        rules: RuleSet::Anvil,
        sign_at: SignAt::Latest,
    };
    let genesis = compute_genesis(&scratch, &spec).await?;
    std::fs::remove_dir_all(&scratch)
        .wrap_err_with(|| format!("removing {}", scratch.display()))?;
    let rollup_id = deployment
        .register_rollup(
            owner,
            L2_CHAIN_ID,
            genesis.hash,
            genesis.state_root,
            THRESHOLD_BPS,
        )
        .await?;
    let root_source = CertificateVerifier::new(deployment.surety.certificate_verifier, owner)
        .rootSource(rollup_id)
        .call()
        .await?;
    println!(
        "     registered as Surety rollup {rollup_id} (threshold {THRESHOLD_BPS} bps, genesis root \
         {}, canonical roots posted to {root_source})",
        genesis.state_root
    );
    // Aggregators read L1 one block behind its head: leave the registration behind, then tick.
    owner
        .raw_request::<_, ()>("anvil_mine".into(), (U256::from(1),))
        .await?;
    owner
        .raw_request::<_, ()>("evm_setIntervalMining".into(), (1,))
        .await
        .wrap_err("switching the L1 to 1 s blocks")?;
    Ok((rollup_id, root_source))
}

/// A free loopback port for a child told its address up front, from outside the range that
/// outgoing connections draw from (see `surety_testkit::ports`).
fn free_port() -> eyre::Result<SocketAddr> {
    ports::reserve().wrap_err("choosing a loopback port")
}

struct Aggregator {
    grpc: SocketAddr,
    http: SocketAddr,
    submitter: Address,
    config: std::path::PathBuf,
    service: Service,
}

impl Aggregator {
    fn grpc_url(&self) -> String {
        format!("http://{}", self.grpc)
    }

    fn entry(&self) -> ProcessEntry {
        ProcessEntry {
            grpc: self.grpc_url(),
            http: format!("http://{}", self.http),
            submitter: self.submitter,
            pid: self.service.pid(),
            config: self.config.clone(),
            log: self.service.log().to_owned(),
        }
    }
}

async fn start_aggregators(
    layout: &Layout,
    l1: &AnvilInstance,
    addrs: [(SocketAddr, SocketAddr); 2],
    (rollup_id, l2_rpc): (u64, &str),
) -> eyre::Result<Vec<Aggregator>> {
    let http = reqwest::Client::new();
    let mut aggregators = Vec::new();
    for (i, (account, (grpc, http_addr))) in SUBMITTER_ACCOUNTS.into_iter().zip(addrs).enumerate() {
        let index = i + 1;
        let signer = &l1.keys()[account];
        let config = layout.write_aggregator(
            index,
            &AggregatorFiles {
                submitter_key: &signer.to_bytes()[..],
                grpc,
                http: http_addr,
                l1_rpc: &l1.endpoint(),
                l2_rpc,
                rollup_id,
            },
        )?;
        let log = layout.aggregator_dir(index).join("aggregator.log");
        let config_arg = config.display().to_string();
        let mut service = Service::start(
            format!("aggregator {index}"),
            &["aggregator", "run", "--config", &config_arg],
            &log,
        )?;
        wait_for_http(&http, http_addr, &mut service).await?;
        println!(
            "     aggregator {index}: gRPC {grpc}, status page http://{http_addr}/ (JSON at /status)"
        );
        aggregators.push(Aggregator {
            grpc,
            http: http_addr,
            submitter: signer.address(),
            config,
            service,
        });
    }
    Ok(aggregators)
}

struct Node {
    address: Address,
    public_key: String,
    stake: U256,
    http: SocketAddr,
    config: std::path::PathBuf,
    service: Service,
}

impl Node {
    fn entry(&self) -> OperatorEntry {
        let service = &self.service;
        OperatorEntry {
            address: self.address,
            public_key: self.public_key.clone(),
            stake_wei: self.stake.to_string(),
            http: format!("http://{}", self.http),
            pid: service.pid(),
            config: self.config.clone(),
            log: service.log().to_owned(),
            byzantine: false,
        }
    }
}

/// Starts operator `index`'s node from the config its registration used.
fn start_operator(layout: &Layout, index: usize, operator: &Operator) -> eyre::Result<Node> {
    let log = layout.operator_dir(index).join("node.log");
    let config_arg = operator.config.display().to_string();
    let service = Service::start(
        format!("operator {index}"),
        &["operator", "run", "--config", &config_arg],
        &log,
    )?;
    Ok(Node {
        address: operator.address,
        public_key: operator.key.public_key().to_string(),
        stake: operator.stake,
        http: operator.http,
        config: operator.config.clone(),
        service,
    })
}

/// Waits until `addr` answers `GET /status`, or fails with the process's last words if it exits.
async fn wait_for_http(
    http: &reqwest::Client,
    addr: SocketAddr,
    service: &mut Service,
) -> eyre::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if http
            .get(format!("http://{addr}/status"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return Ok(());
        }
        if !service.is_running() {
            return Err(eyre!(
                "{} exited during start-up: {} (log: {})",
                service.name(),
                service.last_words(),
                service.log().display()
            ));
        }
        if Instant::now() > deadline {
            return Err(eyre!(
                "{} did not serve http://{addr}/status within 120 s (log: {})",
                service.name(),
                service.log().display()
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The running devnet, watched until it should stop.
struct Session<'a> {
    lying: Option<LyingL2>,
    bridge: Address,
    byzantine: Option<(Byzantine, InvalidRoot)>,
    l1: DynProvider,
    l2: DynProvider,
    http: reqwest::Client,
    deployment: &'a Deployment,
    aggregators: Vec<Aggregator>,
    nodes: Vec<Node>,
    aggregator_urls: Vec<String>,
    double_sign: Option<DoubleSign>,
    kill_every: Option<Duration>,
    until: Option<u64>,
}

impl Session<'_> {
    async fn watch(mut self, started: Instant) -> eyre::Result<()> {
        let from = self.l1.get_block_number().await?;
        let mut watch = L1Watch::new(self.l1.clone(), self.deployment, self.bridge, from);
        let mut timeline = Timeline::default();
        let mut kills = 0u64;
        let mut next_kill = self
            .kill_every
            .map(|p| Instant::now() + faults::next_kill_in(p));
        let mut last_output = Instant::now();
        let mut ticker = tokio::time::interval(TICK);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let stop = crate::operator::shutdown_signal();
        tokio::pin!(stop);

        let outcome = loop {
            tokio::select! {
                () = &mut stop => break Ok(()),
                _ = ticker.tick() => {}
            }
            let now = Instant::now();
            match self.l2.get_block_number().await {
                Ok(head) => timeline.l2_head(head, now),
                Err(error) => tracing::debug!(%error, "reading the L2 head"),
            }
            for aggregator in &self.aggregators {
                if let Some(height) = quorum_height(&self.http, aggregator.http).await {
                    timeline.quorum(height, now);
                }
            }
            match watch.poll(&mut timeline).await {
                Ok(lines) => {
                    for line in lines {
                        println!("{line}");
                        last_output = Instant::now();
                    }
                }
                Err(error) => tracing::warn!(%error, "reading L1 logs"),
            }

            if let Some(fault) = &self.double_sign
                && timeline.heads().0 >= fault.height
            {
                match fault.inject(&self.l2, &self.aggregator_urls).await {
                    Ok(answers) => println!(
                        "FAULT        operator key {} signs a second block at L2 #{}: {answers}",
                        fault.key.public_key(),
                        fault.height
                    ),
                    Err(error) => println!("FAULT        double signing not injected: {error:#}"),
                }
                self.double_sign = None;
            }
            if let Some((signer, scenario)) = &mut self.byzantine {
                match signer
                    .step(&self.l2, timeline.heads().0, &self.aggregator_urls)
                    .await
                {
                    Ok(Some(wrong)) => {
                        println!(
                            "FAULT        byzantine operators sign L2 #{} ({}) with the wrong root {}",
                            wrong.block_number, wrong.block_hash, wrong.state_root
                        );
                        scenario.signed(wrong);
                    }
                    Ok(None) => {}
                    Err(error) => tracing::warn!(%error, "byzantine signing"),
                }
                if !scenario.is_done() {
                    match scenario.step().await {
                        Ok(lines) => {
                            for line in lines {
                                println!("{line}");
                                last_output = Instant::now();
                            }
                        }
                        Err(error) => {
                            tracing::warn!(error = format!("{error:#}"), "invalid-root scenario")
                        }
                    }
                }
            }
            if let (Some(period), Some(at)) = (self.kill_every, next_kill)
                && now >= at
            {
                let chaos = &mut self.aggregators[1].service;
                chaos.kill().await?;
                kills += 1;
                chaos.restart()?;
                println!("CHAOS        SIGKILL aggregator 2 (#{kills}) and restart it");
                next_kill = Some(now + faults::next_kill_in(period));
            }

            for node in &mut self.nodes {
                if let Some(status) = node.service.newly_exited() {
                    println!(
                        "ALERT        {} ({}) exited ({status}): {}",
                        node.service.name(),
                        node.address,
                        node.service.last_words()
                    );
                }
            }
            for aggregator in &mut self.aggregators {
                if let Some(status) = aggregator.service.newly_exited() {
                    println!(
                        "ALERT        {} exited ({status}): {}",
                        aggregator.service.name(),
                        aggregator.service.last_words()
                    );
                }
            }

            let (l2_head, quorum_head, certified) = timeline.heads();
            if self.until.is_some_and(|n| certified >= n) {
                break Ok(());
            }
            if let Some(lying) = &mut self.lying {
                match lying.step(self.deployment, &watch).await {
                    Ok(Some(line)) => println!("{line}"),
                    Ok(None) => {}
                    Err(error) => tracing::warn!(
                        error = format!("{error:#}"),
                        "settling the lied-about block"
                    ),
                }
            }
            let settling = self.lying.as_ref().is_some_and(|l| !l.cleared)
                && started.elapsed() < LYING_SCENARIO_LIMIT;
            if self.running_operators() == 0 && !settling {
                break Err(eyre!(
                    "every operator node has stopped (certified head {certified}); their logs are \
                     under {}",
                    self.nodes
                        .first()
                        .and_then(|n| n.config.parent()?.parent().map(Path::to_owned))
                        .unwrap_or_default()
                        .display()
                ));
            }
            if last_output.elapsed() >= PROGRESS_EVERY {
                println!(
                    "progress     L2 #{l2_head}, quorum #{quorum_head}, certified #{certified}, {} of {} operator nodes running",
                    self.running_operators(),
                    self.nodes.len()
                );
                last_output = Instant::now();
            }
        };

        let submitters: Vec<Address> = self.aggregators.iter().map(|a| a.submitter).collect();
        for node in &mut self.nodes {
            node.service.stop().await;
        }
        for aggregator in &mut self.aggregators {
            aggregator.service.stop().await;
        }
        println!("{}", timeline.summary(started.elapsed(), &submitters));
        if kills > 0 {
            println!("  aggregator 2 was SIGKILLed and restarted {kills} times");
        }
        outcome
    }

    fn running_operators(&mut self) -> usize {
        self.nodes
            .iter_mut()
            .map(|n| n.service.is_running())
            .filter(|running| *running)
            .count()
    }
}

/// The newest height an aggregator has quorum on, from its `/status`.
async fn quorum_height(http: &reqwest::Client, addr: SocketAddr) -> Option<u64> {
    let status: serde_json::Value = http
        .get(format!("http://{addr}/status"))
        .timeout(Duration::from_millis(500))
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    status["rollups"]
        .as_array()?
        .iter()
        .filter_map(|r| r["quorum_height"].as_u64())
        .max()
}

/// Refuses a `--byzantine K` that could not certify a wrong root, or would leave no honest
/// watchtower.
fn check_byzantine(k: u8, operators: u8) -> eyre::Result<()> {
    if k >= operators {
        return Err(eyre!(
            "--byzantine {k}: at least one of the {operators} operators must stay honest"
        ));
    }
    if usize::from(operators) >= USER_ACCOUNT {
        return Err(eyre!(
            "--byzantine needs at most {} operators (anvil account {USER_ACCOUNT} is the user)",
            USER_ACCOUNT - 1
        ));
    }
    // Stakes are 10, 20, …; the byzantine ones are the K largest.
    let stake = |range: std::ops::RangeInclusive<u8>| range.map(u64::from).sum::<u64>();
    let byzantine = stake(operators - k + 1..=operators);
    let total = stake(1..=operators);
    if byzantine * 10_000 < total * u64::from(THRESHOLD_BPS) {
        return Err(eyre!(
            "--byzantine {k}: the {k} largest of {operators} operators hold {byzantine} of {total} \
             stake units, below the {THRESHOLD_BPS} bps threshold; they could not certify anything"
        ));
    }
    Ok(())
}

/// `--lying-l2-at`: once the operators' reports put an alert on L1, the root poster settles the
/// true root of the alerted height and anyone — here the devnet — clears the alert.
struct LyingL2 {
    poster: DynProvider,
    l2: DynProvider,
    settle_after: Duration,
    raised: Option<Instant>,
    settled: bool,
    cleared: bool,
}

impl LyingL2 {
    async fn step(
        &mut self,
        deployment: &Deployment,
        watch: &L1Watch,
    ) -> eyre::Result<Option<String>> {
        if watch.alerts_cleared > 0 {
            self.cleared = true;
        }
        let Some((rollup_id, height)) = watch.alert else {
            return Ok(None);
        };
        let raised = *self.raised.get_or_insert_with(Instant::now);
        if self.settled || raised.elapsed() < self.settle_after {
            return Ok(None);
        }
        let verifier = deployment.surety.certificate_verifier;
        let root = post_canonical_root(&self.poster, &self.l2, verifier, rollup_id, height).await?;
        send(
            "clear the alert",
            CertificateVerifier::new(verifier, &self.poster).clearAlert(rollup_id),
        )
        .await?;
        self.settled = true;
        Ok(Some(format!(
            "POSTER       canonical root of L2 #{height} settled on L1 ({root}); alert cleared"
        )))
    }
}
