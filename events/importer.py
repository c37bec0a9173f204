"""Rebuild a registry database from an export, verifying every hash while loading.

The file is read line by line; each line is checked against the chain (content hash, link,
contiguous positions and versions) before it is written, and a file that does not verify is
refused, naming the first bad line, with nothing committed. A command whose first event carries
the id derived from its command id is recorded by that event; for one appended before the ids
were derived, a command record is rebuilt from the events' ``command_id``, so retried commands
stay idempotent in the new database either way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from events.appending import command_event_id
from events.export import ExportFormatError, parse_line
from events.hashchain import ChainVerifier
from events.sqlite import SQLiteEventStore

_INSERT = (
    "INSERT INTO events (position, stream_id, version, type, schema_version, event_id, data, metadata,"
    " recorded_at, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
)


class ImportRefused(ValueError):
    """The export does not verify; nothing was imported."""

    def __init__(self, line_number: int, reason: str) -> None:
        self.line_number = line_number
        super().__init__(f"line {line_number}: {reason}")


def import_log(
    store: SQLiteEventStore,
    lines: Iterable[bytes | str],
    *,
    batch: int = 5000,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Load a verified export into an empty store in one transaction; returns the event count."""
    if store.head().position:
        raise ImportRefused(0, f"the target database {store.path} already holds events")
    verifier = ChainVerifier()
    rows: list[tuple[object, ...]] = []
    # Commands whose first event carries the id derived from the command id are recorded by it;
    # the others (appended before ids were derived) need a command record: first, last position.
    recorded: set[str] = set()
    spans: dict[str, list[int]] = {}
    count = 0
    with store.transaction() as db:
        conn = db.conn
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                event = parse_line(line, number)
            except ExportFormatError as e:
                raise ImportRefused(number, str(e).split(": ", 1)[-1]) from e
            if not verifier.feed(event):
                raise ImportRefused(number, f"position {verifier.failed_position}: {verifier.reason}")
            data, metadata = bytes(event.data), bytes(event.metadata)
            rows.append(
                (
                    event.position,
                    event.stream_id,
                    event.version,
                    event.type,
                    event.schema_version,
                    event.event_id,
                    data.decode(),
                    metadata.decode(),
                    event.recorded_at,
                    event.prev_hash,
                    event.hash,
                )
            )
            command_id = _command_id(metadata)
            if command_id and command_id not in recorded:
                if command_id in spans:
                    spans[command_id][1] = event.position
                elif event.event_id == command_event_id(command_id):
                    recorded.add(command_id)
                else:
                    spans[command_id] = [event.position, event.position]
            count += 1
            if len(rows) >= batch:
                conn.executemany(_INSERT, rows)
                if progress:
                    progress(len(rows))
                rows.clear()
        if rows:
            conn.executemany(_INSERT, rows)
            if progress:
                progress(len(rows))
        last_recorded = {
            r[0]: r[1]
            for r in conn.execute(
                "SELECT position, recorded_at FROM events WHERE position IN (SELECT max(position) FROM events)"
            )
        }
        stamp = next(iter(last_recorded.values()), "")
        conn.executemany(
            "INSERT INTO commands (command_id, first_position, last_position, recorded_at) VALUES (?, ?, ?, ?)",
            [(cid, first, last, stamp) for cid, (first, last) in spans.items()],
        )
    store.reload_command_records()
    return count


def _command_id(metadata: bytes) -> str:
    import msgspec

    value = msgspec.json.decode(metadata)
    return str(value.get("command_id") or "") if isinstance(value, dict) else ""
