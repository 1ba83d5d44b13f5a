//! Anvil child processes: find the pinned binary, start it on a free port, kill it on drop.
//!
//! ```no_run
//! # fn main() -> Result<(), surety_testkit::anvil::AnvilError> {
//! let anvil = surety_testkit::anvil::Anvil::new().no_mining().spawn()?;
//! println!("{} with {} dev keys", anvil.endpoint(), anvil.keys().len());
//! # Ok(()) }
//! ```

use std::{
    io::{BufRead, BufReader, Read},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::mpsc,
    thread,
    time::Duration,
};

use alloy::{primitives::B256, signers::local::PrivateKeySigner, transports::http::reqwest::Url};

/// How long anvil may take to print its `Listening on` line (it loads `--init` state first).
const DEFAULT_STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// Lines of anvil's output kept to explain a failed start.
const KEPT_OUTPUT_LINES: usize = 40;

/// Errors starting anvil.
#[derive(Debug, thiserror::Error)]
pub enum AnvilError {
    /// Neither `<workspace>/node_modules/.bin/anvil` nor `anvil` on `$PATH` exists.
    #[error("anvil binary not found (looked in {looked}); run `make tools` at the workspace root")]
    NotFound {
        /// The places searched.
        looked: String,
    },
    /// The process could not be spawned.
    #[error("failed to spawn {program}: {source}")]
    Spawn {
        /// The binary that was run.
        program: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Anvil exited, or did not report a listening address in time.
    #[error("anvil did not start: {reason}\n--- anvil output ---\n{output}")]
    Startup {
        /// What went wrong.
        reason: String,
        /// The last lines anvil printed.
        output: String,
    },
}

/// How anvil produces blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mining {
    /// One block per transaction (anvil's default).
    #[default]
    Auto,
    /// Blocks only on `evm_mine` / `anvil_mine`: the caller decides block contents.
    Manual,
    /// A block every `n` seconds.
    Interval(u64),
}

/// Builder for an anvil process. Defaults: Prague hardfork, auto-mining, the 10 standard dev
/// accounts, a free port on 127.0.0.1.
#[derive(Debug, Clone)]
pub struct Anvil {
    program: Option<PathBuf>,
    hardfork: String,
    chain_id: Option<u64>,
    genesis: Option<PathBuf>,
    gas_limit: Option<u64>,
    base_fee: Option<u128>,
    mining: Mining,
    args: Vec<String>,
    startup_timeout: Duration,
}

impl Default for Anvil {
    fn default() -> Self {
        Self::new()
    }
}

impl Anvil {
    /// A builder with the defaults above.
    pub fn new() -> Self {
        Self {
            program: None,
            hardfork: "prague".to_owned(),
            chain_id: None,
            genesis: None,
            gas_limit: None,
            base_fee: None,
            mining: Mining::Auto,
            args: Vec::new(),
            startup_timeout: DEFAULT_STARTUP_TIMEOUT,
        }
    }

    /// Use this anvil binary instead of searching for the pinned one.
    pub fn program(mut self, path: impl Into<PathBuf>) -> Self {
        self.program = Some(path.into());
        self
    }

    /// The hardfork name passed to `--hardfork` (default `prague`).
    pub fn hardfork(mut self, hardfork: impl Into<String>) -> Self {
        self.hardfork = hardfork.into();
        self
    }

    /// The chain id (`--chain-id`).
    pub fn chain_id(mut self, chain_id: u64) -> Self {
        self.chain_id = Some(chain_id);
        self
    }

    /// Start from a geth-style genesis file (`--init`) with its chain id.
    ///
    /// The state is then exactly the file's allocation (plus the EIP-2935 history contract anvil
    /// always inserts): no dev accounts are funded and anvil's default CREATE2 deployer is not
    /// added, so a re-executor can bootstrap from the file alone.
    /// Anvil ignores the file's `gasLimit` and `baseFeePerGas`; pass them with
    /// [`Anvil::gas_limit`] and [`Anvil::base_fee`], or use [`L2Genesis::anvil`] which does.
    ///
    /// [`L2Genesis::anvil`]: crate::genesis::L2Genesis::anvil
    pub fn genesis(mut self, path: impl Into<PathBuf>, chain_id: u64) -> Self {
        self.genesis = Some(path.into());
        self.chain_id = Some(chain_id);
        self
    }

    /// Block gas limit (`--gas-limit`).
    pub fn gas_limit(mut self, gas_limit: u64) -> Self {
        self.gas_limit = Some(gas_limit);
        self
    }

    /// Base fee of the first block (`--base-fee`).
    pub fn base_fee(mut self, base_fee: u128) -> Self {
        self.base_fee = Some(base_fee);
        self
    }

    /// Mine only on `evm_mine` / `anvil_mine`.
    pub fn no_mining(self) -> Self {
        self.mining(Mining::Manual)
    }

    /// Set the mining mode.
    pub fn mining(mut self, mining: Mining) -> Self {
        self.mining = mining;
        self
    }

    /// Pass an extra command-line argument to anvil.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// How long to wait for anvil to listen (default 30 s).
    pub fn startup_timeout(mut self, timeout: Duration) -> Self {
        self.startup_timeout = timeout;
        self
    }

    /// Start anvil and wait until it listens.
    pub fn spawn(self) -> Result<AnvilInstance, AnvilError> {
        let program = match self.program {
            Some(p) => p,
            None => find_anvil()?,
        };
        let mut cmd = Command::new(&program);
        cmd.args([
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--hardfork",
            &self.hardfork,
        ]);
        if let Some(id) = self.chain_id {
            cmd.args(["--chain-id", &id.to_string()]);
        }
        if let Some(genesis) = &self.genesis {
            cmd.arg("--init").arg(genesis);
            cmd.args(["--accounts", "0", "--disable-default-create2-deployer"]);
        }
        if let Some(gas_limit) = self.gas_limit {
            cmd.args(["--gas-limit", &gas_limit.to_string()]);
        }
        if let Some(base_fee) = self.base_fee {
            cmd.args(["--base-fee", &base_fee.to_string()]);
        }
        match self.mining {
            Mining::Auto => {}
            Mining::Manual => {
                cmd.arg("--no-mining");
            }
            Mining::Interval(secs) => {
                cmd.args(["--block-time", &secs.to_string()]);
            }
        }
        cmd.args(&self.args);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|source| AnvilError::Spawn {
            program: program.clone(),
            source,
        })?;

        // Anvil logs every request; its pipes must be drained for its whole life or it blocks.
        let (tx, rx) = mpsc::channel();
        if let Some(stdout) = child.stdout.take() {
            let tx = tx.clone();
            thread::spawn(move || forward_lines(stdout, &tx));
        }
        if let Some(stderr) = child.stderr.take() {
            thread::spawn(move || forward_lines(stderr, &tx));
        }

        let mut startup = StartupParser::default();
        let deadline = std::time::Instant::now() + self.startup_timeout;
        let port = loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(port) = startup.line(&line) {
                        break port;
                    }
                }
                Err(err) => {
                    let reason = match (err, child.try_wait()) {
                        (_, Ok(Some(status))) => format!("exited with {status}"),
                        (mpsc::RecvTimeoutError::Timeout, _) => {
                            format!("no `Listening on` line within {:?}", self.startup_timeout)
                        }
                        (mpsc::RecvTimeoutError::Disconnected, _) => "closed its output".to_owned(),
                    };
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(AnvilError::Startup {
                        reason,
                        output: startup.output(),
                    });
                }
            }
        };
        // Keep draining (and discarding) the output after startup.
        thread::spawn(move || rx.into_iter().for_each(drop));

        let endpoint = format!("http://127.0.0.1:{port}");
        let url = Url::parse(&endpoint).map_err(|e| AnvilError::Startup {
            reason: format!("bad endpoint {endpoint}: {e}"),
            output: startup.output(),
        })?;
        tracing::debug!(%endpoint, pid = child.id(), "anvil started");
        Ok(AnvilInstance {
            child,
            port,
            url,
            keys: startup.keys,
            chain_id: self.chain_id.unwrap_or(31337),
        })
    }
}

fn forward_lines(stream: impl Read, tx: &mpsc::Sender<String>) {
    for line in BufReader::new(stream).lines() {
        let Ok(line) = line else { return };
        if tx.send(line).is_err() {
            return;
        }
    }
}

/// Reads anvil's banner: the dev private keys and the `Listening on host:port` line.
#[derive(Default)]
struct StartupParser {
    in_keys: bool,
    keys: Vec<PrivateKeySigner>,
    recent: std::collections::VecDeque<String>,
}

impl StartupParser {
    fn line(&mut self, line: &str) -> Option<u16> {
        if self.recent.len() == KEPT_OUTPUT_LINES {
            self.recent.pop_front();
        }
        self.recent.push_back(line.to_owned());
        let trimmed = line.trim();
        if trimmed == "Private Keys" {
            self.in_keys = true;
        } else if self.in_keys {
            // "(0) 0xac09…" lines; the section ends at the next heading.
            match trimmed
                .split_once(") ")
                .and_then(|(_, k)| k.parse::<B256>().ok())
            {
                Some(key) => {
                    if let Ok(signer) = PrivateKeySigner::from_bytes(&key) {
                        self.keys.push(signer);
                    }
                }
                None if trimmed.is_empty() || trimmed.starts_with('=') => {}
                None => self.in_keys = false,
            }
        }
        trimmed
            .strip_prefix("Listening on ")
            .and_then(|addr| addr.rsplit_once(':'))
            .and_then(|(_, p)| p.parse().ok())
    }

    fn output(&self) -> String {
        self.recent
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Locate anvil: the native binary of the npm package pinned by `make tools`
/// (`<workspace root>/node_modules/@foundry-rs/anvil-<platform>/bin/anvil`), then `$PATH`.
///
/// `node_modules/.bin/anvil` is a node script that spawns the native binary as a grandchild;
/// killing the script would orphan anvil, so the native binary is run directly.
pub fn find_anvil() -> Result<PathBuf, AnvilError> {
    let mut looked = Vec::new();
    for root in workspace_roots() {
        let scope = root.join("node_modules/@foundry-rs");
        let native = std::fs::read_dir(&scope)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("anvil-"))
            .map(|e| e.path().join("bin/anvil"))
            .find(|p| p.is_file());
        if let Some(native) = native {
            return Ok(native);
        }
        looked.push(
            scope
                .join("anvil-<platform>/bin/anvil")
                .display()
                .to_string(),
        );
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join("anvil");
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    looked.push("$PATH".to_owned());
    Err(AnvilError::NotFound {
        looked: looked.join(", "),
    })
}

/// Candidate workspace roots: the parent of this crate's manifest directory (where the repo was
/// built), then every ancestor of the current directory that holds a `Cargo.toml`.
fn workspace_roots() -> Vec<PathBuf> {
    let mut roots = Vec::new();
    if let Some(root) = Path::new(env!("CARGO_MANIFEST_DIR")).parent() {
        roots.push(root.to_path_buf());
    }
    if let Ok(cwd) = std::env::current_dir() {
        roots.extend(
            cwd.ancestors()
                .filter(|d| d.join("Cargo.toml").is_file())
                .map(Path::to_path_buf),
        );
    }
    roots.dedup();
    roots
}

/// A running anvil; killed when dropped.
#[derive(Debug)]
pub struct AnvilInstance {
    child: Child,
    port: u16,
    url: Url,
    keys: Vec<PrivateKeySigner>,
    chain_id: u64,
}

impl AnvilInstance {
    /// The HTTP JSON-RPC URL.
    pub fn url(&self) -> Url {
        self.url.clone()
    }

    /// The HTTP JSON-RPC URL as a string.
    pub fn endpoint(&self) -> String {
        self.url.to_string()
    }

    /// The port anvil listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The chain id anvil was started with.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The funded dev accounts' keys anvil printed (empty for `--init` chains: use the genesis
    /// keys instead).
    pub fn keys(&self) -> &[PrivateKeySigner] {
        &self.keys
    }

    /// The OS process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for AnvilInstance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_banner_keys_and_port() {
        let mut p = StartupParser::default();
        let banner = "Available Accounts\n==================\n\n(0) 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266 (10000 ETH)\n\n\
            Private Keys\n==================\n\n\
            (0) 0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80\n\
            (1) 0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d\n\n\
            Wallet\n==================\nMnemonic: test\n\nListening on 127.0.0.1:39287";
        let ports: Vec<_> = banner.lines().filter_map(|l| p.line(l)).collect();
        assert_eq!(ports, [39287]);
        let addrs: Vec<_> = p.keys.iter().map(|k| k.address().to_string()).collect();
        assert_eq!(
            addrs,
            [
                "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
                "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
            ]
        );
    }

    #[test]
    fn missing_binary_is_a_clear_error() {
        let err = Anvil::new()
            .program("/nonexistent/anvil")
            .spawn()
            .unwrap_err();
        assert!(matches!(err, AnvilError::Spawn { .. }), "{err}");
    }
}
