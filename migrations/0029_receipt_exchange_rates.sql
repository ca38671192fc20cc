-- A receipt in another currency than the company's books (SPEC "Foreign currency",
-- docs/bookkeeping-rules.md): a till near the border taking pounds. It keeps its own figures
-- and, beside them, the company-currency figures the day, the VAT return and the journal
-- count, computed by koppel_domain::receipt::convert: each VAT group converted at the rate and
-- rounded on its own, the lines allocated within their group so that they add up to it. Null
-- for a receipt in the company's currency, whose own figures are those.
--
-- receipt_voucher_redemptions and the day rows hold company-currency figures for every
-- receipt, as they always did (every receipt was in the company's currency until now).
alter table receipts
    add column exchange_rate numeric,
    add column exchange_rate_date date,
    add column total_excl_vat_company numeric(14, 2),
    add column total_vat_company numeric(14, 2),
    add column total_incl_vat_company numeric(14, 2),
    add constraint receipts_rate_with_date check (
        (exchange_rate is null) = (exchange_rate_date is null)),
    add constraint receipts_rate_positive check (exchange_rate > 0),
    add constraint receipts_company_totals_with_rate check (
        (exchange_rate is null) = (total_excl_vat_company is null)
        and (exchange_rate is null) = (total_vat_company is null)
        and (exchange_rate is null) = (total_incl_vat_company is null)),
    add constraint receipts_company_totals_add_up check (
        total_incl_vat_company = total_excl_vat_company + total_vat_company);

alter table receipt_lines
    add column total_excl_vat_company numeric(14, 2),
    add column vat_amount_company numeric(14, 2),
    add constraint receipt_lines_company_together check (
        (total_excl_vat_company is null) = (vat_amount_company is null));
