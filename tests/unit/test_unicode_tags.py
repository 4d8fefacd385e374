"""``normalize_tags`` against live Elixir's ``String.trim/1`` and ``String.downcase/1``.

Oban's ``normalize_tags/1`` (lib/oban/job.ex, the same at 2.18.3 and 2.23.1) stores each tag
as ``tag |> to_string() |> String.trim() |> String.downcase()``. Python's ``strip()`` and
``lower()`` are not those: ``strip()`` also removes U+001C..U+001F, ``lower()`` writes a final
sigma (Elixir's ``:default`` mode never does: "ΑΣ" is "ασ"), and each Python's Unicode database
is its own (3.10: 13.0, 3.11: 14.0, 3.12: 15.0, 3.13: 15.1).

``tests/fixtures/unicode/elixir-<version>.json`` were printed by live Elixirs — 1.18.4
(Unicode 16.0, the live Oban 2.23.1's) and Debian's 1.14.0 (Unicode 14.0, the live Oban
2.18.3's) — by running ``elixir -e "$EXPR" < sequences.txt`` with the one-line ``EXPR`` kept in
each file's ``produced_by``: ``String.downcase/1`` of every code point 0..0x10FFFF but the
surrogates (kept where it differs from the input), which code points ``String.trim/1`` takes
off the front and the back, whether downcasing all code points as one string equals the
concatenation of their one-character results (``downcase_context_free``), and downcase, trim
and trim-then-downcase of the ``sequences`` (final sigma, İ, SpecialCasing's conditional
entries, whitespace runs). The ``sequences`` inputs are fed to it as hex code points, one
sequence a line.

The two Elixirs disagree on the 27 code points Unicode 16.0 gave a lowercase (U+1C89,
U+A7CB, U+A7CC, U+A7DA, U+A7DC, Garay U+10D50..U+10D65); Elixir 1.14 leaves them, unassigned
in its Unicode, as they are. The bridge follows the newest Elixir (bridge/wire/_unicode.py),
from its own tables, so these tests pass alike on Python 3.10 to 3.13. An Elixir with a newer
Unicode: add its fixture the same way and follow it.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from bridge.wire import _unicode
from bridge.wire.job import normalize_tags

FIXTURES = Path(__file__).parents[1] / "fixtures" / "unicode"
NEWEST, OLDEST = "1.18.4", "1.14.0"
CODE_POINTS = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]


@cache
def _fixture(version: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"elixir-{version}.json").read_text())
    assert data["elixir"] == version
    return data


def _downcase(version: str) -> dict[int, str]:
    return {int(k[2:], 16): v for k, v in _fixture(version)["downcase"].items()}


def _whitespace(version: str) -> set[int]:
    data = _fixture(version)
    assert data["trim_leading"] == data["trim_trailing"]
    return {int(k[2:], 16) for k in data["trim_leading"]}


def test_fixtures_record_their_elixir_and_unicode() -> None:
    assert (_fixture(NEWEST)["unicode"], _fixture(OLDEST)["unicode"]) == ("16.0.0", "14.0.0")
    assert _fixture(NEWEST)["unicode"] == _unicode.UNICODE_VERSION
    # Elixir's :default downcase looks at one code point at a time: this is what lets
    # the whole range be checked as one tag below
    assert _fixture(NEWEST)["downcase_context_free"] is True
    assert _fixture(OLDEST)["downcase_context_free"] is True


@pytest.mark.parametrize("version", [NEWEST])
def test_every_code_point_downcases_as_elixir(version: str) -> None:
    table = _downcase(version)
    assert len(table) == 1460
    wrong = {
        f"U+{c:04X}": (got, want)
        for c, want in table.items()
        if (got := normalize_tags([chr(c)])) != [want]
    }
    assert wrong == {}
    # and every other code point stays itself (inside a tag, where trim cannot reach it),
    # 256 code points a tag, one by one where a block is wrong
    wrong_blocks: list[str] = []
    for start in range(0, len(CODE_POINTS), 256):
        block = CODE_POINTS[start : start + 256]
        tag = "A" + "".join(map(chr, block)) + "A"
        if normalize_tags([tag]) != ["a" + "".join(table.get(c, chr(c)) for c in block) + "a"]:
            wrong_blocks += [
                f"U+{c:04X}"
                for c in block
                if normalize_tags([f"A{chr(c)}A"]) != [f"a{table.get(c, chr(c))}a"]
            ]
    assert wrong_blocks == []


def test_trim_strips_exactly_elixirs_whitespace() -> None:
    # both Elixirs' sets are the same (test_older_elixir_…)
    whitespace = _whitespace(NEWEST)
    assert len(whitespace) == 25
    trimmed = {c for c in CODE_POINTS if normalize_tags([f"{chr(c)}a{chr(c)}"]) == ["a"]}
    assert {f"U+{c:04X}" for c in trimmed ^ whitespace} == set()


@pytest.mark.parametrize("version", [NEWEST, OLDEST])
def test_context_sequences_as_elixir(version: str) -> None:
    sequences = _fixture(version)["sequences"]
    assert len(sequences) >= 70
    wrong = [
        (case["input"], got, want)
        for case in sequences
        if (got := normalize_tags([case["input"]]))
        != (want := [case["trim_downcase"]] if case["trim_downcase"] else [])
    ]
    assert wrong == []


def test_final_sigma_and_dotted_i_as_elixir() -> None:
    assert normalize_tags(["ΣΑΣ", "ΑΣ Β", "Σ", "AΣ.", "ΑΣ'"]) == [
        "σασ",
        "ασ β",
        "σ",
        "aσ.",
        "ασ'",
    ]
    assert normalize_tags(["İstanbul", "\x1cx\x1f", " \u3000ẞ\u0085"]) == [
        "i\u0307stanbul",
        "\x1cx\x1f",
        "ß",
    ]


def test_older_elixir_differs_only_where_its_unicode_had_no_letter() -> None:
    newest, oldest = _downcase(NEWEST), _downcase(OLDEST)
    differ = {c for c in newest.keys() | oldest.keys() if newest.get(c) != oldest.get(c)}
    # every difference: a code point Elixir 1.14 (Unicode 14.0) leaves as it is
    assert differ <= newest.keys() - oldest.keys()
    assert sorted(differ) == sorted(_unicode.NEW_SINCE_UNICODE_14)
    assert _whitespace(NEWEST) == _whitespace(OLDEST)
    assert _fixture(NEWEST)["sequences"] == _fixture(OLDEST)["sequences"]
    # the rule: the newest Elixir wins
    assert [normalize_tags([chr(c)]) for c in sorted(differ)] == [
        [newest[c]] for c in sorted(differ)
    ]


def test_ascii_fast_path_and_python_str_agree() -> None:
    for c in range(0x80):
        tag = f"{chr(c)}Tag{chr(c)}"
        assert normalize_tags([tag]) == [tag.strip(_unicode.WHITESPACE).lower()]
