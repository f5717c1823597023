//! What the chart renders, on both helm versions: the DaemonSet (CNI
//! install, mounts, scheduling, security, probes), the config's policy
//! chain (order, shape, sticky switch), RBAC, the optional objects.

// Tests: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use berth_helm_tests::{container, mount, str_at, values, volume, Helm, Rendered, NAMESPACE};
use berth_policy_sdk::harness::{Harness, RequestBuilder};
use serde_json::{json, Value};
use sticky_statefulset::StickyStatefulSet;

fn default(helm: Helm) -> Rendered {
    helm.render(&[&values("default.yaml")], &[])
}

fn full(helm: Helm) -> Rendered {
    helm.render(&[&values("full.yaml")], &[])
}

fn pod_spec(r: &Rendered) -> &Value {
    &r.one("DaemonSet")["spec"]["template"]["spec"]
}

#[test]
fn the_default_render_holds_exactly_the_expected_objects() {
    for helm in Helm::ALL {
        let mut kinds = default(helm).kinds();
        kinds.sort();
        assert_eq!(
            kinds,
            [
                "ClusterRole",
                "ClusterRoleBinding",
                "ConfigMap",
                "DaemonSet",
                "ServiceAccount"
            ],
            "{helm:?}"
        );
        let mut kinds = full(helm).kinds();
        kinds.sort();
        assert!(
            kinds.contains(&"BerthPool".to_owned()),
            "{helm:?} {kinds:?}"
        );
        assert!(kinds.contains(&"Service".to_owned()), "{helm:?} {kinds:?}");
    }
}

#[test]
fn the_daemonset_runs_berthd_on_every_node() {
    for helm in Helm::ALL {
        let r = default(helm);
        let ds = r.one("DaemonSet");
        assert_eq!(ds["metadata"]["namespace"], NAMESPACE);
        assert_eq!(ds["spec"]["updateStrategy"]["type"], "RollingUpdate");
        let spec = pod_spec(&r);
        assert_eq!(spec["hostNetwork"], true);
        assert_eq!(spec["priorityClassName"], "system-node-critical");
        // Tolerates every taint: one toleration, operator Exists, no key.
        assert_eq!(spec["tolerations"], json!([{"operator": "Exists"}]));
        assert_eq!(spec["serviceAccountName"], "berth");

        let berthd = container(spec, "containers", "berthd");
        assert_eq!(
            berthd["command"],
            json!([
                "/usr/local/bin/berthd",
                "serve",
                "--config",
                "/etc/berth/berthd.json",
                "--log-format",
                "json"
            ])
        );
        let env = berthd["env"].as_array().expect("env");
        let node = env
            .iter()
            .find(|e| e["name"] == "BERTH_NODE_NAME")
            .expect("BERTH_NODE_NAME");
        assert_eq!(node["valueFrom"]["fieldRef"]["fieldPath"], "spec.nodeName");

        // Not privileged, no capability, root (see the chart's comment).
        let sc = &berthd["securityContext"];
        assert_eq!(sc["privileged"], false);
        assert_eq!(sc["allowPrivilegeEscalation"], false);
        assert_eq!(sc["capabilities"]["drop"], json!(["ALL"]));
        assert!(sc["capabilities"].get("add").is_none());
        assert_eq!(sc["runAsUser"], 0);
        assert_eq!(sc["readOnlyRootFilesystem"], true);

        // Health through the metrics port.
        assert_eq!(
            berthd["ports"],
            json!([{"name": "metrics", "containerPort": 9464, "protocol": "TCP"}])
        );
        for probe in ["readinessProbe", "livenessProbe"] {
            assert_eq!(berthd[probe]["httpGet"]["path"], "/healthz", "{probe}");
            assert_eq!(berthd[probe]["httpGet"]["port"], "metrics", "{probe}");
        }
        assert!(berthd["resources"]["requests"]["memory"].is_string());
    }
}

#[test]
fn an_init_container_installs_berth_into_the_cni_bin_dir() {
    for helm in Helm::ALL {
        for (r, bin_dir) in [
            (default(helm), "/opt/cni/bin"),
            (full(helm), "/var/lib/rancher/k3s/data/current/bin"),
        ] {
            let spec = pod_spec(&r);
            let install = container(spec, "initContainers", "install-cni");
            assert_eq!(
                install["image"],
                container(spec, "containers", "berthd")["image"],
                "same image as berthd"
            );
            let cni_bin = volume(spec, "cni-bin");
            assert_eq!(cni_bin["hostPath"]["path"], bin_dir);
            assert_eq!(mount(install, "cni-bin")["mountPath"], "/host/cni-bin");
            // berthd itself does the atomic copy: no shell in the image.
            assert_eq!(
                install["command"],
                json!([
                    "/usr/local/bin/berthd",
                    "install-cni",
                    "--source",
                    "/usr/local/bin/berth",
                    "--dest-dir",
                    "/host/cni-bin"
                ])
            );
            assert!(install.get("args").is_none(), "{install}");
            // The daemon itself never sees the CNI bin dir.
            let berthd = container(spec, "containers", "berthd");
            assert!(!berthd["volumeMounts"].to_string().contains("cni-bin"));
        }
        let r = helm.render(&[], &["cni.install=false"]);
        let spec = pod_spec(&r);
        assert!(spec.get("initContainers").is_none(), "{helm:?}");
        assert!(!spec["volumes"].to_string().contains("cni-bin"), "{helm:?}");
    }
}

#[test]
fn socket_data_and_config_dirs_are_mounted_without_sub_path() {
    for helm in Helm::ALL {
        let r = default(helm);
        let spec = pod_spec(&r);
        let berthd = container(spec, "containers", "berthd");
        for (name, path) in [("socket-dir", "/run/berth"), ("data-dir", "/var/lib/berth")] {
            let v = volume(spec, name);
            assert_eq!(v["hostPath"]["path"], path, "{name}");
            assert_eq!(v["hostPath"]["type"], "DirectoryOrCreate", "{name}");
            assert_eq!(mount(berthd, name)["mountPath"], path, "{name}");
        }
        // The config dir: the chart's ConfigMap as a directory (projected),
        // so the kubelet updates berthd.json in place.
        let config = mount(berthd, "config");
        assert_eq!(config["mountPath"], "/etc/berth");
        assert_eq!(config["readOnly"], true);
        let cm_name = str_at(r.one("ConfigMap"), "/metadata/name");
        let sources = volume(spec, "config")["projected"]["sources"]
            .as_array()
            .expect("projected sources")
            .clone();
        assert_eq!(
            sources[0],
            json!({"configMap": {"name": cm_name, "items": [{"key": "berthd.json", "path": "berthd.json"}]}})
        );
        for c in spec["containers"]
            .as_array()
            .unwrap()
            .iter()
            .chain(spec["initContainers"].as_array().unwrap())
        {
            for m in c["volumeMounts"].as_array().unwrap() {
                assert!(
                    m.get("subPath").is_none() && m.get("subPathExpr").is_none(),
                    "{m}"
                );
            }
        }
        // The socket path in the config is inside the mounted socket dir.
        let config = r.daemon_config();
        assert_eq!(config["socketPath"], "/run/berth/berth.sock");
        assert_eq!(config["dataDir"], "/var/lib/berth");
    }
}

#[test]
fn a_config_change_does_not_restart_the_pods() {
    // No checksum of the config on the pod template: the template is the
    // same whatever the settings, so `helm upgrade` leaves the pods alone
    // and berthd reloads the file the kubelet updated.
    for helm in Helm::ALL {
        let a = default(helm);
        let b = helm.render(
            &[],
            &[
                "policies[0].name=sticky",
                "policies[0].builtin=sticky-statefulset",
                "policies[0].settings.holdAfterScaleDown=1h",
                "ipam.enableStatefulSet=false",
                "daemon.limits.requestsInFlightMax=8",
            ],
        );
        assert_ne!(a.daemon_config(), b.daemon_config());
        assert_eq!(
            a.one("DaemonSet")["spec"]["template"],
            b.one("DaemonSet")["spec"]["template"],
            "{helm:?}: the pod template changed with the config"
        );
        assert!(!a.text.contains("checksum/"), "{helm:?}");
    }
}

#[test]
fn the_default_chain_is_sticky_statefulset() {
    for helm in Helm::ALL {
        let config = default(helm).daemon_config();
        assert_eq!(
            config["policies"],
            json!([{
                "name": "sticky-statefulset",
                "builtin": "sticky-statefulset",
                "settings": {"holdAfterScaleDown": "0s"},
                "failurePolicy": "Fail"
            }])
        );
        assert_eq!(config["metricsAddress"], "0.0.0.0:9464");
        // Kubernetes mode by default: the `kubernetes` section with the
        // chart's intervals, and no `pools` (they are BerthPool objects).
        assert_eq!(
            config["kubernetes"],
            json!({"gcIntervalSecs": 30, "gcGraceSecs": 300, "gcTerminatingGraceSecs": 300, "poolSyncIntervalSecs": 10})
        );
        assert!(config.get("pools").is_none(), "{config}");
        assert!(config.get("limits").is_none());
    }
}

#[test]
fn kubernetes_mode_renders_the_values_intervals_as_integers() {
    for helm in Helm::ALL {
        let config = full(helm).daemon_config();
        assert_eq!(
            config["kubernetes"],
            json!({"gcIntervalSecs": 15, "gcGraceSecs": 120, "gcTerminatingGraceSecs": 45, "poolSyncIntervalSecs": 5})
        );
        assert!(config.get("pools").is_none(), "{config}");
        // --set gives integers, values files floats: both render integers.
        let config = helm
            .render(&[], &["kubernetes.gcGraceSecs=3600"])
            .daemon_config();
        assert_eq!(config["kubernetes"]["gcGraceSecs"], json!(3600));
        // A key set to null is left to the daemon's default.
        let config = helm
            .render(&[], &["kubernetes.gcGraceSecs=null"])
            .daemon_config();
        assert_eq!(
            config["kubernetes"],
            json!({"gcIntervalSecs": 30, "gcTerminatingGraceSecs": 300, "poolSyncIntervalSecs": 10})
        );
    }
}

#[test]
fn single_host_mode_renders_pools_and_no_kubernetes_section() {
    for helm in Helm::ALL {
        let r = helm.render(&[&values("single-host.yaml")], &[]);
        let config = r.daemon_config();
        assert!(config.get("kubernetes").is_none(), "{config}");
        assert_eq!(
            config["pools"],
            json!([{
                "name": "node-local",
                "subnet": "10.7.0.0/24",
                "ips": ["10.7.0.10-10.7.0.200"],
                "gateway": "10.7.0.1"
            }])
        );
        // Without pools, single-host mode still renders the (empty) list.
        let config = helm
            .render(&[], &["kubernetes.enabled=false"])
            .daemon_config();
        assert!(config.get("kubernetes").is_none(), "{config}");
        assert_eq!(config["pools"], json!([]));
    }
}

#[test]
fn changing_the_kubernetes_section_rolls_the_daemonset() {
    // berthd reads its `kubernetes` section only at start (a reload keeps
    // the mode and intervals), so the pod template carries it: changing it
    // restarts the pods, while other config changes reload in place.
    let annotation = |r: &Rendered| -> String {
        r.one("DaemonSet")["spec"]["template"]["metadata"]["annotations"]
            ["berth.io/kubernetes-config"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    for helm in Helm::ALL {
        let a = default(helm);
        let config: Value = serde_json::from_str(&annotation(&a)).unwrap();
        assert_eq!(config, a.daemon_config()["kubernetes"], "{helm:?}");
        let b = helm.render(&[], &["kubernetes.gcIntervalSecs=60"]);
        assert_ne!(annotation(&a), annotation(&b), "{helm:?}");
        let off = helm.render(&[], &["kubernetes.enabled=false"]);
        assert_eq!(annotation(&off), "disabled", "{helm:?}");
        // podAnnotations still come along.
        let full = full(helm);
        let annotations = &full.one("DaemonSet")["spec"]["template"]["metadata"]["annotations"];
        assert_eq!(annotations["example.com/team"], "network", "{helm:?}");
        assert!(annotations["berth.io/kubernetes-config"].is_string());
    }
}

#[test]
fn the_chain_keeps_the_values_order_and_the_daemons_shape() {
    for helm in Helm::ALL {
        let r = full(helm);
        assert_eq!(
            r.policy_names(),
            ["sticky", "pinned", "quota", "by-label", "baked-in"]
        );
        let config = r.daemon_config();
        let p = config["policies"].as_array().unwrap();
        for entry in p {
            let keys: Vec<&String> = entry.as_object().unwrap().keys().collect();
            for k in &keys {
                assert!(
                    [
                        "name",
                        "builtin",
                        "file",
                        "sha256",
                        "settings",
                        "failurePolicy"
                    ]
                    .contains(&k.as_str()),
                    "{k} is not a key of the daemon's policy entry"
                );
            }
            assert!(
                entry.get("builtin").is_some() != entry.get("file").is_some(),
                "{entry}"
            );
        }
        assert_eq!(p[0]["builtin"], "sticky-statefulset");
        assert_eq!(p[1]["builtin"], "ordinal-pinned");
        assert_eq!(p[1]["settings"]["statefulSets"], json!(["test-sts"]));
        // configMap entry: mounted next to berthd.json.
        assert_eq!(
            p[2]["file"],
            "/etc/berth/policies/quota/namespace-quota.wasm"
        );
        assert_eq!(p[2]["sha256"], "1".repeat(64));
        assert_eq!(p[2]["failurePolicy"], "Ignore");
        assert_eq!(
            p[2]["settings"],
            json!({"maxPerPool": 50, "namespaces": {"default": 10}})
        );
        // url entry: downloaded into the emptyDir.
        assert_eq!(p[3]["file"], "/var/lib/berth-policies/by-label.wasm");
        assert_eq!(p[3]["sha256"], "2".repeat(64));
        // absolute file: as given.
        assert_eq!(p[4]["file"], "/opt/berth/policies/ordinal-pinned.wasm");
        assert_eq!(p[4]["sha256"], "3".repeat(64));

        let spec = pod_spec(&r);
        let sources = volume(spec, "config")["projected"]["sources"]
            .as_array()
            .unwrap()
            .clone();
        assert_eq!(
            sources[1],
            json!({"configMap": {"name": "berth-quota-policy", "items": [
                {"key": "namespace-quota.wasm", "path": "policies/quota/namespace-quota.wasm"}]}})
        );
        assert_eq!(sources.len(), 2);

        // berthd fetch-policy from the Berth image: name, url, digest.
        let fetch = container(spec, "initContainers", "fetch-policies");
        assert_eq!(
            fetch["image"],
            container(spec, "containers", "berthd")["image"]
        );
        assert_eq!(
            fetch["command"],
            json!([
                "/usr/local/bin/berthd",
                "fetch-policy",
                "--dir",
                "/var/lib/berth-policies",
                "by-label",
                "https://policies.example.internal/berth/label-pool-0.1.0.wasm",
                "2".repeat(64)
            ])
        );
        assert!(fetch.get("args").is_none(), "{fetch}");
        assert_eq!(
            mount(fetch, "policy-downloads")["mountPath"],
            "/var/lib/berth-policies"
        );
        let berthd = container(spec, "containers", "berthd");
        assert_eq!(mount(berthd, "policy-downloads")["readOnly"], true);
        assert!(volume(spec, "policy-downloads")["emptyDir"].is_object());
        assert_eq!(
            mount(berthd, "baked-policies")["mountPath"],
            "/opt/berth/policies"
        );

        // The fetcher is not root.
        assert_eq!(fetch["securityContext"]["runAsNonRoot"], true);
    }
}

#[test]
fn any_order_of_the_values_list_is_the_order_of_the_chain() {
    let entries = [
        ("a", "label-pool"),
        ("b", "sticky-statefulset"),
        ("c", "namespace-quota"),
        ("d", "ordinal-pinned"),
    ];
    for order in [[0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1]] {
        let sets: Vec<String> = order
            .iter()
            .enumerate()
            .flat_map(|(i, &e)| {
                let (name, builtin) = entries[e];
                [
                    format!("policies[{i}].name={name}"),
                    format!("policies[{i}].builtin={builtin}"),
                ]
            })
            .collect();
        let sets: Vec<&str> = sets.iter().map(String::as_str).collect();
        let expected: Vec<&str> = order.iter().map(|&e| entries[e].0).collect();
        for helm in Helm::ALL {
            assert_eq!(helm.render(&[], &sets).policy_names(), expected, "{helm:?}");
        }
    }
}

fn sticky_settings(r: &Rendered) -> Value {
    let config = r.daemon_config();
    config["policies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["builtin"] == "sticky-statefulset")
        .expect("a sticky-statefulset entry")["settings"]
        .clone()
}

/// Whether the real sticky-statefulset policy, given these settings, binds
/// pod 0 of StatefulSet `test-sts` to an identity (a sticky address).
fn statefulset_pod_is_sticky(settings: &Value) -> bool {
    let harness = Harness::<StickyStatefulSet>::new(&settings.to_string())
        .unwrap_or_else(|e| panic!("settings {settings} refused: {e}"));
    let request = RequestBuilder::new().stateful_set("test-sts", 0).build();
    harness.identify(&request).is_some()
}

#[test]
fn enable_statefulset_false_makes_statefulsets_stateless() {
    for helm in Helm::ALL {
        let on = sticky_settings(&default(helm));
        assert!(on.get("statefulSets").is_none(), "{on}");
        assert!(
            statefulset_pod_is_sticky(&on),
            "{helm:?}: sticky by default"
        );

        let off = sticky_settings(&helm.render(&[], &["ipam.enableStatefulSet=false"]));
        assert_eq!(
            off,
            json!({"holdAfterScaleDown": "0s", "statefulSets": false})
        );
        assert!(!statefulset_pod_is_sticky(&off), "{helm:?}: still sticky");

        // The switch wins over a setting written in the entry, and the
        // entry (with its other settings) stays in the chain.
        let r = helm.render(
            &[],
            &[
                "ipam.enableStatefulSet=false",
                "policies[0].name=sticky",
                "policies[0].builtin=sticky-statefulset",
                "policies[0].settings.statefulSets=true",
            ],
        );
        assert_eq!(sticky_settings(&r)["statefulSets"], false);
        assert_eq!(r.policy_names(), ["sticky"]);

        // full.yaml turns it off but declares other sticky identities:
        // those stay sticky.
        let full = sticky_settings(&full(helm));
        assert_eq!(full["statefulSets"], false);
        assert!(!statefulset_pod_is_sticky(&full));
        let harness = Harness::<StickyStatefulSet>::new(&full.to_string()).unwrap();
        let legacy = RequestBuilder::new().pod_name("legacy-db-7").build();
        assert!(
            harness.identify(&legacy).is_some(),
            "{helm:?}: stableIdentities lost"
        );
    }
}

#[test]
fn metrics_off_uses_the_socket_for_health_and_serves_nothing() {
    for helm in Helm::ALL {
        let r = helm.render(
            &[],
            &["metrics.enabled=false", "metrics.service.enabled=true"],
        );
        assert!(r.daemon_config().get("metricsAddress").is_none());
        assert!(r.all("Service").is_empty());
        let berthd = container(pod_spec(&r), "containers", "berthd");
        assert!(berthd.get("ports").is_none());
        assert_eq!(
            berthd["readinessProbe"]["exec"]["command"],
            json!([
                "/usr/local/bin/berthd",
                "pools",
                "--socket",
                "/run/berth/berth.sock"
            ])
        );
    }
}

#[test]
fn metrics_on_with_a_service() {
    for helm in Helm::ALL {
        let r = full(helm);
        assert_eq!(r.daemon_config()["metricsAddress"], "0.0.0.0:9500");
        let svc = r.one("Service");
        assert_eq!(
            svc["spec"]["ports"],
            json!([{"name": "metrics", "port": 9500, "targetPort": "metrics", "protocol": "TCP"}])
        );
        let ds = r.one("DaemonSet");
        assert_eq!(
            svc["spec"]["selector"],
            ds["spec"]["selector"]["matchLabels"]
        );
        let berthd = container(pod_spec(&r), "containers", "berthd");
        assert_eq!(berthd["ports"][0]["containerPort"], 9500);
        // A loopback bind address is probed on loopback.
        let r = helm.render(&[], &["metrics.bindAddress=127.0.0.1"]);
        let berthd = container(pod_spec(&r), "containers", "berthd");
        assert_eq!(berthd["livenessProbe"]["httpGet"]["host"], "127.0.0.1");
        let r = helm.render(&[], &["metrics.bindAddress=::"]);
        assert_eq!(r.daemon_config()["metricsAddress"], "[::]:9464");
    }
}

#[test]
fn the_default_pool_is_a_cluster_scoped_berthpool() {
    for helm in Helm::ALL {
        let r = full(helm);
        let pool = r.one("BerthPool");
        assert_eq!(pool["apiVersion"], "berth.io/v1alpha1");
        assert!(pool["metadata"].get("namespace").is_none());
        assert_eq!(pool["metadata"]["name"], "default-v4");
        assert_eq!(
            pool["spec"],
            json!({
                "subnet": "10.6.0.0/16",
                "ips": ["10.6.100.1-10.6.100.254"],
                "excludeIps": ["10.6.100.128"],
                "gateway": "10.6.0.1",
                "routes": [{"dst": "192.168.0.0/16", "gw": "10.6.0.1"}],
                "default": true
            })
        );
        assert!(default(helm).all("BerthPool").is_empty());
    }
}

#[test]
fn rbac_grants_the_least_the_daemon_needs() {
    for helm in Helm::ALL {
        let r = default(helm);
        let role = r.one("ClusterRole");
        let rules = role["rules"].as_array().unwrap();
        let grant = |group: &str, resource: &str| -> Vec<String> {
            rules
                .iter()
                .filter(|r| r["apiGroups"].as_array().unwrap().contains(&json!(group)))
                .filter(|r| {
                    r["resources"]
                        .as_array()
                        .unwrap()
                        .contains(&json!(resource))
                })
                .flat_map(|r| {
                    r["verbs"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_str().unwrap().to_owned())
                })
                .collect()
        };
        let read = ["get", "list", "watch"];
        for (group, resource) in [
            ("", "pods"),
            ("", "namespaces"),
            ("", "nodes"),
            ("apps", "statefulsets"),
            ("apps", "replicasets"),
            ("berth.io", "berthreservedips"),
        ] {
            assert_eq!(grant(group, resource), read, "{group}/{resource}");
        }
        // Pools: read, and the finalizer patched; Events about them created.
        assert_eq!(
            grant("berth.io", "berthpools"),
            ["get", "list", "watch", "patch"]
        );
        assert_eq!(grant("berth.io", "berthpools/finalizers"), ["update"]);
        assert_eq!(grant("events.k8s.io", "events"), ["create"]);
        assert_eq!(grant("apps.kruise.io", "statefulsets"), ["get"]);
        assert_eq!(
            grant("berth.io", "berthaddresses"),
            ["get", "list", "watch", "create", "update", "patch", "delete"]
        );
        assert_eq!(
            grant("berth.io", "berthpools/status"),
            ["get", "update", "patch"]
        );
        // Nothing the daemon never reads or writes.
        for (group, resource) in [
            ("apps", "deployments"),
            ("apps", "daemonsets"),
            ("batch", "jobs"),
            ("coordination.k8s.io", "leases"),
        ] {
            assert!(grant(group, resource).is_empty(), "{group}/{resource}");
        }
        assert_eq!(
            role["rules"],
            json!([
                {"apiGroups": [""], "resources": ["pods", "namespaces", "nodes"], "verbs": ["get", "list", "watch"]},
                {"apiGroups": ["apps"], "resources": ["statefulsets", "replicasets"], "verbs": ["get", "list", "watch"]},
                {"apiGroups": ["apps.kruise.io"], "resources": ["statefulsets"], "verbs": ["get"]},
                {"apiGroups": ["berth.io"], "resources": ["berthaddresses"], "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]},
                {"apiGroups": ["berth.io"], "resources": ["berthreservedips"], "verbs": ["get", "list", "watch"]},
                {"apiGroups": ["berth.io"], "resources": ["berthpools"], "verbs": ["get", "list", "watch", "patch"]},
                {"apiGroups": ["berth.io"], "resources": ["berthpools/finalizers"], "verbs": ["update"]},
                {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["create"]},
                {"apiGroups": ["berth.io"], "resources": ["berthpools/status"], "verbs": ["get", "update", "patch"]}
            ]),
            "{helm:?}: exactly these rules"
        );
        let text = role.to_string();
        assert!(!text.contains('*'), "no wildcard: {text}");
        assert!(!text.contains("secrets"), "{text}");

        // No leader election any more: no Lease, so no Role or RoleBinding.
        assert!(r.all("Role").is_empty(), "{helm:?}");
        assert!(r.all("RoleBinding").is_empty(), "{helm:?}");
        assert!(!r.text.contains("leases"), "{helm:?}");
        let sa = r.one("ServiceAccount");
        let binding = r.one("ClusterRoleBinding");
        assert_eq!(binding["subjects"][0]["name"], sa["metadata"]["name"]);
        assert_eq!(binding["subjects"][0]["namespace"], NAMESPACE);
        assert_eq!(binding["roleRef"]["name"], role["metadata"]["name"]);
        let none = helm.render(&[], &["rbac.create=false", "serviceAccount.create=false"]);
        let mut kinds = none.kinds();
        kinds.sort();
        assert_eq!(kinds, ["ConfigMap", "DaemonSet"], "{helm:?}");
    }
}
