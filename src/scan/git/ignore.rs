//! `.keysiftignore` for git scans.

use std::path::Path;

/// `.keysiftignore` at the top of the work tree, matched against repository paths.
pub(super) struct KeysiftIgnore(Option<ignore::gitignore::Gitignore>);

impl KeysiftIgnore {
    pub(super) fn load(work_dir: Option<&Path>) -> Self {
        let Some(dir) = work_dir else {
            return KeysiftIgnore(None);
        };
        let file = dir.join(".keysiftignore");
        if !file.is_file() {
            return KeysiftIgnore(None);
        }
        let mut builder = ignore::gitignore::GitignoreBuilder::new(dir);
        if builder.add(&file).is_some() {
            return KeysiftIgnore(None);
        }
        KeysiftIgnore(builder.build().ok())
    }

    pub(super) fn ignores(&self, path: &str) -> bool {
        self.0
            .as_ref()
            .is_some_and(|ignore| ignore.matched_path_or_any_parents(path, false).is_ignore())
    }
}
