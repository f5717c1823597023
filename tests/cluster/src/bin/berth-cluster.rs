//! `berth-cluster`: the harness as a program.
//!
//! * `berth-cluster up [--nodes N] [--state-dir DIR]`: starts a cluster
//!   (control plane, the chart installed by helm, N nodes with berthd and
//!   a test kubelet), writes `DIR/env` (the `export` lines) and runs until
//!   SIGTERM or SIGINT, then tears everything down. `scripts/cluster`
//!   wraps it.
//! * `berth-cluster netns-proxy LISTEN UNIX_SOCKET`: run inside a node's
//!   network namespace; forwards TCP connections to a unix socket.
//! * `berth-cluster http-get HOST:PORT PATH`: one HTTP GET; exit 0 on a
//!   2xx/3xx answer (a kubelet httpGet probe); prints the status, then
//!   the body (what a test reads berthd's /metrics with).
//! * `berth-cluster http-body HOST:PORT PATH`: one HTTP GET; prints the
//!   body of a 2xx answer (berthd's /metrics from inside a node).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("up") => up(&args[1..]),
        Some("netns-proxy") if args.len() == 3 => netns_proxy(&args[1], &PathBuf::from(&args[2])),
        Some("http-get") if args.len() == 3 => http_get(&args[1], &args[2]),
        Some("http-body") if args.len() == 3 => http_body(&args[1], &args[2]),
        _ => bail!("usage: berth-cluster up [--nodes N] [--state-dir DIR] | netns-proxy LISTEN UNIX | http-get HOST:PORT PATH | http-body HOST:PORT PATH"),
    }
}

fn up(args: &[String]) -> Result<()> {
    let mut nodes = 2usize;
    let mut state_dir = berth_cluster::repo_root().join("target/cluster");
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--nodes" => nodes = it.next().context("--nodes needs a value")?.parse()?,
            "--state-dir" => {
                state_dir = PathBuf::from(it.next().context("--state-dir needs a value")?)
            }
            other => bail!("unknown argument {other}"),
        }
    }
    std::fs::create_dir_all(&state_dir)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let cluster =
            berth_cluster::Cluster::start(berth_cluster::ClusterConfig::nodes(nodes)).await?;
        let cp = cluster.control_plane();
        let env = format!(
            "export KUBECONFIG={}\nexport PATH={}:$PATH\n",
            cp.admin_kubeconfig().display(),
            cp.binaries().dir.display()
        );
        std::fs::write(state_dir.join("env"), &env)?;
        println!("{env}# cluster dir: {}\n# ready", cp.dir().display());
        std::io::stdout().flush()?;
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        let _ = std::fs::remove_file(state_dir.join("env"));
        drop(cluster);
        anyhow::Ok(())
    })
}

fn netns_proxy(listen: &str, unix: &std::path::Path) -> Result<()> {
    let listener = TcpListener::bind(listen).with_context(|| format!("binding {listen}"))?;
    println!("listening on {listen}");
    std::io::stdout().flush()?;
    for inbound in listener.incoming() {
        let Ok(inbound) = inbound else { continue };
        let unix = unix.to_path_buf();
        std::thread::spawn(move || {
            if let Ok(outbound) = UnixStream::connect(&unix) {
                pipe(inbound, outbound);
            }
        });
    }
    Ok(())
}

/// Copies both ways until each side has closed its half.
fn pipe(tcp: TcpStream, unix: UnixStream) {
    let (Ok(mut tcp_read), Ok(mut unix_write)) = (tcp.try_clone(), unix.try_clone()) else {
        return;
    };
    let upstream = std::thread::spawn(move || {
        let _ = std::io::copy(&mut tcp_read, &mut unix_write);
        let _ = unix_write.shutdown(Shutdown::Write);
    });
    let (mut unix_read, mut tcp_write) = (unix, tcp);
    let _ = std::io::copy(&mut unix_read, &mut tcp_write);
    let _ = tcp_write.shutdown(Shutdown::Write);
    let _ = upstream.join();
}

fn http_get(address: &str, path: &str) -> Result<()> {
    let (status, body) = get(address, path)?;
    println!("{status}");
    if !(200..400).contains(&status) {
        bail!("{address}{path} answered {status}");
    }
    print!("{body}");
    Ok(())
}

fn http_body(address: &str, path: &str) -> Result<()> {
    let (status, body) = get(address, path)?;
    if !(200..300).contains(&status) {
        bail!("{address}{path} answered {status}");
    }
    std::io::stdout().write_all(body.as_bytes())?;
    Ok(())
}

/// One HTTP/1.0 GET: the status and the body.
fn get(address: &str, path: &str) -> Result<(u16, String)> {
    let mut stream =
        TcpStream::connect(address).with_context(|| format!("connecting to {address}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {address}\r\n\r\n")?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    let status: u16 = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("no HTTP status line")?;
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default();
    Ok((status, body))
}
