//! The harness's anvil and genesis pieces against a real anvil.

use alloy::{
    eips::BlockNumberOrTag,
    primitives::{Address, B256, Bytes, U256, address},
    providers::{Provider, ProviderBuilder},
};
use surety_testkit::{anvil::Anvil, genesis::GenesisBuilder};

#[tokio::test]
async fn dev_chain_starts_with_dev_keys() {
    let anvil = Anvil::new().spawn().unwrap();
    let provider = ProviderBuilder::new().connect_http(anvil.url());
    assert_eq!(provider.get_chain_id().await.unwrap(), 31337);
    assert_eq!(anvil.keys().len(), 10);
    let balance = provider
        .get_balance(anvil.keys()[0].address())
        .await
        .unwrap();
    assert!(balance > U256::ZERO);
}

#[tokio::test]
async fn anvil_boots_from_generated_genesis() {
    let code = Bytes::from_static(&[0x60, 0x2a, 0x60, 0x00, 0x55, 0x00]); // SSTORE(0, 42); STOP
    let predeploy = address!("0x5e7e000000000000000000000000000000000001");
    let slot = B256::with_last_byte(7);
    let value = B256::with_last_byte(9);
    let extra = address!("0x5e7e000000000000000000000000000000000002");
    let genesis = GenesisBuilder::new(4_242)
        .funded_accounts(32)
        .balance(U256::from(123_456_789u64))
        .account(extra, U256::from(5u64))
        .contract(predeploy, code.clone(), [(slot, value)].into())
        .gas_limit(45_000_000)
        .base_fee(7_000_000_000)
        .build();
    let file = genesis.write_temp().unwrap();
    let anvil = genesis.anvil(file.path()).no_mining().spawn().unwrap();
    let provider = ProviderBuilder::new().connect_http(anvil.url());

    assert_eq!(provider.get_chain_id().await.unwrap(), 4_242);
    assert!(
        anvil.keys().is_empty(),
        "--init chains must not fund anvil's dev accounts"
    );
    for key in &genesis.keys {
        assert_eq!(
            provider.get_balance(key.address()).await.unwrap(),
            U256::from(123_456_789u64)
        );
    }
    assert_eq!(provider.get_balance(extra).await.unwrap(), U256::from(5u64));
    assert_eq!(provider.get_code_at(predeploy).await.unwrap(), code);
    assert_eq!(
        provider
            .get_storage_at(predeploy, U256::from(7u64))
            .await
            .unwrap(),
        U256::from(9u64)
    );
    // Anvil's default CREATE2 deployer is disabled so the state is exactly the file's.
    let create2_deployer = address!("0x4e59b44847b379578588920ca78fbf26c0b4956c");
    assert!(
        provider
            .get_code_at(create2_deployer)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        provider.get_balance(Address::ZERO).await.unwrap(),
        U256::ZERO
    );

    let block = provider
        .get_block_by_number(BlockNumberOrTag::Number(0))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(block.header.gas_limit, 45_000_000);
    assert_eq!(block.header.timestamp, genesis.genesis.timestamp);
    assert_eq!(block.header.base_fee_per_gas, Some(7_000_000_000));
    // No mining until asked.
    assert_eq!(provider.get_block_number().await.unwrap(), 0);
}

#[tokio::test]
async fn instance_is_killed_on_drop() {
    let anvil = Anvil::new().spawn().unwrap();
    let url = anvil.url();
    let provider = ProviderBuilder::new().connect_http(url);
    provider.get_block_number().await.unwrap();
    let pid = anvil.pid();
    drop(anvil);
    // The process we spawned is anvil itself (not an npm wrapper script), so it is gone.
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    assert!(provider.get_block_number().await.is_err());
}
