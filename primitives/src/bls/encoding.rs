//! Strict point decoding and the two wire layouts: zcash/IETF compressed (48/96 bytes) and the
//! EIP-2537 uncompressed layout the precompiles take (128/256 bytes, 64-byte padded `Fp`s,
//! `c0` before `c1`).
//!
//! Every malformed input maps to one [`DecodeError`] variant, checked in a fixed order (length,
//! flags, field canonicity, curve, subgroup) so callers and tests can tell them apart; blst is
//! only handed inputs whose framing is already known to be well formed.

use blst::BLST_ERROR;
use blst::min_sig::{PublicKey as BlstPublicKey, Signature as BlstSignature};
use thiserror::Error;

/// Why bytes are not a valid Surety public key or signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum DecodeError {
    #[error("wrong length: expected {expected} bytes, got {got}")]
    WrongLength { expected: usize, got: usize },
    #[error("invalid flag bits in the first byte")]
    BadFlags,
    #[error("the point at infinity is not a valid key or signature")]
    Infinity,
    #[error("non-canonical field element (>= p, or non-zero EIP-2537 padding)")]
    NonCanonical,
    #[error("point is not on the curve")]
    NotOnCurve,
    #[error("point is not in the prime-order subgroup")]
    NotInSubgroup,
    #[error("invalid hex")]
    InvalidHex,
}

/// The base field modulus p, big-endian.
const P: [u8; FP_LEN] = [
    0x1a, 0x01, 0x11, 0xea, 0x39, 0x7f, 0xe6, 0x9a, 0x4b, 0x1b, 0xa7, 0xb6, 0x43, 0x4b, 0xac, 0xd7,
    0x64, 0x77, 0x4b, 0x84, 0xf3, 0x85, 0x12, 0xbf, 0x67, 0x30, 0xd2, 0xa0, 0xf6, 0xb0, 0xf6, 0x24,
    0x1e, 0xab, 0xff, 0xfe, 0xb1, 0x53, 0xff, 0xff, 0xb9, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xaa, 0xab,
];

const FP_LEN: usize = 48;
const PADDED_FP_LEN: usize = 64;
const PAD: usize = PADDED_FP_LEN - FP_LEN;

pub(crate) const G1_COMPRESSED_LEN: usize = FP_LEN;
pub(crate) const G2_COMPRESSED_LEN: usize = 2 * FP_LEN;
pub(crate) const G1_EIP2537_LEN: usize = 2 * PADDED_FP_LEN;
pub(crate) const G2_EIP2537_LEN: usize = 4 * PADDED_FP_LEN;

const FLAG_COMPRESSED: u8 = 0x80;
const FLAG_INFINITY: u8 = 0x40;
const FLAG_SIGN: u8 = 0x20;
const FLAG_MASK: u8 = FLAG_COMPRESSED | FLAG_INFINITY | FLAG_SIGN;

fn check_len(bytes: &[u8], expected: usize) -> Result<(), DecodeError> {
    if bytes.len() == expected {
        Ok(())
    } else {
        Err(DecodeError::WrongLength {
            expected,
            got: bytes.len(),
        })
    }
}

/// `x < p` for a big-endian 48-byte value (lexicographic order equals numeric order).
fn is_canonical(fp: &[u8]) -> bool {
    fp < P.as_slice()
}

/// Validates the framing of a zcash compressed point: compression flag set, no infinity, every
/// field element (flag bits masked off in the first) below p.
fn check_compressed(bytes: &[u8]) -> Result<(), DecodeError> {
    let flags = bytes[0] & FLAG_MASK;
    if flags & FLAG_COMPRESSED == 0 {
        return Err(DecodeError::BadFlags);
    }
    if flags & FLAG_INFINITY != 0 {
        // The only well-formed infinity encoding is 0xc0 followed by zeros; anything else with
        // the infinity bit is malformed rather than "infinity".
        let canonical_infinity = flags == FLAG_COMPRESSED | FLAG_INFINITY
            && bytes[0] & !FLAG_MASK == 0
            && bytes[1..].iter().all(|&b| b == 0);
        return Err(if canonical_infinity {
            DecodeError::Infinity
        } else {
            DecodeError::BadFlags
        });
    }
    let mut first = [0u8; FP_LEN];
    first.copy_from_slice(&bytes[..FP_LEN]);
    first[0] &= !FLAG_MASK;
    if !is_canonical(&first) || !bytes[FP_LEN..].chunks(FP_LEN).all(is_canonical) {
        return Err(DecodeError::NonCanonical);
    }
    Ok(())
}

/// Turns EIP-2537 padded field elements into 48-byte ones, rejecting non-zero padding, values
/// `>= p` and the all-zero (infinity) encoding.
fn unpad_eip2537<const N: usize>(bytes: &[u8]) -> Result<[[u8; FP_LEN]; N], DecodeError> {
    check_len(bytes, N * PADDED_FP_LEN)?;
    if bytes.iter().all(|&b| b == 0) {
        return Err(DecodeError::Infinity);
    }
    let mut out = [[0u8; FP_LEN]; N];
    for (fp, padded) in out.iter_mut().zip(bytes.chunks_exact(PADDED_FP_LEN)) {
        let (pad, value) = padded.split_at(PAD);
        if pad.iter().any(|&b| b != 0) || !is_canonical(value) {
            return Err(DecodeError::NonCanonical);
        }
        fp.copy_from_slice(value);
    }
    Ok(out)
}

fn pad_fp(out: &mut [u8], fp: &[u8]) {
    out[..PAD].fill(0);
    out[PAD..PADDED_FP_LEN].copy_from_slice(fp);
}

fn map_blst(err: BLST_ERROR) -> DecodeError {
    match err {
        BLST_ERROR::BLST_POINT_NOT_ON_CURVE => DecodeError::NotOnCurve,
        BLST_ERROR::BLST_POINT_NOT_IN_GROUP => DecodeError::NotInSubgroup,
        BLST_ERROR::BLST_PK_IS_INFINITY => DecodeError::Infinity,
        _ => DecodeError::BadFlags,
    }
}

fn validate_g2(pk: BlstPublicKey) -> Result<BlstPublicKey, DecodeError> {
    pk.validate().map_err(map_blst)?;
    Ok(pk)
}

fn validate_g1(sig: BlstSignature) -> Result<BlstSignature, DecodeError> {
    sig.validate(true).map_err(map_blst)?;
    Ok(sig)
}

pub(crate) fn g2_from_compressed(bytes: &[u8]) -> Result<BlstPublicKey, DecodeError> {
    check_len(bytes, G2_COMPRESSED_LEN)?;
    check_compressed(bytes)?;
    validate_g2(BlstPublicKey::uncompress(bytes).map_err(map_blst)?)
}

pub(crate) fn g1_from_compressed(bytes: &[u8]) -> Result<BlstSignature, DecodeError> {
    check_len(bytes, G1_COMPRESSED_LEN)?;
    check_compressed(bytes)?;
    validate_g1(BlstSignature::uncompress(bytes).map_err(map_blst)?)
}

pub(crate) fn g2_from_eip2537(bytes: &[u8]) -> Result<BlstPublicKey, DecodeError> {
    let [x0, x1, y0, y1] = unpad_eip2537::<4>(bytes)?;
    // zcash uncompressed order is c1 before c0.
    let zcash = [x1, x0, y1, y0].concat();
    validate_g2(BlstPublicKey::deserialize(&zcash).map_err(map_blst)?)
}

pub(crate) fn g1_from_eip2537(bytes: &[u8]) -> Result<BlstSignature, DecodeError> {
    let [x, y] = unpad_eip2537::<2>(bytes)?;
    validate_g1(BlstSignature::deserialize(&[x, y].concat()).map_err(map_blst)?)
}

pub(crate) fn g2_to_eip2537(pk: &BlstPublicKey) -> [u8; G2_EIP2537_LEN] {
    let zcash = pk.serialize();
    let (x1, rest) = zcash.split_at(FP_LEN);
    let (x0, rest) = rest.split_at(FP_LEN);
    let (y1, y0) = rest.split_at(FP_LEN);
    let mut out = [0u8; G2_EIP2537_LEN];
    for (chunk, fp) in out.chunks_exact_mut(PADDED_FP_LEN).zip([x0, x1, y0, y1]) {
        pad_fp(chunk, fp);
    }
    out
}

pub(crate) fn g1_to_eip2537(sig: &BlstSignature) -> [u8; G1_EIP2537_LEN] {
    let zcash = sig.serialize();
    let mut out = [0u8; G1_EIP2537_LEN];
    for (chunk, fp) in out
        .chunks_exact_mut(PADDED_FP_LEN)
        .zip(zcash.chunks_exact(FP_LEN))
    {
        pad_fp(chunk, fp);
    }
    out
}
