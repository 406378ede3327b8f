"""The product's official typed client (PyPI `thunderphone` 0.2.0), unchanged, against dev-server.

scripts/test starts dev-server with the keys below and sets WEBHOOKS_BASE_URL.
"""

import os
import uuid

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
