//! What the status page shows, gathered by the [`Observer`]: the aggregator's own state (the L1
//! view, its pool of attestations, its store), the L1 contracts (certified heads, alerts,
//! certificates, punishments, the compensation pool, read with the `surety-contracts` bindings)
//! and each configured rollup's own RPC (its head, for the lag). One snapshot is taken per
//! [`REFRESH`] while anyone follows `/events`, serialised once and shared by every client.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use alloy::{
    eips::{BlockId, BlockNumberOrTag},
    primitives::{Address, B256, TxHash, U256},
    providers::{DynProvider, Provider, RootProvider},
    rpc::types::{Filter, Log},
    sol_types::SolEvent,
};
use serde::Serialize;
use surety_contracts::bindings::{
    CertificateVerifier, CompensationPool, RollupStatus, Slasher, SuretyRegistrar,
};
use tokio::sync::watch;

use crate::{
    AggregatorError, Shared,
    config::{Contracts, RollupConfig},
    double_sign::EvidenceState,
};

/// How often a snapshot is taken while the page is open somewhere.
const REFRESH: Duration = Duration::from_millis(500);
/// Participation is counted over this many of a rollup's newest attested heights.
const PARTICIPATION_HEIGHTS: usize = 32;
/// Blocks per `eth_getLogs` request while catching up.
const LOG_CHUNK: u64 = 5_000;

/// Where snapshots appear: the newest one's JSON, serialised once for every client.
pub(crate) type Snapshots = Arc<watch::Sender<Arc<str>>>;

/// Each of a rollup's newest attested heights with the key hashes that signed there.
type Signers = Vec<(u64, Vec<B256>)>;

/// Everything the page renders, as JSON. Amounts are decimal wei strings.
#[derive(Debug, Serialize)]
struct Snapshot {
    /// The L1 block every L1 figure below was read at.
    l1_block: u64,
    /// Unix seconds when the snapshot was taken.
    taken_at: u64,
    participation_heights: usize,
    active_stake: String,
    rollups: Vec<RollupView>,
    operators: Vec<OperatorView>,
    pool: PoolView,
    /// What could not be read this time (e.g. a rollup's RPC is down); the rest is current.
    problems: Vec<String>,
}

#[derive(Debug, Serialize)]
struct RollupView {
    id: u64,
    /// `active`, `paused` or `halted` (a circuit-breaker alert stands).
    status: &'static str,
    threshold_bps: u16,
    /// Latest block of the rollup's own RPC (`None` without a configured `rpc`).
    l2_head: Option<u64>,
    /// The newest height with quorum that links to the certified head, or, when there is none,
    /// the highest height attested to this aggregator: [`Self::verified`] says which.
    verified_head: u64,
    /// `quorum` or `attested`.
    verified: &'static str,
    /// `latestCertifiedBlock` at [`Snapshot::l1_block`].
    certified_head: u64,
    lag_blocks: Option<u64>,
    /// L2 time between the certified block and the L2 head.
    lag_secs: Option<u64>,
    best_signed_bps: u32,
    /// The aggregator's one-line account (idle, below threshold, certifying, last failure).
    state: String,
    last_certificate: Option<CertificateView>,
    alert: Option<AlertView>,
    mismatch_reports: u64,
}

#[derive(Debug, Clone, Serialize)]
struct CertificateView {
    height: u64,
    l1_block: u64,
    tx: TxHash,
    /// Gas the transaction used (`None` until its receipt was read).
    gas: Option<u64>,
    signed_stake: String,
    total_stake: String,
    signed_bps: u32,
}

#[derive(Debug, Serialize)]
struct AlertView {
    height: u64,
    raised_at: u64,
    signed_stake: String,
}

#[derive(Debug, Serialize)]
struct OperatorView {
    address: Address,
    key_hash: B256,
    active: bool,
    stake: String,
    stake_bps: u32,
    participation: Vec<Participation>,
    last_attestation: Option<Attested>,
    notes: Vec<Note>,
}

#[derive(Debug, Serialize)]
struct Participation {
    rollup: u64,
    signed: usize,
    heights: usize,
}

#[derive(Debug, Serialize)]
struct Attested {
    rollup: u64,
    height: u64,
}

/// An alert (mismatch reports), a fault (double signing, a wrong root) or a slashing.
#[derive(Debug, Clone, Serialize)]
struct Note {
    kind: &'static str,
    text: String,
}

#[derive(Debug, Default, Serialize)]
struct PoolView {
    address: Address,
    balance: String,
    collateral: String,
    free_balance: String,
    covers: usize,
    /// Cover on certificates not proven faulty.
    open_cover: String,
    /// Covers on faulty certificates: every one is a claim.
    claims: usize,
    claimed: String,
    paid: String,
}

/// What the L1 logs have said so far (read incrementally).
#[derive(Debug, Default)]
struct Logs {
    next_block: u64,
    last_certificate: BTreeMap<u64, CertificateView>,
    /// Cover id order: (certificate id, amount).
    covers: Vec<(B256, U256)>,
    faults: HashSet<B256>,
    paid: U256,
    /// L1 punishments per operator.
    notes: HashMap<Address, Vec<Note>>,
}

/// Takes the page's snapshots and publishes them on a watch channel.
pub(crate) struct Observer {
    shared: Arc<Shared>,
    l1: DynProvider,
    contracts: Contracts,
    rollups: BTreeMap<u64, DynProvider>,
    /// The pool and the registrar, read from the Slasher at the first snapshot.
    pool: Option<(Address, Address)>,
    logs: Logs,
    /// Timestamps of L2 blocks already read (the certified heads), per rollup and height.
    l2_times: HashMap<(u64, u64), u64>,
    page: Snapshots,
}

impl Observer {
    /// The observer and the channel its snapshots appear on.
    pub(crate) fn new(
        shared: Arc<Shared>,
        l1: DynProvider,
        contracts: Contracts,
        from_block: u64,
        rollups: &[RollupConfig],
    ) -> Result<(Self, Snapshots), AggregatorError> {
        let rollups = rollups
            .iter()
            .map(|r| {
                let url = r
                    .rpc
                    .parse()
                    .map_err(|_| AggregatorError::Url(r.rpc.clone()))?;
                Ok((r.id, RootProvider::new_http(url).erased()))
            })
            .collect::<Result<_, AggregatorError>>()?;
        let page = Arc::new(watch::Sender::new(Arc::from("null")));
        let observer = Self {
            shared,
            l1,
            contracts,
            rollups,
            pool: None,
            logs: Logs {
                next_block: from_block,
                ..Logs::default()
            },
            l2_times: HashMap::new(),
            page: page.clone(),
        };
        Ok((observer, page))
    }

    /// Takes a snapshot every [`REFRESH`] while some client follows the page (and once at start).
    pub(crate) async fn run(mut self) {
        let mut tick = tokio::time::interval(REFRESH);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut first = true;
        loop {
            tick.tick().await;
            if !first && self.page.receiver_count() == 0 {
                continue;
            }
            match self.snapshot().await {
                Ok(snapshot) => match serde_json::to_string(&snapshot) {
                    Ok(json) => {
                        first = false;
                        self.page.send_replace(Arc::from(json));
                    }
                    Err(error) => tracing::warn!(%error, "serialising the status page failed"),
                },
                Err(error) => tracing::debug!(%error, "status page: reading L1 failed; retrying"),
            }
        }
    }

    async fn snapshot(&mut self) -> Result<Snapshot, alloy::contract::Error> {
        let l1_block = self.l1.get_block_number().await?;
        let at = BlockId::number(l1_block);
        let (pool_address, registrar) = match self.pool {
            Some(addresses) => addresses,
            None => {
                let slasher = Slasher::new(self.contracts.slasher, &self.l1);
                let addresses = (
                    slasher.pool().call().await?,
                    slasher.registrar().call().await?,
                );
                *self.pool.get_or_insert(addresses)
            }
        };
        self.read_logs(l1_block, pool_address, registrar).await?;
        let mut problems = Vec::new();

        let status = self.shared.status();
        let view = self.shared.view();
        let verifier =
            CertificateVerifier::new(self.contracts.certificate_verifier, self.l1.clone());
        let mut rollups = Vec::new();
        for r in &status.rollups {
            let certified_head = verifier.latestCertifiedBlock(r.id).block(at).call().await?;
            let on_chain = verifier.rollupStatus(r.id).block(at).call().await?;
            let alert = verifier.alertOf(r.id).block(at).call().await?;
            let (l2_head, lag_secs) = match self.l2_lag(r.id, certified_head).await {
                Ok(lag) => lag,
                Err(error) => {
                    problems.push(format!("rollup {} RPC: {error}", r.id));
                    (None, None)
                }
            };
            let (verified_head, verified) = match r.quorum_height {
                Some(height) => (height, "quorum"),
                None => (r.highest_attested, "attested"),
            };
            rollups.push(RollupView {
                id: r.id,
                status: match RollupStatus::try_from(on_chain) {
                    Ok(RollupStatus::Active) => "active",
                    Ok(RollupStatus::Paused) => "paused",
                    _ => "halted",
                },
                threshold_bps: r.threshold_bps,
                l2_head: l2_head.map(|(number, _)| number),
                verified_head,
                verified,
                certified_head,
                lag_blocks: l2_head.map(|(number, _)| number.saturating_sub(certified_head)),
                lag_secs,
                best_signed_bps: r.best_signed_bps,
                state: r.state.clone(),
                last_certificate: self.logs.last_certificate.get(&r.id).cloned(),
                alert: (alert.blockNumber != 0).then(|| AlertView {
                    height: alert.blockNumber,
                    raised_at: alert.raisedAt.to::<u64>(),
                    signed_stake: alert.signedStake.to_string(),
                }),
                mismatch_reports: r.mismatch_reports.values().sum(),
            });
        }
        for rollup in &mut rollups {
            self.fill_gas(rollup).await;
        }

        let operators = self.operators(&view, &status.rollups, &mut problems);
        let pool = self.pool_view(pool_address, at).await?;
        Ok(Snapshot {
            l1_block,
            taken_at: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            participation_heights: PARTICIPATION_HEIGHTS,
            active_stake: status.active_stake,
            rollups,
            operators,
            pool,
            problems,
        })
    }

    /// Reads the logs of the verifier, slasher, pool and registrar from where the last call
    /// stopped up to `to`.
    async fn read_logs(
        &mut self,
        to: u64,
        pool: Address,
        registrar: Address,
    ) -> Result<(), alloy::contract::Error> {
        let mut from = self.logs.next_block;
        while from <= to {
            let end = to.min(from + LOG_CHUNK - 1);
            let filter = Filter::new()
                .address(vec![
                    self.contracts.certificate_verifier,
                    self.contracts.slasher,
                    pool,
                    registrar,
                ])
                .from_block(from)
                .to_block(end);
            for log in self.l1.get_logs(&filter).await? {
                self.logs.apply(&log);
            }
            from = end + 1;
            self.logs.next_block = from;
        }
        Ok(())
    }

    /// The rollup's head (number, timestamp) and the L2 seconds from the certified block to it.
    async fn l2_lag(
        &mut self,
        rollup: u64,
        certified: u64,
    ) -> Result<(Option<(u64, u64)>, Option<u64>), alloy::transports::TransportError> {
        let Some(l2) = self.rollups.get(&rollup) else {
            return Ok((None, None));
        };
        let Some(head) = l2.get_block_by_number(BlockNumberOrTag::Latest).await? else {
            return Ok((None, None));
        };
        let head = (head.header.number, head.header.timestamp);
        let certified_time = match self.l2_times.get(&(rollup, certified)) {
            Some(&t) => Some(t),
            None => {
                let time = l2
                    .get_block_by_number(certified.into())
                    .await?
                    .map(|b| b.header.timestamp);
                if let Some(t) = time {
                    // Only the certified heads are looked up: keep the newest few.
                    self.l2_times
                        .retain(|&(r, h), _| r != rollup || h + 64 > certified);
                    self.l2_times.insert((rollup, certified), t);
                }
                time
            }
        };
        Ok((Some(head), certified_time.map(|t| head.1.saturating_sub(t))))
    }

    /// Reads the gas of the rollup's last certificate once.
    async fn fill_gas(&mut self, rollup: &mut RollupView) {
        let Some(cert) = rollup.last_certificate.as_mut() else {
            return;
        };
        if cert.gas.is_some() {
            return;
        }
        if let Ok(Some(receipt)) = self.l1.get_transaction_receipt(cert.tx).await {
            cert.gas = Some(receipt.gas_used);
            if let Some(kept) = self.logs.last_certificate.get_mut(&rollup.id) {
                kept.gas = cert.gas;
            }
        }
    }

    fn operators(
        &self,
        view: &crate::l1::L1View,
        rollups: &[crate::RollupStatus],
        problems: &mut Vec<String>,
    ) -> Vec<OperatorView> {
        let mut recent: Vec<(u64, Signers)> = Vec::new();
        for r in rollups {
            match self
                .shared
                .store
                .recent_signers(r.id, PARTICIPATION_HEIGHTS)
            {
                Ok(heights) => recent.push((r.id, heights)),
                Err(error) => problems.push(format!("reading attestations: {error}")),
            }
        }
        let evidence = self.shared.store.evidence().unwrap_or_default();
        let mismatches = self.shared.mismatches().clone();
        let mut operators: Vec<OperatorView> = view
            .operators
            .iter()
            .map(|(key_hash, op)| {
                let participation = recent
                    .iter()
                    .map(|(rollup, heights)| Participation {
                        rollup: *rollup,
                        signed: heights.iter().filter(|(_, s)| s.contains(key_hash)).count(),
                        heights: heights.len(),
                    })
                    .collect();
                let last_attestation = recent
                    .iter()
                    .filter_map(|(rollup, heights)| {
                        let (height, _) = heights.iter().find(|(_, s)| s.contains(key_hash))?;
                        Some(Attested {
                            rollup: *rollup,
                            height: *height,
                        })
                    })
                    .max_by_key(|a| a.height);
                let mut notes: Vec<Note> = mismatches
                    .iter()
                    .filter(|((_, address), _)| *address == op.address)
                    .map(|((rollup, _), n)| Note {
                        kind: "alert",
                        text: format!("{n} mismatch report(s) on rollup {rollup}"),
                    })
                    .collect();
                notes.extend(
                    evidence
                        .iter()
                        // Proven evidence shows as the L1's `DoubleSigningProven`.
                        .filter(|(e, state)| {
                            e.key_hash() == *key_hash && *state != EvidenceState::Proven
                        })
                        .map(|(e, state)| Note {
                            kind: "fault",
                            text: format!(
                                "double signing at rollup {} #{} ({})",
                                e.rollup_id(),
                                e.block_number(),
                                match state {
                                    EvidenceState::Pending => "evidence held, not yet proven",
                                    _ => "refused by the Slasher",
                                }
                            ),
                        }),
                );
                notes.extend(
                    self.logs
                        .notes
                        .get(&op.address)
                        .into_iter()
                        .flatten()
                        .cloned(),
                );
                OperatorView {
                    address: op.address,
                    key_hash: *key_hash,
                    active: op.active,
                    stake: op.stake.to_string(),
                    stake_bps: if op.active {
                        view.operators.bps(op.stake)
                    } else {
                        0
                    },
                    participation,
                    last_attestation,
                    notes,
                }
            })
            .collect();
        operators.sort_by_key(|o| o.address);
        operators
    }

    async fn pool_view(
        &self,
        address: Address,
        at: BlockId,
    ) -> Result<PoolView, alloy::contract::Error> {
        let pool = CompensationPool::new(address, &self.l1);
        let balance = self.l1.get_balance(address).block_id(at).await?;
        let collateral = pool.totalCollateral().block(at).call().await?;
        let free_balance = pool.freeBalance().block(at).call().await?;
        let logs = &self.logs;
        let (mut open, mut claimed, mut claims) = (U256::ZERO, U256::ZERO, 0);
        for (certificate, amount) in &logs.covers {
            if logs.faults.contains(certificate) {
                claims += 1;
                claimed += amount;
            } else {
                open += amount;
            }
        }
        Ok(PoolView {
            address,
            balance: balance.to_string(),
            collateral: collateral.to_string(),
            free_balance: free_balance.to_string(),
            covers: logs.covers.len(),
            open_cover: open.to_string(),
            claims,
            claimed: claimed.to_string(),
            paid: logs.paid.to_string(),
        })
    }
}

impl Logs {
    fn apply(&mut self, log: &Log) {
        let Some(&topic) = log.topic0() else { return };
        let note = |kind: &'static str, text: String| Note { kind, text };
        match topic {
            CertificateVerifier::CertificateSubmitted::SIGNATURE_HASH => {
                let Ok(e) = log.log_decode::<CertificateVerifier::CertificateSubmitted>() else {
                    return;
                };
                let e = e.inner.data;
                let signed_bps = if e.totalStake.is_zero() {
                    0
                } else {
                    (e.signedStake * U256::from(10_000) / e.totalStake).to::<u32>()
                };
                self.last_certificate.insert(
                    e.rollupId,
                    CertificateView {
                        height: e.blockNumber,
                        l1_block: log.block_number.unwrap_or_default(),
                        tx: log.transaction_hash.unwrap_or_default(),
                        gas: None,
                        signed_stake: e.signedStake.to_string(),
                        total_stake: e.totalStake.to_string(),
                        signed_bps,
                    },
                );
            }
            CompensationPool::CoverPurchased::SIGNATURE_HASH => {
                if let Ok(e) = log.log_decode::<CompensationPool::CoverPurchased>() {
                    let e = e.inner.data;
                    self.covers.push((e.certificateId, e.amount));
                }
            }
            CompensationPool::FaultRecorded::SIGNATURE_HASH => {
                if let Ok(e) = log.log_decode::<CompensationPool::FaultRecorded>() {
                    self.faults.insert(e.inner.data.certificateId);
                }
            }
            CompensationPool::ClaimPaid::SIGNATURE_HASH => {
                if let Ok(e) = log.log_decode::<CompensationPool::ClaimPaid>() {
                    self.paid += e.inner.data.payout;
                }
            }
            Slasher::DoubleSigningProven::SIGNATURE_HASH => {
                if let Ok(e) = log.log_decode::<Slasher::DoubleSigningProven>() {
                    let e = e.inner.data;
                    self.notes.entry(e.operator).or_default().push(note(
                        "fault",
                        format!(
                            "double signing proven at rollup {} #{}",
                            e.rollupId, e.blockNumber
                        ),
                    ));
                }
            }
            Slasher::InvalidStatementProven::SIGNATURE_HASH => {
                if let Ok(e) = log.log_decode::<Slasher::InvalidStatementProven>() {
                    let e = e.inner.data;
                    self.notes.entry(e.operator).or_default().push(note(
                        "fault",
                        format!(
                            "signed a wrong root at rollup {} #{}",
                            e.rollupId, e.blockNumber
                        ),
                    ));
                }
            }
            Slasher::SignerSlashed::SIGNATURE_HASH => {
                if let Ok(e) = log.log_decode::<Slasher::SignerSlashed>() {
                    let e = e.inner.data;
                    self.notes.entry(e.operator).or_default().push(note(
                        "fault",
                        format!("signed faulty certificate {}", short(&e.certificateId)),
                    ));
                }
            }
            Slasher::OperatorPunished::SIGNATURE_HASH => {
                if let Ok(e) = log.log_decode::<Slasher::OperatorPunished>() {
                    let e = e.inner.data;
                    let text = if e.slashed {
                        "slashed on EigenLayer"
                    } else {
                        "EigenLayer refused the slash"
                    };
                    self.notes.entry(e.operator).or_default().push(note(
                        "slashing",
                        format!(
                            "{text}; {} of collateral forfeited",
                            eth(e.collateralForfeited)
                        ),
                    ));
                }
            }
            SuretyRegistrar::OperatorEjected::SIGNATURE_HASH => {
                if let Ok(e) = log.log_decode::<SuretyRegistrar::OperatorEjected>() {
                    self.notes
                        .entry(e.inner.data.operator)
                        .or_default()
                        .push(note("slashing", "ejected from the operator set".to_owned()));
                }
            }
            _ => {}
        }
    }
}

/// Wei as ETH with up to three decimals.
fn eth(wei: U256) -> String {
    let milli = wei / U256::from(1_000_000_000_000_000u64);
    let (whole, frac) = (milli / U256::from(1_000), milli % U256::from(1_000));
    if frac.is_zero() {
        format!("{whole} ETH")
    } else {
        let frac = format!("{:03}", frac.to::<u64>());
        format!("{whole}.{} ETH", frac.trim_end_matches('0'))
    }
}

fn short(hash: &B256) -> String {
    let hex = hash.to_string();
    format!("{}…{}", &hex[..10], &hex[hex.len() - 4..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eth_amounts_read_as_people_write_them() {
        let ether = U256::from(10u64).pow(U256::from(18));
        assert_eq!(eth(U256::ZERO), "0 ETH");
        assert_eq!(eth(ether * U256::from(10)), "10 ETH");
        assert_eq!(eth(ether + ether / U256::from(4)), "1.25 ETH");
        assert_eq!(eth(U256::from(999)), "0 ETH");
    }
}
