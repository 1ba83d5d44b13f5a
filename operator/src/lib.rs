//! The Surety operator node.
//!
//! - [`execution`]: re-executes rollup blocks with revm under the rollup's rules.
//! - [`state`]: the operator's own copy of the rollup state in redb, with an incrementally
//!   maintained Merkle-Patricia state root, undo log and durable progress.
//! - [`genesis`]: bootstraps the state from a geth-style `genesis.json`.
//! - [`blocktest`]: runs Ethereum's BlockchainTest fixtures through the engine.
//! - [`follower`]: follows a rollup over JSON-RPC and records a verdict per block.
//! - [`metrics`]: counters for the node's Prometheus endpoint.
//! - [`api`]: the node's HTTP endpoint: metrics, status and the EigenLayer AVS node API.
//! - [`config`]: the node's TOML configuration, validated at load.
//! - [`outbox`]: the durable queue of signed messages not yet delivered to every aggregator.
//! - [`delivery`]: one gRPC sender per aggregator, draining the outbox.
//! - [`watchtower`]: checks every certificate on L1 against the node's own re-execution and
//!   brings a wrong one to a slash.
//! - [`node`]: the [`OperatorNode`] that wires all of the above (and the protected signer).

pub mod api;
pub mod blocktest;
pub mod config;
pub mod delivery;
pub mod execution;
pub mod follower;
pub mod genesis;
pub mod metrics;
pub mod node;
pub mod outbox;
pub mod state;
pub mod watchtower;

pub use node::{
    Fault, GenesisMismatch, NodeError, NodeOutcome, NodeSpec, OperatorNode, RollupSpec,
    SigningSpec, StorageSpec, compute_genesis,
};
