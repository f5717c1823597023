//! The simulation's compound operations: StatefulSet scaling, pod
//! re-creation and container restarts, duplicated ADDs, pool changes.

use super::world::{Container, PodKind, World};
use rand::Rng;

impl World {
    pub fn rng_range(&mut self, lo: u64, hi: u64) -> u64 {
        self.rng.random_range(lo..hi)
    }

    pub fn pick_container(&mut self, filter: impl Fn(&Container) -> bool) -> Option<String> {
        let ids: Vec<String> = self
            .containers
            .iter()
            .filter(|(_, c)| filter(c))
            .map(|(id, _)| id.clone())
            .collect();
        if ids.is_empty() {
            return None;
        }
        let i = self.rng.random_range(0..ids.len());
        Some(ids[i].clone())
    }

    fn start_ordinal(&mut self, sts: usize, ordinal: u32) {
        let s = &self.sts[sts];
        let (pod, ns, pools) = (
            format!("{}-{ordinal}", s.name),
            s.namespace.clone(),
            s.pools.clone(),
        );
        let id = self.start(pod, ns, PodKind::Sts { sts, ordinal }, pools);
        self.sts[sts].pods.insert(ordinal, id);
    }

    /// Scales a StatefulSet up (a new ordinal) or down (the highest goes,
    /// and the controller retires its identity).
    pub fn scale(&mut self, up: bool) {
        let sts = self.rng.random_range(0..self.sts.len());
        let replicas = self.sts[sts].pods.len() as u32;
        if up {
            if replicas < 6 {
                self.start_ordinal(sts, replicas);
            }
            return;
        }
        let Some(ordinal) = replicas.checked_sub(1) else {
            return;
        };
        if let Some(Some(id)) = self.sts[sts].pods.remove(&ordinal) {
            let lost = self.chance(0.15);
            self.stop(&id, lost);
        }
        let s = &self.sts[sts];
        let key = format!("{}/{}/{ordinal}", s.namespace, s.name);
        let mutations = self.alloc.plan_retire_identity(&key, self.now);
        // A failed retirement leaves the binding retained; GC retires it
        // again in a real cluster, and nothing here depends on it.
        let _retired = self.commit(&mutations);
    }

    /// Deletes and re-creates a StatefulSet pod (same name, new UID and
    /// container), or restarts its container without a DEL.
    pub fn recreate_sts_pod(&mut self, restart_without_del: bool) {
        let sts = self.rng.random_range(0..self.sts.len());
        let ordinals: Vec<u32> = self.sts[sts].pods.keys().copied().collect();
        if ordinals.is_empty() {
            return;
        }
        let ordinal = ordinals[self.rng.random_range(0..ordinals.len())];
        if let Some(Some(id)) = self.sts[sts].pods.get(&ordinal).cloned() {
            let lost = restart_without_del || self.chance(0.15);
            self.stop(&id, lost);
        }
        self.start_ordinal(sts, ordinal);
    }

    /// The runtime repeats an ADD it already got an answer for.
    pub fn duplicate_add(&mut self) {
        let Some(id) = self.pick_container(|c| c.live) else {
            return;
        };
        let c = self.containers[&id].clone();
        let input = self.input_for(&id, &c);
        let plan = self
            .alloc
            .plan_add(&input, &self.chain, self.now)
            .expect("a repeated ADD succeeds");
        assert!(
            plan.mutations.is_empty(),
            "repeated ADD of {id} changed state"
        );
        let got: Vec<_> = plan.result.iter().map(|a| a.address).collect();
        assert_eq!(got, c.result, "repeated ADD of {id} answered differently");
    }

    /// The pool annotation of a StatefulSet changes (a <-> b); its pods
    /// move when they are next re-created.
    pub fn change_sts_pools(&mut self) {
        let sts = self.rng.random_range(0..self.sts.len());
        let s = &mut self.sts[sts];
        let v4 = if s.pools[0] == "a" { "b" } else { "a" };
        s.pools[0] = v4.into();
    }
}
