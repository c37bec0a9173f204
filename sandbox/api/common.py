"""What every controller shares: parameter types, the views kept between reads, visibility and ids.

No ``from __future__ import annotations`` in the route modules: litestar reads their
annotations at definition time (the command routes are built in a loop).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable
from typing import Annotated, Any, NamedTuple

import msgspec
from litestar.openapi.spec import OpenAPIFormat, OpenAPIType, Schema
from litestar.params import HeaderParameter, QueryParameter
from litestar.serialization import encode_json

from events.appending import new_event_id
from events.codec import canonical_json
from events.model import RecordedEvent
from events.store import EventLog, EventReader
from projections.catalog import Catalog
from projections.project import ProjectState
from projections.read_models import ReadModels
from projections.views import PastRefusal, ProjectView, past_refusal, view_of
from sandbox.api.auth import ANONYMOUS_PUBLIC
from sandbox.api.models import EventOut
from sandbox.api.problems import ApiProblem, BadInput, error_entry
from sandbox.service import Registry, refuse_unless_readable
from schemas.base import Event
from schemas.commands import LARGEST, Actor
from schemas.dates import NotAMoment, moment_asked
from schemas.lifecycle import State
from schemas.text import NAME_PATTERN, PATTERN_RULES, text_fault
from schemas.validation import MAX_ERRORS, Violation, leaves

#: The largest position, offset or version a client may name: the largest whole number a JSON
#: client reads exactly, as for every other number (SQLite's integers go further).
MAX_INT = LARGEST

IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match",
        pattern=r'^(\*|(W/)?"?[0-9]{1,15}"?)$',
        description='the project version the command expects (its ETag, e.g. `"7"`); 412 if it moved on',
    ),
]
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="a retry with the same key returns the first answer and appends nothing",
    ),
]
Limit = Annotated[int, QueryParameter(ge=1, le=500, description="page size")]
Offset = Annotated[int, QueryParameter(ge=0, le=MAX_INT, description="rows to skip")]
Position = Annotated[int, QueryParameter(ge=0, le=MAX_INT, description="a global position")]
#: litestar 2.25 drops ``ge=0`` from the document of an optional parameter (it tests the bound's
#: truth, and 0 is false); ``schema_extra`` puts it back.
ZERO_MINIMUM: dict[str, object] = {"minimum": 0}
OptionalPosition = Annotated[
    int | None, QueryParameter(ge=0, le=MAX_INT, schema_extra=ZERO_MINIMUM, description="a global position")
]
#: A lifecycle state to filter by, checked with ``one_of("state", ...)`` (any case).
LifecycleState = Annotated[
    str | None, QueryParameter(name="state", description=f"lifecycle state: {', '.join(s.value for s in State)}")
]
#: What the register is searched for (see projections.read_models.search).
SearchText = Annotated[
    str | None,
    QueryParameter(
        max_length=200,
        description="any part of a title or an applicant's name or organisation, Chinese or Latin; several words"
        " separated by spaces must all match (e.g. 数字人民币, 福州 银行)",
    ),
]
#: ``?as_of=`` is a time or a date (one string: msgspec cannot decode a union of the two).
AS_OF_SCHEMA: dict[str, object] = {
    "type": None,
    "any_of": [
        Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.DATE_TIME),
        Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.DATE),
    ],
}
AsOf = Annotated[
    str | None,
    QueryParameter(
        description="a recorded time (ISO 8601; without an offset it is China time), seconds since 1970, or a"
        " date (YYYY-MM-DD or YYYYMMDD: the end of that day in China, 00:00 +08:00 of the next)",
        schema_extra=AS_OF_SCHEMA,
    ),
]


class ViewCache:
    """Views of projects as they stand now, for reads that repeat between changes.

    A view depends on the project's state (its last position names it), the business date, and
    the program version and reference data it is evaluated against; the program version is bound
    and never changes, so an entry is used only for the same position and date and the very same
    reference data object the catalog holds now. A hit is therefore exactly the view a fresh
    evaluation would give.

    An entry also keeps the view's JSON, once for regulators and auditors and once for applicants
    (see :func:`for_reader`), encoded when first asked for: a repeated read of a project encodes
    nothing (encoding a view of 15 KB was about a fifth of such a read's instructions).
    """

    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, int, dt.date], _Cached] = OrderedDict()
        self._lock = threading.Lock()

    def body(self, state: ProjectState, catalog: Catalog, on: dt.date, reader: Actor) -> tuple[ProjectView, bytes]:
        """The view and its JSON as ``reader`` may see it."""
        entry = self._entry(state, catalog, on)
        applicant = reader.role == "applicant"
        body = entry.bodies.get(applicant)
        if body is None:  # (two threads may both encode it: the same bytes)
            body = entry.bodies[applicant] = encode_json(for_reader(entry.view, reader))
        return entry.view, body

    def _entry(self, state: ProjectState, catalog: Catalog, on: dt.date) -> _Cached:
        reference = catalog.reference()
        key = (state.project_id, state.last_position, on)
        with self._lock:
            found = self._items.get(key)
            if found is not None and found.reference is reference:
                self._items.move_to_end(key)
                return found
        entry = _Cached(reference, view_of(state, catalog, on), {})
        with self._lock:
            self._items[key] = entry
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return entry


class _Cached(NamedTuple):
    reference: object  # the catalog's reference data the view was evaluated against
    view: ProjectView
    bodies: dict[bool, bytes]  # the view's JSON, by whether its reader is an applicant


def for_reader(view: ProjectView, reader: Actor) -> ProjectView:
    """A view as a reader may see it: applicants do not get the command id of the latest append
    (it names its actor, who may be a member of the public)."""
    if reader.role != "applicant" or view.details.get("append_command") is None:
        return view
    return msgspec.structs.replace(view, details={**view.details, "append_command": None})


def current_state(models: ReadModels, registry: Registry, project_id: str, *, fresh: bool = True) -> ProjectState:
    """The project's state now, from the read models (a snapshot: no replay of its history).

    The read models follow every command of this process at once; if another process appended
    meanwhile (a ``tick`` from the CLI, say), they catch up first when ``fresh``.
    """
    state = models.current_state(project_id) if fresh else models.state(project_id)
    return state or registry.load(project_id)


def visible_state(
    models: ReadModels, registry: Registry, actor: Actor, project_id: str, *, fresh: bool = True
) -> ProjectState:
    """The project's state if this actor may read it: 404 for a project that does not exist or,
    for an applicant, belongs to another organisation (an applicant never learns that it
    exists). The role was checked by the route's guard."""
    state = current_state(models, registry, project_id, fresh=fresh)
    refuse_unless_readable(state, actor, project_id)
    return state


def one_of(field: str, value: str | None, allowed: Iterable[str]) -> str | None:
    """A query value checked against the values it may take, in any case: the value as they are
    written, or a 422 naming the field and the values (a filter that matches nothing because it
    was misspelt would look like an empty result)."""
    if value is None:
        return None
    names = list(allowed)
    for name in names:
        if name.lower() == value.lower():
            return name
    raise query_refused(field, f"须为以下之一：{'、'.join(names)}", f"must be one of {', '.join(names)}")


def query_refused(field: str, rule_zh: str, rule_en: str) -> ApiProblem:
    """A 422 for query parameters that are well-formed but cannot be answered as given."""
    return ApiProblem(
        422,
        "invalid_value",
        f"查询参数 {field} 不可用：{rule_zh}",
        f"the query parameter {field} cannot be used: {rule_en}",
        errors=[error_entry(Violation(field=field, rule=rule_en, rule_zh=rule_zh, source="query"))],
    )


def command_id(
    credential: str | None,
    key: str | None,
    command: msgspec.Struct | None = None,
    *,
    actor: Actor | None = None,
    store: EventLog | None = None,
) -> str:
    """The command id of a request: ``http:<token id>:<16 hex digits of SHA-256 of the
    Idempotency-Key>`` (a key is its token's own), else a fresh one.

    The first event of a command derives its id from the command id, and the event id is shown
    to readers who must not learn who acted (an applicant reading a public comment). So the
    command id holds nothing such a reader could guess: not the actor's name, not the key as
    sent, but the token's random id (``credential``, :func:`sandbox.api.auth.credential_of`),
    which only the registry's operators see. An auditor still derives each first event's id from
    the command id in its metadata.

    Requests without a token (the anonymous public) have no such id, so their key is scoped by
    what they send too: the same key with the same comment is a retry, with another comment
    another command.

    A request first sent before command ids took this form was recorded under the id it had
    then (:func:`earlier_command_id`): given the ``actor`` and the ``store``, a retry of it is
    given that id, so that the registry answers it as a replay and appends nothing.
    """
    if not key:
        return f"http:{new_event_id()}"
    hashed = hashlib.sha256(key.encode()).hexdigest()[:16]
    if credential is None:
        body = hashlib.sha256(msgspec.json.encode(command)).hexdigest()[:16] if command is not None else ""
        current = f"http:{ANONYMOUS_PUBLIC.id}:{hashed}:{body}"
    else:
        current = f"http:{credential}:{hashed}"
    if actor is not None and store is not None and store.command_result(current) is None:
        earlier = earlier_command_id(actor, key, command)
        if store.command_result(earlier) is not None:
            return earlier
    return current


def earlier_command_id(actor: Actor, key: str, command: msgspec.Struct | None = None) -> str:
    """The command id a request had before command ids held the token's id: ``http:<actor>:<key>``,
    the key as sent; without a token, ``http:anonymous:<key>:<16 hex digits of SHA-256 of the
    body>`` (the body as msgspec encodes the command)."""
    if actor.id == ANONYMOUS_PUBLIC.id and command is not None:
        digest = hashlib.sha256(msgspec.json.encode(command)).hexdigest()[:16]
        return f"http:{actor.id}:{key}:{digest}"
    return f"http:{actor.id}:{key}"


def request_digest(action: str, project_id: str, command: msgspec.Struct) -> str:
    """What a request asks for, in 16 hex digits: its action, project and body (keys sorted, so a
    client that writes a map in another order is still retrying). A command id used again for a
    request with another digest is refused, not answered with the first result (see
    ``CommandOptions.request``)."""
    asked = f"{action}\n{project_id}\n".encode() + canonical_json(command)
    return hashlib.sha256(asked).hexdigest()[:16]


def expected_version(if_match: str | None) -> int | None:
    if if_match is None or if_match.strip() == "*":
        return None
    text = if_match.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise BadInput("If-Match", 'must be a project version such as "7"', '须为项目版本号，如 "7"')
    return int(text)


#: The dates a command may name. The rules add months and years to them (test periods,
#: extensions, deadlines); a date near year 1 or 9999 would make every later evaluation of the
#: project overflow, so the edge refuses it before it can be recorded.
EARLIEST, LATEST = dt.date(1970, 1, 1), dt.date(2199, 12, 31)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def _day(value: object, text: bool) -> dt.date | None:
    """The day ``value`` names: a date or a time; with ``text``, also a string that starts as a
    date (one written into a draft section, such as ``start_date``)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if text and isinstance(value, str) and _ISO_DATE.match(value):
        with contextlib.suppress(ValueError):
            return dt.date.fromisoformat(value[:10])
    return None


def check_bounds(command: object, *, path: str = "", text: bool = True) -> None:
    """422 ``out_of_range`` naming every date of the command (or of typed records, at ``path``,
    without ``text``: their free text is not read for dates) outside EARLIEST..LATEST, and every
    whole number beyond ±LARGEST (2^53 - 1: a JSON client would read another number)."""
    dates = f"must be between {EARLIEST} and {LATEST}", f"须在 {EARLIEST} 至 {LATEST} 之间"
    numbers = f"must be a whole number from -{LARGEST} to {LARGEST}", f"须为 -{LARGEST} 至 {LARGEST} 之间的整数"
    wrong = []
    for where, value in leaves(command, path):
        day = _day(value, text)
        if day is not None and not EARLIEST <= day <= LATEST:
            rule, zh = dates
        elif isinstance(value, int) and not isinstance(value, bool) and not -LARGEST <= value <= LARGEST:
            rule, zh = numbers
        else:
            continue
        wrong.append(error_entry(Violation(field=where, rule=rule, rule_zh=zh)))
        if len(wrong) == MAX_ERRORS:
            break
    if wrong:
        raise ApiProblem(
            422,
            "out_of_range",
            f"日期或数值超出允许范围：{wrong[0]['field']}（{wrong[0]['rule_zh']}）",
            f"a date or a number is out of range: {wrong[0]['field']} ({wrong[0]['rule']})",
            errors=wrong,
        )


def check_names(value: object, *, path: str) -> None:
    """422 ``invalid_value`` naming every text of a program's definition or of reference records
    (at ``path``) that breaks the rule of names: no control character (but tab and newline),
    bidirectional override or zero-width character. The register, the pages and the command line
    publish them as names and labels, read by people who did not write them. (The body's schema
    cannot say it of free-form records: a schema-valid body refused by a rule is a 422.)"""
    rule, zh = PATTERN_RULES[NAME_PATTERN]
    wrong = [
        error_entry(Violation(field=where, rule=rule, rule_zh=zh, source="body"))
        for where, text in leaves(value, path)
        if text_fault(text, NAME_PATTERN) is not None
    ][:MAX_ERRORS]
    if wrong:
        raise ApiProblem(
            422,
            "invalid_value",
            f"字段 {wrong[0]['field']} 不符合规则：{zh}",
            f"field {wrong[0]['field']} breaks the rule: {rule}",
            errors=wrong,
        )


ANONYMOUS = "anonymous"


#: The metadata an applicant does not see of the public's events, and what it sees instead.
_WITHHELD: dict[str, Any] = {
    "actor": ANONYMOUS,
    "organisation": None,
    "command_id": "",
    "correlation_id": None,
    "causation_id": None,
}


#: The payload fields of an event type that only regulators and the auditor read: an assessment's
#: internal summary and working papers (the applicant sees its topic and outcome), and an
#: objector's name and contact.
PRIVATE_DATA: dict[str, tuple[str, ...]] = {
    "AssessmentFiled": ("summary", "sha256"),
    "ObjectionFiled": ("objector_name", "objector_contact"),
}


def event_out(event: RecordedEvent[Event], reader: Actor | None = None) -> EventOut:
    """One stored event for a reader. An applicant does not learn who commented or objected:
    members of the public stay anonymous to the project's applicants; nor does it read what
    :data:`PRIVATE_DATA` keeps for regulators. ``redacted`` names what was withheld
    (``data.summary`` for a payload field)."""
    metadata = event.metadata
    data = msgspec.to_builtins(event.payload)
    redacted: list[str] = []
    if reader is not None and reader.role == "applicant":
        if metadata.role == "public":
            metadata = msgspec.structs.replace(metadata, **_WITHHELD)
            redacted = sorted(_WITHHELD)
        private = [name for name in PRIVATE_DATA.get(event.type, ()) if name in data]
        for name in private:
            data[name] = None
        redacted += [f"data.{name}" for name in private]
    return EventOut(
        position=event.position,
        stream_id=event.stream_id,
        version=event.version,
        type=event.type,
        event_id=event.event_id,
        data=data,
        metadata=metadata,
        recorded_at=event.recorded_at,
        hash=event.hash,
        redacted=redacted,
    )


def one_moment(store: EventReader, as_of: str | None, position: int | None) -> dt.datetime | None:
    """The recorded time asked for, in UTC (``schemas.dates.moment_asked``, as on the command
    line; 400 naming ``as_of`` when it names none). A time or a position may be asked for, not
    both (422 ``invalid_value``), and a position no later than the head (422 ``out_of_range``;
    see ``projections.views.past_refusal``)."""
    try:
        at = moment_asked(as_of) if as_of is not None else None
    except NotAMoment as e:
        raise BadInput("as_of", str(e), e.rule_zh, "query") from None
    refused = past_refusal(at is not None, position, store.head().position if position is not None else 0)
    if refused is not None:
        raise past_refused(refused)
    return at


def past_refused(refused: PastRefusal, source: str = "query") -> ApiProblem:
    """The 422 of a past that cannot be shown, with the refusal's code (``out_of_range`` for a
    position beyond the head, wherever a position is asked for), naming the parameter and where
    it was (``query``, or ``header``)."""
    where_zh, where_en = ("查询参数", "the query parameter") if source == "query" else ("请求头", "the header")
    field, rule_en, rule_zh = refused.field, refused.rule_en, refused.rule_zh
    return ApiProblem(
        422,
        refused.code,
        f"{where_zh} {field} 不可用：{rule_zh}",
        f"{where_en} {field} cannot be used: {rule_en}",
        errors=[error_entry(Violation(field=field, rule=rule_en, rule_zh=rule_zh, source=source))],
    )
