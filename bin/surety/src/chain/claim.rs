//! `surety claim …`: a cover holder's claim. On chain there is no filing step: every cover on a
//! certificate proven faulty is a claim, settled after the pool's claim window (the time the
//! signers have to be slashed) and paid in purchase order (`docs/contracts.md`, "Claims").

use alloy::primitives::U256;
use clap::Subcommand;
use eyre::{bail, eyre};
use serde_json::json;
use surety_contracts::{
    bindings::CompensationPool,
    evidence::{self, FaultState},
    send,
};

use super::{
    KeyArgs, L1, L1Args, block_on, eth,
    evidence::{Accused, accuse_certificate, state_name},
    fields, refused, relative,
};

#[derive(Debug, Subcommand)]
pub(crate) enum ClaimCommand {
    /// Make a cover's claim live. There is nothing to file on chain: a cover is a claim as soon
    /// as its certificate is proven faulty. This shows where the claim stands and, if the
    /// certificate is not accused yet, accuses it (the Slasher's bond; refunded if it is wrong):
    /// at once when the canonical root is settled and differs, and with `--accuse` while the
    /// root is still unsettled (the bond is lost if the certificate turns out right).
    File(FileArgs),
    /// Pay a claim once the claim window after the fault has passed (anyone may, for any cover;
    /// the payout goes to the holder).
    Pay(CoverArgs),
    /// Show a cover's claim: the certificate's fault state, the claim window, the settlement,
    /// the entitlement and what was paid.
    Status(StatusArgs),
}

#[derive(Debug, clap::Args)]
pub(crate) struct FileArgs {
    /// Cover id (`surety cover list` shows yours).
    #[arg(long, value_name = "ID")]
    cover: U256,
    /// Accuse the certificate even though its canonical root has not settled yet.
    #[arg(long)]
    accuse: bool,
    #[command(flatten)]
    key: KeyArgs,
    #[command(flatten)]
    l1: L1Args,
}

#[derive(Debug, clap::Args)]
pub(crate) struct CoverArgs {
    /// Cover id.
    #[arg(long, value_name = "ID")]
    cover: U256,
    #[command(flatten)]
    key: KeyArgs,
    #[command(flatten)]
    l1: L1Args,
}

#[derive(Debug, clap::Args)]
pub(crate) struct StatusArgs {
    /// Cover id.
    #[arg(long, value_name = "ID")]
    cover: U256,
    #[command(flatten)]
    l1: L1Args,
}

pub(crate) fn run(command: ClaimCommand) -> eyre::Result<()> {
    block_on(async {
        match command {
            ClaimCommand::File(args) => file(args).await,
            ClaimCommand::Pay(args) => pay(args).await,
            ClaimCommand::Status(args) => status(args).await,
        }
    })
}

/// A cover and where its claim stands.
struct Claim {
    cover: CompensationPool::Cover,
    state: FaultState,
    fault: CompensationPool::Fault,
    /// When the claim window closes (0 before a fault).
    closes_at: u64,
    /// `payoutOf`: the entitlement once proven, a projection before.
    payout: U256,
    now: u64,
}

impl Claim {
    async fn read(l1: &L1, cover_id: U256) -> eyre::Result<Self> {
        let pool = l1.pool();
        if cover_id >= pool.coverCount().call().await? {
            bail!("there is no cover {cover_id}");
        }
        let cover = pool.getCover(cover_id).call().await?;
        let fault = pool.getFault(cover.certificateId).call().await?;
        let state = evidence::fault_state(
            &l1.provider,
            l1.deployment.surety.certificate_verifier,
            l1.deployment.surety.slasher,
            cover.certificateId,
        )
        .await?;
        let closes_at = if fault.provenAt == 0 {
            0
        } else {
            fault.provenAt + pool.claimWindow().call().await?
        };
        Ok(Self {
            payout: pool.payoutOf(cover_id).call().await?,
            now: l1.now().await?,
            cover,
            state,
            fault,
            closes_at,
        })
    }

    fn proven(&self) -> bool {
        self.fault.provenAt != 0
    }

    fn due(&self) -> U256 {
        self.payout.saturating_sub(U256::from(self.cover.paid))
    }

    fn json(&self, cover_id: U256) -> serde_json::Value {
        json!({
            "cover": cover_id.to_string(),
            "holder": self.cover.holder,
            "certificate": self.cover.certificateId,
            "amount_wei": self.cover.amount.to_string(),
            "fault": state_name(self.state),
            "proven_at": (self.proven()).then_some(self.fault.provenAt),
            "claim_window_closes_at": (self.proven()).then_some(self.closes_at),
            "settled": self.fault.settled,
            "budget_wei": self.fault.budget.to_string(),
            "entitled_wei": if self.proven() { self.payout } else { U256::ZERO }.to_string(),
            "paid_wei": self.cover.paid.to_string(),
        })
    }

    fn text(&self, cover_id: U256) -> String {
        let claim = match self.state {
            FaultState::Standing => "none: the certificate is not accused or proven wrong".into(),
            FaultState::Accused => {
                "pending: the certificate is accused; the verdict comes when its canonical root \
                 settles"
                    .into()
            }
            FaultState::Faulty if !self.proven() => "the certificate is faulty".into(),
            FaultState::Faulty if self.now <= self.closes_at => format!(
                "live: the certificate is proven wrong; payable after the claim window closes \
                 at {} ({})",
                self.closes_at,
                relative(self.closes_at, self.now)
            ),
            FaultState::Faulty if self.due().is_zero() => "paid".into(),
            FaultState::Faulty => "payable now: `surety claim pay`".into(),
        };
        let mut rows = vec![
            ("holder", self.cover.holder.to_string()),
            ("certificate", self.cover.certificateId.to_string()),
            ("amount", eth(U256::from(self.cover.amount))),
            ("claim", claim),
        ];
        if self.proven() {
            rows.push((
                "settled",
                if self.fault.settled {
                    format!("yes, budget {}", eth(U256::from(self.fault.budget)))
                } else {
                    "not yet (at the first payment after the window)".into()
                },
            ));
            // Before settlement `payoutOf` is a projection that grows as collateral is credited.
            let so_far = if self.fault.settled { "" } else { " so far" };
            rows.push(("entitled", format!("{}{so_far}", eth(self.payout))));
        }
        rows.push(("paid", eth(U256::from(self.cover.paid))));
        format!("cover {cover_id}\n{}", fields(&rows))
    }
}

async fn status(args: StatusArgs) -> eyre::Result<()> {
    let l1 = args.l1.connect().await?;
    let claim = Claim::read(&l1, args.cover).await?;
    l1.print(&claim.json(args.cover), &claim.text(args.cover));
    Ok(())
}

async fn pay(args: CoverArgs) -> eyre::Result<()> {
    let (l1, _) = args.l1.connect_signing(&args.key).await?;
    let claim = Claim::read(&l1, args.cover).await?;
    if !claim.proven() {
        bail!(
            "cover {} has no claim: certificate {} is {}, not proven faulty",
            args.cover,
            claim.cover.certificateId,
            state_name(claim.state)
        );
    }
    if claim.now < claim.closes_at {
        bail!(
            "ClaimWindowOpen: the claim window closes at {} ({}); until then the signers are \
             slashed and their collateral credited, then the claim can be paid",
            claim.closes_at,
            relative(claim.closes_at, claim.now)
        );
    }
    if claim.fault.settled && claim.due().is_zero() {
        bail!(
            "AlreadyPaid: cover {} was paid {} (its whole entitlement)",
            args.cover,
            eth(U256::from(claim.cover.paid))
        );
    }
    let receipt = send("pay the claim", l1.pool().payClaim(args.cover))
        .await
        .map_err(refused)?;
    let paid = receipt
        .decoded_log::<CompensationPool::ClaimPaid>()
        .ok_or_else(|| eyre!("the payment emitted no ClaimPaid event"))?;
    l1.print(
        &json!({
            "cover": args.cover.to_string(),
            "holder": paid.holder,
            "payout_wei": paid.payout.to_string(),
            "tx": receipt.transaction_hash,
        }),
        &format!(
            "claim on cover {} paid: {} to {} (tx {})\n",
            args.cover,
            eth(paid.payout),
            paid.holder,
            receipt.transaction_hash
        ),
    );
    Ok(())
}

async fn file(args: FileArgs) -> eyre::Result<()> {
    let (l1, _) = args.l1.connect_signing(&args.key).await?;
    let claim = Claim::read(&l1, args.cover).await?;
    if claim.state == FaultState::Standing {
        let certificate = l1.certificate_by_id(claim.cover.certificateId).await?;
        let s = &certificate.statement;
        let settled = evidence::canonical_root(
            &l1.provider,
            l1.deployment.surety.certificate_verifier,
            s.rollup_id,
            s.block_number,
        )
        .await?
        .is_some();
        if !settled && !args.accuse {
            let bond = l1.slasher().accusationBond().call().await?;
            bail!(
                "certificate {} is not accused and the canonical root of rollup {} L2 #{} has \
                 not settled, so nobody can tell yet whether it is wrong. If you know it is, \
                 pass --accuse to accuse it now (bond {}, lost if the certificate is right); \
                 otherwise the operators' watchtowers accuse wrong certificates themselves",
                certificate.id,
                s.rollup_id,
                s.block_number,
                eth(bond)
            );
        }
        if let Accused::Now { .. } = accuse_certificate(&l1, &certificate).await? {
            eprintln!("accused certificate {}", certificate.id);
        }
    }
    let claim = Claim::read(&l1, args.cover).await?;
    l1.print(
        &claim.json(args.cover),
        &format!(
            "nothing to file on chain: every cover on a faulty certificate is a claim\n{}",
            claim.text(args.cover)
        ),
    );
    Ok(())
}
