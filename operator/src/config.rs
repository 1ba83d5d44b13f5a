//! `surety operator run --config FILE`: the node's TOML configuration, validated at load.
//!
//! Every error names the key and the problem; unknown keys are refused, so a typo never silently
//! falls back to a default. `config/operator.example.toml` documents every key.

use std::{
    collections::BTreeSet,
    net::SocketAddr,
    path::{Path, PathBuf},
    str::FromStr,
    time::Duration,
};

use alloy_hardforks::EthereumHardfork;
use alloy_primitives::Address;
use serde::{Deserialize, de};
pub use surety_primitives::config::ConfigError;
use surety_primitives::config::{ConfigFile, Invalid, check_url, invalid, millis, resolve};

use crate::{execution::RuleSet, node::StorageSpec};

/// The whole node configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorConfig {
    /// Where the node keeps its state, signing history and outbox (created if missing).
    pub datadir: PathBuf,
    /// Serves `/metrics` (Prometheus), `/status` and the EigenLayer node API (`/eigen/node`) here.
    pub http_addr: Option<SocketAddr>,
    /// How often each rollup's RPC is asked for its head, in milliseconds: a block is seen, and
    /// signed, up to this long after it appears.
    #[serde(default = "default_poll_interval_ms")]
    pub poll_interval_ms: u64,
    pub l1: L1Config,
    pub keys: KeysConfig,
    #[serde(default)]
    pub aggregators: Vec<AggregatorConfig>,
    pub rollups: Vec<RollupConfig>,
    #[serde(default)]
    pub delivery: DeliveryConfig,
    #[serde(default)]
    pub storage: StorageConfig,
}

/// The L1 with Surety's contracts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct L1Config {
    pub rpc: String,
    /// An addresses file as `surety devnet deploy` writes it (`l1.json`); or give the two
    /// addresses below.
    pub deployment: Option<PathBuf>,
    pub certificate_verifier: Option<Address>,
    pub operator_registry: Option<Address>,
    /// With explicit addresses: the `Slasher`, which the watchtower needs (read from
    /// `deployment` otherwise).
    pub slasher: Option<Address>,
}

/// The operator's keys. Secrets only ever come from files, never from the command line.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeysConfig {
    /// EIP-2335 keystore of the BLS signing key.
    pub bls_keystore: PathBuf,
    /// File holding the keystore's password (first line).
    pub bls_password_file: PathBuf,
    /// The secp256k1 key that sends the operator's L1 transactions (registration, watchtower):
    /// a file holding the hex key, or an encrypted JSON keystore (geth, `cast wallet new`, the
    /// EigenLayer CLI). Separate from the BLS key.
    pub ecdsa_key_file: Option<PathBuf>,
    /// The keystore's password (first line), when `ecdsa_key_file` is encrypted.
    pub ecdsa_password_file: Option<PathBuf>,
}

/// One aggregator every attestation is delivered to.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AggregatorConfig {
    /// gRPC endpoint, e.g. `http://127.0.0.1:50051`.
    pub url: String,
}

/// Delivery tuning (all optional).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeliveryConfig {
    /// Attestations per `SubmitAttestations` call.
    pub batch_size: usize,
    /// Retry backoff doubles from 100 ms up to this bound.
    #[serde(with = "millis")]
    pub max_backoff_ms: Duration,
    /// Deadline of one gRPC call.
    #[serde(with = "millis")]
    pub timeout_ms: Duration,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            batch_size: 256,
            max_backoff_ms: Duration::from_secs(5),
            timeout_ms: Duration::from_secs(5),
        }
    }
}

/// The state stores (all optional).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// redb's page cache of each rollup's state store, in MiB.
    pub cache_mib: u64,
    /// Prune each rollup's undo journal, old headers, evidence and signing history below the
    /// safe height (certified on L1 or finalized on the L2) minus `retention`.
    pub prune: bool,
    /// Blocks kept below the safe height.
    pub retention: u64,
}

impl Default for StorageConfig {
    fn default() -> Self {
        let spec = StorageSpec::default();
        Self {
            cache_mib: (spec.cache_bytes >> 20) as u64,
            prune: spec.prune,
            retention: spec.retention,
        }
    }
}

impl StorageConfig {
    /// The node's storage settings.
    pub fn spec(&self) -> StorageSpec {
        StorageSpec {
            // Validated at load to at most 64 GiB.
            cache_bytes: (self.cache_mib as usize) << 20,
            prune: self.prune,
            retention: self.retention,
        }
    }
}

/// One followed rollup.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RollupConfig {
    /// The Surety rollup id (from the `CertificateVerifier`).
    pub id: u64,
    /// JSON-RPC endpoint of the rollup.
    pub rpc: String,
    /// The rollup's geth-style genesis file.
    pub genesis: PathBuf,
    /// The rollup's hardfork: every fork up to it is active from genesis.
    #[serde(default = "default_hardfork", deserialize_with = "hardfork")]
    pub hardfork: EthereumHardfork,
    /// The rules its blocks follow: `"ethereum"` (the specification) or `"anvil"` (a chain run
    /// by anvil, with its state quirks).
    #[serde(default)]
    pub rules: RuleSet,
    /// Which blocks may be signed: `"latest"`, `"safe"`, `"finalized"`, or a number of
    /// confirmations below the latest block.
    #[serde(default)]
    pub sign_at: SignAt,
}

/// The finality policy of a rollup: the head at or below which verified blocks are signed.
///
/// A signed root that later differs from the canonical root at that height is slashable, even
/// if the block was simply reorged away. `latest` signs what the sequencer produced a moment ago:
/// the fastest, and exposed to every sequencer reorg. `safe`/`finalized` wait for the L2's own
/// notion of settledness; `N` confirmations is the middle ground.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignAt {
    Latest,
    Safe,
    Finalized,
    Confirmations(u64),
}

impl Default for SignAt {
    fn default() -> Self {
        Self::Confirmations(2)
    }
}

impl FromStr for SignAt {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "latest" => Ok(Self::Latest),
            "safe" => Ok(Self::Safe),
            "finalized" => Ok(Self::Finalized),
            n => n.parse().map(Self::Confirmations).map_err(|_| {
                format!(
                    "expected \"latest\", \"safe\", \"finalized\" or a number of confirmations, \
                     got {n:?}"
                )
            }),
        }
    }
}

impl std::fmt::Display for SignAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Latest => f.write_str("latest"),
            Self::Safe => f.write_str("safe"),
            Self::Finalized => f.write_str("finalized"),
            Self::Confirmations(n) => write!(f, "{n} confirmations"),
        }
    }
}

impl<'de> Deserialize<'de> for SignAt {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Name(String),
            Confirmations(u64),
        }
        match Raw::deserialize(d)? {
            Raw::Name(name) => name.parse().map_err(de::Error::custom),
            Raw::Confirmations(n) => Ok(Self::Confirmations(n)),
        }
    }
}

const fn default_poll_interval_ms() -> u64 {
    250
}

const fn default_hardfork() -> EthereumHardfork {
    EthereumHardfork::Prague
}

fn hardfork<'de, D: de::Deserializer<'de>>(d: D) -> Result<EthereumHardfork, D::Error> {
    let name = String::deserialize(d)?;
    name.parse()
        .map_err(|_| de::Error::custom(format!("unknown hardfork {name:?}")))
}

impl ConfigFile for OperatorConfig {
    fn resolve_paths(&mut self, base: &Path) {
        resolve(base, &mut self.datadir);
        if let Some(p) = &mut self.l1.deployment {
            resolve(base, p);
        }
        resolve(base, &mut self.keys.bls_keystore);
        resolve(base, &mut self.keys.bls_password_file);
        for p in [
            &mut self.keys.ecdsa_key_file,
            &mut self.keys.ecdsa_password_file,
        ]
        .into_iter()
        .flatten()
        {
            resolve(base, p);
        }
        for rollup in &mut self.rollups {
            resolve(base, &mut rollup.genesis);
        }
    }

    fn validate(&self) -> Result<(), Invalid> {
        check_url("l1.rpc", &self.l1.rpc)?;
        if !(10..=60_000).contains(&self.poll_interval_ms) {
            return invalid("poll_interval_ms", "must be between 10 and 60000");
        }
        match (
            &self.l1.deployment,
            self.l1.certificate_verifier,
            self.l1.operator_registry,
        ) {
            (Some(_), None, None) | (None, Some(_), Some(_)) => {}
            _ => {
                return invalid(
                    "l1",
                    "give either `deployment` (an addresses file) or both \
                     `certificate_verifier` and `operator_registry`",
                );
            }
        }
        if self.rollups.is_empty() {
            return invalid("rollups", "at least one `[[rollups]]` entry is required");
        }
        let mut ids = BTreeSet::new();
        for (i, rollup) in self.rollups.iter().enumerate() {
            if !ids.insert(rollup.id) {
                return invalid(
                    &format!("rollups[{i}].id"),
                    &format!("rollup {} is configured twice", rollup.id),
                );
            }
            if rollup.id == 0 {
                return invalid(&format!("rollups[{i}].id"), "rollup ids start at 1");
            }
            check_url(&format!("rollups[{i}].rpc"), &rollup.rpc)?;
        }
        let mut urls = BTreeSet::new();
        for (i, aggregator) in self.aggregators.iter().enumerate() {
            check_url(&format!("aggregators[{i}].url"), &aggregator.url)?;
            if !urls.insert(&aggregator.url) {
                return invalid(
                    &format!("aggregators[{i}].url"),
                    "the same aggregator is configured twice",
                );
            }
        }
        if !(1..=1024).contains(&self.delivery.batch_size) {
            return invalid("delivery.batch_size", "must be between 1 and 1024");
        }
        if self.delivery.max_backoff_ms < Duration::from_millis(100) {
            return invalid("delivery.max_backoff_ms", "must be at least 100");
        }
        if self.delivery.timeout_ms.is_zero() {
            return invalid("delivery.timeout_ms", "must be positive");
        }
        if !(16..=65_536).contains(&self.storage.cache_mib) {
            return invalid("storage.cache_mib", "must be between 16 and 65536 (MiB)");
        }
        if self.storage.retention > 1_000_000 {
            return invalid("storage.retention", "must be at most 1000000 blocks");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
        datadir = "data"
        [l1]
        rpc = "http://127.0.0.1:8545"
        deployment = "l1.json"
        [keys]
        bls_keystore = "keys/bls.json"
        bls_password_file = "keys/bls.pass"
        [[aggregators]]
        url = "http://127.0.0.1:50051"
        [[rollups]]
        id = 1
        rpc = "http://127.0.0.1:9545"
        genesis = "genesis.json"
    "#;

    fn load(text: &str) -> Result<OperatorConfig, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("operator.toml");
        std::fs::write(&path, text).unwrap();
        OperatorConfig::load(&path)
    }

    #[test]
    fn defaults_and_relative_paths() {
        let config = load(MINIMAL).unwrap();
        let rollup = &config.rollups[0];
        assert_eq!(rollup.sign_at, SignAt::Confirmations(2));
        assert_eq!(rollup.hardfork, EthereumHardfork::Prague);
        assert_eq!(rollup.rules, RuleSet::Ethereum);
        assert!(config.datadir.is_absolute());
        assert!(rollup.genesis.ends_with("genesis.json") && rollup.genesis.is_absolute());
        assert_eq!(config.delivery.batch_size, 256);
        assert_eq!(config.storage.spec(), StorageSpec::default());
        assert_eq!(config.storage.spec().cache_bytes, 256 << 20);
    }

    #[test]
    fn storage_keys() {
        let text = format!("{MINIMAL}\n[storage]\ncache_mib = 64\nprune = false\nretention = 10\n");
        let spec = load(&text).unwrap().storage.spec();
        assert_eq!(
            spec,
            StorageSpec {
                cache_bytes: 64 << 20,
                prune: false,
                retention: 10
            }
        );
    }

    #[test]
    fn sign_at_takes_names_and_numbers() {
        for (value, expected) in [
            ("\"latest\"", SignAt::Latest),
            ("\"safe\"", SignAt::Safe),
            ("\"finalized\"", SignAt::Finalized),
            ("12", SignAt::Confirmations(12)),
        ] {
            let text = MINIMAL.replace(
                "genesis = \"genesis.json\"",
                &format!("genesis = \"genesis.json\"\nsign_at = {value}"),
            );
            assert_eq!(load(&text).unwrap().rollups[0].sign_at, expected);
        }
    }

    #[test]
    fn the_example_file_is_valid() {
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/operator.example.toml");
        let config = OperatorConfig::load(&example).unwrap();
        assert_eq!(config.rollups[0].sign_at, SignAt::Confirmations(2));
        assert_eq!(config.aggregators.len(), 1);
        assert_eq!(config.storage.spec(), StorageSpec::default());
    }

    #[test]
    fn errors_name_the_key() {
        let cases = [
            (
                MINIMAL.replace("datadir", "data_dir"),
                "unknown field `data_dir`",
            ),
            (
                MINIMAL.replace("\"http://127.0.0.1:9545\"", "\"127.0.0.1:9545\""),
                "`rollups[0].rpc`",
            ),
            (
                MINIMAL.replace("deployment = \"l1.json\"", ""),
                "`l1`: give either",
            ),
            (
                MINIMAL.replace(
                    "genesis = \"genesis.json\"",
                    "genesis = \"g\"\nsign_at = \"soon\"",
                ),
                "expected \"latest\"",
            ),
            (
                MINIMAL.replace(
                    "genesis = \"genesis.json\"",
                    "genesis = \"g\"\nhardfork = \"nope\"",
                ),
                "unknown hardfork",
            ),
            (
                format!("{MINIMAL}\n[[rollups]]\nid = 1\nrpc = \"http://x\"\ngenesis = \"g\"\n"),
                "`rollups[1].id`: rollup 1 is configured twice",
            ),
            (
                format!("{MINIMAL}\n[delivery]\nbatch_size = 0\n"),
                "`delivery.batch_size`",
            ),
            (
                format!("{MINIMAL}\n[storage]\ncache_mib = 4\n"),
                "`storage.cache_mib`: must be between 16 and 65536",
            ),
            (
                format!("{MINIMAL}\n[storage]\nretention = 2000000\n"),
                "`storage.retention`",
            ),
            (
                format!("{MINIMAL}\n[storage]\ncache = 64\n"),
                "unknown field `cache`",
            ),
        ];
        for (text, expected) in cases {
            let err = load(&text).unwrap_err().to_string();
            assert!(err.contains(expected), "{err:?} lacks {expected:?}");
        }
    }
}
