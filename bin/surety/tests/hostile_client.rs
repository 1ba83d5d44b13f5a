//! A fresh devnet survives hostile gRPC traffic from a client written in another language:
//! `tests/hostile-client/hostile.mjs` (Node.js, @grpc/grpc-js, @noble/curves) sends both
//! aggregators garbage, malformed messages and points, unknown keys, forged signatures, stale and
//! far-future heights, an oversized batch and malformed mismatch reports, each of which must get
//! its documented gRPC code, then floods them with forged attestations. Afterwards the devnet must
//! go on certifying, both aggregators must answer, and nobody may have been slashed.

mod common;

use std::{
    path::PathBuf,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use common::{Devnet, SERIAL, reqwest_get};

const PACKAGES: [&str; 4] = [
    "@grpc/grpc-js",
    "@grpc/proto-loader",
    "@noble/curves",
    "@noble/hashes",
];

#[tokio::test(flavor = "multi_thread")]
async fn a_hostile_javascript_client_gets_typed_refusals_and_the_devnet_goes_on() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let script = root.join("tests/hostile-client/hostile.mjs");
    assert!(script.exists(), "{} is missing", script.display());
    for package in PACKAGES {
        assert!(
            root.join("node_modules")
                .join(package)
                .join("package.json")
                .exists(),
            "node_modules lacks {package}: run `make tools` (npm ci from package-lock.json)"
        );
    }

    let _serial = SERIAL.lock().await;
    let devnet = Devnet::start(&[]);
    devnet.wait_certified(1, Duration::from_secs(120)).await;

    let manifest = devnet.dir.path().join("devnet.json");
    let started = Instant::now();
    let run = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(&script)
            .arg("--devnet")
            .arg(&manifest)
            .current_dir(&root)
            .stdin(Stdio::null())
            .output()
    })
    .await
    .unwrap()
    .expect("run `node` (Node.js 20 or later must be on PATH)");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    println!("hostile.mjs ({:?}):\n{stdout}{stderr}", started.elapsed());
    assert!(
        run.status.success(),
        "hostile.mjs exited with {}:\n{stdout}\n{stderr}\n--- devnet ---\n{}",
        run.status,
        devnet.output()
    );
    assert!(
        stdout.lines().any(|l| l.starts_with("ok agg2 flood of ")),
        "{stdout}"
    );

    // Certificates go on after the flood.
    let head = devnet.certified_head().await;
    devnet
        .wait_certified(head + 3, Duration::from_secs(120))
        .await;
    for aggregator in devnet.manifest["aggregators"].as_array().unwrap() {
        let http = aggregator["http"].as_str().unwrap();
        let status = reqwest_get(&format!("{http}/status")).await;
        assert!(
            status["rollups"][0]["certified_head"].as_u64().unwrap() >= head,
            "{http}/status: {status}"
        );
    }
    let (status, output) = devnet.stop();
    assert!(status.success(), "{output}");
    assert!(
        !output.contains("SLASHED"),
        "an operator was slashed:\n{output}"
    );
    assert!(
        !output.contains("double signing"),
        "double signing was reported:\n{output}"
    );
}
