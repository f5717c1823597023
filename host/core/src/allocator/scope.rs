//! Which nodes' records a release this node starts on its own may touch.
//!
//! In Kubernetes mode every node's allocator holds every node's records
//! (they share the pools), but a CNI GC or an expiry pass only knows about
//! its own node: the runtime's list of valid attachments covers the
//! containers of one node, and two nodes expiring the same record would
//! race deletes and multiply API writes. Scoping the plan keeps a node's
//! own initiative on its own records; a dead node's records are adopted
//! by exactly one live node (see the daemon's Kubernetes GC).

use std::collections::BTreeSet;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeScope {
    /// Single host: one node, every record is its own.
    AllNodes,
    /// Only records handed out by these nodes.
    Nodes(BTreeSet<String>),
}

impl NodeScope {
    pub fn only(node: &str) -> Self {
        NodeScope::Nodes(BTreeSet::from([node.to_owned()]))
    }

    pub fn covers(&self, node: &str) -> bool {
        match self {
            NodeScope::AllNodes => true,
            NodeScope::Nodes(nodes) => nodes.contains(node),
        }
    }
}
