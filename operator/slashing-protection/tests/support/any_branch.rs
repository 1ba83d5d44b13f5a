//! A fake verified chain for tests of the signing history's rules.
//!
//! [`AnyBranch`] has, at every height of every rollup, verified exactly the block the calling
//! thread is asking to sign — the chain as it looks after any number of reorgs. The content
//! guard therefore passes and every request reaches the database, whose rules must hold whatever
//! the verified chain says — including a batch holding two blocks of one height. Call
//! [`requesting`] with the statements before signing them: the signer looks each statement's
//! chain up once, in order, and is shown that statement's block.

use std::{cell::RefCell, collections::VecDeque};

use surety_primitives::Statement;
use surety_slashing_protection::{ChainError, VerifiedBlock, VerifiedChain, VerifiedHeads};

thread_local! {
    static REQUESTED: RefCell<VecDeque<Statement>> = const { RefCell::new(VecDeque::new()) };
    static CURRENT: RefCell<Option<Statement>> = const { RefCell::new(None) };
}

/// Declares what the calling thread is about to sign.
pub(crate) fn requesting(statements: &[Statement]) {
    REQUESTED.with(|r| *r.borrow_mut() = statements.iter().copied().collect());
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
        let next = REQUESTED.with(|r| r.borrow_mut().pop_front());
        CURRENT.with(|c| *c.borrow_mut() = next.filter(|s| s.rollup_id == rollup_id));
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
        Ok(CURRENT.with(|c| {
            c.borrow()
                .filter(|s| s.block_number == number)
                .map(|s| VerifiedBlock {
                    number,
                    hash: s.block_hash,
                    parent_hash: s.parent_hash,
                    state_root: s.state_root,
                })
        }))
    }
}
