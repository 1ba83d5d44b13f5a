//! Rust side of Surety's L1 contracts: typed bindings and deployment.
