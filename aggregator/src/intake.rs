//! Intake: every attestation is checked before it counts.
//!
//! 1. Shape, through `surety_proto::convert` → INVALID_ARGUMENT.
//! 2. The key is registered and active in the operator set → else UNAUTHENTICATED.
//! 3. The rollup is registered and not paused, the height above its certified head and at most
//!    `max_ahead` beyond it → else FAILED_PRECONDITION.
//! 4. The signature, in batches on one worker thread ([`crate::verify`]) → else UNAUTHENTICATED.
//!
//! Steps 1–3 run on the gRPC task; what passes is queued (bounded: a full queue is
//! RESOURCE_EXHAUSTED) for the worker, which drains every waiting call at once, verifies all
//! their signatures together, commits the accepted ones durably in one transaction and only
//! then answers.

use std::{
    collections::HashMap,
    sync::{Arc, atomic::Ordering::Relaxed},
};

use alloy::primitives::B256;
use surety_primitives::{Attestation, Signature, Statement};
use surety_proto::{convert, v1};
use tokio::sync::{mpsc, oneshot};
use tonic::Code;

use crate::{
    Shared,
    double_sign::Evidence,
    metrics::Metrics,
    quorum::Seen,
    verify::{self, Item},
};

/// Attestations the worker verifies in one round at most.
const MAX_ROUND: usize = 8_192;

/// Why an attestation or report was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: Code,
    pub reason: String,
}

impl Refusal {
    pub(crate) fn new(code: Code, reason: impl Into<String>) -> Self {
        Self {
            code,
            reason: reason.into(),
        }
    }
}

/// What became of one attestation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Counted; the statement's stake progress in basis points.
    Accepted(u32),
    /// Already counted.
    Duplicate(u32),
    Rejected(Refusal),
}

/// Checks 1–3; returns the attestation and its signer's key hash.
pub(crate) fn precheck(
    shared: &Shared,
    wire: &v1::Attestation,
) -> Result<(Attestation, B256), Refusal> {
    let view = shared.view();
    // Registered keys were validated when read from L1: look them up instead of decoding.
    let mut known_hash = None;
    let attestation = convert::attestation_with_known_keys(wire, |bytes| {
        let (key, hash) = view.operators.key_by_bytes(bytes)?;
        known_hash = Some(hash);
        Some(key)
    })
    .map_err(|e| Refusal::new(Code::InvalidArgument, e.to_string()))?;
    let key_hash = known_hash.unwrap_or_else(|| attestation.public_key.key_hash());
    if !view.operators.is_active(&key_hash) {
        return Err(Refusal::new(
            Code::Unauthenticated,
            format!(
                "key {key_hash} is not an active operator key at L1 block {}",
                view.block()
            ),
        ));
    }
    let s = &attestation.statement;
    let Some(rollup) = view.rollups.get(&s.rollup_id) else {
        return Err(Refusal::new(
            Code::FailedPrecondition,
            format!("rollup {} is not registered", s.rollup_id),
        ));
    };
    if rollup.paused {
        return Err(Refusal::new(
            Code::FailedPrecondition,
            format!("rollup {} is paused", s.rollup_id),
        ));
    }
    if s.block_number <= rollup.head {
        return Err(Refusal::new(
            Code::FailedPrecondition,
            format!(
                "height {} is at or below rollup {}'s certified head {}",
                s.block_number, s.rollup_id, rollup.head
            ),
        ));
    }
    if s.block_number - rollup.head > shared.max_ahead {
        return Err(Refusal::new(
            Code::FailedPrecondition,
            format!(
                "height {} is more than {} blocks above rollup {}'s certified head {}",
                s.block_number, shared.max_ahead, s.rollup_id, rollup.head
            ),
        ));
    }
    Ok((attestation, key_hash))
}

/// One call's prechecked attestations, and where its answer goes.
pub(crate) struct Job {
    pub(crate) items: Vec<(Attestation, B256)>,
    pub(crate) reply: oneshot::Sender<Vec<Outcome>>,
}

/// Runs the verification worker until every sender is dropped.
pub(crate) fn spawn_worker(
    shared: Arc<Shared>,
    mut jobs: mpsc::Receiver<Job>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("surety-intake".to_owned())
        .spawn(move || {
            while let Some(first) = jobs.blocking_recv() {
                let mut round = vec![first];
                let mut n = round[0].items.len();
                while n < MAX_ROUND {
                    match jobs.try_recv() {
                        Ok(job) => {
                            n += job.items.len();
                            round.push(job);
                        }
                        Err(_) => break,
                    }
                }
                process(&shared, round);
            }
        })
}

fn process(shared: &Shared, round: Vec<Job>) {
    let metrics = &shared.metrics;
    let items: Vec<&(Attestation, B256)> = round.iter().flat_map(|j| &j.items).collect();
    let mut outcomes: Vec<Option<Outcome>> = vec![None; items.len()];

    // Already counted attestations need no pairing.
    let mut to_verify = Vec::new();
    {
        let pool = shared.pool();
        for (i, (a, key_hash)) in items.iter().enumerate() {
            if pool.check(&a.statement, key_hash) == Seen::Duplicate {
                outcomes[i] = Some(Outcome::Duplicate(0));
            } else {
                to_verify.push(i);
            }
        }
    }
    let verify_items: Vec<Item> = to_verify
        .iter()
        .map(|&i| {
            let a = &items[i].0;
            Item {
                message: a.statement.signing_root(&shared.domain),
                public_key: a.public_key,
                signature: a.signature,
            }
        })
        .collect();
    let (valid, work) = verify::verify_all(&verify_items);
    Metrics::add(&metrics.batch_checks, work.batch_checks);
    Metrics::add(&metrics.invalid_signatures, work.invalid);

    // Decide against the pool and what this round accepted before it.
    let mut accepted: Vec<(Attestation, B256)> = Vec::new();
    let mut evidence: Vec<Evidence> = Vec::new();
    {
        let pool = shared.pool();
        let mut known_evidence = shared.known_evidence();
        let mut in_round: HashMap<(u64, u64, B256), (Statement, Signature)> = HashMap::new();
        for (&i, ok) in to_verify.iter().zip(valid) {
            let (a, key_hash) = items[i];
            if !ok {
                outcomes[i] = Some(Outcome::Rejected(Refusal::new(
                    Code::Unauthenticated,
                    "invalid signature",
                )));
                continue;
            }
            let s = &a.statement;
            let slot = (s.rollup_id, s.block_number, *key_hash);
            let seen = match (pool.check(s, key_hash), in_round.get(&slot)) {
                (Seen::New, None) => Seen::New,
                (Seen::New, Some((earlier, _))) if earlier == s => Seen::Duplicate,
                (Seen::New, Some((earlier, sig))) => Seen::Conflict(*earlier, *sig),
                (seen, _) => seen,
            };
            outcomes[i] = Some(match seen {
                Seen::New => {
                    in_round.insert(slot, (*s, a.signature));
                    accepted.push((*a, *key_hash));
                    Outcome::Accepted(0)
                }
                Seen::Duplicate => Outcome::Duplicate(0),
                Seen::Conflict(earlier, sig) => {
                    match Evidence::from_pair((earlier, sig), a) {
                        Some(e) if known_evidence.insert(slot) => {
                            tracing::warn!(
                                key = %key_hash,
                                rollup = s.rollup_id,
                                height = s.block_number,
                                first = ?earlier,
                                second = ?s,
                                "double signing detected; evidence kept"
                            );
                            evidence.push(e);
                        }
                        _ => {}
                    }
                    Outcome::Rejected(Refusal::new(
                        Code::FailedPrecondition,
                        "conflicts with an earlier attestation by this key at this height",
                    ))
                }
            });
        }
    }

    if let Err(error) = shared.store.commit_intake(&accepted, &evidence) {
        // Nothing was counted: the operator retries (UNAVAILABLE is retryable).
        tracing::error!(%error, "storing accepted attestations failed");
        let mut known_evidence = shared.known_evidence();
        for e in &evidence {
            known_evidence.remove(&(e.rollup_id(), e.block_number(), e.key_hash()));
        }
        drop(known_evidence);
        for job in round {
            let n = job.items.len();
            let _ = job.reply.send(vec![
                Outcome::Rejected(Refusal::new(
                    Code::Unavailable,
                    "aggregator storage failed; retry"
                ));
                n
            ]);
        }
        return;
    }
    Metrics::add(&metrics.double_signs, evidence.len() as u64);
    Metrics::add(&metrics.accepted, accepted.len() as u64);

    let view = shared.view();
    let mut pool = shared.pool();
    for (a, key_hash) in &accepted {
        pool.insert(a, *key_hash);
    }
    if !accepted.is_empty() {
        shared.attestations_accepted.notify_one();
    }
    let mut progress: HashMap<Statement, u32> = HashMap::new();
    let mut outcomes = outcomes.into_iter();
    for job in round {
        let answers: Vec<Outcome> = job
            .items
            .iter()
            .map(|(a, _)| {
                let outcome = outcomes.next().flatten().unwrap_or_else(|| {
                    Outcome::Rejected(Refusal::new(Code::Internal, "not processed"))
                });
                let mut bps = || {
                    *progress
                        .entry(a.statement)
                        .or_insert_with(|| pool.progress_bps(&a.statement, &view))
                };
                match outcome {
                    Outcome::Accepted(_) => Outcome::Accepted(bps()),
                    Outcome::Duplicate(_) => {
                        metrics.duplicate.fetch_add(1, Relaxed);
                        Outcome::Duplicate(bps())
                    }
                    Outcome::Rejected(r) => {
                        metrics.reject(r.code);
                        Outcome::Rejected(r)
                    }
                }
            })
            .collect();
        // The caller may have gone away; its attestations are stored regardless.
        let _ = job.reply.send(answers);
    }
}
