//! `pools`, `allocations` and `explain` against the real API server:
//! objects as berthd leaves them (attached, retained with and without
//! expiry, IPv6, a pool overlapping an older one, an address of a deleted
//! pool), read back in every output format and through `kubectl berth`
//! (kubectl's own plugin lookup on PATH).

mod common;

use anyhow::{ensure, Context, Result};
use berth_policy_sdk::{Identity, Retention};
use common::{attached, now, retained, sticky, table, Env};
use std::collections::BTreeMap;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pools_allocations_and_explain_read_the_cluster() -> Result<()> {
    let env = Env::start().await?;
    let t = now();
    env.create_pool("web-pool", "10.20.0.0/16", &["10.20.0.10-10.20.0.19"])
        .await?;
    env.create_pool("v6-pool", "fd00:20::/64", &["fd00:20::10-fd00:20::1f"])
        .await?;
    // Created later and overlapping web-pool: every node judges it
    // invalid (creation times have one-second resolution; a tie would be
    // decided by name).
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    env.create_pool("late-pool", "10.20.0.0/16", &["10.20.0.15-10.20.0.30"])
        .await?;
    env.plant(&attached(
        "web-pool",
        "10.20.0.11",
        ("default", "web-0", "uid-web-0"),
        sticky("default/web/0"),
        "node-a",
    ))
    .await?;
    env.plant(&retained(
        attached(
            "web-pool",
            "10.20.0.12",
            ("default", "web-1", "uid-web-1"),
            sticky("default/web/1"),
            "node-b",
        ),
        t - 60,
        None,
    ))
    .await?;
    let keep = Some(Identity {
        key: "other/x".into(),
        retention: Retention::KeepForSecs(600),
    });
    env.plant(&retained(
        attached(
            "web-pool",
            "10.20.0.13",
            ("other", "x", "uid-x"),
            keep,
            "node-a",
        ),
        t - 60,
        Some(t + 540),
    ))
    .await?;
    env.plant(&attached(
        "v6-pool",
        "fd00:20::10",
        ("default", "api-7d9f", "uid-api"),
        None,
        "node-a",
    ))
    .await?;
    env.plant(&attached(
        "gone-pool",
        "10.30.0.5",
        ("default", "old", "uid-old"),
        None,
        "node-b",
    ))
    .await?;

    // Reserved: two of web-pool's addresses, one of v6-pool's, and some of
    // late-pool's (invalid, so it counts none).
    let reserved: berth_kube::BerthReservedIP = serde_json::from_value(serde_json::json!({
        "apiVersion": "berth.io/v1alpha1",
        "kind": "BerthReservedIP",
        "metadata": { "name": "routers" },
        "spec": { "ips": ["10.20.0.18-10.20.0.25", "fd00:20::1f"] },
    }))?;
    kube::Api::<berth_kube::BerthReservedIP>::all(env.client.clone())
        .create(&Default::default(), &reserved)
        .await?;

    pools(&env)?;
    allocations(&env)?;
    explain(&env)?;
    plugin_lookup(&env)?;
    Ok(())
}

fn row<'a>(
    rows: &'a [BTreeMap<String, String>],
    name: &str,
) -> Result<&'a BTreeMap<String, String>> {
    rows.iter()
        .find(|r| r.get("NAME").map(String::as_str) == Some(name))
        .with_context(|| format!("no row {name} in {rows:?}"))
}

fn pools(env: &Env) -> Result<()> {
    let text = env.berth_ok(&["pools"])?;
    let rows = table(&text);
    ensure!(rows.len() == 4, "{text}");
    let web = row(&rows, "web-pool")?;
    for (column, want) in [
        ("SUBNET", "10.20.0.0/16"),
        ("ALLOCATED", "3"),
        ("TOTAL", "10"),
        ("ATTACHED", "1"),
        ("RETAINED", "2"),
        ("RESERVED", "2"),
        ("DEFAULT", "false"),
        ("VALID", "True"),
    ] {
        ensure!(web[column] == want, "web-pool {column}: {text}");
    }
    let v6 = row(&rows, "v6-pool")?;
    ensure!(
        v6["ALLOCATED"] == "1" && v6["TOTAL"] == "16" && v6["RESERVED"] == "1",
        "{text}"
    );
    let late = row(&rows, "late-pool")?;
    ensure!(
        late["VALID"] == "False" && late["TOTAL"] == "0" && late["RESERVED"] == "0",
        "{text}"
    );
    let gone = row(&rows, "gone-pool (removed)")?;
    ensure!(gone["ALLOCATED"] == "1" && gone["SUBNET"] == "-", "{text}");

    let wide = env.berth_ok(&["pools", "-o", "wide"])?;
    let wide_rows = table(&wide);
    ensure!(
        row(&wide_rows, "web-pool")?["IPS"] == "10.20.0.10-10.20.0.19",
        "{wide}"
    );
    ensure!(
        row(&wide_rows, "late-pool")?["REASON"].contains("overlap"),
        "{wide}"
    );

    let json = env.berth_json(&["pools"])?;
    let web = json
        .as_array()
        .and_then(|a| a.iter().find(|p| p["name"] == "web-pool"))
        .context("web-pool in -o json")?;
    ensure!(
        web["allocated"] == 3 && web["retained"] == 2 && web["valid"] == true,
        "{web}"
    );
    let yaml = env.berth_ok(&["pools", "-o", "yaml"])?;
    ensure!(
        yaml.contains("name: v6-pool") && yaml.contains("total: 16"),
        "{yaml}"
    );
    Ok(())
}

fn allocations(env: &Env) -> Result<()> {
    let text = env.berth_ok(&["allocations"])?;
    let rows = table(&text);
    let addresses: Vec<&str> = rows.iter().map(|r| r["ADDRESS"].as_str()).collect();
    ensure!(
        addresses
            == [
                "10.20.0.11",
                "10.20.0.12",
                "10.20.0.13",
                "10.30.0.5",
                "fd00:20::10"
            ],
        "{text}"
    );
    let web0 = &rows[0];
    ensure!(
        web0["POD"] == "default/web-0"
            && web0["IDENTITY"] == "default/web/0"
            && web0["RETENTION"] == "keep until retired"
            && web0["STATE"] == "Attached"
            && web0["NODE"] == "node-a",
        "{text}"
    );
    ensure!(
        rows[1]["STATE"] == "Retained" && rows[1]["EXPIRES"] == "never",
        "{text}"
    );
    ensure!(rows[2]["EXPIRES"].starts_with("in "), "{text}");
    ensure!(rows[4]["IDENTITY"] == "<none>", "{text}");

    let count = |args: &[&str]| -> Result<usize> { Ok(table(&env.berth_ok(args)?).len()) };
    ensure!(count(&["allocations", "--pool", "web-pool"])? == 3);
    ensure!(count(&["allocations", "--node", "node-b"])? == 2);
    ensure!(count(&["allocations", "--namespace", "other"])? == 1);
    ensure!(
        count(&[
            "allocations",
            "--pool",
            "web-pool",
            "--node",
            "node-b",
            "-n",
            "default"
        ])? == 1
    );
    let none = env.berth_ok(&["allocations", "--pool", "no-such-pool"])?;
    ensure!(none.contains("No allocations found"), "{none}");

    let json = env.berth_json(&["allocations", "--namespace", "other"])?;
    let x = &json[0];
    ensure!(
        x["identity"] == "other/x"
            && x["retention"] == "keep 600s after delete"
            && x["state"] == "Retained"
            && x["expiresAtUnixSecs"].as_u64().is_some(),
        "{json}"
    );
    let wide = env.berth_ok(&["allocations", "-o", "wide", "--pool", "v6-pool"])?;
    let wide_rows = table(&wide);
    ensure!(wide_rows[0]["CONTAINER"] == "c0ffeeapi7d9", "{wide}");
    ensure!(wide_rows[0]["INTERFACE"] == "eth0", "{wide}");
    Ok(())
}

fn explain(env: &Env) -> Result<()> {
    let text = env.berth_ok(&["explain", "10.20.0.11"])?;
    for line in [
        "10.20.0.11 (pool web-pool) for default/web-0",
        "identity:  default/web/0 (keep until retired)",
        "1. sticky-statefulset [identify]: identity default/web/0 (keep until retired)",
        "2. sticky-statefulset [evaluate]: picked 10.20.0.11 from web-pool",
    ] {
        ensure!(text.contains(line), "missing {line:?} in\n{text}");
    }
    let by_identity = env.berth_ok(&["explain", "default/web/0"])?;
    ensure!(
        by_identity == text,
        "by identity:\n{by_identity}\nby address:\n{text}"
    );
    let stateless = env.berth_ok(&["explain", "fd00:20::10"])?;
    ensure!(
        stateless.contains("none (stateless)")
            && stateless.contains("every policy abstained; the allocator chose the address"),
        "{stateless}"
    );
    // A deleted pool's address is found by the full listing.
    let removed = env.berth_ok(&["explain", "10.30.0.5"])?;
    ensure!(removed.contains("(pool gone-pool)"), "{removed}");
    let free = env.berth_ok(&["explain", "10.20.0.19"])?;
    ensure!(free.contains("No BerthAddress holds 10.20.0.19"), "{free}");
    let json = env.berth_json(&["explain", "10.20.0.12"])?;
    ensure!(
        json[0]["state"] == "Retained" && json[0]["node"] == "node-b",
        "{json}"
    );
    Ok(())
}

/// The release archive (`scripts/build-kubectl-berth`), unpacked into a
/// directory that is then the only plugin directory on PATH: kubectl's
/// own plugin lookup runs `kubectl berth pools` with kubectl's environment
/// (KUBECONFIG), and its plugin completion asks `kubectl_complete-berth`.
fn plugin_lookup(env: &Env) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let archive = dir.path().join("kubectl-berth.tar.gz");
    let built =
        std::process::Command::new(berth_cluster::repo_root().join("scripts/build-kubectl-berth"))
            .args(["--profile", "debug", "--output"])
            .arg(&archive)
            .env("CARGO_TARGET_DIR", berth_cluster::musl_build_dir())
            .output()?;
    ensure!(
        built.status.success(),
        "scripts/build-kubectl-berth: {}",
        String::from_utf8_lossy(&built.stderr)
    );
    let sums = std::fs::read_to_string(dir.path().join("kubectl-berth.tar.gz.sha256"))?;
    ensure!(sums.ends_with("  kubectl-berth.tar.gz\n"), "{sums}");
    let unpacked = std::process::Command::new("tar")
        .arg("-xzf")
        .arg(&archive)
        .arg("-C")
        .arg(dir.path())
        .status()?;
    ensure!(unpacked.success(), "tar -xzf");
    let version = env!("CARGO_PKG_VERSION");
    let bin = dir
        .path()
        .join(format!("kubectl-berth-{version}-x86_64-unknown-linux-musl"));
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let kubectl = |args: &[&str]| -> Result<String> {
        let out = std::process::Command::new(&env.cp.binaries().kubectl)
            .args(args)
            .env("PATH", &path)
            .env("KUBECONFIG", env.cp.admin_kubeconfig())
            .output()?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        ensure!(
            out.status.success(),
            "kubectl {args:?}: {}{text}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(text)
    };
    let pools = kubectl(&["berth", "pools"])?;
    ensure!(pools.contains("web-pool"), "kubectl berth pools: {pools}");
    // What bash's completion asks kubectl for `kubectl berth al<TAB>` and
    // `kubectl berth pools -o <TAB>`.
    let verbs = kubectl(&["__complete", "berth", "al"])?;
    ensure!(
        verbs.lines().next() == Some("allocations") && verbs.contains(":4"),
        "{verbs}"
    );
    let formats = kubectl(&["__complete", "berth", "pools", "-o", ""])?;
    ensure!(
        ["wide", "json", "yaml"]
            .iter()
            .all(|f| formats.lines().any(|l| l == *f)),
        "{formats}"
    );
    Ok(())
}
