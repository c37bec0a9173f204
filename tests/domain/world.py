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
from sandbox.registry import init_registry, make_codec
from sandbox.service import CommandResult, Registry
from schemas import commands as c
from schemas.base import Event
from schemas.commands import Actor
from schemas.dates import months_later
from schemas.errors import DomainError
from schemas.events import Value
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
        end = months_later(start, 12)
        self.do(pid, ALICE, c.EditDraft(section="statement", fields={
            "service_description": "基于供应链数据的小微企业信用贷款",
            "innovation_claim": "首发：以发票与物流数据替代抵押",
            "comparables": ["传统抵押贷款"],
            "expected_benefit": "降低小微企业融资成本",
            "consumer_benefit": "审批时间由 7 天缩短至 1 天",
            "channels": ["手机银行"],
            "user_scope": "福州市小微企业",
            "planned_test_period": "12 个月",
            "risk_controls": "单户限额、风险补偿金",
            "complaint_channel": "95555 热线",
            "complaint_contact": "王经理",
            "exit_plan": "存量贷款到期结清",
        }))
        self.do(pid, ALICE, c.EditDraft(section="boundaries", fields={
            "max_users": max_users,
            "per_user_exposure_cap_yuan": 500_000,
            "total_exposure_cap_yuan": 200_000_000,
            "service_channels": ["mobile_banking"],
            "service_region": "福州市",
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
        }))
        self.do(pid, ALICE, c.EditDraft(section="test_plan", fields={
            "objectives": "验证数据增信模型",
            "kpis": ["approval_time", "default_rate"],
            "approval_time_target": 48,
            "default_rate_target": 30,
            "reporting_cadence_days": 30,
        }))
        for kind in ("financial_licence", "internal_audit_opinion", "external_legal_assessment",
                     "security_assessment", "personal_financial_information_assessment",
                     "risk_compensation_plan", "emergency_plan", "service_exit_plan"):
            self.do(pid, ALICE, c.AttachDocument(kind=kind, sha256=sha(kind), title=kind))
        self.do(pid, ALICE, c.Attest(statement="no_violations", text="近三年无违法违规记录"))
        if partner:
            self.do(pid, ALICE, c.AddPartner(organisation="techco", name="榕城数科", role="technology_partner"))
            self.do(pid, TECHCO, c.Attest(statement="no_violations"))

    def through_notice(self, pid: str) -> None:
        """Submit, accept, hold the public notice to its end and close it with a tick."""
        self.do(pid, ALICE, c.Submit())
        self.do(pid, OFFICER, c.AcceptIntake())
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
        self.do(pid, ALICE, c.EditDraft(section="statement", fields={
            "scenario": scenario,
            "operator": "cib",
            "kyc_responsible": "fzbank",
            "aml_responsible": "fzbank",
            "uses_smart_contracts": False,
        }))
        boundaries: dict[str, Value] = {
            "pilot_area": pilot_area,
            "wallet_tier": wallet_tier,
            "per_payment_cap_yuan": per_payment_cap_yuan,
            "daily_cap_yuan": 5_000,
            "balance_cap_yuan": 10_000,
            "acceptance_points": 12,
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
            "runs_campaign": campaign,
        }
        if campaign:
            boundaries |= {
                "campaign_budget_yuan": 3_000_000,
                "campaign_start_date": start.isoformat(),
                "campaign_end_date": (start + dt.timedelta(days=30)).isoformat(),
            }
        self.do(pid, ALICE, c.EditDraft(section="boundaries", fields=boundaries))
        self.do(pid, ALICE, c.EditDraft(section="test_plan", fields={
            "kpis": ["transactions", "wallets_opened"],
            "transactions_target": 100_000,
            "wallets_opened_target": 20_000,
            "merchants_live_target": 12,
            "reporting_cadence_days": 30,
        }))

    def data_asset_application(
        self, pid: str, *, public_data: bool = True, grade: str = "general", pledged: bool = False
    ) -> None:
        """A complete data-asset application by a registered data merchant: a public-data
        registration (10 working days of notice) or a listing (3 days)."""
        for kind in ("business_licence", "data_merchant_registration", "data_source_statement",
                     "source_authorisation", "third_party_compliance_assessment", "venue_compliance_review",
                     "data_quality_assessment"):
            self.do(pid, ALICE, c.AttachDocument(kind=kind, sha256=sha(kind), title=kind))
        self.do(pid, ALICE, c.EditDraft(section="product", fields={
            "product_type": "dataset",
            "public_data": public_data,
            "description": "福州港集装箱物流时效数据集",
            "update_frequency": "daily",
            "delivery_method": "api",
            "use_scenarios": ["supply_chain_finance"],
            "classification": "transport",
            "grade": grade,
            "personal_information": "absent",
            "balance_sheet_recognition": False,
            "pledged": pledged,
        }))
        self.do(pid, ALICE, c.EditDraft(section="test_plan", fields={
            "kpis": ["trades", "buyers"], "trades_target": 100, "buyers_target": 5}))

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
