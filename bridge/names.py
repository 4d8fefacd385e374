"""One home for Oban's fixed names: job states, notification channels, identifier limits.

Everything else imports these; nothing lists them again.
"""

from __future__ import annotations

import enum


class JobState(str, enum.Enum):
    """The ``oban_job_state`` enum, in its logical order."""

    # mirrors lib/oban/migrations/postgres/v01.ex (8 labels) and v14.ex (suspended)
    AVAILABLE = "available"
    SUSPENDED = "suspended"
    SCHEDULED = "scheduled"
    EXECUTING = "executing"
    RETRYABLE = "retryable"
    COMPLETED = "completed"
    DISCARDED = "discarded"
    CANCELLED = "cancelled"

    def __str__(self) -> str:
        return self.value


#: every state label, in the enum's order
STATES: tuple[str, ...] = tuple(state.value for state in JobState)
#: states a job never leaves on its own (lib/oban/engines/basic.ex cancel_all_jobs/2)
FINAL_STATES: tuple[str, ...] = ("cancelled", "completed", "discarded")

#: channels Oban core uses (lib/oban/notifier.ex @type channel)
OBAN_CHANNELS: tuple[str, ...] = ("insert", "signal", "leader", "sonar", "gossip", "stager")
#: every channel "<prefix>.oban_<name>" in use, with oban_met's (lib/oban/met/*.ex)
CHANNELS: tuple[str, ...] = (*OBAN_CHANNELS, "metrics", "cronitor")

#: the migration versions a cluster can run at with bridge: V12 (Oban ≤ 2.19, which must stay
#: there), V13 (2.20) and V14 (≥ 2.21) — mirrors lib/oban/migrations/postgres.ex @current_version
SCHEMA_VERSIONS: tuple[int, ...] = (12, 13, 14)

#: PostgreSQL identifiers (schema names, LISTEN channels) hold at most NAMEDATALEN - 1 bytes
MAX_IDENTIFIER_BYTES = 63

#: advisory-lock class ids (the two-int form, never Elixir's bigint keys in [0, 2**28)):
#: "obar": serialises our migrations per prefix; "obrp": held by each live Python producer
MIGRATION_LOCK_CLASS = 1868718450
PRODUCER_LOCK_CLASS = 1868722800


def channel_name(prefix: str, channel: str) -> str:
    """``"<prefix>.oban_<channel>"`` — the caller checks the length (see ``notify``)."""
    # mirrors lib/oban/notifiers/postgres.ex to_full_channel/2
    return f"{prefix}.oban_{channel}"
