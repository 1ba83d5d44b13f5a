//! A fake verified chain for tests of the signing history's rules.
//!
//! [`AnyBranch`] has, at every height of every rollup, verified exactly the block the calling
//! thread is asking to sign — the chain as it looks after any number of reorgs. The content
//! guard therefore passes and every request reaches the database, whose rules must hold whatever
//! the verified chain says. Call [`requesting`] with the statements before signing them.

use std::cell::{Cell, RefCell};

use surety_primitives::Statement;
use surety_slashing_protection::{ChainError, VerifiedBlock, VerifiedChain, VerifiedHeads};

thread_local! {
    static REQUESTED: RefCell<Vec<Statement>> = const { RefCell::new(Vec::new()) };
    static ROLLUP: Cell<u64> = const { Cell::new(0) };
}

/// Declares what the calling thread is about to sign.
pub(crate) fn requesting(statements: &[Statement]) {
    REQUESTED.with(|r| *r.borrow_mut() = statements.to_vec());
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct AnyBranch {
    /// The verified head of every rollup.
    pub(crate) head: u64,
}

/// Verified at every height.
pub(crate) const UNBOUNDED: AnyBranch = AnyBranch { head: u64::MAX };

impl VerifiedHeads for AnyBranch {
    fn chain(&self, rollup_id: u64) -> Option<&dyn VerifiedChain> {
        ROLLUP.with(|r| r.set(rollup_id));
        Some(self)
    }
}

impl VerifiedChain for AnyBranch {
    fn verified_head(&self) -> Option<u64> {
        Some(self.head)
    }

    fn verified_block(&self, number: u64) -> Result<Option<VerifiedBlock>, ChainError> {
        if number > self.head {
            return Ok(None);
        }
        let rollup_id = ROLLUP.with(Cell::get);
        Ok(REQUESTED.with(|r| {
            r.borrow()
                .iter()
                .find(|s| s.rollup_id == rollup_id && s.block_number == number)
                .map(|s| VerifiedBlock {
                    number,
                    hash: s.block_hash,
                    parent_hash: s.parent_hash,
                    state_root: s.state_root,
                })
        }))
    }
}
