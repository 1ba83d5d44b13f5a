//! Types every Surety component shares: the statement operators sign, the BLS12-381 min-sig
//! signing core, and EIP-2335 keystores.

mod statement;

pub use statement::{DOMAIN_TAG, Domain, Statement};
