//! Signatures per second through the protected signer — one durable commit per signature, and
//! batches of 16 and 128 statements per commit — beside the disk's raw `write + fsync` rate,
//! which bounds the first, and the bare BLS signing rate, which bounds the batched ones.
//! Run: `cargo bench -p surety-slashing-protection --bench signer` (criterion prints `thrpt` in elem/s).

#[path = "../tests/support/any_branch.rs"]
mod any_branch;

use std::{fs::File, hint::black_box, os::unix::fs::FileExt, time::Duration};

use alloy_primitives::{Address, B256};
use any_branch::{UNBOUNDED, requesting};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use surety_primitives::{Domain, SecretKey, Statement};
use surety_slashing_protection::{ProtectedSigner, SlashingDatabase};

const DOMAIN: Domain = Domain::new(17_000, Address::repeat_byte(0xbe));

fn disk(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let file = File::create(dir.path().join("fsync")).unwrap();
    let page = [0x5a; 4096];
    let mut group = c.benchmark_group("disk");
    group.throughput(Throughput::Elements(1));
    group.bench_function("write_4k_fsync", |b| {
        b.iter(|| {
            file.write_all_at(&page, 0).unwrap();
            file.sync_data().unwrap();
        })
    });
    group.finish();
}

fn signer(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let db = SlashingDatabase::create_or_open(&dir.path().join("sp.redb"), &DOMAIN).unwrap();
    let key = SecretKey::from_ikm(&[7; 32]);
    let signer = ProtectedSigner::new(db, key.clone(), UNBOUNDED);
    let mut height = 0u64;
    let mut next = |n: usize| -> Vec<Statement> {
        (0..n)
            .map(|_| {
                height += 1;
                Statement {
                    rollup_id: height % 4,
                    block_number: height,
                    block_hash: B256::with_last_byte(1),
                    parent_hash: B256::with_last_byte(2),
                    state_root: B256::with_last_byte(3),
                }
            })
            .collect()
    };

    let mut group = c.benchmark_group("protected_signer");
    group.throughput(Throughput::Elements(1));
    group.bench_function("bls_sign_only", |b| {
        let root = next(1)[0].signing_root(&DOMAIN);
        b.iter(|| black_box(key.sign(&root.0)))
    });
    group.bench_function("commit_per_signature", |b| {
        b.iter(|| {
            let s = next(1);
            requesting(&s);
            black_box(signer.sign(&DOMAIN, &s[0]).unwrap())
        })
    });
    for batch in [16, 128] {
        group.throughput(Throughput::Elements(batch as u64));
        group.bench_function(format!("batch_{batch}"), |b| {
            b.iter(|| {
                let statements = next(batch);
                requesting(&statements);
                black_box(signer.sign_batch(&DOMAIN, &statements).unwrap())
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = disk, signer
}
criterion_main!(benches);
