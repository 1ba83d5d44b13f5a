//! Types every Surety component shares: the statement operators sign, the mismatch report they
//! raise instead, the BLS12-381 min-sig signing core, and EIP-2335 keystores.

pub mod bls;
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
