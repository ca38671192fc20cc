-- The margin scheme (docs/bookkeeping-rules.md, "Margin scheme"): VAT category `margin` on
-- rates and on every line a document can carry, and the purchase price an order line under
-- it needs. A receipt line cannot be under it (no purchase price), but the category set
-- stays one and the same everywhere. Adding a value to a check constraint only widens it:
-- every stored row still satisfies the new one.

alter table vat_rates drop constraint vat_rates_category_known,
    add constraint vat_rates_category_known check (category in (
        'standard', 'reduced', 'zero', 'exempt', 'reverse_charge', 'intra_eu', 'export', 'oss',
        'outside_scope', 'margin'));

alter table order_lines drop constraint order_lines_vat_category_known,
    add constraint order_lines_vat_category_known check (vat_category in (
        'standard', 'reduced', 'zero', 'exempt', 'reverse_charge', 'intra_eu', 'export', 'oss',
        'outside_scope', 'margin'));

alter table order_costs drop constraint order_costs_vat_category_known,
    add constraint order_costs_vat_category_known check (vat_category in (
        'standard', 'reduced', 'zero', 'exempt', 'reverse_charge', 'intra_eu', 'export', 'oss',
        'outside_scope', 'margin'));

alter table order_vat_breakdown drop constraint order_vat_breakdown_category_known,
    add constraint order_vat_breakdown_category_known check (category in (
        'standard', 'reduced', 'zero', 'exempt', 'reverse_charge', 'intra_eu', 'export', 'oss',
        'outside_scope', 'margin'));

alter table receipt_lines drop constraint receipt_lines_vat_category_known,
    add constraint receipt_lines_vat_category_known check (vat_category in (
        'standard', 'reduced', 'zero', 'exempt', 'reverse_charge', 'intra_eu', 'export', 'oss',
        'outside_scope', 'margin'));

-- Per unit, including any VAT paid on it, in the order's currency; exactly the lines under
-- the margin scheme have one.
alter table order_lines add column purchase_price numeric,
    add constraint order_lines_purchase_price_scale check (scale(purchase_price) <= 6),
    add constraint order_lines_purchase_price_only_under_margin check (
        (purchase_price is not null) = (vat_category = 'margin'));
