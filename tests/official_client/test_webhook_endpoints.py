"""The product's official typed client (PyPI `thunderphone` 0.2.0), unchanged, against dev-server.

scripts/test starts dev-server with the keys below and sets WEBHOOKS_BASE_URL.
"""

import os
import uuid
import httpx

from thunderphone.generated.api.developer import (
    developer_webhook_endpoints_create as create,
    developer_webhook_endpoints_delete as delete,
    developer_webhook_endpoints_list as list_endpoints,
    developer_webhook_endpoints_partial_update as partial_update,
)
from thunderphone.generated.client import AuthenticatedClient
from thunderphone.generated.models.developer_webhook_endpoint_create_update_request import (
    DeveloperWebhookEndpointCreateUpdateRequest,
)
from thunderphone.generated.models.developer_webhook_endpoint_create_update_status_enum import (
    DeveloperWebhookEndpointCreateUpdateStatusEnum,
)
from thunderphone.generated.models.events_enum import EventsEnum
from thunderphone.generated.models.patched_developer_webhook_endpoint_create_update_request import (
    PatchedDeveloperWebhookEndpointCreateUpdateRequest,
)
from thunderphone.generated.types import UNSET

BASE_URL = os.environ["WEBHOOKS_BASE_URL"]


def client(token="sk_test_admin"):
    return AuthenticatedClient(base_url=BASE_URL, token=token, raise_on_unexpected_status=True)


def test_create_list_update_delete():
    admin = client()
    created = create.sync(
        client=admin,
        body=DeveloperWebhookEndpointCreateUpdateRequest(
            label="Official client",
            url="https://hooks.example.com/official",
            events=[EventsEnum.CALL_GRADED, EventsEnum.TELEPHONY_COMPLETE],
            agent_id=31,
        ),
    )
    assert created.label == "Official client"
    assert created.secret.startswith("whsec_") and len(created.secret) == 38
    assert created.secret_hint == "whsec_…" + created.secret[-6:]
    assert created.events == ["call.graded", "telephony.complete"]
    assert created.status.value == "active"
    assert created.agent_id == 31 and created.agent_name is None
    assert created.created_at == created.updated_at
    assert created.additional_properties == {}

    listed = list_endpoints.sync(client=admin)
    mine = [e for e in listed if e.id == created.id]
    assert len(mine) == 1
    assert "secret" not in mine[0].additional_properties
    assert mine[0].secret_hint == created.secret_hint

    # The client sends "status": "active" unless told otherwise; UNSET leaves the status alone.
    paused = partial_update.sync(
        created.id,
        client=admin,
        body=PatchedDeveloperWebhookEndpointCreateUpdateRequest(
            status=DeveloperWebhookEndpointCreateUpdateStatusEnum.DISABLED, agent_id=None
        ),
    )
    assert paused.status.value == "disabled"
    assert paused.agent_id is None
    renamed = partial_update.sync(
        created.id,
        client=admin,
        body=PatchedDeveloperWebhookEndpointCreateUpdateRequest(label="Renamed", status=UNSET),
    )
    assert renamed.label == "Renamed" and renamed.status.value == "disabled"
    assert renamed.created_at == created.created_at
    assert renamed.updated_at > created.updated_at
    # Without a body the client sends no body at all: that is {}, a change of nothing.
    untouched = partial_update.sync_detailed(created.id, client=admin)
    assert untouched.status_code == 200 and untouched.parsed.updated_at == renamed.updated_at

    response = delete.sync_detailed(created.id, client=admin)
    assert response.status_code == 204
    assert all(e.id != created.id for e in list_endpoints.sync(client=admin))


def test_the_clients_default_create_is_accepted():
    created = create.sync(
        client=client(),
        body=DeveloperWebhookEndpointCreateUpdateRequest(label="Defaults", url="http://localhost:4000/hook"),
    )
    assert created.events == [] and created.status.value == "active"
    delete.sync_detailed(created.id, client=client())


def test_errors_reach_the_client_as_statuses():
    admin = AuthenticatedClient(base_url=BASE_URL, token="sk_test_admin")
    failing = create.sync_detailed(
        client=admin,
        body=DeveloperWebhookEndpointCreateUpdateRequest(
            label="x",
            url="https://example.com",
            status=DeveloperWebhookEndpointCreateUpdateStatusEnum.FAILING,
        ),
    )
    assert failing.status_code == 400
    assert b"status" in failing.content

    member = AuthenticatedClient(base_url=BASE_URL, token="sk_test_member")
    assert list_endpoints.sync_detailed(client=member).status_code == 403
    stranger = AuthenticatedClient(base_url=BASE_URL, token="sk_wrong")
    assert list_endpoints.sync_detailed(client=stranger).status_code == 401
    assert delete.sync_detailed(uuid.uuid4(), client=admin).status_code == 404


def test_the_legacy_webhook_routes():
    from thunderphone.generated.api.webhook import webhook_bulk_update, webhook_list, webhook_update
    from thunderphone.generated.models.organization_webhook_request import OrganizationWebhookRequest
    from thunderphone.generated.models.patched_organization_webhook_request import (
        PatchedOrganizationWebhookRequest,
    )

    admin = client()
    created = webhook_update.sync(client=admin, body=OrganizationWebhookRequest(url="https://legacy.example.com/a"))
    assert created.url == "https://legacy.example.com/a" and created.secret.startswith("whsec_")
    patched = webhook_bulk_update.sync(
        client=admin, body=PatchedOrganizationWebhookRequest(url="https://legacy.example.com/b")
    )
    assert patched.url == "https://legacy.example.com/b" and patched.secret == created.secret
    read = webhook_list.sync(client=admin)
    assert read.url == patched.url and read.secret == created.secret and read.created_at == created.created_at
    untouched = webhook_bulk_update.sync_detailed(client=admin)
    assert untouched.status_code == 200 and untouched.parsed.url == patched.url


class Receiver:
    """A webhook receiver on a loopback port: answers the given statuses in turn (then 200)."""

    def __init__(self, statuses=()):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.requests = []
        pending = list(statuses)
        received = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                received.append((self.headers, body))
                self.send_response(pending.pop(0) if pending else 200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"

    def wait_for(self, count):
        import time

        deadline = time.monotonic() + 10
        while len(self.requests) < count:
            assert time.monotonic() < deadline, f"expected {count} requests, got {len(self.requests)}"
            time.sleep(0.05)


def hex_hmac(secret, body):
    import hashlib
    import hmac

    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_test_deliveries_and_the_delivery_log():
    import datetime
    import json

    from thunderphone.generated.api.developer import developer_webhook_deliveries_list as deliveries
    from thunderphone.generated.api.webhook import webhook_update
    from thunderphone.generated.api.webhooks import developer_webhook_endpoints_test as send_test
    from thunderphone.generated.models.developer_webhook_deliveries_list_status import (
        DeveloperWebhookDeliveriesListStatus,
    )
    from thunderphone.generated.models.developer_webhook_delivery_source_enum import (
        DeveloperWebhookDeliverySourceEnum,
    )
    from thunderphone.generated.models.developer_webhook_endpoints_test_body import (
        DeveloperWebhookEndpointsTestBody,
    )
    from thunderphone.generated.models.event_type_enum import EventTypeEnum
    from thunderphone.generated.models.organization_webhook_request import OrganizationWebhookRequest

    admin = client()
    started = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=1)
    endpoint_receiver = Receiver([200, 500])
    created = create.sync(
        client=admin,
        body=DeveloperWebhookEndpointCreateUpdateRequest(label="Tested", url=endpoint_receiver.url),
    )

    delivered = send_test.sync(
        created.id, client=admin, body=DeveloperWebhookEndpointsTestBody(event_type=EventTypeEnum.CALL_GRADED)
    )
    assert (delivered.success, delivered.status, delivered.response_code, delivered.error) == (
        True,
        "delivered",
        200,
        "",
    )
    assert delivered.event_type == "call.graded"
    headers, body = endpoint_receiver.requests[0]
    assert headers["X-ThunderPhone-Signature"] == hex_hmac(created.secret, body)
    # The official client's own verifier accepts the delivery, and nothing altered.
    from thunderphone.webhooks import verify_signature

    v2 = headers["X-ThunderPhone-Signature-V2"]
    assert verify_signature(v2, secret=created.secret, method="POST", path="/hook", body=body)
    assert not verify_signature(v2, secret=created.secret, method="POST", path="/other", body=body)
    assert not verify_signature(v2, secret=created.secret, method="POST", path="/hook", body=body + b" ")
    sent = json.loads(body)
    assert sent["type"] == "call.graded" and sent["data"]["test"] is True

    failed = send_test.sync(created.id, client=admin)
    assert (failed.success, failed.status, failed.response_code) == (False, "failed", 500)
    assert failed.event_type == "webhook.test" and failed.error

    legacy_receiver = Receiver()
    webhook_update.sync(client=admin, body=OrganizationWebhookRequest(url=legacy_receiver.url))
    published = httpx.post(
        f"{BASE_URL}/_dev/events",
        headers={"authorization": "Bearer sk_test_admin"},
        json={"type": "telephony.complete", "data": {"call_id": 99}},
    )
    assert published.status_code == 202
    endpoint_receiver.wait_for(3)
    legacy_receiver.wait_for(1)
    assert json.loads(legacy_receiver.requests[0][1])["type"] == "call.complete"

    # Every record since the test began, one per page, following the cursors.
    records, cursor = [], UNSET
    for _ in range(20):
        page = deliveries.sync(client=admin, since=started, limit=1, cursor=cursor)
        assert page.limit == 1 and len(page.results) == 1
        records.extend(page.results)
        if not page.has_more:
            assert page.next_cursor is None
            break
        cursor = page.next_cursor
    mine = [r for r in records if r.endpoint_id == str(created.id) or r.source.value == "legacy"]
    assert len(mine) == 4, records
    legacy = [r for r in mine if r.source == DeveloperWebhookDeliverySourceEnum.LEGACY]
    assert len(legacy) == 1
    assert (legacy[0].event_type, legacy[0].call_id, legacy[0].url) == ("telephony.complete", 99, legacy_receiver.url)
    assert all(r.last_attempt_at >= started for r in mine)

    # The failed test waits a minute for its one retry.
    retrying = deliveries.sync(
        client=admin, endpoint_id=str(created.id), status=DeveloperWebhookDeliveriesListStatus.RETRYING
    )
    assert [(r.http_status, r.attempt_count, r.endpoint_label) for r in retrying.results] == [(500, 1, "Tested")]
    assert retrying.results[0].event_type == "webhook.test" and retrying.results[0].next_retry_at is not None
    assert not retrying.has_more and retrying.next_cursor is None and retrying.limit == 50

    # Refusals are statuses; this client does not raise on them.
    lenient = AuthenticatedClient(base_url=BASE_URL, token="sk_test_admin")
    first = deliveries.sync(client=admin, limit=1)
    tampered = first.next_cursor[:-2] + ("AA" if not first.next_cursor.endswith("AA") else "BB")
    assert deliveries.sync_detailed(client=lenient, limit=1, cursor=tampered).status_code == 400
    other_filters = deliveries.sync_detailed(
        client=lenient, limit=1, event_type="call.graded", cursor=first.next_cursor
    )
    assert other_filters.status_code == 400
    assert deliveries.sync_detailed(client=lenient, limit=201).status_code == 400
    assert send_test.sync_detailed(uuid.uuid4(), client=lenient).status_code == 404
    delete.sync_detailed(created.id, client=admin)


def test_every_type_of_the_clients_catalogue_is_accepted():
    from thunderphone.generated.models.event_type_enum import EventTypeEnum

    admin = client()
    created = create.sync(
        client=admin,
        body=DeveloperWebhookEndpointCreateUpdateRequest(
            label="Whole catalogue",
            url="https://hooks.example.com/catalogue",
            events=list(EventsEnum),
        ),
    )
    assert created.events == [e.value for e in EventsEnum]
    assert len(created.events) == 19
    assert {e.value for e in EventTypeEnum} == set(created.events)

    # The catalogue route (no client model): admin+, in the client's enum order.
    catalogue = admin.get_httpx_client().get("/v1/developer/webhook-event-types")
    assert catalogue.status_code == 200
    assert [t["type"] for t in catalogue.json()] == [e.value for e in EventsEnum]
    member = client("sk_test_member").get_httpx_client().get("/v1/developer/webhook-event-types")
    assert member.status_code == 403 and member.json()["detail"]
    delete.sync_detailed(created.id, client=admin)


def publish(event_type, data):
    published = httpx.post(
        f"{BASE_URL}/_dev/events",
        headers={"authorization": "Bearer sk_test_admin"},
        json={"type": event_type, "data": data},
    )
    assert published.status_code == 202, published.text


def verifiers(headers, body, path="/hook"):
    """Which secrets pass the official client's verifier and the Standard Webhooks library."""
    from standardwebhooks.webhooks import Webhook
    from thunderphone.webhooks import verify_signature

    v2 = headers["X-ThunderPhone-Signature-V2"]
    standard = {k.lower(): v for k, v in headers.items()}

    def official(secret):
        return verify_signature(v2, secret=secret, method="POST", path=path, body=body)

    def standard_webhooks(secret):
        try:
            Webhook(secret).verify(body, standard)
            return True
        except Exception:
            return False

    return official, standard_webhooks


def test_rotating_a_secret_signs_with_both_until_the_grace_period_ends():
    admin = client()
    http = admin.get_httpx_client()
    receiver = Receiver()
    created = create.sync(
        client=admin,
        body=DeveloperWebhookEndpointCreateUpdateRequest(
            label="Rotated", url=receiver.url, events=[EventsEnum.SMS_RECEIVED]
        ),
    )
    old = created.secret

    rotated = http.post(
        f"/v1/developer/webhook-endpoints/{created.id}/rotate-secret",
        json={"expire_previous_after_hours": 1},
    )
    assert rotated.status_code == 200, rotated.text
    answer = rotated.json()
    new = answer["secret"]
    assert new.startswith("whsec_") and new != old
    assert answer["secret_hint"] == "whsec_…" + new[-6:]
    assert answer["id"] == str(created.id) and answer["label"] == "Rotated"
    assert answer["updated_at"] >= answer["created_at"]
    # Shown once: the list has the hint only.
    listed = [e for e in list_endpoints.sync(client=admin) if e.id == created.id][0]
    assert "secret" not in listed.additional_properties and listed.secret_hint == answer["secret_hint"]

    publish("sms.received", {"message_id": 1})
    receiver.wait_for(1)
    headers, body = receiver.requests[0]
    official, standard_webhooks = verifiers(headers, body)
    assert official(old) and official(new) and official([old, new])
    assert standard_webhooks(old) and standard_webhooks(new)
    assert headers["X-ThunderPhone-Signature"] == hex_hmac(new, body)
    assert headers["X-ThunderPhone-Signature-V2"].count("v1=") == 2
    assert len(headers["webhook-signature"].split(" ")) == 2

    # Rotating again with no grace: only the newest signs; neither earlier secret passes.
    again = http.post(
        f"/v1/developer/webhook-endpoints/{created.id}/rotate-secret",
        json={"expire_previous_after_hours": 0},
    )
    newest = again.json()["secret"]
    publish("sms.received", {"message_id": 2})
    receiver.wait_for(2)
    headers, body = receiver.requests[1]
    official, standard_webhooks = verifiers(headers, body)
    assert official(newest) and standard_webhooks(newest)
    assert not official(old) and not official(new) and not official([old, new])
    assert not standard_webhooks(old) and not standard_webhooks(new)

    # Bad grace periods and unknown endpoints are refused with a detail.
    for bad in [{"expire_previous_after_hours": 169}, {"expire_previous_after_hours": -1}, {"hours": 1}]:
        refused = http.post(f"/v1/developer/webhook-endpoints/{created.id}/rotate-secret", json=bad)
        assert refused.status_code == 400 and refused.json()["detail"], bad
    missing = http.post(f"/v1/developer/webhook-endpoints/{uuid.uuid4()}/rotate-secret")
    assert missing.status_code == 404 and missing.json()["detail"]
    member = client("sk_test_member").get_httpx_client()
    assert member.post(f"/v1/developer/webhook-endpoints/{created.id}/rotate-secret").status_code == 403
    delete.sync_detailed(created.id, client=admin)


def test_rotating_the_legacy_secret():
    from thunderphone.generated.api.webhook import webhook_list, webhook_update
    from thunderphone.generated.models.organization_webhook_request import OrganizationWebhookRequest

    admin = client()
    http = admin.get_httpx_client()
    receiver = Receiver()
    old = webhook_update.sync(client=admin, body=OrganizationWebhookRequest(url=receiver.url)).secret
    rotated = http.post("/v1/webhook/rotate-secret")
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    assert new != old and rotated.json()["url"] == receiver.url
    assert webhook_list.sync(client=admin).secret == new

    publish("call.graded", {"call_id": 5})
    receiver.wait_for(1)
    headers, body = receiver.requests[0]
    official, standard_webhooks = verifiers(headers, body)
    assert official(old) and official(new) and standard_webhooks(old) and standard_webhooks(new)
    assert headers["X-ThunderPhone-Signature"] == hex_hmac(new, body)


def test_a_resent_delivery_is_the_same_message_and_verifies_with_both_libraries():
    import time

    admin = client()
    receiver = Receiver()
    created = create.sync(
        client=admin,
        body=DeveloperWebhookEndpointCreateUpdateRequest(
            label="Resent", url=receiver.url, events=[EventsEnum.CALL_GRADED]
        ),
    )
    http = admin.get_httpx_client()
    published = http.post("/_dev/events", json={"type": "call.graded", "data": {"call_id": 77}})
    assert published.status_code == 202, published.text
    event_id = published.json()["event_id"]
    receiver.wait_for(1)
    one = f"/v1/developer/webhook-deliveries/{event_id}?endpoint_id={created.id}"
    deadline = time.monotonic() + 10
    while (shown := http.get(one).json()).get("status") != "delivered":
        assert time.monotonic() < deadline, shown
        time.sleep(0.05)
    assert shown["payload"] == {"data": {"call_id": 77}, "type": "call.graded"}
    assert [a["http_status"] for a in shown["attempts"]] == [200]

    resent = http.post(f"/v1/developer/webhook-deliveries/{event_id}/resend", json={"endpoint_id": str(created.id)})
    assert resent.status_code == 202 and resent.json() == {"queued": 1}, resent.text
    receiver.wait_for(2)
    (first_headers, first_body), (headers, body) = receiver.requests[:2]
    assert body == first_body == json_bytes(shown["payload"])
    assert headers["webhook-id"] == first_headers["webhook-id"], "receivers deduplicate on it"
    official, standard_webhooks = verifiers(headers, body)
    assert official(created.secret) and standard_webhooks(created.secret)
    assert not official("whsec_" + "A" * 43)
    while http.get(one).json()["attempt_count"] != 2:
        assert time.monotonic() < deadline + 10
        time.sleep(0.05)
    delete.sync_detailed(created.id, client=admin)


def json_bytes(value):
    import json

    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()
