//! Compares what a step printed with the answer written under it.
//!
//! The rules, also stated in the header comment of each executed page in `docs/`:
//!
//! - An answer starting with `HTTP/` is a `curl -i` answer: the status code must match;
//!   every header listed must be present with a matching value (unlisted headers, such as
//!   `date` or `x-request-id`, are ignored); the body after the blank line is compared as
//!   below. Any other answer is compared whole, as a body.
//! - A body that is JSON is compared as JSON: the same keys (no more, no fewer), arrays of
//!   the same length, equal numbers, booleans and nulls. Otherwise it is compared as text.
//! - In strings and header values, `$NAME` or `${NAME}` stands for the value the shell
//!   variable `NAME` has after the step, and `<words>` (lowercase, e.g. `<token>`,
//!   `<timestamp>`) for any non-empty text. A JSON string that is only `<words>` matches
//!   any value but null. That is how ids, secrets, tokens and times are written down.

use std::collections::HashMap;

use serde_json::Value;

/// One piece of an expected string.
#[derive(Debug)]
enum Piece {
    /// Text that must appear as written.
    Text(String),
    /// `<words>`: any non-empty text.
    Any,
}

/// Splits an expected string into literal text (variables resolved) and placeholders.
fn pieces(expected: &str, vars: &HashMap<String, String>) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut rest = expected;
    while let Some(c) = rest.chars().next() {
        if c == '$' {
            let (name, after) = if let Some(braced) = rest.strip_prefix("${") {
                match braced.split_once('}') {
                    Some((name, after)) => (name, after),
                    None => ("", rest),
                }
            } else {
                let end = rest[1..]
                    .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
                    .map_or(rest.len(), |i| i + 1);
                (&rest[1..end], &rest[end..])
            };
            if !name.is_empty() && name.starts_with(|c: char| c.is_ascii_uppercase() || c == '_') {
                let value = vars.get(name).filter(|v| !v.is_empty()).ok_or_else(|| {
                    format!("the answer uses ${name}, but the step left it unset")
                })?;
                text.push_str(value);
                rest = after;
                continue;
            }
        }
        if c == '<'
            && let Some(end) = rest.find('>')
            && end > 1
            && rest[1..end]
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || " _-".contains(c))
        {
            pieces.push(Piece::Text(std::mem::take(&mut text)));
            pieces.push(Piece::Any);
            rest = &rest[end + 1..];
            continue;
        }
        text.push(c);
        rest = &rest[c.len_utf8()..];
    }
    pieces.push(Piece::Text(text));
    Ok(pieces)
}

fn matches_pieces(pieces: &[Piece], actual: &str) -> bool {
    match pieces.split_first() {
        None => actual.is_empty(),
        Some((Piece::Text(text), rest)) => actual
            .strip_prefix(text.as_str())
            .is_some_and(|after| matches_pieces(rest, after)),
        Some((Piece::Any, rest)) => actual
            .char_indices()
            .skip(1)
            .map(|(i, _)| i)
            .chain([actual.len()])
            .filter(|&i| i > 0)
            .any(|i| matches_pieces(rest, &actual[i..])),
    }
}

/// Whether `actual` is what the `expected` text, with its variables and placeholders, allows.
pub fn text_matches(
    expected: &str,
    actual: &str,
    vars: &HashMap<String, String>,
) -> Result<bool, String> {
    Ok(matches_pieces(&pieces(expected, vars)?, actual))
}

fn is_placeholder(text: &str) -> bool {
    text.len() > 2
        && text.starts_with('<')
        && text.ends_with('>')
        && text[1..text.len() - 1]
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || " _-".contains(c))
}

/// Compares two JSON values, pushing one message per difference, each with its JSON pointer.
pub fn compare_json(
    expected: &Value,
    actual: &Value,
    pointer: &str,
    vars: &HashMap<String, String>,
    problems: &mut Vec<String>,
) {
    match (expected, actual) {
        (Value::String(e), a) if is_placeholder(e) => {
            if a.is_null() {
                problems.push(format!("{pointer}: expected {e}, got null"));
            }
        }
        (Value::String(e), Value::String(a)) => match text_matches(e, a, vars) {
            Ok(true) => {}
            Ok(false) => problems.push(format!("{pointer}: expected {e:?}, got {a:?}")),
            Err(message) => problems.push(format!("{pointer}: {message}")),
        },
        (Value::Object(e), Value::Object(a)) => {
            for (key, value) in e {
                let inner = format!("{pointer}/{key}");
                match a.get(key) {
                    Some(found) => compare_json(value, found, &inner, vars, problems),
                    None => problems.push(format!("{inner}: missing from the answer")),
                }
            }
            for key in a.keys().filter(|k| !e.contains_key(*k)) {
                problems.push(format!(
                    "{pointer}/{key}: in the answer but not in the walkthrough (add it)"
                ));
            }
        }
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
            for (i, (e, a)) in e.iter().zip(a).enumerate() {
                compare_json(e, a, &format!("{pointer}/{i}"), vars, problems);
            }
        }
        (Value::Array(e), Value::Array(a)) => problems.push(format!(
            "{pointer}: expected {} items, got {}: {a:?}",
            e.len(),
            a.len()
        )),
        (e, a) if e == a => {}
        (e, a) => problems.push(format!("{pointer}: expected {e}, got {a}")),
    }
}

/// A `curl -i` answer or a bare body.
struct Parsed<'a> {
    status: Option<&'a str>,
    headers: Vec<(&'a str, &'a str)>,
    body: &'a str,
}

fn parse(text: &str) -> Parsed<'_> {
    let mut rest = text;
    let mut parsed = Parsed {
        status: None,
        headers: vec![],
        body: text,
    };
    while rest.starts_with("HTTP/") {
        let (head, body) = rest.split_once("\n\n").unwrap_or((rest, ""));
        let mut lines = head.lines();
        let status = lines.next().unwrap_or_default();
        rest = body;
        // curl prints interim answers (100 Continue) before the real one.
        if status
            .split_whitespace()
            .nth(1)
            .is_some_and(|c| c.starts_with('1'))
        {
            continue;
        }
        parsed.status = Some(status);
        parsed.headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim(), v.trim()))
            .collect();
        parsed.body = body;
        break;
    }
    parsed
}

/// Everything that differs between the written answer and what the step printed.
pub fn differences(expected: &str, output: &str, vars: &HashMap<String, String>) -> Vec<String> {
    let output = output.replace("\r\n", "\n");
    let expected_answer = parse(expected);
    let actual = parse(&output);
    let mut problems = Vec::new();
    if let Some(status) = expected_answer.status {
        let code =
            |line: Option<&str>| line.and_then(|l| l.split_whitespace().nth(1).map(str::to_owned));
        if code(Some(status)) != code(actual.status) {
            problems.push(format!(
                "status: expected {status:?}, got {:?}",
                actual.status.unwrap_or("no HTTP answer")
            ));
            // The rest would only repeat the same difference.
            return problems;
        }
        for (name, value) in &expected_answer.headers {
            let found = actual
                .headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name));
            match found.map(|(_, v)| text_matches(value, v, vars)) {
                None => problems.push(format!("header {name}: missing from the answer")),
                Some(Ok(true)) => {}
                Some(Ok(false)) => problems.push(format!(
                    "header {name}: expected {value:?}, got {:?}",
                    found.map(|(_, v)| *v).unwrap_or_default()
                )),
                Some(Err(message)) => problems.push(format!("header {name}: {message}")),
            }
        }
    }
    let (expected_body, actual_body) = (expected_answer.body.trim(), actual.body.trim());
    match serde_json::from_str::<Value>(expected_body) {
        Ok(expected_json) => match serde_json::from_str::<Value>(actual_body) {
            Ok(actual_json) => {
                compare_json(&expected_json, &actual_json, "body", vars, &mut problems)
            }
            Err(_) => problems.push(format!("body: expected JSON, got {actual_body:?}")),
        },
        Err(_) => match text_matches(expected_body, actual_body, vars) {
            Ok(true) => {}
            Ok(false) => problems.push(format!(
                "body: expected {expected_body:?}, got {actual_body:?}"
            )),
            Err(message) => problems.push(format!("body: {message}")),
        },
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> HashMap<String, String> {
        HashMap::from([("COMPANY_ID".to_owned(), "c-1".to_owned())])
    }

    const ANSWER: &str = "HTTP/1.1 200 OK\ncache-control: no-store\n\n{\"id\": \"$COMPANY_ID\", \"at\": \"<timestamp>\", \"n\": 3, \"detail\": \"needs <scope> here\"}";

    #[test]
    fn variables_and_placeholders_match_what_they_stand_for() {
        let output = "HTTP/1.1 200 OK\r\ndate: x\r\nCache-Control: no-store\r\n\r\n{\"id\":\"c-1\",\"at\":\"2026-01-01T00:00:00Z\",\"n\":3,\"detail\":\"needs orders:read here\"}";
        assert_eq!(differences(ANSWER, output, &vars()), Vec::<String>::new());
    }

    #[test]
    fn every_difference_is_named_by_its_pointer_or_header() {
        let output = "HTTP/1.1 200 OK\n\n{\"id\":\"c-2\",\"at\":null,\"n\":4,\"detail\":\"needs  here\",\"extra\":1}";
        let problems = differences(ANSWER, output, &vars());
        let joined = problems.join("\n");
        for part in [
            "header cache-control",
            "/id",
            "/at",
            "/n",
            "/detail",
            "/extra",
        ] {
            assert!(joined.contains(part), "{part} not reported in:\n{joined}");
        }
    }

    #[test]
    fn a_different_status_is_reported_alone() {
        let problems = differences(ANSWER, "HTTP/1.1 401 Unauthorized\n\n{}", &vars());
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("401"));
    }

    #[test]
    fn a_variable_the_step_did_not_set_is_an_error() {
        assert!(text_matches("$NOPE", "", &vars()).is_err());
    }
}
