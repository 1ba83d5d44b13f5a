//! `surety rollup …`: a rollup owner registers its rollup, watches it, funds it, sets its
//! quorum threshold and pauses it; anyone asks whether a block is final.

use alloy::{
    primitives::{Address, B256, U256},
    providers::ProviderBuilder,
    transports::http::reqwest::Url,
};
use clap::Subcommand;
use eyre::{WrapErr, bail, eyre};
use serde_json::json;
use surety_contracts::{
    bindings::RollupStatus,
    deploy_posted_root_source,
    finality::{self, Finality},
    send,
};

use super::{KeyArgs, L1Args, block_on, eth, fields, parse_amount, refused};

#[derive(Debug, Subcommand)]
pub(crate) enum RollupCommand {
    /// Register an L2 as a Surety rollup owned by your key's account; prints its rollup id. The
    /// canonical-root source decides every invalid-root fault and can never be changed: give an
    /// existing `ICanonicalRootSource` with `--root-source`, or `--posted-roots` to deploy a
    /// `PostedRootSource` whose poster is your account (you then post each final root once).
    Register(RegisterArgs),
    /// Show a rollup: owner, chain, threshold, root source, `rollupStatus` (Active, Paused,
    /// Halted) and any circuit-breaker alert, certified head, fee balance.
    Status(StatusArgs),
    /// Add to a rollup's fee balance (`fund(rollupId)`; anyone may).
    Fund(FundArgs),
    /// Set the share of stake a certificate needs, in basis points (6,667 to 10,000; owner only).
    SetThreshold(SetThresholdArgs),
    /// Pause the rollup (no new certificates, no cover; recorded certificates stay valid), or
    /// resume it with `--unpause` (owner only).
    Pause(PauseArgs),
    /// Whether an L2 block, as your L2 endpoint reports it, is final on L1: certified itself or
    /// an ancestor of a certified block (`isFinalAncestor`, with the headers in between fetched
    /// from the endpoint and checked against their hashes). Exits 1 when it is not final.
    IsFinal(IsFinalArgs),
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["root_source", "posted_roots"])))]
pub(crate) struct RegisterArgs {
    /// The L2's chain id.
    #[arg(long, value_name = "ID")]
    chain_id: u64,
    /// Hash of the L2's genesis block.
    #[arg(long, value_name = "HASH")]
    genesis_hash: B256,
    /// State root of the L2's genesis (what operators check their own genesis against).
    #[arg(long, value_name = "ROOT")]
    genesis_root: B256,
    /// Share of the slashable stake a certificate needs, in basis points.
    #[arg(long, value_name = "BPS", default_value_t = 6_667)]
    threshold_bps: u16,
    /// The rollup's canonical-root source (an `ICanonicalRootSource` contract).
    #[arg(long, value_name = "ADDRESS")]
    root_source: Option<Address>,
    /// Deploy a `PostedRootSource` posted by your account and use it as the source.
    #[arg(long)]
    posted_roots: bool,
    /// Fee balance to fund at registration (wei, or `1.5eth`).
    #[arg(long, value_name = "AMOUNT", value_parser = parse_amount, default_value = "0")]
    fee: U256,
    #[command(flatten)]
    key: KeyArgs,
    #[command(flatten)]
    l1: L1Args,
}

#[derive(Debug, clap::Args)]
pub(crate) struct StatusArgs {
    /// Rollup id.
    #[arg(long, value_name = "ID")]
    rollup: u64,
    #[command(flatten)]
    l1: L1Args,
}

#[derive(Debug, clap::Args)]
pub(crate) struct FundArgs {
    /// Rollup id.
    #[arg(long, value_name = "ID")]
    rollup: u64,
    /// Amount to add (wei, or `1.5eth`).
    #[arg(long, value_name = "AMOUNT", value_parser = parse_amount)]
    amount: U256,
    #[command(flatten)]
    key: KeyArgs,
    #[command(flatten)]
    l1: L1Args,
}

#[derive(Debug, clap::Args)]
pub(crate) struct SetThresholdArgs {
    /// Rollup id.
    #[arg(long, value_name = "ID")]
    rollup: u64,
    /// New threshold in basis points (6,667 to 10,000).
    #[arg(long, value_name = "BPS")]
    bps: u16,
    #[command(flatten)]
    key: KeyArgs,
    #[command(flatten)]
    l1: L1Args,
}

#[derive(Debug, clap::Args)]
pub(crate) struct PauseArgs {
    /// Rollup id.
    #[arg(long, value_name = "ID")]
    rollup: u64,
    /// Resume instead of pausing.
    #[arg(long)]
    unpause: bool,
    #[command(flatten)]
    key: KeyArgs,
    #[command(flatten)]
    l1: L1Args,
}

#[derive(Debug, clap::Args)]
pub(crate) struct IsFinalArgs {
    /// Rollup id.
    #[arg(long, value_name = "ID")]
    rollup: u64,
    /// L2 block height.
    #[arg(long, value_name = "N")]
    block: u64,
    /// JSON-RPC endpoint of the L2 (with `--devnet`, the devnet's L2 by default).
    #[arg(long, value_name = "URL")]
    l2_rpc: Option<Url>,
    #[command(flatten)]
    l1: L1Args,
}

pub(crate) fn run(command: RollupCommand) -> eyre::Result<()> {
    block_on(async {
        match command {
            RollupCommand::Register(args) => register(args).await,
            RollupCommand::Status(args) => status(args).await,
            RollupCommand::Fund(args) => fund(args).await,
            RollupCommand::SetThreshold(args) => set_threshold(args).await,
            RollupCommand::Pause(args) => pause(args).await,
            RollupCommand::IsFinal(args) => is_final(args).await,
        }
    })
}

async fn register(args: RegisterArgs) -> eyre::Result<()> {
    let (l1, owner) = args.l1.connect_signing(&args.key).await?;
    let source = match args.root_source {
        Some(source) => source,
        None => deploy_posted_root_source(&l1.provider, owner)
            .await
            .map_err(refused)?,
    };
    let receipt = send(
        "register the rollup",
        l1.verifier()
            .register(
                args.chain_id,
                args.genesis_hash,
                args.genesis_root,
                args.threshold_bps,
                source,
            )
            .value(args.fee),
    )
    .await
    .map_err(refused)?;
    let event = receipt
        .decoded_log::<surety_contracts::bindings::CertificateVerifier::RollupRegistered>()
        .ok_or_else(|| eyre!("the registration emitted no RollupRegistered event"))?;
    let id = event.rollupId;
    let kind = if args.posted_roots {
        " (PostedRootSource: post each final root once with `post(height, root)`)"
    } else {
        ""
    };
    l1.print(
        &json!({
            "rollup": id,
            "chain_id": args.chain_id,
            "owner": owner,
            "root_source": source,
            "posted_roots": args.posted_roots,
            "threshold_bps": args.threshold_bps,
            "tx": receipt.transaction_hash,
        }),
        &format!(
            "rollup {id} registered for chain {} by {owner}\n{}",
            args.chain_id,
            fields(&[
                ("root source", format!("{source}{kind}")),
                ("threshold", format!("{} bps", args.threshold_bps)),
                ("fee balance", eth(args.fee)),
                ("tx", receipt.transaction_hash.to_string()),
            ])
        ),
    );
    Ok(())
}

async fn status(args: StatusArgs) -> eyre::Result<()> {
    let l1 = args.l1.connect().await?;
    let verifier = l1.verifier();
    let rollup = verifier.getRollup(args.rollup).call().await?;
    if rollup.owner == Address::ZERO {
        bail!("rollup {} is not registered", args.rollup);
    }
    let state = RollupStatus::try_from(verifier.rollupStatus(args.rollup).call().await?)?;
    let head = verifier.headOf(args.rollup).call().await?;
    let alert = verifier.alertOf(args.rollup).call().await?;
    let alert_json = (alert.blockNumber != 0).then(|| {
        json!({
            "height": alert.blockNumber,
            "raised_at": alert.raisedAt.to::<u64>(),
            "claimed_state_root": alert.claimedStateRoot,
            "signed_stake": alert.signedStake.to_string(),
        })
    });
    // The head slot keeps the first 192 bits of the block hash.
    let head_hash = format!(
        "0x{}…",
        hex::encode(&head.blockHashPrefix.to_be_bytes::<24>()[..8])
    );
    let mut rows = vec![
        ("owner", rollup.owner.to_string()),
        ("chain id", rollup.chainId.to_string()),
        ("status", format!("{state:?}")),
        ("paused", rollup.paused.to_string()),
        (
            "certified head",
            if head.blockNumber == 0 {
                "genesis (nothing certified yet, or fell back after a fault)".to_owned()
            } else {
                format!("L2 #{} (block {head_hash})", head.blockNumber)
            },
        ),
        ("threshold", format!("{} bps", rollup.thresholdBps)),
        ("root source", rollup.rootSource.to_string()),
        ("genesis hash", rollup.genesisBlockHash.to_string()),
        ("genesis root", rollup.genesisStateRoot.to_string()),
        ("fee balance", eth(rollup.feeBalance)),
    ];
    if alert.blockNumber != 0 {
        rows.push((
            "ALERT",
            format!(
                "circuit breaker at L2 #{}: operators' re-execution disagrees with the claimed \
                 root {}; certificates at or above it are refused, apps should pause",
                alert.blockNumber, alert.claimedStateRoot
            ),
        ));
    }
    l1.print(
        &json!({
            "rollup": args.rollup,
            "owner": rollup.owner,
            "chain_id": rollup.chainId,
            "status": format!("{state:?}"),
            "paused": rollup.paused,
            "alert": alert_json,
            "certified_head": head.blockNumber,
            "threshold_bps": rollup.thresholdBps,
            "root_source": rollup.rootSource,
            "genesis_hash": rollup.genesisBlockHash,
            "genesis_root": rollup.genesisStateRoot,
            "fee_balance_wei": rollup.feeBalance.to_string(),
        }),
        &format!("rollup {}\n{}", args.rollup, fields(&rows)),
    );
    Ok(())
}

async fn fund(args: FundArgs) -> eyre::Result<()> {
    let (l1, from) = args.l1.connect_signing(&args.key).await?;
    let receipt = send(
        "fund the rollup",
        l1.verifier().fund(args.rollup).value(args.amount),
    )
    .await
    .map_err(refused)?;
    let balance = l1
        .verifier()
        .getRollup(args.rollup)
        .call()
        .await?
        .feeBalance;
    l1.print(
        &json!({
            "rollup": args.rollup,
            "from": from,
            "amount_wei": args.amount.to_string(),
            "fee_balance_wei": balance.to_string(),
            "tx": receipt.transaction_hash,
        }),
        &format!(
            "rollup {} funded with {} by {from}: fee balance {} (tx {})\n",
            args.rollup,
            eth(args.amount),
            eth(balance),
            receipt.transaction_hash
        ),
    );
    Ok(())
}

async fn set_threshold(args: SetThresholdArgs) -> eyre::Result<()> {
    let (l1, _) = args.l1.connect_signing(&args.key).await?;
    let receipt = send(
        "set the threshold",
        l1.verifier().setThreshold(args.rollup, args.bps),
    )
    .await
    .map_err(refused)?;
    l1.print(
        &json!({"rollup": args.rollup, "threshold_bps": args.bps, "tx": receipt.transaction_hash}),
        &format!(
            "rollup {}: certificates now need {} bps of the stake (tx {})\n",
            args.rollup, args.bps, receipt.transaction_hash
        ),
    );
    Ok(())
}

async fn pause(args: PauseArgs) -> eyre::Result<()> {
    let (l1, _) = args.l1.connect_signing(&args.key).await?;
    let paused = !args.unpause;
    let step = if paused {
        "pause the rollup"
    } else {
        "unpause the rollup"
    };
    let receipt = send(step, l1.verifier().setPaused(args.rollup, paused))
        .await
        .map_err(refused)?;
    l1.print(
        &json!({"rollup": args.rollup, "paused": paused, "tx": receipt.transaction_hash}),
        &format!(
            "rollup {} {} (tx {})\n",
            args.rollup,
            if paused {
                "paused: no new certificates and no cover until unpaused"
            } else {
                "unpaused"
            },
            receipt.transaction_hash
        ),
    );
    Ok(())
}

async fn is_final(args: IsFinalArgs) -> eyre::Result<()> {
    let l2_rpc = match (&args.l2_rpc, &args.l1.devnet) {
        (Some(url), _) => url.clone(),
        (None, Some(dir)) => devnet_l2_rpc(dir, args.rollup)?,
        (None, None) => bail!("give the L2's JSON-RPC endpoint with --l2-rpc"),
    };
    let l1 = args.l1.connect().await?;
    let l2 = ProviderBuilder::new().connect_http(l2_rpc.clone());
    let answer = finality::is_final(
        &l1.provider,
        &l1.deployment.surety,
        &l2,
        args.rollup,
        args.block,
    )
    .await
    .wrap_err_with(|| format!("checking L2 block {} against {l2_rpc}", args.block))?;
    let (verdict, by, text) = match answer {
        Finality::Final { by } => (
            "final",
            Some(by),
            if by.block_number == args.block {
                format!("L2 #{} is final: certified on L1\n", args.block)
            } else {
                format!(
                    "L2 #{} is final: covered by the certificate on L2 #{} ({} headers checked)\n",
                    args.block,
                    by.block_number,
                    by.block_number - args.block + 1
                )
            },
        ),
        Finality::NotYet => (
            "not_final",
            None,
            format!(
                "L2 #{} is not final yet: no standing certificate at or above it\n",
                args.block
            ),
        ),
        Finality::Conflicting { certified } => (
            "conflicting",
            Some(certified),
            format!(
                "L2 #{} is NOT final as {l2_rpc} reports it: the certificate on L2 #{} (block {}) \
                 is on another chain\n",
                args.block, certified.block_number, certified.block_hash
            ),
        ),
    };
    l1.print(
        &json!({
            "rollup": args.rollup,
            "block": args.block,
            "verdict": verdict,
            "certificate": by.map(|c| json!({
                "block": c.block_number,
                "block_hash": c.block_hash,
                "state_root": c.state_root,
            })),
        }),
        &text,
    );
    if verdict != "final" {
        std::process::exit(1);
    }
    Ok(())
}

/// The L2 endpoint a running devnet's `devnet.json` gives for `rollup`.
fn devnet_l2_rpc(dir: &std::path::Path, rollup: u64) -> eyre::Result<Url> {
    let path = dir.join("devnet.json");
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(&path).wrap_err_with(|| format!("reading {}", path.display()))?,
    )
    .wrap_err_with(|| format!("parsing {}", path.display()))?;
    manifest["rollups"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["id"].as_u64() == Some(rollup))
        .and_then(|r| r["rpc"].as_str())
        .ok_or_else(|| eyre!("{} has no rollup {rollup}", path.display()))?
        .parse()
        .wrap_err("the devnet's L2 RPC")
}
