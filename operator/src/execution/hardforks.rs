//! A fork schedule with every fork up to a chosen one active from genesis.

use alloy_evm::eth::spec::EthExecutorSpec;
use alloy_hardforks::{EthereumHardfork, EthereumHardforks, ForkCondition};
use alloy_primitives::{Address, U256};
use revm::primitives::hardfork::SpecId;

use super::blob_params_for;

/// Ethereum forks up to `latest` active at block 0; later ones never. The DAO fork's irregular
/// state change never applies (it is a mainnet event, not a rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForkSchedule {
    latest: EthereumHardfork,
}

impl ForkSchedule {
    pub const fn new(latest: EthereumHardfork) -> Self {
        Self { latest }
    }

    pub const fn latest(&self) -> EthereumHardfork {
        self.latest
    }

    /// The revm spec of the latest active fork.
    pub fn spec_id(&self) -> SpecId {
        alloy_evm::spec_by_timestamp_and_block_number(self, 0, 0)
    }

    pub(crate) fn blob_params(&self) -> Option<alloy_eips::eip7840::BlobParams> {
        blob_params_for(self.latest)
    }
}

impl EthereumHardforks for ForkSchedule {
    fn ethereum_fork_activation(&self, fork: EthereumHardfork) -> ForkCondition {
        if fork > self.latest || fork == EthereumHardfork::Dao {
            return ForkCondition::Never;
        }
        match fork {
            EthereumHardfork::Paris => ForkCondition::TTD {
                activation_block_number: 0,
                fork_block: Some(0),
                total_difficulty: U256::ZERO,
            },
            f if f >= EthereumHardfork::Shanghai => ForkCondition::Timestamp(0),
            _ => ForkCondition::Block(0),
        }
    }
}

impl EthExecutorSpec for ForkSchedule {
    fn deposit_contract_address(&self) -> Option<Address> {
        None
    }
}
