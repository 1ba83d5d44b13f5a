//! Shared pieces of the node tests: a real L1 (anvil, Prague) with the EigenLayer core and Surety
//! deployed, an anvil L2 registered on it as a rollup, and real gRPC aggregators that record
//! every attestation they receive (the external observers).

#![allow(dead_code, unreachable_pub)]

#[path = "../engine_support/mod.rs"]
pub mod engine_support;

use std::{
    net::SocketAddr,
    path::Path,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use alloy::{
    primitives::{Address, B256},
    providers::ProviderBuilder,
};
use surety_contracts::{CoreParams, Deployment, SuretyParams, deploy_all};
use surety_operator::{
    NodeSpec, RollupSpec, SigningSpec, compute_genesis,
    config::{DeliveryConfig, SignAt},
    execution::{EthereumHardfork, RuleSet},
};
use surety_primitives::{Attestation, Domain, MismatchReport, SecretKey};
use surety_proto::v1::{
    self,
    aggregator_server::{Aggregator, AggregatorServer},
};
use surety_testkit::anvil::{Anvil, AnvilInstance};
use tokio::sync::oneshot;
use tonic::{Request, Response, Status};

pub const ROLLUP_ID: u64 = 1;

/// L1 with Surety deployed; the L2's rollup registered by [`L1::register`].
pub struct L1 {
    pub anvil: AnvilInstance,
    pub deployment: Deployment,
}

impl L1 {
    pub async fn start() -> Self {
        let anvil = Anvil::new().spawn().expect("spawn the L1 anvil");
        let deployer = ProviderBuilder::new()
            .wallet(anvil.keys()[0].clone())
            .connect_http(anvil.url());
        let deployment = deploy_all(&deployer, CoreParams::DEVNET, &SuretyParams::devnet())
            .await
            .expect("deploy EigenLayer and Surety");
        Self { anvil, deployment }
    }

    pub fn domain(&self) -> Domain {
        Domain::new(
            self.deployment.chain_id,
            self.deployment.surety.certificate_verifier,
        )
    }

    /// Registers the L2 (chain id `chain_id`) with `genesis` as rollup 1.
    pub async fn register(&self, chain_id: u64, genesis_hash: B256, genesis_root: B256) {
        let owner = ProviderBuilder::new()
            .wallet(self.anvil.keys()[0].clone())
            .connect_http(self.anvil.url());
        let id = self
            .deployment
            .register_rollup(&owner, chain_id, genesis_hash, genesis_root, 6_667)
            .await
            .expect("register the rollup");
        assert_eq!(id, ROLLUP_ID);
    }
}

/// The rollup spec of the engine tests' anvil L2.
pub fn rollup(rpc: &str, genesis: &Path, sign_at: SignAt) -> RollupSpec {
    RollupSpec {
        id: ROLLUP_ID,
        rpc: rpc.to_owned(),
        genesis: genesis.to_owned(),
        hardfork: EthereumHardfork::Prague,
        rules: RuleSet::Anvil,
        sign_at,
    }
}

/// Computes the L2's genesis as the node would and registers it on `l1`.
pub async fn register_genesis(l1: &L1, datadir: &Path, rollup: &RollupSpec) {
    let genesis = compute_genesis(datadir, rollup).await.expect("genesis");
    l1.register(engine_support::CHAIN_ID, genesis.hash, genesis.state_root)
        .await;
}

pub fn node_spec(
    datadir: &Path,
    l1: &L1,
    rollup: RollupSpec,
    key: SecretKey,
    aggregators: &[&Recorder],
) -> NodeSpec {
    spec(
        datadir,
        &l1.anvil.endpoint(),
        l1.deployment.surety.certificate_verifier,
        rollup,
        key,
        aggregators.iter().map(|a| a.url()).collect(),
    )
}

/// A signing node's spec, polling fast and backing off briefly (tests wait on it).
pub fn spec(
    datadir: &Path,
    l1_rpc: &str,
    verifier: Address,
    rollup: RollupSpec,
    key: SecretKey,
    aggregators: Vec<String>,
) -> NodeSpec {
    NodeSpec {
        datadir: datadir.to_owned(),
        http_addr: None,
        rollups: vec![rollup],
        signing: Some(SigningSpec {
            l1_rpc: l1_rpc.to_owned(),
            verifier,
            secret_key: key,
            aggregators,
            delivery: DeliveryConfig {
                max_backoff_ms: Duration::from_millis(400),
                ..DeliveryConfig::default()
            },
            watchtower: None,
        }),
        until: None,
        poll_interval: Duration::from_millis(100),
    }
}

/// What a recorder saw.
#[derive(Debug, Default)]
pub struct Seen {
    /// Every attestation received, valid or not, duplicates included, in arrival order.
    pub attestations: Vec<Attestation>,
    /// When each of `attestations` arrived (the delivery bench's clock).
    pub arrivals: Vec<Instant>,
    pub reports: Vec<MismatchReport>,
    /// Attestations whose signature did not verify.
    pub invalid: usize,
}

/// A real tonic gRPC aggregator that accepts and records every well-formed attestation, can
/// go down and come back on the same port.
pub struct Recorder {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Seen>>,
    domain: Domain,
    down: Arc<AtomicBool>,
    stop: Option<oneshot::Sender<()>>,
}

#[derive(Clone)]
struct Service {
    seen: Arc<Mutex<Seen>>,
    domain: Domain,
    /// Set while down: connections that outlive the listener are refused too.
    down: Arc<AtomicBool>,
}

impl Service {
    fn check_up(&self) -> Result<(), Status> {
        if self.down.load(Ordering::SeqCst) {
            return Err(Status::unavailable("down"));
        }
        Ok(())
    }

    fn record(&self, wire: &v1::Attestation) -> Result<v1::Status, Status> {
        let attestation =
            Attestation::try_from(wire).map_err(|e| Status::invalid_argument(e.to_string()))?;
        let mut seen = self.seen.lock().unwrap();
        if !attestation.verify(&self.domain) {
            seen.invalid += 1;
            return Err(Status::unauthenticated("bad signature"));
        }
        let duplicate = seen.attestations.contains(&attestation);
        seen.attestations.push(attestation);
        seen.arrivals.push(Instant::now());
        Ok(if duplicate {
            v1::Status::Duplicate
        } else {
            v1::Status::Accepted
        })
    }
}

#[tonic::async_trait]
impl Aggregator for Service {
    async fn submit_attestation(
        &self,
        request: Request<v1::Attestation>,
    ) -> Result<Response<v1::SubmitAttestationResponse>, Status> {
        self.check_up()?;
        let status = self.record(request.get_ref())?;
        Ok(Response::new(v1::SubmitAttestationResponse {
            status: status.into(),
            signed_stake_bps: 0,
        }))
    }

    async fn submit_attestations(
        &self,
        request: Request<v1::AttestationBatch>,
    ) -> Result<Response<v1::SubmitAttestationsResponse>, Status> {
        self.check_up()?;
        let results = request
            .get_ref()
            .attestations
            .iter()
            .map(|a| match self.record(a) {
                Ok(status) => v1::AttestationResult {
                    status: status.into(),
                    ..Default::default()
                },
                Err(status) => v1::AttestationResult {
                    status: v1::Status::Rejected.into(),
                    code: status.code() as u32,
                    reason: status.message().to_owned(),
                    ..Default::default()
                },
            })
            .collect();
        Ok(Response::new(v1::SubmitAttestationsResponse { results }))
    }

    async fn report_mismatch(
        &self,
        request: Request<v1::MismatchReport>,
    ) -> Result<Response<v1::ReportMismatchResponse>, Status> {
        self.check_up()?;
        let report = MismatchReport::try_from(request.get_ref())
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        if !report.verify(&self.domain) {
            return Err(Status::unauthenticated("bad report signature"));
        }
        self.seen.lock().unwrap().reports.push(report);
        Ok(Response::new(v1::ReportMismatchResponse {
            status: v1::Status::Accepted.into(),
        }))
    }
}

impl Recorder {
    /// A recorder on a free loopback port, serving.
    pub async fn start(domain: Domain) -> Self {
        let port = surety_testkit::ports::reserve().expect("free port").port();
        let mut recorder = Self {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            seen: Arc::default(),
            domain,
            down: Arc::default(),
            stop: None,
        };
        recorder.up().await;
        recorder
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Starts serving (again) on the same port.
    pub async fn up(&mut self) {
        let (stop, stopped) = oneshot::channel();
        self.down.store(false, Ordering::SeqCst);
        let service = Service {
            seen: self.seen.clone(),
            domain: self.domain,
            down: self.down.clone(),
        };
        let addr = self.addr;
        tokio::spawn(async move {
            tonic::transport::Server::builder()
                .add_service(AggregatorServer::new(service))
                .serve_with_shutdown(addr, async {
                    let _ = stopped.await;
                })
                .await
                .expect("serve");
        });
        // Until the port accepts.
        let deadline = Instant::now() + Duration::from_secs(5);
        while tokio::net::TcpStream::connect(addr).await.is_err() {
            assert!(Instant::now() < deadline, "recorder did not come up");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.stop = Some(stop);
    }

    /// Stops serving; connections are refused until [`Self::up`].
    pub async fn down(&mut self) {
        self.down.store(true, Ordering::SeqCst);
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while tokio::net::TcpStream::connect(self.addr).await.is_ok() {
            assert!(Instant::now() < deadline, "recorder did not go down");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Distinct heights received.
    pub fn heights(&self) -> std::collections::BTreeSet<u64> {
        self.seen
            .lock()
            .unwrap()
            .attestations
            .iter()
            .map(|a| a.statement.block_number)
            .collect()
    }

    /// Waits until every height in `1..=head` has arrived.
    pub async fn wait_for(&self, head: u64, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let heights = self.heights();
            if (1..=head).all(|h| heights.contains(&h)) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{}: heights up to {head} not all delivered within {timeout:?}; missing {:?}",
                self.url(),
                (1..=head)
                    .filter(|h| !heights.contains(h))
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
