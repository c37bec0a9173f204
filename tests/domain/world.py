"""A small world for domain tests: a registry over the in-memory store, a clock we move by hand,
people in every role, and complete applications for each program kind."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from collections.abc import Iterator
from typing import Any

from events.memory import InMemoryEventStore
from events.model import RecordedEvent
from projections.project import ProjectState
from sandbox import applications
from sandbox.registry import init_registry, make_codec
from sandbox.service import CommandResult, Registry
from schemas import commands as c
from schemas.base import Event
from schemas.commands import Actor
from schemas.dates import months_later
from schemas.errors import DomainError
from schemas.streams import project_stream

CST = dt.timezone(dt.timedelta(hours=8))

ALICE = Actor(id="alice", role="applicant", organisation="fzbank")  # lead applicant, a Fuzhou bank
TECHCO = Actor(id="tom", role="applicant", organisation="techco")  # technology partner
OTHER = Actor(id="olga", role="applicant", organisation="otherbank")  # somebody else entirely
OFFICER = Actor(id="carol", role="case_officer")
OFFICER2 = Actor(id="chen", role="case_officer")
ASSESSOR = Actor(id="sam", role="assessor")
APPROVER = Actor(id="ada", role="approver")
APPROVER2 = Actor(id="bo", role="approver")
PUBLIC = Actor(id="anon-1", role="public")
AUDITOR = Actor(id="audrey", role="auditor")
SYSTEM = Actor(id="system", role="system")
#: The case officer who recommends (carol), acting as an approver: four eyes must stop her.
CAROL_AS_APPROVER = Actor(id="carol", role="approver")
#: techco joining alice's applications as their technology partner.
TECHCO_PARTNER = applications.Partner(organisation="techco", name="榕城数科")


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class Clock:
    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, days: int = 0, hours: int = 0) -> None:
        self.now += dt.timedelta(days=days, hours=hours)

    def to(self, day: dt.date) -> None:
        self.now = dt.datetime.combine(day, dt.time(10, 0), CST)

    @property
    def today(self) -> dt.date:
        return self.now.astimezone(CST).date()


class World:
    """Drive the registry as its users would; every call is one command."""

    def __init__(self, start: dt.date = dt.date(2025, 3, 3)) -> None:
        self.clock = Clock(dt.datetime.combine(start, dt.time(10, 0), CST))
        self.store = InMemoryEventStore(make_codec(), clock=self.clock)
        self.registry = Registry(self.store, clock=self.clock)
        init_registry(self.store, clock=self.clock)  # type: ignore[arg-type]
        self.registry.install_bundled()
        self._ids: Iterator[int] = itertools.count(1)

    def cid(self) -> str:
        return f"cmd-{next(self._ids)}"

    def do(self, project_id: str, actor: Actor, command: c.Command, **kw: Any) -> CommandResult:
        return self.registry.execute(project_id, command, actor, command_id=self.cid(), **kw)

    def state(self, project_id: str) -> ProjectState:
        return self.registry.load(project_id)

    def tick(self) -> int:
        return self.registry.tick()

    def create(self, program_key: str, actor: Actor = ALICE, **kw: Any) -> str:
        fields: dict[str, Any] = {
            "title": "小微企业智能信贷服务",
            "app_type": "金融服务",
            "lead_name": "福州示范银行",
            "lead_kind": "licensed_institution",
            "region": "福州",
            "lead_licence_no": "B0001H235010001",
        }
        fields.update(kw)
        result = self.registry.create_project(
            c.CreateDraft(program_key=program_key, **fields), actor, command_id=self.cid()
        )
        return result.project_id

    # -- complete applications -------------------------------------------------------------

    def fintech_application(self, pid: str, *, max_users: int = 5000, partner: bool = True) -> None:
        # (the test may start once admitted: the declared period begins tomorrow and runs the
        # program's longest, 12 months)
        start = self.clock.today + dt.timedelta(days=1)
        self.apply(pid, applications.fintech(
            start, months_later(start, 12), partner=TECHCO_PARTNER if partner else None,
            boundaries={"max_users": max_users},
        ))

    def apply(self, pid: str, sittings: list[applications.Sitting], lead: Actor = ALICE,
              partner: Actor = TECHCO) -> None:
        """Every step of a sample application, the lead's by ``lead``, the partner's by ``partner``."""
        for step in applications.steps(sittings):
            self.do(pid, lead if step.by == "lead" else partner, step.command)

    def assess(self, pid: str, outcome: str = "favourable") -> None:
        """An assessment of each topic the project's program requires, with ``outcome``."""
        for topic in self.registry.bound_program(self.state(pid), self.clock.today).assessment_topics:
            self.do(pid, ASSESSOR, c.FileAssessment(
                topic=topic.id, outcome=outcome, summary=f"内部评估：{topic.label_zh}", sha256=sha(topic.id)))  # type: ignore[arg-type]

    def through_notice(self, pid: str) -> None:
        """Submit, accept, hold the public notice to its end and close it with a tick."""
        self.do(pid, ALICE, c.Submit())
        self.do(pid, OFFICER, c.AcceptIntake())
        self.assess(pid)
        self.do(pid, OFFICER, c.OpenPublicNotice(channel="官网公示栏"))
        ends = self.state(pid).notice_ends
        assert ends is not None
        self.clock.to(ends + dt.timedelta(days=1))
        self.tick()

    def admit(self, pid: str) -> None:
        self.do(pid, OFFICER, c.Recommend(decision="admit"))
        self.do(pid, APPROVER, c.Approve(decision="admit"))
        if self.state(pid).pending is not None:
            self.do(pid, APPROVER2, c.Approve(decision="admit"))

    def ecny_application(
        self,
        pid: str,
        *,
        pilot_area: str = "fuzhou",
        scenario: str = "transport_tolls",
        wallet_tier: int = 4,
        per_payment_cap_yuan: int = 2_000,
        campaign: bool = False,
    ) -> None:
        """A complete e-CNY pilot application: a Fuzhou bank connecting through a designated
        operator (cib), tier-4 wallets within the tier's caps, a metrics plan."""
        start = self.clock.today + dt.timedelta(days=1)
        end = self.clock.today + dt.timedelta(days=360)
        self.apply(pid, applications.ecny(start, end, statement={"scenario": scenario}, boundaries={
            "pilot_area": pilot_area,
            "wallet_tier": wallet_tier,
            "per_payment_cap_yuan": per_payment_cap_yuan,
            "runs_campaign": campaign,
        }))

    def data_asset_application(
        self, pid: str, *, public_data: bool = True, grade: str = "general", pledged: bool = False
    ) -> None:
        """A complete data-asset application by a registered data merchant: a public-data
        registration (10 working days of notice) or a listing (3 days)."""
        self.apply(pid, applications.data_asset(
            product={"public_data": public_data, "grade": grade, "pledged": pledged},
            valued_on=self.clock.today - dt.timedelta(days=30) if pledged else None,
        ))

    def create_data_asset(self, **kw: Any) -> str:
        fields: dict[str, Any] = {
            "title": "港口物流数据产品",
            "app_type": "数据集",
            "lead_name": "福州数据商",
            "lead_kind": "data_merchant",
            "region": "福州",
            "lead_licence_no": None,
        }
        fields.update(kw)
        return self.create("data-asset", **fields)

    # -- looking at the log ----------------------------------------------------------------

    def head(self) -> int:
        return self.store.head().position

    def events(self, pid: str) -> list[RecordedEvent[Event]]:
        return self.store.read_stream(project_stream(pid))

    def types_since(self, pid: str, position: int) -> list[str]:
        """The event types appended to a project after ``position``."""
        return [e.type for e in self.events(pid) if e.position > position]

    def refused(self, pid: str, actor: Actor, command: c.Command, code: str) -> DomainError:
        """Run a command that must be refused with ``code``; check it appended nothing."""
        head = self.head()
        try:
            self.do(pid, actor, command)
        except DomainError as e:
            assert e.code == code, f"expected {code}, got {e.code}: {e}"
            assert self.head() == head, "a refused command appended events"
            return e
        raise AssertionError(f"{type(command).__name__} by {actor.id} was not refused ({code} expected)")

    def start_testing(self, pid: str) -> None:
        self.admit(pid)
        self.do(pid, ALICE, c.StartTest())

    def report_month(self, pid: str, metrics: dict[str, int], kpis: list[str] | None = None,
                     actor: Actor = ALICE) -> CommandResult:
        """Advance 30 days, report the 30 days just past, run the timers."""
        self.clock.advance(days=30)
        end = self.clock.today
        result = self.do(pid, actor, c.ReportMetrics(
            period_start=end - dt.timedelta(days=29), period_end=end, metrics=metrics, kpis_met=kpis or []))
        self.tick()
        return result
