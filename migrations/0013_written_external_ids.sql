-- The vendor's external ids of an order's categories, payment methods and customer, written
-- with the order rather than looked up on every read (bench/README.md: those lookups cost
-- about a tenth of the reads an order can serve). They never change for a given id: an
-- external id is its resource's upsert key.

alter table order_lines add column category_external_id text;
alter table order_payments add column method_external_id text;
alter table order_versions add column customer_external_id text;

update order_lines l set category_external_id = k.external_id
  from categories k where k.company_id = l.company_id and k.id = l.category_id;
update order_payments p set method_external_id = m.external_id
  from payment_methods m where m.company_id = p.company_id and m.id = p.method_id;
update order_versions v set customer_external_id = c.external_id
  from customers c where c.company_id = v.company_id and c.id = v.customer_id;
