//! Submission of certificates and double-signing evidence to L1.
//!
//! At most once per `cadence_blocks` L1 blocks per rollup, and only while none of its certificates
//! is in flight, the newest statement with quorum whose parent chain links to the certified head
//! is submitted with a [`signer_proof`] at the view's block (one behind the chain, so strictly
//! past). The submitter looks for a candidate on every new L1 block and also whenever the intake
//! accepts attestations, so a certificate leaves as soon as quorum forms instead of waiting up to
//! an L1 block for the next view: on a 1 s L1 that is half a second of latency on average.
//!
//! Nonces are managed here, explicitly: gas is estimated *before* a nonce is assigned, so an
//! expected revert (another aggregator was faster) consumes nothing and leaves no gap; the next
//! nonce comes from L1 at start (`pending` count), so a restart recovers it. A transaction not
//! mined after `replace_after_blocks` is re-sent with the same nonce and fees raised by 25%.

use std::{collections::BTreeMap, sync::Arc};

use alloy::{
    network::TransactionBuilder,
    primitives::{Address, TxHash},
    providers::{DynProvider, Provider},
    rpc::types::{TransactionReceipt, TransactionRequest},
};
use surety_contracts::{
    bindings::{CertificateVerifier, Slasher},
    signer_proof,
};
use surety_primitives::{Mismatch, PublicKey, Signature, Statement};
use tokio::sync::watch;

use crate::{
    Shared,
    config::{Contracts, SubmitConfig},
    double_sign::{Evidence, EvidenceState},
    l1::L1View,
    metrics::Metrics,
    quorum::Candidate,
    store::{Submission, SubmissionState},
};

/// What a transaction carries.
#[derive(Debug, Clone)]
enum Kind {
    Certificate(Candidate),
    Evidence(Box<Evidence>),
    Alert(Mismatch),
}

#[derive(Debug)]
struct Inflight {
    kind: Kind,
    request: TransactionRequest,
    nonce: u64,
    /// Every hash sent under this nonce (replacements add one each).
    hashes: Vec<TxHash>,
    sent_at: u64,
}

/// Where the last certificate attempt of a rollup stands, for the status page.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SubmitStatus {
    pub last_certified: Option<u64>,
    pub last_tx: Option<TxHash>,
    pub last_gas: Option<u64>,
    pub note: Option<String>,
}

pub(crate) struct Submitter {
    pub(crate) shared: Arc<Shared>,
    pub(crate) provider: DynProvider,
    pub(crate) from: Address,
    pub(crate) chain_id: u64,
    pub(crate) contracts: Contracts,
    pub(crate) config: SubmitConfig,
}

impl Submitter {
    /// Runs until the view channel closes.
    pub(crate) async fn run(self, mut views: watch::Receiver<Arc<L1View>>) {
        let mut state = State {
            next_nonce: None,
            inflight: Vec::new(),
            last_certificate_block: BTreeMap::new(),
            alerts_done: Vec::new(),
        };
        let mut new_block = true;
        loop {
            let view = views.borrow_and_update().clone();
            let result = if new_block {
                self.cycle(&mut state, &view).await
            } else {
                self.certify(&mut state, &view).await
            };
            if let Err(error) = result {
                tracing::warn!(%error, "submission cycle failed; retrying next block");
                // Resynchronise the nonce from L1 after any failure.
                state.next_nonce = None;
            }
            new_block = tokio::select! {
                changed = views.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    true
                }
                () = self.shared.attestations_accepted.notified() => false,
            };
        }
    }

    /// Everything due once per L1 block: settling transactions in flight, evidence, alerts, and
    /// certificates.
    async fn cycle(
        &self,
        state: &mut State,
        view: &L1View,
    ) -> Result<(), alloy::transports::TransportError> {
        let block = view.block();
        self.sync_nonce(state).await?;
        self.settle(state, block).await?;

        if self.config.evidence {
            let pending: Vec<Evidence> = self
                .shared
                .store
                .evidence()
                .unwrap_or_default()
                .into_iter()
                .filter(|(_, s)| *s == EvidenceState::Pending)
                .map(|(e, _)| e)
                .collect();
            for evidence in pending {
                let busy = state
                    .inflight
                    .iter()
                    .any(|f| matches!(&f.kind, Kind::Evidence(e) if **e == evidence));
                if !busy {
                    self.send_evidence(state, block, evidence).await?;
                }
            }
        }

        self.raise_alerts(state, view).await?;
        self.certify(state, view).await
    }

    /// Submits a certificate for every rollup that has a candidate and is due one.
    async fn certify(
        &self,
        state: &mut State,
        view: &L1View,
    ) -> Result<(), alloy::transports::TransportError> {
        let block = view.block();
        for (&rollup_id, rollup) in &view.rollups {
            let due = state
                .last_certificate_block
                .get(&rollup_id)
                .is_none_or(|&last| block >= last + self.config.cadence_blocks);
            if !due
                || rollup.paused
                || state.inflight.iter().any(
                    |f| matches!(&f.kind, Kind::Certificate(c) if c.statement.rollup_id == rollup_id),
                )
            {
                continue;
            }
            let candidate = self.shared.pool().candidate(rollup_id, view);
            match candidate {
                Some(candidate) => {
                    self.sync_nonce(state).await?;
                    if self.send_certificate(state, view, candidate).await? {
                        state.last_certificate_block.insert(rollup_id, block);
                    }
                }
                None => self.note(rollup_id, None),
            }
        }
        Ok(())
    }

    /// Reads the next nonce from L1 when it is not known (at start and after any failure).
    async fn sync_nonce(&self, state: &mut State) -> Result<(), alloy::transports::TransportError> {
        if state.next_nonce.is_none() {
            state.next_nonce = Some(
                self.provider
                    .get_transaction_count(self.from)
                    .pending()
                    .await?,
            );
        }
        Ok(())
    }

    /// Checks every transaction in flight: mined ones are recorded, stuck ones replaced.
    async fn settle(
        &self,
        state: &mut State,
        block: u64,
    ) -> Result<(), alloy::transports::TransportError> {
        let mined_nonce = self
            .provider
            .get_transaction_count(self.from)
            .latest()
            .await?;
        let mut still = Vec::new();
        for mut flight in std::mem::take(&mut state.inflight) {
            let mut receipt = None;
            for hash in &flight.hashes {
                if let Some(r) = self.provider.get_transaction_receipt(*hash).await? {
                    receipt = Some(r);
                    break;
                }
            }
            if let Some(receipt) = receipt {
                self.mined(&flight.kind, &receipt, flight.nonce).await;
            } else if mined_nonce > flight.nonce {
                // The nonce went to a transaction we cannot see (e.g. sent before a restart).
                tracing::info!(nonce = flight.nonce, "nonce used by another transaction");
            } else if block.saturating_sub(flight.sent_at) >= self.config.replace_after_blocks {
                self.replace(&mut flight, block).await;
                still.push(flight);
            } else {
                still.push(flight);
            }
        }
        state.inflight = still;
        Ok(())
    }

    async fn replace(&self, flight: &mut Inflight, block: u64) {
        let bump = |fee: Option<u128>| fee.map(|f| f + f / 4 + 1);
        let mut request = flight.request.clone();
        request.max_fee_per_gas = bump(request.max_fee_per_gas);
        request.max_priority_fee_per_gas = bump(request.max_priority_fee_per_gas);
        match self.provider.send_transaction(request.clone()).await {
            Ok(pending) => {
                tracing::info!(nonce = flight.nonce, tx = %pending.tx_hash(), "replaced a stuck transaction with higher fees");
                Metrics::add(&self.shared.metrics.replacements, 1);
                flight.hashes.push(*pending.tx_hash());
                flight.request = request;
                flight.sent_at = block;
            }
            Err(error) => tracing::warn!(%error, nonce = flight.nonce, "replacement failed"),
        }
    }

    async fn mined(&self, kind: &Kind, receipt: &TransactionReceipt, nonce: u64) {
        let metrics = &self.shared.metrics;
        match kind {
            Kind::Certificate(c) => {
                let s = c.statement;
                let submitted = receipt.decoded_log::<CertificateVerifier::CertificateSubmitted>();
                let state = if receipt.status() && submitted.is_some() {
                    Metrics::add(&metrics.certificates, 1);
                    Metrics::add(&metrics.certificate_gas, receipt.gas_used);
                    tracing::info!(
                        rollup = s.rollup_id,
                        height = s.block_number,
                        gas = receipt.gas_used,
                        signers = c.signers.len(),
                        tx = %receipt.transaction_hash,
                        "certificate recorded on L1"
                    );
                    let mut status = self.shared.submit_status();
                    let entry = status.entry(s.rollup_id).or_default();
                    entry.last_certified = Some(s.block_number);
                    entry.last_tx = Some(receipt.transaction_hash);
                    entry.last_gas = Some(receipt.gas_used);
                    entry.note = None;
                    SubmissionState::Confirmed
                } else if self.is_final(&s).await {
                    Metrics::add(&metrics.certified_by_others, 1);
                    SubmissionState::CertifiedByOther
                } else {
                    Metrics::add(&metrics.reverted, 1);
                    tracing::warn!(rollup = s.rollup_id, height = s.block_number, tx = %receipt.transaction_hash, "certificate transaction reverted");
                    SubmissionState::Failed
                };
                self.record(&s, receipt.transaction_hash, nonce, state);
            }
            Kind::Alert(m) => {
                if receipt.status() {
                    Metrics::add(&metrics.alerts_raised, 1);
                    tracing::warn!(rollup = m.rollup_id, height = m.block_number, claimed = %m.claimed_state_root, tx = %receipt.transaction_hash, "circuit-breaker alert raised on L1");
                } else {
                    Metrics::add(&metrics.reverted, 1);
                    tracing::warn!(rollup = m.rollup_id, height = m.block_number, tx = %receipt.transaction_hash, "alert transaction reverted");
                }
            }
            Kind::Evidence(e) => {
                let state = if receipt.status() {
                    Metrics::add(&metrics.evidence_proven, 1);
                    tracing::warn!(key = %e.key_hash(), rollup = e.rollup_id(), height = e.block_number(), tx = %receipt.transaction_hash, "double signing proven on L1");
                    EvidenceState::Proven
                } else {
                    Metrics::add(&metrics.reverted, 1);
                    EvidenceState::Pending
                };
                if let Err(error) = self.shared.store.set_evidence_state(e, state) {
                    tracing::error!(%error, "recording evidence state failed");
                }
            }
        }
    }

    fn record(&self, s: &Statement, tx_hash: TxHash, nonce: u64, state: SubmissionState) {
        let submission = Submission {
            rollup_id: s.rollup_id,
            block_number: s.block_number,
            block_hash: s.block_hash,
            state_root: s.state_root,
            tx_hash,
            nonce,
            state,
        };
        if let Err(error) = self.shared.store.record_submission(&submission) {
            tracing::error!(%error, "recording a submission failed");
        }
    }

    async fn is_final(&self, s: &Statement) -> bool {
        CertificateVerifier::new(self.contracts.certificate_verifier, &self.provider)
            .isFinal(s.rollup_id, s.block_number, s.block_hash, s.state_root)
            .call()
            .await
            .unwrap_or(false)
    }

    fn note(&self, rollup_id: u64, note: Option<String>) {
        self.shared
            .submit_status()
            .entry(rollup_id)
            .or_default()
            .note = note;
    }

    /// Returns whether a transaction was sent.
    async fn send_certificate(
        &self,
        state: &mut State,
        view: &L1View,
        candidate: Candidate,
    ) -> Result<bool, alloy::transports::TransportError> {
        let s = candidate.statement;
        let reference = u32::try_from(view.block()).unwrap_or(u32::MAX);
        let proof = match signer_proof(
            &self.provider,
            self.contracts.operator_registry,
            reference,
            &candidate.signers,
            &view.operators.active_keys(),
        )
        .await
        {
            Ok(proof) => proof,
            Err(error) => {
                tracing::warn!(%error, rollup = s.rollup_id, height = s.block_number, "building the signer proof failed");
                return Ok(false);
            }
        };
        let verifier =
            CertificateVerifier::new(self.contracts.certificate_verifier, &self.provider);
        let call = verifier.submitCertificate(s.into(), proof);
        let gas = match call.estimate_gas().await {
            Ok(gas) => gas,
            Err(error) => {
                Metrics::add(&self.shared.metrics.estimate_reverts, 1);
                let reason = match error
                    .as_decoded_interface_error::<CertificateVerifier::CertificateVerifierErrors>()
                {
                    Some(CertificateVerifier::CertificateVerifierErrors::NotAboveHead(_)) => {
                        if self.is_final(&s).await {
                            Metrics::add(&self.shared.metrics.certified_by_others, 1);
                        }
                        "another certificate reached this height first".to_owned()
                    }
                    Some(e) => format!("{e:?}"),
                    None => error.to_string(),
                };
                tracing::info!(rollup = s.rollup_id, height = s.block_number, %reason, "certificate not sent: estimation reverted");
                self.note(
                    s.rollup_id,
                    Some(format!("height {}: {reason}", s.block_number)),
                );
                return Ok(false);
            }
        };
        let request = call.into_transaction_request();
        self.send(
            state,
            view.block(),
            request,
            gas,
            Kind::Certificate(candidate),
        )
        .await
    }

    /// The circuit breaker: mismatch reports on one message (rollup, block, claimed and computed
    /// roots) that carry the verifier's alert share of the stake go on chain as one aggregate.
    async fn raise_alerts(
        &self,
        state: &mut State,
        view: &L1View,
    ) -> Result<(), alloy::transports::TransportError> {
        let reports = self.shared.store.mismatches().unwrap_or_default();
        if reports.is_empty() {
            return Ok(());
        }
        let mut by_message: Vec<(Mismatch, Vec<(PublicKey, Signature)>)> = Vec::new();
        for report in reports {
            if !view.operators.is_active(&report.public_key.key_hash()) {
                continue;
            }
            let signer = (report.public_key, report.signature);
            match by_message.iter_mut().find(|(m, _)| *m == report.mismatch) {
                Some((_, signers)) => signers.push(signer),
                None => by_message.push((report.mismatch, vec![signer])),
            }
        }
        let verifier =
            CertificateVerifier::new(self.contracts.certificate_verifier, &self.provider);
        for (mismatch, signers) in by_message {
            if state.alerts_done.contains(&mismatch)
                || state
                    .inflight
                    .iter()
                    .any(|f| matches!(&f.kind, Kind::Alert(m) if *m == mismatch))
            {
                continue;
            }
            let share = verifier
                .alertThresholdBps()
                .call()
                .await
                .map_err(contract_err)?;
            let stake = view.operators.stake_of(
                signers
                    .iter()
                    .map(|(k, _)| k.key_hash())
                    .collect::<Vec<_>>()
                    .iter(),
            );
            if view.operators.bps(stake) < u32::from(share) {
                continue;
            }
            let standing = verifier
                .alertOf(mismatch.rollup_id)
                .call()
                .await
                .map_err(contract_err)?;
            if standing.blockNumber != 0 && standing.blockNumber <= mismatch.block_number {
                state.alerts_done.push(mismatch);
                continue;
            }
            let reference = u32::try_from(view.block()).unwrap_or(u32::MAX);
            let proof = match signer_proof(
                &self.provider,
                self.contracts.operator_registry,
                reference,
                &signers,
                &view.operators.active_keys(),
            )
            .await
            {
                Ok(proof) => proof,
                Err(error) => {
                    tracing::warn!(%error, "building the alert's signer proof failed");
                    continue;
                }
            };
            let call = verifier.raiseAlert(mismatch.into(), proof);
            let gas = match call.estimate_gas().await {
                Ok(gas) => gas,
                Err(error) => {
                    // Settled already, or a lower alert stands: nothing to raise, now or later.
                    tracing::info!(%error, rollup = mismatch.rollup_id, height = mismatch.block_number, "alert not sent: estimation reverted");
                    state.alerts_done.push(mismatch);
                    continue;
                }
            };
            let request = call.into_transaction_request();
            if self
                .send(state, view.block(), request, gas, Kind::Alert(mismatch))
                .await?
            {
                tracing::warn!(
                    rollup = mismatch.rollup_id,
                    height = mismatch.block_number,
                    signers = signers.len(),
                    "raising a circuit-breaker alert"
                );
                state.alerts_done.push(mismatch);
            }
        }
        Ok(())
    }

    async fn send_evidence(
        &self,
        state: &mut State,
        block: u64,
        evidence: Evidence,
    ) -> Result<bool, alloy::transports::TransportError> {
        let slasher = Slasher::new(self.contracts.slasher, &self.provider);
        let (a, b) = (evidence.first, evidence.second);
        let call = slasher.proveDoubleSigning(
            a.0.into(),
            a.1.to_eip2537().into(),
            b.0.into(),
            b.1.to_eip2537().into(),
            evidence.public_key.to_eip2537().into(),
        );
        let gas = match call.estimate_gas().await {
            Ok(gas) => gas,
            Err(error) => {
                let decoded = error.as_decoded_interface_error::<Slasher::SlasherErrors>();
                // Evidence someone else already used is done; anything else the Slasher refuses
                // is final too (only the L1 could change its mind, and then a restart retries).
                let state = match decoded {
                    Some(Slasher::SlasherErrors::EvidenceUsed(_)) => EvidenceState::Proven,
                    _ => EvidenceState::Refused,
                };
                tracing::warn!(?decoded, %error, "double-signing evidence not submitted");
                if let Err(error) = self.shared.store.set_evidence_state(&evidence, state) {
                    tracing::error!(%error, "recording evidence state failed");
                }
                return Ok(false);
            }
        };
        let request = call.into_transaction_request();
        self.send(
            state,
            block,
            request,
            gas,
            Kind::Evidence(Box::new(evidence)),
        )
        .await
    }

    async fn send(
        &self,
        state: &mut State,
        block: u64,
        request: TransactionRequest,
        gas: u64,
        kind: Kind,
    ) -> Result<bool, alloy::transports::TransportError> {
        let fees = self.provider.estimate_eip1559_fees().await?;
        let nonce = state.next_nonce.unwrap_or_default();
        let request = request
            .with_from(self.from)
            .with_chain_id(self.chain_id)
            .with_nonce(nonce)
            // Headroom: the estimate ran against a block that the transaction will not land in.
            .with_gas_limit(gas + gas / 5)
            .with_max_fee_per_gas(fees.max_fee_per_gas)
            .with_max_priority_fee_per_gas(fees.max_priority_fee_per_gas);
        let pending = match self.provider.send_transaction(request.clone()).await {
            Ok(pending) => pending,
            Err(error) => {
                tracing::warn!(%error, nonce, "sending failed; resynchronising the nonce");
                state.next_nonce = None;
                return Ok(false);
            }
        };
        let hash = *pending.tx_hash();
        state.next_nonce = Some(nonce + 1);
        if let Kind::Certificate(c) = &kind {
            let s = c.statement;
            tracing::debug!(rollup = s.rollup_id, height = s.block_number, tx = %hash, nonce, "certificate sent");
            self.record(&s, hash, nonce, SubmissionState::Pending);
        }
        state.inflight.push(Inflight {
            kind,
            request,
            nonce,
            hashes: vec![hash],
            sent_at: block,
        });
        Ok(true)
    }
}

struct State {
    next_nonce: Option<u64>,
    inflight: Vec<Inflight>,
    /// The L1 block each rollup's last certificate was sent at, for the cadence.
    last_certificate_block: BTreeMap<u64, u64>,
    /// Alerts raised, or refused for good, by this aggregator.
    alerts_done: Vec<Mismatch>,
}

fn contract_err(error: alloy::contract::Error) -> alloy::transports::TransportError {
    match error {
        alloy::contract::Error::TransportError(e) => e,
        other => alloy::transports::TransportErrorKind::custom_str(&other.to_string()),
    }
}
