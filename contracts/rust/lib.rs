//! Rust side of Surety's L1 contracts: typed bindings and deployment.
//!
//! - [`bindings`]: alloy bindings (with bytecode) for Surety's contracts, generated from the
//!   committed forge artifacts.
//! - [`eigenlayer`]: the EigenLayer core's addresses and the operator-side calls (registration,
//!   allocations) through `sol!` bindings of the few functions Surety uses.
//! - [`register_operator`] turns an account into a Surety operator, skipping every step already
//!   done (what `surety operator register` runs).
//! - [`deploy_surety`] wires Surety onto a core; [`signer_proof`] builds the `SignerProof` a
//!   certificate carries.
//!
//! Feature `devnet` (off by default, so a node links neither eigensdk nor the deployer crate and
//! the AWS SDK behind them): `eigenlayer::deploy_eigenlayer` puts the core on a local chain from
//! the deployer crate's bytecode, `deploy_all` deploys the core and Surety after checking that
//! the chain has the EIP-2537 precompiles, and `Deployment::fund_test_stake` /
//! `Deployment::onboard_operator` give accounts restaked test tokens.
//!
//! [`signer_proof`] also builds a circuit-breaker alert's proof; [`evidence`] brings a wrong
//! certificate to a slash (accuse, resolve, slash every signer); [`deploy_example_bridge`] deploys
//! the example app that pauses while a rollup is halted.

pub mod account;
pub mod bindings;
pub mod eigenlayer;
mod error;
pub mod evidence;
pub mod finality;
mod l1;
pub mod logs;
mod proof;
mod register;
mod surety;
mod tx;

#[cfg(feature = "devnet")]
pub use eigenlayer::deploy_eigenlayer;
pub use eigenlayer::{CoreParams, EigenLayerDeployment};
pub use error::Error;
#[cfg(feature = "devnet")]
pub use l1::deploy_all;
pub use l1::{Deployment, check_l1};
pub use proof::{ProofError, signer_proof};
pub use register::{
    RegisterError, RegisterOptions, RegistrationContracts, Step, StepReport, register_operator,
};
pub use surety::{
    SuretyDeployment, SuretyParams, deploy_example_bridge, deploy_posted_root_source, deploy_surety,
};
pub use tx::send;
