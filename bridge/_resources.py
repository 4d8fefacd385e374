"""Where the repository's data folders live, installed or not.

An installed wheel ships ``schema/`` as the package ``bridge._schema`` and the conformance
suite's data (``conformance/``: scenarios, recorded vectors, the Elixir harness) as
``bridge._conformance`` (``schema/_build.py``); a source checkout or editable install has no
such packages and keeps both folders beside ``bridge/``. The SQL migrations
(``bridge.ops.schema``), the JSON Schemas and the suite (``bridge.conformance``) find their
data through here.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path


def schema_dir() -> Path:
    """The ``schema/`` directory: ``bridge._schema`` when installed, else the checkout's."""
    try:  # installed wheel: schema/ is packaged as bridge._schema (pyproject [tool.setuptools])
        root = importlib.resources.files("bridge._schema")
    except ModuleNotFoundError:  # source checkout or editable install: schema/ beside bridge/
        return Path(__file__).resolve().parents[1] / "schema"
    return Path(str(root))


def conformance_dir() -> Path:
    """The ``conformance/`` data folder: ``bridge._conformance`` when installed, else the
    checkout's (scenarios, vectors, the Elixir harness)."""
    try:  # installed wheel (pyproject [tool.setuptools] cmdclass)
        root = importlib.resources.files("bridge._conformance")
    except ModuleNotFoundError:  # source checkout or editable install
        return Path(__file__).resolve().parents[1] / "conformance"
    return Path(str(root))
