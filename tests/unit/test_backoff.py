"""``bridge.wire.backoff`` against ``Oban.Worker.backoff/1`` (lib/oban/worker.ex, backoff.ex).

Elixir: ``clamped = attempt`` (max_attempts <= 20) or ``round(attempt / max_attempts * 20)``
(``Kernel.round``: half away from zero), ``Backoff.exponential(clamped, mult: 1, max_pow: 100,
min_pad: 15)`` = ``15 + 2 ** min(clamped, 100)``, then ``Backoff.jitter(mode: :inc)`` =
``time + trunc(:rand.uniform() * 0.1 * time)``. Values from oban-wire-spec §2.8 and the vectors.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.wire.backoff import (
    BASE_SECONDS,
    CLAMP_ATTEMPTS,
    JITTER_MULT,
    MAX_EXPONENT,
    clamp,
    default_backoff,
    elixir_round,
    exponential,
    jitter,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "outcomes"
NEVER = lambda: 0.0  # noqa: E731
ALMOST = lambda: 0.999  # noqa: E731
HIGHEST = lambda: 0.9999999999999999  # noqa: E731 - the largest double below 1
UNIFORM = st.floats(min_value=0.0, max_value=1.0, exclude_max=True)


def exact_round(value: float) -> int:
    """Kernel.round/1 (C ``round()``: half away from zero) on the exact value of the double."""
    return int(Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def test_constants_are_elixirs() -> None:
    assert (BASE_SECONDS, MAX_EXPONENT, CLAMP_ATTEMPTS, JITTER_MULT) == (15, 100, 20, 0.1)


# --- oban-wire-spec §2.8 sample delays (max_attempts 20) --------------------------------------


@pytest.mark.parametrize(
    ("attempt", "low", "high"),
    [
        (1, 17, 18),
        (2, 19, 20),
        (3, 23, 25),
        (5, 47, 51),
        (10, 1039, 1142),
        (20, 1_048_591, 1_153_450),  # about 12.1–13.3 days
    ],
)
def test_sample_delays(attempt: int, low: int, high: int) -> None:
    assert default_backoff(attempt, 20, NEVER) == low
    assert default_backoff(attempt, 20, HIGHEST) == high
    assert low <= default_backoff(attempt, 20, ALMOST) <= high


@pytest.mark.parametrize("attempt", range(1, 21))
def test_every_attempt_without_clamping(attempt: int) -> None:
    base = 15 + 2**attempt
    assert default_backoff(attempt, 20, NEVER) == base
    assert default_backoff(attempt, 20, ALMOST) == base + int(0.999 * 0.1 * base)
    assert default_backoff(attempt, 20, HIGHEST) == base + base // 10


@pytest.mark.parametrize("version", ["2.18.3", "2.23.1"])
def test_the_vectors_first_retry_is_in_the_attempt_one_range(version: str) -> None:
    data = json.loads((FIXTURES / f"oban-{version}.json").read_text(encoding="utf-8"))
    for case in ("error", "raise"):
        after = data["outcomes"][case]["after"]
        delay = _parse(after["scheduled_at"]) - _parse(after["errors"][-1]["at"])
        # Elixir wrote scheduled_at = at + backoff from two clock reads a few µs apart
        assert int(delay.total_seconds()) in range(
            default_backoff(1, 3, NEVER), default_backoff(1, 3, HIGHEST) + 1
        )


def _parse(text: str) -> datetime:
    head, _, fraction = text.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{fraction.ljust(6, '0')}" if fraction else head)


# --- clamp: max_attempts over 20, with Elixir's rounding -------------------------------------


@pytest.mark.parametrize(
    ("attempt", "max_attempts", "clamped"),
    [
        (1, 40, 1),  # 0.5 → 1 (Python's round gives 0)
        (3, 40, 2),  # 1.5 → 2
        (5, 40, 3),  # 2.5 → 3 (Python's round gives 2)
        (7, 40, 4),  # 3.5 → 4
        (9, 40, 5),  # 4.5 → 5 (Python's round gives 4)
        (1, 100, 0),  # 0.2 → 0: 15 + 2 ** 0
        (2, 100, 0),  # 0.4
        (3, 100, 1),  # 0.6
        (50, 100, 10),
        (100, 100, 20),
        (21, 21, 20),
        (20, 21, 19),  # 19.047…
        (1, 2**31 - 1, 0),
        (2**31 - 1, 2**31 - 1, 20),
        (7, 20, 7),  # max_attempts <= 20: the attempt as it is
        (1, 1, 1),
    ],
)
def test_clamp(attempt: int, max_attempts: int, clamped: int) -> None:
    assert clamp(attempt, max_attempts) == clamped
    assert default_backoff(attempt, max_attempts, NEVER) == 15 + 2**clamped


def test_clamp_uses_half_away_from_zero() -> None:
    assert [elixir_round(x) for x in (0.5, 1.5, 2.5, 3.5, -0.5, -1.5, -2.5)] == [
        1,
        2,
        3,
        4,
        -1,
        -2,
        -3,
    ]
    assert [elixir_round(x) for x in (0.49, 0.51, 2.4999, 19.5, 0.0, -0.0)] == [0, 1, 2, 20, 0, 0]


@given(st.integers(1, 2**31 - 1), st.integers(0, 2**31 - 1))
def test_property_clamp_is_elixirs_round_on_the_same_double(max_attempts: int, seed: int) -> None:
    attempt = 1 + seed % max_attempts
    expected = attempt if max_attempts <= 20 else exact_round(attempt / max_attempts * 20)
    assert clamp(attempt, max_attempts) == expected
    assert 0 <= clamp(attempt, max_attempts) <= 20 or max_attempts <= 20


@given(st.integers(0, 19), st.integers(1, 50_000))
def test_property_clamp_rounds_exact_halves_up(n: int, m: int) -> None:
    # attempt / max_attempts * 20 is exactly n + 0.5 for max_attempts = 40 m, attempt = (2n + 1) m
    attempt, max_attempts = (2 * n + 1) * m, 40 * m
    assert attempt / max_attempts * 20 == n + 0.5
    assert clamp(attempt, max_attempts) == n + 1


def test_elixir_round_matches_erlang_round_on_every_double() -> None:
    assert elixir_round(0.49999999999999994) == 0
    assert elixir_round(-0.49999999999999994) == 0
    assert elixir_round(4503599627370497.0) == 4503599627370497


# --- exponential: the exponent capped at 100 ---------------------------------------------------


def test_exponential_caps_the_exponent_at_100() -> None:
    assert exponential(0) == 16
    assert exponential(1) == 17
    assert exponential(99) == 15 + 2**99
    assert exponential(100) == exponential(101) == exponential(10**6) == 15 + 2**100
    assert exponential(-3) == 16  # never below 2 ** 0


def test_cap_applies_through_default_backoff() -> None:
    # reachable only with max_attempts <= 20 and a larger attempt (a row edited by hand)
    assert default_backoff(150, 20, NEVER) == 15 + 2**100


# --- jitter: mode :inc, mult 0.1 ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "u", "expected"),
    [
        (17, 0.0, 17),
        (17, 0.5, 17),  # trunc(0.85) = 0
        (17, 0.59, 18),  # trunc(1.003) = 1
        (17, 0.9999999999999999, 18),
        (1039, 0.9999999999999999, 1142),
        (10, 0.9999999999999999, 10),  # 0.99… * 0.1 * 10 = 0.99… → 0
        (100, 0.5, 105),
    ],
)
def test_jitter(seconds: int, u: float, expected: int) -> None:
    assert jitter(seconds, lambda: u) == expected


@given(st.integers(0, 10**15), UNIFORM)
def test_property_jitter_bounds(seconds: int, u: float) -> None:
    value = jitter(seconds, lambda: u)
    assert seconds <= value <= seconds + seconds // 10 + 1
    # trunc(rand * mult * time), evaluated in Elixir's order: (rand * 0.1) * time
    assert value == seconds + int(u * 0.1 * seconds)


@given(st.integers(1, 40), st.integers(1, 40), UNIFORM)
def test_property_default_backoff_bounds(attempt: int, max_attempts: int, u: float) -> None:
    attempt = min(attempt, max_attempts)
    base = 15 + 2 ** min(clamp(attempt, max_attempts), 100)
    value = default_backoff(attempt, max_attempts, lambda: u)
    assert base <= value <= base + base // 10
    assert value >= 16


@given(st.integers(1, 200), UNIFORM)
def test_property_backoff_never_shrinks_with_the_attempt(max_attempts: int, u: float) -> None:
    delays = [default_backoff(a, max_attempts, lambda: u) for a in range(1, max_attempts + 1)]
    assert delays == sorted(delays)


def test_rng_is_drawn_once_per_backoff() -> None:
    draws: list[float] = []

    def rng() -> float:
        draws.append(0.5)
        return 0.5

    default_backoff(3, 20, rng)
    assert draws == [0.5]
