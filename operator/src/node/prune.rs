//! Pruning of one rollup's state store and signing history below a safe height, so that disk
//! use stays flat however long the node runs.
//!
//! The safe height is the highest of the rollup's certified head on L1
//! (`CertificateVerifier.latestCertifiedBlock`, when the node signs) and the L2's `finalized`
//! block, whichever the node can read; the store and the history are pruned at that height minus
//! `storage.retention` blocks. Below it the node keeps nothing a reorg could need: reorgs above
//! the pruned height still roll back (their undo journals and headers stay), and a reorg below it
//! — which would contradict finality or a certificate — stops the follower with `ReorgTooDeep`
//! instead of signing anything. When the node signs, pruning never passes its signed head: the
//! signing loop still reads the headers it has not signed yet, and the slashing-protection
//! watermark must not refuse heights the node still has to sign.
//!
//! Evidence of a refused block is forgotten only once its signed mismatch report has been
//! delivered: the follower marks the evidence `Reported` after queuing the report in the outbox,
//! and a pass that finds every aggregator's queue drained marks what was reported before it
//! looked `Delivered`. Evidence without a report (a verify-only node's, an invalid block's) is
//! never pruned.

use std::{
    sync::{Arc, atomic::Ordering::Relaxed},
    time::Duration,
};

use alloy::{
    eips::BlockNumberOrTag,
    providers::{Provider, RootProvider},
};
use tracing::{debug, info};

use super::{NodeError, Signer, anchor::L1};
use crate::{
    metrics::Metrics,
    outbox::Outbox,
    state::{EvidenceStatus, Pruned, StateStore},
};

/// Verified blocks between two pruning passes: each pass is one durable commit per store.
const PRUNE_EVERY: u64 = 64;

/// The pruning task of one rollup.
pub(crate) struct Pruner {
    pub(crate) rollup_id: u64,
    pub(crate) provider: RootProvider,
    pub(crate) l1: Option<L1>,
    pub(crate) store: Arc<StateStore>,
    pub(crate) signer: Option<Arc<Signer>>,
    /// Where mismatch reports are queued, and the aggregators that must settle them.
    pub(crate) reports: Option<(Arc<Outbox>, Vec<String>)>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) retention: u64,
    pub(crate) poll_interval: Duration,
}

/// The height to prune at: `retention` blocks below the safe height, never above the signed head
/// of a signing node. `None` while there is nothing to prune.
pub fn prune_height(safe: Option<u64>, retention: u64, signed_head: Option<u64>) -> Option<u64> {
    let below_safe = safe?.checked_sub(retention)?;
    let height = signed_head.map_or(below_safe, |signed| below_safe.min(signed));
    (height > 0).then_some(height)
}

impl Pruner {
    /// Prunes every [`PRUNE_EVERY`] verified blocks until a storage error (the only fatal one;
    /// an unreadable safe height just skips the pass).
    pub(crate) async fn run(self) -> NodeError {
        let mut head_changed = self.store.subscribe_head();
        let (mut last_pass, mut pruned_at) = (0, 0);
        loop {
            let head = self.store.head().map_or(0, |h| h.number);
            if head >= last_pass + PRUNE_EVERY {
                match self.pass(pruned_at).await {
                    Ok(height) => {
                        last_pass = head;
                        pruned_at = height.unwrap_or(pruned_at);
                    }
                    Err(e @ (NodeError::L1(_) | NodeError::L2Rpc(_))) => {
                        debug!(rollup = self.rollup_id, error = %e, "safe height unavailable; not pruning this time");
                        last_pass = head;
                    }
                    Err(fatal) => return fatal,
                }
            }
            let _ = tokio::time::timeout(self.poll_interval * 10, head_changed.changed()).await;
        }
    }

    /// One pass: prunes at the current prune height if it rose above `pruned_at`; returns the
    /// height pruned at.
    pub(crate) async fn pass(&self, pruned_at: u64) -> Result<Option<u64>, NodeError> {
        let safe = self.safe_height().await?;
        let signed = self
            .signer
            .as_ref()
            .map(|_| self.metrics.signed_head.load(Relaxed));
        let Some(height) = prune_height(safe, self.retention, signed).filter(|&h| h > pruned_at)
        else {
            return Ok(None);
        };
        let (store, signer, rollup_id) = (self.store.clone(), self.signer.clone(), self.rollup_id);
        let reports = self.reports.clone();
        let (pruned, statements) = tokio::task::spawn_blocking(move || {
            if let Some((outbox, aggregators)) = reports {
                mark_delivered(&store, &outbox, &aggregators)?;
            }
            let pruned = store.prune(height)?;
            let statements = match signer {
                Some(signer) => signer.prune(rollup_id, height)?,
                None => 0,
            };
            Ok::<_, NodeError>((pruned, statements))
        })
        .await
        .map_err(|e| NodeError::Worker(e.to_string()))??;
        self.count(height, pruned);
        if pruned_at == 0 {
            info!(
                rollup = self.rollup_id,
                height,
                safe,
                retention = self.retention,
                "pruning the state and signing history below the safe height"
            );
        }
        debug!(
            rollup = self.rollup_id,
            height,
            undo = pruned.undo,
            headers = pruned.headers,
            evidence = pruned.evidence,
            signed_statements = statements,
            "pruned"
        );
        Ok(Some(height))
    }

    /// The highest height no reorg can reach: the certified head on L1 or the L2's finalized
    /// block, whichever is higher; `None` if neither exists yet.
    async fn safe_height(&self) -> Result<Option<u64>, NodeError> {
        let certified = match &self.l1 {
            Some(l1) => Some(l1.certified_head(self.rollup_id).await?),
            None => None,
        };
        let finalized = match self
            .provider
            .get_block_by_number(BlockNumberOrTag::Finalized)
            .await
        {
            Ok(block) => block.map(|b| b.header.number),
            // An L2 without the `finalized` tag: the certified head alone decides.
            Err(e) if certified.is_some() => {
                debug!(rollup = self.rollup_id, error = %e, "no finalized block from the L2");
                None
            }
            Err(e) => return Err(NodeError::L2Rpc(e.to_string())),
        };
        Ok(certified.max(finalized).filter(|&h| h > 0))
    }

    fn count(&self, height: u64, pruned: Pruned) {
        let m = &self.metrics;
        m.pruned_undo.fetch_add(pruned.undo, Relaxed);
        m.pruned_headers.fetch_add(pruned.headers, Relaxed);
        m.pruned_evidence.fetch_add(pruned.evidence, Relaxed);
        m.pruned_height.store(height, Relaxed);
    }
}

/// Marks the reported evidence delivered if every aggregator has settled everything queued.
/// The reported records are listed before the queues are read: a report queued meanwhile is
/// marked on a later pass.
fn mark_delivered(
    store: &StateStore,
    outbox: &Outbox,
    aggregators: &[String],
) -> Result<(), NodeError> {
    let reported: Vec<_> = store
        .evidence()?
        .into_iter()
        .filter(|e| e.status == EvidenceStatus::Reported)
        .collect();
    if reported.is_empty() {
        return Ok(());
    }
    for url in aggregators {
        if outbox.depth(url)? > 0 {
            return Ok(());
        }
    }
    for evidence in reported {
        store.set_evidence_status(evidence.number, evidence.hash, EvidenceStatus::Delivered)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::prune_height;

    #[test]
    fn prune_height_keeps_the_retention_and_the_unsigned_blocks() {
        // No safe height yet, or not yet past the retention: nothing.
        assert_eq!(prune_height(None, 10, None), None);
        assert_eq!(prune_height(Some(10), 10, None), None);
        assert_eq!(prune_height(Some(9), 10, None), None);
        // A verify-only node prunes `retention` below the safe height.
        assert_eq!(prune_height(Some(100), 10, None), Some(90));
        assert_eq!(prune_height(Some(100), 0, None), Some(100));
        // A signing node never past its signed head (nothing signed yet: nothing pruned).
        assert_eq!(prune_height(Some(100), 10, Some(50)), Some(50));
        assert_eq!(prune_height(Some(100), 10, Some(95)), Some(90));
        assert_eq!(prune_height(Some(100), 10, Some(0)), None);
    }
}
