//! Finality of every block a certificate covers, not just the certified one.
//!
//! A certificate on block N covers N and its ancestors: its signers re-executed each of them.
//! `CertificateVerifier.isFinalAncestor` checks that by hash links: the caller hands it the RLP
//! headers from the block in question up to a certified block. [`covering_certificate`] finds the
//! nearest such certificate on L1, [`header_chain`] fetches and checks the headers from an L2
//! endpoint, and [`is_final`] does both and asks the contract.

use alloy::{
    consensus::Header,
    primitives::{B256, Bytes, keccak256},
    providers::Provider,
    rlp::Decodable,
};

use crate::{
    Error, SuretyDeployment, bindings::CertificateVerifier, evidence, logs::logs_since, tx::read,
};

/// Why a covered block's finality could not be established.
#[derive(Debug, thiserror::Error)]
pub enum FinalityError {
    /// The L1 side failed (logs, views).
    #[error(transparent)]
    L1(#[from] Error),
    /// The L2 JSON-RPC endpoint did not answer.
    #[error("cannot reach the L2 RPC endpoint")]
    L2(#[source] alloy::transports::TransportError),
    /// The L2 endpoint has no such block (yet, or it was reorged away).
    #[error("the L2 endpoint has no block {0}")]
    NoBlock(u64),
    /// The endpoint's header fields do not hash to the hash it reports for the block: it lies,
    /// or it speaks a header format this client does not know.
    #[error("the L2 endpoint's header of block {0} does not hash to the block hash it reports")]
    HeaderHash(u64),
    /// Two consecutive blocks from the endpoint do not link (it changed its chain meanwhile).
    #[error("L2 block {child} does not name block {parent} as its parent")]
    Unlinked { parent: u64, child: u64 },
}

/// A certificate L1 recorded: the block it certifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Certified {
    pub block_number: u64,
    pub block_hash: B256,
    pub state_root: B256,
}

/// The lowest certified block of `rollup_id` at or above `number` whose certificate stands (not
/// proven faulty), if any.
///
/// # Errors
/// [`Error::Unreachable`] if the logs cannot be read, [`Error::Read`] if a view fails.
pub async fn covering_certificate<P: Provider>(
    l1: &P,
    surety: &SuretyDeployment,
    rollup_id: u64,
    number: u64,
) -> Result<Option<Certified>, Error> {
    let verifier = surety.certificate_verifier;
    let filter = evidence::certificates_of(verifier, rollup_id);
    let logs = logs_since(l1, &filter, surety.deployed_at).await?;
    let mut candidates: Vec<Certified> = logs
        .iter()
        .filter_map(|log| {
            log.log_decode::<CertificateVerifier::CertificateSubmitted>()
                .ok()
        })
        .map(|log| Certified {
            block_number: log.inner.blockNumber,
            block_hash: log.inner.blockHash,
            state_root: log.inner.stateRoot,
        })
        .filter(|c| c.block_number >= number)
        .collect();
    candidates.sort_unstable_by_key(|c| c.block_number);
    let contract = CertificateVerifier::new(verifier, l1);
    for c in candidates {
        let standing = read(
            "CertificateVerifier.isFinal",
            contract.isFinal(rollup_id, c.block_number, c.block_hash, c.state_root),
        )
        .await?;
        if standing {
            return Ok(Some(c));
        }
    }
    Ok(None)
}

/// The RLP-encoded headers of L2 blocks `from..=to`, each checked against the hash the endpoint
/// reports for it and linked to the next, as `isFinalAncestor` takes them.
///
/// # Errors
/// [`FinalityError::L2`], [`FinalityError::NoBlock`], [`FinalityError::HeaderHash`] or
/// [`FinalityError::Unlinked`].
pub async fn header_chain<P: Provider>(
    l2: &P,
    from: u64,
    to: u64,
) -> Result<Vec<Bytes>, FinalityError> {
    let mut headers = Vec::new();
    let mut previous: Option<B256> = None;
    for number in from..=to {
        let block = l2
            .get_block_by_number(number.into())
            .await
            .map_err(FinalityError::L2)?
            .ok_or(FinalityError::NoBlock(number))?;
        let header = block.header;
        if header.inner.hash_slow() != header.hash {
            return Err(FinalityError::HeaderHash(number));
        }
        if previous.is_some_and(|hash| hash != header.inner.parent_hash) {
            return Err(FinalityError::Unlinked {
                parent: number - 1,
                child: number,
            });
        }
        previous = Some(header.hash);
        headers.push(alloy::rlp::encode(&header.inner).into());
    }
    Ok(headers)
}

/// The answer to "is this L2 block final?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finality {
    /// Final: `by` certifies it or one of its descendants, and L1's `isFinalAncestor` agreed.
    Final { by: Certified },
    /// No standing certificate reaches this height yet.
    NotYet,
    /// A standing certificate reaches this height, but not through this block: the L2 endpoint's
    /// chain differs from the certified one (`certified` is what L1 holds at that height).
    Conflicting { certified: Certified },
}

/// Whether L2 block `number` of `rollup_id`, as the `l2` endpoint reports it, is final on L1.
///
/// # Errors
/// See [`FinalityError`].
pub async fn is_final<P1: Provider, P2: Provider>(
    l1: &P1,
    surety: &SuretyDeployment,
    l2: &P2,
    rollup_id: u64,
    number: u64,
) -> Result<Finality, FinalityError> {
    let Some(by) = covering_certificate(l1, surety, rollup_id, number).await? else {
        return Ok(Finality::NotYet);
    };
    let headers = header_chain(l2, number, by.block_number).await?;
    let (Some(first), Some(tip)) = (headers.first(), headers.last()) else {
        return Ok(Finality::NotYet);
    };
    if keccak256(tip) != by.block_hash {
        return Ok(Finality::Conflicting { certified: by });
    }
    let block_hash = keccak256(first);
    // `header_chain` encoded it from a decoded header, so it decodes.
    let state_root = Header::decode(&mut first.as_ref())
        .map_err(|_| FinalityError::HeaderHash(number))?
        .state_root;
    let final_ = read(
        "CertificateVerifier.isFinalAncestor",
        CertificateVerifier::new(surety.certificate_verifier, l1)
            .isFinalAncestor(rollup_id, number, block_hash, state_root, headers),
    )
    .await?;
    Ok(if final_ {
        Finality::Final { by }
    } else {
        Finality::Conflicting { certified: by }
    })
}
