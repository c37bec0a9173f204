"""``/api/v1/queue``: the regulators' work queue."""

import datetime as dt
from typing import Annotated

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from projections.project import local_date
from projections.read_models import ReadModels
from sandbox.api import problems as p
from sandbox.api.auth import READERS, SECURITY, role_in
from sandbox.api.common import one_of
from sandbox.api.models import QueueEntry
from sandbox.service import Registry
from schemas.commands import Actor
from schemas.lifecycle import Role

#: The roles a work-queue item may wait for.
QUEUE_ROLES = tuple(r.value for r in Role if r not in (Role.AUDITOR, Role.PUBLIC))


class QueueController(Controller):
    """Regulators and the auditor only."""

    path = "/queue"
    tags = ["queue"]
    security = SECURITY
    guards = [role_in(READERS)]

    @get("/", sync_to_thread=True, responses=p.responses(*p.READ, 422))
    def queue(
        self,
        registry: NamedDependency[Registry],
        read_models: NamedDependency[ReadModels],
        actor: NamedDependency[Actor],
        role: Annotated[
            str | None, QueryParameter(description=f"only items waiting for this role: {', '.join(QUEUE_ROLES)}")
        ] = None,
        on: Annotated[
            dt.date | None, QueryParameter(description="the business date overdue items are judged at (default: today)")
        ] = None,
    ) -> list[QueueEntry]:
        """The regulator's work queue: what waits for whom, due dates and overdue items at the
        business date asked; an item the caller may not take (an approval of their own
        recommendation, a second approval by the same person) is left out (roles: regulators, auditor)."""
        today = on or local_date(registry.clock())
        rows = read_models.queue(role=one_of("role", role, QUEUE_ROLES), today=today, person=actor.id)
        return [msgspec.convert(r, QueueEntry) for r in rows]
