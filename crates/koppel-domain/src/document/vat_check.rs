//! A line's or cost's VAT resolved and checked: its rate or category and percentage, the
//! rate valid on the document's date, the exempt reason, the intra-EU buyer.

use rust_decimal::Decimal;

use super::{Checker, ExternalKind, ValidVat, VatDraft};
use crate::identifiers::CountryCode;
use crate::problem::codes;
use crate::vat::{self, VatCategory};

impl Checker<'_> {
    /// Resolves and checks the VAT information of a line or cost.
    pub(crate) fn vat(&mut self, p: &str, vat: Option<&VatDraft>) -> Option<ValidVat> {
        let Some(vat) = vat else {
            self.push(
                format!("{p}/vat"),
                codes::VAT_MISSING,
                "vat is missing: send vat with rate_id, or percentage and category, and amount"
                    .to_owned(),
                "vat ontbreekt: stuur vat met rate_id, of percentage en category, en amount"
                    .to_owned(),
            );
            return None;
        };
        let amount = self.amount(format!("{p}/vat/amount"), vat.amount, 2);
        let before = self.out.len();
        let rate = self.resolve(
            &format!("{p}/vat/rate_external_id"),
            vat.rate_id.as_deref(),
            vat.rate_external_id.as_deref(),
            ExternalKind::VatRate,
        );
        if self.out.len() > before {
            // An unknown external id, or one that is not the `rate_id` beside it: reported, and
            // it is unknown which rate the vendor meant, so the amount is not checked.
            return None;
        }
        let resolved = match &rate.id {
            Some(id) => {
                match self.refs.vat_rate(id) {
                    None => {
                        self.push(
                            format!("{p}/vat/rate_id"),
                            codes::UNKNOWN_VAT_RATE,
                            format!("vat rate {id:?} does not exist in this company"),
                            format!("btw-tarief {id:?} bestaat niet in deze administratie"),
                        );
                        None
                    }
                    Some(rate) => {
                        let before = self.out.len();
                        if let Some(sent) = vat.percentage
                            && sent != rate.percentage
                        {
                            self.push(
                            format!("{p}/vat/percentage"),
                            codes::VAT_RATE_CONFLICT,
                            format!("percentage {sent} differs from vat rate {id:?}, which has {}", rate.percentage),
                            format!("percentage {sent} wijkt af van btw-tarief {id:?}, dat {} heeft", rate.percentage),
                        );
                        }
                        if let Some(sent) = vat.category
                            && sent != rate.category
                        {
                            self.push(
                                format!("{p}/vat/category"),
                                codes::VAT_RATE_CONFLICT,
                                format!(
                                    "category {sent} differs from vat rate {id:?}, which has {}",
                                    rate.category
                                ),
                                format!(
                                    "categorie {sent} wijkt af van btw-tarief {id:?}, dat {} heeft",
                                    rate.category
                                ),
                            );
                        }
                        let country = self.country(format!("{p}/vat/rate_id"), Some(&rate.country));
                        // After a conflict it is unknown which rate the vendor meant, so the
                        // amount is not checked against either.
                        let conflict = self.out.len() > before;
                        country
                            .filter(|_| !conflict)
                            .map(|c| (rate.percentage, rate.category, c))
                    }
                }
            }
            None => {
                let percentage = match vat.percentage {
                    Some(v) => self.bounded(format!("{p}/vat/percentage"), v, 4),
                    // A zero-rated category has only one possible percentage, so it may be
                    // left out.
                    None if vat.category.is_some_and(VatCategory::is_zero_rated) => {
                        Some(Decimal::ZERO)
                    }
                    None => {
                        self.missing(format!("{p}/vat/percentage"));
                        None
                    }
                };
                if vat.category.is_none() {
                    self.missing(format!("{p}/vat/category"));
                }
                let country = match (&vat.country, vat.category) {
                    (Some(raw), _) => self.country(format!("{p}/vat/country"), Some(raw)),
                    (None, Some(VatCategory::Oss)) => {
                        self.push(
                            format!("{p}/vat/country"),
                            codes::OSS_COUNTRY_REQUIRED,
                            "an oss line needs the destination country in vat.country".to_owned(),
                            "een oss-regel heeft het land van bestemming nodig in vat.country"
                                .to_owned(),
                        );
                        None
                    }
                    (None, _) => Some(CountryCode::NL),
                };
                match (percentage, vat.category, country) {
                    (Some(p), Some(c), Some(country)) => Some((p, c, country)),
                    _ => None,
                }
            }
        };
        let (percentage, category, country) = resolved?;
        let percentage = percentage.normalize();
        let mut ok = true;
        if category.is_zero_rated() != percentage.is_zero() {
            ok = false;
            let (en, nl) = if category.is_zero_rated() {
                ("0", "0")
            } else {
                ("above 0", "boven 0")
            };
            self.push(
                format!("{p}/vat/percentage"),
                codes::VAT_CATEGORY_PERCENTAGE_MISMATCH,
                format!("category {category} requires a percentage of {en}, got {percentage}"),
                format!(
                    "categorie {category} vereist een percentage van {nl}, ontvangen: {percentage}"
                ),
            );
        } else if !category.is_zero_rated()
            && let Some(date) = self.date
        {
            let valid = if self.credit {
                vat::percentage_valid_on_or_before(country.as_str(), category, percentage, date)
            } else {
                vat::percentage_valid(country.as_str(), category, percentage, date)
            };
            if !valid {
                ok = false;
                let then = vat::rates_on(country.as_str(), date).map(|r| match category {
                    VatCategory::Standard => r.standard.to_string(),
                    VatCategory::Reduced => join(&r.reduced),
                    _ => join(&[vec![r.standard], r.reduced.clone()].concat()),
                });
                let (then_en, then_nl) = match then {
                    Some(list) if category != VatCategory::Oss || country != CountryCode::NL => (
                        format!("valid then: {list}"),
                        format!("toen geldig: {list}"),
                    ),
                    _ => ("no rate known".to_owned(), "geen tarief bekend".to_owned()),
                };
                self.push(
                    format!("{p}/vat/percentage"),
                    codes::VAT_PERCENTAGE_NOT_VALID,
                    format!("{percentage}% is not a {category} rate in {country} on {date}; {then_en}"),
                    format!("{percentage}% is op {date} geen tarief van categorie {category} in {country}; {then_nl}"),
                );
            }
        }
        if category == VatCategory::Exempt
            && vat
                .exemption_reason
                .as_deref()
                .is_none_or(|r| r.trim().is_empty())
        {
            self.push(
                format!("{p}/vat/exemption_reason"),
                codes::EXEMPTION_REASON_REQUIRED,
                "an exempt line needs the reason for the exemption in exemption_reason".to_owned(),
                "een vrijgestelde regel heeft de reden van de vrijstelling nodig in exemption_reason".to_owned(),
            );
        }
        if category == VatCategory::IntraEu {
            self.intra_eu(p);
        }
        let amount = amount?;
        if category.is_zero_rated() && !amount.is_zero() {
            self.push(
                format!("{p}/vat/amount"),
                codes::VAT_AMOUNT_NOT_ZERO,
                format!("category {category} carries no vat: expected 0.00, got {amount}"),
                format!("categorie {category} heeft geen btw: verwacht 0.00, ontvangen: {amount}"),
            );
            ok = false;
        }
        ok.then(|| ValidVat {
            rate_id: rate.id.clone(),
            rate_external_id: rate.external_id.clone(),
            percentage,
            category,
            country,
            amount,
            exemption_reason: vat.exemption_reason.clone(),
        })
    }

    /// An intra-EU supply needs a buyer VAT number from another member state; reported once
    /// per document, because it is one fact about the buyer.
    pub(crate) fn intra_eu(&mut self, p: &str) {
        if self.buyer_reported {
            return;
        }
        let pointer = self
            .buyer_vat_pointer
            .map_or_else(|| format!("{p}/vat/category"), str::to_owned);
        match &self.buyer_vat {
            None => {
                self.buyer_reported = true;
                self.push(
                    pointer,
                    codes::INTRA_EU_REQUIRES_BUYER_VAT_NUMBER,
                    "an intra-eu supply needs the buyer's valid vat number".to_owned(),
                    "een intracommunautaire levering heeft het geldige btw-nummer van de afnemer nodig".to_owned(),
                );
            }
            Some(number) if number.prefix() == "NL" => {
                self.buyer_reported = true;
                self.push(
                    pointer,
                    codes::INTRA_EU_BUYER_IS_DOMESTIC,
                    format!("an intra-eu supply needs a buyer in another member state, got {number}"),
                    format!("een intracommunautaire levering heeft een afnemer in een andere lidstaat nodig, ontvangen: {number}"),
                );
            }
            Some(_) => {}
        }
    }
}

fn join(rates: &[Decimal]) -> String {
    let texts: Vec<String> = rates.iter().map(|r| r.normalize().to_string()).collect();
    if texts.is_empty() {
        "-".to_owned()
    } else {
        texts.join(", ")
    }
}
