"""The committed OpenAPI document against the official client's models: the same fields, the
same enums. The document is read as dev-server serves it, and from the repository."""

import enum
import json
import os
import pathlib

import attrs
import httpx

from thunderphone.generated.models import (
    developer_webhook_delivery,
    developer_webhook_deliveries_list_status,
    developer_webhook_delivery_source_enum,
    developer_webhook_delivery_status_enum,
    developer_webhook_endpoint,
    developer_webhook_endpoint_create_update_request,
    developer_webhook_endpoint_create_update_status_enum,
    developer_webhook_endpoints_test_body,
    developer_webhook_test_delivery,
    event_type_enum,
    events_enum,
    failure_category_enum,
    organization_webhook,
    organization_webhook_request,
    patched_developer_webhook_endpoint_create_update_request,
    patched_organization_webhook_request,
    status_51e_enum,
    webhook_created,
    webhook_delivery_list_response,
)

BASE_URL = os.environ["WEBHOOKS_BASE_URL"]
DOCUMENT = pathlib.Path(__file__).parents[2] / "shared" / "api" / "openapi.json"

# Our schema name -> the client's model of the same object.
MODELS = {
    "DeveloperWebhookEndpoint": developer_webhook_endpoint.DeveloperWebhookEndpoint,
    "WebhookCreated": webhook_created.WebhookCreated,
    "DeveloperWebhookEndpointCreateUpdateRequest": developer_webhook_endpoint_create_update_request.DeveloperWebhookEndpointCreateUpdateRequest,
    "PatchedDeveloperWebhookEndpointCreateUpdateRequest": patched_developer_webhook_endpoint_create_update_request.PatchedDeveloperWebhookEndpointCreateUpdateRequest,
    "DeveloperWebhookEndpointsTestBody": developer_webhook_endpoints_test_body.DeveloperWebhookEndpointsTestBody,
    "DeveloperWebhookTestDelivery": developer_webhook_test_delivery.DeveloperWebhookTestDelivery,
    "DeveloperWebhookDelivery": developer_webhook_delivery.DeveloperWebhookDelivery,
    "WebhookDeliveryListResponse": webhook_delivery_list_response.WebhookDeliveryListResponse,
    "OrganizationWebhook": organization_webhook.OrganizationWebhook,
    "OrganizationWebhookRequest": organization_webhook_request.OrganizationWebhookRequest,
    "PatchedOrganizationWebhookRequest": patched_organization_webhook_request.PatchedOrganizationWebhookRequest,
}

# Fields this service's log records carry beyond the client's model, on purpose: the event id
# (the `webhook-id` receivers see), when it happened, its agent, and whether it was a test.
ADDED_FIELDS = {
    "DeveloperWebhookDelivery": {"event_id", "occurred_at", "agent_id", "test"},
    "DeveloperWebhookEndpoint": {"headers", "rate_limit", "role_arn"},
    "WebhookCreated": {"headers", "rate_limit", "role_arn"},
    "DeveloperWebhookEndpointCreateUpdateRequest": {"headers", "rate_limit", "role_arn"},
    "PatchedDeveloperWebhookEndpointCreateUpdateRequest": {"headers", "rate_limit", "role_arn"},
}

ENUMS = {
    "EventsEnum": events_enum.EventsEnum,
    "EndpointStatus": status_51e_enum.Status51EEnum,
    "EndpointCreateUpdateStatusEnum": developer_webhook_endpoint_create_update_status_enum.DeveloperWebhookEndpointCreateUpdateStatusEnum,
    "FailureCategoryEnum": failure_category_enum.FailureCategoryEnum,
    "DeliveryStatusEnum": developer_webhook_delivery_status_enum.DeveloperWebhookDeliveryStatusEnum,
    "DeliverySourceEnum": developer_webhook_delivery_source_enum.DeveloperWebhookDeliverySourceEnum,
}


# Values this service adds to the client's enums, on purpose: failures only an SQS or EventBridge
# endpoint can have, and only with a role_arn, a field the client's models do not have.
ADDED_VALUES = {"FailureCategoryEnum": {"aws_access", "aws_role"}}


def document():
    served = httpx.get(f"{BASE_URL}/openapi.json")
    assert served.status_code == 200
    assert served.headers["content-type"] == "application/json"
    committed = json.loads(DOCUMENT.read_text())
    assert served.json() == committed
    return committed


def model_fields(model):
    return {f.name for f in attrs.fields(model) if f.name != "additional_properties"}


def required_fields(model):
    return {f.name for f in attrs.fields(model) if f.default is attrs.NOTHING}


def values(enum_class: type[enum.Enum]):
    return sorted(member.value for member in enum_class)


def test_every_schema_has_the_clients_fields():
    schemas = document()["components"]["schemas"]
    for name, model in MODELS.items():
        ours = set(schemas[name]["properties"])
        added = ADDED_FIELDS.get(name, set())
        assert ours == model_fields(model) | added, name
        assert required_fields(model) <= set(schemas[name]["required"]), name


def test_every_enum_has_the_clients_values():
    schemas = document()["components"]["schemas"]
    for name, enum_class in ENUMS.items():
        added = ADDED_VALUES.get(name, set())
        assert sorted(schemas[name]["enum"]) == sorted(values(enum_class) + list(added)), name
    assert schemas["EventsEnum"]["enum"] == [member.value for member in events_enum.EventsEnum]
    # The test route takes the catalogue and the client's documented default, webhook.test.
    test_types = schemas["TestEventTypeEnum"]["enum"]
    assert sorted(test_types) == sorted(values(event_type_enum.EventTypeEnum) + ["webhook.test"])
    assert values(developer_webhook_deliveries_list_status.DeveloperWebhookDeliveriesListStatus) == sorted(
        schemas["DeliveryStatusEnum"]["enum"]
    )


def test_every_operation_needs_a_key_and_documents_its_errors():
    doc = document()
    assert doc["security"] == [{"ApiKey": []}]
    public = set()
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            responses = operation["responses"]
            if operation.get("security") == []:
                public.add((method, path))
                continue
            assert {"401", "403", "default"} <= set(responses), (method, path)
            if "{endpoint_id}" in path:
                assert "404" in responses, (method, path)
            if "requestBody" in operation:
                assert {"400", "413"} <= set(responses), (method, path)
    # Only the portal's page and files: their data comes from the API with a session token.
    assert public == {("get", "/portal"), ("get", "/portal/{asset}")}


def test_the_committed_document_is_what_the_script_writes():
    import importlib.util

    script = pathlib.Path(__file__).parents[2] / "scripts" / "openapi.py"
    spec = importlib.util.spec_from_file_location("openapi_script", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.text() == DOCUMENT.read_text(), "run python3 scripts/openapi.py"
