//! Proofs of possession bound to the registering operator, the chain and the key registry
//! (`docs/protocol.md`), so a PoP cannot be replayed for another operator or deployment.

use super::{DecodeError, POP_DST, PublicKey, SecretKey, Signature};
use alloy_primitives::{Address, B256, U256, b256, keccak256};
use alloy_sol_types::SolValue;
use serde::{Deserialize, Serialize};

/// `keccak256("surety.pop.v1")`.
pub const POP_TAG: B256 =
    b256!("0x483ebab5b5235902997abc4bd4b71fd304b19b271bf510db34e29a7cb78a3f55");

/// `sk · H_pop(popMessage)`: proves the registrant knows the secret key of `public_key`, which
/// rules out rogue-key attacks on aggregate public keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProofOfPossession(Signature);

impl ProofOfPossession {
    pub fn new(secret: &SecretKey, operator: Address, chain_id: u64, registry: Address) -> Self {
        let message = Self::message(&secret.public_key(), operator, chain_id, registry);
        Self(secret.sign_with_dst(message.as_slice(), POP_DST))
    }

    /// `keccak256(abi.encode(POP_TAG, operator, chainId, keyRegistry, keyHash))`.
    pub fn message(
        public_key: &PublicKey,
        operator: Address,
        chain_id: u64,
        registry: Address,
    ) -> B256 {
        keccak256(
            (
                POP_TAG,
                operator,
                U256::from(chain_id),
                registry,
                public_key.key_hash(),
            )
                .abi_encode_params(),
        )
    }

    pub fn verify(
        &self,
        public_key: &PublicKey,
        operator: Address,
        chain_id: u64,
        registry: Address,
    ) -> bool {
        let message = Self::message(public_key, operator, chain_id, registry);
        self.0
            .verify_with_dst(public_key, message.as_slice(), POP_DST)
    }

    pub const fn signature(&self) -> &Signature {
        &self.0
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        Signature::from_bytes(bytes).map(Self)
    }

    pub fn from_eip2537(bytes: &[u8]) -> Result<Self, DecodeError> {
        Signature::from_eip2537(bytes).map(Self)
    }

    pub fn to_bytes(&self) -> [u8; 48] {
        self.0.to_bytes()
    }

    pub fn to_eip2537(&self) -> [u8; 128] {
        self.0.to_eip2537()
    }
}
