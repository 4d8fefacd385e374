"""Oban's default retry backoff, to the second, with the jitter drawn from a given rng.

``rng`` is any zero-argument callable returning a float in ``[0, 1)`` (``random.random``
in production, a constant in tests): the pure core never draws randomness itself.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal

Rng = Callable[[], float]

BASE_SECONDS = 15  # mirrors lib/oban/worker.ex backoff/1: 15 + 2 ** attempt
MAX_EXPONENT = 100  # mirrors lib/oban/backoff.ex exponential/2 max_pow
CLAMP_ATTEMPTS = 20  # mirrors lib/oban/worker.ex clamp/2: scales attempts past 20 onto 1..20
JITTER_MULT = 0.1  # mirrors lib/oban/backoff.ex jitter/2 default mult


def elixir_round(value: float) -> int:
    """``Kernel.round/1``: half away from zero (Python's ``round`` is half to even), on the
    float's exact value (``floor(x + 0.5)`` is wrong for 0.49999999999999994)."""
    return int(Decimal(value).to_integral_value(rounding=ROUND_HALF_UP))


def clamp(attempt: int, max_attempts: int) -> int:
    """Attempts scaled onto 1..20 when ``max_attempts`` exceeds 20."""
    # mirrors lib/oban/worker.ex backoff/1: clamp(attempt, max_attempts)
    if max_attempts <= CLAMP_ATTEMPTS:
        return attempt
    return elixir_round(attempt / max_attempts * CLAMP_ATTEMPTS)


def exponential(attempt: int) -> int:
    """``15 + 2 ** attempt`` seconds, the exponent capped at 100."""
    # mirrors lib/oban/backoff.ex exponential/2 (mult 1, max_pow 100, min_pad 0) + 15
    power: int = 2 ** min(max(attempt, 0), MAX_EXPONENT)
    return BASE_SECONDS + power


def jitter(seconds: int, rng: Rng) -> int:
    """``seconds + trunc(U * 0.1 * seconds)``, U uniform in [0, 1) (mode ``:inc``)."""
    # mirrors lib/oban/backoff.ex jitter/2: diff = trunc(:rand.uniform() * mult * time)
    return seconds + int(rng() * JITTER_MULT * seconds)


def default_backoff(attempt: int, max_attempts: int, rng: Rng) -> int:
    """Seconds until a failed job's next attempt, exactly as ``Oban.Worker.backoff/1``."""
    return jitter(exponential(clamp(attempt, max_attempts)), rng)
