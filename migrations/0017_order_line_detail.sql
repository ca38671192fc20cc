-- What an order line is and how it was sold (SPEC "Real vendor data", line detail): its
-- kind (a sale, a gift card, a deposit, a service charge), the unit of its quantity, the line
-- it belongs to (a bundle part or modifier), and the discount code and name the buyer saw.
-- Every existing line is a sale with none of the rest.
alter table order_lines
    add column kind text not null default 'sale',
    add column unit text,
    add column parent_line int,
    add column discount_code text,
    add column discount_name text,
    add constraint order_lines_kind_known check (kind in (
        'sale', 'gift_card_multi_purpose', 'gift_card_single_purpose', 'deposit',
        'service_charge')),
    add constraint order_lines_parent_is_another_line check (
        parent_line is null or (parent_line >= 0 and parent_line <> position));
