"""``ChainVerifier.feed_rows`` (the row fast path of ``verify``) reports exactly what ``feed``
reports, event by event, for clean and for damaged logs; and the canonical bytes keep every
integer field distinct from a look-alike of another type."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.hashchain import ChainVerifier, VerifyReport, canonical_bytes, stored_hash
from events.model import StoredEvent
from tests.fixtures.stores import notes, open_sqlite, write

COLUMNS = (
    "position",
    "stream_id",
    "version",
    "type",
    "schema_version",
    "event_id",
    "data",
    "metadata",
    "recorded_at",
    "prev_hash",
    "hash",
)


def clean_rows(path: Path) -> list[tuple[Any, ...]]:
    store = open_sqlite(path, synchronous="OFF")
    try:
        store.append([write("a", *notes("1", "二")), write("b", *notes("3"))], command_id="c1")
        store.append([write("a", *notes("4")), write("数据", *notes("5", "6"))], command_id="c2")
        store.append([write("b", *notes("7"))], command_id="c3")
        rows: list[tuple[Any, ...]] = store.connection.execute(
            f"SELECT {', '.join(COLUMNS)} FROM events ORDER BY position"
        ).fetchall()
        return rows
    finally:
        store.close()


def as_event(row: tuple[Any, ...]) -> StoredEvent:
    values = list(row)
    for i in (6, 7):
        values[i] = msgspec.Raw(values[i].encode() if isinstance(values[i], str) else values[i])
    return StoredEvent(*values)


def by_feed(rows: list[tuple[Any, ...]]) -> VerifyReport:
    verifier = ChainVerifier()
    for row in rows:
        if not verifier.feed(as_event(row)):
            break
    return verifier.report()


def by_rows(rows: list[tuple[Any, ...]], chunk: int) -> VerifyReport:
    verifier = ChainVerifier()
    for start in range(0, len(rows), chunk):
        if not verifier.feed_rows(rows[start : start + chunk]):
            break
    return verifier.report()


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Any, ...]]:
    return clean_rows(tmp_path_factory.mktemp("verify-rows") / "events.db")


def test_a_clean_log_in_any_chunking(rows: list[tuple[Any, ...]]) -> None:
    expected = by_feed(rows)
    assert expected.ok and expected.count == len(rows) == 7
    for chunk in (1, 2, 3, 7, 200):
        assert by_rows(rows, chunk) == expected


def test_rows_may_be_lists_and_data_may_be_bytes(rows: list[tuple[Any, ...]]) -> None:
    as_lists = [[*r[:6], r[6].encode(), r[7].encode(), *r[8:]] for r in rows]
    verifier = ChainVerifier()
    assert verifier.feed_rows(as_lists)
    assert verifier.report() == by_feed(rows)


any_value = st.one_of(
    st.integers(-3, 10**6),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    st.booleans(),
    st.none(),
)
#: data and metadata are TEXT in a STRICT table: any text, or its bytes
json_text = st.one_of(st.text(max_size=12), st.binary(max_size=12))


@given(index=st.integers(0, 6), column=st.integers(0, 10), data=st.data(), chunk=st.integers(1, 8))
def test_any_damaged_cell_gives_the_same_report_as_feed(
    rows: list[tuple[Any, ...]], index: int, column: int, data: st.DataObject, chunk: int
) -> None:
    # position is the rowid (always an integer); the rest as a damaged or hand-made file may hold
    strategy = st.integers(-3, 10**6) if column == 0 else json_text if column in (6, 7) else any_value
    value = data.draw(strategy, label="value")
    damaged = [list(r) for r in rows]
    damaged[index][column] = value
    expected = by_feed([tuple(r) for r in damaged])
    assert by_rows([tuple(r) for r in damaged], chunk) == expected
    original = rows[index][column]
    if isinstance(value, bytes):
        value = value.decode(errors="surrogateescape")
    if value != original or type(value) is not type(original):
        assert not expected.ok
        assert expected.failed_position is not None and expected.failed_position <= index + 1
    else:
        assert expected.ok


@pytest.mark.parametrize("column", ["position", "version", "schema_version"])
@pytest.mark.parametrize("value", [1.0, 1.5, True, "1"])
def test_an_integer_field_of_another_type_never_hashes_like_the_integer(column: str, value: Any) -> None:
    fields: dict[str, Any] = {
        "position": 1,
        "stream_id": "s",
        "version": 1,
        "type": "Noted",
        "schema_version": 1,
        "event_id": "e",
        "data": b"{}",
        "metadata": b"{}",
        "recorded_at": "2025-01-01T00:00:00.000000Z",
        "prev_hash": "0" * 64,
    }
    legit = canonical_bytes(**fields)
    assert canonical_bytes(**{**fields, column: value}) != legit


def test_a_real_schema_version_is_found_by_the_fast_path(rows: list[tuple[Any, ...]]) -> None:
    # a REAL where the store wrote an INTEGER: with "%d" it would format as the integer
    damaged = [list(r) for r in rows]
    damaged[3][4] = float(damaged[3][4]) + 0.5
    report = by_rows([tuple(r) for r in damaged], 200)
    assert not report.ok
    assert report.failed_position == 4
    assert "does not match its hash" in (report.reason or "")


def test_the_fast_path_hashes_like_stored_hash(rows: list[tuple[Any, ...]]) -> None:
    for row in rows:
        assert stored_hash(as_event(row)) == row[10]
