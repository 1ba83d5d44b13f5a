//! The devnet's child processes: `surety operator run` and `surety aggregator run`, each with its
//! output appended to a log file beside its config, stopped with SIGTERM (SIGKILL after a grace
//! period), and killed if the devnet itself goes away first.

use std::{
    path::{Path, PathBuf},
    process::{ExitStatus, Stdio},
    time::Duration,
};

use eyre::WrapErr;
use nix::{sys::signal::Signal, unistd::Pid};
use tokio::process::{Child, Command};

/// How long a child gets to stop after SIGTERM before it is killed.
const GRACE: Duration = Duration::from_secs(10);

/// A `surety` subcommand running as a child process.
pub(super) struct Service {
    name: String,
    args: Vec<String>,
    log: PathBuf,
    child: Child,
    /// Set once the exit has been observed and reported.
    exited: Option<ExitStatus>,
}

impl Service {
    /// Starts `surety <args…>`, appending its stdout and stderr to `log`.
    pub(super) fn start(name: impl Into<String>, args: &[&str], log: &Path) -> eyre::Result<Self> {
        let name = name.into();
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        let child = spawn(&args, log).wrap_err_with(|| format!("starting {name}"))?;
        Ok(Self {
            name,
            args,
            log: log.to_owned(),
            child,
            exited: None,
        })
    }

    pub(super) fn name(&self) -> &str {
        &self.name
    }

    pub(super) fn log(&self) -> &Path {
        &self.log
    }

    /// The running process's id (0 once it has been reaped).
    pub(super) fn pid(&self) -> u32 {
        self.child.id().unwrap_or(0)
    }

    /// The exit status, the first time an exit is seen; `None` while running or once reported.
    pub(super) fn newly_exited(&mut self) -> Option<ExitStatus> {
        if self.exited.is_some() {
            return None;
        }
        let status = self.child.try_wait().ok().flatten()?;
        self.exited = Some(status);
        Some(status)
    }

    pub(super) fn is_running(&mut self) -> bool {
        self.exited.is_none() && matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits for the process to exit (for one-shot commands).
    pub(super) async fn wait(&mut self) -> eyre::Result<ExitStatus> {
        let status = self.child.wait().await?;
        self.exited = Some(status);
        Ok(status)
    }

    /// SIGKILL: the process gets no chance to flush or clean up.
    pub(super) async fn kill(&mut self) -> eyre::Result<()> {
        self.child
            .kill()
            .await
            .wrap_err_with(|| format!("killing {}", self.name))?;
        self.exited = None;
        Ok(())
    }

    /// Starts the same command again (after it exited or was killed).
    pub(super) fn restart(&mut self) -> eyre::Result<()> {
        self.child =
            spawn(&self.args, &self.log).wrap_err_with(|| format!("restarting {}", self.name))?;
        self.exited = None;
        Ok(())
    }

    /// SIGTERM, then SIGKILL if it has not stopped within the grace period.
    pub(super) async fn stop(&mut self) {
        if let Some(pid) = self.child.id() {
            let pid = Pid::from_raw(i32::try_from(pid).unwrap_or(i32::MAX));
            if nix::sys::signal::kill(pid, Signal::SIGTERM).is_ok()
                && tokio::time::timeout(GRACE, self.child.wait()).await.is_ok()
            {
                return;
            }
        }
        let _ = self.child.kill().await;
    }

    /// Why a process that exited stopped: its last `Error:` line (what `surety` prints on a
    /// failure), else the last line of its log.
    pub(super) fn last_words(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let mut lines = text.lines().rev().filter(|l| !l.trim().is_empty());
        text.lines()
            .rev()
            .find(|l| l.starts_with("Error: "))
            .or_else(|| lines.next())
            .unwrap_or_default()
            .to_owned()
    }
}

fn spawn(args: &[String], log: &Path) -> eyre::Result<Child> {
    let exe = std::env::current_exe().wrap_err("locating the surety executable")?;
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .wrap_err_with(|| format!("opening {}", log.display()))?;
    let err = out.try_clone()?;
    Ok(Command::new(exe)
        .args(args)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        // Logs go to files: no colour escapes in them.
        .env("NO_COLOR", "1")
        .kill_on_drop(true)
        .spawn()?)
}
