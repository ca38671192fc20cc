//! Writing orders: the heads upserted a round at a time, and a batch written in parts in one
//! transaction.

use std::collections::HashMap;

use chrono::Utc;
use sqlx::{PgConnection, PgPool, Postgres};
use uuid::Uuid;

use super::versions::insert_versions;
use super::{OrderWrite, Written};
use crate::StoreError;
use crate::settings::Outcome;

/// Splits a batch into rounds in which every external id occurs once, each
/// round sorted by external id. One statement cannot upsert a row twice, and
/// locking heads in one global order keeps concurrent batches from
/// deadlocking each other. A later item for the same order lands in a later
/// round, so it becomes the later version.
fn rounds(orders: &[OrderWrite<'_>]) -> Vec<Vec<usize>> {
    let mut rounds: Vec<Vec<usize>> = Vec::new();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, w) in orders.iter().enumerate() {
        let n = seen.entry(w.order.external_id.as_str()).or_insert(0);
        if rounds.len() <= *n {
            rounds.push(Vec::new());
        }
        rounds[*n].push(i);
        *n += 1;
    }
    for round in &mut rounds {
        round.sort_by(|a, b| {
            orders[*a]
                .order
                .external_id
                .cmp(&orders[*b].order.external_id)
        });
    }
    rounds
}

#[derive(sqlx::FromRow)]
struct HeadRow {
    id: Uuid,
    external_id: String,
    version: i32,
    inserted: bool,
}

#[derive(sqlx::FromRow)]
struct ExistingRow {
    id: Uuid,
    external_id: String,
    version: i32,
}

/// Upserts the heads of one round; returns what happened to each item.
async fn write_round(
    conn: &mut PgConnection,
    company_id: Uuid,
    items: &[OrderWrite<'_>],
) -> Result<Vec<Written>, StoreError> {
    let n = items.len();
    let mut ids = Vec::with_capacity(n);
    let mut external_ids = Vec::with_capacity(n);
    let mut numbers = Vec::with_capacity(n);
    let mut statuses = Vec::with_capacity(n);
    let mut dates = Vec::with_capacity(n);
    let mut currencies = Vec::with_capacity(n);
    let mut customers = Vec::with_capacity(n);
    let mut credits = Vec::with_capacity(n);
    let mut excl = Vec::with_capacity(n);
    let mut vat = Vec::with_capacity(n);
    let mut incl = Vec::with_capacity(n);
    let mut hashes = Vec::with_capacity(n);
    let mut invoice_dates = Vec::with_capacity(n);
    let mut marketplace_ids = Vec::with_capacity(n);
    for w in items {
        let o = w.order;
        invoice_dates.push(o.details.invoice_date);
        marketplace_ids.push(o.details.marketplace_order_id.as_deref());
        ids.push(Uuid::now_v7());
        external_ids.push(o.external_id.as_str());
        numbers.push(o.number.as_deref());
        statuses.push(o.status.as_str());
        dates.push(o.order_date.with_timezone(&Utc));
        currencies.push(o.currency.as_str());
        customers.push(o.customer.as_ref().and_then(|c| c.id.as_deref()));
        credits.push(o.credit_of.as_deref());
        excl.push(o.totals.total_excl_vat);
        vat.push(o.totals.total_vat);
        incl.push(o.totals.total_incl_vat);
        hashes.push(w.content_hash);
    }
    // Only a different hash updates the head, so an identical resend returns
    // no row and writes nothing.
    let heads = sqlx::query_as::<_, HeadRow>(
        "insert into orders as o (company_id, id, external_id, number, version, status, order_date,
                currency, customer_id, credit_of, total_excl_vat, total_vat, total_incl_vat, content_hash,
                invoice_date, marketplace_order_id)
         select $1, t.id, t.external_id, t.number, 1, t.status, t.order_date, t.currency,
                t.customer_id::uuid, t.credit_of::uuid, t.total_excl_vat, t.total_vat, t.total_incl_vat,
                t.content_hash, t.invoice_date, t.marketplace_order_id
           from unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::text[],
                       $8::text[], $9::text[], $10::numeric[], $11::numeric[], $12::numeric[], $13::bytea[],
                       $14::date[], $15::text[])
                with ordinality
                as t(id, external_id, number, status, order_date, currency, customer_id, credit_of,
                     total_excl_vat, total_vat, total_incl_vat, content_hash, invoice_date,
                     marketplace_order_id, n)
          order by t.n
         on conflict (company_id, external_id) do update
            set number = excluded.number, version = o.version + 1, status = excluded.status,
                order_date = excluded.order_date, currency = excluded.currency,
                customer_id = excluded.customer_id, credit_of = excluded.credit_of,
                total_excl_vat = excluded.total_excl_vat, total_vat = excluded.total_vat,
                total_incl_vat = excluded.total_incl_vat, content_hash = excluded.content_hash,
                invoice_date = excluded.invoice_date,
                marketplace_order_id = excluded.marketplace_order_id, updated_at = now()
          where o.content_hash <> excluded.content_hash
         returning o.id, o.external_id, o.version, (o.xmax = 0) as inserted",
    )
    .bind(company_id)
    .bind(&ids)
    .bind(&external_ids)
    .bind(&numbers)
    .bind(&statuses)
    .bind(&dates)
    .bind(&currencies)
    .bind(&customers)
    .bind(&credits)
    .bind(&excl)
    .bind(&vat)
    .bind(&incl)
    .bind(&hashes)
    .bind(&invoice_dates)
    .bind(&marketplace_ids)
    .fetch_all(&mut *conn)
    .await?;

    let mut done: HashMap<String, Written> = heads
        .into_iter()
        .map(|h| {
            let outcome = if h.inserted {
                Outcome::Created
            } else {
                Outcome::Updated
            };
            (
                h.external_id,
                Written {
                    id: h.id,
                    version: h.version,
                    outcome,
                },
            )
        })
        .collect();

    // Identical resends: their ids, in a statement of its own so that it sees
    // a head that a concurrent transaction committed while this one waited.
    let unchanged: Vec<&str> = external_ids
        .iter()
        .copied()
        .filter(|e| !done.contains_key(*e))
        .collect();
    if !unchanged.is_empty() {
        let rows = sqlx::query_as::<_, ExistingRow>(
            "select id, external_id, version from orders
             where company_id = $1 and external_id = any($2)",
        )
        .bind(company_id)
        .bind(&unchanged)
        .fetch_all(&mut *conn)
        .await?;
        for r in rows {
            done.entry(r.external_id).or_insert(Written {
                id: r.id,
                version: r.version,
                outcome: Outcome::Unchanged,
            });
        }
    }

    let changed: Vec<(&OrderWrite<'_>, Written)> = items
        .iter()
        .filter_map(|w| {
            done.get(&w.order.external_id)
                .filter(|d| d.outcome != Outcome::Unchanged)
                .map(|d| (w, *d))
        })
        .collect();
    if !changed.is_empty() {
        insert_versions(conn, company_id, &changed).await?;
    }

    items
        .iter()
        .map(|w| {
            done.get(&w.order.external_id)
                .copied()
                .ok_or(StoreError::NotFound)
        })
        .collect()
}

/// Orders written in parts within one transaction; nothing is stored unless
/// [`OrderBatch::commit`] is reached (dropping it rolls everything back).
///
/// Each part is written like [`Orders::write`] writes all of its orders, and a
/// later part sees what earlier ones wrote, so an external id that comes again
/// becomes the next version. Heads are locked as they are written: give the
/// parts in ascending external-id order, as one part's rounds are, and
/// concurrent batches lock in one global order and cannot deadlock.
#[derive(Debug)]
pub struct OrderBatch {
    tx: sqlx::Transaction<'static, Postgres>,
    company_id: Uuid,
    /// The references of the payments written: a payout that came first is matched by
    /// them when the batch commits.
    references: Vec<String>,
}

impl OrderBatch {
    /// Starts the batch's transaction.
    pub(super) async fn begin(pool: &PgPool, company_id: Uuid) -> Result<OrderBatch, StoreError> {
        Ok(OrderBatch {
            tx: pool.begin().await?,
            company_id,
            references: Vec::new(),
        })
    }

    /// Writes one part: answers one [`Written`] per item, in the order given.
    pub async fn write(&mut self, orders: &[OrderWrite<'_>]) -> Result<Vec<Written>, StoreError> {
        let mut results: Vec<Option<Written>> = vec![None; orders.len()];
        for p in orders.iter().flat_map(|o| o.order.payments.iter()) {
            self.references.extend(
                p.provider_reference
                    .iter()
                    .chain(p.reference.iter())
                    .cloned(),
            );
        }
        for round in rounds(orders) {
            let items: Vec<OrderWrite<'_>> = round.iter().map(|i| orders[*i]).collect();
            let written = write_round(&mut self.tx, self.company_id, &items).await?;
            for (i, w) in round.into_iter().zip(written) {
                results[i] = Some(w);
            }
        }
        results
            .into_iter()
            .map(|r| r.ok_or(StoreError::NotFound))
            .collect()
    }

    /// Matches the payouts that came before these orders' payments, then commits every
    /// part written.
    pub async fn commit(mut self) -> Result<(), StoreError> {
        self.references.sort_unstable();
        self.references.dedup();
        crate::settlements::match_pending(&mut self.tx, self.company_id, &self.references).await?;
        self.tx.commit().await?;
        Ok(())
    }
}
