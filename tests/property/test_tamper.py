"""Tampering is found, and at the right position.

An attacker with the file drops the triggers and changes one stored byte of one column of one
event, deletes an event, or swaps two events' contents; ``verify`` must fail naming the first
altered position (the last event's removal is named when a reader's checkpoint had reached it,
and otherwise changes the head hash). The same holds for an exported JSONL checked by ``verify_export``. Finally the
canonical bytes are exactly what the README promises an independent verifier.
"""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, reject
from hypothesis import strategies as st

from events.export import export_lines, verify_export
from events.hashchain import canonical_bytes
from events.memory import InMemoryEventStore
from events.model import NewEvent, StreamWrite
from events.sqlite import SQLiteEventStore
from tests.fixtures.stores import (
    Noted,
    Opened,
    Tagged,
    drop_triggers,
    make_codec,
    meta,
    new,
    open_sqlite,
    raw_connection,
)

TEXT_COLUMNS = ("stream_id", "type", "event_id", "data", "metadata", "recorded_at", "prev_hash", "hash")
INT_COLUMNS = ("position", "version", "schema_version")
EXPORT_FIELDS = {*TEXT_COLUMNS, *INT_COLUMNS}

small_payloads = st.one_of(
    st.builds(Noted, text=st.text(max_size=6), n=st.integers(-1000, 10**12)),
    st.builds(Opened, name=st.sampled_from(["a", "沙盒", "e-CNY"])),
)
# a log: a few appends, each to one or two streams
appends = st.lists(
    st.lists(
        st.tuples(st.sampled_from(["p-1", "p-2", "数据"]), st.lists(small_payloads, min_size=1, max_size=3)),
        min_size=1,
        max_size=2,
        unique_by=lambda w: w[0],
    ),
    min_size=1,
    max_size=4,
)


@contextmanager
def built_log(spec: list[list[tuple[str, list[Any]]]]) -> Iterator[tuple[SQLiteEventStore, Path]]:
    with tempfile.TemporaryDirectory(prefix="tamper-") as tmp:
        path = Path(tmp) / "events.db"
        store = open_sqlite(path, synchronous="OFF")
        try:
            for i, writes in enumerate(spec):
                store.append(
                    [StreamWrite(s, tuple(new(p) for p in payloads)) for s, payloads in writes],
                    command_id=f"cmd-{i}",
                )
            assert store.verify().ok
            yield store, path
        finally:
            store.close()


def attacker(path: Path) -> sqlite3.Connection:
    conn = raw_connection(path)
    drop_triggers(conn)
    return conn


def row(conn: sqlite3.Connection, position: int) -> dict[str, Any]:
    cur = conn.execute("SELECT * FROM events WHERE position = ?", (position,))
    names = [d[0] for d in cur.description]
    return dict(zip(names, cur.fetchone(), strict=True))


def count(store: SQLiteEventStore) -> int:
    return store.head().position


@given(spec=appends, data=st.data())
def test_changing_one_byte_of_any_column_is_found_at_its_position(spec: Any, data: st.DataObject) -> None:
    with built_log(spec) as (store, path):
        n = count(store)
        position = data.draw(st.integers(1, n), label="position")
        column = data.draw(st.sampled_from(TEXT_COLUMNS + INT_COLUMNS), label="column")
        conn = attacker(path)
        original = row(conn, position)[column]
        try:
            if column in INT_COLUMNS:
                if column == "position":
                    changed = data.draw(st.integers(n + 1, n + 10_000), label="new position")
                else:
                    changed = data.draw(st.integers(1, 10**6).filter(lambda v: v != original), label="new")
                conn.execute(f"UPDATE events SET {column} = ? WHERE position = ?", (changed, position))
            else:
                raw = bytearray(original.encode())
                index = data.draw(st.integers(0, len(raw) - 1), label="byte index")
                byte = data.draw(st.integers(0, 255).filter(lambda b: b != raw[index]), label="new byte")
                raw[index] = byte
                # any byte at all, even one that leaves the text invalid UTF-8
                conn.execute(
                    f"UPDATE events SET {column} = CAST(? AS TEXT) WHERE position = ?", (bytes(raw), position)
                )
        except sqlite3.IntegrityError:
            reject()  # a UNIQUE key refused the change: nothing was tampered
        finally:
            conn.close()
        report = store.verify()
        assert not report.ok
        assert report.failed_position == position, (column, report.line())
        assert report.reason and report.reason_zh  # why, in English and in Chinese


@given(spec=appends, data=st.data(), reader=st.booleans())
def test_deleting_an_event_is_found(spec: Any, data: st.DataObject, reader: bool) -> None:
    with built_log(spec) as (store, path):
        n = count(store)
        if reader:  # a catch-up reader at the head, as the registry's read models always are
            store.save_checkpoint("reader", n)
        published = store.verify().head_hash
        position = data.draw(st.integers(1, n), label="deleted")
        conn = attacker(path)
        conn.execute("DELETE FROM events WHERE position = ?", (position,))
        conn.close()
        report = store.verify()
        if position == n and not reader:
            # Nothing in the file names the removed last event: the head hash printed (or
            # published) before no longer matches, as the README tells auditors to check.
            assert report.ok and report.head_position == n - 1
            assert report.head_hash != published
            return
        assert not report.ok
        # a removed last event: the log ends before the position the reader reached
        assert report.failed_position == position, report.line()
        assert "removed" in (report.reason or "") and "删除" in (report.reason_zh or "")


@given(spec=appends, data=st.data())
def test_swapping_two_events_is_found_at_the_first(spec: Any, data: st.DataObject) -> None:
    with built_log(spec) as (store, path):
        n = count(store)
        assume(n >= 2)
        i = data.draw(st.integers(1, n - 1), label="first")
        j = data.draw(st.integers(i + 1, n), label="second")
        conn = attacker(path)
        a, b = row(conn, i), row(conn, j)
        conn.execute("BEGIN")
        conn.execute("DELETE FROM events WHERE position IN (?, ?)", (i, j))
        for target, source in ((i, b), (j, a)):
            values = {**source, "position": target}
            conn.execute(
                f"INSERT INTO events ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
                tuple(values.values()),
            )
        conn.execute("COMMIT")
        conn.close()
        report = store.verify()
        assert not report.ok
        assert report.failed_position == i, report.line()


@given(spec=appends, data=st.data())
def test_an_insert_that_would_rewrite_the_log_is_refused(spec: Any, data: st.DataObject) -> None:
    """With the triggers in place, an ordinary SQL client cannot rewrite history by inserting:
    ``INSERT OR REPLACE`` over an event (which deletes the row it collides with and fires no
    DELETE trigger), an upsert, an event that repeats an event id or a stream version at the end
    of the log, or one that leaves a gap. The log stays as it was, byte for byte."""
    with built_log(spec) as (store, path):
        n = count(store)
        published = store.verify().head_hash
        conn = raw_connection(path)
        before = conn.execute("SELECT * FROM events ORDER BY position").fetchall()
        source = row(conn, data.draw(st.integers(1, n), label="copied"))
        changed = {**source, "data": source["data"].replace("}", ',"x":1}', 1)}
        kind = data.draw(
            st.sampled_from(["over its position", "its event id", "its stream version", "after a gap"]),
            label="kind",
        )
        fresh = {"event_id": f"forged-{n}", "version": 10_000}  # unused by any event
        values = {
            "over its position": changed,
            "its event id": {**changed, "position": n + 1, "version": fresh["version"]},
            "its stream version": {**changed, "position": n + 1, "event_id": fresh["event_id"]},
            "after a gap": {**changed, "position": n + 2, **fresh},
        }[kind]
        verb = data.draw(st.sampled_from(["INSERT OR REPLACE", "REPLACE", "INSERT"]), label="verb")
        upsert = verb == "INSERT" and data.draw(st.booleans(), label="upsert")
        on_conflict = " ON CONFLICT DO UPDATE SET data = excluded.data" if upsert else ""
        columns = ", ".join(values)
        with pytest.raises(sqlite3.IntegrityError, match="immutable"):
            conn.execute(
                f"{verb} INTO events ({columns}) VALUES ({', '.join('?' * len(values))}){on_conflict}",
                tuple(values.values()),
            )
        assert conn.execute("SELECT * FROM events ORDER BY position").fetchall() == before
        conn.close()
        report = store.verify()
        assert report.ok and report.head_hash == published


# -- the export ----------------------------------------------------------------------------------


def exported(store: SQLiteEventStore) -> bytes:
    return b"".join(export_lines(store.iter_stored()))


@given(spec=appends, data=st.data())
def test_changing_any_byte_of_an_export_is_found_at_its_line(spec: Any, data: st.DataObject) -> None:
    with built_log(spec) as (store, _):
        blob = exported(store)
        assert verify_export(io.BytesIO(blob)).ok
        index = data.draw(st.integers(0, len(blob) - 1), label="byte index")
        byte = data.draw(st.integers(0, 255).filter(lambda b: b != blob[index]), label="new byte")
        tampered = blob[:index] + bytes([byte]) + blob[index + 1 :]
        # every byte counts, even one that leaves the same values (white space, a duplicated
        # key, an escape): the line must be the one the export writes, whose bytes the hash covers
        line_of_byte = blob.count(b"\n", 0, index) + 1
        report = verify_export(io.BytesIO(tampered))
        assert not report.ok
        assert report.failed_position == line_of_byte, report.line()
        assert report.reason and report.reason_zh  # a line that no longer parses too


@given(spec=appends, data=st.data())
def test_a_rewritten_export_line_that_decodes_alike_is_found(spec: Any, data: st.DataObject) -> None:
    """A reader or a lenient parser could see other values in a line that decodes to the same
    record as the hashed one: a duplicated key put first (many parsers keep the first), white
    space, a character written as an escape. The line is not the one the hash covers: found."""
    with built_log(spec) as (store, _):
        lines = exported(store).split(b"\n")[:-1]
        number = data.draw(st.integers(1, len(lines)), label="line")
        line = lines[number - 1]
        record = json.loads(line)
        first_key = next(iter(record["data"]), None) if isinstance(record["data"], dict) else None
        duplicated = b'{"data":{"%s":"forged",' % first_key.encode() if first_key else b'{"position":0,'
        letter = record["type"][0]
        rewrites = {
            "a duplicated data key first": line.replace(b'{"data":{', duplicated, 1) if first_key
            else duplicated + line[1:],
            "a duplicated metadata key first": line.replace(b'"metadata":{', b'"metadata":{"actor":"someone-else",', 1),
            "white space": line.replace(b'":', b'": ', 1),
            "an escaped character": line.replace(
                b'"type":"' + letter.encode(), b'"type":"' + f"\\u{ord(letter):04x}".encode(), 1
            ),
        }
        kind = data.draw(st.sampled_from(sorted(rewrites)), label="rewrite")
        forged = rewrites[kind]
        assert forged != line
        report = verify_export([line + b"\n" for line in [*lines[: number - 1], forged, *lines[number:]]])
        assert not report.ok and report.failed_position == number, (kind, report.line())


@given(spec=appends, data=st.data())
def test_deleting_or_swapping_export_lines_is_found(spec: Any, data: st.DataObject) -> None:
    with built_log(spec) as (store, _):
        lines = exported(store).splitlines(keepends=True)
        n = len(lines)
        head = store.head()
        action = data.draw(st.sampled_from(["delete", "swap lines", "swap contents"]), label="action")
        if action == "delete":
            k = data.draw(st.integers(1, n), label="deleted")
            report = verify_export(lines[: k - 1] + lines[k:])
            if k < n:
                assert (report.ok, report.failed_position) == (False, k)
            else:
                # a truncated export is a valid shorter chain: the auditor compares its head with
                # the head the registry publishes (``sandbox-registry verify`` prints it)
                assert report.ok and (report.head_position, report.head_hash) != (head.position, head.hash)
            return
        assume(n >= 2)
        i = data.draw(st.integers(1, n - 1), label="first")
        j = data.draw(st.integers(i + 1, n), label="second")
        swapped = list(lines)
        if action == "swap lines":
            swapped[i - 1], swapped[j - 1] = lines[j - 1], lines[i - 1]
        else:
            a, b = json.loads(lines[i - 1]), json.loads(lines[j - 1])
            a["position"], b["position"] = j, i
            swapped[i - 1] = json.dumps(b, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
            swapped[j - 1] = json.dumps(a, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
        report = verify_export(swapped)
        assert (report.ok, report.failed_position) == (False, i), report.line()


# -- canonical bytes: what an independent verifier recomputes -----------------------------------------

json_scalars = st.one_of(st.integers(-(2**63), 2**63 - 1), st.text())
tagged = st.builds(
    Tagged,
    label=st.text(),
    attrs=st.dictionaries(st.text(), json_scalars, max_size=4),
    items=st.lists(json_scalars, max_size=4).map(tuple),
)


@given(
    events=st.lists(
        st.tuples(st.text(min_size=1), tagged, st.one_of(st.none(), st.text()), st.text()),
        min_size=1,
        max_size=4,
    )
)
def test_canonical_bytes_are_sorted_compact_utf8_json(events: list[tuple[str, Tagged, str | None, str]]) -> None:
    store = InMemoryEventStore(make_codec())
    for i, (stream, payload, reason, actor) in enumerate(events):
        m = meta(reason=reason, actor=actor)
        store.append([StreamWrite(stream, (NewEvent(payload, m),))], command_id=f"c{i}")
    lines = list(export_lines(store.iter_stored()))
    for line, stored in zip(lines, store.iter_stored(), strict=True):
        record = json.loads(line)
        assert set(record) == EXPORT_FIELDS
        digest = record.pop("hash")
        independent = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        ours = canonical_bytes(
            position=stored.position,
            stream_id=stored.stream_id,
            version=stored.version,
            type=stored.type,
            schema_version=stored.schema_version,
            event_id=stored.event_id,
            data=bytes(stored.data),
            metadata=bytes(stored.metadata),
            recorded_at=stored.recorded_at,
            prev_hash=stored.prev_hash,
        )
        assert ours == independent
        assert hashlib.sha256(independent).hexdigest() == digest == stored.hash
        # the stored data and metadata are themselves canonical JSON
        assert bytes(stored.data) == json.dumps(
            record["data"], sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
    assert verify_export(lines).ok
