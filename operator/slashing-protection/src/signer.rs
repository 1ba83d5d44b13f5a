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
