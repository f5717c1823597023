//! Where an ADD's time goes, for the CNI bench: the wall-clock marks the
//! `berth` plugin prints with `BERTH_PHASE_LOG=1`, and the per-phase sums
//! berthd exports on `/metrics` (`berth_add_phase_us_total`,
//! `berth_add_phase_adds_total`).

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

/// The plugin's environment switch for its marks.
pub const PHASE_LOG_VAR: &str = "BERTH_PHASE_LOG";

/// Steps of one plugin run, in nanoseconds of wall-clock time, including
/// the bench's own spawn and reap around it.
#[derive(Debug, Clone, Copy)]
pub struct PluginMarks {
    pub spawned: u128,
    pub start: u128,
    pub parsed: u128,
    pub connected: u128,
    pub answered: u128,
    pub printed: u128,
    pub reaped: u128,
}

/// Phases read off [`PluginMarks`], in the order they happen.
pub const PLUGIN_PHASES: [&str; 6] = [
    "plugin exec (spawn → main)",
    "parse env + stdin, build request",
    "connect",
    "round trip (request → answer)",
    "check + print the result",
    "exit + reap",
];

impl PluginMarks {
    /// Parses the plugin's `berth-phases k=v ...` stderr line.
    pub fn parse(stderr: &str, spawned: u128, reaped: u128) -> Option<Self> {
        let line = stderr.lines().find(|l| l.starts_with("berth-phases "))?;
        let marks: BTreeMap<&str, u128> = line
            .split_whitespace()
            .skip(1)
            .filter_map(|kv| kv.split_once('='))
            .filter_map(|(k, v)| Some((k, v.parse().ok()?)))
            .collect();
        Some(Self {
            spawned,
            start: *marks.get("start")?,
            parsed: *marks.get("parsed")?,
            connected: *marks.get("connected")?,
            answered: *marks.get("answered")?,
            printed: *marks.get("printed")?,
            reaped,
        })
    }

    /// Nanoseconds of each of [`PLUGIN_PHASES`].
    pub fn phases(&self) -> [u128; 6] {
        let d = |a: u128, b: u128| b.saturating_sub(a);
        [
            d(self.spawned, self.start),
            d(self.start, self.parsed),
            d(self.parsed, self.connected),
            d(self.connected, self.answered),
            d(self.answered, self.printed),
            d(self.printed, self.reaped),
        ]
    }
}

/// Wall-clock now, in nanoseconds since the epoch (what the plugin prints).
pub fn wall_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

/// The daemon's per-phase sums (µs) and the number of ADDs they cover.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DaemonPhases {
    pub sums_us: Vec<(String, f64)>,
    pub count: u64,
}

impl DaemonPhases {
    /// Reads the `berth_add_phase_us_total{phase="…"}` lines and
    /// `berth_add_phase_adds_total` out of a `/metrics` answer, in the
    /// order they appear.
    pub fn parse(metrics: &str) -> Self {
        let mut out = Self::default();
        for line in metrics.lines() {
            let Some((key, value)) = line.rsplit_once(' ') else {
                continue;
            };
            let phase = |prefix: &str| {
                key.strip_prefix(prefix)
                    .and_then(|rest| rest.strip_prefix("{phase=\""))
                    .and_then(|rest| rest.strip_suffix("\"}"))
                    .map(str::to_owned)
            };
            if let (Some(name), Ok(v)) = (phase("berth_add_phase_us_total"), value.parse::<f64>()) {
                out.sums_us.push((name, v));
            } else if let ("berth_add_phase_adds_total", Ok(n)) = (key, value.parse()) {
                out.count = n;
            }
        }
        out
    }

    /// Mean µs per ADD of each phase between `before` and `self`.
    pub fn mean_since(&self, before: &Self) -> Vec<(String, f64)> {
        let adds = self.count.saturating_sub(before.count).max(1) as f64;
        self.sums_us
            .iter()
            .map(|(name, sum)| {
                let earlier = before
                    .sums_us
                    .iter()
                    .find(|(n, _)| n == name)
                    .map_or(0.0, |(_, s)| *s);
                (name.clone(), (sum - earlier) / adds)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_marks_parse_and_split() {
        let stderr =
            "noise\nberth-phases start=110 parsed=120 connected=130 answered=200 printed=210\n";
        let marks = PluginMarks::parse(stderr, 100, 250).expect("marks");
        assert_eq!(marks.phases(), [10, 10, 10, 70, 10, 40]);
        assert!(PluginMarks::parse("berth-phases start=1", 0, 0).is_none());
    }

    #[test]
    fn daemon_phases_parse_and_average() {
        let before = DaemonPhases::parse(
            "berth_add_phase_us_total{phase=\"read\"} 10.0\nberth_add_phase_adds_total 1\n",
        );
        let after = DaemonPhases::parse(
            "# HELP x\nberth_add_phase_us_total{phase=\"read\"} 30.0\nberth_add_phase_adds_total 3\n",
        );
        assert_eq!(after.mean_since(&before), vec![("read".to_owned(), 10.0)]);
    }
}
