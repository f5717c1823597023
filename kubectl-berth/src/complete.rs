//! Completion for `kubectl berth <TAB>`: kubectl (1.26 and later) runs
//! `kubectl_complete-berth` from PATH with the words typed after `berth`,
//! the last one being the word to complete, and reads Cobra's answer: one
//! candidate per line, then `:<directive>`. The candidates come from the
//! same clap definition as `--help`, so they cannot drift from the verbs.

use crate::cli::Cli;
use clap::{Arg, Command, CommandFactory};

/// Cobra's directive: no file names (a verb, a flag, a fixed value).
const NO_FILE_COMPLETION: u8 = 4;
/// Cobra's directive: the shell's own completion (a path argument).
const DEFAULT_COMPLETION: u8 = 0;

/// What to offer for the last of `words`.
#[derive(Debug, PartialEq, Eq)]
pub struct Completion {
    pub candidates: Vec<String>,
    /// The word is a value with no fixed choices (a path, a name): let the
    /// shell complete file names.
    pub files: bool,
}

impl Completion {
    /// Cobra's wire form, as kubectl reads it.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for c in &self.candidates {
            out.push_str(c);
            out.push('\n');
        }
        let directive = if self.files {
            DEFAULT_COMPLETION
        } else {
            NO_FILE_COMPLETION
        };
        out.push_str(&format!(":{directive}\n"));
        out
    }
}

/// The completions of the last of `words` (the words after `berth`; none
/// means an empty word at the first position).
pub fn complete(words: &[String]) -> Completion {
    let mut root = Cli::command();
    // Propagates the global flags (--kubeconfig, --context) to every verb.
    root.build();
    let (partial, done) = match words.split_last() {
        Some((last, done)) => (last.as_str(), done),
        None => ("", &[][..]),
    };
    let mut current = &root;
    let mut awaiting: Option<&Arg> = None;
    for word in done {
        if awaiting.take().is_some() {
            continue;
        }
        if let Some(long) = word.strip_prefix("--") {
            if !long.contains('=') {
                awaiting = find(current, |a| a.get_long() == Some(long)).filter(|a| takes_value(a));
            }
        } else if let Some(short) = word.strip_prefix('-').filter(|s| s.chars().count() == 1) {
            let short = short.chars().next();
            awaiting = find(current, |a| a.get_short() == short).filter(|a| takes_value(a));
        } else if let Some(verb) = current.find_subcommand(word) {
            current = verb;
        }
    }
    if let Some(arg) = awaiting {
        return values(arg, partial, "");
    }
    if let Some((flag, value)) = partial.strip_prefix("--").and_then(|p| p.split_once('=')) {
        return match find(current, |a| a.get_long() == Some(flag)) {
            Some(arg) => values(arg, value, &format!("--{flag}=")),
            None => fixed(Vec::new()),
        };
    }
    if partial.starts_with('-') {
        let mut flags: Vec<String> = current
            .get_arguments()
            .filter(|a| !a.is_hide_set())
            .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
            .chain(std::iter::once("--help".to_owned()))
            .filter(|f| f.starts_with(partial))
            .collect();
        flags.sort();
        flags.dedup();
        return fixed(flags);
    }
    let verbs: Vec<String> = current
        .get_subcommands()
        .filter(|v| !v.is_hide_set())
        .map(|v| v.get_name().to_owned())
        .filter(|name| name.starts_with(partial))
        .collect();
    if !verbs.is_empty() || current.has_subcommands() {
        return fixed(verbs);
    }
    // A verb's positional argument (an address, an identity): no choices.
    let positional = current.get_positionals().find(|a| !a.is_hide_set());
    match positional {
        Some(arg) => values(arg, partial, ""),
        None => fixed(Vec::new()),
    }
}

fn find(command: &Command, matches: impl Fn(&Arg) -> bool) -> Option<&Arg> {
    command.get_arguments().find(|a| matches(a))
}

fn takes_value(arg: &Arg) -> bool {
    arg.get_num_args().is_some_and(|n| n.takes_values())
        || matches!(
            arg.get_action(),
            clap::ArgAction::Set | clap::ArgAction::Append
        )
}

/// The fixed choices of `arg` that start with `partial`, each written as
/// `prefix` + choice; an argument without choices completes file names.
fn values(arg: &Arg, partial: &str, prefix: &str) -> Completion {
    let choices: Vec<String> = arg
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| v.get_name().to_owned())
        .filter(|v| v.starts_with(partial))
        .map(|v| format!("{prefix}{v}"))
        .collect();
    if arg.get_possible_values().is_empty() {
        return Completion {
            candidates: Vec::new(),
            files: true,
        };
    }
    fixed(choices)
}

fn fixed(candidates: Vec<String>) -> Completion {
    Completion {
        candidates,
        files: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The words of `line` as the shell passes them: a trailing space
    /// leaves an empty word to complete ("" is one empty word).
    fn words(line: &str) -> Vec<String> {
        line.split(' ').map(str::to_owned).collect()
    }

    #[test]
    fn the_first_word_is_a_verb() {
        let c = complete(&words(""));
        for verb in [
            "pools",
            "allocations",
            "explain",
            "release",
            "check",
            "migrate",
        ] {
            assert!(c.candidates.contains(&verb.to_owned()), "{c:?}");
        }
        assert!(!c.files);
        assert_eq!(complete(&words("al")).candidates, ["allocations"]);
    }

    #[test]
    fn a_verbs_flags_include_the_global_ones() {
        let c = complete(&words("allocations --"));
        for flag in [
            "--pool",
            "--node",
            "--namespace",
            "--output",
            "--kubeconfig",
        ] {
            assert!(c.candidates.contains(&flag.to_owned()), "{c:?}");
        }
    }

    #[test]
    fn an_output_value_is_one_of_the_formats() {
        for line in ["pools -o ", "pools --output ", "check --output y"] {
            let c = complete(&words(line));
            assert!(
                c.candidates.iter().any(|v| v.ends_with("yaml")),
                "{line}: {c:?}"
            );
            assert!(!c.files, "{line}");
        }
        assert_eq!(
            complete(&words("pools --output=j")).candidates,
            ["--output=json"]
        );
    }

    #[test]
    fn nested_verbs_and_paths() {
        let nested = complete(&words("migrate "));
        assert!(
            nested.candidates.contains(&"spiderpool".to_owned()),
            "{nested:?}"
        );
        let path = complete(&words("pools --kubeconfig "));
        assert!(path.files && path.candidates.is_empty(), "{path:?}");
        assert_eq!(complete(&words("pools ")).render(), ":4\n");
    }
}
