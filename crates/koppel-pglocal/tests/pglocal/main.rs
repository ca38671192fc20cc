//! Tests against real PostgreSQL servers, built into one binary.

mod cli;
mod cluster;

use std::net::{Ipv4Addr, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Output};

/// Returns the `psql` next to the server binaries, so the tests use a client of the same version.
fn psql_path() -> PathBuf {
    koppel_pglocal::find_bin_dir().unwrap().join("psql")
}

/// Runs `sql` with `psql` as `postgres` over TCP on `port`, unaligned and without headers, and
/// never prompting for a password (which would hang the test).
fn psql_command(port: u16, sql: &str) -> Output {
    Command::new(psql_path())
        .args([
            "-X",
            "-w",
            "-A",
            "-t",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-p",
        ])
        .arg(port.to_string())
        .args(["-c", sql])
        .output()
        .unwrap()
}

/// Runs `select 1` over TCP on `port`.
fn select_one(port: u16) -> Output {
    psql_command(port, "select 1")
}

/// Asserts that the server on `port` answers `select 1` with 1.
fn assert_answers(port: u16) {
    let output = select_one(port);
    assert!(
        output.status.success(),
        "psql failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "1");
}

/// Asserts that nothing accepts connections on `port` of `127.0.0.1`.
fn assert_refused(port: u16) {
    let error = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap_err();
    assert_eq!(
        error.kind(),
        std::io::ErrorKind::ConnectionRefused,
        "{error}"
    );
}
