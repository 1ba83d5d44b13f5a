//! The devnet's files. Each component gets a directory under the devnet datadir holding exactly
//! what a real deployment of it would have — its config file, keys and data — so any of them can
//! be stopped and restarted by hand with the command `devnet.json` names:
//!
//! ```text
//! <datadir>/
//!   devnet.json             what is running and where (written once everything is up)
//!   l1.json                 the L1 deployment (addresses)
//!   l2-genesis.json         the rollup's genesis
//!   operators/<i>/          operator.toml, keys/, data/, node.log
//!   aggregators/<j>/        aggregator.toml, submitter.key, data/, aggregator.log
//! ```

use std::{
    fmt::Write as _,
    net::SocketAddr,
    path::{Path, PathBuf},
};

use alloy::primitives::Address;
use eyre::WrapErr;
use serde::Serialize;
use surety_contracts::Deployment;
use surety_primitives::{Kdf, Keystore, SecretKey};

/// Password of every devnet keystore. Devnet keys are derived from public seeds anyway; the
/// keystores exist so the nodes load keys exactly as a real operator's node does.
const KEYSTORE_PASSWORD: &str = "surety-devnet";

pub(super) struct Layout {
    root: PathBuf,
}

impl Layout {
    /// Creates `root`, clearing what a previous run left: every run starts new chains, so old
    /// node state, signing histories and aggregator stores would only conflict with them.
    pub(super) fn fresh(root: &Path) -> eyre::Result<Self> {
        std::fs::create_dir_all(root).wrap_err_with(|| format!("creating {}", root.display()))?;
        let root = root
            .canonicalize()
            .wrap_err_with(|| format!("resolving {}", root.display()))?;
        for stale in ["operators", "aggregators", "operator", "genesis-check"] {
            let dir = root.join(stale);
            if dir.exists() {
                std::fs::remove_dir_all(&dir)
                    .wrap_err_with(|| format!("clearing {}", dir.display()))?;
            }
        }
        for stale in ["devnet.json", "l1.json", "l2-genesis.json"] {
            let file = root.join(stale);
            if file.exists() {
                std::fs::remove_file(&file)
                    .wrap_err_with(|| format!("removing {}", file.display()))?;
            }
        }
        Ok(Self { root })
    }

    pub(super) fn root(&self) -> &Path {
        &self.root
    }

    pub(super) fn deployment(&self) -> PathBuf {
        self.root.join("l1.json")
    }

    pub(super) fn genesis(&self) -> PathBuf {
        self.root.join("l2-genesis.json")
    }

    pub(super) fn operator_dir(&self, index: usize) -> PathBuf {
        self.root.join("operators").join(index.to_string())
    }

    pub(super) fn aggregator_dir(&self, index: usize) -> PathBuf {
        self.root.join("aggregators").join(index.to_string())
    }

    /// Writes operator `index`'s keystore, key files and `operator.toml`; returns the config path.
    pub(super) fn write_operator(
        &self,
        index: usize,
        node: &OperatorFiles<'_>,
    ) -> eyre::Result<PathBuf> {
        let dir = self.operator_dir(index);
        let keys = dir.join("keys");
        create(&keys)?;
        // PBKDF2 rather than the default scrypt: every devnet node unlocks its key at each
        // (re)start, and these keys protect nothing.
        let keystore = Keystore::encrypt(
            node.bls_key,
            KEYSTORE_PASSWORD,
            Kdf::Pbkdf2 { c: 1 << 16 },
            "",
        )?;
        write(&keys.join("bls.json"), &keystore.to_json())?;
        write(&keys.join("bls.password"), KEYSTORE_PASSWORD)?;
        write(
            &keys.join("l1.key"),
            &format!("0x{}\n", hex::encode(node.ecdsa_key)),
        )?;

        let mut toml = format!(
            "# Operator {index} of the devnet: `surety operator run --config {config}`.\n\
             datadir = {data:?}\n\
             http_addr = \"{http}\"\n\
             poll_interval_ms = 20\n\n\
             [l1]\nrpc = {l1:?}\ndeployment = {deployment:?}\n\n\
             [keys]\nbls_keystore = {keystore:?}\nbls_password_file = {password:?}\n\
             ecdsa_key_file = {ecdsa:?}\n",
            config = dir.join("operator.toml").display(),
            data = dir.join("data").display().to_string(),
            http = node.http,
            l1 = node.l1_rpc,
            deployment = self.deployment().display().to_string(),
            keystore = keys.join("bls.json").display().to_string(),
            password = keys.join("bls.password").display().to_string(),
            ecdsa = keys.join("l1.key").display().to_string(),
        );
        for url in node.aggregators {
            write!(toml, "\n[[aggregators]]\nurl = {url:?}\n")?;
        }
        // The devnet's L2 is anvil: it never reorgs, and it bends a few Ethereum rules.
        write!(
            toml,
            "\n[[rollups]]\nid = {id}\nrpc = {rpc:?}\ngenesis = {genesis:?}\nhardfork = \"prague\"\n\
             rules = \"anvil\"\nsign_at = \"latest\"\n",
            id = node.rollup_id,
            rpc = node.l2_rpc,
            genesis = self.genesis().display().to_string(),
        )?;
        let config = dir.join("operator.toml");
        write(&config, &toml)?;
        Ok(config)
    }

    /// Writes aggregator `index`'s submitter key and `aggregator.toml`; returns the config path.
    pub(super) fn write_aggregator(
        &self,
        index: usize,
        aggregator: &AggregatorFiles<'_>,
    ) -> eyre::Result<PathBuf> {
        let dir = self.aggregator_dir(index);
        create(&dir)?;
        let key = dir.join("submitter.key");
        write(
            &key,
            &format!("0x{}\n", hex::encode(aggregator.submitter_key)),
        )?;
        let config = dir.join("aggregator.toml");
        let toml = format!(
            "# Aggregator {index} of the devnet: `surety aggregator run --config {config}`.\n\
             datadir = {data:?}\n\
             grpc_addr = \"{grpc}\"\n\
             http_addr = \"{http}\"\n\n\
             [l1]\nrpc = {l1:?}\ndeployment = {deployment:?}\necdsa_key_file = {key:?}\n\
             poll_interval_ms = 100\n\n\
             [submit]\ncadence_blocks = 1\n\n\
             # The status page reads the rollup's head here.\n\
             [[rollups]]\nid = {rollup_id}\nrpc = {l2:?}\n",
            config = config.display(),
            data = dir.join("data").display().to_string(),
            grpc = aggregator.grpc,
            http = aggregator.http,
            l1 = aggregator.l1_rpc,
            deployment = self.deployment().display().to_string(),
            key = key.display().to_string(),
            rollup_id = aggregator.rollup_id,
            l2 = aggregator.l2_rpc,
        );
        write(&config, &toml)?;
        Ok(config)
    }

    /// Writes `devnet.json` atomically: a reader sees the old file or the whole new one.
    pub(super) fn write_manifest(&self, manifest: &Manifest) -> eyre::Result<PathBuf> {
        let path = self.root.join("devnet.json");
        let partial = self.root.join(".devnet.json.partial");
        write(&partial, &(serde_json::to_string_pretty(manifest)? + "\n"))?;
        std::fs::rename(&partial, &path)
            .wrap_err_with(|| format!("renaming {} into place", partial.display()))?;
        Ok(path)
    }
}

/// What an operator's files are made of.
pub(super) struct OperatorFiles<'a> {
    pub(super) bls_key: &'a SecretKey,
    pub(super) ecdsa_key: &'a [u8],
    pub(super) http: SocketAddr,
    pub(super) l1_rpc: &'a str,
    pub(super) l2_rpc: &'a str,
    pub(super) rollup_id: u64,
    pub(super) aggregators: &'a [String],
}

/// What an aggregator's files are made of.
pub(super) struct AggregatorFiles<'a> {
    pub(super) submitter_key: &'a [u8],
    pub(super) grpc: SocketAddr,
    pub(super) http: SocketAddr,
    pub(super) l1_rpc: &'a str,
    /// The rollup's own RPC (never the lying proxy): the status page's L2 head.
    pub(super) l2_rpc: &'a str,
    pub(super) rollup_id: u64,
}

fn create(dir: &Path) -> eyre::Result<()> {
    std::fs::create_dir_all(dir).wrap_err_with(|| format!("creating {}", dir.display()))
}

fn write(path: &Path, contents: &str) -> eyre::Result<()> {
    std::fs::write(path, contents).wrap_err_with(|| format!("writing {}", path.display()))
}

/// `devnet.json`: the running devnet, for scripts and users.
#[derive(Debug, Serialize)]
pub(super) struct Manifest {
    pub(super) l1: L1Entry,
    pub(super) rollups: Vec<RollupEntry>,
    pub(super) aggregators: Vec<ProcessEntry>,
    pub(super) operators: Vec<OperatorEntry>,
}

#[derive(Debug, Serialize)]
pub(super) struct L1Entry {
    pub(super) rpc: String,
    pub(super) chain_id: u64,
    pub(super) contracts: Contracts,
}

#[derive(Debug, Serialize)]
pub(super) struct Contracts {
    pub(super) verifier: Address,
    pub(super) registry: Address,
    pub(super) slasher: Address,
    pub(super) pool: Address,
    pub(super) registrar: Address,
}

impl From<&Deployment> for Contracts {
    fn from(d: &Deployment) -> Self {
        Self {
            verifier: d.surety.certificate_verifier,
            registry: d.surety.operator_registry,
            slasher: d.surety.slasher,
            pool: d.surety.compensation_pool,
            registrar: d.surety.registrar,
        }
    }
}

#[derive(Debug, Serialize)]
pub(super) struct RollupEntry {
    pub(super) id: u64,
    pub(super) chain_id: u64,
    pub(super) rpc: String,
    pub(super) root_source: Address,
    /// The example bridge: releases withdrawals on `isFinal`, pauses on an alert.
    pub(super) bridge: Address,
}

/// An aggregator process.
#[derive(Debug, Serialize)]
pub(super) struct ProcessEntry {
    pub(super) grpc: String,
    pub(super) http: String,
    pub(super) submitter: Address,
    pub(super) pid: u32,
    pub(super) config: PathBuf,
    pub(super) log: PathBuf,
}

/// An operator process.
#[derive(Debug, Serialize)]
pub(super) struct OperatorEntry {
    pub(super) address: Address,
    pub(super) public_key: String,
    pub(super) stake_wei: String,
    pub(super) http: String,
    pub(super) pid: u32,
    pub(super) config: PathBuf,
    pub(super) log: PathBuf,
    /// Run by the devnet's `--byzantine` fault instead of a node (no process, config or log).
    pub(super) byzantine: bool,
}
