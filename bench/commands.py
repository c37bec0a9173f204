"""Command benchmark: one ``report_metrics`` on a project with a long history against the same on a
project with a short one, in the same run.

Run with ``make bench`` or ``.venv/bin/python bench/commands.py [--history N] [--quick]``.

Both sides are e-CNY pilots in TESTING in one registry (a SQLite file in WAL mode with
``synchronous=FULL``, the registry's default durability, and its read models kept in the same
transaction as every append, as the server keeps them). The short pilots hold about 14 events (the
sample e-CNY application of ``sandbox.applications``, its required assessments and notice, the
admission and the start of the test); the long ones
hold the same and about ``--history`` more: daily metrics reports over the months of the test,
each day reported several times (a report and its corrections), appended as the service records
them. Each measured command is the applicant's ``report_metrics`` through
``Registry.execute``: the state is loaded, the command decided (the report's exit criteria
evaluated, as every report's are), and its events appended with the read models' rows.

The sides alternate in rounds of ``--commands`` commands, spread over several pilots of each
side so that no pilot's history grows much during the run. The figure is the median time per
command of each side over the rounds, and ``ratio = short / long``: 1.0 means a command costs the
same whatever the history; the goal is ratio >= 0.8.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path, where bench/projections.py would
# shadow the ``projections`` package.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    del sys.path[0]

import argparse
import datetime as dt
import os
import platform
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Sequence
from itertools import count

import msgspec

from events.model import NewEvent, StreamWrite
from projections.read_models import ReadModels
from sandbox import applications
from sandbox.registry import init_registry, open_store
from sandbox.service import Registry, project_stream
from schemas import commands as c
from schemas import events as ev
from schemas.base import EventMetadata
from schemas.commands import Actor

GOAL = 0.8
CST = dt.timezone(dt.timedelta(hours=8))
ALICE = Actor(id="alice", role="applicant", organisation="fzbank")
CAROL = Actor(id="carol", role="case_officer")
SAM = Actor(id="sam", role="assessor")
ADA = Actor(id="ada", role="approver")
#: The figures of one day of a pilot (none of them crosses a threshold).
FIGURES = {"transactions": 400, "wallets_opened": 30, "active_users": 900, "payment_failures": 1, "complaints": 0}


class Pilots:
    """A registry of e-CNY pilots in TESTING, built through the service, on a clock moved by hand."""

    def __init__(self, db: Path, start: dt.datetime) -> None:
        self.clock = [start]
        self.store = open_store(db, create=True, clock=lambda: self.clock[0])
        init_registry(self.store, clock=lambda: self.clock[0])
        self.registry = Registry(self.store, clock=lambda: self.clock[0], read_models=ReadModels(self.store))
        self.registry.install_bundled()
        self.ids = count()

    def do(self, pid: str, who: Actor, command: c.Command) -> None:
        self.registry.execute(pid, command, who, command_id=f"bench-{next(self.ids)}")

    def testing(self, n: int, test_days: int) -> list[str]:
        """``n`` pilots in TESTING whose declared test period starts tomorrow and lasts ``test_days``."""
        today = self.clock[0].date()
        projects = []
        for i in range(n):
            draft = c.CreateDraft(
                program_key="ecny-pilot",
                title=f"试点 {i}",
                app_type="零售",
                lead_name="福州示范银行",
                lead_kind="licensed_institution",
                region="福州",
            )
            pid = self.registry.create_project(draft, ALICE, command_id=f"bench-create-{next(self.ids)}").project_id
            plan = {
                "kpis": ["transactions", "wallets_opened"],
                "transactions_target": 100_000,
                "wallets_opened_target": 20_000,
                "merchants_live_target": 12,
                "reporting_cadence_days": 30,
            }
            application = applications.ecny(
                today + dt.timedelta(days=1), today + dt.timedelta(days=test_days), test_plan=plan
            )
            for step in applications.steps(application):
                self.do(pid, ALICE, step.command)
            self.do(pid, ALICE, c.Submit())
            self.do(pid, CAROL, c.AcceptIntake())
            for topic in self.registry.program_in_force("ecny-pilot", today).assessment_topics:
                self.do(pid, SAM, c.FileAssessment(topic=topic.id, outcome="favourable", summary="评估意见"))
            self.do(pid, CAROL, c.OpenPublicNotice(channel="官网"))
            projects.append(pid)
        self.clock[0] += dt.timedelta(days=12)
        self.registry.tick()
        for pid in projects:
            self.do(pid, CAROL, c.Recommend(decision="admit"))
            self.do(pid, ADA, c.Approve(decision="admit"))
            self.do(pid, ALICE, c.StartTest())
        return projects

    def history(self, pid: str, days: int, per_day: int, first_day: dt.date) -> None:
        """Append ``days`` days of reports, ``per_day`` reports each (the day's and its corrections),
        dated as they were reported, in batches as a busy applicant's client would send them."""
        version = self.store.stream_version(project_stream(pid))
        batch: list[NewEvent] = []
        for day in range(days):
            on = first_day + dt.timedelta(days=day)
            at = dt.datetime.combine(on + dt.timedelta(days=1), dt.time(9), CST)
            for k in range(per_day):
                figures = {name: value + k for name, value in FIGURES.items()}
                event = ev.MetricsReported(period_start=on, period_end=on, metrics=figures)
                command_id = f"bench-history-{next(self.ids)}"
                meta = EventMetadata(
                    actor=ALICE.id, role=ALICE.role, organisation=ALICE.organisation, occurred_at=at,
                    correlation_id=command_id,
                )
                batch.append(NewEvent(event, meta))
                if len(batch) == 100:
                    self.store.append([StreamWrite(project_stream(pid), tuple(batch), expected=version)],
                                      command_id=command_id)
                    version += len(batch)
                    batch = []
        if batch:
            self.store.append([StreamWrite(project_stream(pid), tuple(batch), expected=version)],
                              command_id=f"bench-history-{next(self.ids)}")

    def report(self, pid: str, on: dt.date) -> float:
        """One ``report_metrics`` through the service: its wall time in seconds."""
        command = c.ReportMetrics(period_start=on, period_end=on, metrics=FIGURES)
        started = time.perf_counter()
        self.do(pid, ALICE, command)
        return time.perf_counter() - started


def machine_info() -> str:
    return (
        f"python {platform.python_version()}, sqlite {sqlite3.sqlite_version}, msgspec {msgspec.__version__},"
        f" {os.cpu_count()} cpus, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--history", type=int, default=3_000, help="events of a long pilot's history (default 3000)")
    parser.add_argument("--pilots", type=int, default=4, help="pilots on each side (default 4)")
    parser.add_argument("--commands", type=int, default=40, help="commands per side per round (default 40)")
    parser.add_argument("--rounds", type=int, default=7, help="rounds, the sides alternating (default 7)")
    parser.add_argument("--quick", action="store_true", help="tiny smoke run (300 events, 2 rounds)")
    parser.add_argument("--check", action="store_true", help="exit 1 if the ratio misses its goal")
    args = parser.parse_args(argv)
    if args.quick:
        args.history, args.rounds, args.commands = 300, 2, 10
    test_days = 330
    per_day = max(1, -(-args.history // (test_days - 30)))  # the history fits the test's days so far
    days = args.history // per_day
    print(f"bench/commands.py: {machine_info()}")
    with tempfile.TemporaryDirectory(prefix="bench-commands-") as folder:
        start = dt.datetime(2026, 1, 5, 9, tzinfo=CST)
        pilots = Pilots(Path(folder) / "registry.db", start)
        built = time.perf_counter()
        short = pilots.testing(args.pilots, test_days)
        long = pilots.testing(args.pilots, test_days)
        first_day = pilots.clock[0].date()
        for pid in long:
            pilots.history(pid, days, per_day, first_day)
        pilots.clock[0] += dt.timedelta(days=days + 1)
        pilots.registry.refresh()
        sizes = {pid: pilots.store.stream_version(project_stream(pid)) for pid in (*short, *long)}
        print(
            f"{len(short)} short pilots of {min(sizes[p] for p in short)} events and {len(long)} long ones of"
            f" {min(sizes[p] for p in long)} ({days} days x {per_day} reports), built in"
            f" {time.perf_counter() - built:.1f} s; {args.rounds} rounds of {args.commands} commands per side",
            flush=True,
        )
        yesterday = pilots.clock[0].date() - dt.timedelta(days=1)
        times: dict[str, list[float]] = {"short": [], "long": []}
        for round_ in range(args.rounds):
            order = (("short", short), ("long", long)) if round_ % 2 == 0 else (("long", long), ("short", short))
            for side, projects in order:
                spent = [pilots.report(projects[k % len(projects)], yesterday) for k in range(args.commands)]
                times[side].append(statistics.median(spent))
        pilots.store.close()
    short_ms, long_ms = (statistics.median(times[side]) * 1000 for side in ("short", "long"))
    ratio = short_ms / long_ms
    grown = max(sizes[p] for p in long) + args.rounds * args.commands // len(long)
    print(f"report_metrics, short history: {short_ms:.2f} ms per command (median of the rounds' medians)")
    print(f"report_metrics, long history (up to {grown} events): {long_ms:.2f} ms per command")
    verdict = "meets" if ratio >= GOAL else "MISSES"
    print(f"commands: ratio={ratio:.2f} (short / long; {verdict} the goal of {GOAL})")
    return 1 if args.check and ratio < GOAL else 0


if __name__ == "__main__":
    sys.exit(main())
