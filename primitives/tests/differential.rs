//! Differential tests: blst (through `surety-primitives`) against the independent
//! `ark-bls12-381` implementation — hash-to-G1, public keys, signatures, aggregation, the pairing
//! check and strict decoding.

use alloy_primitives::U256;
use ark_bls12_381::{Bls12_381, Fq, Fr, G1Affine, G1Projective, G2Affine, g1};
use ark_ec::{
    AffineRepr, CurveGroup, PrimeGroup,
    hashing::{HashToCurve, curve_maps::wb::WBMap, map_to_curve_hasher::MapToCurveBasedHasher},
    pairing::Pairing,
};
use ark_ff::{BigInteger, PrimeField, field_hashers::DefaultFieldHasher};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use proptest::prelude::*;
use sha2::Sha256;
use surety_primitives::{POP_DST, PublicKey, SIG_DST, SecretKey, Signature, bls::hash_to_g1};

type ArkG1Hasher =
    MapToCurveBasedHasher<G1Projective, DefaultFieldHasher<Sha256, 128>, WBMap<g1::Config>>;

fn ark_hash(msg: &[u8], dst: &[u8]) -> G1Affine {
    ArkG1Hasher::new(dst).unwrap().hash(msg).unwrap()
}

fn fq_padded(f: &Fq) -> Vec<u8> {
    [vec![0u8; 16], f.into_bigint().to_bytes_be()].concat()
}

fn g1_eip2537(p: &G1Affine) -> Vec<u8> {
    let (x, y) = p.xy().unwrap();
    [fq_padded(&x), fq_padded(&y)].concat()
}

fn g2_eip2537(p: &G2Affine) -> Vec<u8> {
    let (x, y) = p.xy().unwrap();
    [
        fq_padded(&x.c0),
        fq_padded(&x.c1),
        fq_padded(&y.c0),
        fq_padded(&y.c1),
    ]
    .concat()
}

fn compressed(p: &impl CanonicalSerialize) -> Vec<u8> {
    let mut out = Vec::new();
    p.serialize_compressed(&mut out).unwrap();
    out
}

fn ark_scalar(sk: &SecretKey) -> Fr {
    Fr::from_be_bytes_mod_order(sk.to_bytes().as_slice())
}

fn ark_pk(sk: &SecretKey) -> G2Affine {
    (<Bls12_381 as Pairing>::G2::generator() * ark_scalar(sk)).into_affine()
}

fn ark_sig(sk: &SecretKey, msg: &[u8]) -> G1Affine {
    (ark_hash(msg, SIG_DST) * ark_scalar(sk)).into_affine()
}

/// ark's verdict on `e(sig, g2) == e(H(msg), pk)`.
fn ark_verifies(pk: &G2Affine, msg: &[u8], sig: &G1Affine) -> bool {
    Bls12_381::pairing(sig, G2Affine::generator()) == Bls12_381::pairing(ark_hash(msg, SIG_DST), pk)
}

fn ark_g1(sig: &Signature) -> G1Affine {
    G1Affine::deserialize_compressed(sig.to_bytes().as_slice()).unwrap()
}

fn ark_g2(pk: &PublicKey) -> G2Affine {
    G2Affine::deserialize_compressed(pk.to_bytes().as_slice()).unwrap()
}

/// Edge-case secret keys: 1, 2, r − 1, r − 2, and a few ordinary ones.
fn edge_keys() -> Vec<SecretKey> {
    let r = U256::from_str_radix(
        "73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001",
        16,
    )
    .unwrap();
    [
        U256::from(1),
        U256::from(2),
        r - U256::from(1),
        r - U256::from(2),
        U256::MAX >> 200,
    ]
    .iter()
    .map(|k| SecretKey::from_bytes(&k.to_be_bytes::<32>()).unwrap())
    .chain((0..3).map(|i| SecretKey::from_ikm(&[i; 32])))
    .collect()
}

#[test]
fn rfc9380_vectors_in_ark_match_blst() {
    let dst = b"QUUX-V01-CS02-with-BLS12381G1_XMD:SHA-256_SSWU_RO_";
    let q128 = format!("q128_{}", "q".repeat(128));
    let a512 = format!("a512_{}", "a".repeat(512));
    for msg in [
        &b""[..],
        b"abc",
        b"abcdef0123456789",
        q128.as_bytes(),
        a512.as_bytes(),
    ] {
        assert_eq!(g1_eip2537(&ark_hash(msg, dst)), hash_to_g1(msg, dst));
    }
}

#[test]
fn edge_case_keys_agree() {
    let msgs: [&[u8]; 3] = [&[0; 32], &[0xff; 32], b"surety"];
    for sk in edge_keys() {
        let pk = sk.public_key();
        assert_eq!(pk.to_eip2537().to_vec(), g2_eip2537(&ark_pk(&sk)));
        assert_eq!(pk.to_bytes().to_vec(), compressed(&ark_pk(&sk)));
        for m in msgs {
            let mut root = [0u8; 32];
            root[..m.len().min(32)].copy_from_slice(&m[..m.len().min(32)]);
            let sig = sk.sign(&root);
            assert_eq!(sig.to_eip2537().to_vec(), g1_eip2537(&ark_sig(&sk, &root)));
            assert!(ark_verifies(&ark_pk(&sk), &root, &ark_g1(&sig)));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn hash_to_g1_agrees(msg in proptest::collection::vec(any::<u8>(), 0..300), pop in any::<bool>()) {
        let dst = if pop { POP_DST } else { SIG_DST };
        prop_assert_eq!(g1_eip2537(&ark_hash(&msg, dst)), hash_to_g1(&msg, dst).to_vec());
    }

    #[test]
    fn keys_signatures_and_pairing_agree(ikm in any::<[u8; 32]>(), msg in any::<[u8; 32]>(), other in any::<[u8; 32]>()) {
        let sk = SecretKey::from_ikm(&ikm);
        let pk = sk.public_key();
        let ark_pk = ark_pk(&sk);
        prop_assert_eq!(pk.to_eip2537().to_vec(), g2_eip2537(&ark_pk));
        prop_assert_eq!(pk.to_bytes().to_vec(), compressed(&ark_pk));

        let sig = sk.sign(&msg);
        prop_assert_eq!(sig.to_eip2537().to_vec(), g1_eip2537(&ark_sig(&sk, &msg)));
        prop_assert_eq!(sig.to_bytes().to_vec(), compressed(&ark_sig(&sk, &msg)));

        // Both accept the right message and reject another.
        prop_assert!(pk.verify(&msg, &sig));
        prop_assert!(ark_verifies(&ark_pk, &msg, &ark_g1(&sig)));
        if other != msg {
            prop_assert!(!pk.verify(&other, &sig));
            prop_assert!(!ark_verifies(&ark_pk, &other, &ark_g1(&sig)));
        }
    }

    #[test]
    fn aggregation_agrees(ikms in proptest::collection::vec(any::<[u8; 32]>(), 1..6), msg in any::<[u8; 32]>()) {
        let keys: Vec<SecretKey> = ikms.iter().map(SecretKey::from_ikm).collect();
        let pks: Vec<PublicKey> = keys.iter().map(SecretKey::public_key).collect();
        let sigs: Vec<Signature> = keys.iter().map(|k| k.sign(&msg)).collect();
        let ark_pk_sum: G2Affine = pks.iter().map(ark_g2).fold(G2Affine::zero().into_group(), |a, p| a + p).into_affine();
        let ark_sig_sum: G1Affine = sigs.iter().map(ark_g1).fold(G1Affine::zero().into_group(), |a, p| a + p).into_affine();
        let agg_pk = PublicKey::aggregate(&pks).unwrap();
        let agg_sig = Signature::aggregate(&sigs).unwrap();
        prop_assert_eq!(agg_pk.to_eip2537().to_vec(), g2_eip2537(&ark_pk_sum));
        prop_assert_eq!(agg_sig.to_eip2537().to_vec(), g1_eip2537(&ark_sig_sum));
        prop_assert!(agg_pk.verify(&msg, &agg_sig));
        prop_assert!(ark_verifies(&ark_pk_sum, &msg, &ark_sig_sum));
    }

    /// Flipping any one bit of a valid compressed point: both libraries must agree on whether
    /// the result is a valid (non-infinity, in-subgroup) point, and on which point it is.
    #[test]
    fn strict_decoding_agrees(ikm in any::<[u8; 32]>(), g1_bit in 0usize..384, g2_bit in 0usize..768) {
        let sk = SecretKey::from_ikm(&ikm);
        let mut sig = sk.sign(&[7; 32]).to_bytes();
        sig[g1_bit / 8] ^= 0x80 >> (g1_bit % 8);
        let ours = Signature::from_bytes(&sig).ok().map(|s| s.to_eip2537().to_vec());
        let ark = G1Affine::deserialize_compressed(sig.as_slice()).ok().filter(|p| !p.is_zero()).map(|p| g1_eip2537(&p));
        prop_assert_eq!(ours, ark);

        let mut pk = sk.public_key().to_bytes();
        pk[g2_bit / 8] ^= 0x80 >> (g2_bit % 8);
        let ours = PublicKey::from_bytes(&pk).ok().map(|k| k.to_eip2537().to_vec());
        let ark = G2Affine::deserialize_compressed(pk.as_slice()).ok().filter(|p| !p.is_zero()).map(|p| g2_eip2537(&p));
        prop_assert_eq!(ours, ark);
    }
}
