//! `surety keys`: create, import and list the operator's BLS12-381 signing keys, stored as
//! EIP-2335 keystores in one directory (see `docs/crypto.md`).
//!
//! Passwords come from a file or an interactive prompt, never from the command line (argv is
//! visible to every local user and lands in shell history).

use std::{
    fs,
    path::{Path, PathBuf},
};

use clap::{Args, Subcommand};
use eyre::{WrapErr, bail, eyre};
use surety_primitives::{Kdf, Keystore, KeystoreError, SecretKey};
use tracing::{info, warn};
use zeroize::Zeroizing;

#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
    /// Generate a new random signing key and store it as an encrypted keystore.
    ///
    /// Prints the new 0x-hex compressed G2 public key on stdout.
    New(NewArgs),
    /// Import an EIP-2335 keystore (Surety's or an Ethereum one) into the keystore directory.
    ///
    /// The keystore is decrypted to check the password and the key, then stored with its
    /// original encryption and the Surety (G2) public key. Prints that public key on stdout.
    Import(ImportArgs),
    /// List the public keys in the keystore directory: one `0x<G2 public key> <file>` per line.
    List(ListArgs),
}

#[derive(Debug, Args)]
struct KeystoreDir {
    /// Directory holding the keystores.
    #[arg(long, value_name = "DIR", env = "SURETY_KEYSTORE_DIR", default_value_os_t = default_keystore_dir())]
    keystore_dir: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct NewArgs {
    #[command(flatten)]
    dir: KeystoreDir,
    /// File whose contents are the keystore password (a trailing newline is ignored). Without
    /// it, the password is prompted for twice on the terminal.
    #[arg(long, value_name = "FILE")]
    password_file: Option<PathBuf>,
    /// scrypt work factor n = 2^N. Lower values are only for tests.
    #[arg(long, value_name = "N", default_value_t = 18, hide = true,
          value_parser = clap::value_parser!(u8).range(10..=20))]
    scrypt_log_n: u8,
}

#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// The EIP-2335 keystore file to import.
    #[arg(long, value_name = "FILE")]
    keystore: PathBuf,
    /// File whose contents are the keystore's password (a trailing newline is ignored).
    /// Without it, the password is prompted for on the terminal.
    #[arg(long, value_name = "FILE")]
    password_file: Option<PathBuf>,
    #[command(flatten)]
    dir: KeystoreDir,
}

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    #[command(flatten)]
    dir: KeystoreDir,
}

fn default_keystore_dir() -> PathBuf {
    std::env::var_os("HOME")
        .map(|home| PathBuf::from(home).join(".surety").join("keystores"))
        .unwrap_or_else(|| PathBuf::from("keystores"))
}

pub(crate) fn run(command: KeysCommand) -> eyre::Result<()> {
    match command {
        KeysCommand::New(args) => new(args),
        KeysCommand::Import(args) => import(args),
        KeysCommand::List(args) => list(args),
    }
}

pub(crate) fn read_password_file(path: &Path) -> eyre::Result<Zeroizing<String>> {
    let bytes = Zeroizing::new(
        fs::read(path).wrap_err_with(|| format!("cannot read password file {}", path.display()))?,
    );
    let password = std::str::from_utf8(&bytes)
        .map_err(|_| eyre!("password file {} is not valid UTF-8", path.display()))?;
    Ok(Zeroizing::new(password.to_owned()))
}

fn prompt(message: &str) -> eyre::Result<Zeroizing<String>> {
    rpassword::prompt_password(message)
        .map(Zeroizing::new)
        .wrap_err("cannot prompt for a password (no terminal?); use --password-file")
}

fn new(args: NewArgs) -> eyre::Result<()> {
    let password = match &args.password_file {
        Some(path) => read_password_file(path)?,
        None => {
            let first = prompt("New keystore password: ")?;
            if *first != *prompt("Repeat password: ")? {
                bail!("passwords do not match");
            }
            first
        }
    };
    if surety_primitives::keystore::normalize_password(&password).is_empty() {
        bail!("the keystore password must not be empty");
    }
    let secret = SecretKey::random();
    let kdf = Kdf::Scrypt {
        log_n: args.scrypt_log_n,
        r: 8,
        p: 1,
    };
    let keystore = Keystore::encrypt(&secret, &password, kdf, "")?;
    let path = keystore
        .write_new(&args.dir.keystore_dir)
        .wrap_err_with(|| format!("cannot write to {}", args.dir.keystore_dir.display()))?;
    info!(path = %path.display(), "created keystore");
    println!("{}", secret.public_key());
    Ok(())
}

fn import(args: ImportArgs) -> eyre::Result<()> {
    let source = &args.keystore;
    let mut keystore = Keystore::read(source)
        .wrap_err_with(|| format!("cannot read keystore {}", source.display()))?;
    let password = match &args.password_file {
        Some(path) => read_password_file(path)?,
        None => prompt(&format!("Password for {}: ", source.display()))?,
    };
    let secret = keystore.decrypt(&password).map_err(|err| match err {
        KeystoreError::WrongPassword => eyre!("wrong password for keystore {}", source.display()),
        err => eyre!(err).wrap_err(format!("cannot decrypt keystore {}", source.display())),
    })?;
    let public_key = secret.public_key();
    // Keep the original encryption; record the Surety key so `list` needs no password.
    keystore.pubkey = hex::encode(public_key.to_bytes());
    let path = keystore
        .write_new(&args.dir.keystore_dir)
        .map_err(|err| match err {
            KeystoreError::Io(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                eyre!(
                    "key {public_key} is already in {}",
                    args.dir.keystore_dir.display()
                )
            }
            err => eyre!(err).wrap_err(format!(
                "cannot write to {}",
                args.dir.keystore_dir.display()
            )),
        })?;
    info!(path = %path.display(), "imported keystore");
    println!("{public_key}");
    Ok(())
}

fn list(args: ListArgs) -> eyre::Result<()> {
    let dir = &args.dir.keystore_dir;
    let mut paths: Vec<PathBuf> = fs::read_dir(dir)
        .wrap_err_with(|| format!("cannot read keystore directory {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    for path in paths {
        match Keystore::read(&path) {
            Ok(keystore) => match keystore.public_key() {
                Some(public_key) => println!("{public_key} {}", path.display()),
                None => {
                    warn!(path = %path.display(), "keystore has no Surety (G2) public key; import it with `surety keys import`")
                }
            },
            Err(err) => warn!(path = %path.display(), %err, "skipping unreadable keystore"),
        }
    }
    Ok(())
}
