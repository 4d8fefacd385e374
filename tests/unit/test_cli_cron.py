"""``oban-bridge work --cron 'EXPR WORKER [OPTIONS_JSON]'``: the entry as the node takes it."""

from __future__ import annotations

import pytest

from bridge.cli.work import parse_cron
from bridge.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "entry"),
    [
        ("*/5 * * * * MyApp.Report", ("*/5 * * * *", "MyApp.Report", {})),
        ("@daily MyApp.Cleanup", ("@daily", "MyApp.Cleanup", {})),
        (
            '0 9 * * MON-FRI  MyApp.Digest {"args": {"id": 1}, "queue": "mail"}',
            ("0 9 * * MON-FRI", "MyApp.Digest", {"args": {"id": 1}, "queue": "mail"}),
        ),
        ('@hourly W {"timezone": "Europe/Paris"}', ("@hourly", "W", {"timezone": "Europe/Paris"})),
    ],
)
def test_parse_cron(text: str, entry: tuple[str, str, dict[str, object]]) -> None:
    assert parse_cron(text) == entry


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("* * * * *", "expected 'EXPR WORKER [OPTIONS_JSON]'"),
        ("@daily", "expected 'EXPR WORKER [OPTIONS_JSON]'"),
        ("* * * * * W {args}", "the options are not JSON"),
        ("* * * * * W [1]", "must be a JSON object"),
    ],
)
def test_parse_cron_refuses(text: str, says: str) -> None:
    with pytest.raises(ConfigError, match="--cron") as caught:
        parse_cron(text)
    assert says in str(caught.value)
