//! The signing core's costs: sign, verify, aggregating n public keys, and batch verification of
//! n signatures on one message against verifying them one by one (n = 16, 128, 1024).
//!
//! `cargo bench -p surety-primitives --bench bls`. After criterion's report, a summary prints
//! what decoding a received signature costs (decompression and the subgroup check, which every
//! receiver pays per signature), and the per-signature cost of batch verification beside a single
//! verification, and the ratio.

use criterion::{BenchmarkId, Criterion, Throughput};
use std::{
    hint::black_box,
    time::{Duration, Instant},
};
use surety_primitives::{PublicKey, SecretKey, Signature, verify_batch};

const SIZES: [usize; 3] = [16, 128, 1024];
const MESSAGE: [u8; 32] = [0x5a; 32];

fn keys(n: usize) -> (Vec<PublicKey>, Vec<Signature>) {
    (0..n)
        .map(|i| {
            let mut ikm = [0u8; 32];
            ikm[..8].copy_from_slice(&(i as u64).to_le_bytes());
            let sk = SecretKey::from_ikm(&ikm);
            (sk.public_key(), sk.sign(&MESSAGE))
        })
        .unzip()
}

fn single(c: &mut Criterion) {
    let sk = SecretKey::from_ikm(&[1; 32]);
    let pk = sk.public_key();
    let sig = sk.sign(&MESSAGE);
    c.bench_function("sign", |b| b.iter(|| sk.sign(black_box(&MESSAGE))));
    c.bench_function("verify", |b| {
        b.iter(|| pk.verify(black_box(&MESSAGE), black_box(&sig)))
    });
}

fn aggregate(c: &mut Criterion) {
    let mut group = c.benchmark_group("aggregate_public_keys");
    for n in SIZES {
        let (pks, _) = keys(n);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &pks, |b, pks| {
            b.iter(|| PublicKey::aggregate(black_box(pks)))
        });
    }
    group.finish();
}

fn batch(c: &mut Criterion) {
    let mut group = c.benchmark_group("verify_same_message");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(4));
    for n in SIZES {
        let (pks, sigs) = keys(n);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("batch", n), &n, |b, _| {
            b.iter(|| assert!(verify_batch(&MESSAGE, black_box(&pks), black_box(&sigs))))
        });
        group.bench_with_input(BenchmarkId::new("one_by_one", n), &n, |b, _| {
            b.iter(|| {
                assert!(
                    pks.iter()
                        .zip(&sigs)
                        .all(|(pk, sig)| pk.verify(&MESSAGE, sig))
                )
            })
        });
    }
    group.finish();
}

/// Mean wall time of `f` over enough runs to fill about `budget`.
fn mean(budget: Duration, mut f: impl FnMut()) -> Duration {
    f();
    let (start, mut runs) = (Instant::now(), 0u32);
    while start.elapsed() < budget || runs < 3 {
        f();
        runs += 1;
    }
    start.elapsed() / runs
}

fn summary() {
    let sk = SecretKey::from_ikm(&[1; 32]);
    let (pk, sig) = (sk.public_key(), sk.sign(&MESSAGE));
    let single = mean(Duration::from_secs(1), || {
        assert!(pk.verify(&MESSAGE, &sig))
    });
    println!(
        "\nsummary: one verification = {:.1} µs",
        single.as_secs_f64() * 1e6
    );
    let bytes = sig.to_bytes();
    let decode = mean(Duration::from_secs(1), || {
        black_box(Signature::from_bytes(black_box(&bytes)).unwrap());
    });
    let uncompress = mean(Duration::from_secs(1), || {
        black_box(blst::min_sig::Signature::uncompress(black_box(&bytes)).unwrap());
    });
    let point = blst::min_sig::Signature::uncompress(&bytes).unwrap();
    let subgroup = mean(Duration::from_secs(1), || {
        black_box(black_box(&point).subgroup_check());
    });
    println!(
        "summary: decoding a signature = {:.1} µs (decompression {:.1} µs, subgroup check {:.1} µs), {:.1} % of one verification",
        decode.as_secs_f64() * 1e6,
        uncompress.as_secs_f64() * 1e6,
        subgroup.as_secs_f64() * 1e6,
        100.0 * decode.as_secs_f64() / single.as_secs_f64(),
    );
    for n in SIZES {
        let (pks, sigs) = keys(n);
        let batch = mean(Duration::from_secs(2), || {
            assert!(verify_batch(&MESSAGE, &pks, &sigs))
        });
        let per_sig = batch / n as u32;
        println!(
            "summary: n = {n:>4}: batch {:>9.1} µs total, {:>6.1} µs/signature vs {:.1} µs one by one -> {:.1}x faster",
            batch.as_secs_f64() * 1e6,
            per_sig.as_secs_f64() * 1e6,
            single.as_secs_f64() * 1e6,
            single.as_secs_f64() / per_sig.as_secs_f64(),
        );
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    single(&mut c);
    aggregate(&mut c);
    batch(&mut c);
    c.final_summary();
    // `cargo test --all-targets` runs benches once as a smoke test (no `--bench`): skip timing.
    if std::env::args().any(|arg| arg == "--bench") {
        summary();
    }
}
