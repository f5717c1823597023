//! `berth-policy`: start, build and test a Berth allocation policy in
//! Rust, Python or JavaScript.
//!
//! ```text
//! berth-policy new my-policy --lang python      # a project that builds and passes its tests
//! cd my-policy && berth-policy build            # component + size, sha256, config snippets
//! berth-policy test fixtures/*.json             # in the real host runtime, host's rules
//! berth-policy bench build/my-policy.wasm       # median/p99 beside the default chain
//! berth-policy run build/my-policy.wasm --against /run/berth/berth.sock   # dry run
//! ```

mod bench_cmd;
mod build;
mod component;
mod fixture;
mod project;
mod run_cmd;
mod snippet;
mod templates;
mod test_cmd;

use anyhow::Result;
use clap::{Parser, Subcommand};
use project::Language;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "berth-policy", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a policy project from a template: it builds, and passes its
    /// tests (`cargo test` for Rust, `berth-policy test fixtures/*.json`
    /// for every language) without edits.
    New {
        /// The policy's name: the directory created and the name it reports.
        name: String,
        #[arg(long, value_enum)]
        lang: Language,
        /// Where to create it (default: ./<name>).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// The Berth SDK a Rust project depends on, by path (default: the
        /// SDK of the repository this tool was built from).
        #[arg(long)]
        sdk: Option<PathBuf>,
    },
    /// Build the project's component, check its imports against the
    /// host's allow-list before compiling it for the host, load it, and
    /// print its size, sha256 and config snippets for berthd.json and the
    /// chart's values.
    Build {
        /// The project directory.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
    /// Run the component in the real host runtime against request
    /// fixtures (JSON or YAML: request, settings, host state, expected
    /// outcome), with the host's rules for what an answer may do.
    Test {
        /// Fixture files.
        #[arg(required = true)]
        fixtures: Vec<PathBuf>,
        /// The project directory. Its `build/<name>.wasm` is tested, built
        /// again first when a source is newer (or it is missing); not
        /// read when --component is given.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// A component to test instead of building the project: a
        /// .wasm file, or `builtin:<name>` for a policy berthd ships.
        #[arg(long)]
        component: Option<String>,
    },
    /// Time the policy per evaluation (a fresh instance each, as berthd
    /// runs it) in the real host runtime, beside the default chain
    /// (built-in sticky-statefulset) measured in the same run, on the same
    /// requests. Prints median and p99 of each and their ratio.
    Bench {
        /// A .wasm component, or `builtin:<name>`.
        component: String,
        /// The policy's settings (JSON file; default `{}`).
        #[arg(long)]
        settings: Option<PathBuf>,
        /// Requests to evaluate (fixture files, as `test` reads); default:
        /// a StatefulSet pod whose sticky address is held, and a stateless
        /// pod, with eight pools and 32 candidates each.
        #[arg(long, num_args = 1..)]
        fixtures: Vec<PathBuf>,
        /// Evaluations of each chain (after a tenth as many to warm up).
        #[arg(long, default_value_t = 5000)]
        iterations: usize,
    },
    /// Dry run: evaluate a candidate chain (the components given, in
    /// order) on the requests behind a running berthd's allocations, or on
    /// recorded requests, and print where its decisions differ from the
    /// live chain's (outcome, identity, address). Exits 0 when none differ,
    /// 1 when some do.
    Run {
        /// .wasm components or `builtin:<name>`, in chain order.
        #[arg(required = true)]
        components: Vec<String>,
        /// Settings (JSON files), one per component in order; the rest get `{}`.
        #[arg(long)]
        settings: Vec<PathBuf>,
        /// berthd's socket: replay the request behind every current
        /// allocation it still keeps (`berthd explain --request`).
        #[arg(
            long,
            value_name = "SOCKET",
            required_unless_present = "fixtures",
            conflicts_with = "fixtures"
        )]
        against: Option<PathBuf>,
        /// Recorded requests instead: fixture files (one fixture, an array,
        /// or one per line), e.g. saved from `berthd explain --request`.
        #[arg(long, num_args = 1..)]
        fixtures: Vec<PathBuf>,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("berth-policy: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::New {
            name,
            lang,
            dir,
            sdk,
        } => {
            let dir = dir.unwrap_or_else(|| PathBuf::from(&name));
            let sdk = sdk.unwrap_or_else(project::default_sdk_dir);
            templates::create(&name, lang, &dir, &sdk)?;
            println!("created {} ({lang}) in {}", name, dir.display());
            println!(
                "next: cd {} && berth-policy build && berth-policy test fixtures/*.json",
                dir.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Build { dir } => {
            let built = build::build(&dir)?;
            snippet::print(&built);
            Ok(ExitCode::SUCCESS)
        }
        Command::Test {
            fixtures,
            dir,
            component,
        } => test_cmd::run(&dir, component.as_deref(), &fixtures),
        Command::Bench {
            component,
            settings,
            fixtures,
            iterations,
        } => bench_cmd::run(&component, settings.as_deref(), &fixtures, iterations),
        Command::Run {
            components,
            settings,
            against,
            fixtures,
        } => run_cmd::run(&components, &settings, against.as_deref(), &fixtures),
    }
}
