//! SIGKILL and restart of a real aggregator process: nothing it answered as accepted is lost,
//! and the restarted process recovers its submission nonce from L1.
//!
//! The test binary re-executes itself as the aggregator (`SURETY_AGGREGATOR_CHILD=<config>`), so
//! it needs no other binary; the parent plays the operators over gRPC.

mod common;

use std::{
    io::{BufRead, BufReader},
    net::SocketAddr,
    path::Path,
    process::{Child, Command, Stdio},
};

use alloy::primitives::B256;
use common::{Devnet, client, submit};
use surety_aggregator::{Aggregator, AggregatorConfig};
use surety_primitives::config::ConfigFile;
use surety_proto::v1;

const CHILD: &str = "SURETY_AGGREGATOR_CHILD";

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    if let Ok(config) = std::env::var(CHILD) {
        rt.block_on(async {
            let config = AggregatorConfig::load(Path::new(&config)).unwrap();
            let aggregator = Aggregator::start(&config).await.unwrap();
            println!("grpc {}", aggregator.grpc_addr());
            std::future::pending::<()>().await;
        });
        return;
    }
    rt.block_on(sigkill_loses_nothing_accepted());
    println!("test sigkill_loses_nothing_accepted ... ok");
}

/// Starts the aggregator process and returns it with its gRPC address.
fn spawn(config: &Path) -> (Child, SocketAddr) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .env(CHILD, config)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line.trim().strip_prefix("grpc ").unwrap().parse().unwrap();
    (child, addr)
}

async fn sigkill_loses_nothing_accepted() {
    let devnet = Devnet::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = devnet.config(dir.path());
    let s = &devnet.deployment.surety;
    let path = dir.path().join("aggregator.toml");
    std::fs::write(
        &path,
        format!(
            "datadir = {:?}\ngrpc_addr = \"127.0.0.1:0\"\n[l1]\nrpc = {:?}\n\
             certificate_verifier = \"{}\"\noperator_registry = \"{}\"\nslasher = \"{}\"\n\
             ecdsa_key_file = {:?}\npoll_interval_ms = 100\n",
            config.datadir,
            config.l1.rpc,
            s.certificate_verifier,
            s.operator_registry,
            s.slasher,
            config.l1.ecdsa_key_file
        ),
    )
    .unwrap();
    let chain = devnet.chain(3, "l2");
    let accepted = |results: &[v1::AttestationResult]| {
        results
            .iter()
            .all(|r| r.status == i32::from(v1::Status::Accepted))
    };

    // Run 1: a certificate on block 1 (a transaction, so a nonce is used), then operators 0 and
    // 1 (30%) sign blocks 2 and 3, and the process is SIGKILLed right after answering.
    let (mut child, addr) = spawn(&path);
    let mut c = client(addr).await;
    let all: Vec<_> = (0..4).map(|op| devnet.attest(op, &chain[0])).collect();
    assert!(accepted(&submit(&mut c, all).await));
    devnet.wait_final(&chain[0], 30).await;
    let partial: Vec<_> = [0, 1]
        .iter()
        .flat_map(|&op| chain[1..].iter().map(move |s| (op, s)))
        .map(|(op, s)| devnet.attest(op, s))
        .collect();
    assert!(accepted(&submit(&mut c, partial).await));
    child.kill().unwrap();
    child.wait().unwrap();

    // Run 2 on the same datadir: the rest signs block 3 only. A certificate on 3 with every
    // operator signing needs the killed process's accepted signatures, and a fresh nonce.
    let (mut child, addr) = spawn(&path);
    let mut c = client(addr).await;
    let rest: Vec<_> = [2, 3]
        .iter()
        .flat_map(|&op| chain[1..].iter().map(move |s| (op, s)))
        .map(|(op, s)| devnet.attest(op, s))
        .collect();
    assert!(accepted(&submit(&mut c, rest).await));
    devnet.wait_final(&chain[2], 30).await;
    let id = devnet
        .verifier()
        .certificateId(chain[2].into())
        .call()
        .await
        .unwrap();
    assert_eq!(
        devnet.verifier().nonSignersHash(id).call().await.unwrap(),
        B256::ZERO,
        "a signature accepted before the SIGKILL is missing"
    );
    child.kill().unwrap();
    child.wait().unwrap();
}
