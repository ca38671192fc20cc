//! The `koppel-pglocal` binary, end to end.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use crate::{assert_refused, psql_path};

/// Returns a command running the binary under test.
fn koppel_pglocal() -> Command {
    Command::new(env!("CARGO_BIN_EXE_koppel-pglocal"))
}

/// Quotes `word` for `sh -c`.
fn sh_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

#[test]
fn the_command_reaches_the_cluster_through_database_url() {
    let script = format!(
        r#"{} -X -w -A -t "$DATABASE_URL" -c "select 1" && echo "port $KOPPEL_PG_PORT""#,
        sh_quote(psql_path().to_str().unwrap())
    );

    let output = koppel_pglocal()
        .args(["--", "sh", "-c", &script])
        .output()
        .unwrap();

    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut lines = stdout.lines();
    assert_eq!(lines.next(), Some("1"));
    let port: u16 = lines
        .next()
        .unwrap()
        .strip_prefix("port ")
        .unwrap()
        .parse()
        .unwrap();
    assert!(String::from_utf8_lossy(&output.stderr).contains(&format!("127.0.0.1:{port}")));
    assert_refused(port);
}

#[test]
fn a_failing_command_passes_its_exit_code_through_and_the_cluster_still_goes() {
    let output = koppel_pglocal()
        .args([
            "--durable",
            "--",
            "sh",
            "-c",
            r#"echo "$KOPPEL_PG_PORT"; exit 7"#,
        ])
        .output()
        .unwrap();

    assert_eq!(
        output.status.code(),
        Some(7),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let port: u16 = String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap();
    assert_refused(port);
}

#[test]
fn a_command_that_does_not_exist_is_127() {
    let output = koppel_pglocal()
        .args(["--", "/nonexistent/koppel-pglocal-command"])
        .output()
        .unwrap();

    assert_eq!(output.status.code(), Some(127));
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("could not run /nonexistent/koppel-pglocal-command")
    );
}

#[test]
fn without_a_command_it_is_a_usage_error() {
    let output = koppel_pglocal().arg("--durable").output().unwrap();

    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("usage: koppel-pglocal"));
}

#[test]
fn sigterm_to_the_runner_waits_for_the_command_then_removes_the_cluster() {
    // The command reports the port, then waits for a line on stdin so the test decides when it
    // ends, with no sleeping.
    let mut runner = koppel_pglocal()
        .args([
            "--",
            "sh",
            "-c",
            r#"echo "$KOPPEL_PG_PORT"; read line; exit 3"#,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(runner.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let port: u16 = line.trim().parse().unwrap();

    let kill = Command::new("kill")
        .args(["-TERM", &runner.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    // Without the handler the runner would die here and leave the server running.
    crate::assert_answers(port);
    runner.stdin.take().unwrap().write_all(b"go\n").unwrap();
    let mut stderr = String::new();
    runner
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = runner.wait().unwrap();

    assert_eq!(status.code(), Some(3), "{stderr}");
    assert_refused(port);
}

#[test]
fn ctrl_c_in_the_terminal_ends_the_command_and_still_removes_the_cluster() {
    // A process group of its own stands in for the terminal's foreground group, which is what
    // a Ctrl-C signals as a whole.
    let mut runner = koppel_pglocal()
        .args(["--", "sh", "-c", r#"echo "$KOPPEL_PG_PORT"; read line"#])
        .process_group(0)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(runner.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port: u16 = line.trim().parse().unwrap();

    let kill = Command::new("kill")
        .args(["-INT", "--", &format!("-{}", runner.id())])
        .status()
        .unwrap();
    assert!(kill.success());
    let mut stderr = String::new();
    runner
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = runner.wait().unwrap();

    assert_eq!(status.code(), Some(130), "{stderr}");
    assert_refused(port);
}
