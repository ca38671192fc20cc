//! Runs the executable pages of `docs/` against a live `koppel serve`, so they can
//! never go stale (seed demands W4/K4: a written-out example that CI runs): `walkthrough.md`
//! (every request of an operator and a vendor) and `connectors.md` (the guide for
//! bookkeeping connectors), each on a server and database of its own.
//!
//! Every block fenced as "```sh walkthrough" runs, in order, in one bash with
//! `set -euo pipefail` (so variables carry from step to step), in a scratch
//! folder, with `KOPPEL` (the server's base URL) and `DATABASE_URL` (its
//! database) set and the `koppel` binary on `PATH`. What each step prints must
//! match the answer block under it by the rules in `answer.rs`. The Dutch
//! pages (`*.nl.md`) are not run: their blocks must equal the English ones, so
//! only the prose is translated and both stay true.
//!
//! Needs `DATABASE_URL` (a PostgreSQL it may create a database in, as
//! `scripts/test` and `scripts/docs-check` give it), `bash`, `curl`, `jq` and `python3` (the
//! connector guide's webhook receiver).

mod answer;
mod markdown;
mod server;

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use markdown::Step;

/// How long one page may take, all its steps together, before it counts as hung.
const RUN_DEADLINE: Duration = Duration::from_secs(60);

fn docs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs")
}

fn read_steps(file: &str) -> Vec<Step> {
    let path = docs().join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    markdown::steps(&text).unwrap_or_else(|e| panic!("docs/{file}: {e}"))
}

/// Every `$NAME` an answer mentions: the shell variables to report after each step.
fn variables(steps: &[Step]) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for answer in steps.iter().filter_map(|s| s.answer.as_deref()) {
        for (i, _) in answer.match_indices('$') {
            let rest = answer[i + 1..].trim_start_matches('{');
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            if !name.is_empty() {
                names.insert(name);
            }
        }
    }
    names
}

/// One bash script that runs every step, keeping each step's output and, after it, the
/// variables the answers mention; an exit trap records which step stopped the run.
fn script(steps: &[Step], names: &BTreeSet<String>) -> String {
    let mut script = String::from(
        "set -euo pipefail\nstep=0\ntrap 'echo \"$step $?\" > .walkthrough/status' EXIT\n",
    );
    let dump: String = names
        .iter()
        .map(|n| format!(" {n} \"${{{n}-}}\""))
        .collect();
    for (i, step) in steps.iter().enumerate() {
        let _ = write!(
            script,
            "step={n}\n{{\n{code}\n}} >.walkthrough/{n}.out 2>.walkthrough/{n}.err </dev/null\n\
             printf '%s\\0'{dump} >.walkthrough/{n}.vars\n",
            n = i + 1,
            code = step.code,
        );
    }
    script.push_str("step=done\n");
    script
}

fn read_vars(path: &Path) -> HashMap<String, String> {
    let raw = std::fs::read_to_string(path).unwrap_or_default();
    let mut fields = raw.split('\0');
    let mut vars = HashMap::new();
    while let (Some(name), Some(value)) = (fields.next(), fields.next()) {
        vars.insert(name.to_owned(), value.to_owned());
    }
    vars
}

fn require_tools() {
    for tool in ["bash", "curl", "jq", "python3"] {
        let found = Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(found, "the docs/ pages need {tool} on PATH; install it");
    }
}

/// Runs every step of `docs/{file}` on a server of its own and fails naming each step
/// that stopped the run or printed something other than its answer.
fn answers_as_written(file: &str) {
    require_tools();
    let steps = read_steps(file);
    let names = variables(&steps);
    // Loopback receivers of the connector guide's webhooks are allowed, as in development.
    let server = server::Server::start_with(&[
        ("KOPPEL_WEBHOOK_ALLOW_HOSTS", "127.0.0.1"),
        ("KOPPEL_WEBHOOK_PUBLIC", "false"),
    ]);
    let scratch = server.dir().join("scratch");
    std::fs::create_dir_all(scratch.join(".walkthrough")).unwrap();

    let koppel_dir = Path::new(env!("CARGO_BIN_EXE_koppel")).parent().unwrap();
    let path = format!(
        "{}:{}",
        koppel_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // A clean environment, so nothing of the caller's (a proxy, a KOPPEL_* setting) leaks in.
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(script(&steps, &names))
        .current_dir(&scratch)
        .env_clear()
        .env("PATH", path)
        .env("HOME", &scratch)
        .env("LANG", "C.UTF-8")
        .env("KOPPEL", server.base_url())
        .env("DATABASE_URL", server.database_url())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("cannot run bash");
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > RUN_DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }

    let kept = scratch.join(".walkthrough");
    let status = std::fs::read_to_string(kept.join("status")).unwrap_or_default();
    // Without a status the run was killed at the deadline, in the first unfinished step.
    let unfinished = (1..=steps.len())
        .find(|n| !kept.join(format!("{n}.vars")).exists())
        .map_or("done".to_owned(), |n| n.to_string());
    let (stopped_at, exit) = status
        .trim()
        .split_once(' ')
        .unwrap_or((unfinished.as_str(), "(killed: it took too long)"));
    let mut failures = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let n = i + 1;
        let output = std::fs::read_to_string(kept.join(format!("{n}.out"))).unwrap_or_default();
        let errors = std::fs::read_to_string(kept.join(format!("{n}.err"))).unwrap_or_default();
        if stopped_at == n.to_string() {
            failures.push(format!(
                "step {n} at {} failed with exit status {exit}\n--- it printed:\n{output}\n--- on stderr:\n{errors}",
                step.name(&format!("docs/{file}"))
            ));
            break;
        }
        let problems = match &step.answer {
            Some(expected) => answer::differences(
                expected,
                &output,
                &read_vars(&kept.join(format!("{n}.vars"))),
            ),
            None if output.trim().is_empty() => vec![],
            None => vec![format!(
                "it has no answer block, so it must print nothing; it printed {output:?}"
            )],
        };
        if !problems.is_empty() {
            failures.push(format!(
                "step {n} at {} does not answer as written:\n  {}\n--- it printed:\n{output}",
                step.name(&format!("docs/{file}")),
                problems.join("\n  ")
            ));
        }
    }
    if status.is_empty() {
        failures.push(format!(
            "docs/{file} did not finish within {RUN_DEADLINE:?}"
        ));
    }
    assert!(
        failures.is_empty(),
        "{}\n--- the server's log ends with:\n{}",
        failures.join("\n\n"),
        server.log_tail(15)
    );
}

/// Fails unless `docs/{dutch}` has the very blocks of `docs/{english}`, in the same order,
/// naming the first step that differs by its place in both files.
fn has_the_same_blocks(english: &str, dutch: &str) {
    let english_steps = read_steps(english);
    let dutch_steps = read_steps(dutch);
    for (i, (en, nl)) in english_steps.iter().zip(&dutch_steps).enumerate() {
        assert!(
            en.code == nl.code && en.answer == nl.answer,
            "step {} differs: {} and {}; only the prose is translated, the blocks are copied",
            i + 1,
            en.name(&format!("docs/{english}")),
            nl.name(&format!("docs/{dutch}")),
        );
    }
    assert_eq!(
        english_steps.len(),
        dutch_steps.len(),
        "docs/{english} has {} steps, docs/{dutch} {}",
        english_steps.len(),
        dutch_steps.len()
    );
}

#[test]
fn the_walkthrough_answers_as_written() {
    answers_as_written("walkthrough.md");
}

#[test]
fn the_dutch_walkthrough_has_the_same_commands_and_answers() {
    has_the_same_blocks("walkthrough.md", "walkthrough.nl.md");
}

#[test]
fn the_connector_guide_answers_as_written() {
    answers_as_written("connectors.md");
}

#[test]
fn the_dutch_connector_guide_has_the_same_commands_and_answers() {
    has_the_same_blocks("connectors.md", "connectors.nl.md");
}
