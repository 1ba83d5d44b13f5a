//! The slashing-protection interchange format, modelled on EIP-3076: a JSON document with the
//! domain in its metadata and, per key and rollup, the signed statements and the low watermark.
//! Integers are decimal strings so no JSON parser rounds them.

use alloy_primitives::{Address, B256, FixedBytes};
use serde::{Deserialize, Serialize};
use surety_primitives::Domain;

use super::error::InterchangeError;

/// The only version this build reads and writes.
pub const INTERCHANGE_FORMAT_VERSION: &str = "1";

/// A whole slashing-protection history, as exported or imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interchange {
    pub metadata: Metadata,
    pub data: Vec<KeyHistory>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    pub interchange_format_version: String,
    #[serde(with = "decimal")]
    pub l1_chain_id: u64,
    pub verifier: Address,
}

/// The history of one BLS key (G2, 96 bytes compressed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyHistory {
    pub pubkey: FixedBytes<96>,
    pub rollups: Vec<RollupHistory>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RollupHistory {
    #[serde(with = "decimal")]
    pub rollup_id: u64,
    /// Heights at or below it are refused unless an identical record exists.
    #[serde(
        with = "decimal::option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub low_watermark: Option<u64>,
    pub signed_statements: Vec<SignedStatement>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedStatement {
    #[serde(with = "decimal")]
    pub block_number: u64,
    pub block_hash: B256,
    pub parent_hash: B256,
    pub state_root: B256,
    pub signing_root: B256,
}

impl Interchange {
    /// Parses and checks the version; record-level checks happen on import.
    pub fn from_json(json: &str) -> Result<Self, InterchangeError> {
        let interchange: Self = serde_json::from_str(json)?;
        if interchange.metadata.interchange_format_version != INTERCHANGE_FORMAT_VERSION {
            return Err(InterchangeError::UnsupportedVersion {
                found: interchange.metadata.interchange_format_version,
                expected: INTERCHANGE_FORMAT_VERSION,
            });
        }
        Ok(interchange)
    }

    pub fn to_json_pretty(&self) -> Result<String, InterchangeError> {
        Ok(serde_json::to_string_pretty(self)?)
    }

    pub fn domain(&self) -> Domain {
        Domain::new(self.metadata.l1_chain_id, self.metadata.verifier)
    }
}

impl Metadata {
    pub fn new(domain: &Domain) -> Self {
        Self {
            interchange_format_version: INTERCHANGE_FORMAT_VERSION.to_owned(),
            l1_chain_id: domain.l1_chain_id,
            verifier: domain.verifier,
        }
    }
}

/// `u64` as a decimal JSON string, strictly (a JSON number is rejected).
mod decimal {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub(super) fn serialize<S: Serializer>(value: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(value)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let s = String::deserialize(d)?;
        parse(&s).map_err(D::Error::custom)
    }

    fn parse(s: &str) -> Result<u64, String> {
        // `u64::from_str` accepts a leading `+`; decimal strings in the format do not have one.
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("expected a decimal integer string, got {s:?}"));
        }
        s.parse().map_err(|e| format!("{s:?}: {e}"))
    }

    pub(super) mod option {
        use serde::{Deserialize, Deserializer, Serializer, de::Error};

        pub(crate) fn serialize<S: Serializer>(
            value: &Option<u64>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match value {
                Some(v) => s.collect_str(v),
                None => s.serialize_none(),
            }
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<u64>, D::Error> {
            Option::<String>::deserialize(d)?
                .map(|s| super::parse(&s).map_err(D::Error::custom))
                .transpose()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Interchange {
        Interchange {
            metadata: Metadata::new(&Domain::new(17_000, Address::repeat_byte(0xaa))),
            data: vec![KeyHistory {
                pubkey: FixedBytes::repeat_byte(0x80),
                rollups: vec![RollupHistory {
                    rollup_id: u64::MAX,
                    low_watermark: Some(9),
                    signed_statements: vec![SignedStatement {
                        block_number: 10,
                        block_hash: B256::repeat_byte(1),
                        parent_hash: B256::repeat_byte(2),
                        state_root: B256::repeat_byte(3),
                        signing_root: B256::repeat_byte(4),
                    }],
                }],
            }],
        }
    }

    #[test]
    fn integers_are_decimal_strings_and_round_trip() {
        let json = sample().to_json_pretty().unwrap();
        assert!(
            json.contains(r#""rollup_id": "18446744073709551615""#),
            "{json}"
        );
        assert!(json.contains(r#""l1_chain_id": "17000""#), "{json}");
        assert!(json.contains(r#""low_watermark": "9""#), "{json}");
        assert_eq!(Interchange::from_json(&json).unwrap(), sample());
    }

    #[test]
    fn numbers_signs_and_other_versions_are_rejected() {
        let json = sample().to_json_pretty().unwrap();
        for bad in [
            json.replace(r#""block_number": "10""#, r#""block_number": 10"#),
            json.replace(r#""block_number": "10""#, r#""block_number": "+10""#),
            json.replace(
                r#""block_number": "10""#,
                r#""block_number": "18446744073709551616""#,
            ),
        ] {
            assert!(
                matches!(Interchange::from_json(&bad), Err(InterchangeError::Json(_))),
                "{bad}"
            );
        }
        let v2 = json.replace(
            r#""interchange_format_version": "1""#,
            r#""interchange_format_version": "2""#,
        );
        assert!(matches!(
            Interchange::from_json(&v2),
            Err(InterchangeError::UnsupportedVersion { .. })
        ));
    }
}
