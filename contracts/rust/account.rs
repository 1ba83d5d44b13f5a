//! The ECDSA key that sends an account's L1 transactions (registration, certificates, evidence,
//! cover and claims), from a file: a hex key on its first line, or an encrypted JSON keystore
//! (Web3 Secret Storage v3, as geth, `cast wallet new` and the EigenLayer CLI write them) with
//! its password in a second file. Keys never come from the command line.

use std::path::{Path, PathBuf};

use alloy::signers::local::PrivateKeySigner;
use surety_primitives::{KeystoreError, ecdsa_keystore::decrypt_v3};
use zeroize::Zeroizing;

/// Why the account key could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum AccountKeyError {
    #[error("reading {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is an encrypted keystore: give the file holding its password", path.display())]
    NoPassword { path: PathBuf },
    #[error("{}: {source}", path.display())]
    Keystore {
        path: PathBuf,
        source: KeystoreError,
    },
    #[error("{} holds neither a hex secp256k1 private key nor an encrypted keystore", path.display())]
    NotAKey { path: PathBuf },
}

/// Loads the key in `path`; `password_file` unlocks an encrypted keystore (its first line, as
/// typed: only the line ending is dropped).
///
/// # Errors
/// [`AccountKeyError`], naming the file.
pub fn load_signer(
    path: &Path,
    password_file: Option<&Path>,
) -> Result<PrivateKeySigner, AccountKeyError> {
    let read = |path: &Path| {
        std::fs::read_to_string(path)
            .map(Zeroizing::new)
            .map_err(|source| AccountKeyError::Read {
                path: path.to_owned(),
                source,
            })
    };
    let text = read(path)?;
    let not_a_key = || AccountKeyError::NotAKey {
        path: path.to_owned(),
    };
    let secret = if text.trim_start().starts_with('{') {
        let password_file = password_file.ok_or_else(|| AccountKeyError::NoPassword {
            path: path.to_owned(),
        })?;
        let password = read(password_file)?;
        let password = password.lines().next().unwrap_or_default();
        decrypt_v3(&text, password).map_err(|source| AccountKeyError::Keystore {
            path: path.to_owned(),
            source,
        })?
    } else {
        let line = text.lines().next().unwrap_or_default().trim();
        let mut secret = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(line.strip_prefix("0x").unwrap_or(line), &mut *secret)
            .map_err(|_| not_a_key())?;
        secret
    };
    PrivateKeySigner::from_slice(&*secret).map_err(|_| not_a_key())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "811892e6939dec7303d9433c7b5035e1b0dcaf5d38d47e8bc63274b7dd4d0e6b";
    /// `cast wallet new` with password "correct horse" (primitives' test fixture).
    const KEYSTORE: &str = include_str!("../../primitives/tests/fixtures/cast-keystore.json");
    const ADDRESS: &str = "0x1c5344C10d6CD2dC4A0ab7bF5eC2087C7a7aDbC8";

    #[test]
    fn hex_and_keystore_files_give_the_same_account() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        let hex = write("key.hex", &format!("0x{SECRET}\n"));
        let keystore = write("key.json", KEYSTORE);
        let password = write("password", "correct horse\n");
        let wrong = write("wrong", "correct horse \n");

        let from_hex = load_signer(&hex, None).unwrap();
        assert_eq!(from_hex.address().to_string(), ADDRESS);
        let from_keystore = load_signer(&keystore, Some(&password)).unwrap();
        assert_eq!(from_keystore.address(), from_hex.address());

        assert!(matches!(
            load_signer(&keystore, None),
            Err(AccountKeyError::NoPassword { .. })
        ));
        let err = load_signer(&keystore, Some(&wrong)).unwrap_err();
        assert!(err.to_string().contains("wrong password"), "{err}");
        assert!(matches!(
            load_signer(&write("junk", "not a key\n"), None),
            Err(AccountKeyError::NotAKey { .. })
        ));
        assert!(matches!(
            load_signer(&dir.path().join("missing"), None),
            Err(AccountKeyError::Read { .. })
        ));
    }
}
