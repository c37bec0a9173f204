"""A register entry replayed from its public events alone (pure): what a verifiable register
extract shows of a project's stream, and the fold that turns it back into the entry.

A project's stream holds public events (the project's name, applicants, submission, notice,
decisions, test period: nothing the register does not show) and private ones (drafts,
documents, assessments, comments, objections, reports, incidents). An extract gives every
public event whole, so anyone can recompute its hash, and every private one *withheld*: its
position, version, hash and type, and for the four kinds that change the entry, the one
public fact each contributes (an objection's id, the day a request for information was made
or answered). Replaying the extract (:func:`replay_entry`) is the project fold
(:mod:`projections.project`) over the public events and a stand-in for each withheld event
that changes the entry, then :func:`projections.public.register_entry`; it gives the entry the
registry serves, since the entry reads nothing a stand-in leaves out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

import msgspec

from events.model import RecordedEvent
from projections.project import fold
from projections.public import RegisterEntry, register_entry
from schemas import events as ev
from schemas.base import Event, EventMetadata
from schemas.dates import CHINA
from schemas.streams import project_stream

#: The event types shown whole: every field of their data and metadata may be read by anyone.
PUBLIC_TYPES: frozenset[type[Event]] = frozenset(
    {
        ev.DraftCreated,
        ev.PartnerAdded,
        ev.PartnerWithdrawn,
        ev.ApplicationSubmitted,
        ev.ApplicationWithdrawn,
        ev.IntakeAccepted,
        ev.PublicNoticeOpened,
        ev.PublicNoticeClosed,
        ev.ObjectionDisposed,
        ev.ProjectAdmitted,
        ev.ApplicationRejected,
        ev.ProjectGraduated,
        ev.TestStarted,
        ev.ExtensionGranted,
        ev.TestPeriodEnded,
        ev.ProjectSuspended,
        ev.ProjectReinstated,
        ev.ExitInitiated,
        ev.ExitConfirmed,
        ev.ProjectTerminated,
        ev.ProjectRevoked,
    }
)
PUBLIC_TYPE_NAMES: frozenset[str] = frozenset(t.event_type for t in PUBLIC_TYPES)


class Withheld(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A private event of the stream as an extract shows it: where it is, its hash, its type,
    and the public fact it contributes to the entry (if any)."""

    position: int
    version: int
    type: str
    hash: str
    #: an objection's id (ObjectionFiled), so that its disposal, a public event, finds it
    objection_id: str | None = None
    #: the business day of a status step the entry's history shows (InformationRequested/Supplied)
    on: dt.date | None = None


def _day(recorded: RecordedEvent[Event]) -> dt.date:
    return recorded.metadata.occurred_at.astimezone(CHINA).date()


#: The withheld kinds that move the status on a day the entry's history shows.
_STEPS = frozenset({"InformationRequested", "InformationSupplied"})
#: The stand-in of each withheld kind that changes the entry, for the fold: a payload whose
#: private fields are empty. Other withheld kinds change no field of the entry and are skipped.
_STAND_IN: dict[str, Callable[[Withheld], Event]] = {
    "CommentReceived": lambda w: ev.CommentReceived(comment_id="", text=""),
    "ObjectionFiled": lambda w: ev.ObjectionFiled(objection_id=w.objection_id or "", grounds=""),
    "InformationRequested": lambda w: ev.InformationRequested(items=[]),
    "InformationSupplied": lambda w: ev.InformationSupplied(summary=""),
}
WITHHELD_KINDS_THAT_COUNT: frozenset[str] = frozenset(_STAND_IN)


class ExtractError(ValueError):
    """An extract the replay cannot read (a withheld event lacking the fact it must state)."""


def withhold(recorded: RecordedEvent[Event]) -> Withheld:
    """The withheld form of a private event (the registry's side)."""
    payload = recorded.payload
    return Withheld(
        position=recorded.position,
        version=recorded.version,
        type=recorded.type,
        hash=recorded.hash,
        objection_id=payload.objection_id if isinstance(payload, ev.ObjectionFiled) else None,
        on=_day(recorded) if recorded.type in _STEPS else None,
    )


def is_public(recorded: RecordedEvent[Event]) -> bool:
    return type(recorded.payload) in PUBLIC_TYPES


def _stand_in(w: Withheld, project_id: str) -> RecordedEvent[Event] | None:
    make = _STAND_IN.get(w.type)
    if make is None:
        return None
    if w.type == "ObjectionFiled" and not w.objection_id:
        raise ExtractError(f"the withheld objection at position {w.position} states no objection_id")
    if w.type in _STEPS and w.on is None:
        raise ExtractError(f"the withheld {w.type} at position {w.position} states no day")
    on = w.on or dt.date(1970, 1, 1)
    noon = dt.datetime.combine(on, dt.time(12), tzinfo=CHINA).astimezone(dt.UTC)
    return RecordedEvent(
        position=w.position,
        stream_id=project_stream(project_id),
        version=w.version,
        type=w.type,
        event_id="",
        payload=make(w),
        metadata=EventMetadata(actor="", role="withheld", occurred_at=noon),
        recorded_at=noon,
        hash=w.hash,
    )


Item = RecordedEvent[Event] | Withheld


def replay_entry(project_id: str, items: Iterable[Item]) -> RegisterEntry | None:
    """The register entry of a project replayed from its extract: the public events (decoded)
    and the withheld ones, in stream order."""

    def events() -> Iterable[RecordedEvent[Event]]:
        for item in items:
            if isinstance(item, Withheld):
                stand_in = _stand_in(item, project_id)
                if stand_in is not None:
                    yield stand_in
            else:
                yield item

    return register_entry(fold(events()))


#: How an entry is replayed from an extract, as the extract states it.
REPLAY: dict[str, str] = {
    "en": (
        "Fold the stream's events in version order with the registry's project fold, then take the"
        " public register entry of the state. Public events are given whole (their hashes can be"
        " recomputed). Withheld events are private; each shows its position, version, hash and type,"
        " and the four kinds that change the entry are folded as stand-ins: CommentReceived adds one"
        " comment, ObjectionFiled opens the objection of the id it states, InformationRequested and"
        " InformationSupplied move the status to returned_for_info and submitted on the day they"
        " state. Other withheld kinds change no field of the entry. The entry's comments and open or"
        " total objections, and those two status steps, rest on the types and facts the registry"
        " states for withheld events: their hashes prove that events exist at those positions, not"
        " what they say."
    ),
    "zh": (
        "按版本顺序以登记库的项目折叠重放本流的事件，再取其公开登记条目。公开事件完整给出（可重算其哈希）。"
        "隐去的事件属非公开信息，只给出位置、版本、哈希和类型；其中改变条目的四类以替身重放："
        "CommentReceived 计一条意见，ObjectionFiled 以所述编号开启一项异议，"
        "InformationRequested 与 InformationSupplied 于所述日期将状态改为退回补充材料与已提交。"
        "其他隐去的事件不改变条目的任何字段。条目中的意见数、异议的总数与未决数以及上述两种状态变化，"
        "依据的是登记库对隐去事件所述的类型和事实：其哈希只证明这些位置上确有事件，不证明其内容。"
    ),
}
