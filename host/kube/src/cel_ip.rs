//! CEL expressions over IP addresses that Kubernetes' CEL cannot write
//! directly. Its `ip` library parses and classifies addresses and tests
//! CIDR containment, but IPs have no ordering (`ip(a) <= ip(b)` does not
//! compile) and CEL has no loops or `let`. So "a ≤ b" is built from
//! containment alone: with `L` the length of the longest common prefix of
//! `a` and `b`, `a < b` exactly when bit `L+1` of `a` is 0. `L` is found by
//! a binary search over prefix lengths, written out as a tree of
//! conditionals — 6 tests for IPv4, 7 for IPv6 — whose estimated cost is
//! one root-to-leaf path, small enough for the API server's budget at
//! `POOL_ENTRIES_MAX` entries (the text is long, the work is not).

/// CEL that is true when the address text `a` is at most the address text
/// `b`; both must be valid IPs of one family (guard before calling).
pub fn ip_at_most(a: &str, b: &str) -> String {
    // `[x].all(v, ...)` binds `v` to `x` once: a CEL `let`. An IP value has
    // a fixed size, so the cost estimate stays exact inside it.
    format!(
        "[ip({b})].all(ipb, ipb.family() == 4 ? {} : {})",
        search(a, "ipb", 0, 33, 32),
        search(a, "ipb", 0, 129, 128)
    )
}

/// The common prefix length `L` lies in `lo..hi`: `a/lo` contains `b`
/// (a `/0` contains everything) and `a/hi` does not (`hi` = width + 1
/// stands for "never").
fn search(a: &str, b: &str, lo: u32, hi: u32, width: u32) -> String {
    if hi - lo == 1 {
        if lo == width {
            // Every bit agrees: a == b.
            return "true".to_owned();
        }
        // Bit lo+1 of `a` is 0 exactly when the network of a/lo (all bits
        // after lo cleared) is still inside a/(lo+1).
        return format!(
            "cidr({a} + '/{}').containsIP(cidr({a} + '/{lo}').masked().ip())",
            lo + 1
        );
    }
    let mid = (lo + hi) / 2;
    format!(
        "(cidr({a} + '/{mid}').containsIP({b}) ? {} : {})",
        search(a, b, mid, hi, width),
        search(a, b, lo, mid, width)
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    /// Prefix lengths written as `'/n'` in `text`, in order.
    fn lengths(text: &str) -> Vec<u32> {
        text.split("'/")
            .skip(1)
            .map(|rest| rest[..rest.find('\'').unwrap()].parse().unwrap())
            .collect()
    }

    /// Evaluates a tree `search` wrote, reading it back from its text
    /// (conditionals and leaves), with containment computed on `a`'s and
    /// `b`'s bits as the API server does. The real server runs the same
    /// text in `tests/cluster/tests/pool_validation.rs`.
    fn eval(text: &str, a: u128, b: u128, width: u32) -> bool {
        let net = |v: u128, len: u32| {
            if len == 0 {
                0
            } else {
                v >> (width - len) << (width - len)
            }
        };
        if text == "true" {
            return true;
        }
        if let Some(inner) = text.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
            let q = inner.find(" ? ").unwrap();
            let mid = lengths(&inner[..q])[0];
            assert_eq!(&inner[..q], format!("cidr(A + '/{mid}').containsIP(ipb)"));
            let rest = &inner[q + 3..];
            // The " : " at nesting depth 0 splits the branches.
            let mut depth = 0i32;
            let mut split = None;
            for (i, c) in rest.char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    ':' if depth == 0 && rest[i - 1..].starts_with(" : ") => {
                        split = Some(i - 1);
                        break;
                    }
                    _ => {}
                }
            }
            let split = split.unwrap();
            let (yes, no) = (&rest[..split], &rest[split + 3..]);
            return if net(a, mid) == net(b, mid) {
                eval(yes, a, b, width)
            } else {
                eval(no, a, b, width)
            };
        }
        let [outer, inner] = lengths(text)[..] else {
            panic!("unexpected leaf {text}")
        };
        assert_eq!(
            text,
            format!("cidr(A + '/{outer}').containsIP(cidr(A + '/{inner}').masked().ip())")
        );
        // network(a/inner) inside a/outer
        net(net(a, inner), outer) == net(a, outer)
    }

    fn at_most(a: IpAddr, b: IpAddr) -> bool {
        let cel = ip_at_most("A", "B");
        let body = cel
            .strip_prefix("[ip(B)].all(ipb, ipb.family() == 4 ? ")
            .unwrap();
        let body = body.strip_suffix(')').unwrap();
        let v4 = search("A", "ipb", 0, 33, 32);
        assert!(body.starts_with(&v4));
        let v6 = &body[v4.len() + 3..];
        match (a, b) {
            (IpAddr::V4(x), IpAddr::V4(y)) => {
                eval(&v4, u32::from(x).into(), u32::from(y).into(), 32)
            }
            (IpAddr::V6(x), IpAddr::V6(y)) => eval(v6, x.into(), y.into(), 128),
            _ => panic!("one family"),
        }
    }

    #[test]
    fn the_written_search_orders_addresses_like_their_numbers() {
        let samples: [&[&str]; 2] = [
            &[
                "0.0.0.0",
                "0.0.0.1",
                "10.6.0.1",
                "10.6.0.9",
                "10.6.0.10",
                "10.6.1.0",
                "127.255.255.255",
                "128.0.0.0",
                "255.255.255.254",
                "255.255.255.255",
            ],
            &[
                "::",
                "::1",
                "fd00:6::100",
                "fd00:6::1ff",
                "fd00:6::200",
                "fd00:6:0:1::",
                "ffff::",
                "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            ],
        ];
        for family in samples {
            for a in family {
                for b in family {
                    let (x, y): (IpAddr, IpAddr) = (a.parse().unwrap(), b.parse().unwrap());
                    assert_eq!(at_most(x, y), x <= y, "{a} <= {b}");
                }
            }
        }
    }

    #[test]
    fn the_expression_tests_once_per_level() {
        let cel = ip_at_most("p[0]", "p[1]");
        // 32 and 128 internal nodes, one leaf per prefix length below the
        // width (the "equal" leaves are plain `true`).
        assert_eq!(cel.matches(".containsIP(ipb)").count(), 32 + 128);
        assert_eq!(cel.matches(".masked()").count(), 32 + 128);
    }
}
