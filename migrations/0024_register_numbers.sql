-- Number gaps (SPEC "POS days, complete"): per day row and register, how many receipts had a
-- numeric number and the lowest and highest of them, kept in each receipt's transaction as
-- the day's figures are (0007). A register whose range is wider than its count has a gap; only
-- then are its receipts read to name the missing numbers, so a day without gaps costs no
-- read of its receipts. register_key is '' for receipts without a register.

create table daily_revenue_registers (
    company_id uuid not null,
    location_key text not null,
    business_date date not null,
    register_key text not null,
    numbered bigint not null,
    min_number bigint not null,
    max_number bigint not null,
    constraint daily_revenue_registers_pkey
        primary key (company_id, location_key, business_date, register_key),
    constraint daily_revenue_registers_day_fkey foreign key (company_id, location_key, business_date)
        references daily_revenue (company_id, location_key, business_date)
);

-- The receipts stored before: the whole company's rows and each location's.
insert into daily_revenue_registers
    (company_id, location_key, business_date, register_key, numbered, min_number, max_number)
select r.company_id, k.location_key, r.business_date, coalesce(btrim(r.register_id), ''),
       count(*), min(btrim(r.number)::bigint), max(btrim(r.number)::bigint)
  from receipts r
  cross join lateral (values (''), (btrim(r.location_id))) k(location_key)
 where btrim(r.number) ~ '^[0-9]{1,18}$' and k.location_key is not null
   and exists (select 1 from daily_revenue d
                where d.company_id = r.company_id and d.location_key = k.location_key
                  and d.business_date = r.business_date)
 group by 1, 2, 3, 4;
