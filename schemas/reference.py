"""Reference data: e-CNY pilot areas, designated operators, wallet tier limits, holiday calendar.

Each set is its own stream in the log (``ReferenceDataUpdated`` with the whole set as
``records``); the bundled files in ``schemas/reference/`` are the first version of each set.
This module imports nothing of the project except ``schemas``.

Working days (for public notices and other deadlines) follow the mainland calendar: Monday to
Friday work, Saturday and Sunday do not, except that a listed public holiday never works and a
listed adjusted working day (调休上班, always a weekend day) always does. Periods are counted the
way the Civil Code counts them (art. 201): the day a period starts is not counted, so
``add_working_days(d, 1)`` is the next working day after ``d``, and
``working_days_between(a, b)`` counts the working days after ``a`` up to and including ``b``.
The two are inverse: ``working_days_between(d, add_working_days(d, n)) == n``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated, Any, Literal, assert_never

import msgspec

Code = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_-]*$", max_length=64)]
Dataset = Literal["pilot_areas", "operators", "wallet_tiers", "holidays"]
#: Yuan, never negative; ``None`` where a tier has no such cap.
Yuan = Annotated[int, msgspec.Meta(ge=0)]


class CalendarNotCovered(ValueError):
    """A date falls in a year the holiday calendar has no data for: counting working days there
    would silently ignore its holidays, so it is refused instead."""

    def __init__(self, year: int) -> None:
        self.year = year
        self.message_zh = f"节假日日历未包含 {year} 年，请先发布该年的节假日与调休安排"
        self.message_en = (
            f"the holiday calendar has no data for {year}: publish that year's holidays and adjusted working days first"
        )
        super().__init__(f"{self.message_zh} / {self.message_en}")


# -- e-CNY pilot areas and operators -----------------------------------------------------------


class PilotArea(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An approved e-CNY pilot area (数字人民币试点地区) and the batch that added it.

    ``level`` says what the code covers: a whole province, a city (or prefecture / new area),
    or a venue scenario such as the 2022 Winter Olympics venues. An area is approved from
    ``joined`` (inclusive) until ``withdrawn`` (exclusive), if ever withdrawn."""

    code: Code
    name_zh: str
    name_en: str
    level: Literal["province", "city", "venue"]
    batch: Annotated[int, msgspec.Meta(ge=1)]
    joined: dt.date
    withdrawn: dt.date | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if self.withdrawn is not None and self.withdrawn <= self.joined:
            raise ValueError(f"pilot area {self.code}: withdrawn must be after joined")

    def active_on(self, day: dt.date) -> bool:
        """Whether the area is an approved pilot area on ``day``."""
        return self.joined <= day and (self.withdrawn is None or day < self.withdrawn)


class Operator(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A designated e-CNY operator (指定运营机构). Designated from ``designated`` (inclusive)
    until ``withdrawn`` (exclusive), if ever withdrawn. ``code`` is its organisation id."""

    code: Code
    name_zh: str
    name_en: str
    designated: dt.date
    withdrawn: dt.date | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if self.withdrawn is not None and self.withdrawn <= self.designated:
            raise ValueError(f"operator {self.code}: withdrawn must be after designated")

    def active_on(self, day: dt.date) -> bool:
        """Whether the operator is designated on ``day``."""
        return self.designated <= day and (self.withdrawn is None or day < self.withdrawn)


class WalletTier(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The limits of one e-CNY wallet tier (钱包等级), in integer yuan; ``None`` is no cap.

    Tier 1 is the strongest identity check (opened face to face) and tier 4 the weakest (a
    mobile phone number only)."""

    tier: Annotated[int, msgspec.Meta(ge=1, le=4)]
    name_zh: str
    name_en: str
    per_payment_cap_yuan: Yuan | None
    daily_cap_yuan: Yuan | None
    balance_cap_yuan: Yuan | None
    kyc_zh: str
    kyc_en: str

    def limits(self) -> dict[str, int]:
        """The capped limits by the name of the declared boundary they bound."""
        caps = {
            "per_payment_cap_yuan": self.per_payment_cap_yuan,
            "daily_cap_yuan": self.daily_cap_yuan,
            "balance_cap_yuan": self.balance_cap_yuan,
        }
        return {name: cap for name, cap in caps.items() if cap is not None}


# -- holiday calendar --------------------------------------------------------------------------


class HolidayYear(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One year of the State Council's holiday schedule: every day off of each public holiday
    (法定节假日及调休放假日) and every adjusted working day (调休上班日)."""

    year: Annotated[int, msgspec.Meta(ge=2000, le=2100)]
    holidays: tuple[dt.date, ...]
    adjusted_working_days: tuple[dt.date, ...] = ()
    source: str = ""

    def __post_init__(self) -> None:
        for day in (*self.holidays, *self.adjusted_working_days):
            if day.year != self.year:
                raise ValueError(f"{day} is listed under {self.year}")
        for name, days in (("holidays", self.holidays), ("adjusted_working_days", self.adjusted_working_days)):
            if list(days) != sorted(set(days)):
                raise ValueError(f"{self.year} {name} must be sorted without duplicates")
        both = set(self.holidays) & set(self.adjusted_working_days)
        if both:
            raise ValueError(f"{self.year}: {min(both)} is both a holiday and an adjusted working day")
        weekdays = [d for d in self.adjusted_working_days if d.weekday() < 5]
        if weekdays:
            raise ValueError(f"{self.year}: adjusted working day {weekdays[0]} is not a Saturday or Sunday")


class HolidayCalendar(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The holiday schedule by year; a year not listed is not covered (see
    :class:`CalendarNotCovered`)."""

    years: tuple[HolidayYear, ...]
    note: str = ""

    def __post_init__(self) -> None:
        listed = [y.year for y in self.years]
        if listed != sorted(set(listed)):
            raise ValueError("years must be sorted without duplicates")

    def for_year(self, year: int) -> HolidayYear:
        """That year's schedule, or :class:`CalendarNotCovered`."""
        for entry in self.years:
            if entry.year == year:
                return entry
        raise CalendarNotCovered(year)


def is_working_day(day: dt.date, calendar: HolidayCalendar) -> bool:
    """Monday to Friday unless a public holiday; Saturday or Sunday only if an adjusted working
    day. Raises :class:`CalendarNotCovered` for a year the calendar does not list."""
    entry = calendar.for_year(day.year)
    if day in entry.holidays:
        return False
    if day in entry.adjusted_working_days:
        return True
    return day.weekday() < 5


def add_working_days(start: dt.date, n: int, calendar: HolidayCalendar) -> dt.date:
    """The ``n``-th working day after ``start`` (``start`` itself is not counted); for a negative
    ``n`` the ``|n|``-th working day before it; ``start`` for ``n == 0``."""
    step = dt.timedelta(days=1 if n >= 0 else -1)
    day, left = start, abs(n)
    while left:
        day += step
        if is_working_day(day, calendar):
            left -= 1
    return day


def working_days_between(a: dt.date, b: dt.date, calendar: HolidayCalendar) -> int:
    """The working days after ``a`` up to and including ``b``; negative (the working days after
    ``b`` up to and including ``a``) when ``b`` is before ``a``."""
    if b < a:
        return -working_days_between(b, a, calendar)
    count, day = 0, a
    while day < b:
        day += dt.timedelta(days=1)
        if is_working_day(day, calendar):
            count += 1
    return count


# -- the whole reference data ------------------------------------------------------------------


class PilotAreaSet(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The file ``pilot_areas.json``."""

    areas: tuple[PilotArea, ...]
    note: str = ""


class OperatorSet(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The file ``operators.json``."""

    operators: tuple[Operator, ...]
    note: str = ""


class WalletTierSet(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The file ``wallet_tiers.json``."""

    tiers: tuple[WalletTier, ...]
    note: str = ""


class ReferenceData(msgspec.Struct, frozen=True, kw_only=True):
    """Every reference-data set as it stands. Its methods are what the rule evaluation needs of
    reference data (``projections.rules.ReferenceView``)."""

    pilot_areas: tuple[PilotArea, ...]
    operators: tuple[Operator, ...]
    wallet_tiers: tuple[WalletTier, ...]
    holidays: HolidayCalendar

    def add_working_days(self, start: dt.date, days: int) -> dt.date:
        return add_working_days(start, days, self.holidays)

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        return working_days_between(start, end, self.holidays)

    def is_working_day(self, day: dt.date) -> bool:
        return is_working_day(day, self.holidays)

    def pilot_area(self, code: str) -> PilotArea | None:
        return next((a for a in self.pilot_areas if a.code == code), None)

    def operator(self, code: str) -> Operator | None:
        return next((o for o in self.operators if o.code == code), None)

    def tier(self, tier: int) -> WalletTier | None:
        return next((t for t in self.wallet_tiers if t.tier == tier), None)

    def is_pilot_area(self, code: str, on: dt.date) -> bool:
        area = self.pilot_area(code)
        return area is not None and area.active_on(on)

    def is_operator(self, code: str, on: dt.date) -> bool:
        operator = self.operator(code)
        return operator is not None and operator.active_on(on)

    def tier_limits(self, tier: int) -> dict[str, int] | None:
        """The caps of a tier by boundary name (``{}`` for a tier without caps), or ``None`` for
        an unknown tier."""
        found = self.tier(tier)
        return None if found is None else found.limits()

    def records(self, dataset: Dataset) -> list[dict[str, Any]]:
        """One set as the plain records a ``ReferenceDataUpdated`` event carries (dates as ISO
        strings); :func:`with_records` reads them back."""
        items: tuple[msgspec.Struct, ...]
        match dataset:
            case "pilot_areas":
                items = self.pilot_areas
            case "operators":
                items = self.operators
            case "wallet_tiers":
                items = self.wallet_tiers
            case "holidays":
                items = self.holidays.years
            case _:
                assert_never(dataset)
        return [msgspec.to_builtins(item) for item in items]


#: The type of each dataset's records, as an update gives them (see :func:`with_records`).
RECORDS: dict[str, Any] = {
    "pilot_areas": tuple[PilotArea, ...],
    "operators": tuple[Operator, ...],
    "wallet_tiers": tuple[WalletTier, ...],
    "holidays": tuple[HolidayYear, ...],
}


def with_records(ref: ReferenceData, dataset: Dataset, records: list[dict[str, Any]]) -> ReferenceData:
    """``ref`` with one set replaced by ``records`` (as published in a ``ReferenceDataUpdated``
    event), validated like the bundled files; a bad record raises ``msgspec.ValidationError``
    naming its path."""
    replace = msgspec.structs.replace
    match dataset:
        case "pilot_areas":
            areas = msgspec.convert(records, tuple[PilotArea, ...])
            _unique("pilot area code", [a.code for a in areas])
            return replace(ref, pilot_areas=areas)
        case "operators":
            operators = msgspec.convert(records, tuple[Operator, ...])
            _unique("operator code", [o.code for o in operators])
            return replace(ref, operators=operators)
        case "wallet_tiers":
            tiers = msgspec.convert(records, tuple[WalletTier, ...])
            _unique("wallet tier", [t.tier for t in tiers])
            return replace(ref, wallet_tiers=tiers)
        case "holidays":
            years = msgspec.convert(records, tuple[HolidayYear, ...])
            _unique("holiday year", [y.year for y in years])
            ordered = tuple(sorted(years, key=lambda y: y.year))
            return replace(ref, holidays=HolidayCalendar(years=ordered, note=ref.holidays.note))
        case _:
            assert_never(dataset)


def _unique(what: str, values: Sequence[str | int]) -> None:
    seen: set[str | int] = set()
    for value in values:
        if value in seen:
            raise msgspec.ValidationError(f"duplicate {what}: {value}")
        seen.add(value)
