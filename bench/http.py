"""HTTP benchmark: the API under bounded load on 127.0.0.1, against a bare litestar endpoint.

Run with ``make bench`` or ``.venv/bin/python bench/http.py [--requests N] [--quick]``.

Two servers run side by side, each in a process of its own under uvicorn on a free port of
127.0.0.1, over SQLite in WAL mode with ``synchronous=FULL`` (the registry's default durability):

- ours: ``sandbox.api.create_app`` over a registry prepared with ``--projects`` e-CNY pilots in
  TESTING (built through the service, as the API would);
- bare: a litestar app with one POST route that decodes the same body into the same command type
  (``ReportMetrics``) and inserts one row in its own ``BEGIN IMMEDIATE`` … ``COMMIT``
  transaction, and one GET route that reads one row (a project's stored state) and returns it.
  Both run on the event loop, as the API's commands and its read of one project do (the API's
  ``SHORT_IN_THREAD``), so both sides pay the same for the way a handler is run;
- floor: the least a server built on the registry's own token check and store must do, over a
  copy of ours' database. Its POST route authenticates the bearer token through the API's own
  dependency and appends the report's event to the project's stream through the registry's
  store (hash chain, append-only guard, idempotent command id), one transaction per request,
  with no decision, no read model and no check of the stream's version; its GET route
  authenticates the same way, then reads the bare side's row. It is served as ours is (with the
  collector tuning of ``run_server``), the bare side under uvicorn as it comes. Its ratio to the
  bare side is the most ours could reach on this machine without a cheaper token check or
  append, whatever else the API did better; ours against the floor is what the decision, the
  read models and the view cost.

16 concurrent clients, each on a kept-alive connection of its own, send a fixed number of
requests per case. They run in one process, on asyncio streams, with every request prepared as
bytes: 0.1-0.2 ms of CPU per request, less than either server needs, so the servers are the limit
(the load generator was busy 14-38 % of the time in the runs of 2026-11-29). An ``httpx`` client
cost 2-3 ms per request: the load generator was then busy all the time, the limit on both sides,
and the ratio measured it rather than the servers.

- ``command``: ``POST /api/v1/projects/{id}/report_metrics`` as the projects' applicant, against
  ``bare_command``. Client ``i`` reports for projects ``i, i+16, i+32, ...`` in turn, so no two
  clients ever write to one project (no conflicts) and over a whole run each pilot receives
  a few dozen reports, as many events as about two years of monthly reporting (a command
  folds the project's history, so piling thousands of reports onto 16 projects would measure
  something else). The pilots began testing a week ago, so every report covers the same days:
  after the first, each is a correction of that period's figures;
- ``read``: ``GET /api/v1/projects/{id}`` as the case officer, over the same projects, against
  ``bare_read``.

Each case prints ``NAME: VALUE req/s p50=.. p99=.. ratio=R`` with ``R = ours / bare`` requests per
second (best of ``--repeat`` runs; the sides alternate), then a detail line, the floor's line
(its ratio to bare, and ours as a fraction of it), and the CPU time each server process and the
load generator spent per request (from ``/proc``: where the limit lies;
the load generator should be busy a fraction of the time). Goals: ratio >= 0.8 for both. The
machine is small and shared: compare ratios from one run only.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is bench/http.py: run as a script, its folder comes first on sys.path and would shadow
# the standard library's ``http`` package, which httpx and uvicorn import.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    del sys.path[0]

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import socket
import sqlite3
import statistics
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import httpx
import msgspec
from litestar import Litestar, Response, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.middleware import DefineMiddleware
from litestar.params import FromPath, JSONBody

from events.model import NewEvent, StreamWrite
from events.sqlite import SQLiteEventStore
from projections.read_models import decode_state
from sandbox.api import create_app, run_server
from sandbox.api.auth import TokenAuthentication, signed_in
from sandbox.api.dependencies import provide_actor
from sandbox.config import HttpSettings
from sandbox.registry import open_store
from sandbox.tokens import Tokens
from schemas.base import EventMetadata
from schemas.commands import Actor, ReportMetrics
from schemas.events import MetricsReported
from schemas.streams import PROJECT_PREFIX, project_stream

CLIENTS = 16
GOAL = 0.8
CST = dt.timezone(dt.timedelta(hours=8))
METRICS = {"transactions": 12_000, "payment_failures": 10, "wallets_opened": 2_500, "active_users": 2_000}


# -- the servers (run as ``bench/http.py --serve ours|bare DB PORT``) ---------------------------


class Bare:
    """The bare side's one connection (WAL, synchronous=FULL) and the lock that serialises it."""

    conn: sqlite3.Connection
    lock = threading.Lock()


@post("/bare/{project_id:str}/report_metrics", sync_to_thread=False, status_code=200)
def bare_write(project_id: FromPath[str], data: JSONBody[ReportMetrics]) -> dict[str, int]:
    """Decode the same body as the API into the same command type; insert one row, one transaction."""
    with Bare.lock:
        Bare.conn.execute("BEGIN IMMEDIATE")
        try:
            cursor = Bare.conn.execute(
                "INSERT INTO reports (project_id, body) VALUES (?, ?)", (project_id, msgspec.json.encode(data))
            )
            Bare.conn.execute("COMMIT")
        except BaseException:
            Bare.conn.execute("ROLLBACK")
            raise
    return {"id": int(cursor.lastrowid or 0)}


@get("/bare/{project_id:str}", sync_to_thread=False)
def bare_read(project_id: FromPath[str]) -> Response[bytes]:
    """Read one row (a project's stored state) and return it."""
    return one_row(project_id)


def one_row(project_id: str) -> Response[bytes]:
    with Bare.lock:
        row = Bare.conn.execute("SELECT state FROM projects WHERE id = ?", (project_id,)).fetchone()
    return Response(row[0].encode(), media_type="application/json")


@get("/health", sync_to_thread=False)
def bare_health() -> dict[str, str]:
    return {"status": "ok"}


class Floor:
    """The floor side's store: the registry's own, over a copy of ours' database."""

    store: SQLiteEventStore


#: The floor authenticates as the API does: the same middleware, guard and injected actor.
AUTHENTICATED = {"guards": [signed_in], "dependencies": {"actor": Provide(provide_actor, sync_to_thread=False)}}


@post("/floor/{project_id:str}/report_metrics", sync_to_thread=False, status_code=200, **AUTHENTICATED)
def floor_write(
    project_id: FromPath[str], data: JSONBody[ReportMetrics], actor: NamedDependency[Actor]
) -> dict[str, int]:
    """Authenticate as the API does; append the report's event to the project's stream through
    the registry's store (hash chain, append-only guard, idempotency), one transaction each. No
    decision, no read model."""
    command_id = uuid.uuid4().hex
    event = MetricsReported(
        period_start=data.period_start, period_end=data.period_end, metrics=data.metrics, kpis_met=data.kpis_met
    )
    metadata = EventMetadata(
        actor=actor.id,
        role=actor.role,
        organisation=actor.organisation,
        occurred_at=dt.datetime.now(dt.UTC),
        command_id=command_id,
    )
    appended = Floor.store.append(
        [StreamWrite(project_stream(project_id), (NewEvent(event, metadata),))], command_id=command_id
    )
    return {"position": appended.last_position}


@get("/floor/{project_id:str}", sync_to_thread=False, **AUTHENTICATED)
def floor_read(project_id: FromPath[str], actor: NamedDependency[Actor]) -> Response[bytes]:
    """Authenticate as the API does, then read one row as the bare side does."""
    return one_row(project_id)


def floor_app(db: Path) -> Litestar:
    """What a server built on the registry's token check and store must do at least: the bare
    work, plus the API's own authentication and, for a command, the store's hash-chained append."""
    bare_app(db)
    Floor.store = open_store(db)
    floor = Router("/", route_handlers=[floor_write, floor_read], middleware=[DefineMiddleware(TokenAuthentication)])
    app = Litestar([floor, bare_health])
    app.state.tokens = Tokens.open(db)
    app.state.settings = HttpSettings(access_log=False)  # (run_server reads it, as for ours)
    return app


def bare_app(db: Path) -> Litestar:
    """The physical limit: decode the same body, one row per request, one FULL transaction."""
    Bare.conn = sqlite3.connect(str(db), isolation_level=None, check_same_thread=False, timeout=30)
    Bare.conn.execute("PRAGMA journal_mode = WAL")
    Bare.conn.execute("PRAGMA synchronous = FULL")
    return Litestar([bare_write, bare_read, bare_health])


def serve(kind: str, db: str, port: int) -> None:
    """Ours as ``sandbox-registry serve`` serves it, the floor as ours is served (the same
    collector tuning); the bare app under uvicorn as it comes."""
    if kind in ("ours", "floor"):
        app = create_app(db, create=False) if kind == "ours" else floor_app(Path(db))
        run_server(app, "127.0.0.1", port, access_log=False)
        return
    import uvicorn

    uvicorn.run(bare_app(Path(db)), host="127.0.0.1", port=port, log_level="warning", access_log=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    """A running server: its address and its process (whose CPU time a run reads)."""

    base: str
    pid: int

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far (Linux ``/proc``; NaN elsewhere)."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def server(kind: str, db: Path) -> Iterator[Served]:
    """A server process on a free port of 127.0.0.1, stopped (and waited for) at the end."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", kind, str(db), str(port)], env=env, stdout=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    try:
        while True:  # readiness, bounded
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(base + "/health", timeout=2).status_code == 200:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the {kind} server did not start")
            time.sleep(0.1)
        yield Served(base, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# -- the data -----------------------------------------------------------------------------------


@dataclass
class Prepared:
    projects: list[str]
    applicant: str  # alice's token (fzbank, the projects' lead)
    officer: str  # carol's token (case officer)


def prepare(db: Path, n: int) -> Prepared:
    """A registry with ``n`` e-CNY pilots in TESTING, built through the service as the API would."""
    from projections.read_models import ReadModels
    from sandbox import applications
    from sandbox.registry import init_registry, open_store
    from sandbox.service import Registry
    from sandbox.tokens import Tokens
    from schemas import commands as c
    from schemas.commands import Actor

    alice = Actor(id="alice", role="applicant", organisation="fzbank")
    carol = Actor(id="carol", role="case_officer")
    sam = Actor(id="sam", role="assessor")
    ada = Actor(id="ada", role="approver")
    clock = [dt.datetime.now(CST) - dt.timedelta(days=20)]
    store = open_store(db, create=True, clock=lambda: clock[0])
    init_registry(store, clock=lambda: clock[0])
    registry = Registry(store, clock=lambda: clock[0])
    registry.install_bundled()
    ids = iter(range(1_000_000))

    def do(pid: str, who: Actor, command: c.Command) -> None:
        registry.execute(pid, command, who, command_id=f"prep-{next(ids)}")

    today = clock[0].date()
    projects = []
    for i in range(n):
        draft = c.CreateDraft(program_key="ecny-pilot", title=f"试点 {i}", app_type="零售", lead_name="福州示范银行",
                              lead_kind="licensed_institution", region="福州")
        pid = registry.create_project(draft, alice, command_id=f"prep-create-{i}").project_id
        start = today + dt.timedelta(days=1)
        for step in applications.steps(applications.ecny(start, today + dt.timedelta(days=300))):
            do(pid, alice, step.command)
        do(pid, alice, c.Submit())
        do(pid, carol, c.AcceptIntake())
        for topic in registry.program_in_force("ecny-pilot", today).assessment_topics:
            do(pid, sam, c.FileAssessment(topic=topic.id, outcome="favourable", summary="评估意见"))
        do(pid, carol, c.OpenPublicNotice(channel="官网"))
        projects.append(pid)
    clock[0] += dt.timedelta(days=12)
    registry.tick()
    for pid in projects:
        do(pid, carol, c.Recommend(decision="admit"))
        do(pid, ada, c.Approve(decision="admit"))
        do(pid, alice, c.StartTest())
    ReadModels(store).catch_up()
    tokens = Tokens.open(db)
    applicant, _ = tokens.create(name="alice", role="applicant", organisation="fzbank")
    officer, _ = tokens.create(name="carol", role="case_officer")
    tokens.close()
    store.close()
    return Prepared(projects, applicant, officer)


def prepare_bare(db: Path, ours: Path, projects: Sequence[str]) -> None:
    """The bare side's tables: reports (empty) and one stored state per project (ours, copied)."""
    with contextlib.closing(sqlite3.connect(str(ours))) as source:
        states = {  # the store's snapshots of the projects' streams: the bare side keeps them as text
            row[0].removeprefix(PROJECT_PREFIX): msgspec.json.encode(decode_state(row[1])).decode()
            for row in source.execute("SELECT stream_id, state FROM snapshots")
        }
    with contextlib.closing(sqlite3.connect(str(db), isolation_level=None)) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("CREATE TABLE reports (id INTEGER PRIMARY KEY, project_id TEXT NOT NULL, body BLOB NOT NULL)")
        conn.execute("CREATE TABLE projects (id TEXT PRIMARY KEY, state TEXT NOT NULL)")
        conn.executemany("INSERT INTO projects VALUES (?, ?)", [(p, states.get(p, "{}")) for p in projects])


# -- the load -----------------------------------------------------------------------------------


@dataclass
class Run:
    count: int
    seconds: float
    latencies: list[float]
    errors: int
    server_cpu: float  # seconds of the server process's CPU time during the run
    client_cpu: float  # seconds of this (the load generator's) process's CPU time

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


#: The bytes of client ``i``'s ``k``-th request.
Request = Callable[[int, int], bytes]


def http_request(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    """One HTTP/1.1 request, as sent on a kept-alive connection."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> tuple[int, bytes]:
    """Send one request and read its response: (status, body). Both servers answer every request
    of this benchmark with a ``Content-Length`` (a chunked answer is an error here)."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    at = head.lower().find(b"\r\ncontent-length:")
    if at < 0:
        raise RuntimeError(f"a response without Content-Length: {head[:200]!r}")
    length = int(head[at + 17 : head.index(b"\r\n", at + 2)])
    return status, await reader.readexactly(length)


async def load(served: Served, total: int, send: Request, clients: int = CLIENTS) -> Run:
    """``total`` requests from ``clients`` concurrent clients, each on a kept-alive connection of
    its own (client ``i`` sends its ``k``-th request, waits for the answer, then sends the next)."""
    latencies: list[float] = []
    errors = 0
    per_client = total // clients
    host, port = served.base.removeprefix("http://").split(":")
    connections = [await asyncio.open_connection(host, int(port)) for _ in range(clients)]

    async def client(i: int) -> None:
        nonlocal errors
        reader, writer = connections[i]
        for k in range(per_client):
            started = time.perf_counter()
            status, body = await exchange(reader, writer, send(i, k))
            latencies.append(time.perf_counter() - started)
            if status >= 300:
                errors += 1
                if errors <= 3:
                    print(f"    unexpected {status}: {body[:300].decode(errors='replace')}", file=sys.stderr)

    try:
        await asyncio.gather(*(client(i) for i in range(clients)))  # warm-up: caches
        latencies.clear()
        server_cpu, client_cpu = served.cpu_seconds(), time.process_time()
        started = time.perf_counter()
        await asyncio.gather(*(client(i) for i in range(clients)))
        seconds = time.perf_counter() - started
        server_cpu, client_cpu = served.cpu_seconds() - server_cpu, time.process_time() - client_cpu
    finally:
        for _, writer in connections:
            writer.close()
    return Run(per_client * clients, seconds, latencies, errors, server_cpu, client_cpu)


@dataclass
class Figure:
    name: str
    ours: list[Run] = field(default_factory=list)
    bare: list[Run] = field(default_factory=list)
    floor: list[Run] = field(default_factory=list)

    @staticmethod
    def best(runs: list[Run]) -> Run:
        return max(runs, key=lambda r: r.rate)

    @property
    def ratio(self) -> float:
        return self.best(self.ours).rate / self.best(self.bare).rate

    @property
    def floor_ratio(self) -> float:
        return self.best(self.floor).rate / self.best(self.bare).rate

    def print(self) -> None:
        ours, bare, floor = self.best(self.ours), self.best(self.bare), self.best(self.floor)
        print(
            f"{self.name}: {ours.rate:.0f} req/s p50={ours.percentile(0.5):.1f}ms p99={ours.percentile(0.99):.1f}ms"
            f" ratio={self.ratio:.2f}"
        )
        paired = statistics.median(o.rate / b.rate for o, b in zip(self.ours, self.bare, strict=True))
        verdict = "meets" if self.ratio >= GOAL else "MISSES"
        print(
            f"    bare_{self.name}: {bare.rate:.0f} req/s p50={bare.percentile(0.5):.1f}ms"
            f" p99={bare.percentile(0.99):.1f}ms; {len(self.ours)} runs per side of {ours.count} requests,"
            f" median paired ratio {paired:.2f}, errors ours={sum(r.errors for r in self.ours)}"
            f" bare={sum(r.errors for r in self.bare)} floor={sum(r.errors for r in self.floor)};"
            f" goal >= {GOAL:.2f}: {verdict}",
        )
        print(
            f"    floor_{self.name}: {floor.rate:.0f} req/s p50={floor.percentile(0.5):.1f}ms,"
            f" ratio to bare {self.floor_ratio:.2f} ({FLOORS[self.name]}); ours is"
            f" {ours.rate / floor.rate:.2f} of the floor"
        )

        def per_request(runs: list[Run], cpu: Callable[[Run], float]) -> float:
            return statistics.median(cpu(r) / r.count * 1000 for r in runs)

        mine, theirs = per_request(self.ours, lambda r: r.server_cpu), per_request(self.bare, lambda r: r.server_cpu)
        lowest = per_request(self.floor, lambda r: r.server_cpu)
        loading_ours = per_request(self.ours, lambda r: r.client_cpu)
        loading_bare = per_request(self.bare, lambda r: r.client_cpu)
        busy = statistics.median(r.client_cpu / r.seconds for r in self.ours + self.bare + self.floor)
        print(
            f"    CPU per request (median of runs): ours server {mine:.2f} ms, bare server {theirs:.2f} ms,"
            f" floor server {lowest:.2f} ms; load generator {loading_ours:.2f} ms against ours,"
            f" {loading_bare:.2f} ms against bare, busy {busy:.0%} of the time (all on the same cores)",
            flush=True,
        )


#: What each case's floor does beyond the bare side.
FLOORS = {
    "command": "the API's authentication and the store's hash-chained append, no decision, no read model",
    "read": "the API's authentication, then the bare read",
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=1600, help="requests per case and run (default 1600)")
    parser.add_argument("--repeat", type=int, default=2, help="runs per side per case; best counts")
    parser.add_argument("--projects", type=int, default=256, help="pilots in TESTING (a multiple of 16)")
    parser.add_argument("--quick", action="store_true", help="tiny smoke run (320 requests, 1 run)")
    parser.add_argument("--check", action="store_true", help="exit 1 if a ratio misses its goal")
    parser.add_argument("--serve", nargs=3, metavar=("KIND", "DB", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve[0], args.serve[1], int(args.serve[2]))
        return 0
    if args.quick:
        args.requests, args.repeat, args.projects = 320, 1, 32

    print(
        f"bench/http.py: python {platform.python_version()}, sqlite {sqlite3.sqlite_version}, {os.cpu_count()} cpus,"
        f" {CLIENTS} clients, {args.projects} pilots, {args.requests} requests per case and run,"
        f" {args.repeat} runs per side,"
        " uvicorn on 127.0.0.1, WAL + synchronous=FULL on both sides",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="bench-http-") as tmp:
        ours_db, bare_db, floor_db = Path(tmp) / "registry.db", Path(tmp) / "bare.db", Path(tmp) / "floor.db"
        prepared = prepare(ours_db, max(CLIENTS, args.projects // CLIENTS * CLIENTS))
        prepare_bare(bare_db, ours_db, prepared.projects)
        with (  # the floor serves a copy of ours: the same log and tokens
            contextlib.closing(sqlite3.connect(str(ours_db))) as source,
            contextlib.closing(sqlite3.connect(str(floor_db))) as copy,
        ):
            source.backup(copy)
        prepare_bare(floor_db, ours_db, prepared.projects)
        today = dt.datetime.now(CST).date()
        report = {
            "period_start": (today - dt.timedelta(days=5)).isoformat(),  # within the test (started 8 days ago)
            "period_end": today.isoformat(),
            "metrics": METRICS,
            "kpis_met": ["transactions"],
        }
        body = json.dumps(report).encode()
        as_applicant = {"Authorization": f"Bearer {prepared.applicant}", "Content-Type": "application/json"}
        as_officer = {"Authorization": f"Bearer {prepared.officer}"}
        pids = prepared.projects

        def pid(i: int, k: int) -> str:
            return pids[(i + CLIENTS * k) % len(pids)]  # client i only ever touches projects i mod 16

        def ours_command(i: int, k: int) -> bytes:
            return http_request("POST", f"/api/v1/projects/{pid(i, k)}/report_metrics", as_applicant, body)

        def bare_command(i: int, k: int) -> bytes:
            return http_request("POST", f"/bare/{pid(i, k)}/report_metrics", {"Content-Type": "application/json"}, body)

        def floor_command(i: int, k: int) -> bytes:
            return http_request("POST", f"/floor/{pid(i, k)}/report_metrics", as_applicant, body)

        def floor_read(i: int, k: int) -> bytes:
            return http_request("GET", f"/floor/{pid(i, k)}", as_officer)

        def ours_read(i: int, k: int) -> bytes:
            return http_request("GET", f"/api/v1/projects/{pid(i, k)}", as_officer)

        def bare_read(i: int, k: int) -> bytes:
            return http_request("GET", f"/bare/{pid(i, k)}", {})

        figures = [Figure("command"), Figure("read")]
        sides = ((ours_command, bare_command, floor_command), (ours_read, bare_read, floor_read))
        with server("ours", ours_db) as ours, server("bare", bare_db) as bare, server("floor", floor_db) as floor:
            for _ in range(args.repeat):
                for figure, (mine, theirs, least) in zip(figures, sides, strict=True):
                    figure.bare.append(asyncio.run(load(bare, args.requests, theirs)))
                    figure.floor.append(asyncio.run(load(floor, args.requests, least)))
                    figure.ours.append(asyncio.run(load(ours, args.requests, mine)))
        for figure in figures:
            figure.print()
    missed = [f.name for f in figures if f.ratio < GOAL]
    print("goals: all met" if not missed else f"goals: missed by {', '.join(missed)}")
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
