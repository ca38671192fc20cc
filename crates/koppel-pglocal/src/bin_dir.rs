//! Finding the folder that holds the PostgreSQL server binaries.
//!
//! Debian and Ubuntu do not put `initdb` or `pg_ctl` on `PATH` (only their `pg_wrapper` client
//! shims), so after `PATH` we look where those packages install each major version.

use std::cmp::Reverse;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::Error;

/// The binaries a folder must hold for us to run a cluster from it.
const SERVER_BINARIES: [&str; 3] = ["initdb", "pg_ctl", "postgres"];

/// Where to look for the server binaries, in order.
pub(crate) struct SearchPlaces {
    /// The value of `PATH`, searched first so that a user's choice of version wins.
    pub(crate) path: Option<OsString>,
    /// Folders whose subfolders are named by version and hold a `bin` folder, like
    /// `/usr/lib/postgresql`; the highest version is tried first.
    pub(crate) versioned_roots: Vec<PathBuf>,
    /// Folders tried as they are, last.
    pub(crate) fixed: Vec<PathBuf>,
}

impl SearchPlaces {
    /// Returns the places of this machine: its `PATH`, then the Debian/Ubuntu layout, then the
    /// default prefix of a source build.
    pub(crate) fn system() -> SearchPlaces {
        SearchPlaces {
            path: std::env::var_os("PATH"),
            versioned_roots: vec![PathBuf::from("/usr/lib/postgresql")],
            fixed: vec![PathBuf::from("/usr/local/pgsql/bin")],
        }
    }
}

/// Returns the first folder among `places` that holds all the server binaries.
pub(crate) fn search(places: &SearchPlaces) -> Result<PathBuf, Error> {
    let from_path = places
        .path
        .as_deref()
        .map(|path| std::env::split_paths(path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        // Resolving the link matters: `/usr/local/bin/initdb` may point into a version folder
        // that also holds `psql`, `pg_dump` and friends, which callers look for next to it.
        .filter_map(|dir| fs::canonicalize(dir.join("initdb")).ok())
        .filter_map(|initdb| initdb.parent().map(Path::to_path_buf));
    let versioned = places
        .versioned_roots
        .iter()
        .flat_map(|root| versions_of(root));
    let fixed = places.fixed.iter().cloned();

    from_path
        .chain(versioned)
        .chain(fixed)
        .find(|dir| has_server_binaries(dir))
        .ok_or(Error::NotInstalled)
}

/// Lists `root/<version>/bin` for every version folder under `root`, highest version first.
fn versions_of(root: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(root) else {
        return Vec::new();
    };
    let mut versions: Vec<(Option<Vec<u64>>, PathBuf)> = entries
        .filter_map(Result::ok)
        .map(|entry| (version_key(&entry.file_name()), entry.path().join("bin")))
        .collect();
    // Numeric versions sort highest first, and anything unparsable after all of them.
    versions.sort_by_key(|(key, path)| (key.is_none(), Reverse(key.clone()), path.clone()));
    versions.into_iter().map(|(_, path)| path).collect()
}

/// Parses a version folder name like `15` or `9.6` into numbers that compare correctly.
fn version_key(name: &OsStr) -> Option<Vec<u64>> {
    name.to_str()?
        .split('.')
        .map(|part| part.parse().ok())
        .collect()
}

/// Tells whether `dir` holds an executable `initdb`, `pg_ctl` and `postgres`.
fn has_server_binaries(dir: &Path) -> bool {
    SERVER_BINARIES
        .iter()
        .all(|name| is_executable(&dir.join(name)))
}

/// Tells whether `path` is (or links to) a file someone may execute.
fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scratch::TestDir;

    /// Creates `dir` with executable stand-ins for the server binaries.
    fn fake_install(dir: &Path) {
        fs::create_dir_all(dir).unwrap();
        for name in SERVER_BINARIES {
            let file = dir.join(name);
            fs::write(&file, "#!/bin/sh\n").unwrap();
            fs::set_permissions(&file, fs::Permissions::from_mode(0o755)).unwrap();
        }
    }

    #[test]
    fn with_an_empty_path_the_debian_layout_is_still_found() {
        let found = search(&SearchPlaces {
            path: Some(OsString::new()),
            ..SearchPlaces::system()
        })
        .unwrap();

        // On this machine that is /usr/lib/postgresql/15/bin. The version is not pinned, so that
        // a developer with another Debian version passes too; the choice among versions has a
        // test of its own below.
        let version = found.strip_prefix("/usr/lib/postgresql").unwrap();
        assert_eq!(version.iter().count(), 2, "{}", found.display());
        assert!(version.ends_with("bin"), "{}", found.display());
        assert!(has_server_binaries(&found));
    }

    #[test]
    fn the_highest_version_wins_and_numbers_compare_as_numbers() {
        let root = TestDir::new("versions");
        for version in ["9.6", "15", "16", "devel"] {
            fake_install(&root.path().join(version).join("bin"));
        }
        // A newer version that is only partly installed must be skipped, not chosen.
        fs::create_dir_all(root.path().join("17/bin")).unwrap();

        let found = search(&SearchPlaces {
            path: None,
            versioned_roots: vec![root.path().to_path_buf()],
            fixed: Vec::new(),
        })
        .unwrap();

        assert_eq!(found, root.path().join("16/bin"));
    }

    #[test]
    fn path_comes_before_the_version_folders_and_links_are_resolved() {
        let root = TestDir::new("path-first");
        fake_install(&root.path().join("versions/16/bin"));
        let real = root.path().join("opt/pg14/bin");
        fake_install(&real);
        let on_path = root.path().join("on-path");
        fs::create_dir_all(&on_path).unwrap();
        std::os::unix::fs::symlink(real.join("initdb"), on_path.join("initdb")).unwrap();

        let found = search(&SearchPlaces {
            path: Some(std::env::join_paths([root.path().join("empty"), on_path]).unwrap()),
            versioned_roots: vec![root.path().join("versions")],
            fixed: Vec::new(),
        })
        .unwrap();

        assert_eq!(found, fs::canonicalize(real).unwrap());
    }

    #[test]
    fn nothing_installed_names_the_package_to_install() {
        let root = TestDir::new("nothing");

        let error = search(&SearchPlaces {
            path: Some(root.path().as_os_str().to_owned()),
            versioned_roots: vec![root.path().join("postgresql")],
            fixed: vec![root.path().join("pgsql/bin")],
        })
        .unwrap_err();

        assert!(matches!(error, Error::NotInstalled), "{error:?}");
        let message = error.to_string();
        assert!(
            message.contains("`apt-get install postgresql`"),
            "{message}"
        );
        assert!(message.contains("`brew install postgresql`"), "{message}");
        assert!(message.contains("initdb, pg_ctl"), "{message}");
    }
}
