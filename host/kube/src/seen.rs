//! The version of a BerthAddress this node last saw: what its conditional
//! writes carry and what the watch feed compares events against.

use crate::crd_address::BerthAddress;
use kube::ResourceExt;

/// The version of an object this store last saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Seen {
    pub resource_version: String,
    pub uid: String,
}

pub(crate) fn seen_of(obj: &BerthAddress) -> Seen {
    Seen {
        resource_version: obj.resource_version().unwrap_or_default(),
        uid: obj.uid().unwrap_or_default(),
    }
}
