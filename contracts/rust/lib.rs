//! Rust side of Surety's L1 contracts: typed bindings and deployment.
//!
//! - [`eigenlayer`]: the EigenLayer core on a local chain, and the operator-side calls
//!   (registration, deposits, allocations) a devnet needs.

pub mod eigenlayer;
mod error;
mod tx;

pub use eigenlayer::{CoreParams, EigenLayerDeployment, deploy_eigenlayer};
pub use error::Error;
