//! Ethereum's BlockchainTest fixtures (execution-spec-tests, Cancun and Prague) through the
//! engine: every case must pass.

use std::path::{Path, PathBuf};
use surety_operator::blocktest::{self, Summary};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ethereum-blockchain-tests")
}

#[test]
fn every_fixture_passes() {
    let mut failures = Vec::new();
    let summary = blocktest::run(&[fixtures()], |failure| failures.push(failure.to_string()));
    println!("{summary}");
    assert!(failures.is_empty(), "{}\n{summary}", failures.join("\n"));
    assert_eq!(
        summary,
        Summary {
            passed: 1695,
            failed: 0,
            skipped: 0
        }
    );
}

/// The runner is not vacuous: a tampered post state, and an invalid block presented as valid,
/// both fail with their case named.
#[test]
fn tampered_fixtures_fail() {
    let source = fixtures().join("prague/eip7702_set_code_tx/test_eoa_tx_after_set_code.json");
    let mut cases: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&std::fs::read(&source).unwrap()).unwrap();
    let (id, case) = cases.iter_mut().next().unwrap();
    let id = id.clone();
    let account = case["postState"]
        .as_object_mut()
        .unwrap()
        .values_mut()
        .next()
        .unwrap();
    account["nonce"] = serde_json::json!("0x99");
    cases.retain(|key, _| *key == id);

    let invalid = fixtures()
        .join("cancun/eip4844_blobs/test_invalid_excess_blob_gas_above_target_change.json");
    let mut invalid_cases: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&std::fs::read(&invalid).unwrap()).unwrap();
    let (invalid_id, invalid_case) = invalid_cases.iter_mut().next().unwrap();
    let invalid_id = invalid_id.clone();
    for block in invalid_case["blocks"].as_array_mut().unwrap() {
        block.as_object_mut().unwrap().remove("expectException");
    }
    invalid_cases.retain(|key, _| *key == invalid_id);

    let dir = tempfile::tempdir().unwrap();
    for (name, cases) in [("post.json", cases), ("invalid.json", invalid_cases)] {
        std::fs::write(dir.path().join(name), serde_json::to_vec(&cases).unwrap()).unwrap();
    }
    let mut failures = Vec::new();
    let summary = blocktest::run(&[dir.path().to_owned()], |failure| {
        failures.push(failure.clone())
    });
    assert_eq!(
        summary,
        Summary {
            passed: 0,
            failed: 2,
            skipped: 0
        },
        "{failures:?}"
    );
    assert!(failures[0].case.ends_with(&invalid_id), "{failures:?}");
    assert!(
        failures[0].difference.contains("valid block rejected"),
        "{failures:?}"
    );
    assert!(failures[1].case.ends_with(&id), "{failures:?}");
    assert!(failures[1].difference.contains("nonce"), "{failures:?}");
}
