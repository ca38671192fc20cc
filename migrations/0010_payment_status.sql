-- Payments as payment providers report them (SPEC "Real vendor data"): a status (only `paid`
-- counts as received), the provider, the provider's own transaction id and the payout that
-- settled it. Existing payments were accepted as received money: they are `paid`.

alter table order_payments
    add column status text not null default 'paid',
    add column provider text,
    add column provider_reference text,
    add column payout_reference text,
    add constraint order_payments_status_known check (status in
        ('pending', 'authorized', 'paid', 'failed', 'cancelled', 'refunded', 'charged_back'));

-- `reference=` finds an order by its payment provider's transaction id too.
create index order_payments_provider_reference_idx
    on order_payments (company_id, provider_reference, order_id)
    where provider_reference is not null;
