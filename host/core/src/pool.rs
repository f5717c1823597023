//! Pool configuration as operators write it ([`PoolSpec`]) and as the
//! allocator uses it ([`Pool`]): validated once, ranges kept as offsets
//! from the subnet's network address so no pool is ever enumerated.

use crate::dns::{Dns, DnsSpec};
use crate::limits::{POOL_ENTRIES_MAX, POOL_ROUTES_MAX};
use crate::offsets::{host_mask, offset_in};
use crate::pool_text::{check_name, parse_entries, parse_gateway, parse_route, parse_subnet};
use crate::ranges::RangeSet;
pub use crate::route::{Route, RouteSpec};
use berth_policy_sdk::addr::{from_u128, to_u128};
use berth_policy_sdk::IpFamily;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// A pool as written in configuration (CRD spec or the embedded config).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PoolSpec {
    pub name: String,
    /// CIDR, e.g. "10.6.0.0/16".
    pub subnet: String,
    /// "a-b" ranges, single addresses or CIDRs; empty means the whole subnet.
    #[serde(default)]
    pub ips: Vec<String>,
    #[serde(default)]
    pub exclude_ips: Vec<String>,
    #[serde(default)]
    pub gateway: Option<String>,
    #[serde(default)]
    pub routes: Vec<RouteSpec>,
    #[serde(default)]
    pub default: bool,
    /// Labels a pod's namespace must carry (see `placement.rs`).
    #[serde(default)]
    pub namespace_selector: BTreeMap<String, String>,
    /// Labels the node must carry to hand out the pool's addresses.
    #[serde(default)]
    pub node_selector: BTreeMap<String, String>,
    /// No default route via `gateway` in results (Spiderpool's
    /// cleanGateway); the CNI config and pod annotations override it.
    #[serde(default)]
    pub clean_gateway: bool,
    /// DNS settings handed to pods with the address (see `dns.rs`).
    #[serde(default)]
    pub dns: DnsSpec,
    /// Hands out no new address; held and retained ones stay, and an
    /// identity holding one keeps it (a re-created StatefulSet pod).
    #[serde(default)]
    pub disable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("pool {pool:?}: {field}: {problem}")]
pub struct PoolError {
    pub pool: String,
    /// The offending field, in the spelling operators write ("excludeIps").
    pub field: &'static str,
    pub problem: String,
}

/// A validated pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool {
    pub name: String,
    pub subnet: IpNet,
    pub family: IpFamily,
    pub gateway: Option<IpAddr>,
    pub routes: Vec<Route>,
    pub default: bool,
    pub namespace_selector: BTreeMap<String, String>,
    pub node_selector: BTreeMap<String, String>,
    pub clean_gateway: bool,
    pub dns: Dns,
    /// `disable: true`: nothing new is handed out (see `can_take`).
    pub disabled: bool,
    /// Assignable offsets from the network address: `ips` minus
    /// `excludeIps`, gateway, network and broadcast.
    ranges: RangeSet,
    total: u64,
}

impl Pool {
    pub fn from_spec(spec: &PoolSpec) -> Result<Pool, PoolError> {
        let err = |field: &'static str, problem: String| PoolError {
            pool: spec.name.clone(),
            field,
            problem,
        };
        check_name(&spec.name).map_err(|p| err("name", p))?;
        let subnet = parse_subnet(&spec.subnet).map_err(|p| err("subnet", p))?;
        for (field, list) in [("ips", &spec.ips), ("excludeIps", &spec.exclude_ips)] {
            if list.len() > POOL_ENTRIES_MAX {
                return Err(err(field, format!("more than {POOL_ENTRIES_MAX} entries")));
            }
        }
        if spec.routes.len() > POOL_ROUTES_MAX {
            return Err(err("routes", format!("more than {POOL_ROUTES_MAX} routes")));
        }
        let max = host_mask(&subnet);
        let (listed, entries) = parse_entries(&subnet, &spec.ips).map_err(|p| err("ips", p))?;
        let included = if spec.ips.is_empty() {
            RangeSet::from_ranges(vec![(0, max)])
        } else {
            listed
        };
        let (excluded, _) =
            parse_entries(&subnet, &spec.exclude_ips).map_err(|p| err("excludeIps", p))?;
        let gateway = match &spec.gateway {
            None => None,
            Some(text) => Some(
                parse_gateway(&subnet, text, &spec.ips, &entries).map_err(|p| err("gateway", p))?,
            ),
        };
        let mut never = Vec::new();
        // Network and broadcast are unusable except on point-to-point
        // prefixes (/31, /32, /127, /128), where every address is a host.
        if max > 1 {
            never.push((0, 0));
            if subnet.addr().is_ipv4() {
                never.push((max, max));
            }
        }
        if let Some(gw) = gateway {
            let off = offset_in(&subnet, gw).unwrap_or_default();
            never.push((off, off));
        }
        let ranges = included
            .subtract(&excluded)
            .subtract(&RangeSet::from_ranges(never));
        if ranges.is_empty() {
            return Err(err("ips", "no assignable address is left".to_owned()));
        }
        for (block, what) in crate::special::within(&subnet) {
            let block = RangeSet::from_ranges(vec![block]);
            if !ranges.subtract(&ranges.subtract(&block)).is_empty() {
                return Err(err(
                    "ips",
                    format!("its addresses include {what}, which no host may be given; narrow `ips` or add them to `excludeIps`"),
                ));
            }
        }
        let routes = spec
            .routes
            .iter()
            .map(|r| parse_route(&subnet, r))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|p| err("routes", p))?;
        let dns = Dns::from_spec(&spec.dns).map_err(|p| err(p.field, p.problem))?;
        Ok(Pool {
            name: spec.name.clone(),
            family: family_of(&subnet.addr()),
            subnet,
            gateway,
            routes,
            default: spec.default,
            namespace_selector: spec.namespace_selector.clone(),
            node_selector: spec.node_selector.clone(),
            clean_gateway: spec.clean_gateway,
            dns,
            disabled: spec.disable,
            total: ranges.count_saturating(),
            ranges,
        })
    }

    /// Assignable addresses, saturating at `u64::MAX`.
    pub fn total(&self) -> u64 {
        self.total
    }

    pub fn ranges(&self) -> &RangeSet {
        &self.ranges
    }

    /// The last offset of the subnet (its host mask).
    pub fn max_offset(&self) -> u128 {
        host_mask(&self.subnet)
    }

    /// Offset of `addr` from the network address, when it is in the subnet.
    pub fn offset_of(&self, addr: IpAddr) -> Option<u128> {
        offset_in(&self.subnet, addr)
    }

    /// The address at `offset`, which must be within the subnet.
    pub fn address_at(&self, offset: u128) -> IpAddr {
        assert!(offset <= self.max_offset(), "offset outside the subnet");
        // In range by the assertion: a v4 host mask fits in 32 bits.
        let network = self.subnet.network();
        from_u128(to_u128(network) | offset, network)
    }

    pub fn is_assignable(&self, addr: IpAddr) -> bool {
        self.offset_of(addr)
            .is_some_and(|o| self.ranges.contains(o))
    }

    /// Absolute (address-valued) assignable ranges, for overlap checks.
    pub(crate) fn absolute_ranges(&self) -> impl Iterator<Item = (u128, u128)> + '_ {
        let base = to_u128(self.subnet.network());
        self.ranges
            .ranges()
            .iter()
            .map(move |(s, e)| (base + s, base + e))
    }
}

pub fn family_of(addr: &IpAddr) -> IpFamily {
    match addr {
        IpAddr::V4(_) => IpFamily::V4,
        IpAddr::V6(_) => IpFamily::V6,
    }
}
