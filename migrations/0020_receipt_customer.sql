-- A receipt may name its buyer (SPEC "Real vendor data": a sale on account or to a
-- business), as an order does: the customer's id and external id when it named one, and the
-- buyer as on the receipt, whose VAT number an intra-EU line needs and the ICP listing shows.
alter table receipts
    add column customer_id uuid,
    add column customer_external_id text,
    add column customer jsonb,
    add constraint receipts_customer_fkey foreign key (company_id, customer_id)
        references customers (company_id, id),
    add constraint receipts_customer_is_object check (
        customer is null or jsonb_typeof(customer) = 'object');
