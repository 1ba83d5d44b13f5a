//! Differential tests: anvil is the L2; the engine re-executes every block and must compute
//! exactly anvil's state root from block 1 on.

mod engine_support;

use alloy::providers::Provider;
use alloy_hardforks::EthereumHardfork;
use engine_support::{AnvilL2, CHAIN_ID, drive_traffic, signers, write_genesis};
use std::sync::Arc;
use surety_operator::{
    execution::{EthereumRules, ExecutionKind},
    follower::{Follower, FollowerConfig, Outcome},
    genesis::GenesisFile,
    metrics::Metrics,
    state::StateStore,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_root_matches_anvil() {
    let dir = tempfile::tempdir().unwrap();
    let keys = signers(4);
    let genesis_path = write_genesis(dir.path(), &keys);
    let anvil = AnvilL2::spawn(&genesis_path);
    drive_traffic(&anvil.url, &keys, 300).await;
    let head = anvil.provider().get_block_number().await.unwrap();
    assert!(head >= 300);

    let store = Arc::new(StateStore::open(dir.path().join("state.redb")).unwrap());
    let kind = ExecutionKind::Ethereum(EthereumRules::anvil(CHAIN_ID, EthereumHardfork::Prague));
    let metrics = Arc::new(Metrics::default());
    let config = FollowerConfig {
        until: Some(head),
        ..FollowerConfig::default()
    };
    let follower = Follower::new(
        anvil.provider(),
        store.clone(),
        kind,
        metrics.clone(),
        config,
    );
    let genesis = GenesisFile::load(&genesis_path).unwrap();
    follower.bootstrap(&genesis).await.unwrap();
    let (outcome, stats) = follower.run().await.unwrap();
    assert_eq!(outcome, Outcome::Reached { head });
    assert_eq!(stats.blocks, head);
    // Every stored root is anvil's root for that block.
    for number in 1..=head {
        let block = anvil
            .provider()
            .get_block_by_number(number.into())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            store.header(number).unwrap().unwrap().state_root,
            block.header.state_root
        );
    }
    // The incrementally maintained root equals a from-scratch recomputation.
    assert_eq!(
        store.full_state_root().unwrap(),
        store.head().unwrap().state_root
    );
}

/// The testkit's workload generator (every transaction type, CREATE/CREATE2, self-destruct,
/// storage fill/clear, reverts, out-of-gas, logs, all precompiles, EIP-7702) for 300 blocks;
/// the long run sets `SURETY_DIFFERENTIAL_BLOCKS` (e.g. 5000).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_root_matches_anvil_under_the_workload() {
    let blocks = std::env::var("SURETY_DIFFERENTIAL_BLOCKS")
        .map_or(300, |v| v.parse().expect("SURETY_DIFFERENTIAL_BLOCKS"));
    let l2 = surety_testkit::l2::L2::start(CHAIN_ID, 16).unwrap();
    let config =
        surety_testkit::workload::WorkloadConfig::new(l2.genesis.keys.clone()).txs_per_block(12);
    let mut workload = surety_testkit::workload::Workload::new(7, config);
    workload.run(&l2.provider(), blocks).await.unwrap();
    let head = l2.provider().get_block_number().await.unwrap();
    assert!(head >= blocks);

    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(StateStore::open(dir.path().join("state.redb")).unwrap());
    let kind = ExecutionKind::Ethereum(EthereumRules::anvil(CHAIN_ID, EthereumHardfork::Prague));
    let config = FollowerConfig {
        until: Some(head),
        ..FollowerConfig::default()
    };
    let metrics = Arc::new(Metrics::default());
    let follower = Follower::new(l2.provider(), store.clone(), kind, metrics, config);
    follower
        .bootstrap(&GenesisFile::load(l2.file.path()).unwrap())
        .await
        .unwrap();
    let (outcome, stats) = follower.run().await.unwrap();
    assert_eq!(outcome, Outcome::Reached { head });
    assert_eq!(stats.blocks, head);
    assert_eq!(
        store.full_state_root().unwrap(),
        store.head().unwrap().state_root
    );
}
