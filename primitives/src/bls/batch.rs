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
//! `e(Σ r_i·σ_i, g2) = Π e(P_g, Q_g)`, with one Miller loop per group and a single final
//! exponentiation. Keys that signed the same messages form a grid whose claims are weighted
//! `a_k·b_m`, so its side factors into one pair, `e(Σ b_m·H(m), Σ a_k·pk_k)`: a round of
//! operators attesting to the same blocks costs one Miller loop however many they are. Otherwise
//! the right-hand side is grouped by message (`e(H(m), Σ r_i·pk_i)`) or by key
//! (`e(Σ r_i·H(m_i), pk)`), whichever costs less.

use std::{
    collections::{HashMap, hash_map::Entry},
    sync::LazyLock,
};

use super::{PublicKey, SIG_DST, Signature};
use alloy_primitives::U256;
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

/// Rough cost of weighting `n` points in one multi-scalar multiplication with 64-bit
/// coefficients, in Miller loops (as measured on blst): a fixed part, a part per point, and G2
/// arithmetic at three times G1's. Twice the bits cost about twice the per-point part.
fn msm_cost(n: usize, g2: bool) -> f64 {
    (0.1 + 0.02 * n as f64) * if g2 { 3.0 } else { 1.0 }
}

/// Whether every claim `(m, k, σ)` holds: `σ` is a valid signature of `messages[m]` by
/// `keys[k]`. One randomised check for all of them (see the module docs); returns `false` for
/// no claims or an index out of range. On `false`, check smaller sets to find the culprits.
///
/// Keys that signed the same set of messages form a grid, checked with one Miller loop: each
/// claim is weighted `a_k·b_m` (fresh random `a` per key, `b` per message), so
/// the grid's side of the equation factors into `e(Σ b_m·H(m), Σ a_k·pk_k)`. Operators attesting
/// to the same blocks make one grid whatever their number. Otherwise (or when cheaper) each claim
/// has its own coefficient and the right-hand side is grouped by message or by key.
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
    let (by_message, by_key) = groups(messages.len(), keys.len(), claims);
    let independent = Independent::plan(claims.len(), &by_message, &by_key);
    match Grids::new(claims, &by_key) {
        Some(grids) if grids.cost(claims.len()) < independent.cost => {
            grids.verify(messages, keys, claims)
        }
        _ => verify_independent(messages, keys, claims, &by_message, &by_key, independent),
    }
}

/// How [`verify_independent`] would group the right-hand side, and its estimated cost.
#[derive(Clone, Copy)]
struct Independent {
    /// One pair per key (`e(Σ r_i·H(m_i), pk)`) rather than per message.
    by_key: bool,
    /// In Miller loops, the signatures' weighting included.
    cost: f64,
}

impl Independent {
    fn plan(claims: usize, by_message: &[Vec<usize>], by_key: &[Vec<usize>]) -> Self {
        let (key_cost, message_cost) = (cost(by_key, false), cost(by_message, true));
        Self {
            by_key: key_cost < message_cost,
            cost: msm_cost(claims, false) + key_cost.min(message_cost),
        }
    }
}

/// Claim indices per message and per key.
fn groups(
    messages: usize,
    keys: usize,
    claims: &[(usize, usize, Signature)],
) -> (Vec<Vec<usize>>, Vec<Vec<usize>>) {
    let (mut by_message, mut by_key) = (vec![Vec::new(); messages], vec![Vec::new(); keys]);
    for (i, &(m, k, _)) in claims.iter().enumerate() {
        by_message[m].push(i);
        by_key[k].push(i);
    }
    (by_message, by_key)
}

/// Miller loops (and weighting) of a right-hand side with one pair per non-empty group.
fn cost(groups: &[Vec<usize>], g2: bool) -> f64 {
    groups
        .iter()
        .filter(|g| !g.is_empty())
        .map(|g| 1.0 + msm_cost(g.len(), g2))
        .sum()
}

/// Bits of a grid's factors: the forgery bound below is 2^-64 with two of them.
const FACTOR_BITS: usize = COEFFICIENT_BITS + 1;
/// Bits of a grid claim's weight `a_k·b_m`.
const PRODUCT_BITS: usize = 2 * FACTOR_BITS;

/// The claims as grids: keys with the same set of messages, each `(k, m)` claimed once.
///
/// A claim `(m, k, σ)` weighted `a_k·b_m` turns the check into `Σ a_k·b_m·δ_km = 0` for the
/// signatures' discrete-log errors `δ_km`: a polynomial of degree 2 in the coefficients, non-zero
/// if any `δ_km` is (each `(k, m)` is one monomial, which is why a repeated claim is refused
/// here), so by Schwartz–Zippel a forgery passes with probability at most `2/2^65 = 2^-64` over
/// coefficients drawn from 65 bits.
struct Grids {
    /// Each grid's messages (sorted) and keys.
    grids: Vec<(Vec<usize>, Vec<usize>)>,
}

impl Grids {
    /// `None` if some key claims a message twice.
    fn new(claims: &[(usize, usize, Signature)], by_key: &[Vec<usize>]) -> Option<Self> {
        let mut grids: Vec<(Vec<usize>, Vec<usize>)> = Vec::new();
        let mut index: HashMap<Vec<usize>, usize> = HashMap::new();
        for (k, group) in by_key.iter().enumerate().filter(|(_, g)| !g.is_empty()) {
            let mut signed: Vec<usize> = group.iter().map(|&i| claims[i].0).collect();
            signed.sort_unstable();
            if signed.windows(2).any(|w| w[0] == w[1]) {
                return None;
            }
            match index.entry(signed) {
                Entry::Occupied(grid) => grids[*grid.get()].1.push(k),
                Entry::Vacant(slot) => {
                    grids.push((slot.key().clone(), vec![k]));
                    slot.insert(grids.len() - 1);
                }
            }
        }
        Some(Self { grids })
    }

    /// Estimated cost, in Miller loops: one per grid, the weighting of each grid's points, and
    /// the signatures weighted with coefficients of twice the bits.
    fn cost(&self, claims: usize) -> f64 {
        2.0 * msm_cost(claims, false)
            + self
                .grids
                .iter()
                .map(|(m, k)| 1.0 + msm_cost(m.len(), false) + msm_cost(k.len(), true))
                .sum::<f64>()
    }

    /// `e(Σ a_k·b_m·σ_km, g2) = Π_grids e(Σ b_m·H(m), Σ a_k·pk_k)`.
    fn verify(
        &self,
        messages: &[HashedMessage],
        keys: &[PublicKey],
        claims: &[(usize, usize, Signature)],
    ) -> bool {
        let mut rng = rand::thread_rng();
        let (mut a, mut b) = (vec![0u128; keys.len()], vec![0u128; messages.len()]);
        for (signed, signers) in &self.grids {
            for &k in signers {
                a[k] = factor(&mut rng);
            }
            for &m in signed {
                if b[m] == 0 {
                    b[m] = factor(&mut rng);
                }
            }
        }
        let mut weights = vec![0u8; claims.len() * PRODUCT_BYTES];
        for (weight, &(m, k, _)) in weights.chunks_exact_mut(PRODUCT_BYTES).zip(claims) {
            let product = U256::from(a[k]) * U256::from(b[m]);
            weight.copy_from_slice(&product.to_le_bytes::<32>()[..PRODUCT_BYTES]);
        }
        let sigs: Vec<blst_p1_affine> = claims.iter().map(|c| c.2.0.into()).collect();
        let sig = p1_affines::from(&[sigs.mult(&weights, PRODUCT_BITS)])[0];
        let factors = |of: &[u128], indices: &[usize]| -> Vec<u8> {
            indices
                .iter()
                .flat_map(|&i| of[i].to_le_bytes().into_iter().take(FACTOR_BYTES))
                .collect()
        };
        let (ps, qs): (Vec<_>, Vec<_>) = self
            .grids
            .iter()
            .map(|(signed, signers)| {
                let hashes: Vec<blst_p1_affine> = signed.iter().map(|&m| messages[m].0).collect();
                let pks: Vec<blst_p2_affine> = signers.iter().map(|&k| keys[k].0.into()).collect();
                (
                    hashes.mult(&factors(&b, signed), FACTOR_BITS),
                    pks.mult(&factors(&a, signers), FACTOR_BITS),
                )
            })
            .unzip();
        let (ps, qs) = (p1_affines::from(&ps), p2_affines::from(&qs));
        // As in `verify_batch_hashed`: no weighted sum may be the point at infinity.
        if sig == blst_p1_affine::default()
            || ps.as_slice().contains(&blst_p1_affine::default())
            || qs.as_slice().contains(&blst_p2_affine::default())
        {
            return false;
        }
        blst_fp12::finalverify(
            &blst_fp12::miller_loop(&G2, &sig),
            &blst_fp12::miller_loop_n(qs.as_slice(), ps.as_slice()),
        )
    }
}

const FACTOR_BYTES: usize = FACTOR_BITS.div_ceil(8);
const PRODUCT_BYTES: usize = PRODUCT_BITS.div_ceil(8);

/// A fresh random non-zero grid factor of [`FACTOR_BITS`] bits.
fn factor(rng: &mut impl RngCore) -> u128 {
    loop {
        let r = u128::from(rng.next_u64()) | (u128::from(rng.next_u32() & 1) << 64);
        if r != 0 {
            return r;
        }
    }
}

/// [`verify_many`] with a fresh coefficient per claim, the right-hand side grouped by message
/// or by key as `plan` chose (whichever costs less).
fn verify_independent(
    messages: &[HashedMessage],
    keys: &[PublicKey],
    claims: &[(usize, usize, Signature)],
    by_message: &[Vec<usize>],
    by_key: &[Vec<usize>],
    plan: Independent,
) -> bool {
    let scalars = coefficients(claims.len());
    let scalar = |i: usize| &scalars[i * COEFFICIENT_BITS / 8..(i + 1) * COEFFICIENT_BITS / 8];
    let sigs: Vec<blst_p1_affine> = claims.iter().map(|c| c.2.0.into()).collect();
    let sig = p1_affines::from(&[sigs.mult(&scalars, COEFFICIENT_BITS)])[0];
    // Each group's weighted sum: of keys (G2) per message, or of message hashes (G1) per key.
    let (qs, ps): (Vec<blst_p2_affine>, Vec<blst_p1_affine>) = if plan.by_key {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SecretKey;

    /// Claims of every key in `keys` on every message in `messages`, and their by-key groups.
    fn shape(keys: &[usize], messages: &[usize]) -> Vec<(usize, usize, Signature)> {
        let signature = SecretKey::from_ikm(&[1; 32]).sign(&[0; 32]);
        keys.iter()
            .flat_map(|&k| messages.iter().map(move |&m| (m, k, signature)))
            .collect()
    }

    fn grids(claims: &[(usize, usize, Signature)]) -> Option<Grids> {
        let (_, by_key) = groups(16, 16, claims);
        Grids::new(claims, &by_key)
    }

    #[test]
    fn keys_with_the_same_messages_share_a_grid() {
        let mut claims = shape(&[0, 1, 2], &[3, 4]);
        claims.extend(shape(&[5], &[4, 3]));
        claims.extend(shape(&[6, 7], &[3]));
        let grids = grids(&claims).unwrap().grids;
        assert_eq!(
            grids,
            vec![(vec![3, 4], vec![0, 1, 2, 5]), (vec![3], vec![6, 7])]
        );
    }

    #[test]
    fn a_repeated_claim_is_no_grid() {
        let mut claims = shape(&[0, 1], &[3, 4]);
        claims.push(claims[2]);
        assert!(grids(&claims).is_none());
    }

    #[test]
    fn operators_attesting_to_the_same_blocks_are_checked_as_a_grid() {
        // The shapes the tests of `verify_many` rely on to take the grid path.
        for (keys, messages) in [(2, 2), (8, 8), (100, 20), (3, 20)] {
            let claims = shape(
                &(0..keys).collect::<Vec<_>>(),
                &(0..messages).collect::<Vec<_>>(),
            );
            let (by_message, by_key) = groups(messages, keys, &claims);
            let independent = Independent::plan(claims.len(), &by_message, &by_key).cost;
            let grids = Grids::new(&claims, &by_key).unwrap();
            assert_eq!(grids.grids.len(), 1);
            assert!(grids.cost(claims.len()) < independent, "{keys}×{messages}");
        }
    }
}
