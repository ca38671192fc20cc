-- Single-purpose vouchers (SPEC "POS days, complete", VAT.md "Single-purpose vouchers"): VAT
-- is due when such a voucher is sold; when it is redeemed (a payment whose method has kind
-- single_purpose_voucher) the goods it pays for are not taxed again. Each receipt's
-- redemption is split over its revenue rates (koppel_domain::daily::voucher_shares) and
-- kept per receipt, for the VAT return, and per day and rate, next to the rate's figures,
-- which are net of it.

alter table payment_methods drop constraint payment_methods_kind_known;
alter table payment_methods add constraint payment_methods_kind_known check (kind in (
    'cash', 'debit_card', 'credit_card', 'ideal', 'bank_transfer', 'paypal', 'gift_card',
    'voucher', 'single_purpose_voucher', 'on_account', 'other'));

create table receipt_voucher_redemptions (
    company_id uuid not null,
    receipt_id uuid not null,
    vat_category text not null,
    vat_percentage numeric(7, 4) not null,
    vat_country text not null,
    base numeric(14, 2) not null,
    vat numeric(14, 2) not null,
    constraint receipt_voucher_redemptions_pkey
        primary key (company_id, receipt_id, vat_category, vat_percentage, vat_country),
    constraint receipt_voucher_redemptions_receipt_fkey foreign key (company_id, receipt_id)
        references receipts (company_id, id)
);

-- What vouchers redeemed at each rate of the day; base and vat beside them are net of it.
alter table daily_revenue_vat_rates
    add column voucher_base numeric(16, 2) not null default 0,
    add column voucher_vat numeric(16, 2) not null default 0;

-- The kept revisions carry the redemptions as the day's read does.
create or replace function koppel_day_figures(c uuid, l text, b date) returns jsonb
language sql stable as $$
    select jsonb_build_object(
        'receipt_count', d.receipt_count,
        'late_receipt_count', d.late_receipt_count,
        'total_excl_vat', d.total_excl_vat::text,
        'total_vat', d.total_vat::text,
        'revenue_excl_vat', d.revenue_excl_vat::text,
        'revenue_vat', d.revenue_vat::text,
        'tips', d.tips::text,
        'gift_cards_multi_purpose', d.gift_cards_multi_purpose::text,
        'deposits', d.deposits::text,
        'cash_rounding', d.cash_rounding::text,
        'by_vat_rate', coalesce((
            select jsonb_agg(jsonb_build_object('category', v.vat_category,
                       'percentage', v.vat_percentage::text, 'country', v.vat_country,
                       'base', v.base::text, 'vat', v.vat::text,
                       'voucher_base', v.voucher_base::text, 'voucher_vat', v.voucher_vat::text)
                       order by v.vat_category, v.vat_percentage desc, v.vat_country)
              from daily_revenue_vat_rates v
             where v.company_id = c and v.location_key = l and v.business_date = b), '[]'),
        'by_category', coalesce((
            select jsonb_agg(jsonb_build_object('category_id', x.category_id, 'name', k.name,
                       'total_excl_vat', x.total_excl_vat::text, 'total_vat', x.total_vat::text)
                       order by k.name, x.category_id)
              from daily_revenue_categories x
              join categories k on k.company_id = x.company_id and k.id = x.category_id
             where x.company_id = c and x.location_key = l and x.business_date = b), '[]'),
        'by_payment_method', coalesce((
            select jsonb_agg(jsonb_build_object('method_id', p.method_id, 'name', m.name,
                       'kind', m.kind, 'amount', p.amount::text) order by m.name, p.method_id)
              from daily_revenue_payments p
              join payment_methods m on m.company_id = p.company_id and m.id = p.method_id
             where p.company_id = c and p.location_key = l and p.business_date = b), '[]'))
      from daily_revenue d
     where d.company_id = c and d.location_key = l and d.business_date = b
$$;
