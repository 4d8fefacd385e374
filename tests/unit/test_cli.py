"""The command line without a database: version, help texts, argument files, safe output,
and passwords kept out of every message."""

from __future__ import annotations

import argparse
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge import Job, JobState, __version__
from bridge.cli import build_parser, main, mask_logs
from bridge.cli._common import job_json, job_table, json_object, printable
from bridge.errors import ConfigError
from bridge.pg.connect import redact, secrets_of

#: options of commands other teams own that still lack a help text (remove when they have one)
PENDING_HELP: set[tuple[str, str]] = set()


@pytest.fixture(autouse=True)
def _record_factory() -> Iterator[None]:
    """``main`` masks passwords in log records process-wide: undo it after each test."""
    factory = logging.getLogRecordFactory()
    yield
    logging.setLogRecordFactory(factory)


def _parsers(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _parsers(child, (*path, name))


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"oban-bridge {__version__}"


def test_every_command_and_option_has_user_facing_help() -> None:
    missing, rst = [], []
    for path, parser in _parsers(build_parser()):
        if path and not parser.description:
            missing.append(" ".join(path))
        texts = [parser.description or "", parser.epilog or ""]
        for action in parser._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            name = action.option_strings[-1] if action.option_strings else action.dest
            if not action.help and (" ".join(path), name) not in PENDING_HELP:
                missing.append(f"{' '.join(path)} {name}")
            texts.append(action.help or "")
        rst += [" ".join(path) for text in texts if "``" in text or ":func:" in text]
    assert missing == [] and rst == []


def test_json_arguments_from_a_file_and_stdin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = {"rows": list(range(5000))}
    (tmp_path / "args.json").write_text(json.dumps(big))
    assert json_object(f"@{tmp_path / 'args.json'}", "--args") == big
    monkeypatch.setattr("sys.stdin", io.StringIO('{"from": "stdin"}'))
    assert json_object("-", "--meta") == {"from": "stdin"}
    assert json_object('{"inline": 1}', "--args") == {"inline": 1}
    with pytest.raises(ConfigError, match=r"--args: cannot read .*nope\.json"):
        json_object(f"@{tmp_path / 'nope.json'}", "--args")


def test_names_are_escaped_for_the_terminal() -> None:
    evil = "Evil\x1b[31mWorker\nnext line\u202e\x9b"
    assert printable(evil) == "Evil\\x1b[31mWorker\\nnext line\\u202e\\x9b"
    assert printable("MyApp.Workers.Mailer ünïcode") == "MyApp.Workers.Mailer ünïcode"
    job = Job(7, JobState.AVAILABLE, "q\t1", evil, {"k": "é\x07"})
    table = job_table([job])
    assert len(table.splitlines()) == 2 and "\x1b" not in table and "\t" not in table
    line = job_json(job)
    assert line.isprintable() and "\n" not in line
    assert json.loads(line)["worker"] == evil and json.loads(line)["args"] == {"k": "é\x07"}


@pytest.mark.parametrize(
    "dsn",
    [
        "postgresql://app:s3cret PW@db.example/app",
        "host=db.example user=app password=s3cret PW",
        "password='s3cret PW' host=db.example bogus=1",
        "postgresql://app:s3cret%20PW@db.example/app",
    ],
)
def test_passwords_are_masked_even_in_malformed_dsns(dsn: str) -> None:
    assert secrets_of(dsn)
    message = f'unexpected spaces found in "s3cret PW", missing "=" after "PW" in {dsn}'
    text = redact(message, dsn)
    assert "s3cret" not in text and '"PW"' not in text and "***" in text
    assert redact('invalid connection option "bogus"', dsn) == 'invalid connection option "bogus"'


def test_main_masks_the_password_of_a_malformed_dsn(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["enqueue", "W", "--dsn", "postgresql://app:s3cret PW@db.example/app"])
    err = capsys.readouterr().err
    assert code == 1 and "s3cret" not in err and "PW" not in err
    assert err.startswith("oban-bridge: error: invalid database DSN")


def test_log_lines_never_carry_the_password(caplog: pytest.LogCaptureFixture) -> None:
    dsn = "postgresql://app:s3cret@db.example/app"
    mask_logs(dsn, None)
    with caplog.at_level(logging.WARNING):
        logging.getLogger("bridge.runtime.node").warning("cannot reach %s", dsn)
        logging.getLogger("psycopg.pool").warning("connection failed: password s3cret")
    assert [r.getMessage() for r in caplog.records] == [
        "cannot reach postgresql://app:***@db.example/app",
        "connection failed: password ***",
    ]
