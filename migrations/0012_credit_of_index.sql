-- The VAT return asks of an order refunded in full whether any credit order names it: one
-- index lookup instead of a scan of the company's orders.
create index orders_credit_of_idx on orders (company_id, credit_of) where credit_of is not null;
