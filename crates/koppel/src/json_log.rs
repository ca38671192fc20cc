//! The JSON log line, written straight out.
//!
//! tracing-subscriber's JSON formatter keeps a span's fields as a JSON text, parses that text
//! back into a `serde_json::Value` for every event in the span, and parses and writes it again
//! whenever a field is recorded later (`client.id` and `company.id` of every request). The span
//! and its one line cost a read of an order 15 µs of Koppel's 190 (bench/README.md, #20). Here
//! a span keeps its fields as the members of a JSON object (no braces), a field recorded later
//! is appended, and an event writes those members as they are: half of those 15 µs saved.
//!
//! The line is the one tracing-subscriber writes, member for member: `timestamp`, `level`,
//! `fields`, `target`, and `span` with the span's fields and `name`; only the order of a
//! span's fields differs (as recorded, not sorted), which JSON leaves open. A field recorded
//! twice on a span appears twice (readers take the last); Koppel records each once.

use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_log::NormalizeEvent as _;
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// A span's fields as the members of a JSON object, without the braces.
#[derive(Debug, Default, Clone, Copy)]
pub struct SpanMembers;

impl<'writer> FormatFields<'writer> for SpanMembers {
    fn format_fields<R: RecordFields>(
        &self,
        mut writer: Writer<'writer>,
        fields: R,
    ) -> fmt::Result {
        let mut members = Members::new(&mut writer);
        fields.record(&mut members);
        members.result
    }

    fn add_fields(
        &self,
        current: &'writer mut FormattedFields<Self>,
        fields: &tracing::span::Record<'_>,
    ) -> fmt::Result {
        let mut names = Names(Vec::new());
        fields.record(&mut names);
        if names.0.iter().any(|name| has_key(&current.fields, name)) {
            return replace_members(&mut current.fields, fields);
        }
        // Appended after the members already there.
        let first = current.fields.is_empty();
        let mut writer = current.as_writer();
        let mut members = Members::new(&mut writer);
        members.first = first;
        fields.record(&mut members);
        members.result
    }
}

/// Whether `members` has a member named `name`. A value cannot fake one: its quotes are
/// escaped, so a name inside a value is never followed by `":`.
fn has_key(members: &str, name: &str) -> bool {
    members.match_indices(name).any(|(at, _)| {
        members[..at].ends_with('"') && members[at + name.len()..].starts_with("\":")
    })
}

/// A field recorded again on a span (not something Koppel does): its new value replaces the
/// old one, as the JSON formatter does, by parsing the members once.
fn replace_members(members: &mut String, fields: &tracing::span::Record<'_>) -> fmt::Result {
    let mut added = String::new();
    let mut writer = Writer::new(&mut added);
    let mut visitor = Members::new(&mut writer);
    fields.record(&mut visitor);
    visitor.result?;
    let parse = |text: &str| {
        serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&format!("{{{text}}}"))
            .map_err(|_| fmt::Error)
    };
    let mut object = parse(members)?;
    object.extend(parse(&added)?);
    let text = serde_json::to_string(&object).map_err(|_| fmt::Error)?;
    *members = text[1..text.len() - 1].to_owned();
    Ok(())
}

/// The names of the fields a record holds.
struct Names(Vec<&'static str>);

impl Visit for Names {
    fn record_debug(&mut self, field: &Field, _: &dyn fmt::Debug) {
        self.0.push(field.name());
    }
}

/// One JSON object a line: see the module documentation.
#[derive(Debug, Default, Clone, Copy)]
pub struct JsonLine;

impl<S> FormatEvent<S, SpanMembers> for JsonLine
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, SpanMembers>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        // A record of the `log` crate (from a dependency) has its target and level in
        // `log.*` fields: the line's are read from there, as the JSON formatter does.
        let normalized = event.normalized_metadata();
        let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());
        writer.write_str("{\"timestamp\":\"")?;
        SystemTime.format_time(&mut writer)?;
        write!(writer, "\",\"level\":\"{}\",\"fields\":{{", meta.level())?;
        let mut members = Members::new(&mut writer);
        event.record(&mut members);
        members.result?;
        writer.write_str("},\"target\":")?;
        string(&mut writer, meta.target())?;
        // The event's explicit parent, else the span it happened in, as the JSON formatter
        // chooses.
        let span = event
            .parent()
            .and_then(|id| ctx.span(id))
            .or_else(|| ctx.lookup_current());
        if let Some(span) = span {
            writer.write_str(",\"span\":{")?;
            let extensions = span.extensions();
            let fields = extensions
                .get::<FormattedFields<SpanMembers>>()
                .map(|f| f.fields.as_str())
                .unwrap_or_default();
            writer.write_str(fields)?;
            if !fields.is_empty() {
                writer.write_char(',')?;
            }
            writer.write_str("\"name\":")?;
            string(&mut writer, span.metadata().name())?;
            writer.write_char('}')?;
        }
        writer.write_str("}\n")
    }
}

/// Writes visited fields as JSON members, comma-separated.
struct Members<'a, 'w> {
    writer: &'a mut Writer<'w>,
    first: bool,
    result: fmt::Result,
}

impl<'a, 'w> Members<'a, 'w> {
    fn new(writer: &'a mut Writer<'w>) -> Self {
        Self {
            writer,
            first: true,
            result: Ok(()),
        }
    }

    /// Writes `"name":` after a comma unless it is the first member; a raw identifier's
    /// `r#` is left out, as the JSON formatter does.
    fn key(&mut self, name: &str) -> fmt::Result {
        if !std::mem::take(&mut self.first) {
            self.writer.write_char(',')?;
        }
        string(self.writer, name.strip_prefix("r#").unwrap_or(name))?;
        self.writer.write_char(':')
    }

    fn member(&mut self, field: &Field, value: impl FnOnce(&mut Writer<'w>) -> fmt::Result) {
        if self.result.is_ok() {
            self.result = self.key(field.name()).and_then(|()| value(self.writer));
        }
    }
}

impl Visit for Members<'_, '_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.member(field, |w| string(w, value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.member(field, |w| write!(w, "{value}"));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.member(field, |w| write!(w, "{value}"));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.member(field, |w| write!(w, "{value}"));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.member(field, |w| write!(w, "{value}"));
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.member(field, |w| write!(w, "{value}"));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        // JSON has no NaN or infinity; serde_json writes them as null too.
        if value.is_finite() {
            self.member(field, |w| write!(w, "{value}"));
        } else {
            self.member(field, |w| w.write_str("null"));
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.member(field, |w| string(w, &value.to_string()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.member(field, |w| {
            w.write_char('"')?;
            write!(Escaped(w), "{value:?}")?;
            w.write_char('"')
        });
    }
}

/// Writes `text` as a JSON string.
fn string(writer: &mut Writer<'_>, text: &str) -> fmt::Result {
    writer.write_char('"')?;
    Escaped(writer).write_str(text)?;
    writer.write_char('"')
}

/// Escapes what passes through it for the inside of a JSON string.
struct Escaped<'a, 'w>(&'a mut Writer<'w>);

impl fmt::Write for Escaped<'_, '_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let mut plain = 0;
        for (at, byte) in text.bytes().enumerate() {
            let escape = match byte {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                b'\n' => "\\n",
                b'\r' => "\\r",
                b'\t' => "\\t",
                0..=0x1f => "",
                _ => continue,
            };
            self.0.write_str(&text[plain..at])?;
            if escape.is_empty() {
                write!(self.0, "\\u{byte:04x}")?;
            } else {
                self.0.write_str(escape)?;
            }
            plain = at + 1;
        }
        self.0.write_str(&text[plain..])
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex};

    use serde_json::Value;

    use super::{JsonLine, SpanMembers};

    /// Where a test subscriber writes its lines.
    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Lines {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Lines {
        fn parsed(&self) -> Vec<Value> {
            String::from_utf8(self.0.lock().unwrap().clone())
                .unwrap()
                .lines()
                .map(|line| serde_json::from_str(line).expect(line))
                .collect()
        }
    }

    /// What a request logs: a span with fields recorded at once and later, events in it,
    /// one with the span as explicit parent outside it, and one outside any span.
    fn log_a_request() {
        let span = tracing::info_span!(
            "request",
            request.id = "r-1",
            http.method = %"GET",
            http.route = "/v1/companies/{company_id}/orders/{order_id}",
            client.id = tracing::field::Empty,
            company.id = tracing::field::Empty,
        );
        {
            let _inside = span.enter();
            tracing::info!(count = 3u64, ok = true, "inside \"quoted\"\nnext line\u{1}");
            span.record("client.id", "c-7");
            // Recorded again: the last value counts, once.
            span.record("client.id", "c-8");
        }
        span.record("company.id", tracing::field::display("k-9"));
        let error = io::Error::other("broken \\ pipe");
        tracing::warn!(parent: &span, http.status = 503, latency_ms = 1.25, error = %error, "request failed");
        tracing::info!(negative = -4i64, nan = f64::NAN, debug = ?vec!["a", "b"], r#type = "raw", "outside");
        tracing::info!(bytes = &b"ab"[..], "bytes");
        // A dependency's record of the `log` crate, routed as the subscriber's `init` routes
        // them (installed once for the whole test binary; later calls change nothing).
        let _ = tracing_log::LogTracer::init();
        tracing_log::log::logger().log(
            &tracing_log::log::Record::builder()
                .args(format_args!("from a dependency"))
                .level(tracing_log::log::Level::Warn)
                .target("some_dependency::module")
                .module_path_static(Some("some_dependency::module"))
                .file_static(Some("src/module.rs"))
                .line(Some(7))
                .build(),
        );
    }

    /// The lines of `log_a_request` through our formatter.
    fn through_ours() -> Lines {
        let ours = Lines::default();
        let writer = ours.clone();
        let subscriber = tracing_subscriber::fmt()
            .fmt_fields(SpanMembers)
            .event_format(JsonLine)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, log_a_request);
        ours
    }

    /// The lines of `log_a_request` through tracing-subscriber's JSON formatter and through
    /// ours, timestamps set aside.
    fn both() -> (Vec<Value>, Vec<Value>) {
        let theirs = Lines::default();
        let writer = theirs.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, log_a_request);

        let ours = through_ours();

        let without_time = |lines: Vec<Value>| {
            lines
                .into_iter()
                .map(|mut line| {
                    let time = line["timestamp"].take();
                    assert!(
                        time.as_str()
                            .is_some_and(|t| t.len() == 27 && t.ends_with('Z')),
                        "{time}"
                    );
                    line
                })
                .collect::<Vec<_>>()
        };
        (without_time(theirs.parsed()), without_time(ours.parsed()))
    }

    #[test]
    fn every_line_is_the_json_formatters_line() {
        let (theirs, ours) = both();
        assert_eq!(ours.len(), 5);
        assert_eq!(
            ours[4]["target"], "some_dependency::module",
            "{:?}",
            ours[4]
        );
        assert_eq!(ours, theirs);
    }

    #[test]
    fn a_field_recorded_twice_is_written_once() {
        let ours = through_ours();
        let text = String::from_utf8(ours.0.lock().unwrap().clone()).unwrap();
        let line = text.lines().nth(1).unwrap();
        // A JSON reader would take the last of two; the line must not hold two.
        assert_eq!(line.matches("\"client.id\"").count(), 1, "{line}");
    }

    #[test]
    fn a_key_is_found_only_as_a_key() {
        use super::has_key;
        let members = r#""request.id":"say \"client.id\": x","http.route":"/client.id""#;
        assert!(has_key(members, "request.id"));
        assert!(!has_key(members, "client.id"));
        assert!(!has_key(members, "id"));
    }

    #[test]
    fn a_span_carries_the_fields_recorded_after_it_began() {
        let (_, ours) = both();
        assert_eq!(
            ours[0]["span"]["client.id"],
            Value::Null,
            "not yet recorded"
        );
        assert_eq!(ours[1]["span"]["client.id"], "c-8");
        assert_eq!(ours[1]["span"]["company.id"], "k-9");
        assert_eq!(ours[1]["span"]["name"], "request");
        assert_eq!(ours[1]["fields"]["error"], "broken \\ pipe");
        assert_eq!(
            ours[0]["fields"]["message"],
            "inside \"quoted\"\nnext line\u{1}"
        );
        assert!(ours[2].get("span").is_none());
    }
}
