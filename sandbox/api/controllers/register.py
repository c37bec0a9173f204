"""``/api/v1/register``: the public register (公示/公开), now or as it stood at a past moment."""

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery

from events.store import EventReader
from projections.public import RegisterEntry
from projections.read_models import ReadModels
from projections.read_models.search import register_matches, terms
from projections.views import register_as_of, register_entry_as_of
from sandbox import extracts
from sandbox.api import problems as p
from sandbox.api.auth import PUBLIC_SECURITY
from sandbox.api.common import AsOf, LifecycleState, Limit, Offset, OptionalPosition, SearchText, one_moment, one_of
from sandbox.api.dependencies import NamedPort
from sandbox.api.models import RegisterPage
from sandbox.api.problems import ApiProblem
from sandbox.config import Refused
from sandbox.service import Registry
from schemas.lifecycle import State


class RegisterController(Controller):
    """Public fields only, no authentication."""

    path = "/register"
    tags = ["register"]
    security = PUBLIC_SECURITY

    @get("/", sync_to_thread=True, responses=p.responses(400, 422))
    def register(
        self,
        registry: NamedDependency[Registry],
        store: NamedPort[EventReader],
        read_models: NamedDependency[ReadModels],
        q: SearchText = None,
        program: FromQuery[str | None] = None,
        lifecycle_state: LifecycleState = None,
        region: FromQuery[str | None] = None,
        as_of: AsOf = None,
        position: OptionalPosition = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> RegisterPage:
        """The public register (公示/公开): public fields only, no authentication; ``q`` finds
        entries by any part of their title or applicants, ``program``, ``state`` and ``region``
        filter them; ``as_of`` (a recorded time) or ``position`` (a global position) replays it
        as it stood then."""
        at = one_moment(store, as_of, position)
        state = one_of("state", lifecycle_state, (s.value for s in State))
        if at is not None or position is not None:
            found = terms(q)
            entries = [
                e
                for e in register_as_of(store, position=position, at=at, now=registry.clock())
                if register_matches(e, found, program=program or None, state=state, region=region)
            ]
            return RegisterPage(total=len(entries), limit=limit, offset=offset, items=entries[offset : offset + limit])
        total, items = read_models.register(
            q=q, program=program or None, state=state, region=region, limit=limit, offset=offset
        )
        return RegisterPage(
            total=total, limit=limit, offset=offset, items=[msgspec.convert(i, RegisterEntry) for i in items]
        )

    @get("/{project_id:str}", sync_to_thread=True, responses=p.responses(400, 404, 422))
    def register_entry(
        self,
        registry: NamedDependency[Registry],
        store: NamedPort[EventReader],
        read_models: NamedDependency[ReadModels],
        project_id: FromPath[str],
        as_of: AsOf = None,
        position: OptionalPosition = None,
    ) -> RegisterEntry:
        """One project's public entry (only projects that reached public notice are public); ``as_of``
        (a recorded time) or ``position`` (a global position) replays it as it stood then."""
        at = one_moment(store, as_of, position)
        if at is not None or position is not None:
            found = register_entry_as_of(store, project_id, position=position, at=at, now=registry.clock())
            if found is None:
                raise NotFoundException(f"project {project_id} was not on the public register then")
            return found
        entry = read_models.register_entry(project_id)
        if entry is None:
            raise NotFoundException(f"project {project_id} is not on the public register")
        return msgspec.convert(entry, RegisterEntry)

    @get("/{project_id:str}/proof", sync_to_thread=True, responses=p.responses(400, 404, 503))
    def register_entry_proof(
        self, store: NamedPort[extracts.ExtractedLog], project_id: FromPath[str]
    ) -> extracts.RegisterExtract:
        """One public entry with what proves it offline: a checkpoint signed now (and kept), the
        project's public events whole and its private ones withheld (position, version, hash,
        type), each with its RFC 9162 inclusion proof against the checkpoint, the entry at the
        checkpoint's size, and how the entry is replayed from the events. Check it with
        ``sandbox-registry audit entry FILE --key VKEY`` or by the README's steps."""
        try:
            return extracts.register_extract(store, project_id)
        except extracts.NotOnRegister as e:
            raise NotFoundException(str(e)) from e
        except Refused as e:
            raise ApiProblem(503, "no_signing_key", e.message_zh, str(e)) from e
