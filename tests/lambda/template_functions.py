"""The functions `template.yaml` declares: each one's binary, and the environment the template
gives it, as `sam local --env-vars events/env-vars.json` would. Shared by the Lambda harness
(`test_functions_as_lambda.py`) and `scripts/cold-start`."""

import json
import pathlib

from cfnlint.decode import decode_str

ROOT = pathlib.Path(__file__).parents[2]
TEMPLATE, _ = decode_str((ROOT / "template.yaml").read_text())
RESOURCES = TEMPLATE["Resources"]
FUNCTIONS = sorted(name for name, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function")

# The committed --env-vars file for `sam local`, and the local server its values name.
ENV_VARS = json.loads((ROOT / "events" / "env-vars.json").read_text())["Parameters"]
ENV_VARS_SERVER = "http://host.docker.internal:5000"


def resolve(name, value):
    """A value the env-vars file does not set: a literal, or a Ref to a parameter's default."""
    if isinstance(value, (str, int)):
        return str(value)
    ref = value.get("Ref")
    parameter = TEMPLATE["Parameters"].get(ref) if ref else None
    assert parameter is not None, f"events/env-vars.json sets no {name}, and the template's {value} has no local value"
    return str(parameter.get("Default", ""))


def environment(logical_id, server):
    """The template's variables for `logical_id`, with the env-vars file's values, their local
    server replaced by `server`: a variable the file misses fails here as it would in sam local."""
    variables = dict(TEMPLATE["Globals"]["Function"]["Environment"]["Variables"])
    variables.update(RESOURCES[logical_id]["Properties"].get("Environment", {}).get("Variables", {}))
    return {
        name: ENV_VARS[name].replace(ENV_VARS_SERVER, server) if name in ENV_VARS else resolve(name, value)
        for name, value in variables.items()
    }


def queue_name(variable):
    """The queue the env-vars file's `variable` (a queue URL) names."""
    return ENV_VARS[variable].rsplit("/", 1)[-1]


def binary_of(logical_id):
    return RESOURCES[logical_id]["Metadata"]["BuildProperties"]["Binary"]
