"""The routes dev-server serves (the API crate's one route table) are exactly the HTTP API routes
template.yaml declares, each deployed by the function binary the table names."""

import json
import os
import subprocess
from pathlib import Path

from cfnlint.decode import decode

ROOT = Path(__file__).resolve().parents[2]


def declared_routes():
    template, errors = decode(str(ROOT / "template.yaml"))
    assert not errors, errors
    routes = set()
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        binary = resource["Metadata"]["BuildProperties"]["Binary"]
        for event in resource["Properties"].get("Events", {}).values():
            if event["Type"] == "HttpApi":
                props = event["Properties"]
                routes.add((f'{props["Method"]} {props["Path"]}', binary))
    return routes


def served_routes():
    server = os.environ.get("WEBHOOKS_DEV_SERVER_BINARY", str(ROOT / "target/debug/dev-server"))
    printed = subprocess.run([server, "--print-routes"], check=True, capture_output=True, text=True)
    return {(route["route"], route["function"]) for route in json.loads(printed.stdout)}


def test_the_route_table_is_the_templates():
    served = served_routes()
    assert len(served) >= 10
    assert served == declared_routes()
