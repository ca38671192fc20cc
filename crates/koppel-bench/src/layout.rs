//! `--database-apart`: PostgreSQL on a core of its own, Koppel and the load generator on the
//! others, as in production, where the database runs on a machine of its own.
//!
//! On a machine shared by all three, every microsecond one process spends is taken from the
//! others, so the ratio to plain SQL measures who wins the cores as much as what Koppel adds
//! (bench/README.md, "Where the time of a request goes"). Apart, each side is bounded by its
//! own share: the database's work per request, or the client's and Koppel's.
//!
//! The cores are assigned with `taskset` (util-linux): the postmaster and the processes it
//! started so far get core 0, and the backends it forks later inherit it; this process gets
//! the other cores before it starts any thread, and `koppel serve` inherits them.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail, ensure};

/// Moves the cluster whose data folder is `data_dir` to core 0 and this process to the rest.
pub fn database_apart(data_dir: &Path) -> anyhow::Result<String> {
    let cores = std::thread::available_parallelism()
        .context("cannot count this machine's cores")?
        .get();
    ensure!(
        cores >= 2,
        "--database-apart needs two cores or more; this process may use {cores}"
    );
    let pid_file = data_dir.join("postmaster.pid");
    let postmaster = std::fs::read_to_string(&pid_file)
        .with_context(|| format!("cannot read {}", pid_file.display()))?
        .lines()
        .next()
        .and_then(|line| line.trim().parse::<u32>().ok())
        .context("postmaster.pid does not start with a process id")?;
    // Its children so far: checkpointer, background writer, WAL writer, and so on.
    let children =
        std::fs::read_to_string(format!("/proc/{postmaster}/task/{postmaster}/children"))
            .unwrap_or_default();
    for pid in std::iter::once(postmaster.to_string())
        .chain(children.split_whitespace().map(str::to_owned))
    {
        taskset(&["-a", "-p", "-c", "0", &pid])?;
    }
    let rest = format!("1-{}", cores - 1);
    taskset(&["-a", "-p", "-c", &rest, &std::process::id().to_string()])?;
    Ok(format!(
        "PostgreSQL on core 0, Koppel and the load generator on cores {rest}"
    ))
}

fn taskset(args: &[&str]) -> anyhow::Result<()> {
    let output = Command::new("taskset")
        .args(args)
        .output()
        .context("cannot run taskset (util-linux): install it, or leave out --database-apart")?;
    if !output.status.success() {
        bail!(
            "taskset {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}
