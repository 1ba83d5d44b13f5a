//! Verifying a run of consecutive blocks on two threads: block N+1 executes while block N's
//! state root is computed and committed. Execution reads the committed state with the blocks
//! still in flight layered on top ([`Layered`]); the committing thread settles blocks strictly in
//! order, exactly as [`ExecutionKind::verify`] does one at a time, and stops at the first verdict
//! that is not a match — whatever executed on top of that block is dropped unapplied.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex, MutexGuard, PoisonError, mpsc},
};

use super::{
    BlockInput, ExecutedBlock, ExecutionError, ExecutionKind, Verified, next_parent, settle,
};
use crate::state::{Layered, PendingBlock, StateStore, Verdict};

/// Executed blocks that may wait for the committing thread: enough to hide the jitter between
/// the two stages, few enough to keep the layered reads short.
const LOOKAHEAD: usize = 2;

/// Blocks executed and not yet committed, oldest first.
#[derive(Default)]
struct InFlight(Mutex<VecDeque<Arc<PendingBlock>>>);

impl InFlight {
    fn lock(&self) -> MutexGuard<'_, VecDeque<Arc<PendingBlock>>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl ExecutionKind {
    /// Verifies `blocks`, which must follow the store's head one after another, as
    /// [`verify`](Self::verify) would one by one, and returns their verdicts in order: every
    /// block up to and including the first that does not match (an invalid block, a state-root
    /// mismatch); the blocks after it are not applied and get no verdict.
    ///
    /// On an error (a storage failure) the blocks settled before it stay applied; the store's
    /// head tells how far it got.
    pub fn verify_chain(
        &self,
        store: &StateStore,
        blocks: &[BlockInput],
        block_rlp: impl Fn(&BlockInput) -> Vec<u8> + Sync,
    ) -> Result<Vec<Verified>, ExecutionError> {
        if let [block] = blocks {
            return Ok(vec![self.verify(store, block, || block_rlp(block))?]);
        }
        let (head_hash, head) = next_parent(store)?;
        let (mut parent_hash, mut parent) = (head_hash, &head);
        let first = head.number + 1;
        let in_flight = InFlight::default();
        std::thread::scope(|scope| {
            let (jobs, queue) = mpsc::sync_channel::<(&BlockInput, _)>(LOOKAHEAD);
            let committer = std::thread::Builder::new()
                .name("state-commit".into())
                .spawn_scoped(scope, || {
                    let mut verdicts = Vec::new();
                    for (block, executed) in queue {
                        let verified = settle(store, block, executed, || block_rlp(block))?;
                        in_flight.lock().pop_front();
                        let matched = matches!(verified.verdict, Verdict::Match(_));
                        verdicts.push(verified);
                        if !matched {
                            break;
                        }
                    }
                    Ok::<_, ExecutionError>(verdicts)
                })
                .map_err(|e| ExecutionError::Internal {
                    number: first,
                    message: format!("starting the commit thread: {e}"),
                })?;
            let mut failed = None;
            for block in blocks {
                let executed = self
                    .check_parent(parent_hash, parent, block)
                    .and_then(|()| {
                        // The in-flight list before the snapshot: see `Layered`.
                        let pending = in_flight.lock().iter().cloned().collect();
                        self.execute(Layered::new(store.reader()?, pending), block)
                    });
                let stop = match &executed {
                    Ok(ExecutedBlock { changes, .. }) => {
                        let pending = PendingBlock::new(block.header.number, block.hash, changes);
                        in_flight.lock().push_back(Arc::new(pending));
                        false
                    }
                    Err(ExecutionError::Invalid { .. }) => true,
                    Err(_) => {
                        failed = executed.err();
                        break;
                    }
                };
                // A closed queue: the committer stopped at a verdict that is not a match.
                if jobs.send((block, executed)).is_err() || stop {
                    break;
                }
                (parent_hash, parent) = (block.hash, &block.header);
            }
            drop(jobs);
            let verdicts = committer.join().map_err(|_| ExecutionError::Internal {
                number: first,
                message: "the commit thread panicked".into(),
            })??;
            match failed {
                Some(error) => Err(error),
                None => Ok(verdicts),
            }
        })
    }
}
