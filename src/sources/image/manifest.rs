//! Which images an archive holds, and their config and layers.
//!
//! Two layouts are read:
//! * `docker save`'s `manifest.json`: `[{"Config": ..., "RepoTags": [...], "Layers": [...]}]`,
//!   with paths relative to the archive root (`<id>/layer.tar` in the classic layout,
//!   `blobs/sha256/<hex>` when Docker writes an OCI layout alongside);
//! * an OCI image layout's `index.json`, whose manifests (or nested indexes, one per platform)
//!   name the config and layers by digest, stored at `blobs/<algorithm>/<hex>`;
//! * a registry's manifest for a reference, an image manifest or an index, from which the
//!   rest is walked exactly as in an OCI layout.

use serde::Deserialize;

use super::store::{blob_path, Store};

/// An image in an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageDesc {
    /// A tag (`app:1.2`), a reference name, or the manifest digest.
    pub name: String,
    /// `os/arch[/variant]`, when the index says.
    pub platform: Option<String>,
    /// The manifest's digest, when the archive has one (OCI layouts).
    pub manifest_digest: Option<String>,
    /// Path of the config blob in the archive.
    pub config: String,
    /// The layers, bottom first.
    pub layers: Vec<LayerRef>,
}

/// A layer of an image.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LayerRef {
    /// Path of the layer blob in the archive.
    pub path: String,
    /// Its digest (`sha256:...`), or for classic `docker save` layers its path.
    pub digest: String,
}

/// Nested indexes deeper than this are refused.
const MAX_INDEX_DEPTH: usize = 8;

#[derive(Deserialize)]
struct DockerManifestEntry {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags", default)]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers", default)]
    layers: Vec<String>,
}

#[derive(Deserialize)]
struct OciIndex {
    #[serde(default)]
    manifests: Vec<OciDescriptor>,
}

#[derive(Deserialize)]
struct OciManifest {
    config: OciDescriptor,
    #[serde(default)]
    layers: Vec<OciDescriptor>,
}

#[derive(Deserialize)]
struct OciDescriptor {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    digest: String,
    #[serde(default)]
    annotations: std::collections::HashMap<String, String>,
    platform: Option<OciPlatform>,
}

#[derive(Deserialize)]
struct OciPlatform {
    os: String,
    architecture: String,
    variant: Option<String>,
}

/// The images of the archive in `store`.
pub fn images(store: &Store) -> Result<Vec<ImageDesc>, String> {
    if let Store::Registry(registry) = store {
        let top = registry.top_manifest()?;
        let descriptor = OciDescriptor {
            media_type: top.media_type,
            digest: top.digest,
            annotations: Default::default(),
            platform: None,
        };
        let mut out = Vec::new();
        let name = registry.reference().to_string();
        oci_images(store, descriptor, Some(name), 0, &mut out)?;
        return Ok(out);
    }
    if store.contains("manifest.json") {
        return docker_images(store);
    }
    if store.contains("index.json") {
        let mut out = Vec::new();
        let index: OciIndex = json(store, "index.json")?;
        for descriptor in index.manifests {
            oci_images(store, descriptor, None, 0, &mut out)?;
        }
        return Ok(out);
    }
    Err("neither manifest.json (docker save) nor index.json (OCI image layout) found".into())
}

fn docker_images(store: &Store) -> Result<Vec<ImageDesc>, String> {
    let entries: Vec<DockerManifestEntry> = json(store, "manifest.json")?;
    Ok(entries
        .into_iter()
        .map(|entry| ImageDesc {
            name: entry
                .repo_tags
                .and_then(|tags| tags.into_iter().next())
                .unwrap_or_else(|| entry.config.clone()),
            platform: None,
            manifest_digest: None,
            config: entry.config,
            layers: entry
                .layers
                .into_iter()
                .map(|path| LayerRef {
                    digest: digest_of_path(&path),
                    path,
                })
                .collect(),
        })
        .collect())
}

fn oci_images(
    store: &Store,
    descriptor: OciDescriptor,
    inherited_name: Option<String>,
    depth: usize,
    out: &mut Vec<ImageDesc>,
) -> Result<(), String> {
    if depth > MAX_INDEX_DEPTH {
        return Err("image indexes nested too deeply".into());
    }
    // The outermost name wins: the reference the user pulled, or the layout's top-level tag.
    let name = inherited_name.or_else(|| {
        descriptor
            .annotations
            .get("org.opencontainers.image.ref.name")
            .or_else(|| descriptor.annotations.get("io.containerd.image.name"))
            .cloned()
    });
    let bytes = store
        .read_manifest(&descriptor.digest)
        .map_err(|e| format!("manifest {}: {e}", descriptor.digest))?;
    let parse_error = |e: serde_json::Error| format!("manifest {}: {e}", descriptor.digest);
    // The descriptor's media type says whether this is an index; when it is missing (a
    // registry that sends no Content-Type), the document's shape does.
    let is_index = if descriptor.media_type.is_empty() {
        serde_json::from_slice::<serde_json::Value>(&bytes)
            .map_err(parse_error)?
            .get("manifests")
            .is_some()
    } else {
        descriptor.media_type.contains("index") || descriptor.media_type.contains("manifest.list")
    };
    if is_index {
        let index: OciIndex = serde_json::from_slice(&bytes).map_err(parse_error)?;
        for child in index.manifests {
            oci_images(store, child, name.clone(), depth + 1, out)?;
        }
        return Ok(());
    }
    let manifest: OciManifest = serde_json::from_slice(&bytes).map_err(parse_error)?;
    // Attestation manifests (buildx provenance) describe the image; they are not one.
    if descriptor
        .annotations
        .get("vnd.docker.reference.type")
        .is_some_and(|t| t == "attestation-manifest")
    {
        return Ok(());
    }
    out.push(ImageDesc {
        name: name.unwrap_or_else(|| descriptor.digest.clone()),
        manifest_digest: Some(descriptor.digest.clone()),
        platform: descriptor.platform.map(|p| match p.variant {
            Some(variant) => format!("{}/{}/{variant}", p.os, p.architecture),
            None => format!("{}/{}", p.os, p.architecture),
        }),
        config: blob_path(&manifest.config.digest)?,
        layers: manifest
            .layers
            .into_iter()
            .map(|layer| {
                Ok(LayerRef {
                    path: blob_path(&layer.digest)?,
                    digest: layer.digest,
                })
            })
            .collect::<Result<_, String>>()?,
    });
    Ok(())
}

/// `blobs/sha256/abc` → `sha256:abc`; other paths stay as they are.
fn digest_of_path(path: &str) -> String {
    match path
        .strip_prefix("blobs/")
        .and_then(|rest| rest.split_once('/'))
    {
        Some((algorithm, hex)) => format!("{algorithm}:{hex}"),
        None => path.to_string(),
    }
}

fn json<T: serde::de::DeserializeOwned>(store: &Store, name: &str) -> Result<T, String> {
    let bytes = store.read(name).map_err(|e| format!("{name}: {e}"))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("{name}: {e}"))
}
