"""Modules depend one way (docs/development.md, layout): within each crate, no ring of modules
reaches each other through `crate::` or `super::` paths. A module's own ancestors (the crate
root, a `mod.rs`) are its facade, not a layer, and are left out; so are test modules."""

import os
import re
from pathlib import Path

ROOT = Path(os.environ.get("WEBHOOKS_LAYOUT_ROOT", Path(__file__).resolve().parents[2]))

PATH = re.compile(r"\b(crate|super)::((?:\w+::)*\w+|\{)")
TEST_MODULE = re.compile(r"#\[cfg\(test\)\]\s*mod \w+")


def modules(src):
    """Each module of the crate whose sources are in `src`, as a path tuple, and its file."""
    found = {}
    for file in src.rglob("*.rs"):
        parts = list(file.relative_to(src).with_suffix("").parts)
        if parts[0] == "bin":
            continue
        if parts[-1] in ("lib", "main", "mod"):
            parts.pop()
        found[tuple(parts)] = file
    return found


def referenced(text, module):
    """The module paths a file names after `crate::` or `super::` (from `module`), grouped
    imports opened up."""
    paths = []
    for match in PATH.finditer(text):
        base = () if match.group(1) == "crate" else module[:-1]
        if match.group(2) != "{":
            paths.append(base + tuple(match.group(2).split("::")))
            continue
        depth, start = 1, match.end()
        end = start
        while depth and end < len(text):
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            end += 1
        for item in re.split(r",(?![^{]*\})", text[start : end - 1]):
            head = item.strip().split("::")[0].strip()
            if head.isidentifier():
                paths.append(base + (head,))
    return paths


def edges(found):
    graph = {module: set() for module in found}
    for module, file in found.items():
        # Test modules may reach anywhere.
        text = TEST_MODULE.split(file.read_text())[0]
        for path in referenced(text, module):
            target = max(
                (candidate for candidate in found if path[: len(candidate)] == candidate),
                key=len,
                default=(),
            )
            if target and target != module and module[: len(target)] != target:
                graph[module].add(target)
    return graph


def rings(graph):
    """Strongly connected groups of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in graph[node]:
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted("::".join(m) for m in group))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def crates():
    for manifest in ROOT.rglob("Cargo.toml"):
        src = manifest.parent / "src"
        if src.is_dir() and "target" not in manifest.parts and ".venv" not in manifest.parts:
            yield manifest.parent.relative_to(ROOT), src


def test_no_module_ring_in_any_crate():
    checked = list(crates())
    assert len(checked) >= 10, checked
    found = {str(name): rings(edges(modules(src))) for name, src in checked}
    assert {name: r for name, r in found.items() if r} == {}


def test_a_ring_is_found(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "lib.rs").write_text("mod a;\nmod b;\nmod c;\npub use a::A;\n")
    (src / "a.rs").write_text("use crate::b::B;\npub struct A;\n")
    (src / "b.rs").write_text("use crate::{c::C, Result};\npub struct B;\n")
    (src / "c.rs").write_text("pub struct C(crate::a::A);\nuse crate::Result;\n")
    assert rings(edges(modules(src))) == [["a", "b", "c"]]
    (src / "c.rs").write_text("pub struct C(super::a::A);\n#[cfg(test)]\nmod tests {}\n")
    assert rings(edges(modules(src))) == [["a", "b", "c"]]
    (src / "c.rs").write_text("pub struct C;\n#[cfg(test)]\nmod tests { use crate::a::A; }\n")
    assert rings(edges(modules(src))) == []
    (src / "c.rs").write_text("pub struct C;\nuse crate::Result;\n")
    assert rings(edges(modules(src))) == []
