"""One round of bench/cpu-per-read: reads of an order against a running `koppel serve`,
with the CPU its process and PostgreSQL's spent on them; or the summary of the rounds.

Standard library only, so that the script needs nothing installed."""

import argparse
import base64
import http.client
import json
import os
import statistics
import threading
import time

CONNECTIONS = 4
ORDERS = 200
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue  # a process that ended between the samples
        total += int(fields[11]) + int(fields[12])
    return total / TICK


def cluster(postmaster):
    """The postmaster and its children: backends, writer, checkpointer, WAL writer."""
    children = []
    try:
        with open(f"/proc/{postmaster}/task/{postmaster}/children") as f:
            children = [int(p) for p in f.read().split()]
    except FileNotFoundError:
        pass
    return [postmaster, *children]


def call(connection, method, path, token=None, body=None, form=None):
    headers = {}
    if token:
        headers["Authorization"] = token
    if form is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        body = form
    elif body is not None:
        headers["Content-Type"] = "application/json"
        body = json.dumps(body)
    connection.request(method, path, body=body, headers=headers)
    answer = connection.getresponse()
    data = answer.read()
    if answer.status >= 300:
        raise SystemExit(f"{method} {path}: {answer.status} {data[:300]!r}")
    return json.loads(data) if data else None


def bearer(port, client):
    credentials = f"{client['client_id']}:{client['client_secret']}".encode()
    connection = http.client.HTTPConnection("127.0.0.1", port)
    connection.request(
        "POST",
        "/oauth/token",
        body="grant_type=client_credentials",
        headers={
            "Authorization": "Basic " + base64.b64encode(credentials).decode(),
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    return "Bearer " + json.loads(connection.getresponse().read())["access_token"]


def order(i):
    vat = {"percentage": 21, "category": "standard"}
    return {
        "external_id": f"cpu-{i}",
        "number": f"CPU-{i}",
        "status": "open",
        "order_date": "2026-02-03T10:00:00+01:00",
        "currency": "EUR",
        "prices_include_vat": False,
        "lines": [
            {"sku": f"SKU-{n}", "description": f"Item {n}", "quantity": 2,
             "unit_price": "10.00", "total_excl_vat": "20.00", "unit": "piece",
             "vat": {**vat, "amount": "4.20"}}
            for n in range(5)
        ],
        "costs": [{"kind": "shipping", "amount_excl_vat": "5.00",
                   "vat": {**vat, "amount": "1.05"}}],
    }


def one_round(args):
    orders = f"/v1/companies/{args.company}/orders"
    connection = http.client.HTTPConnection("127.0.0.1", args.port)
    reader = bearer(args.port, json.loads(args.connector))
    page = call(connection, "GET", f"{orders}?limit={ORDERS}", reader)
    if not page["data"]:
        writer = bearer(args.port, json.loads(args.vendor))
        call(connection, "POST", f"{orders}/batch", writer,
             {"orders": [order(i) for i in range(ORDERS)]})
        page = call(connection, "GET", f"{orders}?limit={ORDERS}", reader)
    ids = [o["id"] for o in page["data"]]

    def read(first, count):
        own = http.client.HTTPConnection("127.0.0.1", args.port)
        for i in range(first, first + count * CONNECTIONS, CONNECTIONS):
            call(own, "GET", f"{orders}/{ids[i % len(ids)]}", reader)

    read(0, 250)  # warm-up: connections pooled, statements prepared
    database = cluster(args.postmaster_pid)
    koppel0, database0, started = cpu_seconds([args.server_pid]), cpu_seconds(database), time.time()
    threads = [threading.Thread(target=read, args=(k, args.reads // CONNECTIONS))
               for k in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.time() - started
    koppel = cpu_seconds([args.server_pid]) - koppel0
    postgres = cpu_seconds(cluster(args.postmaster_pid)) - database0
    n = args.reads // CONNECTIONS * CONNECTIONS
    print(json.dumps({"side": args.side, "koppel_us": round(1e6 * koppel / n),
                      "postgres_us": round(1e6 * postgres / n), "reads_per_s": round(n / elapsed)}))


def summarise(path):
    with open(path) as f:
        rounds = [json.loads(line) for line in f if line.strip()]
    old = [r for r in rounds if r["side"] == "old"]
    new = [r for r in rounds if r["side"] == "new"]
    print(f"{len(new)} rounds, old and new alternating; mean of new − old per round:")
    for key, unit in (("koppel_us", "µs of Koppel's CPU per read"),
                      ("postgres_us", "µs of PostgreSQL's CPU per read"),
                      ("reads_per_s", "reads per second")):
        differences = [n[key] - o[key] for o, n in zip(old, new)]
        base = statistics.mean(o[key] for o in old)
        print(f"  {statistics.mean(differences):+8.1f} {unit} "
              f"({statistics.mean(differences) / base:+.1%} of old's {base:.0f}; "
              f"per round {', '.join(f'{d:+d}' for d in differences)})")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--summarise")
    parser.add_argument("--port", type=int)
    parser.add_argument("--company")
    parser.add_argument("--vendor")
    parser.add_argument("--connector")
    parser.add_argument("--server-pid", type=int)
    parser.add_argument("--postmaster-pid", type=int)
    parser.add_argument("--reads", type=int, default=20000)
    parser.add_argument("--side")
    args = parser.parse_args()
    if args.summarise:
        summarise(args.summarise)
    else:
        one_round(args)


if __name__ == "__main__":
    main()
