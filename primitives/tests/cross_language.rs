//! Cross-language fixtures: the committed files must be exactly what the generator writes, and
//! the roots Solidity computed (`statement_vectors_sol.json`, produced and checked by
//! `StatementLib.t.sol`) must be what Rust computes.

mod fixtures;

use alloy_primitives::{Address, B256};
use serde_json::Value;
use surety_primitives::{Domain, Statement};

#[test]
fn committed_fixtures_are_fresh() {
    for (name, expected) in fixtures::generate() {
        let path = fixtures::dir().join(name);
        let actual =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            actual == expected,
            "{name} is stale: run `cargo run -p surety-primitives --example gen-fixtures`"
        );
    }
}

fn field<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("missing string field {key}"))
}

#[test]
fn solidity_computed_roots_match_rust() {
    let path = fixtures::dir().join("statement_vectors_sol.json");
    let file: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let vectors = file["vectors"].as_array().unwrap();
    assert_eq!(vectors.len() as u64, file["count"].as_u64().unwrap());
    assert!(vectors.len() >= 16);
    for v in vectors {
        let s = &v["statement"];
        let d = &v["domain"];
        let statement = Statement {
            rollup_id: field(s, "rollupId").parse().unwrap(),
            block_number: field(s, "blockNumber").parse().unwrap(),
            block_hash: field(s, "blockHash").parse().unwrap(),
            parent_hash: field(s, "parentHash").parse().unwrap(),
            state_root: field(s, "stateRoot").parse().unwrap(),
        };
        let domain = Domain::new(
            field(d, "l1ChainId").parse().unwrap(),
            field(d, "verifier").parse::<Address>().unwrap(),
        );
        let expected: B256 = field(v, "signingRoot").parse().unwrap();
        assert_eq!(statement.signing_root(&domain), expected, "{v}");
    }
}

#[test]
fn rfc9380_hash_to_g1_vectors_pass_against_blst() {
    let vectors = fixtures::rfc9380_vectors();
    assert_eq!(vectors.len(), 5);
    for (msg, expected) in vectors {
        assert_eq!(
            surety_primitives::bls::hash_to_g1(&msg, fixtures::RFC9380_DST.as_bytes()),
            expected,
            "msg {}",
            String::from_utf8_lossy(&msg)
        );
    }
}
