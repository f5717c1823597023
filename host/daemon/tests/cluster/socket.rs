//! What a node's berthd is asked over its socket, as the CNI plugin and
//! the operator CLI ask it: ADD, DEL, GC, and the allocations it holds.

use super::Berthd;
use berth_proto::admin::{AdminRequest, AdminResponse, AllocationView};
use berth_proto::{AddRequest, Attachment, DelRequest, GcRequest, PodRef, Request, Response};
use std::os::unix::net::UnixStream;

impl Berthd {
    fn ask(&self, request: &Request) -> Response {
        self.try_ask(request).expect("an answer")
    }

    /// A request whose answer may never come (the daemon crashed).
    fn try_ask(&self, request: &Request) -> Result<Response, String> {
        let mut stream = UnixStream::connect(&self.socket).map_err(|e| e.to_string())?;
        berth_proto::write_frame(&mut stream, request).map_err(|e| e.to_string())?;
        berth_proto::read_frame(&mut stream).map_err(|e| e.to_string())
    }

    /// CNI ADD for `pod` with a fresh container id; returns the address.
    pub fn add(&self, pod: &PodRef, container: &str) -> Result<String, String> {
        let request = Request::Add(AddRequest {
            attachment: Attachment {
                container_id: container.into(),
                ifname: "eth0".into(),
            },
            network: "k8s-pod-network".into(),
            pod: pod.clone(),
            pools: vec![],
            requested_ips: vec![],
            clean_gateway: None,
            labels: Vec::new(),
        });
        match self.try_ask(&request)? {
            Response::Added(result) => Ok(result.ips[0].address.addr().to_string()),
            Response::Error(e) => Err(format!("{:?}: {}", e.kind, e.message)),
            other => Err(format!("unexpected {other:?}")),
        }
    }

    pub fn del(&self, pod: &PodRef, container: &str) {
        let request = Request::Del(DelRequest {
            attachment: Attachment {
                container_id: container.into(),
                ifname: "eth0".into(),
            },
            network: "k8s-pod-network".into(),
            pod: pod.clone(),
        });
        assert_eq!(self.ask(&request), Response::Ok);
    }

    /// CNI GC as this node's runtime sends it: the attachments it still runs.
    pub fn gc(&self, valid_containers: &[&str]) {
        let request = Request::Gc(GcRequest {
            network: "k8s-pod-network".into(),
            valid: valid_containers
                .iter()
                .map(|c| Attachment {
                    container_id: (*c).into(),
                    ifname: "eth0".into(),
                })
                .collect(),
        });
        assert_eq!(self.ask(&request), Response::Ok);
    }

    /// The records this node's allocator holds (every node's, in Kubernetes mode).
    pub fn allocations(&self) -> Vec<AllocationView> {
        let mut all = Vec::new();
        let mut after = None;
        loop {
            match self.ask(&Request::Admin(AdminRequest::ListAllocations { after })) {
                Response::Admin(AdminResponse::Allocations { allocations, next }) => {
                    all.extend(allocations);
                    match next {
                        Some(next) => after = Some(next),
                        None => return all,
                    }
                }
                other => panic!("unexpected answer {other:?}"),
            }
        }
    }

    /// Whether this node's view holds `address`.
    pub fn knows(&self, address: &str) -> bool {
        self.allocations().iter().any(|a| a.address == address)
    }

    /// CNI ADD for `pod`'s interface `ifname`, with the CNI config's
    /// `cleanGateway`; the whole answer.
    pub fn add_on(
        &self,
        pod: &PodRef,
        container: &str,
        ifname: &str,
        clean_gateway: Option<bool>,
    ) -> Result<berth_proto::AddResult, String> {
        let request = Request::Add(AddRequest {
            attachment: Attachment {
                container_id: container.into(),
                ifname: ifname.into(),
            },
            network: "k8s-pod-network".into(),
            pod: pod.clone(),
            pools: vec![],
            requested_ips: vec![],
            clean_gateway,
            labels: Vec::new(),
        });
        match self.try_ask(&request)? {
            Response::Added(result) => Ok(result),
            Response::Error(e) => Err(format!("{:?}: {}", e.kind, e.message)),
            other => Err(format!("unexpected {other:?}")),
        }
    }
}
