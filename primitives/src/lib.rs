//! Types every Surety component shares: the statement operators sign, the BLS12-381 min-sig
//! signing core, and EIP-2335 keystores.

pub mod bls;
pub mod keystore;
mod statement;

pub use bls::{
    BlsError, DecodeError, POP_DST, ProofOfPossession, PublicKey, SIG_DST, SecretKey, Signature,
    verify_batch,
};
pub use keystore::{Kdf, Keystore, KeystoreError};
pub use statement::{DOMAIN_TAG, Domain, Statement};
