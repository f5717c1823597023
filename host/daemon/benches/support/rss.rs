//! Resident memory of a process, shared by the daemon's benches.

/// (VmRSS, VmHWM) of process `pid` in MiB.
pub fn rss_mib(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
            .expect("field")
            / 1024.0
    };
    (field("VmRSS:"), field("VmHWM:"))
}
