//! The L2 follower: fetches blocks over JSON-RPC, checks them, re-executes them on the local
//! state and records a verdict per block. Reorgs (a parent-hash mismatch) roll the state back to
//! the fork point; a state-root mismatch stops the follower for good.

use alloy::{
    eips::BlockNumberOrTag,
    providers::{Provider, RootProvider},
    rpc::types::Block,
    transports::{RpcError, TransportErrorKind},
};
use alloy_consensus::{
    EMPTY_OMMER_ROOT_HASH, TxEnvelope,
    proofs::{calculate_transaction_root, calculate_withdrawals_root},
    transaction::{Recovered, SignerRecoverable},
};
use alloy_primitives::B256;
use alloy_rlp::Encodable;
use std::{
    sync::{Arc, atomic::Ordering},
    time::{Duration, Instant},
};
use tracing::{error, info, warn};

use crate::{
    execution::{BlockInput, ExecutionError, ExecutionKind, Verified},
    genesis::GenesisFile,
    metrics::{Metrics, unix_now},
    state::{StateError, StateStore, StoredHeader, Verdict},
};

/// Why a block from the endpoint was rejected before execution.
#[derive(Debug, thiserror::Error)]
pub enum BlockCheckError {
    #[error("block {number}: header hashes to {computed}, endpoint says {claimed}")]
    HeaderHash {
        number: u64,
        claimed: B256,
        computed: B256,
    },
    #[error("block {number}: transactions hash to root {computed}, header says {claimed}")]
    TransactionsRoot {
        number: u64,
        claimed: B256,
        computed: B256,
    },
    #[error("block {number}: withdrawals do not match the header's withdrawals root")]
    WithdrawalsRoot { number: u64 },
    #[error("block {number}: ommers are not supported")]
    Ommers { number: u64 },
    #[error("block {number}: endpoint returned transaction hashes, not full transactions")]
    NotFull { number: u64 },
    #[error("block {number}: transaction {index} has an invalid signature: {reason}")]
    Signature {
        number: u64,
        index: usize,
        reason: String,
    },
    #[error("endpoint returned block {got} when asked for {asked}")]
    WrongNumber { asked: u64, got: u64 },
}

/// Errors that stop the follower.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    #[error("L2 RPC: {0}")]
    Rpc(#[from] RpcError<TransportErrorKind>),
    #[error("L2 endpoint has no block {0}")]
    MissingBlock(u64),
    #[error(transparent)]
    Check(#[from] BlockCheckError),
    #[error(transparent)]
    Execution(#[from] ExecutionError),
    #[error(transparent)]
    State(#[from] StateError),
    #[error("reorg deeper than the local chain (fork below block {0})")]
    ReorgTooDeep(u64),
    #[error("invalid L2 RPC URL {0}")]
    Url(String),
    #[error("execution worker failed: {0}")]
    Worker(String),
    #[error("local genesis hash {local} differs from the endpoint's {remote}")]
    GenesisMismatch { local: B256, remote: B256 },
}

/// Blocks fetched and verified as one run while catching up: execution of one overlaps the
/// commit of the one before ([`ExecutionKind::verify_chain`]).
const RUN: u64 = 32;

/// Follower settings.
#[derive(Debug, Clone)]
pub struct FollowerConfig {
    /// Blocks to stay behind the endpoint's head (reorg safety).
    pub confirmations: u64,
    /// Pause between polls when caught up.
    pub poll_interval: Duration,
    /// Stop after verifying this block.
    pub until: Option<u64>,
    /// How often to log progress.
    pub progress_interval: Duration,
}

impl Default for FollowerConfig {
    fn default() -> Self {
        Self {
            confirmations: 0,
            poll_interval: Duration::from_millis(500),
            until: None,
            progress_interval: Duration::from_secs(5),
        }
    }
}

/// How a follower run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every block up to `until` matched.
    Reached { head: u64 },
    /// Block `number` claims a root re-execution does not produce; nothing after it is verified.
    Mismatch {
        number: u64,
        hash: B256,
        parent_hash: B256,
        claimed: B256,
        computed: B256,
    },
    /// Block `number` breaks a validity rule; nothing after it is verified.
    Invalid {
        number: u64,
        hash: B256,
        reason: String,
    },
}

/// Totals of a follower run.
#[derive(Debug, Clone, Default)]
pub struct RunStats {
    pub blocks: u64,
    pub gas: u64,
    pub elapsed: Duration,
}

/// Follows one rollup over JSON-RPC and verifies every block.
#[derive(Debug)]
pub struct Follower {
    provider: RootProvider,
    store: Arc<StateStore>,
    kind: ExecutionKind,
    metrics: Arc<Metrics>,
    config: FollowerConfig,
}

impl Follower {
    pub fn new(
        provider: RootProvider,
        store: Arc<StateStore>,
        kind: ExecutionKind,
        metrics: Arc<Metrics>,
        config: FollowerConfig,
    ) -> Self {
        Self {
            provider,
            store,
            kind,
            metrics,
            config,
        }
    }

    /// Writes the genesis state unless the store already has it; checks the endpoint's block 0
    /// is the genesis the store was built for.
    pub async fn bootstrap(&self, genesis: &GenesisFile) -> Result<(), FollowError> {
        let block = self.fetch(0).await?.ok_or(FollowError::MissingBlock(0))?;
        let block0 = checked_input(block)?;
        if let Some(local) = self.store.header(0)? {
            if local.hash != block0.hash {
                return Err(FollowError::GenesisMismatch {
                    local: local.hash,
                    remote: block0.hash,
                });
            }
            return Ok(());
        }
        let history = self.kind.has_history_contract();
        let root = self
            .store
            .bootstrap(&block0.header, genesis.state(history))?;
        info!(%root, hash = %block0.hash, claimed = %block0.header.state_root, "bootstrapped genesis state");
        Ok(())
    }

    async fn fetch(&self, number: u64) -> Result<Option<Block>, FollowError> {
        Ok(self
            .provider
            .get_block_by_number(BlockNumberOrTag::Number(number))
            .full()
            .await?)
    }

    /// Follows the chain until `until` is verified (forever without it) or a mismatch.
    pub async fn run(&self) -> Result<(Outcome, RunStats), FollowError> {
        let started = Instant::now();
        let mut stats = RunStats::default();
        let mut last_report = (Instant::now(), 0u64, 0u64);
        loop {
            let head = self.store.head().ok_or(StateError::NotBootstrapped)?;
            self.metrics.set_verified_head(head.number);
            if let Some(until) = self.config.until.filter(|&until| head.number >= until) {
                self.flush().await?;
                stats.elapsed = started.elapsed();
                return Ok((
                    Outcome::Reached {
                        head: head.number.min(until),
                    },
                    stats,
                ));
            }
            let chain_head = self.provider.get_block_number().await?;
            self.metrics.chain_head.store(chain_head, Ordering::Relaxed);
            self.metrics
                .l2_response_at
                .store(unix_now(), Ordering::Relaxed);
            if last_report.0.elapsed() >= self.config.progress_interval {
                let secs = last_report.0.elapsed().as_secs_f64();
                info!(
                    height = head.number,
                    blocks_per_s = format!("{:.1}", (stats.blocks - last_report.1) as f64 / secs),
                    mgas_per_s = format!("{:.1}", (stats.gas - last_report.2) as f64 / secs / 1e6),
                    lag = chain_head.saturating_sub(head.number),
                    "verifying"
                );
                last_report = (Instant::now(), stats.blocks, stats.gas);
            }
            let target = chain_head
                .saturating_sub(self.config.confirmations)
                .min(self.config.until.unwrap_or(u64::MAX));
            if head.number >= target {
                // Caught up: the head itself may have been replaced at the same height.
                if self.head_replaced(&head).await? {
                    self.handle_reorg(head.number).await?;
                    continue;
                }
                // Caught up: announce what was verified before waiting for more.
                self.flush().await?;
                tokio::time::sleep(self.config.poll_interval).await;
                continue;
            }
            let blocks = self.fetch_run(head.number, target).await?;
            let Some(first) = blocks.first() else {
                // The endpoint's head moved back under us (a reorg in progress); poll again.
                tokio::time::sleep(self.config.poll_interval).await;
                continue;
            };
            if first.header.parent_hash != head.hash {
                self.handle_reorg(head.number).await?;
                continue;
            }
            let (blocks, verdicts) = self.verify_off_runtime(blocks).await?;
            for (input, verified) in blocks.iter().zip(verdicts) {
                let (number, hash) = (input.header.number, input.hash);
                match verified.verdict {
                    Verdict::Match(_) => {
                        stats.blocks += 1;
                        stats.gas += verified.gas_used;
                        self.metrics.blocks_verified.fetch_add(1, Ordering::Relaxed);
                        self.metrics
                            .gas_verified
                            .fetch_add(verified.gas_used, Ordering::Relaxed);
                        self.metrics.set_verified_head(number);
                    }
                    Verdict::Mismatch { claimed, computed } => {
                        self.metrics
                            .state_root_mismatches
                            .fetch_add(1, Ordering::Relaxed);
                        error!(
                            block = number, %hash, %claimed, %computed,
                            "STATE ROOT MISMATCH: the endpoint claims a root re-execution does \
                             not produce; refusing to verify this block or any after it"
                        );
                        stats.elapsed = started.elapsed();
                        return Ok((
                            Outcome::Mismatch {
                                number,
                                hash,
                                parent_hash: input.header.parent_hash,
                                claimed,
                                computed,
                            },
                            stats,
                        ));
                    }
                    Verdict::Invalid { reason } => {
                        error!(
                            block = number, %hash, %reason,
                            "INVALID BLOCK: refusing to verify this block or any after it"
                        );
                        stats.elapsed = started.elapsed();
                        return Ok((
                            Outcome::Invalid {
                                number,
                                hash,
                                reason,
                            },
                            stats,
                        ));
                    }
                }
            }
        }
    }

    /// Fetches and checks the blocks after `head` up to `target`, at most [`RUN`] of them: as
    /// many as the endpoint serves that link one to the next (a reorg under way cuts the run
    /// short; the next round handles it).
    async fn fetch_run(&self, head: u64, target: u64) -> Result<Vec<BlockInput>, FollowError> {
        let mut blocks: Vec<BlockInput> = Vec::new();
        for number in head + 1..=target.min(head + RUN) {
            let Some(block) = self.fetch(number).await? else {
                break;
            };
            if block.header.number != number {
                return Err(BlockCheckError::WrongNumber {
                    asked: number,
                    got: block.header.number,
                }
                .into());
            }
            let input = checked_input(block)?;
            if blocks
                .last()
                .is_some_and(|last| input.header.parent_hash != last.hash)
            {
                break;
            }
            blocks.push(input);
        }
        Ok(blocks)
    }

    /// Verifies a run of blocks against the local state and applies them, on blocking threads:
    /// EVM execution and the commits must not stall the async runtime. Returns the blocks with
    /// their verdicts (see [`ExecutionKind::verify_chain`]).
    async fn verify_off_runtime(
        &self,
        blocks: Vec<BlockInput>,
    ) -> Result<(Vec<BlockInput>, Vec<Verified>), FollowError> {
        let (store, kind) = (self.store.clone(), self.kind.clone());
        tokio::task::spawn_blocking(move || {
            let verdicts = kind.verify_chain(&store, &blocks, block_rlp)?;
            Ok((blocks, verdicts))
        })
        .await
        .map_err(|e| FollowError::Worker(e.to_string()))?
    }

    /// Syncs the blocks verified since the last synced one (an fsync, on a blocking thread).
    async fn flush(&self) -> Result<(), FollowError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || store.flush())
            .await
            .map_err(|e| FollowError::Worker(e.to_string()))??;
        Ok(())
    }

    /// Whether the endpoint's block at the local head's height is no longer the local head.
    async fn head_replaced(&self, head: &StoredHeader) -> Result<bool, FollowError> {
        if head.number == 0 {
            return Ok(false);
        }
        let remote = self
            .provider
            .get_block_by_number(BlockNumberOrTag::Number(head.number))
            .await?;
        // A missing block is a reorg to a shorter chain: also not our head any more.
        Ok(remote.is_none_or(|block| block.header.hash != head.hash))
    }

    /// Walks back from `local_head` to the last block both chains share and rolls back to it.
    async fn handle_reorg(&self, local_head: u64) -> Result<(), FollowError> {
        let mut number = local_head;
        loop {
            let local = self
                .store
                .header(number)?
                .ok_or(FollowError::ReorgTooDeep(number))?;
            // A height the endpoint no longer has is past the fork too (a shorter chain).
            if let Some(remote) = self.fetch(number).await?
                && checked_input(remote)?.hash == local.hash
            {
                break;
            }
            number = number.checked_sub(1).ok_or(FollowError::ReorgTooDeep(0))?;
        }
        warn!(
            from = local_head,
            to = number,
            "reorg: rolling local state back to the fork point"
        );
        self.store.rollback_to(number)?;
        self.metrics.reorgs.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// A JSON-RPC provider for `url` (HTTP).
pub fn connect_http(url: &str) -> Result<RootProvider, FollowError> {
    let parsed = url.parse().map_err(|_| FollowError::Url(url.to_owned()))?;
    Ok(RootProvider::new_http(parsed))
}

/// Checks a block from the endpoint against its own commitments and recovers its senders.
pub fn checked_input(block: Block) -> Result<BlockInput, BlockCheckError> {
    let number = block.header.number;
    let header = block.header.inner;
    let computed = header.hash_slow();
    if computed != block.header.hash {
        return Err(BlockCheckError::HeaderHash {
            number,
            claimed: block.header.hash,
            computed,
        });
    }
    if header.ommers_hash != EMPTY_OMMER_ROOT_HASH || !block.uncles.is_empty() {
        return Err(BlockCheckError::Ommers { number });
    }
    let transactions = block.transactions.into_transactions_vec();
    let envelopes: Vec<TxEnvelope> = transactions
        .into_iter()
        .map(|tx| tx.inner.into_inner())
        .collect();
    let root = calculate_transaction_root(&envelopes);
    if root != header.transactions_root {
        return Err(BlockCheckError::TransactionsRoot {
            number,
            claimed: header.transactions_root,
            computed: root,
        });
    }
    match (&block.withdrawals, header.withdrawals_root) {
        (Some(w), Some(root)) if calculate_withdrawals_root(w) == root => {}
        (None, None) => {}
        _ => return Err(BlockCheckError::WithdrawalsRoot { number }),
    }
    let transactions = envelopes
        .into_iter()
        .enumerate()
        .map(|(index, tx)| {
            // Senders come from the signatures, never from the endpoint's `from` field.
            let signer = tx
                .recover_signer()
                .map_err(|e| BlockCheckError::Signature {
                    number,
                    index,
                    reason: e.to_string(),
                })?;
            Ok(Recovered::new_unchecked(tx, signer))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(BlockInput {
        hash: computed,
        header,
        transactions,
        withdrawals: block.withdrawals,
    })
}

fn block_rlp(input: &BlockInput) -> Vec<u8> {
    let block = alloy_consensus::Block {
        header: input.header.clone(),
        body: alloy_consensus::BlockBody {
            transactions: input
                .transactions
                .iter()
                .map(|tx| tx.inner().clone())
                .collect::<Vec<TxEnvelope>>(),
            ommers: Vec::new(),
            withdrawals: input.withdrawals.clone(),
        },
    };
    let mut out = Vec::new();
    block.encode(&mut out);
    out
}
