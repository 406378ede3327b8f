"""The settings the functions read (the domain's one list, printed by `dev-server
--print-settings`) against template.yaml: every variable an Environment block sets is one the code
reads and the other way round, each parameter's default is the code's default, and the delivery
timings the template's timeouts and visibility depend on hold."""

import json
import os
import subprocess
from pathlib import Path

from cfnlint.decode import decode

ROOT = Path(__file__).resolve().parents[2]
# The AWS SDK reads these itself; the template declares them for `sam local` only.
SDK_OWN = {"AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_EVENTBRIDGE"}


def template():
    loaded, errors = decode(str(ROOT / "template.yaml"))
    assert not errors, errors
    return loaded


def printed():
    server = os.environ.get("WEBHOOKS_DEV_SERVER_BINARY", str(ROOT / "target/debug/dev-server"))
    out = subprocess.run([server, "--print-settings"], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def functions(stack):
    return {name: r for name, r in stack["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}


def environments(stack):
    """Each function's variables: the Globals' and its own."""
    shared = stack["Globals"]["Function"]["Environment"]["Variables"]
    return {
        name: {**shared, **resource["Properties"].get("Environment", {}).get("Variables", {})}
        for name, resource in functions(stack).items()
    }


def test_the_template_sets_exactly_the_variables_the_code_reads():
    read = {setting["variable"] for setting in printed()["settings"]}
    set_by_template = set()
    for variables in environments(template()).values():
        set_by_template |= set(variables)
    assert set_by_template - SDK_OWN == read


def test_a_parameter_feeds_its_variable_and_defaults_to_the_codes_default():
    stack = template()
    envs = environments(stack)
    for setting in printed()["settings"]:
        parameter = setting["parameter"]
        if parameter is None:
            continue
        declared = stack["Parameters"][parameter]
        # A variable the code requires has no default of its own: the stack chooses one.
        if setting["default"] is not None:
            assert str(declared["Default"]) == setting["default"], (parameter, declared["Default"], setting["default"])
        for function, variables in envs.items():
            if setting["variable"] in variables:
                assert variables[setting["variable"]] == {"Ref": parameter}, (function, setting["variable"])


def test_the_endpoint_limit_parameter_stops_where_the_code_does():
    limit = template()["Parameters"]["MaxEndpointsPerOrg"]
    assert (limit["MinValue"], limit["MaxValue"]) == (1, printed()["limits"]["max_endpoints_per_org"])


def test_a_lapsed_claim_outlives_the_delivery_function_and_the_queue_outlives_both():
    timings = printed()["timings"]
    stack = template()
    deliver = functions(stack)["DeliverFunction"]["Properties"]["Timeout"]
    visibility = stack["Resources"]["DeliveryQueue"]["Properties"]["VisibilityTimeout"]
    # A run that died mid-attempt is gone before its claim lapses, so a claim is never taken
    # from a live run; its redelivery comes after both.
    assert timings["longest_attempt"] < deliver < timings["claim"] < visibility, (timings, deliver, visibility)
    # Blocking dispatch answers within its budget, well inside its function's timeout.
    dispatch = functions(stack)["DispatchBlockingFunction"]["Properties"].get("Timeout", stack["Globals"]["Function"]["Timeout"])
    assert timings["blocking_budget"] < dispatch
