//! Faults the devnet injects on request, to show what the system does about them.

use std::time::Duration;

use alloy::{
    primitives::{B256, keccak256},
    providers::{DynProvider, Provider},
};
use eyre::{WrapErr, eyre};
use rand::Rng;
use surety_primitives::{Attestation, Domain, SecretKey, Statement};
use surety_proto::v1::{self, aggregator_client::AggregatorClient};

/// When the aggregator chaos kills next: a uniformly random instant in `[period/2, 3·period/2]`.
pub(super) fn next_kill_in(period: Duration) -> Duration {
    period.mul_f64(rand::thread_rng().gen_range(0.5..1.5))
}

/// A double signer: operator `key` signs a second block at `height` — same parent as the real
/// block there, another hash and root — and the devnet sends it to every aggregator, as a
/// byzantine node would. Honest operators' slashing protection never does this.
pub(super) struct DoubleSign {
    pub(super) key: SecretKey,
    pub(super) height: u64,
    pub(super) rollup_id: u64,
    pub(super) domain: Domain,
}

impl DoubleSign {
    /// Signs the conflicting statement against the L2's real block at `height` and delivers
    /// it; returns a description of what each aggregator answered.
    pub(super) async fn inject(
        &self,
        l2: &DynProvider,
        aggregators: &[String],
    ) -> eyre::Result<String> {
        let block = l2
            .get_block_by_number(self.height.into())
            .await?
            .ok_or_else(|| eyre!("L2 block {} is not there", self.height))?;
        let statement = Statement {
            rollup_id: self.rollup_id,
            block_number: self.height,
            block_hash: keccak256(format!(
                "double-signed block {} on {}",
                self.height, block.header.parent_hash
            )),
            parent_hash: block.header.parent_hash,
            state_root: B256::repeat_byte(0xd5),
        };
        let attestation = Attestation {
            statement,
            public_key: self.key.public_key(),
            signature: self.key.sign(&statement.signing_root(&self.domain).0),
        };
        let mut answers = Vec::new();
        for url in aggregators {
            let answer = match deliver(url, &attestation).await {
                Ok(result) => result,
                Err(error) => format!("unreachable ({error})"),
            };
            answers.push(format!("{url}: {answer}"));
        }
        Ok(answers.join("; "))
    }
}

async fn deliver(url: &str, attestation: &Attestation) -> eyre::Result<String> {
    let mut client = tokio::time::timeout(
        Duration::from_secs(5),
        AggregatorClient::connect(url.to_owned()),
    )
    .await
    .wrap_err("connect timed out")??;
    let results = client
        .submit_attestations(v1::AttestationBatch {
            attestations: vec![attestation.into()],
        })
        .await?
        .into_inner()
        .results;
    Ok(results.first().map_or_else(
        || "no result".to_owned(),
        |r| match v1::Status::try_from(r.status) {
            Ok(v1::Status::Rejected) => format!("rejected ({})", r.reason),
            Ok(status) => status.as_str_name().to_lowercase(),
            Err(_) => format!("status {}", r.status),
        },
    ))
}
