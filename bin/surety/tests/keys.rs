//! `surety keys` end to end through the real binary: new, list, import (including an official
//! EIP-2335 vector whose pubkey is G1) and the wrong-password exit code.

use std::{
    path::Path,
    process::{Command, Output},
};
use surety_primitives::{Keystore, SecretKey};

const PASSWORD: &str = "\u{1d531}\u{1d522}\u{1d530}\u{1d531}\u{1d52d}\u{1d51e}\u{1d530}\u{1d530}\u{1d534}\u{1d52c}\u{1d52f}\u{1d521}\u{1f511}";
const SECRET: &str = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f";
/// The PBKDF2 test vector of EIP-2335.
const PBKDF2_VECTOR: &str = r#"{"crypto": {"kdf": {"function": "pbkdf2", "params": {"dklen": 32, "c": 262144, "prf": "hmac-sha256", "salt": "d4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3"}, "message": ""}, "checksum": {"function": "sha256", "params": {}, "message": "8a9f5d9912ed7e75ea794bc5a89bca5f193721d30868ade6f73043c6ea6febf1"}, "cipher": {"function": "aes-128-ctr", "params": {"iv": "264daa3f303d7259501c93d997d84fe6"}, "message": "cee03fde2af33149775b7223e7845e4fb2c8ae1792e5f99fe9ecf474cc8c16ad"}}, "description": "This is a test keystore that uses PBKDF2 to secure the secret.", "pubkey": "9612d7a727c9d0a22e185a1c768478dfe919cada9266988cb32359c11f2b7b27f4ae4040902382ae2910c15e2b420d07", "path": "m/12381/60/0/0", "uuid": "64625def-3331-4eea-ab6f-782f3ed16a83", "version": 4}"#;

fn surety(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_surety"))
        .args(args)
        .env_remove("SURETY_KEYSTORE_DIR")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run surety")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "surety failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn new_list_import_and_wrong_password() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("keys");
    let password_file = tmp.path().join("password");
    std::fs::write(&password_file, "correct horse\n").unwrap();

    // new: one G2 key on stdout, one keystore in the directory that decrypts to it.
    let out = surety(&[
        "keys",
        "new",
        "--keystore-dir",
        path_str(&dir),
        "--password-file",
        path_str(&password_file),
        "--scrypt-log-n",
        "10",
    ]);
    let new_key = stdout(&out).trim().to_owned();
    assert!(
        new_key.starts_with("0x") && new_key.len() == 2 + 192,
        "{new_key}"
    );
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    let secret = Keystore::read(&files[0])
        .unwrap()
        .decrypt("correct horse")
        .unwrap();
    assert_eq!(secret.public_key().to_string(), new_key);

    // import the official EIP-2335 vector (its pubkey is the G1 key of the same secret).
    let vector = tmp.path().join("vector.json");
    std::fs::write(&vector, PBKDF2_VECTOR).unwrap();
    let vector_password = tmp.path().join("vector-password");
    std::fs::write(&vector_password, PASSWORD).unwrap();
    let expected = SecretKey::from_bytes(&hex::decode(SECRET).unwrap())
        .unwrap()
        .public_key()
        .to_string();
    let import = |password: &Path| {
        surety(&[
            "keys",
            "import",
            "--keystore",
            path_str(&vector),
            "--password-file",
            path_str(password),
            "--keystore-dir",
            path_str(&dir),
        ])
    };
    assert_eq!(stdout(&import(&vector_password)).trim(), expected);

    // list: both keys, each with its file.
    let listed = stdout(&surety(&["keys", "list", "--keystore-dir", path_str(&dir)]));
    let mut keys: Vec<&str> = listed
        .lines()
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    keys.sort_unstable();
    let mut want = vec![new_key.as_str(), expected.as_str()];
    want.sort_unstable();
    assert_eq!(keys, want);

    // Importing the same key again is refused.
    let again = import(&vector_password);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already"),
        "{again:?}"
    );

    // A wrong password exits non-zero with a clear message and writes nothing.
    let other_dir = tmp.path().join("other");
    let wrong = surety(&[
        "keys",
        "import",
        "--keystore",
        path_str(&vector),
        "--password-file",
        path_str(&password_file),
        "--keystore-dir",
        path_str(&other_dir),
    ]);
    assert!(!wrong.status.success());
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("wrong password"),
        "{wrong:?}"
    );
    assert!(!other_dir.exists());
}

#[test]
fn help_documents_every_keys_command() {
    let help = stdout(&surety(&["keys", "--help"]));
    for command in ["new", "import", "list"] {
        assert!(help.contains(command), "{help}");
    }
    let import_help = stdout(&surety(&["keys", "import", "--help"]));
    assert!(import_help.contains("--password-file") && import_help.contains("--keystore-dir"));
    assert!(
        !import_help.contains("--password "),
        "passwords are never taken from argv"
    );
}
