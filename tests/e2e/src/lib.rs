//! Harness for end-to-end tests: a real `berthd` in a temp directory, real
//! CNI plugins from Debian's `containernetworking-plugins` exec'ing the real
//! `berth` binary, all inside network namespaces the test creates.
//!
//! Plugins run *inside* a "host" namespace made for the test (never in the
//! machine's own): the bridge plugin with `isGateway` flips `ip_forward`
//! wherever it runs. Only 10.x test ranges are used, and nothing is sent
//! to any other host.

pub mod cni;
pub mod daemon;
pub mod http;
pub mod netns;
pub mod phases;
pub mod raw;
pub mod scenario;

use std::path::PathBuf;

/// Directory holding the workspace's built binaries (`berth`, `berthd`):
/// the test executable lives in `<target>/<profile>/deps/`.
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let deps = exe.parent().expect("deps dir");
    deps.parent().expect("profile dir").to_path_buf()
}

/// Path of a workspace binary, failing with instructions when it is absent.
pub fn workspace_bin(name: &str) -> PathBuf {
    let path = bin_dir().join(name);
    assert!(
        path.is_file(),
        "{} is missing: build it first (`cargo build -p berth-daemon -p berth-cni`; scripts/test does)",
        path.display()
    );
    path
}

/// Where Debian installs the reference CNI plugins.
pub const CNI_PLUGIN_DIR: &str = "/usr/lib/cni";

/// A name unique to this process and call, short enough for interfaces.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}{}x{n}", std::process::id() % 100_000)
}

/// Polls `check` until it holds, failing the test after `secs` seconds:
/// tests wait on an observable condition, never on a guessed sleep.
pub fn eventually(what: &str, secs: u64, mut check: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < deadline {
        if check() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("timed out waiting for: {what}");
}
