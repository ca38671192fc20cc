"""Uses a Python client generated from Koppel's OpenAPI document, without hand
edits, against a live server: a vendor pushes a payment method, a category, a
product, a customer, an order and a receipt and reads each back; a connector
follows the change feed until it has seen all of them, and gets each of them as a
webhook too, verified with the Standard Webhooks reference library.

Run by scripts/contract-check, which generates the client (it is not committed)
and starts the server. Arguments: base URL, company id, vendor id and secret,
connector id and secret. Exits non-zero, with the reason, on the first
difference.
"""

import sys
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import standardwebhooks

from koppel_api_client import AuthenticatedClient, Client
from koppel_api_client.api.customers import get_customer, list_customers, upsert_customer
from koppel_api_client.api.events import list_events
from koppel_api_client.api.oauth import issue_token
from koppel_api_client.api.orders import get_order, list_orders, upsert_order
from koppel_api_client.api.products import get_product, list_products, upsert_product
from koppel_api_client.api.receipts import create_receipt, get_receipt
from koppel_api_client.api.webhooks import create_webhook_endpoint, list_webhook_deliveries
from koppel_api_client.api.settings import (
    get_category,
    get_payment_method,
    upsert_category,
    upsert_payment_method,
)
from koppel_api_client.models import (
    CategoryInput,
    CustomerInput,
    EventType,
    OrderInput,
    OrderStatusInput,
    PaymentMethod,
    PaymentMethodInput,
    PaymentMethodKind,
    ProductInput,
    ReceiptInput,
    TokenRequest,
    TokenResponse,
    VatCategory,
    WebhookEndpointInput,
    WebhookEndpointWithSecret,
)
from koppel_api_client.models.grant_type import GrantType


def expect(condition, what):
    if not condition:
        sys.exit(f"client check failed: {what}")


def token(base, client_id, secret):
    answer = issue_token.sync(
        client=Client(base_url=base),
        body=TokenRequest(
            grant_type=GrantType.CLIENT_CREDENTIALS,
            client_id=client_id,
            client_secret=secret,
        ),
    )
    expect(isinstance(answer, TokenResponse), f"no token: {answer}")
    return AuthenticatedClient(base_url=base, token=answer.access_token)


def stored(answer, kind):
    """The typed answer of a push or read, or exit with the problem."""
    expect(isinstance(answer, kind), f"expected a {kind.__name__}, got {answer}")
    return answer


class Receiver(BaseHTTPRequestHandler):
    """Verifies each webhook as a receiver would, with the reference library."""

    secret = None
    verified = []
    refused = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        try:
            event = standardwebhooks.Webhook(Receiver.secret).verify(body, dict(self.headers))
            Receiver.verified.append(event)
            self.send_response(204)
        except standardwebhooks.WebhookVerificationError as e:
            Receiver.refused.append(str(e))
            self.send_response(400)
        self.end_headers()

    def log_message(self, *args):
        pass


def subscribe(company, connector):
    """Starts a receiver on loopback and subscribes it (the server allows 127.0.0.1)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = stored(
        create_webhook_endpoint.sync(
            company,
            client=connector,
            body=WebhookEndpointInput(url=f"http://127.0.0.1:{server.server_port}/koppel"),
        ),
        WebhookEndpointWithSecret,
    )
    expect(endpoint.secret.startswith("whsec_"), f"secret {endpoint.secret!r}")
    Receiver.secret = endpoint.secret
    return endpoint


def main(base, company, vendor_id, vendor_secret, connector_id, connector_secret):
    vendor = token(base, vendor_id, vendor_secret)
    connector = token(base, connector_id, connector_secret)
    endpoint = subscribe(company, connector)

    method = stored(
        upsert_payment_method.sync(
            company,
            client=vendor,
            body=PaymentMethodInput(external_id="ideal", name="iDEAL", kind=PaymentMethodKind.IDEAL),
        ),
        PaymentMethod,
    )
    expect(method.kind == PaymentMethodKind.IDEAL, f"payment method kind {method.kind!r}")
    read = get_payment_method.sync(company, method.id, client=vendor)
    expect(read.name == "iDEAL", f"payment method read back as {read}")

    category = upsert_category.sync(
        company, client=vendor, body=CategoryInput(external_id="brood", name="Brood")
    )
    expect(get_category.sync(company, category.id, client=vendor).name == "Brood", "category")

    product = upsert_product.sync(
        company,
        client=vendor,
        body=ProductInput.from_dict(
            {"external_id": "p-1", "sku": "PAASBROOD", "name": "Paasbrood", "unit_price": "12.95"}
        ),
    )
    expect(get_product.sync(company, product.id, client=vendor).sku == "PAASBROOD", "product")
    found = list_products.sync(company, client=vendor, sku="PAASBROOD")
    expect([p.id for p in found.data] == [product.id], f"product by sku: {found}")

    customer = upsert_customer.sync(
        company,
        client=vendor,
        body=CustomerInput.from_dict(
            {"external_id": "c-1", "kind": "person", "name": "Jan Jansen", "email": "jan@example.nl"}
        ),
    )
    expect(get_customer.sync(company, customer.id, client=vendor).email == "jan@example.nl", "customer")
    found = list_customers.sync(company, client=vendor, email="jan@example.nl")
    expect([c.id for c in found.data] == [customer.id], f"customer by e-mail: {found}")

    order = upsert_order.sync(
        company,
        client=vendor,
        body=OrderInput.from_dict(
            {
                "external_id": "web-1",
                "number": "2026-0001",
                "status": "paid",
                "order_date": "2026-03-27T10:00:00+01:00",
                "currency": "EUR",
                "prices_include_vat": True,
                "customer": {"external_id": "c-1"},
                "lines": [
                    {
                        "sku": "PAASBROOD",
                        "description": "Paasbrood",
                        "quantity": "2",
                        "unit_price": "12.95",
                        "total_incl_vat": "25.90",
                        "vat": {"percentage": "9", "category": "reduced", "amount": "2.14"},
                    }
                ],
                "payments": [
                    {"method_external_id": "ideal", "amount": "25.90", "reference": "tr_1"}
                ],
            }
        ),
    )
    expect(order.status == OrderStatusInput.PAID, f"order status {order}")
    read = get_order.sync(company, order.id, client=vendor)
    expect(read.lines[0].product_id == product.id, f"order line not linked to its product: {read}")
    expect(read.customer.id == customer.id, f"order customer: {read.customer}")
    expect(read.vat_breakdown[0].category == VatCategory.REDUCED, f"breakdown {read.vat_breakdown}")
    found = list_orders.sync(company, client=vendor, number="2026-0001")
    expect([o.id for o in found.data] == [order.id], f"order by number: {found}")

    sold = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    receipt = create_receipt.sync(
        company,
        client=vendor,
        body=ReceiptInput.from_dict(
            {
                "external_id": "kassa-1-0001",
                "number": "0001",
                "created_at": sold,
                "currency": "EUR",
                "prices_include_vat": True,
                "lines": [
                    {
                        "product_code": "1001",
                        "description": "Croissant",
                        "category_id": str(category.id),
                        "quantity": "2",
                        "unit_price": "1.75",
                        "total_incl_vat": "3.50",
                        "vat": {"percentage": "9", "category": "reduced", "amount": "0.29"},
                    }
                ],
                "payments": [{"method_id": str(method.id), "amount": "3.50"}],
            }
        ),
    )
    read = get_receipt.sync(company, receipt.id, client=vendor)
    expect(read.number == "0001" and read.lines[0].description == "Croissant", f"receipt {read}")

    wanted = {
        (EventType.PAYMENT_METHOD_CREATED, method.id),
        (EventType.CATEGORY_CREATED, category.id),
        (EventType.PRODUCT_CREATED, product.id),
        (EventType.CUSTOMER_CREATED, customer.id),
        (EventType.ORDER_CREATED, order.id),
        (EventType.RECEIPT_CREATED, receipt.id),
    }
    seen, after = set(), None
    for _ in range(20):
        page = list_events.sync(company, client=connector, **({"after": after} if after else {}))
        seen |= {(e.type_, e.resource_id) for e in page.data}
        after = page.next_cursor
        if not page.data:
            break
    expect(wanted <= seen, f"the feed did not carry {wanted - seen}")

    wanted = {(t.value, str(i)) for (t, i) in wanted}
    for _ in range(100):
        delivered = {(e["type"], e["resource_id"]) for e in Receiver.verified}
        if wanted <= delivered:
            break
        time.sleep(0.1)
    expect(not Receiver.refused, f"webhooks failed verification: {Receiver.refused}")
    expect(wanted <= delivered, f"webhooks did not carry {wanted - delivered}")
    deliveries = list_webhook_deliveries.sync(company, endpoint.id, client=connector)
    expect(
        all(d.status.value == "succeeded" for d in deliveries.data) and deliveries.data,
        f"deliveries {deliveries}",
    )
    print(
        "client check: pushed and read 6 resources, followed the feed and received them as "
        f"{len(Receiver.verified)} verified webhooks, with the generated client"
    )


if __name__ == "__main__":
    main(*sys.argv[1:])
