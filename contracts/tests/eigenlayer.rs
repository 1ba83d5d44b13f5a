//! The EigenLayer core deployed from the crate's bytecode on a real anvil behaves like EigenLayer:
//! operators register, deposits and delegations count towards them, and allocations to an
//! operator set take effect after the configured delays.

mod common;

use alloy::{
    primitives::{B256, Bytes, U256},
    providers::WalletProvider,
};
use common::{account, mine, spawn_l1};
use surety_contracts::{
    CoreParams, Error, deploy_eigenlayer,
    eigenlayer::{
        FULL_MAGNITUDE, OperatorSet,
        bindings::{
            AllocationManager, DelegationManager, StrategyManager,
            core::{
                allocation_manager::IAllocationManagerTypes::CreateSetParams,
                delegation_manager::ISignatureUtilsMixinTypes::SignatureWithExpiry,
            },
        },
    },
};

const ETHER: u128 = 1_000_000_000_000_000_000;

#[tokio::test(flavor = "multi_thread")]
async fn operator_restakes_and_allocates_on_the_deployed_core() {
    let anvil = spawn_l1();
    let deployer = account(&anvil, 0);
    let operator = account(&anvil, 1);
    let staker = account(&anvil, 2);
    let core = deploy_eigenlayer(&deployer, CoreParams::DEVNET)
        .await
        .unwrap();

    let strategy_manager = StrategyManager::new(core.strategy_manager, &deployer);
    assert!(
        strategy_manager
            .strategyIsWhitelistedForDeposit(core.strategy)
            .call()
            .await
            .unwrap()
    );
    let allocation_manager = AllocationManager::new(core.allocation_manager, &deployer);
    assert_eq!(
        allocation_manager
            .ALLOCATION_CONFIGURATION_DELAY()
            .call()
            .await
            .unwrap(),
        CoreParams::DEVNET.allocation_configuration_delay
    );
    assert_eq!(
        allocation_manager
            .DEALLOCATION_DELAY()
            .call()
            .await
            .unwrap(),
        CoreParams::DEVNET.deallocation_delay
    );

    // The deployer's account plays an AVS: metadata first, then an operator set on the strategy.
    let avs = deployer.default_signer_address();
    let receipt = allocation_manager
        .updateAVSMetadataURI(avs, "https://avs.example/metadata.json".into())
        .send()
        .await
        .unwrap();
    assert!(receipt.get_receipt().await.unwrap().status());
    let set = CreateSetParams {
        operatorSetId: 7,
        strategies: vec![core.strategy],
    };
    let receipt = allocation_manager
        .createOperatorSets(avs, vec![set])
        .send()
        .await
        .unwrap();
    assert!(receipt.get_receipt().await.unwrap().status());
    let operator_set = OperatorSet { avs, id: 7 };

    let operator_address = operator.default_signer_address();
    let own = U256::from(10 * ETHER);
    core.mint(&operator, operator_address, own).await.unwrap();
    let own_shares = core.deposit(&operator, own).await.unwrap();
    // First deposits into a fresh StrategyBase are 1:1.
    assert_eq!(own_shares, own);
    core.register_operator(&operator, 0, "https://operator.example/metadata.json")
        .await
        .unwrap();

    // The allocation delay chosen at registration is not configured yet...
    let half = FULL_MAGNITUDE / 2;
    let early = core
        .allocate(&operator, operator_set.clone(), half)
        .await
        .unwrap_err();
    let Error::Call { source, .. } = early else {
        panic!("unexpected {early:?}")
    };
    assert!(matches!(
        source.as_decoded_interface_error::<AllocationManager::AllocationManagerErrors>(),
        Some(AllocationManager::AllocationManagerErrors::UninitializedAllocationDelay(_))
    ));
    // ...until `allocation_configuration_delay + 1` blocks later.
    mine(
        &deployer,
        u64::from(CoreParams::DEVNET.allocation_configuration_delay) + 1,
    )
    .await;
    core.allocate(&operator, operator_set.clone(), half)
        .await
        .unwrap();

    // A staker delegates to the operator afterwards; its shares join the allocation.
    let delegated = U256::from(6 * ETHER);
    core.mint(&staker, staker.default_signer_address(), delegated)
        .await
        .unwrap();
    let delegation = DelegationManager::new(core.delegation_manager, &staker);
    assert!(
        delegation
            .isOperator(operator_address)
            .call()
            .await
            .unwrap()
    );
    let no_approval = SignatureWithExpiry {
        signature: Bytes::new(),
        expiry: U256::ZERO,
    };
    let receipt = delegation
        .delegateTo(operator_address, no_approval, B256::ZERO)
        .send()
        .await
        .unwrap();
    assert!(receipt.get_receipt().await.unwrap().status());
    let delegated_shares = core.deposit(&staker, delegated).await.unwrap();
    let total_shares = own_shares + delegated_shares;
    assert_eq!(
        core.operator_shares(&deployer, operator_address)
            .await
            .unwrap(),
        total_shares
    );

    mine(&deployer, 1).await;
    assert_eq!(
        core.allocated_stake(&deployer, operator_set, operator_address)
            .await
            .unwrap(),
        total_shares / U256::from(2)
    );
}
