"""Schema evolution: old events stay readable through upcasters.

v1 events are written to a real SQLite file; the store is reopened with a codec that knows a
newer version of the type and its upcasters, and the old history replays as the new type.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import msgspec
import pytest

from events.errors import UnknownEventTypeError
from events.sqlite import SQLiteEventStore
from schemas.base import Event
from tests.fixtures.stores import write
from tests.fixtures.upcasting import (
    ProductV1,
    ProductV2,
    ProductV3,
    codec_with,
    v1_to_v2,
    v2_to_v3,
    write_v1_history,
)


def test_v1_events_replay_as_v2_after_a_restart(db_path: Path) -> None:
    write_v1_history(db_path)
    codec = codec_with(ProductV2)
    codec.add_upcaster("ProductListed", 1, v1_to_v2)
    store = SQLiteEventStore(db_path, codec, create=False)
    try:
        old = [e.payload for e in store.iter_all() if e.type == "ProductListed"]
        assert old == [
            ProductV2(name="一号数据集", listed_at=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
            ProductV2(name="second", listed_at=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ]
        # new events are written as v2 and read straight back
        now = datetime(2024, 6, 1, tzinfo=UTC)
        store.append([write("dataset-3", ProductV2(name="third", listed_at=now))], command_id="c3")
        [third] = store.read_stream("dataset-3")
        assert third.payload == ProductV2(name="third", listed_at=now)
        stored = {e.position: e.schema_version for e in store.iter_stored()}
        assert stored == {1: 1, 2: 1, 3: 1, 4: 2}  # history itself is never rewritten
        assert store.verify().ok
    finally:
        store.close()


def test_a_chain_of_upcasters_runs_in_order(db_path: Path) -> None:
    write_v1_history(db_path)
    codec = codec_with(ProductV3)

    @codec.upcaster("ProductListed", 2)
    def _(data: dict[str, Any]) -> dict[str, Any]:
        return v2_to_v3(data)

    codec.add_upcaster("ProductListed", 1, v1_to_v2)
    store = SQLiteEventStore(db_path, codec, create=False)
    try:
        [first] = store.read_stream("dataset-1", to_version=1)
        assert first.payload == ProductV3(
            name="一号数据集", listed_at=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), update_frequency="unknown"
        )
    finally:
        store.close()


def test_a_missing_upcaster_is_an_unknown_event_type(db_path: Path) -> None:
    write_v1_history(db_path)
    codec = codec_with(ProductV3)
    codec.add_upcaster("ProductListed", 1, v1_to_v2)  # but none from 2 to 3
    store = SQLiteEventStore(db_path, codec, create=False)
    try:
        with pytest.raises(UnknownEventTypeError, match=r"no upcaster .* from schema version 2 to 3"):
            store.read_stream("dataset-1")
        assert [e.type for e in store.read_after(0, types=["Noted"])] == ["Noted"]
    finally:
        store.close()


def test_a_newer_schema_version_than_known_is_refused(db_path: Path) -> None:
    store = SQLiteEventStore(db_path, codec_with(ProductV2))
    store.append(
        [write("dataset-1", ProductV2(name="x", listed_at=datetime(2024, 1, 1, tzinfo=UTC)))], command_id="c1"
    )
    store.close()
    older = SQLiteEventStore(db_path, codec_with(ProductV1), create=False)
    try:
        with pytest.raises(UnknownEventTypeError, match="newer than this registry knows"):
            older.read_stream("dataset-1")
    finally:
        older.close()


def test_an_unregistered_type_is_refused_on_read_and_on_write(db_path: Path) -> None:
    write_v1_history(db_path)
    store = SQLiteEventStore(db_path, codec_with(), create=False)
    try:
        with pytest.raises(UnknownEventTypeError, match="ProductListed"):
            list(store.iter_all())
        with pytest.raises(UnknownEventTypeError):
            store.append([write("dataset-9", ProductV1(title="x"))], command_id="c9")
        assert store.head().position == 3
    finally:
        store.close()


def test_registering_an_older_version_after_a_newer_one_is_refused() -> None:
    codec = codec_with(ProductV2)
    with pytest.raises(ValueError, match="already registered"):
        codec.register(ProductV1)
    # an old instance cannot be written once the type moved on
    with pytest.raises(UnknownEventTypeError):
        codec.encode(ProductV1(title="x"))
    assert codec.type_for("ProductListed") is ProductV2


def test_payloads_are_stored_as_canonical_json() -> None:
    codec = codec_with(ProductV2)
    data = codec.encode(ProductV2(name="é", listed_at=datetime(2024, 1, 1, tzinfo=UTC)))
    assert data == '{"listed_at":"2024-01-01T00:00:00Z","name":"é"}'.encode()
    assert msgspec.json.decode(data) == {"listed_at": "2024-01-01T00:00:00Z", "name": "é"}


def test_payloads_recorded_before_gates_public_notice_and_named_objectors_still_decode() -> None:
    """A program version without stages, topics or public fields, an objection without its
    objector and a notice without its published text decode with the defaults that keep their
    meaning: no gate, no topic, nothing published, an objector nobody named."""
    import json

    from sandbox.registry import make_codec
    from schemas import events as ev
    from schemas.bundled import PROGRAM_FILES, _read

    codec = make_codec()
    old = json.loads(_read("programs", PROGRAM_FILES[0]))
    for rule in old["admission"]:
        del rule["stage"]
    del old["assessment_topics"], old["public_fields"]
    published = codec.decode_payload(
        "ProgramVersionPublished", 1, json.dumps({"definition": old, "changes": []}).encode()
    )
    assert isinstance(published, ev.ProgramVersionPublished)
    definition = published.definition
    assert {r.stage for r in definition.admission} == {"admission"} and definition.assessment_topics == ()
    assert not any(definition.public_fields.by_section().values()) and definition.durations.breach_review_days == 10
    objection = codec.decode_payload("ObjectionFiled", 1, b'{"objection_id": "obj-9", "grounds": "g"}')
    assert isinstance(objection, ev.ObjectionFiled) and objection.objector_contact is None
    notice = codec.decode_payload(
        "PublicNoticeOpened",
        1,
        json.dumps({"starts_on": "2025-03-03", "ends_on": "2025-03-31", "days": 20, "unit": "working",
                    "statement_hash": "0" * 64}).encode(),
    )
    assert isinstance(notice, ev.PublicNoticeOpened) and notice.public_statement == {} and notice.public_sha256 is None


class ProgramPublishedV1(Event, frozen=True, kw_only=True):
    """A program version as version 1 of the payload stored it: its definition as plain data."""

    event_type: ClassVar[str] = "ProgramVersionPublished"
    schema_version: ClassVar[int] = 1
    definition: dict[str, Any]
    changes: list[str] = []


def version_1_definition(*, with_criterion: bool) -> dict[str, Any]:
    """The bundled fintech definition as version 1 stored it: the test period in its durations
    too (18 months there, 12 in the criterion), or in its durations alone."""
    import json

    from schemas.bundled import PROGRAM_FILES, _read

    old: dict[str, Any] = json.loads(_read("programs", PROGRAM_FILES[0]))
    old["durations"] |= {"max_test_months": 18, "max_extensions": 2, "extension_months": 3,
                         "extension_request_days_before_end": 45}
    if not with_criterion:
        old["exit"] = [r for r in old["exit"] if r["params"]["check"] != "test_period"]
    return old


def test_a_version_1_program_keeps_its_test_period_in_one_place(db_path: Path) -> None:
    """Version 1 kept the test period twice; the readers took the criterion's copy. Replayed,
    the durations lose their copy and the criterion stays what was read; a definition that had
    no criterion gains one stating its durations' values, in both languages."""
    from sandbox.registry import make_codec
    from schemas import events as ev
    from schemas import programs as p

    store = SQLiteEventStore(db_path, codec_with(ProgramPublishedV1))
    for key, criterion in (("with", True), ("without", False)):
        old = ProgramPublishedV1(definition={**version_1_definition(with_criterion=criterion), "key": key})
        store.append([write(f"program-{key}", old)], command_id=key)
    store.close()

    store = SQLiteEventStore(db_path, make_codec(), create=False)
    try:
        replayed = [e.payload for e in store.iter_all() if isinstance(e.payload, ev.ProgramVersionPublished)]
        assert store.verify().ok
    finally:
        store.close()
    kept, gained = (e.definition for e in replayed)
    assert "max_test_months" not in msgspec.structs.asdict(kept.durations)
    assert kept.test_period() == p.TestPeriod(max_months=12, max_extensions=1, extension_months=6)
    assert gained.test_period() == p.TestPeriod(
        max_months=18, max_extensions=2, extension_months=3, request_days_before_end=45
    )
    [rule] = [r for r in gained.exit if isinstance(r.params, p.TestPeriod)]
    assert "18个月" in rule.label_zh and "at most 2 extensions of up to 3 months" in rule.label_en
    assert len(gained.exit) == len(kept.exit) and len({r.id for r in gained.exit}) == len(gained.exit)


def test_a_version_1_program_without_a_severity_definition_reads_the_one_it_was_read_with() -> None:
    """Before severity was program data, the code defined it (DESIGN §2.1); such a version
    replays with that definition, and one that stated its own keeps it."""
    import json

    from sandbox.deciders.incidents import severity_of
    from sandbox.registry import make_codec
    from schemas import events as ev
    from schemas.bundled import load_programs

    codec = make_codec()

    def replayed(definition: dict[str, Any]) -> ev.ProgramVersionPublished:
        data = json.dumps({"definition": definition, "changes": []}).encode()
        event = codec.decode_payload("ProgramVersionPublished", 1, data)
        assert isinstance(event, ev.ProgramVersionPublished)
        return event

    old = version_1_definition(with_criterion=True)
    del old["incident_severity"]
    severity = replayed(old).definition.incident_severity
    assert severity == load_programs()[0].incident_severity
    assert [severity_of(severity, "outage", 0, m)[0] for m in (240, 241)] == [2, 1]
    own = version_1_definition(with_criterion=True) | {"incident_severity": {"rules": [], "default_severity": 2}}
    assert replayed(own).definition.incident_severity.default_severity == 2


class ProgramPublishedV2(ProgramPublishedV1, frozen=True, kw_only=True):
    """A program version as version 2 of the payload stored it."""

    event_type: ClassVar[str] = "ProgramVersionPublished"
    schema_version: ClassVar[int] = 2


def test_a_version_2_program_keeps_how_late_a_report_may_be_in_one_place(db_path: Path) -> None:
    """Version 2 durations kept a copy of the ``report_timeliness`` criterion's days (10 and 30),
    which nothing read. Replayed, each bundled definition as version 2 stored it reads as the
    bundled definition, the criterion's days unchanged, and the log still verifies."""
    import json

    from sandbox.registry import make_codec
    from schemas import events as ev
    from schemas import programs as p
    from schemas.bundled import PROGRAM_FILES, _read, load_programs

    store = SQLiteEventStore(db_path, codec_with(ProgramPublishedV2))
    for name in PROGRAM_FILES:
        old: dict[str, Any] = json.loads(_read("programs", name))
        old["durations"] |= {"report_warning_days": 10, "report_suspension_days": 30}
        store.append([write(f"program-{old['key']}", ProgramPublishedV2(definition=old))], command_id=name)
    store.close()

    store = SQLiteEventStore(db_path, make_codec(), create=False)
    try:
        replayed = [e.payload.definition for e in store.iter_all() if isinstance(e.payload, ev.ProgramVersionPublished)]
        assert store.verify().ok
    finally:
        store.close()
    assert replayed == list(load_programs())
    lateness = [r.params for d in replayed for r in d.exit if isinstance(r.params, p.ReportTimeliness)]
    assert lateness and {(late.warning_days, late.suspension_days) for late in lateness} == {(10, 30)}
