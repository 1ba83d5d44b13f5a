//! Bringing an invalid-root fault to its end on L1: find the certificates submitted for a
//! rollup, accuse a wrong one, resolve the accusation once the canonical root settles, and slash
//! every signer (`docs/contracts.md`, "Evidence").
//!
//! Several watchers may race on the same certificate. Every step reads the state first and
//! treats "someone already did it" as done, so a late watcher never pays for a doomed
//! transaction and never reports a failure for work that is complete.

use alloy::{
    primitives::{Address, B256, U256},
    providers::Provider,
    rpc::types::Filter,
    sol_types::{SolCall, SolEvent},
};
use surety_primitives::Statement;

use crate::{
    Error,
    bindings::{
        CertificateVerifier::{self, SignerProof},
        OperatorRegistry, PostedRootSource, Slasher,
    },
    logs::logs,
    tx::{read, send},
};

/// A certificate as submitted to L1: its statement and the proof its submitter gave.
#[derive(Debug, Clone)]
pub struct SubmittedCertificate {
    pub statement: Statement,
    pub proof: SignerProof,
    /// `CertificateVerifier.certificateId(statement)`.
    pub id: B256,
    /// The L1 block it was recorded in.
    pub l1_block: u64,
}

/// `CertificateSubmitted` logs of `rollup_id` (indexed first) at `verifier`.
pub(crate) fn certificates_of(verifier: Address, rollup_id: u64) -> Filter {
    Filter::new()
        .address(verifier)
        .event_signature(CertificateVerifier::CertificateSubmitted::SIGNATURE_HASH)
        .topic1(U256::from(rollup_id))
}

/// Reads the certificates recorded for `rollup_id` in L1 blocks `from..=to`, with each one's
/// statement and signer proof decoded from its transaction.
///
/// # Errors
/// [`Error::Unreachable`] if the logs or a transaction cannot be read, [`Error::Malformed`] if a
/// certificate's transaction is not a direct `submitCertificate` call.
pub async fn submitted_certificates<P: Provider>(
    provider: &P,
    verifier: Address,
    rollup_id: u64,
    from: u64,
    to: u64,
) -> Result<Vec<SubmittedCertificate>, Error> {
    let logs = logs(provider, &certificates_of(verifier, rollup_id), from, to).await?;
    let mut certificates = Vec::with_capacity(logs.len());
    for log in logs {
        let malformed = Error::Malformed {
            what: "a CertificateSubmitted transaction",
        };
        let (Some(tx), Some(l1_block)) = (log.transaction_hash, log.block_number) else {
            return Err(malformed);
        };
        let tx = provider
            .get_transaction_by_hash(tx)
            .await
            .map_err(Error::Unreachable)?
            .ok_or(malformed)?;
        let call = CertificateVerifier::submitCertificateCall::abi_decode(
            alloy::consensus::Transaction::input(&tx),
        )
        .map_err(|_| Error::Malformed {
            what: "a CertificateSubmitted transaction's calldata",
        })?;
        let s = call.statement;
        let statement = Statement {
            rollup_id: s.rollupId,
            block_number: s.blockNumber,
            block_hash: s.blockHash,
            parent_hash: s.parentHash,
            state_root: s.stateRoot,
        };
        certificates.push(SubmittedCertificate {
            id: statement.certificate_id(),
            statement,
            proof: call.proof,
            l1_block,
        });
    }
    Ok(certificates)
}

/// Who a faulty certificate's slashing names: its non-signers as recorded, and every other
/// operator active at its reference block with the stake-history index that proves it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Signers {
    pub non_signers: Vec<B256>,
    pub operators: Vec<Address>,
    pub stake_indices: Vec<u32>,
}

/// Reconstructs the signers of `certificate` from the registry's key registrations and its
/// stake history at the reference block.
///
/// # Errors
/// [`Error::Unreachable`] or [`Error::Read`] if the registry cannot be read.
pub async fn signers<P: Provider>(
    provider: &P,
    registry: Address,
    certificate: &SubmittedCertificate,
) -> Result<Signers, Error> {
    let mut non_signers: Vec<B256> = certificate
        .proof
        .nonSignerKeys
        .chunks(256)
        .map(alloy::primitives::keccak256)
        .collect();
    non_signers.sort_unstable();
    let filter = Filter::new()
        .address(registry)
        .event_signature(OperatorRegistry::KeyRegistered::SIGNATURE_HASH);
    let logs = logs(provider, &filter, 0, certificate.l1_block).await?;
    let registry = OperatorRegistry::new(registry, provider);
    let reference = certificate.proof.referenceBlock;
    let mut signers = Signers {
        non_signers,
        ..Signers::default()
    };
    for log in logs {
        let Ok(event) = log.log_decode::<OperatorRegistry::KeyRegistered>() else {
            continue;
        };
        let (operator, key_hash) = (event.inner.operator, event.inner.keyHash);
        if signers.non_signers.binary_search(&key_hash).is_ok()
            || signers.operators.contains(&operator)
        {
            continue;
        }
        // No checkpoint at or before the reference block: not an operator then.
        let Ok(index) = registry.stakeIndexAt(key_hash, reference).call().await else {
            continue;
        };
        let index = u32::try_from(index).map_err(|_| Error::Malformed {
            what: "OperatorRegistry.stakeIndexAt",
        })?;
        let at = read(
            "OperatorRegistry.stakeAt",
            registry.stakeAt(key_hash, reference, U256::from(index)),
        )
        .await?;
        if at.active {
            signers.operators.push(operator);
            signers.stake_indices.push(index);
        }
    }
    Ok(signers)
}

/// Where an invalid-root fault stands on L1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultState {
    /// Recorded and not proven wrong, no accusation pending.
    Standing,
    /// Someone accused it; the canonical root has not settled yet.
    Accused,
    /// Proven wrong: its signers can be slashed.
    Faulty,
}

/// The fault state of the certificate with id `id`.
///
/// # Errors
/// [`Error::Read`] if a view fails.
pub async fn fault_state<P: Provider>(
    provider: &P,
    verifier: Address,
    slasher: Address,
    id: B256,
) -> Result<FaultState, Error> {
    let certificate = read(
        "CertificateVerifier.getCertificate",
        CertificateVerifier::new(verifier, provider).getCertificate(id),
    )
    .await?;
    if certificate.faulty {
        return Ok(FaultState::Faulty);
    }
    let accusation = read(
        "Slasher.accusations",
        Slasher::new(slasher, provider).accusations(id),
    )
    .await?;
    Ok(if accusation.accuser == Address::ZERO {
        FaultState::Standing
    } else {
        FaultState::Accused
    })
}

/// The settled canonical state root of `block_number`, if the rollup's source has one.
///
/// # Errors
/// [`Error::Read`] if a view fails.
pub async fn canonical_root<P: Provider>(
    provider: &P,
    verifier: Address,
    rollup_id: u64,
    block_number: u64,
) -> Result<Option<B256>, Error> {
    let source = read(
        "CertificateVerifier.rootSource",
        CertificateVerifier::new(verifier, provider).rootSource(rollup_id),
    )
    .await?;
    let answer = read(
        "ICanonicalRootSource.canonicalStateRoot",
        PostedRootSource::new(source, provider).canonicalStateRoot(block_number),
    )
    .await?;
    Ok(answer.settled.then_some(answer.stateRoot))
}

/// Accuses the certificate on `statement` of a wrong root, posting the slasher's bond. Returns
/// `false` without sending anything if it is already accused or proven faulty.
///
/// # Errors
/// As [`send`] and [`read`].
pub async fn accuse<P: Provider>(
    provider: &P,
    verifier: Address,
    slasher: Address,
    statement: &Statement,
) -> Result<bool, Error> {
    let id = statement.certificate_id();
    if fault_state(provider, verifier, slasher, id).await? != FaultState::Standing {
        return Ok(false);
    }
    let slasher = Slasher::new(slasher, provider);
    let bond = read("Slasher.accusationBond", slasher.accusationBond()).await?;
    send(
        "accuse an invalid root",
        slasher.accuseInvalidRoot((*statement).into()).value(bond),
    )
    .await?;
    Ok(true)
}

/// Judges the pending accusation against `statement` once its canonical root has settled.
/// Returns `false` without sending anything if there is nothing to judge (no accusation, or
/// already faulty) or the root has not settled.
///
/// # Errors
/// As [`send`] and [`read`].
pub async fn resolve<P: Provider>(
    provider: &P,
    verifier: Address,
    slasher: Address,
    statement: &Statement,
) -> Result<bool, Error> {
    let id = statement.certificate_id();
    if fault_state(provider, verifier, slasher, id).await? != FaultState::Accused
        || canonical_root(
            provider,
            verifier,
            statement.rollup_id,
            statement.block_number,
        )
        .await?
        .is_none()
    {
        return Ok(false);
    }
    send(
        "resolve the accusation",
        Slasher::new(slasher, provider).resolveAccusation((*statement).into()),
    )
    .await?;
    Ok(true)
}

/// Slashes every signer of the faulty `certificate` not punished for its height yet. Returns the
/// operators slashed by this call (empty, and nothing sent, if all already were).
///
/// # Errors
/// As [`send`], [`read`] and [`signers`].
pub async fn slash_signers<P: Provider>(
    provider: &P,
    registry: Address,
    slasher: Address,
    certificate: &SubmittedCertificate,
) -> Result<Vec<Address>, Error> {
    let found = signers(provider, registry, certificate).await?;
    let contract = Slasher::new(slasher, provider);
    let s = &certificate.statement;
    let mut pending = Signers {
        non_signers: found.non_signers.clone(),
        ..Signers::default()
    };
    for (operator, index) in found.operators.iter().zip(&found.stake_indices) {
        let key = read(
            "Slasher.faultKey",
            contract.faultKey(*operator, s.rollup_id, s.block_number),
        )
        .await?;
        if !read("Slasher.used", contract.used(key)).await? {
            pending.operators.push(*operator);
            pending.stake_indices.push(*index);
        }
    }
    if pending.operators.is_empty() {
        return Ok(Vec::new());
    }
    send(
        "slash the certificate's signers",
        contract.slashCertificateSigners(
            (*s).into(),
            pending.non_signers,
            pending.operators.clone(),
            pending.stake_indices,
        ),
    )
    .await?;
    Ok(pending.operators)
}
