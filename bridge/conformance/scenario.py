"""Scenario files: loading, validation of their shape, and ``${var}`` substitution."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridge._resources import conformance_dir

SCENARIOS = conformance_dir() / "scenarios"
_VAR = re.compile(r"\$\{([A-Za-z_][\w.?]*)\}")
_STEP_KEYS = {"do", "as", "comment", "offline"}


class ScenarioError(Exception):
    """A scenario file is malformed, or a step refers to something that does not exist."""


@dataclass(frozen=True)
class Step:
    index: int
    do: str
    args: dict[str, Any]
    name: str | None = None
    #: "replay": offline, take the recorded result instead of running (for observations
    #: of what only Elixir's own code produces, e.g. its DDL); "signals": offline, an
    #: ``elixir.*`` step replays only its signals, not its rows (for a step whose rows a
    #: Python node also writes in reaction to them, e.g. Elixir cancelling a Python job)
    offline: str | None = None

    @property
    def side(self) -> str:
        return self.do.split(".", 1)[0]


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    steps: tuple[Step, ...]
    covers: tuple[str, ...] = ()
    requires: dict[str, Any] = field(default_factory=dict)
    listen: tuple[str, ...] = ()
    #: the channels LISTENed on under each ``listen`` prefix (default: all but sonar/stager)
    channels: tuple[str, ...] | None = None
    path: Path | None = None

    @property
    def needs_elixir(self) -> bool:
        return any(step.side == "elixir" for step in self.steps)


def load(path: Path) -> Scenario:
    data = json.loads(path.read_text())
    try:
        steps = tuple(
            Step(
                index=i,
                do=raw["do"],
                name=raw.get("as"),
                offline=raw.get("offline"),
                args={k: v for k, v in raw.items() if k not in _STEP_KEYS},
            )
            for i, raw in enumerate(data["steps"])
        )
        scenario = Scenario(
            id=data["id"],
            title=data["title"],
            steps=steps,
            covers=tuple(data.get("covers", ())),
            requires=data.get("requires", {}),
            listen=tuple(data.get("listen", ())),
            channels=tuple(data["channels"]) if "channels" in data else None,
            path=path,
        )
    except (KeyError, TypeError) as exc:
        raise ScenarioError(f"{path.name}: missing or malformed {exc}") from None
    for step in scenario.steps:
        where = f"{path.name}: step {step.index}"
        if step.offline not in (None, "replay", "signals"):
            raise ScenarioError(f"{where}: unknown offline {step.offline!r}")
        if step.offline == "signals" and step.side != "elixir":
            raise ScenarioError(f"{where}: offline 'signals' is for elixir.* steps")
    if path.stem != scenario.id:
        raise ScenarioError(f"{path.name}: id {scenario.id!r} must equal the file name")
    return scenario


def load_all(directory: Path = SCENARIOS, pattern: str | None = None) -> list[Scenario]:
    scenarios = [load(p) for p in sorted(directory.glob("*.json"))]
    if pattern:
        scenarios = [s for s in scenarios if pattern in s.id]
    return scenarios


def resolve(value: Any, variables: dict[str, Any]) -> Any:
    """Substitute ``${name.path}``; a string that is only a reference keeps the value's type."""
    if isinstance(value, str):
        whole = _VAR.fullmatch(value)
        if whole:
            return lookup(whole.group(1), variables)
        return _VAR.sub(lambda m: str(lookup(m.group(1), variables)), value)
    if isinstance(value, list):
        return [resolve(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: resolve(v, variables) for k, v in value.items()}
    return value


def lookup(path: str, variables: dict[str, Any]) -> Any:
    head, *rest = path.split(".")
    if head not in variables:
        raise ScenarioError(f"unknown variable ${{{path}}}")
    value = variables[head]
    for part in rest:
        try:
            value = value[int(part)] if isinstance(value, list) else value[part]
        except (KeyError, IndexError, ValueError, TypeError):
            raise ScenarioError(f"${{{path}}}: no {part!r} in {value!r}") from None
    return value
