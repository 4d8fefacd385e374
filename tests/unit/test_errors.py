"""Error messages a user acts on (``bridge.errors``)."""

from __future__ import annotations

from bridge import SchemaOutdated


def test_outdated_schema_advice_offers_both_ways_out() -> None:
    # a V12 cluster may hold Elixir nodes on Oban ≤ 2.19 that must stay at V12: "migrate" alone
    # would be the wrong advice
    text = str(SchemaOutdated(12, 14))
    assert "--schema-version 12" in text and "schema_version=12" in text
    assert "Oban ≤ 2.19" in text and "Oban ≥ 2.20" in text
    assert "`oban-bridge migrate --version 14`" in text
    assert text.index("--schema-version 12") < text.index("migrate --version 14")


def test_outdated_schema_advice_names_the_prefix_and_old_versions() -> None:
    text = str(SchemaOutdated(13, 14, "tenant"))
    assert "--schema-version 13" in text and "--version 14 --prefix tenant" in text
    old = str(SchemaOutdated(10, 14))
    assert "--schema-version" not in old  # V10 cannot be worked with: migrating is the way
    assert "--version 12" in old and "--version 14" in old
