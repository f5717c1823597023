//! The container runtime's CNI calls against the simulated daemon: ADD
//! (with crashes between the store write and the answer), DEL (sent twice
//! or lost), each node's GC with its own live containers, and each node's
//! expiry pass. Each call checks what it may change.

use super::world::{attachment, Container, PodKind, World, NODES};
use berth_core::{AddressRecord, Mutation, NodeScope};
use berth_proto::Attachment;
use rand::Rng;
use std::net::IpAddr;

impl World {
    /// A new container ADDs; returns its id when it got addresses.
    pub fn start(
        &mut self,
        pod: String,
        namespace: String,
        kind: PodKind,
        pools: Vec<String>,
    ) -> Option<String> {
        self.next_id += 1;
        let id = format!("ctr-{}", self.next_id);
        let node = NODES[self.rng.random_range(0..NODES.len())].to_owned();
        let mut c = Container {
            pod,
            namespace,
            kind,
            pools,
            node,
            result: Vec::new(),
            live: false,
        };
        let input = self.input_for(&id, &c);
        let plan = match self.alloc.plan_add(&input, &self.chain, self.now) {
            Ok(plan) => plan,
            Err(e) => {
                self.check_failure(&c, &e);
                return None;
            }
        };
        let result: Vec<IpAddr> = plan.result.iter().map(|a| a.address).collect();
        self.check_add(&c, &result);
        if self.rng.random_bool(0.05) {
            // Crash after the store write, before apply and the answer:
            // the runtime retries the same ADD against the restarted daemon.
            self.persist(&plan.mutations);
            self.restart_daemon();
            let retry = self
                .alloc
                .plan_add(&input, &self.chain, self.now)
                .expect("retry");
            assert!(retry.mutations.is_empty(), "retry after crash re-allocated");
            let again: Vec<IpAddr> = retry.result.iter().map(|a| a.address).collect();
            assert_eq!(again, result, "retry after crash answered differently");
        } else if !self.commit(&plan.mutations) {
            // The runtime was told the ADD failed: nothing of it is held.
            assert!(
                self.alloc
                    .records_of_attachment(&attachment(&id))
                    .is_empty(),
                "a failed ADD left {id} holding an address"
            );
            return None;
        }
        c.result = result;
        c.live = true;
        self.containers.insert(id.clone(), c);
        Some(id)
    }

    /// The runtime deletes a container: DEL sent (maybe twice) or lost.
    pub fn stop(&mut self, id: &str, lost: bool) {
        let Some(c) = self.containers.get_mut(id) else {
            return;
        };
        c.live = false;
        if lost {
            return;
        }
        let mutations = self.alloc.plan_del(&attachment(id), self.now);
        if !self.commit(&mutations) {
            // The DEL failed; the container stays dead in the runtime's
            // books and a later GC of its node collects it.
            return;
        }
        if self.rng.random_bool(0.1) {
            assert!(
                self.alloc.plan_del(&attachment(id), self.now).is_empty(),
                "DEL not idempotent"
            );
        }
        self.containers.remove(id);
    }

    /// CNI GC from one node's runtime, with the live attachments of that
    /// node only (what containerd sends). Afterwards no attached record of
    /// that node belongs to a dead container, and no other node's record
    /// changed: the other nodes' containers are not in `valid`, yet live.
    pub fn gc(&mut self, node: &str) {
        let valid: Vec<Attachment> = self
            .containers
            .iter()
            .filter(|(_, c)| c.live && c.node == node)
            .map(|(id, _)| attachment(id))
            .collect();
        let others_before: Vec<AddressRecord> =
            self.alloc.records().filter(|r| r.node != node).collect();
        let mutations = self
            .alloc
            .plan_gc("net", &valid, &NodeScope::only(node), self.now);
        if !self.commit(&mutations) {
            return; // the runtime sends GC again later
        }
        self.containers.retain(|_, c| c.live || c.node != node);
        for r in self.alloc.records().filter(|r| r.node == node) {
            if let Some(att) = &r.attachment {
                assert!(
                    valid.contains(att),
                    "{} attached to dead {}",
                    r.address,
                    att.container_id
                );
            }
        }
        for before in others_before {
            assert_eq!(
                self.alloc.record(before.address),
                Some(before.clone()),
                "GC on {node} changed {}'s record",
                before.node
            );
        }
    }

    /// Every node's runtime sends its GC.
    pub fn gc_every_node(&mut self) {
        for node in NODES {
            self.gc(node);
        }
    }

    /// One node's expiry pass: only its own retained records go.
    pub fn expire(&mut self, node: &str) {
        let mutations = self.alloc.plan_expire(&NodeScope::only(node), self.now);
        for m in &mutations {
            let address = match m {
                Mutation::Remove { address, .. } => *address,
                Mutation::Put(r) => r.address,
            };
            let record = self
                .alloc
                .record(address)
                .expect("expiry of a held address");
            assert_eq!(
                record.node, node,
                "{node} expired {}'s {address}",
                record.node
            );
        }
        // A failed expiry is retried at the next pass.
        let _expired = self.commit(&mutations);
    }
}
