"""The JSON Schemas of schema/messages/ against what live Elixir Oban wrote and sent.

Data: ``tests/fixtures/schemas/oban-<version>.json`` — every ``row_to_json`` row of the
vectors' ``jobs.json``/``cron.json`` and every NOTIFY of ``notifications.json``/``cron.json``
(see :func:`extract`). When ``../shared/vectors`` is present the fixtures are re-extracted
from it and must be identical (regenerate with ``python tests/unit/test_schemas.py``).
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from bridge.conformance import schemas
from bridge.errors import DecodeError, SchemaViolation, WireError
from bridge.wire.notify import decode_payload, encode_legacy, insert_messages, pkill_message

HERE = Path(__file__).resolve()
FIXTURES = HERE.parents[1] / "fixtures" / "schemas"
SHARED_VECTORS = HERE.parents[2].parent / "shared" / "vectors"
ETF_VECTORS = HERE.parents[1] / "fixtures" / "etf" / "vectors.json"
VERSIONS = ("2.18.3", "2.23.1")
COLUMNS = frozenset(
    ("id", "state", "queue", "worker", "args", "errors", "attempt", "max_attempts",
     "inserted_at", "scheduled_at", "attempted_at", "completed_at", "attempted_by",
     "discarded_at", "priority", "tags", "meta", "cancelled_at")
)  # fmt: skip


# --- fixture extraction (also used to cross-check against ../shared/vectors) ------------


def _is_fresh_insert(path: str) -> bool:
    """Rows read right after an insert, before any queue ran them."""
    if path.startswith("cron.json:.rows["):
        return True
    if path.startswith("jobs.json:.inserts."):
        return True
    return (
        path.startswith("jobs.json:.outcomes.")
        and path.endswith(".before")
        and ".retry_job_of_discarded." not in path
    )


def _rows(value: Any, path: str, out: list[dict[str, Any]]) -> None:
    if isinstance(value, dict):
        if set(value) == COLUMNS:  # a row_to_json row (elixir_returned structs carry conflict?)
            out.append({"path": path, "fresh_insert": _is_fresh_insert(path), "row": value})
            return
        for key, item in value.items():
            _rows(item, f"{path}.{key}", out)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _rows(item, f"{path}[{i}]", out)


def _message(source: str, step: str, wire: dict[str, Any]) -> dict[str, Any]:
    return {
        "source": source,
        "step": step,
        "channel": wire["channel"],
        "payload": wire["payload"],
        "encoding": wire["encoding"],
        "sender": wire["sender"],
        "decoded": wire["decoded"],
    }


def extract(directory: Path) -> dict[str, Any]:
    """The schema-relevant data of one version's vectors directory."""
    jobs = json.loads((directory / "jobs.json").read_text(encoding="utf-8"))
    cron = json.loads((directory / "cron.json").read_text(encoding="utf-8"))
    notes = json.loads((directory / "notifications.json").read_text(encoding="utf-8"))
    rows: list[dict[str, Any]] = []
    _rows(jobs, "jobs.json:", rows)
    _rows(cron, "cron.json:", rows)
    messages = [
        _message("notifications.json", step["step"], wire)
        for step in notes["steps"]
        for wire in step["wire"] or []
    ]
    messages += [
        _message("cron.json", block["after_marker"], wire)
        for block in cron["wire"]
        for wire in block["messages"]
    ]
    return {
        "oban_version": jobs["oban_version"],
        "source": f"../shared/vectors/{directory.name}/{{jobs,cron,notifications}}.json",
        "rows": rows,
        "notifications": messages,
    }


def fixture(version: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (FIXTURES / f"oban-{version}.json").read_text(encoding="utf-8")
    )
    return data


def _items(key: str) -> list[tuple[str, dict[str, Any]]]:
    # tolerant at import time so that `python tests/unit/test_schemas.py` can (re)create the
    # fixtures; test_the_vectors_cover_every_outcome fails loudly when they are missing
    found = []
    for version in VERSIONS:
        if (FIXTURES / f"oban-{version}.json").exists():
            found += [(version, item) for item in fixture(version)[key]]
    return found


ROWS = _items("rows")
MESSAGES = _items("notifications")
ROW_IDS = [f"{v}-{r['path']}" for v, r in ROWS]
MESSAGE_IDS = [f"{v}-{i}-{m['step']}" for i, (v, m) in enumerate(MESSAGES)]


# --- the schemas themselves -----------------------------------------------------------------


@pytest.mark.parametrize("name", schemas.names())
def test_every_schema_is_valid_draft_2020_12(name: str) -> None:
    from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

    schema = schemas.load(name)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"{schemas.BASE_URI}{name}.json"
    assert schema["title"] and schema["description"]


def test_index_lists_every_schema_file_and_nothing_else() -> None:
    on_disk = {p.name for p in schemas.messages_dir().glob("*.json")} - {"index.json"}
    assert {entry["file"] for entry in schemas.index()} == on_disk
    for entry in schemas.index():
        assert entry["file"] == f"{entry['name']}.json" and entry["description"]
        assert ("channel" in entry) == entry["name"].startswith("notify_")


def test_load_returns_a_copy_and_refuses_unknown_names() -> None:
    schemas.load("job_row")["title"] = "changed"
    assert schemas.load("job_row")["title"] != "changed"
    with pytest.raises(KeyError):
        schemas.load("../postgres/v01_up")


def test_schema_violation_is_a_wire_decode_error_with_a_readable_message() -> None:
    with pytest.raises(SchemaViolation) as info:
        schemas.validate("job_error", {"attempt": 0, "error": "boom"})
    exc = info.value
    assert isinstance(exc, DecodeError) and isinstance(exc, WireError)
    assert exc.schema == "job_error"
    assert ("$", "'at' is a required property") in exc.errors
    assert "$.attempt: 0 is less than the minimum of 1" in str(exc)
    assert str(exc).startswith("job_error: 3 schema violations: ")


def test_integers_are_strict_like_jason() -> None:
    # Jason decodes 5.0 to a float, which poisons a producer's limit; the standard accepts it
    assert not schemas.is_valid(
        "notify_signal_scale", {"action": "scale", "queue": "a", "limit": 5.0}
    )
    assert schemas.is_valid("notify_signal_scale", {"action": "scale", "queue": "a", "limit": 5})
    assert not schemas.is_valid("notify_signal_pkill", {"action": "pkill", "job_id": True})
    # also through $ref into a sibling schema (job_row -> job_error, notify_signal -> scale)
    error = {"at": "2026-11-22T15:46:29.175393Z", "attempt": 1.0, "error": "** (E) x"}
    assert not schemas.is_valid("job_row", _row() | {"errors": [error]})
    assert not schemas.is_valid("notify_signal", {"action": "scale", "queue": "a", "limit": 5.0})


# --- rows ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("version", "item"), ROWS, ids=ROW_IDS)
def test_vector_rows_are_job_rows(version: str, item: dict[str, Any]) -> None:
    schemas.validate("job_row", item["row"])
    for error in item["row"]["errors"]:
        schemas.validate("job_error", error)
    if item["fresh_insert"]:
        schemas.validate("job_insert", item["row"])
    if item["row"]["attempt"] > 0:
        assert not schemas.is_valid("job_insert", item["row"]), "executed rows are not inserts"


def test_the_vectors_cover_every_outcome() -> None:
    for version in VERSIONS:
        rows = fixture(version)["rows"]
        states = {item["row"]["state"] for item in rows}
        assert states >= {"available", "scheduled", "executing", "retryable", "completed"}
        assert states >= {"discarded", "cancelled"}
        assert sum(len(item["row"]["errors"]) for item in rows) >= 10
        assert sum(item["fresh_insert"] for item in rows) >= 10
        assert any(item["row"]["meta"].get("cron") for item in rows)


def _row(version: str = "2.23.1", path_end: str = ".outcomes.exhausted.after") -> dict[str, Any]:
    for item in fixture(version)["rows"]:
        if item["path"].endswith(path_end):
            row: dict[str, Any] = json.loads(json.dumps(item["row"]))
            return row
    raise LookupError(path_end)


BAD_ROWS: dict[str, tuple[dict[str, Any], str]] = {
    # oban-py keeps errors in a jsonb column; Oban's is jsonb[] (a JSON array in row_to_json)
    "errors as a jsonb object": ({"errors": {"0": {"at": "x"}}}, "$.errors"),
    "args as a list (crashes every fetch, §7.1)": ({"args": [1, 2]}, "$.args"),
    "attempted_by with 3 elements": (
        {"attempted_by": ["vec-elixir-1", "5355d8da-ddc7-4688-85bc-f37d24dd76ce", "x"]},
        "$.attempted_by",
    ),
    "attempted_by with 1 element": ({"attempted_by": ["vec-elixir-1"]}, "$.attempted_by"),
    "error element missing at": (
        {"errors": [{"attempt": 1, "error": "** (RuntimeError) x"}]},
        "$.errors[0]",
    ),
    "error at without Z": (
        {"errors": [{"at": "2026-11-22T15:46:29.175393", "attempt": 1, "error": "** (E) x"}]},
        "$.errors[0].at",
    ),
    "error at with 3 fractional digits": (
        {"errors": [{"at": "2026-11-22T15:46:29.175Z", "attempt": 1, "error": "** (E) x"}]},
        "$.errors[0].at",
    ),
    "error element with an extra key": (
        {
            "errors": [
                {"at": "2026-11-22T15:46:29.175393Z", "attempt": 1, "error": "** (E) x", "k": 1}
            ]
        },
        "$.errors[0]",
    ),
    "error text without the ** (Module) banner": (
        {"errors": [{"at": "2026-11-22T15:46:29.175393Z", "attempt": 1, "error": "boom"}]},
        "$.errors[0].error",
    ),
    "unknown state": ({"state": "running"}, "$.state"),
    "timestamp with offset": ({"inserted_at": "2026-11-22T15:46:28.19271+00:00"}, "$.inserted_at"),
    "timestamp with untrimmed fraction": (
        {"inserted_at": "2026-11-22T15:46:28.192710"},
        "$.inserted_at",
    ),
    "empty queue": ({"queue": ""}, "$.queue"),
    "128-character worker": ({"worker": "W" * 128}, "$.worker"),
    "negative priority": ({"priority": -1}, "$.priority"),
    "max_attempts 0": ({"max_attempts": 0}, "$.max_attempts"),
    "tags with a null element": ({"tags": ["a", None]}, "$.tags"),
    "meta as a list": ({"meta": []}, "$.meta"),
    "id as a string": ({"id": "11"}, "$.id"),
    "meta.snoozed as a string (HEAD's snooze adds 1 to it)": ({"meta": {"snoozed": "1"}}, "$.meta"),
    "meta.cron_expr as a number": ({"meta": {"cron": True, "cron_expr": 5}}, "$.meta"),
    "recorded meta with a padded return": (
        {"meta": {"recorded": True, "return": "g2o="}},
        "$.meta",
    ),
}


@pytest.mark.parametrize("case", BAD_ROWS)
def test_broken_rows_are_rejected(case: str) -> None:
    change, where = BAD_ROWS[case]
    row = _row() | change
    with pytest.raises(SchemaViolation) as info:
        schemas.validate("job_row", row)
    assert where in [path for path, _ in info.value.errors], info.value


def test_missing_and_extra_columns_are_rejected() -> None:
    row = _row()
    del row["cancelled_at"]
    assert not schemas.is_valid("job_row", row)
    assert not schemas.is_valid("job_row", _row() | {"_state": "available"})


def test_row_schema_accepts_what_the_db_holds_but_the_changeset_would_not() -> None:
    insert = _row("2.23.1", ".inserts.insert_default.row")
    lax = insert | {"priority": 10, "meta": None, "tags": None}
    schemas.validate("job_row", lax)  # the DB allows these
    with pytest.raises(SchemaViolation) as info:
        schemas.validate("job_insert", lax)  # Job.new/2 and §7.2 do not
    paths = {path for path, _ in info.value.errors}
    assert {"$.priority", "$.meta", "$.tags"} <= paths
    # un-normalized tags: Job.new trims, downcases, drops empties and duplicates
    for tags in (["Foo"], [" foo"], ["foo", "foo"], [""]):
        assert schemas.is_valid("job_row", insert | {"tags": tags})
        assert not schemas.is_valid("job_insert", insert | {"tags": tags}), tags
    # attempt <= max_attempts is a cross-field CHECK that JSON Schema cannot express
    schemas.validate("job_row", _row() | {"attempt": 5, "max_attempts": 2})


def test_row_meta_may_carry_recorded_output_and_oban_keys() -> None:
    row = _row()
    for meta in (
        {"recorded": True, "return": "g2o", "keep": 1},
        {"recorded": True},
        {"cron": True, "cron_expr": "* * * * *", "cron_tz": "Etc/UTC", "cron_name": "9919117"},
        {"snoozed": 2},
        {"return": "not recorded, so free-form"},
    ):
        schemas.validate("job_row", row | {"meta": meta})


def test_timestamps_follow_row_to_json_trimming() -> None:
    row = _row()
    for text in ("2026-11-22T15:46:28", "2026-11-22T15:46:28.1", "2026-11-22T15:46:28.000001"):
        schemas.validate("job_row", row | {"scheduled_at": text})


# --- recorded meta ---------------------------------------------------------------------------


def test_recorded_meta() -> None:
    from bridge.wire.recorded import encode_recorded

    for value in (None, 1, "done", [1, 2], {"rows": list(range(50))}, ("ok", b"\x00\xff")):
        for compressed in (True, False):
            meta = {"recorded": True, "return": encode_recorded(value, compressed=compressed)}
            schemas.validate("recorded_meta", meta | {"other": "kept"})
    schemas.validate("recorded_meta", {"recorded": True})  # recorded, not completed yet
    for bad in (
        {"return": "g2o"},  # recorded missing
        {"recorded": "true", "return": "g2o"},
        {"recorded": True, "return": "g2o="},  # padded
        {"recorded": True, "return": "g2oA="},
        {"recorded": True, "return": "aGVsbG8"},  # not term_to_binary (no 131 version byte)
        {"recorded": True, "return": "g2-_"},  # URL-safe alphabet
        {"recorded": True, "return": "g2oAA"},  # length 1 mod 4 is never base64
        {"recorded": True, "return": 7},
    ):
        assert not schemas.is_valid("recorded_meta", bad), bad


def test_recorded_meta_accepts_every_erlang_term_to_binary_vector() -> None:
    if not ETF_VECTORS.exists():
        pytest.skip(f"{ETF_VECTORS} is absent")
    vectors = json.loads(ETF_VECTORS.read_text(encoding="utf-8"))["vectors"]
    checked = 0
    for vector in vectors:
        for key, value in vector.items():
            if key in ("name", "erlang") or not isinstance(value, str):
                continue
            text = base64.b64encode(bytes.fromhex(value)).decode().rstrip("=")
            schemas.validate("recorded_meta", {"recorded": True, "return": text})
            checked += 1
    assert checked > 50


# --- notifications -------------------------------------------------------------------------

#: NOTIFYs in the vectors that are expected to FAIL their schema, and why
EXPECTED_INVALID = {
    # Oban.Notifier.notify(:gossip, [%{k: 1}, %{k: 2}]) in the notify_list step: a test of
    # list fan-out, not gossip. oban_met ignores payloads without "checks", but no real sender
    # emits them, so notify_gossip rejects them.
    "notify_list": "not a gossip message (no checks)",
}

#: every foreign_* payload the vectors sent with psql, classified. All of them are
#: well-formed: the only one Elixir choked on (2.18.3 given "Z:") fails below the JSON
#: level — its *encoding* crashes ≤ v2.20 notifiers — so its decoded payload is valid, and
#: bridge never emits "Z:" (see test_bridge_never_sends_the_z_encoding).
FOREIGN = {
    "foreign_plain_pause": (True, "obeyed by both versions"),
    "foreign_plain_resume_no_ident": (True, "ident is optional; obeyed by both"),
    "foreign_legacy_gzip_pause": (True, "base64(gzip) H4sI form; obeyed by both"),
    "foreign_z_pause": (True, "2.23.1 obeyed Z:"),
    "foreign_z_pause_218": (True, "valid JSON; the Z: encoding crashed 2.18.3's notifier"),
    "foreign_plain_pause_after_z_218": (True, "valid; ignored because producers were deaf"),
    "foreign_pause_ident_self": (True, "targets this node; obeyed"),
    "foreign_pause_ident_other": (True, "targets another node; correctly ignored"),
    "foreign_scale_plain": (True, "known keys only; obeyed"),
}


@pytest.mark.parametrize(("version", "message"), MESSAGES, ids=MESSAGE_IDS)
def test_vector_notifications(version: str, message: dict[str, Any]) -> None:
    payload = decode_payload(message["payload"])
    assert payload == message["decoded"]
    name = schemas.notification_schema(message["channel"], payload)
    step = message["step"]
    if message["sender"] != "elixir":
        assert step in FOREIGN, f"unclassified foreign payload in step {step}"
        expected_valid = FOREIGN[step][0]
    else:
        expected_valid = step not in EXPECTED_INVALID
    if expected_valid:
        schemas.validate(name, payload)
        assert schemas.validate_notification(message["channel"], payload) == name
    else:
        assert not schemas.is_valid(name, payload), EXPECTED_INVALID[step]


def test_every_foreign_step_and_every_channel_is_covered() -> None:
    seen_foreign = set()
    seen_schemas = set()
    for _, message in MESSAGES:
        if message["sender"] != "elixir":
            seen_foreign.add(message["step"])
        payload = decode_payload(message["payload"])
        seen_schemas.add(schemas.notification_schema(message["channel"], payload))
    assert seen_foreign == set(FOREIGN)
    assert seen_schemas >= {
        "notify_insert", "notify_signal_pause", "notify_signal_resume", "notify_signal_scale",
        "notify_signal_start", "notify_signal_stop", "notify_signal_pkill", "notify_leader",
        "notify_sonar", "notify_gossip",
    }  # fmt: skip


#: hostile or broken payloads Elixir would crash on, misapply or ignore — none is in the
#: vectors; each must fail its schema (channel, payload, why)
HAZARDS: dict[str, tuple[str, dict[str, Any], str]] = {
    "scale with an unknown key": (
        "signal",
        {"action": "scale", "queue": "alpha", "limit": 4, "ident": "any", "bogus_key": 1},
        "String.to_existing_atom raises: the producer crashes and loses runtime scale/pause",
    ),
    "scale with an existing-atom key that rewrites producer meta": (
        "signal",
        {"action": "scale", "queue": "alpha", "limit": 4, "uuid": "x"},
        "put_meta without validation would replace the producer uuid (attempted_by[1])",
    ),
    "scale limit as a string": (
        "signal",
        {"action": "scale", "queue": "alpha", "limit": "5"},
        "stored unvalidated, poisons later dispatches",
    ),
    "scale limit as a float": (
        "signal",
        {"action": "scale", "queue": "alpha", "limit": 5.0},
        "Jason decodes 5.0 to a float: is_integer fails later",
    ),
    "scale limit 0": ("signal", {"action": "scale", "queue": "alpha", "limit": 0}, "limit > 0"),
    "scale without limit": (
        "signal",
        {"action": "scale", "queue": "alpha", "paused": True},
        "Elixir's scale_queue always carries limit (Basic.init requires it)",
    ),
    "scale paused as a string": (
        "signal",
        {"action": "scale", "queue": "alpha", "limit": 2, "paused": "yes"},
        "paused must be a boolean",
    ),
    "scale with node but ident any": (
        "signal",
        {"action": "scale", "queue": "alpha", "limit": 3, "node": "n1", "ident": "any"},
        "v2.18.3 receivers would overwrite meta.node (attempted_by[0]) on every node",
    ),
    "start with an unknown key": (
        "signal",
        {"action": "start", "queue": "beta", "limit": 1, "bogus_key": True},
        "String.to_existing_atom raises in Midwife/Oban.Queues",
    ),
    "start with node": (
        "signal",
        {"action": "start", "queue": "beta", "limit": 1, "node": "n1", "ident": "Oban.n1"},
        "Basic.init rejects node: the new producer's {:ok, meta} match fails, crash loop",
    ),
    "start without limit": (
        "signal",
        {"action": "start", "queue": "beta"},
        "Basic.init: missing required option :limit, crash loop",
    ),
    "pkill with a string job_id": (
        "signal",
        {"action": "pkill", "job_id": "6"},
        "never equals an integer id: the kill silently does nothing",
    ),
    "pkill with an ident": (
        "signal",
        {"action": "pkill", "job_id": 6, "ident": "any"},
        "Elixir sends pkill without ident; the job may run on any node",
    ),
    "pause without queue": ("signal", {"action": "pause", "ident": "any"}, "no queue to match"),
    "pause of an empty queue name": ("signal", {"action": "pause", "queue": ""}, "queue >= 1"),
    "unknown signal action": ("signal", {"action": "restart", "queue": "a"}, "no such action"),
    "signal without action": ("signal", {"queue": "a"}, "no action"),
    "ident that is no instance ident": (
        "signal",
        {"action": "pause", "queue": "a", "ident": "nobody"},
        "neither 'any' nor '<name>.<node>'",
    ),
    "sonar with time": (
        "sonar",
        {"node": "py-1", "ping": True, "time": 1_700_000_000_000},
        "Sonar uses it as the BEAM monotonic time (§3.5)",
    ),
    "sonar without node": ("sonar", {"ping": True}, "v2.18.3's Sonar has no catch-all clause"),
    "sonar node with whitespace": ("sonar", {"node": "py 1", "ping": True}, "node is ^\\S+$"),
    "insert with a 128-character queue": (
        "insert",
        {"queue": "q" * 128},
        "no oban_jobs row can hold it",
    ),
    "insert with an extra key": ("insert", {"queue": "a", "ident": "any"}, "only queue"),
    "leader with both keys": ("leader", {"down": "Oban", "lock": "n1"}, "one shape at a time"),
    "leader down as a number": ("leader", {"down": 1}, "inspect(name) is a string"),
    "gossip check without name": (
        "gossip",
        {"checks": [{"node": "n1", "queue": "alpha"}]},
        "oban_met store/2 MatchError crashes the Examiner",
    ),
    "gossip check that is not an object": (
        "gossip",
        {"checks": ["alpha"]},
        "store/2 is_map guard: FunctionClauseError",
    ),
    "gossip checks not a list": ("gossip", {"checks": {"node": "n1"}}, "Enum.each over a map"),
}


@pytest.mark.parametrize("case", HAZARDS)
def test_hazardous_payloads_fail_validation(case: str) -> None:
    channel, payload, why = HAZARDS[case]
    name = schemas.notification_schema(f"public.oban_{channel}", payload)
    with pytest.raises(SchemaViolation):
        schemas.validate(name, payload)
    if channel == "signal":  # the generic signal schema agrees with the specific one
        assert not schemas.is_valid("notify_signal", payload), why


def test_notification_schema_picks_by_channel_and_action() -> None:
    pick = schemas.notification_schema
    assert pick("public.oban_insert", {"queue": "a"}) == "notify_insert"
    assert pick("oban_insert", {"queue": "a"}) == "notify_insert"  # legacy trigger channel
    assert pick("my.prefix.oban_sonar", {}) == "notify_sonar"
    assert pick("leader", {"down": "Oban"}) == "notify_leader"
    assert pick("public.oban_gossip", {"checks": []}) == "notify_gossip"
    for action in schemas.SIGNAL_ACTIONS:
        assert pick("public.oban_signal", {"action": action}) == f"notify_signal_{action}"
    assert pick("public.oban_signal", {"action": "nope"}) == "notify_signal"
    assert pick("public.oban_signal", {"action": 1}) == "notify_signal"
    for channel in ("public.oban_stager", "public.oban_metrics", "vec_marker"):
        with pytest.raises(SchemaViolation):
            pick(channel, {})


def test_generic_signal_schema_dispatches_on_action() -> None:
    schemas.validate("notify_signal", {"action": "pkill", "job_id": 3})
    schemas.validate("notify_signal", {"action": "pause", "queue": "*", "ident": "any"})
    assert not schemas.is_valid("notify_signal", {"action": "pkill", "job_id": "3"})
    assert not schemas.is_valid("notify_signal", {"action": "scale", "queue": "a"})


def test_valid_variants_elixir_sends() -> None:
    ok: dict[str, list[dict[str, Any]]] = {
        "notify_signal_scale": [
            {"action": "scale", "queue": "alpha", "limit": 5, "ident": "any"},
            {
                "action": "scale",
                "queue": "alpha",
                "limit": 5,
                "ident": "Oban.n1",
                "local_only": True,
            },
            {"action": "scale", "queue": "a", "limit": 3, "ident": "Oban.n1", "node": "n1"},
            {"action": "scale", "queue": "a", "limit": 3, "paused": True, "refresh_interval": 1000},
        ],
        "notify_signal_start": [
            {"action": "start", "queue": "beta", "limit": 1, "ident": "any"},
            {"action": "start", "queue": "beta", "limit": 1, "ident": "MyApp.Oban.n1"}
            | {"local_only": True, "paused": False, "refresh_interval": 60000},
        ],
        "notify_leader": [{"down": "Oban"}, {"down": "MyApp.Oban"}, {"lock": "n1@host"}],
        "notify_signal_pause": [{"action": "pause", "queue": "*", "ident": ":foo.n1"}],
    }
    for name, payloads in ok.items():
        for payload in payloads:
            schemas.validate(name, payload)


# --- what bridge itself sends ----------------------------------------------------------------


def test_bridge_insert_and_pkill_messages_validate() -> None:
    messages = insert_messages(["alpha", "omega", "alpha", "q" * 127])
    assert len(messages) == 3
    for text in messages:
        assert schemas.validate_notification("public.oban_insert", decode_payload(text))
    for job_id in (1, 7, 2**63 - 1):
        payload = decode_payload(pkill_message(job_id))
        assert schemas.validate_notification("public.oban_signal", payload) == (
            "notify_signal_pkill"
        )


def test_bridge_never_sends_the_z_encoding() -> None:
    # the one foreign hazard a schema cannot see: "Z:" crashes ≤ v2.20 notifiers (§3.2)
    for text in [*insert_messages(["alpha"]), pkill_message(7)]:
        assert text.startswith("{") and not text.startswith(("Z:", "H4sI"))
    # the legacy form every version reads decodes to the same, valid payload
    legacy = encode_legacy({"action": "pause", "queue": "alpha", "ident": "any"})
    schemas.validate_notification("public.oban_signal", decode_payload(legacy))


# --- fixtures vs the shared vectors ---------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_fixtures_match_the_shared_vectors(version: str) -> None:
    directory = SHARED_VECTORS / f"oban-{version}"
    if not directory.is_dir():
        pytest.skip(f"{directory} is absent (fixtures are a copy of it)")
    assert extract(directory) == fixture(version), (
        "the shared vectors changed: regenerate with `python tests/unit/test_schemas.py`"
    )


def _regenerate() -> None:
    FIXTURES.mkdir(parents=True, exist_ok=True)
    for version in VERSIONS:
        data = extract(SHARED_VECTORS / f"oban-{version}")
        text = json.dumps(data, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
        (FIXTURES / f"oban-{version}.json").write_text(text, encoding="utf-8")
        sys.stdout.write(f"wrote {version}: {len(data['rows'])} rows, "
                         f"{len(data['notifications'])} notifications\n")  # fmt: skip


if __name__ == "__main__":
    _regenerate()
