"""What ``pip install oban-bridge`` puts on ``sys.path``: the one top-level name ``bridge``.

The conformance suite's code is ``bridge.conformance``; its data (the repository's
``conformance/`` folder) ships as ``bridge._conformance`` through the build hook in
``schema/_build.py``, next to ``schema/`` as ``bridge._schema``.
"""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def build_hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bridge_build_hook", ROOT / "schema/_build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_wheel_installs_one_top_level_package() -> None:
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    setuptools = pytest.importorskip("setuptools")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    found = setuptools.find_packages(where=str(ROOT), include=include)
    assert "bridge.conformance" in found
    assert {name.split(".")[0] for name in found} == {"bridge"}


def test_no_python_code_is_left_in_the_conformance_data_folder() -> None:
    assert sorted(p.name for p in (ROOT / "conformance").glob("*.py")) == []


def test_every_tracked_conformance_file_ships_in_the_wheel() -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "conformance"], cwd=ROOT, capture_output=True, text=True
    ).stdout.split()
    if not tracked:
        pytest.skip("not a git checkout")
    shipped = {str(Path("conformance") / p) for p in build_hook().data_files("conformance")}
    assert sorted(set(tracked) - shipped) == []
