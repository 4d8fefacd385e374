"""What each scenario step does on the bridge side, on the database, and in checks.

``bridge.*`` steps call the public API exactly as a user would; ``db.*`` steps
observe PostgreSQL (rows, catalog); ``expect`` compares; ``notifications.take``
hands over what the LISTEN session saw. ``elixir.*`` steps are forwarded to the
harness by the runner (see ``runner.py``), which also replays them offline.
"""

from __future__ import annotations

import difflib
import json
import re
import time
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import sql

from bridge import Client, Job
from bridge.pg.migrations import check_schema, migrate
from bridge.wire import etf, notify
from bridge.wire.recorded import decode_recorded, encode_recorded, fetch_recorded
from conformance.normalize import normalize
from conformance.terms import build, describe

Action = Callable[["Env", dict[str, Any]], Any]


class Failed(Exception):
    """A check failed; the message is the readable diff."""


class Env:
    """What actions see: the scenario's database and its notification log."""

    def __init__(self, dsn: str, schema_version: int):
        self.dsn = dsn
        self.schema_version = schema_version
        self.conn = psycopg.connect(dsn, autocommit=True)
        self.notifications: list[dict[str, Any]] = []

    def client(self, prefix: str = "public", schema_version: int | None = None) -> Client:
        version = schema_version or self.schema_version
        return Client(self.conn, prefix=prefix, schema_version=version)

    def close(self) -> None:
        self.conn.close()


def job_view(job: Job) -> dict[str, Any]:
    data = job.to_dict()
    data["conflict?"] = job.conflict
    return data


def _opts(args: dict[str, Any]) -> dict[str, Any]:
    opts = dict(args.get("opts", {}))
    if isinstance(opts.get("schedule_in"), list):
        opts["schedule_in"] = tuple(opts["schedule_in"])
    return opts


# -- bridge -------------------------------------------------------------------------------------


def bridge_migrate(env: Env, args: dict[str, Any]) -> Any:
    result = migrate(env.conn, version=args["version"], prefix=args.get("prefix", "public"))
    return {"from": result.from_version, "to": result.to_version}


def bridge_check(env: Env, args: dict[str, Any]) -> Any:
    report = check_schema(env.conn, version=args["version"], prefix=args.get("prefix", "public"))
    return {
        "version": report.version,
        "ok": report.ok,
        "variants": sorted(v.code for v in report.variants),
    }


def bridge_enqueue(env: Env, args: dict[str, Any]) -> Any:
    client = env.client(args.get("prefix", "public"), args.get("schema_version"))
    return job_view(client.enqueue(args["worker"], args.get("args", {}), **_opts(args)))


def bridge_insert_all(env: Env, args: dict[str, Any]) -> Any:
    client = env.client(args.get("prefix", "public"))
    jobs = [Job.new(j["worker"], j.get("args", {}), **_opts(j)) for j in args["jobs"]]
    return [job_view(job) for job in client.insert_all(jobs)]


def bridge_cancel_job(env: Env, args: dict[str, Any]) -> Any:
    return job_view(env.client(args.get("prefix", "public")).cancel_job(args["id"]))


def bridge_retry_job(env: Env, args: dict[str, Any]) -> Any:
    return job_view(env.client(args.get("prefix", "public")).retry_job(args["id"]))


def bridge_encode_recorded(env: Env, args: dict[str, Any]) -> Any:
    return encode_recorded(build(args["value"]), compressed=args.get("compressed", True))


def bridge_decode_recorded(env: Env, args: dict[str, Any]) -> Any:
    """Decode Elixir's text, and prove losslessness: re-encoding gives Elixir's bytes."""
    value = decode_recorded(args["text"], allow_opaque=True)
    again = encode_recorded(
        value,
        compressed=args.get("compressed", False),
        minor_version=args.get("minor_version", 1),
        deterministic=False,
        limit=None,
    )
    return {"value": describe(value), "reencoded_identical": again == args["text"].rstrip("=")}


def bridge_record(env: Env, args: dict[str, Any]) -> Any:
    """Write a recorded value into a job's meta the way an acking Python worker will."""
    prefix = args.get("prefix", "public")
    text = encode_recorded(build(args["value"]), compressed=args.get("compressed", True))
    env.conn.execute(
        sql.SQL("UPDATE {}.oban_jobs SET meta = meta || %s::jsonb WHERE id = %s").format(
            sql.Identifier(prefix)
        ),
        (json.dumps({"recorded": True, "return": text}), args["id"]),
    )
    return text


def bridge_fetch_recorded(env: Env, args: dict[str, Any]) -> Any:
    job = env.client(args.get("prefix", "public")).get_job(args["id"])
    return describe(fetch_recorded(job))


def bridge_decode_notifications(env: Env, args: dict[str, Any]) -> Any:
    return [notify.decode_payload(n["payload"]) for n in args["notifications"]]


def bridge_etf_roundtrip(env: Env, args: dict[str, Any]) -> Any:
    """Python's own bytes for a described term (compare with Elixir's term_to_binary)."""
    data = etf.encode(
        build(args["term"]),
        minor_version=args.get("minor_version", 1),
        compressed=args.get("compressed", False),
    )
    return data.hex()


# -- database observations ----------------------------------------------------------------------

_CATALOG = """
SELECT json_build_object(
  'columns', (SELECT json_agg(json_build_array(a.attname, format_type(a.atttypid, a.atttypmod),
                a.attnotnull, pg_get_expr(d.adbin, d.adrelid)) ORDER BY a.attnum)
              FROM pg_attribute a
              LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
              WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
  'indexes', (SELECT json_agg(json_build_array(i.relname, pg_get_indexdef(i.oid))
                              ORDER BY i.relname)
              FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = c.oid),
  'constraints', (SELECT json_agg(json_build_array(conname, pg_get_constraintdef(k.oid),
                                                   convalidated) ORDER BY conname)
                  FROM pg_constraint k WHERE k.conrelid = c.oid),
  'enum', (SELECT json_agg(enumlabel ORDER BY enumsortorder) FROM pg_enum e
           JOIN pg_type t ON t.oid = e.enumtypid WHERE t.typname = 'oban_job_state'
           AND t.typnamespace = n.oid),
  'comment', obj_description(c.oid, 'pg_class'),
  'peers', (SELECT relpersistence FROM pg_class p WHERE p.relname = 'oban_peers'
            AND p.relnamespace = n.oid))
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relname = 'oban_jobs' AND n.nspname = %s
"""


def db_catalog(env: Env, args: dict[str, Any]) -> Any:
    row = env.conn.execute(_CATALOG, (args.get("prefix", "public"),)).fetchone()
    return row[0] if row else None


def db_row(env: Env, args: dict[str, Any]) -> Any:
    query = sql.SQL("SELECT row_to_json(j.*) FROM {}.oban_jobs j WHERE id = %s").format(
        sql.Identifier(args.get("prefix", "public"))
    )
    row = env.conn.execute(query, (args["id"],)).fetchone()
    return row[0] if row else None


def db_count(env: Env, args: dict[str, Any]) -> Any:
    query = sql.SQL("SELECT count(*) FROM {}.oban_jobs WHERE worker = %s").format(
        sql.Identifier(args.get("prefix", "public"))
    )
    return env.conn.execute(query, (args["worker"],)).fetchone()[0]  # type: ignore[index]


def notifications_take(env: Env, args: dict[str, Any]) -> Any:
    """What the LISTEN session saw so far on ``channel`` (then forgotten)."""
    channel = args.get("channel")
    taken = [n for n in env.notifications if channel is None or n["channel"].endswith(channel)]
    env.notifications = [n for n in env.notifications if n not in taken]
    return taken


def sleep(env: Env, args: dict[str, Any]) -> Any:
    time.sleep(args["ms"] / 1000)
    return None


# -- checks -------------------------------------------------------------------------------------


def expect(env: Env, args: dict[str, Any]) -> Any:
    """``that`` compared with ``equals`` / ``not_equals`` / ``subset`` / ``matches`` / ``below``.

    ``normalize`` (default true) hides clocks, uuids and stack frames; ``ignore``
    drops keys (e.g. ``id`` when comparing a bridge row with an Elixir row).
    """
    ignore = args.get("ignore", [])
    norm = args.get("normalize", True)
    that = normalize(args["that"], ignore) if norm else args["that"]
    message = args.get("message", "")
    if "equals" in args:
        want = normalize(args["equals"], ignore) if norm else args["equals"]
        if that != want:
            raise Failed(f"{message}\n{diff(want, that)}".strip())
    if "not_equals" in args:
        other = normalize(args["not_equals"], ignore) if norm else args["not_equals"]
        if that == other:
            raise Failed(f"{message}: both sides are {_dump(that)}")
    if "subset" in args:
        want = normalize(args["subset"], ignore) if norm else args["subset"]
        missing = {k: v for k, v in want.items() if that.get(k) != v}
        if missing:
            got = {k: that.get(k) for k in missing}
            raise Failed(f"{message}\n{diff(missing, got)}".strip())
    if "matches" in args and not re.search(args["matches"], str(args["that"])):
        raise Failed(f"{message}: {args['that']!r} does not match {args['matches']!r}")
    if "below" in args and not args["that"] < args["below"]:
        raise Failed(f"{message}: {args['that']!r} is not below {args['below']!r}")
    return True


def _dump(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str, ensure_ascii=False)


def diff(expected: Any, actual: Any) -> str:
    """A unified diff of two JSON values (expected first)."""
    lines = difflib.unified_diff(
        _dump(expected).splitlines(), _dump(actual).splitlines(), "expected", "actual", lineterm=""
    )
    return "\n".join(lines)


ACTIONS: dict[str, Action] = {
    "bridge.migrate": bridge_migrate,
    "bridge.check": bridge_check,
    "bridge.enqueue": bridge_enqueue,
    "bridge.insert_all": bridge_insert_all,
    "bridge.cancel_job": bridge_cancel_job,
    "bridge.retry_job": bridge_retry_job,
    "bridge.encode_recorded": bridge_encode_recorded,
    "bridge.decode_recorded": bridge_decode_recorded,
    "bridge.record": bridge_record,
    "bridge.fetch_recorded": bridge_fetch_recorded,
    "bridge.decode_notifications": bridge_decode_notifications,
    "bridge.etf_encode": bridge_etf_roundtrip,
    "db.catalog": db_catalog,
    "db.row": db_row,
    "db.count": db_count,
    "notifications.take": notifications_take,
    "sleep": sleep,
    "expect": expect,
}
