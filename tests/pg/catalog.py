"""Read an Oban schema back from pg_catalog in the vectors' ``summary`` format, and test helpers.

Mirrors how ``../shared/vectors/*/schema.json`` was captured from live Oban: with
``search_path = pg_catalog`` so types and defaults come out schema-qualified; columns in
attnum order; constraints and indexes sorted by name.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from bridge.pg.migrations import migrate

PERSISTENCE = {"p": "permanent (logged)", "u": "unlogged", "t": "temporary"}
CONTYPE = {"c": "check", "p": "primary key", "u": "unique", "f": "foreign key", "x": "exclusion"}

TABLES = """
SELECT c.oid, c.relname, c.relpersistence, c.relkind, obj_description(c.oid, 'pg_class') AS comment
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %s AND c.relkind IN ('r', 'p') ORDER BY c.relname
"""
COLUMNS = """
SELECT attnum, attname AS name, format_type(atttypid, atttypmod) AS type,
       NOT attnotnull AS nullable, pg_get_expr(d.adbin, d.adrelid) AS default, attisdropped
FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = %s AND a.attnum > 0 ORDER BY a.attnum
"""
# contype 'n' (PostgreSQL 18's NOT NULL entries) left out: "nullable" already says it
CONSTRAINTS = """
SELECT conname AS name, contype, pg_get_constraintdef(oid) AS definition, convalidated AS validated
FROM pg_constraint WHERE conrelid = %s AND contype <> 'n' ORDER BY conname
"""
INDEXES = """
SELECT i.relname AS name, pg_get_indexdef(x.indexrelid) AS definition, x.indisunique AS unique,
       x.indisprimary AS primary, x.indisvalid AS valid
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = %s ORDER BY i.relname
"""
TRIGGERS = """
SELECT tgname AS name, pg_get_triggerdef(oid) AS definition
FROM pg_trigger WHERE tgrelid = %s AND NOT tgisinternal ORDER BY tgname
"""
ENUMS = """
SELECT t.typname, e.enumlabel, e.enumsortorder
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid
WHERE n.nspname = %s ORDER BY t.typname, e.enumsortorder
"""
SEQUENCES = """
SELECT c.relname AS name, format_type(s.seqtypid, NULL) AS data_type, s.seqstart AS start,
       s.seqincrement AS increment,
       (SELECT tn.nspname || '.' || tc.relname || '.' || a.attname
          FROM pg_depend d JOIN pg_class tc ON tc.oid = d.refobjid
          JOIN pg_namespace tn ON tn.oid = tc.relnamespace
          JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
         WHERE d.objid = c.oid AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
       ) AS owned_by
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_sequence s ON s.seqrelid = c.oid
WHERE n.nspname = %s ORDER BY c.relname
"""
FUNCTIONS = """
SELECT p.proname AS name, pg_get_function_identity_arguments(p.oid) AS arguments,
       pg_get_functiondef(p.oid) AS definition
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = %s ORDER BY p.proname
"""


def _table(cur: psycopg.Cursor[dict[str, Any]], row: dict[str, Any]) -> dict[str, Any]:
    oid = row["oid"]
    cols = cur.execute(COLUMNS, (oid,)).fetchall()
    cons = cur.execute(CONSTRAINTS, (oid,)).fetchall()
    return {
        "persistence": PERSISTENCE[row["relpersistence"]],
        "relkind": row["relkind"],
        "columns": [
            {k: c[k] for k in ("attnum", "name", "type", "nullable", "default")}
            for c in cols
            if not c["attisdropped"]
        ],
        "dropped_attnums": [c["attnum"] for c in cols if c["attisdropped"]],
        "constraints": [
            {
                "name": c["name"],
                "type": CONTYPE.get(c["contype"], c["contype"]),
                "definition": c["definition"],
                "validated": c["validated"],
            }
            for c in cons
        ],
        "indexes": cur.execute(INDEXES, (oid,)).fetchall(),
        "triggers": cur.execute(TRIGGERS, (oid,)).fetchall(),
        "comment": row["comment"],
    }


def summary(conn: psycopg.Connection[Any], prefix: str = "public") -> dict[str, Any]:
    """The ``summary`` block of the vectors' schema.json, read from this database."""
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SET LOCAL search_path = pg_catalog")
        tables = {r["relname"]: _table(cur, r) for r in cur.execute(TABLES, (prefix,)).fetchall()}
        enums: dict[str, dict[str, Any]] = {}
        for r in cur.execute(ENUMS, (prefix,)).fetchall():
            enum = enums.setdefault(r["typname"], {"labels": [], "sortorder": {}})
            enum["labels"].append(r["enumlabel"])
            enum["sortorder"][r["enumlabel"]] = float(r["enumsortorder"])
        return {
            "prefix": prefix,
            "tables": tables,
            "enums": enums,
            "sequences": cur.execute(SEQUENCES, (prefix,)).fetchall(),
            "functions": cur.execute(FUNCTIONS, (prefix,)).fetchall(),
        }


def differences(expected: dict[str, Any], actual: dict[str, Any], path: str = "") -> list[str]:
    """Readable paths where two summaries differ (empty when equal)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out: list[str] = []
        for key in sorted(set(expected) | set(actual), key=str):
            if key not in actual or key not in expected:
                out.append(f"{path}/{key}: only in {'expected' if key in expected else 'actual'}")
            else:
                out += differences(expected[key], actual[key], f"{path}/{key}")
        return out
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        return [
            d
            for i, (e, a) in enumerate(zip(expected, actual, strict=True))
            for d in differences(e, a, f"{path}[{i}]")
        ]
    return [] if expected == actual else [f"{path}: expected {expected!r}, got {actual!r}"]


# --- helpers for the tests ---------------------------------------------------------------

FIXTURES = Path(__file__).parents[1] / "fixtures" / "schema"
#: the shared Oban vectors, when the repository sits beside ``shared/``
SHARED_VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "vectors"


def fixture(name: str) -> dict[str, Any]:
    """A project fixture (``tests/fixtures/schema/<name>.json``), derived from live Oban."""
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def run_migrations(dsn: str, versions: Sequence[int], prefix: str = "public", **kw: Any) -> None:
    """Migrate to each version in turn, each run in its own transaction (as the CLI does)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        for version in versions:
            migrate(conn, version=version, prefix=prefix, **kw)


def read_summary(dsn: str, prefix: str = "public") -> dict[str, Any]:
    """The catalog summary, JSON round-tripped so it compares equal to fixture data."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        data: dict[str, Any] = json.loads(json.dumps(summary(conn, prefix)))
    return data


def as_public(data: dict[str, Any], prefix: str) -> dict[str, Any]:
    """Rename schema ``prefix`` to ``public`` throughout a summary (for prefix comparisons)."""
    text = json.dumps(data).replace(f"{prefix}.", "public.").replace(f'"{prefix}"', '"public"')
    renamed: dict[str, Any] = json.loads(text)
    return renamed
