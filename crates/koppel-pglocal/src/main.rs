//! `koppel-pglocal [--durable] -- <command> [args…]`: runs a command next to a throwaway
//! PostgreSQL cluster.
//!
//! The command gets `DATABASE_URL` (the `postgres` database as superuser) and `KOPPEL_PG_PORT`
//! in its environment. The cluster is stopped and removed when the command ends, whatever
//! happened, and the runner exits with the command's exit code, so it can wrap `cargo test`
//! in CI.

use std::ffi::OsString;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitCode, ExitStatus};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use koppel_pglocal::{Cluster, Options};

/// The usage line, printed for `--help` and after a usage error.
const USAGE: &str = "usage: koppel-pglocal [--durable] -- <command> [args…]";

/// What `--help` adds to the usage line.
const HELP: &str = "\
Runs <command> next to a throwaway PostgreSQL cluster, then removes the cluster.

The command gets DATABASE_URL (database `postgres`, user `postgres`, over TCP on 127.0.0.1)
and KOPPEL_PG_PORT in its environment; koppel-pglocal exits with the command's exit code.

options:
  --durable   keep fsync, synchronous_commit and full_page_writes on (off by default, for speed)
  -h, --help  print this help";

/// The exit code for a usage error, as clap and most Unix tools use.
const EXIT_USAGE: u8 = 2;

/// The exit code when the signal handler or the cluster could not be set up.
const EXIT_SETUP_FAILED: u8 = 1;

/// The exit code when the command could not be run, as shells use for "not found".
const EXIT_NO_COMMAND: u8 = 127;

/// The exit code when we were interrupted before the command ran, as shells use for SIGINT.
const EXIT_INTERRUPTED: u8 = 130;

fn main() -> ExitCode {
    let invocation = match parse(std::env::args_os().skip(1)) {
        Ok(Some(parsed)) => parsed,
        Ok(None) => {
            println!("{USAGE}\n\n{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("koppel-pglocal: {message}\n{USAGE}");
            return ExitCode::from(EXIT_USAGE);
        }
    };

    // A terminal's Ctrl-C reaches the whole foreground process group: the command gets it and
    // decides what to do, while we must survive it to remove the cluster after the command
    // ends. The flag only matters if the signal arrives before the command runs.
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&interrupted);
    if let Err(error) = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst)) {
        eprintln!("koppel-pglocal: could not install the signal handler: {error}");
        return ExitCode::from(EXIT_SETUP_FAILED);
    }

    let cluster = match Cluster::start(Options {
        durable: invocation.durable,
        ..Options::default()
    }) {
        Ok(cluster) => cluster,
        Err(error) => {
            eprintln!("koppel-pglocal: {error}");
            return ExitCode::from(EXIT_SETUP_FAILED);
        }
    };
    if interrupted.load(Ordering::SeqCst) {
        return ExitCode::from(EXIT_INTERRUPTED);
    }

    let url = cluster.url("postgres");
    eprintln!(
        "koppel-pglocal: PostgreSQL on 127.0.0.1:{} ({url}), removed when the command ends",
        cluster.port()
    );
    let status = Command::new(&invocation.program)
        .args(&invocation.args)
        .env("DATABASE_URL", &url)
        .env("KOPPEL_PG_PORT", cluster.port().to_string())
        .status();
    // The cluster goes as soon as the command ends, whatever the command did, and before we
    // report anything.
    drop(cluster);

    match status {
        Ok(status) => ExitCode::from(exit_code(status)),
        Err(error) => {
            eprintln!(
                "koppel-pglocal: could not run {}: {error}",
                invocation.program.to_string_lossy()
            );
            ExitCode::from(EXIT_NO_COMMAND)
        }
    }
}

/// What the command line asks for.
#[derive(Debug, PartialEq)]
struct Invocation {
    /// Whether the cluster flushes to disk like a production server.
    durable: bool,
    /// The command to run.
    program: OsString,
    /// The command's arguments.
    args: Vec<OsString>,
}

/// Parses the arguments, returning `None` for `--help`.
fn parse(args: impl Iterator<Item = OsString>) -> Result<Option<Invocation>, String> {
    let mut durable = false;
    let mut args = args.peekable();
    while let Some(arg) = args.next_if(|arg| arg.to_str().is_some_and(|a| a.starts_with('-'))) {
        match arg.to_str() {
            Some("--durable") => durable = true,
            Some("-h" | "--help") => return Ok(None),
            Some("--") => break,
            _ => return Err(format!("unknown option {}", arg.to_string_lossy())),
        }
    }
    let program = args.next().ok_or("missing the command to run")?;
    Ok(Some(Invocation {
        durable,
        program,
        args: args.collect(),
    }))
}

/// Turns how the command ended into our exit code, the way a shell reports it.
fn exit_code(status: ExitStatus) -> u8 {
    let code = match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(signal)) => 128 + signal,
        (None, None) => 1,
    };
    u8::try_from(code & 0xff).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses `args` given as plain strings.
    fn parse_strs(args: &[&str]) -> Result<Option<Invocation>, String> {
        parse(args.iter().map(OsString::from))
    }

    #[test]
    fn options_end_at_the_double_dash_and_the_rest_is_the_command() {
        let invocation = parse_strs(&["--durable", "--", "cargo", "test", "--", "--nocapture"]);

        assert_eq!(
            invocation,
            Ok(Some(Invocation {
                durable: true,
                program: "cargo".into(),
                args: vec!["test".into(), "--".into(), "--nocapture".into()],
            }))
        );
    }

    #[test]
    fn a_missing_command_or_an_unknown_option_is_a_usage_error() {
        assert_eq!(
            parse_strs(&["--"]),
            Err("missing the command to run".to_owned())
        );
        assert_eq!(
            parse_strs(&["--fast", "--", "true"]),
            Err("unknown option --fast".to_owned())
        );
    }

    #[test]
    fn a_signal_death_becomes_128_plus_the_signal() {
        assert_eq!(exit_code(ExitStatus::from_raw(7 << 8)), 7);
        assert_eq!(exit_code(ExitStatus::from_raw(9)), 137);
    }
}
