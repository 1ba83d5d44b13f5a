//! The workload generator against a real anvil L2: the mix really happens, and it is seeded.

use alloy::{
    eips::BlockNumberOrTag,
    providers::{Provider, ProviderBuilder},
};
use surety_testkit::{
    genesis::GenesisBuilder,
    l2::L2,
    workload::{Action, Workload, WorkloadConfig},
};

#[tokio::test]
async fn fifty_blocks_of_mixed_traffic() {
    let genesis = GenesisBuilder::new(902).funded_accounts(48).build();
    let file = genesis.write_temp().unwrap();
    let anvil = genesis.anvil(file.path()).no_mining().spawn().unwrap();
    let provider = ProviderBuilder::new().connect_http(anvil.url());

    let mut workload = Workload::new(
        42,
        WorkloadConfig::new(genesis.keys.clone()).txs_per_block(40),
    );
    let report = workload.run(&provider, 50).await.unwrap();

    // Setup took block 1; the 50 traffic blocks follow back to back.
    assert_eq!(report.blocks.len(), 50);
    assert_eq!(report.blocks[0].number, 2);
    assert_eq!(provider.get_block_number().await.unwrap(), 51);
    for (i, block) in report.blocks.iter().enumerate() {
        assert_eq!(block.number, 2 + i as u64);
        assert_eq!(block.sent, 40, "block {} was cut short", block.number);
        assert_eq!(block.succeeded + block.reverted, block.sent);
        let header = provider
            .get_block_by_number(BlockNumberOrTag::Number(block.number))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(header.header.hash, block.hash);
        assert_eq!(header.header.gas_used, block.gas_used);
    }

    let sent = report.total(|b| b.sent);
    assert_eq!(sent, 2_000);
    assert!(
        report.total(|b| b.reverted) > 20,
        "reverts and out-of-gas happen"
    );
    assert!(report.total(|b| b.succeeded) > sent / 2);
    assert!(
        report.total(|b| b.contracts_created) > 10,
        "top-level CREATE transactions"
    );
    assert!(
        report.total(|b| b.factory_creations) > 10,
        "CREATE/CREATE2 from the factory"
    );
    assert!(report.total(|b| b.logs) > 500);
    assert!(report.total(|b| b.authorizations) > 50);
    let types =
        |f: fn(&surety_testkit::workload::TxTypeCounts) -> usize| report.total(|b| f(&b.tx_types));
    assert!(types(|t| t.legacy) > 50);
    assert!(types(|t| t.eip2930) > 50);
    assert!(types(|t| t.eip1559) > 50);
    assert!(types(|t| t.eip7702) > 50);
    for action in [
        Action::Transfer,
        Action::TokenDeploy,
        Action::TokenTransfer,
        Action::Create,
        Action::FactoryCreate,
        Action::FactoryCreate2,
        Action::CreateAndDestroy,
        Action::StorageFill,
        Action::StorageClear,
        Action::Compute,
        Action::Revert,
        Action::RevertAfterWrite,
        Action::OutOfGas,
        Action::Logs,
        Action::Precompile,
        Action::Delegation,
    ] {
        assert!(report.actions(action) > 0, "{action:?} never generated");
    }
    // Every failure the generator did not intend would show up here: only explicit reverts,
    // out-of-gas, over-balance token transfers and reused CREATE2 salts fail.
    let intended = report.actions(Action::Revert)
        + report.actions(Action::RevertAfterWrite)
        + report.actions(Action::OutOfGas);
    let possible =
        intended + report.actions(Action::TokenTransfer) + report.actions(Action::FactoryCreate2);
    assert!(report.total(|b| b.reverted) >= intended);
    assert!(report.total(|b| b.reverted) <= possible);

    // 7702 delegations took effect: some authority now carries the delegation designator.
    let workbench = workload.workbench().unwrap();
    let mut delegated = 0;
    for authority in workload.authorities() {
        let code = provider.get_code_at(authority).await.unwrap();
        if code.len() == 23 {
            assert_eq!(&code[..3], &[0xef, 0x01, 0x00]);
            assert_eq!(&code[3..], workbench.as_slice());
            delegated += 1;
        }
    }
    assert!(delegated > 0);
}

#[tokio::test]
async fn same_seed_same_chain() {
    async fn roots(seed: u64) -> Vec<alloy::primitives::B256> {
        let l2 = L2::start(903, 8).unwrap();
        let config = WorkloadConfig::new(l2.genesis.keys.clone()).txs_per_block(15);
        let report = Workload::new(seed, config)
            .run(&l2.provider(), 5)
            .await
            .unwrap();
        report.blocks.iter().map(|b| b.hash).collect()
    }
    let a = roots(1).await;
    assert_eq!(
        a,
        roots(1).await,
        "same seed and genesis must give identical blocks"
    );
    assert_ne!(a, roots(2).await);
}

#[tokio::test]
async fn background_traffic_until_stopped() {
    let l2 = L2::start(904, 8).unwrap();
    let provider = l2.provider();
    let workload = l2.workload(3);
    let handle = workload.spawn(provider.clone(), std::time::Duration::from_millis(20));
    while provider.get_block_number().await.unwrap() < 4 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let report = handle.stop().await.unwrap();
    assert!(report.blocks.len() >= 3);
    let head = provider.get_block_number().await.unwrap();
    assert_eq!(
        report.blocks.last().unwrap().number,
        head,
        "nothing mined after stop"
    );
}

#[test]
fn committed_contract_bytecode_is_fresh() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let status = std::process::Command::new("node")
        .arg(root.join("workload/build.js"))
        .arg("--check")
        .status()
        .expect("node is part of the toolchain (`make tools`)");
    assert!(
        status.success(),
        "tests/workload/out is stale: run `node tests/workload/build.js`"
    );
}

#[tokio::test]
async fn every_precompile_input_is_valid() {
    use alloy::{primitives::U256, rpc::types::TransactionRequest};
    use rand::SeedableRng;
    use surety_testkit::workload::precompiles::Precompile;

    let anvil = surety_testkit::anvil::Anvil::new().spawn().unwrap();
    let provider = ProviderBuilder::new().connect_http(anvil.url());
    let mut rng = rand::rngs::StdRng::seed_from_u64(9);
    for precompile in Precompile::ALL {
        for _ in 0..4 {
            let input = precompile.input(&mut rng);
            let call = TransactionRequest::default()
                .to(precompile.address())
                .input(input.into());
            let out = provider
                .call(call.clone())
                .await
                .unwrap_or_else(|e| panic!("{precompile:?}: {e}"));
            let gas = provider.estimate_gas(call).await.unwrap();
            assert!(
                gas <= 21_000 + 16 * 1_000 + precompile.gas(),
                "{precompile:?} needs {gas} gas"
            );
            match precompile {
                // ecrecover returns the signer: empty output means the signature was invalid.
                Precompile::EcRecover => assert_eq!(out.len(), 32),
                // The pairing inputs are e(P, Q)·e(−P, Q), which must check out as 1.
                Precompile::Bn254Pairing | Precompile::Bls12Pairing => {
                    assert_eq!(U256::from_be_slice(&out), U256::from(1), "{precompile:?}")
                }
                _ => assert!(!out.is_empty(), "{precompile:?} returned nothing"),
            }
        }
    }
}

#[tokio::test]
async fn resync_after_a_rewind_builds_a_competing_branch() {
    let l2 = L2::start(907, 8).unwrap();
    let provider = l2.provider();
    let mut workload = l2.workload(5);
    workload.run(&provider, 2).await.unwrap();
    let fork_point = provider.get_block_number().await.unwrap();
    let snapshot: alloy::primitives::U256 = provider
        .raw_request("evm_snapshot".into(), ())
        .await
        .unwrap();
    let old = workload.run(&provider, 2).await.unwrap();
    let reverted: bool = provider
        .raw_request("evm_revert".into(), (snapshot,))
        .await
        .unwrap();
    assert!(reverted);
    assert_eq!(provider.get_block_number().await.unwrap(), fork_point);

    workload.resync();
    let new = workload.run(&provider, 3).await.unwrap();
    // The setup block (contracts redeployed) takes fork_point + 1; traffic follows.
    assert_eq!(new.blocks[0].number, fork_point + 2);
    let replaced = provider
        .get_block_by_number((fork_point + 1).into())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(old.blocks[0].number, fork_point + 1);
    assert_ne!(
        replaced.header.hash, old.blocks[0].hash,
        "a competing block at the same height"
    );
    assert_eq!(new.total(|b| b.sent), 3 * 40);
}
