"""``/api/v1/audit`` and ``/api/v1/events``: verify, export, decisions, and the event feed (paged
and SSE). Regulators and auditors only."""

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Iterator
from typing import Annotated

import msgspec
from litestar import Controller, get
from litestar.background_tasks import BackgroundTask
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromQuery, HeaderParameter, PathParameter, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage, Stream

from events.export import export_lines
from events.store import Audit, EventReader
from projections.read_models import ReadModels
from projections.views import Explanation, explain, past_refusal
from sandbox.api import problems as p
from sandbox.api.auth import READERS, SECURITY, role_in
from sandbox.api.common import MAX_INT, ZERO_MINIMUM, Limit, Position, event_out, past_refused
from sandbox.api.dependencies import NamedPort
from sandbox.api.limits import Limits
from sandbox.api.models import AuditEntry, EventPage, VerifyOut
from sandbox.service import Registry

#: How long a quiet SSE stream waits before it looks at the log again (another process may append).
POLL_SECONDS = 1.0


class AuditController(Controller):
    """The log's integrity, its export, and every decision explained."""

    path = "/audit"
    tags = ["audit"]
    security = SECURITY
    guards = [role_in(READERS)]

    @get("/verify", sync_to_thread=True, responses=p.responses(401, 403))
    def audit_verify(self, store: NamedPort[Audit]) -> VerifyOut:
        """Re-hash the whole log and check every link; the first bad position and why (roles:
        regulators, auditor)."""
        report = store.verify()
        return VerifyOut(
            ok=report.ok,
            count=report.count,
            head_position=report.head_position,
            head_hash=report.head_hash,
            failed_position=report.failed_position,
            reason=report.reason,
            reason_zh=report.reason_zh,
            rule=report.rule,
        )

    @get("/export", sync_to_thread=True, media_type="application/jsonl", responses=p.responses(401, 403))
    def audit_export(self, store: NamedPort[Audit]) -> Stream:
        """The whole log as JSON Lines, streamed (the same format as ``sandbox-registry export``)."""

        def lines() -> Iterator[bytes]:
            yield from export_lines(store.iter_stored(batch=2000))

        return Stream(lines(), media_type="application/jsonl")

    @get("/decisions", sync_to_thread=True, responses=p.responses(*p.READ))
    def audit_trail(
        self,
        read_models: NamedDependency[ReadModels],
        project: FromQuery[str | None] = None,
        after: Position = 0,
        limit: Limit = 200,
    ) -> list[AuditEntry]:
        """Every decision: who, in which role, when, under which rule version, why, with the recommender
        and approvers (roles: regulators, auditor)."""
        return [msgspec.convert(r, AuditEntry) for r in read_models.audit(project, after=after, limit=limit)]

    @get("/decisions/{position:int}", sync_to_thread=True, responses=p.responses(*p.READ_ONE))
    def audit_explain(
        self,
        registry: NamedDependency[Registry],
        store: NamedPort[EventReader],
        position: Annotated[int, PathParameter(ge=1, le=MAX_INT, description="the decision's global position")],
    ) -> Explanation:
        """Explain one decision: the rule version, the checklist and criteria then, and the chain of
        actors (roles: regulators, auditor)."""
        found = explain(store, registry.catalog, position)
        if found is None:
            raise NotFoundException(f"no project event at position {position}")
        return found


class EventController(Controller):
    """The log itself, in order: paged, or as Server-Sent Events."""

    path = "/events"
    tags = ["audit"]
    security = SECURITY
    guards = [role_in(READERS)]

    @get("/", sync_to_thread=True, responses=p.responses(*p.READ))
    def events_after(self, store: NamedPort[EventReader], after: Position = 0, limit: Limit = 200) -> EventPage:
        """Events after a global position, in order; tail the log with ``next_after`` (roles:
        regulators, auditor)."""
        items = [event_out(e) for e in store.read_after(after, limit=limit)]
        return EventPage(items=items, next_after=items[-1].position if items else after, head=store.head().position)

    @get("/stream", media_type="text/event-stream", responses=p.responses(*p.READ, 422, 429))
    async def events_stream(
        self,
        store: NamedPort[EventReader],
        appended: NamedDependency[asyncio.Condition],
        limits: NamedDependency[Limits],
        credential: NamedDependency[str | None],
        after: Annotated[
            int | None,
            QueryParameter(
                ge=0,
                le=MAX_INT,
                schema_extra=ZERO_MINIMUM,
                description="start after this position (default: the head)",
            ),
        ] = None,
        last_event_id: Annotated[
            str | None,
            HeaderParameter(
                name="Last-Event-ID", pattern=r"^[0-9]{1,15}$", description="resume after this event (its position)"
            ),
        ] = None,
        max_events: Annotated[
            int | None, QueryParameter(ge=1, le=100000, description="end the stream after this many events")
        ] = None,
    ) -> ServerSentEvent:
        """Server-Sent Events of every event after ``after`` (or from now), in order; each event's
        ``id`` is its position, so a client resumes with ``Last-Event-ID`` without gaps or duplicates
        (roles: regulators, auditor). One token holds at most ``$SANDBOX_REGISTRY_STREAMS_PER_TOKEN``
        streams open at once (429 beyond)."""
        head = (await asyncio.to_thread(store.head)).position
        start = head if after is None else after
        field, source = "after", "query"
        if last_event_id is not None:
            start, field, source = int(last_event_id), "Last-Event-ID", "header"
        refused = past_refusal(False, start, head, ("", field))
        if refused is not None:
            raise past_refused(refused, source)
        release = limits.streams.acquire(credential or "")
        if release is None:
            raise limits.too_many_streams()

        async def feed() -> AsyncGenerator[ServerSentEventMessage, None]:
            try:
                async for message in _events(start):
                    yield message
            finally:
                release()

        async def _events(start: int) -> AsyncGenerator[ServerSentEventMessage, None]:
            position, sent = start, 0
            while max_events is None or sent < max_events:
                async with appended:
                    batch = await asyncio.to_thread(store.read_after, position, limit=200)
                    if not batch:
                        # woken by an append in this process, or poll: another process may append
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(appended.wait(), timeout=POLL_SECONDS)
                        continue
                for event in batch:
                    yield ServerSentEventMessage(
                        data=msgspec.json.encode(event_out(event)).decode(), event=event.type, id=str(event.position)
                    )
                    position, sent = event.position, sent + 1
                    if max_events is not None and sent >= max_events:
                        return

        # (released when the stream ends, however it ends; also after the response, in case the
        # client left before the stream began)
        return ServerSentEvent(feed(), background=BackgroundTask(release))
