//! `surety evidence …`: the manual path to a slash, for when no watchtower did it (every
//! operator node runs one; see `surety operator run`). The accuse/resolve/slash steps are
//! `surety_contracts::evidence`'s, the same the watchtowers use, so a manual step racing a
//! watchtower reports work already done instead of failing.

use std::path::{Path, PathBuf};

use alloy::primitives::Address;
use clap::Subcommand;
use eyre::{WrapErr, bail};
use serde::Deserialize;
use serde_json::json;
use surety_contracts::{
    bindings::Slasher,
    evidence::{self, FaultState, SubmittedCertificate},
    send,
};
use surety_primitives::{PublicKey, Signature, Statement};

use super::{CertificateArgs, KeyArgs, L1, L1Args, block_on, eth, fields, refused};

#[derive(Debug, Subcommand)]
pub(crate) enum EvidenceCommand {
    /// Prove that one BLS key signed two different blocks or roots at the same rollup height
    /// (`Slasher.proveDoubleSigning`): its operator is slashed, ejected and loses its collateral.
    /// Each FILE is a signed statement: `{"statement": {"rollupId", "blockNumber", "blockHash",
    /// "parentHash", "stateRoot"}, "signature": "0x…" (48-byte compressed G1), "publicKey":
    /// "0x…" (96-byte compressed G2)}`.
    DoubleSign(DoubleSignArgs),
    /// Prove that an operator signed a statement whose root differs from the rollup's settled
    /// canonical root (`Slasher.proveInvalidStatement`). FILE as for `double-sign`.
    InvalidStatement(InvalidStatementArgs),
    /// Accuse a certificate of a wrong state root, posting the Slasher's bond. Judged at once if
    /// the canonical root is settled (refused before sending if it equals the certificate's: the
    /// bond would be lost), else by `resolve` once it settles; the bond comes back if the
    /// certificate is wrong and goes to the pool if it is right.
    Accuse(CertificateCommand),
    /// Judge a pending accusation now that the canonical root has settled.
    Resolve(CertificateCommand),
    /// Slash every signer of a certificate proven faulty (operators found from L1 events); their
    /// collateral is credited to the certificate's cover holders.
    Slash(CertificateCommand),
}

#[derive(Debug, clap::Args)]
pub(crate) struct DoubleSignArgs {
    /// The first signed statement.
    #[arg(value_name = "FILE")]
    a: PathBuf,
    /// The second signed statement, same rollup and height, another block hash or root.
    #[arg(value_name = "FILE")]
    b: PathBuf,
    #[command(flatten)]
    key: KeyArgs,
    #[command(flatten)]
    l1: L1Args,
}

#[derive(Debug, clap::Args)]
pub(crate) struct InvalidStatementArgs {
    /// The signed statement.
    #[arg(value_name = "FILE")]
    statement: PathBuf,
    #[command(flatten)]
    key: KeyArgs,
    #[command(flatten)]
    l1: L1Args,
}

#[derive(Debug, clap::Args)]
pub(crate) struct CertificateCommand {
    #[command(flatten)]
    certificate: CertificateArgs,
    #[command(flatten)]
    key: KeyArgs,
    #[command(flatten)]
    l1: L1Args,
}

/// One operator's signed statement, as evidence files hold it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignedStatement {
    statement: Statement,
    signature: Signature,
    public_key: PublicKey,
}

fn read_signed(path: &Path) -> eyre::Result<SignedStatement> {
    let text =
        std::fs::read_to_string(path).wrap_err_with(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text)
        .wrap_err_with(|| format!("{} is not a signed statement", path.display()))
}

pub(crate) fn run(command: EvidenceCommand) -> eyre::Result<()> {
    block_on(async {
        match command {
            EvidenceCommand::DoubleSign(args) => double_sign(args).await,
            EvidenceCommand::InvalidStatement(args) => invalid_statement(args).await,
            EvidenceCommand::Accuse(args) => accuse(args).await,
            EvidenceCommand::Resolve(args) => resolve(args).await,
            EvidenceCommand::Slash(args) => slash(args).await,
        }
    })
}

impl L1 {
    /// The `OperatorPunished` events of a receipt: (operator, slashed through EigenLayer,
    /// collateral forfeited).
    fn punished(receipt: &alloy::rpc::types::TransactionReceipt) -> Vec<Slasher::OperatorPunished> {
        receipt
            .logs()
            .iter()
            .filter_map(|log| log.log_decode::<Slasher::OperatorPunished>().ok())
            .map(|log| log.inner.data)
            .collect()
    }

    fn print_punished(&self, what: &str, receipt: &alloy::rpc::types::TransactionReceipt) {
        let punished = Self::punished(receipt);
        let mut text = format!("{what} (tx {})\n", receipt.transaction_hash);
        for p in &punished {
            text += &format!(
                "  {}: slashed through EigenLayer: {}, collateral forfeited {}\n",
                p.operator,
                p.slashed,
                eth(p.collateralForfeited)
            );
        }
        self.print(
            &json!({
                "tx": receipt.transaction_hash,
                "punished": punished.iter().map(|p| json!({
                    "operator": p.operator,
                    "slashed": p.slashed,
                    "collateral_forfeited_wei": p.collateralForfeited.to_string(),
                })).collect::<Vec<_>>(),
            }),
            &text,
        );
    }
}

async fn double_sign(args: DoubleSignArgs) -> eyre::Result<()> {
    let (a, b) = (read_signed(&args.a)?, read_signed(&args.b)?);
    if a.public_key != b.public_key {
        bail!("the two statements are signed by different keys");
    }
    let (l1, _) = args.l1.connect_signing(&args.key).await?;
    let receipt = send(
        "prove double signing",
        l1.slasher().proveDoubleSigning(
            a.statement.into(),
            a.signature.to_eip2537().into(),
            b.statement.into(),
            b.signature.to_eip2537().into(),
            a.public_key.to_eip2537().into(),
        ),
    )
    .await
    .map_err(refused)?;
    l1.print_punished(
        &format!(
            "double signing by key {} at rollup {} L2 #{} proven",
            a.public_key, a.statement.rollup_id, a.statement.block_number
        ),
        &receipt,
    );
    Ok(())
}

async fn invalid_statement(args: InvalidStatementArgs) -> eyre::Result<()> {
    let signed = read_signed(&args.statement)?;
    let (l1, _) = args.l1.connect_signing(&args.key).await?;
    let receipt = send(
        "prove an invalid statement",
        l1.slasher().proveInvalidStatement(
            signed.statement.into(),
            signed.signature.to_eip2537().into(),
            signed.public_key.to_eip2537().into(),
        ),
    )
    .await
    .map_err(refused)?;
    l1.print_punished(
        &format!(
            "invalid statement by key {} at rollup {} L2 #{} proven",
            signed.public_key, signed.statement.rollup_id, signed.statement.block_number
        ),
        &receipt,
    );
    Ok(())
}

/// What accusing a certificate came to.
pub(super) enum Accused {
    /// This call accused it; `faulty` if it was judged at once.
    Now { faulty: bool },
    /// It already was accused (by someone) or proven faulty.
    Already(FaultState),
}

/// Accuses `certificate` unless that would only lose the bond (its root is the settled
/// canonical root) or someone already did.
pub(super) async fn accuse_certificate(
    l1: &L1,
    certificate: &SubmittedCertificate,
) -> eyre::Result<Accused> {
    let (verifier, slasher) = (
        l1.deployment.surety.certificate_verifier,
        l1.deployment.surety.slasher,
    );
    let s = &certificate.statement;
    let canonical =
        evidence::canonical_root(&l1.provider, verifier, s.rollup_id, s.block_number).await?;
    if canonical == Some(s.state_root) {
        bail!(
            "certificate {} is correct: its root {} is the settled canonical root of L2 #{}; \
             an accusation would lose the bond",
            certificate.id,
            s.state_root,
            s.block_number
        );
    }
    if !evidence::accuse(&l1.provider, verifier, slasher, s)
        .await
        .map_err(refused)?
    {
        let state = evidence::fault_state(&l1.provider, verifier, slasher, certificate.id).await?;
        return Ok(Accused::Already(state));
    }
    let state = evidence::fault_state(&l1.provider, verifier, slasher, certificate.id).await?;
    Ok(Accused::Now {
        faulty: state == FaultState::Faulty,
    })
}

async fn accuse(args: CertificateCommand) -> eyre::Result<()> {
    let (l1, accuser) = args.l1.connect_signing(&args.key).await?;
    let certificate = l1.certificate(&args.certificate).await?;
    let bond = l1.slasher().accusationBond().call().await?;
    let outcome = accuse_certificate(&l1, &certificate).await?;
    let id = certificate.id;
    let sent = matches!(outcome, Accused::Now { .. });
    let (state, text) = match outcome {
        Accused::Now { faulty: true } => (
            "faulty",
            format!(
                "certificate {id} accused by {accuser} and proven wrong at once (the canonical \
                 root is settled); bond refunded. Next: `surety evidence slash`\n"
            ),
        ),
        Accused::Now { faulty: false } => (
            "accused",
            format!(
                "certificate {id} accused by {accuser}, bond {} posted; judged by `surety \
                 evidence resolve` once the canonical root of L2 #{} settles\n",
                eth(bond),
                certificate.statement.block_number
            ),
        ),
        Accused::Already(state) => (
            state_name(state),
            format!(
                "certificate {id} is already {}: nothing sent\n",
                state_name(state)
            ),
        ),
    };
    l1.print(
        &json!({"certificate": id, "state": state, "sent": sent}),
        &text,
    );
    Ok(())
}

async fn resolve(args: CertificateCommand) -> eyre::Result<()> {
    let (l1, _) = args.l1.connect_signing(&args.key).await?;
    let certificate = l1.certificate(&args.certificate).await?;
    let (verifier, slasher) = (
        l1.deployment.surety.certificate_verifier,
        l1.deployment.surety.slasher,
    );
    let id = certificate.id;
    let s = &certificate.statement;
    let sent = evidence::resolve(&l1.provider, verifier, slasher, s)
        .await
        .map_err(refused)?;
    let state = evidence::fault_state(&l1.provider, verifier, slasher, id).await?;
    let text = match (sent, state) {
        (_, FaultState::Accused) => bail!(
            "the canonical root of rollup {} L2 #{} has not settled yet: the accusation against \
             {id} cannot be judged",
            s.rollup_id,
            s.block_number
        ),
        (false, FaultState::Standing) => {
            bail!("certificate {id} is not accused: nothing to resolve")
        }
        (sent, FaultState::Faulty) => format!(
            "certificate {id} is {}proven wrong. Next: `surety evidence slash --rollup {} \
             --height {}`\n",
            if sent { "" } else { "already " },
            s.rollup_id,
            s.block_number
        ),
        (true, FaultState::Standing) => format!(
            "certificate {id} is correct: the accusation was rejected and its bond went to the \
             pool\n"
        ),
    };
    l1.print(
        &json!({"certificate": id, "state": state_name(state), "sent": sent}),
        &text,
    );
    Ok(())
}

async fn slash(args: CertificateCommand) -> eyre::Result<()> {
    let (l1, _) = args.l1.connect_signing(&args.key).await?;
    let certificate = l1.certificate(&args.certificate).await?;
    let (verifier, slasher) = (
        l1.deployment.surety.certificate_verifier,
        l1.deployment.surety.slasher,
    );
    let id = certificate.id;
    let state = evidence::fault_state(&l1.provider, verifier, slasher, id).await?;
    if state != FaultState::Faulty {
        bail!(
            "certificate {id} is {}, not proven faulty: its signers cannot be slashed (accuse \
             it first)",
            state_name(state)
        );
    }
    let slashed: Vec<Address> = evidence::slash_signers(
        &l1.provider,
        l1.deployment.surety.operator_registry,
        slasher,
        &certificate,
    )
    .await
    .map_err(refused)?;
    let text = if slashed.is_empty() {
        format!("every signer of certificate {id} was already punished: nothing sent\n")
    } else {
        fields(
            &slashed
                .iter()
                .map(|operator| ("slashed", operator.to_string()))
                .collect::<Vec<_>>(),
        )
    };
    l1.print(&json!({"certificate": id, "slashed": slashed}), &text);
    Ok(())
}

pub(super) fn state_name(state: FaultState) -> &'static str {
    match state {
        FaultState::Standing => "standing",
        FaultState::Accused => "accused",
        FaultState::Faulty => "faulty",
    }
}
