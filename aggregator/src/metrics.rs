//! Counters of the aggregator, rendered for Prometheus by the HTTP endpoint.

use std::{
    collections::BTreeMap,
    fmt::Write,
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
};

use tonic::Code;

/// Monotonic counters and gauges; cheap to bump from the hot path.
#[derive(Debug, Default)]
pub struct Metrics {
    pub accepted: AtomicU64,
    pub duplicate: AtomicU64,
    /// Refused attestations and reports, by gRPC code name.
    pub rejected: Mutex<BTreeMap<&'static str, u64>>,
    /// Calls refused as a whole because the intake queue was full.
    pub overloaded: AtomicU64,
    /// `verify_batch` calls, and signatures they found invalid.
    pub batch_checks: AtomicU64,
    pub invalid_signatures: AtomicU64,
    /// Connections that lost their trusted standing by sending an invalid signature.
    pub demoted: AtomicU64,
    pub double_signs: AtomicU64,
    pub evidence_proven: AtomicU64,
    pub mismatch_reports: AtomicU64,
    pub certificates: AtomicU64,
    /// Certificates this aggregator found already recorded by another one.
    pub certified_by_others: AtomicU64,
    pub certificate_gas: AtomicU64,
    pub estimate_reverts: AtomicU64,
    pub reverted: AtomicU64,
    pub replacements: AtomicU64,
    /// Circuit-breaker alerts this aggregator raised on L1.
    pub alerts_raised: AtomicU64,
    pub l1_block: AtomicU64,
}

impl Metrics {
    pub(crate) fn reject(&self, code: Code) {
        *self
            .rejected
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(code_name(code))
            .or_default() += 1;
    }

    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Relaxed);
    }

    /// The Prometheus text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (name, kind, value) in [
            (
                "surety_aggregator_accepted_total",
                "counter",
                &self.accepted,
            ),
            (
                "surety_aggregator_duplicate_total",
                "counter",
                &self.duplicate,
            ),
            (
                "surety_aggregator_overloaded_total",
                "counter",
                &self.overloaded,
            ),
            (
                "surety_aggregator_batch_checks_total",
                "counter",
                &self.batch_checks,
            ),
            (
                "surety_aggregator_invalid_signatures_total",
                "counter",
                &self.invalid_signatures,
            ),
            (
                "surety_aggregator_demoted_connections_total",
                "counter",
                &self.demoted,
            ),
            (
                "surety_aggregator_double_signs_total",
                "counter",
                &self.double_signs,
            ),
            (
                "surety_aggregator_evidence_proven_total",
                "counter",
                &self.evidence_proven,
            ),
            (
                "surety_aggregator_mismatch_reports_total",
                "counter",
                &self.mismatch_reports,
            ),
            (
                "surety_aggregator_certificates_total",
                "counter",
                &self.certificates,
            ),
            (
                "surety_aggregator_certified_by_others_total",
                "counter",
                &self.certified_by_others,
            ),
            (
                "surety_aggregator_certificate_gas_total",
                "counter",
                &self.certificate_gas,
            ),
            (
                "surety_aggregator_estimate_reverts_total",
                "counter",
                &self.estimate_reverts,
            ),
            (
                "surety_aggregator_reverted_total",
                "counter",
                &self.reverted,
            ),
            (
                "surety_aggregator_replacements_total",
                "counter",
                &self.replacements,
            ),
            (
                "surety_aggregator_alerts_raised_total",
                "counter",
                &self.alerts_raised,
            ),
            ("surety_aggregator_l1_block", "gauge", &self.l1_block),
        ] {
            let _ = writeln!(out, "# TYPE {name} {kind}\n{name} {}", value.load(Relaxed));
        }
        out.push_str("# TYPE surety_aggregator_rejected_total counter\n");
        for (code, n) in self
            .rejected
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "surety_aggregator_rejected_total{{code=\"{code}\"}} {n}"
            );
        }
        out
    }
}

pub(crate) fn code_name(code: Code) -> &'static str {
    match code {
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::Unauthenticated => "UNAUTHENTICATED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::Unavailable => "UNAVAILABLE",
        _ => "OTHER",
    }
}
