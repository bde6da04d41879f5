//! Small network facts shared by the parts that talk to servers (registries, verification).

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

/// Resolves `host:port` to an address that is safe to connect to with a secret taken from a
/// scanned file: public addresses only, unless `allow_private`. Every resolved address must
/// pass, so a name that also points inside the network is refused; the caller connects to the
/// returned (checked) address, never resolving again.
pub fn resolve_public(host: &str, port: u16, allow_private: bool) -> Result<SocketAddr, String> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addresses: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .collect();
    let first = *addresses
        .first()
        .ok_or_else(|| format!("{host} has no address"))?;
    if !allow_private {
        if let Some(private) = addresses.iter().find(|a| !is_public(a.ip())) {
            return Err(format!(
                "{host} resolves to {}, a private, loopback or link-local address: refused \
                 (--verify-allow-private allows it)",
                private.ip()
            ));
        }
    }
    Ok(first)
}

/// Whether `ip` is on the public internet (not private, loopback, link-local, shared,
/// documentation, multicast or unspecified).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters, for URL paths and query
/// values.
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Whether `host[:port]` names this machine.
pub fn is_loopback_authority(authority: &str) -> bool {
    let host = host_without_port(authority);
    host == "localhost"
        || host == "[::1]"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `localhost:5000` → `localhost`, `[::1]:5000` → `[::1]`.
fn host_without_port(registry: &str) -> &str {
    if registry.starts_with('[') {
        return registry
            .split_once(']')
            .map_or(registry, |(h, _)| &registry[..h.len() + 1]);
    }
    registry.split(':').next().unwrap_or(registry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_addresses_are_not_public() {
        for private in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["8.8.8.8", "2606:4700::1111", "1.1.1.1"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn loopback_is_refused_unless_allowed() {
        assert!(resolve_public("127.0.0.1", 5432, false).is_err());
        assert!(resolve_public("localhost", 5432, false).is_err());
        assert_eq!(
            resolve_public("127.0.0.1", 5432, true).unwrap(),
            "127.0.0.1:5432".parse().unwrap()
        );
    }

    #[test]
    fn loopback_authorities() {
        assert!(is_loopback_authority("localhost:5000"));
        assert!(is_loopback_authority("[::1]:5000"));
        assert!(is_loopback_authority("127.0.0.1"));
        assert!(!is_loopback_authority("registry.example.com:5000"));
    }
}
