"""The tables in docs/ that restate the code are the code's: the routes dev-server serves, the
template's parameters and each function's environment, and dev-server's flags. A row missing,
extra or wrong fails here.

The route and flag checks run the dev-server binary: `WEBHOOKS_DEV_SERVER_BIN`, by default
target/debug/dev-server. A missing binary fails the test; it never skips."""

import json
import os
import re
import subprocess
from pathlib import Path

from cfnlint.decode import decode

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
DEV_SERVER = Path(os.environ.get("WEBHOOKS_DEV_SERVER_BIN", ROOT / "target" / "debug" / "dev-server"))


def template():
    # cfn-lint's loader reads CloudFormation's short tags (!Ref, !Sub, ...), as tests/template does.
    loaded, errors = decode(str(ROOT / "template.yaml"))
    assert not errors, errors
    return loaded


def table(document, first_header):
    """The rows of the Markdown table in `document` whose header row starts with `first_header`,
    each a dict keyed by the header's cells (lowercase). Exactly one such table must exist."""
    lines = (DOCS / document).read_text().splitlines()
    starts = [
        i
        for i, line in enumerate(lines)
        if line.startswith("|") and cells(line) and cells(line)[0].lower() == first_header
    ]
    assert len(starts) == 1, f"docs/{document}: expected one table headed {first_header!r}, found {len(starts)}"
    start = starts[0]
    header = [cell.lower() for cell in cells(lines[start])]
    assert re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", lines[start + 1].strip()), f"docs/{document}: no separator row"
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        row = cells(line)
        assert len(row) == len(header), f"docs/{document}: {line!r} has {len(row)} cells, the header {len(header)}"
        rows.append(dict(zip(header, row)))
    assert rows, f"docs/{document}: the {first_header!r} table is empty"
    return rows


def cells(line):
    """The cells of one table row; `\\|` is a pipe inside a cell."""
    inner = line.strip()
    if not (inner.startswith("|") and inner.endswith("|")):
        return []
    return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", inner[1:-1])]


def code_spans(cell):
    """The `code` spans of a cell, in order."""
    return re.findall(r"`([^`]*)`", cell)


def one_code_span(cell, what):
    spans = code_spans(cell)
    assert len(spans) == 1, f"{what}: expected one `code` value in {cell!r}"
    return spans[0]


def same_names(documented, actual, what):
    """Fails naming what the docs miss and what they list that the code has not."""
    missing = sorted(set(actual) - set(documented))
    extra = sorted(set(documented) - set(actual))
    assert not missing and not extra, f"{what}: missing {missing}, not in the code {extra}"


def run_dev_server(*arguments):
    assert DEV_SERVER.is_file(), (
        f"{DEV_SERVER} does not exist: build it (cargo build -p dev-server) or set WEBHOOKS_DEV_SERVER_BIN"
    )
    return subprocess.run([str(DEV_SERVER), *arguments], check=True, capture_output=True, text=True).stdout


def functions_by_binary(loaded):
    """Each function's binary name and its resource."""
    return {
        resource["Metadata"]["BuildProperties"]["Binary"]: resource
        for resource in loaded["Resources"].values()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def test_the_routes_table_is_the_route_table():
    served = json.loads(run_dev_server("--print-routes"))
    assert len(served) >= 10
    expected = {}
    for route in served:
        method, path = route["route"].split(" ", 1)
        expected[(method, path)] = route["function"]

    documented = {}
    for row in table("api.md", "method"):
        key = (row["method"], one_code_span(row["path"], "api.md routes"))
        assert key not in documented, f"api.md lists {key} twice"
        documented[key] = one_code_span(row["function"], f"api.md route {key}")

    same_names(documented, expected, "docs/api.md's routes against dev-server --print-routes")
    assert documented == expected, "docs/api.md names another function for a route"


def test_the_parameters_table_is_the_templates():
    parameters = template()["Parameters"]
    documented = {}
    for row in table("operations.md", "parameter"):
        name = one_code_span(row["parameter"], "operations.md parameters")
        assert name not in documented, f"operations.md lists {name} twice"
        documented[name] = one_code_span(row["default"], f"operations.md default of {name}")

    same_names(documented, parameters, "docs/operations.md's parameters against template.yaml")
    for name, declared in parameters.items():
        default = str(declared.get("Default", ""))
        shown = "" if documented[name] == '""' else documented[name]
        assert shown == default, f"docs/operations.md: {name} defaults to {default!r}, the docs say {shown!r}"


def test_the_environment_table_is_the_templates():
    loaded = template()
    functions = functions_by_binary(loaded)
    everywhere = set(loaded["Globals"]["Function"]["Environment"]["Variables"])
    expected = {}  # variable -> the binaries it is set for
    for binary, resource in functions.items():
        own = resource["Properties"].get("Environment", {}).get("Variables", {})
        for variable in everywhere | set(own):
            expected.setdefault(variable, set()).add(binary)

    documented = {}
    for row in table("operations.md", "variable"):
        variables = code_spans(row["variable"])
        assert variables, f"operations.md: no variable in {row['variable']!r}"
        if row["set for"].strip().lower() == "every function":
            set_for = set(functions)
        else:
            set_for = set(code_spans(row["set for"]))
            unknown = set_for - set(functions)
            assert not unknown, f"operations.md: {sorted(unknown)} name no function of template.yaml"
        for variable in variables:
            assert variable not in documented, f"operations.md lists {variable} twice"
            documented[variable] = set_for

    same_names(documented, expected, "docs/operations.md's environment variables against template.yaml")
    for variable, binaries in expected.items():
        assert documented[variable] == binaries, (
            f"docs/operations.md: {variable} is set for {sorted(binaries)}, the docs say {sorted(documented[variable])}"
        )


def test_the_dev_server_flags_table_is_its_help():
    helped = {}  # flag -> its environment variable, or None
    flag = None
    for line in run_dev_server("--help").splitlines():
        option = re.match(r"\s+(?:-\w, )?--([a-z0-9-]+)", line)
        if option:
            flag = option.group(1)
            helped[flag] = None
        variable = re.search(r"\[env: (\w+)=", line)
        if variable and flag:
            helped[flag] = variable.group(1)
    helped.pop("help", None)
    assert len(helped) >= 5, helped

    documented = {}
    for row in table("development.md", "flag"):
        name = one_code_span(row["flag"], "development.md flags").split()[0].removeprefix("--")
        assert name not in documented, f"development.md lists --{name} twice"
        spans = code_spans(row["env"])
        documented[name] = spans[0] if spans else None

    same_names(documented, helped, "docs/development.md's flags against dev-server --help")
    assert documented == helped, "docs/development.md names another environment variable for a flag"
