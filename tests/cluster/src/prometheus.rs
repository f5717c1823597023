//! Reading the Prometheus text format that kube-apiserver and berthd
//! serve on `/metrics`: counters by label, and quantiles estimated from
//! histogram buckets (as PromQL's `histogram_quantile` does).

use std::collections::BTreeMap;

use anyhow::{bail, Context, Result};

/// One sample line: `name{label="value",...} value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

impl Sample {
    pub fn label(&self, name: &str) -> &str {
        self.labels.get(name).map_or("", String::as_str)
    }
}

/// Every sample of `text`; comments and blank lines are skipped. A line
/// that is not a sample is an error naming it.
pub fn parse(text: &str) -> Result<Vec<Sample>> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| parse_line(l).with_context(|| format!("metrics line {l:?}")))
        .collect()
}

fn parse_line(line: &str) -> Result<Sample> {
    let name_end = line
        .find(|c: char| c == '{' || c.is_whitespace())
        .context("no value")?;
    let name = line[..name_end].to_string();
    let mut rest = &line[name_end..];
    let mut labels = BTreeMap::new();
    if let Some(inner) = rest.strip_prefix('{') {
        let (parsed, after) = parse_labels(inner)?;
        labels = parsed;
        rest = after;
    }
    // A timestamp may follow the value.
    let value = rest.split_whitespace().next().context("no value")?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().with_context(|| format!("value {v:?}"))?,
    };
    Ok(Sample {
        name,
        labels,
        value,
    })
}

/// The labels up to the closing brace, and what follows it.
fn parse_labels(mut s: &str) -> Result<(BTreeMap<String, String>, &str)> {
    let mut labels = BTreeMap::new();
    loop {
        s = s.trim_start_matches([',', ' ']);
        if let Some(after) = s.strip_prefix('}') {
            return Ok((labels, after));
        }
        let eq = s.find('=').context("a label without '='")?;
        let key = s[..eq].trim().to_string();
        let Some(quoted) = s[eq + 1..].strip_prefix('"') else {
            bail!("label {key} has no quoted value");
        };
        let mut value = String::new();
        let mut chars = quoted.char_indices();
        let end = loop {
            match chars.next() {
                Some((i, '"')) => break i,
                Some((_, '\\')) => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, c)) => value.push(c),
                    None => bail!("label {key}: escape at the end"),
                },
                Some((_, c)) => value.push(c),
                None => bail!("label {key}: unterminated value"),
            }
        };
        labels.insert(key, value);
        s = &quoted[end + 1..];
    }
}

/// The `q` quantile (0..=1) of histogram `name` (its `_bucket` samples,
/// cumulative with an `le` label), summed over every sample set given
/// (e.g. one per node). Linear inside the bucket that holds the rank, as
/// `histogram_quantile`; `None` without observations. The answer is only
/// as fine as the buckets.
pub fn histogram_quantile(sets: &[Vec<Sample>], name: &str, q: f64) -> Option<f64> {
    let bucket = format!("{name}_bucket");
    let mut cumulative: BTreeMap<u64, f64> = BTreeMap::new();
    let mut inf = 0.0;
    for sample in sets.iter().flatten().filter(|s| s.name == bucket) {
        match sample.label("le") {
            "+Inf" => inf += sample.value,
            le => {
                // Keyed by bit pattern (f64 is not Ord); the bounds are
                // sorted as numbers below.
                let bound: f64 = le.parse().ok()?;
                *cumulative.entry(bound.to_bits()).or_default() += sample.value;
            }
        }
    }
    if inf <= 0.0 {
        return None;
    }
    let mut bounds: Vec<(f64, f64)> = cumulative
        .into_iter()
        .map(|(bits, count)| (f64::from_bits(bits), count))
        .collect();
    bounds.sort_by(|a, b| a.0.total_cmp(&b.0));
    let rank = q * inf;
    let (mut lower, mut below) = (0.0, 0.0);
    for (bound, count) in bounds {
        if count >= rank {
            let inside = count - below;
            let share = if inside > 0.0 {
                (rank - below) / inside
            } else {
                1.0
            };
            return Some(lower + (bound - lower) * share);
        }
        (lower, below) = (bound, count);
    }
    // Beyond the last finite bound: all that can be said is "above it".
    Some(lower)
}

/// The sum of every sample named `name` whose labels include `matching`.
pub fn sum(samples: &[Sample], name: &str, matching: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| s.name == name && matching.iter().all(|(k, v)| s.label(k) == *v))
        .map(|s| s.value)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apiserver_counter_lines_are_read_with_all_labels() -> Result<()> {
        let text = r#"
# HELP apiserver_request_total [STABLE] Counter of apiserver requests
# TYPE apiserver_request_total counter
apiserver_request_total{code="201",component="apiserver",dry_run="",group="berth.io",resource="berthaddresses",scope="cluster",subresource="",verb="POST",version="v1alpha1"} 998
apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="pods",scope="namespace",subresource="status",verb="PATCH",version="v1"} 1000 1700000000000
odd_label{msg="a \"quoted\" \\ value, with {braces}"} 1.5e3
"#;
        let samples = parse(text)?;
        assert_eq!(samples.len(), 3);
        assert_eq!(samples[0].label("verb"), "POST");
        assert_eq!(samples[0].label("group"), "berth.io");
        assert_eq!(samples[0].value, 998.0);
        assert_eq!(samples[1].label("subresource"), "status");
        assert_eq!(samples[1].value, 1000.0);
        assert_eq!(
            samples[2].label("msg"),
            r#"a "quoted" \ value, with {braces}"#
        );
        assert_eq!(samples[2].value, 1500.0);
        assert_eq!(
            sum(&samples, "apiserver_request_total", &[("verb", "POST")]),
            998.0
        );
        Ok(())
    }

    #[test]
    fn malformed_lines_are_errors() {
        for bad in [
            "no_value",
            "x{a=\"1\"}",
            "x{a=1} 2",
            "x{a=\"1} 2",
            "x notanumber",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    fn histogram(buckets: &[(&str, f64)]) -> Vec<Sample> {
        buckets
            .iter()
            .map(|(le, n)| Sample {
                name: "lat_bucket".into(),
                labels: BTreeMap::from([("le".to_string(), le.to_string())]),
                value: *n,
            })
            .collect()
    }

    #[test]
    fn quantiles_interpolate_inside_buckets_summed_over_sets() {
        // Node 1: 10 under 100, 10 more under 200. Node 2: 20 under 200.
        let a = histogram(&[("100", 10.0), ("200", 20.0), ("+Inf", 20.0)]);
        let b = histogram(&[("100", 0.0), ("200", 20.0), ("+Inf", 20.0)]);
        let sets = [a, b];
        // 40 in all: the median (rank 20) lies 10 of 30 into (100, 200].
        let median = histogram_quantile(&sets, "lat", 0.5).expect("observations");
        assert!((median - 133.333).abs() < 0.01, "{median}");
        assert_eq!(histogram_quantile(&sets, "lat", 0.25), Some(100.0));
        assert_eq!(histogram_quantile(&sets, "lat", 1.0), Some(200.0));
        assert_eq!(histogram_quantile(&[], "lat", 0.5), None);
    }

    #[test]
    fn a_rank_past_the_last_bound_reports_that_bound() {
        let h = histogram(&[("100", 1.0), ("+Inf", 4.0)]);
        assert_eq!(histogram_quantile(&[h], "lat", 0.99), Some(100.0));
    }
}
