//! Runs Ethereum's BlockchainTest fixtures (execution-spec-tests) through the engine: the same
//! [`ExecutionKind::verify`] path, redb state store and incremental trie the follower uses, on an
//! in-memory redb backend.
//!
//! Per case: the genesis state from `pre` must hash to the genesis header's root; each block is
//! decoded from its `rlp`; a valid block must be accepted with every computed header field equal
//! (state root, receipts root, logs bloom, gas used, blob gas used, requests hash) and its hash
//! equal to the fixture's; a block with `expectException` must be rejected and leave the state
//! as it was; the chain must end on `lastblockhash` with exactly `postState`.

mod fixture;

use alloy_consensus::{Block, TxEnvelope};
use alloy_primitives::{B256, U256};
use alloy_rlp::Decodable;
use std::{
    collections::BTreeMap,
    fmt,
    path::{Path, PathBuf},
};

use crate::{
    execution::{BlockInput, EthereumHardfork, EthereumRules, ExecutionKind},
    state::{StateError, StateStore, Verdict},
};
use fixture::{Case, FixtureAccount};

/// One case that did not pass, with the first difference found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// `<file>::<test id>`, or the file alone when it could not be read.
    pub case: String,
    pub difference: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FAIL {}: {}", self.case, self.difference)
    }
}

/// Counts of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub passed: usize,
    pub failed: usize,
    /// Cases of networks other than Cancun and Prague.
    pub skipped: usize,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        )
    }
}

enum Outcome {
    Passed,
    Skipped,
    Failed(String),
}

/// Runs every fixture in `paths` (files, or directories searched recursively for `*.json`) and
/// reports each failure to `on_failure` as it happens.
pub fn run(paths: &[PathBuf], mut on_failure: impl FnMut(&Failure)) -> Summary {
    let mut summary = Summary::default();
    let mut fail = |summary: &mut Summary, failure: Failure| {
        summary.failed += 1;
        on_failure(&failure);
    };
    let mut files = Vec::new();
    for path in paths {
        if let Err(error) = collect_json(path, &mut files) {
            fail(
                &mut summary,
                Failure {
                    case: path.display().to_string(),
                    difference: format!("reading: {error}"),
                },
            );
        }
    }
    for file in files {
        let cases = match read_cases(&file) {
            Ok(cases) => cases,
            Err(difference) => {
                fail(
                    &mut summary,
                    Failure {
                        case: file.display().to_string(),
                        difference,
                    },
                );
                continue;
            }
        };
        for (id, case) in cases {
            match run_case(&case) {
                Outcome::Passed => summary.passed += 1,
                Outcome::Skipped => summary.skipped += 1,
                Outcome::Failed(difference) => fail(
                    &mut summary,
                    Failure {
                        case: format!("{}::{id}", file.display()),
                        difference,
                    },
                ),
            }
        }
    }
    summary
}

fn collect_json(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_dir() {
        let mut entries = std::fs::read_dir(path)?
            .map(|entry| entry.map(|e| e.path()))
            .collect::<Result<Vec<_>, _>>()?;
        entries.sort();
        for entry in entries {
            if entry.is_dir() || entry.extension().is_some_and(|ext| ext == "json") {
                collect_json(&entry, out)?;
            }
        }
    } else {
        std::fs::metadata(path)?;
        out.push(path.to_owned());
    }
    Ok(())
}

fn read_cases(file: &Path) -> Result<BTreeMap<String, Case>, String> {
    let json = std::fs::read(file).map_err(|e| format!("reading: {e}"))?;
    serde_json::from_slice(&json).map_err(|e| format!("parsing: {e}"))
}

fn run_case(case: &Case) -> Outcome {
    let fork = match case.network.as_str() {
        "Cancun" => EthereumHardfork::Cancun,
        "Prague" => EthereumHardfork::Prague,
        _ => return Outcome::Skipped,
    };
    match check_case(case, fork) {
        Ok(()) => Outcome::Passed,
        Err(difference) => Outcome::Failed(difference),
    }
}

/// How the engine took one block.
enum Import {
    Accepted(B256),
    Rejected(String),
}

fn check_case(case: &Case, fork: EthereumHardfork) -> Result<(), String> {
    let chain_id = case.config.as_ref().map_or(1, |c| c.chainid.to());
    let kind = ExecutionKind::Ethereum(EthereumRules::new(chain_id, fork));
    let store = StateStore::in_memory().map_err(store_error)?;

    let genesis = decode_block(&case.genesis_rlp).map_err(|e| format!("genesis RLP: {e}"))?;
    let genesis_hash = genesis.header.hash_slow();
    if genesis_hash != case.genesis_block_header.hash {
        return Err(format!(
            "genesis hash {genesis_hash}, fixture says {}",
            case.genesis_block_header.hash
        ));
    }
    let root = store
        .bootstrap(&genesis.header, fixture::pre_state(&case.pre))
        .map_err(store_error)?;
    if root != genesis.header.state_root {
        return Err(format!(
            "genesis state root {root}, header says {}",
            genesis.header.state_root
        ));
    }

    for (index, block) in case.blocks.iter().enumerate() {
        let before = store
            .head()
            .ok_or_else(|| store_error(StateError::NotBootstrapped))?;
        let import = import(&kind, &store, &block.rlp).map_err(store_error)?;
        match (&block.expect_exception, import) {
            (None, Import::Accepted(hash)) => {
                if let Some(expected) = block.block_header.as_ref().map(|h| h.hash)
                    && expected != hash
                {
                    return Err(format!(
                        "block {index}: hash {hash}, fixture says {expected}"
                    ));
                }
            }
            (None, Import::Rejected(reason)) => {
                return Err(format!("block {index}: valid block rejected: {reason}"));
            }
            (Some(exception), Import::Accepted(_)) => {
                return Err(format!(
                    "block {index}: accepted, fixture expects {exception}"
                ));
            }
            (Some(_), Import::Rejected(_)) => {
                let after = store.head();
                let root = store.full_state_root().map_err(store_error)?;
                if after != Some(before) || root != before.state_root {
                    return Err(format!(
                        "block {index}: rejected but the state changed (head {after:?}, root {root})"
                    ));
                }
            }
        }
    }

    let head = store
        .head()
        .ok_or_else(|| store_error(StateError::NotBootstrapped))?;
    if head.hash != case.lastblockhash {
        return Err(format!(
            "last block {}, fixture says {}",
            head.hash, case.lastblockhash
        ));
    }
    if let Some(expected) = &case.post_state_hash
        && *expected != head.state_root
    {
        return Err(format!(
            "post-state root {}, fixture says {expected}",
            head.state_root
        ));
    }
    match &case.post_state {
        Some(post) => check_post_state(&store, post),
        None => Ok(()),
    }
}

/// Decodes and verifies one block; `Rejected` covers undecodable blocks, bodies that do not
/// match their header, and every invalid or mismatching verdict.
fn import(kind: &ExecutionKind, store: &StateStore, rlp: &[u8]) -> Result<Import, StateError> {
    let block = match decode_block(rlp) {
        Ok(block) => block,
        Err(error) => return Ok(Import::Rejected(format!("RLP: {error}"))),
    };
    let input = match BlockInput::from_block(block) {
        Ok(input) => input,
        Err(reason) => return Ok(Import::Rejected(reason.to_string())),
    };
    let verified = match kind.verify(store, &input, || rlp.to_vec()) {
        Ok(verified) => verified,
        Err(crate::execution::ExecutionError::State(error)) => return Err(error),
        Err(other) => return Ok(Import::Rejected(other.to_string())),
    };
    Ok(match verified.verdict {
        Verdict::Match(_) => Import::Accepted(input.hash),
        Verdict::Mismatch { claimed, computed } => {
            Import::Rejected(format!("state root {computed}, header says {claimed}"))
        }
        Verdict::Invalid { reason } => Import::Rejected(reason),
    })
}

fn decode_block(mut rlp: &[u8]) -> Result<Block<TxEnvelope>, alloy_rlp::Error> {
    let block = Block::<TxEnvelope>::decode(&mut rlp)?;
    if !rlp.is_empty() {
        return Err(alloy_rlp::Error::Custom("trailing bytes after the block"));
    }
    Ok(block)
}

/// The store must hold exactly `post`: every account with its nonce, balance, code and
/// non-zero storage, and nothing else.
fn check_post_state(
    store: &StateStore,
    post: &BTreeMap<alloy_primitives::Address, FixtureAccount>,
) -> Result<(), String> {
    let reader = store.reader().map_err(store_error)?;
    let accounts = reader.dump().map_err(store_error)?;
    for account in &accounts {
        let Some(expected) = post.get(&account.address) else {
            return Err(format!(
                "post state: unexpected account {}",
                account.address
            ));
        };
        let address = account.address;
        let code_hash = alloy_primitives::keccak256(&expected.code);
        let expected_code_hash = if expected.code.is_empty() {
            alloy_trie::KECCAK_EMPTY
        } else {
            code_hash
        };
        if account.state.nonce != expected.nonce.to::<u64>() {
            return Err(format!(
                "post state {address}: nonce {}, fixture says {}",
                account.state.nonce, expected.nonce
            ));
        }
        if account.state.balance != expected.balance {
            return Err(format!(
                "post state {address}: balance {}, fixture says {}",
                account.state.balance, expected.balance
            ));
        }
        if account.state.code_hash != expected_code_hash {
            return Err(format!(
                "post state {address}: code hash {}, fixture's code hashes to {expected_code_hash}",
                account.state.code_hash
            ));
        }
        let expected_storage: Vec<(U256, U256)> = expected
            .storage
            .iter()
            .filter(|(_, value)| !value.is_zero())
            .map(|(slot, value)| (*slot, *value))
            .collect();
        if let Some(difference) = first_storage_difference(&account.storage, &expected_storage) {
            return Err(format!("post state {address}: {difference}"));
        }
    }
    if accounts.len() != post.len() {
        let missing = post
            .keys()
            .find(|address| !accounts.iter().any(|a| a.address == **address));
        return Err(format!("post state: missing account {missing:?}"));
    }
    Ok(())
}

fn first_storage_difference(actual: &[(U256, U256)], expected: &[(U256, U256)]) -> Option<String> {
    let actual: BTreeMap<_, _> = actual.iter().copied().collect();
    let expected: BTreeMap<_, _> = expected.iter().copied().collect();
    let slots = actual.keys().chain(expected.keys());
    slots.into_iter().find_map(|slot| {
        let (got, want) = (actual.get(slot), expected.get(slot));
        (got != want).then(|| format!("slot {slot:#x}: {got:?}, fixture says {want:?}"))
    })
}

fn store_error(error: StateError) -> String {
    format!("state store: {error}")
}
