//! `surety operator status`: what a running node is doing, per rollup and per aggregator,
//! read from its HTTP endpoint (`GET /status`).

use std::net::SocketAddr;

use eyre::{WrapErr, bail, eyre};
use surety_operator::config::OperatorConfig;
use surety_primitives::config::ConfigFile;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The node's configuration; its `http_addr` is queried.
    #[arg(
        long,
        value_name = "FILE",
        env = "SURETY_OPERATOR_CONFIG",
        required_unless_present = "http"
    )]
    config: Option<std::path::PathBuf>,
    /// Query this address instead (e.g. 127.0.0.1:9100).
    #[arg(long, value_name = "ADDR", conflicts_with = "config")]
    http: Option<SocketAddr>,
    /// Print the raw JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: Args) -> eyre::Result<()> {
    let addr = match (args.http, &args.config) {
        (Some(addr), _) => addr,
        (None, Some(path)) => OperatorConfig::load(path)?
            .http_addr
            .ok_or_else(|| eyre!("{} sets no `http_addr` to query", path.display()))?,
        (None, None) => unreachable!("clap requires one"),
    };
    let body = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(get(addr, "/status"))
        .wrap_err_with(|| format!("querying the node at http://{addr}/status (is it running?)"))?;
    if args.json {
        println!("{body}");
        return Ok(());
    }
    let status: serde_json::Value = serde_json::from_str(&body)?;
    print_status(&status);
    Ok(())
}

async fn get(addr: SocketAddr, path: &str) -> eyre::Result<String> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let Some((head, body)) = response.split_once("\r\n\r\n") else {
        bail!("malformed HTTP response");
    };
    if !head.starts_with("HTTP/1.1 200") {
        bail!("{}", head.lines().next().unwrap_or_default());
    }
    Ok(body.to_owned())
}

fn print_status(status: &serde_json::Value) {
    let n = |v: &serde_json::Value, k: &str| v[k].as_u64().unwrap_or(0);
    if let Some(key) = status["public_key"].as_str() {
        println!("BLS key {key}");
    }
    println!(
        "{:>7}  {:>14}  {:>10}  {:>10}  {:>10}  {:>10}  {:>6}  {:>10}",
        "rollup", "sign at", "L2 head", "verified", "signable", "signed", "reorgs", "mismatches"
    );
    for r in status["rollups"].as_array().into_iter().flatten() {
        println!(
            "{:>7}  {:>14}  {:>10}  {:>10}  {:>10}  {:>10}  {:>6}  {:>10}",
            n(r, "id"),
            r["sign_at"].as_str().unwrap_or_default(),
            n(r, "chain_head"),
            n(r, "verified_head"),
            n(r, "signable_head"),
            n(r, "signed_head"),
            n(r, "reorgs"),
            n(r, "mismatches"),
        );
    }
    for a in status["aggregators"].as_array().into_iter().flatten() {
        let last = n(a, "last_success");
        let ago = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
            .saturating_sub(last);
        println!(
            "aggregator {}: {} queued, {} accepted, {} duplicate, {} retries, last success {}",
            a["url"].as_str().unwrap_or_default(),
            n(a, "queue_depth"),
            n(a, "accepted"),
            n(a, "duplicate"),
            n(a, "retries"),
            if last == 0 {
                "never".to_owned()
            } else {
                format!("{ago} s ago")
            }
        );
    }
    let w = &status["watchtower"];
    if w.is_object() {
        println!(
            "watchtower: {} certificates checked, {} accusations, {} operators slashed, {} L1 errors",
            n(w, "certificates_checked"),
            n(w, "accusations"),
            n(w, "operators_slashed"),
            n(w, "l1_errors"),
        );
        for d in w["disputes"].as_array().into_iter().flatten() {
            println!(
                "  dispute: rollup {} block {}: certified root {}, computed {}: {}",
                n(d, "rollup_id"),
                n(d, "block_number"),
                d["certified_root"].as_str().unwrap_or_default(),
                d["computed_root"].as_str().unwrap_or_default(),
                d["stage"].as_str().unwrap_or_default(),
            );
        }
    } else {
        println!("watchtower: off (no keys.ecdsa_key_file or no Slasher address)");
    }
}
