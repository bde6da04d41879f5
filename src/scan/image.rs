//! Scanning container images: every layer of every image in the given archives, each distinct
//! layer (by digest) read once however many images share it, plus each image's config.
//!
//! Layers are streamed in parallel, one per worker thread; a layer's files are scanned as they
//! come out of the decompressor. Once every layer is read, each finding in a file learns from
//! the later layers' listings whether the file is still visible in the final image, or was
//! deleted or replaced by a later layer while still being shipped in its own.

use std::{
    collections::{BTreeMap, HashMap},
    path::PathBuf,
    sync::{Arc, Mutex},
    time::Instant,
};

use rayon::prelude::*;

use super::{per_thread::PerThread, Event, RunOptions, Scanner, Summary};
use crate::{
    findings::{BlobFinding, Finding},
    sources::{
        archive::{self, is_archive, MemberVisitor},
        image::{
            layer::{read_layer, visibility, LayerLimits, LayerListing},
            manifest::{images, ImageDesc, LayerRef},
            registry::{Reference, Registry, RegistryOptions},
            store::{Hashing, Store},
            ImageOrigin, LayerPosition,
        },
        looks_binary, text_in_memory, ArchiveLimits, ArchivedOrigin, BlobId, Origin, SourceError,
        SourceErrorKind,
    },
};

/// An image to scan.
#[derive(Debug, Clone)]
pub enum ImageInput {
    /// An archive file (`docker save`, an OCI layout tar) or an OCI layout directory.
    Archive(PathBuf),
    /// An image on a registry.
    Registry(Reference),
}

impl ImageInput {
    /// How the input is named in messages.
    pub fn name(&self) -> String {
        match self {
            ImageInput::Archive(path) => path.display().to_string(),
            ImageInput::Registry(reference) => reference.to_string(),
        }
    }
}

/// Settings of an image scan.
#[derive(Debug, Clone)]
pub struct ImageScanOptions {
    /// Only images of this platform (`os/arch[/variant]`), when the archive says.
    pub platform: Option<String>,
    /// How to reach registries.
    pub registry: RegistryOptions,
    /// Limits on files and layers.
    pub limits: LayerLimits,
    /// How archives in layers (a jar, a tarball) are opened; `None`: they are binary.
    pub archives: Option<ArchiveLimits>,
    /// Threads.
    pub run: RunOptions,
}

/// One archive's images, opened.
struct Archive {
    input: String,
    store: Store,
    images: Vec<ImageDesc>,
}

/// What a layer yielded.
#[derive(Default)]
struct LayerResult {
    listing: LayerListing,
    /// Findings by file path and, for a member of an archive, its member names.
    findings: BTreeMap<(String, Vec<String>), Vec<Arc<BlobFinding>>>,
}

#[derive(Default)]
struct Counts {
    blobs: u64,
    bytes: u64,
    binary: u64,
    duplicates: u64,
    archives: u64,
    members: u64,
}

/// Results by content, so a file repeated across layers and images is scanned once (two
/// threads meeting the same new content at the same moment may both scan it: harmless).
type SeenContent = Mutex<HashMap<BlobId, Arc<Vec<Arc<BlobFinding>>>>>;

/// Scans the images in `inputs` (archive files, OCI layout directories, registry references),
/// calling `on_event` with findings and errors.
pub fn scan_images(
    inputs: &[ImageInput],
    scanner: &Scanner,
    options: &ImageScanOptions,
    mut on_event: impl FnMut(&Event) -> bool,
) -> (Summary, Vec<String>) {
    let started = Instant::now();
    let mut summary = Summary::default();
    let mut notes = Vec::new();
    let mut report_error = |error: SourceError, summary: &mut Summary| {
        summary.errors += 1;
        on_event(&Event::Error(error))
    };

    // 1. Open every archive and list its images.
    let mut archives = Vec::new();
    for input in inputs {
        let name = input.name();
        match open_archive(input, options, &mut notes) {
            Ok(archive) if archive.images.is_empty() => {
                notes.push(format!("{name}: no image matches the platform"));
            }
            Ok(archive) => archives.push(archive),
            Err(message) => {
                report_error(
                    SourceError::new(name, SourceErrorKind::Unreadable, message),
                    &mut summary,
                );
            }
        }
    }

    // 2. Read each distinct layer once, in parallel.
    let mut unique: Vec<(usize, LayerRef)> = Vec::new();
    let mut seen = HashMap::new();
    for (a, archive) in archives.iter().enumerate() {
        for image in &archive.images {
            for layer in &image.layers {
                if seen.insert(layer.digest.clone(), ()).is_none() {
                    unique.push((a, layer.clone()));
                }
            }
        }
    }
    let counts = Mutex::new(Counts::default());
    let errors = Mutex::new(Vec::new());
    let seen_content = SeenContent::default();
    let read_all = || -> Vec<(String, LayerResult)> {
        let scratches = PerThread::new(rayon::current_num_threads());
        unique
            .par_iter()
            .map(|(a, layer)| {
                scratches.with(
                    || scanner.new_scratch(),
                    |scratch| {
                        let archive = &archives[*a];
                        let shared = Shared {
                            scanner,
                            options,
                            counts: &counts,
                            errors: &errors,
                            seen: &seen_content,
                        };
                        let result = scan_layer(archive, layer, &shared, scratch);
                        (layer.digest.clone(), result)
                    },
                )
            })
            .collect()
    };
    let results: HashMap<String, LayerResult> = match rayon::ThreadPoolBuilder::new()
        .num_threads(options.run.threads)
        .build()
    {
        Ok(pool) => pool.install(read_all),
        Err(_) => read_all(),
    }
    .into_iter()
    .collect();
    for error in errors.into_inner().unwrap_or_default() {
        report_error(error, &mut summary);
    }

    // 3. Configs, then placing every finding in every image that has its layer.
    let mut findings = Vec::new();
    for archive in &archives {
        for image in &archive.images {
            let created_by = match scan_config(archive, image, scanner) {
                Ok((found, created_by)) => {
                    findings.extend(found);
                    created_by
                }
                Err(error) => {
                    report_error(error, &mut summary);
                    Vec::new()
                }
            };
            let listings: Vec<&LayerListing> = image
                .layers
                .iter()
                .map(|l| {
                    results
                        .get(&l.digest)
                        .map_or(&EMPTY_LISTING, |r| &r.listing)
                })
                .collect();
            for (index, layer) in image.layers.iter().enumerate() {
                let Some(result) = results.get(&layer.digest) else {
                    continue;
                };
                for ((path, members), found) in &result.findings {
                    let file = Origin::Image(Box::new(ImageOrigin {
                        image: image.name.clone(),
                        platform: image.platform.clone(),
                        manifest_digest: image.manifest_digest.clone(),
                        layer: Some(LayerPosition {
                            index,
                            digest: layer.digest.clone(),
                            created_by: created_by.get(index).cloned().flatten(),
                        }),
                        path: path.clone(),
                        visibility: Some(visibility(&listings, index, path)),
                    }));
                    let origin = Arc::new(if members.is_empty() {
                        file
                    } else {
                        Origin::Archived(Box::new(ArchivedOrigin {
                            container: file,
                            members: members.clone(),
                        }))
                    });
                    findings.extend(
                        found
                            .iter()
                            .map(|f| Finding::new(f.clone(), origin.clone())),
                    );
                }
            }
        }
    }

    summary.findings = findings.len() as u64;
    let mut stopped = false;
    for finding in findings {
        if stopped {
            break;
        }
        stopped = !on_event(&Event::Findings(vec![finding]));
    }
    let counts = counts.into_inner().unwrap_or_default();
    summary.blobs_scanned = counts.blobs;
    summary.bytes_scanned = counts.bytes;
    summary.binary_skipped = counts.binary;
    summary.duplicates = counts.duplicates;
    summary.archives_opened = counts.archives;
    summary.archive_members = counts.members;
    summary.elapsed = started.elapsed();
    (summary, notes)
}

static EMPTY_LISTING: LayerListing = LayerListing {
    files: Vec::new(),
    whiteouts: Vec::new(),
    opaque_dirs: Vec::new(),
};

fn open_archive(
    input: &ImageInput,
    options: &ImageScanOptions,
    notes: &mut Vec<String>,
) -> Result<Archive, String> {
    let store = match input {
        ImageInput::Archive(path) => {
            Store::open(path).map_err(|e| format!("cannot read the archive: {e}"))?
        }
        ImageInput::Registry(reference) => {
            let registry = Registry::connect(reference.clone(), &options.registry)?;
            notes.extend(registry.warnings.iter().cloned());
            Store::Registry(Box::new(registry))
        }
    };
    let mut found = images(&store)?;
    if let Some(platform) = &options.platform {
        found.retain(|image| {
            image
                .platform
                .as_ref()
                .is_none_or(|p| p == platform || p.starts_with(&format!("{platform}/")))
        });
    }
    Ok(Archive {
        input: input.name(),
        store,
        images: found,
    })
}

/// What every layer-reading thread shares.
struct Shared<'a> {
    scanner: &'a Scanner,
    options: &'a ImageScanOptions,
    counts: &'a Mutex<Counts>,
    errors: &'a Mutex<Vec<SourceError>>,
    seen: &'a SeenContent,
}

fn scan_layer(
    archive: &Archive,
    layer: &LayerRef,
    shared: &Shared<'_>,
    scratch: &mut super::ScanScratch,
) -> LayerResult {
    let Shared {
        options,
        counts,
        errors,
        ..
    } = *shared;
    let input_name = |path: Option<&str>| match path {
        Some(path) => format!("{} layer {}: /{path}", archive.input, layer.digest),
        None => format!("{} layer {}", archive.input, layer.digest),
    };
    let push_error = |error: SourceError| {
        if let Ok(mut errors) = errors.lock() {
            errors.push(error);
        }
    };
    let stream = match archive.store.open_file(&layer.path) {
        Ok(stream) => stream,
        Err(e) => {
            push_error(SourceError::new(
                input_name(None),
                SourceErrorKind::Unreadable,
                e.to_string(),
            ));
            return LayerResult::default();
        }
    };
    // Content-addressed layers are checked against their digest as they stream by.
    let (stream, digest): (Box<dyn std::io::Read + Send>, _) =
        if layer.digest.starts_with("sha256:") {
            let (hashing, handle) = Hashing::new(stream);
            (Box::new(hashing), Some(handle))
        } else {
            (stream, None)
        };
    let mut files = LayerFiles {
        shared,
        scratch,
        input_name: &input_name,
        result: LayerResult::default(),
        counts: Counts::default(),
    };
    // Binary files are passed over after their first bytes, unless they are archives to open.
    let wanted = |path: &str, start: &[u8]| {
        let name = path.rsplit('/').next().unwrap_or(path);
        !looks_binary(start) || (options.archives.is_some() && is_archive(start, name))
    };
    let (listing, skipped, failure) = read_layer(stream, options.limits, wanted, |path, buf| {
        let name = path.rsplit('/').next().unwrap_or(path);
        match options.archives {
            Some(limits) if is_archive(buf, name) => {
                let mut members = LayerMembers {
                    files: &mut files,
                    path,
                };
                let stats = archive::expand(buf, name, &limits, &mut members);
                files.counts.archives += stats.archives;
                files.counts.members += stats.members;
                files.counts.binary += stats.binary;
            }
            _ if text_in_memory(buf) => files.scan((path.to_string(), Vec::new()), buf),
            _ => files.counts.binary += 1,
        }
    });
    let LayerFiles {
        mut result,
        counts: local,
        ..
    } = files;
    for skip in skipped {
        push_error(SourceError::new(
            input_name(Some(&skip.path)),
            SourceErrorKind::TooLarge,
            skip.reason,
        ));
    }
    if let (Some(handle), None) = (&digest, &failure) {
        let actual = handle.digest();
        if actual != layer.digest {
            push_error(SourceError::new(
                input_name(None),
                SourceErrorKind::Unreadable,
                format!("digest mismatch: the blob's content hashes to {actual}; its findings may not be what the image ships"),
            ));
        }
    }
    if let Some(message) = failure {
        push_error(SourceError::new(
            input_name(None),
            SourceErrorKind::Unreadable,
            format!("damaged layer, files after the damage were not scanned: {message}"),
        ));
    }
    if let Ok(mut counts) = counts.lock() {
        counts.blobs += local.blobs;
        counts.bytes += local.bytes;
        counts.binary += local.binary;
        counts.duplicates += local.duplicates;
        counts.archives += local.archives;
        counts.members += local.members;
    }
    result.listing = listing;
    result
}

/// Scans one layer's text files (and archive members), each distinct content once across
/// every layer.
struct LayerFiles<'a, 's> {
    shared: &'a Shared<'s>,
    scratch: &'a mut super::ScanScratch,
    /// Names a file of the layer in errors (`archive layer sha256:...: /path`).
    input_name: &'a dyn Fn(Option<&str>) -> String,
    result: LayerResult,
    counts: Counts,
}

impl LayerFiles<'_, '_> {
    /// Scans `bytes`, found at `key` (a path, and member names inside an archive there).
    fn scan(&mut self, key: (String, Vec<String>), bytes: &[u8]) {
        let id = BlobId::of_content(bytes);
        let seen = self.shared.seen;
        let known = seen.lock().ok().and_then(|seen| seen.get(&id).cloned());
        let found = match known {
            Some(found) => {
                self.counts.duplicates += 1;
                found
            }
            None => {
                self.counts.blobs += 1;
                self.counts.bytes += bytes.len() as u64;
                if let Some(progress) = self.shared.options.run.progress {
                    progress.scanned(bytes.len());
                }
                match self.shared.scanner.scan(bytes, self.scratch) {
                    Ok(found) => {
                        let found = Arc::new(found.into_iter().map(Arc::new).collect());
                        if let Ok(mut seen) = seen.lock() {
                            seen.insert(id, Arc::clone(&found));
                        }
                        found
                    }
                    Err(e) => {
                        let input = self.describe(&key.0, &key.1);
                        self.push_error(SourceError::new(
                            input,
                            SourceErrorKind::Engine,
                            e.to_string(),
                        ));
                        return;
                    }
                }
            }
        };
        if !found.is_empty() {
            self.result.findings.insert(key, found.to_vec());
        }
    }

    /// `archive layer sha256:...: /app/a.jar!/BOOT-INF/x.properties`
    fn describe(&self, path: &str, members: &[String]) -> String {
        let chain: String = members.iter().map(|m| format!("!/{m}")).collect();
        format!("{}{chain}", (self.input_name)(Some(path)))
    }

    fn push_error(&self, error: SourceError) {
        if let Ok(mut errors) = self.shared.errors.lock() {
            errors.push(error);
        }
    }
}

/// The members of an archive at `path` in a layer.
struct LayerMembers<'f, 'a, 's> {
    files: &'f mut LayerFiles<'a, 's>,
    path: &'f str,
}

impl MemberVisitor for LayerMembers<'_, '_, '_> {
    fn text(&mut self, members: &[String], bytes: &[u8]) {
        self.files
            .scan((self.path.to_string(), members.to_vec()), bytes);
    }

    fn skipped(&mut self, members: &[String], kind: SourceErrorKind, message: String) {
        let input = self.files.describe(self.path, members);
        self.files
            .push_error(SourceError::new(input, kind, message));
    }
}

/// Scans the parts of an image config that can hold secrets, one per line: environment
/// variables, labels, the command, and the build history's commands. Also returns, per layer,
/// the build step that created it: history entries that are not `empty_layer` map to layers in
/// order.
fn scan_config(
    archive: &Archive,
    image: &ImageDesc,
    scanner: &Scanner,
) -> Result<(Vec<Finding>, Vec<Option<String>>), SourceError> {
    let error = |message: String| {
        SourceError::new(
            format!("{} config {}", archive.input, image.config),
            SourceErrorKind::Unreadable,
            message,
        )
    };
    let bytes = archive
        .store
        .read(&image.config)
        .map_err(|e| error(e.to_string()))?;
    let config: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| error(e.to_string()))?;
    let mut lines: Vec<(String, String)> = Vec::new();
    let section = &config["config"];
    for (i, env) in section["Env"].as_array().into_iter().flatten().enumerate() {
        if let Some(env) = env.as_str() {
            lines.push((format!("config.Env[{i}]"), env.to_string()));
        }
    }
    for (key, value) in section["Labels"].as_object().into_iter().flatten() {
        let value = value.as_str().unwrap_or_default();
        lines.push((format!("config.Labels[{key:?}]"), format!("{key}={value}")));
    }
    for field in ["Cmd", "Entrypoint"] {
        let words: Vec<&str> = section[field]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|w| w.as_str())
            .collect();
        if !words.is_empty() {
            lines.push((format!("config.{field}"), words.join(" ")));
        }
    }
    let mut created_by = Vec::new();
    let history = config["history"].as_array().into_iter().flatten();
    for (i, step) in history.enumerate() {
        let command = step["created_by"].as_str();
        if let Some(command) = command {
            lines.push((format!("history[{i}].created_by"), command.to_string()));
        }
        if !step["empty_layer"].as_bool().unwrap_or(false) {
            created_by.push(command.map(str::to_string));
        }
    }
    // One line per field, so a finding's line names its field.
    let text: String = lines
        .iter()
        .map(|(_, l)| format!("{}\n", l.replace('\n', " ")))
        .collect();
    let found = scanner.scan_bytes(text.as_bytes());
    let findings = found
        .into_iter()
        .map(|f| {
            let field = lines
                .get(f.line.saturating_sub(1))
                .map_or("config", |(field, _)| field.as_str());
            let origin = Origin::Image(Box::new(ImageOrigin {
                image: image.name.clone(),
                platform: image.platform.clone(),
                manifest_digest: image.manifest_digest.clone(),
                layer: None,
                path: field.to_string(),
                visibility: None,
            }));
            let mut f = f;
            f.line = 1;
            Finding::new(Arc::new(f), Arc::new(origin))
        })
        .collect();
    Ok((findings, created_by))
}
