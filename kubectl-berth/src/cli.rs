//! The command line: `kubectl berth <verb>`, every verb with `--help`.

use crate::output::Format;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "kubectl-berth",
    bin_name = "kubectl berth",
    version,
    about = "Berth IPAM across the cluster, through the Kubernetes API.",
    long_about = "Berth IPAM across the cluster, through the Kubernetes API.\n\n\
        Reads and writes Berth's BerthPool and BerthAddress objects with your \
        kubeconfig and your RBAC rights; it never talks to a node's berthd socket. \
        Install it on PATH as `kubectl-berth` and run it as `kubectl berth <verb>`."
)]
pub struct Cli {
    #[command(flatten)]
    pub connection: Connection,
    #[command(subcommand)]
    pub verb: Verb,
}

/// Which cluster, as kubectl chooses it.
#[derive(Debug, Args)]
pub struct Connection {
    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config,
    /// then the in-cluster service account).
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (default: its current context).
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Verb {
    /// List pools: subnet, allocated/total, attached, retained and validity,
    /// counted from the BerthAddress objects now (not from the status).
    Pools {
        /// Output format: wide adds ranges, gateway and selectors.
        #[arg(short, long, value_enum)]
        output: Option<Format>,
    },
    /// List held addresses: pod, identity, retention and expiry, state, node.
    Allocations(AllocationsArgs),
    /// The stored decision trace of an address: which policy did what.
    ///
    /// TARGET is an address (every pool holding it) or an identity key
    /// such as default/test-sts/0 (every address it holds).
    Explain {
        target: String,
        #[arg(short, long, value_enum)]
        output: Option<Format>,
    },
    /// Release one address, or retire an identity, as berthd's own release
    /// does.
    ///
    /// An address is deleted with its resourceVersion and uid as
    /// preconditions, so a concurrent change by a node fails the release
    /// instead of being lost. An attached address (a running pod uses it) is
    /// refused unless --force, which says what it breaks.
    ///
    /// --identity KEY retires the identity like `berthd release --identity`:
    /// its retained addresses are freed once its hold (e.g.
    /// holdAfterScaleDown) has passed; attached ones stay with their pod and
    /// are freed at its DEL.
    Release(ReleaseArgs),
    /// Check the cluster's Berth state for inconsistencies (exit 1 if any).
    ///
    /// Finds: addresses whose pod is gone, pods with an IP in a Berth pool
    /// that Berth does not hold for them, addresses outside their pool's
    /// ranges or of a pool that no longer exists, two objects claiming one
    /// address, objects berthd cannot read, retained bindings past their
    /// expiry, and pool status counts that disagree with the objects. Exit
    /// status: 0 clean, 1 problems found, 2 the check could not run.
    Check(CheckArgs),
    /// Migrate another IPAM's state into Berth.
    #[command(subcommand)]
    Migrate(Migrate),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completion {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
pub struct AllocationsArgs {
    /// Only addresses of this pool.
    #[arg(long)]
    pub pool: Option<String>,
    /// Only addresses handed out by this node.
    #[arg(long)]
    pub node: Option<String>,
    /// Only addresses of pods in this namespace.
    #[arg(short, long)]
    pub namespace: Option<String>,
    /// Output format: wide adds network, interface, container, owner and age.
    #[arg(short, long, value_enum)]
    pub output: Option<Format>,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("what").required(true).args(["address", "identity"]))]
pub struct ReleaseArgs {
    /// The address to release.
    pub address: Option<String>,
    /// The pool of ADDRESS, when more than one pool holds it.
    #[arg(long, requires = "address")]
    pub pool: Option<String>,
    /// Retire this identity instead (e.g. default/test-sts/0).
    #[arg(long, conflicts_with_all = ["address", "pool", "force"])]
    pub identity: Option<String>,
    /// Release an attached address although a running pod uses it.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// `json` or `yaml` for scripts; the default is a table.
    #[arg(short, long, value_enum)]
    pub output: Option<Format>,
    /// A retained binding is reported once its expiry is this many seconds
    /// past (the owning node frees expired bindings every few seconds).
    #[arg(long, default_value_t = crate::limits::EXPIRY_SLACK_SECS, value_name = "SECS")]
    pub expiry_slack_secs: u64,
}

#[derive(Debug, Subcommand)]
pub enum Migrate {
    /// Write Berth's equivalents of Spiderpool's objects (API
    /// spiderpool.spidernet.io/v2beta1), so StatefulSet pods keep their
    /// addresses after the cut-over and no address is handed out twice.
    ///
    /// Reads SpiderIPPool, SpiderReservedIP and SpiderEndpoint; writes one
    /// BerthReservedIP per SpiderReservedIP, one BerthPool per SpiderIPPool
    /// and one BerthAddress per live allocation,
    /// bound to the identity Berth's default policy states (a StatefulSet
    /// pod's namespace/statefulset/ordinal). What has no equivalent in Berth
    /// is listed, never dropped silently. Nothing is written while any
    /// address is already held in Berth by someone else: the migration
    /// stops with the list. Running it again changes nothing.
    /// See docs/migrating-from-spiderpool.md for the order of steps.
    Spiderpool(SpiderpoolArgs),
}

#[derive(Debug, Args)]
pub struct SpiderpoolArgs {
    /// Print the plan and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Berth's chart ConfigMap (NAMESPACE/NAME) holding berthd.json: the
    /// default policy's settings there decide the identities written.
    #[arg(long, default_value = crate::limits::BERTH_CONFIG_MAP, value_name = "NAMESPACE/NAME")]
    pub berth_config: String,
    #[arg(short, long, value_enum)]
    pub output: Option<Format>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    /// Every verb, nested ones too, answers `--help` with its usage.
    #[test]
    fn every_verb_has_help() {
        fn walk(command: &clap::Command, path: &mut Vec<String>, seen: &mut usize) {
            for verb in command.get_subcommands() {
                path.push(verb.get_name().to_owned());
                let mut args = vec!["kubectl-berth".to_owned()];
                args.extend(path.iter().cloned());
                args.push("--help".to_owned());
                let error = Cli::command()
                    .try_get_matches_from(&args)
                    .expect_err("--help stops the parse");
                assert_eq!(
                    error.kind(),
                    clap::error::ErrorKind::DisplayHelp,
                    "{args:?}"
                );
                let text = error.render().to_string();
                assert!(text.contains("Usage: kubectl berth"), "{args:?}: {text}");
                *seen += 1;
                walk(verb, path, seen);
                path.pop();
            }
        }
        let mut seen = 0;
        walk(&Cli::command(), &mut Vec::new(), &mut seen);
        assert!(seen >= 8, "{seen} verbs");
    }
}
