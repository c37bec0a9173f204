"""Projection benchmark: rebuilding the read models and as-of views, against raw reading.

Run with ``make bench`` or ``.venv/bin/python bench/projections.py [--events N] [--large] [--quick]``.

The log is a realistic history generated through the deciders (``sandbox.synthetic``: projects of
the three programs, every event decided by ``Registry.execute`` or a timer) on the in-memory
store, then loaded row for row (same positions, bytes and hashes) into a fresh SQLite file with
the store's own schema in one transaction. One long data-asset listing has about 1,000 events.

Figures, one line each (``NAME: VALUE unit ratio=R``), then an indented detail line:

- ``rebuild_<n>``: ``ReadModels.rebuild()`` of every read model (projects, register, queue,
  audit) in events/s, as the CLI runs it; ratio =
  ours / raw read+decode of the same rows (plain ``sqlite3`` reading every column the projection
  needs, ``msgspec`` decoding each payload into its Struct and each metadata, in one process),
  best of ``--repeat`` interleaved runs, each side in a fresh process. Goal >= 0.25.
- ``rebuild_<n>_peak_rss``: the peak RSS of the rebuilding process; ratio = ours / raw's.
- ``piece_<name>``: each piece of the rebuild's performance machinery
  (:mod:`projections.read_models.tuning`; ``gc_pause``: the cyclic collector paused; ``gc_promote``:
  what the rebuild leaves alive moved to the collector's oldest generation as it resumes; ``batch``:
  the log read and folded in short batches, against 2,000 events a batch; ``upsert``:
  the writer's upserts, one prepared statement bound with ``executemany``, against sqlite-utils'
  ``upsert_all`` of the same rows) against the same rebuild without it, on copies of the same
  log: the CPU seconds it saves; ratio = CPU
  time without it / with it (below 1, the piece costs more than it saves). CPU time, because
  the machine is shared and wall time swings with its load; the detail line gives wall time,
  file size and peak RSS of both too.
- ``upsert_<n>``: the writer's upsert (:class:`projections.read_models.tuning.Upsert`) of the
  rebuilt ``rm_projects`` rows into a fresh table, ``n`` rows per transaction (1: as a command
  writes them; all: as a rebuild does), against sqlite-utils' ``upsert_all`` of the same rows,
  in CPU µs per transaction; ratio = ``upsert_all`` / ours (best of several interleaved runs;
  above 1, ours is faster). No goal: it decides which of the two the writer uses.
- ``register_search_<n>``: a page of the public register searched for a word of ``n``
  characters (5: the trigram index; 2: ``LIKE``; 4: two two-character words and a state), in
  ms; ratio = the same page unsearched / searched (best of many). No goal: it shows what the
  search costs over reading a page.
- ``as_of_<k>``: ``project_view`` of the long project as of its last event (replaying its ``k``
  events, evaluating its checklist and exit criteria): latency in ms; ratio = raw latency of
  reading and decoding its ``k`` rows / ours (best of many). Goal >= 0.5.

The 1,000,000-event case (``--large``) generates for several minutes on a 2-core machine, so it
is opt-in; ``--events`` sets the default case's size. Compare ratios from the same run only.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import gc
import json
import os
import platform
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import sqlite_utils

# This file is named like the ``projections`` package; run as a script, its own folder comes
# first on sys.path and would shadow the package. Put the project root there instead.
_BENCH = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _BENCH]
sys.path.insert(0, str(_BENCH.parent))

from events.merkletable import catch_up  # noqa: E402
from events.sqlite import SQLiteEventStore  # noqa: E402
from projections.catalog import Catalog  # noqa: E402
from projections.read_models import ReadModels, schema, tuning, writer  # noqa: E402
from projections.read_models.rows import PROJECT_COLUMNS  # noqa: E402
from projections.views import project_view  # noqa: E402
from sandbox.registry import EVENT_TYPES, make_codec, open_store  # noqa: E402
from sandbox.synthetic import generate, memory_registry  # noqa: E402
from schemas.base import EventMetadata  # noqa: E402
from schemas.streams import PROJECT_PREFIX, project_stream  # noqa: E402

#: Events per generated project, on average (measured; used to size the run).
EVENTS_PER_PROJECT = 34
LONG_EVENTS = 1_000

_COLUMNS = "position, stream_id, version, type, schema_version, event_id, data, metadata, recorded_at, prev_hash, hash"
_READ = "SELECT position, stream_id, version, type, event_id, data, metadata, recorded_at, hash FROM events"


def peak_rss_mib() -> float:
    """This process's peak RSS. On Linux from VmHWM, which (unlike ru_maxrss) starts afresh at
    exec, so a child forked from a big parent reports only its own peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return kib / (1024 * 1024) if sys.platform == "darwin" else kib / 1024


def machine_info() -> str:
    return (
        f"python {platform.python_version()}, sqlite {sqlite3.sqlite_version}, msgspec {msgspec.__version__},"
        f" {os.cpu_count()} cpus, {platform.system()} {platform.machine()}"
    )


# -- building the log -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Log:
    path: Path
    events: int
    long_project: str
    long_events: int
    generate_seconds: float
    load_seconds: float


def build_log(path: Path, events: int, seed: int) -> Log:
    """Generate about ``events`` events through the deciders in memory, then load them into
    ``path`` exactly as stored (one transaction, ``executemany``)."""
    registry, clock = memory_registry()
    projects = max(1, (events - LONG_EVENTS) // EVENTS_PER_PROJECT)
    spread = min(330, max(30, projects // 4))
    started = time.perf_counter()
    done = generate(
        registry, clock, projects=projects, seed=seed, spread_days=spread, long_projects=1, long_events=LONG_EVENTS
    )
    generated = time.perf_counter() - started
    [long_project] = done.long_project_ids
    memory = registry.store
    long_events = memory.stream_version(project_stream(long_project))
    started = time.perf_counter()
    store = SQLiteEventStore(path, make_codec(), synchronous="OFF")
    conn = store.connection
    conn.execute("PRAGMA cache_size = -262144")  # 256 MiB: the event-id index takes random keys
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        f"INSERT INTO events ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (
            (
                s.position,
                s.stream_id,
                s.version,
                s.type,
                s.schema_version,
                s.event_id,
                bytes(s.data).decode(),
                bytes(s.metadata).decode(),
                s.recorded_at,
                s.prev_hash,
                s.hash,
            )
            for s in memory.iter_stored()
        ),
    )
    conn.execute("COMMIT")
    with store.transaction():  # the Merkle tree, as appends keep it: not left to the timed opens
        catch_up(conn)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    loaded = time.perf_counter() - started
    settle(path)
    head = store.head()
    if head != memory.head():
        raise RuntimeError(f"the loaded log ends at {head}, the generated one at {memory.head()}")
    store.close()
    return Log(path, head.position, long_project, long_events, generated, loaded)


def settle(path: Path) -> None:
    """Put the new log file on disk before anything is timed: written without a sync, its pages
    wait in the page cache, and the first rebuild's own sync of the file would write them all."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def saved_log(source: Path, path: Path) -> Log:
    """A log saved earlier with ``--keep``, copied (read models are dropped by the rebuild anyway)."""
    shutil.copy(source, path)
    settle(path)
    conn = sqlite3.connect(str(path))
    [(events,)] = conn.execute("SELECT max(position) FROM events").fetchall()
    [(stream, count)] = conn.execute(
        "SELECT stream_id, count(*) AS n FROM events WHERE stream_id LIKE ? GROUP BY stream_id"
        " ORDER BY n DESC LIMIT 1",
        (PROJECT_PREFIX + "%",),
    ).fetchall()
    conn.close()
    return Log(path, int(events), stream.removeprefix(PROJECT_PREFIX), int(count), 0.0, 0.0)


# -- the two sides, each in a fresh process -----------------------------------------------------------


def raw_read_decode(path: Path) -> int:
    """Plain sqlite3 + msgspec: every row, its payload into its Struct and its metadata."""
    decoders = {t.event_type: msgspec.json.Decoder(t).decode for t in EVENT_TYPES}
    metadata = msgspec.json.Decoder(EventMetadata).decode
    conn = sqlite3.connect(str(path))
    n = 0
    for row in conn.execute(f"{_READ} ORDER BY position"):
        decoders[row[3]](row[5])
        metadata(row[6])
        n += 1
    conn.close()
    return n


def our_rebuild(path: Path) -> int:
    store = open_store(path)
    try:
        rm = ReadModels(store)
        rm.rebuild()
        return rm.position
    finally:
        store.close()


def long_batches(path: Path) -> int:
    """The rebuild reading and folding the log 2,000 events at a time."""
    store = open_store(path)
    try:
        rm = ReadModels(store)
        rm.rebuild(batch=2000)
        return rm.position
    finally:
        store.close()


def collector_running(path: Path) -> int:
    """The rebuild with the cyclic garbage collector left running (in this child process)."""
    writer.collector_paused = contextlib.nullcontext
    return our_rebuild(path)


def collector_not_promoting(path: Path) -> int:
    """The rebuild with the collector paused, and what it leaves alive left in the young
    generation it was made in (the first collection after the pause walks it)."""
    writer.collector_paused = functools.partial(tuning.collector_paused, promote=False)
    return our_rebuild(path)


@functools.cache
def _database(conn: sqlite3.Connection) -> sqlite_utils.Database:
    return sqlite_utils.Database(conn)


def upsert_all(upsert: tuning.Upsert, conn: sqlite3.Connection, rows: Sequence[Sequence[Any]]) -> None:
    """The writer's upsert done by sqlite-utils: ``upsert_all`` of the same rows, given as tuples
    after their column names (its fastest form: no dict per row)."""
    _database(conn).table(upsert.table).upsert_all([upsert.columns, *rows], pk=upsert.columns[0])


def with_upsert_all(path: Path) -> int:
    """The rebuild with every upsert of the writer done by sqlite-utils' ``upsert_all``."""
    tuning.Upsert.__call__ = upsert_all  # type: ignore[method-assign]
    return our_rebuild(path)


SIDES: dict[str, Callable[[Path], int]] = {
    "raw": raw_read_decode,
    "ours": our_rebuild,
    "collector_running": collector_running,
    "collector_not_promoting": collector_not_promoting,
    "long_batches": long_batches,
    "upsert_all": with_upsert_all,
}
#: Each piece of the rebuild's performance machinery, and the simple version it is measured
#: against: (figure name, side without the piece, what the piece is).
PIECES = (
    ("piece_gc_pause", "collector_running", "the collector paused during the rebuild"),
    (
        "piece_gc_promote",
        "collector_not_promoting",
        "what the rebuild leaves alive moved to the oldest generation as the collector resumes",
    ),
    ("piece_batch", "long_batches", f"batches of {tuning.REBUILD_BATCH} events, not 2,000"),
    ("piece_upsert", "upsert_all", "the writer's upserts bound with executemany, not sqlite-utils' upsert_all"),
)


def child(side: str, path: Path) -> None:
    """Run one side once and print its figures as JSON (the process's own peak RSS)."""
    gc.collect()
    started, cpu = time.perf_counter(), time.process_time()
    n = SIDES[side](path)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    size = path.stat().st_size / 2**20
    print(
        json.dumps(
            {"events": n, "seconds": seconds, "cpu": cpu, "rss_mib": peak_rss_mib(), "mib": size}
        )
    )


def in_child(side: str, path: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", side, str(path)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{side} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# -- figures -----------------------------------------------------------------------------------------


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    ratio: float
    goal: float | None
    detail: str

    def print(self) -> None:
        print(f"{self.name}: {self.value:.{0 if self.value >= 100 else 1}f} {self.unit} ratio={self.ratio:.2f}")
        verdict = ""
        if self.goal is not None:
            verdict = f"; goal >= {self.goal:.2f}: {'meets' if self.ratio >= self.goal else 'MISSES'}"
        print(f"    {self.detail}{verdict}", flush=True)

    @property
    def missed(self) -> bool:
        return self.goal is not None and self.ratio < self.goal


def bench_rebuild(log: Log, label: str, repeat: int) -> list[Figure]:
    results: dict[str, list[dict[str, Any]]] = {"raw": [], "ours": []}
    for rep in range(repeat):
        for side in ("raw", "ours") if rep % 2 == 0 else ("ours", "raw"):
            result = in_child(side, log.path)
            if result["events"] != log.events:
                raise RuntimeError(f"{side} handled {result['events']} events, expected {log.events}")
            results[side].append(result)
    rate = {side: max(r["events"] / r["seconds"] for r in runs) for side, runs in results.items()}
    rss = {side: max(r["rss_mib"] for r in runs) for side, runs in results.items()}
    paired = statistics.median(
        r["seconds"] / o["seconds"] for o, r in zip(results["ours"], results["raw"], strict=True)
    )
    cpu = min(r["cpu"] for r in results["raw"]) / min(o["cpu"] for o in results["ours"])
    return [
        Figure(
            f"rebuild_{label}",
            rate["ours"],
            "events/s",
            rate["ours"] / rate["raw"],
            0.25,
            f"ours best {rate['ours']:,.0f}/s ({log.events / rate['ours']:.2f} s), raw read+decode best"
            f" {rate['raw']:,.0f}/s, median paired ratio {paired:.2f}, CPU-time ratio {cpu:.2f} (ours best"
            f" {min(o['cpu'] for o in results['ours']):.2f} CPU s, raw {min(r['cpu'] for r in results['raw']):.2f}),"
            f" over {repeat} runs",
        ),
        Figure(
            f"rebuild_{label}_peak_rss",
            rss["ours"],
            "MiB",
            rss["ours"] / rss["raw"],
            None,
            f"peak RSS of the rebuilding process; raw read+decode process {rss['raw']:.1f} MiB (ratio = ours / raw)",
        ),
    ]


def bench_pieces(log: Log, repeat: int) -> list[Figure]:
    """Each piece of the rebuild's machinery against the rebuild without it, on copies of the
    same log, the sides alternating, each run in a fresh process: ratio = the CPU time without
    the piece / with it (above 1: the piece pays). No goal: the figure decides whether the
    piece stays."""
    sides = ["ours", *(side for _, side, _ in PIECES)]
    results: dict[str, list[dict[str, Any]]] = {side: [] for side in sides}
    for rep in range(repeat):
        for side in sides if rep % 2 == 0 else sides[::-1]:
            copy = log.path.with_name(f"{side}.db")
            shutil.copy(log.path, copy)
            result = in_child(side, copy)
            copy.unlink()
            if result["events"] != log.events:
                raise RuntimeError(f"{side} handled {result['events']} events, expected {log.events}")
            results[side].append(result)

    def best(side: str, key: str) -> float:
        return min(r[key] for r in results[side])

    figures = []
    for name, side, what in PIECES:
        paired = statistics.median(
            s["seconds"] / o["seconds"] for o, s in zip(results["ours"], results[side], strict=True)
        )
        wall = best(side, "seconds") / best("ours", "seconds")
        figures.append(
            Figure(
                name,
                best(side, "cpu") - best("ours", "cpu"),
                "CPU s saved",
                best(side, "cpu") / best("ours", "cpu"),
                None,
                f"{what}: with it best {best('ours', 'seconds'):.2f} s (CPU {best('ours', 'cpu'):.2f} s, file"
                f" {best('ours', 'mib'):.0f} MiB, peak RSS {best('ours', 'rss_mib'):.0f} MiB), without it best"
                f" {best(side, 'seconds'):.2f} s (CPU {best(side, 'cpu'):.2f} s, file {best(side, 'mib'):.0f} MiB,"
                f" peak RSS {best(side, 'rss_mib'):.0f} MiB); wall-time ratio {wall:.2f}"
                f" (median paired {paired:.2f}), over {repeat} runs",
            )
        )
    return figures


def bench_upserts(log: Log, tmp: Path, runs: int) -> list[Figure]:
    """The writer's upsert against sqlite-utils' ``upsert_all``, on the ``rm_projects`` rows the
    rebuild left in the log's file, written into a fresh table of the same schema: one row per
    transaction (a command) and all rows in one (a rebuild), each transaction on rows already
    there (an update) after the first run's inserts. CPU time (the machine is shared); the
    sides alternate."""
    source = sqlite3.connect(str(log.path))
    rows = source.execute(f"SELECT {', '.join(PROJECT_COLUMNS)} FROM rm_projects ORDER BY id").fetchall()
    source.close()
    upsert = tuning.Upsert("rm_projects", PROJECT_COLUMNS)
    sides: dict[str, Callable[[sqlite3.Connection, Sequence[Sequence[Any]]], None]] = {
        "ours": upsert,
        "upsert_all": functools.partial(upsert_all, upsert),
    }
    single = rows[:200]
    figures = []
    for label, batches in (("1", [[row] for row in single]), (str(len(rows)), [rows])):
        cpu: dict[str, list[float]] = {side: [] for side in sides}
        for rep in range(runs):
            for side in sides if rep % 2 == 0 else list(sides)[::-1]:
                path = tmp / f"upsert-{side}.db"
                db = sqlite_utils.Database(path)
                db.conn.execute("PRAGMA journal_mode = WAL")
                db.conn.execute("PRAGMA synchronous = OFF")
                schema.ensure_tables(db)
                write = sides[side]
                for second in (False, True):  # inserts, then the same rows updated (timed)
                    started = time.process_time()
                    for batch in batches:
                        db.conn.execute("BEGIN IMMEDIATE")
                        write(db.conn, batch)
                        db.conn.execute("COMMIT")
                    if second:
                        cpu[side].append((time.process_time() - started) / len(batches))
                db.close()
                path.unlink()
        best = {side: min(times) for side, times in cpu.items()}
        figures.append(
            Figure(
                f"upsert_{label}",
                best["ours"] * 1e6,
                "CPU µs",
                best["upsert_all"] / best["ours"],
                None,
                f"{len(batches[0])} rm_projects row(s) per transaction ({len(batches)} transactions): ours"
                f" (executemany of one prepared statement) best {best['ours'] * 1e6:.1f} CPU µs, sqlite-utils'"
                f" upsert_all best {best['upsert_all'] * 1e6:.1f} CPU µs per transaction, over {runs} runs",
            )
        )
    return figures


#: Register searches timed: a word for the trigram index, a two-character word (``LIKE``), and
#: both with a filter.
SEARCHES: tuple[tuple[str, dict[str, str]], ...] = (
    ("数字人民币", {}),
    ("福州", {}),
    ("福州 银行", {"state": "GRADUATED"}),
)


def bench_register_search(log: Log, runs: int) -> list[Figure]:
    """A page of the register searched (``ReadModels.register(q=...)``) against the same page
    unsearched, on the read models the rebuild left in the log's file: ratio = unsearched /
    searched latency (best of ``runs``)."""
    store = open_store(log.path)
    try:
        models = ReadModels(store)
        [(projects,)] = store.connection.execute("SELECT count(*) FROM rm_projects").fetchall()
        [(public,)] = store.connection.execute("SELECT count(*) FROM rm_register").fetchall()

        def best(**kw: Any) -> tuple[float, int]:
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                total, _ = models.register(limit=50, **kw)
                times.append(time.perf_counter() - started)
            return min(times), total

        figures = []
        for q, filters in SEARCHES:
            plain, _ = best()
            searched, total = best(q=q, **filters)
            figures.append(
                Figure(
                    f"register_search_{len(q.replace(' ', ''))}",
                    searched * 1000,
                    "ms",
                    plain / searched,
                    None,
                    f"the register searched for {q!r}{' with ' + str(filters) if filters else ''}: {total} of"
                    f" {public} public entries ({projects} projects), best {searched * 1000:.2f} ms; the same page"
                    f" unsearched best {plain * 1000:.2f} ms, over {runs} runs",
                )
            )
        return figures
    finally:
        store.close()


def bench_as_of(log: Log, runs: int) -> Figure:
    store = open_store(log.path)
    catalog = Catalog(store)
    stream = project_stream(log.long_project)
    [(last,)] = store.connection.execute("SELECT max(position) FROM events WHERE stream_id = ?", (stream,)).fetchall()
    now = dt.datetime.now(dt.UTC)
    decoders = {t.event_type: msgspec.json.Decoder(t).decode for t in EVENT_TYPES}
    metadata = msgspec.json.Decoder(EventMetadata).decode
    conn = sqlite3.connect(str(log.path))
    sql = f"{_READ} WHERE stream_id = ? AND version >= 1 AND position <= ? ORDER BY version"

    def raw() -> int:
        rows = conn.execute(sql, (stream, last)).fetchall()
        for row in rows:
            decoders[row[3]](row[5])
            metadata(row[6])
        return len(rows)

    def ours() -> int:
        view = project_view(store, catalog, log.long_project, position=last, now=now)
        assert view is not None
        return view.version

    times: dict[str, list[float]] = {"raw": [], "ours": []}
    counts = set()
    for rep in range(runs):
        for side, fn in (("raw", raw), ("ours", ours)) if rep % 2 == 0 else (("ours", ours), ("raw", raw)):
            started = time.perf_counter()
            counts.add(fn())
            times[side].append(time.perf_counter() - started)
    conn.close()
    store.close()
    if counts != {log.long_events}:
        raise RuntimeError(f"as-of read {counts} events, expected {log.long_events}")
    best = {side: min(t) for side, t in times.items()}
    return Figure(
        f"as_of_{log.long_events}",
        best["ours"] * 1000,
        "ms",
        best["raw"] / best["ours"],
        0.5,
        f"project_view of one project as of its last event ({log.long_events} events): best"
        f" {best['ours'] * 1000:.2f} ms, median {statistics.median(times['ours']) * 1000:.2f} ms; raw read+decode"
        f" of its rows best {best['raw'] * 1000:.2f} ms over {runs} runs",
    )


def label_of(n: int) -> str:
    return f"{n // 1_000_000}m" if n % 1_000_000 == 0 else f"{n // 1000}k" if n % 1000 == 0 else str(n)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=100_000, help="events in the default case (default 100000)")
    parser.add_argument("--large", action="store_true", help="also the 1,000,000-event case (several minutes)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per side of the rebuild case; best counts")
    parser.add_argument("--seed", type=int, default=20250101, help="seed of the generated history")
    parser.add_argument("--quick", action="store_true", help="tiny smoke run (about 3000 events, 1 run)")
    parser.add_argument("--check", action="store_true", help="exit 1 if any ratio misses its goal")
    parser.add_argument("--keep", type=Path, help="also save the generated log of the first size to this file")
    parser.add_argument("--log", type=Path, help="measure this saved log instead of generating one (--keep)")
    parser.add_argument("--child", nargs=2, metavar=("SIDE", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return 0
    if args.quick:
        args.events, args.repeat, args.large = 3_000, 1, False
    sizes = [max(LONG_EVENTS + EVENTS_PER_PROJECT, args.events)] + ([1_000_000] if args.large else [])
    print(f"bench/projections.py: {machine_info()}")
    print(
        f"sizes={sizes}, rebuild runs per side={args.repeat} (best counts; sides alternate, each in a fresh"
        f" process), file databases in {tempfile.gettempdir()}",
        flush=True,
    )
    figures: list[Figure] = []
    for index, size in enumerate(sizes):
        with tempfile.TemporaryDirectory(prefix="bench-projections-") as tmp:
            if args.log is not None and index == 0:
                log = saved_log(args.log, Path(tmp) / "log.db")
                size = log.events
                print(
                    f"log_{label_of(size)}: {log.events} events from {args.log}; long project {log.long_project}"
                    f" has {log.long_events} events",
                    flush=True,
                )
            else:
                log = build_log(Path(tmp) / "log.db", size, args.seed)
                print(
                    f"log_{label_of(size)}: {log.events} events generated through the deciders in"
                    f" {log.generate_seconds:.1f} s ({log.events / log.generate_seconds:,.0f} events/s), loaded into"
                    f" SQLite in {log.load_seconds:.1f} s; long project {log.long_project} has"
                    f" {log.long_events} events",
                    flush=True,
                )
                if args.keep is not None and index == 0:
                    shutil.copy(log.path, args.keep)
            gc.collect()
            for figure in bench_rebuild(log, label_of(size), args.repeat):
                figure.print()
                figures.append(figure)
            if index == 0:
                for figure in bench_upserts(log, Path(tmp), 3 if args.quick else 7):
                    figure.print()
                    figures.append(figure)
                for figure in bench_register_search(log, 5 if args.quick else 50):
                    figure.print()
                    figures.append(figure)
                for figure in bench_pieces(log, args.repeat):
                    figure.print()
                    figures.append(figure)
                figure = bench_as_of(log, 5 if args.quick else 30)
                figure.print()
                figures.append(figure)
    missed = [f.name for f in figures if f.missed]
    print("goals: all met" if not missed else f"goals: missed by {', '.join(missed)}")
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
