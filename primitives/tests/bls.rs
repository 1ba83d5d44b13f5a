//! The BLS12-381 min-sig core through its public API: EIP-2333, sign/verify, aggregation,
//! batch verification, proofs of possession and strict decoding.

use alloy_primitives::{Address, B256, U256, Uint, keccak256, uint};
use surety_primitives::{
    BlsError, DecodeError, HashedMessage, POP_DST, ProofOfPossession, PublicKey, SIG_DST,
    SecretKey, Signature, bls::hash_to_g1, verify_batch, verify_many,
};

type U384 = Uint<384, 6>;

/// The order r of G1/G2.
const R: U256 = uint!(0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001_U256);
const P_HEX: &str = "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab";

fn key(i: u8) -> SecretKey {
    SecretKey::from_ikm(&[i; 32])
}

fn scalar(sk: &SecretKey) -> U256 {
    U256::from_be_bytes(*sk.to_bytes())
}

/// The key whose public key and signatures are the negation of `sk`'s.
fn negated(sk: &SecretKey) -> SecretKey {
    SecretKey::from_bytes(&(R - scalar(sk)).to_be_bytes::<32>()).unwrap()
}

fn msg(i: u8) -> [u8; 32] {
    keccak256([i]).0
}

#[test]
fn eip2333_official_vectors() {
    // (seed, master_SK, child_index, child_SK) — the four test cases of EIP-2333.
    let cases: [(&str, &str, u32, &str); 4] = [
        (
            "c55257c360c07c72029aebc1b53c05ed0362ada38ead3e3e9efa3708e53495531f09a6987599d18264c1e1c92f2cf141630c7a3c4ab7c81b2f001698e7463b04",
            "6083874454709270928345386274498605044986640685124978867557563392430687146096",
            0,
            "20397789859736650942317412262472558107875392172444076792671091975210932703118",
        ),
        (
            "3141592653589793238462643383279502884197169399375105820974944592",
            "29757020647961307431480504535336562678282505419141012933316116377660817309383",
            3141592653,
            "25457201688850691947727629385191704516744796114925897962676248250929345014287",
        ),
        (
            "0099FF991111002299DD7744EE3355BBDD8844115566CC55663355668888CC00",
            "27580842291869792442942448775674722299803720648445448686099262467207037398656",
            4294967295,
            "29358610794459428860402234341874281240803786294062035874021252734817515685787",
        ),
        (
            "d4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3",
            "19022158461524446591288038168518313374041767046816487870552872741050760015818",
            42,
            "31372231650479070279774297061823572166496564838472787488249775572789064611981",
        ),
    ];
    for (seed, master, index, child) in cases {
        let master_sk = SecretKey::derive_master(&hex::decode(seed).unwrap()).unwrap();
        assert_eq!(
            scalar(&master_sk),
            master.parse::<U256>().unwrap(),
            "master of {seed}"
        );
        let child_sk = master_sk.derive_child(index);
        assert_eq!(
            scalar(&child_sk),
            child.parse::<U256>().unwrap(),
            "child {index} of {seed}"
        );
    }
    assert_eq!(
        SecretKey::derive_master(&[1; 31]).unwrap_err(),
        BlsError::SeedTooShort(31)
    );
}

#[test]
fn secret_key_bounds_and_redaction() {
    assert_eq!(
        SecretKey::from_bytes(&[0; 32]).unwrap_err(),
        BlsError::InvalidSecretKey
    );
    assert_eq!(
        SecretKey::from_bytes(&R.to_be_bytes::<32>()).unwrap_err(),
        BlsError::InvalidSecretKey
    );
    assert_eq!(
        SecretKey::from_bytes(&[1; 31]).unwrap_err(),
        BlsError::InvalidSecretKey
    );
    let max = SecretKey::from_bytes(&(R - U256::from(1)).to_be_bytes::<32>()).unwrap();
    assert_eq!(scalar(&max), R - U256::from(1));
    let sk = key(1);
    assert!(!format!("{sk:?}").contains(&hex::encode(*sk.to_bytes())));
    assert_ne!(scalar(&SecretKey::random()), scalar(&SecretKey::random()));
}

#[test]
fn sign_and_verify() {
    let (sk, m) = (key(1), msg(1));
    let sig = sk.sign(&m);
    assert!(sk.public_key().verify(&m, &sig));
    assert!(!sk.public_key().verify(&msg(2), &sig), "other message");
    assert!(!key(2).public_key().verify(&m, &sig), "other key");
    assert_eq!(sig, sk.sign(&m), "deterministic");
}

#[test]
fn point_encodings_round_trip() {
    for i in 1..8 {
        let sk = key(i);
        let pk = sk.public_key();
        let sig = sk.sign(&msg(i));
        assert_eq!(PublicKey::from_bytes(&pk.to_bytes()).unwrap(), pk);
        assert_eq!(PublicKey::from_eip2537(&pk.to_eip2537()).unwrap(), pk);
        assert_eq!(Signature::from_bytes(&sig.to_bytes()).unwrap(), sig);
        assert_eq!(Signature::from_eip2537(&sig.to_eip2537()).unwrap(), sig);
        assert_eq!(pk.to_string().parse::<PublicKey>().unwrap(), pk);
        assert_eq!(sig.to_string().parse::<Signature>().unwrap(), sig);
        let json = serde_json::to_string(&pk).unwrap();
        assert_eq!(json, format!("\"{pk}\""));
        assert_eq!(serde_json::from_str::<PublicKey>(&json).unwrap(), pk);
        assert_eq!(pk.key_hash(), keccak256(pk.to_eip2537()));
    }
}

#[test]
fn eip2537_layout_is_padded_with_c0_first() {
    let pk = key(3).public_key();
    let eip = pk.to_eip2537();
    let zcash_uncompressed = blst::min_sig::PublicKey::from_bytes(&pk.to_bytes())
        .unwrap()
        .serialize();
    for (i, padded) in eip.chunks(64).enumerate() {
        assert_eq!(&padded[..16], &[0; 16]);
        // zcash order is x.c1, x.c0, y.c1, y.c0.
        let zcash_index = [1, 0, 3, 2][i];
        assert_eq!(&padded[16..], &zcash_uncompressed[zcash_index * 48..][..48]);
    }
    let sig = key(3).sign(&msg(3));
    let eip = sig.to_eip2537();
    let zcash = blst::min_sig::Signature::from_bytes(&sig.to_bytes())
        .unwrap()
        .serialize();
    assert_eq!(&eip[..16], &[0; 16]);
    assert_eq!(&eip[16..64], &zcash[..48]);
    assert_eq!(&eip[64..80], &[0; 16]);
    assert_eq!(&eip[80..], &zcash[48..]);
}

#[test]
fn wrong_lengths_are_rejected() {
    let pk = key(1).public_key().to_bytes();
    assert_eq!(
        PublicKey::from_bytes(&pk[..95]).unwrap_err(),
        DecodeError::WrongLength {
            expected: 96,
            got: 95
        }
    );
    assert_eq!(
        PublicKey::from_eip2537(&[0; 192]).unwrap_err(),
        DecodeError::WrongLength {
            expected: 256,
            got: 192
        }
    );
    let sig = key(1).sign(&msg(1)).to_bytes();
    assert_eq!(
        Signature::from_bytes(&[sig.as_slice(), &[0]].concat()).unwrap_err(),
        DecodeError::WrongLength {
            expected: 48,
            got: 49
        }
    );
    assert_eq!(
        Signature::from_eip2537(&[0; 96]).unwrap_err(),
        DecodeError::WrongLength {
            expected: 128,
            got: 96
        }
    );
    assert_eq!(
        "0x1234".parse::<Signature>().unwrap_err(),
        DecodeError::WrongLength {
            expected: 48,
            got: 2
        }
    );
    assert_eq!(
        "0xzz".parse::<Signature>().unwrap_err(),
        DecodeError::InvalidHex
    );
}

#[test]
fn bad_flags_are_rejected() {
    let mut sig = key(1).sign(&msg(1)).to_bytes();
    sig[0] &= 0x7f; // compression flag cleared
    assert_eq!(
        Signature::from_bytes(&sig).unwrap_err(),
        DecodeError::BadFlags
    );
    let mut pk = key(1).public_key().to_bytes();
    pk[0] |= 0x40; // infinity flag on a non-zero body
    assert_eq!(
        PublicKey::from_bytes(&pk).unwrap_err(),
        DecodeError::BadFlags
    );
    let mut inf_with_sign = [0u8; 48];
    inf_with_sign[0] = 0xe0; // infinity with the sign bit
    assert_eq!(
        Signature::from_bytes(&inf_with_sign).unwrap_err(),
        DecodeError::BadFlags
    );
}

#[test]
fn infinity_is_rejected_in_every_layout() {
    let mut g1 = [0u8; 48];
    g1[0] = 0xc0;
    assert_eq!(
        Signature::from_bytes(&g1).unwrap_err(),
        DecodeError::Infinity
    );
    let mut g2 = [0u8; 96];
    g2[0] = 0xc0;
    assert_eq!(
        PublicKey::from_bytes(&g2).unwrap_err(),
        DecodeError::Infinity
    );
    assert_eq!(
        Signature::from_eip2537(&[0; 128]).unwrap_err(),
        DecodeError::Infinity
    );
    assert_eq!(
        PublicKey::from_eip2537(&[0; 256]).unwrap_err(),
        DecodeError::Infinity
    );
}

#[test]
fn non_canonical_field_elements_are_rejected() {
    let p = hex::decode(P_HEX).unwrap();
    // Compressed: x = p with the compression flag (p's top bits are clear).
    let mut g1 = p.clone();
    g1[0] |= 0x80;
    assert_eq!(
        Signature::from_bytes(&g1).unwrap_err(),
        DecodeError::NonCanonical
    );
    // Both halves of a G2 x-coordinate equal to p.
    let mut g2 = [p.as_slice(), &p].concat();
    g2[0] |= 0x80;
    assert_eq!(
        PublicKey::from_bytes(&g2).unwrap_err(),
        DecodeError::NonCanonical
    );
    // Only the second (c0) half non-canonical.
    let mut pk = key(1).public_key().to_bytes();
    pk[48..].copy_from_slice(&p);
    assert_eq!(
        PublicKey::from_bytes(&pk).unwrap_err(),
        DecodeError::NonCanonical
    );

    // EIP-2537: y replaced by y + p names the same residue but must be rejected.
    let mut sig = key(1).sign(&msg(1)).to_eip2537();
    let y_plus_p = U384::from_be_slice(&sig[80..]) + U384::from_be_slice(&p);
    sig[80..].copy_from_slice(&y_plus_p.to_be_bytes::<48>());
    assert_eq!(
        Signature::from_eip2537(&sig).unwrap_err(),
        DecodeError::NonCanonical
    );
    // Non-zero padding.
    let mut padded = key(1).public_key().to_eip2537();
    padded[64] = 1;
    assert_eq!(
        PublicKey::from_eip2537(&padded).unwrap_err(),
        DecodeError::NonCanonical
    );
}

/// The first compressed G1 encodings with a small x that decode to a curve point (without the
/// subgroup check) and that are off the curve, respectively.
fn small_x_g1() -> ([u8; 48], [u8; 48]) {
    let (mut on, mut off) = (None, None);
    for x in 0u8..=255 {
        let mut enc = [0u8; 48];
        enc[0] = 0x80;
        enc[47] = x;
        match blst::min_sig::Signature::uncompress(&enc) {
            Ok(_) if on.is_none() => on = Some(enc),
            Err(blst::BLST_ERROR::BLST_POINT_NOT_ON_CURVE) if off.is_none() => off = Some(enc),
            _ => {}
        }
    }
    (on.unwrap(), off.unwrap())
}

fn small_x_g2() -> ([u8; 96], [u8; 96]) {
    let (mut on, mut off) = (None, None);
    for x in 0u8..=255 {
        let mut enc = [0u8; 96];
        enc[0] = 0x80;
        enc[95] = x; // x = x + 0·u
        match blst::min_sig::PublicKey::uncompress(&enc) {
            Ok(_) if on.is_none() => on = Some(enc),
            Err(blst::BLST_ERROR::BLST_POINT_NOT_ON_CURVE) if off.is_none() => off = Some(enc),
            _ => {}
        }
    }
    (on.unwrap(), off.unwrap())
}

fn g1_uncompressed_to_eip2537(zcash: &[u8]) -> Vec<u8> {
    [&[0u8; 16][..], &zcash[..48], &[0; 16], &zcash[48..]].concat()
}

fn g2_uncompressed_to_eip2537(zcash: &[u8]) -> Vec<u8> {
    let f = |i: usize| &zcash[i * 48..(i + 1) * 48];
    [
        &[0u8; 16][..],
        f(1),
        &[0; 16],
        f(0),
        &[0; 16],
        f(3),
        &[0; 16],
        f(2),
    ]
    .concat()
}

#[test]
fn points_off_the_curve_are_rejected() {
    let (_, off) = small_x_g1();
    assert_eq!(
        Signature::from_bytes(&off).unwrap_err(),
        DecodeError::NotOnCurve
    );
    let (_, off) = small_x_g2();
    assert_eq!(
        PublicKey::from_bytes(&off).unwrap_err(),
        DecodeError::NotOnCurve
    );
    // EIP-2537: a valid point with y changed by one.
    let mut sig = key(1).sign(&msg(1)).to_eip2537();
    sig[127] ^= 1;
    assert_eq!(
        Signature::from_eip2537(&sig).unwrap_err(),
        DecodeError::NotOnCurve
    );
    let mut pk = key(1).public_key().to_eip2537();
    pk[255] ^= 1;
    assert_eq!(
        PublicKey::from_eip2537(&pk).unwrap_err(),
        DecodeError::NotOnCurve
    );
}

#[test]
fn points_outside_the_subgroup_are_rejected() {
    // With cofactors of ~2^126 (G1) and ~2^381 (G2), a small-x curve point is not in the group.
    let (on, _) = small_x_g1();
    assert_eq!(
        Signature::from_bytes(&on).unwrap_err(),
        DecodeError::NotInSubgroup
    );
    let raw = blst::min_sig::Signature::uncompress(&on)
        .unwrap()
        .serialize();
    assert_eq!(
        Signature::from_eip2537(&g1_uncompressed_to_eip2537(&raw)).unwrap_err(),
        DecodeError::NotInSubgroup
    );
    let (on, _) = small_x_g2();
    assert_eq!(
        PublicKey::from_bytes(&on).unwrap_err(),
        DecodeError::NotInSubgroup
    );
    let raw = blst::min_sig::PublicKey::uncompress(&on)
        .unwrap()
        .serialize();
    assert_eq!(
        PublicKey::from_eip2537(&g2_uncompressed_to_eip2537(&raw)).unwrap_err(),
        DecodeError::NotInSubgroup
    );
}

#[test]
fn aggregation() {
    let m = msg(9);
    let keys: Vec<SecretKey> = (1..=5).map(key).collect();
    let pks: Vec<PublicKey> = keys.iter().map(SecretKey::public_key).collect();
    let sigs: Vec<Signature> = keys.iter().map(|k| k.sign(&m)).collect();
    let agg_pk = PublicKey::aggregate(&pks).unwrap();
    let agg_sig = Signature::aggregate(&sigs).unwrap();
    assert!(agg_pk.verify(&m, &agg_sig));
    assert!(
        !PublicKey::aggregate(&pks[..4])
            .unwrap()
            .verify(&m, &agg_sig),
        "missing signer"
    );
    assert_eq!(
        PublicKey::aggregate(&[]).unwrap_err(),
        BlsError::EmptyAggregate
    );
    assert_eq!(
        Signature::aggregate(&[]).unwrap_err(),
        BlsError::EmptyAggregate
    );
    // A key and its negation cancel: the aggregate would be infinity.
    let neg = negated(&keys[0]);
    assert_eq!(
        PublicKey::aggregate(&[pks[0], neg.public_key()]).unwrap_err(),
        BlsError::AggregateIsInfinity
    );
    assert_eq!(
        Signature::aggregate(&[sigs[0], neg.sign(&m)]).unwrap_err(),
        BlsError::AggregateIsInfinity
    );
}

#[test]
fn batch_verification() {
    let m = msg(7);
    let keys: Vec<SecretKey> = (1..=8).map(key).collect();
    let pks: Vec<PublicKey> = keys.iter().map(SecretKey::public_key).collect();
    let sigs: Vec<Signature> = keys.iter().map(|k| k.sign(&m)).collect();
    assert!(verify_batch(&m, &pks, &sigs));
    assert!(verify_batch(&m, &pks[..1], &sigs[..1]));
    assert!(!verify_batch(&msg(8), &pks, &sigs), "other message");
    assert!(!verify_batch(&m, &[], &[]), "empty");
    assert!(!verify_batch(&m, &pks[..7], &sigs), "length mismatch");
    let mut swapped = sigs.clone();
    swapped.swap(0, 1);
    assert!(
        !verify_batch(&m, &pks, &swapped),
        "signatures under the wrong keys"
    );
    let mut one_bad = sigs.clone();
    one_bad[5] = keys[5].sign(&msg(8));
    assert!(
        !verify_batch(&m, &pks, &one_bad),
        "one signature on another message"
    );
}

#[test]
fn many_messages_verify_in_one_check_grouped_either_way() {
    let keys: Vec<SecretKey> = (1..=40).map(key).collect();
    let pks: Vec<PublicKey> = keys.iter().map(SecretKey::public_key).collect();
    let raw: Vec<[u8; 32]> = (1..=40).map(msg).collect();
    let messages: Vec<HashedMessage> = raw.iter().map(HashedMessage::new).collect();
    // Two keys sign 20 messages each (cheaper grouped by key), and 40 keys sign message 0
    // (cheaper grouped by message).
    let few_keys: Vec<(usize, usize, Signature)> = (0..2)
        .flat_map(|k| (0..20).map(move |m| (m, k)))
        .map(|(m, k)| (m, k, keys[k].sign(&raw[m])))
        .collect();
    let one_message: Vec<(usize, usize, Signature)> =
        (0..40).map(|k| (0, k, keys[k].sign(&raw[0]))).collect();
    let diagonal: Vec<(usize, usize, Signature)> =
        (0..40).map(|i| (i, i, keys[i].sign(&raw[i]))).collect();
    for claims in [&few_keys, &one_message, &diagonal] {
        assert!(verify_many(&messages, &pks, claims));
        let mut wrong_message = claims.clone();
        wrong_message[7].0 += 1;
        assert!(!verify_many(&messages, &pks, &wrong_message));
        let mut swapped = claims.clone();
        let (a, b) = (swapped[3].2, swapped[4].2);
        swapped[3].2 = b;
        swapped[4].2 = a;
        assert!(
            !verify_many(&messages, &pks, &swapped),
            "swapped signatures"
        );
    }
    assert!(verify_many(&messages, &pks, &diagonal[..1]));
    assert!(!verify_many(&messages, &pks, &[]), "empty");
    assert!(
        !verify_many(&messages[..1], &pks, &diagonal[..2]),
        "message index out of range"
    );
    assert!(
        !verify_many(&messages, &pks[..1], &diagonal[..2]),
        "key index out of range"
    );
}

#[test]
fn batch_verification_rejects_cancelling_forgeries() {
    let m = msg(1);
    let (k1, k2) = (key(1), key(2));
    let pks = [k1.public_key(), k2.public_key()];
    // Δ = d·H(m') for an unrelated key d; −Δ from the negated scalar.
    let d = key(3);
    let delta = d.sign(&msg(2));
    let minus_delta = negated(&d).sign(&msg(2));
    let forged = [
        Signature::aggregate(&[k1.sign(&m), delta]).unwrap(),
        Signature::aggregate(&[k2.sign(&m), minus_delta]).unwrap(),
    ];
    // Neither forged signature is valid on its own ...
    assert!(!pks[0].verify(&m, &forged[0]));
    assert!(!pks[1].verify(&m, &forged[1]));
    // ... but plain aggregate verification accepts the pair ...
    let agg = Signature::aggregate(&forged).unwrap();
    assert!(PublicKey::aggregate(&pks).unwrap().verify(&m, &agg));
    // ... while randomised batch verification rejects it, every time.
    for _ in 0..20 {
        assert!(!verify_batch(&m, &pks, &forged));
    }
    // The same across messages by one key, which `verify_many` groups by key.
    let m2 = msg(4);
    let messages = [HashedMessage::new(&m), HashedMessage::new(&m2)];
    let one_key = [
        (0, 0, Signature::aggregate(&[k1.sign(&m), delta]).unwrap()),
        (
            1,
            0,
            Signature::aggregate(&[k1.sign(&m2), minus_delta]).unwrap(),
        ),
    ];
    let one_message = [(0, 0, forged[0]), (0, 1, forged[1])];
    for _ in 0..20 {
        assert!(!verify_many(&messages, &pks, &one_key));
        assert!(!verify_many(&messages, &pks, &one_message));
    }
}

/// Signatures of `raw[m]` by `keys[k]` for every `m` and `k`: a grid, checked with one Miller
/// loop (each claim weighted by a key factor times a message factor).
fn grid(keys: &[SecretKey], raw: &[[u8; 32]]) -> Vec<(usize, usize, Signature)> {
    (0..keys.len())
        .flat_map(|k| (0..raw.len()).map(move |m| (m, k)))
        .map(|(m, k)| (m, k, keys[k].sign(&raw[m])))
        .collect()
}

#[test]
fn grids_of_keys_signing_the_same_messages_verify_and_catch_forgeries() {
    let keys: Vec<SecretKey> = (1..=8).map(key).collect();
    let pks: Vec<PublicKey> = keys.iter().map(SecretKey::public_key).collect();
    let raw: Vec<[u8; 32]> = (1..=12).map(msg).collect();
    let messages: Vec<HashedMessage> = raw.iter().map(HashedMessage::new).collect();
    let full = grid(&keys, &raw[..8]);
    // Two grids: keys 0-3 on messages 0-7, keys 4-7 on messages 4-11; and a grid plus keys
    // with sets of their own.
    let mut two: Vec<_> = grid(&keys[..4], &raw[..8]);
    two.extend(
        grid(&keys[4..], &raw[4..])
            .into_iter()
            .map(|(m, k, s)| (m + 4, k + 4, s)),
    );
    let mut ragged = grid(&keys[..6], &raw[..8]);
    ragged.push((9, 6, keys[6].sign(&raw[9])));
    ragged.push((10, 7, keys[7].sign(&raw[10])));
    ragged.push((0, 7, keys[7].sign(&raw[0])));
    for claims in [&full, &two, &ragged] {
        assert!(verify_many(&messages, &pks, claims));
        let mut wrong_message = claims.clone();
        wrong_message[7].0 = 11;
        assert!(!verify_many(&messages, &pks, &wrong_message));
        let mut swapped = claims.clone();
        let (a, b) = (swapped[3].2, swapped[12].2);
        swapped[3].2 = b;
        swapped[12].2 = a;
        assert!(
            !verify_many(&messages, &pks, &swapped),
            "swapped signatures"
        );
    }
}

#[test]
fn grid_verification_rejects_forgeries_cancelling_across_keys_and_messages() {
    // ±Δ on the four corners of a 2×2 grid: every row and column of errors sums to zero, so
    // weights that were sums (a_k + b_m) would miss it; products a_k·b_m do not.
    let (k1, k2) = (key(1), key(2));
    let pks = [k1.public_key(), k2.public_key()];
    let (m1, m2) = (msg(1), msg(2));
    let messages = [HashedMessage::new(&m1), HashedMessage::new(&m2)];
    let d = key(3);
    let (delta, minus_delta) = (d.sign(&msg(9)), negated(&d).sign(&msg(9)));
    let plus = |s: Signature, x: Signature| Signature::aggregate(&[s, x]).unwrap();
    let corners = [
        (0, 0, plus(k1.sign(&m1), delta)),
        (1, 0, plus(k1.sign(&m2), minus_delta)),
        (0, 1, plus(k2.sign(&m1), minus_delta)),
        (1, 1, plus(k2.sign(&m2), delta)),
    ];
    // A claim repeated with +Δ and −Δ: the same weight on both would cancel them.
    let repeated = [
        (0, 0, plus(k1.sign(&m1), delta)),
        (0, 0, plus(k1.sign(&m1), minus_delta)),
        (1, 0, k1.sign(&m2)),
        (0, 1, k2.sign(&m1)),
        (1, 1, k2.sign(&m2)),
    ];
    for _ in 0..20 {
        assert!(!verify_many(&messages, &pks, &corners));
        assert!(!verify_many(&messages, &pks, &repeated));
    }
    let honest: Vec<_> = corners
        .iter()
        .map(|&(m, k, _)| (m, k, [&k1, &k2][k].sign(&[m1, m2][m])))
        .collect();
    assert!(verify_many(&messages, &pks, &honest));
}

#[test]
fn proof_of_possession() {
    let sk = key(4);
    let pk = sk.public_key();
    let (operator, registry) = (Address::repeat_byte(0x0a), Address::repeat_byte(0x0b));
    let pop = ProofOfPossession::new(&sk, operator, 17000, registry);
    assert!(pop.verify(&pk, operator, 17000, registry));
    assert!(
        !pop.verify(&pk, Address::repeat_byte(0x0c), 17000, registry),
        "other operator"
    );
    assert!(!pop.verify(&pk, operator, 1, registry), "other chain");
    assert!(
        !pop.verify(&pk, operator, 17000, operator),
        "other registry"
    );
    assert!(
        !pop.verify(&key(5).public_key(), operator, 17000, registry),
        "other key"
    );
    assert_eq!(ProofOfPossession::from_bytes(&pop.to_bytes()).unwrap(), pop);
    assert_eq!(
        ProofOfPossession::from_eip2537(&pop.to_eip2537()).unwrap(),
        pop
    );

    // Domain separation: the PoP is not an attestation signature on the same 32 bytes.
    let message = ProofOfPossession::message(&pk, operator, 17000, registry);
    assert!(!pk.verify(&message.0, pop.signature()));
    assert_eq!(
        message,
        keccak256(
            [
                keccak256("surety.pop.v1").as_slice(),
                B256::left_padding_from(operator.as_slice()).as_slice(),
                U256::from(17000).to_be_bytes::<32>().as_slice(),
                B256::left_padding_from(registry.as_slice()).as_slice(),
                pk.key_hash().as_slice(),
            ]
            .concat()
        )
    );
}

#[test]
fn signing_uses_the_sig_dst_and_pop_uses_the_pop_dst() {
    let sk = SecretKey::from_bytes(&B256::with_last_byte(1).0).unwrap();
    let m = msg(3);
    // With the scalar 1, a signature is H(m) itself.
    assert_eq!(sk.sign(&m).to_eip2537(), hash_to_g1(&m, SIG_DST));
    let pop = ProofOfPossession::new(&sk, Address::ZERO, 1, Address::ZERO);
    let pop_msg = ProofOfPossession::message(&sk.public_key(), Address::ZERO, 1, Address::ZERO);
    assert_eq!(pop.to_eip2537(), hash_to_g1(pop_msg.as_slice(), POP_DST));
}
