-- An order's invoice and channel (SPEC "Real vendor data"): the invoice number and dates,
-- the delivery date, the sales channel, the marketplace and its order id. Kept per version
-- as one JSON object (only what was sent); the head keeps what lists and the VAT return
-- select on: the invoice date, which is the tax point that places an order in a VAT period
-- (VAT.md), and the marketplace's order id, which `reference=` finds.

alter table order_versions add column details jsonb;

alter table orders
    add column invoice_date date,
    add column marketplace_order_id text;

create index orders_invoice_date_idx on orders (company_id, invoice_date, id)
    where invoice_date is not null;
create index orders_marketplace_order_id_idx on orders (company_id, marketplace_order_id)
    where marketplace_order_id is not null;
