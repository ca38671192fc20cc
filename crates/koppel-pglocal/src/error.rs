//! The one error type of the crate.
//!
//! Every variant that comes from running a command carries that command and what it said, because
//! "initdb failed" on a CI log is useless without the reason.

use std::fmt;
use std::io;
use std::process::ExitStatus;

/// Why a local PostgreSQL cluster could not be found, started, stopped or resumed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The server binaries (`initdb`, `pg_ctl`, `postgres`) are not installed where we look.
    NotInstalled,
    /// A file system operation, or spawning a command, failed.
    Io {
        /// What we were doing, such as "could not create /tmp/koppel-pglocal-…/data".
        context: String,
        /// The underlying operating system error.
        source: io::Error,
    },
    /// A command ran but exited unsuccessfully.
    Command {
        /// The command line as it was run, including any `runuser` prefix.
        command: String,
        /// How the command ended.
        status: ExitStatus,
        /// What the command wrote on stderr, trimmed.
        stderr: String,
    },
    /// `pg_ctl start` failed; the server log usually says why.
    Start {
        /// The `pg_ctl` command line as it was run.
        command: String,
        /// How `pg_ctl` ended.
        status: ExitStatus,
        /// What `pg_ctl` wrote on stderr, trimmed.
        stderr: String,
        /// The last lines the server wrote to its log during this attempt.
        log_tail: String,
    },
}

impl Error {
    /// Wraps an I/O error with what we were doing when it happened.
    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Error {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// Tells whether the server failed only because another process took its port first, the
    /// one failure that is worth retrying on another port.
    pub(crate) fn is_port_taken(&self) -> bool {
        matches!(self, Error::Start { log_tail, .. } if log_tail.contains("Address already in use"))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotInstalled => f.write_str(
                "PostgreSQL server binaries (initdb, pg_ctl) were not found on PATH or under \
                 /usr/lib/postgresql/*/bin; install them with `apt-get install postgresql` \
                 (Debian/Ubuntu) or `brew install postgresql` (macOS)",
            ),
            Error::Io { context, source } => write!(f, "{context}: {source}"),
            Error::Command {
                command,
                status,
                stderr,
            } => {
                write!(f, "`{command}` failed ({status})")?;
                if !stderr.is_empty() {
                    write!(f, ": {stderr}")?;
                }
                Ok(())
            }
            Error::Start {
                command,
                status,
                stderr,
                log_tail,
            } => {
                write!(
                    f,
                    "could not start PostgreSQL: `{command}` failed ({status})"
                )?;
                if !stderr.is_empty() {
                    write!(f, ": {stderr}")?;
                }
                if log_tail.is_empty() {
                    f.write_str("\nthe server log is empty")
                } else {
                    write!(f, "\nthe server log ends with:\n{log_tail}")
                }
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
