//! Koppel reaches a PostgreSQL that requires TLS, as managed offerings do: `sslmode=require`
//! in `DATABASE_URL` gives an encrypted connection (#15, item 14). Built with `tls-none`,
//! sqlx refuses such a URL ("built without TLS support").
//!
//! The test makes its own cluster, with a self-signed certificate from the `openssl` command.

use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::Path;
use std::process::{Command, Stdio};

use koppel_pglocal::{Cluster, Options};
use koppel_store::{PoolConfig, Store};

fn run(command: &mut Command) {
    let status = command.status().expect("the command runs");
    assert!(status.success(), "{command:?} failed");
}

/// Writes a self-signed certificate and its key into the data folder and turns TLS on.
fn enable_tls(data: &Path) {
    let crt = data.join("server.crt");
    let key = data.join("server.key");
    run(Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=127.0.0.1", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&crt)
        .stderr(Stdio::null()));
    // The server runs as the data folder's owner and refuses a key others can read.
    let owner = std::fs::metadata(data).expect("the data folder").uid();
    for file in [&crt, &key] {
        std::os::unix::fs::chown(file, Some(owner), None).expect("chown");
    }
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let conf = data.join("postgresql.conf");
    let mut text = std::fs::read_to_string(&conf).expect("postgresql.conf");
    text.push_str("\nssl = on\n");
    std::fs::write(&conf, text).expect("postgresql.conf");
}

#[tokio::test]
async fn a_database_url_with_sslmode_require_connects_over_tls() {
    assert!(
        Command::new("openssl").arg("version").output().is_ok(),
        "this test needs the openssl command (Debian: apt-get install openssl)"
    );
    let cluster = Cluster::start(Options::default()).expect("a PostgreSQL cluster");
    cluster.stop().expect("stop");
    enable_tls(cluster.data_dir());
    cluster.resume().expect("resume with TLS");

    let url = format!("{}?sslmode=require", cluster.url("postgres"));
    let store = Store::connect_lazy(&url, &PoolConfig::default()).expect("a valid URL");
    let (encrypted,): (bool,) =
        sqlx::query_as("select ssl from pg_stat_ssl where pid = pg_backend_pid()")
            .fetch_one(store.pool())
            .await
            .expect("a connection with sslmode=require");
    assert!(encrypted, "the connection is not encrypted");
}
