//! `berth-policy`: start, build and test a Berth allocation policy in
//! Rust, Python or JavaScript.
//!
//! ```text
//! berth-policy new my-policy --lang python      # a project that builds and passes its tests
//! cd my-policy && berth-policy build            # component + size, sha256, config snippets
//! berth-policy test fixtures/*.json             # in the real host runtime, host's rules
//! ```

mod build;
mod fixture;
mod project;
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
    /// fixtures (JSON: request, settings, host state, expected outcome),
    /// with the host's rules for what an answer may do.
    Test {
        /// Fixture files.
        #[arg(required = true)]
        fixtures: Vec<PathBuf>,
        /// The project directory (built first unless --component is given).
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// A component to test instead of building the project.
        #[arg(long)]
        component: Option<PathBuf>,
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
    }
}
