//! `surety devnet` end to end through the real binary: a real anvil L1 with the EigenLayer core
//! and Surety deployed, operators restaked through the real AllocationManager, a real anvil L2
//! under the mixed workload, two `surety aggregator run` and four `surety operator run`
//! processes talking real gRPC, and certificates landing on L1. Each test checks what it claims
//! on L1 itself, while the devnet runs.
//!
//! The devnets run one at a time: each is a dozen processes, and the machine has two cores.

use std::{
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Child, Command, ExitStatus, Stdio},
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use alloy::{
    primitives::{Address, B256, U256},
    providers::{DynProvider, Provider, RootProvider},
};
use nix::{sys::signal::Signal, unistd::Pid};
use serde_json::Value;
use surety_contracts::{Deployment, bindings::CertificateVerifier};

/// One devnet at a time (see the module docs).
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// A `surety devnet` process, its stdout collected line by line.
struct Devnet {
    child: Child,
    dir: tempfile::TempDir,
    lines: Arc<Mutex<Vec<String>>>,
    manifest: Value,
    /// Operator nodes this test restarted itself, stopped on drop.
    restarted: Vec<Child>,
}

impl Devnet {
    /// Starts a devnet with 1 s L2 blocks and waits for its `devnet.json`.
    fn start(extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_surety"))
            .args([
                "--log",
                "warn",
                "devnet",
                "--l2-block-time",
                "1",
                "--txs-per-block",
                "10",
            ])
            .arg("--datadir")
            .arg(dir.path())
            .args(extra)
            .env("RUST_BACKTRACE", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run surety devnet");
        let lines = Arc::new(Mutex::new(Vec::new()));
        collect(child.stdout.take().unwrap(), lines.clone());
        collect(child.stderr.take().unwrap(), lines.clone());
        let manifest_path = dir.path().join("devnet.json");
        let deadline = Instant::now() + Duration::from_secs(240);
        while !manifest_path.exists() {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("the devnet exited during start-up ({status})");
            }
            assert!(Instant::now() < deadline, "no devnet.json after 240 s");
            std::thread::sleep(Duration::from_millis(200));
        }
        let manifest = serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
        Self {
            child,
            dir,
            lines,
            manifest,
            restarted: Vec::new(),
        }
    }

    fn l1(&self) -> DynProvider {
        RootProvider::new_http(
            self.manifest["l1"]["rpc"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap(),
        )
        .erased()
    }

    fn l2(&self) -> DynProvider {
        RootProvider::new_http(
            self.manifest["rollups"][0]["rpc"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap(),
        )
        .erased()
    }

    fn deployment(&self) -> Deployment {
        serde_json::from_slice(&std::fs::read(self.dir.path().join("l1.json")).unwrap()).unwrap()
    }

    fn verifier(&self) -> Address {
        self.manifest["l1"]["contracts"]["verifier"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    }

    fn operator(&self, index: usize) -> &Value {
        &self.manifest["operators"][index - 1]
    }

    async fn certified_head(&self) -> u64 {
        CertificateVerifier::new(self.verifier(), self.l1())
            .latestCertifiedBlock(1)
            .call()
            .await
            .unwrap()
    }

    /// Waits until the certified head reaches `height`.
    async fn wait_certified(&self, height: u64, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let head = self.certified_head().await;
            if head >= height {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "certified head {head}, not {height}, after {within:?}\n{}",
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Waits for a stdout line containing `needle`.
    async fn wait_line(&self, needle: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            if let Some(line) = self
                .lines
                .lock()
                .unwrap()
                .iter()
                .find(|l| l.contains(needle))
            {
                return line.clone();
            }
            assert!(
                Instant::now() < deadline,
                "no line with {needle:?} after {within:?}\n{}",
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    fn output(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    /// Stops operator `index`'s node (SIGKILL: it gets no chance to clean up).
    fn kill_operator(&self, index: usize) {
        let pid = self.operator(index)["pid"].as_i64().unwrap();
        nix::sys::signal::kill(Pid::from_raw(pid as i32), Signal::SIGKILL).unwrap();
    }

    /// Runs operator `index`'s node again from its config, as its owner would.
    fn restart_operator(&mut self, index: usize) {
        let config = PathBuf::from(self.operator(index)["config"].as_str().unwrap());
        let log = std::fs::OpenOptions::new()
            .append(true)
            .open(self.operator(index)["log"].as_str().unwrap())
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_surety"))
            .args(["operator", "run", "--config"])
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.restarted.push(child);
    }

    /// SIGTERM, as Ctrl-C would, then the exit status and everything printed.
    fn stop(mut self) -> (ExitStatus, String) {
        let status = terminate(&mut self.child);
        // The reader thread ends with the pipe; give it a moment to take the last lines.
        std::thread::sleep(Duration::from_millis(300));
        (status, self.output())
    }
}

/// Appends `stream`'s lines to `lines` (and echoes them, for a failing test's output).
fn collect(stream: impl std::io::Read + Send + 'static, lines: Arc<Mutex<Vec<String>>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            println!("devnet | {line}");
            lines.lock().unwrap().push(line);
        }
    });
}

fn terminate(child: &mut Child) -> ExitStatus {
    let pid = Pid::from_raw(child.id() as i32);
    let _ = nix::sys::signal::kill(pid, Signal::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

impl Drop for Devnet {
    fn drop(&mut self) {
        for child in &mut self.restarted {
            terminate(child);
        }
        terminate(&mut self.child);
    }
}

/// The `CertificateSubmitted` logs on L1 so far: (height, signed stake, total stake).
async fn certificates(devnet: &Devnet) -> Vec<(u64, U256, U256)> {
    let filter = alloy::rpc::types::Filter::new()
        .address(devnet.verifier())
        .event_signature(<CertificateVerifier::CertificateSubmitted as alloy::sol_types::SolEvent>::SIGNATURE_HASH)
        .from_block(0);
    devnet
        .l1()
        .get_logs(&filter)
        .await
        .unwrap()
        .iter()
        .map(|log| {
            let e = log
                .log_decode::<CertificateVerifier::CertificateSubmitted>()
                .unwrap()
                .inner
                .data;
            (e.blockNumber, e.signedStake, e.totalStake)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn certificates_land_and_is_final_matches_the_l2() {
    let _serial = serial();
    let devnet = Devnet::start(&[]);
    devnet.wait_certified(6, Duration::from_secs(120)).await;

    let (l2, verifier) = (
        devnet.l2(),
        CertificateVerifier::new(devnet.verifier(), devnet.l1()),
    );
    let certified: Vec<u64> = certificates(&devnet).await.iter().map(|c| c.0).collect();
    assert!(certified.len() >= 3, "{certified:?}");
    let head = devnet.certified_head().await;
    for number in 1..=head + 2 {
        let Some(block) = l2.get_block_by_number(number.into()).await.unwrap() else {
            continue;
        };
        let (hash, root) = (block.header.hash, block.header.state_root);
        let is_final = |h: B256, r: B256| verifier.isFinal(1, number, h, r);
        // Each certified block is final exactly as the L2's own RPC reports it; nothing else is.
        assert_eq!(
            is_final(hash, root).call().await.unwrap(),
            certified.contains(&number),
            "block {number}, certificates at {certified:?}"
        );
        assert!(!is_final(hash, B256::repeat_byte(7)).call().await.unwrap());
        assert!(!is_final(B256::repeat_byte(7), root).call().await.unwrap());
    }
    let (status, output) = devnet.stop();
    assert!(status.success(), "{output}");
    for line in [
        "4 operators registered with EigenLayer and Surety, 100 ETH slashable in total",
        "4 operator nodes and 2 aggregators running",
        "certificate  L2 #",
        "L2 block → certificate on L1: p50",
        "gas: ",
    ] {
        assert!(output.contains(line), "missing {line:?} in\n{output}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn certificates_go_on_without_one_operator_and_stop_below_threshold() {
    let _serial = serial();
    let mut devnet = Devnet::start(&[]);
    devnet.wait_certified(2, Duration::from_secs(120)).await;

    // Operator 1 holds 10 % of the stake: without it 90 % remains, above the 66.67 % threshold.
    devnet.kill_operator(1);
    let head = devnet.certified_head().await;
    devnet
        .wait_certified(head + 4, Duration::from_secs(60))
        .await;
    let last = *certificates(&devnet).await.last().unwrap();
    assert_eq!(
        last.1 * U256::from(10),
        last.2 * U256::from(9),
        "the newest certificate has operator 1 as a non-signer: {last:?}"
    );

    // Operator 4 holds 40 %: with 1 and 4 gone, 50 % is below the threshold and nothing is
    // certified; the aggregators say why.
    devnet.kill_operator(4);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let stalled = devnet.certified_head().await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(
        devnet.certified_head().await,
        stalled,
        "certified below threshold"
    );
    let http = devnet.manifest["aggregators"][0]["http"].as_str().unwrap();
    let status: Value = reqwest_get(&format!("{http}/status")).await;
    let state = status["rollups"][0]["state"].as_str().unwrap();
    assert!(
        state.contains("below threshold: 5000 of 6667 bps"),
        "aggregator state: {state}"
    );

    // The operators come back, catch up from their datadirs, and certificates resume.
    devnet.restart_operator(1);
    devnet.restart_operator(4);
    devnet
        .wait_certified(stalled + 3, Duration::from_secs(120))
        .await;
    let (_, output) = devnet.stop();
    assert!(output.contains("ALERT        operator 1"), "{output}");
}

#[tokio::test(flavor = "multi_thread")]
async fn certificates_go_on_through_twenty_aggregator_crashes() {
    let _serial = serial();
    let devnet = Devnet::start(&["--kill-aggregator-every", "1"]);
    devnet
        .wait_line("SIGKILL aggregator 2 (#1)", Duration::from_secs(60))
        .await;
    let before = devnet.certified_head().await;
    devnet
        .wait_line("SIGKILL aggregator 2 (#20)", Duration::from_secs(120))
        .await;
    let after = devnet.certified_head().await;
    assert!(
        after >= before + 5,
        "certified head went from {before} to {after} over 20 crashes"
    );
    let log = std::fs::read_to_string(devnet.manifest["aggregators"][1]["log"].as_str().unwrap())
        .unwrap();
    // Every restart resumes from the store; at least one found attestations there to restore.
    let restores: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("aggregator state restored"))
        .collect();
    assert!(restores.len() >= 20, "{} restores", restores.len());
    assert!(
        restores.iter().any(|l| !l.contains("restored=0")),
        "no restart restored an accepted attestation:\n{}",
        restores.join("\n")
    );
    let (status, output) = devnet.stop();
    assert!(status.success(), "{output}");
    assert!(output.contains("aggregator 2 was SIGKILLed and restarted"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_double_signer_is_caught_and_slashed_on_l1() {
    let _serial = serial();
    let devnet = Devnet::start(&["--double-sign", "1", "--double-sign-at", "3"]);
    let culprit: Address = devnet.operator(1)["address"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let line = devnet.wait_line("SLASHED", Duration::from_secs(120)).await;
    assert!(line.contains(&culprit.to_string()), "{line}");
    devnet
        .wait_line(
            &format!("double signing by {culprit} at L2 #3"),
            Duration::from_secs(5),
        )
        .await;

    let deployment = devnet.deployment();
    let set = deployment.surety.operator_set();
    let l1 = devnet.l1();
    let stake_of = |index: usize| {
        let address: Address = devnet.operator(index)["address"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let (deployment, set, l1) = (&deployment, set.clone(), &l1);
        async move {
            deployment
                .eigenlayer
                .allocated_stake(l1, set, address)
                .await
                .unwrap()
        }
    };
    assert!(
        stake_of(1).await.is_zero(),
        "the double signer keeps allocated stake"
    );
    for honest in 2..=4 {
        let stake: U256 = devnet.operator(honest)["stake_wei"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(
            stake_of(honest).await,
            stake,
            "honest operator {honest} was slashed"
        );
    }
    // Certificates go on without it.
    let head = devnet.certified_head().await;
    devnet
        .wait_certified(head + 2, Duration::from_secs(60))
        .await;
    let (status, output) = devnet.stop();
    assert!(status.success(), "{output}");
}

#[test]
fn a_lying_l2_is_refused_by_every_operator() {
    let _serial = serial();
    let devnet = Devnet::start(&["--lying-l2-at", "4"]);
    let deadline = Instant::now() + Duration::from_secs(120);
    while devnet
        .lines
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.starts_with("ALERT"))
        .count()
        < 4
    {
        assert!(Instant::now() < deadline, "{}", devnet.output());
        std::thread::sleep(Duration::from_millis(200));
    }
    let mut devnet = devnet;
    let status = devnet.child.wait().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let output = devnet.output();
    assert!(!status.success(), "{output}");
    for line in devnet
        .lines
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.starts_with("ALERT"))
    {
        assert!(
            line.contains("block 4 (") && line.contains("0x1111"),
            "every operator names the lying block: {line}"
        );
    }
    // Nothing at or above the lying block is certified.
    assert!(
        output.contains("every operator node has stopped"),
        "{output}"
    );
    assert!(!output.contains("certificate  L2 #4 "), "{output}");
    let certified: u64 = output
        .split("certified head ")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .expect("a certified head in the summary");
    assert!(certified <= 3, "{output}");
}

async fn reqwest_get(url: &str) -> Value {
    alloy::transports::http::reqwest::get(url)
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}
