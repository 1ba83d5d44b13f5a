//! `surety devnet` end to end through the real binary: a real anvil L1 with the EigenLayer core
//! and Surety deployed, operators restaked through the real AllocationManager, a real anvil L2
//! under the mixed workload, two `surety aggregator run` and four `surety operator run`
//! processes talking real gRPC, and certificates landing on L1. Each test checks what it claims
//! on L1 itself, while the devnet runs.

mod common;

use std::time::{Duration, Instant};

use alloy::{
    primitives::{Address, B256, U256},
    providers::Provider,
};
use common::{Devnet, SERIAL, certificates, reqwest_get};
use serde_json::Value;
use surety_contracts::{
    bindings::CertificateVerifier,
    evidence::{signers, submitted_certificates},
    finality::{self, Finality, header_chain},
};
use surety_primitives::PublicKey;

#[tokio::test(flavor = "multi_thread")]
async fn certificates_land_and_is_final_matches_the_l2() {
    let _serial = SERIAL.lock().await;
    let devnet = Devnet::start(&[]);
    devnet.wait_certified(6, Duration::from_secs(120)).await;

    let (l2, verifier) = (
        devnet.l2(),
        CertificateVerifier::new(devnet.verifier(), devnet.l1()),
    );
    // The head first: certificates keep landing, and every one at or below it is in the list.
    let head = devnet.certified_head().await;
    let certified: Vec<u64> = certificates(&devnet).await.iter().map(|c| c.0).collect();
    assert!(certified.len() >= 3, "{certified:?}");
    for number in 1..=head {
        let Some(block) = l2.get_block_by_number(number.into()).await.unwrap() else {
            continue;
        };
        let (hash, root) = (block.header.hash, block.header.state_root);
        let is_final = |h: B256, r: B256| verifier.isFinal(1, number, h, r);
        // Each certified block is final exactly as the L2's own RPC reports it; nothing else is.
        assert_eq!(
            is_final(hash, root).call().await.unwrap(),
            certified.contains(&number),
            "block {number}, certificates at {certified:?}"
        );
        assert!(!is_final(hash, B256::repeat_byte(7)).call().await.unwrap());
        assert!(!is_final(B256::repeat_byte(7), root).call().await.unwrap());
    }
    // The head's certificate also covers every block below it, shown by the L2's own headers;
    // the client finds the nearest certificate and agrees.
    for number in 1..=head {
        let block = l2
            .get_block_by_number(number.into())
            .await
            .unwrap()
            .unwrap();
        let (hash, root) = (block.header.hash, block.header.state_root);
        let headers = header_chain(&l2, number, head).await.unwrap();
        assert!(
            verifier
                .isFinalAncestor(1, number, hash, root, headers.clone())
                .call()
                .await
                .unwrap(),
            "block {number} under the head {head}"
        );
        assert!(
            !verifier
                .isFinalAncestor(1, number, hash, B256::repeat_byte(7), headers)
                .call()
                .await
                .unwrap()
        );
        let nearest = *certified.iter().filter(|&&c| c >= number).min().unwrap();
        match finality::is_final(&devnet.l1(), &devnet.deployment().surety, &l2, 1, number)
            .await
            .unwrap()
        {
            Finality::Final { by } => assert_eq!(by.block_number, nearest, "block {number}"),
            other => panic!("block {number}: {other:?}"),
        }
    }
    let (status, output) = devnet.stop();
    assert!(status.success(), "{output}");
    for line in [
        "4 operators registered with `surety operator register`, 100 ETH slashable in total",
        "4 operator nodes and 2 aggregators running",
        "certificate  L2 #",
        "L2 block → certificate on L1: p50",
        "gas: ",
    ] {
        assert!(output.contains(line), "missing {line:?} in\n{output}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn certificates_go_on_without_one_operator_and_stop_below_threshold() {
    let _serial = SERIAL.lock().await;
    let mut devnet = Devnet::start(&[]);
    devnet.wait_certified(2, Duration::from_secs(120)).await;

    // Operator 1 holds 10 % of the stake: without it 90 % remains, above the 66.67 % threshold.
    // Every certificate on an L2 block made after the kill names it as a non-signer.
    devnet.kill_operator(1);
    let killed_at = devnet.l2().get_block_number().await.unwrap();
    devnet
        .wait_certified(killed_at + 3, Duration::from_secs(60))
        .await;
    let operator_1: PublicKey = devnet.operator(1)["public_key"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let l1 = devnet.l1();
    let registry = devnet.deployment().surety.operator_registry;
    let latest = l1.get_block_number().await.unwrap();
    let after_kill: Vec<_> = submitted_certificates(&l1, devnet.verifier(), 1, 0, latest)
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.statement.block_number > killed_at)
        .collect();
    assert!(!after_kill.is_empty(), "no certificate after the kill");
    for certificate in &after_kill {
        let signers = signers(&l1, registry, certificate).await.unwrap();
        assert!(
            signers.non_signers.contains(&operator_1.key_hash()),
            "operator 1 signed L2 block {} after it was killed",
            certificate.statement.block_number
        );
    }

    // Operator 4 holds 40 %: with 1 and 4 gone, 50 % is below the threshold and nothing is
    // certified; the aggregators say why.
    devnet.kill_operator(4);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let stalled = devnet.certified_head().await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(
        devnet.certified_head().await,
        stalled,
        "certified below threshold"
    );
    let http = devnet.manifest["aggregators"][0]["http"].as_str().unwrap();
    let status: Value = reqwest_get(&format!("{http}/status")).await;
    let state = status["rollups"][0]["state"].as_str().unwrap();
    assert!(
        state.contains("below threshold: 5000 of 6667 bps"),
        "aggregator state: {state}"
    );

    // The operators come back, catch up from their datadirs, and certificates resume.
    devnet.restart_operator(1);
    devnet.restart_operator(4);
    devnet
        .wait_certified(stalled + 3, Duration::from_secs(120))
        .await;
    let (_, output) = devnet.stop();
    assert!(output.contains("ALERT        operator 1"), "{output}");
}

#[tokio::test(flavor = "multi_thread")]
async fn certificates_go_on_through_twenty_aggregator_crashes() {
    let _serial = SERIAL.lock().await;
    let devnet = Devnet::start(&["--kill-aggregator-every", "1"]);
    devnet
        .wait_line("SIGKILL aggregator 2 (#1)", Duration::from_secs(60))
        .await;
    let before = devnet.certified_head().await;
    devnet
        .wait_line("SIGKILL aggregator 2 (#20)", Duration::from_secs(120))
        .await;
    let after = devnet.certified_head().await;
    assert!(
        after >= before + 5,
        "certified head went from {before} to {after} over 20 crashes"
    );
    let log = std::fs::read_to_string(devnet.manifest["aggregators"][1]["log"].as_str().unwrap())
        .unwrap();
    // Every restart resumes from the store; at least one found attestations there to restore.
    let restores: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("aggregator state restored"))
        .collect();
    assert!(restores.len() >= 20, "{} restores", restores.len());
    assert!(
        restores.iter().any(|l| !l.contains("restored=0")),
        "no restart restored an accepted attestation:\n{}",
        restores.join("\n")
    );
    let (status, output) = devnet.stop();
    assert!(status.success(), "{output}");
    assert!(output.contains("aggregator 2 was SIGKILLed and restarted"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_double_signer_is_caught_and_slashed_on_l1() {
    let _serial = SERIAL.lock().await;
    let devnet = Devnet::start(&["--double-sign", "1", "--double-sign-at", "3"]);
    let culprit: Address = devnet.operator(1)["address"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let line = devnet.wait_line("SLASHED", Duration::from_secs(120)).await;
    assert!(line.contains(&culprit.to_string()), "{line}");
    devnet
        .wait_line(
            &format!("double signing by {culprit} at L2 #3"),
            Duration::from_secs(5),
        )
        .await;

    let deployment = devnet.deployment();
    let set = deployment.surety.operator_set();
    let l1 = devnet.l1();
    let stake_of = |index: usize| {
        let address: Address = devnet.operator(index)["address"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let (deployment, set, l1) = (&deployment, set.clone(), &l1);
        async move {
            deployment
                .eigenlayer
                .allocated_stake(l1, set, address)
                .await
                .unwrap()
        }
    };
    assert!(
        stake_of(1).await.is_zero(),
        "the double signer keeps allocated stake"
    );
    for honest in 2..=4 {
        let stake: U256 = devnet.operator(honest)["stake_wei"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(
            stake_of(honest).await,
            stake,
            "honest operator {honest} was slashed"
        );
    }
    // Certificates go on without it.
    let head = devnet.certified_head().await;
    devnet
        .wait_certified(head + 2, Duration::from_secs(60))
        .await;
    let (status, output) = devnet.stop();
    assert!(status.success(), "{output}");
}

#[test]
fn a_lying_l2_is_refused_by_every_operator() {
    let _serial = SERIAL.blocking_lock();
    let devnet = Devnet::start(&["--lying-l2-at", "4", "--settle-after", "3"]);
    let deadline = Instant::now() + Duration::from_secs(120);
    while devnet
        .lines
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.starts_with("ALERT"))
        .count()
        < 4
    {
        assert!(Instant::now() < deadline, "{}", devnet.output());
        std::thread::sleep(Duration::from_millis(200));
    }
    let mut devnet = devnet;
    let status = devnet.child.wait().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let output = devnet.output();
    assert!(!status.success(), "{output}");
    for line in devnet
        .lines
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.starts_with("ALERT"))
    {
        assert!(
            line.contains("block 4 (") && line.contains("0x1111"),
            "every operator names the lying block: {line}"
        );
    }
    // Their reports became a circuit-breaker alert; the bridge paused until the root settled.
    for line in [
        "CIRCUIT      alert on L1: rollup 1 halted at L2 #4",
        "example bridge paused",
        "CIRCUIT      alert cleared: rollup 1 L2 #4",
        "(alert confirmed); example bridge open",
    ] {
        assert!(output.contains(line), "missing {line:?} in\n{output}");
    }
    // Nothing at or above the lying block is certified.
    assert!(
        output.contains("every operator node has stopped"),
        "{output}"
    );
    assert!(!output.contains("certificate  L2 #4 "), "{output}");
    let certified: u64 = output
        .split("certified head ")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .expect("a certified head in the summary");
    assert!(certified <= 3, "{output}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_certificate_ends_in_slashed_signers_and_a_paid_claim() {
    use surety_contracts::bindings::CompensationPool;

    let _serial = SERIAL.lock().await;
    // Operators 3 and 4 (70 % of the stake) certify a wrong root at L2 #4.
    let devnet = Devnet::start(&[
        "--byzantine",
        "2",
        "--byzantine-at",
        "4",
        "--settle-after",
        "5",
    ]);
    devnet.wait_line("TIMELINE", Duration::from_secs(180)).await;
    let output = devnet.output();
    for line in [
        "FAULT        byzantine operators sign L2 #4",
        "USER         relies on L2 #4 and buys cover 0",
        "WATCHTOWER   ",
        "POSTER       canonical root of L2 #4 settled",
        "proven wrong",
        "USER         claim on cover 0 paid",
        "from the root settling to every signer slashed",
    ] {
        assert!(output.contains(line), "missing {line:?} in\n{output}");
    }

    // What the honest nodes' watchtowers did is in `surety operator status`.
    let http = devnet.operator(1)["http"]
        .as_str()
        .unwrap()
        .trim_start_matches("http://");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_surety"))
        .args(["operator", "status", "--http", http])
        .output()
        .unwrap();
    let status = String::from_utf8_lossy(&status.stdout);
    assert!(
        status.contains("watchtower: ") && status.contains("dispute: rollup 1 block 4"),
        "{status}"
    );

    let deployment = devnet.deployment();
    let (l1, set) = (devnet.l1(), deployment.surety.operator_set());
    let pool = CompensationPool::new(deployment.surety.compensation_pool, &l1);
    for index in 1..=4 {
        let operator = devnet.operator(index);
        let address: Address = operator["address"].as_str().unwrap().parse().unwrap();
        let stake: U256 = operator["stake_wei"].as_str().unwrap().parse().unwrap();
        let allocated = deployment
            .eigenlayer
            .allocated_stake(&l1, set.clone(), address)
            .await
            .unwrap();
        let collateral = pool.collateralOf(address).call().await.unwrap().amount;
        if operator["byzantine"].as_bool().unwrap() {
            assert!(
                allocated.is_zero(),
                "signer {index} keeps {allocated} allocated"
            );
            assert!(collateral.is_zero(), "signer {index} keeps its collateral");
        } else {
            assert_eq!(allocated, stake, "honest operator {index} was slashed");
            assert!(
                !collateral.is_zero(),
                "honest operator {index} lost its collateral"
            );
        }
    }
    // The pool's rules: the fault's credit (two forfeited collaterals) covers the one cover in
    // full, so the holder is paid its whole amount and nothing more is owed.
    let cover = pool.getCover(U256::ZERO).call().await.unwrap();
    assert_eq!(cover.paid, cover.amount);
    assert_eq!(
        pool.payoutOf(U256::ZERO).call().await.unwrap(),
        U256::from(cover.amount)
    );
    assert_eq!(pool.totalOwed().call().await.unwrap(), U256::ZERO);

    // The honest operators, now all of the stake, certify the true chain past the fault.
    devnet.wait_certified(6, Duration::from_secs(60)).await;
    let (status, output) = devnet.stop();
    assert!(status.success(), "{output}");
}
