//! Directory trees, walked in parallel with the `ignore` crate.
//!
//! By default everything below a root is scanned except VCS metadata: a secret in a git-ignored
//! `.env` is still a secret on disk and in a Docker build context. `.keysiftignore` files
//! (gitignore syntax) are always honoured; `.gitignore` and friends only when asked. Symbolic
//! links are not followed unless asked, so a link loop cannot trap the walk.
//!
//! The walk only collects paths and sizes. Files whose size no other file shares cannot be
//! duplicates, so only same-sized files are hashed for deduplication: hashing costs nearly as
//! much as scanning, and most trees have few duplicates.

use std::{
    collections::{HashMap, HashSet},
    fs::{self, File},
    io::{self, Read},
    path::{Path, PathBuf},
    sync::mpsc,
};

use ignore::{WalkBuilder, WalkState};

use super::{
    archive::is_archive, read_text, ArchiveLimits, Loaded, Origin, ReadLimits, Source, SourceError,
    SourceErrorKind, TextOrSkip,
};

/// Directory names never descended into: version-control metadata (scanned by `keysift git`).
const VCS_DIRS: &[&str] = &[".git", ".hg", ".svn", ".bzr", "_darcs"];

/// Name of keysift's own ignore file, honoured in every directory.
pub const IGNORE_FILE: &str = ".keysiftignore";

/// Configures a [`DirSource`].
#[derive(Debug, Clone)]
pub struct DirSourceBuilder {
    roots: Vec<PathBuf>,
    gitignore: bool,
    follow_symlinks: bool,
    limits: ReadLimits,
    threads: usize,
    exclude: Vec<PathBuf>,
    archives: Option<ArchiveLimits>,
}

/// One file to scan.
#[derive(Debug, Clone)]
pub struct FileItem {
    path: PathBuf,
    size: u64,
    may_repeat: bool,
}

impl FileItem {
    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
    /// Its size when walked.
    pub fn size(&self) -> u64 {
        self.size
    }
}

/// The files below one or more roots, enumerated once.
#[derive(Debug)]
pub struct DirSource {
    items: Vec<FileItem>,
    errors: Vec<SourceError>,
    skipped_links: u64,
    limits: ReadLimits,
    archives: Option<ArchiveLimits>,
}

impl DirSourceBuilder {
    /// Scans `roots` (directories or files).
    pub fn new<P: Into<PathBuf>>(roots: impl IntoIterator<Item = P>) -> Self {
        DirSourceBuilder {
            roots: roots.into_iter().map(Into::into).collect(),
            gitignore: false,
            follow_symlinks: false,
            limits: ReadLimits::default(),
            threads: 0,
            exclude: Vec::new(),
            archives: None,
        }
    }

    /// Honour `.gitignore`, `.git/info/exclude` and the global git excludes file.
    pub fn gitignore(mut self, yes: bool) -> Self {
        self.gitignore = yes;
        self
    }

    /// Follow symbolic links (loops are detected and reported).
    pub fn follow_symlinks(mut self, yes: bool) -> Self {
        self.follow_symlinks = yes;
        self
    }

    /// Size and other limits.
    pub fn limits(mut self, limits: ReadLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Open archives (zip, jar, tar, gzip, ...) within these limits and scan their members;
    /// `None` (the default) skips them as binary.
    pub fn open_archives(mut self, limits: Option<ArchiveLimits>) -> Self {
        self.archives = limits;
        self
    }

    /// Walker threads (0: automatic).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }

    /// Never scan this file (keysift's own output file, for example).
    pub fn exclude(mut self, path: &Path) -> Self {
        if let Ok(canonical) = fs::canonicalize(path) {
            self.exclude.push(canonical);
        }
        self
    }

    /// Walks the roots.
    pub fn build(self) -> DirSource {
        let mut errors = Vec::new();
        let roots: Vec<&PathBuf> = self
            .roots
            .iter()
            .filter(|root| match fs::symlink_metadata(root) {
                Ok(_) => true,
                Err(e) => {
                    errors.push(io_error(root, &e));
                    false
                }
            })
            .collect();
        let Some((first, rest)) = roots.split_first() else {
            return DirSource {
                items: Vec::new(),
                errors,
                skipped_links: 0,
                limits: self.limits,
                archives: self.archives,
            };
        };

        let mut walk = WalkBuilder::new(first);
        for root in rest {
            walk.add(root);
        }
        walk.hidden(false)
            .ignore(false)
            .parents(true)
            .git_ignore(self.gitignore)
            .git_global(self.gitignore)
            .git_exclude(self.gitignore)
            .require_git(false)
            .follow_links(self.follow_symlinks)
            .threads(self.threads)
            .add_custom_ignore_filename(IGNORE_FILE)
            .filter_entry(|entry| {
                !VCS_DIRS.contains(&entry.file_name().to_string_lossy().as_ref())
            });

        // Each walker thread classifies its own entries, `stat` included, so that work is
        // spread over the walk's threads instead of following it on this one.
        let exclude: HashSet<PathBuf> = self.exclude.into_iter().collect();
        let (sender, receiver) = mpsc::channel();
        walk.build_parallel().run(|| {
            let sender = sender.clone();
            let exclude = &exclude;
            Box::new(move |entry| {
                if let Some(walked) = classify(entry, exclude) {
                    let _ = sender.send(walked);
                }
                WalkState::Continue
            })
        });
        drop(sender);

        let mut items = Vec::new();
        let mut skipped_links = 0;
        for walked in receiver {
            match walked {
                Walked::File(item) => items.push(item),
                Walked::Link => skipped_links += 1,
                Walked::Error(error) => errors.push(error),
            }
        }

        mark_possible_duplicates(&mut items);
        // Largest first: the long files start early and the small ones fill the gaps at the end.
        items.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| a.path.cmp(&b.path)));
        errors.sort_by(|a, b| a.input.cmp(&b.input));
        DirSource {
            items,
            errors,
            skipped_links,
            limits: self.limits,
            archives: self.archives,
        }
    }
}

/// What the walk makes of one entry.
enum Walked {
    File(FileItem),
    /// A symbolic link, not followed.
    Link,
    Error(SourceError),
}

/// Classifies a walked entry; `None` for what is neither scanned nor reported (directories,
/// excluded files).
fn classify(
    entry: Result<ignore::DirEntry, ignore::Error>,
    exclude: &HashSet<PathBuf>,
) -> Option<Walked> {
    let entry = match entry {
        Ok(entry) => entry,
        Err(err) => return Some(Walked::Error(walk_error(&err))),
    };
    let file_type = entry.file_type()?;
    let path = entry.path();
    if file_type.is_dir() {
        return None;
    }
    if file_type.is_symlink() {
        return Some(Walked::Link);
    }
    if !exclude.is_empty() && fs::canonicalize(path).is_ok_and(|p| exclude.contains(&p)) {
        return None;
    }
    if !file_type.is_file() {
        return Some(Walked::Error(SourceError::new(
            path.display().to_string(),
            SourceErrorKind::NotRegular,
            format!(
                "skipped: not a regular file ({})",
                describe_special(&file_type)
            ),
        )));
    }
    Some(match entry.metadata() {
        Ok(meta) => Walked::File(FileItem {
            path: path.to_path_buf(),
            size: meta.len(),
            may_repeat: false,
        }),
        Err(err) => Walked::Error(walk_error(&err)),
    })
}

fn mark_possible_duplicates(items: &mut [FileItem]) {
    let mut by_size: HashMap<u64, u32> = HashMap::new();
    for item in items.iter() {
        *by_size.entry(item.size).or_default() += 1;
    }
    for item in items.iter_mut() {
        item.may_repeat = by_size[&item.size] > 1;
    }
}

#[cfg(unix)]
fn describe_special(file_type: &fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if file_type.is_fifo() {
        "a FIFO"
    } else if file_type.is_socket() {
        "a socket"
    } else if file_type.is_block_device() || file_type.is_char_device() {
        "a device"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn describe_special(_: &fs::FileType) -> &'static str {
    "a special file"
}

fn io_error(path: &Path, err: &io::Error) -> SourceError {
    let kind = if err.kind() == io::ErrorKind::NotFound {
        SourceErrorKind::NotFound
    } else {
        SourceErrorKind::Unreadable
    };
    SourceError::new(path.display().to_string(), kind, err.to_string())
}

fn walk_error(err: &ignore::Error) -> SourceError {
    let (path, message) = split_walk_error(err);
    SourceError::new(path, SourceErrorKind::Walk, message)
}

/// Pulls the path out of an `ignore` error so the message names it first.
fn split_walk_error(err: &ignore::Error) -> (String, String) {
    match err {
        ignore::Error::WithPath { path, err } => (path.display().to_string(), err.to_string()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            split_walk_error(err)
        }
        ignore::Error::Loop { child, ancestor } => (
            child.display().to_string(),
            format!("symbolic link loop back to {}", ancestor.display()),
        ),
        other => ("<walk>".to_string(), other.to_string()),
    }
}

impl Source for DirSource {
    type Item = FileItem;
    type Reader = ();

    fn items(&self) -> &[FileItem] {
        &self.items
    }

    fn new_reader(&self) {}

    fn load(&self, _: &mut (), item: &FileItem, buf: &mut Vec<u8>) -> Result<Loaded, SourceError> {
        let name = || item.path.display().to_string();
        let unreadable = |e: io::Error| {
            let message = if e.kind() == io::ErrorKind::NotFound {
                "vanished during the scan".to_string()
            } else {
                e.to_string()
            };
            SourceError::new(name(), SourceErrorKind::Unreadable, message)
        };
        let mut file = File::open(&item.path).map_err(unreadable)?;
        let size = file.metadata().map_err(unreadable)?.len();
        let too_large = || {
            SourceError::new(
                name(),
                SourceErrorKind::TooLarge,
                format!(
                    "skipped: {size} bytes is over the --max-file-size limit of {} bytes",
                    self.limits.max_size
                ),
            )
        };
        if size > self.limits.max_size {
            return Err(too_large());
        }
        let outcome = read_text(&mut file, self.limits, buf).map_err(unreadable)?;
        if outcome != TextOrSkip::TooLarge && self.opens_archive(item, buf) {
            // Binary reading stopped after the first bytes; an archive is needed whole.
            let room = (self.limits.max_size + 1).saturating_sub(buf.len() as u64);
            file.take(room).read_to_end(buf).map_err(unreadable)?;
            if buf.len() as u64 > self.limits.max_size {
                return Err(too_large());
            }
            return Ok(Loaded::Archive);
        }
        match outcome {
            TextOrSkip::Text => Ok(Loaded::Text {
                id: None,
                may_repeat: item.may_repeat,
            }),
            TextOrSkip::Binary => Ok(Loaded::Binary),
            TextOrSkip::TooLarge => Err(too_large()),
        }
    }

    fn origin(&self, item: &FileItem) -> Origin {
        Origin::File {
            path: item.path.clone(),
        }
    }

    fn enumeration_errors(&self) -> &[SourceError] {
        &self.errors
    }

    fn skipped_links(&self) -> u64 {
        self.skipped_links
    }

    fn archives(&self) -> Option<ArchiveLimits> {
        self.archives
    }
}

impl DirSource {
    /// Whether `item`, whose first bytes are in `start`, is an archive to open.
    fn opens_archive(&self, item: &FileItem, start: &[u8]) -> bool {
        let name = item.path.file_name().unwrap_or_default().to_string_lossy();
        self.archives.is_some() && is_archive(start, &name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_vanishes_after_the_walk_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let doomed = dir.path().join("sub/doomed.env");
        fs::create_dir_all(doomed.parent().unwrap()).unwrap();
        fs::write(&doomed, "x").unwrap();
        fs::write(dir.path().join("kept.env"), "y").unwrap();
        let source = DirSourceBuilder::new([dir.path()]).build();
        assert_eq!(source.items().len(), 2);

        // The directory disappears between enumeration and reading.
        fs::remove_dir_all(dir.path().join("sub")).unwrap();
        let mut buf = Vec::new();
        let outcomes: Vec<_> = source
            .items()
            .iter()
            .map(|item| source.load(&mut (), item, &mut buf))
            .collect();
        let errors: Vec<_> = outcomes.iter().filter_map(|o| o.as_ref().err()).collect();
        assert_eq!(errors.len(), 1);
        assert!(errors[0].input.ends_with("doomed.env"), "{}", errors[0]);
        assert!(errors[0].message.contains("vanished"), "{}", errors[0]);
        assert!(outcomes
            .iter()
            .any(|o| matches!(o, Ok(Loaded::Text { .. }))));
    }

    #[test]
    fn only_same_sized_files_may_repeat() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a"), "same").unwrap();
        fs::write(dir.path().join("b"), "size").unwrap();
        fs::write(dir.path().join("c"), "different").unwrap();
        let source = DirSourceBuilder::new([dir.path()]).build();
        let repeat: Vec<(String, bool)> = source
            .items()
            .iter()
            .map(|i| {
                (
                    i.path().file_name().unwrap().to_string_lossy().into_owned(),
                    i.may_repeat,
                )
            })
            .collect();
        assert!(
            repeat.contains(&("a".into(), true)) && repeat.contains(&("c".into(), false)),
            "{repeat:?}"
        );
    }
}
