//! Order-preserving byte encodings for index terms: `path \0 value`, where the
//! value bytes sort like the values they encode, so ranges become term ranges.

use std::net::{IpAddr, Ipv6Addr};

/// `path`, a NUL, then `value`.
pub fn path_term(path: &str, value: &[u8]) -> Vec<u8> {
    let mut t = Vec::with_capacity(path.len() + 1 + value.len());
    t.extend_from_slice(path.as_bytes());
    t.push(0);
    t.extend_from_slice(value);
    t
}

/// An f64 as 8 bytes that sort in numeric order (NaN is not encoded).
pub fn f64_key(v: f64) -> [u8; 8] {
    let bits = v.to_bits();
    let key = if bits >> 63 == 1 { !bits } else { bits | (1 << 63) };
    key.to_be_bytes()
}

/// The f64 of an [`f64_key`].
pub fn f64_from_key(key: [u8; 8]) -> f64 {
    let k = u64::from_be_bytes(key);
    let bits = if k >> 63 == 1 { k & !(1 << 63) } else { !k };
    f64::from_bits(bits)
}

/// An IP address as 16 bytes (IPv4 mapped into IPv6) in address order.
pub fn ip_key(ip: IpAddr) -> [u8; 16] {
    let v6: Ipv6Addr = match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    };
    v6.octets()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f64_keys_sort_numerically() {
        let vals = [-1e300, -5.5, -0.0, 0.0, 1e-9, 3.0, 404.0, 1e300];
        let keys: Vec<_> = vals.iter().map(|v| f64_key(*v)).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
    }

    #[test]
    fn f64_keys_round_trip() {
        for v in [-1e300, -5.5, 0.0, 3.25, 1e300] {
            assert_eq!(f64_from_key(f64_key(v)), v);
        }
    }

    #[test]
    fn ip_keys_sort_by_address() {
        let a = ip_key("10.0.0.1".parse().unwrap());
        let b = ip_key("10.0.0.2".parse().unwrap());
        let c = ip_key("192.168.0.1".parse().unwrap());
        assert!(a < b && b < c);
    }
}
