//! A throwaway local PostgreSQL cluster, made from the installed server binaries.
//!
//! `koppel dev` and the test suite need a real PostgreSQL without asking developers to run
//! Docker or to configure a system service. [`Cluster::start`] runs `initdb` into a fresh
//! temporary folder and starts the server on a free loopback port; dropping the [`Cluster`]
//! stops the server and removes the folder.
//!
//! Starting takes about a second and blocks, so async callers should start the cluster before
//! entering their runtime or inside `spawn_blocking`. The library installs no signal handlers,
//! because its callers (tokio programs among them) own that decision; the `koppel-pglocal`
//! binary in this crate shows one way to clean up on Ctrl-C.
//!
//! ```no_run
//! let cluster = koppel_pglocal::Cluster::start(koppel_pglocal::Options::default())?;
//! let url = cluster.url("postgres");
//! // Connect with `url`; the cluster goes away when `cluster` is dropped.
//! # Ok::<(), koppel_pglocal::Error>(())
//! ```

mod bin_dir;
mod error;
mod process;
mod scratch;

use std::fs;
use std::io;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, PoisonError};

pub use error::Error;
use process::{Runner, run, shell_quote};

/// How many fresh ports to try when another process takes the one we picked before the server
/// could bind it.
const PORT_ATTEMPTS: usize = 5;

/// How many lines of the server log an error quotes.
const LOG_TAIL_LINES: usize = 20;

/// Settings for a [`Cluster`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Whether the server flushes to disk as a production server would.
    ///
    /// When false, the server runs with `fsync=off`, `synchronous_commit=off` and
    /// `full_page_writes=off`, which makes tests faster and loses data only if the machine
    /// crashes, when the cluster is gone anyway. A test of durability itself must set this.
    pub durable: bool,
    /// The server's `max_connections`; parallel tests with a pool each need many.
    pub max_connections: u32,
    /// More server settings, each `name=value` (given to the server as `-c name=value`),
    /// e.g. `shared_preload_libraries=pg_stat_statements` for a benchmark's statistics.
    pub settings: Vec<String>,
}

impl Default for Options {
    /// Returns fast, non-durable settings with room for 200 connections.
    fn default() -> Options {
        Options {
            durable: false,
            max_connections: 200,
            settings: Vec::new(),
        }
    }
}

/// A running (or deliberately stopped) PostgreSQL cluster in a temporary folder of its own.
///
/// The superuser is `postgres`, reachable without a password over TCP on `127.0.0.1` at
/// [`Cluster::port`]. Dropping the value stops the server and removes every file it wrote.
#[derive(Debug)]
pub struct Cluster {
    /// The folder holding `initdb`, `pg_ctl`, `postgres` and usually `psql`.
    bin_dir: PathBuf,
    /// How to run the tools: as ourselves, or as `postgres` when we are root.
    runner: Runner,
    /// The temporary folder holding everything below; removed on drop.
    root: PathBuf,
    /// The cluster's data folder.
    data_dir: PathBuf,
    /// The folder for the server's Unix socket, inside `root` so that clusters never collide.
    socket_dir: PathBuf,
    /// The server log, quoted in errors when the server will not start.
    log_file: PathBuf,
    /// The TCP port, kept across `stop` and `resume` so that handed-out URLs stay valid.
    port: u16,
    /// The settings the cluster was started with, reused by `resume`.
    options: Options,
    /// Whether the server is running, which also serialises `stop` and `resume`.
    running: Mutex<bool>,
}

impl Cluster {
    /// Finds the server binaries, creates a cluster in a fresh temporary folder and starts it
    /// on a free port of `127.0.0.1`.
    ///
    /// Folders that earlier processes left behind when they were killed are cleaned up first,
    /// servers included. As root, the tools run as the `postgres` system user, which is
    /// created if it does not exist.
    pub fn start(options: Options) -> Result<Cluster, Error> {
        let bin_dir = find_bin_dir()?;
        let runner = Runner::detect()?;
        let temp_dir = std::env::temp_dir();
        scratch::reap_abandoned(&temp_dir, process::effective_uid()?, |folder| {
            stop_immediately(&runner, &bin_dir, folder, &folder.join("data"));
        });

        let root = scratch::create(&temp_dir, "")?;
        // From here on, `Drop` removes the folder and any server whatever fails.
        let mut cluster = Cluster {
            data_dir: root.join("data"),
            socket_dir: root.join("sock"),
            log_file: root.join("server.log"),
            root,
            bin_dir,
            runner,
            port: 0,
            options,
            running: Mutex::new(false),
        };
        cluster.init()?;
        cluster.launch_on_a_free_port()?;
        Ok(cluster)
    }

    /// Returns the TCP port the server listens on, on `127.0.0.1`.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Returns a connection URL for `database` as the superuser `postgres`, over TCP on the
    /// loopback interface.
    ///
    /// The name is used as it is, so it should be a plain identifier like `koppel_test_7`.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Stops the server quickly (`pg_ctl stop -m fast`) but keeps its data, so that a test can
    /// simulate a database outage and then [`resume`](Cluster::resume).
    ///
    /// Stopping a stopped cluster does nothing.
    pub fn stop(&self) -> Result<(), Error> {
        self.halt("fast")
    }

    /// Stops the server as a crash would (`pg_ctl stop -m immediate`: no shutdown checkpoint,
    /// every connection cut), keeping its data; [`resume`](Cluster::resume) then starts it
    /// with crash recovery, as a supervisor restarts a database that went down.
    ///
    /// Only a cluster with [`Options::durable`] keeps every acknowledged commit through this:
    /// without it, commits of the last moments may be lost, as `synchronous_commit=off` says.
    /// Crashing a stopped cluster does nothing.
    pub fn crash(&self) -> Result<(), Error> {
        self.halt("immediate")
    }

    /// `pg_ctl stop -m <mode>` if the server runs, keeping its data.
    fn halt(&self, mode: &str) -> Result<(), Error> {
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        if *running {
            run(self
                .pg_ctl()
                .arg("-D")
                .arg(&self.data_dir)
                .args(["-w", "-t", "30", "-m", mode, "stop"]))?;
            *running = false;
        }
        Ok(())
    }

    /// Starts the server again after [`stop`](Cluster::stop), on the same port and with the
    /// same data.
    ///
    /// This fails if another process has taken the port in the meantime; it does not move to
    /// another port, because URLs handed out earlier would silently point elsewhere. Resuming a
    /// running cluster does nothing.
    pub fn resume(&self) -> Result<(), Error> {
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        if !*running {
            self.launch(self.port)?;
            *running = true;
        }
        Ok(())
    }

    /// Returns the cluster's data folder, which lives inside the temporary folder.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Returns the folder holding the server binaries this cluster runs from, where client
    /// tools of the same version such as `psql` and `pg_dump` usually are too.
    pub fn bin_dir(&self) -> &Path {
        &self.bin_dir
    }

    /// Creates the folders the server needs and runs `initdb`.
    fn init(&self) -> Result<(), Error> {
        if matches!(self.runner, Runner::AsPostgres { .. }) {
            // `postgres` must be able to pass through our folder to reach its own ones, whatever
            // the umask made of it.
            fs::set_permissions(
                &self.root,
                std::os::unix::fs::PermissionsExt::from_mode(0o755),
            )
            .map_err(|e| Error::io(format!("could not chmod {}", self.root.display()), e))?;
        }
        self.runner.create_dir(&self.data_dir, 0o700)?;
        self.runner.create_dir(&self.socket_dir, 0o1777)?;
        self.runner.create_file(&self.log_file)?;
        run(self
            .runner
            .command(&self.bin_dir.join("initdb"), &self.root)
            .arg("-D")
            .arg(&self.data_dir)
            .args([
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "-U",
                "postgres",
            ])
            // The cluster is thrown away, so waiting for its files to reach the disk is waste.
            .arg("--no-sync"))?;
        Ok(())
    }

    /// Starts the server on a free port, picking another when the port was taken between our
    /// check and the server's bind.
    fn launch_on_a_free_port(&mut self) -> Result<(), Error> {
        let mut attempt = 1;
        loop {
            let port = free_port()?;
            match self.launch(port) {
                Ok(()) => {
                    self.port = port;
                    *self
                        .running
                        .get_mut()
                        .unwrap_or_else(PoisonError::into_inner) = true;
                    return Ok(());
                }
                Err(error) if error.is_port_taken() && attempt < PORT_ATTEMPTS => attempt += 1,
                Err(error) => return Err(error),
            }
        }
    }

    /// Runs `pg_ctl start` on `port` and waits until the server accepts connections.
    fn launch(&self, port: u16) -> Result<(), Error> {
        // `pg_ctl` pastes these options into a shell command line, hence the quoting.
        let mut server_options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c max_connections={}",
            shell_quote(&self.socket_dir),
            self.options.max_connections,
        );
        if !self.options.durable {
            server_options
                .push_str(" -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
        }
        for setting in &self.options.settings {
            server_options.push_str(" -c ");
            server_options.push_str(&shell_quote(setting));
        }
        // Only what the server logs during this attempt explains this attempt's failure.
        let log_start = fs::metadata(&self.log_file).map_or(0, |meta| meta.len());
        let mut command = self.pg_ctl();
        command
            .args(["-w", "-t", "30", "-D"])
            .arg(&self.data_dir)
            .arg("-l")
            .arg(&self.log_file)
            .arg("-o")
            .arg(server_options)
            .arg("start");
        match run(&mut command) {
            Ok(_) => Ok(()),
            Err(Error::Command {
                command,
                status,
                stderr,
            }) => Err(Error::Start {
                command,
                status,
                stderr,
                log_tail: log_tail(&self.log_file, log_start),
            }),
            Err(other) => Err(other),
        }
    }

    /// Builds a `pg_ctl` command run as the right user.
    fn pg_ctl(&self) -> Command {
        self.runner
            .command(&self.bin_dir.join("pg_ctl"), &self.root)
    }
}

impl Drop for Cluster {
    /// Stops the server at once if it runs and removes the whole temporary folder.
    ///
    /// This looks at `postmaster.pid` rather than at our own bookkeeping, so that a server left
    /// running by a failed or interrupted start is stopped too.
    fn drop(&mut self) {
        stop_immediately(&self.runner, &self.bin_dir, &self.root, &self.data_dir);
        if let Err(error) = fs::remove_dir_all(&self.root)
            && error.kind() != io::ErrorKind::NotFound
        {
            // Drop cannot return the error, and a leftover folder is worth a line on stderr.
            eprintln!(
                "koppel-pglocal: could not remove {}: {error}",
                self.root.display()
            );
        }
    }
}

/// Returns the folder holding `initdb`, `pg_ctl` and `postgres`.
///
/// `PATH` is searched first (following links to the real folder), then
/// `/usr/lib/postgresql/<version>/bin` from the highest version down, then
/// `/usr/local/pgsql/bin`.
pub fn find_bin_dir() -> Result<PathBuf, Error> {
    bin_dir::search(&bin_dir::SearchPlaces::system())
}

/// Stops the server of `data_dir` without a shutdown checkpoint, if one is running.
///
/// Failures are ignored: this runs while cleaning up, when the folder is removed next anyway.
fn stop_immediately(runner: &Runner, bin_dir: &Path, work_dir: &Path, data_dir: &Path) {
    if data_dir.join("postmaster.pid").exists() {
        let _ = run(runner
            .command(&bin_dir.join("pg_ctl"), work_dir)
            .arg("-D")
            .arg(data_dir)
            .args(["-w", "-t", "30", "-m", "immediate", "stop"]));
    }
}

/// Returns a port on `127.0.0.1` that nothing listens on right now.
fn free_port() -> Result<u16, Error> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(|e| Error::io("could not bind a free port on 127.0.0.1", e))?;
    let address = listener
        .local_addr()
        .map_err(|e| Error::io("could not read the address of a free port", e))?;
    Ok(address.port())
}

/// Returns the last lines written to `log_file` after byte `from`.
fn log_tail(log_file: &Path, from: u64) -> String {
    let Ok(bytes) = fs::read(log_file) else {
        return String::new();
    };
    let from = usize::try_from(from).unwrap_or(0).min(bytes.len());
    let text = String::from_utf8_lossy(&bytes[from..]);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n")
}
