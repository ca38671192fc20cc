//! Running the PostgreSQL tools, as the `postgres` user when we are root.
//!
//! `initdb`, `pg_ctl` and `postgres` refuse to run as root, and CI containers and these
//! machines run everything as root, so there we hand the tools and their folders to a system
//! user instead.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::Error;

/// The system user that runs PostgreSQL when we are root.
const POSTGRES_USER: &str = "postgres";

/// How to run the PostgreSQL tools in this process.
#[derive(Debug, Clone)]
pub(crate) enum Runner {
    /// We are not root: run the tools directly, as ourselves.
    Direct,
    /// We are root: run the tools through `runuser`, as this user.
    AsPostgres {
        /// The user id of `postgres`.
        uid: u32,
        /// The primary group id of `postgres`.
        gid: u32,
    },
}

impl Runner {
    /// Picks how to run the tools, creating the `postgres` user when we are root and it is
    /// missing.
    pub(crate) fn detect() -> Result<Runner, Error> {
        if effective_uid()? != 0 {
            return Ok(Runner::Direct);
        }
        if user_id("-u").is_err() {
            let created =
                run(Command::new("useradd").args(["--system", "--no-create-home", POSTGRES_USER]));
            // Another process may have created the user in between, which is just as good.
            if let Err(error) = created
                && user_id("-u").is_err()
            {
                return Err(error);
            }
        }
        Ok(Runner::AsPostgres {
            uid: user_id("-u")?,
            gid: user_id("-g")?,
        })
    }

    /// Builds a command that runs `program` as the right user.
    ///
    /// The command gets a process group of its own, so that a Ctrl-C in the terminal does not
    /// kill `initdb` or `pg_ctl` halfway: the caller decides how to stop, and cleans up.
    pub(crate) fn command(&self, program: &Path, work_dir: &Path) -> Command {
        let mut command = match self {
            Runner::Direct => Command::new(program),
            Runner::AsPostgres { .. } => {
                let mut command = Command::new("runuser");
                command.args(["-u", POSTGRES_USER, "--"]).arg(program);
                command
            }
        };
        // The caller's working folder may be closed to `postgres` (like `/root`), which makes
        // the tools warn or fail, so they run inside our own folder instead.
        command
            .current_dir(work_dir)
            .stdin(Stdio::null())
            .process_group(0);
        command
    }

    /// Creates the folder `path` with `mode`, owned by the user that runs the server.
    pub(crate) fn create_dir(&self, path: &Path, mode: u32) -> Result<(), Error> {
        fs::create_dir(path)
            .map_err(|e| Error::io(format!("could not create {}", path.display()), e))?;
        self.hand_over(path, mode)
    }

    /// Creates the empty file `path`, writable by the user that runs the server.
    pub(crate) fn create_file(&self, path: &Path) -> Result<(), Error> {
        fs::write(path, "")
            .map_err(|e| Error::io(format!("could not create {}", path.display()), e))?;
        self.hand_over(path, 0o600)
    }

    /// Sets the mode of `path` and gives it to the user that runs the server.
    fn hand_over(&self, path: &Path, mode: u32) -> Result<(), Error> {
        if let Runner::AsPostgres { uid, gid } = self {
            std::os::unix::fs::chown(path, Some(*uid), Some(*gid))
                .map_err(|e| Error::io(format!("could not chown {}", path.display()), e))?;
        }
        // Set explicitly rather than at creation, because the umask would otherwise clear the
        // sticky and world bits the socket folder needs.
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
            .map_err(|e| Error::io(format!("could not chmod {}", path.display()), e))
    }
}

/// Runs `command` to completion and returns its output, or an error naming the command and
/// quoting its stderr when it fails.
pub(crate) fn run(command: &mut Command) -> Result<Output, Error> {
    let description = describe(command);
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::io(format!("could not run `{description}`"), e))?;
    if output.status.success() {
        Ok(output)
    } else {
        Err(Error::Command {
            command: description,
            status: output.status,
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        })
    }
}

/// Renders `command` as a shell command line, so that an error can be pasted and rerun.
pub(crate) fn describe(command: &Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(shell_quote)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Quotes `word` for a POSIX shell, leaving plain words as they are for readability.
pub(crate) fn shell_quote(word: impl AsRef<OsStr>) -> String {
    let word = word.as_ref().to_string_lossy();
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c));
    if plain {
        word.into_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Returns the effective user id of this process.
///
/// We read it from procfs, or from `id -u` where there is none (macOS), because calling
/// `geteuid` would need `unsafe` or another dependency.
pub(crate) fn effective_uid() -> Result<u32, Error> {
    if let Ok(status) = fs::read_to_string("/proc/self/status") {
        // The line reads "Uid:\t<real>\t<effective>\t<saved>\t<filesystem>".
        let effective = status
            .lines()
            .find_map(|line| line.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            .and_then(|id| id.parse().ok());
        if let Some(uid) = effective {
            return Ok(uid);
        }
    }
    parse_id(run(Command::new("id").arg("-u"))?)
}

/// Returns the user id (`-u`) or group id (`-g`) of the `postgres` user.
fn user_id(which: &str) -> Result<u32, Error> {
    parse_id(run(Command::new("id").args([which, POSTGRES_USER]))?)
}

/// Parses the number that `id` printed.
fn parse_id(output: Output) -> Result<u32, Error> {
    let text = String::from_utf8_lossy(&output.stdout);
    text.trim().parse().map_err(|_| {
        Error::io(
            format!("could not read a user id from `id` output {text:?}"),
            std::io::ErrorKind::InvalidData.into(),
        )
    })
}

/// Tells whether the process `pid` still exists.
///
/// When unsure this answers yes, because its only use is deciding whether a cluster is
/// abandoned, and removing a live one would be far worse than leaving a dead one.
pub(crate) fn process_exists(pid: u32) -> bool {
    let proc = Path::new("/proc");
    if proc.join("self").exists() {
        return proc.join(pid.to_string()).exists();
    }
    match Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stdin(Stdio::null())
        .output()
    {
        // `kill -0` fails with "not permitted" for a live process of another user.
        Ok(output) => {
            output.status.success()
                || String::from_utf8_lossy(&output.stderr).contains("not permitted")
        }
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_leaves_plain_words_and_protects_the_rest() {
        assert_eq!(
            shell_quote("/usr/lib/postgresql/15/bin/pg_ctl"),
            "/usr/lib/postgresql/15/bin/pg_ctl"
        );
        assert_eq!(shell_quote("-c fsync=off"), "'-c fsync=off'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn this_process_exists_and_an_impossible_pid_does_not() {
        assert!(process_exists(std::process::id()));
        // Linux caps pids at 2^22, so this one can never be in use.
        assert!(!process_exists(u32::MAX - 1));
    }
}
