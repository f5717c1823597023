//! `check` against the real API server: clean state passes (exit 0);
//! each fault of the issue, planted directly through the API, is found
//! and named (exit 1), in the table and in `--output json`; near misses
//! (an expiry within the slack, an IP outside every pool, a retained
//! address without a pod) are not faults; removing the faults makes the
//! check pass again.

mod common;

use anyhow::{ensure, Context, Result};
use berth_kube::{BerthAddress, BerthPool};
use berth_policy_sdk::{Identity, Retention};
use common::{attached, now, retained, sticky, Env};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::{json, Value};

const POOL: &str = "chk-pool";

/// Expiry slack of the checks: far more than the test takes on a loaded
/// machine, far less than the hour `.17` is past its expiry.
const SLACK: &str = "900";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_finds_every_planted_fault() -> Result<()> {
    let env = Env::start().await?;
    env.create_pool(POOL, "10.22.0.0/16", &["10.22.0.10-10.22.0.29"])
        .await?;
    env.create_pool("other-pool", "10.23.0.0/16", &["10.23.0.10-10.23.0.19"])
        .await?;
    let good = env.pod_with_ips("default", "good", &["10.22.0.11"]).await?;
    let uid = good.metadata.uid.clone().context("uid")?;
    env.plant(&attached(
        POOL,
        "10.22.0.11",
        ("default", "good", &uid),
        None,
        "node-a",
    ))
    .await?;
    let t = now();
    // Not faults: retained without a pod; expired 10 s ago (a node frees
    // it on its next pass); a pod IP outside every pool; a host-network
    // pod.
    env.plant(&retained(
        attached(
            POOL,
            "10.22.0.15",
            ("default", "db-0", "gone"),
            sticky("default/db/0"),
            "node-a",
        ),
        t - 100,
        None,
    ))
    .await?;
    env.plant(&retained(
        attached(
            POOL,
            "10.22.0.16",
            ("default", "db-1", "gone"),
            keep("default/db/1"),
            "node-a",
        ),
        t - 100,
        // Within the slack the checks below pass (SLACK), however slow the
        // machine: not a finding.
        Some(t - 10),
    ))
    .await?;
    env.pod_with_ips("default", "elsewhere", &["192.168.7.7"])
        .await?;
    env.write_pool_status().await?;

    let clean = env.berth(&["check"]);
    let text = String::from_utf8_lossy(&clean.stdout);
    ensure!(
        clean.status.code() == Some(0)
            && text.contains("No problems found (2 pools, 3 addresses, 2 pods checked)"),
        "{text}{}",
        String::from_utf8_lossy(&clean.stderr)
    );

    // Plant every fault.
    env.plant(&attached(
        POOL,
        "10.22.0.12",
        ("default", "ghost", "uid-ghost"),
        None,
        "node-a",
    ))
    .await?;
    env.pod_with_ips("default", "stranger", &["10.22.0.20"])
        .await?;
    env.pod_with_ips("default", "imposter", &["10.22.0.11"])
        .await?;
    env.plant(&retained(
        attached(
            POOL,
            "10.22.0.200",
            ("default", "db-2", "gone"),
            sticky("default/db/2"),
            "node-a",
        ),
        t,
        None,
    ))
    .await?;
    env.plant(&retained(
        attached(
            "vanished-pool",
            "10.24.0.5",
            ("default", "db-3", "gone"),
            sticky("default/db/3"),
            "node-a",
        ),
        t,
        None,
    ))
    .await?;
    env.plant(&retained(
        attached(
            POOL,
            "10.22.0.13",
            ("default", "db-4", "gone"),
            sticky("default/db/4"),
            "node-a",
        ),
        t,
        None,
    ))
    .await?;
    env.plant(&retained(
        attached(
            "other-pool",
            "10.22.0.13",
            ("default", "db-5", "gone"),
            sticky("default/db/5"),
            "node-b",
        ),
        t,
        None,
    ))
    .await?;
    let mut misnamed = berth_kube::convert::berth_address(
        &retained(
            attached(
                POOL,
                "10.22.0.14",
                ("default", "db-6", "gone"),
                sticky("default/db/6"),
                "node-a",
            ),
            t,
            None,
        ),
        "node-a",
    );
    misnamed.metadata.name = Some(format!("{POOL}.10-22-0-99"));
    Api::<BerthAddress>::all(env.client.clone())
        .create(&PostParams::default(), &misnamed)
        .await?;
    env.plant(&retained(
        attached(
            POOL,
            "10.22.0.17",
            ("default", "db-7", "gone"),
            keep("default/db/7"),
            "node-c",
        ),
        t - 7200,
        Some(t - 3600),
    ))
    .await?;
    // other-pool's status claims 7 addresses; chk-pool's is stale now.
    Api::<BerthPool>::all(env.client.clone())
        .patch_status(
            "other-pool",
            &PatchParams::default(),
            &Patch::Merge(json!({ "status": { "allocated": 7, "total": 10 } })),
        )
        .await?;

    let out = env.berth(&["check", "--output", "json", "--expiry-slack-secs", SLACK]);
    ensure!(
        out.status.code() == Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout)?;
    let problems = report["problems"].as_array().context("problems")?.clone();
    let has = |fault: &str, object: &str, detail: &str| {
        problems.iter().any(|p| {
            p["fault"] == fault
                && p["object"].as_str().is_some_and(|o| o.ends_with(object))
                && p["detail"].as_str().is_some_and(|d| d.contains(detail))
        })
    };
    let expected = [
        ("pod-gone", "chk-pool.10-22-0-12", "default/ghost"),
        (
            "unknown-pod-ip",
            "pods/default/stranger",
            "10.22.0.20 of pool chk-pool",
        ),
        (
            "pod-ip-held-by-other",
            "pods/default/imposter",
            "for pod default/good",
        ),
        (
            "outside-pool",
            "chk-pool.10-22-0-200",
            "outside pool chk-pool",
        ),
        (
            "pool-gone",
            "vanished-pool.10-24-0-5",
            "BerthPool vanished-pool does not exist",
        ),
        (
            "duplicate-address",
            "chk-pool.10-22-0-13",
            "claimed by 2 objects",
        ),
        (
            "duplicate-address",
            "other-pool.10-22-0-13",
            "claimed by 2 objects",
        ),
        (
            "outside-pool",
            "other-pool.10-22-0-13",
            "outside pool other-pool",
        ),
        ("malformed", "chk-pool.10-22-0-99", "whose object is named"),
        (
            "expired-retained",
            "chk-pool.10-22-0-17",
            "node node-c should have freed it",
        ),
        (
            "status-mismatch",
            "berthpools/other-pool",
            "status says 7 allocated of 10, the objects say 1 of 10",
        ),
        (
            "status-mismatch",
            "berthpools/chk-pool",
            "status says 3 allocated of 20, the objects say 8 of 20",
        ),
    ];
    for (fault, object, detail) in expected {
        ensure!(
            has(fault, object, detail),
            "{fault} {object} {detail:?} not in {problems:#?}"
        );
    }
    ensure!(
        problems.len() == expected.len(),
        "unexpected findings: {problems:#?}"
    );
    ensure!(
        report["checked"]["pods"] == 4 && report["checked"]["addresses"] == 10,
        "{report}"
    );

    let table = env.berth(&["check", "--expiry-slack-secs", SLACK]);
    let text = String::from_utf8_lossy(&table.stdout);
    eprintln!("{text}");
    ensure!(table.status.code() == Some(1), "{text}");
    ensure!(
        text.lines()
            .next()
            .is_some_and(|h| h.starts_with("PROBLEM") && h.contains("DETAIL")),
        "{text}"
    );
    ensure!(
        text.contains(&format!("{} problem(s) found", expected.len())),
        "{text}"
    );

    // Take the faults away: the check passes again.
    let addresses: Api<BerthAddress> = Api::all(env.client.clone());
    for name in [
        "chk-pool.10-22-0-12",
        "chk-pool.10-22-0-200",
        "vanished-pool.10-24-0-5",
        "other-pool.10-22-0-13",
        "chk-pool.10-22-0-99",
        "chk-pool.10-22-0-17",
        // Expired within the slack at first; not any more by now.
        "chk-pool.10-22-0-16",
    ] {
        addresses.delete(name, &DeleteParams::default()).await?;
    }
    let pods: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(env.client.clone(), "default");
    for pod in ["stranger", "imposter"] {
        pods.delete(pod, &DeleteParams::default().grace_period(0))
            .await?;
    }
    env.write_pool_status().await?;
    let out = env.berth(&["check", "--expiry-slack-secs", SLACK]);
    ensure!(
        out.status.code() == Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    Ok(())
}

fn keep(key: &str) -> Option<Identity> {
    Some(Identity {
        key: key.into(),
        retention: Retention::KeepForSecs(600),
    })
}
