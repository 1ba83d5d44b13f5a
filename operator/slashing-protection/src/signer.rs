use std::{fmt, sync::Arc};

use alloy_primitives::B256;
use surety_primitives::{Domain, Mismatch, SecretKey, Signature, Statement};
use tracing::{error, warn};

use super::{
    database::{PublicKeyBytes, SlashingDatabase},
    error::{Error, Refusal},
    heads::VerifiedHeads,
    metrics::SignerMetrics,
};

/// The only way to turn a statement into a released signature: guards, then a durable record,
/// then the BLS signature. If anything fails, no signature exists outside this call.
pub struct ProtectedSigner<H> {
    db: SlashingDatabase,
    secret: SecretKey,
    pubkey: PublicKeyBytes,
    heads: H,
    metrics: Arc<SignerMetrics>,
}

impl<H: VerifiedHeads> ProtectedSigner<H> {
    pub fn new(db: SlashingDatabase, secret: SecretKey, heads: H) -> Self {
        let pubkey = secret.public_key().to_bytes();
        Self {
            db,
            secret,
            pubkey,
            heads,
            metrics: Arc::default(),
        }
    }

    /// The compressed G2 key whose history this signer protects.
    pub const fn public_key(&self) -> &PublicKeyBytes {
        &self.pubkey
    }

    pub const fn database(&self) -> &SlashingDatabase {
        &self.db
    }

    pub const fn metrics(&self) -> &Arc<SignerMetrics> {
        &self.metrics
    }

    /// Forgets this key's records on `rollup_id` at heights `<= up_to` and raises its low
    /// watermark to `up_to` (one durable commit), as Lighthouse prunes below finality: the
    /// history stays bounded, and every height at or below the watermark stays refused
    /// ([`Refusal::BelowWatermark`]) — a pruned record can never be replaced by a conflicting
    /// signature. Returns the number of records deleted.
    pub fn prune(&self, rollup_id: u64, up_to: u64) -> Result<u64, Error> {
        let deleted = self.db.prune(&self.pubkey, rollup_id, up_to)?;
        self.metrics.pruned(deleted);
        Ok(deleted)
    }

    /// Signs one statement after recording it durably (one commit).
    pub fn sign(&self, domain: &Domain, statement: &Statement) -> Result<Signature, Error> {
        let signing_root = statement.signing_root(domain);
        self.authorize(domain, &[(*statement, signing_root)])?;
        Ok(self.secret.sign(&signing_root.0))
    }

    /// Signs all `statements` after recording them in one durable commit, or none of them: a
    /// single refusal (including a conflict between two statements of the batch) refuses the
    /// batch. Signatures are returned in the order of `statements`.
    pub fn sign_batch(
        &self,
        domain: &Domain,
        statements: &[Statement],
    ) -> Result<Vec<Signature>, Error> {
        let roots: Vec<(Statement, B256)> = statements
            .iter()
            .map(|s| (*s, s.signing_root(domain)))
            .collect();
        self.authorize(domain, &roots)?;
        Ok(roots
            .iter()
            .map(|(_, root)| self.secret.sign(&root.0))
            .collect())
    }

    /// Signs a mismatch report. Reports carry their own domain tag and can never count as an
    /// attestation nor conflict with one, so they need no record; only the L1 domain is checked.
    pub fn sign_mismatch(&self, domain: &Domain, mismatch: &Mismatch) -> Result<Signature, Error> {
        let stored = *self.db.domain();
        if *domain != stored {
            return Err(Refusal::WrongDomain {
                stored,
                requested: *domain,
            }
            .into());
        }
        Ok(self.secret.sign(&mismatch.signing_root(domain).0))
    }

    /// Returns `Ok` only once every statement is durably recorded (or was already).
    fn authorize(&self, domain: &Domain, statements: &[(Statement, B256)]) -> Result<(), Error> {
        let result = self.guard(domain, statements).and_then(|()| {
            let recorded = self.db.record(&self.pubkey, statements)?;
            self.metrics.released(recorded.new, recorded.repeated);
            Ok(())
        });
        if let Err(err) = &result {
            self.metrics.failed(err);
            match err {
                Error::Refused(Refusal::Conflict { .. }) => {
                    error!(%err, "refused a conflicting statement (double signing)");
                }
                Error::Refused(_) => warn!(%err, "refused to sign"),
                _ => error!(?err, "slashing-protection storage failed; not signing"),
            }
        }
        result
    }

    fn guard(&self, domain: &Domain, statements: &[(Statement, B256)]) -> Result<(), Error> {
        let stored = *self.db.domain();
        if *domain != stored {
            return Err(Refusal::WrongDomain {
                stored,
                requested: *domain,
            }
            .into());
        }
        for (statement, _) in statements {
            let (rollup_id, block_number) = (statement.rollup_id, statement.block_number);
            let chain = self
                .heads
                .chain(rollup_id)
                .ok_or(Refusal::UnknownRollup { rollup_id })?;
            let head = chain.verified_head().unwrap_or(0);
            let beyond = Refusal::BeyondVerifiedHead {
                rollup_id,
                block_number,
                head,
            };
            if block_number > head {
                return Err(beyond.into());
            }
            let verified = chain
                .verified_block(block_number)
                .map_err(Error::VerifiedChain)?
                .ok_or(beyond)?;
            if !verified.matches(statement) {
                return Err(Refusal::NotVerified {
                    rollup_id,
                    verified: Box::new(verified),
                    requested: Box::new(*statement),
                }
                .into());
            }
        }
        Ok(())
    }
}

impl<H> fmt::Debug for ProtectedSigner<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProtectedSigner")
            .field(
                "pubkey",
                &alloy_primitives::hex::encode_prefixed(self.pubkey),
            )
            .field("domain", self.db.domain())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use alloy_primitives::Address;
    use redb::backends::InMemoryBackend;

    use super::*;
    use crate::heads::{ChainError, VerifiedBlock, VerifiedChain};

    const DOMAIN: Domain = Domain::new(1, Address::repeat_byte(0x5e));

    /// A verified chain whose block at every height up to `head` is `block`, with `root`.
    struct Fixed {
        head: u64,
        block: u8,
        root: u8,
    }

    impl VerifiedChain for Fixed {
        fn verified_head(&self) -> Option<u64> {
            Some(self.head)
        }

        fn verified_block(&self, number: u64) -> Result<Option<VerifiedBlock>, ChainError> {
            Ok((number <= self.head).then(|| VerifiedBlock {
                number,
                hash: B256::repeat_byte(self.block),
                parent_hash: B256::ZERO,
                state_root: B256::repeat_byte(self.root),
            }))
        }
    }

    fn statement(number: u64, block: u8, root: u8) -> Statement {
        Statement {
            rollup_id: 1,
            block_number: number,
            block_hash: B256::repeat_byte(block),
            parent_hash: B256::ZERO,
            state_root: B256::repeat_byte(root),
        }
    }

    fn signer(block: u8, root: u8, db: SlashingDatabase) -> ProtectedSigner<HashMap<u64, Fixed>> {
        let chain = Fixed {
            head: 10,
            block,
            root,
        };
        ProtectedSigner::new(
            db,
            SecretKey::from_ikm(&[7; 32]),
            HashMap::from([(1, chain)]),
        )
    }

    fn below_watermark(result: Result<Signature, Error>) -> bool {
        matches!(
            result,
            Err(Error::Refused(Refusal::BelowWatermark { watermark: 5, .. }))
        )
    }

    /// Heights whose records were pruned are refused, whether the request repeats the pruned
    /// statement or conflicts with it: pruning never turns into a second signature at a height.
    #[test]
    fn a_pruned_height_is_refused_never_signed_again() {
        let db = SlashingDatabase::create_with_backend(InMemoryBackend::new(), &DOMAIN).unwrap();
        let original = signer(0xaa, 0x01, db);
        for number in 1..=8 {
            original
                .sign(&DOMAIN, &statement(number, 0xaa, 0x01))
                .unwrap();
        }
        assert_eq!(original.prune(1, 5).unwrap(), 5);
        assert_eq!(original.metrics().snapshot().pruned, 5);
        for number in 1..=5 {
            assert!(below_watermark(
                original.sign(&DOMAIN, &statement(number, 0xaa, 0x01))
            ));
            assert!(
                original
                    .database()
                    .signed_at(original.public_key(), 1, number)
                    .unwrap()
                    .is_none()
            );
        }
        // Above the watermark the history is intact: a repeat is served.
        assert!(original.sign(&DOMAIN, &statement(6, 0xaa, 0x01)).is_ok());

        // The chain is then replaced (a reorg below the watermark, or another verified branch):
        // the conflicting statements it verified are refused at every pruned height.
        let db = original.db;
        let replaced = signer(0xbb, 0x02, db);
        assert!(matches!(
            replaced.sign(&DOMAIN, &statement(6, 0xbb, 0x02)),
            Err(Error::Refused(Refusal::Conflict { .. }))
        ));
        for number in 0..=5 {
            assert!(below_watermark(
                replaced.sign(&DOMAIN, &statement(number, 0xbb, 0x02))
            ));
        }
        assert!(below_watermark(
            replaced
                .sign_batch(
                    &DOMAIN,
                    &[statement(9, 0xbb, 0x02), statement(4, 0xbb, 0x02)]
                )
                .map(|mut signatures| signatures.remove(0))
        ));
        assert_eq!(replaced.metrics().snapshot().below_watermark, 7);
        // Pruning again below the watermark never lowers it.
        assert_eq!(replaced.prune(1, 3).unwrap(), 0);
        assert_eq!(
            replaced
                .database()
                .low_watermark(replaced.public_key(), 1)
                .unwrap(),
            Some(5)
        );
        assert!(below_watermark(
            replaced.sign(&DOMAIN, &statement(4, 0xbb, 0x02))
        ));
    }
}
