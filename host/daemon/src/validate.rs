//! Checks every request from the socket before it reaches the allocator:
//! the plugin validates too, but the socket is an input of its own (any
//! root process can write to it), and what passes here is stored.

use crate::limits::GC_ATTACHMENTS_MAX;
use berth_core::limits::{
    CONTAINER_ID_BYTES_MAX, IFNAME_BYTES_MAX, REQUEST_NAME_BYTES_MAX, REQUEST_POOLS_MAX,
};
use berth_proto::{Attachment, ErrorBody, ErrorKind, PodRef, Request};

pub fn request(request: &Request) -> Result<(), ErrorBody> {
    match request {
        Request::Add(add) => {
            attachment(&add.attachment)?;
            name("network", &add.network)?;
            pod(&add.pod)?;
            if add.pools.len() > REQUEST_POOLS_MAX {
                return Err(invalid(format!(
                    "{} pools named, at most {REQUEST_POOLS_MAX}",
                    add.pools.len()
                )));
            }
            add.pools.iter().try_for_each(|p| name("pool", p))
        }
        Request::Del(del) => {
            attachment(&del.attachment)?;
            name("network", &del.network)?;
            pod(&del.pod)
        }
        Request::Check(check) => {
            attachment(&check.attachment)?;
            name("network", &check.network)
        }
        Request::Gc(gc) => {
            name("network", &gc.network)?;
            if gc.valid.len() > GC_ATTACHMENTS_MAX {
                return Err(invalid(format!(
                    "{} valid attachments, at most {GC_ATTACHMENTS_MAX}",
                    gc.valid.len()
                )));
            }
            gc.valid.iter().try_for_each(attachment)
        }
        Request::Status | Request::Admin(_) => Ok(()),
    }
}

fn attachment(a: &Attachment) -> Result<(), ErrorBody> {
    let id = &a.container_id;
    if id.is_empty() || id.len() > CONTAINER_ID_BYTES_MAX {
        return Err(invalid(format!(
            "container id of {} bytes; it must have 1 to {CONTAINER_ID_BYTES_MAX}",
            id.len()
        )));
    }
    if !id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
    {
        return Err(invalid(
            "container id may hold only letters, digits, '_', '.' and '-'".to_owned(),
        ));
    }
    let ifname = &a.ifname;
    if ifname.is_empty()
        || ifname.len() > IFNAME_BYTES_MAX
        || ifname == "."
        || ifname == ".."
        || ifname
            .bytes()
            .any(|b| b == b'/' || b == b':' || b.is_ascii_whitespace())
    {
        return Err(invalid(format!(
            "interface name {ifname:?} is not a valid Linux interface name"
        )));
    }
    Ok(())
}

fn pod(p: &PodRef) -> Result<(), ErrorBody> {
    name("pod namespace", &p.namespace)?;
    name("pod name", &p.name)?;
    name("pod uid", &p.uid)
}

/// Free-form names: bounded and printable (they reach logs and objects).
fn name(what: &str, value: &str) -> Result<(), ErrorBody> {
    if value.len() > REQUEST_NAME_BYTES_MAX {
        return Err(invalid(format!(
            "{what} of {} bytes, at most {REQUEST_NAME_BYTES_MAX}",
            value.len()
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(format!(
            "{what} {value:?} holds control characters"
        )));
    }
    Ok(())
}

fn invalid(message: String) -> ErrorBody {
    ErrorBody {
        kind: ErrorKind::InvalidRequest,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_proto::{AddRequest, GcRequest};

    fn add(container_id: &str, ifname: &str) -> Request {
        Request::Add(AddRequest {
            attachment: Attachment {
                container_id: container_id.into(),
                ifname: ifname.into(),
            },
            network: "net".into(),
            pod: PodRef::default(),
            pools: vec![],
            requested_ips: vec![],
            clean_gateway: None,
        })
    }

    #[test]
    fn runtime_ids_and_names_pass() {
        let id = "a".repeat(64);
        assert!(request(&add(&id, "eth0")).is_ok());
        assert!(request(&add("ctr_1.x-y", "net1")).is_ok());
    }

    #[test]
    fn oversized_or_odd_attachments_are_refused() {
        for (id, ifname) in [
            ("x".repeat(60_000), "eth0".to_owned()),
            (String::new(), "eth0".to_owned()),
            ("a/b".to_owned(), "eth0".to_owned()),
            ("c1".to_owned(), "a-very-long-ifname".to_owned()),
            ("c1".to_owned(), "..".to_owned()),
            ("c1".to_owned(), String::new()),
        ] {
            let err = request(&add(&id, &ifname)).expect_err(&ifname);
            assert_eq!(err.kind, ErrorKind::InvalidRequest, "{}", err.message);
        }
        let gc = Request::Gc(GcRequest {
            network: "net".into(),
            valid: vec![
                Attachment {
                    container_id: "x".repeat(300),
                    ifname: "eth0".into(),
                };
                2
            ],
        });
        assert!(request(&gc).is_err());
    }
}
