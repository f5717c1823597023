//! Pod status as a kubelet writes it once a pod's sandbox and containers
//! run: phase Running, the Ready conditions the StatefulSet and
//! ReplicaSet controllers wait for, podIP(s), hostIP(s) and a running
//! status per container (so `kubectl get pods` shows 1/1 Running).

use anyhow::Result;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Patch, PatchParams};
use kube::Api;
use serde_json::{json, Value};

fn now() -> String {
    k8s_openapi::jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// The status of a running pod with `pod_ips` (primary first).
pub fn running(pod: &Pod, pod_ips: &[String], host_ip: &str) -> Value {
    let now = now();
    let condition = |type_: &str| json!({ "type": type_, "status": "True", "lastProbeTime": null, "lastTransitionTime": now });
    let containers: Vec<Value> = pod
        .spec
        .iter()
        .flat_map(|s| &s.containers)
        .map(|c| {
            json!({
                "name": c.name,
                "image": c.image.clone().unwrap_or_default(),
                "imageID": "",
                "containerID": "",
                "ready": true,
                "started": true,
                "restartCount": 0,
                "state": { "running": { "startedAt": now } },
            })
        })
        .collect();
    json!({
        "status": {
            "phase": "Running",
            "conditions": [
                condition("PodReadyToStartContainers"),
                condition("Initialized"),
                condition("ContainersReady"),
                condition("Ready"),
                condition("PodScheduled"),
            ],
            "hostIP": host_ip,
            "hostIPs": [{ "ip": host_ip }],
            "podIP": pod_ips.first(),
            "podIPs": pod_ips.iter().map(|ip| json!({ "ip": ip })).collect::<Vec<_>>(),
            "startTime": pod.status.as_ref().and_then(|s| s.start_time.clone()).map_or(json!(now), |t| json!(t)),
            "containerStatuses": containers,
        }
    })
}

/// Writes `status` (a merge patch of the status subresource).
pub async fn write(api: &Api<Pod>, name: &str, status: &Value) -> Result<()> {
    api.patch_status(name, &PatchParams::default(), &Patch::Merge(status))
        .await?;
    Ok(())
}
