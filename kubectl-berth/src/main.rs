//! `kubectl-berth`: parse, connect, run one verb, print.

use clap::{CommandFactory, Parser};
use kubectl_berth::cli::{Cli, Migrate, Verb};
use kubectl_berth::output::Format;
use kubectl_berth::{
    allocations, check, client, explain, migrate, pools, pools_reserved, read, release,
};
use std::io::Write as _;
use std::process::ExitCode;

/// `check` found problems.
const EXIT_PROBLEMS: u8 = 1;
/// The verb could not run (bad input, API refused, unreachable).
const EXIT_FAILED: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Verb::Completion { shell } = cli.verb {
        // Into a buffer first: the generator panics on a closed pipe.
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), "kubectl-berth", &mut script);
        let mut out = std::io::stdout().lock();
        return match out.write_all(&script).and_then(|()| out.flush()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(_) => ExitCode::from(EXIT_FAILED),
        };
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&anyhow::anyhow!("starting the runtime: {e}")),
    };
    match runtime.block_on(run(cli)) {
        Ok(Outcome { text, problems }) => {
            let mut out = std::io::stdout().lock();
            if out
                .write_all(text.as_bytes())
                .and_then(|()| out.flush())
                .is_err()
            {
                return ExitCode::from(EXIT_FAILED);
            }
            if problems {
                ExitCode::from(EXIT_PROBLEMS)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => fail(&e),
    }
}

fn fail(e: &anyhow::Error) -> ExitCode {
    eprintln!("error: {e:#}");
    ExitCode::from(EXIT_FAILED)
}

struct Outcome {
    text: String,
    /// Exit 1: the verb ran and found something wrong.
    problems: bool,
}

impl From<String> for Outcome {
    fn from(text: String) -> Self {
        Outcome {
            text,
            problems: false,
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<Outcome> {
    let client = client::connect(&cli.connection).await?;
    let now = read::now_unix_secs();
    let format = |o: Option<Format>| o.unwrap_or_default();
    Ok(match cli.verb {
        Verb::Pools { output } => {
            let pools = read::pools(&client).await?;
            let held = read::addresses(&client, None, None).await?;
            let (reserved, problems) =
                berth_kube::crd_reserved::reserved_in_cluster(&client).await?;
            for problem in problems {
                eprintln!("warning: {problem} (nodes leave it out too)");
            }
            let mut rows = pools::rows(&pools, &held);
            pools_reserved::fill(&mut rows, &pools, &reserved);
            pools::render(&rows, format(output))?.into()
        }
        Verb::Allocations(a) => {
            let held = read::addresses(&client, a.pool.as_deref(), a.node.as_deref()).await?;
            let pools = read::pools(&client).await?;
            let filter = allocations::Filter {
                namespace: a.namespace,
            };
            let rows = allocations::rows(&held, &pools, &filter);
            allocations::render(&rows, format(a.output), now)?.into()
        }
        Verb::Explain { target, output } => {
            let found = explain::find(&client, &target).await?;
            let explained: Vec<_> = found.iter().map(explain::explanation).collect();
            explain::render(&target, &explained, format(output))?.into()
        }
        Verb::Release(r) => match (r.identity, r.address) {
            (Some(key), _) => release::identity(&client, &key, now).await?.into(),
            (None, Some(address)) => {
                release::address(&client, &address, r.pool.as_deref(), r.force)
                    .await?
                    .into()
            }
            (None, None) => anyhow::bail!("release needs an ADDRESS or --identity KEY"),
        },
        Verb::Check(c) => {
            let report = check::run(&client, now, c.expiry_slack_secs).await?;
            Outcome {
                problems: !report.problems.is_empty(),
                text: check::render(&report, format(c.output))?,
            }
        }
        Verb::Migrate(Migrate::Spiderpool(m)) => {
            let outcome = migrate::run(&client, &m.berth_config, m.dry_run, now).await?;
            Outcome {
                problems: outcome.stopped(),
                text: migrate::render(&outcome, format(m.output))?,
            }
        }
        Verb::Completion { .. } => anyhow::bail!("completion needs no cluster"),
    })
}
