"""The purity line: the wire core and the operations import no I/O library."""

from __future__ import annotations

import subprocess
import sys

import pytest

FORBIDDEN = ("psycopg", "psycopg_pool", "asyncio", "socket", "jsonschema")


@pytest.mark.parametrize(
    "module",
    [
        "bridge.wire",
        "bridge.wire.etf",
        "bridge.wire.job",
        "bridge.wire.notify",
        "bridge.wire.recorded",
        "bridge.wire.unique",
        "bridge.ops",
        "bridge.ops.jobs",
        "bridge.ops.schema",
    ],
)
def test_module_imports_no_io(module: str) -> None:
    code = f"import sys, {module}; print(','.join(m for m in {FORBIDDEN!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"{module} pulls in {out.stdout.strip()}"
