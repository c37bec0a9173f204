"""The read path's decoding: ``EventCodec.decoder_for`` decodes as ``decode_payload`` does, and
every read of the SQLite store gives what decoding each stored event on its own gives."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from events.errors import CorruptEventError, UnknownEventTypeError
from events.sqlite import SQLiteEventStore
from tests.fixtures.stores import (
    Clock,
    Noted,
    Opened,
    drop_triggers,
    make_codec,
    notes,
    open_sqlite,
    raw_connection,
    write,
)
from tests.fixtures.upcasting import ProductV1, ProductV2, codec_with, v1_to_v2, write_v1_history


def test_decoder_for_the_current_version() -> None:
    codec = make_codec()
    data = codec.encode(Noted(text="月", n=3))
    decode = codec.decoder_for("Noted", 1)
    assert decode(data) == decode(data.decode()) == codec.decode_payload("Noted", 1, data) == Noted(text="月", n=3)


def test_decoder_for_an_old_version_upcasts() -> None:
    codec = codec_with(ProductV2)
    codec.add_upcaster("ProductListed", 1, v1_to_v2)
    data = codec_with(ProductV1).encode(ProductV1(title="t"))
    assert codec.decoder_for("ProductListed", 1)(data) == codec.decode_payload("ProductListed", 1, data)
    assert codec.decoder_for("ProductListed", 1)(data).name == "t"  # type: ignore[attr-defined]


@pytest.mark.parametrize(("event_type", "version", "match"), [("Nope", 1, "Nope"), ("Noted", 2, "newer")])
def test_decoder_for_unknown_data_refuses_when_called(event_type: str, version: int, match: str) -> None:
    decode = make_codec().decoder_for(event_type, version)  # no error yet: only decoding can fail
    with pytest.raises(UnknownEventTypeError, match=match):
        decode(b"{}")


def test_every_read_equals_decoding_each_stored_event(db_path: Path) -> None:
    clock = Clock()
    store = open_sqlite(db_path, clock=clock)
    try:
        store.append([write("a", *notes("1", "2")), write("b", Opened(name="沙盒"))], command_id="c1")
        clock.advance(seconds=1)
        store.append([write("a", *notes("3"))], command_id="c2")
        store.append([write("b", *notes("4", "5"))], command_id="c3")  # same recorded_at as c2
        expected = [store.codec.decode(s) for s in store.iter_stored()]
        assert len(expected) == 6
        for batch in (1, 2, 4, 200):
            assert list(store.iter_all(batch=batch)) == expected
        assert store.read_after(0) == expected
        assert store.read_after(2, limit=3) == expected[2:5]
        assert store.read_stream("a") + store.read_stream("b") == [expected[i] for i in (0, 1, 3, 2, 4, 5)]
        assert [e.recorded_at for e in expected] == [expected[0].recorded_at] * 3 + [expected[3].recorded_at] * 3
        assert expected[3].recorded_at > expected[0].recorded_at
    finally:
        store.close()


def test_iter_all_gives_every_event_before_one_that_cannot_be_decoded(db_path: Path) -> None:
    write_v1_history(db_path)  # ProductListed (v1), Noted, ProductListed (v1)
    store = SQLiteEventStore(db_path, codec_with(ProductV2), create=False)  # no upcaster from 1
    try:
        seen = []
        with pytest.raises(UnknownEventTypeError, match="no upcaster"):
            for event in store.iter_all(after=1):
                seen.append(event.position)
        assert seen == [2]
        with pytest.raises(UnknownEventTypeError):
            store.read_after(1)  # a list read decodes everything or raises
    finally:
        store.close()


def test_data_that_is_not_utf8_is_a_corrupt_event_naming_its_position(db_path: Path) -> None:
    store = open_sqlite(db_path)
    try:
        store.append([write("a", *notes("1", "月", "3"))], command_id="c1")
        conn = raw_connection(db_path)
        drop_triggers(conn)
        # the note "月" (e6 9c 88) cut to an invalid sequence inside the JSON string
        conn.execute(
            "UPDATE events SET data = CAST(replace(CAST(data AS BLOB), x'e69c88', x'e69c') AS TEXT)"
            " WHERE position = 2"
        )
        conn.close()
        for read in (lambda: store.read_stream("a"), lambda: store.read_after(0), lambda: list(store.iter_all())):
            with pytest.raises(CorruptEventError) as caught:
                read()
            assert caught.value.position == 2
            assert "UTF-8" in caught.value.reason
        assert [e.position for e in store.read_after(2)] == [3]
        report = store.verify()
        assert (report.ok, report.failed_position, report.count) == (False, 2, 1)
    finally:
        store.close()


def test_a_utf16_database_reads_and_verifies_as_text(db_path: Path) -> None:
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA encoding = 'UTF-16le'")
    conn.execute("CREATE TABLE t (x)")  # the encoding is fixed when the first table is made
    conn.commit()
    conn.close()
    store = open_sqlite(db_path)
    try:
        assert store.connection.execute("PRAGMA encoding").fetchone()[0] == "UTF-16le"
        store.append([write("数据", *notes("一", "two")), write("b", Opened(name="沙盒"))], command_id="c1")
        expected = [store.codec.decode(s) for s in store.iter_stored()]
        assert [e.payload for e in expected] == [*notes("一", "two"), Opened(name="沙盒")]
        assert list(store.iter_all()) == store.read_after(0) == expected
        assert store.read_stream("数据") == expected[:2]
        assert store.verify().ok
    finally:
        store.close()
