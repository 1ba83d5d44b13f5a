//! `surety aggregator run --config FILE`: the aggregator's TOML configuration, validated at load.
//!
//! Every error names the key and the problem; unknown keys are refused, so a typo never silently
//! falls back to a default. `config/aggregator.example.toml` documents every key.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use alloy::{primitives::Address, signers::local::PrivateKeySigner};
use serde::Deserialize;
pub use surety_primitives::config::ConfigError;
use surety_primitives::config::{ConfigFile, Invalid, check_url, invalid, millis, resolve};

/// The whole aggregator configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AggregatorConfig {
    /// Where the aggregator keeps attestations, submissions and evidence (created if missing).
    pub datadir: PathBuf,
    /// gRPC listen address of the `surety.v1.Aggregator` service (port 0: any free port).
    pub grpc_addr: SocketAddr,
    /// Serves `/metrics` (Prometheus), `/status` (JSON) and the live status page (`/`) here.
    pub http_addr: Option<SocketAddr>,
    pub l1: L1Config,
    #[serde(default)]
    pub submit: SubmitConfig,
    #[serde(default)]
    pub intake: IntakeConfig,
    /// Rollups whose L2 the status page follows (head and lag); optional, one entry per rollup.
    #[serde(default)]
    pub rollups: Vec<RollupConfig>,
}

/// A rollup's own JSON-RPC, read by the status page for the L2 head.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RollupConfig {
    /// The rollup's Surety id (as the `CertificateVerifier` numbers it).
    pub id: u64,
    pub rpc: String,
}

/// The L1 with Surety's contracts, and the account that submits to it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct L1Config {
    pub rpc: String,
    /// An addresses file as `surety devnet deploy` writes it; or give the three addresses below.
    pub deployment: Option<PathBuf>,
    pub certificate_verifier: Option<Address>,
    pub operator_registry: Option<Address>,
    pub slasher: Option<Address>,
    /// The secp256k1 key that sends certificates and evidence: a file holding the hex key, or an
    /// encrypted JSON keystore (geth, `cast wallet new`).
    pub ecdsa_key_file: PathBuf,
    /// The keystore's password (first line), when `ecdsa_key_file` is encrypted.
    pub ecdsa_password_file: Option<PathBuf>,
    /// How often the L1 is polled for new blocks, registry events and rollup heads.
    #[serde(default = "default_poll", with = "millis")]
    pub poll_interval_ms: Duration,
    /// First L1 block whose registry events are read (the registry's deployment block).
    #[serde(default)]
    pub from_block: u64,
}

/// Certificate and evidence submission.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SubmitConfig {
    /// Submit certificates at most once per this many L1 blocks.
    pub cadence_blocks: u64,
    /// A transaction not mined after this many L1 blocks is replaced with higher fees.
    pub replace_after_blocks: u64,
    /// Submit `proveDoubleSigning` for double-signing evidence (evidence is kept either way).
    pub evidence: bool,
}

impl Default for SubmitConfig {
    fn default() -> Self {
        Self {
            cadence_blocks: 1,
            replace_after_blocks: 3,
            evidence: true,
        }
    }
}

/// Intake limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IntakeConfig {
    /// Attestations admitted and not yet answered before new calls get RESOURCE_EXHAUSTED. Half
    /// of it is kept for trusted connections (see `docs/aggregator.md`).
    pub queue_attestations: usize,
    /// Heights more than this far above a rollup's certified head are refused
    /// (FAILED_PRECONDITION), which bounds what a key holder can make the aggregator keep.
    pub max_ahead: u64,
}

impl Default for IntakeConfig {
    fn default() -> Self {
        Self {
            queue_attestations: 16_384,
            max_ahead: 100_000,
        }
    }
}

const fn default_poll() -> Duration {
    Duration::from_millis(500)
}

/// The three contracts the aggregator talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Contracts {
    pub certificate_verifier: Address,
    pub operator_registry: Address,
    pub slasher: Address,
}

impl ConfigFile for AggregatorConfig {
    fn resolve_paths(&mut self, base: &Path) {
        resolve(base, &mut self.datadir);
        if let Some(p) = &mut self.l1.deployment {
            resolve(base, p);
        }
        resolve(base, &mut self.l1.ecdsa_key_file);
        if let Some(p) = &mut self.l1.ecdsa_password_file {
            resolve(base, p);
        }
    }

    fn validate(&self) -> Result<(), Invalid> {
        check_url("l1.rpc", &self.l1.rpc)?;
        for (i, rollup) in self.rollups.iter().enumerate() {
            if rollup.id == 0 {
                return invalid(&format!("rollups[{i}].id"), "rollup ids start at 1");
            }
            if self.rollups[..i].iter().any(|r| r.id == rollup.id) {
                return invalid(
                    &format!("rollups[{i}].id"),
                    &format!("rollup {} is listed twice", rollup.id),
                );
            }
            check_url(&format!("rollups[{i}].rpc"), &rollup.rpc)?;
        }
        let l1 = &self.l1;
        match (
            &l1.deployment,
            l1.certificate_verifier,
            l1.operator_registry,
            l1.slasher,
        ) {
            (Some(_), None, None, None) | (None, Some(_), Some(_), Some(_)) => {}
            _ => {
                return invalid(
                    "l1",
                    "give either `deployment` (an addresses file) or all of \
                     `certificate_verifier`, `operator_registry` and `slasher`",
                );
            }
        }
        if l1.poll_interval_ms < Duration::from_millis(50) {
            return invalid("l1.poll_interval_ms", "must be at least 50");
        }
        if self.submit.cadence_blocks == 0 {
            return invalid("submit.cadence_blocks", "must be at least 1");
        }
        if self.submit.replace_after_blocks == 0 {
            return invalid("submit.replace_after_blocks", "must be at least 1");
        }
        if self.intake.queue_attestations < 2 * crate::server::MAX_BATCH {
            return invalid(
                "intake.queue_attestations",
                &format!(
                    "must be at least {} (two full calls)",
                    2 * crate::server::MAX_BATCH
                ),
            );
        }
        if self.intake.max_ahead == 0 {
            return invalid("intake.max_ahead", "must be at least 1");
        }
        Ok(())
    }
}

impl AggregatorConfig {
    /// The contract addresses, from the deployment file or the config itself.
    pub fn contracts(&self) -> Result<Contracts, ConfigError> {
        let l1 = &self.l1;
        if let (Some(certificate_verifier), Some(operator_registry), Some(slasher)) =
            (l1.certificate_verifier, l1.operator_registry, l1.slasher)
        {
            return Ok(Contracts {
                certificate_verifier,
                operator_registry,
                slasher,
            });
        }
        let path = l1.deployment.clone().unwrap_or_default();
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
            path: path.clone(),
            source,
        })?;
        let deployment: surety_contracts::Deployment =
            serde_json::from_str(&text).map_err(|e| ConfigError::Parse {
                path,
                message: e.to_string(),
            })?;
        let s = deployment.surety;
        Ok(Contracts {
            certificate_verifier: s.certificate_verifier,
            operator_registry: s.operator_registry,
            slasher: s.slasher,
        })
    }

    /// The submitting account's key.
    pub fn submitter(&self) -> Result<PrivateKeySigner, ConfigError> {
        surety_contracts::account::load_signer(
            &self.l1.ecdsa_key_file,
            self.l1.ecdsa_password_file.as_deref(),
        )
        .map_err(|e| ConfigError::Invalid {
            path: self.l1.ecdsa_key_file.clone(),
            key: "l1.ecdsa_key_file".to_owned(),
            problem: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
        datadir = "data"
        grpc_addr = "127.0.0.1:50051"
        [l1]
        rpc = "http://127.0.0.1:8545"
        deployment = "l1.json"
        ecdsa_key_file = "keys/submitter.hex"
    "#;

    fn load(text: &str) -> Result<AggregatorConfig, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("aggregator.toml");
        std::fs::write(&path, text).unwrap();
        AggregatorConfig::load(&path)
    }

    #[test]
    fn defaults_and_relative_paths() {
        let config = load(MINIMAL).unwrap();
        assert!(config.datadir.is_absolute());
        assert!(config.l1.ecdsa_key_file.is_absolute());
        assert_eq!(config.submit.cadence_blocks, 1);
        assert_eq!(config.l1.poll_interval_ms, Duration::from_millis(500));
        assert!(config.http_addr.is_none());
    }

    #[test]
    fn the_example_parses() {
        let example = include_str!("../../config/aggregator.example.toml");
        let config = load(example).unwrap();
        assert_eq!(config.submit.replace_after_blocks, 3);
        assert_eq!(config.intake.max_ahead, 100_000);
        assert_eq!(config.rollups[0].id, 1);
        assert_eq!(config.rollups[0].rpc, "http://127.0.0.1:9545");
    }

    #[test]
    fn errors_name_the_key() {
        let cases = [
            (MINIMAL.replace("datadir", "data_dir"), "unknown field"),
            (
                MINIMAL.replace("\"http://127.0.0.1:8545\"", "\"127.0.0.1:8545\""),
                "`l1.rpc`",
            ),
            (
                MINIMAL.replace("deployment = \"l1.json\"", ""),
                "`l1`: give either",
            ),
            (
                format!("{MINIMAL}\n[submit]\ncadence_blocks = 0"),
                "`submit.cadence_blocks`",
            ),
            (
                format!("{MINIMAL}\n[intake]\nqueue_attestations = 2047"),
                "`intake.queue_attestations`",
            ),
            (
                format!("{MINIMAL}\n[[rollups]]\nid = 1\nrpc = \"ws://127.0.0.1:9545\""),
                "`rollups[0].rpc`",
            ),
            (
                format!("{MINIMAL}\n[[rollups]]\nid = 0\nrpc = \"http://127.0.0.1:9545\""),
                "`rollups[0].id`",
            ),
            (
                format!(
                    "{MINIMAL}\n[[rollups]]\nid = 1\nrpc = \"http://a:1\"\n\
                     [[rollups]]\nid = 1\nrpc = \"http://b:1\""
                ),
                "`rollups[1].id`: rollup 1 is listed twice",
            ),
        ];
        for (text, expected) in cases {
            let err = load(&text).unwrap_err().to_string();
            assert!(err.contains(expected), "{err} should contain {expected}");
        }
    }
}
