//! One running component: a child process whose output goes to a log file
//! in the cluster's dir, killed and reaped by PID when dropped.

use std::fs::{File, OpenOptions};
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};

use anyhow::{anyhow, Context, Result};

/// How much of a log a startup error quotes.
const TAIL_LINES: usize = 40;

#[derive(Debug)]
pub struct Process {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Process {
    /// Starts `command` with stdout and stderr written to `<dir>/<name>.log`
    /// (truncated first).
    pub fn spawn(name: &str, command: Command, dir: &Path) -> Result<Self> {
        let log = dir.join(format!("{name}.log"));
        let out = File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        Self::spawn_with_log(name, command, out, log)
    }

    /// Starts `command` with its output appended to `log`: a restarted
    /// container keeps its earlier runs' lines, as `kubectl logs -p` would.
    pub fn spawn_appending(name: &str, command: Command, log: &Path) -> Result<Self> {
        let out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("opening {}", log.display()))?;
        Self::spawn_with_log(name, command, out, log.to_path_buf())
    }

    fn spawn_with_log(name: &str, mut command: Command, out: File, log: PathBuf) -> Result<Self> {
        let err = out.try_clone()?;
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .with_context(|| format!("starting {name} ({:?})", command.get_program()))?;
        Ok(Process {
            name: name.to_string(),
            child,
            log,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// The exit status if the process has exited.
    pub fn try_wait(&mut self) -> Result<Option<ExitStatus>> {
        Ok(self.child.try_wait()?)
    }

    /// SIGKILL and reap.
    pub fn kill(&mut self) -> Result<ExitStatus> {
        // An already exited child makes kill() fail; wait() still reaps it.
        let _ = self.child.kill();
        Ok(self.child.wait()?)
    }

    /// An error if the process has already exited: a component that dies
    /// during startup must fail the wait at once, with its log, rather than
    /// let it run into the timeout.
    pub fn check_running(&mut self) -> Result<()> {
        match self.child.try_wait()? {
            None => Ok(()),
            Some(status) => Err(anyhow!(
                "{} exited ({status}); last lines of {}:\n{}",
                self.name,
                self.log.display(),
                self.log_tail()
            )),
        }
    }

    /// The last lines of the log, for error messages.
    pub fn log_tail(&self) -> String {
        log_tail(&self.log)
    }
}

/// The last lines of the file at `path`, for error messages.
pub fn log_tail(path: &Path) -> String {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n")
        }
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // SIGKILL: the cluster's state lives in a temp dir that goes next,
        // so there is nothing a graceful shutdown would save. Waiting reaps
        // the PID, so no zombie outlives the cluster.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `N` distinct free loopback ports. All listeners are held until every
/// port is chosen so the same port is never handed out twice; the kernel
/// picks ephemeral ports at random, which makes a clash with another test
/// that binds in between unlikely.
pub fn free_ports<const N: usize>() -> Result<[u16; N]> {
    let listeners = (0..N)
        .map(|_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0)))
        .collect::<std::io::Result<Vec<_>>>()
        .context("binding a free loopback port")?;
    let mut ports = [0; N];
    for (port, listener) in ports.iter_mut().zip(&listeners) {
        *port = listener.local_addr()?.port();
    }
    Ok(ports)
}
