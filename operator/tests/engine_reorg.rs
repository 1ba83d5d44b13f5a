//! Reorg test: anvil reverts to a snapshot and mines a different branch at the same heights; the
//! follower rolls its state back to the fork point and verifies the new branch.

mod engine_support;

use alloy::providers::Provider;
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

async fn verify_until(
    anvil: &AnvilL2,
    store: &Arc<StateStore>,
    metrics: &Arc<Metrics>,
    until: u64,
) {
    let kind = ExecutionKind::Ethereum(EthereumRules::anvil(CHAIN_ID, EthereumHardfork::Prague));
    let config = FollowerConfig {
        until: Some(until),
        ..FollowerConfig::default()
    };
    let follower = Follower::new(
        anvil.provider(),
        store.clone(),
        kind,
        metrics.clone(),
        config,
    );
    let (outcome, _) = follower.run().await.unwrap();
    assert_eq!(outcome, Outcome::Reached { head: until });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reorg_rolls_back_and_follows_the_new_branch() {
    let dir = tempfile::tempdir().unwrap();
    let keys = signers(2);
    let genesis_path = write_genesis(dir.path(), &keys);
    let anvil = AnvilL2::spawn(&genesis_path);
    let provider = anvil.provider();
    drive_traffic(&anvil.url, &keys, 3).await;
    let snapshot: serde_json::Value = provider
        .raw_request("evm_snapshot".into(), ())
        .await
        .unwrap();
    drive_traffic(&anvil.url, &keys, 3).await;

    let store = Arc::new(StateStore::open(dir.path().join("state.redb")).unwrap());
    let metrics = Arc::new(Metrics::default());
    let kind = ExecutionKind::Ethereum(EthereumRules::anvil(CHAIN_ID, EthereumHardfork::Prague));
    Follower::new(
        provider.clone(),
        store.clone(),
        kind,
        metrics.clone(),
        FollowerConfig::default(),
    )
    .bootstrap(&GenesisFile::load(&genesis_path).unwrap())
    .await
    .unwrap();
    verify_until(&anvil, &store, &metrics, 6).await;
    let old_block_5 = store.header(5).unwrap().unwrap();

    // Back to block 3, then a different branch (other senders first, one block longer).
    let reverted: bool = provider
        .raw_request("evm_revert".into(), (snapshot,))
        .await
        .unwrap();
    assert!(reverted);
    assert_eq!(provider.get_block_number().await.unwrap(), 3);
    drive_traffic(&anvil.url, &[keys[1].clone(), keys[0].clone()], 2).await;
    anvil.mine().await;
    anvil.mine().await;
    verify_until(&anvil, &store, &metrics, 7).await;

    assert_eq!(metrics.reorgs.load(Ordering::Relaxed), 1);
    for number in 1..=7 {
        let block = provider
            .get_block_by_number(number.into())
            .await
            .unwrap()
            .unwrap();
        let local = store.header(number).unwrap().unwrap();
        assert_eq!(local.hash, block.header.hash, "block {number}");
        assert_eq!(local.state_root, block.header.state_root, "block {number}");
    }
    assert_ne!(store.header(5).unwrap().unwrap().hash, old_block_5.hash);
    // The rolled-back-and-reapplied trie equals a from-scratch rebuild.
    assert_eq!(
        store.full_state_root().unwrap(),
        store.head().unwrap().state_root
    );
}
