//! Delivery: one task per aggregator drains the [`Outbox`] over gRPC, in order, with bounded
//! backoff. Retryable failures (unreachable, overloaded, timed out) leave the messages queued;
//! per-message refusals are final, logged and counted by their gRPC code.

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering::Relaxed},
    },
    time::Duration,
};

use surety_primitives::Statement;
use surety_proto::v1::{self, aggregator_client::AggregatorClient};
use tokio::sync::Notify;
use tonic::{Code, transport::Channel};
use tracing::{debug, info, warn};

use crate::{
    metrics::{Exposition, Kind, unix_now},
    outbox::{Message, Outbox, OutboxError},
};

/// Counters of one aggregator's delivery, rendered as Prometheus series labelled by its URL.
#[derive(Debug, Default)]
pub struct DeliveryMetrics {
    pub sent: AtomicU64,
    pub accepted: AtomicU64,
    pub duplicate: AtomicU64,
    /// Final refusals by gRPC code name.
    pub rejected: Mutex<BTreeMap<&'static str, u64>>,
    /// Calls that failed as a whole and will be retried.
    pub retries: AtomicU64,
    pub queue_depth: AtomicU64,
    /// Unix seconds of the last successful call (0: never).
    pub last_success: AtomicU64,
    /// Unix seconds of the first failure since the aggregator last answered (0: it answered
    /// the last attempt, or there was none).
    pub failing_since: AtomicU64,
    /// Whether the aggregator has answered (a connection or a call) since the node started.
    pub answered: AtomicBool,
    /// Per rollup, the highest height whose attestation it accepted (or already had).
    delivered: Mutex<BTreeMap<u64, u64>>,
}

impl DeliveryMetrics {
    fn reject(&self, code: Code) {
        let name = code_name(code);
        *self
            .rejected
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(name)
            .or_default() += 1;
    }

    fn delivered(&self, rollup_id: u64, height: u64) {
        let mut delivered = self.delivered.lock().unwrap_or_else(|e| e.into_inner());
        let head = delivered.entry(rollup_id).or_default();
        *head = (*head).max(height);
    }

    /// The highest height of `rollup_id` this aggregator accepted (0: none).
    pub fn delivered_head(&self, rollup_id: u64) -> u64 {
        self.delivered
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&rollup_id)
            .copied()
            .unwrap_or(0)
    }

    fn answered_now(&self) {
        self.answered.store(true, Relaxed);
        self.failing_since.store(0, Relaxed);
    }

    fn failed_now(&self) {
        let _ = self
            .failing_since
            .compare_exchange(0, unix_now(), Relaxed, Relaxed);
    }

    /// The series of this aggregator in the Prometheus text format.
    pub fn render(&self, url: &str, out: &mut Exposition) {
        use Kind::{Counter, Gauge};
        for (name, kind, value) in [
            ("surety_delivery_sent_total", Counter, &self.sent),
            ("surety_delivery_accepted_total", Counter, &self.accepted),
            ("surety_delivery_duplicate_total", Counter, &self.duplicate),
            ("surety_delivery_retries_total", Counter, &self.retries),
            ("surety_delivery_queue_depth", Gauge, &self.queue_depth),
            (
                "surety_delivery_last_success_timestamp_seconds",
                Gauge,
                &self.last_success,
            ),
        ] {
            out.sample(name, kind, &[("aggregator", &url)], value.load(Relaxed));
        }
        for (code, n) in self
            .rejected
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            out.sample(
                "surety_delivery_rejected_total",
                Counter,
                &[("aggregator", &url), ("code", code)],
                n,
            );
        }
        for (rollup, height) in self
            .delivered
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            out.sample(
                "surety_delivery_delivered_head",
                Gauge,
                &[("aggregator", &url), ("rollup", rollup)],
                height,
            );
        }
    }
}

/// The gRPC code name as Prometheus label (`INVALID_ARGUMENT`, …).
fn code_name(code: Code) -> &'static str {
    match code {
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::Unauthenticated => "UNAUTHENTICATED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        _ => "OTHER",
    }
}

/// Whether a failed call may succeed if repeated unchanged.
const fn retryable(code: Code) -> bool {
    matches!(
        code,
        Code::Unavailable
            | Code::DeadlineExceeded
            | Code::ResourceExhausted
            | Code::Aborted
            | Code::Unknown
            | Code::Internal
            | Code::Cancelled
    )
}

/// Drains the outbox to one aggregator until the task is dropped.
#[derive(Debug)]
pub struct Sender {
    pub url: String,
    pub outbox: Arc<Outbox>,
    pub wake: Arc<Notify>,
    pub metrics: Arc<DeliveryMetrics>,
    pub batch_size: usize,
    pub timeout: Duration,
    pub max_backoff: Duration,
}

/// Why a call failed as a whole.
enum Failure {
    Retry(String),
    Store(OutboxError),
}

impl Sender {
    /// Runs forever; returns only if the outbox itself fails (the node then stops).
    pub async fn run(self) -> OutboxError {
        let mut backoff = Duration::from_millis(100);
        let mut client: Option<AggregatorClient<Channel>> = None;
        loop {
            let wake = self.wake.notified();
            match self.deliver_some(&mut client).await {
                Ok(0) => {
                    self.metrics.answered_now();
                    backoff = Duration::from_millis(100);
                    // Woken by a new message, or poll in case a wake-up raced the check.
                    let _ = tokio::time::timeout(Duration::from_secs(1), wake).await;
                }
                Ok(_) => {
                    self.metrics.answered_now();
                    backoff = Duration::from_millis(100);
                }
                Err(Failure::Store(err)) => return err,
                Err(Failure::Retry(reason)) => {
                    client = None;
                    self.metrics.failed_now();
                    self.metrics.retries.fetch_add(1, Relaxed);
                    warn!(aggregator = %self.url, %reason, retry_in = ?backoff, "delivery failed; will retry");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(self.max_backoff);
                }
            }
        }
    }

    /// Sends one batch of pending messages; returns how many were settled.
    async fn deliver_some(
        &self,
        client: &mut Option<AggregatorClient<Channel>>,
    ) -> Result<usize, Failure> {
        let pending = self
            .outbox
            .pending(&self.url, self.batch_size)
            .map_err(Failure::Store)?;
        self.metrics.queue_depth.store(
            self.outbox.depth(&self.url).map_err(Failure::Store)?,
            Relaxed,
        );
        // Connect even with nothing to send: whether the aggregator is reachable is part of
        // the node's health before its first attestation.
        if client.is_none() {
            let endpoint = Channel::from_shared(self.url.clone())
                .map_err(|e| Failure::Retry(e.to_string()))?
                .connect_timeout(self.timeout)
                .timeout(self.timeout);
            let channel = endpoint
                .connect()
                .await
                .map_err(|e| Failure::Retry(format!("connecting: {e}")))?;
            info!(aggregator = %self.url, "connected");
            *client = Some(AggregatorClient::new(channel));
        }
        if pending.is_empty() {
            return Ok(0);
        }
        let client = client.as_mut().expect("connected above");
        // Reports go one by one (rare); runs of attestations in one batch call.
        let mut settled_to = None;
        let mut attestations = Vec::new();
        for (seq, message) in &pending {
            match message {
                Message::Attestation(a) => {
                    attestations.push((*seq, a.statement, v1::Attestation::from(a)))
                }
                Message::Report(r) => {
                    if !attestations.is_empty() {
                        break;
                    }
                    self.metrics.sent.fetch_add(1, Relaxed);
                    match client.report_mismatch(v1::MismatchReport::from(r)).await {
                        Ok(_) => {
                            self.metrics.accepted.fetch_add(1, Relaxed);
                        }
                        Err(status) if retryable(status.code()) => {
                            return Err(Failure::Retry(status.to_string()));
                        }
                        Err(status) => {
                            self.metrics.reject(status.code());
                            warn!(aggregator = %self.url, %status, "mismatch report refused");
                        }
                    }
                    settled_to = Some(*seq);
                    break;
                }
            }
        }
        if !attestations.is_empty() {
            let seqs: Vec<(u64, Statement)> =
                attestations.iter().map(|(seq, s, _)| (*seq, *s)).collect();
            let batch = v1::AttestationBatch {
                attestations: attestations.into_iter().map(|(.., a)| a).collect(),
            };
            self.metrics.sent.fetch_add(seqs.len() as u64, Relaxed);
            let response = client
                .submit_attestations(batch)
                .await
                .map_err(|status| {
                    if retryable(status.code()) {
                        Failure::Retry(status.to_string())
                    } else {
                        // The whole call refused for a non-transient reason (e.g. an
                        // aggregator that does not speak this protocol): retry, loudly.
                        Failure::Retry(format!("batch refused: {status}"))
                    }
                })?
                .into_inner();
            if response.results.len() != seqs.len() {
                return Err(Failure::Retry(format!(
                    "aggregator answered {} results for {} attestations",
                    response.results.len(),
                    seqs.len()
                )));
            }
            for ((seq, statement), result) in seqs.iter().zip(&response.results) {
                match v1::Status::try_from(result.status) {
                    Ok(v1::Status::Accepted) => {
                        self.metrics.accepted.fetch_add(1, Relaxed);
                        self.metrics
                            .delivered(statement.rollup_id, statement.block_number);
                    }
                    Ok(v1::Status::Duplicate) => {
                        self.metrics.duplicate.fetch_add(1, Relaxed);
                        self.metrics
                            .delivered(statement.rollup_id, statement.block_number);
                    }
                    _ => {
                        let code = Code::from_i32(result.code as i32);
                        if retryable(code) {
                            // Settle what came before; retry from here.
                            break;
                        }
                        self.metrics.reject(code);
                        debug!(aggregator = %self.url, seq, reason = %result.reason, "attestation refused");
                    }
                }
                settled_to = Some(*seq);
            }
        }
        let Some(settled) = settled_to else {
            return Err(Failure::Retry("aggregator is overloaded".into()));
        };
        self.outbox
            .settle(&self.url, settled)
            .map_err(Failure::Store)?;
        self.metrics.last_success.store(unix_now(), Relaxed);
        Ok(pending.iter().filter(|(s, _)| *s <= settled).count())
    }
}
