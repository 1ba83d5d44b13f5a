//! Geth-style `genesis.json` for an anvil L2: Prague rules from block 0, many funded senders
//! with deterministic keys, optional pre-deployed contracts.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use surety_testkit::genesis::GenesisBuilder;
//! let genesis = GenesisBuilder::new(901).funded_accounts(64).build();
//! let file = genesis.write_temp()?;
//! let anvil = genesis.anvil(file.path()).no_mining().spawn()?;
//! # Ok(()) }
//! ```

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use crate::anvil::Anvil;
use alloy::{
    genesis::{ChainConfig, Genesis, GenesisAccount},
    primitives::{Address, B256, Bytes, U256, keccak256},
    signers::local::PrivateKeySigner,
};

/// Default L2 block gas limit: roomy enough for benchmark-sized blocks.
pub const DEFAULT_GAS_LIMIT: u64 = 60_000_000;
/// Default genesis timestamp (fixed so that generated chains are reproducible).
pub const DEFAULT_TIMESTAMP: u64 = 1_700_000_000;
/// Default initial base fee: 1 gwei.
pub const DEFAULT_BASE_FEE: u128 = 1_000_000_000;
/// Default balance of each funded account: 1,000,000 ether.
pub const DEFAULT_BALANCE: U256 = U256::from_limbs([0x1bce_cced_a100_0000, 0xd3c2, 0, 0]);

/// Errors writing a genesis file.
#[derive(Debug, thiserror::Error)]
pub enum GenesisError {
    /// Creating or writing the file failed.
    #[error("writing genesis to {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Serialising failed.
    #[error("serialising genesis: {0}")]
    Json(#[from] serde_json::Error),
}

/// Builds an [`L2Genesis`].
#[derive(Debug, Clone)]
pub struct GenesisBuilder {
    chain_id: u64,
    gas_limit: u64,
    timestamp: u64,
    base_fee: u128,
    key_seed: u64,
    accounts: usize,
    balance: U256,
    alloc: BTreeMap<Address, GenesisAccount>,
}

impl GenesisBuilder {
    /// A genesis for `chain_id` with the defaults above and no accounts.
    pub fn new(chain_id: u64) -> Self {
        Self {
            chain_id,
            gas_limit: DEFAULT_GAS_LIMIT,
            timestamp: DEFAULT_TIMESTAMP,
            base_fee: DEFAULT_BASE_FEE,
            key_seed: 0,
            accounts: 0,
            balance: DEFAULT_BALANCE,
            alloc: BTreeMap::new(),
        }
    }

    /// Block gas limit.
    pub fn gas_limit(mut self, gas_limit: u64) -> Self {
        self.gas_limit = gas_limit;
        self
    }

    /// Genesis timestamp.
    pub fn timestamp(mut self, timestamp: u64) -> Self {
        self.timestamp = timestamp;
        self
    }

    /// Initial base fee per gas.
    pub fn base_fee(mut self, base_fee: u128) -> Self {
        self.base_fee = base_fee;
        self
    }

    /// Fund `n` accounts whose keys are derived from the key seed (see [`derive_key`]).
    pub fn funded_accounts(mut self, n: usize) -> Self {
        self.accounts = n;
        self
    }

    /// Seed for the funded accounts' keys (default 0).
    pub fn key_seed(mut self, seed: u64) -> Self {
        self.key_seed = seed;
        self
    }

    /// Balance of each funded account.
    pub fn balance(mut self, balance: U256) -> Self {
        self.balance = balance;
        self
    }

    /// Add an account with a balance (no code).
    pub fn account(mut self, address: Address, balance: U256) -> Self {
        self.alloc
            .insert(address, GenesisAccount::default().with_balance(balance));
        self
    }

    /// Pre-deploy runtime `code` with `storage` at `address`.
    pub fn contract(
        mut self,
        address: Address,
        code: Bytes,
        storage: BTreeMap<B256, B256>,
    ) -> Self {
        let storage = (!storage.is_empty()).then_some(storage);
        self.alloc.insert(
            address,
            GenesisAccount::default()
                .with_nonce(Some(1))
                .with_code(Some(code))
                .with_storage(storage),
        );
        self
    }

    /// Derive the keys and assemble the genesis.
    pub fn build(self) -> L2Genesis {
        let keys: Vec<_> = (0..self.accounts as u64)
            .map(|i| derive_key(self.key_seed, i))
            .collect();
        let mut alloc = self.alloc;
        for key in &keys {
            alloc.insert(
                key.address(),
                GenesisAccount::default().with_balance(self.balance),
            );
        }
        let config = ChainConfig {
            chain_id: self.chain_id,
            homestead_block: Some(0),
            eip150_block: Some(0),
            eip155_block: Some(0),
            eip158_block: Some(0),
            byzantium_block: Some(0),
            constantinople_block: Some(0),
            petersburg_block: Some(0),
            istanbul_block: Some(0),
            berlin_block: Some(0),
            london_block: Some(0),
            merge_netsplit_block: Some(0),
            shanghai_time: Some(0),
            cancun_time: Some(0),
            prague_time: Some(0),
            terminal_total_difficulty: Some(U256::ZERO),
            terminal_total_difficulty_passed: true,
            ..Default::default()
        };
        let genesis = Genesis {
            config,
            timestamp: self.timestamp,
            gas_limit: self.gas_limit,
            base_fee_per_gas: Some(self.base_fee),
            alloc,
            ..Default::default()
        };
        L2Genesis { genesis, keys }
    }
}

/// Deterministic secp256k1 key `index` of the family `seed`: `keccak256("surety-testkit" ‖ seed ‖
/// index)`, re-hashed in the (negligible) case it is not a valid scalar.
pub fn derive_key(seed: u64, index: u64) -> PrivateKeySigner {
    let mut preimage = b"surety-testkit".to_vec();
    preimage.extend_from_slice(&seed.to_be_bytes());
    preimage.extend_from_slice(&index.to_be_bytes());
    let mut bytes = keccak256(&preimage);
    loop {
        match PrivateKeySigner::from_bytes(&bytes) {
            Ok(key) => return key,
            Err(_) => bytes = keccak256(bytes),
        }
    }
}

/// A generated genesis and the keys of its funded accounts.
#[derive(Debug, Clone)]
pub struct L2Genesis {
    /// The genesis as alloy's geth-compatible type.
    pub genesis: Genesis,
    /// Keys of the funded accounts, in derivation order.
    pub keys: Vec<PrivateKeySigner>,
}

impl L2Genesis {
    /// The chain id.
    pub fn chain_id(&self) -> u64 {
        self.genesis.config.chain_id
    }

    /// An anvil builder for this genesis written at `path`: `--init`, chain id, gas limit and
    /// base fee set; mining mode and the rest left to the caller.
    pub fn anvil(&self, path: &Path) -> Anvil {
        let mut anvil = Anvil::new()
            .genesis(path, self.chain_id())
            .gas_limit(self.genesis.gas_limit);
        if let Some(base_fee) = self.genesis.base_fee_per_gas {
            anvil = anvil.base_fee(base_fee);
        }
        anvil
    }

    /// The genesis as pretty JSON.
    pub fn to_json(&self) -> Result<String, GenesisError> {
        Ok(serde_json::to_string_pretty(&self.genesis)?)
    }

    /// Write `genesis.json` into `dir` and return its path.
    pub fn write_to(&self, dir: &Path) -> Result<PathBuf, GenesisError> {
        let path = dir.join("genesis.json");
        std::fs::write(&path, self.to_json()?).map_err(|source| GenesisError::Io {
            path: path.clone(),
            source,
        })?;
        Ok(path)
    }

    /// Write `genesis.json` into a fresh temporary directory, removed when the result is dropped.
    pub fn write_temp(&self) -> Result<GenesisFile, GenesisError> {
        let dir = tempfile::Builder::new()
            .prefix("surety-genesis-")
            .tempdir()
            .map_err(|source| GenesisError::Io {
                path: std::env::temp_dir(),
                source,
            })?;
        let path = self.write_to(dir.path())?;
        Ok(GenesisFile { _dir: dir, path })
    }
}

/// A genesis file in a temporary directory that lives as long as this value.
#[derive(Debug)]
pub struct GenesisFile {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl GenesisFile {
    /// The path of `genesis.json`.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_balance_is_a_million_ether() {
        assert_eq!(
            DEFAULT_BALANCE,
            U256::from(1_000_000u64) * U256::from(10u64).pow(U256::from(18))
        );
    }

    #[test]
    fn keys_are_deterministic_and_distinct() {
        let a = GenesisBuilder::new(1).funded_accounts(8).build();
        let b = GenesisBuilder::new(1).funded_accounts(8).build();
        let c = GenesisBuilder::new(1)
            .funded_accounts(8)
            .key_seed(1)
            .build();
        let addrs = |g: &L2Genesis| g.keys.iter().map(|k| k.address()).collect::<Vec<_>>();
        assert_eq!(addrs(&a), addrs(&b));
        assert_ne!(addrs(&a), addrs(&c));
        assert_eq!(a.genesis.alloc.len(), 8);
    }

    #[test]
    fn json_has_prague_config() {
        let json = GenesisBuilder::new(901).build().to_json().unwrap();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["config"]["chainId"], 901);
        assert_eq!(v["config"]["pragueTime"], 0);
        assert_eq!(v["config"]["cancunTime"], 0);
        assert_eq!(v["config"]["shanghaiTime"], 0);
    }
}
