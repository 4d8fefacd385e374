"""Run scenarios live (against the Elixir harness) or offline (replaying recorded vectors).

Theory of operation. Every scenario gets a fresh database. Steps run in order;
a step's result is stored under its ``as`` name for later ``${…}`` references.

* **live**: ``elixir.*`` steps go to a harness started on that database; every
  step's result, the job rows it touched and the NOTIFYs seen after it are kept,
  and ``record`` writes them to ``conformance/vectors/oban-X.Y.Z/<id>.json``.
* **offline**: no Elixir. An ``elixir.*`` step first checks that bridge would
  send Elixir the same request as in the recording (else the recording no longer
  applies), then *replays* it: its recorded result, its recorded rows (upserted
  by id) and its recorded NOTIFYs — those on the signal channel are sent again,
  so that Python nodes obey Elixir's own bytes; ``elixir.migrate`` is replayed by
  bridge's own migration, whose catalog later ``db.catalog`` steps compare with
  Elixir's.
  Every other step runs for real and must produce what it produced when
  recorded — so the Python side is checked against what Elixir did.
"""

from __future__ import annotations

import json
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from bridge._resources import conformance_dir
from bridge.conformance import schemas
from bridge.conformance.actions import ACTIONS, UNRECORDED, Env, Failed, Skipped, diff
from bridge.conformance.harness import Harness, HarnessError
from bridge.conformance.normalize import normalize
from bridge.conformance.scenario import Scenario, ScenarioError, Step, resolve
from bridge.errors import BridgeError, SchemaViolation
from bridge.names import OBAN_CHANNELS
from bridge.ops.jobs import quoted_table
from bridge.wire import notify
from bridge.wire.job import COLUMNS

VECTORS = conformance_dir() / "vectors"
NOTIFY_SETTLE = 0.15  # seconds to let NOTIFYs of a step arrive before moving on
CHANNELS = tuple(
    c for c in OBAN_CHANNELS if c not in ("sonar", "stager")
)  # sonar is periodic noise
#: offline, an ``elixir.*`` step's recorded NOTIFYs on these channels are sent again (Python
#: nodes act on them); insert NOTIFYs are not (an Elixir insert is replayed as a row only)
RESENT = ("signal",)


@dataclass
class Outcome:
    scenario: str
    oban_version: str
    status: str  # passed | failed | skipped | error
    seconds: float
    message: str = ""
    step: int | None = None
    mode: str = "live"
    record: list[dict[str, Any]] = field(default_factory=list)


def max_schema(oban_version: str) -> int:
    """The highest migration an Oban release ships (oban-wire-spec §1.5)."""
    major, minor, *_ = (int(p) for p in oban_version.split("."))
    return 12 if (major, minor) < (2, 20) else 13 if (major, minor) < (2, 21) else 14


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split("."))


def skip_reason(scenario: Scenario, oban_version: str) -> str | None:
    need = scenario.requires.get("oban")
    if need and version_tuple(oban_version) < version_tuple(need.lstrip(">=")):
        why = scenario.requires.get("why")
        reason = f"needs Oban >= {need.lstrip('>=')}, this is {oban_version}"
        return f"{reason} ({why})" if why else reason
    return None


class Database:
    """A throw-away database per scenario."""

    def __init__(self, admin_dsn: str):
        from psycopg.conninfo import make_conninfo

        self.admin_dsn = admin_dsn
        self.name = f"conformance_{uuid.uuid4().hex[:10]}"
        self.dsn = make_conninfo(admin_dsn, dbname=self.name)
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))

    def drop(self) -> None:
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name))
            )


class Listener:
    """A LISTEN session on Oban's channels, like any Oban node's notifier."""

    def __init__(self, dsn: str, prefixes: tuple[str, ...], channels: tuple[str, ...] = CHANNELS):
        self.conn = psycopg.connect(dsn, autocommit=True)
        for prefix in prefixes:
            for channel in channels:
                self.conn.execute(
                    sql.SQL("LISTEN {}").format(
                        sql.Identifier(notify.channel_name(prefix, channel))
                    )
                )

    def drain(self, timeout: float) -> list[dict[str, Any]]:
        seen = []
        for note in self.conn.notifies(timeout=timeout):
            try:
                decoded: Any = notify.decode_payload(note.payload)
            except BridgeError as exc:
                decoded = {"undecodable": str(exc)}
            seen.append({"channel": note.channel, "payload": note.payload, "decoded": decoded})
        return seen

    def close(self) -> None:
        self.conn.close()


HarnessFactory = Callable[[str], Harness]


class Run:
    """One scenario, one database, one mode."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        admin_dsn: str,
        oban_version: str,
        harness_factory: HarnessFactory | None = None,
        recording: dict[str, Any] | None = None,
    ):
        self.scenario = scenario
        self.oban_version = oban_version
        self.offline = recording is not None
        self.recorded_steps = {s["index"]: s for s in (recording or {}).get("steps", [])}
        self.harness_factory = harness_factory
        self.harness: Harness | None = None
        self.db = Database(admin_dsn)
        self.env = Env(self.db.dsn, max_schema(oban_version))
        prefixes = tuple(dict.fromkeys(("public", *scenario.listen)))
        channels = scenario.channels or CHANNELS
        self.listener = Listener(self.db.dsn, prefixes, channels) if scenario.listen else None
        self.vars: dict[str, Any] = {
            "oban": {"version": oban_version, "max_schema": max_schema(oban_version)}
        }
        self.record: list[dict[str, Any]] = []

    def close(self) -> None:
        if self.harness is not None:
            self.harness.close()
        if self.listener is not None:
            self.listener.close()
        self.env.close()
        self.db.drop()

    # -- steps ------------------------------------------------------------------------------

    def run_step(self, step: Step) -> None:
        args = resolve(step.args, self.vars)
        if self.offline and step.offline == "replay":
            result, rows, notes = self._recorded(step, args)
        elif step.side == "elixir":
            result, rows, notes = self._elixir(step, args)
        else:
            action = ACTIONS.get(step.do)
            if action is None:
                raise ScenarioError(f"step {step.index}: unknown action {step.do!r}")
            result = action(self.env, args)
            rows = self._rows(result, args)
            notes = self._drain()
            if self.offline and step.do not in UNRECORDED:
                self._compare_with_recording(step, result, rows, notes)
        _validate(step, rows, notes)
        self.env.notifications.extend(notes)
        if step.name:
            self.vars[step.name] = result
        self.record.append(
            {
                "index": step.index,
                "do": step.do,
                "request": args,
                "result": result,
                "rows": rows,
                "notifications": notes,
            }
        )

    def _drain(self) -> list[dict[str, Any]]:
        return self.listener.drain(NOTIFY_SETTLE) if self.listener is not None else []

    def _elixir(self, step: Step, args: dict[str, Any]) -> tuple[Any, Any, Any]:
        if not self.offline:
            if self.harness is None:
                assert self.harness_factory is not None
                self.harness = self.harness_factory(self.db.dsn)
            result = self.harness.call(step.do.split(".", 1)[1], **args)
            return result, self._rows(result, args), self._drain()
        recorded = self._recording_of(step)
        if normalize(recorded["request"]) != normalize(args):
            raise Failed(
                "bridge now gives Elixir a different request than when the vectors were "
                f"recorded\n{diff(recorded['request'], args)}"
            )
        if step.do == "elixir.migrate":
            self._replay_migrate(args)
        if step.offline != "signals":
            self._replay_rows(recorded["rows"], args.get("prefix", "public"))
        self._resend(recorded["notifications"])
        self._drain()  # our own replay's NOTIFYs, and anything stray: dropped
        return recorded["result"], recorded["rows"], recorded["notifications"]

    def _resend(self, notes: list[dict[str, Any]]) -> None:
        """Elixir's signals, byte for byte, for the Python nodes of the scenario to obey."""
        for note in notes:
            if note["channel"].rsplit(".oban_", 1)[-1] in RESENT:
                self.env.conn.execute(
                    "SELECT pg_notify(%s, %s)", (note["channel"], note["payload"])
                )

    def _recording_of(self, step: Step) -> dict[str, Any]:
        recorded: dict[str, Any] | None = self.recorded_steps.get(step.index)
        if recorded is None or recorded["do"] != step.do:
            raise Failed("this step is not in the recording: re-record the vectors")
        return recorded

    def _recorded(self, step: Step, args: dict[str, Any]) -> tuple[Any, Any, Any]:
        recorded = self._recording_of(step)
        return recorded["result"], recorded["rows"], recorded["notifications"]

    def _replay_migrate(self, args: dict[str, Any]) -> None:
        from bridge.pg.migrations import migrate

        version = args.get("version", max_schema(self.oban_version))
        if args.get("direction") == "down":
            version -= 1  # Oban's down(version: N) ends at N - 1
        migrate(self.env.conn, version=version, prefix=args.get("prefix", "public"))

    def _rows(self, result: Any, args: dict[str, Any]) -> dict[str, Any]:
        """The current rows of the jobs a step returned, keyed by id."""
        ids = sorted(_job_ids(result) | ({args["job_id"]} if "job_id" in args else set()))
        if not ids:
            return {}
        query = sql.SQL("SELECT id, row_to_json(j.*) FROM {}.oban_jobs j WHERE id = ANY(%s)")
        prefix = args.get("prefix", "public")
        try:
            rows = self.env.conn.execute(query.format(sql.Identifier(prefix)), (ids,)).fetchall()
        except psycopg.Error:
            return {}
        return {str(i): row for i, row in rows}

    def _replay_rows(self, rows: dict[str, Any], prefix: str) -> None:
        if not rows:
            return
        table = sql.SQL("{}.oban_jobs").format(sql.Identifier(prefix))
        updates = sql.SQL(", ").join(
            sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(c), sql.Identifier(c))
            for c in COLUMNS
            if c != "id"
        )
        for row in rows.values():
            self.env.conn.execute(
                sql.SQL(
                    "INSERT INTO {t} SELECT * FROM jsonb_populate_record(NULL::{t}, %s::jsonb) "
                    "ON CONFLICT (id) DO UPDATE SET {u}"
                ).format(t=table, u=updates),
                (json.dumps(row),),
            )
        self.env.conn.execute(
            sql.SQL(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), (SELECT max(id) FROM {t}))"
            ).format(t=table),
            (quoted_table(prefix),),
        )

    def _compare_with_recording(
        self, step: Step, result: Any, rows: dict[str, Any], notes: list[dict[str, Any]]
    ) -> None:
        recorded = self._recording_of(step)
        for what, mine, theirs in (
            ("result", result, recorded["result"]),
            ("rows", rows, recorded["rows"]),
            ("notifications", notes, recorded["notifications"]),
        ):
            if normalize(mine) != normalize(theirs):
                raise Failed(
                    f"{what}: not what this step gave in the live recording (Oban "
                    f"{self.oban_version})\n"
                    f"{diff(normalize(theirs), normalize(mine))}"
                )


def _validate(step: Step, rows: dict[str, Any], notes: list[dict[str, Any]]) -> None:
    """Every row and NOTIFY either side produced must fit the wire schemas (schema/messages)."""
    for job_id, row in rows.items():
        try:
            schemas.validate("job_row", row)
        except SchemaViolation as exc:
            raise Failed(f"job {job_id}'s row breaks the job_row schema: {exc}") from None
    for note in notes:
        try:
            schemas.validate_notification(note["channel"], note["decoded"])
        except SchemaViolation as exc:
            raise Failed(f"NOTIFY {note['payload']!r} on {note['channel']}: {exc}") from None


def _job_ids(result: Any) -> set[int]:
    if isinstance(result, list):
        return {i for item in result for i in _job_ids(item)}
    if not isinstance(result, dict):
        return set()
    if "job" in result or "jobs" in result:
        return _job_ids(result.get("job")) | _job_ids(result.get("jobs"))
    if isinstance(result.get("id"), int) and "worker" in result and "state" in result:
        return {result["id"]}
    return set()


def run_scenario(
    scenario: Scenario,
    *,
    admin_dsn: str,
    oban_version: str,
    harness_factory: HarnessFactory | None = None,
    recording: dict[str, Any] | None = None,
) -> Outcome:
    mode = "offline" if recording is not None else "live"
    started = time.monotonic()
    reason = skip_reason(scenario, oban_version)
    if reason:
        return Outcome(scenario.id, oban_version, "skipped", 0.0, reason, mode=mode)
    run = Run(
        scenario,
        admin_dsn=admin_dsn,
        oban_version=oban_version,
        harness_factory=harness_factory,
        recording=recording,
    )
    step: Step | None = None
    try:
        for step in scenario.steps:
            run.run_step(step)
        status, message = "passed", ""
    except Skipped as exc:
        status, message = "skipped", str(exc)
    except Failed as exc:
        status, message = "failed", str(exc)
    except (HarnessError, BridgeError, ScenarioError, psycopg.Error) as exc:
        status, message = "failed", f"{type(exc).__name__}: {exc}"
    except Exception as exc:  # a bug in the runner or bridge: report it, keep going
        status, message = "error", "".join(traceback.format_exception(exc)).strip()
    finally:
        run.close()
    if step is not None and status not in ("passed", "skipped"):
        message = f"step {step.index} ({step.do}): {message}"
    return Outcome(
        scenario.id,
        oban_version,
        status,
        time.monotonic() - started,
        message,
        step.index if step and status not in ("passed", "skipped") else None,
        mode,
        run.record,
    )


def load_recording(version_dir: Path, scenario_id: str) -> dict[str, Any] | None:
    path = version_dir / f"{scenario_id}.json"
    return json.loads(path.read_text()) if path.exists() else None


def write_recording(out: Path, outcome: Outcome, harness: dict[str, str]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    data = {
        "scenario": outcome.scenario,
        "oban_version": outcome.oban_version,
        "harness": harness,
        "steps": outcome.record,
    }
    text = json.dumps(data, indent=1, sort_keys=True, default=str, ensure_ascii=False)
    (out / f"{outcome.scenario}.json").write_text(text + "\n")
