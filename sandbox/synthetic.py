"""Synthetic but realistic project histories, driven through the real registry.

``generate(registry, clock, projects=N, seed=S)`` creates N projects across the three bundled
programs (fintech sandbox, e-CNY pilot, data-asset pilot) for Fuzhou and Xiamen banks, technology
companies and data merchants, fills complete applications with the field names each program
declares, and walks every project through a random but plausible life over simulated months:
information requests, assessments, public notice with comments and objections, admission by four
eyes or rejection, monthly (quarterly for data assets) metric reports, complaints, incidents,
suspensions and reinstatements, extensions, late reports, and an end: graduation (出盒), voluntary
or forced exit, closure, termination or revocation. Some applications are abandoned or withdrawn.

Every event comes from a command decided by :mod:`sandbox.deciders` through
:meth:`Registry.execute`, or from a timer of :mod:`sandbox.policies`; nothing is hand-written.
The same seed gives the same commands, the same project ids and the same positions (event ids
and hashes differ: the store draws event ids at random).

Time is a calendar: each project's life is a generator that yields when it next acts; the engine
moves the shared clock forward to the earliest wake-up, runs that project's due timers, then lets
it act. The clock must be the one the store and the registry read (see :class:`SimClock`).
Private fields (assessment summaries, comment and objection texts, commenters' ids, incident
descriptions, complaint contacts and ids, metric figures) carry distinctive values, so a test
can check that none of them reaches the public register.

Cost: without read models the service folds a project's whole stream for each command, so long
histories are quadratic; :func:`memory_registry` returns an :class:`IncrementalRegistry` that folds
only what is new (about 3,000 events/s on one core). With read models (:func:`sqlite_registry`)
the service starts from their snapshot of the project instead. Histories are interleaved in time and each project's
timers run for that project alone, so nothing costs O(all projects) per step. Use
``global_tick_days`` to also drive ``Registry.tick`` (every live project) at a cadence.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import heapq
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, cast

from events.memory import InMemoryEventStore
from events.sqlite import SQLiteEventStore, Synchronous, format_recorded_at
from projections.gates import missing_topics
from projections.project import INITIAL, Breach, ProjectState, fold, local_date
from projections.read_models import ReadModels
from projections.rules import declared_period, next_report_due, outstanding_pledge, report_cadence
from sandbox import applications
from sandbox.registry import init_registry, make_codec, open_store
from sandbox.service import TIMED, Registry
from schemas import commands as c
from schemas.commands import Actor
from schemas.dates import CHINA, months_later
from schemas.errors import DomainError
from schemas.events import PartnerRole, Section, Severity, Value
from schemas.lifecycle import IN_TEST, TERMINAL, State
from schemas.programs import ProgramDefinition
from schemas.streams import project_stream

PROGRAMS = ("fintech-sandbox", "ecny-pilot", "data-asset")
#: The first day histories start on by default (the bundled holiday calendar covers 2025-2026,
#: and public notices count working days, so every notice must fall inside it).
DEFAULT_START = dt.date(2025, 1, 6)

S = State


class Clock(Protocol):
    """A clock the generator can set: the registry and the store must read the same object."""

    now: dt.datetime

    def __call__(self) -> dt.datetime: ...


class SimClock:
    """A hand-moved clock (timezone-aware) for simulations and tests."""

    def __init__(self, start: dt.datetime | dt.date = DEFAULT_START) -> None:
        if not isinstance(start, dt.datetime):
            start = dt.datetime.combine(start, dt.time(9, 0), CHINA)
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now


# -- who acts ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Org:
    """An organisation that applies or partners: its registry id, name, kind and licence."""

    id: str
    name: str
    kind: str
    licence_no: str | None
    city: str
    pilot_area: str


BANKS = (
    Org("fz-rcb", "福州农村商业银行股份有限公司", "licensed_institution", "B1028H235010001", "福州", "fuzhou"),
    Org("fj-hx-bank", "福建海峡银行股份有限公司", "licensed_institution", "B0186H235010001", "福州", "fuzhou"),
    Org("xm-bank", "厦门银行股份有限公司", "licensed_institution", "B0213H235020001", "厦门", "xiamen"),
    Org("xm-intl-bank", "厦门国际银行股份有限公司", "licensed_institution", "B0062H235020001", "厦门", "xiamen"),
    Org("xm-rcb", "厦门农村商业银行股份有限公司", "licensed_institution", "B1110H235020001", "厦门", "xiamen"),
    Org("fj-rcu", "福建省农村信用社联合社", "licensed_institution", "B0887H235010001", "福州", "fuzhou"),
)
#: Designated e-CNY operators (their registry id is the operator code of the reference data).
OPERATOR_LEADS = (
    Org("cib", "兴业银行股份有限公司福州分行", "operator", "B0010B235010001", "福州", "fuzhou"),
    Org("ccb", "中国建设银行股份有限公司厦门市分行", "operator", "B0004B235020001", "厦门", "xiamen"),
    Org("boc", "中国银行股份有限公司福建省分行", "operator", "B0003B235010001", "福州", "fuzhou"),
)
TECH = (
    Org("rongcheng-fintech", "榕城数字金融科技（福州）有限公司", "technology_company", None, "福州", "fuzhou"),
    Org("ludao-ai", "鹭岛智能科技（厦门）有限公司", "technology_company", None, "厦门", "xiamen"),
    Org("minjiang-cloud", "闽江云计算服务有限公司", "technology_company", None, "福州", "fuzhou"),
    Org("haixi-credit", "海西征信服务有限公司", "technology_company", None, "福州", "fuzhou"),
    Org("xm-chainlink", "厦门链信区块链技术有限公司", "technology_company", None, "厦门", "xiamen"),
)
DATA_MERCHANTS = (
    Org("fz-port-data", "福州港口物流数据服务有限公司", "data_merchant", None, "福州", "fuzhou"),
    Org("xm-air-data", "厦门航空数据科技有限公司", "data_merchant", None, "厦门", "xiamen"),
    Org("fj-power-data", "福建电力数据运营有限公司", "data_merchant", None, "福州", "fuzhou"),
    Org("fz-city-data", "福州市城市大数据有限公司", "data_merchant", None, "福州", "fuzhou"),
    Org("xm-bigdata", "厦门市大数据有限公司", "data_merchant", None, "厦门", "xiamen"),
    Org("fj-meteo-data", "福建气象数据服务有限公司", "data_merchant", None, "福州", "fuzhou"),
)
ORGS = {o.id: o for o in (*BANKS, *OPERATOR_LEADS, *TECH, *DATA_MERCHANTS)}

OFFICERS = tuple(Actor(id=f"officer-{n:02d}", role="case_officer") for n in range(1, 7))
ASSESSORS = tuple(Actor(id=f"assessor-{n:02d}", role="assessor") for n in range(1, 5))
APPROVERS = tuple(Actor(id=f"approver-{n:02d}", role="approver") for n in range(1, 5))
#: The data exchange's trade feed (a system actor: it records facts, never decides).
VENUE_FEED = Actor(id="feed.fj-data-exchange", role="system")


def staff(org: Org, n: int = 1) -> Actor:
    """An applicant's staff member acting for ``org``."""
    return Actor(id=f"{org.id}.staff{n}", role="applicant", organisation=org.id)


# -- what they write ---------------------------------------------------------------------------

FINTECH_TITLES = (
    ("基于供应链数据的小微企业信用贷款", "金融服务"),
    ("基于物联网的动产质押融资服务", "金融服务"),
    ("基于隐私计算的跨机构联合风控平台", "科技产品"),
    ("茶产业农户数字信用贷款", "金融服务"),
    ("跨境贸易区块链融资服务", "金融服务"),
    ("适老化智能语音银行服务", "金融服务"),
    ("基于知识图谱的电信诈骗预警系统", "科技产品"),
    ("海洋渔业养殖保险数字化理赔", "金融服务"),
    ("科创企业知识产权质押融资", "金融服务"),
)
ECNY_SCENARIOS = {
    "retail": "数字人民币商超零售支付",
    "catering": "数字人民币智慧食堂",
    "transport_tolls": "数字人民币高速公路通行费支付",
    "tax_government": "数字人民币缴税及非税收入缴纳",
    "payroll": "数字人民币代发工资",
    "sme_loans": "数字人民币普惠小微贷款发放",
    "supply_chain": "数字人民币供应链票据结算",
    "red_packets": "数字人民币消费红包",
    "cross_border": "数字人民币跨境贸易结算",
}
DATA_PRODUCTS = (
    ("集装箱物流时效数据集", "dataset", "数据集"),
    ("航班客座率指数接口", "api", "数据接口"),
    ("工业企业用电景气指数报告", "report", "数据报告"),
    ("城市公交客流时空数据集", "dataset", "数据集"),
    ("茶叶产地溯源数据服务接口", "api", "数据接口"),
    ("海洋渔业气象预警数据产品", "dataset", "数据集"),
    ("企业纳税信用核验工具", "tool", "数据工具"),
)
ASSESSMENT_TOPICS = {
    "fintech-sandbox": ("legal_compliance_review", "technical_security_review", "consumer_protection_review"),
    "ecny-pilot": ("wallet_limits_review", "aml_kyc_review", "merchant_acceptance_review"),
    "data-asset": ("compliance_review", "quality_review", "valuation_review"),
}
SURNAMES = "王李张刘陈杨黄吴林郑"
GIVEN = ("建国", "丽娟", "志强", "秀英", "海峰", "晓敏", "国平", "雅琴")
CHANNELS = ("福建省地方金融管理局官网公示栏", "中国人民银行福建省分行网站", "福建大数据交易所公告栏")

#: Paths a life can take after admission, and how often (weights).
FATES: dict[str, int] = {
    "abandon": 3,
    "withdraw": 4,
    "reject": 7,
    "graduate": 44,
    "final_exit": 8,
    "voluntary_exit": 8,
    "forced_exit": 6,
    "incident_exit": 4,
    "closure": 8,
    "terminate": 5,
    "revoke": 3,
}
#: Fates that end before admission.
EARLY_FATES = frozenset({"abandon", "withdraw", "reject"})


@dataclass(frozen=True, slots=True)
class Story:
    """What a scripted life pins down instead of drawing it at random (the demo's named projects).

    ``lead`` and ``partner`` are organisation ids of :data:`ORGS` (``partner=""``: no partner);
    ``scenario`` an e-CNY scenario of :data:`ECNY_SCENARIOS`; ``product_type`` a data product's
    kind; ``objection``: an objection is raised during the public notice and ``"upheld"`` or
    ``"dismissed"``; ``episode``: what happens once during the test (``"sev1"``, ``"suspend"``,
    ``"incident"``, ``"complaints"``, ``"late"``, ``"breach"``, ``"none"``...), in the test's
    ``episode_month`` if given; ``ending_month``: the month of the test its fate ends it in;
    ``hold``: a stage of :data:`HOLDS` the project stops in, work in flight (nobody acts for it
    any more once it is there; the timers still run).
    """

    lead: str | None = None
    partner: str | None = None
    title: str | None = None
    app_type: str | None = None
    scenario: str | None = None
    product_type: str | None = None
    public_data: bool | None = None
    pledged: bool | None = None
    objection: str | None = None
    episode: str | None = None
    episode_month: int | None = None
    ending_month: int | None = None
    hold: str | None = None


#: The stages a scripted project can be held in, each a test of its state: the demo's work in
#: flight, waiting for somebody to act.
HOLDS: dict[str, Callable[[ProjectState], bool]] = {
    "draft": lambda s: s.state == State.DRAFT and bool(s.sections),
    "submitted": lambda s: s.state == State.SUBMITTED,
    "under_assessment": lambda s: s.state == State.UNDER_REVIEW and bool(s.assessments),
    "public_notice": lambda s: s.state == State.PUBLIC_NOTICE and s.comments > 0 and bool(s.open_objections),
    "awaiting_approval": lambda s: (
        s.state == State.NOTICE_CLOSED and s.pending is not None and s.pending.decision == "admit"
    ),
    "admitted": lambda s: s.state == State.ADMITTED,
    "suspended": lambda s: s.state == State.SUSPENDED,
    "exit_in_progress": lambda s: s.state == State.EXIT_IN_PROGRESS,
}


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# -- the engine ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Life:
    """One project being simulated: who runs it, what will become of it, and its state."""

    pid: str
    program_key: str
    rng: random.Random
    lead: Org
    applicant: Actor
    fate: str
    partner: Org | None = None
    gap: str | None = None  # a value of :data:`GAPS` the regulator questions (corrected or waived later)
    long_events: int | None = None
    state: ProjectState = field(default_factory=ProjectState)
    program: ProgramDefinition | None = None
    steps: Iterator[dt.datetime] | None = None
    details: dict[str, object] = field(default_factory=dict)
    stalls: int = 0  # wake-ups in a row that did not move time forward
    story: Story = field(default_factory=Story)

    def status(self) -> State:
        """The project's lifecycle state now (a call, so a type checker never assumes it stayed put)."""
        return self.state.state

    @property
    def officer(self) -> Actor:
        return next((o for o in OFFICERS if o.id == self.state.case_officer), OFFICERS[0])


@dataclass(frozen=True, slots=True)
class Generated:
    """What :func:`generate` did: the projects it created (``long_project_ids`` among them), the
    commands it executed and how many were refused, the events in their streams, the log's head
    afterwards, how many projects ended in each state, and the seconds it took."""

    project_ids: list[str]
    commands: int
    events: int
    head: int
    refused: int
    states: dict[str, int]
    seconds: float
    long_project_ids: list[str]


class Simulation:
    """The calendar that drives many project lives through one registry.

    ``add_project`` schedules a life; ``run`` advances time until every life ended, ``until`` a
    date, or ``stop_when`` holds for the project that just acted (it can be resumed).
    """

    def __init__(
        self,
        registry: Registry,
        clock: Clock,
        *,
        seed: int = 0,
        strict: bool = True,
        global_tick_days: int | None = None,
    ) -> None:
        self.registry = registry
        self.clock = clock
        # Seeded by the seed and the starting moment: a later run with the same seed on the same
        # registry draws other project ids and command ids instead of colliding with the first.
        self.run_id = f"{seed}@{clock.now.isoformat()}"
        self.rng = random.Random(self.run_id)
        self.seed = seed
        self.strict = strict
        self.global_tick_days = global_tick_days
        self.lives: dict[str, Life] = {}
        self.commands = 0
        self.refused = 0
        self._queue: list[tuple[dt.datetime, int, str]] = []
        self._seq = 0
        self._next_global: dt.datetime | None = None
        #: Called with a project id when its life ends; ``ended`` counts them.
        self.on_end: Callable[[str], None] | None = None
        self.ended = 0
        registry.install_bundled()

    # -- scheduling -------------------------------------------------------------------------

    def add_project(
        self,
        program_key: str | None = None,
        *,
        on: dt.date | None = None,
        fate: str | None = None,
        long_events: int | None = None,
        waiver: bool | None = None,
        story: Story | None = None,
    ) -> str:
        """Schedule a new project's life, starting on ``on`` (the clock's day by default).

        ``fate``: one of :data:`FATES` (drawn by weight if not given). ``long_events``: a
        data-asset listing whose exchange records each trade, until its stream holds about that
        many events (a long history for as-of benchmarks). ``waiver=True``: the application
        leaves one admission condition unmet and an approver waives it (by default some
        applications leave a gap, which is then filled on request or waived). ``story``: choices
        pinned instead of drawn (see :class:`Story`).
        """
        r = random.Random(self.rng.getrandbits(64))
        if long_events is not None:
            program_key = "data-asset"
            fate = fate or "graduate"
        program_key = program_key or r.choices(PROGRAMS, weights=(4, 3, 3))[0]
        if program_key not in PROGRAMS:
            raise ValueError(f"unknown program {program_key!r}; choose one of {', '.join(PROGRAMS)}")
        fate = fate or r.choices(list(FATES), weights=list(FATES.values()))[0]
        if fate not in FATES:
            raise ValueError(f"unknown fate {fate!r}; choose one of {', '.join(FATES)}")
        if program_key == "fintech-sandbox":
            lead = r.choice(BANKS)
            partner: Org | None = r.choice(TECH) if r.random() < 0.7 else None
        elif program_key == "ecny-pilot":
            lead = r.choice(BANKS + OPERATOR_LEADS)
            partner = r.choice(TECH) if r.random() < 0.3 else None
        else:
            lead = r.choice(DATA_MERCHANTS)
            partner = r.choice(BANKS) if r.random() < 0.3 else None
        story = story or Story()
        if story.lead is not None:
            lead = ORGS[story.lead]
        if story.partner is not None:
            partner = ORGS[story.partner] if story.partner else None
        pid = f"{r.getrandbits(48):012x}"
        life = Life(
            pid=pid,
            program_key=program_key,
            rng=r,
            lead=lead,
            applicant=staff(lead, r.randint(1, 3)),
            fate=fate,
            partner=partner,
            long_events=long_events,
            story=story,
        )
        if waiver or (waiver is None and long_events is None and fate not in EARLY_FATES and r.random() < 0.08):
            life.gap = {"fintech-sandbox": "max_users", "ecny-pilot": "period"}.get(program_key, "product_type")
            life.details["waive"] = bool(waiver)
        if fate == "revoke" and r.random() < 0.3:
            life.details["revoke_after_graduation"] = True
        life.steps = _life(self, life)
        self.lives[pid] = life
        day = on or local_date(self.clock.now)
        self._push(self.at(life, day), pid)
        return pid

    def _push(self, when: dt.datetime, pid: str) -> None:
        self._seq += 1
        heapq.heappush(self._queue, (when, self._seq, pid))

    def at(self, life: Life, day: dt.date) -> dt.datetime:
        """A moment in office hours on ``day`` (China time)."""
        r = life.rng
        return dt.datetime.combine(day, dt.time(9 + r.randint(0, 8), r.randint(0, 59), r.randint(0, 59)), CHINA)

    def later(self, life: Life, low: int, high: int) -> dt.datetime:
        """A moment ``low``..``high`` days after today."""
        return self.at(life, self.today + dt.timedelta(days=life.rng.randint(low, high)))

    @property
    def today(self) -> dt.date:
        return local_date(self.clock.now)

    def run(
        self, *, until: dt.date | None = None, stop_when: Callable[[ProjectState], bool] | None = None
    ) -> str | None:
        """Advance time and let lives act. Returns the project for which ``stop_when`` held (its
        step done), or None when every life ended or the next wake-up is after ``until``."""
        limit = dt.datetime.combine(until, dt.time.max, CHINA) if until else None
        while self._queue:
            when, _, pid = self._queue[0]
            if limit is not None and when > limit:
                return None
            self._global_tick(when)
            heapq.heappop(self._queue)
            if when > self.clock.now:
                self.clock.now = when
            life = self.lives[pid]
            self.sync(life)
            self.tick(life)
            assert life.steps is not None
            try:
                nxt = next(life.steps)
                hold = life.story.hold
                if hold is not None and HOLDS[hold](life.state):
                    raise StopIteration  # held where it is: work in flight
            except StopIteration:
                nxt = None
                life.steps = None  # the life is over
                self.ended += 1
                if self.on_end is not None:
                    self.on_end(pid)
            if nxt is not None:
                life.stalls = life.stalls + 1 if nxt <= self.clock.now else 0
                if life.stalls > 200:
                    raise RuntimeError(f"synthetic project {pid} ({life.fate}) makes no progress in {life.status()}")
                self._push(max(nxt, self.clock.now), pid)
            if stop_when is not None and stop_when(life.state):
                return pid
        return None

    def _global_tick(self, upto: dt.datetime) -> None:
        if not self.global_tick_days:
            return
        step = dt.timedelta(days=self.global_tick_days)
        if self._next_global is None:
            self._next_global = self.clock.now + step
        while self._next_global <= upto:
            self.clock.now = max(self.clock.now, self._next_global)
            self.registry.tick()
            self._next_global += step

    # -- acting -----------------------------------------------------------------------------

    def sync(self, life: Life) -> ProjectState:
        """Fold the project's events appended since we last looked."""
        if isinstance(self.registry, IncrementalRegistry):
            life.state = self.registry.load(life.pid)
        else:
            new = self.registry.store.read_stream(project_stream(life.pid), from_version=life.state.version + 1)
            if new:
                life.state = fold(new, life.state)
        if life.program is None and life.state.program_version:
            life.program = self.registry.program(life.state.program_key, life.state.program_version)
        return life.state

    def do(self, life: Life, actor: Actor, command: c.Command) -> bool:
        """Execute one command for the project; a refusal raises (or, not strict, is counted)."""
        self._seq += 1
        self.commands += 1
        try:
            if isinstance(command, c.CreateDraft):
                self.registry.create_project(
                    command, actor, command_id=f"syn:{self.run_id}:{self._seq}", project_id=life.pid
                )
            else:
                self.registry.execute(life.pid, command, actor, command_id=f"syn:{self.run_id}:{self._seq}")
        except DomainError as e:
            if self.strict:
                raise RuntimeError(
                    f"synthetic project {life.pid} ({life.program_key}, {life.fate}) in {life.status()}:"
                    f" {type(command).__name__} by {actor.id} refused: {e}"
                ) from e
            self.refused += 1
            return False
        finally:
            self.sync(life)
        return True

    def tick(self, life: Life) -> int:
        """Record the timers due now for this one project (``Registry.tick`` for it alone)."""
        if life.state.state not in TIMED or life.program is None:
            return 0  # nothing can come due before submission or after the end
        written = self.registry.tick(self.clock.now, project_ids=[life.pid])
        if written:
            self.sync(life)
        return written


# -- lives --------------------------------------------------------------------------------------


def _token(r: random.Random) -> str:
    return f"{r.getrandbits(40):010x}"


def _person(r: random.Random) -> str:
    return f"{r.choice(SURNAMES)}{r.choice(GIVEN)}"


def _life(sim: Simulation, life: Life) -> Iterator[dt.datetime]:
    """A whole life: drafting, review, test, end. Yields each next wake-up."""
    yield from _drafting(sim, life)
    if life.status() != S.SUBMITTED:
        return
    yield from _review(sim, life)
    if life.status() != S.ADMITTED:
        return
    yield from _testing(sim, life)


def _create(sim: Simulation, life: Life) -> None:
    r, lead, story = life.rng, life.lead, life.story
    if life.program_key == "fintech-sandbox":
        title, app_type = r.choice(FINTECH_TITLES)
        title = f"{title}（{lead.city}）"
    elif life.program_key == "ecny-pilot":
        scenario = story.scenario or r.choice(list(ECNY_SCENARIOS))
        life.details["scenario"] = scenario
        title, app_type = f"{lead.city}{ECNY_SCENARIOS[scenario]}试点", "数字人民币应用场景"
    else:
        product, kind, app_type = r.choice(DATA_PRODUCTS)
        life.details["product_type"] = story.product_type or kind
        title = f"{lead.name.split('有限公司')[0].removesuffix('服务').removesuffix('科技')}{product}"
    title, app_type = story.title or title, story.app_type or app_type
    sim.do(
        life,
        life.applicant,
        c.CreateDraft(
            program_key=life.program_key,
            title=title,
            app_type=app_type,
            lead_name=lead.name,
            lead_kind=lead.kind,  # type: ignore[arg-type]
            region=lead.city,
            lead_licence_no=lead.licence_no,
        ),
    )


def _drafting(sim: Simulation, life: Life) -> Iterator[dt.datetime]:
    """Create the draft and fill a complete application over a few sittings, then submit."""
    _create(sim, life)
    sittings = _application(sim, life)
    for sitting in sittings:
        yield sim.later(life, 1, 6)
        for actor, command in sitting:
            sim.do(life, actor, command)
    yield sim.later(life, 1, 10)
    if life.fate == "abandon":
        sim.do(life, life.applicant, c.Withdraw(reason="内部评估后决定暂不申请"))
        return
    sim.do(life, life.applicant, c.Submit())


Sitting = list[tuple[Actor, c.Command]]


def _papers(life: Life) -> applications.Papers:
    """The lead's documents, hashed and titled as this project's own."""
    return applications.Papers(tag=f"{life.pid}:{life.lead.id}:", prefix=f"{life.lead.name}：")


def _sittings(life: Life, sittings: list[applications.Sitting]) -> list[Sitting]:
    """A sample application's sittings, each step sent by the lead's staff or the partner's."""
    partner = staff(life.partner) if life.partner is not None else life.applicant
    return [[(life.applicant if st.by == "lead" else partner, st.command) for st in sitting] for sitting in sittings]


def _partner(life: Life) -> applications.Partner | None:
    org = life.partner
    if org is None:
        return None
    role: PartnerRole = "technology_partner" if org.kind == "technology_company" else "licensed_institution"
    return applications.Partner(organisation=org.id, name=org.name, role=role, licence_no=org.licence_no)


#: The gaps an application may leave: a value the regulator judges at admission (a user cap, a
#: test period, a product type), which the applicant corrects on request or an approver waives.
#: gap -> (the condition, the information request, the corrected fields by section).
GAPS: dict[str, tuple[str, str]] = {
    "max_users": ("fs.adm.user_cap", "测试用户上限超过 10,000 户，请调整或说明理由"),
    "period": ("ec.adm.period", "试点期限超过 12 个月，请调整或说明理由"),
    "product_type": ("da.adm.product_type", "产品类型不在可挂牌范围内，请调整或说明理由"),
}


def _application(sim: Simulation, life: Life) -> list[Sitting]:
    r, lead = life.rng, life.lead
    start = sim.today + dt.timedelta(days=r.randint(75, 120))
    contact = f"{_person(r)} 1{r.randint(3, 9)}{r.randint(0, 999_999_999):09d}"
    life.details["complaint_contact"] = contact
    partner = _partner(life)
    if life.program_key == "fintech-sandbox":
        end = start + dt.timedelta(days=r.randint(240, 360))
        max_users = r.choice((2_000, 3_000, 5_000, 8_000, 10_000))
        per_user = r.choice((200_000, 300_000, 500_000))
        declared_users = 12_000 if life.gap == "max_users" else max_users
        life.details |= {"max_users": declared_users, "fixed_users": max_users, "per_user_cap": per_user}
        return _sittings(
            life,
            applications.fintech(
                start,
                end,
                partner=partner,
                statement={
                    "service_description": f"{lead.name}面向{lead.city}小微企业及农户提供的数字化金融服务",
                    "innovation_claim": "首发：以多源替代数据替代传统抵押担保",
                    "comparables": ["传统抵押贷款", "线下信用评级"],
                    "expected_benefit": "降低小微企业融资成本，扩大普惠金融覆盖面",
                    "channels": ["手机银行", "微信小程序"],
                    "user_scope": f"{lead.city}市注册小微企业",
                    "risk_controls": "单户限额、风险补偿金、实时监测",
                    "complaint_channel": "客服热线及网点",
                    "complaint_contact": contact,
                    "exit_plan": "存量业务到期结清，新增业务停止受理",
                },
                boundaries={
                    "max_users": declared_users,
                    "per_user_exposure_cap_yuan": per_user,
                    "total_exposure_cap_yuan": declared_users * per_user // 2,
                    "service_channels": ["mobile_banking", "mini_program"],
                    "service_region": f"{lead.city}市",
                },
                test_plan={
                    "objectives": "验证替代数据增信模型的有效性与风险可控性",
                    "kpis": ["approval_time", "default_rate", "inclusive_reach"],
                    "approval_time_target": 72,
                    "default_rate_target": 30,
                    "inclusive_reach_target": _reach(life, 100, 5_000_000),
                },
                papers=_papers(life),
            ),
        )
    if life.program_key == "ecny-pilot":
        end = start + dt.timedelta(days=r.randint(240, 360))
        life.details["fixed_end"] = end
        if life.gap == "period":
            end = months_later(start, 14)
        tier = r.choice((2, 3, 4))
        caps = {2: (50_000, 100_000, 500_000), 3: (5_000, 10_000, 20_000), 4: (2_000, 5_000, 10_000)}[tier]
        campaign = life.details["scenario"] == "red_packets" or r.random() < 0.15
        life.details["campaign"] = campaign
        smart = life.details["scenario"] in ("supply_chain", "sme_loans") and r.random() < 0.5
        statement: dict[str, Value] = {
            "scenario": str(life.details["scenario"]),
            "kyc_responsible": lead.id,
            "aml_responsible": lead.id,
            "uses_smart_contracts": smart,
            # (an operator connects itself)
            "operator": None if lead.kind == "operator" else r.choice(("cib", "ccb", "boc", "icbc")),
        }
        boundaries: dict[str, Value] = {
            "pilot_area": lead.pilot_area,
            "wallet_tier": tier,
            "per_payment_cap_yuan": caps[0],
            "daily_cap_yuan": caps[1],
            "balance_cap_yuan": caps[2],
            "acceptance_points": r.randint(5, 300),
            "runs_campaign": campaign,
        }
        if campaign:
            boundaries["campaign_budget_yuan"] = r.randint(50, 500) * 10_000
        plan: dict[str, Value] = {
            "transactions_target": _reach(life, 5_000, 1_000_000 * r.randint(10, 200)),
            "wallets_opened_target": _reach(life, 1_000, 100_000 * r.randint(2, 50)),
            "merchants_live_target": r.randint(5, 200),
        }
        return _sittings(
            life,
            applications.ecny(
                start,
                end,
                partner=partner,
                statement=statement,
                boundaries=boundaries,
                test_plan=plan,
                campaign_days=60,
                papers=_papers(life),
            ),
        )
    # data-asset
    personal = r.random() < 0.25
    recognition = r.random() < 0.3
    pledged = life.long_events is None and r.random() < 0.2
    if life.story.pledged is not None:
        pledged = life.story.pledged
    public_data = r.random() < 0.4 if life.story.public_data is None else life.story.public_data
    life.details |= {"pledged": pledged}
    product: dict[str, Value] = {
        "product_type": "model" if life.gap == "product_type" else str(life.details["product_type"]),
        "public_data": public_data,
        "description": f"{lead.name}加工形成的脱敏数据产品",
        "update_frequency": r.choice(("daily", "weekly", "monthly")),
        "delivery_method": r.choice(("api", "file", "sandbox_environment")),
        "use_scenarios": r.sample(["supply_chain_finance", "credit_assessment", "logistics_planning", "insurance"], 2),
        "classification": r.choice(("transport", "energy", "meteorology", "commerce")),
        "grade": r.choice(("general", "important")) if r.random() < 0.3 else "general",
        "personal_information": "present" if personal else "absent",
        "balance_sheet_recognition": recognition,
        "pledged": pledged,
    }
    if recognition:
        product["accounting_class"] = r.choice(("intangible_asset", "inventory"))
    valued: dt.date | None = None
    registration = ""
    if pledged:
        valued = sim.today - dt.timedelta(days=r.randint(30, 200))
        life.details["valued_on"] = valued
        registration = f"ZY{valued.year}{r.randint(0, 99999):05d}"
    return _sittings(
        life,
        applications.data_asset(
            partner=partner,
            product=product,
            test_plan={"trades_target": _reach(life, 3, 1_000_000), "buyers_target": _reach(life, 1, 1_000)},
            valued_on=valued,
            pledge_registration_no=registration,
            papers=_papers(life),
        ),
    )


def _approvals(sim: Simulation, life: Life, decision: str) -> Iterator[dt.datetime]:
    """The approvers approve the pending recommendation, one per sitting, never twice."""
    while True:
        pending = life.state.pending
        if pending is None or pending.decision != decision or life.status() in TERMINAL:
            return
        yield sim.later(life, 1, 5)
        pending = life.state.pending
        if pending is None or pending.decision != decision or life.status() in TERMINAL:
            return
        who = life.rng.choice([a for a in APPROVERS if a.id not in pending.approvers])
        sim.do(life, who, c.Approve(decision=pending.decision))


def _decide(
    sim: Simulation, life: Life, decision: str, reason: str | None = None, category: str | None = None
) -> Iterator[dt.datetime]:
    recommendation = c.Recommend(decision=decision, reason=reason, category=category)  # type: ignore[arg-type]
    sim.do(life, life.officer, recommendation)
    yield from _approvals(sim, life, decision)


def _review(sim: Simulation, life: Life) -> Iterator[dt.datetime]:
    """Intake, information requests, assessments, the public notice and the admission decision."""
    r = life.rng
    officer = r.choice(OFFICERS)
    yield sim.later(life, 2, 12)
    if life.status() != S.SUBMITTED:
        return
    if life.gap is not None or r.random() < 0.2:
        items = [GAPS[life.gap][1]] if life.gap is not None else ["请补充测试方案细节", "请说明风险补偿金来源"]
        sim.do(life, officer, c.RequestInformation(items=items, due_on=sim.today + dt.timedelta(days=15)))
        yield sim.later(life, 4, 14)
        if life.gap is not None and not life.details.get("waive") and r.random() < 0.6:
            _fill_gap(sim, life)
        sim.do(life, life.applicant, c.SupplyInformation(summary=f"补充说明［{_token(r)}］：已按要求补充材料"))
        yield sim.later(life, 1, 5)
    sim.do(life, officer, c.AcceptIntake())
    if r.random() < 0.1:
        yield sim.later(life, 1, 4)
        other = r.choice([o for o in OFFICERS if o != officer])
        sim.do(life, r.choice(APPROVERS), c.AssignCaseOfficer(officer=other.id, reason="工作调整"))
    if life.fate == "withdraw" and r.random() < 0.4:
        yield sim.later(life, 3, 20)
        sim.do(life, life.applicant, c.Withdraw(reason="业务调整，撤回申请"))
        return
    topics = ASSESSMENT_TOPICS[life.program_key]
    for topic in r.sample(topics, r.randint(1, len(topics))):
        yield sim.later(life, 2, 10)
        outcome = (
            "unfavourable"
            if life.fate == "reject" and r.random() < 0.6
            else r.choice(["favourable"] * 4 + ["needs_work"])
        )
        sim.do(
            life,
            r.choice(ASSESSORS),
            c.FileAssessment(
                topic=topic,
                outcome=outcome,  # type: ignore[arg-type]
                summary=f"内部评估意见［{_token(r)}］：{topic} 结论 {outcome}，详见评估底稿",
                sha256=sha(f"{life.pid}:{topic}:assessment"),
            ),
        )
    yield sim.later(life, 1, 7)
    if life.fate == "reject" and r.random() < 0.3:
        yield from _decide(sim, life, "reject", "评估结论不支持进入公示")
        return
    assert life.program is not None
    for required in missing_topics(life.state, life.program):  # reassessed once what it asked for is done
        yield sim.later(life, 2, 10)
        sim.do(
            life,
            r.choice(ASSESSORS),
            c.FileAssessment(
                topic=required.id,
                outcome="favourable",
                summary=f"复核意见［{_token(r)}］：{required.id} 已按要求整改，结论 favourable",
                sha256=sha(f"{life.pid}:{required.id}:reassessment"),
            ),
        )
    sim.do(life, life.officer, c.OpenPublicNotice(channel=r.choice(CHANNELS)))
    ends = life.state.notice_ends
    assert ends is not None
    upheld = False
    comments = r.choice((0, 0, 1, 1, 2, 3))
    for _ in range(max(comments, life.story.hold == "public_notice")):  # (held in notice: one at least)
        yield sim.at(life, sim.today + dt.timedelta(days=r.randint(0, max(0, (ends - sim.today).days))))
        if life.status() != S.PUBLIC_NOTICE:
            break
        sim.do(
            life, Actor(id=f"public-{_token(r)}", role="public"), c.Comment(text=f"公众意见［{_token(r)}］：支持该项目")
        )
    scripted = life.story.objection
    # A story held at a later stage is told without chance objections: one upheld would end it early.
    chance = life.story.hold in (None, "public_notice") and r.random() < 0.15
    if (scripted is not None or chance) and life.status() == S.PUBLIC_NOTICE:
        yield sim.at(life, min(ends, sim.today + dt.timedelta(days=r.randint(0, 5))))
        if life.status() == S.PUBLIC_NOTICE:
            objector = Actor(id=f"public-{_token(r)}", role="public")
            grounds = f"异议理由［{_token(r)}］：担心用户信息保护不足"
            contact = f"1{r.randint(3, 9)}{r.randint(0, 999_999_999):09d}"
            sim.do(life, objector, c.Object(grounds=grounds, name=_person(r), contact=contact))
            objection = life.state.open_objections[-1].objection_id
            yield sim.later(life, 1, 6)
            upheld = life.long_events is None and r.random() < 0.25 if scripted is None else scripted == "upheld"
            sim.do(
                life,
                life.officer,
                c.DisposeObjection(objection_id=objection, outcome="upheld" if upheld else "dismissed"),
            )
    if life.status() == S.PUBLIC_NOTICE:
        yield sim.at(life, max(sim.today, ends) + dt.timedelta(days=r.randint(1, 3)))
    if life.status() != S.NOTICE_CLOSED:
        return
    if upheld or life.fate == "reject":
        yield sim.later(life, 1, 7)
        yield from _decide(sim, life, "reject", "异议成立或评估不通过" if upheld else "评估结论不支持准入")
        return
    if life.fate == "withdraw":
        yield sim.later(life, 1, 7)
        sim.do(life, life.applicant, c.Withdraw(reason="测试条件变化，撤回申请"))
        return
    if life.gap is not None:
        yield sim.later(life, 1, 5)
        _waive_gap(sim, life)
    yield sim.later(life, 1, 7)
    yield from _decide(sim, life, "admit")


def _fill_gap(sim: Simulation, life: Life) -> None:
    """The applicant corrects the value the regulator questioned."""
    d = life.details
    section: Section
    fields: dict[str, Value]
    if life.gap == "max_users":
        users, per_user = cast(int, d["fixed_users"]), cast(int, d["per_user_cap"])
        section, fields = "boundaries", {"max_users": users, "total_exposure_cap_yuan": users * per_user // 2}
        d["max_users"] = users
    elif life.gap == "period":
        section, fields = "boundaries", {"end_date": cast(dt.date, d["fixed_end"]).isoformat()}
    else:
        section, fields = "product", {"product_type": str(d["product_type"])}
    sim.do(life, life.applicant, c.EditDraft(section=section, fields=fields))
    life.gap = None


def _waive_gap(sim: Simulation, life: Life) -> None:
    approver = life.rng.choice(APPROVERS)
    condition = GAPS[life.gap or ""][0]
    sim.do(life, approver, c.WaiveCondition(condition_id=condition, reason="以替代材料或后续报告补足，经审批豁免"))


# -- the test ------------------------------------------------------------------------------------


def _metrics(life: Life, month: int, *, breach: str | None = None) -> dict[str, int]:
    r, d = life.rng, life.details
    if life.program_key == "fintech-sandbox":
        cap = int(d["max_users"])  # type: ignore[call-overload]
        users = min(cap, cap * (month + 2) // 14 + r.randint(0, 50))
        active = users * r.randint(60, 95) // 100
        if breach == "cap":
            users = active = cap + r.randint(50, 500)
        per_user = int(d["per_user_cap"])  # type: ignore[call-overload]
        return {
            "users": users,
            "active_users": max(active, 1),
            "approval_time": 24 + month % 24,
            "default_rate": 5 + month % 20,
            "inclusive_reach": max(active, 1),
            "exposure_yuan": max(active, 1) * r.randint(per_user // 20, per_user // 4) + r.randint(1, 9999),
            "max_user_exposure_yuan": per_user - r.randint(1_000, per_user // 3),
            "complaints": r.randint(0, min(4, max(active, 1) * 4 // 1000)),
        }
    if life.program_key == "ecny-pilot":
        active = r.randint(1_000, 60_000)
        transactions = 0 if breach == "dormant" else r.randint(5_000, 400_000)
        return {
            "transactions": transactions,
            "payment_failures": transactions * r.randint(0, 20) // 10_000,
            "fraud_cases": 4 if breach == "fraud" else r.choice((0, 0, 0, 1)),
            "cap_breaches": 0,
            "complaints": r.randint(0, 4),
            "active_users": active,
            "wallets_opened": active + r.randint(0, 5_000),
            "merchants_live": r.randint(5, 300),
        }
    return {
        "trades": r.randint(3, 80),
        "buyers": r.randint(1, 25),
        "revenue_yuan": r.randint(50_000, 5_000_000),
    }


def _reach(life: Life, attainable: int, beyond: int) -> int:
    """A KPI's target: one the reports attain, or, for a pilot fated to end in a final exit,
    one beyond what they can (its graduation is computed from the reports, not claimed)."""
    return beyond if life.fate == "final_exit" else attainable


def _kpis(life: Life, month: int, months: int, *, all_met: bool) -> list[str]:
    kpis = life.state.section("test_plan").get("kpis")
    names = [str(k) for k in kpis] if isinstance(kpis, list) else []
    if not all_met:
        return names[:1] if month >= months - 1 else []
    return names if month >= months - 2 else names[: month * len(names) // max(months, 1)]


def _testing(sim: Simulation, life: Life) -> Iterator[dt.datetime]:
    """From admission to the end: start, periodic reports, episodes, and the fate's ending."""
    r = life.rng
    program = life.program
    assert program is not None
    # a few days after admission, and never before the declared period begins
    day = sim.today + dt.timedelta(days=r.randint(3, 20))
    declared_start, _ = declared_period(life.state, program)
    yield sim.at(life, max(day, declared_start or day))
    sim.do(life, life.applicant, c.StartTest())
    assert life.state.planned_end is not None and life.state.test_started_on is not None
    cadence = report_cadence(life.state, program)
    months = max(2, (life.state.planned_end - life.state.test_started_on).days // cadence)
    ending = life.fate not in ("graduate", "final_exit") and not life.details.get("revoke_after_graduation")
    end_at = r.randint(1, max(1, months - 1)) if ending else None
    if ending and life.story.ending_month is not None:
        end_at = life.story.ending_month
    episode = r.choices(
        ("none", "suspend", "sev1", "late", "very_late", "breach", "incident", "complaints", "backdated"),
        weights=(40, 7, 6, 10, 3, 5, 12, 12, 5),
    )[0]
    episode = life.story.episode or episode
    episode_at = r.randint(0, max(0, months - 2))
    if life.story.episode_month is not None:
        episode_at = life.story.episode_month
    extension = not ending and r.random() < 0.25
    month = 0
    while True:
        s = life.state
        if s.state in TERMINAL:
            return
        if s.state == S.FINAL_EVALUATION:
            yield from _final(sim, life, months)
            return
        if s.state == S.EXIT_IN_PROGRESS:
            yield from _confirm_exit(sim, life)
            return
        if _reviews(life):
            yield from _dispose_reviews(sim, life)
            continue
        assert s.planned_end is not None
        due = next_report_due(s, cadence)
        assert due is not None
        period_start = due - dt.timedelta(days=cadence - 1)
        if life.long_events is not None:
            yield from _trades(sim, life, min(due, s.planned_end))
            if life.status() not in IN_TEST:
                continue
        elif month == episode_at and episode in ("suspend", "sev1", "incident", "complaints"):
            yield sim.at(life, max(sim.today, period_start + dt.timedelta(days=r.randint(1, 4))))
            yield from _episode(sim, life, episode)
            episode = "done"
            continue
        elif month == end_at and s.state == S.TESTING and life.fate != "incident_exit":
            yield sim.at(life, max(sim.today, period_start + dt.timedelta(days=r.randint(1, 8))))
            yield from _ending(sim, life)
            end_at = None
            continue
        elif month == end_at and life.fate == "incident_exit":
            yield sim.at(life, max(sim.today, period_start + dt.timedelta(days=r.randint(1, 4))))
            yield from _episode(sim, life, "sev1", then_exit=True)
            end_at = None
            continue
        if extension and s.extensions_granted == 0 and s.extension_requested_months is None:
            ask = s.planned_end - dt.timedelta(days=r.randint(35, 50))
            if sim.today <= ask <= due:
                yield sim.at(life, ask)
                if life.status() in IN_TEST and life.state.extension_requested_months is None:
                    sim.do(
                        life, life.applicant, c.RequestExtension(months=r.choice((3, 6)), reason="样本量不足，申请延期")
                    )
                    yield sim.later(life, 2, 10)
                    if life.status() in IN_TEST and life.state.extension_requested_months is not None:
                        decision: c.Command = c.GrantExtension() if r.random() < 0.8 else c.RefuseExtension()
                        sim.do(life, r.choice(APPROVERS), decision)
                extension = False
                continue
        if due >= s.planned_end:
            # the timer ends the test period (from the day after today: time must move on)
            yield sim.at(
                life, max(sim.today + dt.timedelta(days=1), s.planned_end + dt.timedelta(days=r.randint(0, 2)))
            )
            continue
        late = r.randint(0, 3)
        if month == episode_at and episode in ("late", "very_late", "backdated"):
            late = {"late": r.randint(11, 25), "very_late": r.randint(31, 38)}.get(episode, r.randint(2, 8))
        yield sim.at(life, max(sim.today, due + dt.timedelta(days=late)))
        if life.status() not in IN_TEST:
            continue
        valued_on = life.details.get("valued_on")
        if isinstance(valued_on, dt.date) and (sim.today - valued_on).days > 300:
            _revalue(sim, life)  # a pledged asset is revalued before its valuation is 12 months old
        breach = None
        if month == episode_at and episode == "breach":
            breach = {"fintech-sandbox": "cap", "ecny-pilot": "fraud"}.get(life.program_key)
        if life.fate == "closure" and life.program_key == "ecny-pilot" and month >= (end_at or months) - 1:
            breach = "dormant"
        # a late report is sometimes dated the day its period ended (business time before recorded time)
        backdated = sim.today > due and (
            (month == episode_at and episode == "backdated") or (late > 10 and r.random() < 0.3)
        )
        sim.do(
            life,
            life.applicant,
            c.ReportMetrics(
                period_start=period_start,
                period_end=due,
                metrics=_metrics(life, month, breach=breach),
                kpis_met=_kpis(life, month, months, all_met=life.fate != "final_exit"),
                occurred_at=dt.datetime.combine(due, dt.time(18, 0), CHINA) if backdated else None,
            ),
        )
        month += 1
        if (life.status() == S.SUSPENDED and breach in ("cap", "fraud")) or (
            episode in ("very_late",) and (life.status() == S.SUSPENDED)
        ):
            yield sim.later(life, 5, 12)
            if life.status() == S.SUSPENDED:
                sim.do(life, r.choice(APPROVERS), c.Reinstate(reason="已整改，恢复测试"))
            episode = "done"


def _reviews(life: Life) -> list[Breach]:
    """The breaches awaiting a regulator's disposition that have not been taken up yet."""
    tried = cast(set[int], life.details.get("reviewed", set()))
    return [b for b in life.state.breaches if b.awaits_disposition and b.position not in tried]


def _dispose_reviews(sim: Simulation, life: Life) -> Iterator[dt.datetime]:
    """The case officer disposes of each review or flag within days (no further action, the
    figures having been explained); an approver confirms a suspension review (four eyes)."""
    r = life.rng
    for breach in _reviews(life):
        cast(set[int], life.details.setdefault("reviewed", set())).add(breach.position)  # (tried once)
        yield sim.later(life, 1, 6)
        if life.status() not in (*IN_TEST, S.FINAL_EVALUATION, S.EXIT_IN_PROGRESS):
            return
        reason = f"处置意见［{_token(r)}］：已核查 {breach.criterion_id}，申请机构已说明并整改，暂不采取进一步措施"
        disposition = c.DisposeBreach(breach_position=breach.position, outcome="no_action", reason=reason)
        sim.do(life, life.officer, disposition)
        if breach.action == "suspension_review":
            yield sim.later(life, 1, 4)
            if life.status() in (*IN_TEST, S.FINAL_EVALUATION, S.EXIT_IN_PROGRESS):
                sim.do(life, r.choice(APPROVERS), disposition)


def _revalue(sim: Simulation, life: Life) -> None:
    """A pledged asset is revalued. The first time, its loan is repaid and a new one taken
    against it: the pledge is released, the asset revalued and pledged again (at most one
    pledge outstanding, the asset listed throughout)."""
    today = sim.today
    renew = outstanding_pledge(life.state) is not None and not life.details.get("pledge_renewed")
    if renew:
        sim.do(life, life.applicant, c.ReleasePledge(on=today, reason="贷款到期结清，解除质押"))
    life.details["valued_on"] = today
    sim.do(
        life,
        life.applicant,
        c.AttachDocument(
            kind="valuation_report",
            sha256=sha(f"{life.pid}:valuation:{today}"),
            title="数据资产价值重估报告",
            issued_on=today,
        ),
    )
    if renew:
        life.details["pledge_renewed"] = True
        number = f"ZY{today.year}{int(sha(life.pid)[:8], 16) % 100000:05d}"
        sim.do(life, life.applicant, c.RegisterPledge(pledgee="福州农村商业银行", registration_no=number, on=today))


def _trades(sim: Simulation, life: Life, until: dt.date) -> Iterator[dt.datetime]:
    """The exchange records each trade of a busy listing, day by day, up to ``until``."""
    r = life.rng
    target = life.long_events or 0
    assert life.state.planned_end is not None
    while sim.today < until and life.state.version < target - 12:
        days_left = max(1, (life.state.planned_end - sim.today).days)
        per_day = max(1, -(-(target - 12 - life.state.version) // days_left))
        yield sim.later(life, 1, 1)
        for _ in range(min(per_day, target - 12 - life.state.version)):
            sim.do(
                life,
                VENUE_FEED,
                c.RecordExternalFact(trigger="trade_made", on=sim.today, detail=f"成交编号 T{_token(r)}"),
            )
    if sim.today < until:
        yield sim.at(life, until)


def _episode(sim: Simulation, life: Life, kind: str, *, then_exit: bool = False) -> Iterator[dt.datetime]:
    """An incident, a complaint wave or a regulator's suspension, and its resolution."""
    r, me = life.rng, life.applicant
    if kind == "complaints":
        for _ in range(r.randint(1, 3)):
            sim.do(
                life,
                me,
                c.LogComplaint(
                    complaint_id=f"cpl-{_token(r)}",
                    category=r.choice(("service_quality", "fees", "data_privacy", "access")),
                    received_on=sim.today - dt.timedelta(days=r.randint(0, 3)),
                ),
            )
            yield sim.later(life, 1, 4)
        return
    if kind == "incident":
        # a minor incident: its facts make it severity 2 or 3, whatever the reporter thought
        incident = f"inc-{_token(r)}"
        reported: Severity = r.choice((2, 3))
        what = r.choice(("outage", "data_quality", "service_degradation"))
        sim.do(
            life,
            me,
            c.ReportIncident(
                incident_id=incident,
                severity=reported,
                kind=what,
                outage_minutes=45 if what == "outage" else None,
                occurred_on=sim.today - dt.timedelta(days=r.randint(0, 2)),
                description=f"事件详情［{_token(r)}］：核心系统短时中断，已切换备用链路",
            ),
        )
        yield sim.later(life, 2, 8)
        if life.status() in IN_TEST:
            sim.do(life, me, c.RemediateIncident(incident_id=incident))
        return
    if kind == "suspend":
        sim.do(life, life.officer, c.Suspend(category="risk_review", reason="风险排查，暂停新增用户"))
        yield sim.later(life, 5, 15)
        if life.status() == S.SUSPENDED:
            sim.do(life, r.choice(APPROVERS), c.Reinstate(reason="风险排查完毕，恢复测试"))
        return
    if life.program_key == "data-asset":
        # a data-security incident suspends trading; the regulator may then force an exit
        sim.do(life, life.officer, c.RecordExternalFact(trigger="data_security_incident", on=sim.today))
        yield sim.later(life, 5, 15)
        if life.status() != S.SUSPENDED:
            return
        if then_exit:
            sim.do(life, life.officer, c.InitiateExit(mode="forced", reason="数据安全事件未能整改，强制退出"))
            yield from _approvals(sim, life, "exit")
        else:
            sim.do(life, r.choice(APPROVERS), c.Reinstate(reason="数据安全事件已整改"))
        return
    # a severity-1 incident (a fund loss, a data breach, an outage over 4 hours): automatic
    # suspension, remediation and compensation, reinstatement
    incident = f"inc-{_token(r)}"
    loss = r.choice((0, r.randint(1_000, 90_000)))
    what = r.choice(("fund_loss", "data_breach", "outage"))
    sim.do(
        life,
        me,
        c.ReportIncident(
            incident_id=incident,
            kind=what,
            outage_minutes=300 if what == "outage" else None,
            occurred_on=sim.today,
            consumer_loss_yuan=loss,
            description=f"事件详情［{_token(r)}］：一级事件，涉及 {r.randint(2, 90)} 名用户",
        ),
    )
    if then_exit:
        yield sim.later(life, 2, 6)
        if life.status() in IN_TEST:
            sim.do(
                life,
                me,
                c.ReportIncident(
                    incident_id=f"inc-{_token(r)}",
                    kind="outage",
                    outage_minutes=360,
                    occurred_on=sim.today,
                    description=f"事件详情［{_token(r)}］：再次发生一级事件",
                ),
            )
        return
    yield sim.later(life, 3, 10)
    if life.status() in IN_TEST:
        sim.do(life, me, c.RemediateIncident(incident_id=incident, compensated=True))
    yield sim.later(life, 2, 8)
    if life.status() == S.SUSPENDED:
        sim.do(life, r.choice(APPROVERS), c.Reinstate(reason="事件已整改并完成赔付"))


def _ending(sim: Simulation, life: Life) -> Iterator[dt.datetime]:
    """The fate's ending during the test: voluntary or forced exit, closure, termination, revocation."""
    r, me, fate, key = life.rng, life.applicant, life.fate, life.program_key
    if fate == "voluntary_exit":
        told = sim.today
        sim.do(
            life,
            me,
            c.InitiateExit(
                mode="voluntary",
                users_notified_on=told,
                planned_exit_on=told + dt.timedelta(days=r.randint(30, 60)),
                reason="战略调整，主动退出",
            ),
        )
    elif fate == "forced_exit":
        sim.do(life, life.officer, c.Suspend(category="material_risk", reason="发现重大风险隐患"))
        yield sim.later(life, 3, 10)
        if life.status() in IN_TEST:
            sim.do(life, life.officer, c.InitiateExit(mode="forced", reason="风险隐患未能消除，强制退出"))
            yield from _approvals(sim, life, "exit")
    elif fate == "closure":
        if key == "fintech-sandbox":
            # a fund loss: severity 1 by its facts (the reporter's 2 is recorded, not used), so the
            # test is suspended at once; the loss not compensated within 15 days forces the exit
            sim.do(
                life,
                me,
                c.ReportIncident(
                    incident_id=f"inc-{_token(r)}",
                    severity=2,
                    kind="fund_loss",
                    occurred_on=sim.today,
                    consumer_loss_yuan=r.randint(5_000, 200_000),
                    description=f"事件详情［{_token(r)}］：用户资金损失，赔付方案未定",
                ),
            )
            yield sim.later(life, 17, 25)  # (the timer records the forced exit)
        elif key == "ecny-pilot":
            trigger = "campaign_budget_exhausted" if life.details.get("campaign") else None
            if trigger:
                sim.do(life, life.officer, c.RecordExternalFact(trigger=trigger, on=sim.today, detail="营销预算已用尽"))
            else:
                yield sim.later(life, 100, 110)  # zero-transaction reports make it dormant
        elif life.details.get("pledged"):  # the pledgee realises the pledge: the program closes the project
            sim.do(life, life.officer, c.RealisePledge(on=sim.today, reason="借款逾期，质权人实现质权"))
        else:
            sim.do(life, life.officer, c.RecordExternalFact(trigger="cancellation_requested", on=sim.today))
    elif fate == "terminate":
        if key == "fintech-sandbox" and life.partner is not None and r.random() < 0.5:
            sim.do(life, me, c.WithdrawPartner(organisation=life.partner.id, reason="合作机构退出"))
            if life.status() not in TERMINAL:  # the withdrawal itself may already have ended the test
                sim.do(life, life.officer, c.RecordExternalFact(trigger="partner_withdrawn", on=sim.today))
        elif key == "fintech-sandbox" and r.random() < 0.5:
            sim.do(
                life,
                life.officer,
                c.RecordExternalFact(trigger="licence_lost", on=sim.today, detail="金融许可证被吊销"),
            )
        else:
            yield from _decide(sim, life, "terminate", "资质条件丧失", category="designation_withdrawn")
    elif fate == "revoke":
        if key == "data-asset" and r.random() < 0.5:
            sim.do(life, life.officer, c.RecordExternalFact(trigger="false_materials", on=sim.today))
        else:
            yield from _decide(sim, life, "revoke", "申请材料存在虚假记载", category="false_materials")
    yield sim.later(life, 1, 3)


def _confirm_exit(sim: Simulation, life: Life) -> Iterator[dt.datetime]:
    notified = life.state.exit_users_notified_on
    day = max(sim.today + dt.timedelta(days=5), notified + dt.timedelta(days=31) if notified else sim.today)
    yield sim.at(life, day + dt.timedelta(days=life.rng.randint(0, 10)))
    if life.status() == S.EXIT_IN_PROGRESS:
        sim.do(life, life.officer, c.ConfirmExit())


def _final(sim: Simulation, life: Life, months: int) -> Iterator[dt.datetime]:
    """Final evaluation: the final report, its acceptance, then graduation or exit."""
    r = life.rng
    yield sim.later(life, 5, 20)
    graduate = life.fate != "final_exit"
    kpis = _kpis(life, months, months, all_met=graduate)
    sim.do(
        life,
        life.applicant,
        c.SubmitFinalReport(
            sha256=sha(f"{life.pid}:final"), summary=f"最终测试报告：达成指标 {', '.join(kpis) or '无'}", kpis_met=kpis
        ),
    )
    yield sim.later(life, 5, 15)
    sim.do(life, r.choice((life.officer, r.choice(ASSESSORS))), c.AcceptFinalReport())
    yield sim.later(life, 2, 10)
    if graduate:
        yield from _decide(sim, life, "graduate")
        if life.details.get("revoke_after_graduation") and life.status() == S.GRADUATED:
            yield sim.later(life, 30, 200)  # false materials come to light after graduation
            yield from _decide(sim, life, "revoke", "出盒后发现申请材料虚假", category="false_materials")
    else:
        yield from _decide(sim, life, "exit", "成功指标未达成，不予出盒")


# -- entry points --------------------------------------------------------------------------------


def generate(
    registry: Registry,
    clock: Clock,
    *,
    projects: int,
    seed: int,
    start: dt.date | None = None,
    spread_days: int = 300,
    until: dt.date | None = None,
    long_projects: int = 0,
    long_events: int = 1_000,
    strict: bool = True,
    global_tick_days: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Generated:
    """Create ``projects`` projects (plus ``long_projects`` with about ``long_events`` events each)
    starting over ``spread_days`` from ``start`` (the clock's day by default), and run their lives
    to the end or to ``until``.

    ``clock`` must be the settable clock the registry and its store read (a :class:`SimClock`,
    see :func:`memory_registry` and :func:`sqlite_registry`); it only moves forward, so the log
    must not hold events recorded after ``start``. ``global_tick_days`` additionally runs
    ``registry.tick()`` (every live project) at that cadence; each project's own timers run
    whenever it acts. ``strict=False`` counts refused commands instead of raising.
    ``progress(ended, total)`` is called each time a project's life ends.

    Example (what ``sandbox-registry demo`` does)::

        registry, clock, store = sqlite_registry("demo.db")
        result = generate(registry, clock, projects=50, seed=7)
        print(result.states)  # {'EXITED': 13, 'GRADUATED': 21, ...}
    """
    began = time.perf_counter()
    first = start or local_date(clock.now)
    if first < local_date(clock.now):
        raise ValueError(f"start {first} is before the clock ({local_date(clock.now)}); time only moves forward")
    covered = {y.year for y in registry.reference().holidays.years}
    last_notice = first + dt.timedelta(days=spread_days + 200)
    missing = [y for y in range(first.year, last_notice.year + 1) if y not in covered]
    if missing:
        raise ValueError(
            f"public notices count working days and the holiday calendar does not cover {missing}:"
            f" start later or shorten spread_days (covered: {sorted(covered)})"
        )
    opening = max(clock.now, dt.datetime.combine(first, dt.time(8, 0), CHINA))
    recorded = registry.store.head().recorded_at
    if recorded is not None and recorded > format_recorded_at(opening):
        raise ValueError(
            f"the log already holds events recorded at {recorded}, after {first}: generated histories"
            " must come later (pass a later start) or go into a new registry"
        )
    clock.now = opening
    sim = Simulation(registry, clock, seed=seed, strict=strict, global_tick_days=global_tick_days)
    total = projects + long_projects
    if progress is not None:
        sim.on_end = lambda _pid: progress(sim.ended, total)
    ids: list[str] = []
    long_ids: list[str] = []
    span = max(1, spread_days)
    for n in range(projects + long_projects):
        day = first + dt.timedelta(days=n * span // max(1, projects + long_projects))
        if n < long_projects:
            pid = sim.add_project(on=day, long_events=long_events)
            long_ids.append(pid)
        else:
            pid = sim.add_project(on=day)
        ids.append(pid)
    sim.run(until=until)
    states = Counter(life.status().value for life in sim.lives.values())
    return Generated(
        project_ids=ids,
        commands=sim.commands,
        events=sum(life.state.version for life in sim.lives.values()),
        head=registry.store.head().position,
        refused=sim.refused,
        states=dict(sorted(states.items())),
        seconds=time.perf_counter() - began,
        long_project_ids=long_ids,
    )


class IncrementalRegistry(Registry):
    """A :class:`Registry` whose ``load`` of a project's current state folds only the events
    appended since its last load onto the state it folded then.

    Events are immutable and the fold is deterministic, so the state equals a full replay; the
    deciders see exactly what the plain registry would give them. It makes long generated
    histories linear instead of quadratic in each project's length (a cache of every project's
    state, so it is for generation, not for a server).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._states: dict[str, ProjectState] = {}

    def load(
        self, project_id: str, *, as_of_position: int | None = None, as_of_time: dt.datetime | None = None
    ) -> ProjectState:
        if as_of_position is not None or as_of_time is not None:
            return super().load(project_id, as_of_position=as_of_position, as_of_time=as_of_time)
        state = self._states.get(project_id, INITIAL)
        new = self.store.read_stream(project_stream(project_id), from_version=state.version + 1)
        if new:
            state = fold(new, state)
            self._states[project_id] = state
        return state


def memory_registry(start: dt.date = DEFAULT_START, *, incremental: bool = True) -> tuple[Registry, SimClock]:
    """A registry over the in-memory store, with its genesis and the bundled programs (fast;
    an :class:`IncrementalRegistry` unless ``incremental=False``)."""
    clock = SimClock(start)
    store = InMemoryEventStore(make_codec(), clock=clock)
    init_registry(store, clock=clock)
    registry = (IncrementalRegistry if incremental else Registry)(store, clock=clock)
    registry.install_bundled()
    return registry, clock


def sqlite_registry(
    path: str | Path, start: dt.date = DEFAULT_START, *, read_models: bool = True, synchronous: Synchronous = "NORMAL"
) -> tuple[Registry, SimClock, SQLiteEventStore]:
    """A registry over a SQLite file (created if missing) whose store reads a :class:`SimClock`,
    with its genesis, the bundled programs and, if asked, read models refreshed after each
    command. ``synchronous`` defaults to NORMAL: generated data need not survive a power cut."""
    clock = SimClock(start)
    store = open_store(path, create=True, synchronous=synchronous, clock=clock)
    init_registry(store, clock=clock)
    registry = Registry(store, clock=clock, read_models=ReadModels(store) if read_models else None)
    registry.install_bundled()
    return registry, clock, store


__all__ = [
    "APPROVERS",
    "ASSESSORS",
    "FATES",
    "OFFICERS",
    "Generated",
    "SimClock",
    "Simulation",
    "Story",
    "generate",
    "memory_registry",
    "sqlite_registry",
]
