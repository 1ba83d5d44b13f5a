//! The protected signer against its rules: an exhaustive comparison with a reference model,
//! races between threads, guards, locking, interchange, and storage failures.

mod support {
    pub(crate) mod any_branch;
}

use std::{
    collections::{BTreeMap, HashMap},
    fs::OpenOptions,
    ops::Bound,
    sync::{
        Arc, Barrier,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
};

use alloy_primitives::{Address, B256, U256};
use rand::{Rng, SeedableRng, rngs::StdRng};
use redb::{BackendError, StorageBackend, backends::FileBackend, backends::InMemoryBackend};
use support::any_branch::{AnyBranch, UNBOUNDED, requesting};
use surety_primitives::{Domain, SecretKey, Signature, Statement};
use surety_slashing_protection::{
    ChainError, Error, Interchange, InterchangeError, ProtectedSigner, Refusal, SignedRecord,
    SlashingDatabase, VerifiedBlock, VerifiedChain, VerifiedHeads,
};
use tempfile::TempDir;

const DOMAIN: Domain = Domain::new(17_000, Address::repeat_byte(0x5e));

fn key(seed: u8) -> SecretKey {
    SecretKey::from_ikm(&[seed; 32])
}

fn statement(rollup_id: u64, block_number: u64, block: u8, root: u8, parent: u8) -> Statement {
    Statement {
        rollup_id,
        block_number,
        block_hash: B256::repeat_byte(block),
        parent_hash: B256::repeat_byte(parent),
        state_root: B256::repeat_byte(root),
    }
}

fn verify(signer: &ProtectedSigner<impl VerifiedHeads>, s: &Statement, sig: &Signature) -> bool {
    key_of(signer).verify(&s.signing_root(&DOMAIN).0, sig)
}

fn key_of(signer: &ProtectedSigner<impl VerifiedHeads>) -> surety_primitives::PublicKey {
    surety_primitives::PublicKey::from_bytes(signer.public_key()).unwrap()
}

/// Signs through a signer whose verified chain holds whatever is requested ([`AnyBranch`]).
trait SignRequested {
    fn sign_requested(&self, s: &Statement) -> Result<Signature, Error>;
    fn sign_batch_requested(&self, batch: &[Statement]) -> Result<Vec<Signature>, Error>;
}

impl SignRequested for ProtectedSigner<AnyBranch> {
    fn sign_requested(&self, s: &Statement) -> Result<Signature, Error> {
        requesting(std::slice::from_ref(s));
        self.sign(&DOMAIN, s)
    }

    fn sign_batch_requested(&self, batch: &[Statement]) -> Result<Vec<Signature>, Error> {
        requesting(batch);
        self.sign_batch(&DOMAIN, batch)
    }
}

fn file_signer(dir: &TempDir, seed: u8) -> ProtectedSigner<AnyBranch> {
    let db = SlashingDatabase::create_or_open(&dir.path().join("sp.redb"), &DOMAIN).unwrap();
    ProtectedSigner::new(db, key(seed), UNBOUNDED)
}

// ---------------------------------------------------------------------------------------------
// Exhaustive: every history of up to three operations against a plain model of the rules.

const HEAD: u64 = 2;

#[derive(Debug, Clone)]
enum Op {
    Sign(Statement),
    Batch(Vec<Statement>),
    Prune(u64),
}

/// The rules, written as plainly as possible and independently of the implementation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Model {
    signed: BTreeMap<(u64, u64), Statement>,
    watermark: BTreeMap<u64, u64>,
}

impl Model {
    fn sign(&mut self, batch: &[Statement]) -> Result<(), &'static str> {
        if batch.iter().any(|s| s.block_number > HEAD) {
            return Err("beyond_verified_head");
        }
        let mut next = self.clone();
        for s in batch {
            match next.signed.get(&(s.rollup_id, s.block_number)) {
                Some(previous) if previous == s => {}
                Some(_) => return Err("conflict"),
                None => {
                    if next
                        .watermark
                        .get(&s.rollup_id)
                        .is_some_and(|w| s.block_number <= *w)
                    {
                        return Err("below_watermark");
                    }
                    next.signed.insert((s.rollup_id, s.block_number), *s);
                }
            }
        }
        *self = next;
        Ok(())
    }

    fn prune(&mut self, rollup_id: u64, up_to: u64) {
        self.signed.retain(|&(r, h), _| r != rollup_id || h > up_to);
        let w = self.watermark.entry(rollup_id).or_insert(up_to);
        *w = (*w).max(up_to);
    }
}

fn universe() -> Vec<Op> {
    let mut ops = Vec::new();
    // (block, root, parent): the base, each root alone differing, and only the parent differing.
    let variants = [(1, 1, 1), (1, 2, 1), (2, 1, 1), (1, 1, 2)];
    for height in 1..=HEAD + 1 {
        for (block, root, parent) in variants {
            ops.push(Op::Sign(statement(0, height, block, root, parent)));
        }
    }
    // Pairs cover a repeat inside a batch, a conflict inside a batch, and two heights.
    let small = [
        statement(0, 1, 1, 1, 1),
        statement(0, 1, 2, 2, 1),
        statement(0, 2, 1, 1, 1),
    ];
    for a in small {
        for b in small {
            ops.push(Op::Batch(vec![a, b]));
        }
    }
    ops.extend((1..=HEAD).map(Op::Prune));
    ops
}

/// Runs `history` on its own rollup of `signer`'s database, so histories stay independent
/// without a database per history.
fn run_history(
    signer: &ProtectedSigner<AnyBranch>,
    rollup_id: u64,
    history: &[&Op],
) -> Result<(), String> {
    let on_rollup = |s: &Statement| Statement { rollup_id, ..*s };
    let mut model = Model::default();
    let mut released: HashMap<u64, Statement> = HashMap::new();
    for op in history {
        let (got, expected, batch) = match op {
            Op::Sign(s) => {
                let s = on_rollup(s);
                (
                    signer.sign_requested(&s).map(|sig| vec![sig]),
                    model.sign(&[s]),
                    vec![s],
                )
            }
            Op::Batch(b) => {
                let b: Vec<Statement> = b.iter().map(on_rollup).collect();
                (signer.sign_batch_requested(&b), model.sign(&b), b)
            }
            Op::Prune(h) => {
                signer
                    .database()
                    .prune(signer.public_key(), rollup_id, *h)
                    .unwrap();
                model.prune(rollup_id, *h);
                continue;
            }
        };
        let got = got.map_err(|e| match e {
            Error::Refused(r) => r.reason(),
            other => panic!("storage error in memory: {other}"),
        });
        match (&got, expected) {
            (Ok(sigs), Ok(())) => {
                assert_eq!(sigs.len(), batch.len());
                for s in batch {
                    if let Some(prev) = released.insert(s.block_number, s)
                        && (prev.block_hash != s.block_hash || prev.state_root != s.state_root)
                    {
                        return Err(format!("double signing released: {prev:?} and {s:?}"));
                    }
                }
            }
            (Err(got), Err(expected)) if *got == expected => {}
            (got, expected) => {
                return Err(format!(
                    "{op:?}: implementation {got:?}, model {expected:?}"
                ));
            }
        }
    }
    let db = signer.database();
    let watermark = db.low_watermark(signer.public_key(), rollup_id).unwrap();
    if watermark != model.watermark.get(&rollup_id).copied() {
        return Err(format!(
            "watermark {watermark:?}, model {:?}",
            model.watermark
        ));
    }
    for height in 0..=HEAD + 1 {
        let stored = db
            .signed_at(signer.public_key(), rollup_id, height)
            .unwrap();
        let expected = model
            .signed
            .get(&(rollup_id, height))
            .map(|s| SignedRecord {
                statement: *s,
                signing_root: s.signing_root(&DOMAIN),
            });
        if stored != expected {
            return Err(format!(
                "height {height}: stored {stored:?}, model {expected:?}"
            ));
        }
    }
    Ok(())
}

#[test]
fn every_history_of_three_operations_matches_the_model() {
    let ops = universe();
    let mut histories = Vec::new();
    for a in &ops {
        histories.push(vec![a]);
        for b in &ops {
            histories.push(vec![a, b]);
            histories.extend(ops.iter().map(|c| vec![a, b, c]));
        }
    }
    let n = ops.len();
    assert_eq!(histories.len(), n + n * n + n * n * n);
    // Two workers, each with its own in-memory database; rollup ids keep histories apart.
    let disagreements: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = histories
            .chunks(histories.len().div_ceil(2))
            .map(|chunk| {
                scope.spawn(move || {
                    let db = SlashingDatabase::create_with_backend(InMemoryBackend::new(), &DOMAIN)
                        .unwrap();
                    let signer = ProtectedSigner::new(db, key(1), AnyBranch { head: HEAD });
                    let mut disagreements = Vec::new();
                    for (rollup_id, history) in (0u64..).zip(chunk) {
                        if let Err(e) = run_history(&signer, rollup_id, history) {
                            disagreements.push(format!("{history:?}: {e}"));
                        }
                    }
                    disagreements
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    assert!(
        disagreements.is_empty(),
        "{} disagreements, first: {}",
        disagreements.len(),
        disagreements[0]
    );
}

// ---------------------------------------------------------------------------------------------
// Races: many threads, one database.

/// `n` threads ask at once for the same (key, rollup, height) with `n` different roots.
fn race_for_one_height(n: usize) {
    let dir = TempDir::new().unwrap();
    let signer = Arc::new(file_signer(&dir, 2));
    let barrier = Arc::new(Barrier::new(n));
    let threads: Vec<_> = (0..n)
        .map(|i| {
            let (signer, barrier) = (signer.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut s = statement(3, 42, 1, 1, 1);
                s.state_root = B256::from(U256::from(i + 1));
                barrier.wait();
                (s, signer.sign_requested(&s))
            })
        })
        .collect();
    let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let winners: Vec<_> = results.iter().filter(|(_, r)| r.is_ok()).collect();
    assert_eq!(
        winners.len(),
        1,
        "exactly one of {n} conflicting requests is signed"
    );
    let (won, sig) = (winners[0].0, winners[0].1.as_ref().unwrap());
    assert!(verify(&signer, &won, sig));
    for (_, r) in results.iter().filter(|(_, r)| r.is_err()) {
        assert!(
            matches!(r, Err(Error::Refused(Refusal::Conflict { existing, .. })) if **existing == won),
            "{r:?}"
        );
    }
    let stored = signer
        .database()
        .signed_at(signer.public_key(), 3, 42)
        .unwrap()
        .unwrap();
    assert_eq!(stored.statement, won);
    let metrics = signer.metrics().snapshot();
    assert_eq!((metrics.signed, metrics.conflict), (1, n as u64 - 1));
}

#[test]
fn ten_concurrent_conflicting_requests_sign_once() {
    race_for_one_height(10);
}

#[test]
fn a_hundred_concurrent_conflicting_requests_sign_once() {
    race_for_one_height(100);
}

#[test]
fn a_thousand_concurrent_conflicting_requests_sign_once() {
    race_for_one_height(1_000);
}

#[test]
fn random_interleavings_never_release_conflicting_signatures() {
    const HEAD: u64 = 8;
    for seed in 0..4u64 {
        let dir = TempDir::new().unwrap();
        let db = SlashingDatabase::create_or_open(&dir.path().join("sp.redb"), &DOMAIN).unwrap();
        let signer = Arc::new(ProtectedSigner::new(db, key(3), AnyBranch { head: HEAD }));
        let threads: Vec<_> = (0..8u64)
            .map(|t| {
                let signer = signer.clone();
                std::thread::spawn(move || {
                    let mut rng = StdRng::seed_from_u64(seed * 100 + t);
                    let mut released = Vec::new();
                    for _ in 0..30 {
                        let batch: Vec<Statement> = (0..rng.gen_range(1..=3))
                            .map(|_| {
                                let v = rng.gen_range(1..=2);
                                let root = rng.gen_range(1..=2);
                                statement(
                                    rng.gen_range(1..=2),
                                    rng.gen_range(1..=HEAD + 1),
                                    v,
                                    root,
                                    1,
                                )
                            })
                            .collect();
                        if let Ok(sigs) = signer.sign_batch_requested(&batch) {
                            released.extend(batch.into_iter().zip(sigs));
                        }
                    }
                    released
                })
            })
            .collect();
        let released: Vec<(Statement, Signature)> = threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect();
        assert!(!released.is_empty());
        let mut by_height: HashMap<(u64, u64), Statement> = HashMap::new();
        for (s, sig) in &released {
            assert!(s.block_number <= HEAD);
            assert!(verify(&signer, s, sig));
            let first = *by_height.entry((s.rollup_id, s.block_number)).or_insert(*s);
            assert_eq!(first, *s, "conflicting signatures released");
            let stored =
                signer
                    .database()
                    .signed_at(signer.public_key(), s.rollup_id, s.block_number);
            assert_eq!(
                stored.unwrap().map(|r| r.statement),
                Some(*s),
                "released without a record"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Policy and guards.

#[test]
fn an_identical_repeat_is_re_signed_without_a_write_and_yields_the_same_signature() {
    let dir = TempDir::new().unwrap();
    let signer = file_signer(&dir, 4);
    let s = statement(1, 10, 1, 1, 1);
    let first = signer.sign_requested(&s).unwrap();
    let again = signer.sign_requested(&s).unwrap();
    assert_eq!(first, again);
    let batch = signer.sign_batch_requested(&[s, s]).unwrap();
    assert_eq!(batch, vec![first, first]);
    let m = signer.metrics().snapshot();
    assert_eq!((m.signed, m.repeated), (1, 3));
    // A different parent alone is refused as well.
    let other_parent = statement(1, 10, 1, 1, 2);
    assert!(matches!(
        signer.sign_requested(&other_parent),
        Err(Error::Refused(Refusal::Conflict { .. }))
    ));
}

#[test]
fn a_refused_batch_records_nothing() {
    let dir = TempDir::new().unwrap();
    let signer = file_signer(&dir, 5);
    signer.sign_requested(&statement(1, 5, 1, 1, 1)).unwrap();
    let batch = [
        statement(1, 4, 1, 1, 1),
        statement(1, 6, 1, 1, 1),
        statement(1, 5, 2, 2, 1),
    ];
    assert!(matches!(
        signer.sign_batch_requested(&batch),
        Err(Error::Refused(Refusal::Conflict { .. }))
    ));
    let db = signer.database();
    for height in [4, 6] {
        assert_eq!(db.signed_at(signer.public_key(), 1, height).unwrap(), None);
    }
    // The same heights sign fine afterwards, and a batch conflicting with itself is refused.
    signer.sign_batch_requested(&batch[..2]).unwrap();
    let self_conflict = [statement(1, 7, 1, 1, 1), statement(1, 7, 1, 2, 1)];
    assert!(signer.sign_batch_requested(&self_conflict).is_err());
    assert_eq!(db.signed_at(signer.public_key(), 1, 7).unwrap(), None);
}

/// A verified chain of one rollup: blocks `1..=head` with hash `n`, parent `n - 1`, root `n`.
struct Chain {
    head: AtomicU64,
}

fn verified(n: u64) -> Statement {
    let byte = |n: u64| u8::try_from(n).unwrap();
    statement(1, n, byte(n), byte(n), byte(n - 1))
}

impl VerifiedChain for Chain {
    fn verified_head(&self) -> Option<u64> {
        Some(self.head.load(Ordering::SeqCst))
    }

    fn verified_block(&self, number: u64) -> Result<Option<VerifiedBlock>, ChainError> {
        Ok((number <= self.head.load(Ordering::SeqCst)).then(|| {
            let s = verified(number);
            VerifiedBlock {
                number,
                hash: s.block_hash,
                parent_hash: s.parent_hash,
                state_root: s.state_root,
            }
        }))
    }
}

#[test]
fn only_what_the_node_verified_is_signed() {
    let dir = TempDir::new().unwrap();
    let db = SlashingDatabase::create_or_open(&dir.path().join("sp.redb"), &DOMAIN).unwrap();
    let chain = Arc::new(Chain {
        head: AtomicU64::new(10),
    });
    let heads: HashMap<u64, Arc<Chain>> = HashMap::from([(1, chain.clone())]);
    let signer = ProtectedSigner::new(db, key(6), heads);
    assert!(signer.sign(&DOMAIN, &verified(10)).is_ok());
    assert_eq!(
        signer.sign(&DOMAIN, &verified(11)).unwrap_err().to_string(),
        Error::from(Refusal::BeyondVerifiedHead {
            rollup_id: 1,
            block_number: 11,
            head: 10
        })
        .to_string()
    );
    chain.head.store(11, Ordering::SeqCst);
    assert!(signer.sign(&DOMAIN, &verified(11)).is_ok());
    assert!(matches!(
        signer.sign(&DOMAIN, &statement(2, 1, 1, 1, 1)),
        Err(Error::Refused(Refusal::UnknownRollup { rollup_id: 2 }))
    ));
    // A root, block hash or parent the node did not compute is refused, with what it verified.
    let truth = verified(9);
    for wrong in [
        Statement {
            state_root: B256::repeat_byte(0xee),
            ..truth
        },
        Statement {
            block_hash: B256::repeat_byte(0xee),
            ..truth
        },
        Statement {
            parent_hash: B256::repeat_byte(0xee),
            ..truth
        },
    ] {
        match signer.sign(&DOMAIN, &wrong) {
            Err(Error::Refused(Refusal::NotVerified {
                rollup_id: 1,
                verified,
                requested,
            })) => {
                assert!(verified.matches(&truth));
                assert_eq!(*requested, wrong);
            }
            other => panic!("{other:?}"),
        }
    }
    // One statement beyond the head, or not verified, refuses its whole batch.
    for batch in [
        [verified(12), verified(9)],
        [
            Statement {
                state_root: B256::repeat_byte(0xee),
                ..verified(8)
            },
            verified(9),
        ],
    ] {
        assert!(signer.sign_batch(&DOMAIN, &batch).is_err());
    }
    assert_eq!(
        signer
            .database()
            .signed_at(signer.public_key(), 1, 9)
            .unwrap(),
        None
    );
    let m = signer.metrics().snapshot();
    assert_eq!(
        (
            m.signed,
            m.beyond_verified_head,
            m.unknown_rollup,
            m.not_verified
        ),
        (2, 2, 1, 4)
    );
}

#[test]
fn another_domain_is_refused_per_request_and_at_open() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("sp.redb");
    let signer = file_signer(&dir, 7);
    let other = Domain::new(DOMAIN.l1_chain_id + 1, DOMAIN.verifier);
    assert!(matches!(
        signer.sign(&other, &statement(1, 1, 1, 1, 1)),
        Err(Error::Refused(Refusal::WrongDomain { .. }))
    ));
    assert_eq!(signer.metrics().snapshot().wrong_domain, 1);
    drop(signer);
    let other_verifier = Domain::new(DOMAIN.l1_chain_id, Address::repeat_byte(1));
    assert!(matches!(
        SlashingDatabase::create_or_open(&path, &other_verifier),
        Err(Error::DomainMismatch { .. })
    ));
    assert_eq!(*SlashingDatabase::open(&path).unwrap().domain(), DOMAIN);
}

#[test]
fn a_second_opener_is_locked_out_until_the_first_closes() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("sp.redb");
    let first = SlashingDatabase::create_or_open(&path, &DOMAIN).unwrap();
    assert!(matches!(
        SlashingDatabase::create_or_open(&path, &DOMAIN),
        Err(Error::Locked { .. })
    ));
    assert!(matches!(
        SlashingDatabase::open(&path),
        Err(Error::Locked { .. })
    ));
    drop(first);
    SlashingDatabase::open(&path).unwrap();
    assert!(matches!(
        SlashingDatabase::open(&dir.path().join("missing.redb")),
        Err(Error::NotFound { .. })
    ));
}

#[test]
fn pruning_keeps_pruned_heights_refused_and_the_history_survives_reopening() {
    let dir = TempDir::new().unwrap();
    let signer = file_signer(&dir, 8);
    let pk = *signer.public_key();
    for h in 1..=5 {
        signer.sign_requested(&statement(1, h, 1, 1, 1)).unwrap();
    }
    assert_eq!(signer.database().prune(&pk, 1, 3).unwrap(), 3);
    for h in [2, 3] {
        assert!(matches!(
            signer.sign_requested(&statement(1, h, 1, 1, 1)),
            Err(Error::Refused(Refusal::BelowWatermark { watermark: 3, .. }))
        ));
    }
    assert!(
        signer.sign_requested(&statement(1, 4, 1, 1, 1)).is_ok(),
        "repeat above watermark"
    );
    drop(signer);
    let signer = file_signer(&dir, 8);
    assert_eq!(signer.database().low_watermark(&pk, 1).unwrap(), Some(3));
    assert!(matches!(
        signer.sign_requested(&statement(1, 5, 2, 2, 1)),
        Err(Error::Refused(Refusal::Conflict { .. }))
    ));
}

// ---------------------------------------------------------------------------------------------
// Interchange.

#[test]
fn export_import_round_trips_and_import_is_idempotent() {
    let (a, b) = (TempDir::new().unwrap(), TempDir::new().unwrap());
    let signer = file_signer(&a, 9);
    signer
        .sign_batch_requested(&[statement(1, 1, 1, 1, 1), statement(2, 7, 2, 3, 4)])
        .unwrap();
    signer.database().prune(signer.public_key(), 1, 0).unwrap();
    let json = signer
        .database()
        .export()
        .unwrap()
        .to_json_pretty()
        .unwrap();

    let path = b.path().join("sp.redb");
    let target = SlashingDatabase::create_or_open(&path, &DOMAIN).unwrap();
    let interchange = Interchange::from_json(&json).unwrap();
    let first = target.import(&interchange).unwrap();
    assert_eq!(
        (
            first.new_records,
            first.known_records,
            first.raised_watermarks
        ),
        (2, 0, 1)
    );
    let second = target.import(&interchange).unwrap();
    assert_eq!(
        (
            second.new_records,
            second.known_records,
            second.raised_watermarks
        ),
        (0, 2, 0)
    );
    assert_eq!(target.export().unwrap().to_json_pretty().unwrap(), json);

    // The imported history protects the key on the new machine.
    drop(target);
    let moved = file_signer(&b, 9);
    assert!(matches!(
        moved.sign_requested(&statement(2, 7, 2, 2, 4)),
        Err(Error::Refused(Refusal::Conflict { .. }))
    ));
    assert!(moved.sign_requested(&statement(2, 7, 2, 3, 4)).is_ok());
}

#[test]
fn import_keeps_the_higher_watermark_and_refuses_conflicts_atomically() {
    let dir = TempDir::new().unwrap();
    let signer = file_signer(&dir, 10);
    let pk = *signer.public_key();
    signer.sign_requested(&statement(1, 20, 1, 1, 1)).unwrap();
    signer.database().prune(&pk, 1, 10).unwrap();

    let mut lower = signer.database().export().unwrap();
    lower.data[0].rollups[0].low_watermark = Some(5);
    signer.database().import(&lower).unwrap();
    assert_eq!(signer.database().low_watermark(&pk, 1).unwrap(), Some(10));
    let mut higher = lower.clone();
    higher.data[0].rollups[0].low_watermark = Some(15);
    signer.database().import(&higher).unwrap();
    assert_eq!(signer.database().low_watermark(&pk, 1).unwrap(), Some(15));

    // A file with a new record, a higher watermark and one conflict changes nothing.
    let mut conflicting = higher.clone();
    let rollup = &mut conflicting.data[0].rollups[0];
    rollup.low_watermark = Some(18);
    let new = statement(1, 30, 1, 1, 1);
    let bad = statement(1, 20, 9, 9, 1);
    for s in [new, bad] {
        rollup
            .signed_statements
            .push(surety_slashing_protection::SignedStatement {
                block_number: s.block_number,
                block_hash: s.block_hash,
                parent_hash: s.parent_hash,
                state_root: s.state_root,
                signing_root: s.signing_root(&DOMAIN),
            });
    }
    let before = signer.database().export().unwrap();
    assert!(matches!(
        signer.database().import(&conflicting),
        Err(Error::Refused(Refusal::Conflict { .. }))
    ));
    assert_eq!(signer.database().export().unwrap(), before);

    // A record whose signing root does not match its fields is rejected too.
    let mut forged = higher.clone();
    forged.data[0].rollups[0].signed_statements[0].signing_root = B256::repeat_byte(0xff);
    assert!(matches!(
        signer.database().import(&forged),
        Err(Error::Interchange(_))
    ));
    let mut not_a_key = higher.clone();
    not_a_key.data[0].pubkey = alloy_primitives::FixedBytes::repeat_byte(0xa0);
    assert!(matches!(
        signer.database().import(&not_a_key),
        Err(Error::Interchange(
            InterchangeError::InvalidPublicKey { .. }
        ))
    ));
    let mut foreign = higher;
    foreign.metadata.l1_chain_id += 1;
    assert!(matches!(
        signer.database().import(&foreign),
        Err(Error::DomainMismatch { .. })
    ));
}

// ---------------------------------------------------------------------------------------------
// Failure injection: the file backend, failing on the Nth write or sync once armed.

#[derive(Debug, Default)]
struct Faults {
    /// Operations left before the failing one; 0 = disarmed.
    writes_left: AtomicU64,
    syncs_left: AtomicU64,
    fired: AtomicBool,
}

impl Faults {
    fn hit(&self, counter: &AtomicU64) -> std::io::Result<()> {
        let fire = counter
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok_and(|n| n == 1);
        if fire {
            self.fired.store(true, Ordering::SeqCst);
            return Err(std::io::Error::other("injected fault"));
        }
        Ok(())
    }
}

#[derive(Debug)]
struct FaultyBackend {
    inner: FileBackend,
    faults: Arc<Faults>,
}

impl StorageBackend for FaultyBackend {
    fn len(&self) -> std::io::Result<u64> {
        self.inner.len()
    }
    fn read(&self, offset: u64, out: &mut [u8]) -> std::io::Result<()> {
        self.inner.read(offset, out)
    }
    fn set_len(&self, len: u64) -> std::io::Result<()> {
        self.inner.set_len(len)
    }
    fn sync_data(&self) -> std::io::Result<()> {
        self.faults.hit(&self.faults.syncs_left)?;
        self.inner.sync_data()
    }
    fn write(&self, offset: u64, data: &[u8]) -> std::io::Result<()> {
        self.faults.hit(&self.faults.writes_left)?;
        self.inner.write(offset, data)
    }
    fn close(&self) -> std::io::Result<()> {
        self.inner.close()
    }
    fn try_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.inner.try_lock_range(start, end)
    }
    fn try_lock_shared_range(&self, s: Bound<u64>, e: Bound<u64>) -> Result<bool, BackendError> {
        self.inner.try_lock_shared_range(s, e)
    }
    fn lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.inner.lock_range(start, end)
    }
    fn lock_shared_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.inner.lock_shared_range(start, end)
    }
    fn unlock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.inner.unlock_range(start, end)
    }
    fn query_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.inner.query_lock_range(start, end)
    }
}

fn faulty_signer(path: &std::path::Path, faults: &Arc<Faults>) -> ProtectedSigner<AnyBranch> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path);
    let backend = FaultyBackend {
        inner: FileBackend::new(file.unwrap()).unwrap(),
        faults: faults.clone(),
    };
    let db = SlashingDatabase::create_with_backend(backend, &DOMAIN).unwrap();
    ProtectedSigner::new(db, key(11), UNBOUNDED)
}

#[test]
fn a_failing_write_or_sync_fails_closed() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("sp.redb");
    let mut released: Vec<Statement> = Vec::new();
    let mut injected = 0;
    let mut height = 0;
    // Every write and every sync of one signing commit, in turn, fails.
    for (kind, nth) in (1..=16)
        .map(|n| ("write", n))
        .chain((1..=4).map(|n| ("sync", n)))
    {
        height += 1;
        let faults = Arc::new(Faults::default());
        let signer = faulty_signer(&path, &faults);
        let counter = if kind == "write" {
            &faults.writes_left
        } else {
            &faults.syncs_left
        };
        counter.store(nth, Ordering::SeqCst);
        let s = statement(1, height, 1, 1, 1);
        let result = signer.sign_requested(&s);
        if !faults.fired.load(Ordering::SeqCst) {
            // The commit needed fewer operations than `nth`: the fault never fired.
            released.push(s);
            assert!(result.is_ok(), "{kind} {nth}: {result:?}");
            continue;
        }
        injected += 1;
        assert!(
            matches!(result, Err(Error::Storage(_))),
            "{kind} {nth}: {result:?}"
        );
        assert_eq!(signer.metrics().snapshot().storage_failures, 1);
        // The handle stays closed: nothing it has in memory may justify a signature now.
        assert!(matches!(
            signer.sign_requested(&s),
            Err(Error::Storage(_) | Error::Poisoned)
        ));
        assert!(
            signer
                .sign_requested(&statement(1, height + 1000, 1, 1, 1))
                .is_err()
        );
        drop(signer);
        // Reopened cleanly, the history still covers every released signature.
        let db = SlashingDatabase::create_or_open(&path, &DOMAIN).unwrap();
        let pk = key(11).public_key().to_bytes();
        for r in &released {
            let stored = db.signed_at(&pk, r.rollup_id, r.block_number).unwrap();
            assert_eq!(stored.map(|x| x.statement), Some(*r), "{kind} {nth}");
        }
    }
    assert!(injected >= 4, "faults fired {injected} times");
}
