//! `surety devnet deploy`: the EigenLayer core and Surety's contracts on a running anvil, every
//! address printed.

use std::path::PathBuf;

use alloy::{providers::ProviderBuilder, transports::http::reqwest::Url};
use eyre::WrapErr;
use surety_contracts::{CoreParams, Deployment, SuretyParams, account::load_signer, deploy_all};

/// anvil's first dev account (0xf39F…2266): public knowledge, for local chains only.
const ANVIL_DEV_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

#[derive(Debug, clap::Args)]
pub(super) struct DeployArgs {
    /// JSON-RPC endpoint of the L1.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8545")]
    rpc: Url,
    /// File holding the private key (hex, or an encrypted JSON keystore) that deploys and owns
    /// everything. Without it, anvil's first dev account
    /// (0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266) is used: fine for anvil, never for a shared
    /// chain.
    #[arg(long, value_name = "FILE")]
    private_key_file: Option<PathBuf>,
    /// Password (first line) of an encrypted `--private-key-file` keystore.
    #[arg(long, value_name = "FILE", requires = "private_key_file")]
    password_file: Option<PathBuf>,
    /// Also write the addresses as JSON to this file.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

pub(super) async fn deploy(args: DeployArgs) -> eyre::Result<()> {
    let signer = match &args.private_key_file {
        Some(path) => load_signer(path, args.password_file.as_deref())?,
        None => ANVIL_DEV_KEY.parse().wrap_err("anvil's dev key")?,
    };
    tracing::info!(deployer = %signer.address(), rpc = %args.rpc, "deploying the devnet L1 contracts");
    let provider = ProviderBuilder::new()
        .wallet(signer)
        .connect_http(args.rpc.clone());
    let deployment = deploy_all(&provider, CoreParams::DEVNET, &SuretyParams::devnet())
        .await
        .wrap_err_with(|| format!("deploying to {}", args.rpc))?;

    print!("{}", listing(&deployment)?);
    if let Some(out) = &args.out {
        let json = serde_json::to_string_pretty(&deployment)?;
        std::fs::write(out, json + "\n").wrap_err_with(|| format!("writing {}", out.display()))?;
        tracing::info!(file = %out.display(), "addresses written");
    }
    Ok(())
}

/// `section.name  address` lines, one per address, from the same serialisation `--out` writes.
pub(super) fn listing(deployment: &Deployment) -> eyre::Result<String> {
    fn walk(prefix: &str, value: &serde_json::Value, out: &mut Vec<(String, String)>) {
        match value {
            serde_json::Value::Object(fields) => {
                for (name, field) in fields {
                    let path = if prefix.is_empty() {
                        name.clone()
                    } else {
                        format!("{prefix}.{name}")
                    };
                    walk(&path, field, out);
                }
            }
            other => out.push((
                prefix.to_owned(),
                other.to_string().trim_matches('"').to_owned(),
            )),
        }
    }
    let mut lines = Vec::new();
    walk("", &serde_json::to_value(deployment)?, &mut lines);
    let width = lines.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
    Ok(lines
        .iter()
        .map(|(name, value)| format!("{name:width$}  {value}\n"))
        .collect())
}
