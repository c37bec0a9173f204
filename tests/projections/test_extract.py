"""The public-only replay of a register entry: from the public events and the withheld ones as
an extract shows them, the fold gives the entry the registry serves, for generated projects."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projections.extract import ExtractError, Withheld, is_public, replay_entry, withhold
from projections.project import fold
from projections.public import register_entry
from schemas.streams import PROJECT_PREFIX
from tests.fixtures.histories import as_json, leaks, private_values, sqlite_history

seeds = st.integers(min_value=0, max_value=2**32 - 1)
untils = st.one_of(st.none(), st.dates(dt.date(2025, 3, 1), dt.date(2026, 12, 31)))


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=seeds, projects=st.integers(2, 6), until=untils)
def test_the_public_replay_gives_the_registry_entry_and_shows_nothing_private(
    seed: int, projects: int, until: dt.date | None
) -> None:
    with sqlite_history(seed=seed, projects=projects, until=until) as h:
        private = private_values(h.log())
        for pid in h.registry.project_ids():
            stream = h.store.read_stream(PROJECT_PREFIX + pid)
            served = h.read_models.register_entry(pid)
            assert as_json(register_entry(fold(stream))) == served
            items = [e if is_public(e) else withhold(e) for e in stream]
            assert as_json(replay_entry(pid, items)) == served, pid
            shown = [as_json(e) for e in items]
            assert not leaks(shown, private), leaks(shown, private)


@pytest.mark.parametrize(
    ("withheld", "missing"),
    [
        (Withheld(position=3, version=2, type="ObjectionFiled", hash="0" * 64), "objection_id"),
        (Withheld(position=3, version=2, type="InformationRequested", hash="0" * 64), "day"),
    ],
)
def test_a_withheld_event_without_its_fact_is_refused(withheld: Withheld, missing: str) -> None:
    with pytest.raises(ExtractError, match=missing):
        replay_entry("p", [withheld])
