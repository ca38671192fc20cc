//! The daily revenue: figures kept up to date as receipts arrive and equal to an independent
//! recomputation, final at 05:00 the next morning (by a finaliser that misses nothing after a
//! restart) or when closed, and revised by a late receipt.

use std::collections::BTreeMap;
use std::str::FromStr;

use axum::http::StatusCode;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Europe::Amsterdam;
use koppel_domain::business_day;
use koppel_domain::document::KnownReferences;
use koppel_domain::receipt::{ReceiptDraft, validate_receipt};
use koppel_store::daily_revenue::DayKey;
use koppel_store::receipts::{InsertOutcome, NewReceipt};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::receipts::{Setup, receipt, setup};

pub(crate) fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// A local time in Amsterdam on `date`, as RFC 3339 with its offset.
pub(crate) fn local(date: NaiveDate, h: u32, m: u32) -> String {
    business_day::first_instant_at_or_after(Amsterdam, date.and_hms_opt(h, m, 0).unwrap())
        .with_timezone(&Amsterdam)
        .to_rfc3339()
}

pub(crate) fn today() -> NaiveDate {
    Utc::now().with_timezone(&Amsterdam).date_naive()
}

/// A receipt as the API would store it, for writing through the store with a chosen `now`.
pub(crate) fn new_receipt(s: &Setup, body: &Value) -> NewReceipt {
    // Through text, as the API reads it: a JSON number is then read exactly.
    let draft: ReceiptDraft = serde_json::from_str(&body.to_string()).unwrap();
    let mut known = KnownReferences::default();
    known
        .categories
        .extend([s.food.clone(), s.drinks.clone(), s.other.clone()]);
    known
        .payment_methods
        .extend([s.cash.clone(), s.pin.clone(), s.gift_card.clone()]);
    let valid = validate_receipt(&draft, &known).unwrap();
    let business_date = valid.business_date(Amsterdam, NaiveTime::MIN);
    NewReceipt {
        id: uuid::Uuid::now_v7(),
        final_at: business_day::final_at(business_date, Amsterdam, NaiveTime::MIN),
        business_date,
        content_hash: Sha256::digest(body.to_string()).to_vec(),
        receipt: valid,
    }
}

async fn events(s: &Setup, event_type: &str) -> Vec<(uuid::Uuid, i32)> {
    sqlx::query_as(
        "select resource_id, version from events where company_id = $1 and type = $2
          order by txid, seq",
    )
    .bind(s.company)
    .bind(event_type)
    .fetch_all(s.app.app.store.pool())
    .await
    .unwrap()
}

fn key(location: &str, date: &str) -> DayKey {
    DayKey {
        location_key: location.to_owned(),
        business_date: date.parse().unwrap(),
    }
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn the_finaliser_makes_days_final_at_five_and_after_a_restart_misses_none(pool: PgPool) {
    let s = setup(pool).await;
    let receipts = s.app.app.store.receipts();
    let days = s.app.app.store.daily_revenue();
    let store = |external: &str, created: &str, now: &str| {
        let new = new_receipt(&s, &receipt(&s, external, created));
        let receipts = &receipts;
        let now = at(now);
        let company = s.company;
        async move { receipts.insert(company, &[new], now).await.unwrap()[0] }
    };
    assert!(matches!(
        store(
            "r1",
            "2026-06-10T12:00:00+02:00",
            "2026-06-10T12:00:05+02:00"
        )
        .await,
        InsertOutcome::Created { late: false, .. }
    ));
    let day = key("", "2026-06-10");

    assert_eq!(
        days.finalise_due(at("2026-06-11T04:59:59+02:00"))
            .await
            .unwrap(),
        0
    );
    let before = days
        .find(s.company, &day, at("2026-06-11T04:59:59+02:00"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(before.status, "open");
    // Past final_at a day reads as final even before the finaliser ran.
    let read = days
        .find(s.company, &day, at("2026-06-11T05:00:00+02:00"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.status, "final");
    assert!(events(&s, "daily_revenue.final").await.is_empty());

    assert_eq!(
        days.finalise_due(at("2026-06-11T05:00:00+02:00"))
            .await
            .unwrap(),
        2,
        "the company's row and the location's"
    );
    assert_eq!(
        days.finalise_due(at("2026-06-11T05:00:10+02:00"))
            .await
            .unwrap(),
        0,
        "once only"
    );
    let finals = events(&s, "daily_revenue.final").await;
    assert_eq!(finals.len(), 2);
    assert!(finals.iter().all(|(_, version)| *version == 1));

    // Koppel is down from the 11th to the 14th: the 11th and 12th pass 05:00 unseen.
    store(
        "r2",
        "2026-06-11T10:00:00+02:00",
        "2026-06-11T10:00:01+02:00",
    )
    .await;
    store(
        "r3",
        "2026-06-12T10:00:00+02:00",
        "2026-06-12T10:00:01+02:00",
    )
    .await;
    assert_eq!(
        days.finalise_due(at("2026-06-14T10:00:00+02:00"))
            .await
            .unwrap(),
        4
    );
    for date in ["2026-06-11", "2026-06-12"] {
        let day = days
            .find(
                s.company,
                &key("centrum", date),
                at("2026-06-14T10:00:00+02:00"),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(day.status, "final", "{date}");
        assert_eq!(day.revision, 1);
    }
    assert_eq!(events(&s, "daily_revenue.final").await.len(), 6);

    // A receipt for the 10th that arrives on the 14th is late and revises both rows.
    assert!(matches!(
        store(
            "r4",
            "2026-06-10T18:00:00+02:00",
            "2026-06-14T10:00:05+02:00"
        )
        .await,
        InsertOutcome::Created { late: true, .. }
    ));
    let revised = days
        .find(s.company, &day, at("2026-06-14T10:00:06+02:00"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((revised.status.as_str(), revised.revision), ("revised", 2));
    assert_eq!((revised.receipt_count, revised.late_receipt_count), (2, 1));
    let revisions = events(&s, "daily_revenue.revised").await;
    assert_eq!(revisions.len(), 2);
    assert!(revisions.contains(&(revised.id, 2)));
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_late_receipt_for_a_day_past_five_that_was_never_finalised_writes_final_then_revised(
    pool: PgPool,
) {
    let s = setup(pool).await;
    let receipts = s.app.app.store.receipts();
    let first = new_receipt(&s, &receipt(&s, "a", "2026-06-10T12:00:00+02:00"));
    receipts
        .insert(s.company, &[first], at("2026-06-10T12:00:01+02:00"))
        .await
        .unwrap();
    // The finaliser never ran; the late receipt finalises the day before revising it, so the
    // feed tells a connector both.
    let late = new_receipt(&s, &receipt(&s, "b", "2026-06-10T13:00:00+02:00"));
    receipts
        .insert(s.company, &[late], at("2026-06-11T09:00:00+02:00"))
        .await
        .unwrap();
    let id = s
        .app
        .app
        .store
        .daily_revenue()
        .find(s.company, &key("", "2026-06-10"), Utc::now())
        .await
        .unwrap()
        .unwrap()
        .id;
    let finals = events(&s, "daily_revenue.final").await;
    let revisions = events(&s, "daily_revenue.revised").await;
    assert!(finals.contains(&(id, 1)), "{finals:?}");
    assert!(revisions.contains(&(id, 2)), "{revisions:?}");
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_past_day_is_final_and_a_late_receipt_revises_it_with_revision_2(pool: PgPool) {
    let s = setup(pool).await;
    let date = today() - Duration::days(3);
    // Sold and sent on that day, through the store with the clock of that day.
    for (i, hour) in [9, 17].iter().enumerate() {
        let sold = local(date, *hour, 0);
        let new = new_receipt(&s, &receipt(&s, &format!("p-{i}"), &sold));
        s.app
            .app
            .store
            .receipts()
            .insert(s.company, &[new], at(&sold) + Duration::seconds(5))
            .await
            .unwrap();
    }
    let uri = s.day(&date.to_string());
    let day = s.app.get(&uri, &s.connector).await;
    assert_eq!(day.status, StatusCode::OK, "{}", day.text);
    let day = day.json();
    assert_eq!(day["status"], "final");
    assert_eq!(day["revision"], 1);
    assert_eq!(day["receipt_count"], 2);
    assert_eq!(day["revenue"]["total_incl_vat"], "12.60");
    assert_eq!(day["location_id"], Value::Null);

    // A day without receipts long past is final too, and empty.
    let empty = s
        .app
        .get(
            &s.day(&(date - Duration::days(30)).to_string()),
            &s.connector,
        )
        .await
        .json();
    assert_eq!(empty["status"], "final");
    assert_eq!(empty["receipt_count"], 0);
    assert_eq!(empty["id"], Value::Null);

    let late = s
        .post_receipt(&receipt(&s, "p-late", &local(date, 20, 0)))
        .await;
    assert_eq!(late.status, StatusCode::CREATED, "{}", late.text);
    assert_eq!(late.json()["late"], true);
    let day = s.app.get(&uri, &s.connector).await.json();
    assert_eq!(day["status"], "revised");
    assert_eq!(day["revision"], 2);
    assert_eq!(day["receipt_count"], 3);
    assert_eq!(day["late_receipt_count"], 1);
    assert_eq!(day["revenue"]["total_incl_vat"], "18.90");
    let id: uuid::Uuid = day["id"].as_str().unwrap().parse().unwrap();
    assert!(events(&s, "daily_revenue.revised").await.contains(&(id, 2)));
    // The feed's id finds the day.
    let by_id = s
        .app
        .get(&s.day(&id.to_string()), &s.connector)
        .await
        .json();
    assert_eq!(by_id, day);
    let location = s
        .app
        .get(&format!("{uri}?location_id=centrum"), &s.connector)
        .await
        .json();
    assert_eq!(location["location_id"], "centrum");
    assert_eq!(location["status"], "revised");
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn closing_a_day_early_makes_it_final_and_a_receipt_after_that_revises_it(pool: PgPool) {
    let s = setup(pool).await;
    let sold = (Utc::now() - Duration::minutes(1)).with_timezone(&Amsterdam);
    let mut first = receipt(&s, "c-1", &sold.to_rfc3339());
    first["location_id"] = json!("noord");
    let stored = s.post_receipt(&first).await;
    assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.text);
    let date = stored.json()["business_date"].as_str().unwrap().to_owned();
    let uri = s.day(&date);
    let open = s.app.get(&uri, &s.connector).await.json();
    assert_eq!(open["status"], "open");

    // Closing one location leaves the company's day open.
    let closed = s
        .app
        .post(
            &format!("{uri}/close?location_id=noord"),
            &s.vendor,
            json!({}),
        )
        .await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.text);
    assert_eq!(closed.json()["status"], "final");
    assert_eq!(s.app.get(&uri, &s.connector).await.json()["status"], "open");

    let closed = s
        .app
        .post(&format!("{uri}/close"), &s.vendor, json!({}))
        .await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.text);
    let closed = closed.json();
    assert_eq!(closed["status"], "final");
    assert_eq!(closed["revision"], 1);
    assert!(closed["closed_at"].is_string());
    assert_eq!(closed["final_at"], closed["closed_at"]);
    assert_eq!(events(&s, "daily_revenue.final").await.len(), 2);
    // Closing again changes nothing.
    let again = s
        .app
        .post(&format!("{uri}/close"), &s.vendor, json!({}))
        .await
        .json();
    assert_eq!(again, closed);
    assert_eq!(events(&s, "daily_revenue.final").await.len(), 2);

    let mut after = receipt(
        &s,
        "c-2",
        &Utc::now().with_timezone(&Amsterdam).to_rfc3339(),
    );
    after["location_id"] = json!("zuid");
    let late = s.post_receipt(&after).await.json();
    if late["business_date"] == date.as_str() {
        assert_eq!(late["late"], true);
        let day = s.app.get(&uri, &s.connector).await.json();
        assert_eq!(
            (day["status"].as_str(), day["revision"].as_i64()),
            (Some("revised"), Some(2))
        );
        // A location that first sells after the whole day was closed is late as well.
        let zuid = s
            .app
            .get(&format!("{uri}?location_id=zuid"), &s.connector)
            .await
            .json();
        assert_eq!(zuid["status"], "revised");
    }

    // A day that has not started cannot be closed; a connector may not close at all.
    let tomorrow = s.day(&(today() + Duration::days(2)).to_string());
    let refused = s
        .app
        .post(&format!("{tomorrow}/close"), &s.vendor, json!({}))
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let forbidden = s
        .app
        .post(&format!("{uri}/close"), &s.connector, json!({}))
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
}

/// One generated line: what the test knows about it, independent of Koppel.
#[derive(Debug, Clone)]
struct GenLine {
    kind: &'static str,
    category: usize,
    rate: i64,
    quantity: i64,
    unit_cents: i64,
}

impl GenLine {
    fn gross(&self) -> i64 {
        self.quantity * self.unit_cents
    }

    /// VAT in cents, rounded half away from zero, on the gross of the line.
    fn vat(&self) -> i64 {
        let numerator = self.gross() * self.rate;
        let denominator = 100 + self.rate;
        let rounded = (2 * numerator.abs() + denominator) / (2 * denominator);
        rounded * numerator.signum()
    }

    fn is_revenue(&self) -> bool {
        matches!(self.kind, "sale" | "gift_card_single_purpose")
    }
}

fn money(cents: i64) -> String {
    Decimal::new(cents, 2).to_string()
}

fn amount(value: &Value) -> Decimal {
    Decimal::from_str(
        value
            .as_str()
            .unwrap_or_else(|| panic!("not an amount: {value}")),
    )
    .unwrap()
}

/// The expected figures of one day row, summed straight from the generated numbers.
#[derive(Debug, Default)]
struct Expected {
    count: i64,
    excl: i64,
    vat: i64,
    revenue_excl: i64,
    revenue_vat: i64,
    by_rate: BTreeMap<(String, String), (i64, i64)>,
    by_category: BTreeMap<String, (i64, i64)>,
    by_method: BTreeMap<String, i64>,
    tips: i64,
    gift_cards: i64,
    deposits: i64,
    cash_rounding: i64,
}

fn check_day(day: &Value, e: &Expected) {
    assert_eq!(day["receipt_count"], e.count);
    assert_eq!(
        amount(&day["totals"]["total_excl_vat"]),
        Decimal::new(e.excl, 2)
    );
    assert_eq!(amount(&day["totals"]["total_vat"]), Decimal::new(e.vat, 2));
    assert_eq!(
        amount(&day["revenue"]["total_excl_vat"]),
        Decimal::new(e.revenue_excl, 2)
    );
    assert_eq!(
        amount(&day["revenue"]["total_vat"]),
        Decimal::new(e.revenue_vat, 2)
    );
    assert_eq!(amount(&day["tips"]), Decimal::new(e.tips, 2));
    assert_eq!(
        amount(&day["gift_cards"]["sold_multi_purpose"]),
        Decimal::new(e.gift_cards, 2)
    );
    assert_eq!(amount(&day["deposits"]), Decimal::new(e.deposits, 2));
    assert_eq!(
        amount(&day["cash_rounding"]),
        Decimal::new(e.cash_rounding, 2)
    );
    let rates: BTreeMap<(String, String), (Decimal, Decimal)> = day["by_vat_rate"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let key = (
                r["category"].as_str().unwrap().to_owned(),
                r["percentage"].as_str().unwrap().to_owned(),
            );
            (key, (amount(&r["base"]), amount(&r["vat"])))
        })
        .collect();
    let expected: BTreeMap<(String, String), (Decimal, Decimal)> = e
        .by_rate
        .iter()
        .map(|(k, (b, v))| (k.clone(), (Decimal::new(*b, 2), Decimal::new(*v, 2))))
        .collect();
    assert_eq!(rates, expected);
    let categories: BTreeMap<String, (Decimal, Decimal)> = day["by_category"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["category_id"].as_str().unwrap().to_owned(),
                (amount(&c["total_excl_vat"]), amount(&c["total_vat"])),
            )
        })
        .collect();
    let expected: BTreeMap<String, (Decimal, Decimal)> = e
        .by_category
        .iter()
        .map(|(k, (x, v))| (k.clone(), (Decimal::new(*x, 2), Decimal::new(*v, 2))))
        .collect();
    assert_eq!(categories, expected);
    let methods: BTreeMap<String, Decimal> = day["by_payment_method"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["method_id"].as_str().unwrap().to_owned(),
                amount(&p["amount"]),
            )
        })
        .collect();
    let expected: BTreeMap<String, Decimal> = e
        .by_method
        .iter()
        .map(|(k, v)| (k.clone(), Decimal::new(*v, 2)))
        .collect();
    assert_eq!(methods, expected);
    assert_eq!(
        day["payments_check"]["balanced"], true,
        "{}",
        day["payments_check"]
    );
    assert_eq!(amount(&day["payments_check"]["difference"]), Decimal::ZERO);
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn the_figures_of_a_generated_day_equal_an_independent_recomputation(pool: PgPool) {
    let s = setup(pool).await;
    let date = today() + Duration::days(400);
    let categories = [s.food.clone(), s.drinks.clone(), s.other.clone()];
    let mut rng = StdRng::seed_from_u64(20_261_025);
    let mut bodies = Vec::new();
    let mut expected: BTreeMap<&str, Expected> = BTreeMap::new();
    for n in 0..200 {
        let lines: Vec<GenLine> = (0..rng.random_range(1..5))
            .map(|_| {
                let kind = *[
                    "sale",
                    "sale",
                    "sale",
                    "sale",
                    "sale",
                    "tip",
                    "gift_card_multi_purpose",
                    "gift_card_single_purpose",
                    "deposit",
                ]
                .get(rng.random_range(0..9))
                .unwrap();
                let revenue = matches!(kind, "sale" | "gift_card_single_purpose");
                GenLine {
                    kind,
                    category: rng.random_range(0..3),
                    rate: if revenue {
                        [21, 9, 9, 0][rng.random_range(0..4)]
                    } else {
                        0
                    },
                    quantity: if revenue && rng.random_bool(0.1) {
                        -rng.random_range(1..3)
                    } else if revenue {
                        rng.random_range(1..6)
                    } else {
                        1
                    },
                    unit_cents: rng.random_range(5..4000),
                }
            })
            .collect();
        let total: i64 = lines.iter().map(GenLine::gross).sum();
        // Cash rounds to 5 cents and is handed over in notes; a card pays exactly; a gift
        // card pays part, the card the rest; refunds go back to the card.
        let method = rng.random_range(0..3);
        let (payments, rounding, nets): (Vec<Value>, i64, Vec<(String, i64)>) = if total >= 100
            && method == 0
        {
            let rounded = (total + 2) / 5 * 5;
            let handed = (rounded / 1000 + 1) * 1000;
            (
                vec![
                    json!({"method_id": s.cash, "amount": money(handed), "change": money(handed - rounded)}),
                ],
                total - rounded,
                vec![(s.cash.clone(), rounded)],
            )
        } else if total >= 200 && method == 1 {
            let part = total / 2;
            (
                vec![
                    json!({"method_id": s.gift_card, "amount": money(part)}),
                    json!({"method_id": s.pin, "amount": money(total - part), "reference": format!("T{n}")}),
                ],
                0,
                vec![(s.gift_card.clone(), part), (s.pin.clone(), total - part)],
            )
        } else {
            (
                vec![json!({"method_id": s.pin, "amount": money(total)})],
                0,
                vec![(s.pin.clone(), total)],
            )
        };
        let location = ["centrum", "noord", ""][rng.random_range(0..3)];
        let minute = rng.random_range(0..24 * 60);
        let mut body = json!({
            "external_id": format!("gen-{n}"),
            "created_at": local(date, minute / 60, minute % 60),
            "currency": "EUR",
            "prices_include_vat": true,
            "cash_rounding": money(rounding),
            "lines": lines.iter().map(|l| {
                let category = if l.rate == 21 { "standard" } else if l.rate == 9 { "reduced" } else if l.is_revenue() { "zero" } else { "outside_scope" };
                json!({
                    "kind": l.kind, "product_code": format!("P{}", l.unit_cents),
                    "category_id": categories[l.category], "quantity": l.quantity,
                    "unit_price": money(l.unit_cents), "total_incl_vat": money(l.gross()),
                    "vat": {"percentage": l.rate, "category": category, "amount": money(l.vat())}
                })
            }).collect::<Vec<_>>(),
            "payments": payments,
        });
        if !location.is_empty() {
            body["location_id"] = json!(location);
        }
        let rows: &[&str] = if location.is_empty() {
            &[""]
        } else {
            &["", location]
        };
        for row in rows {
            let e = expected.entry(*row).or_default();
            e.count += 1;
            for l in &lines {
                e.excl += l.gross() - l.vat();
                e.vat += l.vat();
                match l.kind {
                    "tip" => e.tips += l.gross(),
                    "gift_card_multi_purpose" => e.gift_cards += l.gross(),
                    "deposit" => e.deposits += l.gross(),
                    _ => {
                        e.revenue_excl += l.gross() - l.vat();
                        e.revenue_vat += l.vat();
                        let category = if l.rate == 21 {
                            "standard"
                        } else if l.rate == 9 {
                            "reduced"
                        } else {
                            "zero"
                        };
                        let rate = e
                            .by_rate
                            .entry((category.to_owned(), l.rate.to_string()))
                            .or_default();
                        rate.0 += l.gross() - l.vat();
                        rate.1 += l.vat();
                        let c = e
                            .by_category
                            .entry(categories[l.category].clone())
                            .or_default();
                        c.0 += l.gross() - l.vat();
                        c.1 += l.vat();
                    }
                }
            }
            for (method, net) in &nets {
                *e.by_method.entry(method.clone()).or_default() += net;
            }
            e.cash_rounding += rounding;
        }
        bodies.push(body);
    }
    // Three batches and fifty single receipts: both write paths add to the same day.
    for chunk in bodies[..150].chunks(50) {
        let response = s
            .app
            .post(
                &format!("{}/batch", s.receipts()),
                &s.vendor,
                json!({"receipts": chunk}),
            )
            .await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text);
        for item in response.json()["data"].as_array().unwrap() {
            assert_eq!(item["success"], true, "{item}");
        }
    }
    for body in &bodies[150..] {
        let response = s.post_receipt(body).await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    }
    let uri = s.day(&date.to_string());
    let company_day = s.app.get(&uri, &s.connector).await.json();
    assert_eq!(company_day["status"], "open");
    check_day(&company_day, &expected[""]);
    for location in ["centrum", "noord"] {
        let day = s
            .app
            .get(&format!("{uri}?location_id={location}"), &s.connector)
            .await
            .json();
        check_day(&day, &expected[location]);
    }
    let list = s
        .app
        .get(
            &format!(
                "/v1/companies/{}/daily-revenue?from={date}&to={}",
                s.company,
                date + Duration::days(1)
            ),
            &s.connector,
        )
        .await
        .json();
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(list["data"][0], company_day);
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn the_finaliser_task_of_koppel_serve_catches_up_on_its_first_run(pool: PgPool) {
    let s = setup(pool).await;
    let date = today() - Duration::days(2);
    let sold = local(date, 12, 0);
    let new = new_receipt(&s, &receipt(&s, "t-1", &sold));
    s.app
        .app
        .store
        .receipts()
        .insert(s.company, &[new], at(&sold))
        .await
        .unwrap();
    // As a server that was down at 05:00 starts: the task's first run finalises the day.
    let task = tokio::spawn(koppel_api::jobs::finalise_days(s.app.app.store.clone()));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let stored: Vec<String> = sqlx::query_scalar(
            "select status from daily_revenue where company_id = $1 order by location_key",
        )
        .bind(s.company)
        .fetch_all(s.app.app.store.pool())
        .await
        .unwrap();
        if stored == ["final", "final"] {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still {stored:?} after 10 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    task.abort();
    assert_eq!(events(&s, "daily_revenue.final").await.len(), 2);
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn finalisers_of_two_nodes_at_once_emit_each_days_event_once(pool: PgPool) {
    let s = setup(pool.clone()).await;
    let other_node = crate::harness::TestApp::new(pool);
    let receipts = s.app.app.store.receipts();
    // Sixty past days, each with a receipt: 120 rows (the company's and the location's).
    let first: NaiveDate = "2026-03-01".parse().unwrap();
    for n in 0..60 {
        let sold = local(first + Duration::days(n), 12, 0);
        let new = new_receipt(&s, &receipt(&s, &format!("f-{n}"), &sold));
        receipts.insert(s.company, &[new], at(&sold)).await.unwrap();
    }
    let rows: i64 = sqlx::query_scalar("select count(*) from daily_revenue where company_id = $1")
        .bind(s.company)
        .fetch_one(s.app.app.store.pool())
        .await
        .unwrap();
    assert_eq!(rows, 120);

    // Both nodes' finalisers wake at the same 05:00, twice each, as after a restart.
    let now = at("2026-06-01T05:00:00+02:00");
    let days: Vec<_> = [&s.app, &other_node, &s.app, &other_node]
        .iter()
        .map(|node| node.app.store.daily_revenue())
        .collect();
    let done = futures_util::future::join_all(days.iter().map(|d| d.finalise_due(now))).await;
    let done: u64 = done.into_iter().map(Result::unwrap).sum();
    assert_eq!(done, 120, "each day made final by exactly one finaliser");
    let finals = events(&s, "daily_revenue.final").await;
    let distinct: std::collections::BTreeSet<_> = finals.iter().collect();
    assert_eq!((finals.len(), distinct.len()), (120, 120));
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn concurrent_writers_of_one_day_lose_no_receipt_and_no_cent(pool: PgPool) {
    let s = setup(pool).await;
    let date = today() + Duration::days(30);
    let singles = (0..16).map(|i| {
        let body = receipt(&s, &format!("s-{i}"), &local(date, 10, i));
        let s = &s;
        async move { s.post_receipt(&body).await.status }
    });
    // Two batches that overlap in half their receipts, sent at once.
    let batch = |from: u32| {
        let items: Vec<Value> = (from..from + 40)
            .map(|i| receipt(&s, &format!("b-{i}"), &local(date, 12, i % 60)))
            .collect();
        let s = &s;
        async move {
            s.app
                .post(
                    &format!("{}/batch", s.receipts()),
                    &s.vendor,
                    json!({"receipts": items}),
                )
                .await
                .status
        }
    };
    let (statuses, first, second) =
        tokio::join!(futures_join_all(singles.collect()), batch(0), batch(20));
    assert!(
        statuses.iter().all(|s| *s == StatusCode::CREATED),
        "{statuses:?}"
    );
    assert_eq!((first, second), (StatusCode::OK, StatusCode::OK));
    let day = s
        .app
        .get(&s.day(&date.to_string()), &s.connector)
        .await
        .json();
    assert_eq!(day["receipt_count"], 16 + 60);
    assert_eq!(
        amount(&day["revenue"]["total_incl_vat"]),
        Decimal::new(630 * 76, 2)
    );
    assert_eq!(day["payments_check"]["balanced"], true);
}

/// Runs futures concurrently on this task and collects their outputs in order.
async fn futures_join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut pending: Vec<_> = futures.into_iter().map(|f| Some(Box::pin(f))).collect();
    let mut results: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        for (slot, result) in pending.iter_mut().zip(results.iter_mut()) {
            if let Some(f) = slot
                && let std::task::Poll::Ready(v) = f.as_mut().poll(cx)
            {
                *result = Some(v);
                *slot = None;
            }
        }
        if pending.iter().all(Option::is_none) {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    results.into_iter().flatten().collect()
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_day_revised_twice_keeps_three_revisions_whose_deltas_add_up(pool: PgPool) {
    let s = setup(pool).await;
    let date = today() - Duration::days(3);
    for (i, hour) in [9, 17].iter().enumerate() {
        let sold = local(date, *hour, 0);
        let new = new_receipt(&s, &receipt(&s, &format!("p-{i}"), &sold));
        s.app
            .app
            .store
            .receipts()
            .insert(s.company, &[new], at(&sold) + Duration::seconds(5))
            .await
            .unwrap();
    }
    let uri = s.day(&date.to_string());
    // Final by the clock, not yet in the table: its figures are its revision 1.
    let list = s.app.get(&format!("{uri}/revisions"), &s.connector).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    let list = list.json();
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(list["data"][0]["revision"], 1);

    // Two late receipts: a croissant-and-coffee receipt, then a coffee paid by pin.
    let late = s
        .post_receipt(&receipt(&s, "p-late", &local(date, 20, 0)))
        .await;
    assert_eq!(late.status, StatusCode::CREATED, "{}", late.text);
    let mut coffee = receipt(&s, "p-coffee", &local(date, 21, 0));
    coffee["lines"] = json!([coffee["lines"][1].clone()]);
    coffee["payments"] = json!([{"method_id": s.pin, "amount": "2.80"}]);
    let stored = s.post_receipt(&coffee).await;
    assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.text);

    let day = s.app.get(&uri, &s.connector).await.json();
    assert_eq!(day["revision"], 3);
    let list = s
        .app
        .get(&format!("{uri}/revisions"), &s.connector)
        .await
        .json();
    let revisions = list["data"].as_array().unwrap();
    assert_eq!(revisions.len(), 3, "{list}");
    let figures = |n: usize| &revisions[n]["figures"];
    assert_eq!(
        (0..3)
            .map(|n| (
                revisions[n]["revision"].as_i64().unwrap(),
                figures(n)["receipt_count"].as_i64().unwrap(),
                figures(n)["revenue"]["total_incl_vat"].as_str().unwrap()
            ))
            .collect::<Vec<_>>(),
        [(1, 2, "12.60"), (2, 3, "18.90"), (3, 4, "21.70")]
    );
    assert_eq!(figures(0)["status"], "final");
    assert_eq!(figures(2)["status"], "revised");
    // The last revision is the day as it is now.
    assert_eq!(figures(2)["by_vat_rate"], day["by_vat_rate"]);
    assert_eq!(figures(2)["by_payment_method"], day["by_payment_method"]);

    // Revision 1's delta is revision 1; revision 3's lists only what the coffee changed.
    assert_eq!(
        revisions[0]["delta"]["by_vat_rate"],
        figures(0)["by_vat_rate"]
    );
    let third = &revisions[2]["delta"];
    assert_eq!(third["receipt_count"], 1);
    assert_eq!(third["revenue"]["total_incl_vat"], "2.80");
    assert_eq!(
        third["by_vat_rate"],
        json!([{"category": "standard", "percentage": "21", "country": "NL",
                "base": "2.31", "vat": "0.49"}])
    );
    assert_eq!(third["by_payment_method"].as_array().unwrap().len(), 1);
    assert_eq!(third["by_payment_method"][0]["amount"], "2.80");
    assert_eq!(third["by_payment_method"][0]["method_id"], json!(s.pin));

    // The deltas of revisions 2 and 3 add up to revision 3 minus revision 1, per rate, per
    // method and in total.
    let amount = |v: &Value| Decimal::from_str(v.as_str().unwrap()).unwrap();
    let per = |v: &Value, key: &str, field: &str| -> BTreeMap<String, Decimal> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| (x[key].to_string(), amount(&x[field])))
            .collect()
    };
    for (list, key, field) in [
        ("by_vat_rate", "percentage", "base"),
        ("by_vat_rate", "percentage", "vat"),
        ("by_payment_method", "method_id", "amount"),
        ("by_category", "category_id", "total_excl_vat"),
    ] {
        let mut summed = per(&revisions[1]["delta"][list], key, field);
        for (k, v) in per(&revisions[2]["delta"][list], key, field) {
            *summed.entry(k).or_default() += v;
        }
        summed.retain(|_, v| !v.is_zero());
        let mut expected = per(&figures(2)[list], key, field);
        for (k, v) in per(&figures(0)[list], key, field) {
            *expected.entry(k).or_default() -= v;
        }
        expected.retain(|_, v| !v.is_zero());
        assert_eq!(summed, expected, "{list} {field}");
    }
    assert_eq!(
        amount(&revisions[1]["delta"]["totals"]["total_incl_vat"])
            + amount(&revisions[2]["delta"]["totals"]["total_incl_vat"]),
        amount(&figures(2)["totals"]["total_incl_vat"])
            - amount(&figures(0)["totals"]["total_incl_vat"])
    );

    // One revision alone, by date or by the day's id; one it does not have is a 404.
    let second = s
        .app
        .get(&format!("{uri}/revisions/2"), &s.connector)
        .await
        .json();
    assert_eq!(second, revisions[1]);
    let by_id = s
        .app
        .get(
            &format!("{}/revisions/2", s.day(day["id"].as_str().unwrap())),
            &s.connector,
        )
        .await
        .json();
    assert_eq!(by_id, revisions[1]);
    for missing in ["4", "0"] {
        let answer = s
            .app
            .get(&format!("{uri}/revisions/{missing}"), &s.connector)
            .await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{missing}");
    }
    // Paged: one at a time, the second page's delta still against the first.
    let page = s
        .app
        .get(&format!("{uri}/revisions?limit=1"), &s.connector)
        .await
        .json();
    let next = s
        .app
        .get(
            &format!(
                "{uri}/revisions?limit=1&cursor={}",
                page["next_cursor"].as_str().unwrap()
            ),
            &s.connector,
        )
        .await
        .json();
    assert_eq!(next["data"][0], revisions[1]);
    // An open day has no revision yet.
    let open = s
        .app
        .get(
            &format!("{}/revisions", s.day(&today().to_string())),
            &s.connector,
        )
        .await
        .json();
    assert_eq!(open["data"], json!([]));
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn the_bakery_closes_its_day_with_a_z_report_and_the_drawer_is_five_cents_short(
    pool: PgPool,
) {
    let s = setup(pool).await;
    let sold = (Utc::now() - Duration::minutes(1)).with_timezone(&Amsterdam);
    // Cash sales of 412.35, paid with 420.00 and 7.65 change; 388.10 by pin.
    let mut cash_sale = receipt(&s, "z-1", &sold.to_rfc3339());
    cash_sale["lines"] = json!([{"product_code": "9", "description": "Taarten", "category_id": s.food,
        "quantity": 1, "unit_price": "412.35", "total_incl_vat": "412.35",
        "vat": {"percentage": "9", "category": "reduced", "amount": "34.05"}}]);
    cash_sale["payments"] = json!([{"method_id": s.cash, "amount": "420.00", "change": "7.65"}]);
    let mut pin_sale = receipt(&s, "z-2", &sold.to_rfc3339());
    pin_sale["lines"] = json!([{"product_code": "9", "description": "Taarten", "category_id": s.food,
        "quantity": 1, "unit_price": "388.10", "total_incl_vat": "388.10",
        "vat": {"percentage": "9", "category": "reduced", "amount": "32.05"}}]);
    pin_sale["payments"] = json!([{"method_id": s.pin, "amount": "388.10"}]);
    let mut date = String::new();
    for body in [&cash_sale, &pin_sale] {
        let stored = s.post_receipt(body).await;
        assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.text);
        date = stored.json()["business_date"].as_str().unwrap().to_owned();
    }
    let uri = s.day(&date);
    let report = json!({
        "z_number": "Z-0412",
        "location_id": "centrum",
        "opening_float": "150.00",
        "counted": [{"method_external_id": "cash", "amount": "142.30"},
                    {"method_id": s.pin, "amount": "388.10"}],
        "pay_outs": [{"amount": "20.00", "description": "Bloemen"}],
        "bank_deposit": "400.00"
    });

    // Refused first, with pointers, and nothing stored: the day stays open.
    let mut bad = report.clone();
    bad["counted"][0]["amount"] = json!("veel");
    bad["counted"][1]["method_id"] = json!(uuid::Uuid::new_v4());
    bad["pay_outs"][0]["amount"] = json!("-20.00");
    let refused = s
        .app
        .post(&format!("{uri}/close?location_id=centrum"), &s.vendor, bad)
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    let pointers: Vec<String> = refused
        .problem()
        .errors
        .unwrap()
        .into_iter()
        .map(|e| e.pointer)
        .collect();
    assert_eq!(
        pointers,
        ["/counted/0/amount"],
        "a value that is not money is refused first"
    );
    let mut bad = report.clone();
    bad["counted"][1]["method_id"] = json!(uuid::Uuid::new_v4());
    bad["pay_outs"][0]["amount"] = json!("-20.00");
    let refused = s
        .app
        .post(&format!("{uri}/close?location_id=centrum"), &s.vendor, bad)
        .await;
    let pointers: Vec<String> = refused
        .problem()
        .errors
        .unwrap()
        .into_iter()
        .map(|e| e.pointer)
        .collect();
    assert_eq!(pointers, ["/counted/1/method_id", "/pay_outs/0/amount"]);
    let elsewhere = s
        .app
        .post(
            &format!("{uri}/close?location_id=noord"),
            &s.vendor,
            report.clone(),
        )
        .await;
    assert_eq!(elsewhere.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        elsewhere.problem().errors.unwrap()[0].pointer,
        "/location_id"
    );
    let centrum = format!("{uri}?location_id=centrum");
    assert_eq!(
        s.app.get(&centrum, &s.connector).await.json()["status"],
        "open"
    );

    // The location named in the body alone.
    let closed = s
        .app
        .post(&format!("{uri}/close"), &s.vendor, report.clone())
        .await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.text);
    let closed = closed.json();
    assert_eq!(closed["location_id"], "centrum");
    assert_eq!(closed["status"], "final");
    let cash = &closed["cash"];
    assert_eq!(cash["z_number"], "Z-0412");
    assert_eq!(cash["opening_float"], "150.00");
    assert_eq!(cash["cash_takings"], "412.35");
    assert_eq!(
        cash["pay_outs"],
        json!([{"amount": "20.00", "description": "Bloemen"}])
    );
    assert_eq!(cash["bank_deposit"], "400.00");
    assert_eq!(cash["expected"], "142.35");
    assert_eq!(cash["counted"], "142.30");
    assert_eq!(cash["difference"], "-0.05");
    assert_eq!(
        cash["counted_by_method"][1],
        json!({"method_id": s.pin, "kind": "debit_card", "counted": "388.10",
               "taken": "388.10", "difference": "0.00"})
    );
    assert_eq!(cash["counted_by_method"][0]["difference"], Value::Null);
    assert_eq!(s.app.get(&centrum, &s.connector).await.json(), closed);

    // The day's journal moves `cash` by what the drawer gained, 142.30 counted − 150.00
    // float, and the 20.00 for flowers waits on `cash_transfers` for the bookkeeper.
    let journal = s
        .app
        .get(&format!("{uri}/journal?location_id=centrum"), &s.connector)
        .await;
    assert_eq!(journal.status, StatusCode::OK, "{}", journal.text);
    let journal = journal.json();
    let net = |role: &str| -> Decimal {
        journal["lines"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["role"] == role)
            .map(|l| {
                let side = |k: &str| l[k].as_str().unwrap().parse::<Decimal>().unwrap();
                side("debit") - side("credit")
            })
            .sum()
    };
    assert_eq!(net("cash"), Decimal::new(-770, 2), "{journal:#}");
    assert_eq!(net("cash_transfers"), Decimal::new(2000, 2), "{journal:#}");
    assert_eq!(journal["total_debit"], journal["total_credit"]);
    // The same entry for a Dutch reader: its words in Dutch, the till's own text as sent.
    let dutch = s
        .app
        .send(
            axum::http::Request::get(format!("{uri}/journal?location_id=centrum"))
                .header("authorization", format!("Bearer {}", s.connector))
                .header("accept-language", "nl-NL,nl;q=0.9,en;q=0.8")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    // Which language it is in, and that a cache must keep the languages apart.
    assert_eq!(dutch.header("content-language"), Some("nl"));
    assert_eq!(dutch.header("vary"), Some("accept-language"));
    let dutch = dutch.json();
    let words: Vec<&str> = dutch["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["description"].as_str().unwrap())
        .collect();
    for expected in [
        "omzet 9% reduced NL",
        "btw 9% reduced NL",
        "kasopname: Bloemen",
    ] {
        assert!(words.contains(&expected), "{expected:?} not in {words:?}");
    }
    assert!(
        dutch["description"]
            .as_str()
            .unwrap()
            .starts_with("dagomzet "),
        "{dutch:#}"
    );
    assert_eq!(dutch["total_debit"], journal["total_debit"]);

    // The same report again, or none, changes nothing; another one is refused.
    let again = s
        .app
        .post(
            &format!("{uri}/close?location_id=centrum"),
            &s.vendor,
            report.clone(),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(again.json(), closed);
    let bare = s
        .app
        .call(
            axum::http::Method::POST,
            &format!("{uri}/close?location_id=centrum"),
            Some(&s.vendor),
            None,
        )
        .await;
    assert_eq!(bare.status, StatusCode::OK, "{}", bare.text);
    assert_eq!(bare.json()["cash"], closed["cash"]);
    let mut other = report.clone();
    other["counted"][0]["amount"] = json!("142.35");
    let refused = s
        .app
        .post(
            &format!("{uri}/close?location_id=centrum"),
            &s.vendor,
            other,
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        refused.problem().errors.unwrap()[0].code,
        "day_already_closed"
    );
    assert_eq!(s.app.get(&centrum, &s.connector).await.json(), closed);

    // The whole company's day, closed without a report, has no drawer.
    let company_day = s
        .app
        .post(&format!("{uri}/close"), &s.vendor, json!({}))
        .await
        .json();
    assert_eq!(company_day["cash"], Value::Null);

    // A coffee paid in cash arrives late: the drawer should have held 2.80 more, so the
    // revision's delta moves the cash difference by −2.80.
    let mut late = receipt(&s, "z-late", &sold.to_rfc3339());
    late["lines"] = json!([late["lines"][1].clone()]);
    late["payments"] = json!([{"method_id": s.cash, "amount": "2.80"}]);
    let stored = s.post_receipt(&late).await;
    assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.text);
    assert_eq!(stored.json()["late"], true);
    let revision = s
        .app
        .get(
            &format!("{uri}/revisions/2?location_id=centrum"),
            &s.connector,
        )
        .await;
    assert_eq!(revision.status, StatusCode::OK, "{}", revision.text);
    let revision = revision.json();
    assert_eq!(
        revision["delta"]["cash"],
        json!({"cash_takings": "2.80", "expected": "2.80", "difference": "-2.80"})
    );
    assert_eq!(revision["figures"]["cash"]["difference"], "-2.85");
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_register_numbered_1001_to_1005_without_1003_shows_the_gap(pool: PgPool) {
    let s = setup(pool).await;
    let sold = (Utc::now() - Duration::minutes(1))
        .with_timezone(&Amsterdam)
        .to_rfc3339();
    let mut date = String::new();
    let send = |number: &str, register: &str| {
        let mut body = receipt(&s, &format!("{register}-{number}"), &sold);
        body["number"] = json!(number);
        body["register_id"] = json!(register);
        body
    };
    let bodies: Vec<Value> = ["1001", "1005", "1002", "1004"]
        .iter()
        .map(|n| send(n, "kassa-1"))
        .chain(["1", "2", "N-9"].iter().map(|n| send(n, "kassa-2")))
        .collect();
    for body in &bodies {
        let stored = s.post_receipt(body).await;
        assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.text);
        date = stored.json()["business_date"].as_str().unwrap().to_owned();
    }
    let uri = s.day(&date);
    let expected = json!([{"register_id": "kassa-1", "first": "1001", "last": "1005",
                           "missing_count": 1, "missing": [{"from": "1003", "to": "1003"}]}]);
    let day = s.app.get(&uri, &s.connector).await.json();
    assert_eq!(day["number_gaps"], expected);
    // The location's day as well (every receipt here is at "centrum"), and in the list.
    let centrum = s
        .app
        .get(&format!("{uri}?location_id=centrum"), &s.connector)
        .await
        .json();
    assert_eq!(centrum["number_gaps"], expected);
    let list = s
        .app
        .get(
            &format!("/v1/companies/{}/daily-revenue?from={date}", s.company),
            &s.connector,
        )
        .await
        .json();
    assert_eq!(list["data"][0]["number_gaps"], expected);
    // The missing receipt arrives: no gap left.
    let stored = s.post_receipt(&send("1003", "kassa-1")).await;
    assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.text);
    let day = s.app.get(&uri, &s.connector).await.json();
    assert_eq!(day["number_gaps"], json!([]));
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_single_purpose_voucher_redeemed_for_a_cake_is_not_revenue_again(pool: PgPool) {
    let s = setup(pool).await;
    let voucher = s
        .app
        .post(
            &format!("/v1/companies/{}/payment-methods", s.company),
            &s.vendor,
            json!({"external_id": "waardebon", "name": "Waardebon", "kind": "single_purpose_voucher"}),
        )
        .await;
    assert_eq!(voucher.status, StatusCode::CREATED, "{}", voucher.text);
    let voucher = voucher.json();
    assert_eq!(voucher["kind"], "single_purpose_voucher");
    let monday = today() - Duration::days(9);
    let tuesday = monday + Duration::days(1);
    // Monday: a 25.00 voucher for a cake sold, VAT at 21% due now.
    let mut sold = receipt(&s, "v-sold", &local(monday, 10, 0));
    sold["lines"] = json!([{"kind": "gift_card_single_purpose", "product_code": "BON",
        "description": "Taartbon", "category_id": s.other, "quantity": 1,
        "unit_price": "25.00", "total_incl_vat": "25.00",
        "vat": {"percentage": "21", "category": "standard", "amount": "4.34"}}]);
    sold["payments"] = json!([{"method_id": s.cash, "amount": "25.00"}]);
    // Tuesday: the cake, 25.00 at 21%, paid with the voucher.
    let mut redeemed = receipt(&s, "v-redeemed", &local(tuesday, 11, 0));
    redeemed["lines"] = json!([{"product_code": "TAART", "description": "Slagroomtaart",
        "category_id": s.food, "quantity": 1, "unit_price": "25.00",
        "total_incl_vat": "25.00",
        "vat": {"percentage": "21", "category": "standard", "amount": "4.34"}}]);
    redeemed["payments"] = json!([{"method_id": voucher["id"], "amount": "25.00"}]);
    for body in [&sold, &redeemed] {
        let stored = s.post_receipt(body).await;
        assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.text);
    }
    let mon = s
        .app
        .get(&s.day(&monday.to_string()), &s.connector)
        .await
        .json();
    assert_eq!(mon["revenue"]["total_incl_vat"], "25.00");
    assert_eq!(mon["voucher_redemptions"], json!([]));
    let tue = s
        .app
        .get(&s.day(&tuesday.to_string()), &s.connector)
        .await
        .json();
    // Tuesday's revenue and VAT exclude the cake; the voucher is shown apart per rate.
    assert_eq!(tue["revenue"]["total_incl_vat"], "0.00");
    assert_eq!(
        tue["by_vat_rate"],
        json!([{"category": "standard", "percentage": "21", "country": "NL",
                "base": "0.00", "vat": "0.00"}])
    );
    assert_eq!(
        tue["voucher_redemptions"],
        json!([{"category": "standard", "percentage": "21", "country": "NL",
                "base": "20.66", "vat": "4.34"}])
    );
    assert_eq!(
        tue["payments_check"]["balanced"], true,
        "{}",
        tue["payments_check"]
    );
    // The VAT return counts the 4.34 once: on Monday, when the voucher was sold.
    let vat_return = s
        .app
        .get(
            &format!(
                "/v1/companies/{}/vat-return?from={monday}&to={}",
                s.company,
                tuesday + Duration::days(1)
            ),
            &s.connector,
        )
        .await;
    assert_eq!(vat_return.status, StatusCode::OK, "{}", vat_return.text);
    let boxes = &vat_return.json()["boxes"];
    assert_eq!(boxes["1a"]["base"], "20.66");
    assert_eq!(boxes["1a"]["vat"], "4.34");

    // A voucher that pays for more than the goods (here also for a tip) is refused.
    let mut too_much = receipt(&s, "v-too-much", &local(tuesday, 12, 0));
    too_much["lines"].as_array_mut().unwrap().push(
        json!({"kind": "tip", "product_code": "FOOI", "description": "Fooi",
            "category_id": s.other, "quantity": 1, "unit_price": "1.00",
            "total_incl_vat": "1.00",
            "vat": {"percentage": "0", "category": "outside_scope", "amount": "0.00"}}),
    );
    too_much["payments"] = json!([{"method_id": voucher["id"], "amount": "7.30"}]);
    let refused = s.post_receipt(&too_much).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert!(
        refused
            .problem()
            .errors
            .unwrap()
            .iter()
            .any(|e| e.code == "voucher_exceeds_revenue")
    );
}
