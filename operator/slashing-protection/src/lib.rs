//! Slashing protection: the only path from a statement to a released signature.
//!
//! A crate of its own (as in Lighthouse) so that the history's export and import tools do not
//! link the EVM.
//!
//! A key that signs two different statements for one `(rollupId, blockNumber)` is slashed. The
//! [`ProtectedSigner`] therefore records every statement durably in a redb
//! [`SlashingDatabase`] (one `fsync`ed, two-phase commit) *before* the signature leaves the
//! process, and refuses anything that conflicts with that history, goes beyond the locally
//! verified head or names a block or root other than the one this node verified there
//! ([`VerifiedHeads`]), or belongs to another L1 domain. Rules, table layout, interchange format and
//! the crash-safety argument: `docs/slashing-protection.md`.

use std::path::{Path, PathBuf};

mod database;
mod error;
mod heads;
mod interchange;
mod metrics;
mod signer;

pub use database::{ImportSummary, PublicKeyBytes, Recorded, SignedRecord, SlashingDatabase};
pub use error::{Error, InterchangeError, Refusal};
pub use heads::{ChainError, VerifiedBlock, VerifiedChain, VerifiedHeads};
pub use interchange::{
    INTERCHANGE_FORMAT_VERSION, Interchange, KeyHistory, Metadata, RollupHistory, SignedStatement,
};
pub use metrics::{SignerMetrics, SignerMetricsSnapshot};
pub use signer::ProtectedSigner;

/// The database file inside an operator's data directory.
pub const DATABASE_FILE: &str = "slashing_protection.redb";

/// Where the node and the CLI keep the slashing-protection database of `datadir`.
pub fn database_path(datadir: &Path) -> PathBuf {
    datadir.join(DATABASE_FILE)
}
