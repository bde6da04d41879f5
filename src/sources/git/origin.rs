//! Where in a repository a blob was seen.

use serde::Serialize;

/// A blob in a git repository: its id, a path it had, and (once attributed) the commit that
/// introduced it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
pub struct GitOrigin {
    /// The blob's object id (hex).
    pub blob: String,
    /// The path the blob had in the introducing commit (or in the index), if known: an
    /// unreachable blob has none.
    pub path: Option<String>,
    /// The earliest commit (by commit time) that introduced the blob; `None` for staged changes
    /// and for blobs no commit reaches.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<CommitInfo>,
    /// How many other commits introduced the same blob (cherry-picks, reverts, re-adds).
    #[serde(skip_serializing_if = "is_zero")]
    pub other_commits: usize,
    /// Other paths the blob had anywhere in history (copies, renames).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_paths: Vec<String>,
    /// The blob is staged in the index (pre-commit), not yet committed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub staged: bool,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// A commit, as shown next to a finding.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
pub struct CommitInfo {
    /// The commit id (hex).
    pub id: String,
    /// Author name.
    pub author_name: String,
    /// Author e-mail.
    pub author_email: String,
    /// Commit time, ISO 8601 with the committer's offset.
    pub date: String,
    /// Commit time, seconds since the Unix epoch.
    #[serde(skip)]
    pub timestamp: i64,
    /// The first line of the message.
    pub summary: String,
}

impl GitOrigin {
    /// An origin known only by blob id and a path (before attribution).
    pub fn blob(blob: String, path: Option<String>) -> Self {
        GitOrigin {
            blob,
            path,
            commit: None,
            other_commits: 0,
            other_paths: Vec::new(),
            staged: false,
        }
    }

    /// The path, or a stand-in naming the blob when no path is known.
    pub fn path_or_blob(&self) -> String {
        match &self.path {
            Some(path) => path.clone(),
            None => format!("<blob {}>", self.blob),
        }
    }

    /// How the origin is shown to people: the path, and the commit that introduced it.
    pub fn display(&self) -> String {
        let path = self.path_or_blob();
        match (&self.commit, self.staged) {
            (Some(commit), _) => format!("{path} @ {}", short(&commit.id)),
            (None, true) => format!("{path} (staged)"),
            (None, false) if self.path.is_some() => format!("{path} @ blob {}", short(&self.blob)),
            (None, false) => path,
        }
    }
}

/// The abbreviated form of an object id.
pub fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}
