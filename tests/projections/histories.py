"""Generated histories for the projection tests: a registry on a real SQLite file filled by
:mod:`sandbox.synthetic`, and the reference answers computed the slow, obvious way."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import msgspec

from events.model import RecordedEvent
from events.sqlite import SQLiteEventStore
from projections.catalog import Catalog
from projections.project import INITIAL, ProjectState, evolve
from projections.read_models import ReadModels
from sandbox.service import Registry
from sandbox.synthetic import Generated, SimClock, generate, sqlite_registry
from schemas import events as ev
from schemas.base import Event
from schemas.streams import PROJECT_PREFIX


@dataclass
class History:
    registry: Registry
    clock: SimClock
    store: SQLiteEventStore
    generated: Generated
    path: Path

    @property
    def read_models(self) -> ReadModels:
        assert self.registry.read_models is not None
        return self.registry.read_models

    @property
    def catalog(self) -> Catalog:
        return self.registry.catalog

    @property
    def head(self) -> int:
        return self.store.head().position

    def log(self) -> list[RecordedEvent[Event]]:
        return list(self.store.iter_all(batch=5000))


@contextmanager
def sqlite_history(
    *, seed: int, projects: int, until: dt.date | None = None, read_models: bool = True, **kw: Any
) -> Iterator[History]:
    """A registry in a temporary SQLite file, its read models maintained after every command."""
    with TemporaryDirectory(prefix="projections-") as tmp:
        path = Path(tmp) / "registry.db"
        registry, clock, store = sqlite_registry(path, read_models=read_models)
        try:
            generated = generate(registry, clock, projects=projects, seed=seed, until=until, **kw)
            yield History(registry, clock, store, generated, path)
        finally:
            store.close()


def fold_prefix(log: list[RecordedEvent[Event]], position: int) -> dict[str, ProjectState]:
    """Each project's state after the first ``position`` events of the log (the reference)."""
    states: dict[str, ProjectState] = {}
    for event in log[:position]:
        if event.stream_id.startswith(PROJECT_PREFIX):
            pid = event.stream_id.removeprefix(PROJECT_PREFIX)
            states[pid] = evolve(states.get(pid, INITIAL), event)
    return states


def as_json(value: object) -> Any:
    """A value as plain JSON data (dates as ISO text), for comparing encodings."""
    return msgspec.json.decode(msgspec.json.encode(value))


@dataclass
class Private:
    """Values the public register must never show, collected from the log."""

    texts: set[str]
    numbers: set[int]


_HASH = re.compile(r"[0-9a-f]{64}")
#: Metric figures are private; small counts are not distinctive enough to search for.
_MIN_FIGURE = 1_000


def private_values(log: list[RecordedEvent[Event]]) -> Private:
    """Assessment topics, summaries and outcomes, comment texts, objection grounds, the ids of
    commenters and objectors, metric figures, incident descriptions and losses, complaint ids and
    the named complaint contact (personal data in the statement)."""
    texts: set[str] = set()
    numbers: set[int] = set()
    for event in log:
        p = event.payload
        match p:
            case ev.AssessmentFiled():
                texts |= {p.topic, p.summary, p.outcome}
            case ev.CommentReceived():
                texts.add(p.text)
            case ev.ObjectionFiled():
                texts.add(p.grounds)
            case ev.MetricsReported():
                numbers |= {v for v in p.metrics.values() if v >= _MIN_FIGURE}
            case ev.IncidentReported():
                texts.add(p.description)
                if p.consumer_loss_yuan >= _MIN_FIGURE:
                    numbers.add(p.consumer_loss_yuan)
            case ev.ComplaintLogged():
                texts.add(p.complaint_id)
            case ev.InformationSupplied():
                texts.add(p.summary)
            case ev.DraftEdited() if p.section == "statement":
                contact = p.fields.get("complaint_contact")
                if isinstance(contact, str):
                    texts.add(contact)
            case _:
                pass
        if event.metadata.role == "public":
            texts.add(event.metadata.actor)
    return Private(texts={t for t in texts if t}, numbers=numbers)


def leaks(entry: Any, private: Private) -> list[str]:
    """Every private value found anywhere in a register entry (as JSON data)."""
    found: list[str] = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(key, f"{path}.<key>")
                walk(item, f"{path}.{key}")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, f"{path}[{i}]")
        elif isinstance(value, bool):
            return
        elif isinstance(value, int):
            # a statement's public parts are declared figures (a user cap of 5,000) that a metric
            # report may equal by chance; their texts are still checked
            if value in private.numbers and ".public." not in path:
                found.append(f"{path} = {value}")
        elif isinstance(value, str):
            found.extend(f"{path} contains {t!r}" for t in private.texts if t in value)
            if not _HASH.fullmatch(value):  # a figure written out in a text (hashes are hex noise)
                found.extend(f"{path} contains {n}" for n in private.numbers if n >= 100_000 and str(n) in value)

    walk(as_json(entry), "$")
    return found
