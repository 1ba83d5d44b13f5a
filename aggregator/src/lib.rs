//! The Surety aggregator: takes operators' attestations over gRPC, verifies them in batches,
//! aggregates them per statement, and posts a certificate to L1 once a rollup's stake threshold
//! is met. It also keeps and proves double-signing evidence and collects mismatch reports.
//! `docs/aggregator.md` describes intake rules, storage and the submission policy.
//!
//! [`Aggregator::start`] runs one in-process (what `surety aggregator run` does).

pub mod config;
pub mod double_sign;
mod http;
pub mod intake;
pub mod l1;
pub mod metrics;
pub mod mismatch;
pub mod operators;
pub mod quorum;
pub mod server;
pub mod store;
pub mod submit;
pub mod verify;

use std::{
    collections::{BTreeMap, HashSet},
    net::SocketAddr,
    sync::{Arc, Mutex, MutexGuard},
};

use alloy::{
    network::EthereumWallet,
    primitives::{Address, B256},
    providers::{Provider, ProviderBuilder, RootProvider},
    signers::Signer,
};
use serde::Serialize;
use surety_primitives::Domain;
use surety_proto::v1::aggregator_server::AggregatorServer;
use tokio::{
    net::TcpListener,
    sync::{oneshot, watch},
    task::JoinHandle,
};

pub use config::{AggregatorConfig, ConfigError};
use l1::{Follower, L1View};
use metrics::Metrics;
use mismatch::MismatchCounts;
use quorum::Pool;
use store::{Store, StoreError};
use submit::{SubmitStatus, Submitter};

/// Why the aggregator could not start.
#[derive(Debug, thiserror::Error)]
pub enum AggregatorError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("L1 RPC: {0}")]
    L1(#[from] alloy::transports::TransportError),
    #[error("L1 contract call: {0}")]
    Contract(#[from] alloy::contract::Error),
    #[error("invalid L1 RPC URL {0}")]
    Url(String),
    #[error("{what}: {source}")]
    Io {
        what: &'static str,
        source: std::io::Error,
    },
}

/// State shared by the gRPC handlers, the intake worker, the L1 follower and the submitter.
pub(crate) struct Shared {
    view: watch::Sender<Arc<L1View>>,
    pool: Mutex<Pool>,
    store: Store,
    domain: Domain,
    metrics: Metrics,
    max_ahead: u64,
    /// (rollup, height, key hash) of evidence already kept, so it is recorded once.
    known_evidence: Mutex<HashSet<(u64, u64, B256)>>,
    mismatches: Mutex<MismatchCounts>,
    submit_status: Mutex<BTreeMap<u64, SubmitStatus>>,
    /// Signalled whenever the intake counts new attestations, so the submitter can certify a
    /// height the moment it reaches quorum.
    attestations_accepted: tokio::sync::Notify,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking holder cannot leave these maps half-updated in a way later readers mind.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    pub(crate) fn view(&self) -> Arc<L1View> {
        self.view.borrow().clone()
    }

    pub(crate) fn pool(&self) -> MutexGuard<'_, Pool> {
        lock(&self.pool)
    }

    pub(crate) fn known_evidence(&self) -> MutexGuard<'_, HashSet<(u64, u64, B256)>> {
        lock(&self.known_evidence)
    }

    pub(crate) fn mismatches(&self) -> MutexGuard<'_, MismatchCounts> {
        lock(&self.mismatches)
    }

    pub(crate) fn submit_status(&self) -> MutexGuard<'_, BTreeMap<u64, SubmitStatus>> {
        lock(&self.submit_status)
    }

    fn status(&self) -> Status {
        let view = self.view();
        let (summary, quorum) = {
            let pool = self.pool();
            let quorum: BTreeMap<u64, u64> = view
                .rollups
                .keys()
                .filter_map(|id| Some((*id, pool.candidate(*id, &view)?.statement.block_number)))
                .collect();
            (pool.summary(&view), quorum)
        };
        let submit = self.submit_status().clone();
        let mut mismatches: BTreeMap<u64, BTreeMap<Address, u64>> = BTreeMap::new();
        for (&(rollup, operator), &n) in self.mismatches().iter() {
            mismatches.entry(rollup).or_default().insert(operator, n);
        }
        let rollups = view
            .rollups
            .iter()
            .map(|(&id, r)| {
                let (attested, best) = summary.get(&id).copied().unwrap_or((r.head, 0));
                let sub = submit.get(&id).cloned().unwrap_or_default();
                let state = if r.paused {
                    "paused".to_owned()
                } else if attested <= r.head {
                    "idle: nothing attested above the certified head".to_owned()
                } else if best < u32::from(r.threshold_bps) {
                    format!(
                        "below threshold: {best} of {} bps signed at height {attested}",
                        r.threshold_bps
                    )
                } else if !quorum.contains_key(&id) {
                    format!(
                        "quorum at height {attested}, but its parents do not link to the \
                         certified head through attested blocks"
                    )
                } else {
                    sub.note
                        .clone()
                        .unwrap_or_else(|| "quorum reached; certifying".to_owned())
                };
                RollupStatus {
                    id,
                    certified_head: r.head,
                    threshold_bps: r.threshold_bps,
                    paused: r.paused,
                    highest_attested: attested,
                    best_signed_bps: best,
                    quorum_height: quorum.get(&id).copied(),
                    state,
                    submission: sub,
                    mismatch_reports: mismatches.remove(&id).unwrap_or_default(),
                }
            })
            .collect();
        Status {
            l1_block: view.block(),
            operators: view.operators.len(),
            active_stake: view.operators.total_stake().to_string(),
            rollups,
        }
    }
}

#[cfg(test)]
impl Shared {
    /// An aggregator's state before it has read L1, over `store`.
    pub(crate) fn for_tests(store: Store) -> Self {
        Self {
            view: watch::Sender::new(Arc::new(L1View::default())),
            pool: Mutex::new(Pool::default()),
            store,
            domain: Domain::new(1, Address::ZERO),
            metrics: Metrics::default(),
            max_ahead: 1,
            known_evidence: Mutex::new(HashSet::new()),
            mismatches: Mutex::new(MismatchCounts::new()),
            submit_status: Mutex::new(BTreeMap::new()),
            attestations_accepted: tokio::sync::Notify::new(),
        }
    }
}

/// What `/status` answers.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// The L1 block the operator set and rollup heads are read at.
    pub l1_block: u64,
    pub operators: usize,
    /// Σ stake of the active operators (decimal).
    pub active_stake: String,
    pub rollups: Vec<RollupStatus>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RollupStatus {
    pub id: u64,
    pub certified_head: u64,
    pub threshold_bps: u16,
    pub paused: bool,
    pub highest_attested: u64,
    /// Best stake progress at the highest attested height.
    pub best_signed_bps: u32,
    /// The newest height with quorum that links to the certified head: what the next
    /// certificate will cover.
    pub quorum_height: Option<u64>,
    /// One line: idle, below threshold (with figures), certifying, or why the last try failed.
    pub state: String,
    pub submission: SubmitStatus,
    /// Mismatch reports per reporting operator.
    pub mismatch_reports: BTreeMap<Address, u64>,
}

/// A running aggregator. Dropping it without [`Self::stop`] aborts its tasks.
pub struct Aggregator {
    shared: Arc<Shared>,
    grpc_addr: SocketAddr,
    http_addr: Option<SocketAddr>,
    tasks: Vec<JoinHandle<()>>,
    grpc_shutdown: Option<oneshot::Sender<()>>,
    grpc: Option<JoinHandle<()>>,
    worker: Option<std::thread::JoinHandle<()>>,
}

impl Aggregator {
    /// Opens the store, reads L1 once, restores accepted attestations and starts serving.
    pub async fn start(config: &AggregatorConfig) -> Result<Self, AggregatorError> {
        let contracts = config.contracts()?;
        let signer = config.submitter()?;
        let url: alloy::transports::http::reqwest::Url = config
            .l1
            .rpc
            .parse()
            .map_err(|_| AggregatorError::Url(config.l1.rpc.clone()))?;
        let reader = RootProvider::new_http(url.clone()).erased();
        let chain_id = reader.get_chain_id().await?;
        let from = signer.address();
        let signer = signer.with_chain_id(Some(chain_id));
        // No nonce or gas fillers: the submitter sets every field itself (see `submit`).
        let sender = ProviderBuilder::new()
            .disable_recommended_fillers()
            .wallet(EthereumWallet::from(signer))
            .connect_http(url)
            .erased();

        std::fs::create_dir_all(&config.datadir).map_err(|source| AggregatorError::Io {
            what: "creating the datadir",
            source,
        })?;
        let store = Store::open(&config.datadir.join("aggregator.redb"))?;

        let mut follower = Follower::new(reader.clone(), contracts, config.l1.from_block);
        let view = loop {
            if let Some(view) = follower.poll().await? {
                break view;
            }
            tokio::time::sleep(config.l1.poll_interval_ms).await;
        };
        let mut pool = Pool::default();
        let restored = store.attestations()?;
        for (a, key_hash) in &restored {
            if pool.check(&a.statement, key_hash) == quorum::Seen::New {
                pool.insert(a, *key_hash);
            }
        }
        pool.prune(&view);
        let known_evidence = store
            .evidence()?
            .iter()
            .map(|(e, _)| (e.rollup_id(), e.block_number(), e.key_hash()))
            .collect();
        let mut mismatches = MismatchCounts::new();
        for report in store.mismatches()? {
            if let Some(op) = view.operators.get(&report.public_key.key_hash()) {
                *mismatches
                    .entry((report.mismatch.rollup_id, op.address))
                    .or_default() += 1;
            }
        }
        tracing::info!(
            restored = restored.len(),
            l1_block = view.block(),
            operators = view.operators.len(),
            rollups = view.rollups.len(),
            "aggregator state restored"
        );
        let (view_tx, view_rx) = watch::channel(Arc::new(view));
        let shared = Arc::new(Shared {
            view: view_tx,
            pool: Mutex::new(pool),
            store,
            domain: Domain::new(chain_id, contracts.certificate_verifier),
            metrics: Metrics::default(),
            max_ahead: config.intake.max_ahead,
            known_evidence: Mutex::new(known_evidence),
            mismatches: Mutex::new(mismatches),
            submit_status: Mutex::new(BTreeMap::new()),
            attestations_accepted: tokio::sync::Notify::new(),
        });

        let mut tasks = Vec::new();
        let poll = config.l1.poll_interval_ms;
        let follow = shared.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                tokio::time::sleep(poll).await;
                match follower.poll().await {
                    Ok(Some(view)) => {
                        follow
                            .metrics
                            .l1_block
                            .store(view.block(), std::sync::atomic::Ordering::Relaxed);
                        follow.pool().prune(&view);
                        let old = follow.view();
                        for (id, r) in &view.rollups {
                            if old.rollups.get(id).is_none_or(|o| o.head != r.head)
                                && let Err(error) = follow
                                    .store
                                    .prune(*id, r.head.saturating_sub(quorum::RETAINED_BELOW_HEAD))
                            {
                                tracing::warn!(%error, "pruning certified attestations failed");
                            }
                        }
                        follow.view.send_replace(Arc::new(view));
                    }
                    Ok(None) => {}
                    Err(error) => tracing::warn!(%error, "reading L1 failed; retrying"),
                }
            }
        }));
        let submitter = Submitter {
            shared: shared.clone(),
            provider: sender,
            from,
            chain_id,
            contracts,
            config: config.submit.clone(),
        };
        tasks.push(tokio::spawn(submitter.run(view_rx)));

        let queue = intake::Queue::new(config.intake.queue_attestations);
        let worker = intake::spawn_worker(shared.clone(), queue.clone()).map_err(|source| {
            AggregatorError::Io {
                what: "starting the intake worker",
                source,
            }
        })?;

        let listener = TcpListener::bind(config.grpc_addr)
            .await
            .map_err(|source| AggregatorError::Io {
                what: "binding the gRPC address",
                source,
            })?;
        let grpc_addr = listener
            .local_addr()
            .map_err(|source| AggregatorError::Io {
                what: "binding the gRPC address",
                source,
            })?;
        let service = server::Service {
            shared: shared.clone(),
            intake: intake::Sender::new(queue),
        };
        let (grpc_shutdown, stop) = oneshot::channel::<()>();
        let grpc = tokio::spawn(async move {
            let result = tonic::transport::Server::builder()
                .serve_with_incoming_shutdown(
                    AggregatorServer::new(service),
                    tonic::transport::server::TcpIncoming::from(listener),
                    async {
                        let _ = stop.await;
                    },
                )
                .await;
            if let Err(error) = result {
                tracing::error!(%error, "gRPC server failed");
            }
        });

        let http_addr = match config.http_addr {
            Some(addr) => {
                let listener =
                    TcpListener::bind(addr)
                        .await
                        .map_err(|source| AggregatorError::Io {
                            what: "binding the HTTP address",
                            source,
                        })?;
                let addr = listener
                    .local_addr()
                    .map_err(|source| AggregatorError::Io {
                        what: "binding the HTTP address",
                        source,
                    })?;
                let (observer, page) = http::Observer::new(
                    shared.clone(),
                    reader,
                    contracts,
                    config.l1.from_block,
                    &config.rollups,
                )?;
                tasks.push(tokio::spawn(observer.run()));
                tasks.push(tokio::spawn(http::serve(listener, shared.clone(), page)));
                Some(addr)
            }
            None => None,
        };
        tracing::info!(%grpc_addr, ?http_addr, submitter = %from, "aggregator serving");
        Ok(Self {
            shared,
            grpc_addr,
            http_addr,
            tasks,
            grpc_shutdown: Some(grpc_shutdown),
            grpc: Some(grpc),
            worker: Some(worker),
        })
    }

    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc_addr
    }

    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http_addr
    }

    /// What `/status` would answer now.
    pub fn status(&self) -> Status {
        self.shared.status()
    }

    /// The counters `/metrics` renders.
    pub fn metrics(&self) -> &Metrics {
        &self.shared.metrics
    }

    /// Stops serving, finishes the calls being verified and closes the store.
    pub async fn stop(mut self) {
        if let Some(tx) = self.grpc_shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(grpc) = self.grpc.take() {
            let _ = grpc.await;
        }
        for task in self.tasks.drain(..) {
            task.abort();
            let _ = task.await;
        }
        if let Some(worker) = self.worker.take() {
            // The worker ends once the service (holding the queue's sender) is gone.
            let _ = tokio::task::spawn_blocking(move || worker.join()).await;
        }
    }
}

impl Drop for Aggregator {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        if let Some(grpc) = &self.grpc {
            grpc.abort();
        }
    }
}
