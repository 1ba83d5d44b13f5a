//! `surety devnet` end to end through the real binary: real anvil L1 with the EigenLayer core
//! and Surety deployed, operators restaked and registered through the real AllocationManager, a
//! real anvil L2 under the mixed workload registered as a rollup, and the operator re-executing
//! it — clean, and with a lying L2 endpoint that must be caught at exactly the lying block.

use std::process::{Command, Output};

use surety_contracts::Deployment;

fn devnet(datadir: &std::path::Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_surety"))
        .args(["devnet", "--l2-block-time", "1", "--txs-per-block", "10"])
        .args(["--metrics-addr", "127.0.0.1:0"])
        .arg("--datadir")
        .arg(datadir)
        .args(extra)
        .env("RUST_BACKTRACE", "0")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run surety devnet")
}

#[test]
fn runs_and_verifies_every_l2_block() {
    let dir = tempfile::tempdir().unwrap();
    let output = devnet(dir.path(), &["--blocks", "6"]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(output.status.success(), "{stdout}\n{stderr}");
    for line in [
        "4 operators registered with EigenLayer and Surety, 100 ETH slashable in total",
        "registered as Surety rollup 1 (threshold 6667 bps",
        "operator verified every L2 block up to 6",
    ] {
        assert!(stdout.contains(line), "missing {line:?} in\n{stdout}");
    }
    // The addresses file describes a real deployment.
    let deployment: Deployment =
        serde_json::from_slice(&std::fs::read(dir.path().join("l1.json")).unwrap()).unwrap();
    assert_eq!(deployment.chain_id, 31_337);
    assert!(dir.path().join("l2-genesis.json").exists());
}

#[test]
fn a_lying_l2_is_caught_at_the_lying_block() {
    let dir = tempfile::tempdir().unwrap();
    let output = devnet(dir.path(), &["--blocks", "8", "--lying-l2-at", "4"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("ALERT: rollup 1: block 4 (")
            && stderr.contains("claims state root 0x1111")
            && stderr.contains("stopped at block 3"),
        "{stderr}"
    );
}
