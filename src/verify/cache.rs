//! The on-disk verdict cache (`--verify-cache`): live and invalid verdicts kept for a while, so
//! that scanning the same repository again asks the providers nothing new.
//!
//! The file never holds a secret, nor any part of a multi-part credential: an entry's name is
//! an HMAC-SHA256, under a random key kept in the file, of the signature id and every value the
//! check used. The key makes the names useless outside this one file (no precomputed tables,
//! no matching two users' caches); it does not make a weak password safe from someone holding
//! the file and guessing, so the file is written readable by its owner only. Identities shown
//! for live credentials are kept too, with any part of the credential scrubbed out.
//!
//! Unknown verdicts are not cached: they say nothing about the credential, only about the
//! network at the time.

use std::{
    collections::BTreeMap,
    io::Write as _,
    path::{Path, PathBuf},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use serde::{Deserialize, Serialize};

use crate::hex::hex;

use super::{aws::hmac, Verdict, Verification};

/// Where the cache lives and how long its verdicts hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheSettings {
    /// The cache file.
    pub path: PathBuf,
    /// Verdicts older than this are asked again.
    pub ttl: Duration,
}

impl CacheSettings {
    /// The default file: `$XDG_CACHE_HOME/keysift/verify-cache.json`, else
    /// `$HOME/.cache/keysift/verify-cache.json`.
    pub fn default_path() -> Option<PathBuf> {
        let base = std::env::var_os("XDG_CACHE_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME")
                    .filter(|v| !v.is_empty())
                    .map(|home| Path::new(&home).join(".cache"))
            })?;
        Some(base.join("keysift").join("verify-cache.json"))
    }
}

/// The file's layout.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CacheFile {
    /// Format version, for the day it changes.
    version: u32,
    /// The HMAC key naming the entries, hex.
    key: String,
    /// Entry name → verdict.
    entries: BTreeMap<String, Entry>,
}

const VERSION: u32 = 1;

/// One remembered verdict.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    status: Verdict,
    #[serde(skip_serializing_if = "Option::is_none")]
    identity: Option<String>,
    /// When it was asked, Unix seconds.
    checked_at: u64,
}

/// The cache, loaded.
pub struct VerdictCache {
    settings: CacheSettings,
    key: Vec<u8>,
    entries: BTreeMap<String, Entry>,
    now: u64,
}

impl VerdictCache {
    /// Loads the cache at `settings.path`, or starts an empty one when there is no file yet.
    /// A file that is not a cache is an error naming it (it is never overwritten).
    pub fn open(settings: CacheSettings) -> Result<VerdictCache, String> {
        let now = unix_now();
        let shown = settings.path.display().to_string();
        let (key, entries) = match std::fs::read(&settings.path) {
            Ok(bytes) => {
                let file: CacheFile = serde_json::from_slice(&bytes).map_err(|e| {
                    format!("{shown}: not a keysift verification cache ({e}); remove it or choose another file")
                })?;
                if file.version != VERSION {
                    return Err(format!(
                        "{shown}: cache format {} is not {VERSION}",
                        file.version
                    ));
                }
                let key = decode_hex(&file.key)
                    .filter(|k| k.len() == 32)
                    .ok_or_else(|| format!("{shown}: the cache's key is malformed"))?;
                (key, file.entries)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = super::scram::random_bytes().to_vec();
                key.extend_from_slice(&super::scram::random_bytes()[..14]);
                (key, BTreeMap::new())
            }
            Err(e) => return Err(format!("{shown}: {e}")),
        };
        Ok(VerdictCache {
            settings,
            key,
            entries,
            now,
        })
    }

    /// The remembered verdict for a credential (by its values' digest), if still fresh.
    pub fn get(&self, credential: &[u8; 32]) -> Option<Verification> {
        let entry = self.entries.get(&self.name(credential))?;
        let fresh = self.now.saturating_sub(entry.checked_at) < self.settings.ttl.as_secs();
        fresh.then(|| Verification {
            status: entry.status,
            identity: entry.identity.clone(),
            reason: None,
        })
    }

    /// Remembers a live or invalid verdict; unknown ones are not kept. `identity` must already
    /// be scrubbed of the credential.
    pub fn put(&mut self, credential: &[u8; 32], verification: &Verification) {
        if verification.status == Verdict::Unknown {
            return;
        }
        let entry = Entry {
            status: verification.status,
            identity: verification.identity.clone(),
            checked_at: self.now,
        };
        self.entries.insert(self.name(credential), entry);
    }

    /// Writes the cache (expired entries dropped), owner-readable only, replacing the old file
    /// in one step so a crash never leaves half a file.
    pub fn save(&mut self) -> Result<(), String> {
        let ttl = self.settings.ttl.as_secs();
        let now = self.now;
        self.entries
            .retain(|_, entry| now.saturating_sub(entry.checked_at) < ttl);
        let file = CacheFile {
            version: VERSION,
            key: hex(&self.key),
            entries: self.entries.clone(),
        };
        let path = &self.settings.path;
        let shown = path.display();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        // One temporary file per process, so two runs saving at once never mix their bytes.
        let temporary = path.with_extension(format!("json.{}.tmp", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut out = options.open(&temporary)?;
            out.write_all(&serde_json::to_vec_pretty(&file).unwrap_or_default())?;
            out.sync_all()?;
            std::fs::rename(&temporary, path)
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&temporary);
            format!("{shown}: cannot write the verification cache: {e}")
        })
    }

    fn name(&self, credential: &[u8; 32]) -> String {
        hex(&hmac(&self.key, credential))
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// A duration written `90s`, `30m`, `24h`, `7d`, or plain seconds.
pub fn parse_ttl(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let seconds_per = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => {
            return Err(format!(
                "{text:?}: use a number with s, m, h or d (e.g. 24h)"
            ))
        }
    };
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?}: use a number with s, m, h or d (e.g. 24h)"))?;
    Ok(Duration::from_secs(number.saturating_mul(seconds_per)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(dir: &Path, ttl: u64) -> CacheSettings {
        CacheSettings {
            path: dir.join("sub").join("cache.json"),
            ttl: Duration::from_secs(ttl),
        }
    }

    fn verdict(status: Verdict) -> Verification {
        Verification {
            status,
            identity: (status == Verdict::Live).then(|| "octo".to_string()),
            reason: None,
        }
    }

    #[test]
    fn verdicts_survive_a_save_and_unknown_ones_are_not_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut cache = VerdictCache::open(settings(dir.path(), 3600)).unwrap();
        cache.put(&[1; 32], &verdict(Verdict::Live));
        cache.put(&[2; 32], &verdict(Verdict::Invalid));
        cache.put(&[3; 32], &Verification::unknown("timeout"));
        cache.save().unwrap();
        let again = VerdictCache::open(settings(dir.path(), 3600)).unwrap();
        assert_eq!(again.get(&[1; 32]), Some(verdict(Verdict::Live)));
        assert_eq!(again.get(&[2; 32]), Some(verdict(Verdict::Invalid)));
        assert_eq!(again.get(&[3; 32]), None);
        assert_eq!(again.entries.len(), 2);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join("sub/cache.json"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn stale_verdicts_are_not_used() {
        let dir = tempfile::tempdir().unwrap();
        let mut cache = VerdictCache::open(settings(dir.path(), 60)).unwrap();
        cache.put(&[1; 32], &verdict(Verdict::Live));
        cache.entries.values_mut().for_each(|e| e.checked_at -= 61);
        assert_eq!(cache.get(&[1; 32]), None);
        cache.save().unwrap();
        assert!(VerdictCache::open(settings(dir.path(), 60))
            .unwrap()
            .entries
            .is_empty());
    }

    #[test]
    fn a_file_that_is_not_a_cache_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.txt");
        std::fs::write(&path, "hello").unwrap();
        let why = VerdictCache::open(CacheSettings {
            path: path.clone(),
            ttl: Duration::from_secs(1),
        })
        .err()
        .unwrap();
        assert!(why.contains("notes.txt") && why.contains("not a keysift verification cache"));
        assert_eq!(std::fs::read_to_string(path).unwrap(), "hello");
    }

    #[test]
    fn ttls_have_units() {
        assert_eq!(parse_ttl("24h").unwrap(), Duration::from_secs(86_400));
        assert_eq!(parse_ttl("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_ttl("7d").unwrap(), Duration::from_secs(604_800));
        assert_eq!(parse_ttl("30m").unwrap(), Duration::from_secs(1800));
        assert!(parse_ttl("1w").is_err());
        assert!(parse_ttl("h").is_err());
    }
}
