//! What the generator reports per block, read back from the receipts.

use std::collections::BTreeMap;

use alloy::primitives::B256;

/// What a generated transaction does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// Value transfer.
    Transfer,
    /// ERC-20 deployment (CREATE transaction).
    TokenDeploy,
    /// ERC-20 `transfer`.
    TokenTransfer,
    /// CREATE transaction deploying a small contract.
    Create,
    /// Factory `create` (CREATE from a contract).
    FactoryCreate,
    /// Factory `create2`.
    FactoryCreate2,
    /// Factory create-then-selfdestruct in one transaction.
    CreateAndDestroy,
    /// Storage fill.
    StorageFill,
    /// Storage clear.
    StorageClear,
    /// Keccak loop.
    Compute,
    /// Explicit revert.
    Revert,
    /// Storage writes, then an explicit revert of the whole transaction.
    RevertAfterWrite,
    /// Out of gas.
    OutOfGas,
    /// Logs.
    Logs,
    /// Precompile call.
    Precompile,
    /// EIP-7702 set-code transaction.
    Delegation,
    /// Deployment of the workload's own contracts (first block only).
    Setup,
}

/// Counts of mined transactions per EIP-2718 type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TxTypeCounts {
    /// Type 0.
    pub legacy: usize,
    /// Type 1.
    pub eip2930: usize,
    /// Type 2.
    pub eip1559: usize,
    /// Type 4.
    pub eip7702: usize,
}

/// What happened in one mined block, read back from its receipts.
#[derive(Debug, Clone, Default)]
pub struct BlockReport {
    /// Block number.
    pub number: u64,
    /// Block hash.
    pub hash: B256,
    /// Transactions submitted (all of them are in the block).
    pub sent: usize,
    /// Receipts with status 1.
    pub succeeded: usize,
    /// Receipts with status 0 (reverts and out-of-gas).
    pub reverted: usize,
    /// Gas used by the block.
    pub gas_used: u64,
    /// Top-level contract creations (receipts with a contract address).
    pub contracts_created: usize,
    /// Contracts created by the factory (its `Created` events).
    pub factory_creations: usize,
    /// Logs emitted.
    pub logs: usize,
    /// EIP-7702 authorizations carried.
    pub authorizations: usize,
    /// Mined transactions by type.
    pub tx_types: TxTypeCounts,
    /// Submitted transactions by intent.
    pub actions: BTreeMap<Action, usize>,
}

/// Reports of consecutive blocks.
#[derive(Debug, Clone, Default)]
pub struct RunReport {
    /// One report per mined block, in order.
    pub blocks: Vec<BlockReport>,
}

impl RunReport {
    /// Sum of `f` over the blocks.
    pub fn total(&self, f: impl Fn(&BlockReport) -> usize) -> usize {
        self.blocks.iter().map(f).sum()
    }

    /// Total gas used.
    pub fn gas_used(&self) -> u64 {
        self.blocks.iter().map(|b| b.gas_used).sum()
    }

    /// Number of transactions submitted with `action`.
    pub fn actions(&self, action: Action) -> usize {
        self.total(|b| b.actions.get(&action).copied().unwrap_or_default())
    }
}
