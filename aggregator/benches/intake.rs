//! Aggregator intake throughput: attestations per second through real gRPC on loopback into a
//! real aggregator (batch verification, durable redb commit) on a real L1 with 100 onboarded
//! operators, each on its own connection as operator nodes are, for 1 and 10 rollups — beside
//! verifying each signature alone against its registered key, as eigensdk's aggregator does, in
//! the same run.
//!
//! Throughput is reported per CPU-second of the aggregator's own threads (its runtime and its
//! verification worker; the clients run on a runtime of their own), which is the per-core figure
//! on a shared machine, and also per CPU-second of the whole process and per wall-clock second.
//! The one-by-one baseline and the crypto breakdown are timed in CPU time of the thread running
//! them, so a loaded machine does not flatter the ratio.
//!
//! `cargo bench -p surety-aggregator --bench intake` (needs anvil on PATH or `make tools`).

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use alloy::{
    network::EthereumWallet,
    primitives::{Address, B256, U256, keccak256},
    providers::{Provider, ProviderBuilder, WalletProvider, ext::AnvilApi},
    signers::local::PrivateKeySigner,
};
use criterion::{Criterion, criterion_group, criterion_main};
use surety_aggregator::{
    Aggregator, AggregatorConfig,
    config::{IntakeConfig, L1Config, SubmitConfig},
};
use surety_contracts::{
    CoreParams, SuretyParams,
    bindings::{CertificateVerifier, OperatorRegistry},
    deploy_all, send,
};
use surety_primitives::{
    Attestation, Domain, HashedMessage, PublicKey, SecretKey, Signature, Statement, verify_many,
};
use surety_proto::v1::{self, aggregator_client::AggregatorClient};
use surety_testkit::anvil::{Anvil, AnvilInstance};

const OPERATORS: usize = 100;
/// Attestations per measured iteration (each operator sends its share in one batch).
const PER_ITERATION: usize = 2_000;

struct Fixture {
    _anvil: AnvilInstance,
    _dir: tempfile::TempDir,
    aggregator: Aggregator,
    keys: Vec<SecretKey>,
    domain: Domain,
    rollups: Vec<u64>,
}

fn wallet(anvil: &AnvilInstance, i: usize) -> impl Provider + WalletProvider + Clone + use<> {
    let signer: PrivateKeySigner = anvil.keys()[i].clone();
    ProviderBuilder::new()
        .disable_recommended_fillers()
        .with_gas_estimation()
        .with_simple_nonce_management()
        .fetch_chain_id()
        .wallet(EthereumWallet::from(signer))
        .connect_http(anvil.url())
}

async fn fixture() -> Fixture {
    let anvil = Anvil::new()
        .arg("--accounts")
        .arg((OPERATORS + 2).to_string())
        .spawn()
        .expect("anvil");
    let deployer = wallet(&anvil, 0);
    let deployment = deploy_all(&deployer, CoreParams::DEVNET, &SuretyParams::devnet())
        .await
        .unwrap();
    let mut keys = Vec::new();
    let mut addresses: Vec<Address> = Vec::new();
    for i in 0..OPERATORS {
        let provider = wallet(&anvil, i + 1);
        let mut ikm = [0u8; 32];
        ikm[..8].copy_from_slice(&(i as u64 + 1).to_be_bytes());
        let key = SecretKey::from_ikm(&ikm);
        deployment
            .onboard_operator(&provider, &key, U256::from(10u64.pow(18)), 1)
            .await
            .unwrap();
        addresses.push(provider.default_signer_address());
        keys.push(key);
    }
    deployer.anvil_mine(Some(2), None).await.unwrap();
    let registry = OperatorRegistry::new(deployment.surety.operator_registry, &deployer);
    send("refresh stakes", registry.update(addresses))
        .await
        .unwrap();
    let source =
        surety_contracts::deploy_posted_root_source(&deployer, deployer.default_signer_address())
            .await
            .unwrap();
    let verifier = CertificateVerifier::new(deployment.surety.certificate_verifier, &deployer);
    let mut rollups = Vec::new();
    for chain_id in 0..10u64 {
        let receipt = send(
            "register a rollup",
            verifier.register(
                900 + chain_id,
                keccak256(format!("genesis {chain_id}")),
                keccak256("state"),
                6_667,
                source,
            ),
        )
        .await
        .unwrap();
        rollups.push(
            receipt
                .decoded_log::<CertificateVerifier::RollupRegistered>()
                .unwrap()
                .rollupId,
        );
    }
    deployer.anvil_mine(Some(1), None).await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("submitter.hex");
    let submitter = anvil.keys()[OPERATORS + 1].to_bytes();
    std::fs::write(&key_file, format!("0x{}\n", alloy::hex::encode(submitter))).unwrap();
    let s = &deployment.surety;
    let config = AggregatorConfig {
        datadir: dir.path().join("data"),
        grpc_addr: "127.0.0.1:0".parse().unwrap(),
        http_addr: None,
        l1: L1Config {
            rpc: anvil.endpoint(),
            deployment: None,
            certificate_verifier: Some(s.certificate_verifier),
            operator_registry: Some(s.operator_registry),
            slasher: Some(s.slasher),
            ecdsa_key_file: key_file,
            ecdsa_password_file: None,
            poll_interval_ms: Duration::from_millis(500),
            from_block: 0,
        },
        // Intake only: no certificate is sent during the measurement.
        submit: SubmitConfig {
            cadence_blocks: 1_000_000_000,
            ..SubmitConfig::default()
        },
        intake: IntakeConfig {
            max_ahead: 10_000_000,
            ..IntakeConfig::default()
        },
        rollups: Vec::new(),
    };
    let aggregator = Aggregator::start(&config).await.unwrap();
    Fixture {
        _anvil: anvil,
        _dir: dir,
        aggregator,
        keys,
        domain: Domain::new(deployment.chain_id, s.certificate_verifier),
        rollups,
    }
}

/// Fresh attestations: heights from `*next` on, across `rollups`, signed by every operator;
/// one batch per operator.
fn attestations(fx: &Fixture, rollups: usize, next: &mut u64) -> Vec<Vec<v1::Attestation>> {
    let heights = (PER_ITERATION / OPERATORS / rollups) as u64;
    let statements: Vec<Statement> = fx.rollups[..rollups]
        .iter()
        .flat_map(|&rollup_id| {
            (*next..*next + heights).map(move |n| Statement {
                rollup_id,
                block_number: n,
                block_hash: keccak256(format!("{rollup_id} {n}")),
                parent_hash: keccak256(format!("{rollup_id} {}", n - 1)),
                state_root: keccak256(format!("root {rollup_id} {n}")),
            })
        })
        .collect();
    *next += heights;
    let roots: Vec<B256> = statements
        .iter()
        .map(|s| s.signing_root(&fx.domain))
        .collect();
    fx.keys
        .iter()
        .map(|key| {
            statements
                .iter()
                .zip(&roots)
                .map(|(s, root)| {
                    (&Attestation {
                        statement: *s,
                        public_key: key.public_key(),
                        signature: key.sign(&root.0),
                    })
                        .into()
                })
                .collect()
        })
        .collect()
}

/// CPU seconds this process has used (user + system).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the command name.
    (ticks(11) + ticks(12)) / 100.0
}

/// Names of the aggregator's threads: its runtime's workers and blocking pool (gRPC, decoding and
/// the other checks before a signature's), and the intake's verification worker (batch checks,
/// bookkeeping, the durable commit). The clients run on a runtime of their own
/// (`operator-client`).
const AGGREGATOR_THREADS: [&str; 2] = ["aggregator", "surety-intake"];

/// On-CPU nanoseconds of every live thread of this process whose name is one of `names`, by
/// thread id (`/proc/self/task/*/{comm,schedstat}`), with the thread's name. Deltas are taken per
/// thread id, so a pool thread that exits idle in between does not take its past CPU time out of
/// the sum.
fn threads_cpu(names: &[&'static str]) -> HashMap<u64, (&'static str, u64)> {
    let mut cpu = HashMap::new();
    for task in std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
    {
        let path = task.path();
        let comm = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        let Some(&name) = names.iter().find(|&&n| n == comm.trim_end()) else {
            continue;
        };
        let ns = std::fs::read_to_string(path.join("schedstat"))
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse().ok());
        let tid = task.file_name().to_str().and_then(|t| t.parse().ok());
        if let (Some(tid), Some(ns)) = (tid, ns) {
            cpu.insert(tid, (name, ns));
        }
    }
    cpu
}

/// CPU seconds the threads named `name` in `after` used since `before`.
fn cpu_between(
    before: &HashMap<u64, (&str, u64)>,
    after: &HashMap<u64, (&str, u64)>,
    name: &str,
) -> f64 {
    let ns: u64 = after
        .iter()
        .filter(|(_, (n, _))| *n == name)
        .map(|(tid, (_, ns))| ns.saturating_sub(before.get(tid).map_or(0, |(_, ns)| *ns)))
        .sum();
    ns as f64 / 1e9
}

/// CPU time the calling thread has used (on-CPU nanoseconds from /proc/thread-self/schedstat).
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let ns = stat
        .split_whitespace()
        .next()
        .and_then(|f| f.parse().ok())
        .unwrap_or(0);
    Duration::from_nanos(ns)
}

/// Sends every operator's batch concurrently, each on its connection; returns how many were
/// accepted.
async fn send_all(
    clients: &[AggregatorClient<tonic::transport::Channel>],
    batches: Vec<Vec<v1::Attestation>>,
) -> usize {
    let calls = batches.into_iter().zip(clients).map(|(attestations, c)| {
        let mut c = c.clone();
        tokio::spawn(async move {
            c.submit_attestations(v1::AttestationBatch { attestations })
                .await
                .unwrap()
                .into_inner()
                .results
                .iter()
                .filter(|r| r.status == i32::from(v1::Status::Accepted))
                .count()
        })
    });
    let mut accepted = 0;
    for call in calls.collect::<Vec<_>>() {
        accepted += call.await.unwrap();
    }
    accepted
}

fn intake(c: &mut Criterion) {
    let runtime = |name: &str| {
        tokio::runtime::Builder::new_multi_thread()
            .thread_name(name)
            .enable_all()
            .build()
            .unwrap()
    };
    // The aggregator and the 100 operator clients on separate runtimes, so the aggregator's own
    // CPU time can be told from the clients' (which operators spend on their machines).
    let rt = runtime(AGGREGATOR_THREADS[0]);
    let client_rt = runtime("operator-client");
    let fx = rt.block_on(fixture());
    let clients: Vec<_> = client_rt.block_on(async {
        let mut clients = Vec::new();
        for _ in 0..OPERATORS {
            clients.push(
                AggregatorClient::connect(format!("http://{}", fx.aggregator.grpc_addr()))
                    .await
                    .unwrap(),
            );
        }
        clients
    });
    let mut next = 1;
    // A connection's calls take the untrusted path (checked on their own, a bounded share per
    // round) until one verifies cleanly; operators' long-lived connections are past that. One
    // untimed call per connection first, so every figure below is the steady state's.
    let first = attestations(&fx, 1, &mut next);
    let n: usize = first.iter().map(Vec::len).sum();
    assert_eq!(client_rt.block_on(send_all(&clients, first)), n);
    let mut group = c.benchmark_group("intake");
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(5));
    group.throughput(criterion::Throughput::Elements(PER_ITERATION as u64));
    let mut summary = Vec::new();
    for rollups in [1, 10] {
        let (mut total, mut wall, mut cpu) = (0usize, Duration::ZERO, 0.0);
        let (mut runtime_cpu, mut worker_cpu) = (0.0, 0.0);
        group.bench_function(
            format!("grpc/{rollups}-rollups/{OPERATORS}-operators"),
            |b| {
                b.iter_custom(|iters| {
                    let mut elapsed = Duration::ZERO;
                    for _ in 0..iters {
                        let batches = attestations(&fx, rollups, &mut next);
                        let n: usize = batches.iter().map(Vec::len).sum();
                        let threads_start = threads_cpu(&AGGREGATOR_THREADS);
                        let (start, cpu_start) = (Instant::now(), cpu_seconds());
                        let accepted = client_rt.block_on(send_all(&clients, batches));
                        let took = start.elapsed();
                        let threads_end = threads_cpu(&AGGREGATOR_THREADS);
                        runtime_cpu +=
                            cpu_between(&threads_start, &threads_end, AGGREGATOR_THREADS[0]);
                        worker_cpu +=
                            cpu_between(&threads_start, &threads_end, AGGREGATOR_THREADS[1]);
                        assert_eq!(accepted, n, "every fresh attestation is accepted");
                        elapsed += took;
                        wall += took;
                        cpu += cpu_seconds() - cpu_start;
                        total += n;
                    }
                    elapsed
                });
            },
        );

        // eigensdk style: every signature decoded and verified on its own against its operator's
        // registered key (decoded once beforehand), on one thread.
        let batches = attestations(&fx, rollups, &mut next);
        let keys: Vec<PublicKey> = fx.keys.iter().map(SecretKey::public_key).collect();
        let n = batches.iter().map(Vec::len).sum::<usize>();
        let start = thread_cpu();
        for (key, batch) in keys.iter().zip(&batches) {
            for a in batch {
                let statement = Statement::try_from(a.statement.as_ref().unwrap()).unwrap();
                let signature = Signature::from_bytes(&a.signature).unwrap();
                assert!(key.verify(&statement.signing_root(&fx.domain).0, &signature));
            }
        }
        let single = n as f64 / (thread_cpu() - start).as_secs_f64();
        // Where intake's crypto time goes: decoding each signature (curve and subgroup checks,
        // which nothing may skip) and one batch check of the whole set (hashing included), as
        // the intake checks a round of trusted connections' signatures.
        let start = thread_cpu();
        let decoded: Vec<(usize, Statement, Signature)> = batches
            .iter()
            .enumerate()
            .flat_map(|(k, batch)| batch.iter().map(move |a| (k, a)))
            .map(|(k, a)| {
                (
                    k,
                    Statement::try_from(a.statement.as_ref().unwrap()).unwrap(),
                    Signature::from_bytes(&a.signature).unwrap(),
                )
            })
            .collect();
        let decode_us = (thread_cpu() - start).as_secs_f64() * 1e6 / n as f64;
        let start = thread_cpu();
        let mut index: HashMap<B256, usize> = HashMap::new();
        let mut messages = Vec::new();
        let claims: Vec<(usize, usize, Signature)> = decoded
            .iter()
            .map(|(k, statement, signature)| {
                let root = statement.signing_root(&fx.domain);
                let m = *index.entry(root).or_insert_with(|| {
                    messages.push(HashedMessage::new(&root.0));
                    messages.len() - 1
                });
                (m, *k, *signature)
            })
            .collect();
        assert!(verify_many(&messages, &keys, &claims));
        let batch_us = (thread_cpu() - start).as_secs_f64() * 1e6 / n as f64;
        summary.push(Summary {
            rollups,
            wall: total as f64 / wall.as_secs_f64(),
            per_core: total as f64 / (runtime_cpu + worker_cpu),
            runtime_us: runtime_cpu * 1e6 / total as f64,
            worker_us: worker_cpu * 1e6 / total as f64,
            per_process_cpu: total as f64 / cpu,
            single,
            decode_us,
            batch_us,
        });
    }
    group.finish();
    println!(
        "\nintake summary ({OPERATORS} operators, {} cores visible):",
        num_cpus()
    );
    for s in summary {
        println!(
            "  {:>2} rollup(s): {:>6.0} att/s per CPU-second of the aggregator's threads \
             ({:.0} per CPU-second of the whole process, clients included; {:.0} wall); \
             one-by-one {:.0} att/s per CPU-second; ratio {:.1}x",
            s.rollups,
            s.per_core,
            s.per_process_cpu,
            s.wall,
            s.single,
            s.per_core / s.single,
        );
        println!(
            "      CPU per attestation: {:.0} µs in gRPC tasks (of which signature decode {:.0} µs), \
             {:.0} µs in the verification worker (of which batch check {:.0} µs); decode alone \
             caps the ratio at {:.1}x",
            s.runtime_us,
            s.decode_us,
            s.worker_us,
            s.batch_us,
            1e6 / s.single / s.decode_us,
        );
    }
    rt.block_on(fx.aggregator.stop());
}

/// One rollup count's figures, in attestations per second unless named otherwise.
struct Summary {
    rollups: usize,
    wall: f64,
    /// Per CPU-second of the aggregator's own threads: the per-core figure.
    per_core: f64,
    per_process_cpu: f64,
    /// CPU µs per attestation in the aggregator's runtime threads and in its worker.
    runtime_us: f64,
    worker_us: f64,
    single: f64,
    decode_us: f64,
    batch_us: f64,
}

fn num_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

criterion_group!(benches, intake);
criterion_main!(benches);
