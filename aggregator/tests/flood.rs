//! A flood of forged signatures for registered keys does not stall certification. One
//! connection floods the aggregator the way `tests/hostile-client` does — 256 forgeries on one
//! statement per call (bisection's worst case), 256 on as many statements, and 300 concurrent
//! single calls, more calls than the old call-counting queue held — while each honest operator
//! attests from its own connection. Every honest call is admitted and accepted, the statements
//! are certified on L1 while the flood goes on, and the flooder only ever hears
//! RESOURCE_EXHAUSTED or UNAUTHENTICATED.

mod common;

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicBool, AtomicU64, Ordering::Relaxed},
};

use alloy::primitives::keccak256;
use common::{Devnet, client, submit};
use surety_aggregator::Aggregator;
use surety_primitives::{Attestation, SecretKey, Statement};
use surety_proto::v1::{self, aggregator_client::AggregatorClient};
use tonic::{Code, transport::Channel};

const SINGLES: usize = 300;

/// What the flooder heard.
#[derive(Default)]
struct Tally {
    exhausted: AtomicU64,
    unauthenticated: AtomicU64,
    unexpected: Mutex<Vec<String>>,
}

impl Tally {
    fn code(&self, code: Code, what: &str) {
        match code {
            Code::ResourceExhausted => self.exhausted.fetch_add(1, Relaxed),
            Code::Unauthenticated => self.unauthenticated.fetch_add(1, Relaxed),
            other => {
                self.unexpected
                    .lock()
                    .unwrap()
                    .push(format!("{what}: {other:?}"));
                0
            }
        };
    }

    fn answers(&self) -> u64 {
        self.exhausted.load(Relaxed) + self.unauthenticated.load(Relaxed)
    }
}

/// Calls `call` with clones of `c` until `stop`, tallying every answer.
async fn flood<F, Fut>(
    c: AggregatorClient<Channel>,
    stop: Arc<AtomicBool>,
    tally: Arc<Tally>,
    call: F,
) where
    F: Fn(AggregatorClient<Channel>) -> Fut,
    Fut: Future<Output = Result<Vec<v1::AttestationResult>, tonic::Status>>,
{
    while !stop.load(Relaxed) {
        match call(c.clone()).await {
            Ok(results) => {
                for r in results {
                    if r.status == i32::from(v1::Status::Rejected) {
                        tally.code(Code::from_i32(r.code as i32), "result");
                    } else {
                        tally
                            .unexpected
                            .lock()
                            .unwrap()
                            .push(format!("result: {r:?}"));
                    }
                }
            }
            Err(status) => tally.code(status.code(), "call"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn honest_attestations_are_certified_through_a_flood_of_forgeries() {
    let devnet = Devnet::start().await;
    let dir = tempfile::tempdir().unwrap();
    let aggregator = Aggregator::start(&devnet.config(dir.path())).await.unwrap();
    let addr = aggregator.grpc_addr();

    // Registered keys with a stranger's real signatures on the right statements, far above the
    // head: nothing here can count.
    let stranger = SecretKey::from_ikm(&[99; 32]);
    let domain = devnet.domain();
    let forged = |op: usize, height: u64| -> v1::Attestation {
        let statement = Statement {
            rollup_id: devnet.rollup_id,
            block_number: height,
            block_hash: keccak256(format!("forged block {height}")),
            parent_hash: keccak256(format!("forged block {}", height - 1)),
            state_root: keccak256(format!("forged root {height}")),
        };
        (&Attestation {
            statement,
            public_key: devnet.operators[op].key.public_key(),
            signature: stranger.sign(&statement.signing_root(&domain).0),
        })
            .into()
    };
    let one_statement: Vec<v1::Attestation> = (0..256).map(|i| forged(i % 4, 1_000)).collect();
    let many_statements: Vec<v1::Attestation> =
        (0..256).map(|i| forged(i % 4, 1_001 + i as u64)).collect();
    let singles: Vec<v1::Attestation> = (0..SINGLES)
        .map(|i| forged(i % 4, 2_000 + i as u64))
        .collect();

    let flooder = client(addr).await;
    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Tally::default());
    let mut tasks = Vec::new();
    for batch in [one_statement, many_statements] {
        tasks.push(tokio::spawn(flood(
            flooder.clone(),
            stop.clone(),
            tally.clone(),
            move |mut c| {
                let attestations = batch.clone();
                async move {
                    Ok(c.submit_attestations(v1::AttestationBatch { attestations })
                        .await?
                        .into_inner()
                        .results)
                }
            },
        )));
    }
    for single in singles {
        tasks.push(tokio::spawn(flood(
            flooder.clone(),
            stop.clone(),
            tally.clone(),
            move |mut c| {
                let single = single.clone();
                async move {
                    let response = c.submit_attestation(single).await?.into_inner();
                    Ok(vec![v1::AttestationResult {
                        status: response.status,
                        ..Default::default()
                    }])
                }
            },
        )));
    }
    // The flood is under way before anyone honest speaks.
    while tally.answers() < 10 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    // Each operator on its own connection, as operator nodes are: first blocks 1–2, then 3–4.
    let chain = devnet.chain(4, "l2");
    let mut honest = Vec::new();
    for _ in 0..4 {
        honest.push(client(addr).await);
    }
    for blocks in [&chain[..2], &chain[2..]] {
        for (op, c) in honest.iter_mut().enumerate() {
            let batch = blocks.iter().map(|s| devnet.attest(op, s)).collect();
            let results = submit(c, batch).await;
            assert!(
                results
                    .iter()
                    .all(|r| r.status == i32::from(v1::Status::Accepted)),
                "operator {op}: {results:?}"
            );
        }
    }
    devnet.wait_final(&chain[3], 120).await;
    let at_certificate = tally.answers();

    // The flood went on past the certificate; then it stops.
    while tally.answers() <= at_certificate {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    stop.store(true, Relaxed);
    for task in tasks {
        task.await.unwrap();
    }
    let unexpected = std::mem::take(&mut *tally.unexpected.lock().unwrap());
    assert!(
        unexpected.is_empty(),
        "{:?}",
        &unexpected[..unexpected.len().min(5)]
    );
    // Forgeries were checked and attributed, not only turned away at the door.
    assert!(tally.unauthenticated.load(Relaxed) > 0);
    assert_eq!(
        aggregator.metrics().accepted.load(Relaxed),
        16,
        "exactly the honest attestations count"
    );
    aggregator.stop().await;
}
