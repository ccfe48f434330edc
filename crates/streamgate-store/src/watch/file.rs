//! Following the config file wherever it really lives, and reading it only once it
//! has stopped changing.
//!
//! The path an operator gives is often not where the bytes are: a Kubernetes ConfigMap
//! volume makes `streamgate.toml` a symlink to `..data/streamgate.toml`, where `..data`
//! is itself a symlink that the kubelet swaps to a new timestamped directory on every
//! update; a file may also be a symlink into a git checkout. So the watcher follows
//! every symlink on the way to the bytes and watches each directory it passes through,
//! reacting to the entries that matter (the names on that way, and the kubelet's
//! `..`-prefixed entries). A periodic content check covers file systems that send no
//! events at all (network mounts, some container runtimes).

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

/// The SHA-256 of the file's bytes: how reads are compared.
pub(super) type ContentHash = [u8; 32];

/// Hashes file content.
pub(super) fn hash(bytes: &[u8]) -> ContentHash {
    Sha256::digest(bytes).into()
}

/// Where the config file's bytes are reached from: directories to watch and the entry
/// names in them that lead to the file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Route {
    /// Directories whose entries lead to the file.
    pub dirs: BTreeSet<PathBuf>,
    /// Entry names on the way (file names, symlinked directory names).
    pub names: BTreeSet<OsString>,
}

impl Route {
    /// Follows `path` through its symlinks (at most 32 hops, as the kernel does).
    pub fn of(path: &Path) -> Self {
        let mut route = Route::default();
        let mut current = absolute(path);
        for _ in 0..32 {
            route.add(&current);
            // Symlinked directories on the way (`..data` in a ConfigMap volume).
            let mut prefix = PathBuf::new();
            for component in current.components() {
                prefix.push(component);
                if prefix != current
                    && std::fs::symlink_metadata(&prefix).is_ok_and(|m| m.is_symlink())
                {
                    route.add(&prefix);
                }
            }
            match std::fs::read_link(&current) {
                Ok(target) => {
                    let base = current.parent().map(Path::to_path_buf).unwrap_or_default();
                    current = normalise(&base.join(target));
                }
                Err(_) => break,
            }
        }
        if let Ok(real) = std::fs::canonicalize(path) {
            route.add(&real);
        }
        route
    }

    fn add(&mut self, path: &Path) {
        if let (Some(dir), Some(name)) = (path.parent(), path.file_name()) {
            self.dirs.insert(dir.to_path_buf());
            self.names.insert(name.to_owned());
        }
    }

    /// Whether a file-system event on `path` may have changed what the route reads.
    pub fn concerns(&self, path: &Path) -> bool {
        path.file_name().is_some_and(|name| {
            self.names.contains(name) || name.to_string_lossy().starts_with("..")
        })
    }
}

fn absolute(path: &Path) -> PathBuf {
    normalise(&std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()))
}

/// Removes `.` and resolves `..` lexically (symlinks are followed separately).
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Whether a notify event could be a change of content (reads of our own are not).
pub(super) fn is_change(kind: &notify::EventKind) -> bool {
    use notify::event::{AccessKind, AccessMode};
    match kind {
        notify::EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        notify::EventKind::Access(_) => false,
        _ => true,
    }
}

/// What one read of the file found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Read {
    /// The bytes, the same in two reads `settle` apart.
    Stable(Vec<u8>),
    /// The file cannot be read (deleted, mid-swap, permissions).
    Unreadable(String),
}

/// Reads the file until two reads `settle` apart agree, so that a save still being
/// written (an in-place write in several steps, a slow network copy) is never taken for
/// the new configuration. Events arriving meanwhile are drained: the reads see them.
pub(super) async fn stable_read(
    path: &Path,
    settle: Duration,
    events: &mut mpsc::UnboundedReceiver<()>,
) -> Option<Read> {
    let mut previous = read(path);
    loop {
        tokio::time::sleep(settle).await;
        loop {
            match events.try_recv() {
                Ok(()) => continue,
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => return None,
            }
        }
        let now = read(path);
        if now == previous {
            return Some(now);
        }
        previous = now;
    }
}

fn read(path: &Path) -> Read {
    match std::fs::read(path) {
        Ok(bytes) => Read::Stable(bytes),
        Err(e) => Read::Unreadable(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configmap_route_includes_the_data_link() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        std::fs::create_dir(root.join("..2026_12_01")).expect("mkdir");
        std::fs::write(root.join("..2026_12_01/streamgate.toml"), "").expect("write");
        std::os::unix::fs::symlink("..2026_12_01", root.join("..data")).expect("link");
        std::os::unix::fs::symlink("..data/streamgate.toml", root.join("streamgate.toml"))
            .expect("link");
        let route = Route::of(&root.join("streamgate.toml"));
        let root = std::fs::canonicalize(root).expect("canonical");
        assert!(route.dirs.contains(&root), "{route:?}");
        assert!(route.names.contains(&OsString::from("..data")), "{route:?}");
        assert!(route.concerns(&root.join("..data_tmp")));
        assert!(route.concerns(&root.join("streamgate.toml")));
        assert!(!route.concerns(&root.join("streamgate.db-wal")));
    }
}
