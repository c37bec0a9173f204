"""A registry created with the bundled programs of an earlier release (version 1 without stage
gates, assessment topics or public fields) is brought up to the bundled definitions as new
program versions; the projects already submitted keep the version they bound to."""

from __future__ import annotations

import datetime as dt

import pytest

from sandbox import catalog_service
from sandbox.program_upgrade import same_rules, upgrade_bundled
from schemas import commands as c
from schemas.bundled import load_program, load_programs
from schemas.errors import DomainError
from tests.fixtures.programs import as_first_released
from tests.fixtures.world import ALICE, World


@pytest.fixture
def old_world(monkeypatch: pytest.MonkeyPatch) -> World:
    """A registry initialised by the earlier release."""
    with monkeypatch.context() as patch:
        patch.setattr(catalog_service, "load_programs", lambda: tuple(as_first_released(p) for p in load_programs()))
        return World()


def test_an_old_registry_is_upgraded_to_the_bundled_programs(old_world: World) -> None:
    w = old_world
    fintech = w.registry.program("fintech-sandbox", 1)
    assert fintech.assessment_topics == () and not same_rules(fintech, load_program("fintech-sandbox"))
    submitted = w.create("fintech-sandbox")
    w.fintech_application(submitted)
    w.do(submitted, ALICE, c.Submit())
    draft = w.create("fintech-sandbox")

    today = w.clock.today
    upgraded = upgrade_bundled(w.registry, today, today)
    assert [(d.key, d.version, d.effective_from) for d in upgraded] == [
        (p.key, 2, today) for p in load_programs()
    ]
    for bundled in load_programs():
        latest = w.registry.program_versions(bundled.key)[-1]
        assert latest.version == 2 and same_rules(latest, bundled)
    # the project submitted under version 1 keeps it; the draft and every later one take version 2
    assert w.state(submitted).program_version == 1
    assert w.registry.bound_program(w.state(submitted), today).assessment_topics == ()
    assert w.registry.bound_program(w.state(draft), today).version == 2
    # the event says what changed; a second run publishes nothing
    head = w.head()
    assert upgrade_bundled(w.registry, today, today) == [] and w.head() == head


def test_an_upgrade_takes_effect_today_or_later(old_world: World) -> None:
    w = old_world
    today, head = w.clock.today, w.head()
    with pytest.raises(DomainError) as refused:
        upgrade_bundled(w.registry, today - dt.timedelta(days=1), today)
    assert refused.value.code == "invalid_value" and refused.value.params["field"] == "effective_from"
    assert w.head() == head
    later = today + dt.timedelta(days=30)
    upgrade_bundled(w.registry, later, today)
    assert w.registry.program_in_force("fintech-sandbox", today).version == 1
    assert w.registry.program_in_force("fintech-sandbox", later).version == 2


def test_a_registry_up_to_date_publishes_nothing() -> None:
    w = World()
    head = w.head()
    assert upgrade_bundled(w.registry, w.clock.today, w.clock.today) == [] and w.head() == head
