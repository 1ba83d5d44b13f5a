//! The operator node: one builder that owns the state stores, followers, signer, outbox,
//! senders and metrics, used by `surety operator run`, `surety operator verify` and the devnet.
//!
//! Data flows one way: L2 block → [`Follower`] (re-execution, on a blocking thread) → state
//! store → signing loop (finality policy, [`ProtectedSigner`]) → [`Outbox`] → one
//! [`delivery::Sender`](crate::delivery::Sender) per aggregator → gRPC.
//!
//! Datadir layout: `rollups/<id>/state.redb` (state and verified chain per rollup),
//! `slashing_protection.redb` (the signing history), `outbox.redb` (what is not yet delivered).

mod anchor;
mod health;
mod prune;
mod signing;
mod stake;

pub use prune::prune_height;

use std::{
    collections::HashMap,
    future::Future,
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::{Arc, atomic::Ordering::Relaxed},
    time::Duration,
};

use alloy::providers::RootProvider;
use alloy_hardforks::EthereumHardfork;
use alloy_primitives::{Address, B256};
use serde::Serialize;
use surety_primitives::{Domain, Mismatch, MismatchReport, PublicKey, SecretKey};
use surety_slashing_protection::{ProtectedSigner, SlashingDatabase, database_path};
use tokio::{sync::Notify, task::JoinSet};
use tracing::{error, info, warn};

use crate::{
    config::{DeliveryConfig, SignAt},
    delivery::{DeliveryMetrics, Sender},
    execution::{ExecutionKind, RuleSet},
    follower::{FollowError, Follower, FollowerConfig, Outcome, connect_http},
    genesis::GenesisFile,
    metrics::Metrics,
    outbox::{Message, Outbox, OutboxError},
    state::{DEFAULT_CACHE_BYTES, EvidenceStatus, StateError, StateStore, StoredHeader},
    watchtower::{Dispute, Watchtower, WatchtowerMetrics, WatchtowerSpec},
};

/// How long a node that stops on a fault waits for its mismatch reports to be delivered.
const FAULT_DRAIN: Duration = Duration::from_secs(10);

/// The signer of a node: its verified chains are its state stores.
pub type Signer = ProtectedSigner<HashMap<u64, Arc<StateStore>>>;

/// Errors that stop the node. Transient L2 and aggregator failures never get here: they are
/// retried with backoff, logged and counted.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("configuration: {0}")]
    Config(String),
    #[error(transparent)]
    GenesisMismatch(Box<GenesisMismatch>),
    #[error("L1: {0}")]
    L1(String),
    #[error("L2 RPC: {0}")]
    L2Rpc(String),
    #[error("rollup {rollup_id}: {source}")]
    Follow { rollup_id: u64, source: FollowError },
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    #[error("signer: {0}")]
    Signer(#[from] surety_slashing_protection::Error),
    #[error("genesis file: {0}")]
    Genesis(#[from] crate::genesis::GenesisError),
    #[error("creating {}: {source}", path.display())]
    Datadir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("binding the HTTP endpoint {addr}: {source}")]
    Http {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("worker thread failed: {0}")]
    Worker(String),
}

/// The genesis a node computed differs from the one its rollup registered on L1.
#[derive(Debug, thiserror::Error)]
#[error(
    "rollup {rollup_id}: the genesis computed from the genesis file (hash {local_hash}, root \
     {local_root}) differs from the genesis registered on L1 (hash {registered_hash}, root \
     {registered_root}); check `genesis` and `hardfork` in the configuration"
)]
pub struct GenesisMismatch {
    pub rollup_id: u64,
    pub local_hash: B256,
    pub local_root: B256,
    pub registered_hash: B256,
    pub registered_root: B256,
}

impl NodeError {
    fn l1(e: alloy::transports::TransportError) -> Self {
        Self::L1(e.to_string())
    }
}

/// One rollup the node follows.
#[derive(Debug, Clone)]
pub struct RollupSpec {
    pub id: u64,
    pub rpc: String,
    pub genesis: PathBuf,
    /// Every Ethereum fork up to this one is active from genesis.
    pub hardfork: EthereumHardfork,
    pub rules: RuleSet,
    pub sign_at: SignAt,
}

/// What a node signs with and where it delivers; `None` for a verify-only node.
#[derive(Debug)]
pub struct SigningSpec {
    pub l1_rpc: String,
    pub verifier: Address,
    pub secret_key: SecretKey,
    pub aggregators: Vec<String>,
    pub delivery: DeliveryConfig,
    /// Checks every certificate on L1 against this node's re-execution and brings wrong ones to
    /// a slash; `None` for a node without an L1 key.
    pub watchtower: Option<WatchtowerSpec>,
}

/// Everything needed to build a node.
#[derive(Debug)]
pub struct NodeSpec {
    pub datadir: PathBuf,
    pub http_addr: Option<SocketAddr>,
    pub rollups: Vec<RollupSpec>,
    pub signing: Option<SigningSpec>,
    /// Stop once every rollup is verified (and, when signing, its attestations queued) up to
    /// this height.
    pub until: Option<u64>,
    pub poll_interval: Duration,
}

/// How the node keeps each rollup's state store (the `[storage]` configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageSpec {
    /// redb's page cache of each rollup's store.
    pub cache_bytes: usize,
    /// Prune the state stores and the signing history below the safe height.
    pub prune: bool,
    /// Blocks kept below the safe height (certified on L1 or finalized on the L2).
    pub retention: u64,
}

impl Default for StorageSpec {
    fn default() -> Self {
        Self {
            cache_bytes: DEFAULT_CACHE_BYTES,
            prune: true,
            retention: 128,
        }
    }
}

struct RollupRuntime {
    spec: RollupSpec,
    execution: ExecutionKind,
    store: Arc<StateStore>,
    provider: RootProvider,
    metrics: Arc<Metrics>,
    /// The first height worth signing: above the L1-certified head.
    sign_from: u64,
}

struct SigningRuntime {
    domain: Domain,
    public_key: PublicKey,
    signer: Arc<Signer>,
    outbox: Arc<Outbox>,
    wake: Arc<Notify>,
    aggregators: Vec<(String, Arc<DeliveryMetrics>)>,
    delivery: DeliveryConfig,
    watchtower: Option<Arc<WatchtowerMetrics>>,
    stake: Arc<stake::RegisteredStake>,
}

/// How a node run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeOutcome {
    /// Stopped by the shutdown signal.
    Stopped,
    /// Every rollup reached `until`.
    Reached,
    /// A rollup served a block this node refuses (a lying state root or an invalid block);
    /// nothing past it is signed. A state-root mismatch is reported, signed, to every
    /// aggregator. The other rollups kept running until these ended.
    Fault(Vec<Fault>),
}

/// A block a follower refused, ending that rollup's verification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Fault {
    #[error(
        "rollup {}: block {} ({}) claims state root {}, re-execution computed {}",
        .0.rollup_id, .0.block_number, .0.block_hash, .0.claimed_state_root,
        .0.computed_state_root
    )]
    Mismatch(Mismatch),
    #[error("rollup {rollup_id}: block {number} ({hash}) is invalid: {reason}")]
    Invalid {
        rollup_id: u64,
        number: u64,
        hash: B256,
        reason: String,
    },
}

/// A built node, ready to [`run`](Self::run).
pub struct OperatorNode {
    datadir: PathBuf,
    storage: StorageSpec,
    /// The L1 the certified heads are read from (a signing node only).
    l1: Option<anchor::L1>,
    http_addr: Option<SocketAddr>,
    rollups: Vec<RollupRuntime>,
    signing: Option<SigningRuntime>,
    until: Option<u64>,
    poll_interval: Duration,
    watchtower: Option<Watchtower>,
}

impl OperatorNode {
    /// Opens the stores, bootstraps each rollup's genesis and — when signing — checks it against
    /// the genesis registered on L1 and opens the signing history and outbox.
    pub async fn build(spec: NodeSpec) -> Result<Self, NodeError> {
        Self::build_with_storage(spec, StorageSpec::default()).await
    }

    /// [`build`](Self::build) with the given state-store cache and pruning settings.
    pub async fn build_with_storage(
        spec: NodeSpec,
        storage: StorageSpec,
    ) -> Result<Self, NodeError> {
        let mkdir = |path: PathBuf| {
            std::fs::create_dir_all(&path).map_err(|source| NodeError::Datadir { path, source })
        };
        mkdir(spec.datadir.clone())?;
        let l1 = match &spec.signing {
            Some(signing) => {
                let l1 = anchor::L1::connect(&signing.l1_rpc, signing.verifier)?;
                let domain = l1.domain().await?;
                Some((l1, domain))
            }
            None => None,
        };
        let mut rollups = Vec::new();
        for rollup in spec.rollups {
            let (store, provider, execution) =
                open_rollup(&spec.datadir, &rollup, storage.cache_bytes).await?;
            let metrics = Arc::new(Metrics::default());
            let mut sign_from = 1;
            if let Some((l1, _)) = &l1 {
                let registered = l1.rollup(rollup.id).await?;
                let genesis = store.header(0)?.ok_or(StateError::NotBootstrapped)?;
                anchor::check_genesis(rollup.id, &genesis, &registered)?;
                sign_from = registered.certified_head + 1;
            }
            if let Some(head) = store.head() {
                info!(rollup = rollup.id, head = head.number, root = %head.state_root, "state ready");
            }
            rollups.push(RollupRuntime {
                spec: rollup,
                execution,
                store,
                provider,
                metrics,
                sign_from,
            });
        }
        let mut watchtower = None;
        let signing = match (spec.signing, &l1) {
            (Some(signing), Some((_, domain))) => {
                let domain = *domain;
                let db = SlashingDatabase::create_or_open(&database_path(&spec.datadir), &domain)?;
                let chains: HashMap<u64, Arc<StateStore>> = rollups
                    .iter()
                    .map(|r| (r.spec.id, r.store.clone()))
                    .collect();
                let public_key = signing.secret_key.public_key();
                let signer = Arc::new(ProtectedSigner::new(db, signing.secret_key, chains.clone()));
                let outbox = Arc::new(Outbox::open(
                    &spec.datadir.join("outbox.redb"),
                    signing.aggregators.clone(),
                )?);
                info!(key = %public_key, chain = domain.l1_chain_id, verifier = %domain.verifier, aggregators = signing.aggregators.len(), "signing enabled");
                if let Some(tower) = signing.watchtower {
                    let metrics = Arc::new(WatchtowerMetrics::default());
                    info!(from = %tower.wallet.address(), slasher = %tower.contracts.slasher, "watchtower enabled");
                    watchtower = Some(
                        Watchtower::new(tower, chains, metrics, spec.poll_interval)
                            .map_err(NodeError::Config)?,
                    );
                }
                Some(SigningRuntime {
                    domain,
                    public_key,
                    signer,
                    outbox,
                    wake: Arc::new(Notify::new()),
                    aggregators: signing
                        .aggregators
                        .into_iter()
                        .map(|url| (url, Arc::default()))
                        .collect(),
                    delivery: signing.delivery,
                    watchtower: watchtower.as_ref().map(Watchtower::metrics),
                    stake: Arc::default(),
                })
            }
            _ => None,
        };
        Ok(Self {
            datadir: spec.datadir,
            storage,
            l1: l1.map(|(l1, _)| l1),
            http_addr: spec.http_addr,
            rollups,
            signing,
            until: spec.until,
            poll_interval: spec.poll_interval,
            watchtower,
        })
    }

    /// The node's current status, as `GET /status` serves it.
    pub fn status(&self) -> NodeStatus {
        status(&self.rollups, self.signing.as_ref())
    }

    /// Runs until `shutdown` completes, every rollup reaches `until`, or a fatal error.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<NodeOutcome, NodeError> {
        let rollups = Arc::new(self.rollups);
        let signing = self.signing.map(Arc::new);
        if let Some(addr) = self.http_addr {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|source| NodeError::Http { addr, source })?;
            let bound = listener.local_addr().unwrap_or(addr);
            info!(
                "serving http://{bound}/metrics, http://{bound}/status and the EigenLayer node \
                 API at http://{bound}/eigen/node"
            );
            let api = health::NodeApi::new(rollups.clone(), signing.clone(), self.poll_interval);
            tokio::spawn(crate::api::serve(listener, Arc::new(api)));
        }
        info!(datadir = %self.datadir.display(), rollups = rollups.len(), "operator node running");

        let mut tasks: JoinSet<Result<Option<Fault>, NodeError>> = JoinSet::new();
        for (index, rollup) in rollups.iter().enumerate() {
            let (all, with_signing) = (rollups.clone(), signing.clone());
            let (until, poll) = (self.until, self.poll_interval);
            tasks.spawn(
                async move { follow(&all[index], with_signing.as_deref(), until, poll).await },
            );
            if let Some(signing) = &signing {
                let loop_ = signing::SigningLoop {
                    rollup_id: rollup.spec.id,
                    sign_at: rollup.spec.sign_at,
                    provider: rollup.provider.clone(),
                    store: rollup.store.clone(),
                    signer: signing.signer.clone(),
                    domain: signing.domain,
                    public_key: signing.public_key,
                    outbox: signing.outbox.clone(),
                    wake: signing.wake.clone(),
                    metrics: rollup.metrics.clone(),
                    poll_interval: self.poll_interval,
                    start: rollup.sign_from,
                };
                tasks.spawn(async move { Err(loop_.run().await) });
            }
            if self.storage.prune {
                let pruner = prune::Pruner {
                    rollup_id: rollup.spec.id,
                    provider: rollup.provider.clone(),
                    l1: self.l1.clone(),
                    store: rollup.store.clone(),
                    signer: signing.as_ref().map(|s| s.signer.clone()),
                    reports: signing.as_ref().map(|s| {
                        let urls = s.aggregators.iter().map(|(url, _)| url.clone()).collect();
                        (s.outbox.clone(), urls)
                    }),
                    metrics: rollup.metrics.clone(),
                    retention: self.storage.retention,
                    poll_interval: self.poll_interval,
                };
                tasks.spawn(async move { Err(pruner.run().await) });
            }
        }
        if let Some(watchtower) = self.watchtower {
            tasks.spawn(async move { match watchtower.run().await {} });
        }
        if let (Some(signing), Some(l1)) = (&signing, &self.l1) {
            let watch = stake::StakeWatch {
                l1: l1.clone(),
                key_hash: signing.public_key.key_hash(),
                stake: signing.stake.clone(),
            };
            tasks.spawn(async move { match watch.run().await {} });
        }
        if let Some(signing) = &signing {
            for (url, metrics) in &signing.aggregators {
                let sender = Sender {
                    url: url.clone(),
                    outbox: signing.outbox.clone(),
                    wake: signing.wake.clone(),
                    metrics: metrics.clone(),
                    batch_size: signing.delivery.batch_size,
                    timeout: signing.delivery.timeout_ms,
                    max_backoff: signing.delivery.max_backoff_ms,
                };
                tasks.spawn(async move { Err(sender.run().await.into()) });
            }
        }

        let followers = rollups.len();
        let mut finished = 0;
        let mut faults = Vec::new();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => {
                    info!("shutting down");
                    break;
                }
                joined = tasks.join_next() => {
                    let Some(joined) = joined else { break };
                    match joined.map_err(|e| NodeError::Worker(e.to_string()))? {
                        Ok(fault) => {
                            finished += 1;
                            faults.extend(fault);
                            if finished == followers && (self.until.is_some() || faults.len() == followers) {
                                break;
                            }
                        }
                        Err(fatal) => {
                            error!(%fatal, "operator node stopping");
                            return Err(fatal);
                        }
                    }
                }
            }
        }
        if !faults.is_empty()
            && let Some(signing) = &signing
        {
            // The mismatch reports are the point of stopping: give the senders a moment to
            // deliver them (the outbox keeps whatever is left for the next start).
            let deadline = tokio::time::Instant::now() + FAULT_DRAIN;
            while tokio::time::Instant::now() < deadline
                && signing
                    .aggregators
                    .iter()
                    .any(|(url, _)| signing.outbox.depth(url).unwrap_or(0) > 0)
            {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        tasks.shutdown().await;
        Ok(if !faults.is_empty() {
            NodeOutcome::Fault(faults)
        } else if self.until.is_some() && finished == followers {
            NodeOutcome::Reached
        } else {
            NodeOutcome::Stopped
        })
    }
}

/// Opens `rollup`'s state store under `datadir` and bootstraps its genesis from the genesis file
/// (checked against the endpoint's block 0) unless already done.
async fn open_rollup(
    datadir: &Path,
    rollup: &RollupSpec,
    cache_bytes: usize,
) -> Result<(Arc<StateStore>, RootProvider, ExecutionKind), NodeError> {
    let dir = datadir.join("rollups").join(rollup.id.to_string());
    std::fs::create_dir_all(&dir).map_err(|source| NodeError::Datadir {
        path: dir.clone(),
        source,
    })?;
    let store = Arc::new(StateStore::open_with_cache(
        dir.join("state.redb"),
        cache_bytes,
    )?);
    let follow_err = |source| NodeError::Follow {
        rollup_id: rollup.id,
        source,
    };
    let provider = connect_http(&rollup.rpc).map_err(follow_err)?;
    let genesis = GenesisFile::load(&rollup.genesis)?;
    let execution =
        ExecutionKind::Ethereum(rollup.rules.rules(genesis.chain_id(), rollup.hardfork));
    Follower::new(
        provider.clone(),
        store.clone(),
        execution.clone(),
        Arc::default(),
        FollowerConfig::default(),
    )
    .bootstrap(&genesis)
    .await
    .map_err(follow_err)?;
    Ok((store, provider, execution))
}

/// The genesis block (hash and computed state root) of `rollup` as a node with `datadir`
/// computes it: what a rollup registers on L1. Leaves the store bootstrapped for the node.
pub async fn compute_genesis(
    datadir: &Path,
    rollup: &RollupSpec,
) -> Result<StoredHeader, NodeError> {
    let (store, _, _) = open_rollup(datadir, rollup, DEFAULT_CACHE_BYTES).await?;
    Ok(store.header(0)?.ok_or(StateError::NotBootstrapped)?)
}

impl Fault {
    /// The height of the refused block.
    pub const fn block_number(&self) -> u64 {
        match self {
            Self::Mismatch(m) => m.block_number,
            Self::Invalid { number, .. } => *number,
        }
    }
}

/// Follows one rollup until `until`, a fault (a mismatch is reported; then `Ok(Some)`), or a
/// fatal error.
/// Transient L2 failures restart the follower after a bounded backoff.
async fn follow(
    rollup: &RollupRuntime,
    signing: Option<&SigningRuntime>,
    until: Option<u64>,
    poll_interval: Duration,
) -> Result<Option<Fault>, NodeError> {
    let follower = Follower::new(
        rollup.provider.clone(),
        rollup.store.clone(),
        rollup.execution.clone(),
        rollup.metrics.clone(),
        FollowerConfig {
            until,
            poll_interval,
            ..FollowerConfig::default()
        },
    );
    let mut backoff = Duration::from_millis(200);
    let outcome = loop {
        match follower.run().await {
            Ok((outcome, _)) => break outcome,
            Err(e @ (FollowError::Rpc(_) | FollowError::MissingBlock(_))) => {
                rollup.metrics.rpc_retries.fetch_add(1, Relaxed);
                warn!(rollup = rollup.spec.id, error = %e, retry_in = ?backoff, "L2 RPC failed; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
            Err(source) => {
                return Err(NodeError::Follow {
                    rollup_id: rollup.spec.id,
                    source,
                });
            }
        }
    };
    match outcome {
        Outcome::Reached { head } => {
            if signing.is_some() {
                // Done once everything up to `head` is signed and queued.
                while rollup.metrics.signed_head.load(Relaxed) < head {
                    tokio::time::sleep(poll_interval).await;
                }
            }
            Ok(None)
        }
        Outcome::Mismatch {
            number,
            hash,
            parent_hash,
            claimed,
            computed,
        } => {
            rollup.metrics.refused_height.store(number, Relaxed);
            let mismatch = Mismatch {
                rollup_id: rollup.spec.id,
                block_number: number,
                block_hash: hash,
                parent_hash,
                claimed_state_root: claimed,
                computed_state_root: computed,
            };
            if let Some(signing) = signing {
                let signature = signing.signer.sign_mismatch(&signing.domain, &mismatch)?;
                signing.outbox.push(&[Message::Report(MismatchReport {
                    mismatch,
                    public_key: signing.public_key,
                    signature,
                })])?;
                // Only after the report is durably queued: the pruner keeps evidence until then.
                rollup
                    .store
                    .set_evidence_status(number, hash, EvidenceStatus::Reported)?;
                signing.wake.notify_waiters();
                error!(
                    rollup = rollup.spec.id,
                    block = number,
                    "signed mismatch report queued for every aggregator; nothing past block {} will be signed",
                    number - 1
                );
            }
            Ok(Some(Fault::Mismatch(mismatch)))
        }
        Outcome::Invalid {
            number,
            hash,
            reason,
        } => {
            rollup.metrics.refused_height.store(number, Relaxed);
            error!(rollup = rollup.spec.id, block = number, %reason, "invalid block: nothing past block {} will be signed", number - 1);
            Ok(Some(Fault::Invalid {
                rollup_id: rollup.spec.id,
                number,
                hash,
                reason,
            }))
        }
    }
}

/// What `GET /status` and `surety operator status` show.
#[derive(Debug, Clone, Serialize)]
pub struct NodeStatus {
    pub public_key: Option<String>,
    pub rollups: Vec<RollupStatus>,
    pub aggregators: Vec<AggregatorStatus>,
    pub watchtower: Option<WatchtowerStatus>,
}

/// What the watchtower checked and the certificates it disputes.
#[derive(Debug, Clone, Serialize)]
pub struct WatchtowerStatus {
    pub certificates_checked: u64,
    pub accusations: u64,
    pub operators_slashed: u64,
    pub l1_errors: u64,
    pub disputes: Vec<Dispute>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RollupStatus {
    pub id: u64,
    pub sign_at: String,
    pub chain_head: u64,
    pub verified_head: u64,
    pub signable_head: u64,
    pub signed_head: u64,
    pub mismatches: u64,
    pub reorgs: u64,
    pub rpc_retries: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct AggregatorStatus {
    pub url: String,
    pub queue_depth: u64,
    pub sent: u64,
    pub accepted: u64,
    pub duplicate: u64,
    pub retries: u64,
    pub last_success: u64,
}

fn status(rollups: &[RollupRuntime], signing: Option<&SigningRuntime>) -> NodeStatus {
    NodeStatus {
        public_key: signing.map(|s| s.public_key.to_string()),
        rollups: rollups
            .iter()
            .map(|r| {
                let m = &r.metrics;
                RollupStatus {
                    id: r.spec.id,
                    sign_at: r.spec.sign_at.to_string(),
                    chain_head: m.chain_head.load(Relaxed),
                    verified_head: m.verified_head.load(Relaxed),
                    signable_head: m.signable_head.load(Relaxed),
                    signed_head: m.signed_head.load(Relaxed),
                    mismatches: m.state_root_mismatches.load(Relaxed),
                    reorgs: m.reorgs.load(Relaxed),
                    rpc_retries: m.rpc_retries.load(Relaxed),
                }
            })
            .collect(),
        aggregators: signing
            .map(|s| {
                s.aggregators
                    .iter()
                    .map(|(url, m)| AggregatorStatus {
                        url: url.clone(),
                        queue_depth: m.queue_depth.load(Relaxed),
                        sent: m.sent.load(Relaxed),
                        accepted: m.accepted.load(Relaxed),
                        duplicate: m.duplicate.load(Relaxed),
                        retries: m.retries.load(Relaxed),
                        last_success: m.last_success.load(Relaxed),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        watchtower: signing
            .and_then(|s| s.watchtower.as_ref())
            .map(|w| WatchtowerStatus {
                certificates_checked: w.certificates_checked.load(Relaxed),
                accusations: w.accusations.load(Relaxed),
                operators_slashed: w.operators_slashed.load(Relaxed),
                l1_errors: w.l1_errors.load(Relaxed),
                disputes: w.disputes(),
            }),
    }
}
