"""The outside facts the rules read: which facts a program's rules know, open disputes, a data
asset's pledges and unregistered changes, designations withdrawn."""

from __future__ import annotations

import datetime as dt

from projections.project import DECLARED_PLEDGE, Pledge, ProjectState, declared_pledge
from projections.rules.declared import declared_value
from projections.rules.outcome import ReferenceView
from schemas import programs as p


def open_facts(state: ProjectState, trigger: str, resolving: str) -> list[int]:
    opened = [f for f in state.facts if f.trigger == trigger]
    resolved = [f for f in state.facts if f.trigger == resolving]
    return [f.position for f in opened] if len(opened) > len(resolved) else []


#: The external facts a kind of rule reads, besides the triggers an ``external_event`` rule lists
#: (the rules below read them from here: an opened fact, then the one that resolves it).
FACTS_READ: dict[type[p.Params], tuple[str, ...]] = {
    p.NoOpenObjection: ("ownership_dispute", "ownership_dispute_resolved"),
    p.Dormancy: ("trade_made",),
    p.ChangeRegistration: ("material_change", "material_change_unregistered"),
}


def known_facts(program: p.ProgramDefinition) -> tuple[str, ...]:
    """The external facts the program's rules read, in the order its rules name them: a fact
    of another name would be recorded and change nothing (a misspelt ``pilot_area_withdrawn``
    would leave a forced exit undone)."""
    names: list[str] = []
    for rule in (*program.admission, *program.exit):
        if isinstance(rule.params, p.ExternalEvent):
            names.extend(rule.params.triggers)
        names.extend(FACTS_READ.get(type(rule.params), ()))
    return tuple(dict.fromkeys(names))


def designations_withdrawn(
    state: ProjectState, program: p.ProgramDefinition, ref: ReferenceView, today: dt.date
) -> list[tuple[str, str]]:
    """The designations the project was admitted on (its pilot area, its designated operator:
    the ``pilot_area`` and ``operator`` conditions it met, not waived) that the reference data
    does not hold ``today``: (the fact that records it, what was withdrawn). A record withdrawn,
    withdrawn with an earlier date (a correction) or removed is withdrawn alike; a condition
    waived was never a designation to lose."""
    waived = {w.condition_id for w in state.waivers}
    out: list[tuple[str, str]] = []
    for rule in program.admission:
        if rule.id in waived:
            continue
        params = rule.params  # (two kinds of the rules are designations; the others are passed over)
        if isinstance(params, p.PilotArea):
            code = declared_value(state, params.field)
            if isinstance(code, str) and not ref.is_pilot_area(code, today):
                out.append(("pilot_area_withdrawn", code))
        elif isinstance(params, p.Operator):
            named = declared_value(state, params.field)
            candidates = [state.organisation, *([named] if isinstance(named, str) else [])]
            if not any(ref.is_operator(code, today) for code in candidates):
                out.append(("operator_withdrawn", ", ".join(candidates)))
    return out


def outstanding_pledge(state: ProjectState) -> Pledge | None:
    """The pledge registered and not yet released or realised, or the one the application
    declared (``product.pledged``) while it has not ended; None if the asset is unencumbered."""
    registered = next((x for x in state.pledges if x.status == "registered"), None)
    if registered is not None:
        return registered
    if any(x.pledge_id == DECLARED_PLEDGE for x in state.pledges):
        return None  # (the declared pledge ended)
    return declared_pledge(state.section("product"), state.field_positions, state.admitted_on)


def pledge_outstanding(state: ProjectState) -> bool:
    """Whether a pledge is outstanding (see :func:`outstanding_pledge`)."""
    return outstanding_pledge(state) is not None


def unregistered_changes(state: ProjectState) -> list[int]:
    """The positions of the material changes no change registration covers: each change is
    matched, in order, with the earliest unused registration recorded before it and effective
    on or before its day; the fact ``material_change_unregistered`` is such a change by name."""
    unused = list(state.changes)
    out: list[int] = []
    for fact in state.facts:
        if fact.trigger == "material_change_unregistered":
            out.append(fact.position)
        elif fact.trigger == "material_change":
            # (a fact not stored yet has position 0: it comes after every registration)
            before = [x for x in unused if fact.position == 0 or x.position < fact.position]
            match = next((x for x in before if x.effective_on <= fact.on), None)
            if match is None:
                out.append(fact.position)
            else:
                unused.remove(match)
    return out
