//! Typed bindings for Surety's contracts, generated at compile time from the committed
//! `artifacts/*.json` (ABI and creation bytecode exported from forge's output by
//! `script/export-artifacts.js`; `make test` fails when they are stale).
//!
//! Each contract lives in its own module because every ABI brings its own copy of the shared
//! structs (`Statement`, `SignerProof`, `OperatorSet`).

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
