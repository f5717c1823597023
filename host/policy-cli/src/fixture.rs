//! A request fixture: the request a policy sees (the SDK's `Request` as
//! JSON, as `berthd explain` shows it), its settings, the host's state,
//! and what the run must end in. Every `expect` key given is checked.
//!
//! ```json
//! { "description": "keeps only pool b",
//!   "settings": { "pools": ["b"] },
//!   "request": { ...berth_policy_sdk::Request... },
//!   "bindings": [],            // what the stated identity holds
//!   "free": [],                // addresses outside the candidates a pick may take
//!   "expect": { "outcome": "allocated", "identity": null,
//!               "decision": {"RestrictPools": ["b"]}, "picked": null } }
//! ```
//!
//! `outcome` is `allocated`, `rejected` or `failed`; `reason` (a substring
//! of the rejection or failure) goes with the last two.
//!
//! `berthd explain --request <address>` prints a fixture of the request
//! behind a live allocation, with what the live chain decided as `expect`.
//!
//! A file holds one fixture, a JSON array of them, or one per line (a
//! recorded stream for `berth-policy run`). A `.yaml`/`.yml` file holds
//! the same shapes in YAML: one fixture or a list per document, documents
//! separated by `---`.

use anyhow::Context as _;
use berth_core::chain::{ChainError, ChainHost, ChainOutcome, Phase, StepOutcome};
use berth_policy_sdk::{Binding, Candidate, Decision, Identity, Request};
use serde::Deserialize;
use std::path::Path;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixture {
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub settings: Option<serde_json::Value>,
    pub request: Request,
    #[serde(default)]
    pub bindings: Vec<Binding>,
    #[serde(default)]
    pub free: Vec<Candidate>,
    pub expect: Expect,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub outcome: Outcome,
    #[serde(default)]
    pub reason: Option<String>,
    /// `null` checks that no identity was stated.
    #[serde(default, deserialize_with = "present")]
    pub identity: Option<Option<Identity>>,
    #[serde(default)]
    pub decision: Option<Decision>,
    #[serde(default, deserialize_with = "present")]
    pub picked: Option<Option<Candidate>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Allocated,
    Rejected,
    Failed,
}

/// The fixtures in the file at `path`, JSON or (by its extension) YAML.
pub fn read(path: &Path) -> anyhow::Result<Vec<Fixture>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let yaml = matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    );
    let all = if yaml {
        parse_yaml(&text)
    } else {
        parse_all(&text).map_err(anyhow::Error::from)
    }
    .with_context(|| format!("{} is not a fixture file", path.display()))?;
    if all.is_empty() {
        anyhow::bail!("{} holds no fixtures", path.display());
    }
    Ok(all)
}

/// The fixtures in `text`: one object, an array of them, or one per line.
pub fn parse_all(text: &str) -> Result<Vec<Fixture>, serde_json::Error> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        return serde_json::from_str(text);
    }
    match serde_json::from_str(text) {
        Ok(one) => Ok(vec![one]),
        // Not one value: JSON lines.
        Err(whole) => {
            let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
            if lines.len() < 2 {
                return Err(whole);
            }
            lines.into_iter().map(serde_json::from_str).collect()
        }
    }
}

/// YAML documents, each one fixture or a list of them. Read as plain
/// values first so that a wrong field gets serde_json's message, which
/// names the field, rather than "matched no variant".
pub fn parse_yaml(text: &str) -> anyhow::Result<Vec<Fixture>> {
    let documents: Vec<serde_json::Value> = serde_saphyr::from_multiple(text)?;
    let mut all = Vec::new();
    for document in documents {
        match document {
            serde_json::Value::Array(items) => {
                for item in items {
                    all.push(serde_json::from_value(item)?);
                }
            }
            one => all.push(serde_json::from_value(one)?),
        }
    }
    Ok(all)
}

/// Where the host would put this request: the chain's pick, else its
/// first remaining candidate; `None` when the chain left the choice to
/// the allocator (any free address of its first pool).
pub fn chosen(outcome: &ChainOutcome) -> Option<&Candidate> {
    outcome.picked.as_ref().or(outcome.candidates.first())
}

/// Tells a key given as `null` from a key left out.
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// The host's side of a fixture: the identity's bindings, and which
/// addresses are assignable (the candidates the host sampled, plus `free`).
pub struct FixtureHost<'a>(pub &'a Fixture);

impl ChainHost for FixtureHost<'_> {
    fn bindings_of(&self, _: &Identity) -> Vec<Binding> {
        self.0.bindings.clone()
    }

    fn is_assignable(&self, candidate: &Candidate, _: Option<&Identity>) -> bool {
        self.0.request.candidates.contains(candidate) || self.0.free.contains(candidate)
    }
}

/// Every way `result` differs from what `fixture` expects (empty: it passed).
pub fn mismatches(
    fixture: &Fixture,
    policy: &str,
    result: &Result<ChainOutcome, ChainError>,
) -> Vec<String> {
    let want = &fixture.expect;
    let mut wrong = Vec::new();
    let (outcome, reason) = match result {
        Ok(_) => (Outcome::Allocated, None),
        Err(ChainError::Rejected { reason, .. }) => (Outcome::Rejected, Some(reason.clone())),
        Err(ChainError::Failed { error, .. }) => (Outcome::Failed, Some(error.to_string())),
    };
    if outcome != want.outcome {
        wrong.push(format!(
            "outcome: expected {:?}, got {outcome:?} ({reason:?})",
            want.outcome
        ));
    }
    if let Some(text) = &want.reason {
        if !reason.as_deref().is_some_and(|r| r.contains(text.as_str())) {
            wrong.push(format!(
                "reason: expected one containing {text:?}, got {reason:?}"
            ));
        }
    }
    let Ok(run) = result else { return wrong };
    if let Some(identity) = &want.identity {
        if &run.identity != identity {
            wrong.push(format!(
                "identity: expected {identity:?}, got {:?}",
                run.identity
            ));
        }
    }
    if let Some(picked) = &want.picked {
        if &run.picked != picked {
            wrong.push(format!("picked: expected {picked:?}, got {:?}", run.picked));
        }
    }
    if let Some(decision) = &want.decision {
        let got = run.trace.iter().find_map(|t| match &t.outcome {
            StepOutcome::Decided(d) if t.policy == policy && t.phase == Phase::Evaluate => Some(d),
            _ => None,
        });
        if got != Some(decision) {
            wrong.push(format!("decision: expected {decision:?}, got {got:?}"));
        }
    }
    wrong
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_yaml_field_error_names_the_field() {
        let error =
            parse_yaml("- description: x\n  bogus: 1\n").expect_err("an unknown field is refused");
        assert!(error.to_string().contains("bogus"), "{error}");
    }

    #[test]
    fn an_empty_yaml_file_holds_no_fixtures() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("none.yaml");
        std::fs::write(&path, "").expect("write");
        let error = read(&path).expect_err("nothing to test");
        assert!(
            format!("{error:#}").contains("holds no fixtures"),
            "{error:#}"
        );
    }
}
