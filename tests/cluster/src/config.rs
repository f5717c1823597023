//! How a test cluster is built: its nodes, the helm it installs the
//! chart with, and the chart values.

use serde_json::{json, Value};

use crate::helm::Helm;
use crate::image::ImageProfile;
use crate::node::NodeSpec;

/// How to build a cluster.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    pub nodes: Vec<NodeSpec>,
    pub helm: Helm,
    /// Helm values on top of the chart's defaults (written to a values
    /// file that every `helm upgrade` passes again).
    pub values: Value,
    /// Which build of the image the nodes run.
    pub image: ImageProfile,
}

impl ClusterConfig {
    /// `n` nodes `node-a`, `node-b` ... in zones `zone-a`, `zone-b` ...,
    /// helm v3, and [`Self::test_values`].
    pub fn nodes(n: usize) -> Self {
        let nodes = (0..n)
            .map(|i| {
                let letter = char::from(b'a' + u8::try_from(i).unwrap_or(25));
                NodeSpec {
                    name: format!("node-{letter}"),
                    labels: vec![(
                        "topology.kubernetes.io/zone".into(),
                        format!("zone-{letter}"),
                    )],
                }
            })
            .collect();
        ClusterConfig {
            nodes,
            helm: Helm::V3,
            values: Self::test_values(),
            image: ImageProfile::Debug,
        }
    }

    /// Chart values for tests: berthd notices config and pool changes
    /// within a second, expired holds go within a second, and GC runs
    /// every second with a 3 s grace (the
    /// chart's 30 s / 300 s would make a scaled-away ordinal wait five
    /// minutes for its release). Everything else is the chart's default.
    pub fn test_values() -> Value {
        json!({
            "daemon": { "limits": { "configPollIntervalSecs": 1, "expiryIntervalSecs": 1 } },
            "kubernetes": { "poolSyncIntervalSecs": 1, "gcIntervalSecs": 1, "gcGraceSecs": 3 },
        })
    }

    /// Merges `values` into the values (objects merge, the rest replaces).
    pub fn with_values(mut self, values: Value) -> Self {
        merge(&mut self.values, values);
        self
    }

    pub fn with_image(mut self, image: ImageProfile) -> Self {
        self.image = image;
        self
    }

    pub fn with_helm(mut self, helm: Helm) -> Self {
        self.helm = helm;
        self
    }
}

fn merge(into: &mut Value, from: Value) {
    match (into, from) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k).or_insert(Value::Null), v);
            }
        }
        (slot, v) => *slot = v,
    }
}
