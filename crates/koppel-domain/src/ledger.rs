//! A company's ledger mapping (SPEC "Journals"): which account, and which VAT code, each
//! ledger [`Role`] posts to in the company's bookkeeping package, optionally per VAT rate,
//! payment method or revenue category; and which entry a journal's posting goes to.

use serde::{Deserialize, Serialize};

use crate::daily::RateKey;
use crate::document::{Checker, ExternalKind, References, within_bounds};
use crate::identifiers::CountryCode;
use crate::journal::{Posting, Role};
use crate::problem::{Violation, codes};

/// The most characters an account code may have.
pub const MAX_ACCOUNT_CHARS: usize = 64;

/// The most characters a VAT code may have.
pub const MAX_VAT_CODE_CHARS: usize = MAX_ACCOUNT_CHARS;

/// The most characters a package name may have: as a booking's `package`.
pub const MAX_PACKAGE_CHARS: usize = 255;

/// The most entries a mapping may have.
pub const MAX_ENTRIES: usize = 1_000;

/// A mapping as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MappingDraft {
    /// The bookkeeping package the accounts are of, e.g. `exact_online`.
    #[serde(default)]
    pub package: Option<String>,
    /// The accounts per role.
    #[serde(default)]
    pub accounts: Vec<MappingEntryDraft>,
}

/// One entry of a mapping as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MappingEntryDraft {
    /// The ledger role, e.g. `revenue`.
    #[serde(default)]
    pub role: Option<String>,
    /// The package's account code.
    #[serde(default)]
    pub account: Option<String>,
    /// The package's VAT code for postings of this entry.
    #[serde(default)]
    pub vat_code: Option<String>,
    /// Only for postings at this VAT rate of the company (our id).
    #[serde(default)]
    pub rate_id: Option<String>,
    /// The same rate by the vendor's id.
    #[serde(default)]
    pub rate_external_id: Option<String>,
    /// Only for postings of this payment method (our id).
    #[serde(default)]
    pub method_id: Option<String>,
    /// The same method by the vendor's id.
    #[serde(default)]
    pub method_external_id: Option<String>,
    /// Only for revenue of this category (our id).
    #[serde(default)]
    pub category_id: Option<String>,
    /// The same category by the vendor's id.
    #[serde(default)]
    pub category_external_id: Option<String>,
}

/// One entry of a valid mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingEntry {
    /// The role.
    pub role: Role,
    /// The account code.
    pub account: String,
    /// The VAT code.
    pub vat_code: Option<String>,
    /// Our id of the VAT rate it is for.
    pub rate_id: Option<String>,
    /// That rate's category, percentage and country: what a posting's rate is matched on.
    /// Read from the company's rates, not stored.
    #[serde(skip)]
    pub rate: Option<RateKey>,
    /// Our id of the payment method it is for.
    pub method_id: Option<String>,
    /// Our id of the category it is for.
    pub category_id: Option<String>,
}

impl MappingEntry {
    /// Which of a posting's qualifiers it names: `None` when it names one the posting does
    /// not have, else how many it names (the more, the better the match).
    fn matches(&self, posting: &Posting) -> Option<usize> {
        if self.role != posting.role {
            return None;
        }
        let mut score = 0;
        if let Some(rate) = &self.rate {
            (posting.rate.as_ref() == Some(rate)).then_some(())?;
            score += 1;
        } else if self.rate_id.is_some() {
            // A rate the company no longer has matches nothing.
            return None;
        }
        if let Some(method) = &self.method_id {
            (posting.method_id.as_deref() == Some(method.as_str())).then_some(())?;
            score += 1;
        }
        if let Some(category) = &self.category_id {
            (posting.category_id.as_deref() == Some(category.as_str())).then_some(())?;
            score += 1;
        }
        Some(score)
    }
}

/// A company's mapping: its entries, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LedgerMapping {
    /// The package.
    pub package: String,
    /// The entries.
    pub entries: Vec<MappingEntry>,
}

impl LedgerMapping {
    /// The entry a posting goes to: of its role, naming nothing the posting does not have,
    /// and of those the one naming most (a rate's account before the role's catch-all).
    pub fn resolve(&self, posting: &Posting) -> Option<&MappingEntry> {
        self.entries
            .iter()
            .filter_map(|e| e.matches(posting).map(|score| (score, e)))
            .max_by_key(|(score, _)| *score)
            .map(|(_, e)| e)
    }

    /// The roles without any entry, in the contract's order.
    pub fn unmapped_roles(&self) -> Vec<Role> {
        Role::ALL
            .into_iter()
            .filter(|role| !self.entries.iter().any(|e| e.role == *role))
            .collect()
    }

    /// The roles of `postings` that no entry takes, each once, in the contract's order.
    pub fn unmapped_of<'p>(&self, postings: impl IntoIterator<Item = &'p Posting>) -> Vec<Role> {
        let mut roles: Vec<Role> = postings
            .into_iter()
            .filter(|p| self.resolve(p).is_none())
            .map(|p| p.role)
            .collect();
        roles.sort_unstable();
        roles.dedup();
        roles
    }
}

/// A rate's key from the company's rate as references know it.
fn rate_key(refs: &dyn References, id: &str) -> Option<RateKey> {
    let rate = refs.vat_rate(id)?;
    let country = CountryCode::parse(&rate.country).ok()?;
    Some((rate.category, rate.percentage, country))
}

/// Checks a mapping: a package name; per entry a known role, an account of 1 to 64
/// characters, a VAT code of at most 64, and only the qualifiers the role is split by, each
/// naming the company's rate, method or category (by our id or the vendor's); no two entries
/// for the same role and qualifiers. Every problem with its pointer.
pub fn check_mapping(
    draft: &MappingDraft,
    refs: &dyn References,
) -> Result<LedgerMapping, Vec<Violation>> {
    within_bounds(&[("/accounts", draft.accounts.len(), MAX_ENTRIES)])?;
    let mut c = Checker::new(refs);
    let package = c.text("/package".to_owned(), draft.package.as_deref());
    if let Some(package) = package {
        bounded(&mut c, "/package", package, MAX_PACKAGE_CHARS);
    }
    let mut entries: Vec<MappingEntry> = Vec::with_capacity(draft.accounts.len());
    for (i, e) in draft.accounts.iter().enumerate() {
        let p = format!("/accounts/{i}");
        let problems_before = c.out.len();
        let role = match c.text(format!("{p}/role"), e.role.as_deref()) {
            Some(name) => match Role::parse(name) {
                Some(role) => Some(role),
                None => {
                    c.push(
                        format!("{p}/role"),
                        codes::UNKNOWN_LEDGER_ROLE,
                        format!("{name:?} is not a ledger role"),
                        format!("{name:?} is geen grootboekrol"),
                    );
                    None
                }
            },
            None => None,
        };
        let account = c.text(format!("{p}/account"), e.account.as_deref());
        if let Some(account) = account {
            bounded(&mut c, &format!("{p}/account"), account, MAX_ACCOUNT_CHARS);
        }
        let vat_code = match e.vat_code.as_deref().map(str::trim) {
            Some("") => {
                c.missing(format!("{p}/vat_code"));
                None
            }
            Some(code) => {
                bounded(&mut c, &format!("{p}/vat_code"), code, MAX_VAT_CODE_CHARS);
                Some(code.to_owned())
            }
            None => None,
        };
        let rate = qualifier(
            &mut c,
            &p,
            "rate",
            &e.rate_id,
            &e.rate_external_id,
            ExternalKind::VatRate,
        );
        let method = qualifier(
            &mut c,
            &p,
            "method",
            &e.method_id,
            &e.method_external_id,
            ExternalKind::PaymentMethod,
        );
        let category = qualifier(
            &mut c,
            &p,
            "category",
            &e.category_id,
            &e.category_external_id,
            ExternalKind::Category,
        );
        let Some(role) = role else { continue };
        for (given, allowed, field) in [
            (rate.is_some(), role.takes_rate(), "rate_id"),
            (method.is_some(), role.takes_method(), "method_id"),
            (category.is_some(), role.takes_category(), "category_id"),
        ] {
            if given && !allowed {
                c.push(
                    format!("{p}/{field}"),
                    codes::LEDGER_QUALIFIER_NOT_FOR_ROLE,
                    format!("{} is not split by {field}", role.as_str()),
                    format!("{} wordt niet naar {field} gesplitst", role.as_str()),
                );
            }
        }
        let rate_of = rate.as_deref().and_then(|id| rate_key(refs, id));
        // An entry with a problem of its own is not compared with the others.
        let Some(account) = account.filter(|_| c.out.len() == problems_before) else {
            continue;
        };
        let entry = MappingEntry {
            role,
            account: account.to_owned(),
            vat_code,
            rate_id: rate,
            rate: rate_of,
            method_id: method,
            category_id: category,
        };
        if entries.iter().any(|x| {
            (x.role, &x.rate_id, &x.method_id, &x.category_id)
                == (
                    entry.role,
                    &entry.rate_id,
                    &entry.method_id,
                    &entry.category_id,
                )
        }) {
            c.push(
                p.clone(),
                codes::DUPLICATE_LEDGER_ENTRY,
                format!("{} with these qualifiers is mapped twice", role.as_str()),
                format!("{} met deze splitsing staat er twee keer in", role.as_str()),
            );
        }
        entries.push(entry);
    }
    if c.out.is_empty() {
        Ok(LedgerMapping {
            package: package.unwrap_or_default().to_owned(),
            entries,
        })
    } else {
        Err(c.out)
    }
}

fn bounded(c: &mut Checker<'_>, pointer: &str, value: &str, max: usize) {
    let chars = value.chars().count();
    if chars > max {
        c.push(
            pointer,
            codes::TEXT_TOO_LONG,
            format!("at most {max} characters are allowed here, not {chars}"),
            format!("hier zijn hoogstens {max} tekens toegestaan, geen {chars}"),
        );
    }
}

/// An optional qualifier by our id (`{field}_id`) or the vendor's (`{field}_external_id`):
/// our id when it names the company's resource.
fn qualifier(
    c: &mut Checker<'_>,
    p: &str,
    field: &str,
    id: &Option<String>,
    external_id: &Option<String>,
    kind: ExternalKind,
) -> Option<String> {
    let id = id.as_deref().map(str::trim);
    let (code, en, nl) = kind.unknown();
    let exists = move |refs: &dyn References, id: &str| match kind {
        ExternalKind::VatRate => refs.vat_rate(id).is_some(),
        ExternalKind::PaymentMethod => refs.payment_method_exists(id),
        _ => refs.category_exists(id),
    };
    let before = c.out.len();
    c.reference(format!("{p}/{field}_id"), id, exists, code, en, nl);
    let resolved = c.resolve(
        &format!("{p}/{field}_external_id"),
        id,
        external_id.as_deref(),
        kind,
    );
    if c.out.len() > before {
        return None;
    }
    resolved.id.map(|id| id.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{KnownReferences, VatRateRef};
    use crate::vat::VatCategory;
    use rust_decimal::Decimal;

    fn refs() -> KnownReferences {
        let mut r = KnownReferences::default();
        r.vat_rates.insert(
            "rate-21".to_owned(),
            VatRateRef {
                percentage: Decimal::from(21),
                category: VatCategory::Standard,
                country: "NL".to_owned(),
            },
        );
        r.payment_methods.insert("cash".to_owned());
        r
    }

    fn entry(role: &str, account: &str) -> MappingEntryDraft {
        MappingEntryDraft {
            role: Some(role.to_owned()),
            account: Some(account.to_owned()),
            ..MappingEntryDraft::default()
        }
    }

    #[test]
    fn a_posting_goes_to_the_entry_naming_most_of_what_it_has() {
        let draft = MappingDraft {
            package: Some("exact_online".to_owned()),
            accounts: vec![
                entry("revenue", "8000"),
                MappingEntryDraft {
                    rate_id: Some("rate-21".to_owned()),
                    vat_code: Some("2".to_owned()),
                    ..entry("revenue", "8010")
                },
            ],
        };
        let mapping = check_mapping(&draft, &refs()).unwrap();
        let high = (
            VatCategory::Standard,
            Decimal::new(2100, 2),
            CountryCode::NL,
        );
        let low = (VatCategory::Reduced, Decimal::from(9), CountryCode::NL);
        let posting = |rate| Posting {
            role: Role::Revenue,
            amount: Decimal::ONE,
            rate: Some(rate),
            method_id: None,
            category_id: Some("food".to_owned()),
            description: String::new(),
            source: String::new(),
        };
        assert_eq!(mapping.resolve(&posting(high)).unwrap().account, "8010");
        assert_eq!(mapping.resolve(&posting(low)).unwrap().account, "8000");
        let vat = Posting {
            role: Role::VatPayable,
            ..posting(high)
        };
        assert_eq!(mapping.resolve(&vat), None);
        assert_eq!(
            mapping.unmapped_of([&vat, &posting(low)]),
            vec![Role::VatPayable]
        );
        assert!(!mapping.unmapped_roles().contains(&Role::Revenue));
        assert!(mapping.unmapped_roles().contains(&Role::Cash));
    }

    #[test]
    fn a_bad_mapping_is_refused_with_every_pointer() {
        let draft = MappingDraft {
            package: None,
            accounts: vec![
                entry("sales", "8000"),
                entry("revenue", ""),
                entry("cash", &"1".repeat(65)),
                MappingEntryDraft {
                    rate_id: Some("rate-6".to_owned()),
                    ..entry("revenue", "8001")
                },
                MappingEntryDraft {
                    method_id: Some("cash".to_owned()),
                    ..entry("revenue", "8002")
                },
                entry("bank", "1100"),
                entry("bank", "1110"),
            ],
        };
        let refused = check_mapping(&draft, &refs()).unwrap_err();
        let at: Vec<(&str, &str)> = refused
            .iter()
            .map(|v| (v.pointer.as_str(), v.code))
            .collect();
        assert_eq!(
            at,
            vec![
                ("/package", codes::MISSING_FIELD),
                ("/accounts/0/role", codes::UNKNOWN_LEDGER_ROLE),
                ("/accounts/1/account", codes::MISSING_FIELD),
                ("/accounts/2/account", codes::TEXT_TOO_LONG),
                ("/accounts/3/rate_id", codes::UNKNOWN_VAT_RATE),
                (
                    "/accounts/4/method_id",
                    codes::LEDGER_QUALIFIER_NOT_FOR_ROLE
                ),
                ("/accounts/6", codes::DUPLICATE_LEDGER_ENTRY),
            ]
        );
    }
}
