//! The statement operators sign and its 32-byte signing root (`docs/protocol.md`).

use alloy_primitives::{Address, B256, U256, b256, keccak256};
use alloy_sol_types::SolValue;
use serde::{Deserialize, Serialize};

use crate::{PublicKey, Signature};

/// `keccak256("surety.statement.v1")`: separates statement signatures from every other message
/// type Surety keys sign.
pub const DOMAIN_TAG: B256 =
    b256!("0x8d30639047c7c73473510ec24db233ae3780436164c3ab1b2aab04bca2e29aca");

/// An operator's claim that block `block_number` of rollup `rollup_id`, with hash `block_hash`
/// and parent `parent_hash`, yields `state_root`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Statement {
    pub rollup_id: u64,
    pub block_number: u64,
    pub block_hash: B256,
    pub parent_hash: B256,
    pub state_root: B256,
}

/// The L1 deployment a signature is valid for: the chain and the certificate verifier contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Domain {
    pub l1_chain_id: u64,
    pub verifier: Address,
}

impl Domain {
    pub const fn new(l1_chain_id: u64, verifier: Address) -> Self {
        Self {
            l1_chain_id,
            verifier,
        }
    }
}

impl Statement {
    /// `keccak256(abi.encode(DOMAIN_TAG, l1ChainId, verifier, rollupId, blockNumber, blockHash,
    /// parentHash, stateRoot))` — the 32-byte message BLS signs, identical to
    /// `StatementLib.signingRoot` in Solidity.
    pub fn signing_root(&self, domain: &Domain) -> B256 {
        keccak256(self.abi_encode_with(domain))
    }

    /// `keccak256(abi.encode(rollupId, blockNumber, blockHash, stateRoot))`: the key L1 records a
    /// certificate on this statement under (`CertificateVerifier.certificateId`). The parent hash
    /// is left out, so one block and root have one certificate however it was linked.
    pub fn certificate_id(&self) -> B256 {
        keccak256(
            (
                self.rollup_id,
                self.block_number,
                self.block_hash,
                self.state_root,
            )
                .abi_encode_params(),
        )
    }

    /// The exact bytes hashed into the signing root (eight 32-byte words).
    pub fn abi_encode_with(&self, domain: &Domain) -> Vec<u8> {
        (
            DOMAIN_TAG,
            U256::from(domain.l1_chain_id),
            domain.verifier,
            self.rollup_id,
            self.block_number,
            self.block_hash,
            self.parent_hash,
            self.state_root,
        )
            .abi_encode_params()
    }
}

/// A statement with one operator's signature over its signing root: what travels from an
/// operator to the aggregators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Attestation {
    pub statement: Statement,
    pub public_key: PublicKey,
    pub signature: Signature,
}

impl Attestation {
    /// Whether the signature is `public_key`'s over the statement's signing root in `domain`.
    /// One pairing check: aggregators verify in batches instead ([`crate::verify_batch`]).
    pub fn verify(&self, domain: &Domain) -> bool {
        self.public_key
            .verify(&self.statement.signing_root(domain).0, &self.signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::address;

    fn statement() -> Statement {
        Statement {
            rollup_id: 7,
            block_number: 1_000,
            block_hash: B256::repeat_byte(0x11),
            parent_hash: B256::repeat_byte(0x22),
            state_root: B256::repeat_byte(0x33),
        }
    }

    #[test]
    fn domain_tag_is_keccak_of_its_name() {
        assert_eq!(DOMAIN_TAG, keccak256("surety.statement.v1"));
    }

    #[test]
    fn encoding_is_eight_static_words_in_field_order() {
        let domain = Domain::new(1, address!("0x00000000000000000000000000000000000000aa"));
        let enc = statement().abi_encode_with(&domain);
        assert_eq!(enc.len(), 8 * 32);
        assert_eq!(&enc[..32], DOMAIN_TAG.as_slice());
        assert_eq!(U256::from_be_slice(&enc[32..64]), U256::from(1));
        assert_eq!(&enc[64..76], &[0u8; 12]);
        assert_eq!(enc[95], 0xaa);
        assert_eq!(U256::from_be_slice(&enc[96..128]), U256::from(7));
        assert_eq!(U256::from_be_slice(&enc[128..160]), U256::from(1_000));
        assert_eq!(&enc[160..192], B256::repeat_byte(0x11).as_slice());
        assert_eq!(&enc[192..224], B256::repeat_byte(0x22).as_slice());
        assert_eq!(&enc[224..256], B256::repeat_byte(0x33).as_slice());
    }

    #[test]
    fn every_field_and_the_domain_change_the_root() {
        let domain = Domain::new(1, Address::repeat_byte(1));
        let base = statement().signing_root(&domain);
        let s = statement();
        let variants = [
            Statement { rollup_id: 8, ..s },
            Statement {
                block_number: 1_001,
                ..s
            },
            Statement {
                block_hash: B256::ZERO,
                ..s
            },
            Statement {
                parent_hash: B256::ZERO,
                ..s
            },
            Statement {
                state_root: B256::ZERO,
                ..s
            },
        ];
        for v in variants {
            assert_ne!(v.signing_root(&domain), base, "{v:?}");
        }
        assert_ne!(s.signing_root(&Domain::new(2, domain.verifier)), base);
        assert_ne!(
            s.signing_root(&Domain::new(1, Address::repeat_byte(2))),
            base
        );
    }
}
