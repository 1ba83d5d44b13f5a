//! Batch verification of many signatures: on one message, or on many messages at once.
//!
//! Checking only the aggregate, `e(Σσ_i, g2) = e(H(m), Σpk_i)`, is unsound for a batch: a
//! signer can submit `σ1 + Δ` and `σ2 − Δ`, which sum to a valid aggregate though neither is a
//! valid signature. Weighting each pair with a fresh random coefficient `r_i` of 64 bits,
//! `e(Σ r_i·σ_i, g2) = e(H(m), Σ r_i·pk_i)`, makes such a forgery pass with probability at most
//! 2^-64 (the coefficients are secret and chosen after the inputs). This relies on every point
//! being in the prime-order subgroup, which [`PublicKey`] and [`Signature`] guarantee.
//!
//! A check costs two multi-scalar multiplications (Pippenger, in blst, on the calling thread)
//! and two Miller loops with one final exponentiation, whatever the batch size. `H(m)` is
//! computed once per [`HashedMessage`], so the halves a failed batch is split into, and later
//! batches on the same message, do not hash again.
//!
//! [`verify_many`] checks signatures on many messages by many keys in one equation,
//! `e(Σ r_i·σ_i, g2) = Π e(P_g, Q_g)`, grouping the right-hand side by message
//! (`e(H(m), Σ r_i·pk_i)`) or by key (`e(Σ r_i·H(m_i), pk)`), whichever costs less: one Miller
//! loop per group and a single final exponentiation.

use std::sync::LazyLock;

use super::{PublicKey, SIG_DST, Signature};
use blst::min_sig::{
    PublicKey as BlstPublicKey, SecretKey as BlstSecretKey, Signature as BlstSignature,
};
use blst::{MultiPoint, blst_fp12, blst_p1_affine, blst_p2_affine, p1_affines, p2_affines};
use rand::RngCore;

const COEFFICIENT_BITS: usize = 64;

/// The scalar 1: `1·g2` is the generator, and a signature by it is `H(m)` itself (blst's safe
/// API exposes hashing to the curve only inside signing).
static ONE: LazyLock<BlstSecretKey> = LazyLock::new(|| {
    let mut one = [0u8; 32];
    one[31] = 1;
    BlstSecretKey::from_bytes(&one).expect("1 is a valid secret scalar")
});

static G2: LazyLock<blst_p2_affine> = LazyLock::new(|| ONE.sk_to_pk().into());

/// A 32-byte message hashed to G1 (`H(m)` under [`SIG_DST`]), for any number of checks of
/// signatures on it.
#[derive(Debug, Clone, Copy)]
pub struct HashedMessage(blst_p1_affine);

impl HashedMessage {
    pub fn new(message: &[u8; 32]) -> Self {
        Self(ONE.sign(message, SIG_DST, &[]).into())
    }
}

/// Whether every `signatures[i]` is a valid signature of `message` by `public_keys[i]`.
///
/// Returns `false` for empty input or mismatched lengths; on `false`, split the batch to find
/// the culprits ([`verify_batch_hashed`] with one [`HashedMessage`] for all the parts).
pub fn verify_batch(
    message: &[u8; 32],
    public_keys: &[PublicKey],
    signatures: &[Signature],
) -> bool {
    verify_batch_hashed(&HashedMessage::new(message), public_keys, signatures)
}

/// [`verify_batch`] on a message hashed beforehand.
pub fn verify_batch_hashed(
    message: &HashedMessage,
    public_keys: &[PublicKey],
    signatures: &[Signature],
) -> bool {
    let n = signatures.len();
    if n == 0 || public_keys.len() != n {
        return false;
    }
    let (sig, key): (blst_p1_affine, blst_p2_affine) = if n == 1 {
        // One equation needs no weighting.
        (signatures[0].0.into(), public_keys[0].0.into())
    } else {
        let scalars = coefficients(n);
        let sigs: Vec<BlstSignature> = signatures.iter().map(|s| s.0).collect();
        let keys: Vec<BlstPublicKey> = public_keys.iter().map(|k| k.0).collect();
        (
            sigs.mult(&scalars, COEFFICIENT_BITS).to_signature().into(),
            keys.mult(&scalars, COEFFICIENT_BITS).to_public_key().into(),
        )
    };
    // A weighted sum at infinity (probability 2^-64 for valid inputs) would make a side of the
    // equation trivially 1: refuse it rather than reason about it.
    if sig == blst_p1_affine::default() || key == blst_p2_affine::default() {
        return false;
    }
    blst_fp12::finalverify(
        &blst_fp12::miller_loop(&G2, &sig),
        &blst_fp12::miller_loop(&key, &message.0),
    )
}

/// `n` fresh random non-zero coefficients of [`COEFFICIENT_BITS`] bits, little-endian.
fn coefficients(n: usize) -> Vec<u8> {
    let mut scalars = vec![0u8; n * COEFFICIENT_BITS / 8];
    let mut rng = rand::thread_rng();
    for chunk in scalars.chunks_exact_mut(COEFFICIENT_BITS / 8) {
        // A zero coefficient would drop its pair from the check.
        let r = loop {
            let r = rng.next_u64();
            if r != 0 {
                break r;
            }
        };
        chunk.copy_from_slice(&r.to_le_bytes());
    }
    scalars
}

/// Rough cost of weighting `n` points in one multi-scalar multiplication, in Miller loops (as
/// measured on blst): a fixed part, a part per point, and G2 arithmetic at three times G1's.
fn msm_cost(n: usize, g2: bool) -> f64 {
    (0.1 + 0.02 * n as f64) * if g2 { 3.0 } else { 1.0 }
}

/// Whether every claim `(m, k, σ)` holds: `σ` is a valid signature of `messages[m]` by
/// `keys[k]`. One randomised check for all of them (see the module docs); returns `false` for
/// no claims or an index out of range. On `false`, check smaller sets to find the culprits.
pub fn verify_many(
    messages: &[HashedMessage],
    keys: &[PublicKey],
    claims: &[(usize, usize, Signature)],
) -> bool {
    if claims.is_empty()
        || claims
            .iter()
            .any(|&(m, k, _)| m >= messages.len() || k >= keys.len())
    {
        return false;
    }
    let scalars = coefficients(claims.len());
    let scalar = |i: usize| &scalars[i * COEFFICIENT_BITS / 8..(i + 1) * COEFFICIENT_BITS / 8];
    let sigs: Vec<blst_p1_affine> = claims.iter().map(|c| c.2.0.into()).collect();
    let sig = p1_affines::from(&[sigs.mult(&scalars, COEFFICIENT_BITS)])[0];

    let (mut by_message, mut by_key) = (
        vec![Vec::new(); messages.len()],
        vec![Vec::new(); keys.len()],
    );
    for (i, &(m, k, _)) in claims.iter().enumerate() {
        by_message[m].push(i);
        by_key[k].push(i);
    }
    let cost = |groups: &[Vec<usize>], g2: bool| -> f64 {
        groups
            .iter()
            .filter(|g| !g.is_empty())
            .map(|g| 1.0 + msm_cost(g.len(), g2))
            .sum()
    };
    // Each group's weighted sum: of keys (G2) per message, or of message hashes (G1) per key.
    let (qs, ps): (Vec<blst_p2_affine>, Vec<blst_p1_affine>) =
        if cost(&by_key, false) < cost(&by_message, true) {
            let (used, sums): (Vec<usize>, Vec<_>) = by_key
                .iter()
                .enumerate()
                .filter(|(_, g)| !g.is_empty())
                .map(|(k, g)| {
                    let points: Vec<blst_p1_affine> =
                        g.iter().map(|&i| messages[claims[i].0].0).collect();
                    let s: Vec<u8> = g.iter().flat_map(|&i| scalar(i)).copied().collect();
                    (k, points.mult(&s, COEFFICIENT_BITS))
                })
                .unzip();
            (
                used.iter().map(|&k| keys[k].0.into()).collect(),
                p1_affines::from(&sums).as_slice().to_vec(),
            )
        } else {
            let (used, sums): (Vec<usize>, Vec<_>) = by_message
                .iter()
                .enumerate()
                .filter(|(_, g)| !g.is_empty())
                .map(|(m, g)| {
                    let points: Vec<blst_p2_affine> =
                        g.iter().map(|&i| keys[claims[i].1].0.into()).collect();
                    let s: Vec<u8> = g.iter().flat_map(|&i| scalar(i)).copied().collect();
                    (m, points.mult(&s, COEFFICIENT_BITS))
                })
                .unzip();
            (
                p2_affines::from(&sums).as_slice().to_vec(),
                used.iter().map(|&m| messages[m].0).collect(),
            )
        };
    // As in `verify_batch_hashed`: no weighted sum may be the point at infinity.
    if sig == blst_p1_affine::default()
        || qs.contains(&blst_p2_affine::default())
        || ps.contains(&blst_p1_affine::default())
    {
        return false;
    }
    blst_fp12::finalverify(
        &blst_fp12::miller_loop(&G2, &sig),
        &blst_fp12::miller_loop_n(&qs, &ps),
    )
}
