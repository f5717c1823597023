//! A real `berthd` on its embedded store in a temp directory.

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// berthd opens its socket after loading its chain; compiling a Python
/// policy (18 MiB) takes tens of seconds on a busy 2-core machine.
const START_TIMEOUT_SECS: u64 = 180;

pub struct Daemon {
    pub dir: tempfile::TempDir,
    pub socket: PathBuf,
    pub config_path: PathBuf,
    child: Option<Child>,
    launch: Launch,
}

/// How the process is started besides its config (fault tests).
#[derive(Default, Clone)]
pub struct Launch {
    /// Extra environment (fault points).
    pub env: Vec<(String, String)>,
    /// A command the daemon runs under, e.g. `prlimit --nofile=256:256 --`.
    pub wrapper: Vec<String>,
}

impl Daemon {
    /// Starts `berthd serve` with `config`; `socketPath` and `dataDir` are
    /// filled in to point inside a fresh temp directory.
    pub fn start(config: Value) -> Self {
        Self::start_in(config, &std::env::temp_dir())
    }

    /// As `start`, with the temp directory (and so the store) under `base`,
    /// e.g. /dev/shm to measure the daemon without the disk's flush cost.
    pub fn start_in(config: Value, base: &std::path::Path) -> Self {
        Self::start_with(config, base, Launch::default())
    }

    /// As `start_in`, started as `launch` says.
    pub fn start_with(mut config: Value, base: &std::path::Path, launch: Launch) -> Self {
        let dir = tempfile::tempdir_in(base).expect("temp dir");
        let socket = dir.path().join("berth.sock");
        config["socketPath"] = Value::from(socket.to_str().expect("utf8 path"));
        config["dataDir"] = Value::from(dir.path().join("data").to_str().expect("utf8 path"));
        let config_path = dir.path().join("berthd.json");
        std::fs::write(
            &config_path,
            serde_json::to_vec_pretty(&config).expect("json"),
        )
        .expect("write config");
        let mut daemon = Self {
            dir,
            socket,
            config_path,
            child: None,
            launch,
        };
        daemon.spawn();
        daemon
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("berthd.log"))
            .expect("log file");
        let berthd = crate::workspace_bin("berthd");
        let mut command = match self.launch.wrapper.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(&berthd);
                c
            }
            None => Command::new(&berthd),
        };
        let child = command
            .envs(self.launch.env.iter().map(|(k, v)| (k, v)))
            .args(["serve", "--config"])
            .arg(&self.config_path)
            .env("RUST_LOG", "info")
            .stdout(Stdio::from(log.try_clone().expect("log clone")))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("spawn berthd");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(START_TIMEOUT_SECS);
        while Instant::now() < deadline {
            if std::os::unix::net::UnixStream::connect(&self.socket).is_ok() {
                return;
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("berthd exited early ({status}):\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("berthd did not open its socket in time:\n{}", self.log());
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("berthd.log")).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("daemon running").id()
    }

    /// Sends a signal by name ("HUP", "TERM") with kill(1).
    pub fn signal(&self, name: &str) {
        crate::netns::run("kill", &[&format!("-{name}"), &self.pid().to_string()]);
    }

    /// Rewrites the config file, keeping the paths `start` filled in.
    pub fn rewrite_config(&self, mut config: Value) {
        config["socketPath"] = Value::from(self.socket.to_str().expect("utf8 path"));
        config["dataDir"] = Value::from(self.dir.path().join("data").to_str().expect("utf8 path"));
        std::fs::write(
            &self.config_path,
            serde_json::to_vec_pretty(&config).expect("json"),
        )
        .expect("write config");
    }

    /// Waits for the daemon to exit on its own, returning whether it did
    /// so successfully within `secs`.
    pub fn wait_exit(&mut self, secs: u64) -> Option<bool> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        let child = self.child.as_mut()?;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                return Some(status.success());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// SIGKILL: no chance to flush or clean up.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("kill berthd");
            child.wait().expect("reap berthd");
        }
    }

    pub fn restart(&mut self) {
        self.kill9();
        self.spawn();
    }

    /// Starts the daemon again after it exited on its own.
    pub fn respawn(&mut self) {
        assert!(self.child.is_none(), "still running");
        self.spawn();
    }

    /// Runs a `berthd` CLI command against this daemon, returning its JSON.
    pub fn cli(&self, args: &[&str]) -> Value {
        let out = Command::new(crate::workspace_bin("berthd"))
            .args(args)
            .arg("--socket")
            .arg(&self.socket)
            .arg("--json")
            .output()
            .expect("run berthd cli");
        assert!(
            out.status.success(),
            "berthd {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("cli json")
    }

    /// Allocations as (address, pod, identity, state).
    pub fn allocations(&self) -> Vec<Value> {
        self.cli(&["allocations"])["allocations"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    pub fn address_of_pod(&self, pod: &str) -> Vec<String> {
        self.allocations()
            .iter()
            .filter(|a| a["pod"] == pod && a["state"] == "attached")
            .filter_map(|a| a["address"].as_str().map(str::to_owned))
            .collect()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SIGKILL is fine at teardown: the store is crash-safe.
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
