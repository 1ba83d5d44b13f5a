//! The `surety devnet` process as tests drive it: started in a temporary datadir, its output
//! collected, its `devnet.json` read, its L1 and L2 queried while it runs.

#![allow(dead_code)]

use std::{
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Child, Command, ExitStatus, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use alloy::{
    primitives::{Address, U256},
    providers::{DynProvider, Provider, RootProvider},
};
use nix::{sys::signal::Signal, unistd::Pid};
use serde_json::Value;
use surety_contracts::{Deployment, bindings::CertificateVerifier};

/// One devnet at a time: each is a dozen processes, and the machine may have two cores. An
/// async mutex, because a test holds it across the whole run.
pub(crate) static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A `surety devnet` process, its stdout collected line by line.
pub(crate) struct Devnet {
    pub(crate) child: Child,
    pub(crate) dir: tempfile::TempDir,
    pub(crate) lines: Arc<Mutex<Vec<String>>>,
    pub(crate) manifest: Value,
    /// Operator nodes this test restarted itself, stopped on drop.
    restarted: Vec<Child>,
}

impl Devnet {
    /// Starts a devnet with 1 s L2 blocks and waits for its `devnet.json`.
    pub(crate) fn start(extra: &[&str]) -> Self {
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

    pub(crate) fn l1(&self) -> DynProvider {
        RootProvider::new_http(
            self.manifest["l1"]["rpc"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap(),
        )
        .erased()
    }

    pub(crate) fn l2(&self) -> DynProvider {
        RootProvider::new_http(
            self.manifest["rollups"][0]["rpc"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap(),
        )
        .erased()
    }

    pub(crate) fn deployment(&self) -> Deployment {
        serde_json::from_slice(&std::fs::read(self.dir.path().join("l1.json")).unwrap()).unwrap()
    }

    pub(crate) fn verifier(&self) -> Address {
        self.manifest["l1"]["contracts"]["verifier"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    }

    pub(crate) fn operator(&self, index: usize) -> &Value {
        &self.manifest["operators"][index - 1]
    }

    pub(crate) async fn certified_head(&self) -> u64 {
        CertificateVerifier::new(self.verifier(), self.l1())
            .latestCertifiedBlock(1)
            .call()
            .await
            .unwrap()
    }

    /// Waits until the certified head reaches `height`.
    pub(crate) async fn wait_certified(&self, height: u64, within: Duration) {
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
    pub(crate) async fn wait_line(&self, needle: &str, within: Duration) -> String {
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

    pub(crate) fn output(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    /// Stops operator `index`'s node (SIGKILL: it gets no chance to clean up).
    pub(crate) fn kill_operator(&self, index: usize) {
        let pid = self.operator(index)["pid"].as_i64().unwrap();
        nix::sys::signal::kill(Pid::from_raw(pid as i32), Signal::SIGKILL).unwrap();
    }

    /// Stops aggregator `index` (1-based; SIGKILL).
    pub(crate) fn kill_aggregator(&self, index: usize) {
        let pid = self.manifest["aggregators"][index - 1]["pid"]
            .as_i64()
            .unwrap();
        nix::sys::signal::kill(Pid::from_raw(pid as i32), Signal::SIGKILL).unwrap();
    }

    /// Stops the L2's anvil (SIGKILL): its RPC refuses connections from then on. It is the
    /// process started with `--init <datadir>/l2-genesis.json`.
    pub(crate) fn kill_l2(&self) {
        use std::os::unix::ffi::OsStrExt;
        let genesis = self
            .dir
            .path()
            .canonicalize()
            .unwrap()
            .join("l2-genesis.json");
        let genesis = genesis.as_os_str().as_bytes();
        let pid = std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<i32>().ok())
            .find(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|cmdline| {
                    let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
                    args.windows(2)
                        .any(|w| w[0] == b"--init" && w[1] == genesis)
                })
            })
            .expect("the devnet's L2 anvil is running");
        nix::sys::signal::kill(Pid::from_raw(pid), Signal::SIGKILL).unwrap();
    }

    /// Runs operator `index`'s node again from its config, as its owner would.
    pub(crate) fn restart_operator(&mut self, index: usize) {
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
    pub(crate) fn stop(mut self) -> (ExitStatus, String) {
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
pub(crate) async fn certificates(devnet: &Devnet) -> Vec<(u64, U256, U256)> {
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

pub(crate) async fn reqwest_get(url: &str) -> Value {
    alloy::transports::http::reqwest::get(url)
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}
