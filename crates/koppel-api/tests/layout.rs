//! The module layering of `koppel-api`, checked from its sources (ARCHITECTURE.md, "The API
//! crate"): `app` (with `openapi`, which completes its document) puts everything together; `routes/<resource>` may use anything below it but
//! no other resource and no middleware; `middleware/` may not use `routes/`; the shared modules
//! at the top (`error`, `params`, `booking`, `clock`, …) use neither. So no import circle can
//! form between resources, and a new resource is one folder under `routes/`.

use std::fs;
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`, recursively.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).expect("source folder is readable") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            files.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// The module path of a source file relative to `src/`, e.g. `routes::orders` for
/// `src/routes/orders/mod.rs` or `routes::orders::input` for `src/routes/orders/input.rs`.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("file under src");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts.join("::")
}

/// Every `crate::a::b…` path a file names, as the list of its segments.
fn crate_paths(text: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let tail = &rest[at + "crate::".len()..];
            let path: String = tail
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            paths.push(
                path.split("::")
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
            );
            rest = tail;
        }
    }
    paths
}

/// The resource a module belongs to: `routes::orders::input` → `routes::orders`, and the
/// connector resources one level deeper (`routes::connectors::events`).
fn resource(module: &[String]) -> Vec<String> {
    let depth = if module.get(1).is_some_and(|s| s == "connectors") {
        3
    } else {
        2
    };
    module.iter().take(depth).cloned().collect()
}

/// What breaks the layering, if anything, when `module` names `target`.
fn violation(module: &[String], target: &[String]) -> Option<&'static str> {
    let first = target.first().map(String::as_str);
    match module.first().map(String::as_str) {
        // `openapi` completes the document `app` builds, so it sits beside it.
        Some("app") | Some("openapi") | None => None,
        Some("routes") => match first {
            Some("app") => Some("a route uses the app module"),
            Some("middleware") => Some("a route uses middleware"),
            Some("routes") if resource(target) != resource(module) && target.len() > 1 => {
                Some("a route uses another resource")
            }
            _ => None,
        },
        Some("middleware") => match first {
            Some("routes") | Some("app") => Some("middleware uses routes or the app"),
            _ => None,
        },
        Some(_) => match first {
            Some("routes") | Some("middleware") | Some("app") => {
                Some("a shared module uses routes, middleware or the app")
            }
            _ => None,
        },
    }
}

#[test]
fn no_module_reaches_up_or_across() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut broken = Vec::new();
    for file in sources(&src) {
        let module: Vec<String> = module_of(&src, &file)
            .split("::")
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        let text = fs::read_to_string(&file).expect("source is readable");
        for target in crate_paths(&text) {
            if let Some(why) = violation(&module, &target) {
                broken.push(format!(
                    "{}: crate::{}: {why}",
                    module.join("::"),
                    target.join("::")
                ));
            }
        }
    }
    assert!(broken.is_empty(), "layering broken:\n{}", broken.join("\n"));
}

#[test]
fn the_check_sees_a_circle() {
    let m = |s: &str| s.split("::").map(str::to_owned).collect::<Vec<_>>();
    assert!(
        violation(
            &m("routes::connectors::bookings"),
            &m("routes::orders::OrderPath")
        )
        .is_some()
    );
    assert!(
        violation(
            &m("routes::orders"),
            &m("routes::connectors::bookings::Booking")
        )
        .is_some()
    );
    assert!(violation(&m("params"), &m("routes::orders")).is_some());
    assert!(violation(&m("middleware::idempotency"), &m("routes::oauth")).is_some());
    assert!(
        violation(
            &m("routes::orders::input"),
            &m("routes::orders::OrderInput")
        )
        .is_none()
    );
    assert!(violation(&m("routes::orders"), &m("params::OrderPath")).is_none());
    assert!(violation(&m("app"), &m("routes::orders")).is_none());
    assert_eq!(
        crate_paths("use crate::routes::orders::{a, b}; // crate::x"),
        vec![m("routes::orders")]
    );
}

/// Every POST handler's parameters, by handler name, from `#[utoipa::path(post, …)]` to the
/// end of the handler's signature.
fn post_handlers(text: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("#[utoipa::path(post") {
        rest = &rest[at..];
        let Some(start) = rest.find("pub async fn ") else {
            break;
        };
        let signature = &rest[start + "pub async fn ".len()..];
        let end = signature.find('{').unwrap_or(signature.len());
        let signature = &signature[..end];
        let name = signature
            .split('(')
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned();
        found.push((name, signature.to_owned()));
        rest = &rest[start..];
    }
    found
}

#[test]
fn every_post_route_is_authorised_by_an_extractor_that_serves_replays() {
    // The idempotency middleware leaves a stored answer for the route's authorising
    // extractor to serve (src/replay.rs); a POST handler without one would act again on a
    // retry instead of replaying. The token endpoint ignores Idempotency-Key.
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/routes");
    let mut handlers = Vec::new();
    let mut missing = Vec::new();
    for file in sources(&src) {
        let text = fs::read_to_string(&file).expect("source is readable");
        for (name, signature) in post_handlers(&text) {
            let authorised = signature.contains("CompanyAccess<") || signature.contains("Admin");
            if !authorised && name != "issue_token" {
                missing.push(format!("{}: {name}", file.display()));
            }
            handlers.push(name);
        }
    }
    assert!(handlers.len() > 15, "found only {handlers:?}");
    assert!(
        missing.is_empty(),
        "POST handlers without CompanyAccess or Admin:\n{}",
        missing.join("\n")
    );
}
