"""Oban's schema migrations (V01–V14), the version Oban records, and what ``migrate --check`` sees.

The DDL lives in ``schema/postgres/vNN_{up,down}.sql`` (shipped in the wheel as
``bridge._schema``); this module only decides which statements run, in which order, and
reads the version back exactly as Oban does. Pure: it yields :class:`Statement` values and
never imports psycopg. Run :func:`migrate` inside one transaction (``conn.transaction()``),
as Oban's Ecto migration does; PostgreSQL 12+ allows the two ``ALTER TYPE … ADD VALUE``
steps (V09, V14) there because nothing in the same run uses the new label.

Enum history: a fresh install to version N reproduces what the last Oban release whose
newest migration is N leaves behind — V01 creates all 8 labels only when this run goes to
V14 (as v2.21.0+ does), otherwise the 6 labels of v2.18.3, to which V09 appends
``cancelled`` and V14 adds ``suspended`` (enumsortorder 1.5, as a real 12→14 upgrade).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal

from bridge._resources import schema_dir
from bridge.errors import (
    ConfigError,
    SchemaError,
    SchemaManagedExternally,
    SchemaMissing,
    SchemaOutdated,
)
from bridge.names import CHANNELS, MAX_IDENTIFIER_BYTES, MIGRATION_LOCK_CLASS
from bridge.ops._types import Op, Row, Statement

CURRENT_VERSION = 14  # mirrors lib/oban/migrations/postgres.ex @current_version
#: the table comment Oban Pro's DynamicPartitioner writes — mirrors postgres.ex migrated_version/1
MANAGED_EXTERNALLY = "∞"

Direction = Literal["up", "down"]


def validate_prefix(prefix: str) -> str:
    """Refuse prefixes that PostgreSQL or Elixir Oban cannot use; return it unchanged.

    Everything else is quoted by ``psycopg.sql.Identifier`` and bound as a parameter, so any
    text is safe for us. The refused characters are those Elixir's ``inspect/1`` — Oban's
    ``quoted_prefix`` — escapes with backslashes (``"``, ``\\``, ``#{``, control characters):
    that output is not a valid SQL identifier, so no Elixir node could share such a prefix.
    """
    if not prefix:
        raise ConfigError("prefix must not be empty")
    if any(ch in prefix for ch in '"\\') or "#{" in prefix or not prefix.isprintable():
        raise ConfigError(
            f"prefix {prefix!r} contains a double quote, backslash, '#{{' or control character, "
            "which Elixir Oban cannot quote (lib/oban/migrations/postgres.ex quoted_prefix)"
        )
    if prefix.startswith("pg_"):
        raise ConfigError(
            f"prefix {prefix!r}: names starting with 'pg_' are reserved by PostgreSQL"
        )
    size = len(prefix.encode())
    longest = max(len(name) for name in CHANNELS) + len(".oban_")
    if size + longest > MAX_IDENTIFIER_BYTES:
        raise ConfigError(
            f"prefix {prefix!r} is {size} bytes; at most {MAX_IDENTIFIER_BYTES - longest} fit, "
            f"so that channel names '<prefix>.oban_<name>' stay within {MAX_IDENTIFIER_BYTES} bytes"
        )
    return prefix


@dataclass(frozen=True)
class MigrateResult:
    """What :func:`migrate` did: ``steps`` are the migration versions run, in order."""

    prefix: str
    from_version: int
    to_version: int
    direction: Direction | None
    steps: tuple[int, ...]

    @property
    def changed(self) -> bool:
        return bool(self.steps)

    def describe(self) -> str:
        if not self.changed:
            return f"{self.prefix} is already at version {self.to_version}"
        return f"migrated {self.prefix} from {self.from_version} to {self.to_version}"


# --- SQL files ---------------------------------------------------------------------------


@cache
def statements(version: int, direction: Direction) -> tuple[tuple[str, str], ...]:
    """The named statements of ``schema/postgres/v<NN>_<direction>.sql``, in file order."""
    path = schema_dir() / "postgres" / f"v{version:02d}_{direction}.sql"
    text = path.read_text(encoding="utf-8")
    found: list[tuple[str, str]] = []
    for chunk in text.split("\n-- name: ")[1:]:
        name, _, body = chunk.partition("\n")
        lines = body.strip().splitlines()
        while lines and lines[0].startswith("--"):  # leading comments are for the reader
            lines.pop(0)
        found.append((name.strip(), "\n".join(lines)))
    return tuple(found)


# --- version read-back -------------------------------------------------------------------

# mirrors lib/oban/migrations/postgres.ex migrated_version/1 @v2.23.1 (obj_description: column
# comments cannot leak in, unlike v2.18.3's pg_description join); the prefix is bound, not pasted
VERSION_SQL = """
SELECT pg_catalog.obj_description(pg_class.oid, 'pg_class') AS version
FROM pg_catalog.pg_class
LEFT JOIN pg_catalog.pg_namespace ON pg_namespace.oid = pg_class.relnamespace
WHERE pg_class.relname = 'oban_jobs'
AND pg_namespace.nspname = %s
"""

ENUM_EXISTS_SQL = """
SELECT 1 FROM pg_catalog.pg_type t
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE t.typname = 'oban_job_state' AND n.nspname = %s
"""


def parse_version(comment: str | None, prefix: str = "public") -> int | None:
    """Oban's reading of the table comment: digits → version, '∞' → None, nothing → 0."""
    if comment is None:
        return 0
    if comment == MANAGED_EXTERNALLY:
        return None
    if comment.isascii() and comment.isdigit():
        return int(comment)
    # Oban's String.to_integer/1 raises here too
    raise SchemaError(f"{prefix}.oban_jobs has a table comment that is not a version: {comment!r}")


def migrated_version(prefix: str = "public") -> Op[int | None]:
    """The recorded migration version: 0 when absent, ``None`` when managed externally ('∞')."""
    rows = yield Statement(VERSION_SQL, (prefix,))
    return parse_version(rows[0]["version"] if rows else None, prefix)


def require_version(prefix: str = "public", version: int = CURRENT_VERSION) -> Op[None]:
    """Raise unless ``prefix`` is migrated to at least ``version``.

    Mirrors lib/oban/migration.ex verify_migrated!/1 @v2.23.1: 0 is "not migrated", a lower
    number is outdated, and '∞' (an atom, greater than any number in Erlang) passes.
    """
    found = yield from migrated_version(prefix)
    if found == 0:
        raise SchemaMissing(
            f"no Oban schema in {prefix!r}: oban_jobs is missing or carries no version "
            f"(run `oban-bridge migrate --prefix {prefix}`)"
        )
    if found is not None and found < version:
        raise SchemaOutdated(found, version, prefix)


# --- migrate -----------------------------------------------------------------------------

LOCK_SQL = (
    f"SELECT pg_catalog.pg_advisory_xact_lock({MIGRATION_LOCK_CLASS}, pg_catalog.hashtext(%s))"
)
SERVER_VERSION_SQL = "SELECT pg_catalog.current_setting('server_version_num')::int AS num"


def plan(current: int, target: int) -> tuple[Direction | None, tuple[int, ...]]:
    """Which migrations move ``current`` to ``target`` — mirrors postgres.ex up/1 and down/1."""
    if target > current:
        return "up", tuple(range(current + 1, target + 1))
    if target < current:
        return "down", tuple(range(current, target, -1))
    return None, ()


def _wanted(name: str, *, prefix: str, target: int, unlogged: bool) -> bool:
    if name == "create_schema":  # mirrors postgres.ex with_defaults/2 create_schema
        return prefix != "public"
    if name == "create_enum":  # v01.ex @v2.21.0+: all 8 labels at once
        return target >= CURRENT_VERSION
    if name == "create_enum_legacy":  # v01.ex @v2.18.3: 6 labels, a fresh install below V14
        return target < CURRENT_VERSION
    if name == "set_unlogged":  # v11.ex up/1 `unlogged: true` default
        return unlogged
    return True


def check_target(version: int) -> int:
    """A version to migrate to: 0 (nothing) … the current one."""
    if not 0 <= version <= CURRENT_VERSION:
        raise ConfigError(f"version must be between 0 and {CURRENT_VERSION}, not {version}")
    return version


def migrate(
    prefix: str = "public", version: int = CURRENT_VERSION, *, unlogged: bool = True
) -> Op[MigrateResult]:
    """Move ``prefix`` up or down to ``version``; a no-op (no DDL) when it is already there.

    ``version`` is the version to end at: down to N runs vNN+1.down … (Oban's
    ``down(version: N + 1)``), and 0 drops everything Oban created (the schema stays).
    """
    validate_prefix(prefix)
    check_target(version)
    rows = yield Statement(SERVER_VERSION_SQL)
    if rows[0]["num"] < 120000:
        raise SchemaError(
            "PostgreSQL 12 or newer is required (ALTER TYPE … ADD VALUE in a transaction)"
        )
    yield Statement(LOCK_SQL, (prefix,))  # serialises concurrent bridge migrators in a transaction
    current = yield from migrated_version(prefix)
    if current is None:
        raise SchemaManagedExternally(
            f"{prefix}.oban_jobs is managed externally (table comment '∞'); not migrating it"
        )
    direction, steps = plan(current, version)
    for step in steps:
        for name, sql in statements(step, direction or "up"):
            if not _wanted(name, prefix=prefix, target=version, unlogged=unlogged):
                continue
            # mirrors v01.ex up/1's DO block "IF NOT EXISTS (… pg_type …)", with the prefix bound
            if name.startswith("create_enum") and (yield Statement(ENUM_EXISTS_SQL, (prefix,))):
                continue
            yield Statement(sql, prefix=prefix, fetch=False)
    if steps and version > 0:  # mirrors postgres.ex record_version/2 (nothing to record at 0)
        yield Statement(
            f"COMMENT ON TABLE {{prefix}}.oban_jobs IS '{int(version)}'", prefix=prefix, fetch=False
        )
    return MigrateResult(prefix, current, version, direction, steps)


# --- check -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    """A known deviation from a fresh install that introspection found (``code`` is stable)."""

    code: str
    detail: str


@dataclass(frozen=True)
class SchemaReport:
    """Result of :func:`check`: ``version`` is ``None`` when managed externally ('∞')."""

    prefix: str
    version: int | None
    wanted: int
    variants: tuple[Variant, ...] = ()

    @property
    def ok(self) -> bool:
        return self.version == self.wanted

    def describe(self) -> list[str]:
        if self.version is None:
            head = f"{self.prefix} is managed externally (table comment '∞'), wanted {self.wanted}"
        elif self.version == 0:
            head = f"{self.prefix} is not migrated (version 0), wanted {self.wanted}"
        elif self.ok:
            head = f"{self.prefix} is at version {self.version}"
        else:
            head = f"{self.prefix} is at version {self.version}, wanted {self.wanted}"
        return [head] + [f"variant {v.code}: {v.detail}" for v in self.variants]


RELATIONS_SQL = """
SELECT c.relname AS name, c.relkind AS kind, c.relpersistence AS persistence
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %s AND c.relname IN ('oban_jobs', 'oban_peers')
"""
COLUMNS_SQL = """
SELECT a.attname AS name, a.attnum AS attnum,
       pg_catalog.col_description(a.attrelid, a.attnum) AS comment
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %s AND c.relname = 'oban_jobs' AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""
INDEXES_SQL = """
SELECT i.relname AS name, x.indisvalid AS valid
FROM pg_catalog.pg_index x
JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
JOIN pg_catalog.pg_class c ON c.oid = x.indrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %s AND c.relname = 'oban_jobs'
"""
LABELS_SQL = """
SELECT e.enumlabel AS label
FROM pg_catalog.pg_enum e
JOIN pg_catalog.pg_type t ON t.oid = e.enumtypid
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname = %s AND t.typname = 'oban_job_state'
ORDER BY e.enumsortorder
"""

STATE_INDEX = "oban_jobs_state_queue_priority_scheduled_at_id_index"  # v08.ex / v09.ex up/1
V13_INDEXES = ("oban_jobs_state_cancelled_at_index", "oban_jobs_state_discarded_at_index")


def expected_indexes(version: int) -> tuple[str, ...]:
    """The oban_jobs indexes a fresh install at ``version`` has (checked from V10 on)."""
    if version < 10:
        return ()
    base = ("oban_jobs_pkey", "oban_jobs_args_index", "oban_jobs_meta_index", STATE_INDEX)
    return base + V13_INDEXES if version >= 13 else base


def detect(
    version: int | None,
    relations: dict[str, Row],
    columns: list[Row],
    indexes: list[Row],
    labels: list[str],
) -> list[Variant]:
    """Name the known variants (wire spec §1.3, §1.6) in the introspected catalog rows."""
    found: list[Variant] = []
    at = CURRENT_VERSION if version is None else version
    if version is None:
        found.append(Variant("managed_externally", "table comment is '∞' (Oban Pro's partitioner)"))
    missing = [
        t
        for t, since in (("oban_jobs", 1), ("oban_peers", 11))
        if t not in relations and (at >= since or t == "oban_jobs")
    ]
    if missing:
        found.append(Variant("missing_table", ", ".join(missing) + " not found"))
    jobs = relations.get("oban_jobs")
    if jobs is not None and version == 0:
        found.append(Variant("no_version_comment", "oban_jobs exists but carries no version"))
    if jobs is not None and jobs["kind"] == "p":
        found.append(Variant("partitioned", "oban_jobs is a partitioned table"))
    state = next((c["attnum"] for c in columns if c["name"] == "state"), None)
    if state is not None and state != 2:
        last = " (the last column)" if state == max(c["attnum"] for c in columns) else ""
        found.append(
            Variant(
                "state_column_moved",
                (
                    f"state has attnum {state}{last}, not 2: the enum type swap of "
                    "v2.21.0's V14 (or v2.18.3's V09 on PG < 12) ran here"
                ),
            )
        )
    names = {i["name"] for i in indexes}
    gone = [n for n in expected_indexes(at) if jobs and n not in names]
    if gone:
        found.append(Variant("missing_indexes", ", ".join(gone)))
    invalid = sorted(i["name"] for i in indexes if not i["valid"])
    if invalid:
        found.append(Variant("invalid_indexes", ", ".join(invalid)))
    peers = relations.get("oban_peers")
    if peers is not None and peers["persistence"] != "u":
        found.append(Variant("peers_logged", "oban_peers is not UNLOGGED (V11 `unlogged: false`)"))
    commented = [c["name"] for c in columns if c["comment"] is not None]
    if commented:
        found.append(
            Variant(
                "column_comments",
                (
                    f"comments on oban_jobs columns ({', '.join(commented)}) make Oban 2.18.3's "
                    "migrated_version read 0 and re-run V01"
                ),
            )
        )
    wanted = {"cancelled": 9, "suspended": 14}
    absent = [x for x, v in wanted.items() if jobs and x not in labels and at >= v]
    if absent:
        found.append(Variant("missing_labels", "oban_job_state lacks " + ", ".join(absent)))
    return found


def check(prefix: str = "public", version: int = CURRENT_VERSION) -> Op[SchemaReport]:
    """Report the recorded version and every known variant, changing nothing."""
    validate_prefix(prefix)
    current = yield from migrated_version(prefix)
    relations = {r["name"]: r for r in (yield Statement(RELATIONS_SQL, (prefix,)))}
    columns = yield Statement(COLUMNS_SQL, (prefix,))
    indexes = yield Statement(INDEXES_SQL, (prefix,))
    labels = [r["label"] for r in (yield Statement(LABELS_SQL, (prefix,)))]
    variants = detect(current, relations, columns, indexes, labels)
    return SchemaReport(prefix, current, version, tuple(variants))
