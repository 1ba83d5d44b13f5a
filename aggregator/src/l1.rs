//! What the aggregator knows about L1, refreshed by polling: the operator set (from registry
//! events), and each registered rollup's threshold, pause flag and certified head.
//!
//! A [`L1View`] describes the end of one block, one behind the chain's latest, so that a
//! certificate naming it as reference block is strictly in the past wherever it is estimated or
//! mined.

use std::collections::{BTreeMap, HashMap};

use alloy::{
    eips::BlockId,
    primitives::B256,
    providers::{DynProvider, Provider},
    rpc::types::{Filter, Log},
    sol_types::SolEvent,
};
use surety_contracts::bindings::{CertificateVerifier, OperatorRegistry};
use surety_primitives::PublicKey;

use crate::{AggregatorError, config::Contracts, operators::OperatorSet};

/// Blocks per `eth_getLogs` request while catching up.
const LOG_CHUNK: u64 = 5_000;

/// A registered rollup as the verifier stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rollup {
    pub threshold_bps: u16,
    pub paused: bool,
    /// Latest certified height (0: only the registered genesis).
    pub head: u64,
    /// Hash of the block at `head`, which a certificate on `head + 1` must name as parent;
    /// `None` when unknown (the head was rolled back after a fault), so any parent is accepted.
    pub head_hash: Option<B256>,
}

/// L1 at the end of block [`OperatorSet::block`].
#[derive(Debug, Clone, Default)]
pub struct L1View {
    pub operators: OperatorSet,
    pub rollups: BTreeMap<u64, Rollup>,
}

impl L1View {
    pub fn block(&self) -> u64 {
        self.operators.block()
    }
}

/// Polls L1 and builds successive [`L1View`]s.
pub(crate) struct Follower {
    provider: DynProvider,
    contracts: Contracts,
    next_log_block: u64,
    operators: OperatorSet,
    /// Latest `CertificateSubmitted` seen per rollup: (height, block hash).
    certified: HashMap<u64, (u64, B256)>,
}

impl Follower {
    pub(crate) fn new(provider: DynProvider, contracts: Contracts, from_block: u64) -> Self {
        Self {
            provider,
            contracts,
            next_log_block: from_block,
            operators: OperatorSet::default(),
            certified: HashMap::new(),
        }
    }

    /// The view at `latest − 1`, or `None` if that block was already seen.
    pub(crate) async fn poll(&mut self) -> Result<Option<L1View>, AggregatorError> {
        let latest = self.provider.get_block_number().await?;
        let Some(block) = latest.checked_sub(1) else {
            return Ok(None);
        };
        if block < self.next_log_block {
            return Ok(None);
        }
        let mut from = self.next_log_block;
        while from <= block {
            let to = block.min(from + LOG_CHUNK - 1);
            let filter = Filter::new()
                .address(vec![
                    self.contracts.operator_registry,
                    self.contracts.certificate_verifier,
                ])
                .from_block(from)
                .to_block(to);
            for log in self.provider.get_logs(&filter).await? {
                self.apply(&log);
            }
            from = to + 1;
        }
        self.next_log_block = block + 1;
        self.operators.set_block(block);

        let at = BlockId::number(block);
        let verifier =
            CertificateVerifier::new(self.contracts.certificate_verifier, &self.provider);
        let count = verifier.rollupCount().block(at).call().await?;
        let mut rollups = BTreeMap::new();
        for id in 1..=count {
            let rollup = verifier.getRollup(id).block(at).call().await?;
            let head = verifier.latestCertifiedBlock(id).block(at).call().await?;
            let head_hash = match (head, self.certified.get(&id)) {
                (0, _) => Some(rollup.genesisBlockHash),
                (h, Some(&(height, hash))) if h == height => Some(hash),
                _ => None,
            };
            rollups.insert(
                id,
                Rollup {
                    threshold_bps: rollup.thresholdBps,
                    paused: rollup.paused,
                    head,
                    head_hash,
                },
            );
        }
        Ok(Some(L1View {
            operators: self.operators.clone(),
            rollups,
        }))
    }

    fn apply(&mut self, log: &Log) {
        let Some(&topic) = log.topic0() else { return };
        if log.address() == self.contracts.operator_registry {
            if topic == OperatorRegistry::KeyRegistered::SIGNATURE_HASH {
                if let Ok(e) = log.log_decode::<OperatorRegistry::KeyRegistered>() {
                    let e = e.inner.data;
                    match PublicKey::from_eip2537(&e.publicKey) {
                        Ok(key) => self.operators.register_key(e.operator, key),
                        // The registry checks keys; this would be a registry bug.
                        Err(error) => {
                            tracing::warn!(%error, operator = %e.operator, "undecodable registered key")
                        }
                    }
                }
            } else if topic == OperatorRegistry::StakeUpdated::SIGNATURE_HASH
                && let Ok(e) = log.log_decode::<OperatorRegistry::StakeUpdated>()
            {
                let e = e.inner.data;
                self.operators.update_stake(e.keyHash, e.active, e.stake);
            }
        } else if topic == CertificateVerifier::CertificateSubmitted::SIGNATURE_HASH
            && let Ok(e) = log.log_decode::<CertificateVerifier::CertificateSubmitted>()
        {
            let e = e.inner.data;
            let entry = self.certified.entry(e.rollupId).or_insert((0, B256::ZERO));
            if e.blockNumber >= entry.0 {
                *entry = (e.blockNumber, e.blockHash);
            }
        }
    }
}
