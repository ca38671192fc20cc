//! Journal entries (SPEC "Journals", VAT.md "Journals balance"): the posting a bookkeeping
//! connector makes for an order, a receipt or a business day, computed once here so that no
//! connector gets it wrong in its own way.
//!
//! An [`Entry`] is a list of [`Posting`]s, each a signed amount (debit positive, credit
//! negative) on a ledger [`Role`], with the VAT rate, payment method or category that picks
//! the account within the role. Which account and VAT code a role has is the company's
//! [`crate::ledger::LedgerMapping`]; the entry itself knows nothing of accounts, so it is a
//! preview before any mapping exists.
//!
//! Every entry balances to the cent: the builders post each figure against its counterpart,
//! and [`Entry::balance`] books what stored figures leave over to `rounding` (at most 0.01
//! per VAT group) or, beyond that, to `cash_difference`: never hidden.

mod day;
mod document;
mod words;

use std::collections::BTreeMap;

use rust_decimal::Decimal;

pub use day::{CashMove, DayCash, DayFacts, DayPayment, DayRate, day_entry};
pub use document::{
    DocumentFacts, FeeFacts, PartFacts, PaymentFacts, cost_role, document_entry, line_role,
    order_counts_zero, order_facts, payment_role, receipt_facts, receipt_line_role,
};
pub use words::dutch;

use crate::daily::RateKey;

/// A ledger role: what an account is for, whatever the package calls it (SPEC "Journals").
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Revenue of goods and services, per VAT rate (optionally per category).
    Revenue,
    /// Shipping charged to the buyer, per VAT rate.
    ShippingRevenue,
    /// Payment costs charged to the buyer, per VAT rate.
    PaymentRevenue,
    /// Surcharges, per VAT rate.
    SurchargeRevenue,
    /// Order-level discounts, per VAT rate.
    Discounts,
    /// Output VAT, per rate: credit on a sale, debit on a refund.
    VatPayable,
    /// Input VAT, on payment-provider fees.
    VatReceivable,
    /// What buyers owe (debiteuren).
    Receivable,
    /// Money on its way from a payment method or provider, per method.
    PaymentClearing,
    /// The till's cash.
    Cash,
    /// The bank account.
    Bank,
    /// Payment-provider fees, excluding their VAT.
    PspFees,
    /// Multi-purpose gift cards and vouchers sold and not yet redeemed.
    GiftCardLiability,
    /// Tips owed to staff.
    TipsPayable,
    /// Deposits on returnable packaging (statiegeld).
    Deposits,
    /// Rounding: cash rounding and what the rounding of sums leaves (at most 0.01 per VAT
    /// group).
    Rounding,
    /// Cash counted against cash expected, and any larger gap between what was sold and paid.
    CashDifference,
    /// The other side of cash put into or taken out of the till beside sales (a Z-report's
    /// pay-ins and pay-outs): a suspense account (kruisposten) the bookkeeper clears, since
    /// only the shop knows whether 12.50 out of the till paid the window cleaner or a
    /// supplier.
    CashTransfers,
}

impl Role {
    /// Every role, in the order of the contract.
    pub const ALL: [Role; 18] = [
        Role::Revenue,
        Role::ShippingRevenue,
        Role::PaymentRevenue,
        Role::SurchargeRevenue,
        Role::Discounts,
        Role::VatPayable,
        Role::VatReceivable,
        Role::Receivable,
        Role::PaymentClearing,
        Role::Cash,
        Role::Bank,
        Role::PspFees,
        Role::GiftCardLiability,
        Role::TipsPayable,
        Role::Deposits,
        Role::Rounding,
        Role::CashDifference,
        Role::CashTransfers,
    ];

    /// The snake_case name used on the wire, and shown as the account of an unmapped role.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Revenue => "revenue",
            Role::ShippingRevenue => "shipping_revenue",
            Role::PaymentRevenue => "payment_revenue",
            Role::SurchargeRevenue => "surcharge_revenue",
            Role::Discounts => "discounts",
            Role::VatPayable => "vat_payable",
            Role::VatReceivable => "vat_receivable",
            Role::Receivable => "receivable",
            Role::PaymentClearing => "payment_clearing",
            Role::Cash => "cash",
            Role::Bank => "bank",
            Role::PspFees => "psp_fees",
            Role::GiftCardLiability => "gift_card_liability",
            Role::TipsPayable => "tips_payable",
            Role::Deposits => "deposits",
            Role::Rounding => "rounding",
            Role::CashDifference => "cash_difference",
            Role::CashTransfers => "cash_transfers",
        }
    }

    /// The role with this wire name.
    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == name)
    }

    /// Whether postings of this role carry a VAT rate, so a mapping may give an account (and
    /// VAT code) per rate.
    pub fn takes_rate(self) -> bool {
        matches!(
            self,
            Role::Revenue
                | Role::ShippingRevenue
                | Role::PaymentRevenue
                | Role::SurchargeRevenue
                | Role::Discounts
                | Role::VatPayable
                | Role::VatReceivable
                | Role::PspFees
        )
    }

    /// Whether postings of this role carry a payment method, so a mapping may give an
    /// account per method.
    pub fn takes_method(self) -> bool {
        matches!(
            self,
            Role::PaymentClearing | Role::Cash | Role::GiftCardLiability | Role::Receivable
        )
    }

    /// Whether postings of this role carry a revenue category.
    pub fn takes_category(self) -> bool {
        self == Role::Revenue
    }
}

/// One posting: a signed amount on a role, with what picks the account within the role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    /// The role.
    pub role: Role,
    /// Debit when positive, credit when negative; never zero in an entry.
    pub amount: Decimal,
    /// The VAT rate, for roles that [`Role::takes_rate`].
    pub rate: Option<RateKey>,
    /// The payment method (our id), for roles that [`Role::takes_method`].
    pub method_id: Option<String>,
    /// The revenue category (our id), for revenue of a document.
    pub category_id: Option<String>,
    /// What the posting is, in words.
    pub description: String,
    /// The JSON pointer of the part of the document (or day) it comes from.
    pub source: String,
}

impl Posting {
    /// The debit side: the amount when positive, else 0.
    pub fn debit(&self) -> Decimal {
        self.amount.max(Decimal::ZERO)
    }

    /// The credit side: minus the amount when negative, else 0.
    pub fn credit(&self) -> Decimal {
        (-self.amount).max(Decimal::ZERO)
    }
}

/// A journal entry: postings that add up to zero.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entry {
    /// The postings, in a stable order: revenue side per VAT group, then the counterparts.
    pub postings: Vec<Posting>,
}

/// How a VAT rate reads in a description: `21% standard NL`.
pub(crate) fn rate_words(rate: &RateKey) -> String {
    let (category, percentage, country) = rate;
    format!(
        "{}% {} {}",
        percentage.normalize(),
        category.as_str(),
        country.as_str()
    )
}

impl Entry {
    /// Adds a posting unless its amount is zero (a line of 0.00 posts nothing).
    pub(crate) fn post(
        &mut self,
        role: Role,
        amount: Decimal,
        description: impl Into<String>,
        source: impl Into<String>,
    ) -> Option<&mut Posting> {
        if amount.is_zero() {
            return None;
        }
        self.postings.push(Posting {
            role,
            amount,
            rate: None,
            method_id: None,
            category_id: None,
            description: description.into(),
            source: source.into(),
        });
        self.postings.last_mut()
    }

    /// Σ of the postings to `role`, debit positive, credit negative.
    pub fn total_of(&self, role: Role) -> Decimal {
        self.postings
            .iter()
            .filter(|p| p.role == role)
            .map(|p| p.amount)
            .sum()
    }

    /// Σ debit.
    pub fn total_debit(&self) -> Decimal {
        self.postings.iter().map(Posting::debit).sum()
    }

    /// Σ credit.
    pub fn total_credit(&self) -> Decimal {
        self.postings.iter().map(Posting::credit).sum()
    }

    /// Whether Σ debit = Σ credit exactly.
    pub fn is_balanced(&self) -> bool {
        self.total_debit() == self.total_credit()
    }

    /// Books what is left over, so the entry balances: to `rounding` when it is at most 0.01
    /// per VAT group (`groups`, at least one), else to `cash_difference` (VAT.md).
    pub(crate) fn balance(&mut self, groups: usize, source: &str) {
        let left: Decimal = self.postings.iter().map(|p| p.amount).sum();
        if left.is_zero() {
            return;
        }
        let allowed = Decimal::new(1, 2) * Decimal::from(groups.max(1));
        let (role, words) = if left.abs() <= allowed {
            (Role::Rounding, "rounding difference")
        } else {
            (Role::CashDifference, "difference between sold and paid")
        };
        self.post(role, -left, words, source);
    }

    /// The correcting entry from `earlier` to `later`: per posting (role, rate, method,
    /// category, description, source), `later − earlier`, leaving out what did not change.
    /// Posting it after `earlier` gives the books `later`. Balanced when both are.
    pub fn correction(earlier: &Entry, later: &Entry) -> Entry {
        type Key<'a> = (
            Role,
            Option<RateKey>,
            Option<&'a str>,
            Option<&'a str>,
            &'a str,
            &'a str,
        );
        fn key(p: &Posting) -> Key<'_> {
            (
                p.role,
                p.rate,
                p.method_id.as_deref(),
                p.category_id.as_deref(),
                &p.description,
                &p.source,
            )
        }
        let mut order: Vec<&Posting> = Vec::new();
        let mut sums: BTreeMap<Key<'_>, Decimal> = BTreeMap::new();
        for (p, sign) in later
            .postings
            .iter()
            .map(|p| (p, Decimal::ONE))
            .chain(earlier.postings.iter().map(|p| (p, Decimal::NEGATIVE_ONE)))
        {
            let sum = sums.entry(key(p)).or_insert_with(|| {
                order.push(p);
                Decimal::ZERO
            });
            *sum += p.amount * sign;
        }
        let postings = order
            .into_iter()
            .filter_map(|p| {
                let amount = sums[&key(p)];
                (!amount.is_zero()).then(|| Posting {
                    amount,
                    ..p.clone()
                })
            })
            .collect();
        Entry { postings }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identifiers::CountryCode;
    use crate::vat::VatCategory;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn every_role_has_one_name_and_reads_back() {
        let mut names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            assert_eq!(
                serde_json::to_value(role).unwrap(),
                serde_json::Value::from(role.as_str())
            );
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Role::ALL.len());
        assert_eq!(Role::parse("sales"), None);
    }

    #[test]
    fn a_cent_per_group_goes_to_rounding_and_more_to_cash_difference() {
        let mut entry = Entry::default();
        entry.post(Role::Cash, d("10.01"), "paid", "/p");
        entry.post(Role::Revenue, d("-10.00"), "sold", "/r");
        entry.balance(1, "/totals");
        assert!(entry.is_balanced());
        assert_eq!(entry.postings[2].role, Role::Rounding);
        assert_eq!(entry.postings[2].amount, d("-0.01"));

        let mut entry = Entry::default();
        entry.post(Role::Cash, d("10.03"), "paid", "/p");
        entry.post(Role::Revenue, d("-10.00"), "sold", "/r");
        entry.balance(2, "/totals");
        assert!(entry.is_balanced());
        assert_eq!(entry.postings[2].role, Role::CashDifference);
        assert_eq!(entry.postings[2].amount, d("-0.03"));
    }

    #[test]
    fn a_correction_posts_only_what_changed_and_balances() {
        let nl = CountryCode::NL;
        let high = (VatCategory::Standard, d("21"), nl);
        let mut one = Entry::default();
        one.post(Role::Cash, d("121.00"), "cash", "/p/0");
        one.post(Role::Revenue, d("-100.00"), "rev", "/r/0")
            .unwrap()
            .rate = Some(high);
        one.post(Role::VatPayable, d("-21.00"), "vat", "/r/0")
            .unwrap()
            .rate = Some(high);
        let mut two = one.clone();
        two.postings[0].amount = d("133.10");
        two.postings[1].amount = d("-110.00");
        two.postings[2].amount = d("-23.10");
        two.post(Role::TipsPayable, d("-2.00"), "tips", "/tips");
        two.postings[0].amount += d("2.00");
        let fix = Entry::correction(&one, &two);
        assert!(fix.is_balanced());
        let amounts: Vec<(Role, Decimal)> =
            fix.postings.iter().map(|p| (p.role, p.amount)).collect();
        assert_eq!(
            amounts,
            vec![
                (Role::Cash, d("14.10")),
                (Role::Revenue, d("-10.00")),
                (Role::VatPayable, d("-2.10")),
                (Role::TipsPayable, d("-2.00")),
            ]
        );
        assert!(Entry::correction(&two, &two).postings.is_empty());
    }
}
