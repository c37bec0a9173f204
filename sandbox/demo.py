"""The demo registry: named pilots whose lives read like a real registry's, plus synthetic ones.

Every event comes from a command decided by the same deciders the API uses, or from a timer,
over simulated months (see :mod:`sandbox.synthetic`); nothing is hand-written. The stories start
in January 2025 and run up to today (or the last day the bundled holiday calendar covers), so
some projects are still being reviewed or tested when the demo ends.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sandbox.config import Refused
from sandbox.synthetic import DEFAULT_START, Simulation, Story, sqlite_registry
from sandbox.tokens import Tokens
from schemas.dates import CHINA


@dataclass(frozen=True, slots=True)
class Scripted:
    """One named project of the demo: its program, what becomes of it, and when it starts."""

    label: str
    program: str
    fate: str
    #: the day it starts, or (a whole number) how many days before the demo's last day
    starts: dt.date | int
    story: Story


#: How many days before the demo's last day the held stories whose stage the timers would move
#: on start: late enough that a notice is still open, a suspension still in force.
PUBLIC_NOTICE_DAYS, SUSPENDED_DAYS, EXITING_DAYS = 80, 150, 180

#: The named pilots, in the order they start. Fates are those of ``sandbox.synthetic.FATES``.
STORIES = (
    Scripted(
        "Graduated: supply-chain credit for small businesses, Xiamen",
        "fintech-sandbox",
        "graduate",
        dt.date(2025, 1, 8),
        Story(
            lead="xm-intl-bank",
            partner="xm-chainlink",
            title="基于供应链数据的小微企业信用贷款（厦门）",
            app_type="金融服务",
        ),
    ),
    Scripted(
        "e-CNY motorway toll payment, Fuzhou",
        "ecny-pilot",
        "graduate",
        dt.date(2025, 2, 10),
        Story(lead="cib", partner="", scenario="transport_tolls", episode="none"),
    ),
    Scripted(
        "Rejected: cross-institution risk platform",
        "fintech-sandbox",
        "reject",
        dt.date(2025, 3, 3),
        Story(lead="xm-bank", partner="minjiang-cloud", title="基于隐私计算的跨机构联合风控平台", app_type="科技产品"),
    ),
    Scripted(
        "Objection upheld during public notice: voice banking for older customers",
        "fintech-sandbox",
        "graduate",
        dt.date(2025, 3, 17),
        Story(
            lead="fj-rcu", partner="", title="适老化智能语音银行服务（福州）", app_type="金融服务", objection="upheld"
        ),
    ),
    Scripted(
        "Suspended after a severity-1 incident, then reinstated: IoT collateral lending",
        "fintech-sandbox",
        "graduate",
        dt.date(2025, 4, 7),
        Story(
            lead="fj-hx-bank",
            partner="ludao-ai",
            title="基于物联网的动产质押融资服务（福州）",
            app_type="金融服务",
            episode="sev1",
        ),
    ),
    Scripted(
        "e-CNY consumer red-packet campaign, Fuzhou (closes when the budget is spent)",
        "ecny-pilot",
        "closure",
        dt.date(2025, 5, 12),
        Story(lead="boc", partner="rongcheng-fintech", scenario="red_packets", episode="none"),
    ),
    Scripted(
        "Withdrawn: flight load-factor index",
        "data-asset",
        "withdraw",
        dt.date(2025, 6, 2),
        Story(lead="xm-air-data", partner="", title="航班客座率指数接口", product_type="api"),
    ),
    Scripted(
        "Public data registered, listed and pledged for a bank loan",
        "data-asset",
        "graduate",
        dt.date(2025, 6, 16),
        Story(
            lead="fz-city-data",
            partner="fz-rcb",
            title="福州市公共停车泊位实时数据产品",
            product_type="dataset",
            public_data=True,
            pledged=True,
            episode="none",
        ),
    ),
    Scripted(
        "Forced out: fishery insurance claims",
        "fintech-sandbox",
        "forced_exit",
        dt.date(2025, 7, 7),
        Story(lead="xm-rcb", partner="haixi-credit", title="海洋渔业养殖保险数字化理赔（厦门）", app_type="金融服务"),
    ),
    Scripted(
        "In test: small-business credit from supply-chain data, Fuzhou, monthly reports",
        "fintech-sandbox",
        "graduate",
        dt.date(2026, 1, 5),
        Story(
            lead="fz-rcb",
            partner="rongcheng-fintech",
            title="基于供应链数据的小微企业信用贷款（福州）",
            app_type="金融服务",
            episode="complaints",
        ),
    ),
    # Work in flight when the demo ends: each held in its stage, waiting for somebody to act (its
    # start counted back from the demo's last day, so that the timers have not moved it on).
    Scripted(
        "In flight: a draft being written",
        "ecny-pilot",
        "graduate",
        12,
        Story(lead="fj-hx-bank", partner="", title="福州数字人民币智慧菜场支付试点", hold="draft"),
    ),
    Scripted(
        "In flight: submitted, waiting for intake",
        "fintech-sandbox",
        "graduate",
        60,
        Story(lead="fj-rcu", partner="haixi-credit", title="农户信用画像与普惠小额信贷（福建）", hold="submitted"),
    ),
    Scripted(
        "In flight: under assessment",
        "data-asset",
        "graduate",
        90,
        Story(lead="fj-meteo-data", partner="", product_type="api", hold="under_assessment"),
    ),
    Scripted(
        "In flight: public notice with a comment and an open objection",
        "fintech-sandbox",
        "graduate",
        PUBLIC_NOTICE_DAYS,
        Story(lead="xm-rcb", partner="ludao-ai", title="供应链票据数字化融资服务（厦门）", objection="dismissed",
              hold="public_notice"),
    ),
    Scripted(
        "In flight: recommended for admission, waiting for two approvers",
        "fintech-sandbox",
        "graduate",
        150,
        Story(
            lead="fz-rcb", partner="minjiang-cloud", title="小微商户经营贷智能风控（福州）", hold="awaiting_approval"
        ),
    ),
    Scripted(
        "In flight: admitted, the test not started yet",
        "ecny-pilot",
        "graduate",
        150,
        Story(lead="boc", partner="", scenario="payroll", objection="dismissed", hold="admitted"),
    ),
    Scripted(
        "In flight: suspended by the regulator",
        "fintech-sandbox",
        "graduate",
        SUSPENDED_DAYS,
        Story(lead="xm-bank", partner="xm-chainlink", title="跨境电商收款合规服务（厦门）", episode="suspend",
              episode_month=0, hold="suspended"),
    ),
    Scripted(
        "In flight: exit in progress",
        "fintech-sandbox",
        "voluntary_exit",
        EXITING_DAYS,
        Story(lead="fj-hx-bank", partner="rongcheng-fintech", title="老年客户远程视频开户服务（福州）",
              ending_month=1, hold="exit_in_progress"),
    ),
)

#: One person per role, for the demo's tokens (name, role, organisation). Two approvers: an
#: admission needs approvals from two different people, neither of them its recommender.
PEOPLE = (
    ("fz-rcb.staff1", "applicant", "fz-rcb"),
    ("officer-01", "case_officer", None),
    ("assessor-01", "assessor", None),
    ("approver-01", "approver", None),
    ("approver-02", "approver", None),
    ("auditor-01", "auditor", None),
    ("public-demo", "public", None),
)

STORY_SEED = 2025
#: The last day the bundled public-holiday calendar covers: public notices count working days.
CALENDAR_END = dt.date(2026, 12, 31)


class DemoRefused(Refused):
    """The demo only fills a new registry."""


@dataclass(frozen=True, slots=True)
class DemoResult:
    path: Path
    stories: dict[str, str]  # label -> project id
    synthetic: list[str]
    until: dt.date
    head: int
    states: dict[str, int]


def build_demo(
    path: Path,
    *,
    projects: int = 0,
    seed: int = 2025,
    today: dt.date | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> DemoResult:
    """Create the demo registry at ``path`` (which must not exist yet): the named stories plus
    ``projects`` synthetic projects (deterministic with ``seed``), lived up to ``today``."""
    if path.exists():
        raise DemoRefused(
            f"{path} already exists; the demo builds a new registry (choose another --db)",
            f"{path} 已存在；演示会新建一个登记库（请换一个 --db）",
        )
    today = today or dt.datetime.now(CHINA).date()
    until = min(today - dt.timedelta(days=1), CALENDAR_END)
    if until < DEFAULT_START:
        raise DemoRefused(
            f"the demo's stories start on {DEFAULT_START}; today ({today}) is before them",
            f"演示故事始于 {DEFAULT_START}；今天（{today}）早于此日",
        )
    registry, clock, store = sqlite_registry(path, DEFAULT_START)
    try:
        # The stories draw from a seed of their own, so they read the same whatever ``seed`` is.
        sim = Simulation(registry, clock, seed=STORY_SEED, global_tick_days=7)
        total = len(STORIES) + projects
        if progress is not None:
            sim.on_end = lambda _pid: progress(sim.ended, total)
        stories = {
            s.label: sim.add_project(s.program, on=_start(s, until), fate=s.fate, story=s.story, waiver=False)
            for s in STORIES
        }
        sim.rng = random.Random(f"synthetic:{seed}")
        span = 300
        synthetic = [
            sim.add_project(on=DEFAULT_START + dt.timedelta(days=n * span // max(1, projects))) for n in range(projects)
        ]
        sim.run(until=until)
        states: dict[str, int] = {}
        for life in sim.lives.values():
            states[life.status().value] = states.get(life.status().value, 0) + 1
        if registry.read_models is not None:
            registry.read_models.catch_up()
        return DemoResult(
            path=path,
            stories=stories,
            synthetic=synthetic,
            until=until,
            head=store.head().position,
            states=dict(sorted(states.items())),
        )
    finally:
        store.close()


def _start(story: Scripted, until: dt.date) -> dt.date:
    """The day a story starts: its date, or so many days before the demo's last day (never
    before the demo's first)."""
    if isinstance(story.starts, dt.date):
        return story.starts
    return max(DEFAULT_START, until - dt.timedelta(days=story.starts))


def demo_tokens(tokens: Tokens) -> list[tuple[str, str, str | None, str]]:
    """Fresh tokens for the demo's people (any earlier demo token of the same name is revoked):
    (name, role, organisation, secret) for each."""
    issued = []
    for name, role, org in PEOPLE:
        tokens.revoke(name)
        secret, _ = tokens.create(name=name, role=role, organisation=org)
        issued.append((name, role, org, secret))
    return issued


__all__ = ["PEOPLE", "STORIES", "DemoRefused", "DemoResult", "build_demo", "demo_tokens"]
