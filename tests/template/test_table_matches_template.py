"""The table dev-server creates (on moto) has exactly the shape template.yaml declares."""

import os
from pathlib import Path

import boto3
from cfnlint.decode import decode

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


def declared_table():
    template, errors = decode(str(TEMPLATE))
    assert not errors, errors
    return template["Resources"]["WebhooksTable"]["Properties"]


def test_dev_server_table_matches_the_template():
    dynamodb = boto3.client("dynamodb", endpoint_url=os.environ["WEBHOOKS_TEST_DYNAMODB_ENDPOINT"])
    live = dynamodb.describe_table(TableName=os.environ["WEBHOOKS_DEV_SERVER_TABLE"])["Table"]
    declared = declared_table()

    def keyed(items, key):
        return sorted(items, key=lambda item: item[key])

    assert keyed(live["KeySchema"], "AttributeName") == keyed(declared["KeySchema"], "AttributeName")
    assert keyed(live["AttributeDefinitions"], "AttributeName") == keyed(
        declared["AttributeDefinitions"], "AttributeName"
    )
    assert live["BillingModeSummary"]["BillingMode"] == declared["BillingMode"]
    def indexes(table):
        return sorted(
            (
                index["IndexName"],
                keyed(index["KeySchema"], "AttributeName"),
                index["Projection"]["ProjectionType"],
                sorted(index["Projection"].get("NonKeyAttributes", [])),
            )
            for index in table.get("GlobalSecondaryIndexes", [])
        )

    assert indexes(live) == indexes(declared)
    assert indexes(declared), "the failure-streak index is declared"

    ttl = dynamodb.describe_time_to_live(TableName=os.environ["WEBHOOKS_DEV_SERVER_TABLE"])
    ttl = ttl["TimeToLiveDescription"]
    declared_ttl = declared["TimeToLiveSpecification"]
    assert declared_ttl["Enabled"] is True
    assert ttl["TimeToLiveStatus"] == "ENABLED"
    assert ttl["AttributeName"] == declared_ttl["AttributeName"] == "expires_at"
