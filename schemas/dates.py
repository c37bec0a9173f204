"""Pure date helpers the rules and the deciders compute with: a declared date read, months added.

They sit beside the calendar (``schemas.reference``, whose holidays count working days) so that
a command's path reads downward: the deciders and the rules both come here, never to each other
for a date.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from schemas.events import Value

#: The registry's business time zone: a day (a deadline, a report period, a bare date asked
#: for) is a day in China.
CHINA = ZoneInfo("Asia/Shanghai")
_BARE_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def months_later(day: dt.date, months: int) -> dt.date:
    """``day`` plus ``months`` calendar months, never past ``date.max`` (the deciders bound the
    dates a command may carry; this keeps a replay of older history from overflowing)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    if year > dt.MAXYEAR:
        return dt.date.max
    for candidate_day in range(day.day, 0, -1):
        try:
            return dt.date(year, month, candidate_day)
        except ValueError:
            continue
    raise ValueError("unreachable")


def parse_date(value: Value) -> dt.date | None:
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def end_of_day(day: dt.date) -> dt.datetime:
    """The moment a day in China is over (00:00 +08:00 of the next day; the last moment there
    is for the last day a date can name)."""
    if day == dt.date.max:
        return dt.datetime.max.replace(tzinfo=CHINA)
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0, 0), CHINA)


def day_moment(text: str) -> dt.datetime | None:
    """The moment a bare date (``2026-03-01``) names when the past is asked for: the end of that
    day in China (:func:`end_of_day`), so the registry as it stood when the day was over. None
    for anything that is not a bare date (a time is read as a time)."""
    day = parse_date(text) if _BARE_DATE.match(text) else None
    return None if day is None else end_of_day(day)
