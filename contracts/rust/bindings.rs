//! Typed bindings for Surety's contracts, generated at compile time from the committed
//! `artifacts/*.json` (ABI and creation bytecode exported from forge's output by
//! `script/export-artifacts.js`; `make test` fails when they are stale).
//!
//! Each contract lives in its own module because every ABI brings its own copy of the shared
//! structs (`Statement`, `SignerProof`, `OperatorSet`).
//!
//! The circuit breaker is `CertificateVerifier`'s: `raiseAlert(Mismatch, SignerProof)` (build the
//! proof with [`signer_proof`](crate::signer_proof) over the reporters' signatures of
//! `surety_primitives::Mismatch::signing_root`), `clearAlert(rollupId)`, `dismissAlert(rollupId)`,
//! `alertOf(rollupId)`, `rollupStatus(rollupId)` (decode it with [`RollupStatus`]) and the
//! `AlertRaised` / `AlertCleared` / `AlertDismissed` events. `ExampleBridge` is the app-side
//! pattern that pauses on a halt.

#![allow(missing_docs, clippy::too_many_arguments)]

macro_rules! binding {
    ($module:ident, $contract:ident) => {
        #[doc = concat!("`", stringify!($contract), "` and the types its ABI uses.")]
        pub mod $module {
            alloy::sol!(
                #[sol(rpc)]
                #[derive(Debug, PartialEq, Eq)]
                $contract,
                concat!("artifacts/", stringify!($contract), ".json")
            );
        }
        pub use $module::$contract;
    };
}

binding!(operator_registry, OperatorRegistry);
binding!(certificate_verifier, CertificateVerifier);
binding!(compensation_pool, CompensationPool);
binding!(surety_registrar, SuretyRegistrar);
binding!(slasher, Slasher);
binding!(posted_root_source, PostedRootSource);
binding!(example_bridge, ExampleBridge);

/// Surety's statement (`surety_primitives::Statement`) as each ABI that takes one spells it, so
/// that what operators sign is what gets submitted as certificate, cover or evidence.
macro_rules! statement_from_primitives {
    ($($contract:ident),+) => {$(
        impl From<surety_primitives::Statement> for $contract::Statement {
            fn from(s: surety_primitives::Statement) -> Self {
                Self {
                    rollupId: s.rollup_id,
                    blockNumber: s.block_number,
                    blockHash: s.block_hash,
                    parentHash: s.parent_hash,
                    stateRoot: s.state_root,
                }
            }
        }
    )+};
}

statement_from_primitives!(CertificateVerifier, CompensationPool, Slasher);

impl From<surety_primitives::Mismatch> for CertificateVerifier::Mismatch {
    fn from(m: surety_primitives::Mismatch) -> Self {
        Self {
            rollupId: m.rollup_id,
            blockNumber: m.block_number,
            blockHash: m.block_hash,
            parentHash: m.parent_hash,
            claimedStateRoot: m.claimed_state_root,
            computedStateRoot: m.computed_state_root,
        }
    }
}

/// `RollupStatus` of `CertificateVerifier.rollupStatus` (the ABI carries enums as `uint8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RollupStatus {
    /// Certificates land and cover is sold.
    Active,
    /// The rollup's owner stopped new certificates and cover; recorded certificates stay valid.
    Paused,
    /// A circuit-breaker alert stands: no certificate at or above its height, no cover; apps pause.
    Halted,
}

/// A `rollupStatus` value this crate does not know (a newer contract).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown rollup status {0}")]
pub struct UnknownRollupStatus(pub u8);

impl TryFrom<u8> for RollupStatus {
    type Error = UnknownRollupStatus;

    fn try_from(value: u8) -> Result<Self, Self::Error> {
        match value {
            0 => Ok(Self::Active),
            1 => Ok(Self::Paused),
            2 => Ok(Self::Halted),
            other => Err(UnknownRollupStatus(other)),
        }
    }
}

impl TryFrom<CertificateVerifier::RollupStatus> for RollupStatus {
    type Error = UnknownRollupStatus;

    fn try_from(value: CertificateVerifier::RollupStatus) -> Result<Self, Self::Error> {
        u8::from(value).try_into()
    }
}
