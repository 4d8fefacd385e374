"""Build hook: ship the top-level data folders inside the wheel, as packages under ``bridge``.

The repository keeps data beside ``bridge/``: ``schema/`` (SQL migrations and JSON Schemas)
and ``conformance/`` (the suite's scenarios, recorded vectors and Elixir harness, whose code
is ``bridge.conformance``). An installed package must find them with ``importlib.resources``,
and ``pip install oban-bridge`` must add one top-level name only. setuptools cannot add a
mapped package next to ``packages.find``, so ``build_py`` copies the data files into
``<build_lib>/bridge/_schema/`` and ``<build_lib>/bridge/_conformance/`` and lists them as
sdist sources. Editable installs skip the copy: ``bridge._resources`` then reads the folders
in place.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from setuptools.command.build_py import build_py  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[1]
#: folder beside bridge/ → (package inside bridge/, suffixes shipped, names shipped as is)
TREES = {
    "schema": ("_schema", (".sql", ".json", ".md"), ()),
    "conformance": ("_conformance", (".json", ".md", ".ex", ".exs"), (".gitignore",)),
}
INIT = '"""Data: the repository\'s {name}/ folder, shipped inside the wheel."""\n'


def data_files(folder: str = "schema") -> list[Path]:
    """Every data file under ``folder``, relative to it, in a stable order."""
    _, suffixes, names = TREES[folder]
    source = ROOT / folder
    return sorted(
        p.relative_to(source)
        for p in source.rglob("*")
        if p.is_file()
        and (p.suffix in suffixes or p.name in names)
        and not {"__pycache__", "_build", "deps"} & set(p.parts)
    )


class BuildPy(build_py):  # type: ignore[misc]
    """``build_py`` that also copies each data folder into the wheel as a ``bridge`` package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for folder, (package, _, _) in TREES.items():
            target = Path(self.build_lib, "bridge", package)
            for rel in data_files(folder):
                dest = target / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(ROOT / folder / rel, dest)
            (target / "__init__.py").write_text(INIT.format(name=folder), encoding="utf-8")

    def get_source_files(self) -> list[str]:
        extra = [
            os.path.relpath(ROOT / folder / rel, ROOT)
            for folder in TREES
            for rel in data_files(folder)
        ]
        return [*super().get_source_files(), os.path.relpath(__file__, ROOT), *extra]
