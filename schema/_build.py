"""Build hook: ship the top-level ``schema/`` directory inside the wheel as ``bridge._schema``.

The repository layout keeps ``schema/`` beside ``bridge/`` (SQL migrations and JSON Schemas
are data, not code), but an installed package must find them with ``importlib.resources``.
setuptools cannot add one mapped package next to ``packages.find``, so ``build_py`` copies
the data files into ``<build_lib>/bridge/_schema/`` and lists them as sdist sources.
Editable installs skip the copy: there ``bridge.ops.schema`` reads ``schema/`` in place.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from setuptools.command.build_py import build_py  # type: ignore[import-untyped]

SOURCE = Path(__file__).resolve().parent
TARGET = ("bridge", "_schema")
SUFFIXES = (".sql", ".json", ".md")
INIT = '"""Oban SQL migrations and wire JSON Schemas (the repository\'s schema/ directory)."""\n'


def data_files() -> list[Path]:
    """Every data file under schema/, relative to it, in a stable order."""
    return sorted(
        p.relative_to(SOURCE)
        for p in SOURCE.rglob("*")
        if p.is_file() and p.suffix in SUFFIXES and "__pycache__" not in p.parts
    )


class BuildPy(build_py):  # type: ignore[misc]
    """``build_py`` that also copies schema/ into the wheel as the ``bridge._schema`` package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib, *TARGET)
        for rel in data_files():
            dest = target / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(SOURCE / rel, dest)
        (target / "__init__.py").write_text(INIT, encoding="utf-8")

    def get_source_files(self) -> list[str]:
        root = SOURCE.parent
        extra = [os.path.relpath(SOURCE / rel, root) for rel in data_files()]
        return [*super().get_source_files(), os.path.relpath(__file__, root), *extra]
