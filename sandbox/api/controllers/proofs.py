"""``/api/v1/audit/checkpoint`` and ``/api/v1/audit/proof/*``: the signed checkpoint and RFC
9162 proofs. Public: anyone holding the registry's verifier key checks what these return."""

from typing import Annotated

import msgspec
from litestar import Controller, MediaType, get
from litestar.params import QueryParameter
from litestar.response import Response

from events.store import TreeLog
from sandbox import transparency
from sandbox.api import problems as p
from sandbox.api.auth import PUBLIC_SECURITY
from sandbox.api.common import MAX_INT, ZERO_MINIMUM
from sandbox.api.dependencies import NamedPort
from sandbox.api.problems import ApiProblem, error_entry
from sandbox.config import Refused
from schemas.validation import Violation

Size = Annotated[int | None, QueryParameter(ge=0, le=MAX_INT, schema_extra=ZERO_MINIMUM, description="a tree size")]


class InclusionOut(msgspec.Struct, kw_only=True):
    """An RFC 9162 §2.1.3 inclusion proof: the leaf's index (its position - 1), the tree size,
    and the hashes of the audit path, nearest the leaf first (hex)."""

    tree_size: int
    leaf_index: int
    hashes: list[str]


class ConsistencyOut(msgspec.Struct, kw_only=True, rename={"from_size": "from", "to_size": "to"}):
    """An RFC 9162 §2.1.4 consistency proof from the tree of ``from`` leaves to that of ``to`` (hex)."""

    from_size: int
    to_size: int
    hashes: list[str]


def _out_of_range(e: transparency.OutOfRange) -> ApiProblem:
    entry = error_entry(Violation(field=e.field, rule=str(e), rule_zh=e.message_zh, source="query"))
    return ApiProblem(422, "out_of_range", e.message_zh, str(e), errors=[entry])


class ProofsController(Controller):
    """``/audit/checkpoint`` and ``/audit/proof/*``: public, read-only."""

    path = "/audit"
    tags = ["audit"]
    security = PUBLIC_SECURITY

    @get("/checkpoint", sync_to_thread=True, media_type=MediaType.TEXT, responses=p.responses(503))
    def checkpoint(self, store: NamedPort[transparency.SignedLog]) -> Response[str]:
        """The log's head as a signed C2SP checkpoint: origin, tree size, base64 root hash, a blank
        line and the Ed25519 signature line. Each one served is kept, so that its consistency
        with any later one can be proved."""
        try:
            note = transparency.sign_checkpoint(store)
        except Refused as e:
            raise ApiProblem(503, "no_signing_key", e.message_zh, str(e)) from e
        return Response(note, media_type=MediaType.TEXT)

    @get("/proof/inclusion", sync_to_thread=True, responses=p.responses(400, 422))
    def inclusion(
        self,
        store: NamedPort[TreeLog],
        position: Annotated[int, QueryParameter(ge=1, le=MAX_INT, description="the event's global position")],
        tree_size: Size = None,
    ) -> InclusionOut:
        """The inclusion proof of the event at ``position`` in the tree of ``tree_size`` events
        (the head when omitted)."""
        try:
            proof = transparency.prove_inclusion(store, position, tree_size)
        except transparency.OutOfRange as e:
            raise _out_of_range(e) from e
        return InclusionOut(tree_size=proof.tree_size, leaf_index=proof.leaf_index, hashes=proof.hashes)

    @get("/proof/consistency", sync_to_thread=True, responses=p.responses(400, 422))
    def consistency(
        self,
        store: NamedPort[TreeLog],
        from_: Annotated[int, QueryParameter(name="from", ge=0, le=MAX_INT, schema_extra=ZERO_MINIMUM,
                                             description="the older tree size")],
        to: Size = None,
    ) -> ConsistencyOut:
        """The consistency proof from the tree of ``from`` events to that of ``to`` (the head
        when omitted)."""
        try:
            proof = transparency.prove_consistency(store, from_, to)
        except transparency.OutOfRange as e:
            raise _out_of_range(e) from e
        return ConsistencyOut(from_size=proof.from_size, to_size=proof.to_size, hashes=proof.hashes)
