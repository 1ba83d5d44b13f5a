//! `surety rollup|cover|claim|evidence`: what rollup owners, cover buyers and watchers do on L1
//! by hand. Each group is its own module; the plumbing they share is here, once: where the L1
//! and the deployment are (`--l1-rpc`, `--deployment` or `--devnet`), the ECDSA key (a file,
//! never argv), finding a certificate by rollup and height, amounts, and decoding contract
//! reverts into their names.

pub(crate) mod claim;
pub(crate) mod cover;
pub(crate) mod evidence;
pub(crate) mod rollup;

use std::{future::Future, path::PathBuf};

use alloy::{
    primitives::{Address, B256, U256, utils::format_ether},
    providers::{DynProvider, Provider, ProviderBuilder},
    rpc::types::Filter,
    signers::local::PrivateKeySigner,
    sol_types::SolEvent,
    transports::http::reqwest::Url,
};
use eyre::{WrapErr, bail, eyre};
use surety_contracts::{
    Deployment,
    account::load_signer,
    bindings::{
        CertificateVerifier::{self, CertificateVerifierErrors},
        CompensationPool::{self, CompensationPoolErrors},
        PostedRootSource::PostedRootSourceErrors,
        Slasher::{self, SlasherErrors},
    },
    evidence::{SubmittedCertificate, submitted_certificates},
    logs::logs_since,
};

/// Where the L1 and Surety's contracts are, and how to print.
#[derive(Debug, clap::Args)]
pub(crate) struct L1Args {
    /// JSON-RPC endpoint of the L1.
    #[arg(
        long,
        value_name = "URL",
        env = "SURETY_L1_RPC",
        default_value = "http://127.0.0.1:8545"
    )]
    l1_rpc: Url,
    /// Surety's addresses: the `l1.json` that `surety devnet` and `surety devnet deploy --out`
    /// write.
    #[arg(
        long,
        value_name = "FILE",
        env = "SURETY_DEPLOYMENT",
        default_value = ".surety/devnet/l1.json"
    )]
    deployment: PathBuf,
    /// A running `surety devnet`'s datadir: the L1 RPC from its `devnet.json` and the addresses
    /// from its `l1.json` (instead of `--l1-rpc` and `--deployment`).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["l1_rpc", "deployment"])]
    devnet: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// The account that signs and pays.
#[derive(Debug, clap::Args)]
pub(crate) struct KeyArgs {
    /// File holding the ECDSA key that signs and pays for the transaction: the hex key, or an
    /// encrypted JSON keystore (geth, `cast wallet new`, the EigenLayer CLI). Keys are never
    /// taken from the command line, where other users and shell history see them.
    #[arg(long, value_name = "FILE", env = "SURETY_KEY_FILE")]
    key_file: PathBuf,
    /// File whose first line is the password of an encrypted `--key-file`.
    #[arg(long, value_name = "FILE", env = "SURETY_PASSWORD_FILE")]
    password_file: Option<PathBuf>,
}

/// Which certificate: the one L1 recorded for a rollup at a height.
#[derive(Debug, clap::Args)]
pub(crate) struct CertificateArgs {
    /// Rollup id (as statements carry it; `surety rollup status` shows it).
    #[arg(long, value_name = "ID")]
    rollup: u64,
    /// L2 block height the certificate is for.
    #[arg(long, value_name = "N")]
    height: u64,
    /// The certificate id, when L1 recorded several at that height (a wrong one and the true
    /// one after it was proven faulty).
    #[arg(long, value_name = "ID")]
    certificate: Option<B256>,
}

/// A connected L1 and Surety's addresses on it.
pub(crate) struct L1 {
    provider: DynProvider,
    deployment: Deployment,
    json: bool,
}

impl L1Args {
    /// Connects for reading.
    async fn connect(&self) -> eyre::Result<L1> {
        self.connect_as(None).await
    }

    /// Connects with `key`'s account as the sender of every transaction.
    async fn connect_signing(&self, key: &KeyArgs) -> eyre::Result<(L1, Address)> {
        let signer = load_signer(&key.key_file, key.password_file.as_deref())?;
        let address = signer.address();
        Ok((self.connect_as(Some(signer)).await?, address))
    }

    async fn connect_as(&self, signer: Option<PrivateKeySigner>) -> eyre::Result<L1> {
        let (rpc, deployment_file) = match &self.devnet {
            Some(dir) => {
                let path = dir.join("devnet.json");
                let manifest: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(&path).wrap_err_with(|| {
                        format!("reading {} (is the devnet up?)", path.display())
                    })?)
                    .wrap_err_with(|| format!("parsing {}", path.display()))?;
                let rpc = manifest["l1"]["rpc"]
                    .as_str()
                    .ok_or_else(|| eyre!("{} names no l1.rpc", path.display()))?
                    .parse()
                    .wrap_err("the devnet's L1 RPC")?;
                (rpc, dir.join("l1.json"))
            }
            None => (self.l1_rpc.clone(), self.deployment.clone()),
        };
        let deployment: Deployment = serde_json::from_slice(
            &std::fs::read(&deployment_file)
                .wrap_err_with(|| format!("reading {}", deployment_file.display()))?,
        )
        .wrap_err_with(|| format!("{} is not a deployment file", deployment_file.display()))?;
        let provider = match signer {
            Some(signer) => ProviderBuilder::new()
                .wallet(signer)
                .connect_http(rpc.clone())
                .erased(),
            None => ProviderBuilder::new().connect_http(rpc.clone()).erased(),
        };
        let chain_id = provider
            .get_chain_id()
            .await
            .wrap_err_with(|| format!("cannot reach the L1 at {rpc}"))?;
        if chain_id != deployment.chain_id {
            bail!(
                "{rpc} is chain {chain_id}, but {} describes a deployment on chain {}",
                deployment_file.display(),
                deployment.chain_id
            );
        }
        Ok(L1 {
            provider,
            deployment,
            json: self.json,
        })
    }
}

impl L1 {
    fn verifier(&self) -> CertificateVerifier::CertificateVerifierInstance<&DynProvider> {
        CertificateVerifier::new(self.deployment.surety.certificate_verifier, &self.provider)
    }

    fn pool(&self) -> CompensationPool::CompensationPoolInstance<&DynProvider> {
        CompensationPool::new(self.deployment.surety.compensation_pool, &self.provider)
    }

    fn slasher(&self) -> Slasher::SlasherInstance<&DynProvider> {
        Slasher::new(self.deployment.surety.slasher, &self.provider)
    }

    /// The timestamp of the latest L1 block: contracts judge windows by it, not by our clock.
    async fn now(&self) -> eyre::Result<u64> {
        Ok(self
            .provider
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
            .await?
            .ok_or_else(|| eyre!("the L1 has no latest block"))?
            .header
            .timestamp)
    }

    /// Prints `value` with `--json`, else `text`.
    fn print(&self, value: &serde_json::Value, text: &str) {
        if self.json {
            println!("{value}");
        } else {
            print!("{text}");
        }
    }

    /// The certificate `which` names, with the statement and proof its submitter sent (read from
    /// the `CertificateSubmitted` log and its transaction).
    async fn certificate(&self, which: &CertificateArgs) -> eyre::Result<SubmittedCertificate> {
        let filter = Filter::new()
            .address(self.deployment.surety.certificate_verifier)
            .event_signature(CertificateVerifier::CertificateSubmitted::SIGNATURE_HASH)
            .topic1(U256::from(which.rollup))
            .topic2(U256::from(which.height));
        let logs = logs_since(&self.provider, &filter, self.deployment.surety.deployed_at)
            .await
            .wrap_err("reading CertificateSubmitted logs")?;
        let mut found: Vec<SubmittedCertificate> = Vec::new();
        for log in logs {
            let certificate = self.submitted(&log).await?;
            if found.iter().any(|c| c.id == certificate.id)
                || which.certificate.is_some_and(|w| w != certificate.id)
            {
                continue;
            }
            found.push(certificate);
        }
        match found.len() {
            0 => bail!(
                "L1 has no certificate{} for rollup {} at height {}",
                which
                    .certificate
                    .map_or(String::new(), |id| format!(" {id}")),
                which.rollup,
                which.height
            ),
            1 => Ok(found.remove(0)),
            _ => bail!(
                "L1 recorded {} certificates for rollup {} at height {}; choose one with \
                 --certificate: {}",
                found.len(),
                which.rollup,
                which.height,
                found
                    .iter()
                    .map(|c| c.id.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// The certificate with id `id` (a cover names its certificate by id).
    async fn certificate_by_id(&self, id: B256) -> eyre::Result<SubmittedCertificate> {
        let filter = Filter::new()
            .address(self.deployment.surety.certificate_verifier)
            .event_signature(CertificateVerifier::CertificateSubmitted::SIGNATURE_HASH)
            .topic3(id);
        let logs = logs_since(&self.provider, &filter, self.deployment.surety.deployed_at)
            .await
            .wrap_err("reading CertificateSubmitted logs")?;
        let log = logs
            .first()
            .ok_or_else(|| eyre!("L1 has no certificate {id}"))?;
        self.submitted(log).await
    }

    /// The certificate a `CertificateSubmitted` log records, decoded from its transaction.
    async fn submitted(&self, log: &alloy::rpc::types::Log) -> eyre::Result<SubmittedCertificate> {
        let event = log
            .log_decode::<CertificateVerifier::CertificateSubmitted>()?
            .inner;
        let block = log
            .block_number
            .ok_or_else(|| eyre!("a log without a block"))?;
        submitted_certificates(
            &self.provider,
            self.deployment.surety.certificate_verifier,
            event.rollupId,
            block,
            block,
        )
        .await
        .wrap_err("reading the certificate's transaction")?
        .into_iter()
        .find(|c| c.id == event.certificateId)
        .ok_or_else(|| {
            eyre!(
                "certificate {} was not submitted by a direct submitCertificate call",
                event.certificateId
            )
        })
    }
}

/// Runs one command to completion on a single-threaded runtime.
fn block_on(command: impl Future<Output = eyre::Result<()>>) -> eyre::Result<()> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(command)
}

/// Turns a failed contract call into an error naming the revert (`CoverWindowClosed { closedAt:
/// … }`) when one of Surety's contracts refused it.
fn refused(error: surety_contracts::Error) -> eyre::Report {
    let source = match &error {
        surety_contracts::Error::Call { source, .. }
        | surety_contracts::Error::Read { source, .. }
        | surety_contracts::Error::Deploy { source, .. } => Some(source),
        _ => None,
    };
    match source.and_then(revert_name) {
        Some(name) => eyre!("{error}: the contract refused: {name}"),
        None => eyre::Report::new(error),
    }
}

/// The name and arguments of a Surety revert. Errors of the same signature in several contracts
/// (`UnknownCertificate`) decode the same, so the contract is not named.
fn revert_name(error: &alloy::contract::Error) -> Option<String> {
    // `Variant(Variant { field: … })` → `Variant { field: … }`.
    fn inner(debug: String) -> String {
        match debug.split_once('(') {
            Some((_, rest)) => rest.strip_suffix(')').unwrap_or(rest).to_owned(),
            None => debug,
        }
    }
    error
        .as_decoded_interface_error::<CompensationPoolErrors>()
        .map(|e| inner(format!("{e:?}")))
        .or_else(|| {
            error
                .as_decoded_interface_error::<SlasherErrors>()
                .map(|e| inner(format!("{e:?}")))
        })
        .or_else(|| {
            error
                .as_decoded_interface_error::<CertificateVerifierErrors>()
                .map(|e| inner(format!("{e:?}")))
        })
        .or_else(|| {
            error
                .as_decoded_interface_error::<PostedRootSourceErrors>()
                .map(|e| inner(format!("{e:?}")))
        })
}

/// Parses an amount: wei (`1000`), or ether with a suffix (`1.5eth`, `0.01ether`).
fn parse_amount(s: &str) -> Result<U256, String> {
    let s = s.trim();
    let ether = s.strip_suffix("ether").or_else(|| s.strip_suffix("eth"));
    match ether {
        Some(ether) => alloy::primitives::utils::parse_ether(ether.trim())
            .map_err(|e| format!("{s:?} is not an ether amount: {e}")),
        None => s
            .strip_suffix("wei")
            .unwrap_or(s)
            .trim()
            .parse()
            .map_err(|_| format!("{s:?} is not an amount (wei, or ether as `1.5eth`)")),
    }
}

/// `1.5 ETH`: ether without trailing zeros.
fn eth(wei: U256) -> String {
    let text = format_ether(wei);
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text} ETH")
}

/// `in 42 s` / `42 s ago` relative to L1 time.
fn relative(at: u64, now: u64) -> String {
    if at >= now {
        format!("in {} s", at - now)
    } else {
        format!("{} s ago", now - at)
    }
}

/// Aligned `label  value` lines.
fn fields(rows: &[(&str, String)]) -> String {
    let width = rows.iter().map(|(label, _)| label.len()).max().unwrap_or(0);
    rows.iter()
        .map(|(label, value)| format!("{label:width$}  {value}\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_parse_as_wei_or_ether() {
        assert_eq!(parse_amount("1000"), Ok(U256::from(1000)));
        assert_eq!(parse_amount("7wei"), Ok(U256::from(7)));
        assert_eq!(
            parse_amount("1.5eth"),
            Ok(U256::from(1_500_000_000_000_000_000u128))
        );
        assert_eq!(
            parse_amount("0.01 ether"),
            Ok(U256::from(10_000_000_000_000_000u128))
        );
        assert!(parse_amount("lots").is_err());
        assert_eq!(eth(U256::from(1_500_000_000_000_000_000u128)), "1.5 ETH");
        assert_eq!(eth(U256::ZERO), "0 ETH");
    }
}
