//! BLS12-381 in the min-sig variant (signatures in G1, public keys in G2) on `blst`, with the
//! Surety ciphersuites from `docs/protocol.md`.
//!
//! [`PublicKey`] and [`Signature`] values are always valid: decoding rejects infinity, points
//! off the curve or outside the prime-order subgroup and non-canonical encodings, so every
//! operation on them (including [`verify_batch`]) may assume subgroup membership.

mod batch;
mod encoding;
mod pop;

use alloy_primitives::{B256, keccak256};
use blst::BLST_ERROR;
use blst::min_sig::{
    AggregatePublicKey, AggregateSignature, PublicKey as BlstPublicKey, SecretKey as BlstSecretKey,
    Signature as BlstSignature,
};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};
use std::{fmt, hash};
use thiserror::Error;

pub use batch::{HashedMessage, verify_batch, verify_batch_hashed, verify_many};
pub use encoding::DecodeError;
pub use pop::{POP_TAG, ProofOfPossession};

/// Hash-to-G1 domain separation tag of attestation signatures.
pub const SIG_DST: &[u8] = b"BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_";
/// Hash-to-G1 domain separation tag of proofs of possession.
pub const POP_DST: &[u8] = b"BLS_POP_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_";

/// Errors of key handling and aggregation (decoding has its own [`DecodeError`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum BlsError {
    #[error("secret key must be 32 bytes, non-zero and below the group order")]
    InvalidSecretKey,
    #[error("EIP-2333 seed must be at least 32 bytes, got {0}")]
    SeedTooShort(usize),
    #[error("nothing to aggregate")]
    EmptyAggregate,
    #[error("the aggregate is the point at infinity")]
    AggregateIsInfinity,
}

/// A BLS12-381 secret scalar. Zeroized on drop (by blst); `Debug` never prints it.
#[derive(Clone)]
pub struct SecretKey(BlstSecretKey);

impl SecretKey {
    /// EIP-2333 master key from a seed of at least 32 bytes (`derive_master_SK`, which is the
    /// IETF `KeyGen` HKDF-mod-r).
    pub fn derive_master(seed: &[u8]) -> Result<Self, BlsError> {
        BlstSecretKey::derive_master_eip2333(seed)
            .map(Self)
            .map_err(|_| BlsError::SeedTooShort(seed.len()))
    }

    /// [`Self::derive_master`] for a 32-byte input keying material, which cannot fail.
    pub fn from_ikm(ikm: &[u8; 32]) -> Self {
        Self::derive_master(ikm).expect("32 bytes is a valid EIP-2333 seed length")
    }

    /// EIP-2333 `derive_child_SK`.
    pub fn derive_child(&self, index: u32) -> Self {
        Self(self.0.derive_child_eip2333(index))
    }

    /// A fresh key from 32 bytes of OS randomness (EIP-2333 master derivation of that seed).
    pub fn random() -> Self {
        let mut seed = zeroize::Zeroizing::new([0u8; 32]);
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, seed.as_mut());
        Self::from_ikm(&seed)
    }

    /// The big-endian scalar; must be non-zero and below the group order r.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BlsError> {
        BlstSecretKey::from_bytes(bytes)
            .map(Self)
            .map_err(|_| BlsError::InvalidSecretKey)
    }

    /// The big-endian scalar. Callers own the zeroization of the returned copy.
    pub fn to_bytes(&self) -> zeroize::Zeroizing<[u8; 32]> {
        zeroize::Zeroizing::new(self.0.to_bytes())
    }

    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.sk_to_pk())
    }

    /// Signs a 32-byte message (a statement's signing root) with [`SIG_DST`].
    pub fn sign(&self, message: &[u8; 32]) -> Signature {
        Signature(self.0.sign(message, SIG_DST, &[]))
    }

    /// The min-pk (G1) public key `sk·g1` that Ethereum keystores record, for checking them.
    pub(crate) fn min_pk_public_key(&self) -> [u8; 48] {
        let sk = blst::min_pk::SecretKey::from_bytes(self.to_bytes().as_slice())
            .expect("a valid min-sig scalar is a valid min-pk scalar");
        sk.sk_to_pk().compress()
    }

    pub(crate) fn sign_with_dst(&self, message: &[u8], dst: &[u8]) -> Signature {
        Signature(self.0.sign(message, dst, &[]))
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

/// A validated G2 public key (never infinity, always in the subgroup).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(BlstPublicKey);

impl PublicKey {
    pub const COMPRESSED_LEN: usize = encoding::G2_COMPRESSED_LEN;
    pub const EIP2537_LEN: usize = encoding::G2_EIP2537_LEN;

    /// Strictly decodes the 96-byte compressed form.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        encoding::g2_from_compressed(bytes).map(Self)
    }

    /// Strictly decodes the 256-byte EIP-2537 form.
    pub fn from_eip2537(bytes: &[u8]) -> Result<Self, DecodeError> {
        encoding::g2_from_eip2537(bytes).map(Self)
    }

    /// The 96-byte compressed form.
    pub fn to_bytes(&self) -> [u8; 96] {
        self.0.compress()
    }

    /// The 256-byte EIP-2537 form `x.c0 ‖ x.c1 ‖ y.c0 ‖ y.c1`, each padded to 64 bytes.
    pub fn to_eip2537(&self) -> [u8; 256] {
        encoding::g2_to_eip2537(&self.0)
    }

    /// The key's on-chain identity: `keccak256` of its EIP-2537 form.
    pub fn key_hash(&self) -> B256 {
        keccak256(self.to_eip2537())
    }

    /// Verifies `signature` on a 32-byte message under [`SIG_DST`].
    pub fn verify(&self, message: &[u8; 32], signature: &Signature) -> bool {
        signature.verify_with_dst(self, message, SIG_DST)
    }

    /// The sum of `keys`; errors if empty or if they cancel out to infinity.
    pub fn aggregate(keys: &[PublicKey]) -> Result<Self, BlsError> {
        let refs: Vec<&BlstPublicKey> = keys.iter().map(|k| &k.0).collect();
        let agg = AggregatePublicKey::aggregate(&refs, false)
            .map_err(|_| BlsError::EmptyAggregate)?
            .to_public_key();
        agg.validate().map_err(|_| BlsError::AggregateIsInfinity)?;
        Ok(Self(agg))
    }
}

/// A validated G1 signature (never infinity, always in the subgroup).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature(BlstSignature);

impl Signature {
    pub const COMPRESSED_LEN: usize = encoding::G1_COMPRESSED_LEN;
    pub const EIP2537_LEN: usize = encoding::G1_EIP2537_LEN;

    /// Strictly decodes the 48-byte compressed form.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        encoding::g1_from_compressed(bytes).map(Self)
    }

    /// Strictly decodes the 128-byte EIP-2537 form.
    pub fn from_eip2537(bytes: &[u8]) -> Result<Self, DecodeError> {
        encoding::g1_from_eip2537(bytes).map(Self)
    }

    /// The 48-byte compressed form.
    pub fn to_bytes(&self) -> [u8; 48] {
        self.0.compress()
    }

    /// The 128-byte EIP-2537 form `x ‖ y`, each padded to 64 bytes.
    pub fn to_eip2537(&self) -> [u8; 128] {
        encoding::g1_to_eip2537(&self.0)
    }

    /// The sum of `signatures`; errors if empty or if they cancel out to infinity.
    pub fn aggregate(signatures: &[Signature]) -> Result<Self, BlsError> {
        let refs: Vec<&BlstSignature> = signatures.iter().map(|s| &s.0).collect();
        let agg = AggregateSignature::aggregate(&refs, false)
            .map_err(|_| BlsError::EmptyAggregate)?
            .to_signature();
        agg.validate(true)
            .map_err(|_| BlsError::AggregateIsInfinity)?;
        Ok(Self(agg))
    }

    fn verify_with_dst(&self, key: &PublicKey, message: &[u8], dst: &[u8]) -> bool {
        // Both points were validated on construction, so blst's own group checks are skipped.
        self.0.verify(false, message, dst, &[], &key.0, false) == BLST_ERROR::BLST_SUCCESS
    }
}

/// `H(message)` for hash-to-G1 (RFC 9380, `BLS12381G1_XMD:SHA-256_SSWU_RO_`) under `dst`, in
/// the EIP-2537 layout: what the Solidity hash-to-G1 must return byte for byte.
pub fn hash_to_g1(message: &[u8], dst: &[u8]) -> [u8; 128] {
    // blst's safe API exposes hash-to-curve only inside signing; signing with the scalar 1
    // returns H(message) itself.
    let one =
        BlstSecretKey::from_bytes(&B256::with_last_byte(1).0).expect("1 is a valid secret scalar");
    encoding::g1_to_eip2537(&one.sign(message, dst, &[]))
}

macro_rules! hex_traits {
    ($ty:ty, $what:literal) => {
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($what, "(0x{})"), hex::encode(self.to_bytes()))
            }
        }

        /// `0x`-prefixed hex of the compressed form.
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "0x{}", hex::encode(self.to_bytes()))
            }
        }

        impl std::str::FromStr for $ty {
            type Err = DecodeError;

            /// Parses (optionally `0x`-prefixed) hex of the compressed form.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let s = s.strip_prefix("0x").unwrap_or(s);
                let bytes = hex::decode(s).map_err(|_| DecodeError::InvalidHex)?;
                Self::from_bytes(&bytes)
            }
        }

        impl hash::Hash for $ty {
            fn hash<H: hash::Hasher>(&self, state: &mut H) {
                self.to_bytes().hash(state);
            }
        }

        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                s.parse().map_err(de::Error::custom)
            }
        }
    };
}

hex_traits!(PublicKey, "PublicKey");
hex_traits!(Signature, "Signature");
