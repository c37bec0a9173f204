"""Oversight pages: the dashboard, and the audit trail with verification and export. Regulators
and the auditor only (each controller's guard)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Stream

from events.export import export_lines
from projections.project import local_date
from sandbox.api.auth import READERS
from sandbox.api.common import MAX_INT
from sandbox.api.dependencies import PageServices
from sandbox.web import charts
from sandbox.web.audit import explained
from sandbox.web.dashboard import bars, breaches_by_criterion, overdue_by_role
from sandbox.web.pages import lang_of, page, page_for
from schemas.lifecycle import STATE_LABELS, State

#: The states whose projects may have breaches to count (admitted at some point).
ADMITTED_STATES = frozenset(
    {
        State.ADMITTED,
        State.TESTING,
        State.SUSPENDED,
        State.FINAL_EVALUATION,
        State.EXIT_IN_PROGRESS,
        State.GRADUATED,
        State.EXITED,
        State.TERMINATED,
        State.REVOKED,
    }
)


class DashboardController(Controller):
    """The pipeline, overdue items and breaches, at a glance."""

    path = "/dashboard"
    guards = [page_for(READERS)]

    @get("/", sync_to_thread=True)
    def dashboard(self, request: Request[Any, Any, Any], services: NamedDependency[PageServices]) -> Response[str]:
        """The pipeline by program and state, overdue items, and breaches of the last 30 days."""
        models = services.read_models
        registry = services.registry
        today = local_date(services.registry.clock())
        en = lang_of(request) == "en"
        state_names = {s.value: (en_ if en else zh) for s, (zh, en_) in STATE_LABELS.items()}
        pipelines = []
        for key in registry.program_keys():
            program = registry.program_versions(key)[-1]
            counts: Counter[str] = Counter()
            offset = 0
            while True:
                total, rows = models.projects(program=key, limit=500, offset=offset)
                counts.update(r["state"] for r in rows)
                offset += len(rows)
                if offset >= total or not rows:
                    break
            name = program.name_en if en else program.name_zh
            ordered = Counter({s.value: counts[s.value] for s in State if counts[s.value]})
            bars_ = [charts.Bar(state_names[s], n) for s, n in ordered.items()]
            pipelines.append((name, charts.bar_chart(f"pipeline-{key}", name, bars_)))
        queue = models.queue(today=today)
        overdue = overdue_by_role(queue)
        states = [s for pid in models.timed(ADMITTED_STATES) if (s := models.state(pid)) is not None]
        breaches = breaches_by_criterion(states, today)
        labels = {}
        for s in states:
            for rule in registry.bound_program(s, today).exit:
                labels[rule.id] = rule.label_en if en else rule.label_zh
        role_names = {"case_officer": "case officer"} if en else {}
        return page(
            request,
            services,
            "dashboard.html",
            pipelines=pipelines,
            overdue=charts.bar_chart(
                "overdue",
                "Overdue items by role" if en else "按角色统计的逾期事项",
                bars(overdue, role_names, alert=True),
            ),
            overdue_total=sum(overdue.values()),
            breaches=charts.bar_chart(
                "breaches",
                "Breaches of the last 30 days" if en else "近 30 日触发的退出标准",
                bars(breaches, {k: k for k in labels}, alert=True),
            ),
            breach_labels=[(k, labels.get(k, k), n) for k, n in breaches.most_common()],
        )


class AuditPageController(Controller):
    """Every decision explained, the log's verification and its export."""

    path = "/audit"
    guards = [page_for(READERS)]

    @get("/", sync_to_thread=True)
    def audit(
        self,
        request: Request[Any, Any, Any],
        services: NamedDependency[PageServices],
        after: Annotated[int, QueryParameter(ge=0, le=MAX_INT)] = 0,
        verify: Annotated[bool, QueryParameter()] = False,
    ) -> Response[str]:
        """Every decision with who, in which role, under which rule version and why; the log's
        verification on request; the export."""
        rows = services.read_models.audit(after=after, limit=100)
        report = services.store.verify() if verify else None
        why = [explained(services.store, services.registry.catalog, r) for r in rows]
        return page(request, services, "audit.html", rows=list(zip(rows, why, strict=True)), after=after, report=report)

    @get("/export", sync_to_thread=True)
    def export(self, services: NamedDependency[PageServices]) -> Stream:
        """The whole log as JSON Lines (the API's ``/audit/export`` and the CLI's ``export``)."""
        store = services.store

        def lines() -> Iterator[bytes]:
            yield from export_lines(store.iter_stored(batch=2000))

        return Stream(
            lines(),
            media_type="application/jsonl",
            headers={"Content-Disposition": 'attachment; filename="registry-export.jsonl"'},
        )
