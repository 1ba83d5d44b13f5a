//! The watchtower every node runs: it reads each certificate L1 records for the rollups the node
//! follows and checks it against the node's own re-execution. On disagreement it accuses the
//! certificate at once (posting the slasher's bond), resolves the accusation when the rollup's
//! canonical root settles, and slashes every signer.
//!
//! A certificate is checked once one L1 block is on top of it, and, on a height the node has not
//! verified yet, once it has. Several
//! watchtowers race on the same fault; `surety_contracts::evidence` checks L1 before every
//! transaction and treats work someone else did as done. L1 failures are retried on the next
//! poll, logged and counted; nothing here stops the node.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::Duration,
};

use alloy::{
    network::EthereumWallet,
    primitives::{Address, B256},
    providers::{DynProvider, Provider, ProviderBuilder},
    signers::local::PrivateKeySigner,
};
use serde::Serialize;
use surety_contracts::evidence::{self, SubmittedCertificate};
use tracing::{info, warn};

use crate::{
    metrics::{Exposition, Kind},
    state::StateStore,
};

/// L1 blocks on top of a certificate's block before the watchtower checks it.
const CONFIRMATIONS: u64 = 1;

/// The contracts a watchtower acts on.
#[derive(Debug, Clone, Copy)]
pub struct WatchContracts {
    pub verifier: Address,
    pub registry: Address,
    pub slasher: Address,
}

/// What a node needs to run its watchtower.
#[derive(Debug)]
pub struct WatchtowerSpec {
    pub l1_rpc: String,
    pub contracts: WatchContracts,
    /// Pays the accusation bond and the gas; its address gets the bond back.
    pub wallet: PrivateKeySigner,
}

/// Counters and open disputes, for `/metrics` and `/status`.
#[derive(Debug, Default)]
pub struct WatchtowerMetrics {
    pub certificates_checked: AtomicU64,
    pub disagreements: AtomicU64,
    pub accusations: AtomicU64,
    pub resolutions: AtomicU64,
    pub operators_slashed: AtomicU64,
    pub l1_errors: AtomicU64,
    disputes: Mutex<Vec<Dispute>>,
}

/// A certificate this node disagrees with, and how far its fault has come.
#[derive(Debug, Clone, Serialize)]
pub struct Dispute {
    pub rollup_id: u64,
    pub block_number: u64,
    pub certified_root: B256,
    pub computed_root: B256,
    pub stage: &'static str,
}

impl WatchtowerMetrics {
    pub fn disputes(&self) -> Vec<Dispute> {
        self.disputes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn render_into(&self, out: &mut Exposition) {
        for (name, value) in [
            (
                "surety_watchtower_certificates_checked_total",
                &self.certificates_checked,
            ),
            ("surety_watchtower_disagreements_total", &self.disagreements),
            ("surety_watchtower_accusations_total", &self.accusations),
            ("surety_watchtower_resolutions_total", &self.resolutions),
            (
                "surety_watchtower_operators_slashed_total",
                &self.operators_slashed,
            ),
            ("surety_watchtower_l1_errors_total", &self.l1_errors),
        ] {
            out.sample(name, Kind::Counter, &[], value.load(Relaxed));
        }
    }
}

/// Where one disputed certificate stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Disagrees with this node; not yet accused by anyone.
    Disputed,
    /// Accused; waiting for the canonical root.
    Accused,
    /// Proven faulty; its signers are slashed next.
    Faulty,
    Done,
}

impl Stage {
    const fn name(self) -> &'static str {
        match self {
            Self::Disputed => "disputed",
            Self::Accused => "accused, waiting for the canonical root",
            Self::Faulty => "proven faulty, slashing signers",
            Self::Done => "signers slashed",
        }
    }
}

struct Case {
    certificate: SubmittedCertificate,
    computed_root: B256,
    stage: Stage,
}

pub(crate) struct Watchtower {
    l1: DynProvider,
    contracts: WatchContracts,
    stores: HashMap<u64, Arc<StateStore>>,
    metrics: Arc<WatchtowerMetrics>,
    poll_interval: Duration,
    next_block: u64,
    unchecked: Vec<SubmittedCertificate>,
    cases: Vec<Case>,
}

impl Watchtower {
    pub(crate) fn new(
        spec: WatchtowerSpec,
        stores: HashMap<u64, Arc<StateStore>>,
        metrics: Arc<WatchtowerMetrics>,
        poll_interval: Duration,
    ) -> Result<Self, String> {
        let url = spec
            .l1_rpc
            .parse()
            .map_err(|_| format!("invalid L1 RPC URL {}", spec.l1_rpc))?;
        let l1 = ProviderBuilder::new()
            .wallet(EthereumWallet::from(spec.wallet))
            .connect_http(url)
            .erased();
        Ok(Self {
            l1,
            contracts: spec.contracts,
            stores,
            metrics,
            poll_interval,
            next_block: 0,
            unchecked: Vec::new(),
            cases: Vec::new(),
        })
    }

    pub(crate) fn metrics(&self) -> Arc<WatchtowerMetrics> {
        self.metrics.clone()
    }

    /// Watches until the task is dropped.
    pub(crate) async fn run(mut self) -> std::convert::Infallible {
        loop {
            if let Err(error) = self.poll().await {
                self.metrics.l1_errors.fetch_add(1, Relaxed);
                warn!(%error, "watchtower: L1 call failed; retrying");
            }
            tokio::time::sleep(self.poll_interval).await;
        }
    }

    async fn poll(&mut self) -> Result<(), surety_contracts::Error> {
        // Only certificates with a block on top: one in a block that is reorged away never was.
        let head = self
            .l1
            .get_block_number()
            .await
            .map_err(surety_contracts::Error::Unreachable)?
            .saturating_sub(CONFIRMATIONS);
        if head >= self.next_block {
            for rollup_id in self.stores.keys() {
                self.unchecked.extend(
                    evidence::submitted_certificates(
                        &self.l1,
                        self.contracts.verifier,
                        *rollup_id,
                        self.next_block,
                        head,
                    )
                    .await?,
                );
            }
            self.next_block = head + 1;
        }
        self.check();
        for i in 0..self.cases.len() {
            self.advance(i).await?;
        }
        self.publish();
        Ok(())
    }

    /// Compares every certificate whose height this node has verified with its own result.
    fn check(&mut self) {
        let mut waiting = Vec::new();
        for certificate in std::mem::take(&mut self.unchecked) {
            let s = &certificate.statement;
            let Some(store) = self.stores.get(&s.rollup_id) else {
                continue;
            };
            let Ok(Some(own)) = store.header(s.block_number) else {
                waiting.push(certificate);
                continue;
            };
            self.metrics.certificates_checked.fetch_add(1, Relaxed);
            if own.state_root == s.state_root && own.hash == s.block_hash {
                continue;
            }
            self.metrics.disagreements.fetch_add(1, Relaxed);
            warn!(
                rollup = s.rollup_id,
                height = s.block_number,
                certified_root = %s.state_root,
                computed_root = %own.state_root,
                certified_hash = %s.block_hash,
                computed_hash = %own.hash,
                "watchtower: a certificate on L1 disagrees with this node's re-execution"
            );
            self.cases.push(Case {
                certificate,
                computed_root: own.state_root,
                stage: Stage::Disputed,
            });
        }
        self.unchecked = waiting;
    }

    /// Takes one disputed certificate as far as L1 allows now. Finished cases stay, for the status.
    async fn advance(&mut self, index: usize) -> Result<(), surety_contracts::Error> {
        let c = self.contracts;
        let case = &mut self.cases[index];
        let s = case.certificate.statement;
        if case.stage == Stage::Disputed {
            if evidence::accuse(&self.l1, c.verifier, c.slasher, &s).await? {
                self.metrics.accusations.fetch_add(1, Relaxed);
                info!(
                    rollup = s.rollup_id,
                    height = s.block_number,
                    "watchtower: accused the certificate"
                );
            }
            case.stage = Stage::Accused;
        }
        if case.stage == Stage::Accused {
            if evidence::resolve(&self.l1, c.verifier, c.slasher, &s).await? {
                self.metrics.resolutions.fetch_add(1, Relaxed);
                info!(
                    rollup = s.rollup_id,
                    height = s.block_number,
                    "watchtower: resolved the accusation"
                );
            }
            match evidence::fault_state(&self.l1, c.verifier, c.slasher, case.certificate.id)
                .await?
            {
                evidence::FaultState::Faulty => case.stage = Stage::Faulty,
                evidence::FaultState::Accused => {}
                // Judged canonical after all: the bond went to the pool.
                evidence::FaultState::Standing => {
                    warn!(
                        rollup = s.rollup_id,
                        height = s.block_number,
                        "watchtower: the canonical root agrees with the certificate, not with this \
                         node; the accusation was rejected"
                    );
                    case.stage = Stage::Done;
                }
            }
        }
        if case.stage == Stage::Faulty {
            let slashed =
                evidence::slash_signers(&self.l1, c.registry, c.slasher, &case.certificate).await?;
            self.metrics
                .operators_slashed
                .fetch_add(slashed.len() as u64, Relaxed);
            info!(rollup = s.rollup_id, height = s.block_number, slashed = ?slashed, "watchtower: signers of the faulty certificate slashed");
            case.stage = Stage::Done;
        }
        Ok(())
    }

    fn publish(&self) {
        let disputes = self
            .cases
            .iter()
            .map(|c| Dispute {
                rollup_id: c.certificate.statement.rollup_id,
                block_number: c.certificate.statement.block_number,
                certified_root: c.certificate.statement.state_root,
                computed_root: c.computed_root,
                stage: c.stage.name(),
            })
            .collect();
        *self
            .metrics
            .disputes
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = disputes;
    }
}
