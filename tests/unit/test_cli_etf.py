"""``oban-bridge etf decode|encode``."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bridge.cli import main
from bridge.wire.etf import Atom, BitString, ImproperList, Pid, decode, encode
from bridge.wire.recorded import decode_recorded

VECTORS = {
    v["name"]: v
    for v in json.loads(
        (Path(__file__).parent.parent / "fixtures" / "etf" / "vectors.json").read_text("utf-8")
    )["vectors"]
}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["etf", *argv])
    out, err = capsys.readouterr()
    return code, out.strip(), err.strip()


def test_decode_base64_prints_python_repr(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "decode", "g3QAAAACZAACaWRhAWQABnN0YXR1c2QAAm9r")
    assert code == 0
    assert out == "{Atom('id'): 1, Atom('status'): Atom('ok')}"


@pytest.mark.parametrize(
    ("value", "elixir"),
    [
        # map-key order: atoms sort before binaries
        ({"id": 1, Atom("ok"): (1, "a")}, '%{:ok => {1, "a"}, "id" => 1}'),
        ({Atom("id"): 1, Atom("status"): Atom("ok")}, "%{id: 1, status: :ok}"),
        (
            [None, True, 1.5, 1e308, -0.0, 2**70],
            "[nil, true, 1.5, 1.0e308, -0.0, 1180591620717411303424]",
        ),
        ([b"\xff\x00", BitString(b"\xff\x80", 1)], "[<<255, 0>>, <<255, 1::size(1)>>]"),
        (ImproperList((1, 2), 3), "[1, 2 | 3]"),
        ([97, 98], "[97, 98]"),
        (Atom("Elixir.DateTime"), "DateTime"),
        (Atom("with space"), ':"with space"'),
        ('say "hi"\n#{x}', '"say \\"hi\\"\\n\\#{x}"'),
        (
            {Atom("__struct__"): Atom("Elixir.Version"), Atom("major"): 1},
            "%Version{major: 1}",
        ),
    ],
)
def test_decode_elixir_syntax(
    capsys: pytest.CaptureFixture[str], value: object, elixir: str
) -> None:
    code, out, _ = run(capsys, "decode", "--elixir", "--hex", encode(value).hex())
    assert code == 0
    assert out == elixir


def test_decode_autodetects_hex_and_base64(capsys: pytest.CaptureFixture[str]) -> None:
    raw = encode({"a": [1, 2]})
    for text in (raw.hex(), "0x" + raw.hex().upper()):
        assert run(capsys, "decode", text)[1] == "{'a': [1, 2]}"
    import base64

    b64 = base64.b64encode(raw).decode()
    assert run(capsys, "decode", b64)[1] == "{'a': [1, 2]}"
    assert run(capsys, "decode", "--base64", b64.rstrip("="))[1] == "{'a': [1, 2]}"


def test_decode_shows_opaque_terms_as_placeholders(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "decode", "--elixir", VECTORS["pid"]["v1"])
    assert code == 0 and out.startswith("#PID<0.")
    assert run(capsys, "decode", "--elixir", VECTORS["export_fun"]["v2"])[1] == "&:erlang.abs/1"
    assert run(capsys, "decode", "--elixir", VECTORS["local_fun"]["v2"])[1].startswith(
        "#Function<0."
    )
    assert run(capsys, "decode", VECTORS["port"]["v2"])[1].startswith("Port(")
    pid = Pid(Atom("a@b"), 5, 6, 1)
    assert run(capsys, "decode", "--elixir", encode(pid).hex())[1] == "#PID<0.5.6>"


def test_decode_reads_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("g2QAA25pbA\n"))
    assert run(capsys, "decode", "--elixir", "-")[1] == "nil"


@pytest.mark.parametrize("bad", ["not base64!", "83zz", "g2EBAA", "836c0fffffff6a"])
def test_decode_errors_are_one_line_and_exit_1(
    capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    code, out, err = run(capsys, "decode", bad)
    assert code == 1 and out == ""
    assert err.startswith("oban-bridge: error:") and "\n" not in err


def test_decode_keeps_limits_other_than_opaque(capsys: pytest.CaptureFixture[str]) -> None:
    deep = "83" + "6c00000001" * 300 + "6a" * 301
    code, _, err = run(capsys, "decode", deep)
    assert code == 1 and "nested deeper" in err


def test_encode_prints_unpadded_base64(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "encode", '{"id": 1, "tags": ["a", "b"]}')
    assert code == 0
    assert out == "g3QAAAACbQAAAAJpZGEBbQAAAAR0YWdzbAAAAAJtAAAAAWFtAAAAAWJq"
    code, out, _ = run(capsys, "encode", "--compressed", '{"id": 1, "tags": ["a", "b"]}')
    assert out.startswith("g1A") and decode_recorded(out) == {"id": 1, "tags": ["a", "b"]}


def test_encode_hex_and_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(capsys, "encode", "--hex", "[1, null]")[1] == encode([1, None]).hex()
    monkeypatch.setattr("sys.stdin", io.StringIO('"x"'))
    assert decode_recorded(run(capsys, "encode", "-")[1]) == "x"


def test_encode_rejects_bad_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "encode", "{nope")
    assert code == 1 and "not valid JSON" in err


def test_round_trip_through_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    _, text, _ = run(capsys, "encode", '{"b": [1.5, true, null], "a": "é"}')
    assert decode(encode(decode_recorded(text))) == {"a": "é", "b": [1.5, True, None]}
    assert run(capsys, "decode", "--elixir", text)[1] == '%{"a" => "é", "b" => [1.5, true, nil]}'
