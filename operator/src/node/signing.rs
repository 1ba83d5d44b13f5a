//! The signing loop of one rollup: verified blocks at or below the signable head become
//! attestations in the outbox.
//!
//! Before signing up to height `t`, the loop asks the L2 for its block at `t` and signs only if
//! that is the block this node verified there. Block hashes commit to their ancestry, so the
//! whole range up to `t` is then on the L2's current chain: the node never signs a branch the L2
//! has already replaced (the follower rolls such branches back; the signer's content check
//! refuses anything it no longer verified).

use std::{
    sync::{Arc, atomic::Ordering::Relaxed},
    time::Duration,
};

use alloy::{
    eips::BlockNumberOrTag,
    providers::{Provider, RootProvider},
};
use surety_primitives::{Attestation, Domain, PublicKey, Statement};
use surety_slashing_protection::{Error as SignerError, Refusal};
use tokio::sync::Notify;
use tracing::{debug, error, info, warn};

use super::{NodeError, Signer};
use crate::{config::SignAt, metrics::Metrics, outbox::Message, outbox::Outbox, state::StateStore};

/// Statements per durable signing commit.
const SIGN_BATCH: u64 = 128;

pub(crate) struct SigningLoop {
    pub(crate) rollup_id: u64,
    pub(crate) sign_at: SignAt,
    pub(crate) provider: RootProvider,
    pub(crate) store: Arc<StateStore>,
    pub(crate) signer: Arc<Signer>,
    pub(crate) domain: Domain,
    pub(crate) public_key: PublicKey,
    pub(crate) outbox: Arc<Outbox>,
    pub(crate) wake: Arc<Notify>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) poll_interval: Duration,
    /// The first height worth signing (above the L1-certified head).
    pub(crate) start: u64,
}

impl SigningLoop {
    /// Runs until a fatal error (storage, or a signer that refuses for a reason no retry fixes).
    pub(crate) async fn run(self) -> NodeError {
        let mut next = match self.outbox.last_signed(self.rollup_id) {
            Ok(last) => last.map_or(self.start, |h| h + 1).max(self.start),
            Err(e) => return e.into(),
        };
        // What earlier runs signed counts: health and `until` compare against it.
        self.metrics.set_signed_head(next - 1);
        info!(rollup = self.rollup_id, from = next, sign_at = %self.sign_at, "signing verified blocks");
        let mut head_changed = self.store.subscribe_head();
        loop {
            match self.tick(next).await {
                Ok(Some(signed_to)) => {
                    next = signed_to + 1;
                    continue;
                }
                Ok(None) => {}
                Err(NodeError::L2Rpc(reason)) => {
                    self.metrics.rpc_retries.fetch_add(1, Relaxed);
                    warn!(rollup = self.rollup_id, %reason, "L2 RPC failed while checking the signable head; retrying");
                }
                Err(fatal) => return fatal,
            }
            let _ = tokio::time::timeout(self.poll_interval, head_changed.changed()).await;
        }
    }

    /// Signs what became signable from `next` on; returns the last height handled.
    async fn tick(&self, next: u64) -> Result<Option<u64>, NodeError> {
        let Some(verified) = self.store.durable_head().map(|h| h.number) else {
            return Ok(None);
        };
        let signable = self.signable_head().await?;
        self.metrics.signable_head.store(signable, Relaxed);
        let target = verified
            .min(signable)
            .min(next.saturating_add(SIGN_BATCH - 1));
        if target < next {
            return Ok(None);
        }
        let remote = self
            .provider
            .get_block_by_number(BlockNumberOrTag::Number(target))
            .await
            .map_err(|e| NodeError::L2Rpc(e.to_string()))?;
        let local = self.store.verified_block(target)?;
        match (remote, local) {
            (Some(remote), Some(local)) if remote.header.hash == local.hash => {}
            _ => {
                debug!(
                    rollup = self.rollup_id,
                    height = target,
                    "L2 block differs from the verified one; waiting for the follower"
                );
                return Ok(None);
            }
        }
        let mut statements = Vec::new();
        for number in next..=target {
            let Some(block) = self.store.verified_block(number)? else {
                // Rolled back since: the follower re-verifies, the next tick signs.
                return Ok(None);
            };
            statements.push(Statement {
                rollup_id: self.rollup_id,
                block_number: number,
                block_hash: block.hash,
                parent_hash: block.parent_hash,
                state_root: block.state_root,
            });
        }
        self.sign_and_queue(statements).await?;
        self.metrics.set_signed_head(target);
        Ok(Some(target))
    }

    async fn signable_head(&self) -> Result<u64, NodeError> {
        let rpc = |e: alloy::transports::TransportError| NodeError::L2Rpc(e.to_string());
        let tagged = |tag| async move {
            Ok::<_, NodeError>(
                self.provider
                    .get_block_by_number(tag)
                    .await
                    .map_err(rpc)?
                    .map_or(0, |b| b.header.number),
            )
        };
        match self.sign_at {
            SignAt::Latest => self.provider.get_block_number().await.map_err(rpc),
            SignAt::Confirmations(n) => Ok(self
                .provider
                .get_block_number()
                .await
                .map_err(rpc)?
                .saturating_sub(n)),
            SignAt::Safe => tagged(BlockNumberOrTag::Safe).await,
            SignAt::Finalized => tagged(BlockNumberOrTag::Finalized).await,
        }
    }

    /// Signs (durably recorded first) and queues, on a blocking thread: both commit with fsync.
    /// A refused statement is skipped, logged and counted; the rest of the batch still signs.
    async fn sign_and_queue(&self, statements: Vec<Statement>) -> Result<(), NodeError> {
        let (signer, outbox, domain) = (self.signer.clone(), self.outbox.clone(), self.domain);
        let public_key = self.public_key;
        tokio::task::spawn_blocking(move || {
            let signed: Vec<(Statement, _)> = match signer.sign_batch(&domain, &statements) {
                Ok(signatures) => statements.into_iter().zip(signatures).collect(),
                Err(SignerError::Refused(_)) => statements
                    .into_iter()
                    .filter_map(|s| match signer.sign(&domain, &s) {
                        Ok(signature) => Some(Ok((s, signature))),
                        Err(SignerError::Refused(refusal)) => {
                            log_refusal(&refusal);
                            None
                        }
                        Err(e) => Some(Err(e)),
                    })
                    .collect::<Result<_, _>>()?,
                Err(e) => return Err(NodeError::Signer(e)),
            };
            let messages: Vec<Message> = signed
                .into_iter()
                .map(|(statement, signature)| {
                    Message::Attestation(Attestation {
                        statement,
                        public_key,
                        signature,
                    })
                })
                .collect();
            if !messages.is_empty() {
                outbox.push(&messages)?;
            }
            Ok(())
        })
        .await
        .map_err(|e| NodeError::Worker(e.to_string()))??;
        self.wake.notify_waiters();
        Ok(())
    }
}

fn log_refusal(refusal: &Refusal) {
    match refusal {
        Refusal::Conflict { .. } => error!(
            %refusal,
            "refused to sign a block conflicting with an earlier signature (the L2 reorged below \
             a signed height); skipping it"
        ),
        _ => warn!(%refusal, "refused to sign; skipping"),
    }
}
