//! Building container images in tests: layers, configs and OCI layouts, as bytes.

use std::{fs, io::Write, path::Path};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// A layer: entries (path, contents); a path ending in `/` is a directory, contents `None` is a
/// whiteout marker written as given.
pub fn layer_tar(files: &[(&str, &str)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, contents) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(contents.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        builder
            .append_data(&mut header, path, contents.as_bytes())
            .unwrap();
    }
    builder.into_inner().unwrap()
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

pub fn zstd(bytes: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(bytes, ruzstd::encoding::CompressionLevel::Fastest)
}

pub fn sha256(bytes: &[u8]) -> String {
    let hex: String = Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

pub fn config(env: &[&str]) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "architecture": "amd64",
        "os": "linux",
        "config": { "Env": env, "Cmd": ["/app/run"] },
        "history": [{ "created_by": "COPY app /app" }],
    }))
    .unwrap()
}

/// An image for [`oci_layout`]: reference name, platform, config, and layers with media types.
pub type OciImage<'a> = (&'a str, &'a str, Vec<u8>, Vec<(Vec<u8>, &'a str)>);

/// An OCI image layout: `(name, bytes)` members with blobs under `blobs/sha256/`.
pub fn oci_layout(images: &[OciImage]) -> Vec<(String, Vec<u8>)> {
    let mut members = vec![(
        "oci-layout".to_string(),
        br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
    )];
    let blob = |bytes: Vec<u8>, members: &mut Vec<(String, Vec<u8>)>| {
        let digest = sha256(&bytes);
        let size = bytes.len();
        members.push((format!("blobs/sha256/{}", &digest[7..]), bytes));
        (digest, size)
    };
    let mut manifests = vec![];
    for (name, platform, config_json, layers) in images {
        let (config_digest, config_size) = blob(config_json.clone(), &mut members);
        let layer_descriptors: Vec<Value> = layers
            .iter()
            .map(|(bytes, media_type)| {
                let (digest, size) = blob(bytes.clone(), &mut members);
                json!({ "mediaType": media_type, "digest": digest, "size": size })
            })
            .collect();
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": { "mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_size },
            "layers": layer_descriptors,
        }))
        .unwrap();
        let (digest, size) = blob(manifest, &mut members);
        let (os, arch) = platform.split_once('/').unwrap();
        manifests.push(json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": digest, "size": size,
            "annotations": { "org.opencontainers.image.ref.name": name },
            "platform": { "os": os, "architecture": arch },
        }));
    }
    let index = json!({ "schemaVersion": 2, "manifests": manifests });
    members.push(("index.json".into(), serde_json::to_vec(&index).unwrap()));
    members
}

/// An archive file: a tar of `(name, bytes)` members.
pub fn archive(path: &Path, members: &[(String, Vec<u8>)]) {
    let mut builder = tar::Builder::new(fs::File::create(path).unwrap());
    for (name, bytes) in members {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, name, bytes.as_slice())
            .unwrap();
    }
    builder.finish().unwrap();
}

/// A classic `docker save` tarball of one image.
pub fn docker_save(path: &Path, tag: &str, config_json: Vec<u8>, layers: Vec<Vec<u8>>) {
    let mut members = vec![];
    let mut layer_paths = vec![];
    for (i, layer) in layers.into_iter().enumerate() {
        let name = format!("{i:064x}/layer.tar");
        layer_paths.push(name.clone());
        members.push((name, layer));
    }
    let config_name = format!("{}.json", &sha256(&config_json)[7..]);
    members.push((config_name.clone(), config_json));
    let manifest = json!([{ "Config": config_name, "RepoTags": [tag], "Layers": layer_paths }]);
    members.push((
        "manifest.json".into(),
        serde_json::to_vec(&manifest).unwrap(),
    ));
    archive(path, &members);
}
