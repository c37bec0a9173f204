"""Merkle benchmark: what the log's tree costs to keep and what a proof costs to serve.

Run with ``make bench`` or ``.venv/bin/python bench/proofs.py [--events N] [--quick]``.

1. ``inclusion_proof``: on a log of ``--events`` events (a million by default), the median time
   of an inclusion proof at the head (random leaves, through the store) against the time of
   computing the root from all leaves (reading every event's hash and hashing the whole tree).
   Goal: a proof costs at most 1/1000 of the root (``cost=proof/root``).
2. ``append_batched_tree`` and ``append_single_tree``: the appends of ``bench/store.py`` (100
   events per append, and one event per transaction with ``synchronous=FULL``) by the store
   with the tree maintained against the same store with the tree's upkeep switched off, in the
   same run, alternating. Goal: at least 0.8 of the rate without the tree (``ratio``).

The machine is small and shared, so compare only figures from the same run.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

# Run as a script, this folder comes first on sys.path; the project root is wanted instead.
_BENCH = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _BENCH]
sys.path.insert(0, str(_BENCH.parent))

from bench.store import (  # noqa: E402
    Batch,
    MetricsReported,
    load_average,
    machine_info,
    make_batches,
    ours_append,
    temp_db,
    timed,
)
from events.codec import EventCodec  # noqa: E402
from events.merkle import Accumulator, event_leaf, root  # noqa: E402
from events.merkletable import catch_up  # noqa: E402
from events.sqlite import SQLiteEventStore  # noqa: E402
from sandbox.transparency import prove_inclusion  # noqa: E402


class WithoutTree(SQLiteEventStore):
    """The store with the tree's upkeep switched off: the rate the tree is compared against."""

    @staticmethod
    def _grow_tree(conn: sqlite3.Connection, size: int, hashes: Sequence[str]) -> None:
        return None


def build_log(path: Path, total: int) -> None:
    """``total`` rows in the events table, as fast as SQLite takes them: only their ``hash``
    matters to the tree (distinct SHA-256 values), then the tree computed once."""
    store = SQLiteEventStore(path, EventCodec([MetricsReported]), synchronous="OFF")
    conn = store.connection
    with store.transaction():
        conn.executemany(
            "INSERT INTO events (position, stream_id, version, type, schema_version, event_id, data, metadata,"
            " recorded_at, prev_hash, hash) VALUES (?, 's', ?, 'MetricsReported', 1, ?, '{}', '{}',"
            " '2025-01-01T00:00:00.000000Z', '', ?)",
            ((i, i, str(i), hashlib.sha256(i.to_bytes(8, "big")).hexdigest()) for i in range(1, total + 1)),
        )
        catch_up(conn)
    store.close()


def root_from_all_leaves(conn: sqlite3.Connection) -> tuple[int, bytes]:
    acc = Accumulator()
    for (h,) in conn.execute("SELECT hash FROM events ORDER BY position"):
        acc.add(event_leaf(h))
    return acc.size, acc.root()


def bench_proof(total: int, proofs: int, repeat: int) -> bool:
    with tempfile.TemporaryDirectory(prefix="bench-proofs-") as tmp:
        path = Path(tmp) / "log.db"
        started = time.perf_counter()
        build_log(path, total)
        print(f"    log of {total:,} events built with its tree in {time.perf_counter() - started:.1f} s", flush=True)
        store = SQLiteEventStore(path, EventCodec([MetricsReported]), create=False)
        try:
            rng = random.Random(7)
            roots: list[float] = []
            proof_times: list[float] = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                size, whole = root_from_all_leaves(store.connection)
                roots.append(time.perf_counter() - t0)
                for _ in range(proofs):
                    position = rng.randint(1, total)
                    t0 = time.perf_counter()
                    proof = prove_inclusion(store, position, total)
                    proof_times.append(time.perf_counter() - t0)
                    if len(proof.hashes) > 64:
                        raise RuntimeError("a proof longer than the tree is deep")
            stored_root = store.read_tree(root)
            if (size, whole) != (total, stored_root):
                raise RuntimeError("the stored tree's root differs from the root of all leaves")
        finally:
            store.close()
    root_s, proof_s = min(roots), statistics.median(proof_times)
    cost = proof_s / root_s
    verdict = "meets" if cost <= 1 / 1000 else "MISSES"
    print(f"inclusion_proof: {proof_s * 1000:.3f} ms cost={cost:.6f} (1/{1 / cost:,.0f})")
    print(
        f"    root from all {total:,} leaves: best {root_s:.2f} s of {repeat}; inclusion proof: median"
        f" {proof_s * 1000:.3f} ms, p99 {statistics.quantiles(proof_times, n=100)[98] * 1000:.3f} ms over"
        f" {len(proof_times)} random leaves; goal <= 1/1000: {verdict}",
        flush=True,
    )
    return cost <= 1 / 1000


def bench_append_tree(name: str, batches: Sequence[Batch], synchronous: str, repeat: int) -> bool:
    """Appends into a fresh database per run, with and without the tree, alternating."""
    codec = EventCodec([MetricsReported])
    rates: dict[str, list[float]] = {"tree": [], "bare": []}
    total = sum(len(b.events) for b in batches)
    for rep in range(repeat):
        order = ("tree", "bare") if rep % 2 == 0 else ("bare", "tree")
        for side in order:
            with temp_db() as path:
                cls = SQLiteEventStore if side == "tree" else WithoutTree
                store = cls(path, codec, synchronous=synchronous)  # type: ignore[arg-type]
                run = timed(lambda s=store: ours_append(s, batches))  # type: ignore[misc]
                store.close()
                if run.events != total:
                    raise RuntimeError(f"{name} {side}: wrote {run.events} events, expected {total}")
                rates[side].append(run.rate)
            gc.collect()
    best_tree, best_bare = max(rates["tree"]), max(rates["bare"])
    ratio = best_tree / best_bare
    paired = statistics.median(t / b for t, b in zip(rates["tree"], rates["bare"], strict=True))
    verdict = "meets" if ratio >= 0.8 else "MISSES"
    print(f"{name}: {best_tree:.0f} events/s ratio={ratio:.2f}")
    print(
        f"    with the tree best {best_tree:,.0f}/s, without best {best_bare:,.0f}/s; {repeat} runs per side:"
        f" median paired ratio {paired:.2f}; goal >= 0.80: {verdict}",
        flush=True,
    )
    return ratio >= 0.8


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=1_000_000, help="events in the proof's log (default 1000000)")
    parser.add_argument("--appends", type=int, default=100_000, help="events in the batched appends (default 100000)")
    parser.add_argument("--single", type=int, default=5_000, help="single-event appends (default 5000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per side; best counts")
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--check", action="store_true", help="exit 1 if any figure misses its goal")
    args = parser.parse_args(argv)
    if args.quick:
        args.events, args.appends, args.single, args.repeat = 20_000, 2_000, 200, 1
    print(f"bench/proofs.py: {machine_info()}, load average {load_average()}", flush=True)
    met = [bench_proof(args.events, 200, args.repeat)]
    met.append(bench_append_tree("append_batched_tree", make_batches(args.appends, 100, 1_000), "NORMAL", args.repeat))
    met.append(bench_append_tree("append_single_tree", make_batches(args.single, 1, 100), "FULL", max(args.repeat, 5)))
    print(f"load average at the end: {load_average()}")
    print("goals: all met" if all(met) else "goals: some missed")
    return 1 if args.check and not all(met) else 0


if __name__ == "__main__":
    sys.exit(main())
