"""bridge.wire.cron against live Oban: every expression in tests/fixtures/cron parses to
the same sets (or fails with the same message) as Oban.Cron.Expression.parse/1 on 2.23.1."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bridge.errors import ValidationError
from bridge.wire import cron

FIXTURES = Path(__file__).parent.parent / "fixtures" / "cron"
ORACLE = [json.loads(line) for line in (FIXTURES / "oban-2.23.1.jsonl").read_text().splitlines()]
FIELDS = ("minutes", "hours", "days", "months", "weekdays")


@pytest.mark.parametrize("case", ORACLE, ids=[repr(c["expr"]) for c in ORACLE])
def test_parse_matches_oban_2_23_1(case: dict[str, object]) -> None:
    if "error" in case:
        with pytest.raises(ValidationError) as caught:
            cron.parse(str(case["expr"]))
        assert caught.value.field == "cron"
        assert caught.value.message == case["error"]
        return
    parsed = cron.parse(str(case["expr"]))
    assert parsed.input == case["expr"]
    if case.get("reboot"):
        assert parsed.reboot
        return
    assert {f: sorted(getattr(parsed, f)) for f in FIELDS} == {f: case[f] for f in FIELDS}


def test_oracle_covers_the_expressions_file() -> None:
    exprs = (FIXTURES / "expressions.txt").read_text().split("\n")[:-1]
    assert [c["expr"] for c in ORACLE] == exprs


def test_2_18_3_differs_only_where_known() -> None:
    """2.18.3 accepts impossible days (30 February) and words a reversed range differently;
    we follow 2.23.1 (the stricter), so nothing 2.23.1 accepts is refused."""
    old = [json.loads(line) for line in (FIXTURES / "oban-2.18.3.jsonl").read_text().splitlines()]
    differ = [new["expr"] for new, was in zip(ORACLE, old, strict=True) if new != was]
    assert differ == ["5-1 * * * *", "0 0 30 2 *", "0 0 31 4,6 *", "0 0 30,31 2 *"]


@pytest.mark.parametrize(
    ("expr", "when", "due"),
    [
        # the examples of lib/oban/cron/expression.ex now?/2 (v2.23.1)
        ("0 1 * * *", datetime(2025, 1, 1, 1, 0), True),
        ("0 1 * * *", datetime(2025, 1, 1, 2, 0), False),
        ("@reboot", datetime(2025, 1, 1, 2, 0), True),
        ("* * * * *", datetime(2025, 1, 1, 2, 7, 59), True),
        ("*/5 * * * *", datetime(2025, 1, 1, 2, 10), True),
        ("*/5 * * * *", datetime(2025, 1, 1, 2, 11), False),
        ("0 12 * * MON", datetime(2025, 1, 6, 12, 0), True),  # a Monday
        ("0 12 * * MON", datetime(2025, 1, 7, 12, 0), False),
        ("@weekly", datetime(2025, 1, 5, 0, 0), True),  # a Sunday is 0
        # days AND weekdays, as Oban (not Vixie cron's OR): the first Monday only
        ("0 0 1-7 * 1", datetime(2025, 1, 6, 0, 0), True),
        ("0 0 1-7 * 1", datetime(2025, 1, 13, 0, 0), False),
        ("0 0 1-7 * 1", datetime(2025, 1, 1, 0, 0), False),
        ("0 0 29 2 *", datetime(2024, 2, 29, 0, 0), True),
        ("@yearly", datetime(2026, 1, 1, 0, 0), True),
        ("@monthly", datetime(2026, 3, 1, 0, 0), True),
        ("@hourly", datetime(2026, 3, 1, 5, 1), False),
    ],
)
def test_matches(expr: str, when: datetime, due: bool) -> None:
    assert cron.matches(cron.parse(expr), when) is due


def test_local_minute_applies_the_timezone_and_dst() -> None:
    chicago = ZoneInfo("America/Chicago")
    nine = cron.parse("0 9 * * *")
    assert cron.matches(nine, cron.local_minute(datetime(2026, 1, 15, 15, 0), chicago))  # CST
    assert cron.matches(nine, cron.local_minute(datetime(2026, 7, 15, 14, 0), chicago))  # CDT
    assert not cron.matches(nine, cron.local_minute(datetime(2026, 7, 15, 15, 0), chicago))
    # spring forward: 02:30 does not exist that day, so it is never due (as Oban)
    half_two = cron.parse("30 2 * * *")
    day = [datetime(2026, 3, 8, h, m) for h in range(5, 12) for m in range(60)]
    assert not any(cron.matches(half_two, cron.local_minute(t, chicago)) for t in day)


def test_minute_arithmetic() -> None:
    now = datetime(2026, 1, 1, 10, 4, 59, 750_000, tzinfo=timezone.utc)
    assert cron.minute_of(now) == datetime(2026, 1, 1, 10, 4, tzinfo=timezone.utc)
    assert cron.seconds_to_next_minute(now) == pytest.approx(0.25)
    assert cron.seconds_to_next_minute(cron.minute_of(now)) == 60.0


def test_entry_job_merges_worker_options_and_cron_meta() -> None:
    entry = cron.cast_entry(
        ("@daily", "MyApp.Report", {"args": {"k": 1}, "queue": "reports", "meta": {"a": 1}})
    )
    job = cron.entry_job(entry, {"queue": "default", "max_attempts": 3, "priority": 2})
    assert (job.worker, job.args, job.queue, job.max_attempts, job.priority) == (
        "MyApp.Report", {"k": 1}, "reports", 3, 2,
    )  # fmt: skip
    assert job.meta == {"a": 1, "cron": True, "cron_expr": "@daily", "cron_tz": "Etc/UTC"}
    tz = cron.cast_entry(("0 9 * * *", "W", {"timezone": "America/Chicago"}))
    assert cron.entry_job(tz, {}).meta["cron_tz"] == "America/Chicago"


def test_entry_job_merges_unique_key_by_key() -> None:
    entry = cron.cast_entry(("* * * * *", "W", {"unique": {"period": 30}}))
    job = cron.entry_job(entry, {"unique": {"period": 120, "fields": ["worker"]}})
    assert job.unique is not None
    assert (job.unique.period, job.unique.fields) == (30, ("worker",))


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        (("60 * * * *", "W"), "expression field 60 is out of range: 0..59"),
        (("* * * * *",), "expected (expr, worker[, options])"),
        (("* * * * *", ""), "the worker must be a name string"),
        (("* * * * *", "W", {"bogus": 1}), "unknown options ['bogus']"),
        (("* * * * *", "W", {"priority": 12}), "priority"),
        (("* * * * *", "W", {"args": [1]}), "args"),
    ],
)
def test_bad_entries_name_the_entry(entry: tuple[object, ...], says: str) -> None:
    with pytest.raises(ValidationError) as caught:
        cron.cast_entry(entry)
    assert caught.value.field == "crontab"
    assert "crontab entry" in str(caught.value) and says in str(caught.value)


def test_lock_keys_are_outside_elixirs_range_and_per_entry() -> None:
    a = cron.entry_job(cron.cast_entry(("* * * * *", "W", {"args": {"n": 1}})), {})
    b = cron.entry_job(cron.cast_entry(("* * * * *", "W", {"args": {"n": 2}})), {})
    keys = {cron.lock_key("public", a), cron.lock_key("public", b), cron.lock_key("p2", a)}
    assert len(keys) == 3 and all(k < 0 for k in keys)


def test_worker_cron_is_checked_at_decoration() -> None:
    from bridge.runtime.worker import Registry, worker

    registry = Registry()

    def perform(job: object) -> None:
        return None

    spec = worker("W.Every", cron="*/10 * * * *", registry=registry)(perform)
    assert spec.cron == "*/10 * * * *"
    with pytest.raises(ValidationError, match=r"out of range: 0\.\.23"):
        worker("W.Bad", cron="0 24 * * *", registry=registry)(perform)
