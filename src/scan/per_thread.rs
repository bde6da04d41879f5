//! One value per worker thread of a rayon pool, kept for the whole run.

use std::sync::Mutex;

/// One value per worker thread, made on the thread's first use and kept for the whole run.
///
/// Why not rayon's `for_each_init`: it makes a new value for every piece of work it splits
/// off, and scanner scratch is worth keeping. Its regex caches (lazy DFAs, one per signature)
/// warm up as they are used; on the generated corpus, rebuilding them cost about 5% of the CPU
/// (perf: determinization and cache set-up).
pub struct PerThread<T> {
    slots: Vec<Mutex<Option<T>>>,
}

impl<T> PerThread<T> {
    /// Slots for a pool of `threads` threads.
    pub fn new(threads: usize) -> Self {
        PerThread {
            slots: (0..threads.max(1)).map(|_| Mutex::new(None)).collect(),
        }
    }

    /// Runs `work` with this thread's value, made by `make` on first use. A thread that is
    /// already inside `work` (rayon may run a second item on a thread waiting for nested
    /// parallel work, such as a huge blob's chunks) gets a fresh value for the nested item.
    pub fn with<R>(&self, make: impl Fn() -> T, work: impl FnOnce(&mut T) -> R) -> R {
        let slot = rayon::current_thread_index()
            .and_then(|index| self.slots.get(index))
            .and_then(|slot| slot.try_lock().ok());
        match slot {
            Some(mut guard) => work(guard.get_or_insert_with(make)),
            None => work(&mut make()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rayon::prelude::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn each_thread_makes_its_value_once_and_nested_work_gets_its_own() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let made = AtomicUsize::new(0);
        let make = || made.fetch_add(1, Ordering::Relaxed);
        let slots = PerThread::new(2);
        pool.install(|| {
            (0..1000)
                .into_par_iter()
                .for_each(|_| slots.with(make, |_| ()));
        });
        assert!(made.load(Ordering::Relaxed) <= 2);
        let nested = pool.install(|| {
            slots.with(make, |_| {
                // This thread's slot is taken: a nested call gets a fresh value.
                let before = made.load(Ordering::Relaxed);
                slots.with(make, |_| ());
                made.load(Ordering::Relaxed) - before
            })
        });
        assert_eq!(nested, 1);
    }
}
