//! Types every Surety component shares: the statement operators sign, the mismatch report they
//! raise instead, the BLS12-381 min-sig signing core, EIP-2335 keystores, and how services load
//! their configuration files and (feature `http`) serve HTTP.

pub mod bls;
pub mod config;
pub mod ecdsa_keystore;
#[cfg(feature = "http")]
pub mod http;
pub mod keystore;
mod mismatch;
mod statement;

pub use bls::{
    BlsError, DecodeError, HashedMessage, POP_DST, ProofOfPossession, PublicKey, SIG_DST,
    SecretKey, Signature, verify_batch, verify_batch_hashed, verify_many,
};
pub use keystore::{Kdf, Keystore, KeystoreError};
pub use mismatch::{MISMATCH_TAG, Mismatch, MismatchReport};
pub use statement::{Attestation, DOMAIN_TAG, Domain, Statement};
