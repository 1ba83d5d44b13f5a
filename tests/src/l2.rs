//! A ready L2 in one call: generated genesis, anvil started from it with manual mining, and the
//! funded keys — what a differential test, a benchmark or the devnet needs before traffic.

use alloy::providers::RootProvider;

use crate::{
    anvil::{AnvilError, AnvilInstance},
    genesis::{GenesisBuilder, GenesisError, GenesisFile, L2Genesis},
    workload::{Workload, WorkloadConfig},
};

/// Errors starting an [`L2`].
#[derive(Debug, thiserror::Error)]
pub enum L2Error {
    /// Writing the genesis file failed.
    #[error(transparent)]
    Genesis(#[from] GenesisError),
    /// Anvil failed to start.
    #[error(transparent)]
    Anvil(#[from] AnvilError),
}

/// An anvil L2 started from a generated genesis with `--no-mining`. Dropping it stops anvil and
/// removes the genesis file.
#[derive(Debug)]
pub struct L2 {
    /// The genesis the chain started from (its `keys` are the funded senders).
    pub genesis: L2Genesis,
    /// The genesis file anvil was started with (`--init`).
    pub file: GenesisFile,
    /// The anvil process.
    pub anvil: AnvilInstance,
}

impl L2 {
    /// Start an L2 with `accounts` funded senders and otherwise default genesis settings.
    pub fn start(chain_id: u64, accounts: usize) -> Result<Self, L2Error> {
        Self::from_builder(GenesisBuilder::new(chain_id).funded_accounts(accounts))
    }

    /// Start an L2 from a customised genesis.
    pub fn from_builder(builder: GenesisBuilder) -> Result<Self, L2Error> {
        let genesis = builder.build();
        let file = genesis.write_temp()?;
        let anvil = genesis.anvil(file.path()).no_mining().spawn()?;
        Ok(Self {
            genesis,
            file,
            anvil,
        })
    }

    /// A plain HTTP provider for the L2.
    pub fn provider(&self) -> RootProvider {
        RootProvider::new_http(self.anvil.url())
    }

    /// A workload generator sending from all funded accounts, with the default config.
    pub fn workload(&self, seed: u64) -> Workload {
        Workload::new(seed, WorkloadConfig::new(self.genesis.keys.clone()))
    }
}
