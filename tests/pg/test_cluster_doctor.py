"""``oban-bridge doctor`` on real databases with planted hazards: each caught, with its fix
line, and the exit code it deserves."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest
from cluster_support import ELIXIR_UUID, OLD_ELIXIR_SONAR, Publisher, mixed_cluster

from bridge.cli import main
from bridge.ops.cluster import doctor_facts
from bridge.pg.cluster import utc_now
from bridge.pg.source import Source

pytestmark = pytest.mark.pg

UNKNOWN = '{"at": "2026-12-01T11:59:00.000000Z", "attempt": 1, "error": "** (RuntimeError) unknown worker: py.tasks.send"}'  # noqa: E501

#: each hazard, planted by SQL (the cluster's gossip is published separately)
PLANTS = {
    "column_comments": "COMMENT ON COLUMN oban_jobs.args IS 'planted'",
    "missing_indexes": "DROP INDEX oban_jobs_state_queue_priority_scheduled_at_id_index",
    "non_object_args": "INSERT INTO oban_jobs (queue, worker, args) "
    "VALUES ('mailers', 'MyApp.Mailer', '[1, 2]')",
    "null_meta": "INSERT INTO oban_jobs (queue, worker, args, meta) "
    "VALUES ('mailers', 'MyApp.Mailer', '{}', NULL)",
    "available_exhausted": "INSERT INTO oban_jobs (queue, worker, args, attempt, max_attempts) "
    "VALUES ('mailers', 'MyApp.Mailer', '{}', 3, 3)",
    "executing_too_long": "INSERT INTO oban_jobs (state, queue, worker, args, attempt, "
    "attempted_at, attempted_by) VALUES ('executing', 'mailers', 'MyApp.Mailer', '{}', 1, "
    f"timezone('UTC', now()) - interval '3 hours', '{{web-1,{ELIXIR_UUID}}}')",
    # Elixir's web-1 claimed a Python job in the Python queue and failed it
    "unknown_worker_errors": "INSERT INTO oban_jobs (state, queue, worker, args, attempt, "
    "attempted_at, attempted_by, errors) VALUES ('retryable', 'py', 'py.tasks.send', '{}', 1, "
    f"timezone('UTC', now()) - interval '1 minute', '{{web-1,{ELIXIR_UUID}}}', "
    f"ARRAY['{UNKNOWN}'::jsonb])",
    # a Python job waiting in a queue Elixir's web-1 runs (web-1 gossips "mailers")
    "python_jobs_in_elixir_queue": "INSERT INTO oban_jobs (queue, worker, args) "
    "VALUES ('mailers', 'py.tasks.send', '{}')",
}
#: caught without a planted row: from the gossip, the old node's ping, the empty oban_peers
FROM_THE_WIRE = ("python_queue_served_by_elixir", "z_with_legacy_nodes", "no_leader")


def plant(dsn: str, *statements: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        for sql in statements:
            conn.execute(sql)


def live_leader(dsn: str) -> None:
    plant(
        dsn,
        "INSERT INTO oban_peers (name, node, started_at, expires_at) VALUES ('Oban', 'web-1', "
        "timezone('UTC', now()), timezone('UTC', now()) + interval '30 seconds')",
    )


def doctor(capsys: Any, dsn: str, *extra: str) -> tuple[int, str]:
    code = main(["doctor", "--dsn", dsn, "--wait", "1.2", *extra])
    return code, capsys.readouterr().out


def test_planted_hazards_are_each_caught_with_a_fix(dsn: str, capsys: Any) -> None:
    plant(dsn, *PLANTS.values())
    with Publisher(dsn, mixed_cluster()):
        code, out = doctor(capsys, dsn, "--json", "--compress-signals")
    report = json.loads(out)
    found = {f["code"]: f for f in report["findings"]}
    for name in (*PLANTS, *FROM_THE_WIRE):
        assert name in found, f"{name} not caught: {sorted(found)}"
        assert found[name]["fix"], f"{name} has no fix"
        assert found[name]["severity"] in ("error", "warning")
    assert code == report["exit"] == 2
    assert "oban_jobs_state_queue_priority_scheduled_at_id_index" in found["missing_indexes"]["fix"]
    assert found["column_comments"]["fix"] == 'COMMENT ON COLUMN "public".oban_jobs.args IS NULL'
    assert "vec-elixir-1" in found["z_with_legacy_nodes"]["message"]  # 2.18.3's recorded ping
    assert "web-1" in found["python_queue_served_by_elixir"]["message"]
    assert found["notifier"]["severity"] == "info"


def test_the_text_report_prints_a_fix_line_under_each_hazard(dsn: str, capsys: Any) -> None:
    plant(dsn, PLANTS["available_exhausted"], PLANTS["non_object_args"])
    live_leader(dsn)
    code, out = doctor(capsys, dsn)
    lines = out.splitlines()
    assert code == 2
    for mark in ("ERROR non_object_args:", "WARN  available_exhausted:"):
        at = next(i for i, line in enumerate(lines) if line.startswith(mark))
        block = []
        for line in lines[at + 1 :]:
            if not line.startswith("      "):
                break
            block.append(line)
        assert any(line.startswith("      fix: ") for line in block), lines[at:]
    assert "WARN  unclaimed_jobs: 2 available jobs of MyApp.Mailer" in out  # nobody runs it
    assert lines[-1] == "1 error(s), 2 warning(s): errors (exit 2)"


def test_exit_codes_follow_the_worst_finding(dsn: str, capsys: Any) -> None:
    live_leader(dsn)
    assert doctor(capsys, dsn)[0] == 0
    plant(dsn, PLANTS["missing_indexes"])
    assert doctor(capsys, dsn)[0] == 1
    plant(dsn, PLANTS["non_object_args"])
    assert doctor(capsys, dsn)[0] == 2


@pytest.mark.parametrize(
    ("comment", "version", "bad"), [("'∞'", None, None), ("'fourteen'", None, "fourteen")]
)
def test_table_comments_oban_reads_specially(
    dsn: str, comment: str, version: int | None, bad: str | None
) -> None:
    plant(dsn, f"COMMENT ON TABLE oban_jobs IS {comment}")
    with Source(dsn, schema_version=None) as source:
        facts = source.run(doctor_facts("public", now=utc_now(), rescue_after=3600, recent=900))
    assert (facts.schema.version, facts.schema.bad_comment) == (version, bad)
    assert facts.schema.missing_indexes == ()  # still read as a full V14


def test_a_v12_database_and_a_missing_schema(migrated: Any, empty_dsn: str, capsys: Any) -> None:
    v12 = migrated(12)
    live_leader(v12)
    code, out = doctor(capsys, v12, "--json", "--wait", "0")
    found = {f["code"]: f for f in json.loads(out)["findings"]}
    assert code == 0 and found["schema_version"]["severity"] == "info"
    code, out = doctor(capsys, empty_dsn, "--json", "--wait", "0")
    found = {f["code"]: f for f in json.loads(out)["findings"]}
    assert code == 2 and found["schema_missing"]["fix"] == "oban-bridge migrate --prefix public"


def test_a_prefix_is_checked_and_heard_on_its_own(migrated: Any, capsys: Any) -> None:
    tenant = migrated(14, prefix="tenant_a")
    plant(
        tenant,
        "INSERT INTO tenant_a.oban_jobs (queue, worker, args, attempt, max_attempts) "
        "VALUES ('mailers', 'MyApp.Mailer', '{}', 2, 2)",
    )
    public = [("sonar", OLD_ELIXIR_SONAR)]  # an old node of another prefix: not this cluster
    own = [("sonar", '{"node":"tenant-web","ping":true}')]
    with Publisher(tenant, public), Publisher(tenant, own, prefix="tenant_a"):
        code, out = doctor(capsys, tenant, "--prefix", "tenant_a", "--json", "--compress-signals")
    found = {f["code"]: f for f in json.loads(out)["findings"]}
    assert code == 2  # no leader in tenant_a
    assert found["available_exhausted"]["fix"].startswith('UPDATE "tenant_a".oban_jobs')
    assert "tenant-web" in found["nodes_heard"]["message"]
    assert "vec-elixir-1" not in out and "z_with_legacy_nodes" not in found
