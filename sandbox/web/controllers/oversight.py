"""Oversight pages: the dashboard, the audit trail with verification and export, and a project's
timeline with time travel (the project as ``GET /api/v1/projects/{id}?position=`` returns it)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Stream

from events.export import export_lines
from projections.project import local_date
from projections.views import project_view
from sandbox.api.auth import READERS
from sandbox.api.common import MAX_INT, event_out, visible_state
from sandbox.api.controllers.projects import PROJECT_READERS
from sandbox.web import charts
from sandbox.web.audit import explained
from sandbox.web.dashboard import bars, breaches_by_criterion, metric_series, overdue_by_role
from sandbox.web.pages import Services, lang_of, page, reader
from schemas.dates import end_of_day
from schemas.lifecycle import STATE_LABELS, State
from schemas.streams import project_stream

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
Position = Annotated[int | None, QueryParameter(ge=0, le=MAX_INT)]


class OversightController(Controller):
    @get("/dashboard", sync_to_thread=True)
    def dashboard(self, request: Request[Any, Any, Any], services: NamedDependency[Services]) -> Response[str]:
        """The pipeline by program and state, overdue items, and breaches of the last 30 days."""
        reader(request, READERS)
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

    @get("/projects/{project_id:str}/metrics", sync_to_thread=True)
    def metrics(
        self,
        request: Request[Any, Any, Any],
        services: NamedDependency[Services],
        project_id: FromPath[str],
    ) -> Response[str]:
        """A pilot's reported metrics over time against its program's thresholds."""
        actor = reader(request, PROJECT_READERS)
        state = visible_state(services.read_models, services.registry, actor, project_id)
        program = services.registry.bound_program(state, local_date(services.registry.clock()))
        series = metric_series(state, program)
        en = lang_of(request) == "en"
        drawn = [
            (label_en if en else zh, charts.line_chart(f"metric-{i}", label_en if en else zh, points, limit, unit))
            for i, (_, zh, label_en, points, limit, unit) in enumerate(series)
        ]
        return page(request, "metrics.html", state=state, charts=drawn)

    @get("/audit", sync_to_thread=True)
    def audit(
        self,
        request: Request[Any, Any, Any],
        services: NamedDependency[Services],
        after: Annotated[int, QueryParameter(ge=0, le=MAX_INT)] = 0,
        verify: Annotated[bool, QueryParameter()] = False,
    ) -> Response[str]:
        """Every decision with who, in which role, under which rule version and why; the log's
        verification on request; the export."""
        reader(request, READERS)
        rows = services.read_models.audit(after=after, limit=100)
        report = services.store.verify() if verify else None
        why = [explained(services.store, services.registry.catalog, r) for r in rows]
        return page(request, "audit.html", rows=list(zip(rows, why, strict=True)), after=after, report=report)

    @get("/audit/export", sync_to_thread=True)
    def export(self, request: Request[Any, Any, Any], services: NamedDependency[Services]) -> Stream:
        """The whole log as JSON Lines (the API's ``/audit/export`` and the CLI's ``export``)."""
        reader(request, READERS)
        store = services.store

        def lines() -> Iterator[bytes]:
            yield from export_lines(store.iter_stored(batch=2000))

        return Stream(
            lines(),
            media_type="application/jsonl",
            headers={"Content-Disposition": 'attachment; filename="registry-export.jsonl"'},
        )

    @get("/projects/{project_id:str}/timeline", sync_to_thread=True)
    def timeline(
        self,
        request: Request[Any, Any, Any],
        services: NamedDependency[Services],
        project_id: FromPath[str],
        position: Position = None,
        on: Annotated[dt.date | None, QueryParameter()] = None,
    ) -> Response[str]:
        """The project's events, and the project as it stood at a position or at the end of a day."""
        actor = reader(request, PROJECT_READERS)
        visible_state(services.read_models, services.registry, actor, project_id)
        store = services.store
        events = [event_out(e, actor) for e in store.read_stream(project_stream(project_id))]
        positions = [e.position for e in events]
        at = None
        if on is not None and position is None:
            at = end_of_day(on).astimezone(dt.UTC)
        found = project_view(
            store, services.registry.catalog, project_id, position=position, at=at, now=services.registry.clock()
        )
        cut = found.as_of_position if found is not None else (position or 0)
        # the project's latest event at the cut, and its neighbours: one step is one event
        shown = [p for p in positions if p <= cut]
        current = shown[-1] if shown else None
        earlier = shown[:-1]
        later = [p for p in positions if p > cut]
        return page(
            request,
            "timeline.html",
            project_id=project_id,
            view=found,
            events=events,
            cut=cut,
            current=current,
            previous=earlier[-1] if earlier else None,
            next=later[0] if later else None,
            first=positions[0] if positions else None,
            on=on,
        )
