//! The Surety operator node.
//!
//! - [`execution`]: re-executes rollup blocks with revm under the rollup's rules.
//! - [`state`]: the operator's own copy of the rollup state in redb, with an incrementally
//!   maintained Merkle-Patricia state root, undo log and durable progress.
//! - [`genesis`]: bootstraps the state from a geth-style `genesis.json`.
//! - [`blocktest`]: runs Ethereum's BlockchainTest fixtures through the engine.
//! - [`follower`]: follows a rollup over JSON-RPC and records a verdict per block.
//! - [`metrics`]: engine counters for the node's Prometheus endpoint.

pub mod blocktest;
pub mod execution;
pub mod follower;
pub mod genesis;
pub mod metrics;
pub mod slashing_protection;
pub mod state;
