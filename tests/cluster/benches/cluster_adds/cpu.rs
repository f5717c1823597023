//! Where the CPU went: user + system time of processes from /proc, read
//! before and after the measured window. The bench process's own threads
//! are split by name (the stand-in's server threads are its API server);
//! its reaped children are the short-lived processes it ran: every `ip`
//! command and CNI plugin (a plugin's own children, e.g. `berth` under
//! `bridge`, are reaped by it and counted with it).

use std::time::Duration;

use anyhow::{Context, Result};

/// Clock ticks per second of /proc's times.
fn ticks_per_sec() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// (utime, stime, cutime, cstime) in ticks, from a `stat` file.
fn stat_times(path: &str) -> Result<[u64; 4]> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    // The command name may hold spaces and parentheses: fields are
    // counted after its last ')'. utime is field 14, so index 11 here.
    let after = &text[text.rfind(')').context("no comm")? + 1..];
    let fields: Vec<u64> = after
        .split_whitespace()
        .skip(11)
        .take(4)
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    Ok([
        fields.first().copied().unwrap_or(0),
        fields.get(1).copied().unwrap_or(0),
        fields.get(2).copied().unwrap_or(0),
        fields.get(3).copied().unwrap_or(0),
    ])
}

fn comm(path: &str) -> String {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// CPU time per component, in ticks.
#[derive(Debug, Clone, Default)]
pub struct CpuSnapshot(pub Vec<(String, u64)>);

/// The name under which [`snapshot`] reports what every process on the
/// machine used (the cores are shared with other work).
pub const MACHINE: &str = "whole machine (every process)";

/// Busy ticks of all CPUs since boot (/proc/stat: all but idle and iowait).
fn machine_busy() -> u64 {
    let Ok(text) = std::fs::read_to_string("/proc/stat") else {
        return 0;
    };
    let Some(cpu) = text.lines().find(|l| l.starts_with("cpu ")) else {
        return 0;
    };
    cpu.split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse::<u64>().ok())
        .enumerate()
        // user nice system idle iowait irq softirq steal ...
        .filter(|(i, _)| *i != 3 && *i != 4 && *i < 8)
        .map(|(_, v)| v)
        .sum()
}

/// Named groups of PIDs to account, besides the bench process itself.
pub fn snapshot(groups: &[(&str, Vec<u32>)], own_thread_groups: &[(&str, &str)]) -> CpuSnapshot {
    let mut out = Vec::new();
    for (name, pids) in groups {
        let ticks: u64 = pids
            .iter()
            .filter_map(|pid| stat_times(&format!("/proc/{pid}/stat")).ok())
            .map(|t| t[0] + t[1])
            .sum();
        out.push((name.to_string(), ticks));
    }
    // Own threads whose name starts with a group's prefix go to that
    // group; the rest of the process (threads that exited included) is
    // the harness.
    let mut grouped = vec![0u64; own_thread_groups.len()];
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        for task in tasks.flatten() {
            let dir = task.path().to_string_lossy().into_owned();
            let Ok(t) = stat_times(&format!("{dir}/stat")) else {
                continue;
            };
            let name = comm(&format!("{dir}/comm"));
            if let Some(i) = own_thread_groups
                .iter()
                .position(|(_, prefix)| name.starts_with(prefix))
            {
                grouped[i] += t[0] + t[1];
            }
        }
    }
    let own = stat_times("/proc/self/stat").unwrap_or_default();
    let in_groups: u64 = grouped.iter().sum();
    for ((label, _), ticks) in own_thread_groups.iter().zip(grouped) {
        out.push((label.to_string(), ticks));
    }
    out.push((
        "harness (kubelets, scheduler, proxies, watch)".into(),
        (own[0] + own[1]).saturating_sub(in_groups),
    ));
    out.push(("CNI plugins and ip commands".into(), own[2] + own[3]));
    out.push((MACHINE.into(), machine_busy()));
    CpuSnapshot(out)
}

/// What each component used between two snapshots.
pub fn between(before: &CpuSnapshot, after: &CpuSnapshot) -> Vec<(String, Duration)> {
    let hz = ticks_per_sec();
    after
        .0
        .iter()
        .map(|(name, ticks)| {
            let was = before
                .0
                .iter()
                .find(|(n, _)| n == name)
                .map_or(0, |(_, t)| *t);
            let secs = ticks.saturating_sub(was) as f64 / hz;
            (name.clone(), Duration::from_secs_f64(secs))
        })
        .collect()
}
