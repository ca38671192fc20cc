-- A refund at the till names the receipt it refunds (SPEC "Real vendor data", refunds): by
-- our id, also when the vendor sent its own, which is kept beside it, and the reason the till
-- recorded. The refunded receipt lists its refunds, found through the partial index.
alter table receipts
    add column refund_of uuid,
    add column refund_of_external_id text,
    add column refund_reason text,
    add constraint receipts_refund_of_fkey foreign key (company_id, refund_of)
        references receipts (company_id, id),
    add constraint receipts_refund_is_another_receipt check (refund_of <> id);

create index receipts_refund_of_idx on receipts (company_id, refund_of)
    where refund_of is not null;
