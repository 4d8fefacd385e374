"""Queue rules: which language runs which queue, and jobs left where no one can run them."""

from __future__ import annotations

from bridge.wire.doctor._facts import (
    MAX_PER_RULE,
    RECENT,
    Facts,
    Finding,
    jobs_table,
    plural,
    python_workers,
    served,
)
from bridge.wire.status import duration


def _capped(code: str, found: list[Finding]) -> list[Finding]:
    if len(found) <= MAX_PER_RULE:
        return found
    rest = Finding(code, found[0].severity, f"… and {len(found) - MAX_PER_RULE} more like these")
    return [*found[:MAX_PER_RULE], rest]


def unclaimed_jobs(facts: Facts) -> list[Finding]:
    """Available jobs no live node runs: a Python worker on a queue no Python producer with
    that worker serves; any other worker on a queue no Elixir producer is known to serve."""
    workers, elixir = python_workers(facts), served(facts, "elixir")
    found: list[Finding] = []
    for queue, worker, state, count in facts.db.waiting:
        if state != "available":
            continue
        if worker in workers:
            if queue in elixir or any(
                c.queue == queue and worker in (c.workers or ()) for c in facts.checks
            ):
                continue  # served, or python_jobs_in_elixir_queues says what is wrong
            why = f"no live Python node runs {worker!r} on queue {queue!r}"
            fix = f"oban-bridge work --queues {queue}=10 --import <the module defining it>"
        elif queue not in elixir:
            why = (
                f"no node is known to run queue {queue!r}: no Elixir check on gossip (only "
                f"nodes with oban_met send them), no attempt within {duration(RECENT)}, and no "
                f"Python node announcing {worker!r}"
            )
            fix = (
                f"start {queue!r} on an Elixir node (queues: [{queue}: 10]) or a Python node "
                f"serving {worker!r}; if one runs it, ignore this"
            )
        else:
            continue
        found.append(
            Finding(
                "unclaimed_jobs",
                "warning",
                f"{plural(count, 'available job')} of {worker}: " + why,
                fix,
            )
        )
    return _capped("unclaimed_jobs", found)


def _waiting_by_worker(facts: Facts) -> dict[tuple[str, str], dict[str, int]]:
    found: dict[tuple[str, str], dict[str, int]] = {}
    for queue, worker, state, count in facts.db.waiting:
        found.setdefault((queue, worker), {})[state] = count
    return found


def python_jobs_in_elixir_queues(facts: Facts) -> list[Finding]:
    """Elixir fetches by queue alone and fails a worker it has no module for."""
    # mirrors lib/oban/worker.ex from_string/1 ("unknown worker: …"), failed like an error
    workers, elixir = python_workers(facts), served(facts, "elixir")
    found: list[Finding] = []
    for (queue, worker), states in _waiting_by_worker(facts).items():
        if worker not in workers or queue not in elixir:
            continue
        held = ", ".join(f"{n:,} {state}" for state, n in states.items())
        found.append(
            Finding(
                "python_jobs_in_elixir_queue",
                "error",
                f"queue {queue!r} is run by Elixir node(s) {', '.join(sorted(elixir[queue]))} "
                f"and holds jobs of Python worker {worker} ({held}): Elixir fails them as "
                f'"unknown worker: {worker}" and discards them when attempts run out',
                f"UPDATE {jobs_table(facts)} SET queue = '<a queue only Python runs>' "
                f"WHERE queue = '{queue}' AND worker = '{worker}' AND state IN ('available', "
                "'scheduled', 'retryable')",
            )
        )
    return _capped("python_jobs_in_elixir_queue", found)


def shared_queues(facts: Facts) -> list[Finding]:
    elixir, python = served(facts, "elixir"), served(facts, "python")
    return [
        Finding(
            "python_queue_served_by_elixir",
            "error",
            f"queue {q!r} is run by Python node(s) {', '.join(sorted(python[q]))} and Elixir "
            f"node(s) {', '.join(sorted(elixir[q]))}: Elixir claims every Python job inserted "
            'there and fails it as "unknown worker"',
            f"stop {q!r} on the Elixir nodes (drop it from queues:, or Oban.stop_queue(queue: "
            f":{q}, node: ...)), or give the Python workers a queue of their own",
        )
        for q in sorted(set(elixir) & set(python))
    ]


def unknown_workers(facts: Facts) -> list[Finding]:
    workers = python_workers(facts)
    found = [
        Finding(
            "unknown_worker_errors",
            "warning",
            f"{plural(count, 'job')} of {worker} in queue {queue!r} last failed with Elixir's "
            '"unknown worker": an Elixir node claimed jobs it has no module for',
            (
                f"move them to a Python queue: UPDATE {jobs_table(facts)} SET queue = '<python "
                f"queue>' WHERE queue = '{queue}' AND worker = '{worker}'; then oban-bridge "
                f"jobs retry --queue <python queue> --worker {worker}"
            )
            if worker in workers
            else (
                f"deploy {worker} to every Elixir node running {queue!r} (or move the jobs to "
                f"a queue whose nodes have it), then oban-bridge jobs retry --queue {queue} "
                f"--worker {worker}"
            ),
        )
        for queue, worker, count in facts.db.unknown_worker
    ]
    return _capped("unknown_worker_errors", found)
