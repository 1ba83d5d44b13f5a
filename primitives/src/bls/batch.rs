//! Batch verification of many signatures on one message.
//!
//! Checking only the aggregate, `e(Σσ_i, g2) = e(H(m), Σpk_i)`, is unsound for a batch: a
//! signer can submit `σ1 + Δ` and `σ2 − Δ`, which sum to a valid aggregate though neither is a
//! valid signature. Weighting each pair with a fresh random coefficient `r_i` of 64 bits,
//! `e(Σ r_i·σ_i, g2) = e(H(m), Σ r_i·pk_i)`, makes such a forgery pass with probability at most
//! 2^-64 (the coefficients are secret and chosen after the inputs). This relies on every point
//! being in the prime-order subgroup, which [`PublicKey`] and [`Signature`] guarantee.

use super::{PublicKey, SIG_DST, Signature};
use blst::MultiPoint;
use blst::min_sig::{PublicKey as BlstPublicKey, Signature as BlstSignature};
use rand::RngCore;

const COEFFICIENT_BITS: usize = 64;

/// Whether every `signatures[i]` is a valid signature of `message` by `public_keys[i]`.
///
/// Returns `false` for empty input or mismatched lengths. One aggregated pairing check plus two
/// multi-scalar multiplications (Pippenger, in blst) instead of `n` pairing checks; on `false`,
/// verify one by one to find the culprits.
pub fn verify_batch(
    message: &[u8; 32],
    public_keys: &[PublicKey],
    signatures: &[Signature],
) -> bool {
    let n = signatures.len();
    if n == 0 || public_keys.len() != n {
        return false;
    }
    if n == 1 {
        return public_keys[0].verify(message, &signatures[0]);
    }
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
    let sigs: Vec<BlstSignature> = signatures.iter().map(|s| s.0).collect();
    let keys: Vec<BlstPublicKey> = public_keys.iter().map(|k| k.0).collect();
    let sig = sigs.mult(&scalars, COEFFICIENT_BITS).to_signature();
    let key = keys.mult(&scalars, COEFFICIENT_BITS).to_public_key();
    // The weighted key can only be infinity with negligible probability; blst's verify rejects
    // an infinity key, which is the right answer then too.
    sig.verify(false, message, SIG_DST, &[], &key, false) == blst::BLST_ERROR::BLST_SUCCESS
}
