//! Rust side of Surety's L1 contracts: typed bindings and deployment.
//!
//! - [`bindings`]: alloy bindings (with bytecode) for Surety's contracts, generated from the
//!   committed forge artifacts.
//! - [`eigenlayer`]: the EigenLayer core on a local chain, and the operator-side calls
//!   (registration, deposits, allocations) a devnet needs.
//! - [`deploy_surety`] wires Surety onto a core; [`deploy_all`] does both after checking that the
//!   chain has the EIP-2537 precompiles, and [`Deployment::onboard_operator`] turns an account
//!   into a Surety operator on the result.
//! - [`signer_proof`] builds the `SignerProof` a certificate or a circuit-breaker alert carries;
//!   [`evidence`] brings a wrong certificate to a slash (accuse, resolve, slash every signer).
//! - [`deploy_example_bridge`] deploys the example app that pauses while a rollup is halted.

pub mod bindings;
pub mod eigenlayer;
mod error;
pub mod evidence;
mod l1;
mod proof;
mod surety;
mod tx;

pub use eigenlayer::{CoreParams, EigenLayerDeployment, deploy_eigenlayer};
pub use error::Error;
pub use l1::{Deployment, check_l1, deploy_all};
pub use proof::{ProofError, signer_proof};
pub use surety::{
    SuretyDeployment, SuretyParams, deploy_example_bridge, deploy_posted_root_source, deploy_surety,
};
pub use tx::send;
