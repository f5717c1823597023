//! `release` against the real API server: a retained address is freed;
//! an attached one is refused without --force (nothing changes) and
//! released with it, saying what it breaks; a release over an object a
//! node changed or re-created since it was read fails and changes
//! nothing (the delete's resourceVersion and uid preconditions);
//! `--identity` retires as berthd does; a user whose RBAC only reads gets
//! the API server's refusal.

mod common;

use anyhow::{ensure, Context, Result};
use berth_kube::BerthAddress;
use berth_policy_sdk::{Identity, Retention};
use common::{attached, now, retained, sticky, Env};
use kube::api::{Api, DeleteParams, PostParams};
use kube::ResourceExt;
use serde_json::json;

const POOL: &str = "rel-pool";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_keeps_the_daemons_guarantees() -> Result<()> {
    let env = Env::start().await?;
    env.create_pool(POOL, "10.21.0.0/16", &["10.21.0.10-10.21.0.29"])
        .await?;
    let t = now();
    env.plant(&attached(
        POOL,
        "10.21.0.11",
        ("default", "db-0", "uid-db-0"),
        sticky("default/db/0"),
        "node-a",
    ))
    .await?;
    env.plant(&retained(
        attached(
            POOL,
            "10.21.0.12",
            ("default", "db-1", "uid-db-1"),
            sticky("default/db/1"),
            "node-a",
        ),
        t - 10,
        None,
    ))
    .await?;

    // Retained: released at once.
    let out = env.berth_ok(&["release", "10.21.0.12"])?;
    ensure!(out.contains("released 10.21.0.12 (pool rel-pool)"), "{out}");
    ensure!(object(&env, "10.21.0.12").await?.is_none());

    // Attached: refused, and nothing changes.
    let before = object(&env, "10.21.0.11").await?.context("10.21.0.11")?;
    let refused = env.berth(&["release", "10.21.0.11"]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    ensure!(refused.status.code() == Some(2), "{stderr}");
    for words in [
        "refused",
        "attached to pod default/db-0",
        "identity default/db/0 loses it",
        "--force",
    ] {
        ensure!(
            stderr.to_lowercase().contains(&words.to_lowercase()),
            "{words:?} not in {stderr}"
        );
    }
    let after = object(&env, "10.21.0.11").await?.context("10.21.0.11")?;
    ensure!(after.resource_version() == before.resource_version());
    let forced = env.berth_ok(&["release", "10.21.0.11", "--force"])?;
    ensure!(
        forced.contains("released 10.21.0.11") && forced.contains("forced: 10.21.0.11 is attached"),
        "{forced}"
    );
    ensure!(object(&env, "10.21.0.11").await?.is_none());

    // Nothing to release, bad input: errors, exit 2.
    for (args, words) in [
        (
            vec!["release", "10.21.0.20"],
            "no BerthAddress holds 10.21.0.20",
        ),
        (vec!["release", "10.21.0.300"], "is not an IP address"),
        (
            vec!["release", "10.21.0.20", "--pool", "other"],
            "in pool other",
        ),
    ] {
        let out = env.berth(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        ensure!(
            out.status.code() == Some(2) && stderr.contains(words),
            "{args:?}: {stderr}"
        );
    }

    stale_reads_release_nothing(&env).await?;
    identities_retire(&env).await?;
    read_only_users_are_refused(&env).await?;
    Ok(())
}

async fn object(env: &Env, address: &str) -> Result<Option<BerthAddress>> {
    let name = berth_kube::names::address_object_name(POOL, address.parse()?);
    Ok(Api::<BerthAddress>::all(env.client.clone())
        .get_opt(&name)
        .await?)
}

/// Read, then a node writes (re-binds) or re-creates the object, then the
/// release of the old read: refused by the API server's preconditions.
async fn stale_reads_release_nothing(env: &Env) -> Result<()> {
    let api: Api<BerthAddress> = Api::all(env.client.clone());
    let record = retained(
        attached(
            POOL,
            "10.21.0.14",
            ("default", "db-4", "uid-db-4"),
            sticky("default/db/4"),
            "node-a",
        ),
        now() - 5,
        None,
    );
    env.plant(&record).await?;
    let name = berth_kube::names::address_object_name(POOL, record.address);

    // A node re-binds it after our read: resourceVersion moves on.
    let stale = kubectl_berth::read::address(&env.client, &name)
        .await?
        .context("read")?;
    let rebound = attached(
        POOL,
        "10.21.0.14",
        ("default", "db-4", "uid-db-4b"),
        sticky("default/db/4"),
        "node-b",
    );
    let mut obj = berth_kube::convert::berth_address(&rebound, "node-b");
    obj.metadata.resource_version = stale.object.resource_version();
    let rebound_obj = api.replace(&name, &PostParams::default(), &obj).await?;
    let err = kubectl_berth::release::held(&env.client, &stale, true)
        .await
        .err()
        .context("a release over a changed object succeeded")?;
    ensure!(
        format!("{err:#}").contains("changed since it was read"),
        "{err:#}"
    );
    let now_obj = api.get(&name).await?;
    ensure!(
        now_obj.resource_version() == rebound_obj.resource_version(),
        "the node's write was lost"
    );

    // Deleted and created again (same name, new uid) after our read.
    let stale = kubectl_berth::read::address(&env.client, &name)
        .await?
        .context("read")?;
    api.delete(&name, &DeleteParams::default()).await?;
    let fresh = env.plant(&record).await?;
    ensure!(fresh.uid() != stale.object.uid());
    let err = kubectl_berth::release::held(&env.client, &stale, true)
        .await
        .err();
    ensure!(err.is_some(), "a release of a re-created object succeeded");
    ensure!(api
        .get_opt(&name)
        .await?
        .is_some_and(|o| o.uid() == fresh.uid()));
    Ok(())
}

async fn identities_retire(env: &Env) -> Result<()> {
    let t = now();
    let hold = |key: &str, grace| {
        Some(Identity {
            key: key.into(),
            retention: Retention::KeepUntilRetired(grace),
        })
    };
    env.plant(&retained(
        attached(
            POOL,
            "10.21.0.15",
            ("default", "cache-0", "u0"),
            hold("default/cache/0", 300),
            "node-a",
        ),
        t - 5,
        None,
    ))
    .await?;
    env.plant(&retained(
        attached(
            POOL,
            "10.21.0.16",
            ("default", "cache-1", "u1"),
            hold("default/cache/1", 0),
            "node-a",
        ),
        t - 5,
        None,
    ))
    .await?;
    env.plant(&attached(
        POOL,
        "10.21.0.17",
        ("default", "cache-2", "u2"),
        hold("default/cache/2", 30),
        "node-a",
    ))
    .await?;

    let out = env.berth_ok(&["release", "--identity", "default/cache/0"])?;
    ensure!(
        out.contains("10.21.0.15 (pool rel-pool) is freed in 300s"),
        "{out}"
    );
    let held = object(env, "10.21.0.15")
        .await?
        .context("kept for its grace")?;
    let expires = held.spec.expires_at_unix_secs.context("an expiry")?;
    ensure!(
        (t + 299..=now() + 301).contains(&expires),
        "expires at {expires}, now {t}"
    );

    let out = env.berth_ok(&["release", "--identity", "default/cache/1"])?;
    ensure!(out.contains("released 10.21.0.16"), "{out}");
    ensure!(object(env, "10.21.0.16").await?.is_none());

    let out = env.berth_ok(&["release", "--identity", "default/cache/2"])?;
    ensure!(
        out.contains("stays with pod default/cache-2 and is freed 30s after its DEL"),
        "{out}"
    );
    let kept = object(env, "10.21.0.17").await?.context("attached stays")?;
    ensure!(kept.spec.attachment.is_some());
    ensure!(kept
        .spec
        .identity
        .as_ref()
        .is_some_and(|i| i.retention == berth_kube::crd_address::RetentionKind::KeepForSecs));

    // Retired already: nothing more to change.
    let again = env.berth_ok(&["release", "--identity", "default/cache/2"])?;
    ensure!(again.contains("nothing to change"), "{again}");
    let none = env.berth(&["release", "--identity", "nobody/x/0"]);
    ensure!(String::from_utf8_lossy(&none.stderr).contains("holds no address"));
    Ok(())
}

/// A ServiceAccount bound to a ClusterRole that only reads Berth's
/// objects: `pools` works, `release` is refused by the API server.
async fn read_only_users_are_refused(env: &Env) -> Result<()> {
    let role = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": { "name": "berth-viewer" },
        "rules": [{ "apiGroups": ["berth.io"], "resources": ["berthpools", "berthaddresses", "berthreservedips"], "verbs": ["get", "list", "watch"] }],
    });
    let binding = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": { "name": "berth-viewer" },
        "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "berth-viewer" },
        "subjects": [{ "kind": "ServiceAccount", "name": "viewer", "namespace": "default" }],
    });
    let account = json!({ "apiVersion": "v1", "kind": "ServiceAccount", "metadata": { "name": "viewer", "namespace": "default" } });
    for object in [role, binding, account] {
        env.apply(&object)?;
    }
    let kubeconfig = env
        .cp
        .kubeconfig_for_service_account("default", "viewer")
        .await?;
    let pools = env.berth_as(&kubeconfig, &["pools"]);
    ensure!(
        pools.status.success() && String::from_utf8_lossy(&pools.stdout).contains(POOL),
        "{}",
        String::from_utf8_lossy(&pools.stderr)
    );
    let before = object(env, "10.21.0.17").await?.context("10.21.0.17")?;
    let out = env.berth_as(&kubeconfig, &["release", "10.21.0.17", "--force"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    ensure!(
        out.status.code() == Some(2) && stderr.contains("403"),
        "{stderr}"
    );
    ensure!(
        stderr.contains("system:serviceaccount:default:viewer"),
        "{stderr}"
    );
    let after = object(env, "10.21.0.17").await?.context("10.21.0.17")?;
    ensure!(after.resource_version() == before.resource_version());
    Ok(())
}
