//! Orphaned addresses (issue 10, item 3) against the real API server: a
//! pool's ranges shrunk under a held address. `pools` counts it, the
//! status writer berthd runs counts it in `status.orphaned` with an
//! `Orphaned` condition, `allocations` marks it, and `check` accepts it
//! while the pool's status counts it — and reports it when it does not.

mod common;

use anyhow::{ensure, Context, Result};
use berth_kube::BerthPool;
use common::{now, retained, sticky, table, Env};
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shrunk_ranges_leave_counted_marked_accepted_orphans() -> Result<()> {
    let env = Env::start().await?;
    let t = now();
    env.create_pool("shr", "10.25.0.0/16", &["10.25.0.10-10.25.0.19"])
        .await?;
    for (address, ordinal) in [("10.25.0.11", 0), ("10.25.0.18", 1)] {
        let pod = format!("db-{ordinal}");
        env.plant(&retained(
            common::attached(
                "shr",
                address,
                ("default", pod.as_str(), "uid"),
                sticky(&format!("default/db/{ordinal}")),
                "node-a",
            ),
            t - 60,
            None,
        ))
        .await?;
    }
    let pools: Api<BerthPool> = Api::all(env.client.clone());
    pools
        .patch(
            "shr",
            &PatchParams::default(),
            &Patch::Merge(json!({ "spec": { "ips": ["10.25.0.10-10.25.0.15"] } })),
        )
        .await?;
    env.write_pool_status().await?;

    let status = pools.get("shr").await?.status.context("status")?;
    ensure!(
        status.allocated == 2 && status.orphaned == 1 && status.total == 6,
        "{status:?}"
    );
    let condition = status
        .conditions
        .iter()
        .find(|c| c.type_ == "Orphaned")
        .context("no Orphaned condition")?;
    ensure!(
        condition.status == "True" && condition.message.contains("10.25.0.18"),
        "{condition:?}"
    );

    let text = env.berth_ok(&["pools"])?;
    let rows = table(&text);
    let shr = rows
        .iter()
        .find(|r| r["NAME"] == "shr")
        .context("shr row")?;
    ensure!(
        shr["ORPHANED"] == "1" && shr["ALLOCATED"] == "2" && shr["TOTAL"] == "6",
        "{text}"
    );
    let json = env.berth_json(&["pools"])?;
    ensure!(json[0]["orphaned"] == 1, "{json}");

    let text = env.berth_ok(&["allocations"])?;
    let rows = table(&text);
    let state = |address: &str| {
        rows.iter()
            .find(|r| r["ADDRESS"] == address)
            .map(|r| r["STATE"].clone())
    };
    ensure!(
        state("10.25.0.18").as_deref() == Some("Retained (orphaned)")
            && state("10.25.0.11").as_deref() == Some("Retained"),
        "{text}"
    );
    let json = env.berth_json(&["allocations"])?;
    let orphaned: Vec<&str> = json
        .as_array()
        .context("rows")?
        .iter()
        .filter(|r| r["orphaned"] == true)
        .filter_map(|r| r["address"].as_str())
        .collect();
    ensure!(orphaned == ["10.25.0.18"], "{json}");

    // Counted by the status: a known state, not a fault.
    let out = env.berth(&["check"]);
    let report = String::from_utf8_lossy(&out.stdout);
    ensure!(out.status.code() == Some(0), "{report}");

    // A status that does not count it: both the address and the status
    // are reported.
    pools
        .patch_status(
            "shr",
            &PatchParams::default(),
            &Patch::Merge(json!({ "status": { "orphaned": 0 } })),
        )
        .await?;
    let out = env.berth(&["check", "--output", "json"]);
    ensure!(out.status.code() == Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let faults: Vec<(&str, &str)> = report["problems"]
        .as_array()
        .context("problems")?
        .iter()
        .map(|p| {
            (
                p["fault"].as_str().unwrap_or_default(),
                p["detail"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    ensure!(
        faults
            .iter()
            .any(|(f, d)| *f == "outside-pool" && d.contains("does not count it as orphaned"))
            && faults.iter().any(|(f, d)| *f == "status-mismatch"
                && d.contains("status counts 0 orphaned address(es), the objects say 1")),
        "{faults:?}"
    );
    ensure!(faults.len() == 2, "{faults:?}");
    Ok(())
}
