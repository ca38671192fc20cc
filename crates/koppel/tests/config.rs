//! `koppel serve` refuses configurations that would make it unsafe, before it
//! touches the database or opens a port.

use std::process::Command;

/// A key `serve` accepts, for the tests of other settings.
const GOOD_KEY: &str = "q3Jc9Zr1x+8YwTnB0lPaV7mKdE2sHf5uGiO4RtLbNyWvXzA6jQe/CkUoMgSpDhIF";

/// Runs `koppel serve` with this signing key and a database that is never
/// reached; returns whether it started to serve and what it printed.
fn serve_with_key(key: &str) -> (bool, String) {
    serve_with(key, &[])
}

/// [`serve_with_key`] with more settings of the environment.
fn serve_with(key: &str, settings: &[(&str, &str)]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_koppel"))
        .arg("serve")
        // Nothing listens on port 1: a start that got past the configuration
        // would fail differently (and name the database).
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .env("KOPPEL_LISTEN_ADDR", "127.0.0.1:0")
        .env("KOPPEL_SIGNING_KEY", key)
        .env("KOPPEL_LOG_FORMAT", "json")
        .envs(settings.iter().copied())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stderr).into_owned()
        + &String::from_utf8_lossy(&output.stdout);
    (output.status.success(), text)
}

#[test]
fn the_placeholder_key_of_the_old_compose_file_is_refused_at_start() {
    let (ok, text) = serve_with_key("change-me-to-at-least-32-random-bytes-of-secret");
    assert!(!ok);
    assert!(text.contains("KOPPEL_SIGNING_KEY is refused"), "{text}");
    assert!(text.contains("placeholder"), "{text}");
}

#[test]
fn a_long_key_of_few_distinct_bytes_is_refused_at_start() {
    let (ok, text) = serve_with_key(&"ab".repeat(40));
    assert!(!ok);
    assert!(text.contains("distinct bytes"), "{text}");
}

#[test]
fn the_compose_file_takes_the_key_from_the_environment_or_refuses() {
    let compose = include_str!("../../../docker-compose.yml");
    let line = compose
        .lines()
        .find(|l| l.trim_start().starts_with("KOPPEL_SIGNING_KEY:"))
        .expect("docker-compose.yml sets KOPPEL_SIGNING_KEY");
    assert!(
        line.contains("${KOPPEL_SIGNING_KEY:?"),
        "compose must require the key from the environment: {line}"
    );
}

#[test]
fn a_random_key_gets_past_the_configuration() {
    let (ok, text) = serve_with_key(GOOD_KEY);
    // It fails later, on the database nobody runs, not on the key.
    assert!(!ok);
    assert!(!text.contains("KOPPEL_SIGNING_KEY"), "{text}");
}

#[test]
fn a_webhook_public_setting_that_is_not_a_boolean_is_refused_at_start() {
    let (ok, text) = serve_with(GOOD_KEY, &[("KOPPEL_WEBHOOK_PUBLIC", "no")]);
    assert!(!ok);
    assert!(
        text.contains("KOPPEL_WEBHOOK_PUBLIC \"no\" is neither true nor false"),
        "{text}"
    );
}

#[test]
fn an_idle_timeout_shorter_than_the_header_timeout_is_refused_at_start() {
    let (ok, text) = serve_with(
        GOOD_KEY,
        &[
            ("KOPPEL_HEADER_TIMEOUT_SECS", "30"),
            ("KOPPEL_IDLE_TIMEOUT_SECS", "10"),
        ],
    );
    assert!(!ok);
    assert!(
        text.contains(
            "KOPPEL_IDLE_TIMEOUT_SECS (10) is shorter than KOPPEL_HEADER_TIMEOUT_SECS (30)"
        ),
        "{text}"
    );
}

#[test]
fn an_idempotency_quota_that_is_not_a_positive_number_is_refused_at_start() {
    let (ok, text) = serve_with(GOOD_KEY, &[("KOPPEL_IDEMPOTENCY_QUOTA", "0")]);
    assert!(!ok);
    assert!(
        text.contains("KOPPEL_IDEMPOTENCY_QUOTA \"0\" is not a whole number above 0"),
        "{text}"
    );
}
