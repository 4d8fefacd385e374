"""The purity line: the wire core, the operations and ``bridge.names`` import no I/O and read
no clock or rng.

Modules are discovered, not listed: a new module under ``bridge.wire`` or ``bridge.ops``
is covered the moment it exists. Time and randomness are parameters there.
"""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import bridge.ops
import bridge.wire
from bridge import names

FORBIDDEN_IMPORTS = (
    "psycopg",
    "psycopg_pool",
    "asyncio",
    "socket",
    "jsonschema",
)
#: modules a pure module may not import itself (the stdlib may load them transitively)
FORBIDDEN_DIRECT = {"random", "secrets", "threading", "time", "uuid"}
#: attribute calls that read the clock or draw randomness
FORBIDDEN_CALLS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "time_ns"),
    ("time", "monotonic"),
    ("time", "perf_counter"),
    ("uuid", "uuid1"),
    ("uuid", "uuid4"),
    ("os", "urandom"),
}
FORBIDDEN_NAMES = {"uuid4", "uuid1", "urandom", "random", "randrange", "monotonic"}


def _discover() -> list[tuple[str, Path]]:
    found: list[tuple[str, Path]] = [("bridge.names", Path(names.__file__ or ""))]
    for package in (bridge.wire, bridge.ops):
        found.append((package.__name__, Path(package.__file__ or "")))
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            spec = info.module_finder.find_spec(info.name, None)  # type: ignore[call-arg]
            assert spec is not None and spec.origin is not None
            found.append((info.name, Path(spec.origin)))
    return found


MODULES = _discover()


def test_discovery_finds_the_new_pure_modules() -> None:
    names = {name for name, _ in MODULES}
    assert {"bridge.wire.outcome", "bridge.wire.backoff", "bridge.ops.acks"} <= names


@pytest.mark.parametrize("module", [name for name, _ in MODULES])
def test_module_imports_no_io(module: str) -> None:
    code = (
        f"import sys, {module}; "
        f"print(','.join(m for m in {FORBIDDEN_IMPORTS!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"{module} pulls in {out.stdout.strip()}"


def _violations(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if (node.value.id, node.attr) in FORBIDDEN_CALLS:
                found.append(f"line {node.lineno}: {node.value.id}.{node.attr}")
        elif isinstance(node, ast.Attribute) and (node.attr in ("now", "utcnow", "today")):
            found.append(f"line {node.lineno}: .{node.attr}")
        elif isinstance(node, ast.Import) and any(
            alias.name in FORBIDDEN_DIRECT for alias in node.names
        ):
            found.append(f"line {node.lineno}: import {node.names[0].name}")
        elif isinstance(node, ast.ImportFrom) and any(
            alias.name in FORBIDDEN_NAMES for alias in node.names
        ):
            found.append(f"line {node.lineno}: from {node.module} import …")
    return found


@pytest.mark.parametrize(("module", "path"), MODULES, ids=[name for name, _ in MODULES])
def test_module_reads_no_clock_or_rng(module: str, path: Path) -> None:
    tree = ast.parse(path.read_text(), filename=str(path))
    assert _violations(tree) == [], f"{module} reads the clock or randomness"


def test_the_check_can_fail() -> None:
    bad = ast.parse(
        "import datetime\nx = datetime.datetime.now()\nfrom uuid import uuid4\nimport random\n"
    )
    assert len(_violations(bad)) == 3
