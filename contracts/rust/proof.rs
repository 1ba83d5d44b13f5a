//! The `SignerProof` a certificate or a circuit-breaker alert carries, built from who signed, who
//! was active and the registry's checkpoint hints at a strictly past reference block
//! (`docs/contracts.md`). The proof does not name the message: pass statement signatures for
//! `submitCertificate`, mismatch-report signatures for `raiseAlert`.

use std::collections::HashSet;

use alloy::{
    eips::BlockId,
    primitives::{Address, B256},
    providers::Provider,
};
use surety_primitives::{BlsError, PublicKey, Signature};

use crate::{
    Error,
    bindings::{CertificateVerifier::SignerProof, OperatorRegistry},
    tx::read,
};

/// Why a proof could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ProofError {
    /// Nothing to aggregate, or the signatures cancel out.
    #[error("cannot aggregate the signers' signatures")]
    Aggregate(#[source] BlsError),
    /// Reading the registry at the reference block failed.
    #[error(transparent)]
    L1(#[from] Error),
}

/// Builds the proof that `signers` signed a statement, against the operator set `active` at
/// `reference_block` (which must be strictly below the block the certificate lands in and within
/// the verifier's `maxReferenceAge`).
///
/// Non-signers are the keys of `active` that are not among `signers`, sorted ascending by key
/// hash as the verifier requires; the APK and the checkpoint hints are read from `registry` at
/// `reference_block`. A signer outside `active` is not rejected here: the verifier's pairing
/// check does that.
///
/// # Errors
/// [`ProofError::Aggregate`] for no signers, [`ProofError::L1`] if a registry read fails.
pub async fn signer_proof<P: Provider>(
    provider: &P,
    registry: Address,
    reference_block: u32,
    signers: &[(PublicKey, Signature)],
    active: &[PublicKey],
) -> Result<SignerProof, ProofError> {
    let signatures: Vec<Signature> = signers.iter().map(|(_, s)| *s).collect();
    let signature = Signature::aggregate(&signatures).map_err(ProofError::Aggregate)?;
    let signed: HashSet<B256> = signers.iter().map(|(k, _)| k.key_hash()).collect();
    let mut non_signers: Vec<(B256, &PublicKey)> = active
        .iter()
        .map(|k| (k.key_hash(), k))
        .filter(|(hash, _)| !signed.contains(hash))
        .collect();
    non_signers.sort_unstable_by_key(|(hash, _)| *hash);
    non_signers.dedup_by_key(|(hash, _)| *hash);

    let registry = OperatorRegistry::new(registry, provider);
    let hashes = non_signers.iter().map(|(hash, _)| *hash).collect();
    let hints = read(
        "OperatorRegistry.quorumHints",
        registry.quorumHints(reference_block, hashes),
    )
    .await?;
    let apk = read(
        "OperatorRegistry.apk at the reference block",
        registry
            .apk()
            .block(BlockId::number(reference_block.into())),
    )
    .await?;
    Ok(SignerProof {
        referenceBlock: reference_block,
        apkIndex: hints.apkIndex,
        totalStakeIndex: hints.totalIndex,
        apk,
        nonSignerKeys: non_signers
            .iter()
            .flat_map(|(_, k)| k.to_eip2537())
            .collect(),
        nonSignerStakeIndices: hints.nonSignerIndices,
        signature: signature.to_eip2537().into(),
    })
}
