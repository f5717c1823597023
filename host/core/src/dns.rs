//! DNS settings a pool hands to pods: the CNI result's `dns` object
//! (`nameservers`, `domain`, `search`, `options`), which the main plugin
//! passes on to the runtime that writes the pod's resolv.conf.
//!
//! Written in the pool as [`DnsSpec`], validated once into [`Dns`]. A pod
//! with addresses from two pools (dual stack) gets both pools' settings
//! merged by [`Dns::merge`]: lists in the order of the addresses, without
//! repeats; the first pool that names a `domain` gives it.

use crate::limits::{
    DNS_NAME_BYTES_MAX, POOL_DNS_NAMESERVERS_MAX, POOL_DNS_OPTIONS_MAX, POOL_DNS_OPTION_BYTES_MAX,
    POOL_DNS_SEARCH_MAX,
};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// DNS settings as operators write them in a pool.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DnsSpec {
    /// Resolver addresses, either family.
    #[serde(default)]
    pub nameservers: Vec<String>,
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default)]
    pub search: Vec<String>,
    /// resolv.conf options, e.g. "ndots:5".
    #[serde(default)]
    pub options: Vec<String>,
}

/// Validated DNS settings; empty when the pool sets none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dns {
    pub nameservers: Vec<IpAddr>,
    pub domain: Option<String>,
    pub search: Vec<String>,
    pub options: Vec<String>,
}

/// A DNS setting that cannot work: the field (as operators spell it,
/// under the pool's `dns`) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsProblem {
    pub field: &'static str,
    pub problem: String,
}

impl Dns {
    pub fn from_spec(spec: &DnsSpec) -> Result<Dns, DnsProblem> {
        let problem = |field: &'static str, problem: String| DnsProblem { field, problem };
        if spec.nameservers.len() > POOL_DNS_NAMESERVERS_MAX {
            return Err(problem(
                "dns.nameservers",
                format!(
                    "more than {POOL_DNS_NAMESERVERS_MAX}: resolvers use only the first {POOL_DNS_NAMESERVERS_MAX}"
                ),
            ));
        }
        let mut nameservers = Vec::with_capacity(spec.nameservers.len());
        for text in &spec.nameservers {
            let addr: IpAddr = text.trim().parse().map_err(|_| {
                problem("dns.nameservers", format!("{text:?} is not an IP address"))
            })?;
            if addr.is_unspecified() || addr.is_multicast() {
                return Err(problem(
                    "dns.nameservers",
                    format!("{addr} cannot be a resolver address"),
                ));
            }
            push_new(&mut nameservers, addr);
        }
        let domain = match &spec.domain {
            None => None,
            Some(name) => Some(dns_name(name).map_err(|p| problem("dns.domain", p))?),
        };
        if spec.search.len() > POOL_DNS_SEARCH_MAX {
            return Err(problem(
                "dns.search",
                format!("more than {POOL_DNS_SEARCH_MAX} domains"),
            ));
        }
        let mut search = Vec::with_capacity(spec.search.len());
        for name in &spec.search {
            push_new(
                &mut search,
                dns_name(name).map_err(|p| problem("dns.search", p))?,
            );
        }
        if spec.options.len() > POOL_DNS_OPTIONS_MAX {
            return Err(problem(
                "dns.options",
                format!("more than {POOL_DNS_OPTIONS_MAX} options"),
            ));
        }
        let mut options = Vec::with_capacity(spec.options.len());
        for option in &spec.options {
            let ok = !option.is_empty()
                && option.len() <= POOL_DNS_OPTION_BYTES_MAX
                && option.bytes().all(|b| b.is_ascii_graphic());
            if !ok {
                return Err(problem(
                    "dns.options",
                    format!(
                        "{option:?} must be 1..={POOL_DNS_OPTION_BYTES_MAX} printable characters without spaces"
                    ),
                ));
            }
            push_new(&mut options, option.clone());
        }
        Ok(Dns {
            nameservers,
            domain,
            search,
            options,
        })
    }

    pub fn is_empty(&self) -> bool {
        self == &Dns::default()
    }

    /// Adds `other`'s settings after this one's (see the module docs).
    pub fn merge(&mut self, other: &Dns) {
        for addr in &other.nameservers {
            push_new(&mut self.nameservers, *addr);
        }
        if self.domain.is_none() {
            self.domain.clone_from(&other.domain);
        }
        for name in &other.search {
            push_new(&mut self.search, name.clone());
        }
        for option in &other.options {
            push_new(&mut self.options, option.clone());
        }
    }
}

fn push_new<T: PartialEq>(list: &mut Vec<T>, item: T) {
    if !list.contains(&item) {
        list.push(item);
    }
}

/// A domain name in text form: dot-separated labels of 1..=63 letters,
/// digits, '-' or '_' (search domains in the wild use '_'), not starting
/// or ending with '-'; one trailing dot allowed.
fn dns_name(name: &str) -> Result<String, String> {
    let bare = name.strip_suffix('.').unwrap_or(name);
    let label_ok = |label: &str| {
        (1..=63).contains(&label.len())
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    if bare.is_empty() || name.len() > DNS_NAME_BYTES_MAX || !bare.split('.').all(label_ok) {
        return Err(format!("{name:?} is not a domain name"));
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(
        nameservers: &[&str],
        domain: Option<&str>,
        search: &[&str],
        options: &[&str],
    ) -> DnsSpec {
        let owned = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect();
        DnsSpec {
            nameservers: owned(nameservers),
            domain: domain.map(str::to_owned),
            search: owned(search),
            options: owned(options),
        }
    }

    #[test]
    fn valid_settings_are_kept_in_order_without_repeats() {
        let dns = Dns::from_spec(&spec(
            &["10.0.0.53", "fd00::53", "10.0.0.53"],
            Some("cluster.local"),
            &["svc.cluster.local", "cluster.local", "_tcp.example.com."],
            &["ndots:5", "edns0"],
        ))
        .expect("valid");
        assert_eq!(
            dns.nameservers,
            vec![
                "10.0.0.53".parse::<IpAddr>().expect("address"),
                "fd00::53".parse().expect("address")
            ]
        );
        assert_eq!(dns.domain.as_deref(), Some("cluster.local"));
        assert_eq!(dns.search.len(), 3);
        assert_eq!(dns.options, vec!["ndots:5", "edns0"]);
        assert!(Dns::from_spec(&DnsSpec::default())
            .expect("empty")
            .is_empty());
    }

    #[test]
    fn bad_settings_name_their_field() {
        let cases = [
            (spec(&["10.0.0.300"], None, &[], &[]), "dns.nameservers"),
            (spec(&["0.0.0.0"], None, &[], &[]), "dns.nameservers"),
            (
                spec(
                    &["1.1.1.1", "1.0.0.1", "8.8.8.8", "9.9.9.9"],
                    None,
                    &[],
                    &[],
                ),
                "dns.nameservers",
            ),
            (spec(&[], Some("bad domain"), &[], &[]), "dns.domain"),
            (spec(&[], Some("-a.example"), &[], &[]), "dns.domain"),
            (spec(&[], None, &["a..b"], &[]), "dns.search"),
            (spec(&[], None, &[""], &[]), "dns.search"),
            (spec(&[], None, &[], &["nd ots:5"]), "dns.options"),
            (spec(&[], None, &[], &[""]), "dns.options"),
        ];
        for (spec, field) in cases {
            let err = Dns::from_spec(&spec).expect_err(field);
            assert_eq!(err.field, field, "{spec:?}: {}", err.problem);
        }
    }

    #[test]
    fn merge_keeps_the_first_domain_and_appends_new_entries() {
        let mut v4 = Dns::from_spec(&spec(
            &["10.0.0.53"],
            Some("v4.example"),
            &["a.example"],
            &["ndots:2"],
        ))
        .expect("valid");
        let v6 = Dns::from_spec(&spec(
            &["fd00::53", "10.0.0.53"],
            Some("v6.example"),
            &["a.example", "b.example"],
            &["edns0"],
        ))
        .expect("valid");
        v4.merge(&v6);
        assert_eq!(v4.nameservers.len(), 2);
        assert_eq!(v4.domain.as_deref(), Some("v4.example"));
        assert_eq!(v4.search, vec!["a.example", "b.example"]);
        assert_eq!(v4.options, vec!["ndots:2", "edns0"]);
        let mut none = Dns::default();
        none.merge(&v6);
        assert_eq!(none.domain.as_deref(), Some("v6.example"));
    }
}
