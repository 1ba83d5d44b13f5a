//! Surety test kit: anvil processes, L2 genesis files, and a workload generator that drives an
//! anvil L2 with varied, seeded traffic. The end-to-end tests live in `tests/tests/`.
//!
//! See `docs/testkit.md` for an overview.

pub mod anvil;
pub mod genesis;
pub mod http;
pub mod l2;
pub mod ports;
pub mod proxy;
pub mod workload;
