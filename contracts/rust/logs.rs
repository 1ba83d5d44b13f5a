//! Event logs over long L1 ranges. Public RPC providers refuse `eth_getLogs` over more than a
//! few thousand blocks, so a range is read in chunks, oldest first.

use alloy::{providers::Provider, rpc::types::Filter, rpc::types::Log};

use crate::Error;

/// Blocks per `eth_getLogs` call: within what common providers accept.
pub const LOG_CHUNK: u64 = 5_000;

/// The logs `filter` matches in L1 blocks `from..=to` (the filter's own range is replaced).
///
/// # Errors
/// [`Error::Unreachable`] if a chunk cannot be read.
pub async fn logs<P: Provider>(
    provider: &P,
    filter: &Filter,
    from: u64,
    to: u64,
) -> Result<Vec<Log>, Error> {
    logs_in_chunks(provider, filter, from, to, LOG_CHUNK).await
}

/// [`logs`], `chunk` blocks per call (at least 1), for providers with tighter caps.
///
/// # Errors
/// [`Error::Unreachable`] if a chunk cannot be read.
pub async fn logs_in_chunks<P: Provider>(
    provider: &P,
    filter: &Filter,
    from: u64,
    to: u64,
    chunk: u64,
) -> Result<Vec<Log>, Error> {
    let mut logs = Vec::new();
    let mut start = from;
    while start <= to {
        let end = to.min(start.saturating_add(chunk.max(1) - 1));
        let chunk = filter.clone().from_block(start).to_block(end);
        logs.extend(
            provider
                .get_logs(&chunk)
                .await
                .map_err(Error::Unreachable)?,
        );
        if end == u64::MAX {
            break;
        }
        start = end + 1;
    }
    Ok(logs)
}

/// The logs `filter` matches from L1 block `from` to the latest.
///
/// # Errors
/// [`Error::Unreachable`] if the head or a chunk cannot be read.
pub async fn logs_since<P: Provider>(
    provider: &P,
    filter: &Filter,
    from: u64,
) -> Result<Vec<Log>, Error> {
    let latest = provider
        .get_block_number()
        .await
        .map_err(Error::Unreachable)?;
    logs(provider, filter, from, latest).await
}
