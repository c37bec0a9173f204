"""As-of views use the reference data as it stood at the position asked about."""

from __future__ import annotations

from projections.catalog import Catalog
from projections.project import fold, local_date
from projections.views import project_view, reference_as_of, view_of
from sandbox.service import SYSTEM
from sandbox.synthetic import generate, memory_registry


def test_reference_as_of_a_position_before_and_after_a_reference_update() -> None:
    registry, clock = memory_registry()
    generate(registry, clock, projects=3, seed=31, until=registry.clock().date().replace(month=3))
    before = registry.store.head().position
    areas = registry.reference().records("pilot_areas")
    withdrawn = [{**a, "withdrawn": "2025-02-01"} if a["code"] == "fuzhou" else a for a in areas]
    registry.update_reference("pilot_areas", withdrawn, SYSTEM, command_id="ref:withdraw-fuzhou")
    after = registry.store.head().position
    catalog = Catalog(registry.store)  # a fresh catalog: nothing cached
    for position in (1, before // 2, before, after):
        assert reference_as_of(catalog, position) == catalog.reference(as_of_position=position), position
    assert reference_as_of(catalog, before) != reference_as_of(catalog, after)
    assert reference_as_of(catalog, after) == catalog.reference() == reference_as_of(catalog, None)
    # a view as of an earlier position evaluates its rules against the data of that moment
    pid = registry.project_ids()[0]
    events = registry.store.read_stream(f"project-{pid}", as_of_position=before)
    view = project_view(registry.store, catalog, pid, position=before, now=clock())
    on = local_date(registry.store.read_after(before - 1, limit=1)[0].recorded_at)
    assert view == view_of(fold(events), Catalog(registry.store), on, before)


def test_a_moment_is_evaluated_on_the_day_it_closes_in_china() -> None:
    """A bare date asks for the end of that day (00:00 +08:00 of the next): its rules are
    evaluated on that day, not on the next one, on which nothing has happened yet."""
    import datetime as dt

    from projections.views import day_closed_by
    from schemas.dates import CHINA, end_of_day

    day = dt.date(2026, 3, 1)
    assert day_closed_by(end_of_day(day)) == day
    assert day_closed_by(end_of_day(day).astimezone(dt.UTC)) == day  # (16:00 UTC the day before)
    assert day_closed_by(dt.datetime(2026, 3, 1, 0, 0, 1, tzinfo=CHINA)) == day
    assert day_closed_by(dt.datetime(2026, 3, 1, 23, 59, tzinfo=CHINA)) == day
    assert day_closed_by(dt.datetime(2026, 3, 1, 15, 59, tzinfo=dt.UTC)) == day
    assert day_closed_by(dt.datetime(2026, 3, 1, 16, 1, tzinfo=dt.UTC)) == dt.date(2026, 3, 2)
    assert day_closed_by(end_of_day(dt.date.max)) == dt.date.max
    assert day_closed_by(dt.datetime.min.replace(tzinfo=CHINA)) == dt.date.min
