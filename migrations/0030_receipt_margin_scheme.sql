-- The margin scheme on receipts (docs/bookkeeping-rules.md, "Margin scheme"): a second-hand
-- shop's till sells a phone bought from a consumer as a webshop does. Such a line keeps its
-- purchase price, as order lines do (0014), and its base in the VAT return, the margin less
-- its VAT, which the domain computed: the return reports that base, not the line's amount
-- excluding VAT (which stays the revenue the day counts). For a receipt in another currency
-- the base also in the company's, allocated within its group as the line's other figures
-- are (0029).
alter table receipt_lines
    add column purchase_price numeric,
    add column margin_base numeric(14, 2),
    add column margin_base_company numeric(14, 2),
    add constraint receipt_lines_purchase_price_scale check (scale(purchase_price) <= 6),
    add constraint receipt_lines_purchase_price_only_under_margin check (
        (purchase_price is not null) = (vat_category = 'margin')),
    add constraint receipt_lines_margin_base_with_price check (
        (margin_base is not null) = (purchase_price is not null)),
    add constraint receipt_lines_margin_base_company_with_rate check (
        (margin_base_company is not null)
        = (margin_base is not null and total_excl_vat_company is not null));
