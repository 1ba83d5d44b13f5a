//! `--byzantine`: a wrong certificate, from landing to a paid claim, with nobody in the loop but
//! the honest operators' watchtowers. The devnet plays the two other parties:
//!
//! - a user who relies on the certificate and buys cover on it as soon as it lands;
//! - the rollup's root poster, who settles the true root `settle_after` later (the rollup's
//!   `PostedRootSource`, the canonical source every invalid-root fault is decided by).
//!
//! Each step is printed as it is seen on L1, then a timeline.

use std::time::{Duration, Instant};

use alloy::{
    primitives::{Address, B256, U256},
    providers::{DynProvider, Provider},
};
use eyre::eyre;
use surety_contracts::{
    Deployment,
    bindings::{CertificateVerifier, CompensationPool, PostedRootSource, Slasher},
    send,
};
use surety_primitives::Statement;

/// The cover the user buys, at most (less if the signers' collateral is smaller).
const COVER_WEI: u128 = 1_000_000_000_000_000_000;
/// The user's priority fee: its purchase lands before a watchtower's accusation in the same
/// block, as a user racing for cover would arrange.
const USER_TIP_WEI: u128 = 50_000_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    AwaitCertificate,
    AwaitSettlement,
    AwaitSlash,
    AwaitClaim,
    Done,
}

/// The rollup's root poster settles `height`: posts the L2's own state root of that block to the
/// rollup's `PostedRootSource`, and returns it.
pub(super) async fn post_canonical_root(
    poster: &DynProvider,
    l2: &DynProvider,
    verifier: Address,
    rollup_id: u64,
    height: u64,
) -> eyre::Result<B256> {
    let root = l2
        .get_block_by_number(height.into())
        .await?
        .ok_or_else(|| eyre!("L2 block {height} is not there"))?
        .header
        .state_root;
    let source = CertificateVerifier::new(verifier, poster)
        .rootSource(rollup_id)
        .call()
        .await?;
    send(
        "post the canonical root",
        PostedRootSource::new(source, poster).post(height, root),
    )
    .await?;
    Ok(root)
}

pub(super) struct InvalidRoot {
    deployment: Deployment,
    /// Signs as the user who buys cover.
    user: DynProvider,
    /// Signs as the rollup's root poster.
    poster: DynProvider,
    l2: DynProvider,
    byzantine: Vec<Address>,
    settle_after: Duration,
    wrong: Option<Statement>,
    cover: Option<U256>,
    stage: Stage,
    times: Vec<(&'static str, Instant)>,
    settled_at: Option<Instant>,
}

impl InvalidRoot {
    pub(super) fn new(
        deployment: Deployment,
        user: DynProvider,
        poster: DynProvider,
        l2: DynProvider,
        byzantine: Vec<Address>,
        settle_after: Duration,
    ) -> Self {
        Self {
            deployment,
            user,
            poster,
            l2,
            byzantine,
            settle_after,
            wrong: None,
            cover: None,
            stage: Stage::AwaitCertificate,
            times: Vec::new(),
            settled_at: None,
        }
    }

    /// The wrong statement the byzantine operators signed.
    pub(super) fn signed(&mut self, wrong: Statement) {
        self.wrong = Some(wrong);
    }

    pub(super) fn is_done(&self) -> bool {
        self.stage == Stage::Done
    }

    /// Moves the scenario on as far as L1 allows; returns the lines to print.
    pub(super) async fn step(&mut self) -> eyre::Result<Vec<String>> {
        let Some(wrong) = self.wrong else {
            return Ok(Vec::new());
        };
        let id = wrong.certificate_id();
        let s = self.deployment.surety;
        let mut lines = Vec::new();
        let verifier = CertificateVerifier::new(s.certificate_verifier, self.user.clone());
        if self.stage == Stage::AwaitCertificate {
            let certificate = verifier.getCertificate(id).call().await?;
            if certificate.referenceBlock == 0 {
                return Ok(lines);
            }
            self.times
                .push(("wrong certificate recorded", Instant::now()));
            lines.push(self.buy_cover(&wrong, id).await);
            self.stage = Stage::AwaitSettlement;
        }
        if self.stage == Stage::AwaitSettlement && self.times[0].1.elapsed() >= self.settle_after {
            let root = post_canonical_root(
                &self.poster,
                &self.l2,
                s.certificate_verifier,
                wrong.rollup_id,
                wrong.block_number,
            )
            .await?;
            let now = Instant::now();
            self.settled_at = Some(now);
            self.times.push(("canonical root settled", now));
            lines.push(format!(
                "POSTER       canonical root of L2 #{} settled on L1: {} (the certificate says {})",
                wrong.block_number, root, wrong.state_root
            ));
            self.stage = Stage::AwaitSlash;
        }
        if self.stage == Stage::AwaitSlash {
            if !self.times.iter().any(|(what, _)| *what == "proven faulty")
                && verifier.getCertificate(id).call().await?.faulty
            {
                self.times.push(("proven faulty", Instant::now()));
            }
            let slasher = Slasher::new(s.slasher, &self.user);
            let mut all = true;
            for operator in &self.byzantine {
                let key = slasher
                    .faultKey(*operator, wrong.rollup_id, wrong.block_number)
                    .call()
                    .await?;
                all &= slasher.used(key).call().await?;
            }
            if all {
                self.times.push(("every signer slashed", Instant::now()));
                self.stage = if self.cover.is_some() {
                    Stage::AwaitClaim
                } else {
                    Stage::Done
                };
            }
        }
        if self.stage == Stage::AwaitClaim
            && let Some(cover) = self.cover
        {
            let pool = CompensationPool::new(s.compensation_pool, &self.user);
            let fault = pool.getFault(id).call().await?;
            let window = pool.claimWindow().call().await?;
            let now = self
                .user
                .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
                .await?
                .map_or(0, |b| b.header.timestamp);
            if fault.provenAt != 0 && now > fault.provenAt + window {
                let receipt = send("pay the claim", pool.payClaim(cover)).await?;
                let paid = receipt
                    .decoded_log::<CompensationPool::ClaimPaid>()
                    .map_or(U256::ZERO, |e| e.payout);
                self.times.push(("claim paid", Instant::now()));
                lines.push(format!(
                    "USER         claim on cover {cover} paid: {paid} wei (claim window {window} s)"
                ));
                self.stage = Stage::Done;
            }
        }
        if self.stage == Stage::Done {
            lines.push(self.timeline());
        }
        Ok(lines)
    }

    async fn buy_cover(&mut self, wrong: &Statement, id: B256) -> String {
        let pool = CompensationPool::new(self.deployment.surety.compensation_pool, &self.user);
        let attempt = async {
            let available = pool.coverAvailable(id).call().await?;
            let amount = available.min(U256::from(COVER_WEI));
            let premium = pool.premiumFor(amount).call().await?;
            let base = self
                .user
                .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
                .await?
                .and_then(|b| b.header.base_fee_per_gas)
                .unwrap_or_default();
            let receipt = send(
                "buy cover",
                pool.buyCover((*wrong).into(), amount)
                    .value(premium)
                    .max_priority_fee_per_gas(USER_TIP_WEI)
                    .max_fee_per_gas(u128::from(base) * 2 + USER_TIP_WEI),
            )
            .await?;
            let event = receipt
                .decoded_log::<CompensationPool::CoverPurchased>()
                .ok_or_else(|| eyre!("no CoverPurchased event"))?;
            Ok::<_, eyre::Report>((event.coverId, amount, premium))
        };
        match attempt.await {
            Ok((cover, amount, premium)) => {
                self.cover = Some(cover);
                self.times.push(("cover bought", Instant::now()));
                format!(
                    "USER         relies on L2 #{} and buys cover {cover}: {amount} wei for a premium of {premium} wei",
                    wrong.block_number
                )
            }
            Err(error) => {
                // Name the pool's refusal (e.g. an accusation already pending) when it is one.
                let reason = error
                    .chain()
                    .find_map(|e| {
                        let e = e.downcast_ref::<surety_contracts::Error>()?;
                        let surety_contracts::Error::Call { source, .. } = e else {
                            return None;
                        };
                        source
                            .as_decoded_interface_error::<CompensationPool::CompensationPoolErrors>(
                            )
                            .map(|e| format!("{e:?}"))
                    })
                    .unwrap_or_else(|| format!("{error:#}"));
                format!("USER         could not buy cover: {reason}")
            }
        }
    }

    fn timeline(&self) -> String {
        let start = self.times[0].1;
        let steps: Vec<String> = self
            .times
            .iter()
            .map(|(what, at)| format!("{what} +{:.1} s", at.duration_since(start).as_secs_f64()))
            .collect();
        let mut out = format!("TIMELINE     {}", steps.join(" · "));
        if let (Some(settled), Some((_, slashed))) = (
            self.settled_at,
            self.times
                .iter()
                .find(|(w, _)| *w == "every signer slashed"),
        ) {
            out += &format!(
                "\n             from the root settling to every signer slashed: {:.1} s",
                slashed.duration_since(settled).as_secs_f64()
            );
        }
        out
    }
}
