//! `berthd`: the Berth host daemon and its operator CLI.

mod accept_backoff;
mod acceptors;
mod answer;
mod atomic_file;
mod cli;
mod cluster;
mod config;
mod connection;
mod daemon;
mod decision_log;
mod faults;
mod fetch_policy;
mod frame_buffer;
mod http;
#[cfg(test)]
mod http_tests;
mod install_cni;
mod kube;
mod limits;
mod metrics;
mod metrics_views;
mod phases;
mod pod_request;
mod policy_limits;
mod precompile;
mod recording;
mod server;
mod service;
mod service_admin;
mod service_cni;
#[cfg(test)]
mod service_tests;
mod sys;
mod validate;
mod views;
mod wire_error;

use berth_proto::admin::AdminRequest;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "berthd",
    version,
    about = "Berth IPAM host daemon: owns the address space, runs the Wasm policy chain, answers the `berth` CNI plugin.",
    long_about = None
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the daemon: store (the embedded file, or the Kubernetes API when
    /// the config has a `kubernetes` section), policy chain, CNI socket,
    /// metrics. SIGHUP or a changed config file reloads pools and policies;
    /// SIGTERM drains and stops.
    Serve {
        /// The daemon's JSON config (see examples/single-host/berthd.json).
        #[arg(long, short)]
        config: PathBuf,
        /// Log format: "text" for people, "json" for collectors.
        #[arg(long, default_value = "text", value_parser = ["text", "json"])]
        log_format: String,
    },
    /// Check a config without running: parse it, validate the pools and
    /// load every policy of the chain (settings included).
    CheckConfig {
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Compile the config's policies into the policy cache and exit: what
    /// `serve` runs in a child before loading them, so the compiler never
    /// stays resident in the daemon.
    #[command(name = precompile::VERB, hide = true)]
    CompilePolicies {
        #[arg(long, short)]
        config: PathBuf,
    },
    /// List pools with allocated and total counts.
    Pools(Remote),
    /// List allocations: owner, identity key, retention.
    Allocations(Remote),
    /// Release by hand: one address, or every address an identity holds.
    Release {
        #[command(flatten)]
        remote: Remote,
        /// Identity key, e.g. default/test-sts/0.
        #[arg(long, conflicts_with_all = ["pool", "address"], required_unless_present = "address")]
        identity: Option<String>,
        #[arg(long, requires = "address")]
        pool: Option<String>,
        #[arg(long, requires = "pool")]
        address: Option<String>,
    },
    /// Explain an allocation: the policy (name and version) that placed it
    /// and what each policy did, in order. TARGET is an address, a
    /// container id or an identity key.
    ///
    /// `--request ADDRESS` prints the request that produced an allocation
    /// as a fixture that `berth-policy test` and `berth-policy run` accept
    /// (berthd keeps the newest 1024 requests, in memory, from its start).
    /// `--refusals` lists the last 64 refused ADDs: when, for which pod,
    /// the reason, and the policy that refused.
    Explain {
        #[command(flatten)]
        remote: Remote,
        /// An address, a container id or an identity key.
        #[arg(required_unless_present_any = ["request", "refusals"], conflicts_with_all = ["request", "refusals"])]
        target: Option<String>,
        /// Print the request behind the allocation of ADDRESS as a
        /// `berth-policy` fixture (JSON, with or without --json).
        #[arg(long, value_name = "ADDRESS", conflicts_with = "refusals")]
        request: Option<String>,
        /// List the last refused ADDs.
        #[arg(long)]
        refusals: bool,
    },
    /// Ask the running daemon to reload its config (like SIGHUP).
    Reload(Remote),
    /// Install the `berth` CNI plugin as <DEST_DIR>/berth, atomically (the
    /// chart's install-cni init container).
    ///
    /// The copy is written next to the destination, synced, made 0755 and
    /// renamed over the old plugin, so a runtime executing the plugin
    /// meanwhile runs the old or the new binary, never a partial one.
    InstallCni {
        /// The plugin binary to install, e.g. /usr/local/bin/berth.
        #[arg(long)]
        source: PathBuf,
        /// The node's CNI bin directory; it must exist.
        #[arg(long)]
        dest_dir: PathBuf,
    },
    /// Download policy modules and check each against its pinned sha256
    /// (the chart's fetch-policies init container).
    ///
    /// Each module lands at <DIR>/<NAME>.wasm, read-only, only if its
    /// digest matches. A mismatch, a module over 64 MiB, or a download
    /// that still fails after 5 tries fails the command and leaves
    /// nothing behind. A module already there with the pinned digest is
    /// not downloaded again.
    FetchPolicy {
        /// The directory the modules are written to; it must exist.
        #[arg(long)]
        dir: PathBuf,
        /// NAME URL SHA256, repeated for each policy. NAME is a plain file
        /// name; URL is http(s) (the digest is what is trusted); SHA256 is
        /// 64 hex digits.
        #[arg(value_names = ["NAME", "URL", "SHA256"], num_args = 3.., required = true)]
        policies: Vec<String>,
    },
}

#[derive(clap::Args)]
struct Remote {
    /// The daemon's socket (the CNI plugin reads the same variable).
    #[arg(long, env = "BERTH_SOCKET", default_value = berth_proto::DEFAULT_SOCKET_PATH)]
    socket: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Serve { config, log_format } => daemon::serve(&config, &log_format),
        Command::CheckConfig { config } => daemon::check_config(&config),
        Command::CompilePolicies { config } => precompile::run(&config),
        Command::Pools(r) => remote(&r, AdminRequest::ListPools),
        Command::Allocations(r) => {
            let answer = cli::all_allocations(&r.socket)?;
            cli::print(&answer, r.json)
        }
        Command::Release {
            remote: r,
            identity,
            pool,
            address,
        } => remote(
            &r,
            AdminRequest::Release {
                identity,
                pool,
                address,
            },
        ),
        Command::Explain {
            remote: r,
            target,
            request,
            refusals,
        } => {
            let ask = match (target, request) {
                _ if refusals => AdminRequest::ListRefusals,
                (_, Some(address)) => AdminRequest::ExplainRequest { address },
                (Some(target), None) => AdminRequest::Explain { target },
                // clap requires one of the three.
                (None, None) => anyhow::bail!("explain needs a target, --request or --refusals"),
            };
            remote(&r, ask)
        }
        Command::Reload(r) => remote(&r, AdminRequest::Reload),
        Command::InstallCni { source, dest_dir } => install_cni::run(&source, &dest_dir),
        Command::FetchPolicy { dir, policies } => fetch_policy::run(&dir, &policies),
    }
}

fn remote(remote: &Remote, request: AdminRequest) -> anyhow::Result<()> {
    let answer = cli::ask(&remote.socket, request)?;
    cli::print(&answer, remote.json)
}
