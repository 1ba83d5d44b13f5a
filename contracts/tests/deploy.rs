//! `deploy_all` on a real anvil wires Surety into the EigenLayer core as `docs/contracts.md`
//! prescribes, and refuses chains it cannot work on.

mod common;

use alloy::{
    node_bindings::Anvil,
    providers::{Provider, ProviderBuilder, WalletProvider},
};
use common::{account, anvil_binary, spawn_l1};
use surety_contracts::{
    CoreParams, Error, SuretyParams,
    bindings::{CertificateVerifier, CompensationPool, OperatorRegistry, SuretyRegistrar},
    check_l1, deploy_all,
    eigenlayer::IAllocationManager,
};

#[tokio::test(flavor = "multi_thread")]
async fn deploys_and_wires_surety_onto_the_core() {
    let anvil = spawn_l1();
    let deployer = account(&anvil, 0);
    let params = SuretyParams::devnet();
    let deployment = deploy_all(&deployer, CoreParams::DEVNET, &params)
        .await
        .unwrap();
    let (core, surety) = (deployment.eigenlayer, deployment.surety);
    assert_eq!(deployment.chain_id, anvil.chain_id());
    // Log scans start at the block before the first Surety contract.
    assert!(surety.deployed_at > 0, "the core came first");
    assert!(
        deployer
            .get_code_at(surety.operator_registry)
            .block_id(surety.deployed_at.into())
            .await
            .unwrap()
            .is_empty(),
        "no Surety contract before deployed_at"
    );

    // The registrar is the AVS: it owns operator set 0 over the strategy and is its registrar.
    let allocations = IAllocationManager::new(core.allocation_manager, &deployer);
    let set = surety.operator_set();
    assert!(allocations.isOperatorSet(set.clone()).call().await.unwrap());
    assert_eq!(
        allocations
            .getStrategiesInOperatorSet(set)
            .call()
            .await
            .unwrap(),
        [core.strategy]
    );
    assert_eq!(
        allocations
            .getAVSRegistrar(surety.registrar)
            .call()
            .await
            .unwrap(),
        surety.registrar
    );

    let registry = OperatorRegistry::new(surety.operator_registry, &deployer);
    assert_eq!(registry.registrar().call().await.unwrap(), surety.registrar);
    assert_eq!(
        registry.allocationManager().call().await.unwrap(),
        core.allocation_manager
    );
    let verifier = CertificateVerifier::new(surety.certificate_verifier, &deployer);
    assert_eq!(verifier.slasher().call().await.unwrap(), surety.slasher);
    assert_eq!(
        verifier.registry().call().await.unwrap(),
        surety.operator_registry
    );
    assert_eq!(
        verifier.maxReferenceAge().call().await.unwrap(),
        params.max_reference_age
    );
    assert_eq!(
        verifier.treasury().call().await.unwrap(),
        deployer.default_signer_address()
    );
    let pool = CompensationPool::new(surety.compensation_pool, &deployer);
    assert_eq!(pool.registrar().call().await.unwrap(), surety.registrar);
    assert_eq!(pool.slasher().call().await.unwrap(), surety.slasher);
    let registrar = SuretyRegistrar::new(surety.registrar, &deployer);
    assert_eq!(registrar.slasher().call().await.unwrap(), surety.slasher);
    assert_eq!(
        registrar.owner().call().await.unwrap(),
        deployer.default_signer_address()
    );
    assert_eq!(
        registrar.minCollateral().call().await.unwrap(),
        params.min_collateral_wei
    );

    // The JSON the CLI writes round-trips.
    let json = serde_json::to_string(&deployment).unwrap();
    assert_eq!(
        serde_json::from_str::<surety_contracts::Deployment>(&json).unwrap(),
        deployment
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn refuses_a_chain_without_prague() {
    let anvil = Anvil::new().path(anvil_binary()).cancun().spawn();
    let provider = ProviderBuilder::new().connect_http(anvil.endpoint_url());
    let err = check_l1(&provider).await.unwrap_err();
    assert!(
        matches!(err, Error::NoPrague { chain_id } if chain_id == anvil.chain_id()),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn reports_an_unreachable_endpoint() {
    // Take a free port, then let it go: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let provider =
        ProviderBuilder::new().connect_http(format!("http://127.0.0.1:{port}").parse().unwrap());
    assert!(matches!(
        check_l1(&provider).await,
        Err(Error::Unreachable(_))
    ));
}
