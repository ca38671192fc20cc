-- The Z-report a vendor may send with the close of a day (SPEC "POS days, complete"): opening
-- float, counted amounts per payment method, pay-ins, pay-outs and the bank deposit, as
-- koppel_domain::z_report::ZReport serialises them (amounts as text). Null until a close
-- brings one; a day is closed with one Z-report, and a second close with another is refused.
alter table daily_revenue add column z_report jsonb;
