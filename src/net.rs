//! Small network facts shared by the parts that talk to servers (registries, verification).

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
