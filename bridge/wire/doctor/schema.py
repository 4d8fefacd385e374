"""Schema rules: the recorded version and the variants migration history leaves behind."""

from __future__ import annotations

from bridge.wire.doctor._facts import Facts, Finding, jobs_table


def schema_version(facts: Facts) -> list[Finding]:
    schema, prefix, jobs = facts.db.schema, facts.db.prefix, jobs_table(facts)
    migrate = f"oban-bridge migrate --prefix {prefix}"
    if schema.bad_comment is not None:
        # mirrors lib/oban/migrations/postgres.ex migrated_version/1: String.to_integer/1
        return [
            Finding(
                "schema_comment",
                "error",
                f"{jobs} carries the table comment {schema.bad_comment!r}: Oban reads its version "
                "from that comment with String.to_integer and crashes",
                f"COMMENT ON TABLE {jobs} IS '<the last migration run, e.g. 14>' (and find out "
                "who changed it: nothing may comment oban_jobs)",
            )
        ]
    if schema.version is None:
        # mirrors lib/oban/migrations/postgres.ex: '∞' reads as :infinity from v2.23.0
        return [
            Finding(
                "schema_managed_externally",
                "warning",
                f"{jobs} carries '∞' (Oban Pro's DynamicPartitioner): Oban < 2.23 crashes reading "
                "its version, and oban-bridge migrate leaves it alone",
                "keep every Elixir node at Oban ≥ 2.23 and migrate with Oban Pro",
            )
        ]
    if schema.version == 0:
        return [
            Finding(
                "schema_missing",
                "error",
                f"no Oban schema in {prefix!r}: oban_jobs is missing or has no version",
                migrate,
            )
        ]
    if schema.version < 12:
        return [
            Finding(
                "schema_outdated",
                "error",
                f"{prefix} is at V{schema.version}; Oban ≥ 2.18 and oban-bridge need V12 or later",
                f"{migrate} --version 12  (14 once every node runs Oban ≥ 2.21)",
            )
        ]
    if schema.version < 14:
        # names.SCHEMA_VERSIONS: V12 for Oban ≤ 2.19, V13 for 2.20, V14 from 2.21
        return [
            Finding(
                "schema_version",
                "info",
                f"{prefix} is at V{schema.version}, as Oban ≤ 2.20 nodes need; Python nodes run "
                f"with --schema-version {schema.version}",
                f"{migrate} --version 14  (once every node runs Oban ≥ 2.21)",
            )
        ]
    return []


def _index_sql(prefix: str, name: str) -> str:
    # mirrors lib/oban/migrations/postgres/v08.ex (state index), v10.ex (GIN), v13.ex
    columns = {
        "oban_jobs_state_queue_priority_scheduled_at_id_index": "(state, queue, priority, "
        "scheduled_at, id)",
        "oban_jobs_state_cancelled_at_index": "(state, cancelled_at)",
        "oban_jobs_state_discarded_at_index": "(state, discarded_at)",
        "oban_jobs_args_index": "USING gin (args)",
        "oban_jobs_meta_index": "USING gin (meta)",
    }
    if name not in columns:
        return f'ALTER TABLE "{prefix}".oban_jobs ADD PRIMARY KEY (id)'
    return f'CREATE INDEX CONCURRENTLY {name} ON "{prefix}".oban_jobs {columns[name]}'


def schema_variants(facts: Facts) -> list[Finding]:
    schema, prefix, jobs = facts.db.schema, facts.db.prefix, jobs_table(facts)
    found: list[Finding] = []
    if schema.missing_indexes:
        # mirrors lib/oban/migrations/postgres/v14.ex@v2.21.0: the enum type swap drops every
        # index on state and v2.21.1 cannot recreate them (wire spec §1.6)
        found.append(
            Finding(
                "missing_indexes",
                "warning",
                f"{jobs} lacks {', '.join(schema.missing_indexes)} (dropped by v2.21.0's V14): "
                "fetches, pruning and cancels scan the whole table",
                "; ".join(_index_sql(prefix, n) for n in schema.missing_indexes),
            )
        )
    if schema.commented_columns:
        # mirrors lib/oban/migrations/postgres.ex@v2.18.3 migrated_version/1: the
        # pg_description join returns a row per column comment, so the version reads as 0
        found.append(
            Finding(
                "column_comments",
                "error",
                f"comments on {jobs} columns ({', '.join(schema.commented_columns)}) make Oban "
                "2.18's version check read 0 and re-run every migration from V01",
                "; ".join(
                    f"COMMENT ON COLUMN {jobs}.{c} IS NULL" for c in schema.commented_columns
                ),
            )
        )
    if schema.invalid_indexes:
        # mirrors lib/oban/plugins/reindexer.ex: every invalid oban_jobs* index is dropped
        found.append(
            Finding(
                "invalid_indexes",
                "warning",
                f"invalid indexes on {jobs}: {', '.join(schema.invalid_indexes)} (a failed CREATE "
                "INDEX CONCURRENTLY); Oban's Reindexer drops them",
                "; ".join(f'DROP INDEX CONCURRENTLY "{prefix}".{n}' for n in schema.invalid_indexes)
                + ", then create them again",
            )
        )
    if schema.missing_labels:
        # mirrors lib/oban/migrations/postgres/v09.ex (cancelled) and v14.ex (suspended)
        before = {"suspended": " BEFORE 'scheduled'"}
        found.append(
            Finding(
                "missing_labels",
                "error",
                f"oban_job_state lacks {', '.join(schema.missing_labels)}: Elixir's inserts and "
                "cancels that name them fail",
                "; ".join(
                    f'ALTER TYPE "{prefix}".oban_job_state ADD VALUE IF NOT EXISTS '
                    f"'{x}'{before.get(x, '')}"
                    for x in schema.missing_labels
                ),
            )
        )
    for code, detail in schema.variants:
        if code == "missing_table":
            found.append(Finding(code, "error", detail, f"oban-bridge migrate --prefix {prefix}"))
        elif code in ("state_column_moved", "partitioned", "peers_logged"):
            found.append(Finding(code, "info", detail))
    return found
