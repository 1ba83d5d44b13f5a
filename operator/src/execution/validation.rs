//! Block validity beyond the state root: the header against its parent's, the body against the
//! header, and the header fields execution computes against what execution produced.

use alloy_consensus::{
    Block, EMPTY_OMMER_ROOT_HASH, Header, TxEnvelope, TxReceipt,
    proofs::{calculate_receipt_root, calculate_transaction_root, calculate_withdrawals_root},
    transaction::{Recovered, SignerRecoverable},
};
use alloy_eips::{
    eip1559::BaseFeeParams, eip4844::DATA_GAS_PER_BLOB, eip6110::MAINNET_DEPOSIT_CONTRACT_ADDRESS,
};
use alloy_evm::block::BlockExecutionResult;
use alloy_primitives::{B256, Bloom, Bytes, U256, b256};

use super::{BlockInput, EthereumHardfork, EthereumRules};

/// Why a block is invalid: the first rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidBlock {
    #[error("parent {parent} is not the verified head {head}")]
    UnknownParent { parent: B256, head: B256 },
    #[error("number {number} does not follow the parent's {parent}")]
    Number { parent: u64, number: u64 },
    #[error("timestamp {timestamp} is too early for the parent's {parent}")]
    Timestamp { parent: u64, timestamp: u64 },
    #[error("gas limit {gas_limit} is out of bounds for the parent's {parent}")]
    GasLimit { parent: u64, gas_limit: u64 },
    #[error("header gas used {gas_used} exceeds the gas limit {gas_limit}")]
    GasAboveLimit { gas_used: u64, gas_limit: u64 },
    #[error("base fee {header:?}, expected {expected:?}")]
    BaseFee {
        header: Option<u64>,
        expected: Option<u64>,
    },
    #[error("excess blob gas {header:?}, expected {expected}")]
    ExcessBlobGas { header: Option<u64>, expected: u64 },
    #[error("blob gas used {0} is above the block maximum or not a multiple of the blob size")]
    BlobGasLimit(u64),
    #[error("extra data is {0} bytes (at most 32)")]
    ExtraData(usize),
    #[error("proof-of-work field `{0}` is not zero after the merge")]
    ProofOfWork(&'static str),
    #[error("header field `{0}` is required by the active fork")]
    MissingField(&'static str),
    #[error("header field `{0}` is not allowed at the active fork")]
    UnexpectedField(&'static str),
    #[error("ommers are not allowed")]
    Ommers,
    #[error("transactions root {computed}, header says {header}")]
    TransactionsRoot { header: B256, computed: B256 },
    #[error("withdrawals do not match the header's withdrawals root")]
    WithdrawalsRoot,
    #[error("transaction {index}: invalid signature")]
    Signature { index: usize },
    #[error("transaction {index}: a blob transaction with its sidecar (network form) in a block")]
    BlobSidecar { index: usize },
    #[error("execution: {0}")]
    Execution(String),
    #[error("gas used {executed}, header says {header}")]
    GasUsed { header: u64, executed: u64 },
    #[error("blob gas used {executed}, header says {header:?}")]
    BlobGasUsed { header: Option<u64>, executed: u64 },
    #[error("receipts root {computed}, header says {header}")]
    ReceiptsRoot { header: B256, computed: B256 },
    #[error("logs bloom differs from the header's")]
    LogsBloom,
    #[error("requests hash {computed}, header says {header:?}")]
    RequestsHash {
        header: Option<B256>,
        computed: B256,
    },
    #[error("deposit event {0} does not have the EIP-6110 layout")]
    DepositLayout(usize),
}

/// The header's checks against its parent and the active forks.
pub(super) fn validate_header(
    rules: &EthereumRules,
    parent: &Header,
    header: &Header,
) -> Result<(), InvalidBlock> {
    let fork = rules.schedule.latest();
    if header.number != parent.number + 1 {
        return Err(InvalidBlock::Number {
            parent: parent.number,
            number: header.number,
        });
    }
    let too_early = if rules.equal_timestamps {
        header.timestamp < parent.timestamp
    } else {
        header.timestamp <= parent.timestamp
    };
    if too_early {
        return Err(InvalidBlock::Timestamp {
            parent: parent.timestamp,
            timestamp: header.timestamp,
        });
    }
    if header.gas_used > header.gas_limit {
        return Err(InvalidBlock::GasAboveLimit {
            gas_used: header.gas_used,
            gas_limit: header.gas_limit,
        });
    }
    // The limit moves by less than 1/1024 of the parent's per block and stays at least 5,000.
    let delta = parent.gas_limit / 1024;
    if header.gas_limit >= parent.gas_limit + delta
        || header.gas_limit <= parent.gas_limit.saturating_sub(delta)
        || header.gas_limit < 5000
    {
        return Err(InvalidBlock::GasLimit {
            parent: parent.gas_limit,
            gas_limit: header.gas_limit,
        });
    }
    if header.extra_data.len() > 32 {
        return Err(InvalidBlock::ExtraData(header.extra_data.len()));
    }
    if fork >= EthereumHardfork::Paris {
        if !header.difficulty.is_zero() {
            return Err(InvalidBlock::ProofOfWork("difficulty"));
        }
        if !header.nonce.is_zero() {
            return Err(InvalidBlock::ProofOfWork("nonce"));
        }
        if header.ommers_hash != EMPTY_OMMER_ROOT_HASH {
            return Err(InvalidBlock::Ommers);
        }
    }
    if fork >= EthereumHardfork::London && header.base_fee_per_gas.is_none() {
        return Err(InvalidBlock::MissingField("baseFeePerGas"));
    }
    if fork >= EthereumHardfork::London && rules.base_fee_from_parent {
        let expected = parent
            .next_block_base_fee(BaseFeeParams::ethereum())
            .or(Some(alloy_eips::eip1559::INITIAL_BASE_FEE));
        if header.base_fee_per_gas != expected {
            return Err(InvalidBlock::BaseFee {
                header: header.base_fee_per_gas,
                expected,
            });
        }
    }
    require(
        fork >= EthereumHardfork::Shanghai,
        header.withdrawals_root.is_some(),
        "withdrawalsRoot",
    )?;
    require(
        fork >= EthereumHardfork::Cancun,
        header.parent_beacon_block_root.is_some(),
        "parentBeaconBlockRoot",
    )?;
    require(
        fork >= EthereumHardfork::Cancun,
        header.blob_gas_used.is_some(),
        "blobGasUsed",
    )?;
    require(
        fork >= EthereumHardfork::Cancun,
        header.excess_blob_gas.is_some(),
        "excessBlobGas",
    )?;
    require(
        fork >= EthereumHardfork::Prague,
        header.requests_hash.is_some(),
        "requestsHash",
    )?;
    if let Some(params) = rules.schedule.blob_params() {
        let expected = parent.next_block_excess_blob_gas(params).unwrap_or(0);
        if header.excess_blob_gas != Some(expected) {
            return Err(InvalidBlock::ExcessBlobGas {
                header: header.excess_blob_gas,
                expected,
            });
        }
        let used = header.blob_gas_used.unwrap_or_default();
        if used > params.max_blob_gas_per_block() || !used.is_multiple_of(DATA_GAS_PER_BLOB) {
            return Err(InvalidBlock::BlobGasLimit(used));
        }
    }
    Ok(())
}

/// A field is present exactly when its fork is active.
fn require(active: bool, present: bool, field: &'static str) -> Result<(), InvalidBlock> {
    match (active, present) {
        (true, false) => Err(InvalidBlock::MissingField(field)),
        (false, true) => Err(InvalidBlock::UnexpectedField(field)),
        _ => Ok(()),
    }
}

/// The header fields execution computes, against what it computed.
pub(super) fn check_executed<R>(
    rules: &EthereumRules,
    header: &Header,
    result: &BlockExecutionResult<R>,
) -> Result<(), InvalidBlock>
where
    R: TxReceipt<Log = alloy_primitives::Log> + alloy_eips::Encodable2718,
{
    let fork = rules.schedule.latest();
    if result.gas_used != header.gas_used {
        return Err(InvalidBlock::GasUsed {
            header: header.gas_used,
            executed: result.gas_used,
        });
    }
    if fork >= EthereumHardfork::Cancun && header.blob_gas_used != Some(result.blob_gas_used) {
        return Err(InvalidBlock::BlobGasUsed {
            header: header.blob_gas_used,
            executed: result.blob_gas_used,
        });
    }
    let receipts_root = calculate_receipt_root(&result.receipts);
    if receipts_root != header.receipts_root {
        return Err(InvalidBlock::ReceiptsRoot {
            header: header.receipts_root,
            computed: receipts_root,
        });
    }
    let mut bloom = Bloom::ZERO;
    for receipt in &result.receipts {
        bloom.accrue_bloom(&receipt.bloom());
    }
    if bloom != header.logs_bloom {
        return Err(InvalidBlock::LogsBloom);
    }
    if fork >= EthereumHardfork::Prague {
        check_deposit_layout(&result.receipts)?;
        let computed = result.requests.requests_hash();
        if header.requests_hash != Some(computed) {
            return Err(InvalidBlock::RequestsHash {
                header: header.requests_hash,
                computed,
            });
        }
    }
    Ok(())
}

/// `keccak256("DepositEvent(bytes,bytes,bytes,bytes,bytes)")`.
const DEPOSIT_EVENT_SIGNATURE: B256 =
    b256!("0x649bbc62d0e31342afea4e5cd82d4049e7e1ee912fc0889aa790803be39038c5");

/// EIP-6110: a deposit contract log with the deposit topic must carry exactly the ABI layout of
/// `DepositEvent` (fixed offsets and sizes); anything else makes the block invalid.
fn check_deposit_layout<R: TxReceipt<Log = alloy_primitives::Log>>(
    receipts: &[R],
) -> Result<(), InvalidBlock> {
    // (offset of the word, value it must hold): the five head offsets, then each field's size.
    const LAYOUT: [(usize, u64); 10] = [
        (0, 160),
        (32, 256),
        (64, 320),
        (96, 384),
        (128, 512),
        (160, 48),
        (256, 32),
        (320, 8),
        (384, 96),
        (512, 8),
    ];
    let deposits = receipts
        .iter()
        .flat_map(|receipt| receipt.logs())
        .filter(|log| {
            log.address == MAINNET_DEPOSIT_CONTRACT_ADDRESS
                && log.topics().first() == Some(&DEPOSIT_EVENT_SIGNATURE)
        });
    for (index, log) in deposits.enumerate() {
        let data: &Bytes = &log.data.data;
        let word = |at: usize| U256::from_be_slice(&data[at..at + 32]);
        if data.len() != 576
            || LAYOUT
                .iter()
                .any(|&(at, want)| word(at) != U256::from(want))
        {
            return Err(InvalidBlock::DepositLayout(index));
        }
    }
    Ok(())
}

impl BlockInput {
    /// Checks a decoded block's body against its header (no ommers, transactions root,
    /// withdrawals root) and recovers its senders from their signatures.
    pub fn from_block(block: Block<TxEnvelope>) -> Result<Self, InvalidBlock> {
        let Block { header, body } = block;
        if !body.ommers.is_empty() || header.ommers_hash != EMPTY_OMMER_ROOT_HASH {
            return Err(InvalidBlock::Ommers);
        }
        let computed = calculate_transaction_root(&body.transactions);
        if computed != header.transactions_root {
            return Err(InvalidBlock::TransactionsRoot {
                header: header.transactions_root,
                computed,
            });
        }
        match (&body.withdrawals, header.withdrawals_root) {
            (Some(w), Some(root)) if calculate_withdrawals_root(w) == root => {}
            (None, None) => {}
            _ => return Err(InvalidBlock::WithdrawalsRoot),
        }
        let transactions = body
            .transactions
            .into_iter()
            .enumerate()
            .map(|(index, tx)| {
                if let TxEnvelope::Eip4844(tx) = &tx
                    && tx.tx().sidecar().is_some()
                {
                    return Err(InvalidBlock::BlobSidecar { index });
                }
                let signer = tx
                    .recover_signer()
                    .map_err(|_| InvalidBlock::Signature { index })?;
                Ok(Recovered::new_unchecked(tx, signer))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            hash: header.hash_slow(),
            header,
            transactions,
            withdrawals: body.withdrawals,
        })
    }
}
