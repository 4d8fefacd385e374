"""Where the repository's ``schema/`` data lives, installed or not.

An installed wheel ships ``schema/`` as the package ``bridge._schema`` (``schema/_build.py``);
a source checkout or editable install has no such package and keeps ``schema/`` beside
``bridge/``. This is the same lookup ``bridge.ops.schema._sql_dir`` does for the SQL
migrations, factored out so the JSON Schemas (``bridge.schemas``) find their files the same way.
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
