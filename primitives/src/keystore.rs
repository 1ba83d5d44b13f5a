//! EIP-2335 keystores: a BLS secret encrypted under a password with scrypt or PBKDF2-SHA256,
//! AES-128-CTR and a SHA-256 checksum.
//!
//! Parsing is lenient about the JSON shape and strict about the cryptography: every parameter
//! is validated (with its own [`KeystoreError`]) before the expensive KDF runs, and nothing in
//! a keystore can make this module panic or allocate without bound.
//!
//! The `pubkey` field: EIP-2335's own vectors (and Ethereum validator keystores) carry the
//! min-pk G1 key `sk·g1` (48 bytes); Surety keystores carry the min-sig G2 key (96 bytes).
//! Decryption checks whichever of the two is present and ignores a field it does not recognise:
//! the checksum, not the pubkey, authenticates the secret, so a correct secret is never
//! rejected because of its pubkey's format.

use crate::bls::{PublicKey, SecretKey};
use aes::Aes128;
use ctr::cipher::{KeyIvInit, StreamCipher};
use rand::{RngCore, rngs::OsRng};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::{
    fs,
    io::{self, Write},
    path::{Path, PathBuf},
};
use thiserror::Error;
use unicode_normalization::UnicodeNormalization;
use uuid::Uuid;
use zeroize::Zeroizing;

const VERSION: u64 = 4;
const DKLEN: u64 = 32;
const MIN_SALT_LEN: usize = 16;
pub(crate) const IV_LEN: usize = 16;
/// scrypt needs `128·r·n` bytes; above this a keystore is rejected instead of exhausting memory.
const MAX_SCRYPT_MEMORY: u64 = 2 << 30;

/// Why a keystore cannot be read, created or decrypted.
#[derive(Debug, Error)]
pub enum KeystoreError {
    #[error("keystore is not valid EIP-2335 JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("unsupported keystore version {0} (expected 4)")]
    Version(u64),
    #[error("unsupported {module} function {function:?}")]
    UnsupportedFunction {
        module: &'static str,
        function: String,
    },
    #[error("missing or malformed keystore parameter {0:?}")]
    MissingParam(&'static str),
    #[error("invalid hex in {0}")]
    InvalidHex(&'static str),
    #[error("scrypt n must be a power of two greater than 1, got {0}")]
    ScryptN(u64),
    #[error("scrypt parameters need more than 2 GiB of memory or are out of range")]
    ScryptTooExpensive,
    #[error("PBKDF2 iteration count must be positive")]
    Pbkdf2Count,
    #[error("kdf dklen must be 32, got {0}")]
    DkLen(u64),
    #[error("kdf salt must be at least 16 bytes, got {0}")]
    SaltTooShort(usize),
    #[error("cipher IV must be 16 bytes, got {0}")]
    IvLength(usize),
    #[error("wrong password (keystore checksum mismatch)")]
    WrongPassword,
    #[error(
        "decrypted secret is not a BLS12-381 secret key (must be 32 bytes, non-zero, below the group order)"
    )]
    InvalidSecret,
    #[error("keystore pubkey does not match the decrypted secret")]
    PubkeyMismatch,
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Key-derivation function and work factor for new keystores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kdf {
    /// scrypt with `n = 2^log_n`.
    Scrypt { log_n: u8, r: u32, p: u32 },
    /// PBKDF2-HMAC-SHA256 with `c` iterations.
    Pbkdf2 { c: u32 },
}

impl Default for Kdf {
    /// scrypt, n = 2^18, r = 8, p = 1 (EIP-2335's example parameters: ~256 MiB, ~1 s).
    fn default() -> Self {
        Self::Scrypt {
            log_n: 18,
            r: 8,
            p: 1,
        }
    }
}

/// One EIP-2335 module: a function, its parameters and its message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Module {
    pub function: String,
    #[serde(default)]
    pub params: Map<String, Value>,
    #[serde(default)]
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Crypto {
    pub kdf: Module,
    pub checksum: Module,
    pub cipher: Module,
}

/// An EIP-2335 (version 4) keystore file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Keystore {
    pub crypto: Crypto,
    #[serde(default)]
    pub description: String,
    /// Hex public key without `0x`; see the module docs for G1 vs G2.
    #[serde(default)]
    pub pubkey: String,
    #[serde(default)]
    pub path: String,
    pub uuid: Uuid,
    pub version: u64,
}

/// The password bytes EIP-2335 feeds the KDF: NFKD-normalised, C0 (U+0000–U+001F), DEL
/// (U+007F) and C1 (U+0080–U+009F) control characters removed, UTF-8 encoded. A trailing
/// newline in a password file is therefore ignored.
pub fn normalize_password(password: &str) -> Zeroizing<Vec<u8>> {
    let normalized: Zeroizing<String> = Zeroizing::new(
        password
            .nfkd()
            .filter(|c| !matches!(*c as u32, 0x00..=0x1f | 0x7f..=0x9f))
            .collect(),
    );
    Zeroizing::new(normalized.as_bytes().to_vec())
}

fn param_u64(params: &Map<String, Value>, name: &'static str) -> Result<u64, KeystoreError> {
    params
        .get(name)
        .and_then(Value::as_u64)
        .ok_or(KeystoreError::MissingParam(name))
}

pub(crate) fn param_hex(
    params: &Map<String, Value>,
    name: &'static str,
) -> Result<Vec<u8>, KeystoreError> {
    let s = params
        .get(name)
        .and_then(Value::as_str)
        .ok_or(KeystoreError::MissingParam(name))?;
    decode_hex(s, name)
}

pub(crate) fn decode_hex(s: &str, field: &'static str) -> Result<Vec<u8>, KeystoreError> {
    hex::decode(s.strip_prefix("0x").unwrap_or(s)).map_err(|_| KeystoreError::InvalidHex(field))
}

/// A validated KDF, ready to run.
pub(crate) enum KdfJob {
    Scrypt {
        params: scrypt::Params,
        salt: Vec<u8>,
    },
    Pbkdf2 {
        c: u32,
        salt: Vec<u8>,
    },
}

impl KdfJob {
    pub(crate) fn parse(module: &Module) -> Result<Self, KeystoreError> {
        let params = &module.params;
        let dklen = param_u64(params, "dklen")?;
        if dklen != DKLEN {
            return Err(KeystoreError::DkLen(dklen));
        }
        let salt = param_hex(params, "salt")?;
        if salt.len() < MIN_SALT_LEN {
            return Err(KeystoreError::SaltTooShort(salt.len()));
        }
        match module.function.as_str() {
            "scrypt" => {
                let n = param_u64(params, "n")?;
                if n < 2 || !n.is_power_of_two() {
                    return Err(KeystoreError::ScryptN(n));
                }
                let r = param_u64(params, "r")?;
                let p = param_u64(params, "p")?;
                let memory = 128u64.checked_mul(r).and_then(|m| m.checked_mul(n));
                if memory.is_none_or(|m| m > MAX_SCRYPT_MEMORY) {
                    return Err(KeystoreError::ScryptTooExpensive);
                }
                let (r, p) = (
                    u32::try_from(r).map_err(|_| KeystoreError::ScryptTooExpensive)?,
                    u32::try_from(p).map_err(|_| KeystoreError::ScryptTooExpensive)?,
                );
                let params = scrypt::Params::new(n.trailing_zeros() as u8, r, p, DKLEN as usize)
                    .map_err(|_| KeystoreError::ScryptTooExpensive)?;
                Ok(Self::Scrypt { params, salt })
            }
            "pbkdf2" => {
                let prf = params.get("prf").and_then(Value::as_str);
                if prf != Some("hmac-sha256") {
                    return Err(KeystoreError::UnsupportedFunction {
                        module: "pbkdf2 prf",
                        function: prf.unwrap_or_default().to_owned(),
                    });
                }
                let c = u32::try_from(param_u64(params, "c")?)
                    .ok()
                    .filter(|&c| c > 0)
                    .ok_or(KeystoreError::Pbkdf2Count)?;
                Ok(Self::Pbkdf2 { c, salt })
            }
            other => Err(KeystoreError::UnsupportedFunction {
                module: "kdf",
                function: other.to_owned(),
            }),
        }
    }

    pub(crate) fn derive(&self, password: &[u8]) -> Zeroizing<[u8; 32]> {
        let mut key = Zeroizing::new([0u8; 32]);
        match self {
            Self::Scrypt { params, salt } => {
                scrypt::scrypt(password, salt, params, key.as_mut())
                    .expect("output length 32 is valid for scrypt");
            }
            Self::Pbkdf2 { c, salt } => {
                pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, *c, key.as_mut());
            }
        }
        key
    }
}

fn checksum(decryption_key: &[u8; 32], cipher_message: &[u8]) -> [u8; 32] {
    Sha256::new()
        .chain_update(&decryption_key[16..])
        .chain_update(cipher_message)
        .finalize()
        .into()
}

pub(crate) fn aes_128_ctr(decryption_key: &[u8; 32], iv: &[u8; IV_LEN], data: &mut [u8]) {
    let key: &[u8; 16] = decryption_key[..16].try_into().expect("16 of 32 bytes");
    ctr::Ctr128BE::<Aes128>::new(key.into(), iv.into()).apply_keystream(data);
}

impl Keystore {
    /// Encrypts `secret` under `password` with a fresh random salt, IV and UUID. The `pubkey`
    /// field is the compressed G2 key.
    pub fn encrypt(
        secret: &SecretKey,
        password: &str,
        kdf: Kdf,
        path: &str,
    ) -> Result<Self, KeystoreError> {
        let mut salt = [0u8; 32];
        let mut iv = [0u8; IV_LEN];
        OsRng.fill_bytes(&mut salt);
        OsRng.fill_bytes(&mut iv);
        let kdf_module = match kdf {
            Kdf::Scrypt { log_n, r, p } => {
                let n = 1u64
                    .checked_shl(log_n.into())
                    .ok_or(KeystoreError::ScryptTooExpensive)?;
                Module {
                    function: "scrypt".into(),
                    params: object([
                        ("dklen", json!(DKLEN)),
                        ("n", json!(n)),
                        ("r", json!(r)),
                        ("p", json!(p)),
                        ("salt", json!(hex::encode(salt))),
                    ]),
                    message: String::new(),
                }
            }
            Kdf::Pbkdf2 { c } => Module {
                function: "pbkdf2".into(),
                params: object([
                    ("dklen", json!(DKLEN)),
                    ("c", json!(c)),
                    ("prf", json!("hmac-sha256")),
                    ("salt", json!(hex::encode(salt))),
                ]),
                message: String::new(),
            },
        };
        let decryption_key = KdfJob::parse(&kdf_module)?.derive(&normalize_password(password));
        let mut ciphertext = secret.to_bytes();
        aes_128_ctr(&decryption_key, &iv, ciphertext.as_mut());
        Ok(Self {
            crypto: Crypto {
                kdf: kdf_module,
                checksum: Module {
                    function: "sha256".into(),
                    params: Map::new(),
                    message: hex::encode(checksum(&decryption_key, ciphertext.as_ref())),
                },
                cipher: Module {
                    function: "aes-128-ctr".into(),
                    params: object([("iv", json!(hex::encode(iv)))]),
                    message: hex::encode(ciphertext.as_ref()),
                },
            },
            description: "Surety BLS12-381 (min-sig) signing key".into(),
            pubkey: hex::encode(secret.public_key().to_bytes()),
            path: path.to_owned(),
            uuid: Uuid::new_v4(),
            version: VERSION,
        })
    }

    /// Decrypts the secret. All parameters are validated before the KDF runs; a checksum
    /// mismatch is [`KeystoreError::WrongPassword`].
    pub fn decrypt(&self, password: &str) -> Result<SecretKey, KeystoreError> {
        if self.version != VERSION {
            return Err(KeystoreError::Version(self.version));
        }
        let crypto = &self.crypto;
        if crypto.checksum.function != "sha256" {
            return Err(KeystoreError::UnsupportedFunction {
                module: "checksum",
                function: crypto.checksum.function.clone(),
            });
        }
        if crypto.cipher.function != "aes-128-ctr" {
            return Err(KeystoreError::UnsupportedFunction {
                module: "cipher",
                function: crypto.cipher.function.clone(),
            });
        }
        let iv = param_hex(&crypto.cipher.params, "iv")?;
        let iv: [u8; IV_LEN] = iv
            .as_slice()
            .try_into()
            .map_err(|_| KeystoreError::IvLength(iv.len()))?;
        let mut secret = Zeroizing::new(decode_hex(&crypto.cipher.message, "cipher message")?);
        let expected = decode_hex(&crypto.checksum.message, "checksum message")?;
        let kdf = KdfJob::parse(&crypto.kdf)?;

        let decryption_key = kdf.derive(&normalize_password(password));
        if checksum(&decryption_key, &secret) != expected.as_slice() {
            return Err(KeystoreError::WrongPassword);
        }
        aes_128_ctr(&decryption_key, &iv, &mut secret);
        let secret = SecretKey::from_bytes(&secret).map_err(|_| KeystoreError::InvalidSecret)?;
        self.check_pubkey(&secret)?;
        Ok(secret)
    }

    /// Checks a recognisable `pubkey` against the secret (see the module docs).
    fn check_pubkey(&self, secret: &SecretKey) -> Result<(), KeystoreError> {
        let Ok(stored) = decode_hex(&self.pubkey, "pubkey") else {
            return Ok(());
        };
        let matches = match stored.len() {
            PublicKey::COMPRESSED_LEN => stored == secret.public_key().to_bytes(),
            48 => stored == secret.min_pk_public_key(),
            _ => true,
        };
        if matches {
            Ok(())
        } else {
            Err(KeystoreError::PubkeyMismatch)
        }
    }

    /// The G2 public key recorded in the `pubkey` field, if it holds one (no password needed).
    pub fn public_key(&self) -> Option<PublicKey> {
        decode_hex(&self.pubkey, "pubkey")
            .ok()
            .and_then(|b| PublicKey::from_bytes(&b).ok())
    }

    pub fn from_json(json: &str) -> Result<Self, KeystoreError> {
        Ok(serde_json::from_str(json)?)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a keystore serialises to JSON")
    }

    pub fn read(path: &Path) -> Result<Self, KeystoreError> {
        Self::from_json(&fs::read_to_string(path)?)
    }

    /// Writes the keystore into `dir` as `keystore-<pubkey prefix>.json`, never overwriting:
    /// the same key twice is an [`io::ErrorKind::AlreadyExists`] error.
    pub fn write_new(&self, dir: &Path) -> Result<PathBuf, KeystoreError> {
        fs::create_dir_all(dir)?;
        let prefix = self.pubkey.get(..24).unwrap_or(&self.pubkey);
        let path = dir.join(format!("keystore-{prefix}.json"));
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)?;
        file.write_all(self.to_json().as_bytes())?;
        file.sync_all()?;
        Ok(path)
    }
}

fn object<const N: usize>(entries: [(&str, Value); N]) -> Map<String, Value> {
    entries
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
}
