//! Lying-endpoint tests: an HTTP JSON-RPC proxy in front of anvil rewrites one block (its state
//! root, or one of its transactions, with every hash made consistent again). The follower must
//! stop at exactly that block with a mismatch and verify nothing after it.

mod engine_support;

use alloy::{
    consensus::{
        SignableTransaction, TxEnvelope, proofs::calculate_transaction_root, transaction::Recovered,
    },
    primitives::{Address, B256, TxKind},
    providers::{Provider, RootProvider},
    rpc::types::Block,
    signers::{SignerSync, local::PrivateKeySigner},
};
use alloy_hardforks::EthereumHardfork;
use engine_support::{AnvilL2, CHAIN_ID, drive_traffic, signers, write_genesis};
use std::sync::{Arc, atomic::Ordering};
use surety_operator::{
    execution::{EthereumRules, ExecutionKind},
    follower::{Follower, FollowerConfig, Outcome, checked_input},
    genesis::GenesisFile,
    metrics::Metrics,
    state::{StateStore, Verdict},
};
use surety_testkit::proxy::RpcProxy;

/// A JSON-RPC proxy in front of `upstream` (the testkit's) that passes block `target` through
/// `tamper` and recomputes its hash, so the lie is self-consistent.
async fn spawn_proxy(
    upstream: &str,
    target: u64,
    tamper: impl Fn(&mut Block) + Send + Sync + 'static,
) -> RpcProxy {
    let wanted = serde_json::json!(format!("{target:#x}"));
    RpcProxy::spawn(upstream.parse().unwrap(), move |method, params, result| {
        if method != "eth_getBlockByNumber" || params[0] != wanted || result.is_null() {
            return;
        }
        let mut block: Block = serde_json::from_value(result.take()).unwrap();
        tamper(&mut block);
        block.header.hash = block.header.inner.hash_slow();
        *result = serde_json::to_value(&block).unwrap();
    })
    .await
    .unwrap()
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
    let proxy = spawn_proxy(&anvil.url, target, move |block| tamper(&liar, block)).await;
    let store = Arc::new(StateStore::open(dir.path().join("state.redb")).unwrap());
    let metrics = Arc::new(Metrics::default());
    let kind = ExecutionKind::Ethereum(EthereumRules::anvil(CHAIN_ID, EthereumHardfork::Prague));
    let config = FollowerConfig {
        until: Some(10),
        ..FollowerConfig::default()
    };
    let follower = Follower::new(
        RootProvider::new_http(proxy.url()),
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
    // and fixes the transactions root and block hash, leaving anvil's (now wrong) receipts and
    // state roots.
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
    // The forged transfer no longer yields the header's receipts: the block is invalid before
    // its state root is even compared, and the evidence says why.
    let Outcome::Invalid { number, reason, .. } = &result.outcome else {
        panic!("lie not caught: {:?}", result.outcome);
    };
    assert_eq!(*number, 5);
    assert!(reason.contains("receipts root"), "{reason}");
    assert_eq!(result.store.head().unwrap().number, 4);
    let evidence = result.store.evidence().unwrap();
    assert_eq!(evidence.len(), 1);
    assert_eq!(evidence[0].number, 5);
    assert_eq!(evidence[0].invalid.as_ref(), Some(reason));
    assert!(!evidence[0].block_rlp.is_empty());
}

/// A run of blocks verified on two threads ([`ExecutionKind::verify_chain`]) where the lying
/// block is not the last: the blocks after it are relinked to it, so they execute on its state
/// while its commit is in flight. The run stops at the lie, and nothing that executed on top of
/// it is applied; the honest run of the same blocks ends exactly where one-by-one verification
/// does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_stops_at_the_lie_and_drops_what_executed_on_it() {
    let dir = tempfile::tempdir().unwrap();
    let keys = signers(2);
    let genesis_path = write_genesis(dir.path(), &keys);
    let anvil = AnvilL2::spawn(&genesis_path);
    drive_traffic(&anvil.url, &keys, 12).await;
    let provider = anvil.provider();
    let mut blocks = Vec::new();
    for number in 0..=12u64 {
        let block = provider
            .get_block_by_number(number.into())
            .full()
            .await
            .unwrap()
            .unwrap();
        blocks.push(checked_input(block).unwrap());
    }
    let genesis = GenesisFile::load(&genesis_path).unwrap();
    let kind = ExecutionKind::Ethereum(EthereumRules::anvil(CHAIN_ID, EthereumHardfork::Prague));
    let store = |name: &str| {
        let store = StateStore::open(dir.path().join(name)).unwrap();
        store
            .bootstrap(
                &blocks[0].header,
                genesis.state(kind.has_history_contract()),
            )
            .unwrap();
        store
    };

    let honest = store("honest.redb");
    let verdicts = kind
        .verify_chain(&honest, &blocks[1..], |_| Vec::new())
        .unwrap();
    assert_eq!(verdicts.len(), 12);
    assert!(
        verdicts
            .iter()
            .all(|v| matches!(v.verdict, Verdict::Match(_)))
    );
    assert_eq!(honest.head().unwrap().hash, blocks[12].hash);
    honest.flush().unwrap();
    let one_by_one = store("one-by-one.redb");
    for block in &blocks[1..] {
        kind.verify(&one_by_one, block, Vec::new).unwrap();
    }
    assert_eq!(one_by_one.head(), honest.head());
    assert_eq!(
        honest.full_state_root().unwrap(),
        blocks[12].header.state_root
    );

    // Block 6 claims a wrong root; 7..=12 are relinked onto it (each hash recomputed).
    let mut lying = blocks.clone();
    lying[6].header.state_root = B256::repeat_byte(0x42);
    for number in 6..=12 {
        if number > 6 {
            lying[number].header.parent_hash = lying[number - 1].hash;
        }
        lying[number].hash = lying[number].header.hash_slow();
    }
    let store = store("lying.redb");
    let verdicts = kind
        .verify_chain(&store, &lying[1..], |block| vec![block.header.number as u8])
        .unwrap();
    assert_eq!(verdicts.len(), 6, "verdicts up to the lie, none after");
    assert!(matches!(
        verdicts[5].verdict,
        Verdict::Mismatch { claimed, .. } if claimed == B256::repeat_byte(0x42)
    ));
    assert_eq!(store.head().unwrap().hash, blocks[5].hash);
    let evidence = store.evidence().unwrap();
    assert_eq!(evidence.len(), 1);
    assert_eq!(
        (evidence[0].number, &evidence[0].block_rlp[..]),
        (6, &[6u8][..])
    );
    // The store is exactly the honest state after block 5: the honest block 6 applies on it.
    let verified = kind.verify(&store, &blocks[6], Vec::new).unwrap();
    assert_eq!(
        verified.verdict,
        Verdict::Match(blocks[6].header.state_root)
    );
}
