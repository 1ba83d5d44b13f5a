//! EIP-2335 keystores: the official vectors, round trips, and a typed error for every kind of
//! bad input.

use aes::Aes128;
use alloy_primitives::{U256, uint};
use ctr::cipher::{KeyIvInit, StreamCipher};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use surety_primitives::{Kdf, Keystore, KeystoreError, SecretKey, keystore::normalize_password};

/// "𝔱𝔢𝔰𝔱𝔭𝔞𝔰𝔰𝔴𝔬𝔯𝔡🔑" from EIP-2335, spelled with escapes.
const PASSWORD: &str = "\u{1d531}\u{1d522}\u{1d530}\u{1d531}\u{1d52d}\u{1d51e}\u{1d530}\u{1d530}\u{1d534}\u{1d52c}\u{1d52f}\u{1d521}\u{1f511}";
const SECRET: &str = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f";
const R: U256 = uint!(0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001_U256);

const SCRYPT_VECTOR: &str = r#"{
    "crypto": {
        "kdf": {
            "function": "scrypt",
            "params": {"dklen": 32, "n": 262144, "p": 1, "r": 8,
                       "salt": "d4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3"},
            "message": ""
        },
        "checksum": {"function": "sha256", "params": {},
                     "message": "d2217fe5f3e9a1e34581ef8a78f7c9928e436d36dacc5e846690a5581e8ea484"},
        "cipher": {"function": "aes-128-ctr", "params": {"iv": "264daa3f303d7259501c93d997d84fe6"},
                   "message": "06ae90d55fe0a6e9c5c3bc5b170827b2e5cce3929ed3f116c2811e6366dfe20f"}
    },
    "description": "This is a test keystore that uses scrypt to secure the secret.",
    "pubkey": "9612d7a727c9d0a22e185a1c768478dfe919cada9266988cb32359c11f2b7b27f4ae4040902382ae2910c15e2b420d07",
    "path": "m/12381/60/3141592653/589793238",
    "uuid": "1d85ae20-35c5-4611-98e8-aa14a633906f",
    "version": 4
}"#;

const PBKDF2_VECTOR: &str = r#"{
    "crypto": {
        "kdf": {
            "function": "pbkdf2",
            "params": {"dklen": 32, "c": 262144, "prf": "hmac-sha256",
                       "salt": "d4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3"},
            "message": ""
        },
        "checksum": {"function": "sha256", "params": {},
                     "message": "8a9f5d9912ed7e75ea794bc5a89bca5f193721d30868ade6f73043c6ea6febf1"},
        "cipher": {"function": "aes-128-ctr", "params": {"iv": "264daa3f303d7259501c93d997d84fe6"},
                   "message": "cee03fde2af33149775b7223e7845e4fb2c8ae1792e5f99fe9ecf474cc8c16ad"}
    },
    "description": "This is a test keystore that uses PBKDF2 to secure the secret.",
    "pubkey": "9612d7a727c9d0a22e185a1c768478dfe919cada9266988cb32359c11f2b7b27f4ae4040902382ae2910c15e2b420d07",
    "path": "m/12381/60/0/0",
    "uuid": "64625def-3331-4eea-ab6f-782f3ed16a83",
    "version": 4
}"#;

const LIGHT: Kdf = Kdf::Scrypt {
    log_n: 10,
    r: 8,
    p: 1,
};

#[test]
fn official_vectors_decrypt_to_the_exact_secret() {
    for vector in [SCRYPT_VECTOR, PBKDF2_VECTOR] {
        let keystore = Keystore::from_json(vector).unwrap();
        // The vectors' pubkey is the G1 (min-pk) key; decryption checks it and accepts.
        let secret = keystore.decrypt(PASSWORD).unwrap();
        assert_eq!(hex::encode(*secret.to_bytes()), SECRET);
        assert_eq!(
            keystore.public_key(),
            None,
            "no G2 key in an Ethereum keystore"
        );
    }
}

#[test]
fn password_normalisation() {
    assert_eq!(
        normalize_password(PASSWORD).as_slice(),
        hex::decode("7465737470617373776f7264f09f9491").unwrap()
    );
    assert_eq!(
        normalize_password("a\u{0}b\u{1f}c\u{7f}d\u{80}e\u{9f}f g\n").as_slice(),
        b"abcdef g"
    );
    // NFKD decomposes "é" into e + combining acute accent (U+0301).
    assert_eq!(
        normalize_password("\u{e9}").as_slice(),
        "e\u{301}".as_bytes()
    );
}

#[test]
fn round_trip_with_scrypt_and_pbkdf2() {
    let secret = SecretKey::from_ikm(&[9; 32]);
    for kdf in [LIGHT, Kdf::Pbkdf2 { c: 1_000 }] {
        let keystore = Keystore::encrypt(&secret, "hunter2", kdf, "").unwrap();
        let parsed = Keystore::from_json(&keystore.to_json()).unwrap();
        assert_eq!(parsed, keystore);
        assert_eq!(parsed.public_key(), Some(secret.public_key()));
        assert_eq!(parsed.version, 4);
        let decrypted = parsed.decrypt("hunter2\n").unwrap();
        assert_eq!(*decrypted.to_bytes(), *secret.to_bytes());
        assert!(matches!(
            parsed.decrypt("hunter3"),
            Err(KeystoreError::WrongPassword)
        ));
    }
    assert_eq!(
        Kdf::default(),
        Kdf::Scrypt {
            log_n: 18,
            r: 8,
            p: 1
        }
    );
}

fn light_json() -> Value {
    let keystore = Keystore::encrypt(&SecretKey::from_ikm(&[3; 32]), "pw", LIGHT, "").unwrap();
    serde_json::to_value(keystore).unwrap()
}

fn decrypt_edited(edit: impl FnOnce(&mut Value)) -> KeystoreError {
    let mut json = light_json();
    edit(&mut json);
    match Keystore::from_json(&json.to_string()) {
        Ok(keystore) => keystore
            .decrypt("pw")
            .expect_err("edited keystore must not decrypt"),
        Err(err) => err,
    }
}

#[test]
fn bad_parameters_are_typed_errors() {
    assert!(matches!(
        decrypt_edited(|j| j["crypto"]["kdf"]["params"]["n"] = json!(1000)),
        KeystoreError::ScryptN(1000)
    ));
    assert!(matches!(
        decrypt_edited(|j| j["crypto"]["kdf"]["params"]["n"] = json!(1)),
        KeystoreError::ScryptN(1)
    ));
    assert!(matches!(
        decrypt_edited(|j| j["crypto"]["kdf"]["params"]["n"] = json!(1u64 << 30)),
        KeystoreError::ScryptTooExpensive
    ));
    assert!(matches!(
        decrypt_edited(|j| j["crypto"]["kdf"]["params"]["dklen"] = json!(31)),
        KeystoreError::DkLen(31)
    ));
    assert!(matches!(
        decrypt_edited(
            |j| j["crypto"]["kdf"]["params"]["salt"] = json!("00112233445566778899aabbccddee")
        ),
        KeystoreError::SaltTooShort(15)
    ));
    assert!(matches!(
        decrypt_edited(|j| j["crypto"]["kdf"]["params"]["salt"] = json!("zz")),
        KeystoreError::InvalidHex("salt")
    ));
    assert!(matches!(
        decrypt_edited(|j| {
            j["crypto"]["kdf"]["params"]
                .as_object_mut()
                .unwrap()
                .remove("r");
        }),
        KeystoreError::MissingParam("r")
    ));
    assert!(matches!(
        decrypt_edited(
            |j| j["crypto"]["cipher"]["params"]["iv"] = json!("000102030405060708090a0b0c0d0e")
        ),
        KeystoreError::IvLength(15)
    ));
    assert!(matches!(
        decrypt_edited(|j| j["crypto"]["kdf"]["function"] = json!("argon2")),
        KeystoreError::UnsupportedFunction { module: "kdf", .. }
    ));
    assert!(matches!(
        decrypt_edited(|j| j["crypto"]["cipher"]["function"] = json!("aes-256-gcm")),
        KeystoreError::UnsupportedFunction {
            module: "cipher",
            ..
        }
    ));
    assert!(matches!(
        decrypt_edited(|j| j["crypto"]["checksum"]["function"] = json!("keccak256")),
        KeystoreError::UnsupportedFunction {
            module: "checksum",
            ..
        }
    ));
    assert!(matches!(
        decrypt_edited(|j| j["crypto"]["cipher"]["message"] = json!("not hex")),
        KeystoreError::InvalidHex("cipher message")
    ));
    assert!(matches!(
        decrypt_edited(|j| j["version"] = json!(3)),
        KeystoreError::Version(3)
    ));
    assert!(matches!(
        decrypt_edited(|j| j["uuid"] = json!("nope")),
        KeystoreError::Json(_)
    ));
    assert!(matches!(
        Keystore::from_json("{"),
        Err(KeystoreError::Json(_))
    ));
    // A tampered ciphertext fails the checksum like a wrong password.
    assert!(matches!(
        decrypt_edited(|j| j["crypto"]["checksum"]["message"] = json!("00".repeat(32))),
        KeystoreError::WrongPassword
    ));
}

#[test]
fn pbkdf2_parameters() {
    let pbkdf2 = || {
        let keystore = Keystore::encrypt(
            &SecretKey::from_ikm(&[4; 32]),
            "pw",
            Kdf::Pbkdf2 { c: 10 },
            "",
        )
        .unwrap();
        serde_json::to_value(keystore).unwrap()
    };
    let mut j = pbkdf2();
    j["crypto"]["kdf"]["params"]["prf"] = json!("hmac-sha512");
    let err = Keystore::from_json(&j.to_string())
        .unwrap()
        .decrypt("pw")
        .unwrap_err();
    assert!(
        matches!(
            err,
            KeystoreError::UnsupportedFunction {
                module: "pbkdf2 prf",
                ..
            }
        ),
        "{err}"
    );
    let mut j = pbkdf2();
    j["crypto"]["kdf"]["params"]["c"] = json!(0);
    let err = Keystore::from_json(&j.to_string())
        .unwrap()
        .decrypt("pw")
        .unwrap_err();
    assert!(matches!(err, KeystoreError::Pbkdf2Count), "{err}");
}

/// A hand-built PBKDF2 keystore around arbitrary 32 "secret" bytes.
fn keystore_around(secret: [u8; 32], password: &str) -> Keystore {
    let salt = [7u8; 32];
    let iv = [8u8; 16];
    let mut dk = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), &salt, 16, &mut dk);
    let mut ct = secret;
    ctr::Ctr128BE::<Aes128>::new(dk[..16].into(), (&iv).into()).apply_keystream(&mut ct);
    let checksum = Sha256::new()
        .chain_update(&dk[16..])
        .chain_update(ct)
        .finalize();
    Keystore::from_json(
        &json!({
            "crypto": {
                "kdf": {"function": "pbkdf2", "params": {"dklen": 32, "c": 16, "prf": "hmac-sha256", "salt": hex::encode(salt)}, "message": ""},
                "checksum": {"function": "sha256", "params": {}, "message": hex::encode(checksum)},
                "cipher": {"function": "aes-128-ctr", "params": {"iv": hex::encode(iv)}, "message": hex::encode(ct)}
            },
            "pubkey": "", "path": "", "uuid": "64625def-3331-4eea-ab6f-782f3ed16a83", "version": 4
        })
        .to_string(),
    )
    .unwrap()
}

#[test]
fn secrets_outside_the_scalar_field_are_rejected() {
    for bad in [R, R + U256::from(1), U256::MAX, U256::ZERO] {
        let err = keystore_around(bad.to_be_bytes(), "pw")
            .decrypt("pw")
            .unwrap_err();
        assert!(matches!(err, KeystoreError::InvalidSecret), "{bad}: {err}");
    }
    let ok = R - U256::from(1);
    let secret = keystore_around(ok.to_be_bytes(), "pw")
        .decrypt("pw")
        .unwrap();
    assert_eq!(*secret.to_bytes(), ok.to_be_bytes::<32>());
}

#[test]
fn pubkey_field_is_checked_when_recognisable_and_never_blocks_a_correct_secret() {
    let secret = SecretKey::from_ikm(&[5; 32]);
    let other = SecretKey::from_ikm(&[6; 32]);
    let mut keystore = Keystore::encrypt(&secret, "pw", LIGHT, "").unwrap();

    keystore.pubkey = hex::encode(other.public_key().to_bytes());
    assert!(
        matches!(keystore.decrypt("pw"), Err(KeystoreError::PubkeyMismatch)),
        "wrong G2 key"
    );

    // Unrecognised or absent pubkeys do not stop a correct secret.
    for pubkey in ["", "abcd", "not hex"] {
        keystore.pubkey = pubkey.into();
        assert_eq!(
            *keystore.decrypt("pw").unwrap().to_bytes(),
            *secret.to_bytes(),
            "{pubkey:?}"
        );
    }
    // A G1 key of another secret is a mismatch too (the official vectors cover the match).
    let mut vector = keystore_around(*secret.to_bytes(), "pw");
    vector.pubkey = "9612d7a727c9d0a22e185a1c768478dfe919cada9266988cb32359c11f2b7b27f4ae4040902382ae2910c15e2b420d07".into();
    assert!(matches!(
        vector.decrypt("pw"),
        Err(KeystoreError::PubkeyMismatch)
    ));
}

#[test]
fn write_new_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let keystore = Keystore::encrypt(&SecretKey::from_ikm(&[1; 32]), "pw", LIGHT, "").unwrap();
    let path = keystore.write_new(dir.path()).unwrap();
    assert_eq!(Keystore::read(&path).unwrap(), keystore);
    match keystore.write_new(dir.path()) {
        Err(KeystoreError::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists),
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
}
