//! The gRPC service (`surety.v1.Aggregator`).

use std::sync::Arc;

use surety_proto::v1::{self, aggregator_server};
use tokio::sync::oneshot;
use tonic::{Code, Request, Response, Status};

use crate::{
    Shared,
    intake::{self, Job, Outcome, Peer},
    mismatch,
};

/// Attestations one `SubmitAttestations` call may carry.
pub const MAX_BATCH: usize = 1_024;

pub(crate) struct Service {
    pub(crate) shared: Arc<Shared>,
    pub(crate) intake: intake::Sender,
}

impl Service {
    /// Prechecks `wire`, queues what passes and waits for the verdicts (in `wire`'s order).
    async fn intake(&self, peer: Peer, wire: &[v1::Attestation]) -> Result<Vec<Outcome>, Status> {
        let arrival = self.intake.arriving();
        let view = self.shared.view();
        let mut outcomes: Vec<Option<Outcome>> = Vec::with_capacity(wire.len());
        let mut items = Vec::with_capacity(wire.len());
        for a in wire {
            match intake::precheck(&self.shared, &view, a) {
                Ok(item) => {
                    items.push(item);
                    outcomes.push(None);
                }
                Err(refusal) => {
                    self.shared.metrics.reject(refusal.code);
                    outcomes.push(Some(Outcome::Rejected(refusal)));
                }
            }
        }
        drop(view);
        if !items.is_empty() {
            let (reply, answer) = oneshot::channel();
            let pushed = self.intake.push(Job { peer, items, reply });
            drop(arrival);
            if let Err(reason) = pushed {
                crate::metrics::Metrics::add(&self.shared.metrics.overloaded, 1);
                return Err(Status::resource_exhausted(reason));
            }
            let verdicts = answer
                .await
                .map_err(|_| Status::unavailable("aggregator is shutting down"))?;
            let mut verdicts = verdicts.into_iter();
            for slot in outcomes.iter_mut().filter(|o| o.is_none()) {
                *slot = verdicts.next();
            }
        }
        Ok(outcomes
            .into_iter()
            .map(|o| {
                o.unwrap_or_else(|| Outcome::Rejected(intake::Refusal::new(Code::Internal, "lost")))
            })
            .collect())
    }
}

fn result(outcome: Outcome) -> v1::AttestationResult {
    match outcome {
        Outcome::Accepted(bps) => v1::AttestationResult {
            status: v1::Status::Accepted.into(),
            signed_stake_bps: bps,
            ..Default::default()
        },
        Outcome::Duplicate(bps) => v1::AttestationResult {
            status: v1::Status::Duplicate.into(),
            signed_stake_bps: bps,
            ..Default::default()
        },
        Outcome::Rejected(r) => v1::AttestationResult {
            status: v1::Status::Rejected.into(),
            signed_stake_bps: 0,
            code: r.code as u32,
            reason: r.reason,
        },
    }
}

#[tonic::async_trait]
impl aggregator_server::Aggregator for Service {
    async fn submit_attestation(
        &self,
        request: Request<v1::Attestation>,
    ) -> Result<Response<v1::SubmitAttestationResponse>, Status> {
        let peer = request.remote_addr();
        let outcome = self
            .intake(peer, std::slice::from_ref(request.get_ref()))
            .await?;
        match outcome.into_iter().next() {
            Some(Outcome::Accepted(bps)) => Ok(Response::new(v1::SubmitAttestationResponse {
                status: v1::Status::Accepted.into(),
                signed_stake_bps: bps,
            })),
            Some(Outcome::Duplicate(bps)) => Ok(Response::new(v1::SubmitAttestationResponse {
                status: v1::Status::Duplicate.into(),
                signed_stake_bps: bps,
            })),
            Some(Outcome::Rejected(r)) => Err(Status::new(r.code, r.reason)),
            None => Err(Status::internal("no verdict")),
        }
    }

    async fn submit_attestations(
        &self,
        request: Request<v1::AttestationBatch>,
    ) -> Result<Response<v1::SubmitAttestationsResponse>, Status> {
        let peer = request.remote_addr();
        let batch = request.into_inner().attestations;
        if batch.len() > MAX_BATCH {
            return Err(Status::invalid_argument(format!(
                "{} attestations in one call; at most {MAX_BATCH}",
                batch.len()
            )));
        }
        let outcomes = self.intake(peer, &batch).await?;
        Ok(Response::new(v1::SubmitAttestationsResponse {
            results: outcomes.into_iter().map(result).collect(),
        }))
    }

    async fn report_mismatch(
        &self,
        request: Request<v1::MismatchReport>,
    ) -> Result<Response<v1::ReportMismatchResponse>, Status> {
        let shared = self.shared.clone();
        let report = request.into_inner();
        let verdict = tokio::task::spawn_blocking(move || {
            let verdict = mismatch::handle(&shared, &report);
            if let Err(r) = &verdict {
                shared.metrics.reject(r.code);
            }
            verdict
        })
        .await
        .map_err(|_| Status::internal("report check panicked"))?;
        match verdict {
            Ok(true) => Ok(Response::new(v1::ReportMismatchResponse {
                status: v1::Status::Accepted.into(),
            })),
            Ok(false) => Ok(Response::new(v1::ReportMismatchResponse {
                status: v1::Status::Duplicate.into(),
            })),
            Err(r) => Err(Status::new(r.code, r.reason)),
        }
    }
}
