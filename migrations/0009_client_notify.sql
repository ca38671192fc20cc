-- Every change to a client or its grants is announced on the channel
-- `koppel_clients` with the client's id, so that every `koppel serve` on this
-- database updates its in-memory registry within moments instead of at its
-- next periodic reload. A trigger rather than a call in each statement: the
-- CLI, the admin API and the token endpoint all change clients, and a trigger
-- cannot be forgotten by the next one. NOTIFY is sent at commit, so a node
-- never reads a change before it is visible.

create function koppel_notify_client_change() returns trigger
language plpgsql as $$
begin
    if tg_table_name = 'clients' then
        perform pg_notify('koppel_clients', coalesce(new.id, old.id)::text);
    else
        perform pg_notify('koppel_clients', coalesce(new.client_id, old.client_id)::text);
    end if;
    return null;
end;
$$;

create trigger clients_notify
    after insert or update or delete on clients
    for each row execute function koppel_notify_client_change();

create trigger client_companies_notify
    after insert or update or delete on client_companies
    for each row execute function koppel_notify_client_change();
