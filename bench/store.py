"""Store benchmark: our SQLite event store against raw ``sqlite3`` doing the same work.

Run with ``make bench`` or ``.venv/bin/python bench/store.py [--events N] [--quick]``.

Both sides work on a file database in WAL mode with the store's own schema
(``events.ddl.STATEMENTS``), in one run, from the same pre-built event objects. The raw side is
the physical limit: plain ``sqlite3`` and ``msgspec``, the same canonical bytes and SHA-256 chain
(checked: the raw database passes ``SQLiteEventStore.verify``), no abstraction in between, and
the same per-connection SQLite settings as the store (read back from a store and copied).
The raw side does the bare minimum of each case and nothing more: in particular it decodes only
the payload, not the metadata, and gives every event a random id. Our store's idempotency record
costs no extra write: the first event of an append carries an id derived from the command id,
and the event_id index both sides keep refuses a repeat. ``verify`` is the exception to the bare
minimum, since the store's verify is more than a re-hash: the raw side makes every check ours
makes (the chain, the log's rules and the Merkle tree, see :func:`raw_verify`), written out by hand
in one loop, and the run says so.

Each figure is printed as one line ``NAME: VALUE events/s ratio=R`` with ``R = ours / raw``
(best of ``--repeat`` interleaved runs on each side), followed by an indented detail line.
The machine is small and shared, so compare ratios from the same run only.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import os
import platform
import re
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import msgspec

from events.appending import command_event_id, new_event_id
from events.checkpoint import parse_checkpoint, split_note
from events.codec import EventCodec
from events.ddl import STATEMENTS
from events.hashchain import GENESIS_HASH, canonical_bytes
from events.model import NewEvent, StreamWrite
from events.sqlite import SQLiteEventStore
from schemas.base import Event, EventMetadata, UtcDatetime

# -- the event the benchmark writes -------------------------------------------------------------


class MetricsReported(Event, frozen=True, kw_only=True):
    """A participant's periodic report of one sandbox metric (a typical, mid-sized payload)."""

    event_type: ClassVar[str] = "MetricsReported"
    schema_version: ClassVar[int] = 1

    sandbox_id: str
    participant_id: str
    period_start: UtcDatetime
    metric: str
    value: int
    unit: str
    sample_count: int
    complaints: int
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Batch:
    """One append: events for one stream at a known expected version, under one command id."""

    stream_id: str
    expected: int
    command_id: str
    events: tuple[NewEvent, ...]


_METRICS = ("active_users", "transactions", "settled_value_fen", "complaints_open", "uptime_seconds")
_UNITS = ("count", "count", "fen", "count", "seconds")


def make_batches(total: int, per_append: int, stream_len: int) -> list[Batch]:
    """``total`` events in appends of ``per_append``, round-robin over streams of about
    ``stream_len`` events each, so every stream is spread over the whole log."""
    n_streams = max(1, total // max(1, stream_len))
    streams = [f"sandbox-metrics-{i:05d}" for i in range(n_streams)]
    versions = dict.fromkeys(streams, 0)
    base = datetime(2025, 1, 1, tzinfo=UTC)
    batches: list[Batch] = []
    made = 0
    i = 0
    while made < total:
        size = min(per_append, total - made)
        stream = streams[i % n_streams]
        correlation = str(uuid.uuid4())
        events = []
        for k in range(size):
            n = made + k
            payload = MetricsReported(
                sandbox_id=f"sbx-{n % 37:03d}",
                participant_id=f"participant-{n % 1009:05d}",
                period_start=base + timedelta(hours=n),
                metric=_METRICS[n % 5],
                value=(n * 7919) % 10_000_019,
                unit=_UNITS[n % 5],
                sample_count=1 + n % 500,
                complaints=n % 7,
                note="月度报告 monthly submission" if n % 3 == 0 else None,
            )
            metadata = EventMetadata(
                actor=f"user:{n % 211:04d}@operator.example",
                role="participant-reporter",
                occurred_at=base + timedelta(hours=n, minutes=5),
                organisation=f"org-{n % 53:03d}",
                correlation_id=correlation,
                causation_id=str(uuid.uuid4()),
                reason="periodic metrics submission",
                rule_version="sandbox-rules-2025.1",
            )
            events.append(NewEvent(payload, metadata))
        batches.append(Batch(stream, versions[stream], str(uuid.uuid4()), tuple(events)))
        versions[stream] += size
        made += size
        i += 1
    return batches


# -- helpers ---------------------------------------------------------------------------------------


@contextmanager
def temp_db() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="bench-store-") as d:
        yield Path(d) / "events.db"


@dataclass(frozen=True)
class Run:
    """One timed run: events handled, wall-clock seconds and this process's CPU seconds."""

    events: int
    wall: float
    cpu: float

    @property
    def rate(self) -> float:
        return self.events / self.wall

    @property
    def cpu_rate(self) -> float:
        return self.events / max(self.cpu, 1e-9)


def timed(fn: Callable[[], int]) -> Run:
    """Run ``fn`` (returning how many events it handled) and time it."""
    cpu = time.process_time()
    start = time.perf_counter()
    n = fn()
    return Run(n, time.perf_counter() - start, time.process_time() - cpu)


#: Per-connection settings copied from a freshly opened store to every raw connection, so both
#: sides always run with the same SQLite configuration (whatever the store chooses to set).
_MIRRORED_PRAGMAS = ("cache_size", "mmap_size", "temp_store", "wal_autocheckpoint", "foreign_keys", "secure_delete")


def store_pragmas() -> dict[str, int]:
    """The connection settings our store applies (read back from a store on a scratch file)."""
    with temp_db() as path:
        store = open_ours(path, "FULL")
        try:
            conn = store.connection
            return {name: conn.execute(f"PRAGMA {name}").fetchone()[0] for name in _MIRRORED_PRAGMAS}
        finally:
            store.close()


def connect_raw(path: Path, pragmas: dict[str, int]) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 30000")
    for name, value in pragmas.items():
        conn.execute(f"PRAGMA {name} = {int(value)}")
    return conn


def open_raw(path: Path, synchronous: str, pragmas: dict[str, int]) -> sqlite3.Connection:
    conn = connect_raw(path, pragmas)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.execute("BEGIN IMMEDIATE")
    for statement in STATEMENTS:
        conn.execute(statement)
    conn.execute("COMMIT")
    return conn


def open_ours(path: Path, synchronous: str) -> SQLiteEventStore:
    return SQLiteEventStore(path, EventCodec([MetricsReported]), synchronous=synchronous)  # type: ignore[arg-type]


# -- the raw side: plain sqlite3 + msgspec + hashlib ----------------------------------------------

_INSERT = (
    "INSERT INTO events (position, stream_id, version, type, schema_version, event_id, data,"
    " metadata, recorded_at, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
)
_HEAD = "SELECT position, hash, recorded_at FROM events ORDER BY position DESC LIMIT 1"
_STREAM_HEAD = "SELECT max(version) FROM events WHERE stream_id = ?"
_READ_COLUMNS = (
    "position, stream_id, version, type, event_id, schema_version, data, metadata, recorded_at, hash"
)
_ALL_COLUMNS = (
    "position, stream_id, version, type, schema_version, event_id, data, metadata, recorded_at,"
    " prev_hash, hash"
)
#: The canonical bytes of hashchain.canonical_bytes as one %-template (keys in sorted order;
#: every string JSON-encoded by msgspec, data and metadata inserted as stored).
_CANONICAL = (
    b'{"data":%b,"event_id":%b,"metadata":%b,"position":%d,"prev_hash":%b,"recorded_at":%b,'
    b'"schema_version":%d,"stream_id":%b,"type":%b,"version":%d}'
)


def check_canonical_template() -> None:
    """The raw side's template must give exactly :func:`events.hashchain.canonical_bytes`."""
    fields = {
        "position": 42,
        "stream_id": 'stream "ß"/1',
        "version": 7,
        "type": "MetricsReported",
        "schema_version": 1,
        "event_id": str(uuid.uuid4()),
        "data": b'{"a":1,"note":"\xe6\x9c\x88"}',
        "metadata": b'{"actor":"x"}',
        "recorded_at": "2025-01-01T00:00:00.000000Z",
        "prev_hash": "ab" * 32,
    }
    enc = msgspec.json.encode
    mine = _CANONICAL % (
        fields["data"],
        enc(fields["event_id"]),
        fields["metadata"],
        fields["position"],
        enc(fields["prev_hash"]),
        enc(fields["recorded_at"]),
        fields["schema_version"],
        enc(fields["stream_id"]),
        enc(fields["type"]),
        fields["version"],
    )
    if mine != canonical_bytes(**fields):  # type: ignore[arg-type]
        raise RuntimeError("the raw canonical template differs from events.hashchain.canonical_bytes")


def raw_append(conn: sqlite3.Connection, batches: Sequence[Batch]) -> int:
    """One transaction per batch: BEGIN IMMEDIATE, read the chain head and the stream head,
    check the expected version, encode, hash, executemany, COMMIT."""
    encode = msgspec.json.Encoder(order="sorted").encode
    encode_str = msgspec.json.encode
    replace = msgspec.structs.replace
    sha256 = hashlib.sha256
    execute = conn.execute
    n = 0
    for batch in batches:
        execute("BEGIN IMMEDIATE")
        head = execute(_HEAD).fetchone()
        position, prev_hash, last = head if head else (0, GENESIS_HASH, "")
        version = execute(_STREAM_HEAD, (batch.stream_id,)).fetchone()[0] or 0
        if version != batch.expected:
            execute("ROLLBACK")
            raise RuntimeError(f"conflict on {batch.stream_id}: {version} != {batch.expected}")
        now = max(datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), last)
        now_json = encode_str(now)
        stream_id = batch.stream_id
        stream_json = encode_str(stream_id)
        rows = []
        for new in batch.events:
            payload = new.payload
            data = encode(payload)
            metadata = encode(replace(new.metadata, command_id=batch.command_id))
            position += 1
            version += 1
            event_id = new_event_id()  # the store's own way to make a UUID4: the same work
            digest = sha256(
                _CANONICAL
                % (
                    data,
                    encode_str(event_id),
                    metadata,
                    position,
                    encode_str(prev_hash),
                    now_json,
                    payload.schema_version,
                    stream_json,
                    encode_str(payload.event_type),
                    version,
                )
            ).hexdigest()
            rows.append(
                (
                    position,
                    stream_id,
                    version,
                    payload.event_type,
                    payload.schema_version,
                    event_id,
                    data.decode(),
                    metadata.decode(),
                    now,
                    prev_hash,
                    digest,
                )
            )
            prev_hash = digest
        conn.executemany(_INSERT, rows)
        execute("COMMIT")
        n += len(rows)
    return n


def raw_read_all(conn: sqlite3.Connection) -> int:
    decode = msgspec.json.Decoder(MetricsReported).decode
    n = 0
    for row in conn.execute(f"SELECT {_READ_COLUMNS} FROM events ORDER BY position"):
        decode(row[6])
        n += 1
    return n


def raw_read_stream(conn: sqlite3.Connection, stream_id: str) -> list[MetricsReported]:
    decode = msgspec.json.Decoder(MetricsReported).decode
    rows = conn.execute(
        f"SELECT {_READ_COLUMNS} FROM events WHERE stream_id = ? AND version >= 1 ORDER BY version",
        (stream_id,),
    ).fetchall()
    return [decode(row[6]) for row in rows]


class RawMetadata(msgspec.Struct, forbid_unknown_fields=True):
    """Stored metadata with exactly its ten keys, each of its type (the rule ``metadata_keys``)."""

    actor: str
    role: str
    occurred_at: str
    organisation: str | None
    command_id: str
    correlation_id: str | None
    causation_id: str | None
    reason: str | None
    rule_version: str | None
    attachments: list[str]


def check_raw_metadata() -> None:
    """The raw side's metadata type must have exactly the keys the store's rules require."""
    if set(RawMetadata.__struct_fields__) != set(EventMetadata.__struct_fields__):
        raise RuntimeError("the raw metadata type differs from the stored metadata's keys")


class _NotInteger(Exception):
    pass


def _refuse_float(text: str) -> object:
    raise _NotInteger(text)


_OCCURRED_AT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{6})?Z")
_RECORDED_AT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
_RANDOM_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
_SUBTREE_LEVEL = 4  # the smallest Merkle subtree the store keeps: 16 leaves


def raw_verify(conn: sqlite3.Connection) -> int:
    """Every check ``SQLiteEventStore.verify`` makes, written out by hand in one loop:

    - the chain: re-hash every row over the same canonical bytes; hash, link, positions, versions;
    - the log's rules (``events/logrules.py``): data a JSON object and metadata exactly its ten
      keys, both without a float; occurred_at and recorded_at in their UTC forms (and real
      times), recorded_at never decreasing; each append begun by the id derived from its command
      id and that command new, every other id a random UUID, no id twice;
    - the Merkle tree: every leaf and node recomputed, every complete subtree of 16 leaves and more
      compared with its stored row, the root at every kept signed checkpoint's size compared with
      it, and no reader's checkpoint beyond the log's end.
    """
    sha256 = hashlib.sha256
    encode_str = msgspec.json.encode
    decode_data = msgspec.json.Decoder(dict[str, Any], float_hook=_refuse_float).decode
    decode_metadata = msgspec.json.Decoder(RawMetadata).decode
    fromhex = bytes.fromhex
    occurred_form = _OCCURRED_AT.fullmatch
    recorded_form = _RECORDED_AT.fullmatch
    random_id = _RANDOM_UUID.fullmatch
    parse_time = datetime.fromisoformat
    [(acknowledged,)] = conn.execute(
        "SELECT max((SELECT coalesce(max(position), 0) FROM checkpoints),"
        " (SELECT coalesce(max(last_position), 0) FROM commands))"
    )
    stored = {(level, idx): h for level, idx, h in conn.execute("SELECT level, idx, hash FROM merkle_subtrees")}
    kept: dict[int, bytes] = {}
    for (note,) in conn.execute("SELECT note FROM signed_checkpoints ORDER BY id"):
        signed = parse_checkpoint(split_note(note)[0])
        kept[signed.size] = signed.root
    stack: list[bytes] = []
    prev = GENESIS_HASH
    expected_position = 1
    versions: dict[str, int] = {}
    ids: dict[str, int] = {}
    command = None
    last_occurred = last_recorded = ""
    for pos, sid, ver, typ, sv, eid, data, md, rec, prev_hash, digest in conn.execute(
        "SELECT position, stream_id, version, type, schema_version, event_id, CAST(data AS BLOB),"
        " CAST(metadata AS BLOB), recorded_at, prev_hash, hash FROM events ORDER BY position"
    ):
        if pos != expected_position:
            raise RuntimeError(f"gap at {expected_position}")
        content = _CANONICAL % (
            data,
            encode_str(eid),
            md,
            pos,
            encode_str(prev_hash),
            encode_str(rec),
            sv,
            encode_str(sid),
            encode_str(typ),
            ver,
        )
        if sha256(content).hexdigest() != digest:
            raise RuntimeError(f"hash mismatch at {pos}")
        if prev_hash != prev:
            raise RuntimeError(f"broken link at {pos}")
        if ver != versions.get(sid, 0) + 1:
            raise RuntimeError(f"version gap at {pos}")
        versions[sid] = ver
        prev = digest
        # the rules
        try:
            decode_data(data)
            meta = decode_metadata(md)
        except (_NotInteger, msgspec.DecodeError) as e:
            raise RuntimeError(f"data or metadata refused at {pos}: {e}") from None
        occurred = meta.occurred_at
        if occurred != last_occurred:
            if occurred_form(occurred) is None:
                raise RuntimeError(f"occurred_at form at {pos}")
            parse_time(occurred)
            last_occurred = occurred
        if rec != last_recorded:
            if recorded_form(rec) is None or rec < last_recorded:
                raise RuntimeError(f"recorded_at form or order at {pos}")
            parse_time(rec)
            last_recorded = rec
        if meta.command_id != command:
            command = meta.command_id
            derived = command_event_id(command)
            if eid != derived or derived in ids:
                raise RuntimeError(f"first event id or repeated command at {pos}")
        elif random_id(eid) is None:
            raise RuntimeError(f"event id form at {pos}")
        if eid in ids:
            raise RuntimeError(f"repeated event id at {pos}")
        ids[eid] = pos
        # the tree
        index = pos - 1
        stack.append(sha256(b"\x00" + fromhex(digest)).digest())
        level = 0
        while index & 1:
            right = stack.pop()
            stack[-1] = node = sha256(b"\x01" + stack[-1] + right).digest()
            index >>= 1
            level += 1
            if level >= _SUBTREE_LEVEL and stored.get((level, index)) != node:
                raise RuntimeError(f"stored subtree at level {level} differs at {pos}")
        if pos in kept:
            root = stack[-1]
            for left in reversed(stack[:-1]):
                root = sha256(b"\x01" + left + root).digest()
            if root != kept[pos]:
                raise RuntimeError(f"signed checkpoint of {pos} events differs")
        expected_position += 1
    head = expected_position - 1
    if acknowledged > head or max(kept, default=0) > head:
        raise RuntimeError(f"the log ends at {head} before a checkpoint")
    return head


# -- our side ----------------------------------------------------------------------------------------


def ours_append(store: SQLiteEventStore, batches: Sequence[Batch]) -> int:
    n = 0
    for batch in batches:
        result = store.append(
            [StreamWrite(batch.stream_id, batch.events, batch.expected)], command_id=batch.command_id
        )
        n += result.last_position - result.first_position + 1
    return n


def ours_read_all(store: SQLiteEventStore) -> int:
    n = 0
    for _ in store.iter_all():
        n += 1
    return n


def ours_verify(store: SQLiteEventStore) -> int:
    report = store.verify()
    if not report.ok:
        raise RuntimeError(report.line())
    return report.count


# -- the cases ---------------------------------------------------------------------------------------


@dataclass
class Figure:
    """Both sides' runs of one case. The figure is the best wall-clock rate of each side."""

    name: str
    goal: float
    ours: list[Run]
    raw: list[Run]

    @property
    def best_ours(self) -> float:
        return max(r.rate for r in self.ours)

    @property
    def best_raw(self) -> float:
        return max(r.rate for r in self.raw)

    @property
    def ratio(self) -> float:
        return self.best_ours / self.best_raw

    @property
    def median_ratio(self) -> float:
        """Median of the ratios of runs taken back to back (robust to slow drift)."""
        return statistics.median(o.rate / r.rate for o, r in zip(self.ours, self.raw, strict=True))

    @property
    def cpu_ratio(self) -> float:
        """Best rate per CPU second of each side: robust to other processes taking the CPU, but
        blind to time spent waiting (fsync), so only a cross-check."""
        return max(r.cpu_rate for r in self.ours) / max(r.cpu_rate for r in self.raw)

    def print(self) -> None:
        print(f"{self.name}: {self.best_ours:.0f} events/s ratio={self.ratio:.2f}")
        verdict = "meets" if self.ratio >= self.goal else "MISSES"
        print(
            f"    ours best {self.best_ours:,.0f}/s, raw best {self.best_raw:,.0f}/s;"
            f" {len(self.ours)} runs per side: median paired ratio {self.median_ratio:.2f},"
            f" per-CPU-second ratio {self.cpu_ratio:.2f}; goal >= {self.goal:.2f}: {verdict}",
            flush=True,
        )


def bench_append(
    name: str,
    goal: float,
    batches: Sequence[Batch],
    synchronous: str,
    repeat: int,
    pragmas: dict[str, int],
    keep: Path | None,
) -> Figure:
    """Append ``batches`` into a fresh database per run, alternating ours and raw.
    With ``keep``, the last database our store wrote is copied there for the read cases."""
    ours: list[Run] = []
    raw: list[Run] = []
    total = sum(len(b.events) for b in batches)
    for rep in range(repeat):
        order = ("ours", "raw") if rep % 2 == 0 else ("raw", "ours")
        for side in order:
            with temp_db() as path:
                if side == "ours":
                    store = open_ours(path, synchronous)
                    run = timed(lambda s=store: ours_append(s, batches))  # type: ignore[misc]
                    if keep is not None and rep == repeat - 1:
                        store.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                        backup = sqlite3.connect(str(keep))
                        store.connection.backup(backup)
                        backup.close()
                    store.close()
                    ours.append(run)
                else:
                    conn = open_raw(path, synchronous, pragmas)
                    run = timed(lambda c=conn: raw_append(c, batches))  # type: ignore[misc]
                    conn.close()
                    if rep == 0:
                        check_raw_database(path, total)
                    raw.append(run)
                if run.events != total:
                    raise RuntimeError(f"{name} {side}: wrote {run.events} events, expected {total}")
            gc.collect()
    return Figure(name, goal, ours, raw)


def check_raw_database(path: Path, total: int) -> None:
    """The raw writer must produce exactly the store's format: our verify accepts its chain."""
    store = SQLiteEventStore(path, EventCodec([MetricsReported]), create=False)
    try:
        report = store.verify()
    finally:
        store.close()
    if not report.ok or report.count != total:
        raise RuntimeError(f"raw database does not verify with our store: {report.line()}")


#: What a case's two sides do, printed under its figure where it is more than the case's name says.
_CASE_NOTES = {
    "verify": (
        "both sides check the chain, every rule of the log (data and metadata decoded, times,"
        " event and command ids) and the Merkle tree (every leaf and node recomputed, stored"
        " subtrees and kept checkpoints compared); the raw side by hand in one loop"
    ),
}


def bench_reads(
    path: Path, total: int, streams: Sequence[str], repeat: int, pragmas: dict[str, int]
) -> list[Figure]:
    store = SQLiteEventStore(path, EventCodec([MetricsReported]), create=False)
    conn = connect_raw(path, pragmas)
    figures = []
    try:
        cases: list[tuple[str, float, Callable[[], int], Callable[[], int], int]] = [
            ("read_all", 0.6, lambda: ours_read_all(store), lambda: raw_read_all(conn), max(repeat, 5)),
            ("verify", 0.7, lambda: ours_verify(store), lambda: raw_verify(conn), max(repeat, 5)),
            (
                "read_stream",
                0.5,
                lambda: sum(len(store.read_stream(s)) for s in streams),
                lambda: sum(len(raw_read_stream(conn, s)) for s in streams),
                max(repeat, 5),
            ),
        ]
        for name, goal, ours_fn, raw_fn, runs in cases:
            ours_runs: list[Run] = []
            raw_runs: list[Run] = []
            want: int | None = None
            for rep in range(runs):
                pairs = [(ours_fn, ours_runs), (raw_fn, raw_runs)]
                for fn, runs_of_side in pairs if rep % 2 == 0 else reversed(pairs):
                    gc.collect()
                    run = timed(fn)
                    if want is None:
                        want = run.events
                    if run.events != want or (name != "read_stream" and run.events != total):
                        raise RuntimeError(f"{name}: handled {run.events} events, expected {want}")
                    runs_of_side.append(run)
            figure = Figure(name, goal, ours_runs, raw_runs)
            figure.print()
            if name in _CASE_NOTES:
                print(f"    {_CASE_NOTES[name]}", flush=True)
            figures.append(figure)
    finally:
        store.close()
        conn.close()
    return figures


def machine_info() -> str:
    return (
        f"python {platform.python_version()} ({platform.python_implementation()}),"
        f" sqlite {sqlite3.sqlite_version}, msgspec {msgspec.__version__},"
        f" {os.cpu_count()} cpus, {platform.system()} {platform.machine()}"
    )


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def peak_rss_mib() -> float:
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return kib / (1024 * 1024) if sys.platform == "darwin" else kib / 1024


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=100_000, help="events in the log (default 100000)")
    parser.add_argument("--single", type=int, help="single-event appends (default events / 20)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per side per case; best counts")
    parser.add_argument("--quick", action="store_true", help="tiny smoke run (2000 events, 1 run)")
    parser.add_argument("--check", action="store_true", help="exit 1 if any ratio misses its goal")
    args = parser.parse_args(argv)
    if args.quick:
        args.events, args.repeat = 2_000, 1
    total = max(1, args.events)
    singles = args.single if args.single is not None else max(1, total * 5_000 // 100_000)
    stream_len = min(1_000, total)

    print(f"bench/store.py: {machine_info()}, load average {load_average()}")
    print(
        f"events={total} in appends of 100 (streams of {stream_len}), single appends={singles},"
        f" runs per side={args.repeat} (best counts; sides alternate), WAL, file databases in"
        f" {tempfile.gettempdir()}",
        flush=True,
    )
    check_canonical_template()
    check_raw_metadata()
    pragmas = store_pragmas()
    print("connection settings on both sides: " + ", ".join(f"{k}={v}" for k, v in pragmas.items()))
    batched = make_batches(total, 100, stream_len)
    single = make_batches(singles, 1, 100)
    figures: list[Figure] = []

    with tempfile.TemporaryDirectory(prefix="bench-store-read-") as keep_dir:
        keep = Path(keep_dir) / "log.db"
        figure = bench_append("append_batched", 0.6, batched, "NORMAL", args.repeat, pragmas, keep)
        figure.print()
        figures.append(figure)
        runs = max(args.repeat, 5) if not args.quick else 1  # short and fsync-bound: noisier
        figure = bench_append("append_single", 0.8, single, "FULL", runs, pragmas, None)
        figure.print()
        figures.append(figure)
        streams = sorted({b.stream_id for b in batched})[:10]
        del batched, single  # the read cases should not pay for 100k live input objects in the GC
        gc.collect()
        figures += bench_reads(keep, total, streams, args.repeat, pragmas)

    print(f"peak_rss: {peak_rss_mib():.1f} MiB")
    print(f"load average at the end: {load_average()} (other work on this machine skews the figures)")
    missed = [f.name for f in figures if f.ratio < f.goal]
    print("goals: all met" if not missed else f"goals: missed by {', '.join(missed)}")
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
