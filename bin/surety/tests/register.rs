//! `surety operator register --config FILE` through the real binary against a real L1: anvil
//! (Prague) with the EigenLayer core and Surety deployed by `deploy_all` and described by an
//! `l1.json`, as `surety devnet` writes it. The operator's test stake is funded the way the
//! devnet funds it; everything else is the command's job, and a second run must change nothing.

use std::{path::Path, process::Output};

use alloy::{
    primitives::{Address, U256},
    providers::{Provider, ProviderBuilder, WalletProvider, ext::AnvilApi},
    signers::local::PrivateKeySigner,
};
use surety_contracts::{
    CoreParams, Deployment, SuretyParams,
    bindings::{CompensationPool, OperatorRegistry, SuretyRegistrar},
    deploy_all,
    eigenlayer::IAllocationManager,
    send,
};
use surety_primitives::{Kdf, Keystore, SecretKey};
use surety_testkit::anvil::{Anvil, AnvilInstance};

const ETHER: u128 = 1_000_000_000_000_000_000;
const ALLOCATION_DELAY: u32 = 2;

fn account(anvil: &AnvilInstance, index: usize) -> impl Provider + WalletProvider + use<> {
    ProviderBuilder::new()
        .wallet(anvil.keys()[index].clone())
        .connect_http(anvil.url())
}

/// Writes a node configuration for `signer` and `key` into `dir` and returns its path.
fn write_config(
    dir: &Path,
    anvil: &AnvilInstance,
    deployment: &Deployment,
    signer: &PrivateKeySigner,
    key: &SecretKey,
) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("l1.json"),
        serde_json::to_string_pretty(deployment).unwrap(),
    )
    .unwrap();
    // The cheapest KDF: the test is about registration, not key stretching.
    let keystore = Keystore::encrypt(key, "password", Kdf::Pbkdf2 { c: 1 }, "").unwrap();
    std::fs::write(dir.join("bls.json"), keystore.to_json()).unwrap();
    std::fs::write(dir.join("bls.password"), "password").unwrap();
    std::fs::write(dir.join("l1.key"), format!("{}\n", signer.to_bytes())).unwrap();
    let config = format!(
        r#"
datadir = "data"
[l1]
rpc = "{rpc}"
deployment = "l1.json"
[keys]
bls_keystore = "bls.json"
bls_password_file = "bls.password"
ecdsa_key_file = "l1.key"
[[rollups]]
id = 1
rpc = "http://127.0.0.1:9"
genesis = "l2-genesis.json"
"#,
        rpc = anvil.endpoint()
    );
    let path = dir.join("operator.toml");
    std::fs::write(&path, config).unwrap();
    path
}

fn register(config: &Path, extra: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_surety"))
        .args(["operator", "register", "--config"])
        .arg(config)
        .args(extra)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run surety operator register")
}

fn text(output: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn registers_a_funded_operator_once_and_then_changes_nothing() {
    let anvil = Anvil::new().spawn().expect("anvil");
    let deployer = account(&anvil, 0);
    let deployment = deploy_all(&deployer, CoreParams::DEVNET, &SuretyParams::devnet())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();

    // What the devnet does before running the command: restake test tokens.
    let operator = account(&anvil, 1);
    let address = operator.default_signer_address();
    let stake = U256::from(10 * ETHER);
    let shares = deployment.fund_test_stake(&operator, stake).await.unwrap();
    let key = SecretKey::from_ikm(&[7; 32]);
    let config = write_config(
        &dir.path().join("op1"),
        &anvil,
        &deployment,
        &anvil.keys()[1],
        &key,
    );

    let first = register(
        &config,
        &["--allocation-delay", &ALLOCATION_DELAY.to_string()],
    );
    assert!(first.status.success(), "{}", text(&first));
    let stdout = String::from_utf8_lossy(&first.stdout);
    for step in [
        "EigenLayer operator",
        "BLS key",
        "collateral",
        "allocation",
        "operator set",
    ] {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with(step) && l.contains(" done ")),
            "step {step:?} not done in\n{stdout}"
        );
    }

    // On chain: the key, the collateral (the registrar's minimum, locked), the set membership.
    let registry = OperatorRegistry::new(deployment.surety.operator_registry, &deployer);
    assert_eq!(
        registry.keyHashOf(address).call().await.unwrap(),
        key.public_key().key_hash()
    );
    let minimum = SuretyRegistrar::new(deployment.surety.registrar, &deployer)
        .minCollateral()
        .call()
        .await
        .unwrap();
    let collateral = CompensationPool::new(deployment.surety.compensation_pool, &deployer)
        .collateralOf(address)
        .call()
        .await
        .unwrap();
    assert_eq!(collateral.amount, minimum);
    assert!(collateral.locked);
    let allocations = IAllocationManager::new(deployment.eigenlayer.allocation_manager, &deployer);
    let set = deployment.surety.operator_set();
    assert!(
        allocations
            .isMemberOfOperatorSet(address, set.clone())
            .call()
            .await
            .unwrap()
    );
    assert!(registry.isActive(address).call().await.unwrap());

    // Once the allocation delay has passed, a keeper's update makes the whole stake count.
    deployer
        .anvil_mine(Some(u64::from(ALLOCATION_DELAY)), None)
        .await
        .unwrap();
    send("refresh stakes", registry.update(vec![address]))
        .await
        .unwrap();
    let recorded = registry.stakeOf(address).call().await.unwrap();
    assert!(recorded.active);
    assert_eq!(recorded.stake, shares);
    assert_eq!(
        deployment
            .eigenlayer
            .allocated_stake(&deployer, set, address)
            .await
            .unwrap(),
        shares
    );

    // The second run finds everything in place, sends nothing and says so.
    let block = deployer.get_block_number().await.unwrap();
    let second = register(&config, &["--json"]);
    assert!(second.status.success(), "{}", text(&second));
    let summary: serde_json::Value = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!(summary["changed"], false, "{summary}");
    assert_eq!(summary["steps"].as_array().unwrap().len(), 5);
    for step in summary["steps"].as_array().unwrap() {
        assert_eq!(step["status"], "already_done", "{summary}");
    }
    assert_eq!(deployer.get_block_number().await.unwrap(), block);
    assert_eq!(
        registry.stakeOf(address).call().await.unwrap().stake,
        shares
    );
    let human = register(&config, &[]);
    assert!(human.status.success(), "{}", text(&human));
    assert!(
        String::from_utf8_lossy(&human.stdout).contains("everything is in place"),
        "{}",
        text(&human)
    );
    assert_eq!(deployer.get_block_number().await.unwrap(), block);

    // An account without restaked shares is told how to get some, after the steps it can do.
    let unfunded = write_config(
        &dir.path().join("op2"),
        &anvil,
        &deployment,
        &anvil.keys()[2],
        &SecretKey::from_ikm(&[8; 32]),
    );
    let refused = register(&unfunded, &[]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("no restaked shares") && stderr.contains("depositIntoStrategy"),
        "{}",
        text(&refused)
    );
    let stranger: Address = anvil.keys()[2].address();
    assert!(
        !allocations
            .isMemberOfOperatorSet(stranger, deployment.surety.operator_set())
            .call()
            .await
            .unwrap()
    );

    // A configuration without an ECDSA key is refused before anything is sent.
    let keyless = config.with_file_name("keyless.toml");
    let text_config = std::fs::read_to_string(&config)
        .unwrap()
        .replace("ecdsa_key_file = \"l1.key\"\n", "");
    std::fs::write(&keyless, text_config).unwrap();
    let keyless_run = register(&keyless, &[]);
    assert!(!keyless_run.status.success());
    assert!(
        String::from_utf8_lossy(&keyless_run.stderr).contains("no ECDSA key configured"),
        "{}",
        text(&keyless_run)
    );
}
