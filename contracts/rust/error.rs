//! Errors of the deployment, wiring and operator routines.

use alloy::primitives::{Address, TxHash};

/// Why a deployment, or one step of wiring contracts together, failed.
///
/// Every variant names the step, so a failure on a live chain says which contract or call to
/// look at.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The JSON-RPC endpoint did not answer.
    #[error("cannot reach the L1 RPC endpoint")]
    Unreachable(#[source] alloy::transports::TransportError),
    /// The chain has no EIP-2537 BLS12-381 precompiles, so Surety's verifier cannot work there.
    #[error(
        "chain {chain_id} has no EIP-2537 BLS12-381 precompiles (Prague); \
         start anvil with `--hardfork prague`"
    )]
    NoPrague {
        /// The chain id the endpoint reported.
        chain_id: u64,
    },
    /// Creating a contract failed (the creation reverted or was never mined).
    #[error("deploying {contract} failed")]
    Deploy {
        /// Contract being created.
        contract: &'static str,
        /// What alloy reported.
        #[source]
        source: alloy::contract::Error,
    },
    /// A transaction was rejected before it was mined (usually a revert during gas estimation,
    /// whose reason is in the source).
    #[error("{step} failed")]
    Call {
        /// What the transaction was meant to do.
        step: &'static str,
        /// What alloy reported.
        #[source]
        source: alloy::contract::Error,
    },
    /// The transaction was sent but its receipt never came.
    #[error("{step}: no receipt")]
    Receipt {
        /// What the transaction was meant to do.
        step: &'static str,
        /// What alloy reported.
        #[source]
        source: alloy::providers::PendingTransactionError,
    },
    /// The transaction was mined but reverted.
    #[error("{step}: transaction {tx} reverted")]
    Reverted {
        /// What the transaction was meant to do.
        step: &'static str,
        /// The reverted transaction.
        tx: TxHash,
    },
    /// A view the routine relies on failed.
    #[error("reading {what} failed")]
    Read {
        /// What was being read.
        what: &'static str,
        /// What alloy reported.
        #[source]
        source: alloy::contract::Error,
    },
    /// A transaction succeeded but did not emit the event the routine reads its result from.
    #[error("{step}: the receipt has no {event} event")]
    MissingEvent {
        /// What the transaction was meant to do.
        step: &'static str,
        /// The event that was expected.
        event: &'static str,
    },
    /// A view answered with a shape its ABI does not allow for the arguments given.
    #[error("{what} returned an unexpected shape")]
    Malformed {
        /// The view that was read.
        what: &'static str,
    },
    /// After wiring, a contract points somewhere other than where it should.
    #[error("{what} is {found}, expected {expected}")]
    Miswired {
        /// The setting that was checked.
        what: &'static str,
        /// The address wiring should have installed.
        expected: Address,
        /// The address found on chain.
        found: Address,
    },
    /// The strategy factory did not record a strategy for the token it was asked to cover.
    #[error("the strategy factory recorded no strategy for token {token}")]
    NoStrategy {
        /// The token whose strategy is missing.
        token: Address,
    },
}
