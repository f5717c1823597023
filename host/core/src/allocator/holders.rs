//! The addresses an index entry points at: nearly always one (an
//! attachment's or an identity's address), two for dual stack, more only
//! on a hash collision. Inline when one, boxed when several, so the entry
//! is 24 bytes and a held address costs no heap block of its own.

use std::net::IpAddr;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Holders {
    One(IpAddr),
    Many(Box<[IpAddr]>),
}

impl Holders {
    pub(super) fn as_slice(&self) -> &[IpAddr] {
        match self {
            Holders::One(a) => std::slice::from_ref(a),
            Holders::Many(v) => v,
        }
    }

    pub(super) fn push(&mut self, address: IpAddr) {
        let mut all = self.as_slice().to_vec();
        all.push(address);
        *self = Holders::Many(all.into_boxed_slice());
    }

    /// Drops `address`; `false` once nothing is left (remove the entry).
    pub(super) fn remove(&mut self, address: IpAddr) -> bool {
        let rest: Vec<IpAddr> = self
            .as_slice()
            .iter()
            .copied()
            .filter(|a| *a != address)
            .collect();
        match rest.as_slice() {
            [] => return false,
            [one] => *self = Holders::One(*one),
            _ => *self = Holders::Many(rest.into_boxed_slice()),
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_many_and_back() {
        let a: IpAddr = "10.0.0.1".parse().expect("address");
        let b: IpAddr = "fd00::1".parse().expect("address");
        let mut h = Holders::One(a);
        h.push(b);
        assert_eq!(h.as_slice(), [a, b]);
        assert!(h.remove(a));
        assert_eq!(h, Holders::One(b));
        assert!(!h.remove(b));
        assert!(std::mem::size_of::<Holders>() <= 24);
    }
}
