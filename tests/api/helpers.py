"""Driving the HTTP API as its users do: people with tokens, a clock moved by hand, and complete
applications for each program, every step one request.

Field names of each program's sections are in the ``legal_basis`` text of ``schemas/programs``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgspec
from litestar import Litestar
from litestar.testing import TestClient

from sandbox import applications
from sandbox.api import create_app
from sandbox.config import UNLIMITED
from tests.domain.world import Clock as DomainClock

CST = dt.timezone(dt.timedelta(hours=8))
START = dt.date(2025, 3, 3)

#: name -> (role, organisation). The name is the token's name and so the actor id in events.
PEOPLE: dict[str, tuple[str, str | None]] = {
    "alice": ("applicant", "fzbank"),  # lead applicant, a Fuzhou bank
    "tom": ("applicant", "techco"),  # technology partner of alice's projects
    "olga": ("applicant", "otherbank"),  # another organisation entirely
    "carol": ("case_officer", None),
    "chen": ("case_officer", None),
    "sam": ("assessor", None),
    "ada": ("approver", None),
    "bo": ("approver", None),
    "audrey": ("auditor", None),
    "pat": ("public", None),
}


#: Words of msgspec's, litestar's and the registry's English messages: a Chinese message must not carry them.
ENGLISH = re.compile(r"\b(Expected|Invalid|Object|missing|unknown|got|length|matching|required|must|not|the)\b")
QUOTED = re.compile(r"'[^']*'|`[^`]*`|“[^”]*”")
CJK = re.compile(r"[\u4e00-\u9fff]")


def assert_chinese_problem(body: dict[str, Any]) -> None:
    """A problem's Chinese message and the Chinese rule of each invalid field are Chinese, not
    English in a Chinese slot (the names and values it quotes aside)."""
    for zh in [body["message_zh"]] + [e["rule_zh"] for e in body.get("errors", []) if "rule" in e]:
        assert CJK.search(zh) and not ENGLISH.search(QUOTED.sub("", zh)), body  # (quoted: the client's values)
        assert "原文" not in zh, body  # a rule schemas.validation has no Chinese for, kept in English


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


#: tom's organisation (techco) as the technology partner of alice's applications.
TECHCO = applications.Partner(organisation="techco", name="榕城数科")


class Clock(DomainClock):
    """The app's clock: ``create_app(..., clock=Clock())`` and move it by hand."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        super().__init__(start or dt.datetime.combine(START, dt.time(10, 0), CST))


class ApiError(AssertionError):
    pass


@dataclass
class Api:
    """One app over one database, its clock, a test client and a token for every person."""

    app: Litestar
    client: TestClient[Litestar]
    clock: Clock
    secrets: dict[str, str] = field(default_factory=dict)

    # -- plumbing ----------------------------------------------------------------------------

    def auth(self, who: str | None) -> dict[str, str]:
        if who is None:
            return {}
        if who == "bad":
            return {"Authorization": "Bearer sbr_not-a-real-token"}
        return {"Authorization": f"Bearer {self.secrets[who]}"}

    def get(self, path: str, who: str | None = None, **kw: Any) -> httpx.Response:
        headers = {**self.auth(who), **kw.pop("headers", {})}
        return self.client.get(path, headers=headers, **kw)

    def post(self, path: str, who: str | None = None, json: Any = None, **kw: Any) -> httpx.Response:
        headers = {**self.auth(who), **kw.pop("headers", {})}
        return self.client.post(path, headers=headers, json=json if json is not None else {}, **kw)

    def do(self, pid: str, who: str | None, action: str, body: dict[str, Any] | None = None, **kw: Any) -> Any:
        """One command that must succeed; returns the response body."""
        r = self.post(f"/api/v1/projects/{pid}/{action}", who, body or {}, **kw)
        if r.status_code != 200:
            raise ApiError(f"{action} by {who} on {pid}: {r.status_code} {r.text}")
        return r.json()

    def tick(self) -> int:
        """The timers, recorded by the system actor (the CLI's ``tick`` or a scheduler runs this)."""
        written: int = self.app.state.registry.tick()
        return written

    def head(self) -> int:
        position: int = self.app.state.store.head().position
        return position

    def view(self, pid: str, who: str = "carol", **params: Any) -> Any:
        r = self.get(f"/api/v1/projects/{pid}", who, params=params)
        if r.status_code != 200:
            raise ApiError(f"GET {pid}: {r.status_code} {r.text}")
        return r.json()

    def state(self, pid: str) -> str:
        state: str = self.view(pid)["state"]
        return state

    def details(self, pid: str) -> Any:
        return self.view(pid)["details"]

    def events(self, pid: str, who: str = "audrey") -> list[Any]:
        r = self.get(f"/api/v1/projects/{pid}/events", who)
        assert r.status_code == 200, r.text
        events: list[Any] = r.json()
        return events

    # -- applications ------------------------------------------------------------------------

    def create(self, program_key: str, who: str = "alice", **fields: Any) -> str:
        body: dict[str, Any] = {
            "program_key": program_key,
            "title": "小微企业智能信贷服务",
            "app_type": "金融服务",
            "lead_name": "福州示范银行",
            "lead_kind": "licensed_institution",
            "region": "福州",
            "lead_licence_no": "B0001H235010001",
        }
        body.update(fields)
        r = self.post("/api/v1/projects", who, body)
        if r.status_code != 201:
            raise ApiError(f"create {program_key}: {r.status_code} {r.text}")
        pid: str = r.json()["project_id"]
        return pid

    def apply(self, pid: str, sittings: list[applications.Sitting], lead: str = "alice", partner: str = "tom") -> None:
        """Every step of a sample application, one request each: the lead's by ``lead``, the
        partner's by ``partner``."""
        for step in applications.steps(sittings):
            body = msgspec.to_builtins(step.command)
            self.do(pid, lead if step.by == "lead" else partner, step.command.action, body)

    def fintech_application(self, pid: str, *, partner: bool = True) -> None:
        start = self.clock.today + dt.timedelta(days=1)  # (a test may start once admitted)
        self.apply(pid, applications.fintech(
            start, start + dt.timedelta(days=360), partner=TECHCO if partner else None))

    def ecny_application(self, pid: str, *, test_days: int = 300, partner: bool = False) -> None:
        """A Fuzhou bank connecting through a designated operator (cib), tier-4 wallets."""
        start = self.clock.today + dt.timedelta(days=1)
        self.apply(pid, applications.ecny(
            start, start + dt.timedelta(days=test_days), partner=TECHCO if partner else None))

    def data_asset_application(self, pid: str, *, public_data: bool = True) -> None:
        self.apply(pid, applications.data_asset(product={"public_data": public_data}))

    def assess(self, pid: str, who: str = "sam", outcome: str = "favourable") -> None:
        """An assessment of each topic the project's program version requires."""
        project = self.view(pid)
        program = self.get(f"/api/v1/programs/{project['program']}", "carol").json()
        [bound] = [v for v in program["versions"] if v["version"] == project["program_version"]]
        for topic in bound["assessment_topics"]:
            self.do(pid, who, "file_assessment", {"topic": topic["id"], "outcome": outcome,
                                                  "summary": f"内部评估：{topic['label_zh']}"})

    def create_data_asset(self, **fields: Any) -> str:
        body: dict[str, Any] = {
            "title": "港口物流数据产品",
            "app_type": "数据集",
            "lead_name": "福州数据商",
            "lead_kind": "data_merchant",
            "region": "福州",
            "lead_licence_no": None,
        }
        body.update(fields)
        return self.create("data-asset", **body)

    def submit_and_open(self, pid: str) -> None:
        self.do(pid, "alice", "submit")
        self.do(pid, "carol", "accept_intake")
        self.assess(pid)
        self.do(pid, "carol", "open_public_notice", {"channel": "官网公示栏"})

    def close_notices(self, *pids: str) -> None:
        """Move the clock past the latest notice end and run the timers."""
        ends = max(dt.date.fromisoformat(self.details(pid)["notice_ends"]) for pid in pids)
        self.clock.to(ends + dt.timedelta(days=1))
        self.tick()
        for pid in pids:
            assert self.state(pid) == "NOTICE_CLOSED", (pid, self.state(pid))

    def admit(self, pid: str) -> None:
        self.do(pid, "carol", "recommend", {"decision": "admit"})
        self.do(pid, "ada", "approve", {"decision": "admit"})
        if self.state(pid) != "ADMITTED":
            self.do(pid, "bo", "approve", {"decision": "admit"})
        assert self.state(pid) == "ADMITTED"

    def report(self, pid: str, metrics: dict[str, int], kpis: list[str], who: str = "alice") -> Any:
        """Report the 30 days up to today."""
        end = self.clock.today
        return self.do(pid, who, "report_metrics", {
            "period_start": (end - dt.timedelta(days=29)).isoformat(),
            "period_end": end.isoformat(),
            "metrics": metrics,
            "kpis_met": kpis,
        })


def make_api(db: Path, clock: Clock, secrets: dict[str, str] | None = None) -> tuple[Litestar, dict[str, str]]:
    """An app over ``db``; tokens for every person unless ``secrets`` (already in the db) are given.
    No rate limits: the tests drive many anonymous writes from one address."""
    app = create_app(db, clock=clock, settings=UNLIMITED)
    if secrets is None:
        secrets = {}
        for name, (role, org) in PEOPLE.items():
            secrets[name], _ = app.state.tokens.create(name=name, role=role, organisation=org)
    return app, secrets


@contextmanager
def running(db: Path, clock: Clock | None = None, secrets: dict[str, str] | None = None) -> Iterator[Api]:
    """A running app (lifespan and all) over ``db`` with a client and every person's token."""
    clock = clock or Clock()
    app, secrets = make_api(db, clock, secrets)
    with TestClient(app) as client:
        yield Api(app=app, client=client, clock=clock, secrets=secrets)


def copy_db(source: Path, target: Path) -> Path:
    """A copy of a closed registry database (its WAL was checkpointed when the app stopped)."""
    for suffix in ("-wal", "-shm"):
        assert not Path(str(source) + suffix).exists() or Path(str(source) + suffix).stat().st_size == 0
    shutil.copyfile(source, target)
    return target
