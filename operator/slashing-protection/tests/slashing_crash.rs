//! Crash test of the protected signer (`harness = false`).
//!
//! The supervisor re-executes this binary as a child signer that signs random statements under
//! load and prints every released signature on stdout, then SIGKILLs it at a random instant.
//! The supervisor is the external observer: after every kill it checks that each signature ever
//! released is valid, has its record in the database, and that no two released signatures
//! conflict. Runs: `SURETY_SLASHING_CRASH_RUNS` (default 200); the soak is
//! `SURETY_SLASHING_CRASH_RUNS=10000 cargo test -p surety-operator --test slashing_crash`.

#[path = "support/any_branch.rs"]
mod any_branch;

use std::{
    collections::{HashMap, HashSet},
    io::{BufRead, BufReader, Write},
    path::Path,
    process::{Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use alloy_primitives::{Address, B256, hex};
use any_branch::{UNBOUNDED, requesting};
use rand::{Rng, SeedableRng, rngs::StdRng};
use surety_primitives::{Domain, PublicKey, SecretKey, Signature, Statement};
use surety_slashing_protection::{Error, ProtectedSigner, SlashingDatabase};

const DOMAIN: Domain = Domain::new(17_000, Address::repeat_byte(0xc4));
const CHILD_DB: &str = "SURETY_SLASHING_CRASH_CHILD_DB";
const CHILD_BASE: &str = "SURETY_SLASHING_CRASH_CHILD_BASE";
const CHILD_SEED: &str = "SURETY_SLASHING_CRASH_CHILD_SEED";
const RUNS: &str = "SURETY_SLASHING_CRASH_RUNS";
const SEED: &str = "SURETY_SLASHING_CRASH_SEED";
/// Each child signs heights `base..base + WINDOW`; bases advance by less than the window, so
/// every child also requests heights its killed predecessors recorded.
const WINDOW: u64 = 12;
const READY: &str = "ready";

fn key() -> SecretKey {
    SecretKey::from_ikm(&[0x42; 32])
}

fn main() {
    match std::env::var(CHILD_DB) {
        Ok(db) => child(Path::new(&db)),
        Err(_) => supervisor(),
    }
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name)
        .ok()
        .map(|v| v.parse().unwrap_or_else(|_| panic!("{name}={v:?}")))
}

/// Signs until killed; one stdout line per released signature, written after `sign_batch`
/// returned, so a line is proof of release.
fn child(path: &Path) {
    let base = env_u64(CHILD_BASE).unwrap();
    let mut rng = StdRng::seed_from_u64(env_u64(CHILD_SEED).unwrap());
    let db = SlashingDatabase::create_or_open(path, &DOMAIN).unwrap();
    let signer = ProtectedSigner::new(db, key(), UNBOUNDED);
    let mut out = std::io::stdout().lock();
    writeln!(out, "{READY}").unwrap();
    out.flush().unwrap();
    loop {
        let batch: Vec<Statement> = (0..rng.gen_range(1..=3))
            .map(|_| {
                let (block, root) = (rng.gen_range(1..=2u8), rng.gen_range(1..=2u8));
                Statement {
                    rollup_id: rng.gen_range(1..=2),
                    block_number: base + rng.gen_range(0..WINDOW),
                    block_hash: B256::repeat_byte(block),
                    parent_hash: B256::repeat_byte(0x99),
                    state_root: B256::repeat_byte(root),
                }
            })
            .collect();
        requesting(&batch);
        match signer.sign_batch(&DOMAIN, &batch) {
            Ok(signatures) => {
                let mut lines = String::new();
                for (s, sig) in batch.iter().zip(signatures) {
                    lines.push_str(&format_release(s, &sig));
                }
                out.write_all(lines.as_bytes()).unwrap();
                out.flush().unwrap();
            }
            Err(Error::Refused(_)) => {}
            Err(e) => panic!("child signer failed: {e}"),
        }
    }
}

fn format_release(s: &Statement, sig: &Signature) -> String {
    format!(
        "{} {} {} {} {} {}\n",
        s.rollup_id,
        s.block_number,
        s.block_hash,
        s.parent_hash,
        s.state_root,
        hex::encode(sig.to_bytes())
    )
}

fn parse_release(line: &str) -> (Statement, Signature) {
    let f: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(f.len(), 6, "malformed release line {line:?}");
    let statement = Statement {
        rollup_id: f[0].parse().unwrap(),
        block_number: f[1].parse().unwrap(),
        block_hash: f[2].parse().unwrap(),
        parent_hash: f[3].parse().unwrap(),
        state_root: f[4].parse().unwrap(),
    };
    let sig: [u8; 48] = hex::decode(f[5]).unwrap().try_into().unwrap();
    (statement, Signature::from_bytes(&sig).unwrap())
}

fn supervisor() {
    let runs = env_u64(RUNS).unwrap_or(200);
    let seed = env_u64(SEED).unwrap_or_else(rand::random);
    println!("slashing crash test: {runs} runs, {SEED}={seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slashing.redb");
    let exe = std::env::current_exe().unwrap();
    let pk: PublicKey = key().public_key();
    let pk_bytes = pk.to_bytes();

    let mut released: HashMap<(u64, u64), Statement> = HashMap::new();
    let mut seen_lines: HashSet<String> = HashSet::new();
    let mut lines_total = 0usize;
    for run in 0..runs {
        let mut child = Command::new(&exe)
            .env(CHILD_DB, &path)
            .env(CHILD_BASE, (run * (WINDOW / 3)).to_string())
            .env(CHILD_SEED, rng.r#gen::<u64>().to_string())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            let mut stdout = BufReader::new(stdout);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match stdout.read_until(b'\n', &mut buf) {
                    // A line cut short by the kill was never completely released.
                    Ok(_) if buf.last() == Some(&b'\n') => {
                        let line = String::from_utf8(buf.clone()).unwrap();
                        if tx.send(line.trim_end().to_owned()).is_err() {
                            return;
                        }
                    }
                    _ => return,
                }
            }
        });
        let ready = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("child did not start");
        assert_eq!(ready, READY);
        // The running child holds the lock: a second signer cannot start.
        assert!(
            matches!(SlashingDatabase::open(&path), Err(Error::Locked { .. })),
            "run {run}: database not locked by the running child"
        );
        std::thread::sleep(Duration::from_micros(rng.gen_range(0..20_000)));
        child.kill().unwrap(); // SIGKILL
        let status = child.wait().unwrap();
        assert!(
            !status.success(),
            "run {run}: child exited by itself: {status}"
        );
        reader.join().unwrap();

        for line in rx.try_iter() {
            lines_total += 1;
            if !seen_lines.insert(line.clone()) {
                continue;
            }
            let (statement, sig) = parse_release(&line);
            assert!(
                pk.verify(&statement.signing_root(&DOMAIN).0, &sig),
                "run {run}: invalid signature released: {line}"
            );
            let first = *released
                .entry((statement.rollup_id, statement.block_number))
                .or_insert(statement);
            assert_eq!(
                first, statement,
                "run {run}: conflicting signatures released"
            );
        }

        let db = SlashingDatabase::open(&path).unwrap();
        for (&(rollup_id, block_number), statement) in &released {
            let record = db.signed_at(&pk_bytes, rollup_id, block_number).unwrap();
            assert_eq!(
                record.map(|r| r.statement),
                Some(*statement),
                "run {run}: a released signature has no record"
            );
        }
    }
    assert!(
        released.len() as u64 >= runs / 4,
        "too few signatures released to mean anything"
    );
    println!(
        "slashing crash test: {runs} SIGKILLs, {} distinct statements released ({lines_total} release lines), \
         no unrecorded or conflicting release",
        released.len()
    );
}
