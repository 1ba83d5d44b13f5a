//! The lying-endpoint proxy in front of a real anvil.

use alloy::{
    eips::BlockNumberOrTag,
    primitives::{B256, U256},
    providers::{Provider, ProviderBuilder},
};
use surety_testkit::{
    l2::L2,
    proxy::{RpcProxy, lie_about_state_root, tamper_with_transaction},
};

#[tokio::test]
async fn forwards_and_lies_only_where_told() {
    let l2 = L2::start(905, 4).unwrap();
    l2.workload(1).run(&l2.provider(), 3).await.unwrap();
    let honest = l2.provider();
    let fake_root = B256::repeat_byte(0xee);
    let proxy = RpcProxy::spawn(l2.anvil.url(), lie_about_state_root(2, fake_root))
        .await
        .unwrap();
    let liar = ProviderBuilder::new().connect_http(proxy.url());

    assert_eq!(liar.get_chain_id().await.unwrap(), 905);
    assert_eq!(liar.get_block_number().await.unwrap(), 4);
    for number in [1u64, 3, 4] {
        let real = honest
            .get_block_by_number(number.into())
            .await
            .unwrap()
            .unwrap();
        let seen = liar
            .get_block_by_number(number.into())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            seen.header, real.header,
            "block {number} must pass through unchanged"
        );
    }
    for full in [false, true] {
        let real = honest
            .get_block_by_number(BlockNumberOrTag::Number(2))
            .await
            .unwrap()
            .unwrap();
        let request = liar.get_block_by_number(BlockNumberOrTag::Number(2));
        let seen = if full {
            request.full().await
        } else {
            request.await
        }
        .unwrap()
        .unwrap();
        assert_eq!(seen.header.state_root, fake_root);
        assert_ne!(seen.header.hash, real.header.hash);
        // Self-consistent: the hash is the hash of the altered header.
        assert_eq!(seen.header.hash, seen.header.inner.hash_slow());
        assert_eq!(
            seen.header.inner.transactions_root,
            real.header.inner.transactions_root
        );
        assert_eq!(seen.transactions.len(), real.transactions.len());
    }
}

#[tokio::test]
async fn tampers_with_a_transaction() {
    let l2 = L2::start(906, 4).unwrap();
    l2.workload(2).run(&l2.provider(), 2).await.unwrap();
    let proxy = RpcProxy::spawn(l2.anvil.url(), tamper_with_transaction(2))
        .await
        .unwrap();
    let liar = ProviderBuilder::new().connect_http(proxy.url());
    let real = l2
        .provider()
        .get_block_by_number(2.into())
        .full()
        .await
        .unwrap()
        .unwrap();
    let seen = liar
        .get_block_by_number(2.into())
        .full()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seen.header, real.header);
    let value = |b: &alloy::rpc::types::Block| {
        use alloy::consensus::Transaction;
        b.transactions.as_transactions().unwrap()[0].value()
    };
    assert_eq!(value(&seen), U256::from(0x1337));
    assert_ne!(value(&real), U256::from(0x1337));
}
