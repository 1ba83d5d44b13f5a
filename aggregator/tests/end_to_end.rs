//! The aggregator end to end on a real anvil with the real EigenLayer core and Surety: real BLS
//! signatures over real gRPC become certificates on L1.

mod common;

use std::time::Duration;

use alloy::primitives::{B256, keccak256};
use common::{Devnet, client, submit};
use surety_aggregator::Aggregator;
use surety_proto::v1;
use surety_testkit::http;

fn accepted(results: &[v1::AttestationResult]) -> bool {
    results
        .iter()
        .all(|r| r.status == i32::from(v1::Status::Accepted))
}

#[tokio::test(flavor = "multi_thread")]
async fn certificates_land_and_a_silent_operator_becomes_a_non_signer() {
    let devnet = Devnet::start().await;
    let dir = tempfile::tempdir().unwrap();
    let aggregator = Aggregator::start(&devnet.config(dir.path())).await.unwrap();
    let mut client = client(aggregator.grpc_addr()).await;
    let chain = devnet.chain(6, "l2");

    // Everyone signs blocks 1–3; one certificate on 3 covers them all.
    let batch: Vec<_> = (0..4)
        .flat_map(|op| chain[..3].iter().map(move |s| (op, *s)))
        .map(|(op, s)| devnet.attest(op, &s))
        .collect();
    let results = submit(&mut client, batch).await;
    assert!(accepted(&results), "{results:?}");
    devnet.wait_final(&chain[2], 30).await;
    assert!(devnet.is_final(&chain[2]).await);
    let id = devnet
        .verifier()
        .certificateId(chain[2].into())
        .call()
        .await
        .unwrap();
    assert_eq!(
        devnet.verifier().nonSignersHash(id).call().await.unwrap(),
        B256::ZERO
    );

    // Operator 0 (10%) goes silent: blocks 4–6 are certified with it as the non-signer.
    for s in &chain[3..] {
        let batch = (1..4).map(|op| devnet.attest(op, s)).collect();
        assert!(accepted(&submit(&mut client, batch).await));
    }
    devnet.wait_final(&chain[5], 30).await;
    let id = devnet
        .verifier()
        .certificateId(chain[5].into())
        .call()
        .await
        .unwrap();
    let absent = devnet.operators[0].key.public_key().key_hash();
    assert_eq!(
        devnet.verifier().nonSignersHash(id).call().await.unwrap(),
        keccak256(absent)
    );
    let certificate = devnet.verifier().getCertificate(id).call().await.unwrap();
    assert_eq!(
        alloy::primitives::U256::from(certificate.signedStake),
        devnet.operators[1..]
            .iter()
            .map(|o| o.stake)
            .sum::<alloy::primitives::U256>()
    );

    // Resending is harmless, and once the aggregator sees the new head, heights at or below it
    // are refused for good.
    for _ in 0..50 {
        if aggregator.status().rollups[0].certified_head == 6 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let again = submit(&mut client, vec![devnet.attest(1, &chain[5])]).await;
    assert_eq!(again[0].status, i32::from(v1::Status::Rejected));
    assert_eq!(again[0].code, tonic::Code::FailedPrecondition as u32);

    let (code, metrics) = http::get(aggregator.http_addr().unwrap(), "/metrics").await;
    assert_eq!(code, 200);
    assert!(
        metrics.contains("surety_aggregator_accepted_total 21"),
        "{metrics}"
    );
    assert!(
        aggregator
            .metrics()
            .certificates
            .load(std::sync::atomic::Ordering::Relaxed)
            >= 2
    );
    aggregator.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn below_threshold_nothing_is_submitted_until_the_stake_returns() {
    let devnet = Devnet::start().await;
    let dir = tempfile::tempdir().unwrap();
    let aggregator = Aggregator::start(&devnet.config(dir.path())).await.unwrap();
    let mut client = client(aggregator.grpc_addr()).await;
    let chain = devnet.chain(1, "l2");

    // 10 + 20 + 30 = 60% < 66.67%.
    let results = submit(
        &mut client,
        (0..3).map(|op| devnet.attest(op, &chain[0])).collect(),
    )
    .await;
    assert!(accepted(&results));
    assert_eq!(results[2].signed_stake_bps, 6_000);
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(devnet.certified_head().await, 0);
    let status = aggregator.status();
    let rollup = &status.rollups[0];
    assert_eq!(
        (rollup.best_signed_bps, rollup.highest_attested),
        (6_000, 1)
    );
    assert!(
        rollup
            .state
            .starts_with("below threshold: 6000 of 6667 bps"),
        "{}",
        rollup.state
    );
    let (_, body) = http::get(aggregator.http_addr().unwrap(), "/status").await;
    assert!(body.contains("below threshold"), "{body}");

    // The last operator returns: the certificate lands.
    let results = submit(&mut client, vec![devnet.attest(3, &chain[0])]).await;
    assert_eq!(results[0].signed_stake_bps, 10_000);
    devnet.wait_final(&chain[0], 30).await;
    aggregator.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn accepted_attestations_survive_a_restart() {
    let devnet = Devnet::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = devnet.config(dir.path());
    let chain = devnet.chain(2, "l2");

    let aggregator = Aggregator::start(&config).await.unwrap();
    let mut c = client(aggregator.grpc_addr()).await;
    let batch = [0, 1]
        .iter()
        .flat_map(|&op| chain.iter().map(move |s| (op, s)));
    let results = submit(&mut c, batch.map(|(op, s)| devnet.attest(op, s)).collect()).await;
    assert!(accepted(&results));
    // Gone without a goodbye: only what was stored before answering remains.
    drop(c);
    aggregator.stop().await;

    let aggregator = Aggregator::start(&config).await.unwrap();
    let mut c = client(aggregator.grpc_addr()).await;
    // What the first run accepted is a duplicate now, and counts toward the quorum.
    let again = submit(&mut c, vec![devnet.attest(0, &chain[1])]).await;
    assert_eq!(again[0].status, i32::from(v1::Status::Duplicate));
    let results = submit(
        &mut c,
        [2, 3]
            .iter()
            .flat_map(|&op| chain.iter().map(move |s| (op, s)))
            .map(|(op, s)| devnet.attest(op, s))
            .collect(),
    )
    .await;
    assert!(accepted(&results));
    devnet.wait_final(&chain[1], 30).await;
    // All four signed: the restored signatures are in the aggregate (no non-signers).
    let id = devnet
        .verifier()
        .certificateId(chain[1].into())
        .call()
        .await
        .unwrap();
    assert_eq!(
        devnet.verifier().nonSignersHash(id).call().await.unwrap(),
        B256::ZERO
    );
    aggregator.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_double_signing_operator_is_slashed_on_l1() {
    let devnet = Devnet::start().await;
    let dir = tempfile::tempdir().unwrap();
    let aggregator = Aggregator::start(&devnet.config(dir.path())).await.unwrap();
    let mut client = client(aggregator.grpc_addr()).await;
    let honest = devnet.chain(1, "l2");
    let forked = devnet.chain(1, "fork");
    let culprit = &devnet.operators[1];

    assert!(accepted(
        &submit(&mut client, vec![devnet.attest(1, &honest[0])]).await
    ));
    let conflict = client
        .submit_attestation(devnet.attest(1, &forked[0]))
        .await
        .unwrap_err();
    assert_eq!(conflict.code(), tonic::Code::FailedPrecondition);

    let core = &devnet.deployment.eigenlayer;
    let set = devnet.deployment.surety.operator_set();
    let mut slashed = false;
    for _ in 0..100 {
        let stake = core
            .allocated_stake(&devnet.l1, set.clone(), culprit.address)
            .await
            .unwrap();
        if stake.is_zero() {
            slashed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(slashed, "the double signer kept its allocation");
    let m = aggregator.metrics();
    assert_eq!(m.double_signs.load(std::sync::atomic::Ordering::Relaxed), 1);
    // The same evidence again is neither recorded nor proven twice.
    let again = client
        .submit_attestation(devnet.attest(1, &forked[0]))
        .await
        .unwrap_err();
    assert_eq!(again.code(), tonic::Code::FailedPrecondition);
    assert_eq!(m.double_signs.load(std::sync::atomic::Ordering::Relaxed), 1);
    aggregator.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_aggregators_race_and_both_keep_certifying() {
    use std::sync::atomic::Ordering::Relaxed;
    let devnet = Devnet::start().await;
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = Aggregator::start(&devnet.config_with_submitter(dir_a.path(), 8))
        .await
        .unwrap();
    let b = Aggregator::start(&devnet.config_with_submitter(dir_b.path(), 9))
        .await
        .unwrap();
    let (mut ca, mut cb) = (client(a.grpc_addr()).await, client(b.grpc_addr()).await);
    let chain = devnet.chain(4, "l2");
    // Operators send to every aggregator; either may certify.
    for s in &chain {
        let batch: Vec<_> = (0..4).map(|op| devnet.attest(op, s)).collect();
        assert!(accepted(&submit(&mut ca, batch.clone()).await));
        assert!(accepted(&submit(&mut cb, batch).await));
        devnet.wait_final(s, 30).await;
    }
    let (ma, mb) = (a.metrics(), b.metrics());
    let certificates = ma.certificates.load(Relaxed) + mb.certificates.load(Relaxed);
    assert!(certificates >= 1);
    // A lost race (refused at estimation, or mined as a no-op or revert in the same block) never
    // leaves a nonce gap: every later height still landed above.
    a.stop().await;
    b.stop().await;
}

/// The pending certificate transactions in anvil's mempool: (nonce, max fee per gas).
async fn pending(devnet: &Devnet) -> Vec<(u64, u128)> {
    use alloy::providers::Provider;
    let content: serde_json::Value = devnet
        .l1
        .raw_request("txpool_content".into(), ())
        .await
        .unwrap();
    content["pending"]
        .as_object()
        .into_iter()
        .flat_map(|senders| senders.values())
        .flat_map(|by_nonce| by_nonce.as_object().unwrap().values())
        .map(|tx| {
            let hex = |field: &str| {
                u128::from_str_radix(tx[field].as_str().unwrap().trim_start_matches("0x"), 16)
                    .unwrap()
            };
            (u64::try_from(hex("nonce")).unwrap(), hex("maxFeePerGas"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stuck_certificate_is_replaced_with_higher_fees_and_the_same_nonce() {
    use alloy::providers::{Provider, ext::AnvilApi};

    let devnet = Devnet::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = devnet.config(dir.path());
    config.submit.replace_after_blocks = 2;
    let aggregator = Aggregator::start(&config).await.unwrap();
    let mut client = client(aggregator.grpc_addr()).await;

    // The L1 stops mining on its own: the test decides when blocks come.
    devnet.l1.anvil_set_interval_mining(0).await.unwrap();
    devnet.l1.anvil_set_auto_mine(false).await.unwrap();
    let chain = devnet.chain(2, "l2");
    let batch = (0..4)
        .flat_map(|op| chain.iter().map(move |s| (op, *s)))
        .map(|(op, s)| devnet.attest(op, &s))
        .collect();
    assert!(accepted(&submit(&mut client, batch).await));

    // A block makes the aggregator submit; its transaction then vanishes from the mempool (as a
    // transaction underpriced for a fee spike may never be mined).
    let first = loop {
        devnet.l1.anvil_mine(Some(1), None).await.unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
        if let Some(tx) = pending(&devnet).await.first() {
            break *tx;
        }
    };
    devnet
        .l1
        .raw_request::<_, serde_json::Value>("anvil_dropAllTransactions".into(), ())
        .await
        .unwrap();

    // Blocks pass without it; the aggregator re-sends under the same nonce with raised fees.
    let mut blocks = 0;
    let replacement = loop {
        devnet.l1.anvil_mine(Some(1), None).await.unwrap();
        blocks += 1;
        tokio::time::sleep(Duration::from_millis(500)).await;
        if let Some(tx) = pending(&devnet).await.first() {
            break *tx;
        }
        assert!(blocks < 30, "not replaced after {blocks} blocks");
    };
    assert_eq!(replacement.0, first.0, "same nonce");
    assert!(
        replacement.1 >= first.1 + first.1 / 4,
        "fees raised by 25%: {} → {}",
        first.1,
        replacement.1
    );

    devnet.l1.anvil_set_interval_mining(1).await.unwrap();
    devnet.wait_final(&chain[1], 30).await;
    assert!(
        aggregator
            .metrics()
            .replacements
            .load(std::sync::atomic::Ordering::Relaxed)
            >= 1
    );
    aggregator.stop().await;
}
