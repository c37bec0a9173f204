"""The server survives being killed, a full disk, a read-only database and a second writer.

Each test runs real ``sandbox-registry serve`` processes on 127.0.0.1 with bounded traffic.
"""

from __future__ import annotations

import concurrent.futures
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from events.export import export_lines
from events.sqlite import SQLiteEventStore
from projections.read_models import ReadModels
from sandbox.api import create_app
from sandbox.api.common import command_id
from sandbox.registry import open_store
from sandbox.tokens import Tokens
from tests.fixtures.servers import CLI, server

DRAFT = {
    "program_key": "fintech-sandbox",
    "title": "压力测试项目",
    "app_type": "金融服务",
    "lead_name": "福州示范银行",
    "lead_kind": "licensed_institution",
    "region": "福州",
}


def cli(*args: str) -> str:
    done = subprocess.run([*CLI, *args], capture_output=True, text=True, check=True, timeout=60)
    return done.stdout.strip()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "registry.db"
    cli("init", "--db", str(path))
    return path


def token(db: Path, name: str = "alice", role: str = "applicant", org: str | None = "fzbank") -> str:
    args = ["token", "create", "--db", str(db), "--role", role, "--name", name]
    return cli(*args, *(["--org", org] if org else []))


def http_id(db: Path, key: str, name: str = "alice") -> str:
    """The command id the server gives a request of ``name``'s token with Idempotency-Key ``key``."""
    tokens = Tokens.open(db)
    try:
        token_id = next(t.id for t in tokens.list() if t.name == name and t.revoked_at is None)
    finally:
        tokens.close()
    return command_id(token_id, key)


def drive(base: str, secret: str, keys: list[str]) -> dict[str, int]:
    """Create one draft per key (the key is its Idempotency-Key); returns key -> status for answers received."""
    acknowledged: dict[str, int] = {}

    def one(key: str) -> None:
        try:
            r = httpx.post(
                base + "/api/v1/projects",
                json=DRAFT,
                timeout=10,
                headers={"Authorization": f"Bearer {secret}", "Idempotency-Key": key},
            )
            acknowledged[key] = r.status_code
        except httpx.HTTPError:
            pass  # the server died mid-request: not acknowledged

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(one, keys))
    return acknowledged


def command_ids(db: Path) -> list[str]:
    store = open_store(db)
    try:
        return [e.metadata.command_id for e in store.iter_all() if e.type == "DraftCreated"]
    finally:
        store.close()


def assert_consistent(db: Path) -> None:
    store = open_store(db)
    try:
        assert store.verify().ok
        models = ReadModels(store)
        models.catch_up()
        incremental = models.dump()
        models.rebuild()
        assert models.dump() == incremental
    finally:
        store.close()


@pytest.mark.slow
@pytest.mark.parametrize("kill_after", [5, 40, 120])
def test_sigkill_mid_load_loses_no_acknowledged_command(db: Path, kill_after: int) -> None:
    secret = token(db)
    keys = [f"k{kill_after}-{i}" for i in range(200)]
    with server(db) as (proc, base), concurrent.futures.ThreadPoolExecutor(1) as killer:
        seen: dict[str, int] = {}

        def kill_when_ready() -> None:
            while len(command_ids(db)) < kill_after and proc.poll() is None:
                time.sleep(0.01)
            proc.send_signal(signal.SIGKILL)

        future = killer.submit(kill_when_ready)
        seen = drive(base, secret, keys)
        future.result(timeout=60)
    acknowledged = {k for k, status in seen.items() if status == 201}
    logged = command_ids(db)
    for key in acknowledged:
        assert logged.count(http_id(db, key)) == 1, key
    assert len(logged) == len(set(logged))
    assert_consistent(db)
    with server(db) as (_, base):  # restarts and keeps working; a retry appends nothing new
        again = drive(base, secret, sorted(acknowledged)[:10])
        assert all(status == 201 for status in again.values())
    assert command_ids(db) == logged


@pytest.mark.slow
def test_sigterm_finishes_in_flight_commands_and_exits_cleanly(db: Path) -> None:
    """Under SIGTERM the server stops taking connections but answers every command it began: a
    command in the log was acknowledged to its client (under SIGKILL it may not have been)."""
    secret = token(db)
    keys = [f"t-{i}" for i in range(200)]
    with server(db) as (proc, base), concurrent.futures.ThreadPoolExecutor(1) as stopper:

        def stop_when_busy() -> None:
            while len(command_ids(db)) < 30 and proc.poll() is None:
                time.sleep(0.01)
            proc.send_signal(signal.SIGTERM)

        future = stopper.submit(stop_when_busy)
        seen = drive(base, secret, keys)
        future.result(timeout=60)
        # uvicorn re-raises the signal once it has shut down, so the status is that of SIGTERM;
        # what shows the shutdown was graceful is that the app closed the database: the last
        # connection to close checkpoints the write-ahead log into the file and removes it.
        assert proc.wait(timeout=60) == -signal.SIGTERM
        assert not Path(f"{db}-wal").exists()
    acknowledged = {http_id(db, k) for k, status in seen.items() if status == 201}
    logged = command_ids(db)
    assert len(logged) == len(set(logged))
    assert set(logged) == acknowledged
    assert all(status == 201 for status in seen.values())
    assert 30 <= len(logged) < len(keys)
    assert_consistent(db)


@contextmanager
def in_process(path: Path) -> Iterator[tuple[TestClient[Any], SQLiteEventStore, dict[str, str]]]:
    """The app in this process (so a test can reach its store's connection), with an applicant."""
    app = create_app(path)
    secret, _ = app.state.tokens.create(name="alice", role="applicant", organisation="fzbank")
    with TestClient(app) as client:
        yield client, app.state.store, {"Authorization": f"Bearer {secret}"}


@pytest.mark.slow
def test_full_disk_gives_a_clear_error_and_writes_nothing_partial(tmp_path: Path) -> None:
    with in_process(tmp_path / "full.db") as (client, store, headers):
        assert client.post("/api/v1/projects", json=DRAFT, headers=headers).status_code == 201
        pages = store.connection.execute("PRAGMA page_count").fetchone()[0]
        store.connection.execute(f"PRAGMA max_page_count = {pages}")
        head = store.head()
        big = {**DRAFT, "title": "满" * 190}
        statuses = [client.post("/api/v1/projects", json=big, headers=headers).status_code for _ in range(40)]
        assert 503 in statuses
        failed = client.post("/api/v1/projects", json=big, headers=headers)
        assert failed.status_code == 503
        assert failed.headers["content-type"].startswith("application/problem+json")
        assert failed.json()["code"] == "unavailable"
        assert store.verify().ok
        grown = store.head().position
        assert grown >= head.position
        store.connection.execute("PRAGMA max_page_count = 1073741823")
        assert client.post("/api/v1/projects", json=DRAFT, headers=headers).status_code == 201
        assert store.head().position > grown
        assert store.verify().ok


def test_read_only_database_gives_a_clear_error(tmp_path: Path) -> None:
    with in_process(tmp_path / "ro.db") as (client, store, headers):
        head = store.head()
        store.connection.execute("PRAGMA query_only = ON")  # the file turned read-only under us
        r = client.post("/api/v1/projects", json=DRAFT, headers=headers)
        assert r.status_code == 503 and r.json()["code"] == "unavailable"
        assert store.head() == head
        store.connection.execute("PRAGMA query_only = OFF")
        assert client.post("/api/v1/projects", json=DRAFT, headers=headers).status_code == 201


@pytest.mark.slow
def test_two_servers_and_the_cli_on_one_file(db: Path) -> None:
    secret = token(db)
    with server(db) as (_, base1), server(db) as (_, base2), concurrent.futures.ThreadPoolExecutor(3) as pool:
        a = pool.submit(drive, base1, secret, [f"a{i}" for i in range(60)])
        b = pool.submit(drive, base2, secret, [f"b{i}" for i in range(60)])
        ticks = pool.submit(lambda: [cli("tick", "--db", str(db)) for _ in range(3)])
        results = {**a.result(), **b.result()}
        ticks.result()
    assert all(status == 201 for status in results.values()) and len(results) == 120
    logged = command_ids(db)
    assert sorted(logged) == sorted(http_id(db, k) for k in results)
    assert_consistent(db)
    store = open_store(db)
    try:
        lines = list(export_lines(store.iter_stored()))
    finally:
        store.close()
    assert len(lines) == len(set(lines))
