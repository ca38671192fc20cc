//! Business days (dagomzet): which day a sale belongs to, when a day starts and ends, and when
//! it becomes final.
//!
//! A company's business day D runs from D at the cutoff to D+1 at the cutoff, local time
//! (`docs/contract.md`). Two local moments need a rule:
//! - When the cutoff does not exist locally (it falls in the March gap), the day starts at
//!   the first instant after the gap, the moment the clock jumps.
//! - When it exists twice (the October night), the day starts at its first occurrence.
//!
//! Both are "the first instant at which the local clock reads the cutoff or later on that date",
//! and [`business_date`] is defined from the same bounds, so every instant belongs to exactly one
//! day and later instants never belong to earlier days. `docs/bookkeeping-rules.md`'s formula
//! "local date of (moment − cutoff)" is read on the wall clock; subtracting the cutoff from the
//! instant instead would put a sale at 03:30 after the October change on the wrong day.

use chrono::{
    DateTime, Duration, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone,
    Utc,
};
use chrono_tz::Tz;

/// The hour of the next day at which a day becomes final (`docs/contract.md`).
pub fn final_hour() -> NaiveTime {
    NaiveTime::from_hms_opt(5, 0, 0).expect("05:00 is a valid time")
}

/// The first instant at which the local clock in `tz` reads `local` or later.
pub fn first_instant_at_or_after(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(a, b) => a.min(b).with_timezone(&Utc),
        LocalResult::None => {
            // In a gap. Offsets lie within −12h and +14h, so the instant lies in this window;
            // local time only jumps forward here, so the first instant whose local time
            // reaches `local` is found by bisection to the second.
            // Whole seconds: transitions fall on whole seconds, and integer bisection ends.
            let mut lo = (local - Duration::hours(15)).and_utc().timestamp();
            let mut hi = (local + Duration::hours(13)).and_utc().timestamp();
            let reaches = |secs: i64| {
                DateTime::from_timestamp(secs, 0)
                    .is_some_and(|t| t.with_timezone(&tz).naive_local() >= local)
            };
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if reaches(mid) {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            DateTime::from_timestamp(hi, 0).unwrap_or_else(|| local.and_utc())
        }
    }
}

/// The business day `date`: its start (inclusive) and end (exclusive) as UTC instants.
pub fn day_bounds(date: NaiveDate, tz: Tz, cutoff: NaiveTime) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = first_instant_at_or_after(tz, date.and_time(cutoff));
    let next = date.succ_opt().unwrap_or(date);
    let end = first_instant_at_or_after(tz, next.and_time(cutoff));
    (start, end)
}

/// The business date of a sale at `moment` for a company in `tz` with `cutoff`.
pub fn business_date(moment: DateTime<FixedOffset>, tz: Tz, cutoff: NaiveTime) -> NaiveDate {
    let instant = moment.with_timezone(&Utc);
    let local = moment.with_timezone(&tz).naive_local();
    let cutoff_offset = cutoff - NaiveTime::MIN;
    let mut date = (local - cutoff_offset).date();
    // The wall-clock guess is right except around a DST change at the cutoff; the bounds
    // decide, so this agrees with `day_bounds` for every instant.
    let (start, end) = day_bounds(date, tz, cutoff);
    if instant < start {
        date = date.pred_opt().unwrap_or(date);
    } else if instant >= end {
        date = date.succ_opt().unwrap_or(date);
    }
    date
}

/// When the business day `date` becomes final: 05:00 local time on the next day, or the
/// day's end if that is later (a cutoff after 05:00).
pub fn final_at(date: NaiveDate, tz: Tz, cutoff: NaiveTime) -> DateTime<Utc> {
    let next = date.succ_opt().unwrap_or(date);
    let five = first_instant_at_or_after(tz, next.and_time(final_hour()));
    let (_, end) = day_bounds(date, tz, cutoff);
    five.max(end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Amsterdam;
    use proptest::prelude::*;

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn time(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        at(s).with_timezone(&Utc)
    }

    #[test]
    fn with_a_midnight_cutoff_a_sale_at_23_59_and_00_01_fall_on_their_own_dates() {
        let midnight = time(0, 0);
        assert_eq!(
            business_date(at("2026-06-10T23:59:00+02:00"), Amsterdam, midnight),
            day("2026-06-10")
        );
        assert_eq!(
            business_date(at("2026-06-11T00:01:00+02:00"), Amsterdam, midnight),
            day("2026-06-11")
        );
        // The same instant sent in UTC belongs to the same local day.
        assert_eq!(
            business_date(at("2026-06-10T22:01:00+00:00"), Amsterdam, midnight),
            day("2026-06-11")
        );
    }

    #[test]
    fn with_a_four_oclock_cutoff_the_night_belongs_to_the_evening_before() {
        let four = time(4, 0);
        assert_eq!(
            business_date(at("2026-06-10T23:59:00+02:00"), Amsterdam, four),
            day("2026-06-10")
        );
        assert_eq!(
            business_date(at("2026-06-11T00:01:00+02:00"), Amsterdam, four),
            day("2026-06-10")
        );
        assert_eq!(
            business_date(at("2026-06-11T03:59:59+02:00"), Amsterdam, four),
            day("2026-06-10")
        );
        assert_eq!(
            business_date(at("2026-06-11T04:00:00+02:00"), Amsterdam, four),
            day("2026-06-11")
        );
    }

    #[test]
    fn a_day_is_24_hours_except_on_the_dst_nights() {
        let midnight = time(0, 0);
        let hours = |d: &str| {
            let (s, e) = day_bounds(day(d), Amsterdam, midnight);
            (e - s).num_hours()
        };
        assert_eq!(hours("2026-06-10"), 24);
        assert_eq!(hours("2026-03-29"), 23);
        assert_eq!(hours("2026-10-25"), 25);
        let (start, end) = day_bounds(day("2026-10-25"), Amsterdam, time(4, 0));
        assert_eq!(start, utc("2026-10-25T04:00:00+01:00"));
        assert_eq!(end, utc("2026-10-26T04:00:00+01:00"));
    }

    #[test]
    fn both_passes_through_the_doubled_october_hour_belong_to_the_same_day() {
        let four = time(4, 0);
        // 02:30 happens at +02:00 and again an hour later at +01:00; both before 04:00.
        assert_eq!(
            business_date(at("2026-10-25T02:30:00+02:00"), Amsterdam, four),
            day("2026-10-24")
        );
        assert_eq!(
            business_date(at("2026-10-25T02:30:00+01:00"), Amsterdam, four),
            day("2026-10-24")
        );
        assert_eq!(
            business_date(at("2026-10-25T03:30:00+01:00"), Amsterdam, four),
            day("2026-10-24")
        );
        let midnight = time(0, 0);
        assert_eq!(
            business_date(at("2026-10-25T02:30:00+01:00"), Amsterdam, midnight),
            day("2026-10-25")
        );
    }

    #[test]
    fn a_cutoff_inside_the_doubled_hour_starts_the_day_at_its_first_occurrence() {
        let cutoff = time(2, 30);
        let (start, _) = day_bounds(day("2026-10-25"), Amsterdam, cutoff);
        assert_eq!(start, utc("2026-10-25T02:30:00+02:00"));
        // The second 02:15 is after the first 02:30, so it belongs to the new day although its
        // wall-clock time is before the cutoff.
        assert_eq!(
            business_date(at("2026-10-25T02:15:00+01:00"), Amsterdam, cutoff),
            day("2026-10-25")
        );
        assert_eq!(
            business_date(at("2026-10-25T02:15:00+02:00"), Amsterdam, cutoff),
            day("2026-10-24")
        );
    }

    #[test]
    fn a_cutoff_in_the_march_gap_starts_the_day_when_the_clock_jumps() {
        let cutoff = time(2, 30);
        let (start, _) = day_bounds(day("2026-03-29"), Amsterdam, cutoff);
        assert_eq!(start, utc("2026-03-29T03:00:00+02:00"));
        assert_eq!(
            business_date(at("2026-03-29T01:59:59+01:00"), Amsterdam, cutoff),
            day("2026-03-28")
        );
        assert_eq!(
            business_date(at("2026-03-29T03:00:00+02:00"), Amsterdam, cutoff),
            day("2026-03-29")
        );
        let (_, end_before) = day_bounds(day("2026-03-28"), Amsterdam, cutoff);
        assert_eq!(end_before, start);
    }

    #[test]
    fn a_day_is_final_at_five_the_next_morning_or_at_its_end_if_later() {
        assert_eq!(
            final_at(day("2026-06-10"), Amsterdam, time(0, 0)),
            utc("2026-06-11T05:00:00+02:00")
        );
        assert_eq!(
            final_at(day("2026-06-10"), Amsterdam, time(4, 0)),
            utc("2026-06-11T05:00:00+02:00")
        );
        assert_eq!(
            final_at(day("2026-06-10"), Amsterdam, time(6, 0)),
            utc("2026-06-11T06:00:00+02:00")
        );
        assert_eq!(
            final_at(day("2026-10-24"), Amsterdam, time(4, 0)),
            utc("2026-10-25T05:00:00+01:00")
        );
    }

    proptest! {
        #[test]
        fn every_instant_lies_within_the_bounds_of_its_business_date(
            secs in 1_700_000_000i64..1_900_000_000,
            cutoff_minutes in prop::sample::select(vec![0u32, 150, 180, 240, 359, 1439]),
            offset_hours in -3i32..4,
        ) {
            let cutoff = time(cutoff_minutes / 60, cutoff_minutes % 60);
            let instant = DateTime::from_timestamp(secs, 0).unwrap();
            let moment = instant.with_timezone(&FixedOffset::east_opt(offset_hours * 3600).unwrap());
            let date = business_date(moment, Amsterdam, cutoff);
            let (start, end) = day_bounds(date, Amsterdam, cutoff);
            prop_assert!(start <= instant && instant < end, "{moment} {date} {start} {end}");
            prop_assert_eq!(day_bounds(date.succ_opt().unwrap(), Amsterdam, cutoff).0, end);
        }
    }
}
