//! Encrypted ECDSA keys: the Web3 Secret Storage (version 3) JSON that geth, `cast wallet new`
//! and the EigenLayer CLI write for an operator's secp256k1 key. Same KDFs and cipher as
//! EIP-2335 (and the same validation before the KDF runs), with a keccak-256 MAC. The password
//! is used as given, not normalised: that is what the writers of these files do.

use alloy_primitives::keccak256;
use serde::Deserialize;
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use crate::keystore::{IV_LEN, KdfJob, KeystoreError, Module, aes_128_ctr, decode_hex, param_hex};

#[derive(Deserialize)]
struct V3 {
    version: u64,
    crypto: V3Crypto,
}

#[derive(Deserialize)]
struct V3Crypto {
    cipher: String,
    cipherparams: Map<String, Value>,
    ciphertext: String,
    kdf: String,
    kdfparams: Map<String, Value>,
    mac: String,
}

/// Decrypts a version-3 keystore: the 32-byte secret. A MAC mismatch is
/// [`KeystoreError::WrongPassword`].
///
/// # Errors
/// [`KeystoreError`] for malformed JSON, another version, unsupported or out-of-range
/// parameters, or a wrong password.
pub fn decrypt_v3(json: &str, password: &str) -> Result<Zeroizing<[u8; 32]>, KeystoreError> {
    let file: V3 = serde_json::from_str(json)?;
    if file.version != 3 {
        return Err(KeystoreError::Version(file.version));
    }
    let crypto = file.crypto;
    if crypto.cipher != "aes-128-ctr" {
        return Err(KeystoreError::UnsupportedFunction {
            module: "cipher",
            function: crypto.cipher,
        });
    }
    let iv = param_hex(&crypto.cipherparams, "iv")?;
    let iv: [u8; IV_LEN] = iv
        .as_slice()
        .try_into()
        .map_err(|_| KeystoreError::IvLength(iv.len()))?;
    let mut secret = Zeroizing::new(decode_hex(&crypto.ciphertext, "ciphertext")?);
    let mac = decode_hex(&crypto.mac, "mac")?;
    let kdf = KdfJob::parse(&Module {
        function: crypto.kdf,
        params: crypto.kdfparams,
        message: String::new(),
    })?;

    let key = kdf.derive(password.as_bytes());
    let mut preimage = Zeroizing::new(key[16..].to_vec());
    preimage.extend_from_slice(&secret);
    if keccak256(&*preimage).as_slice() != mac.as_slice() {
        return Err(KeystoreError::WrongPassword);
    }
    aes_128_ctr(&key, &iv, &mut secret);
    let secret: [u8; 32] = secret
        .as_slice()
        .try_into()
        .map_err(|_| KeystoreError::InvalidSecret)?;
    Ok(Zeroizing::new(secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Written by Foundry's `cast wallet new` (scrypt, n = 8192), password "correct horse";
    /// `cast wallet decrypt-keystore` gives the secret below.
    const CAST: &str = include_str!("../tests/fixtures/cast-keystore.json");
    const CAST_SECRET: &str = "811892e6939dec7303d9433c7b5035e1b0dcaf5d38d47e8bc63274b7dd4d0e6b";

    /// The Web3 Secret Storage definition's PBKDF2 test vector, password "testpassword".
    const SPEC_PBKDF2: &str = r#"{"crypto":{"cipher":"aes-128-ctr","cipherparams":{"iv":"6087dab2f9fdbbfaddc31a909735c1e6"},"ciphertext":"5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46","kdf":"pbkdf2","kdfparams":{"c":262144,"dklen":32,"prf":"hmac-sha256","salt":"ae3cd4e7013836a3df6bd7241b12db061dbe2c6785853cce422d148a624ce0bd"},"mac":"517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2"},"id":"3198bc9c-6672-5ab3-d995-4942343ae5b6","version":3}"#;
    const SPEC_SECRET: &str = "7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d";

    #[test]
    fn decrypts_what_foundry_and_the_spec_wrote() {
        let secret = decrypt_v3(CAST, "correct horse").unwrap();
        assert_eq!(hex::encode(*secret), CAST_SECRET);
        let secret = decrypt_v3(SPEC_PBKDF2, "testpassword").unwrap();
        assert_eq!(hex::encode(*secret), SPEC_SECRET);
    }

    #[test]
    fn refuses_a_wrong_password_and_bad_files() {
        assert!(matches!(
            decrypt_v3(CAST, "correct horse "),
            Err(KeystoreError::WrongPassword)
        ));
        assert!(matches!(
            decrypt_v3(
                &CAST.replace(r#""version":3"#, r#""version":4"#),
                "correct horse"
            ),
            Err(KeystoreError::Version(4))
        ));
        assert!(matches!(
            decrypt_v3(&CAST.replace("aes-128-ctr", "aes-128-cbc"), "correct horse"),
            Err(KeystoreError::UnsupportedFunction { .. })
        ));
        // A work factor that would exhaust memory is refused before the KDF runs.
        assert!(matches!(
            decrypt_v3(
                &CAST.replace(r#""n":8192"#, r#""n":1073741824"#),
                "correct horse"
            ),
            Err(KeystoreError::ScryptTooExpensive)
        ));
        assert!(matches!(decrypt_v3("{}", "x"), Err(KeystoreError::Json(_))));
    }
}
