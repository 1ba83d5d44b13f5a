//! Shared pieces of the engine tests: an anvil L2 started from a genesis file (killed on drop)
//! and simple traffic.

#![allow(dead_code, unreachable_pub)]

use alloy::{
    network::{EthereumWallet, TransactionBuilder},
    primitives::{Address, B256, Bytes, U256},
    providers::{Provider, ProviderBuilder, RootProvider},
    rpc::types::TransactionRequest,
    signers::local::PrivateKeySigner,
};
use std::path::{Path, PathBuf};
use surety_testkit::anvil::{Anvil, AnvilInstance};

pub const CHAIN_ID: u64 = 4_242;

/// A contract whose call data is `slot ‖ value`: it stores `value` at `slot` (zero deletes).
const STORE_INIT: &str = "6008600c60003960086000f36020356000355500";

pub fn signers(n: u64) -> Vec<PrivateKeySigner> {
    (1..=n)
        .map(|i| {
            PrivateKeySigner::from_bytes(&B256::from(U256::from(0x5eed_0000 + i)))
                .expect("valid key")
        })
        .collect()
}

/// Writes a genesis file funding `signers` and returns its path.
pub fn write_genesis(dir: &Path, signers: &[PrivateKeySigner]) -> PathBuf {
    let alloc: serde_json::Map<String, serde_json::Value> = signers
        .iter()
        .map(|s| {
            (
                s.address().to_string(),
                serde_json::json!({ "balance": "0x3635c9adc5dea00000000" }),
            )
        })
        .collect();
    let genesis = serde_json::json!({
        "config": { "chainId": CHAIN_ID },
        "nonce": "0x0", "timestamp": "0x0", "extraData": "0x", "gasLimit": "0x1c9c380",
        "difficulty": "0x0", "coinbase": "0x0000000000000000000000000000000000000000",
        "mixHash": "0x0000000000000000000000000000000000000000000000000000000000000000",
        "alloc": alloc,
    });
    let path = dir.join("genesis.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&genesis).expect("json"))
        .expect("write genesis");
    path
}

/// An auto-mining anvil started from a genesis file (the testkit's, which runs the native
/// binary so that dropping it really stops anvil).
pub struct AnvilL2 {
    _anvil: AnvilInstance,
    pub url: String,
}

impl AnvilL2 {
    pub fn spawn(genesis: &Path) -> Self {
        let anvil = Anvil::new()
            .genesis(genesis, CHAIN_ID)
            .spawn()
            .expect("spawn anvil (run `make tools`)");
        let url = format!("http://127.0.0.1:{}", anvil.port());
        Self { _anvil: anvil, url }
    }

    pub fn provider(&self) -> RootProvider {
        RootProvider::new_http(self.url.parse().expect("url"))
    }

    pub async fn mine(&self) {
        let _: serde_json::Value = self
            .provider()
            .raw_request("evm_mine".into(), ())
            .await
            .expect("evm_mine");
    }
}

/// Sends `blocks` blocks of mixed traffic (transfers, contract creation, storage writes and
/// deletes) from `signers`, one transaction per block (anvil auto-mines).
pub async fn drive_traffic(url: &str, signers: &[PrivateKeySigner], blocks: u64) {
    let providers: Vec<_> = signers
        .iter()
        .map(|s| {
            ProviderBuilder::new()
                .wallet(EthereumWallet::from(s.clone()))
                .connect_http(url.parse().expect("url"))
        })
        .collect();
    let mut contracts: Vec<Address> = Vec::new();
    for i in 0..blocks {
        let who = (i as usize) % providers.len();
        let provider = &providers[who];
        let tx = match i % 5 {
            0 | 3 if !contracts.is_empty() => {
                let contract = contracts[(i as usize / 5) % contracts.len()];
                let slot = U256::from(i % 7);
                // Every third write stores zero: a storage delete.
                let value = if i % 3 == 0 {
                    U256::ZERO
                } else {
                    U256::from(i * 1_000 + 1)
                };
                let mut data = slot.to_be_bytes::<32>().to_vec();
                data.extend_from_slice(&value.to_be_bytes::<32>());
                TransactionRequest::default()
                    .with_to(contract)
                    .with_input(Bytes::from(data))
            }
            1 => {
                TransactionRequest::default().with_deploy_code(Bytes::from(hex_decode(STORE_INIT)))
            }
            _ => TransactionRequest::default()
                .with_to(Address::with_last_byte((i % 200) as u8 + 1))
                .with_value(U256::from(1_000_000_007u64 * (i + 1))),
        };
        let receipt = provider
            .send_transaction(tx)
            .await
            .expect("send")
            .get_receipt()
            .await
            .expect("receipt");
        if let Some(address) = receipt.contract_address {
            contracts.push(address);
        }
    }
}

fn hex_decode(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}
