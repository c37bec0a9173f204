"""``recorded_at`` text: fixed width (a 4-digit year), UTC, and text order is time order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.codec import parse_recorded_at
from events.sqlite import format_recorded_at
from tests.fixtures.stores import Clock, notes, open_sqlite, write

moments = st.datetimes(
    min_value=datetime(1, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5))]),
)


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=UTC), "0999-01-02T03:04:05.000006Z"),
        (datetime(12, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), "0012-12-31T23:59:59.999999Z"),
        (datetime(1, 1, 1, tzinfo=UTC), "0001-01-01T00:00:00.000000Z"),
        (datetime(2025, 6, 1, 8, 0, tzinfo=timezone(timedelta(hours=8))), "2025-06-01T00:00:00.000000Z"),
    ],
)
def test_the_year_is_zero_padded_to_four_digits(moment: datetime, text: str) -> None:
    assert format_recorded_at(moment) == text


@given(moments)
def test_fixed_width_and_round_trip(moment: datetime) -> None:
    text = format_recorded_at(moment)
    assert len(text) == len("2025-01-01T00:00:00.000000Z")
    assert text.endswith("Z")
    back = parse_recorded_at(text)
    assert back == moment
    assert back.utcoffset() == timedelta(0)


@given(moments, moments)
def test_text_order_is_time_order(a: datetime, b: datetime) -> None:
    assert (format_recorded_at(a) < format_recorded_at(b)) == (a < b)


def test_a_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        format_recorded_at(datetime(2025, 1, 1))


def test_an_early_clock_is_stored_padded_and_read_back(db_path: Path) -> None:
    clock = Clock(datetime(999, 5, 6, 7, 8, 9, tzinfo=UTC))
    store = open_sqlite(db_path, clock=clock)
    try:
        store.append([write("s", *notes("a", "b"))], command_id="c1")
        clock.set(datetime(2024, 1, 1, tzinfo=UTC))
        store.append([write("s", *notes("c"))], command_id="c2")
        assert store.head().recorded_at == "2024-01-01T00:00:00.000000Z"
        stored = [e.recorded_at for e in store.iter_stored()]
        assert stored[:2] == ["0999-05-06T07:08:09.000000Z"] * 2
        assert [e.recorded_at for e in store.read_stream("s")] == [
            datetime(999, 5, 6, 7, 8, 9, tzinfo=UTC),
            datetime(999, 5, 6, 7, 8, 9, tzinfo=UTC),
            datetime(2024, 1, 1, tzinfo=UTC),
        ]
        # as-of-time reads compare the text: padded, year 999 sorts before year 2024
        assert len(store.read_stream("s", as_of_time=datetime(1500, 1, 1, tzinfo=UTC))) == 2
        assert store.position_at(datetime(1500, 1, 1, tzinfo=UTC)) == 2
        assert store.verify().ok
    finally:
        store.close()
