//! A berthd process as one node of the cluster: its config (pointed at
//! the stand-in), start and restart (with test hooks in the environment),
//! its log, config reloads by SIGHUP, and teardown.

use super::Cluster;
use serde_json::{json, Value};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Berthd {
    pub dir: tempfile::TempDir,
    pub socket: PathBuf,
    config_path: PathBuf,
    child: Option<Child>,
    node: String,
    /// Extra environment for the next spawn (test hooks).
    env: Vec<(String, String)>,
}

impl Berthd {
    pub fn start(cluster: &Cluster, node: &str, policies: Value) -> Self {
        Self::start_with_gc_interval(cluster, node, policies, 1)
    }

    /// With GC (which refreshes this node's view of the records) every
    /// `gc_interval_secs`: a long interval keeps a node's view stale.
    pub fn start_with_gc_interval(
        cluster: &Cluster,
        node: &str,
        policies: Value,
        gc_interval_secs: u64,
    ) -> Self {
        Self::start_with_config(cluster, node, policies, |config| {
            config["kubernetes"]["gcIntervalSecs"] = json!(gc_interval_secs);
        })
    }

    /// With `tweak` applied to the generated config before start.
    pub fn start_with_config(
        cluster: &Cluster,
        node: &str,
        policies: Value,
        tweak: impl FnOnce(&mut Value),
    ) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let socket = dir.path().join("berth.sock");
        let config_path = dir.path().join("berthd.json");
        let mut config = json!({
            "socketPath": socket, "dataDir": dir.path().join("data"),
            "policies": policies,
            "limits": { "expiryIntervalSecs": 1, "configPollIntervalSecs": 1 },
            "kubernetes": { "apiServerUrl": cluster.api.url(), "gcIntervalSecs": 1, "gcGraceSecs": 1, "poolSyncIntervalSecs": 1 }
        });
        tweak(&mut config);
        std::fs::write(
            &config_path,
            serde_json::to_vec_pretty(&config).expect("json"),
        )
        .expect("config");
        let mut d = Self {
            dir,
            socket,
            config_path,
            child: None,
            node: node.to_owned(),
            env: Vec::new(),
        };
        d.spawn();
        d
    }

    fn spawn(&mut self) {
        let log = std::fs::File::create(self.dir.path().join("log")).expect("log");
        let child = Command::new(env!("CARGO_BIN_EXE_berthd"))
            .args(["serve", "--config"])
            .arg(&self.config_path)
            .env("BERTH_NODE_NAME", &self.node)
            .env("RUST_LOG", "info,berth=debug")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::from(log.try_clone().expect("log")))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("spawn berthd");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while UnixStream::connect(&self.socket).is_err() {
            assert!(
                Instant::now() < deadline,
                "berthd did not start:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }

    pub fn restart(&mut self) {
        self.restart_with_env(&[]);
    }

    /// SIGKILL (if still running) and start again with `env` added.
    pub fn restart_with_env(&mut self, env: &[(&str, &str)]) {
        if let Some(mut c) = self.child.take() {
            // It may have died already (a crash point): kill then fails,
            // and wait reaps it either way.
            let _ = c.kill();
            c.wait().expect("wait");
        }
        self.env = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.spawn();
    }

    /// Whether the process has exited (e.g. at a crash point).
    pub fn exited(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| c.try_wait().expect("try_wait").is_some())
    }

    pub fn set_policies(&self, policies: Value) {
        let mut config: Value =
            serde_json::from_slice(&std::fs::read(&self.config_path).expect("read")).expect("json");
        config["policies"] = policies;
        std::fs::write(
            &self.config_path,
            serde_json::to_vec_pretty(&config).expect("json"),
        )
        .expect("write");
        let reloads = self.log().matches("config reloaded").count();
        let pid = self.child.as_ref().expect("running").id().to_string();
        assert!(Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .expect("kill")
            .success());
        // Wait for the reload to be done, not for a guessed time.
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while self.log().matches("config reloaded").count() == reloads {
            assert!(
                std::time::Instant::now() < deadline,
                "no reload after SIGHUP:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Berthd {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // Teardown: the state lives in the stand-in, nothing to flush.
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
