//! The node's registered stake, read from L1 for the AVS node spec's `eigen_registered_stakes`:
//! the `OperatorRegistry` names the operator behind this node's BLS key, and its slashable
//! stake in Surety's operator set (the one "quorum").

use std::{
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use alloy_primitives::{B256, U256};
use tracing::{debug, warn};

use super::anchor;
use crate::metrics::{Exposition, Kind};

/// How often the stake is read: about once per L1 block.
const READ_EVERY: Duration = Duration::from_secs(12);

/// What L1 last said about this node's operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Registration {
    /// No operator registered this node's key.
    Unregistered,
    /// The operator behind the key, active in the set or not, with its slashable stake (wei).
    Registered { active: bool, stake: U256 },
}

/// The last reading, shared with the HTTP endpoint.
#[derive(Debug, Default)]
pub(crate) struct RegisteredStake {
    last: Mutex<Option<Registration>>,
    errors: AtomicU64,
}

impl RegisteredStake {
    pub(crate) fn render_into(&self, out: &mut Exposition) {
        let last = *self
            .last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(registration) = last {
            let (active, stake) = match registration {
                Registration::Unregistered => (false, U256::ZERO),
                Registration::Registered { active, stake } => (active, stake),
            };
            out.sample(
                "eigen_registered_stakes",
                Kind::Gauge,
                &[("quorum_number", &0), ("quorum_name", &"surety")],
                f64::from(stake),
            );
            out.sample("surety_operator_active", Kind::Gauge, &[], u8::from(active));
        }
        out.sample(
            "surety_stake_read_errors_total",
            Kind::Counter,
            &[],
            self.errors.load(Ordering::Relaxed),
        );
    }
}

/// Reads the stake behind `key_hash` every [`READ_EVERY`] into `stake`.
pub(crate) struct StakeWatch {
    pub(crate) l1: anchor::L1,
    pub(crate) key_hash: B256,
    pub(crate) stake: std::sync::Arc<RegisteredStake>,
}

impl StakeWatch {
    pub(crate) async fn run(self) -> std::convert::Infallible {
        loop {
            match self.l1.registration(self.key_hash).await {
                Ok(now) => {
                    let mut last = self
                        .stake
                        .last
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    if *last != Some(now) {
                        debug!(?now, "registered stake");
                        *last = Some(now);
                    }
                }
                Err(error) => {
                    self.stake.errors.fetch_add(1, Ordering::Relaxed);
                    warn!(%error, "cannot read the registered stake from L1");
                }
            }
            tokio::time::sleep(READ_EVERY).await;
        }
    }
}
