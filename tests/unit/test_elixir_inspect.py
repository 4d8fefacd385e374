"""``bridge.wire.elixir.inspect``: Elixir's ``inspect/1`` of the term a Python value stands for.

It only shapes error texts (``{:cancel, reason}``), so the table below is what Elixir 1.14–1.18
prints for each term; a second block holds the harder terms (aliases, operators, keyword
syntax, term order, non-printable binaries, shortest floats).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.wire.elixir import inspect
from bridge.wire.etf import Atom

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "outcomes"

ELIXIR: list[tuple[Any, str]] = [
    (None, "nil"),
    (True, "true"),
    (False, "false"),
    (0, "0"),
    (-42, "-42"),
    (2**70, "1180591620717411303424"),
    ("", '""'),
    ("nope", '"nope"'),
    ('say "hi"', '"say \\"hi\\""'),
    ("back\\slash", '"back\\\\slash"'),
    ("a\nb\tc\rd", '"a\\nb\\tc\\rd"'),
    ("\x1b[0m\a\b\f\v", '"\\e[0m\\a\\b\\f\\v"'),
    ("#{x}", '"\\#{x}"'),
    ("# {x} #", '"# {x} #"'),
    ("héllo ✓ 日本", '"héllo ✓ 日本"'),
    (Atom("ok"), ":ok"),
    (Atom("shutdown"), ":shutdown"),
    (Atom("foo_bar"), ":foo_bar"),
    (Atom("foo?"), ":foo?"),
    (Atom("foo!"), ":foo!"),
    (Atom("foo@bar"), ":foo@bar"),
    (Atom("_private"), ":_private"),
    (Atom("nil"), "nil"),
    (Atom("true"), "true"),
    (Atom("false"), "false"),
    (Atom("Elixir.Foo"), "Foo"),
    (Atom("Elixir.MyApp.Workers.Mailer"), "MyApp.Workers.Mailer"),
    (Atom("Elixir"), "Elixir"),
    (Atom("foo bar"), ':"foo bar"'),
    (Atom("1abc"), ':"1abc"'),
    (Atom(""), ':""'),
    (Atom('with"quote'), ':"with\\"quote"'),
    ([], "[]"),
    ([1, "a", None], '[1, "a", nil]'),
    ((), "{}"),
    ((Atom("cancel"), "nope"), '{:cancel, "nope"}'),
    ((Atom("error"), (Atom("timeout"), 5)), "{:error, {:timeout, 5}}"),
    ({}, "%{}"),
    ({"b": 1, "a": [2]}, '%{"a" => [2], "b" => 1}'),
    ({"k": {"n": None}}, '%{"k" => %{"n" => nil}}'),
    (1.5, "1.5"),
    (0.1, "0.1"),
    (100.0, "100.0"),
    (-0.0, "-0.0"),
    (1e-05, "1.0e-5"),
    (2.5e-5, "2.5e-5"),
    (1e-10, "1.0e-10"),
    (1e16, "1.0e16"),
    (1.5e16, "1.5e16"),
    (1e22, "1.0e22"),
    (0.30000000000000004, "0.30000000000000004"),
    (1.7976931348623157e308, "1.7976931348623157e308"),
    (5e-324, "5.0e-324"),
    (123456.789, "123456.789"),
    (0.0001, "0.0001"),
]


@pytest.mark.parametrize(("value", "text"), ELIXIR)
def test_inspect_prints_what_elixir_prints(value: Any, text: str) -> None:
    assert inspect(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        pytest.param(Atom("Foo"), ":Foo", id="atom-Foo-is-not-an-alias"),
        pytest.param(Atom("Foo.Bar"), ':"Foo.Bar"', id="atom-Foo.Bar-is-not-an-alias"),
        pytest.param(Atom("Elixir.foo"), ':"Elixir.foo"', id="atom-Elixir.foo-is-not-an-alias"),
        pytest.param(Atom("Elixir.Elixir.Foo"), "Elixir.Elixir.Foo", id="atom-Elixir.Elixir"),
        pytest.param(Atom("+"), ":+", id="operator-atom"),
        pytest.param(Atom("café"), ":café", id="unicode-atom"),
        pytest.param({Atom("a"): 1, Atom("b"): 2}, "%{a: 1, b: 2}", id="atom-keyed-map"),
        pytest.param({10: "a", 9: "b"}, '%{9 => "b", 10 => "a"}', id="integer-keys-term-order"),
        pytest.param([(Atom("a"), 1)], "[a: 1]", id="keyword-list"),
        pytest.param("\x01", "<<1>>", id="non-printable-binary"),
        pytest.param(0.00015, "1.5e-4", id="float-shortest-form"),
    ],
)
def test_inspect_matches_elixir_on_the_harder_terms(value: Any, text: str) -> None:
    assert inspect(value) == text


@pytest.mark.parametrize("version", ["2.18.3", "2.23.1"])
def test_the_tuples_elixir_wrote_for_cancel_and_pkill(version: str) -> None:
    data = json.loads((FIXTURES / f"oban-{version}.json").read_text(encoding="utf-8"))
    cancel = data["outcomes"]["cancel"]["after"]["errors"][-1]["error"]
    pkill = data["outcomes"]["pkill"]["after"]["errors"][-1]["error"]
    assert cancel.endswith(" failed with " + inspect((Atom("cancel"), "nope")))
    assert pkill.endswith(" failed with " + inspect((Atom("cancel"), Atom("shutdown"))))


def test_unknown_objects_print_as_the_string_of_their_repr() -> None:
    class Thing:
        def __repr__(self) -> str:
            return 'Thing("x")'

    assert inspect(Thing()) == '"Thing(\\"x\\")"'
    assert inspect({"t": Thing()}) == '%{"t" => "Thing(\\"x\\")"}'


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(st.text())
def test_property_non_printable_strings_print_as_their_bytes(text: str) -> None:
    out = inspect(text)
    assert (
        out.startswith('"')
        or out == "<<" + ", ".join(str(b) for b in text.encode("utf-8", "surrogatepass")) + ">>"
    )


@given(JSONISH)
def test_property_inspect_is_total_and_single_line(value: Any) -> None:
    text = inspect(value)
    assert isinstance(text, str) and text
    assert "\n" not in text and "\r" not in text  # error texts keep the value on one line


PRINTABLE = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xD7FF).filter(
        lambda c: not 0x7F <= ord(c) < 0xA0
    )
)


@given(PRINTABLE)
def test_property_strings_are_quoted_and_every_quote_escaped(text: str) -> None:
    out = inspect(text)
    assert out.startswith('"') and out.endswith('"')
    body = out[1:-1]
    # every " in the body is escaped, so the literal ends only at its last character
    i = 0
    while i < len(body):
        if body[i] == "\\":
            i += 2
            continue
        assert body[i] != '"'
        i += 1


@given(st.dictionaries(st.text(), st.integers(), max_size=6))
def test_property_string_keyed_maps_print_in_key_order(value: dict[str, int]) -> None:
    # Erlang orders a small map's binary keys bytewise: UTF-8 order is code point order
    expected = ", ".join(f"{inspect(k)} => {v}" for k, v in sorted(value.items()))
    assert inspect(value) == "%{" + expected + "}"
