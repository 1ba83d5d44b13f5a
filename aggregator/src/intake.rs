//! Intake: every attestation is checked before it counts.
//!
//! 1. Shape, through `surety_proto::convert` → INVALID_ARGUMENT.
//! 2. The key is registered and active in the operator set → else UNAUTHENTICATED.
//! 3. The rollup is registered and not paused, the height above its certified head and at most
//!    `max_ahead` beyond it → else FAILED_PRECONDITION.
//! 4. The signature, in batches on one worker thread ([`crate::verify`]) → else UNAUTHENTICATED.
//!
//! Steps 1–3 run on the gRPC task. What passes is admitted to the [`Queue`] if there is room,
//! counted in attestations (else RESOURCE_EXHAUSTED): half of it is kept for *trusted*
//! connections (whose last call verified cleanly), and any other connection may have at most
//! [`MAX_BATCH`] attestations waiting. The worker takes every waiting call each round (first
//! waiting, at most [`GATHER`], for calls still being prechecked, so a burst is one round), checks
//! trusted connections' signatures together and a bounded share of everyone else's
//! ([`Verifier`]), commits the accepted ones durably in one transaction and only then answers
//! the calls it has decided completely.

use std::{
    collections::{HashMap, VecDeque},
    net::SocketAddr,
    sync::{Arc, Condvar, Mutex},
    time::{Duration, Instant},
};

use alloy::primitives::B256;
use surety_primitives::{Attestation, Signature, Statement};
use surety_proto::{convert, v1};
use tokio::sync::oneshot;
use tonic::Code;

use crate::{
    Shared,
    double_sign::Evidence,
    l1::L1View,
    lock,
    metrics::Metrics,
    quorum::Seen,
    server::MAX_BATCH,
    verify::{Item, Verifier},
};

/// Trusted connections' attestations verified in one round at most.
const MAX_ROUND: usize = 8_192;
/// Checks of untrusted connections' work per round: what trusted work can wait behind.
const UNTRUSTED_CHECKS: usize = 16;
/// How long a round waits for calls still being prechecked. A round costs a final
/// exponentiation and a durable commit whatever its size, and a Miller loop per group of keys:
/// the calls of a burst (every operator attesting to a new block) are far cheaper checked
/// together than one by one as they arrive. Small beside any block time.
const GATHER: Duration = Duration::from_millis(5);
/// Connections remembered beyond those with calls waiting; past it, idle ones are forgotten
/// (and start over as untrusted).
const MAX_PEERS: usize = 4_096;

/// A client connection: its remote address and port (`None` if the transport has none).
pub(crate) type Peer = Option<SocketAddr>;

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

/// Checks 1–3 against `view`; returns the attestation and its signer's key hash.
pub(crate) fn precheck(
    shared: &Shared,
    view: &L1View,
    wire: &v1::Attestation,
) -> Result<(Attestation, B256), Refusal> {
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
    pub(crate) peer: Peer,
    pub(crate) items: Vec<(Attestation, B256)>,
    pub(crate) reply: oneshot::Sender<Vec<Outcome>>,
}

/// Calls admitted and waiting for the worker, and what is known of each connection.
pub(crate) struct Queue {
    state: Mutex<State>,
    ready: Condvar,
    capacity: usize,
}

#[derive(Default)]
struct State {
    jobs: VecDeque<Job>,
    peers: HashMap<Peer, Standing>,
    /// Attestations admitted and not yet answered: all, and untrusted connections'.
    queued: usize,
    untrusted: usize,
    /// Calls being prechecked on gRPC tasks, not yet admitted or refused.
    arriving: usize,
    closed: bool,
}

#[derive(Debug, Default)]
struct Standing {
    trusted: bool,
    queued: usize,
}

impl Queue {
    /// A queue admitting at most `capacity` attestations at a time.
    pub(crate) fn new(capacity: usize) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State::default()),
            ready: Condvar::new(),
            capacity,
        })
    }

    /// Admits `job`, or says why there is no room for it.
    fn push(&self, job: Job) -> Result<(), &'static str> {
        let n = job.items.len();
        let mut state = lock(&self.state);
        if state.peers.len() >= MAX_PEERS && !state.peers.contains_key(&job.peer) {
            state.peers.retain(|_, s| s.queued > 0);
        }
        let State {
            jobs,
            peers,
            queued,
            untrusted,
            ..
        } = &mut *state;
        let standing = peers.entry(job.peer).or_default();
        let refusal = if *queued + n > self.capacity {
            Some("the aggregator's intake queue is full; retry later")
        } else if !standing.trusted
            && (standing.queued + n > MAX_BATCH || *untrusted + n > self.capacity / 2)
        {
            Some(
                "no room for this connection's attestations: until one of its calls verifies \
                 cleanly they are checked on their own, with a bounded share; retry later",
            )
        } else {
            None
        };
        if let Some(refusal) = refusal {
            if !standing.trusted && standing.queued == 0 {
                peers.remove(&job.peer);
            }
            return Err(refusal);
        }
        standing.queued += n;
        *queued += n;
        if !standing.trusted {
            *untrusted += n;
        }
        jobs.push_back(job);
        self.ready.notify_one();
        Ok(())
    }

    /// Waits for a call unless `busy` and takes the waiting ones, each with whether its
    /// connection is trusted (those up to [`MAX_ROUND`] attestations; the rest wait). `None`
    /// once closed, drained and not `busy`.
    fn take(&self, busy: bool) -> Option<Vec<(Job, bool)>> {
        let mut state = lock(&self.state);
        while state.jobs.is_empty() && !busy {
            if state.closed {
                return None;
            }
            state = self.ready.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        let deadline = Instant::now() + GATHER;
        while state.arriving > 0 && !state.closed {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            state = self
                .ready
                .wait_timeout(state, left)
                .map_or_else(|e| e.into_inner().0, |(state, _)| state);
        }
        let (mut taken, mut kept, mut trusted_items) = (Vec::new(), VecDeque::new(), 0);
        for job in std::mem::take(&mut state.jobs) {
            let trusted = state.peers.get(&job.peer).is_some_and(|s| s.trusted);
            if trusted && trusted_items >= MAX_ROUND {
                kept.push_back(job);
            } else {
                trusted_items += if trusted { job.items.len() } else { 0 };
                taken.push((job, trusted));
            }
        }
        state.jobs = kept;
        Some(taken)
    }

    fn set_trusted(&self, peer: Peer, trusted: bool) {
        let mut state = lock(&self.state);
        let State {
            peers, untrusted, ..
        } = &mut *state;
        let standing = peers.entry(peer).or_default();
        if standing.trusted != trusted {
            standing.trusted = trusted;
            if trusted {
                *untrusted -= standing.queued;
            } else {
                *untrusted += standing.queued;
            }
        }
        if !trusted && standing.queued == 0 {
            peers.remove(&peer);
        }
    }

    /// `n` attestations of `peer` were answered.
    fn release(&self, peer: Peer, n: usize) {
        let mut state = lock(&self.state);
        let State {
            peers,
            queued,
            untrusted,
            ..
        } = &mut *state;
        *queued -= n;
        if let Some(standing) = peers.get_mut(&peer) {
            standing.queued -= n;
            if !standing.trusted {
                *untrusted -= n;
                if standing.queued == 0 {
                    peers.remove(&peer);
                }
            }
        }
    }

    fn close(&self) {
        lock(&self.state).closed = true;
        self.ready.notify_all();
    }
}

/// The gRPC service's handle on the queue. Dropping it (the server stopping) lets the worker
/// finish what was admitted and exit.
pub(crate) struct Sender(Arc<Queue>);

impl Sender {
    pub(crate) fn new(queue: Arc<Queue>) -> Self {
        Self(queue)
    }

    /// Announces a call about to be prechecked, for the worker to wait for (at most
    /// [`GATHER`]) until the returned guard is dropped.
    pub(crate) fn arriving(&self) -> Arrival<'_> {
        lock(&self.0.state).arriving += 1;
        Arrival(&self.0)
    }

    /// Admits `job`, or says why there is no room for it (RESOURCE_EXHAUSTED).
    pub(crate) fn push(&self, job: Job) -> Result<(), &'static str> {
        self.0.push(job)
    }
}

/// A call being prechecked (see [`Sender::arriving`]).
pub(crate) struct Arrival<'a>(&'a Queue);

impl Drop for Arrival<'_> {
    fn drop(&mut self) {
        let mut state = lock(&self.0.state);
        state.arriving -= 1;
        if state.arriving == 0 {
            self.0.ready.notify_one();
        }
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// Runs the verification worker until the [`Sender`] is dropped and every admitted call is
/// answered.
pub(crate) fn spawn_worker(
    shared: Arc<Shared>,
    queue: Arc<Queue>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("surety-intake".to_owned())
        .spawn(move || {
            let mut worker = Worker {
                shared,
                queue,
                verifier: Verifier::default(),
                calls: HashMap::new(),
                next: 0,
            };
            while let Some(jobs) = worker.queue.take(!worker.verifier.is_idle()) {
                worker.round(jobs);
            }
        })
}

/// An item of a call: the call's number and the item's index in it.
type Tag = (u64, usize);

/// A call being decided.
struct Call {
    peer: Peer,
    items: Vec<(Attestation, B256)>,
    outcomes: Vec<Option<Outcome>>,
    /// Items not decided yet.
    open: usize,
    /// Whether some signature was found valid, some invalid.
    valid: bool,
    invalid: bool,
    reply: oneshot::Sender<Vec<Outcome>>,
}

struct Worker {
    shared: Arc<Shared>,
    queue: Arc<Queue>,
    verifier: Verifier<Peer, Tag>,
    calls: HashMap<u64, Call>,
    next: u64,
}

impl Worker {
    fn round(&mut self, jobs: Vec<(Job, bool)>) {
        let metrics = &self.shared.metrics;
        let work = self.verifier.work;
        let mut trusted: Vec<(Peer, Tag, Item)> = Vec::new();
        {
            // Already counted attestations need no pairing.
            let pool = self.shared.pool();
            let mut roots: HashMap<Statement, B256> = HashMap::new();
            for (job, is_trusted) in jobs {
                let id = self.next;
                self.next += 1;
                let mut call = Call {
                    peer: job.peer,
                    outcomes: vec![None; job.items.len()],
                    open: job.items.len(),
                    valid: false,
                    invalid: false,
                    items: job.items,
                    reply: job.reply,
                };
                let mut untrusted = Vec::new();
                for (i, (a, key_hash)) in call.items.iter().enumerate() {
                    if pool.check(&a.statement, key_hash) == Seen::Duplicate {
                        call.outcomes[i] = Some(Outcome::Duplicate(0));
                        call.open -= 1;
                        continue;
                    }
                    let item = Item {
                        message: *roots
                            .entry(a.statement)
                            .or_insert_with(|| a.statement.signing_root(&self.shared.domain)),
                        public_key: a.public_key,
                        key_hash: *key_hash,
                        signature: a.signature,
                    };
                    if is_trusted {
                        trusted.push((call.peer, (id, i), item));
                    } else {
                        untrusted.push(((id, i), item));
                    }
                }
                self.verifier.enqueue(call.peer, untrusted);
                self.calls.insert(id, call);
            }
        }
        let mut verdicts: Vec<(Tag, bool)> = Vec::new();
        let demoted = self
            .verifier
            .check_trusted(trusted, &mut |tag, ok| verdicts.push((tag, ok)));
        for peer in demoted {
            tracing::debug!(
                ?peer,
                "connection sent invalid signatures; no longer trusted"
            );
            Metrics::add(&metrics.demoted, 1);
            self.queue.set_trusted(peer, false);
        }
        self.verifier
            .run_queued(UNTRUSTED_CHECKS, &mut |_, tag, ok| verdicts.push((tag, ok)));
        let done = self.verifier.work;
        Metrics::add(&metrics.batch_checks, done.batch_checks - work.batch_checks);
        Metrics::add(&metrics.invalid_signatures, done.invalid - work.invalid);
        self.decide(verdicts);
        self.answer();
    }

    /// Decides verified items against the pool and each other, and commits the accepted ones
    /// durably before anything is answered.
    fn decide(&mut self, verdicts: Vec<(Tag, bool)>) {
        let shared = &*self.shared;
        let mut accepted: Vec<(Attestation, B256)> = Vec::new();
        let mut accepted_tags: Vec<Tag> = Vec::new();
        let mut evidence: Vec<Evidence> = Vec::new();
        {
            let pool = shared.pool();
            let mut known_evidence = shared.known_evidence();
            let mut in_round: HashMap<(u64, u64, B256), (Statement, Signature)> = HashMap::new();
            for ((id, i), ok) in verdicts {
                let Some(call) = self.calls.get_mut(&id) else {
                    continue;
                };
                call.open -= 1;
                if !ok {
                    call.invalid = true;
                    call.outcomes[i] = Some(Outcome::Rejected(Refusal::new(
                        Code::Unauthenticated,
                        "invalid signature",
                    )));
                    continue;
                }
                call.valid = true;
                let (a, key_hash) = &call.items[i];
                let s = &a.statement;
                let slot = (s.rollup_id, s.block_number, *key_hash);
                let seen = match (pool.check(s, key_hash), in_round.get(&slot)) {
                    (Seen::New, None) => Seen::New,
                    (Seen::New, Some((earlier, _))) if earlier == s => Seen::Duplicate,
                    (Seen::New, Some((earlier, sig))) => Seen::Conflict(*earlier, *sig),
                    (seen, _) => seen,
                };
                call.outcomes[i] = Some(match seen {
                    Seen::New => {
                        in_round.insert(slot, (*s, a.signature));
                        accepted.push((*a, *key_hash));
                        accepted_tags.push((id, i));
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
        if accepted.is_empty() && evidence.is_empty() {
            return;
        }
        if let Err(error) = shared.store.commit_intake(&accepted, &evidence) {
            // Nothing was counted: the operator retries (UNAVAILABLE is retryable).
            tracing::error!(%error, "storing accepted attestations failed");
            let mut known_evidence = shared.known_evidence();
            for e in &evidence {
                known_evidence.remove(&(e.rollup_id(), e.block_number(), e.key_hash()));
            }
            for (id, i) in accepted_tags {
                if let Some(call) = self.calls.get_mut(&id) {
                    call.outcomes[i] = Some(Outcome::Rejected(Refusal::new(
                        Code::Unavailable,
                        "aggregator storage failed; retry",
                    )));
                }
            }
            return;
        }
        Metrics::add(&shared.metrics.double_signs, evidence.len() as u64);
        Metrics::add(&shared.metrics.accepted, accepted.len() as u64);
        let mut pool = shared.pool();
        for (a, key_hash) in &accepted {
            pool.insert(a, *key_hash);
        }
        if !accepted.is_empty() {
            shared.attestations_accepted.notify_one();
        }
    }

    /// Answers every call whose items are all decided, and updates its connection's standing:
    /// trusted after a call whose signatures all verified, untrusted after an invalid one.
    fn answer(&mut self) {
        let done: Vec<u64> = self
            .calls
            .iter()
            .filter(|(_, call)| call.open == 0)
            .map(|(id, _)| *id)
            .collect();
        if done.is_empty() {
            return;
        }
        let metrics = &self.shared.metrics;
        let view = self.shared.view();
        let mut answered = Vec::with_capacity(done.len());
        {
            let pool = self.shared.pool();
            let mut progress: HashMap<Statement, u32> = HashMap::new();
            for id in done {
                let Some(call) = self.calls.remove(&id) else {
                    continue;
                };
                let answers: Vec<Outcome> = call
                    .items
                    .iter()
                    .zip(call.outcomes)
                    .map(|((a, _), outcome)| {
                        let mut bps = || {
                            *progress
                                .entry(a.statement)
                                .or_insert_with(|| pool.progress_bps(&a.statement, &view))
                        };
                        match outcome {
                            Some(Outcome::Accepted(_)) => Outcome::Accepted(bps()),
                            Some(Outcome::Duplicate(_)) => {
                                Metrics::add(&metrics.duplicate, 1);
                                Outcome::Duplicate(bps())
                            }
                            Some(Outcome::Rejected(r)) => {
                                metrics.reject(r.code);
                                Outcome::Rejected(r)
                            }
                            None => Outcome::Rejected(Refusal::new(Code::Internal, "undecided")),
                        }
                    })
                    .collect();
                let standing = (call.invalid, call.valid);
                answered.push((call.peer, call.items.len(), standing, call.reply, answers));
            }
        }
        for (peer, n, (invalid, valid), reply, answers) in answered {
            if invalid {
                self.queue.set_trusted(peer, false);
            } else if valid {
                self.queue.set_trusted(peer, true);
            }
            self.queue.release(peer, n);
            // The caller may have gone away; its attestations are stored regardless.
            let _ = reply.send(answers);
        }
    }
}
