//! The on-disk cache of compiled databases: compiling hundreds of patterns takes seconds, loading
//! a compiled database takes milliseconds.
//!
//! One file per signature set, named by a key that hashes everything the compiled form depends
//! on: the signature sources, the libhs version and keysift's own version (which fixes how
//! patterns are translated and this file's layout). The file holds compiled patterns and the
//! engine's plan (which signature each pattern belongs to, which signatures fell back and why),
//! never scanned text or secrets.
//!
//! Layout (little-endian): magic, key, CRC-32 of the payload, payload. The payload is the plan
//! followed by the serialized database. A file that is truncated, corrupt, written for another
//! key, or refused by libhs is ignored and replaced; writes go to a temporary file that is
//! renamed into place, so readers never see half a file.

use std::{
    fs,
    hash::{DefaultHasher, Hash as _, Hasher as _},
    io::Write as _,
    path::{Path, PathBuf},
};

use super::{ffi, Fallback, Plan};
use crate::rules::{RuleSet, SignatureIndex};

const MAGIC: &[u8; 8] = b"KSHSDB\x00\x01";
const KEY_LEN: usize = 32;

/// The cache key of `rules` compiled with this libhs and this keysift: 128 bits of hex.
///
/// SipHash rather than the rule set's SHA-256 digest: hashing the megabyte of signature text
/// with SHA-256 was a third of a warm start-up. The key needs no cryptographic strength (the
/// files are the user's own), and std's hasher changing between Rust releases costs one
/// recompile, never a wrong database.
pub fn key(rules: &RuleSet) -> String {
    let hash_with = |salt: u64| {
        let mut hasher = DefaultHasher::new();
        salt.hash(&mut hasher);
        for (name, text) in rules.sources() {
            name.hash(&mut hasher);
            text.hash(&mut hasher);
        }
        ffi::version().hash(&mut hasher);
        env!("CARGO_PKG_VERSION").hash(&mut hasher);
        MAGIC.hash(&mut hasher);
        hasher.finish()
    };
    format!("{:016x}{:016x}", hash_with(1), hash_with(2))
}

pub(super) fn file_path(dir: &Path, key: &str) -> PathBuf {
    dir.join(format!("hyperscan-{key}.db"))
}

/// The cached plan and database for `key`, if a sound one is stored.
pub fn load(dir: &Path, key: &str, signature_count: usize) -> Option<(Plan, ffi::Database)> {
    let bytes = fs::read(file_path(dir, key)).ok()?;
    let rest = bytes.strip_prefix(MAGIC.as_slice())?;
    let (stored_key, rest) = rest.split_at_checked(KEY_LEN)?;
    if stored_key != key.as_bytes() {
        return None;
    }
    let (crc, payload) = rest.split_at_checked(4)?;
    if u32::from_le_bytes(crc.try_into().ok()?) != crc32fast::hash(payload) {
        return None;
    }
    let mut reader = Reader(payload);
    let plan = read_plan(&mut reader, signature_count)?;
    let database = ffi::Database::deserialize(reader.0).ok()?;
    Some((plan, database))
}

/// Stores `plan` and `database` under `key`. Best effort: a cache that cannot be written costs
/// the next run a compile, nothing more, so the error is returned for the caller to ignore.
pub fn store(dir: &Path, key: &str, plan: &Plan, database: &ffi::Database) -> Result<(), String> {
    let mut payload = Vec::new();
    write_plan(&mut payload, plan);
    payload.extend(database.serialize()?);
    let mut file_bytes = Vec::with_capacity(MAGIC.len() + KEY_LEN + 4 + payload.len());
    file_bytes.extend_from_slice(MAGIC);
    file_bytes.extend_from_slice(key.as_bytes());
    file_bytes.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    file_bytes.extend_from_slice(&payload);

    fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut temp = tempfile_in(dir)?;
    temp.1
        .write_all(&file_bytes)
        .and_then(|()| temp.1.sync_all())
        .map_err(|e| format!("{}: {e}", temp.0.display()))?;
    let target = file_path(dir, key);
    fs::rename(&temp.0, &target).map_err(|e| {
        let _ = fs::remove_file(&temp.0);
        format!("{}: {e}", target.display())
    })
}

/// A new file in `dir` with a name no other writer uses.
fn tempfile_in(dir: &Path) -> Result<(PathBuf, fs::File), String> {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let path = dir.join(format!(".hyperscan-{}-{stamp}.tmp", std::process::id()));
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map(|file| (path.clone(), file))
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn write_u32(out: &mut Vec<u8>, value: usize) {
    out.extend_from_slice(&(value as u32).to_le_bytes());
}

fn write_plan(out: &mut Vec<u8>, plan: &Plan) {
    write_u32(out, plan.compiled.len());
    for signature in &plan.compiled {
        write_u32(out, signature.get());
    }
    write_u32(out, plan.fallbacks.len());
    for fallback in &plan.fallbacks {
        write_u32(out, fallback.signature.get());
        write_u32(out, fallback.reason.len());
        out.extend_from_slice(fallback.reason.as_bytes());
    }
}

/// Reads the plan back, refusing signature numbers outside the current set.
fn read_plan(reader: &mut Reader<'_>, signature_count: usize) -> Option<Plan> {
    let signature = |reader: &mut Reader<'_>| {
        let index = reader.u32()?;
        (index < signature_count).then_some(SignatureIndex(index as u32))
    };
    let compiled_count = reader.u32()?;
    let compiled = (0..compiled_count)
        .map(|_| signature(reader))
        .collect::<Option<Vec<_>>>()?;
    let fallback_count = reader.u32()?;
    let fallbacks = (0..fallback_count)
        .map(|_| {
            let signature = signature(reader)?;
            let len = reader.u32()?;
            let reason = String::from_utf8(reader.bytes(len)?.to_vec()).ok()?;
            Some(Fallback { signature, reason })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Plan {
        compiled,
        fallbacks,
    })
}

/// A cursor over the payload that fails instead of reading past the end.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn bytes(&mut self, len: usize) -> Option<&'a [u8]> {
        let (taken, rest) = self.0.split_at_checked(len)?;
        self.0 = rest;
        Some(taken)
    }

    fn u32(&mut self) -> Option<usize> {
        let bytes = self.bytes(4)?;
        Some(u32::from_le_bytes(bytes.try_into().ok()?) as usize)
    }
}
