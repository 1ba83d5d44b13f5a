//! `surety rollup|cover|claim|evidence` through the real binary, against a live `surety devnet`
//! (real anvil L1 with the EigenLayer core and Surety, operators certifying a busy L2). Each
//! step checks L1 itself where the command changed it, not only what the command printed.

mod common;

use std::{path::Path, process::Output, time::Duration};

use alloy::{
    primitives::{Address, B256, U256},
    providers::{ProviderBuilder, ext::AnvilApi},
    signers::local::PrivateKeySigner,
};
use common::{Devnet, SERIAL};
use serde_json::Value;
use surety_contracts::bindings::{
    CertificateVerifier, CompensationPool, PostedRootSource, Slasher,
};
use surety_primitives::{Domain, Keystore, Statement};

/// anvil's dev account 7 (0x14dC…9955): the devnet never uses it, so it is our user.
const USER_KEY: &str = "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356";
/// anvil's dev account 0: the devnet's deployer, whose `PostedRootSource` settles rollup 1.
const DEPLOYER_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const ETHER: u128 = 1_000_000_000_000_000_000;
/// An encrypted keystore written by Foundry's `cast wallet new`, password "correct horse".
const KEYSTORE: &str = include_str!("../../../primitives/tests/fixtures/cast-keystore.json");
const KEYSTORE_ADDRESS: &str = "0x1c5344C10d6CD2dC4A0ab7bF5eC2087C7a7aDbC8";

fn surety(dir: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_surety"))
        .args(["--log", "warn"])
        .args(args)
        .arg("--devnet")
        .arg(dir)
        .env("RUST_BACKTRACE", "0")
        .env("RUST_LIB_BACKTRACE", "0")
        .output()
        .expect("run surety")
}

/// Runs a command that must succeed; its stdout.
fn ok(dir: &Path, args: &[&str]) -> String {
    let out = surety(dir, args);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(
        out.status.success(),
        "surety {args:?} failed:\n{stdout}\n{stderr}"
    );
    println!("$ surety {}\n{stdout}", args.join(" "));
    stdout
}

fn json(dir: &Path, args: &[&str]) -> Value {
    let mut args = args.to_vec();
    args.push("--json");
    serde_json::from_str(&ok(dir, &args)).unwrap()
}

/// Runs a command that must be refused; its stderr.
fn refused(dir: &Path, args: &[&str]) -> String {
    let out = surety(dir, args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success(),
        "surety {args:?} succeeded:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    println!("$ surety {} (refused)\n{stderr}", args.join(" "));
    stderr
}

fn wei(value: &Value) -> U256 {
    value.as_str().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn each_user_drives_surety_from_the_command_line() {
    let _serial = SERIAL.lock().await;
    let devnet = Devnet::start(&[]);
    devnet.wait_certified(2, Duration::from_secs(120)).await;
    let dir = devnet.dir.path();
    let key_file = dir.join("user.key");
    std::fs::write(&key_file, format!("{USER_KEY}\n")).unwrap();
    let key = key_file.to_str().unwrap();
    let user: Address = USER_KEY.parse::<PrivateKeySigner>().unwrap().address();
    let deployment = devnet.deployment();
    let l1 = devnet.l1();
    let verifier = CertificateVerifier::new(deployment.surety.certificate_verifier, &l1);
    let pool = CompensationPool::new(deployment.surety.compensation_pool, &l1);

    // Rollup owner: the devnet's rollup is active with a certified head.
    let status = json(dir, &["rollup", "status", "--rollup", "1"]);
    assert_eq!(status["status"], "Active");
    assert!(status["certified_head"].as_u64().unwrap() >= 2, "{status}");
    assert!(status["alert"].is_null());
    let text = ok(dir, &["rollup", "status", "--rollup", "1"]);
    assert!(text.contains("certified head  L2 #"), "{text}");

    // App or user: block 1 is final (certified, or covered by a later certificate); a block
    // far ahead is not, and the command says so with exit status 1.
    let head = status["certified_head"].as_u64().unwrap();
    let answer = json(
        dir,
        &["rollup", "is-final", "--rollup", "1", "--block", "1"],
    );
    assert_eq!(answer["verdict"], "final", "{answer}");
    assert!(answer["certificate"]["block"].as_u64().unwrap() <= head);
    let future = (head + 1_000).to_string();
    let out = surety(
        dir,
        &["rollup", "is-final", "--rollup", "1", "--block", &future],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("not final yet"),
        "{out:?}"
    );

    // A second rollup, with a root source the owner posts.
    let registered = json(
        dir,
        &[
            "rollup",
            "register",
            "--chain-id",
            "424242",
            "--genesis-hash",
            &B256::repeat_byte(0x11).to_string(),
            "--genesis-root",
            &B256::repeat_byte(0x22).to_string(),
            "--posted-roots",
            "--fee",
            "0.5eth",
            "--key-file",
            key,
        ],
    );
    let rollup = registered["rollup"].as_u64().unwrap();
    assert_eq!(rollup, 2);
    let source: Address = registered["root_source"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        PostedRootSource::new(source, &l1)
            .poster()
            .call()
            .await
            .unwrap(),
        user
    );
    let id = rollup.to_string();
    ok(
        dir,
        &[
            "rollup",
            "set-threshold",
            "--rollup",
            &id,
            "--bps",
            "8000",
            "--key-file",
            key,
        ],
    );
    ok(
        dir,
        &[
            "rollup",
            "fund",
            "--rollup",
            &id,
            "--amount",
            "1eth",
            "--key-file",
            key,
        ],
    );
    ok(
        dir,
        &["rollup", "pause", "--rollup", &id, "--key-file", key],
    );
    let status = json(dir, &["rollup", "status", "--rollup", &id]);
    assert_eq!(
        status["owner"]
            .as_str()
            .unwrap()
            .parse::<Address>()
            .unwrap(),
        user
    );
    assert_eq!(status["chain_id"], 424242);
    assert_eq!(status["status"], "Paused");
    assert_eq!(status["certified_head"], 0);
    let on_chain = verifier.getRollup(rollup).call().await.unwrap();
    assert_eq!(
        (
            on_chain.thresholdBps,
            on_chain.paused,
            on_chain.feeBalance,
            on_chain.rootSource
        ),
        (8000, true, U256::from(3 * ETHER / 2), source)
    );
    // Anyone may fund, here from an encrypted keystore (`cast wallet new`, password "correct
    // horse") instead of a hex key file.
    let keystore = dir.join("keystore.json");
    std::fs::write(&keystore, KEYSTORE).unwrap();
    let password = dir.join("password");
    std::fs::write(&password, "correct horse\n").unwrap();
    l1.anvil_set_balance(KEYSTORE_ADDRESS.parse().unwrap(), U256::from(10 * ETHER))
        .await
        .unwrap();
    let (keystore, password) = (keystore.to_str().unwrap(), password.to_str().unwrap());
    let fund = [
        "rollup",
        "fund",
        "--rollup",
        &id,
        "--amount",
        "0.5eth",
        "--key-file",
        keystore,
    ];
    assert!(refused(dir, &fund).contains("give the file holding its password"));
    ok(dir, &[&fund[..], &["--password-file", password]].concat());
    assert_eq!(
        verifier.getRollup(rollup).call().await.unwrap().feeBalance,
        U256::from(2 * ETHER)
    );
    // Not the owner of rollup 1: refused, with the contract's reason.
    let error = refused(
        dir,
        &[
            "rollup",
            "set-threshold",
            "--rollup",
            "1",
            "--bps",
            "8000",
            "--key-file",
            key,
        ],
    );
    assert!(error.contains("NotRollupOwner"), "{error}");

    // Cover buyer: quote, buy and list cover on the certified head.
    let height = verifier
        .latestCertifiedBlock(1)
        .call()
        .await
        .unwrap()
        .to_string();
    let at = ["--rollup", "1", "--height", height.as_str()];
    let quote = json(
        dir,
        &[&["cover", "quote", "--amount", "1eth"], &at[..]].concat(),
    );
    assert_eq!(quote["on_sale"], true, "{quote}");
    assert_eq!(wei(&quote["premium_wei"]), U256::from(ETHER / 100));
    assert!(wei(&quote["available_wei"]) >= U256::from(ETHER));
    let certificate: B256 = quote["certificate"].as_str().unwrap().parse().unwrap();
    let statement: Statement = serde_json::from_value(quote["statement"].clone()).unwrap();
    assert_eq!(statement.certificate_id(), certificate);
    let bought = json(
        dir,
        &[
            &["cover", "buy", "--amount", "1eth", "--key-file", key],
            &at[..],
        ]
        .concat(),
    );
    let cover_id = wei(&bought["cover"]);
    let cover = pool.getCover(cover_id).call().await.unwrap();
    assert_eq!(
        (cover.holder, U256::from(cover.amount), cover.certificateId),
        (user, U256::from(ETHER), certificate)
    );
    let list = json(dir, &["cover", "list", "--holder", &user.to_string()]);
    assert_eq!(list["covers"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(wei(&list["covers"][0]["cover"]), cover_id);
    assert_eq!(list["covers"][0]["fault"], "none");

    // Claims on a correct certificate: none to pay, nothing to accuse blindly.
    let cover_arg = cover_id.to_string();
    let claim = json(dir, &["claim", "status", "--cover", &cover_arg]);
    assert_eq!(
        (&claim["fault"], &claim["paid_wei"]),
        (&Value::from("standing"), &Value::from("0"))
    );
    let error = refused(
        dir,
        &["claim", "pay", "--cover", &cover_arg, "--key-file", key],
    );
    assert!(error.contains("not proven faulty"), "{error}");
    let error = refused(
        dir,
        &["claim", "file", "--cover", &cover_arg, "--key-file", key],
    );
    assert!(error.contains("has not settled"), "{error}");
    let error = refused(
        dir,
        &[&["evidence", "slash", "--key-file", key], &at[..]].concat(),
    );
    assert!(error.contains("not proven faulty"), "{error}");
    let error = refused(
        dir,
        &[&["evidence", "resolve", "--key-file", key], &at[..]].concat(),
    );
    assert!(error.contains("is not accused"), "{error}");

    // Once the root poster settles the certificate's (true) root, an accusation is refused
    // before any bond is posted, and cover is no longer sold.
    let deployer = ProviderBuilder::new()
        .wallet(DEPLOYER_KEY.parse::<PrivateKeySigner>().unwrap())
        .connect_http(
            devnet.manifest["l1"]["rpc"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap(),
        );
    let source = verifier.rootSource(1).call().await.unwrap();
    PostedRootSource::new(source, &deployer)
        .post(statement.block_number, statement.state_root)
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    let error = refused(
        dir,
        &[&["evidence", "accuse", "--key-file", key], &at[..]].concat(),
    );
    assert!(error.contains("is correct"), "{error}");
    let slasher = Slasher::new(deployment.surety.slasher, &l1);
    assert_eq!(
        slasher
            .accusations(certificate)
            .call()
            .await
            .unwrap()
            .accuser,
        Address::ZERO
    );
    let quote = json(
        dir,
        &[&["cover", "quote", "--amount", "1eth"], &at[..]].concat(),
    );
    assert_eq!(quote["on_sale"], false);
    assert!(
        quote["reason"].as_str().unwrap().contains("settled"),
        "{quote}"
    );
    let error = refused(
        dir,
        &[
            &["cover", "buy", "--amount", "1eth", "--key-file", key],
            &at[..],
        ]
        .concat(),
    );
    assert!(error.contains("OutcomeKnown"), "{error}");

    // Evidence by hand: operator 1's key signs two blocks at one height.
    let keys = dir.join("operators/1/keys");
    let bls = Keystore::read(&keys.join("bls.json"))
        .unwrap()
        .decrypt(
            std::fs::read_to_string(keys.join("bls.password"))
                .unwrap()
                .trim(),
        )
        .unwrap();
    let domain = Domain::new(deployment.chain_id, deployment.surety.certificate_verifier);
    let at_height = 1_000_000;
    let files: Vec<String> = [0x0a, 0x0b]
        .into_iter()
        .map(|byte| {
            let statement = Statement {
                rollup_id: 1,
                block_number: at_height,
                block_hash: B256::repeat_byte(byte),
                parent_hash: B256::repeat_byte(0x01),
                state_root: B256::repeat_byte(byte),
            };
            let signature = bls.sign(&statement.signing_root(&domain).0);
            let path = dir.join(format!("signed-{byte}.json"));
            let file = serde_json::json!({
                "statement": statement,
                "signature": signature,
                "publicKey": bls.public_key(),
            });
            std::fs::write(&path, file.to_string()).unwrap();
            path.to_str().unwrap().to_owned()
        })
        .collect();
    let error = refused(
        dir,
        &[
            "evidence",
            "invalid-statement",
            &files[0],
            "--key-file",
            key,
        ],
    );
    assert!(error.contains("CanonicalRootUnknown"), "{error}");
    let operator: Address = devnet.operator(1)["address"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let collateral = pool.collateralOf(operator).call().await.unwrap().amount;
    assert!(collateral > U256::ZERO);
    let proven = json(
        dir,
        &[
            "evidence",
            "double-sign",
            &files[0],
            &files[1],
            "--key-file",
            key,
        ],
    );
    let punished = &proven["punished"][0];
    assert_eq!(
        punished["operator"]
            .as_str()
            .unwrap()
            .parse::<Address>()
            .unwrap(),
        operator
    );
    assert_eq!(wei(&punished["collateral_forfeited_wei"]), collateral);
    let fault_key = slasher
        .faultKey(operator, 1, at_height)
        .call()
        .await
        .unwrap();
    assert!(slasher.used(fault_key).call().await.unwrap());
    assert_eq!(
        pool.collateralOf(operator).call().await.unwrap().amount,
        U256::ZERO
    );
    // The same evidence again: already used.
    let error = refused(
        dir,
        &[
            "evidence",
            "double-sign",
            &files[0],
            &files[1],
            "--key-file",
            key,
        ],
    );
    assert!(error.contains("EvidenceUsed"), "{error}");
}

/// The same commands on a certificate that is wrong: `--byzantine 2` certifies a wrong root at
/// L2 #4, the devnet's user (anvil account 7) tries to buy cover 0 on it, the watchtowers accuse
/// it, the root poster settles the true root, every signer is slashed and the claim is paid. The
/// commands report each stage and refuse what the contracts would, and the manual evidence path
/// finds the watchtowers' work done.
#[tokio::test(flavor = "multi_thread")]
async fn claims_and_evidence_on_a_faulty_certificate() {
    let _serial = SERIAL.lock().await;
    let devnet = Devnet::start(&[
        "--byzantine",
        "2",
        "--byzantine-at",
        "4",
        "--settle-after",
        "5",
    ]);
    let dir = devnet.dir.path();
    let key_file = dir.join("user.key");
    std::fs::write(&key_file, format!("{USER_KEY}\n")).unwrap();
    let key = key_file.to_str().unwrap();
    let user: Address = USER_KEY.parse::<PrivateKeySigner>().unwrap().address();
    let pool = CompensationPool::new(devnet.deployment().surety.compensation_pool, devnet.l1());

    // Proven wrong: accusing again sends nothing, and no cover is sold on it.
    let line = devnet
        .wait_line("EVIDENCE     certificate", Duration::from_secs(180))
        .await;
    let wrong = line.split_whitespace().nth(2).unwrap().to_owned();
    let at = [
        "--rollup",
        "1",
        "--height",
        "4",
        "--certificate",
        wrong.as_str(),
    ];
    let accused = json(
        dir,
        &[&["evidence", "accuse", "--key-file", key], &at[..]].concat(),
    );
    assert_eq!(
        (&accused["state"], &accused["sent"]),
        (&Value::from("faulty"), &Value::from(false))
    );
    let error = refused(
        dir,
        &[
            &["cover", "buy", "--amount", "1eth", "--key-file", key],
            &at[..],
        ]
        .concat(),
    );
    assert!(error.contains("CertificateFaulty"), "{error}");
    // The user's cover, if it won the race against the watchtowers' accusation.
    let bought = pool.coverCount().call().await.unwrap() > U256::ZERO;
    if bought {
        let claim = json(dir, &["claim", "status", "--cover", "0"]);
        assert_eq!(claim["fault"], "faulty", "{claim}");
        assert_eq!(claim["certificate"], wrong.as_str());
        assert_eq!(
            claim["holder"]
                .as_str()
                .unwrap()
                .parse::<Address>()
                .unwrap(),
            user
        );
        if pool.getCover(U256::ZERO).call().await.unwrap().paid == 0 {
            let error = refused(dir, &["claim", "pay", "--cover", "0", "--key-file", key]);
            assert!(
                error.contains("ClaimWindowOpen") || error.contains("AlreadyPaid"),
                "{error}"
            );
        }
    } else {
        let error = refused(dir, &["claim", "status", "--cover", "0"]);
        assert!(error.contains("there is no cover 0"), "{error}");
    }

    // The watchtowers slash every signer; by hand there is nothing left to do.
    devnet.wait_line("SLASHED", Duration::from_secs(120)).await;
    let slashed = json(
        dir,
        &[&["evidence", "slash", "--key-file", key], &at[..]].concat(),
    );
    assert_eq!(slashed["slashed"], Value::Array(vec![]), "{slashed}");
    let resolve = json(
        dir,
        &[&["evidence", "resolve", "--key-file", key], &at[..]].concat(),
    );
    assert_eq!(
        (&resolve["state"], &resolve["sent"]),
        (&Value::from("faulty"), &Value::from(false))
    );

    // Paid in full: status, list and a second payment agree with the pool.
    if bought {
        devnet
            .wait_line("claim on cover 0 paid", Duration::from_secs(120))
            .await;
        let cover = pool.getCover(U256::ZERO).call().await.unwrap();
        assert_eq!(cover.paid, cover.amount);
        let claim = json(dir, &["claim", "status", "--cover", "0"]);
        assert_eq!(claim["settled"], true);
        assert_eq!(wei(&claim["paid_wei"]), U256::from(cover.amount));
        assert_eq!(wei(&claim["entitled_wei"]), U256::from(cover.amount));
        let list = json(dir, &["cover", "list", "--holder", &user.to_string()]);
        assert_eq!(list["covers"][0]["fault"], "settled", "{list}");
        let error = refused(dir, &["claim", "pay", "--cover", "0", "--key-file", key]);
        assert!(error.contains("AlreadyPaid"), "{error}");
    }
}
