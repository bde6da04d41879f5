//! Image references as people write them (`alpine:3.20`, `ghcr.io/org/app@sha256:...`,
//! `localhost:5000/team/app`), normalised the way the Docker CLI does: a first component with
//! a dot or a port, or `localhost`, names the registry; anything else lives on Docker Hub,
//! where one-word names are official images under `library/`.

use std::fmt;

/// Docker Hub's name in references, and the host its API is actually served from.
const DOCKER_HUB: &str = "docker.io";
const DOCKER_HUB_API: &str = "registry-1.docker.io";

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The registry as written (`docker.io`, `localhost:5000`).
    pub registry: String,
    /// The repository (`library/alpine`, `team/app`).
    pub repository: String,
    /// The tag, when given (or `latest` when neither tag nor digest is).
    pub tag: Option<String>,
    /// The manifest digest, when given (`sha256:...`).
    pub digest: Option<String>,
}

impl Reference {
    /// Parses `input`, with or without a `docker://` prefix.
    pub fn parse(input: &str) -> Result<Reference, String> {
        let bad = |why: &str| format!("{input:?} is not an image reference: {why}");
        let rest = input.strip_prefix("docker://").unwrap_or(input);
        let (name, digest) = match rest.split_once('@') {
            Some((name, digest)) => (name, Some(parse_digest(digest).map_err(|e| bad(&e))?)),
            None => (rest, None),
        };
        // A tag follows the last ':' when that colon is after the last '/' (else it is a port).
        let last_slash = name.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match name[last_slash..].rfind(':') {
            Some(i) => {
                let tag = &name[last_slash + i + 1..];
                if !valid_tag(tag) {
                    return Err(bad("invalid tag"));
                }
                (&name[..last_slash + i], Some(tag.to_string()))
            }
            None => (name, None),
        };
        let (registry, repository) = match name.split_once('/') {
            Some((first, path))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_string(), path.to_string())
            }
            _ => (DOCKER_HUB.to_string(), name.to_string()),
        };
        let repository = if registry == DOCKER_HUB && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository
        };
        if !valid_repository(&repository) {
            return Err(bad(
                "the repository must be lowercase letters, digits and . _ - / separators",
            ));
        }
        if !valid_registry(&registry) {
            return Err(bad("invalid registry host"));
        }
        let tag = match (&tag, &digest) {
            (None, None) => Some("latest".to_string()),
            _ => tag,
        };
        Ok(Reference {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// The host (and port) the registry's API is served from.
    pub fn api_host(&self) -> &str {
        if self.registry == DOCKER_HUB || self.registry == "index.docker.io" {
            DOCKER_HUB_API
        } else {
            &self.registry
        }
    }

    /// Whether the registry is on this machine, where plain HTTP is acceptable.
    pub fn is_loopback(&self) -> bool {
        crate::net::is_loopback_authority(&self.registry)
    }

    /// What to ask the manifests endpoint for: the digest when pinned, else the tag.
    pub fn manifest_reference(&self) -> &str {
        self.digest
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or("latest")
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// `sha256:<64 hex>` (or another algorithm with a hex value); the digest is used in URLs and
/// compared with computed hashes, so anything else is refused.
pub fn parse_digest(digest: &str) -> Result<String, String> {
    let (algorithm, hex) = digest
        .split_once(':')
        .ok_or_else(|| format!("malformed digest {digest:?}"))?;
    let algorithm_ok = !algorithm.is_empty()
        && algorithm
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'+' || b == b'.');
    let hex_ok = hex.len() >= 32 && hex.bytes().all(|b| b.is_ascii_hexdigit());
    if !algorithm_ok || !hex_ok || (algorithm == "sha256" && hex.len() != 64) {
        return Err(format!("malformed digest {digest:?}"));
    }
    Ok(digest.to_ascii_lowercase())
}

fn valid_tag(tag: &str) -> bool {
    (1..=128).contains(&tag.len())
        && tag
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Lowercase path components of `[a-z0-9]` joined by `.`, `_`, `__` or `-` runs, separated by
/// `/`: the distribution spec's grammar, checked loosely but never allowing `..` or empty parts,
/// since the name becomes part of a URL path.
fn valid_repository(repository: &str) -> bool {
    !repository.is_empty()
        && repository.len() <= 255
        && repository.split('/').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .next()
                    .is_some_and(|b| b.is_ascii_alphanumeric())
                && part
                    .bytes()
                    .last()
                    .is_some_and(|b| b.is_ascii_alphanumeric())
                && part.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
                })
                && !part.contains("..")
        })
}

fn valid_registry(registry: &str) -> bool {
    !registry.is_empty()
        && registry
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(input: &str) -> (String, String, Option<String>, Option<String>) {
        let r = Reference::parse(input).unwrap();
        (r.registry, r.repository, r.tag, r.digest)
    }

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn docker_hub_names_are_normalised() {
        assert_eq!(
            parts("alpine"),
            (
                "docker.io".into(),
                "library/alpine".into(),
                Some("latest".into()),
                None
            )
        );
        assert_eq!(
            parts("bitnami/redis:7.2"),
            (
                "docker.io".into(),
                "bitnami/redis".into(),
                Some("7.2".into()),
                None
            )
        );
        assert_eq!(
            Reference::parse("alpine").unwrap().api_host(),
            "registry-1.docker.io"
        );
    }

    #[test]
    fn registries_are_recognised_by_dot_port_or_localhost() {
        assert_eq!(parts("ghcr.io/org/app:1").0, "ghcr.io");
        assert_eq!(parts("localhost/app").0, "localhost");
        let (registry, repository, tag, _) = parts("127.0.0.1:5000/team/app:1.2");
        assert_eq!(
            (registry.as_str(), repository.as_str()),
            ("127.0.0.1:5000", "team/app")
        );
        assert_eq!(tag.as_deref(), Some("1.2"));
        assert!(Reference::parse("127.0.0.1:5000/app")
            .unwrap()
            .is_loopback());
        assert!(Reference::parse("localhost:5000/app")
            .unwrap()
            .is_loopback());
        assert!(!Reference::parse("ghcr.io/app").unwrap().is_loopback());
    }

    #[test]
    fn a_port_is_not_a_tag() {
        let (registry, repository, tag, _) = parts("localhost:5000/app");
        assert_eq!(registry, "localhost:5000");
        assert_eq!(repository, "app");
        assert_eq!(tag.as_deref(), Some("latest"));
    }

    #[test]
    fn digests_pin_the_manifest() {
        let r = Reference::parse(&format!("localhost:5000/app@{DIGEST}")).unwrap();
        assert_eq!(r.digest.as_deref(), Some(DIGEST));
        assert_eq!(r.tag, None);
        assert_eq!(r.manifest_reference(), DIGEST);
        let r = Reference::parse(&format!("docker://app:1@{DIGEST}")).unwrap();
        assert_eq!(r.tag.as_deref(), Some("1"));
        assert_eq!(r.to_string(), format!("docker.io/library/app:1@{DIGEST}"));
    }

    #[test]
    fn malformed_references_are_refused() {
        for bad in [
            "Upper/Case",
            "app@sha256:short",
            "app@sha256:../../etc",
            "host.io/../escape",
            "app:bad tag",
            "app:",
            "host.io//double",
            "",
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad}");
        }
    }
}
