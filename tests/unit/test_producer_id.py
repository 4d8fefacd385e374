"""``bridge.wire.producer_id``: version-8 producer uuids that name a liveness lock.

The SQL twin ``lock_objid_sql`` is checked against PostgreSQL in
``tests/pg/test_runtime_maintenance.py``.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.wire.producer_id import (
    MAX_OBJID,
    NODE_FIELD,
    UUID_PATTERN,
    lock_objid,
    lock_objid_sql,
    producer_uuid,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "outcomes"
OBJIDS = st.integers(1, MAX_OBJID)
BITS = st.integers(0, 2**62 - 1)


def test_node_field_spells_bridge() -> None:
    assert bytes.fromhex(NODE_FIELD) == b"bridge"
    assert MAX_OBJID == 2**31 - 1


def test_known_uuid() -> None:
    assert producer_uuid(1, 0) == "00000001-0000-8000-8000-627269646765"
    assert producer_uuid(MAX_OBJID, 2**62 - 1) == "7fffffff-ffff-8fff-bfff-627269646765"
    assert lock_objid("7fffffff-ffff-8fff-bfff-627269646765") == MAX_OBJID


@given(OBJIDS, BITS)
def test_property_round_trip_and_rfc_9562_version_8(objid: int, bits: int) -> None:
    text = producer_uuid(objid, bits)
    assert re.fullmatch(UUID_PATTERN, text)
    parsed = uuid.UUID(text)
    assert str(parsed) == text  # lowercase canonical form, as Ecto.UUID writes
    assert parsed.version == 8
    assert parsed.variant == uuid.RFC_4122
    assert text.endswith("-" + NODE_FIELD)
    assert lock_objid(text) == objid


@given(OBJIDS, BITS, BITS)
def test_property_the_random_groups_come_from_the_bits(objid: int, a: int, b: int) -> None:
    # 42 bits fit in groups 2–4 (16 + 12 + 14, around the version and variant): bits 20..61
    same = (a >> 20) == (b >> 20)
    assert (producer_uuid(objid, a) == producer_uuid(objid, b)) is same


@pytest.mark.parametrize("objid", [0, -1, MAX_OBJID + 1, 2**32])
def test_objid_out_of_range(objid: int) -> None:
    with pytest.raises(ValueError, match=r"objid must be in 1\.\."):
        producer_uuid(objid, 0)


@given(st.uuids(version=4))
def test_property_elixir_v4_uuids_name_no_lock(value: uuid.UUID) -> None:
    assert lock_objid(str(value)) is None


@pytest.mark.parametrize("version", ["2.18.3", "2.23.1"])
def test_the_elixir_producers_of_the_vectors_name_no_lock(version: str) -> None:
    data = json.loads((FIXTURES / f"oban-{version}.json").read_text(encoding="utf-8"))
    node, producer = data["outcomes"]["ok"]["after"]["attempted_by"]
    assert node == "vec-elixir-1" and uuid.UUID(producer).version == 4
    assert lock_objid(producer) is None


@pytest.mark.parametrize(
    "text",
    [
        "00000001-0000-8000-8000-627269646766",  # another node field
        "00000001-0000-4000-8000-627269646765",  # version 4
        "00000001-0000-8000-c000-627269646765",  # variant 110x (Microsoft)
        "00000001-0000-8000-7000-627269646765",  # variant 0xxx (NCS)
        "00000001-0000-8000-8000-627269646765 ",
        "0000001-0000-8000-8000-627269646765",
        "7FFFFFFF-FFFF-8FFF-BFFF-627269646765",  # uppercase
        "",
        "bridge",
    ],
)
def test_other_strings_name_no_lock(text: str) -> None:
    assert lock_objid(text) is None


def test_lock_objid_sql_reads_the_first_group_as_bigint() -> None:
    assert lock_objid_sql("u") == "(('x' || substr(u, 1, 8))::bit(32)::bigint)"
