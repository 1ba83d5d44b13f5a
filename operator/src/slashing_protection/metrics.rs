//! Counters of the protected signer, for the node's Prometheus exporter.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use super::error::{Error, Refusal};

/// Monotonic counters; cheap to update from any thread.
#[derive(Debug, Default)]
pub struct SignerMetrics {
    signed: AtomicU64,
    repeated: AtomicU64,
    conflict: AtomicU64,
    below_watermark: AtomicU64,
    beyond_verified_head: AtomicU64,
    unknown_rollup: AtomicU64,
    wrong_domain: AtomicU64,
    storage_failures: AtomicU64,
}

/// A point-in-time copy of [`SignerMetrics`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SignerMetricsSnapshot {
    /// Statements recorded and signed for the first time.
    pub signed: u64,
    /// Identical repeats re-signed from an existing record.
    pub repeated: u64,
    pub conflict: u64,
    pub below_watermark: u64,
    pub beyond_verified_head: u64,
    pub unknown_rollup: u64,
    pub wrong_domain: u64,
    /// Requests that failed closed on a storage error (or a handle poisoned by one).
    pub storage_failures: u64,
}

impl SignerMetrics {
    pub(crate) fn released(&self, new: usize, repeated: usize) {
        self.signed.fetch_add(new as u64, Relaxed);
        self.repeated.fetch_add(repeated as u64, Relaxed);
    }

    pub(crate) fn failed(&self, error: &Error) {
        let counter = match error {
            Error::Refused(refusal) => match refusal {
                Refusal::Conflict { .. } => &self.conflict,
                Refusal::BelowWatermark { .. } => &self.below_watermark,
                Refusal::BeyondVerifiedHead { .. } => &self.beyond_verified_head,
                Refusal::UnknownRollup { .. } => &self.unknown_rollup,
                Refusal::WrongDomain { .. } => &self.wrong_domain,
            },
            _ => &self.storage_failures,
        };
        counter.fetch_add(1, Relaxed);
    }

    pub fn snapshot(&self) -> SignerMetricsSnapshot {
        SignerMetricsSnapshot {
            signed: self.signed.load(Relaxed),
            repeated: self.repeated.load(Relaxed),
            conflict: self.conflict.load(Relaxed),
            below_watermark: self.below_watermark.load(Relaxed),
            beyond_verified_head: self.beyond_verified_head.load(Relaxed),
            unknown_rollup: self.unknown_rollup.load(Relaxed),
            wrong_domain: self.wrong_domain.load(Relaxed),
            storage_failures: self.storage_failures.load(Relaxed),
        }
    }
}
