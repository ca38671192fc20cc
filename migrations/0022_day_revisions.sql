-- Every revision of a business day kept (SPEC "POS days, complete"): a connector that missed
-- revision 1 can still compute the correction between any two revisions.
--
-- A day's figures live in daily_revenue and its three breakdown tables, maintained in each
-- receipt's transaction (0007). A revision is their state at the moment it came to be: when
-- the day became final (revision 1: the finaliser, a close, or a late receipt finalising it
-- first) and after each late receipt (revision n > 1). A trigger takes the snapshot, so that
-- every path that finalises or revises a day keeps one, including those in data-modifying
-- CTEs: an AFTER ROW trigger runs once the whole statement is done, and so sees the
-- breakdown rows its other parts wrote. Open days (the usual receipt) take no snapshot: the
-- trigger's WHEN clause keeps their cost to nothing.

create table daily_revenue_revisions (
    company_id uuid not null,
    location_key text not null,
    business_date date not null,
    revision integer not null,
    recorded_at timestamptz not null,
    -- The day's figures as daily_revenue and its breakdowns held them, amounts as text:
    -- receipt_count, late_receipt_count, the eight amounts, and by_vat_rate, by_category and
    -- by_payment_method shaped as the day's read shapes them (names as they were).
    figures jsonb not null,
    constraint daily_revenue_revisions_pkey
        primary key (company_id, location_key, business_date, revision),
    constraint daily_revenue_revisions_day_fkey foreign key (company_id, location_key, business_date)
        references daily_revenue (company_id, location_key, business_date)
);

create function koppel_day_figures(c uuid, l text, b date) returns jsonb
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
                       'base', v.base::text, 'vat', v.vat::text)
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

create function koppel_keep_day_revision() returns trigger
language plpgsql as $$
begin
    -- A day first seen after it was final starts at revision 2: revision 1 was the empty day.
    if tg_op = 'INSERT' and new.revision = 2 then
        insert into daily_revenue_revisions
            (company_id, location_key, business_date, revision, recorded_at, figures)
        values (new.company_id, new.location_key, new.business_date, 1,
                coalesce(new.finalized_at, new.updated_at),
                jsonb_build_object('receipt_count', 0, 'late_receipt_count', 0,
                    'total_excl_vat', '0.00', 'total_vat', '0.00', 'revenue_excl_vat', '0.00',
                    'revenue_vat', '0.00', 'tips', '0.00', 'gift_cards_multi_purpose', '0.00',
                    'deposits', '0.00', 'cash_rounding', '0.00', 'by_vat_rate', '[]'::jsonb,
                    'by_category', '[]'::jsonb, 'by_payment_method', '[]'::jsonb))
        on conflict on constraint daily_revenue_revisions_pkey do nothing;
    end if;
    insert into daily_revenue_revisions
        (company_id, location_key, business_date, revision, recorded_at, figures)
    values (new.company_id, new.location_key, new.business_date, new.revision, new.updated_at,
            koppel_day_figures(new.company_id, new.location_key, new.business_date))
    on conflict on constraint daily_revenue_revisions_pkey
    do update set figures = excluded.figures, recorded_at = excluded.recorded_at;
    return null;
end;
$$;

create trigger daily_revenue_keep_revision
    after insert or update on daily_revenue
    for each row when (new.status <> 'open')
    execute function koppel_keep_day_revision();

-- Days that were final before this migration keep their current figures as their current
-- revision: what they were at earlier revisions is not known any more.
insert into daily_revenue_revisions
    (company_id, location_key, business_date, revision, recorded_at, figures)
select d.company_id, d.location_key, d.business_date, d.revision, d.updated_at,
       koppel_day_figures(d.company_id, d.location_key, d.business_date)
  from daily_revenue d
 where d.status <> 'open';
