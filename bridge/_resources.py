"""Where the repository's ``schema/`` data lives, installed or not.

An installed wheel ships ``schema/`` as the package ``bridge._schema`` (``schema/_build.py``);
a source checkout or editable install has no such package and keeps ``schema/`` beside
``bridge/``. Both the SQL migrations (``bridge.ops.schema``) and the JSON Schemas
(``bridge.schemas``) are found through here.
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
