//! Payouts from payment providers (see `migrations/0028_settlements.sql`): upserted by the
//! provider's payout id, each transaction matched in one set-based statement to the order or
//! receipt payment it pays out; a document pushed later is matched in its own transaction
//! ([`match_pending`]), with a `settlement.matched` event.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::StoreError;

/// One transaction to store.
#[derive(Debug, Clone)]
pub struct NewTransaction {
    /// `payment`, `refund`, `chargeback`, `fee` or `adjustment`.
    pub kind: String,
    /// The provider's reference of the payment it pays out.
    pub provider_reference: Option<String>,
    /// Another reference.
    pub reference: Option<String>,
    /// The provider's description.
    pub description: Option<String>,
    /// Gross.
    pub gross: Decimal,
    /// The fee as answered.
    pub fee: Option<serde_json::Value>,
    /// Net.
    pub net: Decimal,
}

/// A settlement to store.
#[derive(Debug, Clone)]
pub struct NewSettlement {
    /// Our id, used when it is new.
    pub id: Uuid,
    /// The provider's payout id.
    pub external_id: String,
    /// The provider.
    pub provider: String,
    /// When it was paid out.
    pub paid_out_at: DateTime<FixedOffset>,
    /// The currency.
    pub currency: String,
    /// The exchange rate.
    pub exchange_rate: Option<Decimal>,
    /// Its date.
    pub exchange_rate_date: Option<NaiveDate>,
    /// What reached the bank.
    pub amount: Decimal,
    /// The bank statement's reference.
    pub reference: Option<String>,
    /// The canonical form's hash: an identical resend changes nothing.
    pub content_hash: Vec<u8>,
    /// The transactions.
    pub transactions: Vec<NewTransaction>,
}

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    /// A new settlement.
    Created,
    /// A changed one: its next version.
    Updated,
    /// The same again: nothing written.
    Unchanged,
}

/// The payment a transaction pays out.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct MatchRecord {
    /// `order` or `receipt`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Its id.
    pub id: Uuid,
    /// The payment's index in the document.
    pub payment_index: i32,
    /// The payment's method.
    pub method_id: Option<Uuid>,
}

/// A stored transaction with its match.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct TransactionRecord {
    /// What it is.
    pub kind: String,
    /// The provider's reference.
    pub provider_reference: Option<String>,
    /// Another reference.
    pub reference: Option<String>,
    /// The description.
    pub description: Option<String>,
    /// Gross.
    pub gross: Decimal,
    /// The fee as answered.
    pub fee: Option<serde_json::Value>,
    /// Net.
    pub net: Decimal,
    /// The payment it pays out; `None` while unmatched.
    #[serde(rename = "match")]
    pub matched: Option<MatchRecord>,
    /// Whether another transaction (of another settlement, or this one) claims the same
    /// payment.
    pub conflict: bool,
}

/// A stored settlement.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SettlementRecord {
    /// Our id.
    pub id: Uuid,
    /// The provider's payout id.
    pub external_id: String,
    /// The provider.
    pub provider: String,
    /// When it was paid out.
    pub paid_out_at: DateTime<Utc>,
    /// The offset it was sent with, in seconds.
    pub paid_out_offset: i32,
    /// The currency.
    pub currency: String,
    /// The exchange rate.
    pub exchange_rate: Option<Decimal>,
    /// Its date.
    pub exchange_rate_date: Option<NaiveDate>,
    /// What reached the bank.
    pub amount: Decimal,
    /// The bank statement's reference.
    pub reference: Option<String>,
    /// How many transactions.
    pub transaction_count: i32,
    /// Counts changes from 1.
    pub version: i32,
    /// When it was first stored.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// Σ gross of the matched transactions.
    pub matched_total: Decimal,
    /// Σ gross of the payments, refunds and chargebacks still unmatched.
    pub unmatched_total: Decimal,
    /// How many transactions claim a payment another one claims too.
    pub conflicts: i64,
    /// The transactions (empty in a list).
    pub transactions: Json<Vec<TransactionRecord>>,
}

/// Filters of the list.
#[derive(Debug, Clone, Default)]
pub struct SettlementFilter {
    /// Paid out at or after.
    pub from: Option<DateTime<Utc>>,
    /// Paid out before.
    pub to: Option<DateTime<Utc>>,
    /// Of this provider.
    pub provider: Option<String>,
    /// Only those with an unmatched payment, refund or chargeback, or a conflict.
    pub unmatched: bool,
    /// After this (paid_out_at, id), for the next page.
    pub after: Option<(DateTime<Utc>, Uuid)>,
    /// At most this many.
    pub limit: i64,
}

/// The head's columns with the figures of its transactions; `{tx}` is replaced by the
/// transactions' JSON (or an empty array in a list).
const SETTLEMENT: &str = "select s.id, s.external_id, s.provider, s.paid_out_at, s.paid_out_offset,
        s.currency, s.exchange_rate, s.exchange_rate_date, s.amount, s.reference,
        s.transaction_count, s.version, s.created_at, s.updated_at,
        coalesce((select sum(t.gross) from settlement_transactions t
                   where t.company_id = s.company_id and t.settlement_id = s.id
                     and t.match_id is not null), 0) as matched_total,
        coalesce((select sum(t.gross) from settlement_transactions t
                   where t.company_id = s.company_id and t.settlement_id = s.id
                     and t.match_id is null
                     and t.kind in ('payment', 'refund', 'chargeback')), 0) as unmatched_total,
        (select count(*) from settlement_transactions t
          where t.company_id = s.company_id and t.settlement_id = s.id
            and t.match_id is not null and exists (select 1 from settlement_transactions o
                where o.company_id = t.company_id and o.match_type = t.match_type
                  and o.match_id = t.match_id and o.match_payment_index = t.match_payment_index
                  and o.match_id is not null
                  and (o.settlement_id, o.position) <> (t.settlement_id, t.position))) as conflicts,
        {tx} as transactions
   from settlements s";

/// A settlement's transactions as JSON, in their order, each with its match and conflict.
const TRANSACTIONS: &str = "coalesce((select json_agg(json_build_object(
            'kind', t.kind, 'provider_reference', t.provider_reference,
            'reference', t.reference, 'description', t.description,
            'gross', t.gross::text, 'fee', t.fee, 'net', t.net::text,
            'match', case when t.match_id is null then null else json_build_object(
                'type', t.match_type, 'id', t.match_id,
                'payment_index', t.match_payment_index, 'method_id', t.match_method_id) end,
            'conflict', t.match_id is not null and exists (
                select 1 from settlement_transactions o
                 where o.company_id = t.company_id and o.match_type = t.match_type
                   and o.match_id = t.match_id and o.match_payment_index = t.match_payment_index
                   and o.match_id is not null
                   and (o.settlement_id, o.position) <> (t.settlement_id, t.position)))
          order by t.position)
       from settlement_transactions t
      where t.company_id = s.company_id and t.settlement_id = s.id), '[]'::json)";

/// Matches the unmatched payments, refunds and chargebacks among `pending` (a set of
/// settlement transactions) to order and receipt payments: by the provider's reference of an
/// order's payment, then by an order payment's reference, then by a receipt payment's; a
/// refund or chargeback first to a negative payment of a credit order of the order whose
/// payment it names, then to a payment of the right sign. The leading part of one statement
/// (a data-modifying `with` must be at the top): `done` holds the settlement of each
/// transaction matched.
const MATCH: &str = "with tx as ({pending}),
      cand as (
        select tx.settlement_id, tx.position, 'order' as match_type, cp.order_id as id,
               cp.version, cp.position as idx, cp.method_id, 0 as how, 0 as fit
          from tx
          join order_payments p on p.company_id = $1 and p.provider_reference = tx.provider_reference
          join orders o on o.company_id = p.company_id and o.id = p.order_id and o.version = p.version
          join orders c on c.company_id = o.company_id and c.credit_of = o.id
          join order_payments cp on cp.company_id = c.company_id and cp.order_id = c.id
                                and cp.version = c.version and cp.amount < 0
         where tx.kind in ('refund', 'chargeback')
        union all
        select tx.settlement_id, tx.position, 'order', p.order_id, p.version, p.position,
               p.method_id, 1,
               case when (tx.kind = 'payment') = (p.amount > 0) then 0 else 1 end
          from tx
          join order_payments p on p.company_id = $1 and p.provider_reference = tx.provider_reference
          join orders o on o.company_id = p.company_id and o.id = p.order_id and o.version = p.version
        union all
        select tx.settlement_id, tx.position, 'order', p.order_id, p.version, p.position,
               p.method_id, 2,
               case when (tx.kind = 'payment') = (p.amount > 0) then 0 else 1 end
          from tx
          join order_payments p on p.company_id = $1 and p.reference = tx.provider_reference
          join orders o on o.company_id = p.company_id and o.id = p.order_id and o.version = p.version
        union all
        select tx.settlement_id, tx.position, 'receipt', rp.receipt_id, null, rp.position,
               rp.method_id, 3,
               case when (tx.kind = 'payment') = (rp.amount > 0) then 0 else 1 end
          from tx
          join receipt_payments rp on rp.company_id = $1 and rp.reference = tx.provider_reference),
      best as (
        select distinct on (settlement_id, position) *
          from cand
         order by settlement_id, position, fit, how, id, idx),
      done as (
        update settlement_transactions t
           set match_type = b.match_type, match_id = b.id, match_version = b.version,
               match_payment_index = b.idx, match_method_id = b.method_id
          from best b
         where t.company_id = $1 and t.settlement_id = b.settlement_id
           and t.position = b.position
        returning t.settlement_id)";

/// Matches transactions of any settlement of the company still waiting for a payment with
/// one of `references` (a provider's reference or a payment reference of documents just
/// written), in the caller's transaction, with a `settlement.matched` event per settlement
/// that got a match.
pub async fn match_pending(
    conn: &mut PgConnection,
    company_id: Uuid,
    references: &[String],
) -> Result<(), StoreError> {
    if references.is_empty() {
        return Ok(());
    }
    let pending = "select settlement_id, position, kind, provider_reference
                     from settlement_transactions
                    where company_id = $1 and match_id is null
                      and provider_reference = any($2)
                      and kind in ('payment', 'refund', 'chargeback')";
    // Only constants are formatted in.
    let sql = format!(
        "{} insert into events (company_id, type, resource, resource_id, version) \
         select distinct $1::uuid, 'settlement.matched', 'settlements', s.id, s.version \
           from done d join settlements s on s.company_id = $1 and s.id = d.settlement_id",
        MATCH.replace("{pending}", pending)
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(company_id)
        .bind(references)
        .execute(conn)
        .await?;
    Ok(())
}

/// Settlements of one pool.
pub struct Settlements<'a> {
    pool: &'a PgPool,
}

impl<'a> Settlements<'a> {
    pub(crate) fn new(pool: &'a PgPool) -> Self {
        Settlements { pool }
    }

    /// Stores a settlement: new, its next version when it changed (its transactions
    /// replaced and matched again), or nothing when it is the same again. In one
    /// transaction with its event (`settlement.created` or `settlement.updated`). Answers
    /// its id and what was done.
    pub async fn upsert(
        &self,
        company_id: Uuid,
        new: &NewSettlement,
    ) -> Result<(Uuid, Upserted), StoreError> {
        // Two first pushes of one payout at once: the one that loses the insert tries again
        // and finds the other's row (locked until it commits), as an update or a resend.
        for _ in 0..3 {
            if let Some(done) = self.try_upsert(company_id, new).await? {
                return Ok(done);
            }
        }
        Err(StoreError::Contention(sqlx::Error::Protocol(
            "a settlement kept being created concurrently".to_owned(),
        )))
    }

    /// [`Self::upsert`] once; `None` when another transaction created the payout first.
    async fn try_upsert(
        &self,
        company_id: Uuid,
        new: &NewSettlement,
    ) -> Result<Option<(Uuid, Upserted)>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let existing: Option<(Uuid, Vec<u8>)> = sqlx::query_as(
            "select id, content_hash from settlements
              where company_id = $1 and external_id = $2 for update",
        )
        .bind(company_id)
        .bind(&new.external_id)
        .fetch_optional(&mut *tx)
        .await?;
        let offset = new.paid_out_at.offset().local_minus_utc();
        let (id, done) = match existing {
            Some((id, hash)) if hash == new.content_hash => {
                return Ok(Some((id, Upserted::Unchanged)));
            }
            Some((id, _)) => {
                // The version being replaced is kept whole (migration 0031), then its
                // transactions make way for the new ones.
                sqlx::query(
                    "with kept as (
                        insert into settlement_versions
                            (company_id, settlement_id, version, settlement, transactions)
                        select s.company_id, s.id, s.version, to_jsonb(s) - 'content_hash',
                               coalesce((select jsonb_agg(to_jsonb(t) order by t.position)
                                           from settlement_transactions t
                                          where t.company_id = s.company_id
                                            and t.settlement_id = s.id), '[]')
                          from settlements s
                         where s.company_id = $1 and s.id = $2
                     )
                     delete from settlement_transactions where company_id = $1 and settlement_id = $2",
                )
                .bind(company_id)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "update settlements
                        set provider = $3, paid_out_at = $4, paid_out_offset = $5, currency = $6,
                            exchange_rate = $7, exchange_rate_date = $8, amount = $9,
                            reference = $10, transaction_count = $11, content_hash = $12,
                            version = version + 1, updated_at = now()
                      where company_id = $1 and id = $2",
                )
                .bind(company_id)
                .bind(id)
                .bind(&new.provider)
                .bind(new.paid_out_at)
                .bind(offset)
                .bind(&new.currency)
                .bind(new.exchange_rate)
                .bind(new.exchange_rate_date)
                .bind(new.amount)
                .bind(&new.reference)
                .bind(i32::try_from(new.transactions.len()).unwrap_or(i32::MAX))
                .bind(&new.content_hash)
                .execute(&mut *tx)
                .await?;
                (id, Upserted::Updated)
            }
            None => {
                let inserted = sqlx::query(
                    "insert into settlements (company_id, id, external_id, provider, paid_out_at,
                            paid_out_offset, currency, exchange_rate, exchange_rate_date, amount,
                            reference, transaction_count, content_hash)
                     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                     on conflict (company_id, external_id) do nothing",
                )
                .bind(company_id)
                .bind(new.id)
                .bind(&new.external_id)
                .bind(&new.provider)
                .bind(new.paid_out_at)
                .bind(offset)
                .bind(&new.currency)
                .bind(new.exchange_rate)
                .bind(new.exchange_rate_date)
                .bind(new.amount)
                .bind(&new.reference)
                .bind(i32::try_from(new.transactions.len()).unwrap_or(i32::MAX))
                .bind(&new.content_hash)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if inserted == 0 {
                    return Ok(None);
                }
                (new.id, Upserted::Created)
            }
        };
        let t = &new.transactions;
        let positions: Vec<i32> = (0..t.len())
            .map(|i| i32::try_from(i).unwrap_or(i32::MAX))
            .collect();
        let kinds: Vec<&str> = t.iter().map(|t| t.kind.as_str()).collect();
        let provider_references: Vec<Option<&str>> =
            t.iter().map(|t| t.provider_reference.as_deref()).collect();
        let references: Vec<Option<&str>> = t.iter().map(|t| t.reference.as_deref()).collect();
        let descriptions: Vec<Option<&str>> = t.iter().map(|t| t.description.as_deref()).collect();
        let gross: Vec<Decimal> = t.iter().map(|t| t.gross).collect();
        let fees: Vec<Option<Json<&serde_json::Value>>> =
            t.iter().map(|t| t.fee.as_ref().map(Json)).collect();
        let net: Vec<Decimal> = t.iter().map(|t| t.net).collect();
        sqlx::query(
            "insert into settlement_transactions (company_id, settlement_id, position, kind,
                    provider_reference, reference, description, gross, fee, net)
             select $1, $2, * from unnest($3::int[], $4::text[], $5::text[], $6::text[],
                                          $7::text[], $8::numeric[], $9::jsonb[], $10::numeric[])",
        )
        .bind(company_id)
        .bind(id)
        .bind(&positions)
        .bind(&kinds)
        .bind(&provider_references)
        .bind(&references)
        .bind(&descriptions)
        .bind(&gross)
        .bind(&fees)
        .bind(&net)
        .execute(&mut *tx)
        .await?;
        let pending = "select settlement_id, position, kind, provider_reference
                         from settlement_transactions
                        where company_id = $1 and settlement_id = $2
                          and provider_reference is not null
                          and kind in ('payment', 'refund', 'chargeback')";
        // Only constants are formatted in.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{} select count(*) from done",
            MATCH.replace("{pending}", pending)
        )))
        .bind(company_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let event = if done == Upserted::Created {
            "settlement.created"
        } else {
            "settlement.updated"
        };
        sqlx::query(
            "insert into events (company_id, type, resource, resource_id, version)
             select $1, $2, 'settlements', id, version from settlements
              where company_id = $1 and id = $3",
        )
        .bind(company_id)
        .bind(event)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some((id, done)))
    }

    /// One settlement with its transactions, each with its match and conflict.
    pub async fn find(
        &self,
        company_id: Uuid,
        id: Uuid,
    ) -> Result<Option<SettlementRecord>, StoreError> {
        // Only constants are formatted in.
        let sql = format!(
            "{} where s.company_id = $1 and s.id = $2",
            SETTLEMENT.replace("{tx}", TRANSACTIONS)
        );
        Ok(
            sqlx::query_as::<_, SettlementRecord>(sqlx::AssertSqlSafe(sql))
                .bind(company_id)
                .bind(id)
                .fetch_optional(self.pool)
                .await?,
        )
    }

    /// A page of settlements, oldest payout first, without their transactions.
    pub async fn list(
        &self,
        company_id: Uuid,
        filter: &SettlementFilter,
    ) -> Result<Vec<SettlementRecord>, StoreError> {
        // Only constants are formatted in.
        let sql = format!(
            "{} where s.company_id = $1
                and ($2::timestamptz is null or s.paid_out_at >= $2)
                and ($3::timestamptz is null or s.paid_out_at < $3)
                and ($4::text is null or s.provider = $4)
                and ($5::timestamptz is null or (s.paid_out_at, s.id) > ($5, $6))
                and (not $7 or exists (
                    select 1 from settlement_transactions t
                     where t.company_id = s.company_id and t.settlement_id = s.id
                       and ((t.match_id is null and t.kind in ('payment', 'refund', 'chargeback'))
                            or (t.match_id is not null and exists (
                                select 1 from settlement_transactions o
                                 where o.company_id = t.company_id
                                   and o.match_type = t.match_type and o.match_id = t.match_id
                                   and o.match_payment_index = t.match_payment_index
                                   and o.match_id is not null
                                   and (o.settlement_id, o.position)
                                       <> (t.settlement_id, t.position))))))
              order by s.paid_out_at, s.id
              limit $8",
            SETTLEMENT.replace("{tx}", "'[]'::json")
        );
        Ok(
            sqlx::query_as::<_, SettlementRecord>(sqlx::AssertSqlSafe(sql))
                .bind(company_id)
                .bind(filter.from)
                .bind(filter.to)
                .bind(filter.provider.as_deref())
                .bind(filter.after.map(|a| a.0))
                .bind(filter.after.map(|a| a.1))
                .bind(filter.unmatched)
                .bind(filter.limit)
                .fetch_all(self.pool)
                .await?,
        )
    }
}
