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
import sys
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from bridge import Client, Job
from bridge.conformance import workers
from bridge.conformance.nodes import NodeStopTimeout, PythonNode
from bridge.conformance.normalize import normalize
from bridge.conformance.scenario import ScenarioError
from bridge.conformance.terms import build, describe
from bridge.pg.migrations import check_schema, migrate
from bridge.wire import etf, notify
from bridge.wire.recorded import decode_recorded, encode_recorded, fetch_recorded

Action = Callable[["Env", dict[str, Any]], Any]


class Failed(Exception):
    """A check failed; the message is the readable diff."""


class Skipped(Exception):
    """The scenario cannot run here (e.g. the harness lacks oban_met); the message says why."""


class Env:
    """What actions see: the scenario's database and its notification log."""

    def __init__(self, dsn: str, schema_version: int):
        self.dsn = dsn
        self.schema_version = schema_version
        self.conn = psycopg.connect(dsn, autocommit=True)
        self.notifications: list[dict[str, Any]] = []
        self.nodes: dict[str, PythonNode] = {}

    def client(
        self, prefix: str = "public", schema_version: int | None = None, compress: bool = False
    ) -> Client:
        version = schema_version or self.schema_version
        return Client(self.conn, prefix=prefix, schema_version=version, compress_signals=compress)

    def close(self) -> None:
        for name, node in self.nodes.items():
            try:
                node.stop()
            except Exception as exc:  # the scenario's verdict stands; say why teardown failed
                print(f"conformance: stopping Python node {name} failed: {exc!r}", file=sys.stderr)
        self.nodes.clear()
        self.conn.close()


def job_view(job: Job) -> dict[str, Any]:
    data = job.to_dict()
    data["conflict?"] = job.conflict
    return data


def _opts(args: dict[str, Any]) -> dict[str, Any]:
    opts = dict(args.get("opts", {}))
    if isinstance(opts.get("schedule_in"), list):
        opts["schedule_in"] = tuple(opts["schedule_in"])
    if isinstance(opts.get("scheduled_at"), str):  # ISO-8601, as the harness's insert takes it
        opts["scheduled_at"] = datetime.fromisoformat(opts["scheduled_at"].replace("Z", "+00:00"))
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

# NOT NULL is read from pg_attribute.attnotnull; PostgreSQL 18 also lists each one in
# pg_constraint (contype 'n'), which 15-17 never did: leave those out so a catalog reads the
# same on every server version.
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
                  FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype <> 'n'),
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


# -- Python nodes (the worker runtime) ----------------------------------------------------------


def bridge_start_node(env: Env, args: dict[str, Any]) -> Any:
    """Start a ``Node`` named ``node`` serving ``queues`` with the conformance ``workers``.

    ``workers`` maps a worker name from ``conformance/workers.py`` to the queue it is
    served in (``{"conformance.workers.EchoWorker": "py"}``).
    """
    name = args.get("node", "py-1")
    if name in env.nodes:
        raise Failed(f"a Python node named {name!r} is already running")
    try:
        specs = [workers.for_queue(w, q) for w, q in sorted(args["workers"].items())]
    except LookupError as exc:
        raise ScenarioError(str(exc)) from None
    env.nodes[name] = PythonNode(
        env.dsn,
        name=name,
        queues=args["queues"],
        workers=specs,
        schema_version=args.get("schema_version", env.schema_version),
        prefix=args.get("prefix", "public"),
        instance=args.get("instance", "Oban"),
        peer_name=args.get("peer_name", "Bridge"),
        snooze=args.get("snooze", "max_attempts"),
        grace_period=args.get("grace_period", 2.0),
        crontab=args.get("crontab", ()),
    )
    return {"node": name, "queues": args["queues"], "workers": sorted(args["workers"])}


def bridge_stop_node(env: Env, args: dict[str, Any]) -> Any:
    name = args.get("node", "py-1")
    node = env.nodes.pop(name, None)
    if node is None:
        raise Failed(f"no Python node named {name!r} is running")
    try:
        node.stop()
    except NodeStopTimeout as exc:
        raise Failed(str(exc)) from None
    return {"stopped": name}


def _poll(timeout_ms: int, probe: Callable[[], tuple[bool, Any]]) -> tuple[bool, Any]:
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        done, value = probe()
        if done or time.monotonic() >= deadline:
            return done, value
        time.sleep(0.02)


def bridge_wait_job(env: Env, args: dict[str, Any]) -> Any:
    """The job's row once its state is in ``states`` (polled; like the harness's wait_job) and
    it has at least ``min_errors`` errors (default 0)."""
    states = args.get("states", ["completed"])

    min_errors = args.get("min_errors", 0)

    def probe() -> tuple[bool, Any]:
        row = db_row(env, args)
        done = row is not None and row["state"] in states and len(row["errors"]) >= min_errors
        return done, row

    done, row = _poll(args.get("timeout_ms", 5000), probe)
    if not done:
        last = f"{row['state']}, {len(row['errors'])} error(s)" if row else "missing"
        raise Failed(f"timeout (last state: {last})")
    return row


def bridge_wait(env: Env, args: dict[str, Any]) -> Any:
    """``Client.wait``: the state it found first (the caller did wait), then the finished job's
    state and its recorded output (described)."""
    client = env.client(args.get("prefix", "public"))
    was = client.get_job(args["id"]).state.value
    done = client.wait(args["id"], timeout=args.get("timeout", 10))
    value = describe(done.value) if done.recorded else None
    return {"was": was, "state": done.state.value, "recorded": done.recorded, "value": value}


def bridge_retry_jobs(env: Env, args: dict[str, Any]) -> Any:
    """``Client.retry_job`` for every job of ``worker`` in ``states`` (default retryable)."""
    query = sql.SQL("SELECT id FROM {}.oban_jobs WHERE worker = %s AND state = ANY(%s)").format(
        sql.Identifier(args.get("prefix", "public"))
    )
    states = args.get("states", ["retryable"])
    client = env.client(args.get("prefix", "public"))
    for (job_id,) in env.conn.execute(query, (args["worker"], states)).fetchall():
        client.retry_job(job_id)
    return True  # how many differs run to run (who fetched what), so it is not the result


def db_wait_count(env: Env, args: dict[str, Any]) -> Any:
    """Wait until ``count`` jobs of ``worker`` are in ``states``; returns that count."""
    query = sql.SQL(
        "SELECT count(*) FROM {}.oban_jobs WHERE worker = %s AND state = ANY(%s)"
    ).format(sql.Identifier(args.get("prefix", "public")))
    states = args.get("states", ["completed"])

    def probe() -> tuple[bool, Any]:
        row = env.conn.execute(query, (args["worker"], states)).fetchone()
        count = row[0] if row else 0
        return count >= args["count"], count

    done, count = _poll(args.get("timeout_ms", 10000), probe)
    if not done:
        raise Failed(f"timeout: {count} of {args['count']} {args['worker']} jobs in {states}")
    return count


def db_cron_job(env: Env, args: dict[str, Any]) -> Any:
    """The first job cron inserted for ``worker`` (waited for): id, queue, args and meta."""
    query = sql.SQL(
        "SELECT id, queue, args, meta FROM {}.oban_jobs WHERE worker = %s"
        " AND meta @> '{{\"cron\": true}}' ORDER BY id LIMIT 1"
    ).format(sql.Identifier(args.get("prefix", "public")))

    def probe() -> tuple[bool, Any]:
        row = env.conn.execute(query, (args["worker"],)).fetchone()
        return row is not None, row

    done, row = _poll(args.get("timeout_ms", 10000), probe)
    if not done:
        raise Failed(f"timeout: no cron job of {args['worker']}")
    return dict(zip(("id", "queue", "args", "meta"), row, strict=True))


def db_tally(env: Env, args: dict[str, Any]) -> Any:
    """Jobs counted by (worker, state, node that ran the last attempt), each group with the
    distinct first lines of its errors — except those matching ``ignore_errors``."""
    query: sql.Composed = sql.SQL(
        "SELECT worker, state, attempted_by, errors FROM {}.oban_jobs"
    ).format(sql.Identifier(args.get("prefix", "public")))
    params: tuple[Any, ...] = ()
    if "queue" in args:
        query = query + sql.SQL(" WHERE queue = %s")
        params = (args["queue"],)
    ignore = re.compile(args["ignore_errors"]) if args.get("ignore_errors") else None
    groups: dict[tuple[str, str, str | None], dict[str, Any]] = {}
    for worker, state, attempted_by, errors in env.conn.execute(query, params).fetchall():
        node = attempted_by[0] if attempted_by else None
        group = groups.setdefault(
            (worker, state, node),
            {"worker": worker, "state": state, "node": node, "count": 0, "errors": set()},
        )
        group["count"] += 1
        for error in errors:
            first = str(error.get("error", "")).splitlines()[0] if error.get("error") else ""
            if ignore is None or not ignore.search(first):
                group["errors"].add(first)
    return [
        {**g, "errors": sorted(g["errors"])}
        for _, g in sorted(groups.items(), key=lambda kv: tuple(str(k) for k in kv[0]))
    ]


def db_peers(env: Env, args: dict[str, Any]) -> Any:
    """``oban_peers`` as ``{name: node}`` (only ``names`` if given), once ``wait_for`` is there."""
    query = sql.SQL("SELECT name, node FROM {}.oban_peers ORDER BY name").format(
        sql.Identifier(args.get("prefix", "public"))
    )
    names = args.get("names")

    def probe() -> tuple[bool, Any]:
        rows = {n: node for n, node in env.conn.execute(query).fetchall()}
        return args.get("wait_for") in (None, *rows), rows

    done, rows = _poll(args.get("timeout_ms", 5000), probe)
    if not done:
        raise Failed(f"timeout: no {args['wait_for']!r} row in oban_peers (have {rows})")
    return {n: node for n, node in rows.items() if names is None or n in names}


# -- signals (issue 8) --------------------------------------------------------------------------

_SIGNAL_ARGS = {"queue", "limit", "paused", "node", "instance", "compress", "prefix"}


def _signal_action(name: str) -> Action:
    """``bridge.<name>``: ``Client.<name>`` as a user calls it (``compress``: a client made
    with ``compress_signals=True``); returns ``"ok"`` as the harness's own commands do."""

    def action(env: Env, args: dict[str, Any]) -> Any:
        unknown = set(args) - _SIGNAL_ARGS
        if unknown:
            raise ScenarioError(f"bridge.{name}: unknown argument(s) {sorted(unknown)}")
        client = env.client(args.get("prefix", "public"), compress=args.get("compress", False))
        scope = {k: args[k] for k in ("node", "instance") if k in args}
        if name in ("pause_all_queues", "resume_all_queues"):
            getattr(client, name)(**scope)
        elif name == "scale_queue":
            client.scale_queue(args["queue"], args["limit"], **scope)
        elif name == "start_queue":
            client.start_queue(
                args["queue"], args["limit"], paused=args.get("paused", False), **scope
            )
        else:
            getattr(client, name)(args["queue"], **scope)
        return "ok"

    action.__name__ = f"bridge_{name}"
    return action


def _node(env: Env, args: dict[str, Any]) -> PythonNode:
    name = args.get("node", "py-1")
    node = env.nodes.get(name)
    if node is None:
        raise Failed(f"no Python node named {name!r} is running")
    return node


def bridge_check_queue(env: Env, args: dict[str, Any]) -> Any:
    """A Python node's producer for ``queue`` as ``{"paused", "limit", "running"}`` (``None``
    when the node runs no such queue), like the harness's ``check_queue``; with ``until``
    (a map of those keys, or ``null`` for "not running") polled until it matches."""
    node = _node(env, args)
    queue = args["queue"]
    if "until" not in args:
        return node.check(queue)
    want = args["until"]

    def probe() -> tuple[bool, Any]:
        check = node.check(queue)
        if want is None or check is None:
            return want is None and check is None, check
        return all(check.get(k) == v for k, v in want.items()), check

    done, check = _poll(args.get("timeout_ms", 5000), probe)
    if not done:
        raise Failed(f"timeout: queue {queue!r} on {node.name} is {check}, wanted {want}")
    return check


def bridge_sonar_status(env: Env, args: dict[str, Any]) -> Any:
    """A Python node's sonar (status and nodes heard), once ``wait_for`` is among the nodes."""
    node = _node(env, args)
    wait_for = args.get("wait_for")

    def probe() -> tuple[bool, Any]:
        seen = node.sonar()
        return wait_for is None or wait_for in seen["nodes"], seen

    done, seen = _poll(args.get("wait_ms", 0), probe)
    if not done:
        raise Failed(f"timeout: {node.name}'s sonar has not heard {wait_for!r}: {seen}")
    return seen


def _contains(have: Any, want: Any) -> bool:
    """``want`` is in ``have``: maps by subset, lists by each wanted item matching one."""
    if isinstance(want, dict):
        return isinstance(have, dict) and all(
            k in have and _contains(have[k], v) for k, v in want.items()
        )
    if isinstance(want, list):
        return isinstance(have, list) and all(any(_contains(h, w) for h in have) for w in want)
    return bool(have == want)


def notifications_wait(env: Env, args: dict[str, Any]) -> Any:
    """The first NOTIFY on ``channel`` whose decoded payload contains ``where``, heard on a
    LISTEN session of this step's own (for periodic messages: sonar pings, gossip).

    Returns ``{"channel", "decoded"}`` and, with ``raw``, the ``payload`` text.
    """
    channel = notify.channel_name(args.get("prefix", "public"), args["channel"])
    where = args.get("where", {})
    deadline = time.monotonic() + args.get("timeout_ms", 8000) / 1000
    seen = 0
    with psycopg.connect(env.dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
        while (left := deadline - time.monotonic()) > 0:
            for note in conn.notifies(timeout=left, stop_after=1):
                seen += 1
                decoded = notify.decode_payload(note.payload)
                if _contains(decoded, where):
                    found = {"channel": note.channel, "decoded": decoded}
                    if args.get("raw"):
                        found["payload"] = note.payload
                    return found
    raise Failed(f"timeout: none of the {seen} NOTIFY(s) on {channel} contains {where}")


def skip_unless(env: Env, args: dict[str, Any]) -> Any:
    """Skip the rest of the scenario, saying ``reason``, unless ``that`` is truthy."""
    if not args.get("that"):
        raise Skipped(args["reason"])
    return True


# -- comparing a Python-run row with an Elixir-run row ------------------------------------------

_TIMESTAMPS = (
    "inserted_at",
    "scheduled_at",
    "attempted_at",
    "completed_at",
    "discarded_at",
    "cancelled_at",
)
_UUID_TEXT = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_KIND = re.compile(r"^\*\* \(([^)]+)\) ")


def _timestamp(text: str) -> datetime:
    """PostgreSQL's ``timestamp`` JSON text (fraction trimmed), on Python 3.10 too."""
    head, _, fraction = text.partition(".")
    return datetime.fromisoformat(f"{head}.{(fraction or '0').ljust(6, '0')[:6]}")


def row_shape(
    row: dict[str, Any], *, mask_kind: bool = False, deltas: dict[str, Any] | None = None
) -> dict[str, Any]:
    """What must be equal between two languages' runs of the same behaviour.

    Every column as is, except: ``id`` dropped; ``worker`` and ``queue`` as placeholders
    (the error text has the worker name replaced too); timestamps as set/None;
    ``attempted_by`` as ``["<node>", "<uuid>"]`` when it has that form; errors as
    ``attempt``, ``at`` set or not, and the first line of the text (with ``mask_kind``,
    the exception module masked: Elixir raises ArgumentError where Python raises
    ValueError); recorded output (``meta.return``) as the term it decodes to.
    ``deltas`` ``{"scheduled_at": ["attempted_at", lo, hi]}`` adds whether
    ``scheduled_at - attempted_at`` lies in [lo, hi] seconds (else the value).
    """
    worker = row["worker"]
    shape: dict[str, Any] = {}
    for key, value in row.items():
        if key == "id":
            continue
        if key in ("worker", "queue"):
            shape[key] = f"<{key}>"
        elif key in _TIMESTAMPS:
            shape[key] = None if value is None else "set"
        elif key == "attempted_by":
            node_and_uuid = (
                isinstance(value, list)
                and len(value) == 2
                and bool(value[0])
                and _UUID_TEXT.match(str(value[1])) is not None
            )
            shape[key] = ["<node>", "<uuid>"] if node_and_uuid else value
        elif key == "errors":
            shape[key] = [_error_shape(e, worker, mask_kind) for e in value]
        elif key == "meta" and isinstance(value, dict) and isinstance(value.get("return"), str):
            # the term, not the bytes: OTP 25 writes atoms as ATOM_EXT, OTP 26+ (and bridge)
            # as SMALL_ATOM_UTF8_EXT; both decode to the same term everywhere
            term = describe(decode_recorded(value["return"], allow_opaque=True))
            shape[key] = {**value, "return": {"decodes_to": term}}
        else:
            shape[key] = value
    for column, (origin, low, high) in (deltas or {}).items():
        label = f"{column} - {origin}"
        if row.get(column) is None or row.get(origin) is None:
            shape[label] = "missing"
            continue
        seconds = (_timestamp(row[column]) - _timestamp(row[origin])).total_seconds()
        shape[label] = f"in [{low}, {high}] s" if low <= seconds <= high else f"{seconds:.3f} s"
    return shape


def _error_shape(error: dict[str, Any], worker: str, mask_kind: bool) -> dict[str, Any]:
    text = str(error.get("error") or "")
    first = text.splitlines()[0] if text else text
    first = first.replace(worker, "<worker>")
    if mask_kind:
        first = _KIND.sub("** (<Kind>) ", first)
    out = {k: v for k, v in error.items() if k not in ("at", "error")}
    out["at"] = "set" if error.get("at") else None
    out["error"] = first
    return out


def row_shape_action(env: Env, args: dict[str, Any]) -> Any:
    """One row's ``row_shape`` (for checks on a row with no Elixir twin)."""
    return row_shape(args["row"], mask_kind=args.get("mask_kind", False), deltas=args.get("deltas"))


def rows_alike(env: Env, args: dict[str, Any]) -> Any:
    """The ``python`` and ``elixir`` rows have the same shape (see ``row_shape``)."""
    opts = {"mask_kind": args.get("mask_kind", False), "deltas": args.get("deltas")}
    python = row_shape(args["python"], **opts)
    elixir = row_shape(args["elixir"], **opts)
    if python != elixir:
        raise Failed(f"the Python-run row differs from the Elixir-run row\n{diff(elixir, python)}")
    for label, verdict in python.items():
        if " - " in label and not str(verdict).startswith("in ["):
            raise Failed(f"{label}: {verdict} on both sides, outside {args['deltas']}")
    return {"python": python, "elixir": elixir}


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
    "db.wait_count": db_wait_count,
    "db.tally": db_tally,
    "db.cron_job": db_cron_job,
    "db.peers": db_peers,
    "bridge.start_node": bridge_start_node,
    "bridge.stop_node": bridge_stop_node,
    "bridge.wait_job": bridge_wait_job,
    "bridge.wait": bridge_wait,
    "bridge.retry_jobs": bridge_retry_jobs,
    "rows.alike": rows_alike,
    "row.shape": row_shape_action,
    "notifications.take": notifications_take,
    "sleep": sleep,
    "expect": expect,
    **{
        f"bridge.{name}": _signal_action(name)
        for name in (
            "pause_queue",
            "resume_queue",
            "pause_all_queues",
            "resume_all_queues",
            "scale_queue",
            "start_queue",
            "stop_queue",
        )
    },
    "bridge.check_queue": bridge_check_queue,
    "bridge.sonar_status": bridge_sonar_status,
    "notifications.wait": notifications_wait,
    "skip.unless": skip_unless,
}

#: steps whose result is not compared with the recording offline: checks, and waits on a
#: Python node's state (a producer's running jobs at that instant may differ run to run; the
#: wait's condition and the ``expect`` steps after it are what is checked)
UNRECORDED = frozenset(
    {
        "expect",
        "notifications.take",
        "sleep",
        "skip.unless",
        "bridge.check_queue",
        "bridge.sonar_status",
    }
)
