//! Pool names as requests give them: exact names or wildcard patterns,
//! each optionally bound to a family (Spiderpool's annotations list IPv4
//! and IPv6 pools apart), resolved against the pools in force.
//!
//! Patterns follow Spiderpool, which matches with Go's `filepath.Match`:
//! a name holding `*`, `?`, or both `[` and `]` is a pattern; `*` matches
//! any run of characters, `?` one character, `[abc]`, `[a-z]` and
//! `[^a-z]` one character of (or not of) a class, and `\` makes the next
//! character literal. Pool names cannot hold these characters, so no real
//! name is taken for a pattern.
//!
//! Resolution keeps the request's order; a pattern contributes every pool
//! of its family it matches, in name order (Spiderpool lists pools from
//! the API server, which sorts by name). A pattern that matches nothing
//! contributes nothing, but a list that resolves to no pool at all is an
//! error: falling back to the default pools would put the pod where its
//! owner did not ask.

use crate::error::AllocError;
use crate::limits::REQUEST_POOLS_MAX;
use crate::pool::Pool;
use berth_policy_sdk::IpFamily;

/// One entry of a request's pool list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolRef {
    /// A pool name or a pattern.
    pub name: String,
    /// The family the entry was listed under, if any.
    pub family: Option<IpFamily>,
}

impl PoolRef {
    /// An entry of either family (Berth's annotations, the CNI config).
    pub fn any(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            family: None,
        }
    }

    pub fn of(family: IpFamily, name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            family: Some(family),
        }
    }
}

/// Whether Spiderpool would treat `name` as a pattern.
pub fn is_pattern(name: &str) -> bool {
    name.contains('*') || name.contains('?') || (name.contains('[') && name.contains(']'))
}

/// The pool names `refs` stand for, in order, without repeats.
pub fn resolve(pools: &[Pool], refs: &[PoolRef]) -> Result<Vec<String>, AllocError> {
    if refs.len() > REQUEST_POOLS_MAX {
        return Err(AllocError::TooManyPools {
            count: refs.len(),
            max: REQUEST_POOLS_MAX,
        });
    }
    let mut by_name: Vec<&Pool> = pools.iter().collect();
    by_name.sort_by(|a, b| a.name.cmp(&b.name));
    let family_fits = |pool: &Pool, want: Option<IpFamily>| want.is_none_or(|f| pool.family == f);
    let mut out: Vec<String> = Vec::new();
    let mut push = |name: &str| {
        if !out.iter().any(|n| n == name) {
            out.push(name.to_owned());
        }
    };
    for r in refs {
        if is_pattern(&r.name) {
            let pattern =
                Pattern::parse(&r.name).map_err(|problem| AllocError::BadPoolPattern {
                    pattern: r.name.clone(),
                    problem,
                })?;
            by_name
                .iter()
                .filter(|p| family_fits(p, r.family) && pattern.matches(&p.name))
                .for_each(|p| push(&p.name));
            continue;
        }
        if let (Some(pool), Some(wanted)) = (pools.iter().find(|p| p.name == r.name), r.family) {
            if pool.family != wanted {
                return Err(AllocError::PoolFamily {
                    name: r.name.clone(),
                    wanted,
                    actual: pool.family,
                });
            }
        }
        // An unknown name stays: the allocator refuses it by name.
        push(&r.name);
    }
    if out.is_empty() && !refs.is_empty() {
        return Err(AllocError::NoPoolMatches {
            patterns: refs.iter().map(|r| r.name.clone()).collect(),
        });
    }
    Ok(out)
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Star,
    One,
    Literal(char),
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

/// A parsed pattern; parsing checks all of it, so a malformed pattern is
/// refused whatever the pools are called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    tokens: Vec<Token>,
}

impl Pattern {
    pub fn parse(text: &str) -> Result<Pattern, String> {
        let mut chars = text.chars().peekable();
        let mut tokens = Vec::new();
        let escaped = |c: Option<char>| c.ok_or_else(|| "ends with a lone '\\'".to_owned());
        while let Some(c) = chars.next() {
            tokens.push(match c {
                '*' => Token::Star,
                '?' => Token::One,
                '\\' => Token::Literal(escaped(chars.next())?),
                '[' => {
                    let negated = chars.next_if_eq(&'^').is_some();
                    let mut ranges = Vec::new();
                    loop {
                        let lo = match chars.next() {
                            None => return Err("has a '[' without its ']'".to_owned()),
                            Some(']') if !ranges.is_empty() => break,
                            Some(']') => return Err("has an empty character class".to_owned()),
                            Some('-') => return Err("has a range without its start".to_owned()),
                            Some('\\') => escaped(chars.next())?,
                            Some(c) => c,
                        };
                        let hi = if chars.next_if_eq(&'-').is_some() {
                            match chars.next() {
                                None | Some(']') | Some('-') => {
                                    return Err("has a range without its end".to_owned())
                                }
                                Some('\\') => escaped(chars.next())?,
                                Some(c) => c,
                            }
                        } else {
                            lo
                        };
                        if hi < lo {
                            return Err(format!("has the range {lo}-{hi}, which is empty"));
                        }
                        ranges.push((lo, hi));
                    }
                    Token::Class { negated, ranges }
                }
                c => Token::Literal(c),
            });
        }
        Ok(Pattern { tokens })
    }

    /// Whether the whole of `name` matches.
    pub fn matches(&self, name: &str) -> bool {
        let name: Vec<char> = name.chars().collect();
        // reachable[j]: the tokens so far can match exactly name[..j].
        let mut reachable = vec![false; name.len() + 1];
        reachable[0] = true;
        for token in &self.tokens {
            let mut next = vec![false; name.len() + 1];
            for j in 0..=name.len() {
                match token {
                    Token::Star => next[j] = reachable[j] || (j > 0 && next[j - 1]),
                    _ if j == 0 => {}
                    other => next[j] = reachable[j - 1] && one_char(other, name[j - 1]),
                }
            }
            reachable = next;
        }
        reachable[name.len()]
    }
}

fn one_char(token: &Token, c: char) -> bool {
    match token {
        Token::One => true,
        Token::Literal(l) => *l == c,
        Token::Class { negated, ranges } => {
            ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)) != *negated
        }
        Token::Star => true,
    }
}

#[cfg(test)]
#[path = "pool_names_tests.rs"]
mod tests;
