//! The on-disk segment cache for proxied content.
//!
//! Files live at `<root>/<event>/<path>`, so a cache survives restarts and an
//! operator can see (and delete) what it holds. A download is written to a temporary
//! dotfile beside its final name and renamed into place only once complete, so a crash
//! or a full disk never leaves a partial segment that looks like a good one; the index
//! is rebuilt from the directory at start and stray temporary files are removed.
//!
//! The index is in memory: size and creation time per entry plus a recency order, so
//! eviction is least recently used by size (`SEGMENT_CACHE_MAX_SIZE_GB`) and removal is
//! by age (`SEGMENT_CACHE_MAX_AGE_HOURS`). Writes that fail (a full disk, a read-only
//! volume) are reported and counted, and the caller serves the bytes it already holds:
//! a cache problem slows things down, it never fails a request.

use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use crate::path::StreamPath;

/// Prefix of temporary download files (dotfiles are never served).
const TMP_PREFIX: &str = ".tmp-";

/// Why the cache could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The cache directory cannot be made or read.
    #[error("segment cache directory {path}: {source}")]
    Dir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// What the origin said about the object a cache entry holds, so that the entry can
/// be re-validated (`If-None-Match` / `If-Modified-Since`) instead of trusted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    /// The origin's `ETag`.
    pub etag: Option<String>,
    /// The origin's `Last-Modified`.
    pub last_modified: Option<String>,
    /// The body's length.
    pub len: u64,
}

impl Validators {
    /// Whether the origin gave anything a conditional request can carry.
    pub fn usable(&self) -> bool {
        self.etag.is_some() || self.last_modified.is_some()
    }
}

/// A cache entry as [`SegmentCache::lookup_entry`] finds it.
#[derive(Debug, Clone)]
pub struct Hit {
    /// The file.
    pub file: PathBuf,
    /// The origin's validators, when known (not after a restart of this server).
    pub validators: Option<Validators>,
    /// When the origin last confirmed (or gave) this content.
    pub validated: Option<Instant>,
}

#[derive(Debug, Clone)]
struct Entry {
    size: u64,
    created: SystemTime,
    tick: u64,
    validators: Option<Validators>,
    validated: Option<Instant>,
}

#[derive(Debug, Default)]
struct Index {
    entries: HashMap<String, Entry>,
    by_recency: BTreeMap<u64, String>,
    bytes: u64,
    tick: u64,
}

impl Index {
    fn touch(&mut self, key: &str) {
        self.tick += 1;
        let tick = self.tick;
        if let Some(e) = self.entries.get_mut(key) {
            self.by_recency.remove(&e.tick);
            e.tick = tick;
            self.by_recency.insert(tick, key.to_owned());
        }
    }

    fn insert(
        &mut self,
        key: String,
        size: u64,
        created: SystemTime,
        validators: Option<Validators>,
    ) {
        self.remove(&key);
        self.tick += 1;
        let tick = self.tick;
        self.by_recency.insert(tick, key.clone());
        self.entries.insert(
            key,
            Entry {
                size,
                created,
                tick,
                validated: validators.as_ref().map(|_| Instant::now()),
                validators,
            },
        );
        self.bytes += size;
    }

    fn remove(&mut self, key: &str) -> Option<Entry> {
        let e = self.entries.remove(key)?;
        self.by_recency.remove(&e.tick);
        self.bytes -= e.size;
        Some(e)
    }

    fn oldest(&self) -> Option<String> {
        self.by_recency.values().next().cloned()
    }
}

/// What the cache holds, for `/health` and `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    /// Files.
    pub entries: u64,
    /// Their total size.
    pub bytes: u64,
    /// Lookups answered from disk.
    pub hits: u64,
    /// Lookups that were not.
    pub misses: u64,
    /// Entries evicted for size or age.
    pub evictions: u64,
    /// Downloads that could not be written.
    pub write_errors: u64,
}

/// The segment cache.
#[derive(Debug)]
pub struct SegmentCache {
    root: PathBuf,
    max_bytes: u64,
    max_age: Duration,
    index: Mutex<Index>,
    hits: AtomicU64,
    misses: AtomicU64,
    evictions: AtomicU64,
    write_errors: AtomicU64,
}

impl SegmentCache {
    /// Opens (creating if needed) the cache at `root` and rebuilds its index from the
    /// files there, oldest first, dropping temporary files and expired entries.
    pub fn open(root: &Path, max_bytes: u64, max_age: Duration) -> Result<Self, CacheError> {
        std::fs::create_dir_all(root).map_err(|source| CacheError::Dir {
            path: root.to_owned(),
            source,
        })?;
        let root = root.canonicalize().map_err(|source| CacheError::Dir {
            path: root.to_owned(),
            source,
        })?;
        let mut found = Vec::new();
        scan(&root, &root, &mut found).map_err(|source| CacheError::Dir {
            path: root.clone(),
            source,
        })?;
        found.sort_by_key(|(_, _, modified)| *modified);
        let cache = Self {
            root,
            max_bytes,
            max_age,
            index: Mutex::new(Index::default()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            evictions: AtomicU64::new(0),
            write_errors: AtomicU64::new(0),
        };
        {
            let mut index = cache.lock();
            for (key, size, modified) in found {
                index.insert(key, size, modified, None);
            }
        }
        cache.remove_expired();
        cache.evict_to_fit(0);
        Ok(cache)
    }

    /// The cache directory (canonical).
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Index> {
        // A panic while holding the lock leaves the index usable: every update keeps
        // it consistent before any call that could panic.
        self.index.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn key(path: &StreamPath) -> String {
        format!("{}/{}", path.event_id(), path.relative())
    }

    /// The cached file for `path`, if present and young enough (marks it recently used).
    pub fn lookup(&self, path: &StreamPath) -> Option<PathBuf> {
        self.lookup_entry(path).map(|hit| hit.file)
    }

    /// [`Self::lookup`] with what is known about the entry's origin object.
    pub fn lookup_entry(&self, path: &StreamPath) -> Option<Hit> {
        let key = Self::key(path);
        let mut index = self.lock();
        let (fresh, validators, validated) = match index.entries.get(&key) {
            Some(e) => (
                e.created
                    .elapsed()
                    .map(|a| a <= self.max_age)
                    .unwrap_or(true),
                e.validators.clone(),
                e.validated,
            ),
            None => {
                drop(index);
                self.misses.fetch_add(1, Ordering::Relaxed);
                return None;
            }
        };
        if !fresh {
            index.remove(&key);
            drop(index);
            let _ = std::fs::remove_file(path.under(&self.root));
            self.evictions.fetch_add(1, Ordering::Relaxed);
            self.misses.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        index.touch(&key);
        drop(index);
        let file = path.under(&self.root);
        // Gone from disk (an operator cleaned up, or an event's entries were dropped
        // while this one was being stored): a miss, not a 404.
        if !file.is_file() {
            self.lock().remove(&key);
            self.misses.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(Hit {
            file,
            validators,
            validated,
        })
    }

    /// The entry for `path` as it is, without counting a lookup or marking it used.
    pub fn peek(&self, path: &StreamPath) -> Option<Hit> {
        let hit = {
            let index = self.lock();
            let e = index.entries.get(&Self::key(path))?;
            Hit {
                file: path.under(&self.root),
                validators: e.validators.clone(),
                validated: e.validated,
            }
        };
        hit.file.is_file().then_some(hit)
    }

    /// Notes that the origin confirmed the entry for `path` is still its current object.
    pub fn mark_validated(&self, path: &StreamPath) {
        if let Some(e) = self.lock().entries.get_mut(&Self::key(path)) {
            e.validated = Some(Instant::now());
        }
    }

    /// Drops the entry for `path` (the origin no longer has it).
    pub fn remove(&self, path: &StreamPath) {
        if self.lock().remove(&Self::key(path)).is_some() {
            let _ = std::fs::remove_file(path.under(&self.root));
        }
    }

    /// Stores a complete download. Returns the file's path, or `None` when it could not
    /// be written (the caller serves `bytes` from memory).
    pub fn store(&self, path: &StreamPath, bytes: &[u8]) -> Option<PathBuf> {
        self.store_with(path, bytes, None)
    }

    /// [`Self::store`], keeping the origin's validators for later re-validation.
    pub fn store_with(
        &self,
        path: &StreamPath,
        bytes: &[u8],
        validators: Option<Validators>,
    ) -> Option<PathBuf> {
        let size = bytes.len() as u64;
        if size > self.max_bytes {
            return None;
        }
        let dest = path.under(&self.root);
        match write_atomically(&dest, bytes) {
            Ok(()) => {
                self.evict_to_fit(size);
                self.lock()
                    .insert(Self::key(path), size, SystemTime::now(), validators);
                Some(dest)
            }
            Err(e) => {
                let n = self.write_errors.fetch_add(1, Ordering::Relaxed);
                // Once per hundred failures is enough to see a full disk in the log.
                if n.is_multiple_of(100) {
                    tracing::warn!(
                        "segment cache: cannot write {}: {e}; serving without caching",
                        dest.display()
                    );
                }
                None
            }
        }
    }

    /// Evicts least recently used entries until `incoming` more bytes fit.
    fn evict_to_fit(&self, incoming: u64) {
        loop {
            let victim = {
                let mut index = self.lock();
                if index.bytes + incoming <= self.max_bytes {
                    return;
                }
                let Some(key) = index.oldest() else { return };
                index.remove(&key);
                key
            };
            let _ = std::fs::remove_file(self.root.join(&victim));
            self.evictions.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Removes entries older than the age cap. Returns how many went.
    pub fn remove_expired(&self) -> usize {
        let expired: Vec<String> = {
            let mut index = self.lock();
            let keys: Vec<String> = index
                .entries
                .iter()
                .filter(|(_, e)| e.created.elapsed().is_ok_and(|a| a > self.max_age))
                .map(|(k, _)| k.clone())
                .collect();
            for k in &keys {
                index.remove(k);
            }
            keys
        };
        for key in &expired {
            let _ = std::fs::remove_file(self.root.join(key));
        }
        self.evictions
            .fetch_add(expired.len() as u64, Ordering::Relaxed);
        expired.len()
    }

    /// Drops everything cached for one event. Returns how many files went.
    pub fn clear_event(&self, event_id: &str) -> usize {
        let prefix = format!("{event_id}/");
        let removed = {
            let mut index = self.lock();
            let keys: Vec<String> = index
                .entries
                .keys()
                .filter(|k| k.starts_with(&prefix))
                .cloned()
                .collect();
            for k in &keys {
                index.remove(k);
            }
            keys.len()
        };
        let _ = std::fs::remove_dir_all(self.root.join(event_id));
        removed
    }

    /// Current figures.
    pub fn stats(&self) -> CacheStats {
        let (entries, bytes) = {
            let index = self.lock();
            (index.entries.len() as u64, index.bytes)
        };
        CacheStats {
            entries,
            bytes,
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            evictions: self.evictions.load(Ordering::Relaxed),
            write_errors: self.write_errors.load(Ordering::Relaxed),
        }
    }
}

fn write_atomically(dest: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = dest
        .parent()
        .ok_or_else(|| std::io::Error::other("cache path has no parent"))?;
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!("{TMP_PREFIX}{}", uuid::Uuid::new_v4().simple()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.flush()?;
        drop(file);
        std::fs::rename(&tmp, dest)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Collects `(key, size, modified)` of every cache file under `dir`, removing
/// leftover temporary files.
fn scan(root: &Path, dir: &Path, out: &mut Vec<(String, u64, SystemTime)>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let meta = entry.metadata()?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if meta.is_dir() {
            scan(root, &path, out)?;
        } else if name.starts_with(TMP_PREFIX) {
            let _ = std::fs::remove_file(&path);
        } else if meta.is_file()
            && let Ok(rel) = path.strip_prefix(root)
            && let Some(key) = rel.to_str()
        {
            out.push((
                key.to_owned(),
                meta.len(),
                meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> StreamPath {
        StreamPath::parse(&format!("/streams/{s}")).expect("path")
    }

    #[test]
    fn least_recently_used_goes_first_when_full() {
        let dir = tempfile::tempdir().expect("tmp");
        let cache = SegmentCache::open(dir.path(), 250, Duration::from_secs(3600)).expect("open");
        cache.store(&p("e/a.ts"), &[1; 100]).expect("a");
        cache.store(&p("e/b.ts"), &[2; 100]).expect("b");
        assert!(cache.lookup(&p("e/a.ts")).is_some(), "a used again");
        cache.store(&p("e/c.ts"), &[3; 100]).expect("c");
        assert!(
            cache.lookup(&p("e/b.ts")).is_none(),
            "b was least recently used"
        );
        assert!(!dir.path().join("e/b.ts").exists(), "its file is gone");
        assert!(cache.lookup(&p("e/a.ts")).is_some());
        assert!(cache.lookup(&p("e/c.ts")).is_some());
        assert_eq!(cache.stats().bytes, 200);
        assert!(
            cache.store(&p("e/huge.ts"), &[0; 300]).is_none(),
            "bigger than the cap"
        );
    }

    #[test]
    fn reopening_keeps_entries_and_drops_partial_files() {
        let dir = tempfile::tempdir().expect("tmp");
        {
            let cache =
                SegmentCache::open(dir.path(), 1000, Duration::from_secs(3600)).expect("open");
            cache.store(&p("e/x/a.ts"), b"segment").expect("a");
        }
        std::fs::write(dir.path().join("e/x/.tmp-123"), b"partial").expect("tmp file");
        let cache = SegmentCache::open(dir.path(), 1000, Duration::from_secs(3600)).expect("open");
        let file = cache.lookup(&p("e/x/a.ts")).expect("kept");
        assert_eq!(std::fs::read(file).expect("read"), b"segment");
        assert!(!dir.path().join("e/x/.tmp-123").exists());
        assert_eq!(cache.stats().entries, 1);
        assert_eq!(cache.clear_event("e"), 1);
        assert!(cache.lookup(&p("e/x/a.ts")).is_none());
        assert!(!dir.path().join("e").exists());
    }

    #[test]
    fn a_file_deleted_behind_the_cache_is_a_miss() {
        let dir = tempfile::tempdir().expect("tmp");
        let cache = SegmentCache::open(dir.path(), 1000, Duration::from_secs(3600)).expect("open");
        cache.store(&p("e/a.ts"), b"x").expect("a");
        std::fs::remove_file(dir.path().join("e/a.ts")).expect("rm");
        assert!(cache.peek(&p("e/a.ts")).is_none());
        assert!(cache.lookup(&p("e/a.ts")).is_none());
        assert_eq!(cache.stats().entries, 0);
    }

    #[test]
    fn old_entries_are_removed() {
        let dir = tempfile::tempdir().expect("tmp");
        let cache = SegmentCache::open(dir.path(), 1000, Duration::from_millis(50)).expect("open");
        cache.store(&p("e/a.ts"), b"x").expect("a");
        std::thread::sleep(Duration::from_millis(80));
        assert_eq!(cache.remove_expired(), 1);
        assert!(cache.lookup(&p("e/a.ts")).is_none());
        assert!(!dir.path().join("e/a.ts").exists());
    }
}
