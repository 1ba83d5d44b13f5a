//! Double-signing evidence: two valid signatures by one key on statements for the same rollup
//! and height that differ in block hash or state root, exactly what `Slasher.proveDoubleSigning`
//! accepts (`docs/contracts.md`). Statements that differ only in their parent hash are refused
//! as conflicts but are no evidence: the contract would reject them.

use alloy::primitives::B256;
use surety_primitives::{Attestation, PublicKey, Signature, Statement};

/// Two conflicting attestations by one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Evidence {
    pub public_key: PublicKey,
    pub first: (Statement, Signature),
    pub second: (Statement, Signature),
}

impl Evidence {
    /// Evidence if `earlier` (already verified) and `later` (verified) by the same key conflict
    /// the way the Slasher punishes.
    pub fn from_pair(earlier: (Statement, Signature), later: &Attestation) -> Option<Self> {
        let (a, b) = (earlier.0, later.statement);
        let slashable = a.rollup_id == b.rollup_id
            && a.block_number == b.block_number
            && (a.block_hash != b.block_hash || a.state_root != b.state_root);
        slashable.then_some(Self {
            public_key: later.public_key,
            first: earlier,
            second: (b, later.signature),
        })
    }

    pub fn key_hash(&self) -> B256 {
        self.public_key.key_hash()
    }

    pub fn rollup_id(&self) -> u64 {
        self.first.0.rollup_id
    }

    pub fn block_number(&self) -> u64 {
        self.first.0.block_number
    }
}

/// Where evidence stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvidenceState {
    /// Kept, not yet proven on L1.
    Pending,
    /// `proveDoubleSigning` succeeded (by this aggregator or anyone).
    Proven,
    /// The Slasher refused it for good (e.g. the key is unknown to it).
    Refused,
}

impl EvidenceState {
    pub(crate) fn to_byte(self) -> u8 {
        match self {
            Self::Pending => 0,
            Self::Proven => 1,
            Self::Refused => 2,
        }
    }

    pub(crate) fn from_byte(b: u8) -> Self {
        match b {
            1 => Self::Proven,
            2 => Self::Refused,
            _ => Self::Pending,
        }
    }
}
