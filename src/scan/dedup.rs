//! Scan each unique blob once, however many places it was found.
//!
//! The first thread to claim a blob id scans it; threads that meet the same id later either get
//! the finished results at once or, while the scan is still running, leave their origin for the
//! scanning thread to report. The map is sharded by the id's first byte so threads rarely
//! contend for a lock, and no lock is held while scanning.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use crate::{findings::BlobFinding, sources::BlobId, sources::Origin};

const SHARDS: usize = 64;

/// Results of a finished blob scan.
pub type BlobResults = Arc<Vec<Arc<BlobFinding>>>;

enum State {
    /// Being scanned; origins that arrived meanwhile.
    Scanning(Vec<Arc<Origin>>),
    Done(BlobResults),
}

/// What a thread should do with a blob it has just read.
pub enum Claim {
    /// Nobody has scanned it: scan it, then call [`SeenBlobs::complete`].
    First,
    /// Already scanned: report these results at your origin.
    Done(BlobResults),
    /// Being scanned by another thread, which will report your origin too.
    Pending,
}

/// Blob ids met so far in this scan.
pub struct SeenBlobs {
    shards: Vec<Mutex<HashMap<BlobId, State>>>,
}

impl SeenBlobs {
    /// An empty set.
    pub fn new() -> Self {
        SeenBlobs {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }

    fn shard(&self, id: &BlobId) -> std::sync::MutexGuard<'_, HashMap<BlobId, State>> {
        // A poisoned shard only means another worker panicked; its data is still consistent.
        self.shards[id.shard(SHARDS)]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Registers `origin` as a place where blob `id` was seen.
    pub fn claim(&self, id: BlobId, origin: &Arc<Origin>) -> Claim {
        let mut shard = self.shard(&id);
        match shard.get_mut(&id) {
            None => {
                shard.insert(id, State::Scanning(Vec::new()));
                Claim::First
            }
            Some(State::Scanning(waiting)) => {
                waiting.push(origin.clone());
                Claim::Pending
            }
            Some(State::Done(results)) => Claim::Done(results.clone()),
        }
    }

    /// Stores the results of blob `id`, returning the origins that arrived during its scan.
    pub fn complete(&self, id: BlobId, results: BlobResults) -> Vec<Arc<Origin>> {
        let mut shard = self.shard(&id);
        match shard.insert(id, State::Done(results)) {
            Some(State::Scanning(waiting)) => waiting,
            _ => Vec::new(),
        }
    }
}

impl Default for SeenBlobs {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_claim_scans_later_ones_wait_or_reuse() {
        let seen = SeenBlobs::new();
        let id = BlobId::of_content(b"x");
        let a = Arc::new(Origin::Stdin);
        let b = Arc::new(Origin::File { path: "b".into() });
        let c = Arc::new(Origin::File { path: "c".into() });
        assert!(matches!(seen.claim(id, &a), Claim::First));
        assert!(matches!(seen.claim(id, &b), Claim::Pending));
        let waiting = seen.complete(id, Arc::new(Vec::new()));
        assert_eq!(waiting, vec![b]);
        assert!(matches!(seen.claim(id, &c), Claim::Done(_)));
    }
}
