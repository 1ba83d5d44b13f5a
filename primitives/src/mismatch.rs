//! The mismatch report: an operator's signed claim that a rollup endpoint served a block whose
//! state root its own re-execution does not produce (`docs/protocol.md`).
//!
//! Reports are signed under [`MISMATCH_TAG`], never the statement tag, so a report can never be
//! counted toward a certificate's quorum, nor used as double-signing evidence against an honest
//! reporter: the two message types hash to disjoint signing roots.

use alloy_primitives::{B256, U256, b256, keccak256};
use alloy_sol_types::SolValue;
use serde::{Deserialize, Serialize};

use crate::{Domain, PublicKey, Signature};

/// `keccak256("surety.mismatch.v1")`.
pub const MISMATCH_TAG: B256 =
    b256!("0x80cf3b1058e237ca94525e042acb303745cfbf6f23bff6f53be2c336e7382f41");

/// "Block `block_hash` at `block_number` of rollup `rollup_id`, child of `parent_hash`, claims
/// `claimed_state_root`; re-executing it yields `computed_state_root`."
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Mismatch {
    pub rollup_id: u64,
    pub block_number: u64,
    pub block_hash: B256,
    pub parent_hash: B256,
    pub claimed_state_root: B256,
    pub computed_state_root: B256,
}

impl Mismatch {
    /// `keccak256(abi.encode(MISMATCH_TAG, l1ChainId, verifier, rollupId, blockNumber,
    /// blockHash, parentHash, claimedStateRoot, computedStateRoot))`.
    pub fn signing_root(&self, domain: &Domain) -> B256 {
        keccak256(
            (
                MISMATCH_TAG,
                U256::from(domain.l1_chain_id),
                domain.verifier,
                self.rollup_id,
                self.block_number,
                self.block_hash,
                self.parent_hash,
                self.claimed_state_root,
                self.computed_state_root,
            )
                .abi_encode_params(),
        )
    }
}

/// A [`Mismatch`] signed by the reporting operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MismatchReport {
    pub mismatch: Mismatch,
    pub public_key: PublicKey,
    pub signature: Signature,
}

impl MismatchReport {
    /// Whether the signature is `public_key`'s over the mismatch's signing root in `domain`.
    pub fn verify(&self, domain: &Domain) -> bool {
        self.public_key
            .verify(&self.mismatch.signing_root(domain).0, &self.signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Statement;
    use alloy_primitives::Address;

    fn mismatch() -> Mismatch {
        Mismatch {
            rollup_id: 7,
            block_number: 10,
            block_hash: B256::repeat_byte(1),
            parent_hash: B256::repeat_byte(2),
            claimed_state_root: B256::repeat_byte(3),
            computed_state_root: B256::repeat_byte(4),
        }
    }

    #[test]
    fn tag_is_keccak_of_its_name() {
        assert_eq!(MISMATCH_TAG, keccak256("surety.mismatch.v1"));
    }

    #[test]
    fn every_field_changes_the_root() {
        let domain = Domain::new(1, Address::repeat_byte(9));
        let m = mismatch();
        let base = m.signing_root(&domain);
        for v in [
            Mismatch { rollup_id: 8, ..m },
            Mismatch {
                block_number: 11,
                ..m
            },
            Mismatch {
                block_hash: B256::ZERO,
                ..m
            },
            Mismatch {
                parent_hash: B256::ZERO,
                ..m
            },
            Mismatch {
                claimed_state_root: B256::ZERO,
                ..m
            },
            Mismatch {
                computed_state_root: B256::ZERO,
                ..m
            },
        ] {
            assert_ne!(v.signing_root(&domain), base, "{v:?}");
        }
        assert_ne!(m.signing_root(&Domain::new(2, domain.verifier)), base);
    }

    #[test]
    fn a_report_never_signs_a_statement_root() {
        // Same block, both roots: neither statement a reporter could be accused of matches.
        let domain = Domain::new(1, Address::repeat_byte(9));
        let m = mismatch();
        for state_root in [m.claimed_state_root, m.computed_state_root] {
            let statement = Statement {
                rollup_id: m.rollup_id,
                block_number: m.block_number,
                block_hash: m.block_hash,
                parent_hash: m.parent_hash,
                state_root,
            };
            assert_ne!(statement.signing_root(&domain), m.signing_root(&domain));
        }
    }
}
