"""``/api/v1/reference/{dataset}``: the reference data in force (pilot areas, operators, wallet
tiers, the holiday calendar), read by anyone and replaced by an approver."""

import contextlib

import msgspec
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from events.store import EventReader
from sandbox.api import problems as p
from sandbox.api.auth import PUBLIC_SECURITY, SECURITY, role_in
from sandbox.api.common import (
    IdempotencyKey,
    IfMatch,
    check_bounds,
    check_names,
    command_id,
    expected_version,
    request_digest,
)
from sandbox.api.dependencies import NamedPort
from sandbox.api.models import ReferenceOut, ReferenceUpdate
from sandbox.service import Registry
from schemas.commands import Actor
from schemas.reference import RECORDS, Dataset
from schemas.streams import REFERENCE_PREFIX


def _reference_out(registry: Registry, store: EventReader, dataset: Dataset, status: int) -> Response[ReferenceOut]:
    """A dataset as it stands, with its version as the ``ETag``. The version is read before the
    records: an update landing between the two makes the ETag older than the records (a later
    If-Match is refused, safe), never newer (which would let a change the client did not see be
    overwritten)."""
    version = store.stream_version(REFERENCE_PREFIX + dataset)
    position = store.head().position
    records = registry.reference(as_of_position=position).records(dataset)
    body = ReferenceOut(dataset=dataset, records=records, position=position, version=version)
    return Response(body, status_code=status, headers={"ETag": f'"{version}"'})


class ReferenceController(Controller):
    path = "/reference"
    tags = ["reference"]

    @get("/{dataset:str}", sync_to_thread=True, security=PUBLIC_SECURITY, responses=p.responses(400))
    def get_reference(
        self, registry: NamedDependency[Registry], store: NamedPort[EventReader], dataset: FromPath[Dataset]
    ) -> Response[ReferenceOut]:
        """One reference dataset in force: e-CNY pilot areas, designated operators, wallet tiers or
        the public-holiday calendar that working days are counted with. ``ETag`` is its version."""
        return _reference_out(registry, store, dataset, 200)

    @post(
        "/{dataset:str}",
        sync_to_thread=True,
        security=SECURITY,
        guards=[role_in({"approver"})],
        status_code=201,
        responses=p.responses(*p.CREATE, 412),
    )
    def update_reference(
        self,
        registry: NamedDependency[Registry],
        store: NamedPort[EventReader],
        dataset: FromPath[Dataset],
        data: JSONBody[ReferenceUpdate],
        actor: NamedDependency[Actor],
        credential: NamedDependency[str | None],
        if_match: IfMatch = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[ReferenceOut]:
        """Replace one reference dataset (roles: approver), e.g. publish next year's holiday calendar.
        The records are validated like the bundled files; the event records what changed. The
        records replace the whole set: send the ``ETag`` read with them as ``If-Match``, and a change
        made meanwhile is refused (412) instead of overwritten."""
        # the typed dates and numbers of the records (a pilot area that joined in year 1 would be one
        # for ever, a cap of 10^30 yuan no cap at all);
        # records that do not convert are left to the registry, which names every bad one
        check_names(data.records, path="records")
        with contextlib.suppress(msgspec.ValidationError, ValueError):
            check_bounds(msgspec.convert(data.records, RECORDS[dataset]), path="records", text=False)
        registry.update_reference(
            dataset,
            data.records,
            actor,
            command_id=command_id(credential, idempotency_key, actor=actor, store=registry.store),
            changes=data.changes,
            expected_version=expected_version(if_match),
            request=request_digest("update_reference", dataset, data) if idempotency_key else None,
        )
        return _reference_out(registry, store, dataset, 201)
