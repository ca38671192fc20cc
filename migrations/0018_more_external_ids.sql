-- The vendor's external ids of the product and VAT rate a line names (and of the rate a
-- cost names), written with the document as the other external ids are (0013): a document
-- may name them by either id, and answers carry both.
alter table order_lines
    add column product_external_id text,
    add column vat_rate_external_id text;
alter table order_costs add column vat_rate_external_id text;
alter table receipt_lines add column vat_rate_external_id text;

update order_lines l set product_external_id = p.external_id
  from products p where p.company_id = l.company_id and p.id = l.product_id;
update order_lines l set vat_rate_external_id = r.external_id
  from vat_rates r where r.company_id = l.company_id and r.id = l.vat_rate_id;
update order_costs c set vat_rate_external_id = r.external_id
  from vat_rates r where r.company_id = c.company_id and r.id = c.vat_rate_id;
update receipt_lines l set vat_rate_external_id = r.external_id
  from vat_rates r where r.company_id = l.company_id and r.id = l.vat_rate_id;
