//! When a booked document needs a correction (`docs/contract.md`, "For connectors"): some
//! accounting package booked an earlier version (or day revision) than the current one and
//! has not booked a later one since. The store's `changed_since_booked` list filter says the
//! same in SQL, to select documents; this is the rule a single answer shows.

use std::collections::HashMap;

/// Whether a document at `current_version` needs a correction, given its bookings as
/// (package, booked version) pairs.
pub fn needs_correction<'a>(
    current_version: i32,
    bookings: impl IntoIterator<Item = (&'a str, i32)>,
) -> bool {
    let mut latest: HashMap<&str, i32> = HashMap::new();
    for (package, version) in bookings {
        let v = latest.entry(package).or_insert(version);
        *v = (*v).max(version);
    }
    latest.values().any(|v| *v < current_version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_needs_correction_while_some_package_lags_behind_its_version() {
        assert!(!needs_correction(1, []), "never booked is not a correction");
        assert!(!needs_correction(2, [("exact-online", 2)]));
        assert!(needs_correction(2, [("exact-online", 1)]));
        assert!(!needs_correction(
            2,
            [("exact-online", 1), ("exact-online", 2)]
        ));
        assert!(needs_correction(3, [("exact-online", 3), ("moneybird", 2)]));
    }
}
