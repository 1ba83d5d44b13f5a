//! Lying-endpoint tests: an HTTP JSON-RPC proxy in front of anvil rewrites one block (its state
//! root, or one of its transactions, with every hash made consistent again). The follower must
//! stop at exactly that block with a mismatch and verify nothing after it.

mod engine_support;

use alloy::{
    consensus::{
        SignableTransaction, TxEnvelope, proofs::calculate_transaction_root, transaction::Recovered,
    },
    primitives::{Address, B256, TxKind},
    providers::RootProvider,
    rpc::types::Block,
    signers::{SignerSync, local::PrivateKeySigner},
};
use alloy_hardforks::EthereumHardfork;
use engine_support::{AnvilL2, CHAIN_ID, drive_traffic, signers, write_genesis};
use std::sync::{Arc, atomic::Ordering};
use surety_operator::{
    execution::{EthereumRules, ExecutionKind},
    follower::{Follower, FollowerConfig, Outcome},
    genesis::GenesisFile,
    metrics::Metrics,
    state::StateStore,
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

type Tamper = Arc<dyn Fn(&mut Block) + Send + Sync>;

/// Serves JSON-RPC on a free port, forwarding to `upstream` and passing block `target` through
/// `tamper`. Returns the proxy's URL.
async fn spawn_proxy(upstream: String, target: u64, tamper: Tamper) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let upstream = upstream.trim_start_matches("http://").to_owned();
    tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            tokio::spawn(serve(socket, upstream.clone(), target, tamper.clone()));
        }
    });
    url
}

async fn read_http(stream: &mut TcpStream) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| {
                    l.strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                return buf[end + 4..end + 4 + len].to_vec();
            }
        }
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed mid-message");
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn http_message(first_line: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "{first_line}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

async fn serve(mut client: TcpStream, upstream: String, target: u64, tamper: Tamper) {
    let request = read_http(&mut client).await;
    let mut server = TcpStream::connect(&upstream).await.unwrap();
    server
        .write_all(&http_message(
            &format!("POST / HTTP/1.1\r\nHost: {upstream}"),
            &request,
        ))
        .await
        .unwrap();
    let body = read_http(&mut server).await;
    let call: serde_json::Value = serde_json::from_slice(&request).unwrap();
    let mut response: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let wanted = serde_json::json!(format!("{target:#x}"));
    if call["method"] == "eth_getBlockByNumber"
        && call["params"][0] == wanted
        && !response["result"].is_null()
    {
        let mut block: Block = serde_json::from_value(response["result"].take()).unwrap();
        tamper(&mut block);
        block.header.hash = block.header.inner.hash_slow();
        response["result"] = serde_json::to_value(&block).unwrap();
    }
    let body = serde_json::to_vec(&response).unwrap();
    client
        .write_all(&http_message("HTTP/1.1 200 OK", &body))
        .await
        .unwrap();
}

struct ProxiedRun {
    outcome: Outcome,
    store: Arc<StateStore>,
    metrics: Arc<Metrics>,
}

async fn verify_through_proxy(
    target: u64,
    tamper: impl Fn(&PrivateKeySigner, &mut Block) + Send + Sync + 'static,
) -> ProxiedRun {
    let dir = tempfile::tempdir().unwrap();
    let keys = signers(2);
    let genesis_path = write_genesis(dir.path(), &keys);
    let anvil = AnvilL2::spawn(&genesis_path);
    drive_traffic(&anvil.url, &keys, 10).await;
    let liar = keys[0].clone();
    let url = spawn_proxy(
        anvil.url.clone(),
        target,
        Arc::new(move |block| tamper(&liar, block)),
    )
    .await;
    let store = Arc::new(StateStore::open(dir.path().join("state.redb")).unwrap());
    let metrics = Arc::new(Metrics::default());
    let kind = ExecutionKind::Ethereum(EthereumRules::new(CHAIN_ID, EthereumHardfork::Prague));
    let config = FollowerConfig {
        until: Some(10),
        ..FollowerConfig::default()
    };
    let follower = Follower::new(
        RootProvider::new_http(url.parse().unwrap()),
        store.clone(),
        kind,
        metrics.clone(),
        config,
    );
    follower
        .bootstrap(&GenesisFile::load(&genesis_path).unwrap())
        .await
        .unwrap();
    let (outcome, _) = follower.run().await.unwrap();
    ProxiedRun {
        outcome,
        store,
        metrics,
    }
}

fn assert_caught_at(result: &ProxiedRun, number: u64) {
    let Outcome::Mismatch {
        number: caught,
        claimed,
        computed,
        ..
    } = result.outcome
    else {
        panic!("lie not caught: {:?}", result.outcome);
    };
    assert_eq!(caught, number);
    assert_ne!(claimed, computed);
    assert_eq!(
        result.store.head().unwrap().number,
        number - 1,
        "nothing after the lie is verified"
    );
    assert_eq!(
        result.metrics.state_root_mismatches.load(Ordering::Relaxed),
        1
    );
    let evidence = result.store.evidence().unwrap();
    assert_eq!(evidence.len(), 1);
    assert_eq!(
        (
            evidence[0].number,
            evidence[0].claimed,
            evidence[0].computed
        ),
        (number, claimed, computed)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn altered_state_root_is_caught_at_that_block() {
    let result = verify_through_proxy(6, |_, block| {
        block.header.inner.state_root = B256::repeat_byte(0x42)
    })
    .await;
    assert_caught_at(&result, 6);
    let Outcome::Mismatch { claimed, .. } = result.outcome else {
        unreachable!()
    };
    assert_eq!(claimed, B256::repeat_byte(0x42));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn altered_transaction_is_caught_at_that_block() {
    // Block 5 carries a transfer from the first key; the liar re-signs it to another recipient
    // and fixes the transactions root and block hash, leaving anvil's (now wrong) state root.
    let result = verify_through_proxy(5, |key, block| {
        let alloy::rpc::types::BlockTransactions::Full(txs) = &mut block.transactions else {
            panic!("expected full transactions")
        };
        let TxEnvelope::Eip1559(signed) = txs[0].inner.inner() else {
            panic!("expected EIP-1559")
        };
        let mut tx = signed.tx().clone();
        tx.to = TxKind::Call(Address::repeat_byte(0x77));
        let signature = key.sign_hash_sync(&tx.signature_hash()).unwrap();
        let forged = TxEnvelope::from(tx.into_signed(signature));
        txs[0].inner = Recovered::new_unchecked(forged, key.address());
        let envelopes: Vec<TxEnvelope> = txs.iter().map(|t| t.inner.inner().clone()).collect();
        block.header.inner.transactions_root = calculate_transaction_root(&envelopes);
    })
    .await;
    assert_caught_at(&result, 5);
}
