"""Properties of the projections over random generated histories on real SQLite files.

incremental read models (refreshed after every command) = a full rebuild = the as-of view at
the head; the as-of view at any position = the fold of the log's first events; the register as
of the head = the register read model; and the public register never shows a private value.
"""

from __future__ import annotations

import datetime as dt
import random
from unittest import mock

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from projections.project import INITIAL, evolve, fold, local_date
from projections.public import register_entry
from projections.rules import GOALS, exit_criteria
from projections.views import project_view, register_as_of, view_of
from sandbox import policies
from schemas.streams import PROJECT_PREFIX
from tests.fixtures.histories import History, as_json, fold_prefix, leaks, private_values, sqlite_history

seeds = st.integers(min_value=0, max_value=2**32 - 1)
#: Stop some histories part-way (projects still live), run others to their end.
untils = st.one_of(st.none(), st.dates(dt.date(2025, 3, 1), dt.date(2026, 12, 31)))
bounded = settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check_head(h: History) -> None:
    rm = h.read_models
    head = h.head
    assert rm.position == head, "the read models are not at the head after refresh()"
    incremental = rm.dump()
    now = h.clock()
    project_ids = h.registry.project_ids()
    assert [r[0] for r in incremental["rm_projects"]] == sorted(project_ids)
    for pid in project_ids:
        stored = rm.state(pid)
        assert stored is not None
        assert stored == fold(h.store.read_stream(PROJECT_PREFIX + pid)), pid
        assert h.registry.load(pid) == stored, pid  # what commands are decided on: the snapshot
        at_head = project_view(h.store, h.catalog, pid, now=now)
        assert at_head is not None
        assert at_head == view_of(stored, h.catalog, local_date(now), head), pid
    # the register as of the head is the register read model, entry for entry
    total, entries = rm.register(limit=10_000)
    assert total == len(entries)
    assert as_json(register_as_of(h.store, position=head, now=now)) == entries
    # a rebuild from nothing gives the same tables, row for row
    rm.rebuild(batch=97)
    assert rm.dump() == incremental
    assert rm.position == head


@bounded
@given(seed=seeds, projects=st.integers(1, 5), until=untils)
def test_incremental_equals_rebuild_equals_as_of_head(seed: int, projects: int, until: dt.date | None) -> None:
    with sqlite_history(seed=seed, projects=projects, until=until) as h:
        _check_head(h)


@bounded
@given(seed=seeds, projects=st.integers(1, 4), picks=st.randoms(use_true_random=False))
def test_as_of_position_equals_fold_of_the_first_events(seed: int, projects: int, picks: random.Random) -> None:
    with sqlite_history(seed=seed, projects=projects, read_models=False) as h:
        log = h.log()
        head = len(log)
        assert [e.position for e in log] == list(range(1, head + 1))
        positions = sorted({picks.randint(1, head) for _ in range(6)} | {head})
        for p in positions:
            expected = fold_prefix(log, p)
            on = local_date(log[p - 1].recorded_at)
            for pid in h.registry.project_ids():
                view = project_view(h.store, h.catalog, pid, position=p, now=h.clock())
                if pid not in expected:
                    assert view is None, (pid, p)
                    continue
                assert view is not None
                assert view == view_of(expected[pid], h.catalog, on, p), (pid, p)
            # the register at p replays the same states
            want = [e for e in (register_entry(s) for _, s in sorted(expected.items())) if e is not None]
            assert register_as_of(h.store, position=p, now=h.clock()) == want
        # as of a recorded time: the events recorded up to then
        moment = log[positions[0] - 1].recorded_at
        cut = max(e.position for e in log if e.recorded_at <= moment)
        expected = fold_prefix(log, cut)
        for pid, state in expected.items():
            view = project_view(h.store, h.catalog, pid, at=moment, now=h.clock())
            assert view == view_of(state, h.catalog, local_date(moment), cut), pid
        want = [e for e in (register_entry(s) for _, s in sorted(expected.items())) if e is not None]
        assert register_as_of(h.store, at=moment, now=h.clock()) == want


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=seeds, projects=st.integers(2, 6), until=untils, picks=st.randoms(use_true_random=False))
def test_public_register_never_shows_a_private_value(
    seed: int, projects: int, until: dt.date | None, picks: random.Random
) -> None:
    with sqlite_history(seed=seed, projects=projects, until=until) as h:
        log = h.log()
        private = private_values(log)
        # a history cut off before anything private was said proves nothing: draw another
        assume(private.texts)
        _, entries = h.read_models.register(limit=10_000)
        for entry in entries:
            assert not leaks(entry, private), leaks(entry, private)
        for p in sorted({picks.randint(1, len(log)) for _ in range(3)} | {len(log)}):
            for entry in register_as_of(h.store, position=p, now=h.clock()):
                assert not leaks(entry, private), (p, leaks(entry, private))


@bounded
@given(seed=seeds, projects=st.integers(1, 4), until=untils, later=st.integers(0, 800))
def test_goal_criteria_are_never_breached_so_consequences_may_skip_them(
    seed: int, projects: int, until: dt.date | None, later: int
) -> None:
    """A command's consequences evaluate every exit criterion except the goals (``GOALS``: the
    test period, graduation, a voluntary exit). That is safe because a goal is reached or does
    not apply, never breached or warned about: checked for every project's state after each of
    its events, on the day of that event and ``later`` days after, and the consequences found
    with the goals skipped equal those found evaluating them too."""
    with sqlite_history(seed=seed, projects=projects, until=until, read_models=False) as h:
        states = dict.fromkeys(h.registry.project_ids(), INITIAL)
        for event in h.log():
            if not event.stream_id.startswith(PROJECT_PREFIX):
                continue
            pid = event.stream_id.removeprefix(PROJECT_PREFIX)
            state = states[pid] = evolve(states[pid], event)
            if not state.program_version:
                continue
            program = h.catalog.program(state.program_key, state.program_version)
            day = local_date(event.recorded_at)
            for today in (day, day + dt.timedelta(days=later)):
                for rule, status in zip(program.exit, exit_criteria(state, program, today), strict=True):
                    if isinstance(rule.params, GOALS):
                        assert status.status not in ("breached", "warning"), (pid, event.position, status)
                skipped = policies.consequences(state, program, today)
                with mock.patch.object(policies, "GOALS", ()):
                    assert policies.consequences(state, program, today) == skipped, (pid, event.position)


def test_the_privacy_check_finds_a_planted_leak() -> None:
    """The leak detector itself works: a private text or figure put into an entry is found."""
    with sqlite_history(seed=7, projects=4) as h:
        log = h.log()
        private = private_values(log)
        _, entries = h.read_models.register(limit=10)
        assert entries, "seed 7 must produce at least one public entry"
        text = next(iter(private.texts))
        planted = {**entries[0], "title": f"标题 {text}"}
        assert leaks(planted, private)
        if private.numbers:
            number = max(private.numbers)
            assert leaks({**entries[0], "comments": number}, private)
            assert leaks({**entries[0], "title": f"敞口 {number} 元"}, private)
