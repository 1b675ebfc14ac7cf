"""Where "now" comes from.

Core code never calls ``datetime.now()``: it receives ``now``/``today`` as a parameter, and the
edges (handlers, schedulers) take it from a :class:`Clock`. Tests use :class:`FixedClock` so
that deadlines, reminders and "days late" are reproducible without sleeping.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta, tzinfo
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo

logger = logging.getLogger(__name__)

DEFAULT_TZ = "Asia/Ho_Chi_Minh"


@runtime_checkable
class Clock(Protocol):
    """Anything that can tell the current, timezone-aware time."""

    def now(self) -> datetime:
        """Return the current time as an aware datetime."""
        ...


def _as_tz(tz: tzinfo | str) -> tzinfo:
    return ZoneInfo(tz) if isinstance(tz, str) else tz


class SystemClock:
    """The real wall clock, expressed in one timezone (the bot's local time)."""

    __slots__ = ("tz",)

    def __init__(self, tz: tzinfo | str = DEFAULT_TZ) -> None:
        self.tz = _as_tz(tz)

    def now(self) -> datetime:
        return datetime.now(self.tz)

    def today(self) -> date:
        """The local calendar date (deadlines are whole local days)."""
        return self.now().date()

    def __repr__(self) -> str:
        return f"SystemClock({self.tz})"


class FixedClock:
    """A clock that only moves when told to; for tests and demos."""

    __slots__ = ("_now",)

    def __init__(self, dt: datetime) -> None:
        self._now = self._check(dt)

    @staticmethod
    def _check(dt: datetime) -> datetime:
        if dt.tzinfo is None or dt.utcoffset() is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        return dt

    @property
    def tz(self) -> tzinfo:
        assert self._now.tzinfo is not None
        return self._now.tzinfo

    def now(self) -> datetime:
        return self._now

    def today(self) -> date:
        return self._now.date()

    def set(self, dt: datetime) -> None:
        """Jump to ``dt`` (aware)."""
        self._now = self._check(dt)

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by ``delta`` and return the new time."""
        self._now = self._now + delta
        return self._now

    def __repr__(self) -> str:
        return f"FixedClock({self._now.isoformat()})"


class ShiftedClock:
    """The wall clock moved to another day: the local demo's ``--today 2022-12-20``.

    Time still passes (reminders and "now" move on), only the calendar is shifted, so the
    sample plans of 2021-2023 can be explored as if they were current.
    """

    __slots__ = ("_offset", "tz")

    def __init__(self, today: date, tz: tzinfo | str = DEFAULT_TZ,
                 real: Clock | None = None) -> None:
        self.tz = _as_tz(tz)
        now = (real or SystemClock(self.tz)).now().astimezone(self.tz)
        self._offset = datetime.combine(today, now.timetz()) - now

    def now(self) -> datetime:
        return datetime.now(self.tz) + self._offset

    def today(self) -> date:
        return self.now().date()

    def __repr__(self) -> str:
        return f"ShiftedClock({self.now().isoformat()})"
