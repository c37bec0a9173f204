"""Pure date helpers the rules and the deciders compute with: a declared date read, months added.

They sit beside the calendar (``schemas.reference``, whose holidays count working days) so that
a command's path reads downward: the deciders and the rules both come here, never to each other
for a date.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import msgspec

from schemas.events import Value

#: The registry's business time zone: a day (a deadline, a report period, a bare date asked
#: for) is a day in China.
CHINA = ZoneInfo("Asia/Shanghai")
_BARE_DATE = re.compile(r"^\d{4}-?\d{2}-?\d{2}$")  # (ISO 8601's extended or basic form)


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
    """The moment a bare date (``2026-03-01``, or ``20260301``) names when the past is asked
    for: the end of that day in China (:func:`end_of_day`), so the registry as it stood when the
    day was over. None for anything that is not a bare date (a time is read as a time)."""
    day = parse_date(text) if _BARE_DATE.match(text) else None
    return None if day is None else end_of_day(day)


#: The rule a moment asked for keeps, in English and Chinese.
MOMENT_RULE = (
    "must be a time (ISO 8601, e.g. 2026-03-01T09:00:00+08:00; without an offset, China time),"
    " seconds since 1970, or a date (YYYY-MM-DD or YYYYMMDD: the end of that day in China)",
    "须为时间（ISO 8601，如 2026-03-01T09:00:00+08:00；不带时区即为北京时间）、1970 年以来的秒数，"
    "或日期（YYYY-MM-DD 或 YYYYMMDD：该日在中国结束之时）",
)
#: Every moment before the registry existed means the same: nothing was recorded yet.
_BEFORE_ANYTHING = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class NotAMoment(ValueError):
    """A text that names no moment the past can be asked at: the rule it broke, in English (the
    message) and in Chinese (``rule_zh``)."""

    def __init__(self, rule_en: str, rule_zh: str) -> None:
        super().__init__(rule_en)
        self.rule_zh = rule_zh


def moment_asked(text: str) -> dt.datetime:
    """The moment (in UTC) that ``text`` asks the past at, read the same way by the API's
    ``?as_of=`` and the command line's ``--as-of``: a bare date is the end of that day in China
    (:func:`day_moment`); a time is ISO 8601 (RFC 3339 or any form Python reads), in China time
    when it names no offset; a number is seconds since 1970. A moment before 1970 is 1970 (the
    registry holds nothing older). :class:`NotAMoment` for anything else, or for a time that is
    not within the years 1 to 9999 in every time zone."""
    moment = day_moment(text)
    if moment is None:
        try:
            moment = msgspec.convert(text, dt.datetime, strict=False)
        except (msgspec.ValidationError, ValueError, OverflowError):
            try:
                moment = dt.datetime.fromisoformat(text)
            except ValueError:
                raise NotAMoment(*MOMENT_RULE) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CHINA)
    try:
        moment.astimezone(CHINA)
        moment = moment.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        raise NotAMoment(
            "must be a time between years 1 and 9999 in every time zone", "须为各时区均在 1 至 9999 年之间的时间"
        ) from None
    return max(moment, _BEFORE_ANYTHING)
