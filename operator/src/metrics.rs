//! Counters of the re-execution engine, readable by the node's Prometheus endpoint.

use std::sync::atomic::{AtomicU64, Ordering};

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
}

impl Metrics {
    /// The metrics in the Prometheus text exposition format.
    pub fn render_prometheus(&self) -> String {
        let counters = [
            (
                "surety_blocks_verified_total",
                "counter",
                &self.blocks_verified,
            ),
            ("surety_gas_verified_total", "counter", &self.gas_verified),
            (
                "surety_state_root_mismatches_total",
                "counter",
                &self.state_root_mismatches,
            ),
            ("surety_reorgs_total", "counter", &self.reorgs),
            ("surety_verified_head", "gauge", &self.verified_head),
            ("surety_chain_head", "gauge", &self.chain_head),
        ];
        let mut out = String::new();
        for (name, kind, value) in counters {
            out.push_str(&format!(
                "# TYPE {name} {kind}\n{name} {}\n",
                value.load(Ordering::Relaxed)
            ));
        }
        out
    }
}
