"""Row rules: jobs Elixir re-runs, never fetches, or cannot load."""

from __future__ import annotations

from bridge.wire.doctor._facts import FINAL_SQL, Facts, Finding, ids, jobs_table, plural
from bridge.wire.status import duration


def long_executing(facts: Facts) -> list[Finding]:
    sample = facts.db.long_executing
    if not sample.count:
        return []
    since = f", the oldest since {sample.oldest:%Y-%m-%d %H:%M:%S} UTC" if sample.oldest else ""
    # mirrors lib/oban/plugins/lifeline.ex: rescue is time-only (attempted_at < now - rescue_after)
    return [
        Finding(
            "executing_too_long",
            "warning",
            f"{plural(sample.count, 'job')} executing longer than rescue_after "
            f"({duration(facts.rescue_after)}){since} (ids {ids(sample)}): Elixir's Lifeline "
            "re-runs them although they may still be running, and without Lifeline an "
            "orphan stays executing forever",
            "finish jobs within rescue_after or raise it (lifeline: [rescue_after: ...]); "
            "cancel the strays: oban-bridge jobs cancel ID",
        )
    ]


def exhausted_available(facts: Facts) -> list[Finding]:
    sample = facts.db.exhausted
    if not sample.count:
        return []
    # mirrors lib/oban/engines/basic.ex fetch_jobs/3: WHERE attempt < max_attempts
    return [
        Finding(
            "available_exhausted",
            "warning",
            f"{plural(sample.count, 'available job')} with attempt >= max_attempts (ids "
            f"{ids(sample)}): no producer of either language ever fetches them",
            f"UPDATE {jobs_table(facts)} SET max_attempts = attempt + 1 WHERE state = 'available' "
            "AND attempt >= max_attempts  (or delete them: oban-bridge jobs delete ID)",
        )
    ]


def shapes(facts: Facts) -> list[Finding]:
    db, jobs = facts.db, jobs_table(facts)
    where = f"state NOT IN ({FINAL_SQL})"
    found: list[Finding] = []
    for column, sample in (("args", db.bad_args), ("meta", db.bad_meta)):
        if sample.count:
            # mirrors wire spec §7.1: Ecto raises "cannot load … as type :map" in the fetch,
            # which rolls back, so the row stays available and poisons the queue
            found.append(
                Finding(
                    f"non_object_{column}",
                    "error",
                    f"{plural(sample.count, 'job')} whose {column} is not a JSON object (ids "
                    f"{ids(sample)}): Elixir's fetch crashes on each and the queue stops",
                    f"UPDATE {jobs} SET state = 'cancelled', cancelled_at = timezone('UTC', "
                    f"now()) WHERE jsonb_typeof({column}) <> 'object' AND {where}",
                )
            )
    if db.null_meta.count:
        # mirrors lib/oban/engines/basic.ex snooze_job (main): Map.update(meta, …) fails on nil
        found.append(
            Finding(
                "null_meta",
                "warning",
                f"{plural(db.null_meta.count, 'job')} with meta NULL (ids {ids(db.null_meta)}): "
                "Oban's snooze (main) and Python's meta reads expect an object",
                f"UPDATE {jobs} SET meta = '{{}}' WHERE meta IS NULL AND {where}",
            )
        )
    return found
