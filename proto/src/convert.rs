//! The one place protobuf messages become validated `surety-primitives` types and back.
//!
//! Decoding is strict: every hash is exactly 32 bytes and non-zero, keys and signatures decode
//! only if canonical, on the curve, in the subgroup and not infinity. What passes here has the
//! right shape; whether it is *true* (a registered key, a valid signature, a known rollup) is the
//! receiver's business.

use alloy_primitives::B256;
use surety_primitives::{
    Attestation, DecodeError, Mismatch, MismatchReport, PublicKey, Signature, Statement,
};

use crate::v1;

/// Why a message has the wrong shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtoError {
    #[error("missing field `{0}`")]
    Missing(&'static str),
    #[error("`{field}` must be {expected} bytes, got {got}")]
    Length {
        field: &'static str,
        expected: usize,
        got: usize,
    },
    #[error("`{0}` must not be zero")]
    Zero(&'static str),
    #[error("`public_key`: {0}")]
    PublicKey(DecodeError),
    #[error("`signature`: {0}")]
    Signature(DecodeError),
    #[error("block 0 is the registered genesis and is never attested")]
    Genesis,
}

fn hash(field: &'static str, bytes: &[u8]) -> Result<B256, ProtoError> {
    let hash = B256::try_from(bytes).map_err(|_| ProtoError::Length {
        field,
        expected: 32,
        got: bytes.len(),
    })?;
    if hash.is_zero() {
        return Err(ProtoError::Zero(field));
    }
    Ok(hash)
}

fn public_key(bytes: &[u8]) -> Result<PublicKey, ProtoError> {
    if bytes.len() != PublicKey::COMPRESSED_LEN {
        return Err(ProtoError::Length {
            field: "public_key",
            expected: PublicKey::COMPRESSED_LEN,
            got: bytes.len(),
        });
    }
    PublicKey::from_bytes(bytes).map_err(ProtoError::PublicKey)
}

fn signature(bytes: &[u8]) -> Result<Signature, ProtoError> {
    if bytes.len() != Signature::COMPRESSED_LEN {
        return Err(ProtoError::Length {
            field: "signature",
            expected: Signature::COMPRESSED_LEN,
            got: bytes.len(),
        });
    }
    Signature::from_bytes(bytes).map_err(ProtoError::Signature)
}

fn block_number(number: u64) -> Result<u64, ProtoError> {
    if number == 0 {
        return Err(ProtoError::Genesis);
    }
    Ok(number)
}

impl TryFrom<&v1::Statement> for Statement {
    type Error = ProtoError;

    fn try_from(s: &v1::Statement) -> Result<Self, ProtoError> {
        Ok(Self {
            rollup_id: s.rollup_id,
            block_number: block_number(s.block_number)?,
            block_hash: hash("block_hash", &s.block_hash)?,
            parent_hash: hash("parent_hash", &s.parent_hash)?,
            state_root: hash("state_root", &s.state_root)?,
        })
    }
}

impl From<&Statement> for v1::Statement {
    fn from(s: &Statement) -> Self {
        Self {
            rollup_id: s.rollup_id,
            block_number: s.block_number,
            block_hash: s.block_hash.to_vec(),
            parent_hash: s.parent_hash.to_vec(),
            state_root: s.state_root.to_vec(),
        }
    }
}

impl TryFrom<&v1::Attestation> for Attestation {
    type Error = ProtoError;

    fn try_from(a: &v1::Attestation) -> Result<Self, ProtoError> {
        let statement = a
            .statement
            .as_ref()
            .ok_or(ProtoError::Missing("statement"))?;
        Ok(Self {
            statement: statement.try_into()?,
            public_key: public_key(&a.public_key)?,
            signature: signature(&a.signature)?,
        })
    }
}

/// As `Attestation::try_from`, but the key is first looked up with `known` (keys validated
/// before, such as a registry snapshot's), so only unknown keys pay for decoding and the
/// subgroup check: the receiver's hot path.
pub fn attestation_with_known_keys(
    a: &v1::Attestation,
    known: impl FnOnce(&[u8]) -> Option<PublicKey>,
) -> Result<Attestation, ProtoError> {
    let statement = a
        .statement
        .as_ref()
        .ok_or(ProtoError::Missing("statement"))?;
    let statement = statement.try_into()?;
    let public_key = match known(&a.public_key) {
        Some(key) => key,
        None => public_key(&a.public_key)?,
    };
    Ok(Attestation {
        statement,
        public_key,
        signature: signature(&a.signature)?,
    })
}

impl From<&Attestation> for v1::Attestation {
    fn from(a: &Attestation) -> Self {
        Self {
            statement: Some((&a.statement).into()),
            public_key: a.public_key.to_bytes().to_vec(),
            signature: a.signature.to_bytes().to_vec(),
        }
    }
}

impl TryFrom<&v1::MismatchReport> for MismatchReport {
    type Error = ProtoError;

    fn try_from(r: &v1::MismatchReport) -> Result<Self, ProtoError> {
        Ok(Self {
            mismatch: Mismatch {
                rollup_id: r.rollup_id,
                block_number: block_number(r.block_number)?,
                block_hash: hash("block_hash", &r.block_hash)?,
                parent_hash: hash("parent_hash", &r.parent_hash)?,
                claimed_state_root: hash("claimed_state_root", &r.claimed_state_root)?,
                computed_state_root: hash("computed_state_root", &r.computed_state_root)?,
            },
            public_key: public_key(&r.public_key)?,
            signature: signature(&r.signature)?,
        })
    }
}

impl From<&MismatchReport> for v1::MismatchReport {
    fn from(r: &MismatchReport) -> Self {
        let m = &r.mismatch;
        Self {
            rollup_id: m.rollup_id,
            block_number: m.block_number,
            block_hash: m.block_hash.to_vec(),
            parent_hash: m.parent_hash.to_vec(),
            claimed_state_root: m.claimed_state_root.to_vec(),
            computed_state_root: m.computed_state_root.to_vec(),
            public_key: r.public_key.to_bytes().to_vec(),
            signature: r.signature.to_bytes().to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::Address;
    use surety_primitives::{Domain, SecretKey};

    fn attestation() -> Attestation {
        let key = SecretKey::from_ikm(&[7; 32]);
        let statement = Statement {
            rollup_id: 1,
            block_number: 5,
            block_hash: B256::repeat_byte(1),
            parent_hash: B256::repeat_byte(2),
            state_root: B256::repeat_byte(3),
        };
        let domain = Domain::new(31337, Address::repeat_byte(4));
        Attestation {
            statement,
            public_key: key.public_key(),
            signature: key.sign(&statement.signing_root(&domain).0),
        }
    }

    #[test]
    fn attestations_round_trip() {
        let a = attestation();
        let wire = v1::Attestation::from(&a);
        assert_eq!(Attestation::try_from(&wire).unwrap(), a);
    }

    #[test]
    fn known_keys_skip_decoding_but_not_the_other_checks() {
        let a = attestation();
        let wire = v1::Attestation::from(&a);
        let known = |bytes: &[u8]| (bytes == a.public_key.to_bytes()).then_some(a.public_key);
        assert_eq!(attestation_with_known_keys(&wire, known).unwrap(), a);
        let unknown = v1::Attestation {
            public_key: vec![0; 96],
            ..wire.clone()
        };
        assert!(matches!(
            attestation_with_known_keys(&unknown, known),
            Err(ProtoError::PublicKey(_))
        ));
        let bad_signature = v1::Attestation {
            signature: vec![1; 47],
            ..wire
        };
        assert!(matches!(
            attestation_with_known_keys(&bad_signature, known),
            Err(ProtoError::Length {
                field: "signature",
                ..
            })
        ));
    }

    #[test]
    fn reports_round_trip() {
        let a = attestation();
        let report = MismatchReport {
            mismatch: Mismatch {
                rollup_id: 1,
                block_number: 9,
                block_hash: B256::repeat_byte(1),
                parent_hash: B256::repeat_byte(2),
                claimed_state_root: B256::repeat_byte(3),
                computed_state_root: B256::repeat_byte(4),
            },
            public_key: a.public_key,
            signature: a.signature,
        };
        let wire = v1::MismatchReport::from(&report);
        assert_eq!(MismatchReport::try_from(&wire).unwrap(), report);
    }

    #[test]
    fn malformed_fields_get_typed_errors() {
        let good = v1::Attestation::from(&attestation());
        let cases: Vec<(v1::Attestation, ProtoError)> = vec![
            (
                v1::Attestation {
                    statement: None,
                    ..good.clone()
                },
                ProtoError::Missing("statement"),
            ),
            (
                v1::Attestation {
                    public_key: vec![0; 95],
                    ..good.clone()
                },
                ProtoError::Length {
                    field: "public_key",
                    expected: 96,
                    got: 95,
                },
            ),
            (
                v1::Attestation {
                    signature: vec![],
                    ..good.clone()
                },
                ProtoError::Length {
                    field: "signature",
                    expected: 48,
                    got: 0,
                },
            ),
        ];
        for (wire, expected) in cases {
            assert_eq!(Attestation::try_from(&wire).unwrap_err(), expected);
        }
        let mut statement = good.statement.clone().unwrap();
        statement.state_root = vec![0; 32];
        assert_eq!(
            Statement::try_from(&statement).unwrap_err(),
            ProtoError::Zero("state_root")
        );
        statement.state_root = vec![1; 33];
        assert!(matches!(
            Statement::try_from(&statement).unwrap_err(),
            ProtoError::Length {
                field: "state_root",
                got: 33,
                ..
            }
        ));
        let mut statement = good.statement.clone().unwrap();
        statement.block_number = 0;
        assert_eq!(
            Statement::try_from(&statement).unwrap_err(),
            ProtoError::Genesis
        );
        // The compressed point at infinity is well-formed bytes but never a valid signature.
        let mut infinity = vec![0u8; 48];
        infinity[0] = 0xc0;
        let wire = v1::Attestation {
            signature: infinity,
            ..good
        };
        assert!(matches!(
            Attestation::try_from(&wire).unwrap_err(),
            ProtoError::Signature(_)
        ));
    }
}
