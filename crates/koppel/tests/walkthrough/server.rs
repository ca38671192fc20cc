//! A `koppel serve` of its own for each executed page: a fresh database in the cluster of
//! `DATABASE_URL`, a free loopback port, a generated signing key, and a scratch folder.
//! Dropping it kills the server and removes the folder, however the test ends.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::ConnectOptions as _;
use sqlx::Connection as _;
use sqlx::postgres::{PgConnectOptions, PgConnection};

/// How long the server may take to become ready.
const START_DEADLINE: Duration = Duration::from_secs(30);

/// A running `koppel serve`.
pub struct Server {
    child: Child,
    base_url: String,
    database_url: String,
    dir: PathBuf,
    /// The environment beyond database and address, kept for a restart.
    env: Vec<(String, String)>,
}

/// Starts `koppel serve` on `database_url` and `port`, logging (appending) to the folder.
fn spawn(database_url: &str, port: u16, env: &[(String, String)], dir: &Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("server.log"))
        .unwrap();
    Command::new(env!("CARGO_BIN_EXE_koppel"))
        .arg("serve")
        .env("DATABASE_URL", database_url)
        .env("KOPPEL_LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("KOPPEL_LOG_FORMAT", "json")
        .env_remove("KOPPEL_PUBLIC_URL")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("cannot start koppel serve")
}

/// The cluster of `DATABASE_URL`, where each server gets a database of its own.
fn database_url() -> String {
    std::env::var("DATABASE_URL").expect(
        "DATABASE_URL is not set: run this through scripts/test or scripts/docs-check, \
         which start a throwaway PostgreSQL",
    )
}

/// Makes an empty database next to the one `url` names and answers its URL.
fn fresh_database(url: &str, name: &str) -> String {
    let options: PgConnectOptions = url.parse().expect("not a PostgreSQL URL");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut connection = PgConnection::connect_with(&options)
            .await
            .expect("cannot connect to DATABASE_URL");
        // The name is ours (a prefix, a process id and a time), never outside input.
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut connection)
            .await
            .expect("cannot create the walkthrough's database");
    });
    options.database(name).to_url_lossy().to_string()
}

fn free_port() -> u16 {
    // The port is free now; the server binds it a moment later. Another process taking it
    // in between would fail the start loudly, not silently.
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn ready(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = "GET /health/ready HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    let mut answer = String::new();
    stream.write_all(request.as_bytes()).is_ok()
        && stream.read_to_string(&mut answer).is_ok()
        && answer.starts_with("HTTP/1.1 200")
}

impl Server {
    /// Starts the server with extra environment variables (limits, say) and waits until
    /// `/health/ready` answers 200.
    pub fn start_with(env: &[(&str, &str)]) -> Self {
        Self::start_in(&database_url(), env)
    }

    /// Starts the server on a fresh database in the cluster of `cluster_url` (a test's own
    /// cluster, which it may crash), with extra environment variables.
    #[allow(dead_code, reason = "used by the fault tests, not the walkthrough")]
    pub fn start_in(cluster_url: &str, env: &[(&str, &str)]) -> Self {
        let unique = format!(
            "koppel_walkthrough_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        );
        let dir = std::env::temp_dir().join(&unique);
        std::fs::create_dir_all(&dir).unwrap();
        let database_url = fresh_database(cluster_url, &unique);
        let port = free_port();
        let mut env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        env.push((
            "KOPPEL_SIGNING_KEY".to_owned(),
            format!("q3Jc9Zr1x+8YwTnB0lPaV7mKdE2sHf5u walkthrough {unique}"),
        ));
        let child = spawn(&database_url, port, &env, &dir);
        let mut server = Self {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
            database_url,
            dir,
            env,
        };
        server.wait_until_ready();
        server
    }

    /// Kills the process at once (SIGKILL: no shutdown, no flushing) and starts a new one on
    /// the same database and port, as a crashed server restarted by its supervisor.
    #[allow(dead_code, reason = "used by the fault tests, not the walkthrough")]
    pub fn kill_and_restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = spawn(&self.database_url, self.port(), &self.env, &self.dir);
        self.wait_until_ready();
    }

    fn wait_until_ready(&mut self) {
        let started = Instant::now();
        while !ready(self.port()) {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("koppel serve exited with {status}:\n{}", self.log_tail(30));
            }
            assert!(
                started.elapsed() < START_DEADLINE,
                "koppel serve was not ready within {START_DEADLINE:?}:\n{}",
                self.log_tail(30)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The port it listens on, on 127.0.0.1.
    #[allow(
        dead_code,
        reason = "used by the slow-client tests, not the walkthrough"
    )]
    pub fn port(&self) -> u16 {
        self.base_url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("the base URL ends in a port")
    }

    /// The URL the walkthrough calls `$KOPPEL`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The server's own database, for the CLI steps.
    pub fn database_url(&self) -> &str {
        &self.database_url
    }

    /// A folder that lives as long as the server.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The last lines the server logged, for failure messages.
    pub fn log_tail(&self, lines: usize) -> String {
        let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
        let all: Vec<&str> = log.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
