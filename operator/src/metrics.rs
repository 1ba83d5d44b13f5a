//! Counters of the re-execution engine, and the Prometheus text exposition the node's
//! `/metrics` serves them in.

use std::{
    fmt::{Display, Write as _},
    sync::atomic::{AtomicU64, Ordering},
    time::{SystemTime, UNIX_EPOCH},
};

/// Engine metrics (monotonic counters and gauges). Cheap to update from the hot path.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Blocks whose computed state root matched the header.
    pub blocks_verified: AtomicU64,
    /// Gas executed in verified blocks.
    pub gas_verified: AtomicU64,
    /// Blocks whose header claimed a root re-execution did not produce.
    pub state_root_mismatches: AtomicU64,
    /// Reorgs handled by rolling the state back.
    pub reorgs: AtomicU64,
    /// Height of the locally verified head.
    pub verified_head: AtomicU64,
    /// Height of the endpoint's head as last seen.
    pub chain_head: AtomicU64,
    /// Highest height whose attestation is signed and queued for delivery.
    pub signed_head: AtomicU64,
    /// The head the rollup's finality policy allows signing at, as last seen.
    pub signable_head: AtomicU64,
    /// L2 RPC calls that failed transiently and were retried after a backoff.
    pub rpc_retries: AtomicU64,
    /// Undo journals, headers and evidence records deleted by pruning.
    pub pruned_undo: AtomicU64,
    pub pruned_headers: AtomicU64,
    pub pruned_evidence: AtomicU64,
    /// The height the store was last pruned at (0 before the first pass).
    pub pruned_height: AtomicU64,
    /// Unix seconds of the L2 RPC's last answer to the follower (0: none yet).
    pub l2_response_at: AtomicU64,
    /// Unix seconds of the last change of `verified_head` (0: none since start).
    pub verified_at: AtomicU64,
    /// Unix seconds of the last change of `signed_head` (0: none since start).
    pub signed_at: AtomicU64,
    /// The block the follower refused (a state-root mismatch or an invalid block), after which
    /// it stopped following; 0 while it follows.
    pub refused_height: AtomicU64,
}

impl Metrics {
    /// Appends this rollup's series, labelled `rollup="<id>"`, to `out`.
    pub fn render_into(&self, rollup_id: u64, out: &mut Exposition) {
        use Kind::{Counter, Gauge};
        let series = [
            (
                "surety_blocks_verified_total",
                Counter,
                &self.blocks_verified,
            ),
            ("surety_gas_verified_total", Counter, &self.gas_verified),
            (
                "surety_state_root_mismatches_total",
                Counter,
                &self.state_root_mismatches,
            ),
            ("surety_reorgs_total", Counter, &self.reorgs),
            ("surety_verified_head", Gauge, &self.verified_head),
            ("surety_chain_head", Gauge, &self.chain_head),
            ("surety_signed_head", Gauge, &self.signed_head),
            ("surety_signable_head", Gauge, &self.signable_head),
            ("surety_rpc_retries_total", Counter, &self.rpc_retries),
            ("surety_pruned_undo_total", Counter, &self.pruned_undo),
            ("surety_pruned_headers_total", Counter, &self.pruned_headers),
            (
                "surety_pruned_evidence_total",
                Counter,
                &self.pruned_evidence,
            ),
            ("surety_pruned_height", Gauge, &self.pruned_height),
            (
                "surety_l2_last_response_timestamp_seconds",
                Gauge,
                &self.l2_response_at,
            ),
            ("surety_refused_height", Gauge, &self.refused_height),
        ];
        for (name, kind, value) in series {
            out.sample(
                name,
                kind,
                &[("rollup", &rollup_id)],
                value.load(Ordering::Relaxed),
            );
        }
    }

    /// Stores `height` as the verified head, and when it changed.
    pub fn set_verified_head(&self, height: u64) {
        if self.verified_head.swap(height, Ordering::Relaxed) != height {
            self.verified_at.store(unix_now(), Ordering::Relaxed);
        }
    }

    /// Stores `height` as the signed head, and when it changed.
    pub fn set_signed_head(&self, height: u64) {
        if self.signed_head.swap(height, Ordering::Relaxed) != height {
            self.signed_at.store(unix_now(), Ordering::Relaxed);
        }
    }
}

/// Seconds since the Unix epoch (0 if the clock is before it).
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A Prometheus metric type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
}

impl Kind {
    const fn name(self) -> &'static str {
        match self {
            Self::Counter => "counter",
            Self::Gauge => "gauge",
        }
    }
}

/// A Prometheus text exposition being built: samples are grouped by metric family, whatever
/// order they are added in, and each family's `# TYPE` line is written once, as the format
/// requires of a scrape with several rollups or aggregators.
#[derive(Debug, Default)]
pub struct Exposition {
    families: Vec<(&'static str, Kind, String)>,
}

impl Exposition {
    /// Adds one sample of `name` with `labels` (names are static; values are escaped).
    pub fn sample(
        &mut self,
        name: &'static str,
        kind: Kind,
        labels: &[(&str, &dyn Display)],
        value: impl Display,
    ) {
        let index = match self.families.iter().position(|(n, ..)| *n == name) {
            Some(index) => index,
            None => {
                self.families.push((name, kind, String::new()));
                self.families.len() - 1
            }
        };
        let lines = &mut self.families[index].2;
        lines.push_str(name);
        for (i, (label, value)) in labels.iter().enumerate() {
            let value = value.to_string();
            let escaped = value
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            let sep = if i == 0 { '{' } else { ',' };
            let _ = write!(lines, "{sep}{label}=\"{escaped}\"");
        }
        if !labels.is_empty() {
            lines.push('}');
        }
        let _ = writeln!(lines, " {value}");
    }

    /// The exposition text.
    pub fn finish(self) -> String {
        let mut out = String::new();
        for (name, kind, lines) in self.families {
            let _ = writeln!(out, "# TYPE {name} {}", kind.name());
            out.push_str(&lines);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_are_grouped_with_one_type_line_each() {
        let (one, two) = (Metrics::default(), Metrics::default());
        one.blocks_verified.store(42, Ordering::Relaxed);
        two.set_verified_head(7);
        let mut out = Exposition::default();
        one.render_into(1, &mut out);
        two.render_into(2, &mut out);
        out.sample(
            "x_info",
            Kind::Gauge,
            &[("url", &"http://a\"b"), ("n", &3)],
            1,
        );
        let text = out.finish();
        assert!(
            text.contains(
                "# TYPE surety_blocks_verified_total counter\n\
                 surety_blocks_verified_total{rollup=\"1\"} 42\n\
                 surety_blocks_verified_total{rollup=\"2\"} 0\n"
            ),
            "{text}"
        );
        assert!(text.contains("surety_verified_head{rollup=\"2\"} 7\n"));
        assert_eq!(text.matches("# TYPE surety_verified_head gauge").count(), 1);
        assert!(
            text.ends_with("x_info{url=\"http://a\\\"b\",n=\"3\"} 1\n"),
            "{text}"
        );
        assert_ne!(two.verified_at.load(Ordering::Relaxed), 0);
    }
}
