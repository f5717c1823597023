//! Output in kubectl's manner: aligned columns with upper-case headers
//! (`-o wide` adds columns), or the whole report as JSON or YAML for
//! scripts (`-o json`, `-o yaml`).

use serde::Serialize;
use std::fmt::Write as _;

/// `-o` of every verb that prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns (the default).
    #[default]
    #[value(skip)]
    Table,
    /// Columns, with more of them.
    Wide,
    Json,
    Yaml,
}

/// Spaces between columns, as `kubectl get` prints them.
const GAP: usize = 3;

/// A table built row by row and printed with every column as wide as its
/// widest cell.
#[derive(Debug, Default)]
pub struct Table {
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: Vec<&'static str>) -> Self {
        Table {
            headers,
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        debug_assert_eq!(cells.len(), self.headers.len(), "cells per row");
        self.rows.push(cells);
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        let header: Vec<String> = self.headers.iter().map(|h| (*h).to_owned()).collect();
        for row in std::iter::once(&header).chain(&self.rows) {
            let last = row.len().saturating_sub(1);
            let mut line = String::new();
            for (i, (cell, w)) in row.iter().zip(&widths).enumerate() {
                if i == last {
                    line.push_str(cell);
                } else {
                    let pad = w - cell.chars().count() + GAP;
                    let _ = write!(line, "{cell}{}", " ".repeat(pad));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// `value` as `-o json` or `-o yaml` print it; `None` for the column
/// formats, which each verb renders itself.
pub fn structured<T: Serialize>(value: &T, format: Format) -> anyhow::Result<Option<String>> {
    Ok(match format {
        Format::Json => Some(serde_json::to_string_pretty(value)? + "\n"),
        Format::Yaml => Some(serde_saphyr::to_string(value)?),
        Format::Table | Format::Wide => None,
    })
}

/// A cell for an optional value: kubectl prints `<none>`.
pub fn or_none(value: Option<&str>) -> String {
    match value {
        Some(v) if !v.is_empty() => v.to_owned(),
        _ => "<none>".to_owned(),
    }
}

/// A duration in kubectl's short form: "45s", "12m", "3h", "5d".
pub fn short_duration(secs: u64) -> String {
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 2 * 3600 => format!("{}m", s / 60),
        s if s < 2 * 86_400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

/// When `at` is relative to `now`: "in 5m" or "3m ago".
pub fn relative(at: u64, now: u64) -> String {
    if at >= now {
        format!("in {}", short_duration(at - now))
    } else {
        format!("{} ago", short_duration(now - at))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_on_the_widest_cell() {
        let mut t = Table::new(vec!["NAME", "SUBNET", "TOTAL"]);
        t.row(vec!["a".into(), "10.6.0.0/16".into(), "10".into()]);
        t.row(vec!["longer-name".into(), "fd00::/64".into(), "5".into()]);
        assert_eq!(
            t.render(),
            "NAME          SUBNET        TOTAL\n\
             a             10.6.0.0/16   10\n\
             longer-name   fd00::/64     5\n"
        );
    }

    #[test]
    fn durations_read_like_kubectl() {
        assert_eq!(short_duration(45), "45s");
        assert_eq!(short_duration(600), "10m");
        assert_eq!(short_duration(3 * 3600), "3h");
        assert_eq!(short_duration(3 * 86_400), "3d");
        assert_eq!(relative(160, 100), "in 60s");
        assert_eq!(relative(100, 400), "5m ago");
    }

    #[test]
    fn yaml_and_json_render_the_same_value() {
        let v = serde_json::json!({ "name": "p", "total": 3 });
        let json = structured(&v, Format::Json).unwrap().unwrap();
        let yaml = structured(&v, Format::Yaml).unwrap().unwrap();
        assert!(json.contains("\"total\": 3"), "{json}");
        assert!(yaml.contains("total: 3"), "{yaml}");
        assert!(structured(&v, Format::Wide).unwrap().is_none());
    }
}
