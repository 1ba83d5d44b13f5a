//! Mismatch reports: an operator's signed claim that a rollup block's root is not what its own
//! re-execution computed. Signed under their own tag (`MISMATCH_TAG`), so they never count
//! toward a quorum. Verified, stored, and counted per rollup and per reporting operator.

use std::collections::BTreeMap;

use alloy::primitives::Address;
use surety_primitives::MismatchReport;
use surety_proto::v1;
use tonic::Code;

use crate::{Shared, intake::Refusal, metrics::Metrics};

/// Reports per (rollup, operator).
pub type MismatchCounts = BTreeMap<(u64, Address), u64>;

/// Checks, verifies and stores one report; `Ok(false)` if it was already stored.
pub(crate) fn handle(shared: &Shared, wire: &v1::MismatchReport) -> Result<bool, Refusal> {
    let report = MismatchReport::try_from(wire)
        .map_err(|e| Refusal::new(Code::InvalidArgument, e.to_string()))?;
    let key_hash = report.public_key.key_hash();
    let view = shared.view();
    let Some(operator) = view.operators.get(&key_hash).filter(|op| op.active) else {
        return Err(Refusal::new(
            Code::Unauthenticated,
            format!("key {key_hash} is not an active operator key"),
        ));
    };
    let rollup_id = report.mismatch.rollup_id;
    if !view.rollups.contains_key(&rollup_id) {
        return Err(Refusal::new(
            Code::FailedPrecondition,
            format!("rollup {rollup_id} is not registered"),
        ));
    }
    // Reports are rare: one pairing check each is fine off the attestation hot path.
    if !report.verify(&shared.domain) {
        return Err(Refusal::new(Code::Unauthenticated, "invalid signature"));
    }
    let new = shared
        .store
        .insert_mismatch(&report, &key_hash)
        .map_err(|e| Refusal::new(Code::Unavailable, e.to_string()))?;
    if new {
        let m = &report.mismatch;
        tracing::warn!(
            rollup = rollup_id,
            height = m.block_number,
            operator = %operator.address,
            claimed = %m.claimed_state_root,
            computed = %m.computed_state_root,
            "mismatch reported"
        );
        Metrics::add(&shared.metrics.mismatch_reports, 1);
        *shared
            .mismatches()
            .entry((rollup_id, operator.address))
            .or_default() += 1;
    }
    Ok(new)
}
