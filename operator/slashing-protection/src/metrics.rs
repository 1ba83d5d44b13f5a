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
    not_verified: AtomicU64,
    unknown_rollup: AtomicU64,
    wrong_domain: AtomicU64,
    storage_failures: AtomicU64,
    pruned: AtomicU64,
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
    /// Statements naming a block or root other than the one this node verified.
    pub not_verified: u64,
    pub unknown_rollup: u64,
    pub wrong_domain: u64,
    /// Requests that failed closed on a storage error (or a handle poisoned by one).
    pub storage_failures: u64,
    /// Records deleted by pruning (their heights stay refused below the low watermark).
    pub pruned: u64,
}

impl SignerMetrics {
    pub(crate) fn released(&self, new: usize, repeated: usize) {
        self.signed.fetch_add(new as u64, Relaxed);
        self.repeated.fetch_add(repeated as u64, Relaxed);
    }

    pub(crate) fn pruned(&self, records: u64) {
        self.pruned.fetch_add(records, Relaxed);
    }

    pub(crate) fn failed(&self, error: &Error) {
        let counter = match error {
            Error::Refused(refusal) => match refusal {
                Refusal::Conflict { .. } => &self.conflict,
                Refusal::BelowWatermark { .. } => &self.below_watermark,
                Refusal::BeyondVerifiedHead { .. } => &self.beyond_verified_head,
                Refusal::NotVerified { .. } => &self.not_verified,
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
            not_verified: self.not_verified.load(Relaxed),
            unknown_rollup: self.unknown_rollup.load(Relaxed),
            wrong_domain: self.wrong_domain.load(Relaxed),
            storage_failures: self.storage_failures.load(Relaxed),
            pruned: self.pruned.load(Relaxed),
        }
    }
}

impl SignerMetricsSnapshot {
    /// Appends the counters in the Prometheus text format to `out`.
    pub fn render_into(&self, out: &mut String) {
        out.push_str(&format!(
            "# TYPE surety_signer_signed_total counter\nsurety_signer_signed_total {}\n\
             # TYPE surety_signer_repeated_total counter\nsurety_signer_repeated_total {}\n\
             # TYPE surety_signer_storage_failures_total counter\n\
             surety_signer_storage_failures_total {}\n\
             # TYPE surety_pruned_signed_statements_total counter\n\
             surety_pruned_signed_statements_total {}\n\
             # TYPE surety_signer_refused_total counter\n",
            self.signed, self.repeated, self.storage_failures, self.pruned
        ));
        for (reason, n) in [
            ("conflict", self.conflict),
            ("below_watermark", self.below_watermark),
            ("beyond_verified_head", self.beyond_verified_head),
            ("not_verified", self.not_verified),
            ("unknown_rollup", self.unknown_rollup),
            ("wrong_domain", self.wrong_domain),
        ] {
            out.push_str(&format!(
                "surety_signer_refused_total{{reason=\"{reason}\"}} {n}\n"
            ));
        }
    }
}
