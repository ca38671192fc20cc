//! The temporary folders clusters live in, and the reaping of folders left by killed processes.
//!
//! A process killed with SIGKILL (an OOM kill, a CI timeout) never runs `Drop`, and its
//! `postgres` keeps running because `pg_ctl` detaches it into a session of its own. Each folder
//! therefore holds a marker naming its owner, so that a later start can clean up after it.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::Error;
use crate::process::process_exists;

/// The start of every folder name we create; we never touch a folder without it.
const PREFIX: &str = "koppel-pglocal-";

/// The marker file in each folder, holding the owner's pid and pid namespace.
const MARKER: &str = "koppel-pglocal.pid";

/// Distinguishes folders created by one process in the same clock tick.
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Creates a fresh, uniquely named folder under `parent` and writes its owner marker.
///
/// Names stay short because the server's Unix socket lives inside, and socket paths are limited
/// to about 100 bytes (macOS's temp folder alone takes about 50).
pub(crate) fn create(parent: &Path, label: &str) -> Result<PathBuf, Error> {
    loop {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos());
        let count = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("{PREFIX}{label}{}-{nanos:x}-{count}", std::process::id());
        let path = parent.join(name);
        match fs::create_dir(&path) {
            Ok(()) => {
                let marker = format!("{}\n{}\n", std::process::id(), pid_namespace());
                fs::write(path.join(MARKER), marker).map_err(|e| {
                    // Without a marker the folder would never be reaped, so do not leave it.
                    let _ = fs::remove_dir_all(&path);
                    Error::io(
                        format!("could not write {}", path.join(MARKER).display()),
                        e,
                    )
                })?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::io(format!("could not create {}", path.display()), e)),
        }
    }
}

/// Removes every folder under `parent` that one of our processes created and left behind when
/// it died, calling `stop` on each first so that its server goes away too.
///
/// Only folders with our prefix, a readable marker, the given owner and a dead owner process in
/// our pid namespace are touched; anything else might belong to someone still using it.
pub(crate) fn reap_abandoned(parent: &Path, owner_uid: u32, stop: impl Fn(&Path)) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let is_ours = entry
            .file_name()
            .to_str()
            .is_some_and(|name| name.starts_with(PREFIX));
        let folder = entry.path();
        // `symlink_metadata` so that a link someone planted is never followed into.
        let owned = fs::symlink_metadata(&folder)
            .is_ok_and(|meta| meta.is_dir() && meta.uid() == owner_uid);
        if is_ours && owned && is_abandoned(&folder) {
            stop(&folder);
            let _ = fs::remove_dir_all(&folder);
        }
    }
}

/// Tells whether the process that created `folder` is gone.
fn is_abandoned(folder: &Path) -> bool {
    // A folder without a marker is either being created right now or not ours: leave it.
    let Ok(marker) = fs::read_to_string(folder.join(MARKER)) else {
        return false;
    };
    let mut lines = marker.lines();
    let Some(Ok(pid)) = lines.next().map(str::parse::<u32>) else {
        return false;
    };
    // A pid only means something in its own namespace: a container sharing this temp folder
    // could have a live owner whose pid is free here.
    let same_namespace = lines.next().unwrap_or_default() == pid_namespace();
    same_namespace && pid != std::process::id() && !process_exists(pid)
}

/// Names this process's pid namespace, or returns an empty string where there are none.
fn pid_namespace() -> String {
    fs::read_link("/proc/self/ns/pid")
        .map(|link| link.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A temporary folder for unit tests, removed on drop.
#[cfg(test)]
pub(crate) struct TestDir(PathBuf);

#[cfg(test)]
impl TestDir {
    /// Creates a fresh folder whose name contains `label`.
    pub(crate) fn new(label: &str) -> TestDir {
        TestDir(create(&std::env::temp_dir(), &format!("test-{label}-")).unwrap())
    }

    /// Returns the folder's path.
    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

#[cfg(test)]
impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    /// Creates a folder under `parent` that looks like one left by process `pid`.
    fn left_behind(parent: &Path, name: &str, pid: u32) -> PathBuf {
        let folder = parent.join(name);
        fs::create_dir(&folder).unwrap();
        fs::write(folder.join(MARKER), format!("{pid}\n{}\n", pid_namespace())).unwrap();
        folder
    }

    #[test]
    fn only_our_folders_with_a_dead_owner_are_reaped() {
        let parent = TestDir::new("reap");
        let me = fs::metadata(parent.path()).unwrap().uid();
        let dead = u32::MAX - 1;
        let abandoned = left_behind(parent.path(), "koppel-pglocal-1-a-0", dead);
        let alive = left_behind(parent.path(), "koppel-pglocal-2-b-0", std::process::id());
        let foreign = left_behind(parent.path(), "someone-else-3-c-0", dead);
        let unmarked = parent.path().join("koppel-pglocal-4-d-0");
        fs::create_dir(&unmarked).unwrap();
        let stopped = RefCell::new(Vec::new());

        reap_abandoned(parent.path(), me, |folder| {
            stopped.borrow_mut().push(folder.to_path_buf())
        });

        assert_eq!(stopped.into_inner(), vec![abandoned.clone()]);
        assert!(!abandoned.exists());
        assert!(alive.exists());
        assert!(foreign.exists());
        assert!(unmarked.exists());
    }

    #[test]
    fn folders_of_another_user_are_left_alone() {
        let parent = TestDir::new("reap-owner");
        let me = fs::metadata(parent.path()).unwrap().uid();
        let abandoned = left_behind(parent.path(), "koppel-pglocal-1-a-0", u32::MAX - 1);

        reap_abandoned(parent.path(), me + 1, |_| {
            panic!("must not stop a stranger's cluster")
        });

        assert!(abandoned.exists());
    }

    #[test]
    fn each_folder_is_new_and_marked_with_our_pid() {
        let parent = TestDir::new("create");

        let first = create(parent.path(), "").unwrap();
        let second = create(parent.path(), "").unwrap();

        assert_ne!(first, second);
        let marker = fs::read_to_string(first.join(MARKER)).unwrap();
        assert_eq!(
            marker.lines().next(),
            Some(std::process::id().to_string().as_str())
        );
        assert!(!is_abandoned(&first));
    }
}
