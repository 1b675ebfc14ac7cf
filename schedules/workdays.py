"""Vietnamese working days: which days a reminder may fall on.

Public holidays come from the maintained ``holidays`` package (Tết Nguyên đán, Giỗ Tổ Hùng
Vương, 30/4, 1/5, 2/9 and its extra day, days off swapped by government decision), so nothing
here is a hand-kept calendar. A Saturday that the government turned into a working day (e.g.
04/05/2024, swapped for 29/04/2024) counts as a working day.

Pure functions: no clock is read, every date is a parameter.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays

from bot.errors import DateInputError

logger = logging.getLogger(__name__)

COUNTRY = "VN"
WEEKEND = frozenset({5, 6})
"""Saturday and Sunday (``date.weekday()`` numbers)."""
MAX_SEARCH_DAYS = 60
"""No run of days off is this long; a longer search means a broken calendar, not a holiday."""

_ONE_DAY = timedelta(days=1)


@lru_cache(maxsize=64)
def _calendar(year: int) -> tuple[frozenset[date], frozenset[date]]:
    """Holidays and weekend working days of ``year``, computed once per year.

    Neighbouring years are generated too because a swap may cross the new year (a Saturday
    of late December worked in exchange for a day off in January).
    """
    years = [y for y in (year - 1, year, year + 1) if 1 <= y <= 9999]
    table = holidays.country_holidays(COUNTRY, years=years)
    days_off = frozenset(d for d in table if d.year == year)
    weekend_work = frozenset(d for d in table.weekend_workdays if d.year == year)
    logger.debug("Calendar %s: %s holidays, %s weekend working days",
                 year, len(days_off), len(weekend_work))
    return days_off, weekend_work


def _as_date(d: date) -> date:
    """Accept a ``datetime`` too (it is a ``date`` subclass but hashes differently)."""
    if isinstance(d, datetime):
        return d.date()
    if not isinstance(d, date):
        raise DateInputError(f"Giá trị không phải là một ngày: {d!r}.")
    return d


def _step(d: date, delta: timedelta) -> date:
    try:
        return d + delta
    except OverflowError:
        raise DateInputError("Ngày nằm ngoài phạm vi lịch mà bot hỗ trợ.") from None


def holiday_name(d: date) -> str | None:
    """Vietnamese name of the public holiday on ``d`` ("Tết Nguyên Đán"), or ``None``."""
    d = _as_date(d)
    if d not in _calendar(d.year)[0]:
        return None
    return _names(d.year).get(d)


@lru_cache(maxsize=16)
def _names(year: int) -> dict[date, str]:
    """Vietnamese holiday names of ``year`` (only for messages, so kept apart)."""
    return dict(holidays.country_holidays(COUNTRY, years=year, language="vi").items())


def is_working_day(d: date) -> bool:
    """True when state offices work on ``d``: not a weekend (unless swapped) nor a holiday."""
    d = _as_date(d)
    days_off, weekend_work = _calendar(d.year)
    if d.weekday() in WEEKEND:
        return d in weekend_work
    return d not in days_off


def previous_working_day(d: date) -> date:
    """``d`` itself when it is a working day, else the closest working day before it."""
    d = _as_date(d)
    for _ in range(MAX_SEARCH_DAYS):
        if is_working_day(d):
            return d
        d = _step(d, -_ONE_DAY)
    raise DateInputError("Không tìm thấy ngày làm việc nào trước ngày đã cho.")


def next_working_day(d: date) -> date:
    """``d`` itself when it is a working day, else the closest working day after it."""
    d = _as_date(d)
    for _ in range(MAX_SEARCH_DAYS):
        if is_working_day(d):
            return d
        d = _step(d, _ONE_DAY)
    raise DateInputError("Không tìm thấy ngày làm việc nào sau ngày đã cho.")


def working_days_between(a: date, b: date) -> int:
    """Working days in ``[a, b)`` (like ``numpy.busday_count``); negative when ``b < a``.

    From today ``a`` to a deadline ``b`` this counts the working days left before the
    deadline day, today included.
    """
    a, b = _as_date(a), _as_date(b)
    if b < a:
        return -working_days_between(b, a)
    count = 0
    d = a
    while d < b:
        if is_working_day(d):
            count += 1
        d += _ONE_DAY
    return count
