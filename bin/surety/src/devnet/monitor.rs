//! What the devnet watches and reports: when each L2 block appeared, when an aggregator first had
//! quorum on it, and every certificate and slashing that lands on L1 — one line each, and a
//! summary with latency percentiles and gas at the end.
//!
//! Times are when the devnet first observed each event, polling every
//! [`super::run::TICK`]: an L2 block when `eth_blockNumber` reaches it, quorum when an
//! aggregator's `/status` reports it, a certificate when its log is on L1.

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use alloy::{
    primitives::{Address, U256},
    providers::{DynProvider, Provider},
    rpc::types::{Filter, Log},
    sol_types::SolEvent,
};
use surety_contracts::{
    Deployment,
    bindings::{CertificateVerifier, ExampleBridge, Slasher},
};

/// One certificate as the devnet reports it.
#[derive(Debug)]
pub(super) struct Certificate {
    pub(super) height: u64,
    pub(super) covered: u64,
    pub(super) signed_bps: u64,
    pub(super) gas: u64,
    pub(super) delay: Option<Duration>,
    pub(super) submitter: Address,
}

/// Observations and totals over the devnet's run.
#[derive(Debug, Default)]
pub(super) struct Timeline {
    l2_seen: BTreeMap<u64, Instant>,
    quorum_seen: BTreeMap<u64, Instant>,
    final_seen: BTreeMap<u64, Instant>,
    l2_head: u64,
    quorum_head: u64,
    certified_head: u64,
    certificates: Vec<Certificate>,
    to_quorum: Vec<Duration>,
    to_l1: Vec<Duration>,
    slashings: u64,
}

impl Timeline {
    /// Records the L2 head observed now.
    pub(super) fn l2_head(&mut self, head: u64, now: Instant) {
        for n in self.l2_head + 1..=head {
            self.l2_seen.entry(n).or_insert(now);
        }
        self.l2_head = self.l2_head.max(head);
    }

    /// Records that an aggregator has quorum at `height` now.
    pub(super) fn quorum(&mut self, height: u64, now: Instant) {
        for n in self.quorum_head.max(self.certified_head) + 1..=height {
            first_reach(
                &self.l2_seen,
                &mut self.quorum_seen,
                &mut self.to_quorum,
                n,
                now,
            );
        }
        self.quorum_head = self.quorum_head.max(height);
    }

    /// Records a certificate seen on L1 now; every L2 block it newly covers is final from now.
    fn certificate(&mut self, mut certificate: Certificate, now: Instant) -> &Certificate {
        let previous = self.certified_head;
        certificate.covered = certificate.height.saturating_sub(previous);
        certificate.delay = self
            .l2_seen
            .get(&certificate.height)
            .map(|seen| now.saturating_duration_since(*seen));
        for n in previous + 1..=certificate.height {
            // A height certified again after its certificate was proven wrong counts once.
            first_reach(&self.l2_seen, &mut self.final_seen, &mut self.to_l1, n, now);
            // Quorum is implied by the certificate for heights no aggregator was seen reach.
            first_reach(
                &self.l2_seen,
                &mut self.quorum_seen,
                &mut self.to_quorum,
                n,
                now,
            );
        }
        self.certified_head = self.certified_head.max(certificate.height);
        self.quorum_head = self.quorum_head.max(certificate.height);
        self.certificates.push(certificate);
        self.certificates.last().expect("just pushed")
    }

    pub(super) fn heads(&self) -> (u64, u64, u64) {
        (self.l2_head, self.quorum_head, self.certified_head)
    }

    /// The closing report.
    pub(super) fn summary(&self, elapsed: Duration, submitters: &[Address]) -> String {
        let mut out = format!(
            "summary after {:.0} s: L2 head {}, certified head {}, {} certificates",
            elapsed.as_secs_f64(),
            self.l2_head,
            self.certified_head,
            self.certificates.len()
        );
        if self.certificates.is_empty() {
            return out;
        }
        let gas: u64 = self.certificates.iter().map(|c| c.gas).sum();
        let covered: u64 = self.certificates.iter().map(|c| c.covered).sum();
        out += &format!(
            " ({:.1} L2 blocks each)\n  L2 block → quorum:            {}\n  L2 block → certificate on L1: {}\n  \
             gas: {} per certificate, {} per L2 block finalized",
            covered as f64 / self.certificates.len() as f64,
            percentiles(&self.to_quorum),
            percentiles(&self.to_l1),
            thousands(gas / self.certificates.len() as u64),
            thousands(gas / covered.max(1)),
        );
        for (i, submitter) in submitters.iter().enumerate() {
            let n = self
                .certificates
                .iter()
                .filter(|c| c.submitter == *submitter)
                .count();
            out += &format!("\n  aggregator {} submitted {n}", i + 1);
        }
        if self.slashings > 0 {
            out += &format!("\n  {} operator(s) slashed", self.slashings);
        }
        out
    }
}

/// Records L2 block `n` as reaching a stage (`reached`) at `now` the first time it does, and its
/// latency from the block's appearance into `samples`.
fn first_reach(
    l2_seen: &BTreeMap<u64, Instant>,
    reached: &mut BTreeMap<u64, Instant>,
    samples: &mut Vec<Duration>,
    n: u64,
    now: Instant,
) {
    if reached.insert(n, now).is_none()
        && let Some(seen) = l2_seen.get(&n)
    {
        samples.push(now.saturating_duration_since(*seen));
    }
}

/// "p50 1.23 s, p95 2.34 s (n = 40)".
fn percentiles(samples: &[Duration]) -> String {
    if samples.is_empty() {
        return "no samples".to_owned();
    }
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let at = |q: f64| {
        let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1].as_secs_f64()
    };
    format!(
        "p50 {:.2} s, p95 {:.2} s (n = {})",
        at(0.50),
        at(0.95),
        sorted.len()
    )
}

/// 198529 → "198,529".
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Reads certificates and slashings from L1 logs, block range by block range.
pub(super) struct L1Watch {
    provider: DynProvider,
    verifier: Address,
    slasher: Address,
    bridge: Address,
    next_block: u64,
    /// The alert standing on L1, if any: (rollup, height).
    pub(super) alert: Option<(u64, u64)>,
    /// Alerts cleared so far.
    pub(super) alerts_cleared: u64,
}

impl L1Watch {
    pub(super) fn new(
        provider: DynProvider,
        deployment: &Deployment,
        bridge: Address,
        from: u64,
    ) -> Self {
        Self {
            provider,
            verifier: deployment.surety.certificate_verifier,
            slasher: deployment.surety.slasher,
            bridge,
            next_block: from,
            alert: None,
            alerts_cleared: 0,
        }
    }

    /// "paused" or "open": what the example bridge says now.
    async fn bridge_state(&self) -> String {
        match ExampleBridge::new(self.bridge, &self.provider)
            .halted()
            .call()
            .await
        {
            Ok(true) => "paused".to_owned(),
            Ok(false) => "open".to_owned(),
            Err(error) => format!("unreadable ({error})"),
        }
    }

    /// Reads new blocks' logs, records them in `timeline` and returns the lines to print.
    pub(super) async fn poll(&mut self, timeline: &mut Timeline) -> eyre::Result<Vec<String>> {
        let head = self.provider.get_block_number().await?;
        if head < self.next_block {
            return Ok(Vec::new());
        }
        let filter = Filter::new()
            .address(vec![self.verifier, self.slasher])
            .from_block(self.next_block)
            .to_block(head);
        let logs = self.provider.get_logs(&filter).await?;
        let now = Instant::now();
        self.next_block = head + 1;
        let mut lines = Vec::new();
        for log in logs {
            if let Some(line) = self.describe(&log, timeline, now).await? {
                lines.push(line);
            }
        }
        Ok(lines)
    }

    async fn describe(
        &mut self,
        log: &Log,
        timeline: &mut Timeline,
        now: Instant,
    ) -> eyre::Result<Option<String>> {
        match log.topic0() {
            Some(&CertificateVerifier::CertificateSubmitted::SIGNATURE_HASH) => {
                let event = log.log_decode::<CertificateVerifier::CertificateSubmitted>()?;
                let event = &event.inner.data;
                let tx = log.transaction_hash.unwrap_or_default();
                let receipt = self
                    .provider
                    .get_transaction_receipt(tx)
                    .await?
                    .ok_or_else(|| eyre::eyre!("no receipt for certificate transaction {tx}"))?;
                let signed_bps = (event.signedStake * U256::from(10_000))
                    .checked_div(event.totalStake)
                    .unwrap_or_default()
                    .saturating_to::<u64>();
                let c = timeline.certificate(
                    Certificate {
                        height: event.blockNumber,
                        covered: 0,
                        signed_bps,
                        gas: receipt.gas_used,
                        delay: None,
                        submitter: receipt.from,
                    },
                    now,
                );
                Ok(Some(format!(
                    "certificate  L2 #{:<5} +{:<3} blocks  stake {:>3}.{:02}%  gas {:>9}  L2→L1 {}  from {}",
                    c.height,
                    c.covered,
                    c.signed_bps / 100,
                    c.signed_bps % 100,
                    thousands(c.gas),
                    c.delay.map_or("   n/a".to_owned(), |d| format!(
                        "{:>5.2} s",
                        d.as_secs_f64()
                    )),
                    c.submitter
                )))
            }
            Some(&CertificateVerifier::AlertRaised::SIGNATURE_HASH) => {
                let e = log
                    .log_decode::<CertificateVerifier::AlertRaised>()?
                    .inner
                    .data;
                self.alert = Some((e.rollupId, e.blockNumber));
                let bps = (e.signedStake * U256::from(10_000))
                    .checked_div(e.totalStake)
                    .unwrap_or_default();
                Ok(Some(format!(
                    "CIRCUIT      alert on L1: rollup {} halted at L2 #{} (claimed root {}, operators computed {}; {}.{:02}% of stake); example bridge {}",
                    e.rollupId,
                    e.blockNumber,
                    e.claimedStateRoot,
                    e.computedStateRoot,
                    bps / U256::from(100),
                    bps % U256::from(100),
                    self.bridge_state().await
                )))
            }
            Some(&CertificateVerifier::AlertCleared::SIGNATURE_HASH) => {
                let e = log
                    .log_decode::<CertificateVerifier::AlertCleared>()?
                    .inner
                    .data;
                self.alert = None;
                self.alerts_cleared += 1;
                Ok(Some(format!(
                    "CIRCUIT      alert cleared: rollup {} L2 #{} settled at {} (alert {}); example bridge {}",
                    e.rollupId,
                    e.blockNumber,
                    e.settledStateRoot,
                    if e.confirmed {
                        "confirmed"
                    } else {
                        "was false"
                    },
                    self.bridge_state().await
                )))
            }
            Some(&Slasher::InvalidRootAccused::SIGNATURE_HASH) => {
                let e = log.log_decode::<Slasher::InvalidRootAccused>()?.inner.data;
                Ok(Some(format!(
                    "WATCHTOWER   {} accuses certificate {} of a wrong root",
                    e.accuser, e.certificateId
                )))
            }
            Some(&Slasher::InvalidRootProven::SIGNATURE_HASH) => {
                let e = log.log_decode::<Slasher::InvalidRootProven>()?.inner.data;
                Ok(Some(format!(
                    "EVIDENCE     certificate {} proven wrong: the canonical root is {}",
                    e.certificateId, e.canonicalRoot
                )))
            }
            Some(&CertificateVerifier::HeadReset::SIGNATURE_HASH) => {
                let e = log
                    .log_decode::<CertificateVerifier::HeadReset>()?
                    .inner
                    .data;
                timeline.certified_head = e.blockNumber;
                timeline.quorum_head = timeline.quorum_head.min(e.blockNumber);
                Ok(Some(format!(
                    "HEAD         rollup {} certified head falls back to L2 #{}",
                    e.rollupId, e.blockNumber
                )))
            }
            Some(&Slasher::DoubleSigningProven::SIGNATURE_HASH) => {
                let event = log.log_decode::<Slasher::DoubleSigningProven>()?;
                let e = &event.inner.data;
                Ok(Some(format!(
                    "EVIDENCE     double signing by {} at L2 #{} proven on L1",
                    e.operator, e.blockNumber
                )))
            }
            Some(&Slasher::OperatorPunished::SIGNATURE_HASH) => {
                let event = log.log_decode::<Slasher::OperatorPunished>()?;
                let e = &event.inner.data;
                timeline.slashings += u64::from(e.slashed);
                Ok(Some(format!(
                    "SLASHED      {}: slashed through EigenLayer: {}, collateral forfeited {} wei",
                    e.operator, e.slashed, e.collateralForfeited
                )))
            }
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_are_counted_once_per_l2_block() {
        let t0 = Instant::now();
        let mut timeline = Timeline::default();
        timeline.l2_head(3, t0);
        timeline.quorum(2, t0 + Duration::from_millis(300));
        timeline.quorum(2, t0 + Duration::from_millis(400));
        let c = timeline.certificate(
            Certificate {
                height: 3,
                covered: 0,
                signed_bps: 10_000,
                gas: 200_000,
                delay: None,
                submitter: Address::ZERO,
            },
            t0 + Duration::from_secs(2),
        );
        assert_eq!(c.covered, 3);
        assert_eq!(c.delay, Some(Duration::from_secs(2)));
        // Blocks 1 and 2 reached quorum at 300 ms; block 3 only with its certificate.
        assert_eq!(
            timeline.to_quorum,
            [300, 300, 2000].map(Duration::from_millis)
        );
        assert_eq!(timeline.to_l1.len(), 3);
        assert_eq!(timeline.heads(), (3, 3, 3));
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let samples: Vec<_> = (1..=20).map(Duration::from_secs).collect();
        assert_eq!(percentiles(&samples), "p50 10.00 s, p95 19.00 s (n = 20)");
        assert_eq!(thousands(198_529), "198,529");
        assert_eq!(thousands(999), "999");
    }
}
