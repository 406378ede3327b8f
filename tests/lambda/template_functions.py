"""The functions `template.yaml` declares: each one's binary, and the environment the template
gives it, with Refs resolved to names the caller chooses. Shared by the Lambda harness
(`test_functions_as_lambda.py`) and `scripts/cold-start`."""

import pathlib

from cfnlint.decode import decode_str

ROOT = pathlib.Path(__file__).parents[2]
TEMPLATE, _ = decode_str((ROOT / "template.yaml").read_text())
RESOURCES = TEMPLATE["Resources"]
FUNCTIONS = sorted(name for name, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function")


def resolve(value, stack):
    """A template value with the stack's names: Refs to resources, parameters' defaults."""
    if isinstance(value, (str, int)):
        return str(value)
    if "Ref" in value:
        name = value["Ref"]
        if name in stack:
            return stack[name]
        parameter = TEMPLATE["Parameters"].get(name)
        assert parameter is not None, f"nothing to give for Ref {name}"
        return str(parameter.get("Default", ""))
    if "Fn::Sub" in value and "resolve:secretsmanager" in str(value["Fn::Sub"]):
        return stack["secret"]
    raise AssertionError(f"cannot resolve {value}")


def environment(logical_id, stack):
    variables = dict(TEMPLATE["Globals"]["Function"]["Environment"]["Variables"])
    variables.update(RESOURCES[logical_id]["Properties"].get("Environment", {}).get("Variables", {}))
    return {name: resolve(value, stack) for name, value in variables.items()}


def binary_of(logical_id):
    return RESOURCES[logical_id]["Metadata"]["BuildProperties"]["Binary"]
