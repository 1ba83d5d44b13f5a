//! `surety cover …`: a user or app that relies on a certified block insures against the
//! certificate being wrong (`docs/contracts.md`, "Compensation pool").

use alloy::{
    primitives::{Address, B256, U256},
    rpc::types::Filter,
    sol_types::SolEvent,
};
use clap::Subcommand;
use eyre::{WrapErr, eyre};
use serde_json::json;
use surety_contracts::{
    bindings::{CompensationPool, RollupStatus},
    evidence::canonical_root,
    logs::logs_since,
    send,
};

use super::{
    CertificateArgs, KeyArgs, L1, L1Args, block_on, eth, fields, parse_amount, refused, relative,
};

#[derive(Debug, Subcommand)]
pub(crate) enum CoverCommand {
    /// Price cover on the certificate of a rollup height: the premium for an amount, how much
    /// cover is left (the signers' locked collateral minus cover sold), until when it is sold,
    /// and why not if it is not on sale.
    Quote(QuoteArgs),
    /// Buy cover on the certificate of a rollup height, paying the premium. If the certificate
    /// is proven wrong, the cover is a claim (`surety claim status|pay`).
    Buy(BuyArgs),
    /// List an address's covers with their certificates, fault state and payout entitlement.
    List(ListArgs),
}

#[derive(Debug, clap::Args)]
pub(crate) struct QuoteArgs {
    #[command(flatten)]
    certificate: CertificateArgs,
    /// Amount to cover (wei, or `1.5eth`).
    #[arg(long, value_name = "AMOUNT", value_parser = parse_amount)]
    amount: U256,
    #[command(flatten)]
    l1: L1Args,
}

#[derive(Debug, clap::Args)]
pub(crate) struct BuyArgs {
    #[command(flatten)]
    certificate: CertificateArgs,
    /// Amount to cover (wei, or `1.5eth`); the premium is paid on top.
    #[arg(long, value_name = "AMOUNT", value_parser = parse_amount)]
    amount: U256,
    #[command(flatten)]
    key: KeyArgs,
    #[command(flatten)]
    l1: L1Args,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ListArgs {
    /// Whose covers.
    #[arg(long, value_name = "ADDRESS")]
    holder: Address,
    #[command(flatten)]
    l1: L1Args,
}

pub(crate) fn run(command: CoverCommand) -> eyre::Result<()> {
    block_on(async {
        match command {
            CoverCommand::Quote(args) => quote(args).await,
            CoverCommand::Buy(args) => buy(args).await,
            CoverCommand::List(args) => list(args).await,
        }
    })
}

/// Why cover on certificate `id` is not on sale now, if it is not (the pool's own checks, in
/// its order, except those about the buyer).
async fn not_on_sale(
    l1: &L1,
    which: &CertificateArgs,
    id: B256,
    closes_at: u64,
) -> eyre::Result<Option<String>> {
    let certificate = l1.verifier().getCertificate(id).call().await?;
    let fault = l1.pool().getFault(id).call().await?;
    if certificate.faulty || fault.provenAt != 0 {
        return Ok(Some("the certificate is proven faulty".into()));
    }
    let accusation = l1.slasher().accusations(id).call().await?;
    if accusation.accuser != Address::ZERO {
        return Ok(Some(format!(
            "an accusation by {} is pending",
            accusation.accuser
        )));
    }
    let state = RollupStatus::try_from(l1.verifier().rollupStatus(which.rollup).call().await?)?;
    if state != RollupStatus::Active {
        return Ok(Some(format!("the rollup is {state:?}")));
    }
    if l1.now().await? > closes_at {
        return Ok(Some("the cover window has closed".into()));
    }
    let verifier = l1.deployment.surety.certificate_verifier;
    if canonical_root(&l1.provider, verifier, which.rollup, which.height)
        .await?
        .is_some()
    {
        return Ok(Some(
            "the canonical root is settled: the outcome is known".into(),
        ));
    }
    Ok(None)
}

async fn quote(args: QuoteArgs) -> eyre::Result<()> {
    let l1 = args.l1.connect().await?;
    let certificate = l1.certificate(&args.certificate).await?;
    let id = certificate.id;
    let pool = l1.pool();
    let premium = pool.premiumFor(args.amount).call().await?;
    let available = pool.coverAvailable(id).call().await?;
    let recorded = l1.verifier().getCertificate(id).call().await?;
    let closes_at = recorded.certifiedAt.to::<u64>() + pool.coverWindow().call().await?;
    let now = l1.now().await?;
    let mut reason = not_on_sale(&l1, &args.certificate, id, closes_at).await?;
    if reason.is_none() && args.amount > available {
        reason = Some(format!("only {} of cover is left", eth(available)));
    }
    let s = certificate.statement;
    l1.print(
        &json!({
            "certificate": id,
            "statement": s,
            "amount_wei": args.amount.to_string(),
            "premium_wei": premium.to_string(),
            "available_wei": available.to_string(),
            "window_closes_at": closes_at,
            "on_sale": reason.is_none(),
            "reason": reason,
        }),
        &format!(
            "cover on rollup {} L2 #{} (certificate {id})\n{}",
            s.rollup_id,
            s.block_number,
            fields(&[
                ("state root", s.state_root.to_string()),
                ("block hash", s.block_hash.to_string()),
                ("amount", eth(args.amount)),
                ("premium", eth(premium)),
                ("available", eth(available)),
                (
                    "window closes",
                    format!("{closes_at} ({})", relative(closes_at, now))
                ),
                (
                    "on sale",
                    reason
                        .as_ref()
                        .map_or("yes".to_owned(), |r| format!("no: {r}"))
                ),
            ])
        ),
    );
    Ok(())
}

async fn buy(args: BuyArgs) -> eyre::Result<()> {
    let (l1, buyer) = args.l1.connect_signing(&args.key).await?;
    let certificate = l1.certificate(&args.certificate).await?;
    let pool = l1.pool();
    let premium = pool.premiumFor(args.amount).call().await?;
    let receipt = send(
        "buy cover",
        pool.buyCover(certificate.statement.into(), args.amount)
            .value(premium),
    )
    .await
    .map_err(refused)?;
    let event = receipt
        .decoded_log::<CompensationPool::CoverPurchased>()
        .ok_or_else(|| eyre!("the purchase emitted no CoverPurchased event"))?;
    let cover = event.coverId;
    let s = certificate.statement;
    l1.print(
        &json!({
            "cover": cover.to_string(),
            "certificate": certificate.id,
            "holder": buyer,
            "amount_wei": args.amount.to_string(),
            "premium_wei": premium.to_string(),
            "tx": receipt.transaction_hash,
        }),
        &format!(
            "cover {cover} bought by {buyer}: {} on rollup {} L2 #{} (certificate {}) for a \
             premium of {}\nif the certificate is proven wrong: `surety claim status --cover \
             {cover}` (tx {})\n",
            eth(args.amount),
            s.rollup_id,
            s.block_number,
            certificate.id,
            eth(premium),
            receipt.transaction_hash
        ),
    );
    Ok(())
}

async fn list(args: ListArgs) -> eyre::Result<()> {
    let l1 = args.l1.connect().await?;
    let pool = l1.pool();
    let filter = Filter::new()
        .address(l1.deployment.surety.compensation_pool)
        .event_signature(CompensationPool::CoverPurchased::SIGNATURE_HASH)
        .topic3(args.holder.into_word());
    let logs = logs_since(&l1.provider, &filter, l1.deployment.surety.deployed_at)
        .await
        .wrap_err("reading CoverPurchased logs")?;
    let mut rows = Vec::new();
    let mut text = format!(
        "{:>6}  {:>14}  {:>14}  {:>14}  {:<8}  certificate\n",
        "cover", "amount", "entitled", "paid", "fault"
    );
    for log in logs {
        let cover_id = log
            .log_decode::<CompensationPool::CoverPurchased>()?
            .inner
            .coverId;
        let cover = pool.getCover(cover_id).call().await?;
        let payout = pool.payoutOf(cover_id).call().await?;
        let fault = pool.getFault(cover.certificateId).call().await?;
        let state = match (fault.provenAt, fault.settled) {
            (0, _) => "none",
            (_, false) => "proven",
            (_, true) => "settled",
        };
        // Before a fault, `payoutOf` projects what a fault now would pay: not an entitlement.
        let entitled = if fault.provenAt == 0 {
            U256::ZERO
        } else {
            payout
        };
        text += &format!(
            "{cover_id:>6}  {:>14}  {:>14}  {:>14}  {state:<8}  {}\n",
            eth(U256::from(cover.amount)),
            eth(entitled),
            eth(U256::from(cover.paid)),
            cover.certificateId
        );
        rows.push(json!({
            "cover": cover_id.to_string(),
            "certificate": cover.certificateId,
            "amount_wei": cover.amount.to_string(),
            "fault": state,
            "entitled_wei": entitled.to_string(),
            "projected_payout_wei": payout.to_string(),
            "paid_wei": cover.paid.to_string(),
        }));
    }
    if rows.is_empty() {
        text = format!("{} holds no cover\n", args.holder);
    }
    l1.print(&json!({"holder": args.holder, "covers": rows}), &text);
    Ok(())
}
