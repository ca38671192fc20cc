-- An order in another currency than the company's books (docs/bookkeeping-rules.md,
-- "Foreign currency") keeps its own figures and, beside them, the company-currency figures
-- the VAT return and journals use: each breakdown group's base and VAT converted at the
-- order's exchange rate and rounded on its own, and the totals as their sums. Null for an
-- order in the company's currency, whose own figures are those. The rate and its date are
-- in order_versions.details, with the other facts the vendor sent.
alter table order_versions
    add column total_excl_vat_company numeric,
    add column total_vat_company numeric,
    add column total_incl_vat_company numeric,
    add constraint order_versions_company_totals_together check (
        (total_excl_vat_company is null) = (total_vat_company is null)
        and (total_vat_company is null) = (total_incl_vat_company is null));

alter table order_vat_breakdown
    add column base_company numeric,
    add column vat_company numeric,
    add constraint order_vat_breakdown_company_together check (
        (base_company is null) = (vat_company is null));
