//! What this node verified: per rollup, the chain of blocks it re-executed itself and whose state
//! roots matched. The signer signs a statement only if it names exactly such a block.

use std::{collections::HashMap, sync::Arc};

use alloy_primitives::B256;
use surety_primitives::Statement;

/// An error of the store behind a [`VerifiedChain`].
pub type ChainError = Box<dyn std::error::Error + Send + Sync>;

/// A block this node re-executed itself, with the state root it computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifiedBlock {
    pub number: u64,
    pub hash: B256,
    pub parent_hash: B256,
    pub state_root: B256,
}

impl VerifiedBlock {
    /// Whether `statement` claims exactly this block and root (the rollup is the caller's).
    pub fn matches(&self, statement: &Statement) -> bool {
        statement.block_number == self.number
            && statement.block_hash == self.hash
            && statement.parent_hash == self.parent_hash
            && statement.state_root == self.state_root
    }
}

/// One rollup's verified chain, as the re-execution engine's state store records it.
pub trait VerifiedChain: Send + Sync {
    /// The highest verified block number, or `None` before genesis is bootstrapped.
    fn verified_head(&self) -> Option<u64>;

    /// The verified block at `number`, or `None` if that height is not (or no longer) verified
    /// on the current chain.
    fn verified_block(&self, number: u64) -> Result<Option<VerifiedBlock>, ChainError>;
}

impl<C: VerifiedChain + ?Sized> VerifiedChain for Arc<C> {
    fn verified_head(&self) -> Option<u64> {
        (**self).verified_head()
    }

    fn verified_block(&self, number: u64) -> Result<Option<VerifiedBlock>, ChainError> {
        (**self).verified_block(number)
    }
}

/// The verified chains of every rollup a node follows.
pub trait VerifiedHeads: Send + Sync {
    /// The verified chain of `rollup_id`, or `None` if the node does not follow it.
    fn chain(&self, rollup_id: u64) -> Option<&dyn VerifiedChain>;
}

impl<C: VerifiedChain> VerifiedHeads for HashMap<u64, C> {
    fn chain(&self, rollup_id: u64) -> Option<&dyn VerifiedChain> {
        self.get(&rollup_id)
            .map(|chain| chain as &dyn VerifiedChain)
    }
}
