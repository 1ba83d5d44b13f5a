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
        let attestation = attest(&self.key, statement, &self.domain);
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

/// `key`'s attestation of `statement` in `domain`.
fn attest(key: &SecretKey, statement: Statement, domain: &Domain) -> Attestation {
    Attestation {
        statement,
        public_key: key.public_key(),
        signature: key.sign(&statement.signing_root(domain).0),
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

/// Byzantine operators: their nodes do not run; the devnet signs for them — the L2's true
/// blocks below `at`, and at `at` the true block with a wrong state root. Together they hold at
/// least the rollup's threshold, so the wrong root gets certified.
pub(super) struct Byzantine {
    pub(super) keys: Vec<SecretKey>,
    pub(super) at: u64,
    pub(super) rollup_id: u64,
    pub(super) domain: Domain,
    pub(super) signed_up_to: u64,
}

/// The root the byzantine operators certify.
pub(super) const WRONG_ROOT: B256 = B256::repeat_byte(0xba);

impl Byzantine {
    /// Signs and delivers every L2 block up to `l2_head` (and `at`) not signed yet; returns the
    /// wrong statement once it has been sent.
    pub(super) async fn step(
        &mut self,
        l2: &DynProvider,
        l2_head: u64,
        aggregators: &[String],
    ) -> eyre::Result<Option<Statement>> {
        let mut wrong = None;
        while self.signed_up_to < l2_head.min(self.at) {
            let height = self.signed_up_to + 1;
            let block = l2
                .get_block_by_number(height.into())
                .await?
                .ok_or_else(|| eyre!("L2 block {height} is not there"))?;
            let mut statement = Statement {
                rollup_id: self.rollup_id,
                block_number: height,
                block_hash: block.header.hash,
                parent_hash: block.header.parent_hash,
                state_root: block.header.state_root,
            };
            if height == self.at {
                statement.state_root = WRONG_ROOT;
                wrong = Some(statement);
            }
            let attestations: Vec<v1::Attestation> = self
                .keys
                .iter()
                .map(|key| (&attest(key, statement, &self.domain)).into())
                .collect();
            for url in aggregators {
                // An aggregator that is down misses them, as it would a real operator's.
                if let Err(error) = deliver_batch(url, attestations.clone()).await {
                    tracing::debug!(%url, %error, "byzantine delivery failed");
                }
            }
            self.signed_up_to = height;
        }
        Ok(wrong)
    }
}

async fn deliver_batch(
    url: &str,
    attestations: Vec<v1::Attestation>,
) -> eyre::Result<Vec<v1::AttestationResult>> {
    let mut client = tokio::time::timeout(
        Duration::from_secs(5),
        AggregatorClient::connect(url.to_owned()),
    )
    .await
    .wrap_err("connect timed out")??;
    Ok(client
        .submit_attestations(v1::AttestationBatch { attestations })
        .await?
        .into_inner()
        .results)
}
