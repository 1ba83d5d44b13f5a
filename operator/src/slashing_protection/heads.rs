//! The locally verified head per rollup: the highest block this node re-executed and whose state
//! root it matched. The signer never signs above it.

use std::collections::HashMap;

use tokio::sync::watch;

/// Source of the locally verified head of each rollup, supplied by the re-execution engine.
pub trait VerifiedHeads: Send + Sync {
    /// The highest verified block of `rollup_id`, or `None` if the node does not follow it.
    fn verified_head(&self, rollup_id: u64) -> Option<u64>;
}

/// One watch channel per followed rollup, each carrying its verified head.
impl VerifiedHeads for HashMap<u64, watch::Receiver<u64>> {
    fn verified_head(&self, rollup_id: u64) -> Option<u64> {
        self.get(&rollup_id).map(|head| *head.borrow())
    }
}

impl<F: Fn(u64) -> Option<u64> + Send + Sync> VerifiedHeads for F {
    fn verified_head(&self, rollup_id: u64) -> Option<u64> {
        self(rollup_id)
    }
}
