-- What a payment provider charged for a payment (docs/bookkeeping-rules.md, "Orders"):
-- amount excluding VAT, the VAT as on a line, amount including VAT, as the domain validated
-- it. A purchase, never part of the order's sales figures, and read only with its payment,
-- so one JSON object beside it rather than seven columns.
alter table order_payments add column fee jsonb,
    add constraint order_payments_fee_is_object check (fee is null or jsonb_typeof(fee) = 'object');
