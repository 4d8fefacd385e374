"""``oban-bridge pause | resume | scale | start-queue | stop-queue`` without a database: the
arguments each accepts, the line it prints, and refusals before any connection."""

from __future__ import annotations

import pytest

from bridge.cli import build_parser, main
from bridge.cli.signals import _said

#: a server nobody runs: a command that got as far as connecting would fail differently
NOWHERE = "postgresql://nobody@127.0.0.1:1/none"


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["pause", "media"], 'sent pause to queue "media" on all nodes'),
        (["pause", "--all", "--node", "web-1"], 'sent pause to all queues on node "web-1"'),
        (["resume", "--all"], "sent resume to all queues on all nodes"),
        (["scale", "media", "5"], 'sent scale (limit 5) to queue "media" on all nodes'),
        (
            ["start-queue", "media", "--limit", "2", "--paused"],
            'sent start (limit 2, paused) to queue "media" on all nodes',
        ),
        (["stop-queue", "media", "--node", "py-1"], 'sent stop to queue "media" on node "py-1"'),
        (["pause", 'a"\x1b'], 'sent pause to queue "a\\"\\u001b" on all nodes'),
    ],
)
def test_the_line_says_what_was_sent(argv: list[str], line: str) -> None:
    assert _said(build_parser().parse_args(argv)) == line


@pytest.mark.parametrize(
    "argv",
    [
        ["pause"],  # neither a queue nor --all
        ["resume", "media", "--all"],  # both
        ["scale", "media"],  # no limit
        ["scale", "media", "five"],
        ["start-queue", "media"],  # --limit is required
        ["stop-queue"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([*argv, "--dsn", NOWHERE])
    assert info.value.code == 2
    assert capsys.readouterr().err.startswith("oban-bridge: error: ")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["scale", "media", "0"], "limit: must be between 1 and"),
        (["start-queue", "media", "--limit", "-3"], "limit: must be between 1 and"),
        (["stop-queue", "*"], 'queue: "*" stands for every queue only in pause and resume'),
        (["pause", "media", "--node", ""], "node: can't be blank"),
        (["pause", "media", "--node", "w", "--instance", "Elixir.App"], "instance: "),
        (["pause", "media", "--node", "n" * 8000], "payload is 8050 bytes, over the limit of 7999"),
    ],
)
def test_refused_before_connecting_exit_1(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "--dsn", NOWHERE]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("oban-bridge: error: ") and message in captured.err
