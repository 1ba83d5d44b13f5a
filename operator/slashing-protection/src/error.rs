use std::path::PathBuf;

use alloy_primitives::B256;
use surety_primitives::{Domain, Statement};

use crate::heads::{ChainError, VerifiedBlock};

/// Why a statement was not signed although the database works: signing it could be slashable,
/// or the node has not earned the right to sign it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The key already signed a different statement at this rollup height.
    #[error(
        "conflicts with the statement already signed at rollup {} height {}: \
         signed block {} root {}, requested block {} root {}",
        existing.rollup_id, existing.block_number, existing.block_hash, existing.state_root,
        requested.block_hash, requested.state_root
    )]
    Conflict {
        existing: Box<Statement>,
        requested: Box<Statement>,
    },
    /// The height is at or below the low watermark, where the history is pruned or imported as
    /// a watermark only, so a conflict could not be ruled out.
    #[error(
        "rollup {rollup_id} height {block_number} is at or below the low watermark {watermark}"
    )]
    BelowWatermark {
        rollup_id: u64,
        block_number: u64,
        watermark: u64,
    },
    /// The node has not verified this height itself yet.
    #[error("rollup {rollup_id} height {block_number} is beyond the verified head {head}")]
    BeyondVerifiedHead {
        rollup_id: u64,
        block_number: u64,
        head: u64,
    },
    /// The node verified a different block or root at this height: it never signs a root it did
    /// not compute, nor a block on a branch that has since been replaced.
    #[error(
        "rollup {rollup_id} height {}: the node verified block {} (parent {}) with root {}, \
         not block {} (parent {}) with root {}",
        verified.number, verified.hash, verified.parent_hash, verified.state_root,
        requested.block_hash, requested.parent_hash, requested.state_root
    )]
    NotVerified {
        rollup_id: u64,
        verified: Box<VerifiedBlock>,
        requested: Box<Statement>,
    },
    /// The node does not follow this rollup, so it verified nothing there.
    #[error("rollup {rollup_id} has no locally verified head")]
    UnknownRollup { rollup_id: u64 },
    /// The statement is for another L1 deployment than the database was created for.
    #[error("domain {requested:?} differs from the database's domain {stored:?}")]
    WrongDomain { stored: Domain, requested: Domain },
}

impl Refusal {
    /// A stable, low-cardinality name for metrics and logs.
    pub const fn reason(&self) -> &'static str {
        match self {
            Self::Conflict { .. } => "conflict",
            Self::BelowWatermark { .. } => "below_watermark",
            Self::BeyondVerifiedHead { .. } => "beyond_verified_head",
            Self::NotVerified { .. } => "not_verified",
            Self::UnknownRollup { .. } => "unknown_rollup",
            Self::WrongDomain { .. } => "wrong_domain",
        }
    }
}

/// Why an interchange file was rejected before anything was written.
#[derive(Debug, thiserror::Error)]
pub enum InterchangeError {
    #[error("invalid interchange JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("unsupported interchange format version {found:?}, expected {expected:?}")]
    UnsupportedVersion {
        found: String,
        expected: &'static str,
    },
    #[error("invalid BLS public key {pubkey}: {reason}")]
    InvalidPublicKey {
        pubkey: alloy_primitives::FixedBytes<96>,
        reason: String,
    },
    #[error(
        "signing root {found} of rollup {rollup_id} height {block_number} does not match the \
         statement and domain (expected {expected})"
    )]
    SigningRootMismatch {
        rollup_id: u64,
        block_number: u64,
        found: B256,
        expected: B256,
    },
}

/// Errors of the slashing-protection database and the protected signer. Whatever the variant,
/// no signature was released.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The signing request was refused by the rules; the database is fine.
    #[error("refused to sign: {0}")]
    Refused(Refusal),
    /// Another process (or another handle in this one) holds the database.
    #[error(
        "slashing-protection database {} is locked by another process: one signer per database",
        path.display()
    )]
    Locked { path: PathBuf },
    #[error("no slashing-protection database at {}", path.display())]
    NotFound { path: PathBuf },
    /// The database was created for another L1 deployment.
    #[error("database was created for domain {stored:?}, not {requested:?}")]
    DomainMismatch { stored: Domain, requested: Domain },
    #[error("not a Surety slashing-protection database: {0}")]
    BadMetadata(String),
    /// An earlier storage failure left this handle in an unknown state; reopening the database
    /// recovers its last durable commit.
    #[error("an earlier storage failure poisoned this handle; reopen the database")]
    Poisoned,
    /// The storage failed; the statement may or may not be recorded, but nothing was signed.
    #[error("slashing-protection storage failed; nothing was signed")]
    Storage(#[from] redb::Error),
    /// The verified chain could not be read; nothing was signed.
    #[error("reading the verified chain failed; nothing was signed: {0}")]
    VerifiedChain(ChainError),
    #[error(transparent)]
    Interchange(#[from] InterchangeError),
}

// Not `#[from]`: the refusal is the message itself, not a cause to print twice in a chain.
impl From<Refusal> for Error {
    fn from(refusal: Refusal) -> Self {
        Self::Refused(refusal)
    }
}
