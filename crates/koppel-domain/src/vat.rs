//! VAT categories and the table of rates that were valid per country and date.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::LazyLock;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The VAT treatment of a line or cost, as `docs/contract.md` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VatCategory {
    /// The country's standard rate (NL 21%).
    Standard,
    /// One of the country's reduced rates (NL 9%).
    Reduced,
    /// Taxed at 0% (e.g. some international transport).
    Zero,
    /// Exempt from VAT (e.g. medical care); needs a reason text.
    Exempt,
    /// Domestic reverse charge: the buyer pays the VAT.
    ReverseCharge,
    /// Intra-community supply to a business in another member state (ICP).
    IntraEu,
    /// Export outside the EU.
    Export,
    /// Distance sale to an EU consumer taxed at the destination's rate via the OSS.
    Oss,
    /// Not a supply for VAT at all (tips, multi-purpose gift cards, rounding).
    OutsideScope,
    /// The margin scheme for second-hand goods, art and antiques (margeregeling, art. 28b
    /// Wet OB): VAT at the standard or a reduced rate on the margin between selling and
    /// purchase price only.
    Margin,
}

impl VatCategory {
    /// Every category, in the order `docs/contract.md` lists them.
    pub const ALL: [VatCategory; 10] = [
        VatCategory::Standard,
        VatCategory::Reduced,
        VatCategory::Zero,
        VatCategory::Exempt,
        VatCategory::ReverseCharge,
        VatCategory::IntraEu,
        VatCategory::Export,
        VatCategory::Oss,
        VatCategory::OutsideScope,
        VatCategory::Margin,
    ];

    /// Whether this category always carries exactly 0.00 VAT at 0%: all but standard,
    /// reduced, OSS and margin.
    pub fn is_zero_rated(self) -> bool {
        !matches!(
            self,
            VatCategory::Standard | VatCategory::Reduced | VatCategory::Oss | VatCategory::Margin
        )
    }

    /// The category with this wire name.
    pub fn parse(name: &str) -> Option<VatCategory> {
        VatCategory::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// The snake_case name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            VatCategory::Standard => "standard",
            VatCategory::Reduced => "reduced",
            VatCategory::Zero => "zero",
            VatCategory::Exempt => "exempt",
            VatCategory::ReverseCharge => "reverse_charge",
            VatCategory::IntraEu => "intra_eu",
            VatCategory::Export => "export",
            VatCategory::Oss => "oss",
            VatCategory::OutsideScope => "outside_scope",
            VatCategory::Margin => "margin",
        }
    }
}

impl fmt::Display for VatCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The rates of one country from one date on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatePeriod {
    /// The first day the rates apply; `None` when the source does not know the start.
    pub effective_from: Option<NaiveDate>,
    /// The standard rate in percent.
    pub standard: Decimal,
    /// The reduced rates (including super-reduced and parking rates) in percent.
    pub reduced: Vec<Decimal>,
}

/// The rates per ISO 3166-1 country code, newest period first.
type RateTable = BTreeMap<String, Vec<RatePeriod>>;

static EU_RATES_JSON: &str = include_str!("../data/eu-vat-rates/vat-rates.json");

/// Parsed once: the embedded file is part of the binary, so a parse failure is a build defect
/// that the tests catch, not a run-time condition.
static RATES: LazyLock<RateTable> = LazyLock::new(|| {
    let mut table = parse_rates(EU_RATES_JSON).expect("the embedded EU VAT rates file parses");
    // docs/bookkeeping-rules.md pins the Dutch rates; they override the file so that rule lives in
    // this code.
    table.insert("NL".to_owned(), dutch_periods());
    table
});

fn d(percent: i64) -> Decimal {
    Decimal::from(percent)
}

fn dutch_periods() -> Vec<RatePeriod> {
    let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
    vec![
        RatePeriod {
            effective_from: date(2019, 1, 1),
            standard: d(21),
            reduced: vec![d(9)],
        },
        RatePeriod {
            effective_from: date(2012, 10, 1),
            standard: d(21),
            reduced: vec![d(6)],
        },
        RatePeriod {
            effective_from: None,
            standard: d(19),
            reduced: vec![d(6)],
        },
    ]
}

fn parse_rates(json: &str) -> Result<RateTable, String> {
    let root: serde_json::Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let items = root
        .get("items")
        .and_then(|v| v.as_object())
        .ok_or("no items object")?;
    let mut table = RateTable::new();
    for (country, periods) in items {
        let mut parsed = Vec::new();
        for period in periods.as_array().ok_or("periods are not a list")? {
            let from = period
                .get("effective_from")
                .and_then(|v| v.as_str())
                .ok_or("no effective_from")?;
            let effective_from = if from == "0000-01-01" {
                None
            } else {
                Some(NaiveDate::parse_from_str(from, "%Y-%m-%d").map_err(|e| e.to_string())?)
            };
            let rates = period
                .get("rates")
                .and_then(|v| v.as_object())
                .ok_or("no rates")?;
            let mut standard = None;
            let mut reduced = Vec::new();
            for (name, value) in rates {
                let number = value.as_number().ok_or("a rate is not a number")?;
                // The number's shortest text ("9.5") is its exact decimal meaning.
                let rate = number
                    .to_string()
                    .parse::<Decimal>()
                    .map_err(|e| e.to_string())?
                    .normalize();
                if name == "standard" {
                    standard = Some(rate);
                } else {
                    reduced.push(rate);
                }
            }
            parsed.push(RatePeriod {
                effective_from,
                standard: standard.ok_or("a period without a standard rate")?,
                reduced,
            });
        }
        // Newest first, with the unknown start last, whatever order the file uses.
        parsed.sort_by_key(|p| std::cmp::Reverse(p.effective_from));
        table.insert(country.clone(), parsed);
    }
    Ok(table)
}

/// The rates valid in `country` (ISO 3166-1, so `GR` for Greece) on `date`, if the table
/// knows the country.
pub fn rates_on(country: &str, date: NaiveDate) -> Option<&'static RatePeriod> {
    RATES
        .get(country)?
        .iter()
        .find(|p| p.effective_from.is_none_or(|from| from <= date))
}

/// Every period the table knows for `country`, newest first.
pub fn periods(country: &str) -> &'static [RatePeriod] {
    RATES.get(country).map_or(&[], Vec::as_slice)
}

/// Whether `percentage` is a valid rate for `category` in `country` on `date`.
///
/// Zero-rated categories need exactly 0; `standard` the country's standard rate; `reduced`
/// one of its reduced rates; `oss` either, for the destination country, which cannot be NL
/// (a sale taxed in the Netherlands is not an OSS sale).
pub fn percentage_valid(
    country: &str,
    category: VatCategory,
    percentage: Decimal,
    date: NaiveDate,
) -> bool {
    if category.is_zero_rated() {
        return percentage.is_zero();
    }
    let Some(period) = rates_on(country, date) else {
        return false;
    };
    period_allows(period, category, country, percentage)
}

/// Whether `percentage` was valid for `category` in `country` on `date` or at any earlier
/// time: a credit order corrects an old sale at the rate of that sale (box 1c).
pub fn percentage_valid_on_or_before(
    country: &str,
    category: VatCategory,
    percentage: Decimal,
    date: NaiveDate,
) -> bool {
    if category.is_zero_rated() {
        return percentage.is_zero();
    }
    periods(country)
        .iter()
        .filter(|p| p.effective_from.is_none_or(|from| from <= date))
        .any(|p| period_allows(p, category, country, percentage))
}

fn period_allows(
    period: &RatePeriod,
    category: VatCategory,
    country: &str,
    percentage: Decimal,
) -> bool {
    let standard = percentage == period.standard;
    let reduced = period.reduced.contains(&percentage);
    match category {
        VatCategory::Standard => standard,
        VatCategory::Reduced => reduced,
        VatCategory::Oss => country != "NL" && (standard || reduced),
        VatCategory::Margin => standard || reduced,
        _ => percentage.is_zero(),
    }
}

/// A VAT rate a company has on file, as the settings resource holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DefaultVatRate {
    /// A stable external id, so re-seeding a company never duplicates a rate.
    pub external_id: &'static str,
    /// The Dutch name a bookkeeper recognises.
    pub name: &'static str,
    /// The rate in percent.
    pub percentage: Decimal,
    /// The VAT category.
    pub category: VatCategory,
    /// Always `NL`: a new company is Dutch.
    pub country: &'static str,
}

/// The rates a new company starts with (`docs/contract.md`, "Documents"): 21 standard, 9 reduced, 0
/// zero, exempt, reverse charge, intra-EU and export.
pub fn default_dutch_rates() -> Vec<DefaultVatRate> {
    let rate = |external_id, name, percentage: i64, category| DefaultVatRate {
        external_id,
        name,
        percentage: Decimal::from(percentage),
        category,
        country: "NL",
    };
    vec![
        rate("nl-standard", "BTW hoog 21%", 21, VatCategory::Standard),
        rate("nl-reduced", "BTW laag 9%", 9, VatCategory::Reduced),
        rate("nl-zero", "BTW 0%", 0, VatCategory::Zero),
        rate("nl-exempt", "Vrijgesteld van BTW", 0, VatCategory::Exempt),
        rate(
            "nl-reverse-charge",
            "BTW verlegd",
            0,
            VatCategory::ReverseCharge,
        ),
        rate(
            "nl-intra-eu",
            "Intracommunautaire levering",
            0,
            VatCategory::IntraEu,
        ),
        rate("nl-export", "Export buiten de EU", 0, VatCategory::Export),
    ]
}

/// Checks the percentage a company's VAT rate is given for its category: between 0 and 100
/// with at most 4 decimals; 0 for a zero-rated category; above 0 for standard, reduced and
/// margin (an OSS rate may be stored at 0 until the destination's rate is known). The one
/// place this rule lives; the API's VAT-rate route asks it.
pub fn check_rate_percentage(
    category: VatCategory,
    percentage: Decimal,
) -> Option<crate::problem::Violation> {
    use crate::problem::{Violation, codes};
    if percentage < Decimal::ZERO
        || percentage > Decimal::ONE_HUNDRED
        || percentage.normalize().scale() > 4
    {
        return Some(Violation::new(
            "/percentage",
            codes::INVALID_PERCENTAGE,
            "the percentage must be between 0 and 100 with at most 4 decimals",
            "het percentage moet tussen 0 en 100 liggen, met hoogstens 4 decimalen",
        ));
    }
    if category.is_zero_rated() && !percentage.is_zero() {
        return Some(Violation::new(
            "/percentage",
            codes::VAT_CATEGORY_PERCENTAGE_MISMATCH,
            format!("category {category} has a percentage of 0"),
            format!("categorie {category} heeft een percentage van 0"),
        ));
    }
    if !category.is_zero_rated() && category != VatCategory::Oss && percentage.is_zero() {
        return Some(Violation::new(
            "/percentage",
            codes::VAT_CATEGORY_PERCENTAGE_MISMATCH,
            format!("category {category} needs a percentage above 0"),
            format!("categorie {category} vraagt een percentage boven 0"),
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn pct(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn the_embedded_rates_file_parses_with_every_member_state() {
        for country in [
            "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
            "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
        ] {
            assert!(!periods(country).is_empty(), "{country}");
        }
    }

    #[test]
    fn dutch_rates_follow_the_dates_in_vat_md() {
        assert!(percentage_valid(
            "NL",
            VatCategory::Standard,
            pct("19"),
            day(2012, 9, 30)
        ));
        assert!(!percentage_valid(
            "NL",
            VatCategory::Standard,
            pct("19"),
            day(2012, 10, 1)
        ));
        assert!(percentage_valid(
            "NL",
            VatCategory::Standard,
            pct("21"),
            day(2012, 10, 1)
        ));
        assert!(percentage_valid(
            "NL",
            VatCategory::Reduced,
            pct("6"),
            day(2015, 1, 9)
        ));
        assert!(percentage_valid(
            "NL",
            VatCategory::Reduced,
            pct("6"),
            day(2018, 12, 31)
        ));
        assert!(!percentage_valid(
            "NL",
            VatCategory::Reduced,
            pct("6"),
            day(2019, 1, 1)
        ));
        assert!(percentage_valid(
            "NL",
            VatCategory::Reduced,
            pct("9.00"),
            day(2026, 1, 1)
        ));
        assert!(!percentage_valid(
            "NL",
            VatCategory::Standard,
            pct("9"),
            day(2026, 1, 1)
        ));
        assert!(!percentage_valid(
            "NL",
            VatCategory::Reduced,
            pct("21"),
            day(2026, 1, 1)
        ));
    }

    #[test]
    fn zero_rated_categories_accept_only_zero() {
        for category in VatCategory::ALL.into_iter().filter(|c| c.is_zero_rated()) {
            assert!(percentage_valid(
                "NL",
                category,
                Decimal::ZERO,
                day(2026, 1, 1)
            ));
            assert!(!percentage_valid(
                "NL",
                category,
                pct("21"),
                day(2026, 1, 1)
            ));
        }
    }

    #[test]
    fn oss_takes_the_destination_rates_and_never_the_dutch_ones() {
        assert!(percentage_valid(
            "DE",
            VatCategory::Oss,
            pct("19"),
            day(2024, 5, 1)
        ));
        assert!(percentage_valid(
            "DE",
            VatCategory::Oss,
            pct("7"),
            day(2024, 5, 1)
        ));
        assert!(!percentage_valid(
            "DE",
            VatCategory::Oss,
            pct("16"),
            day(2024, 5, 1)
        ));
        assert!(percentage_valid(
            "DE",
            VatCategory::Oss,
            pct("16"),
            day(2020, 8, 1)
        ));
        assert!(percentage_valid(
            "FI",
            VatCategory::Oss,
            pct("25.5"),
            day(2025, 1, 1)
        ));
        assert!(!percentage_valid(
            "NL",
            VatCategory::Oss,
            pct("21"),
            day(2025, 1, 1)
        ));
        assert!(!percentage_valid(
            "US",
            VatCategory::Oss,
            pct("21"),
            day(2025, 1, 1)
        ));
    }

    #[test]
    fn a_credit_may_use_an_earlier_rate_but_not_a_future_one() {
        assert!(percentage_valid_on_or_before(
            "NL",
            VatCategory::Reduced,
            pct("6"),
            day(2024, 1, 1)
        ));
        assert!(!percentage_valid_on_or_before(
            "NL",
            VatCategory::Reduced,
            pct("9"),
            day(2018, 1, 1)
        ));
    }

    #[test]
    fn a_rates_percentage_fits_its_category() {
        let code = |c, p: &str| check_rate_percentage(c, pct(p)).map(|v| v.code);
        assert_eq!(code(VatCategory::Standard, "21"), None);
        assert_eq!(code(VatCategory::Margin, "9"), None);
        assert_eq!(code(VatCategory::Oss, "0"), None);
        assert_eq!(code(VatCategory::Zero, "0"), None);
        assert_eq!(
            code(VatCategory::Zero, "9"),
            Some("vat_category_percentage_mismatch")
        );
        assert_eq!(
            code(VatCategory::Reduced, "0"),
            Some("vat_category_percentage_mismatch")
        );
        assert_eq!(
            code(VatCategory::Standard, "101"),
            Some("invalid_percentage")
        );
        assert_eq!(
            code(VatCategory::Standard, "-1"),
            Some("invalid_percentage")
        );
        assert_eq!(
            code(VatCategory::Standard, "21.00001"),
            Some("invalid_percentage")
        );
    }

    #[test]
    fn only_standard_reduced_oss_and_margin_carry_vat() {
        let carrying: Vec<_> = VatCategory::ALL
            .into_iter()
            .filter(|c| !c.is_zero_rated())
            .collect();
        assert_eq!(
            carrying,
            [
                VatCategory::Standard,
                VatCategory::Reduced,
                VatCategory::Oss,
                VatCategory::Margin
            ]
        );
    }

    #[test]
    fn a_new_company_gets_seven_dutch_rates_with_stable_ids() {
        let rates = default_dutch_rates();
        assert_eq!(rates.len(), 7);
        let today = day(2026, 1, 1);
        for rate in &rates {
            assert!(rate.external_id.starts_with("nl-"));
            assert!(percentage_valid(
                rate.country,
                rate.category,
                rate.percentage,
                today
            ));
        }
    }
}
