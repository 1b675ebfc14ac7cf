"""Reminder policy: on which days each open task is reminded, and what today's digest holds.

Rules (from the issue):

* A task with a due date is reminded ``offsets`` days before it (default 7, 3, 1 and on the
  day), then the day after it and every ``overdue_every`` days until it is done.
* Reminders fall on Vietnamese working days. A reminder day that is a weekend or holiday moves
  to the working day *before* it; the deadline itself never moves. An overdue reminder cannot
  move onto or before the deadline (it would no longer be "overdue"), so when the working day
  before is not after the deadline it moves to the working day after instead.
* When several reminders of one due date land on the same day they merge; the day keeps the
  most urgent bucket and the item shows the real number of calendar days left.
* Recurring duties expand into occurrences, each reminded like a deadline. Overdue reminders
  of one occurrence stop when the next occurrence falls due (the newer one takes over).
* Done or removed tasks (status other than ``"open"``) are never reminded.

Everything here is pure: ``today`` is always a parameter and no I/O happens.
"""

from __future__ import annotations

import calendar
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.errors import BotError, ConfigError, DateInputError
from schedules.workdays import next_working_day, previous_working_day

logger = logging.getLogger(__name__)

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DEFAULT_OFFSETS: tuple[int, ...] = (7, 3, 1, 0)
DEFAULT_OVERDUE_EVERY = 7
DEFAULT_DIGEST_TIME = time(7, 30)
OPEN = "open"
MAX_OFFSET = 366
MAX_MISSED_DAYS = 366
"""Longest downtime whose reminders are replayed; older overdue work still shows as overdue."""
MIN_YEAR, MAX_YEAR = 1900, 2999
DIGEST_RETRY_DELAYS: tuple[timedelta, ...] = tuple(
    timedelta(minutes=m) for m in (5, 15, 30, 60, 120))
"""Waits before trying a failed digest again, after the 1st, 2nd... failed run; then the last."""
DIGEST_RETRY_UNTIL = time(20, 0)
"""No digest retry after this local time: the reminders go into the next digest instead."""

OVERDUE = "overdue"
TODAY = "today"
BUCKET_LABELS: dict[str, str] = {
    OVERDUE: "Quá hạn",
    TODAY: "Hôm nay",
    "in_1": "Còn 1 ngày",
    "in_3": "Còn 3 ngày",
    "in_7": "Còn 7 ngày",
}
"""Vietnamese headings of the default buckets; :func:`bucket_label` covers any offset."""

FREQUENCIES = ("weekly", "monthly", "quarterly", "semiannual", "annual")
DEFAULT_WEEKDAY = 4  # Friday
_VN_WEEKDAYS = {2: 0, 3: 1, 4: 2, 5: 3, 6: 4, 7: 5, 8: 6, 1: 6}
"""Recurrence.day of a weekly duty, Vietnamese style: 2 = thứ Hai ... 7 = thứ Bảy, 8 or 1 =
Chủ nhật -> ``date.weekday()``."""

# Largest shift of a reminder by the working-day rule (Tết plus weekends is about 10 days).
_SHIFT_MARGIN = timedelta(days=31)
_ONE_DAY = timedelta(days=1)


class PolicyError(BotError):
    """A recurrence or window the policy cannot work with (message is Vietnamese)."""


class RecurrenceLike(Protocol):
    """What :func:`occurrences` reads from ``bot.models.Recurrence`` (or a stored copy)."""

    @property
    def freq(self) -> str: ...

    @property
    def day(self) -> int | None: ...

    @property
    def month_of_period(self) -> str | None: ...


class TaskLike(Protocol):
    """The minimum the policy needs from a stored task.

    Optional attributes read with ``getattr`` when present: ``recurrence``,
    ``doc_period_start``, ``doc_period_end`` (window of a recurring duty), ``snoozed_until``
    and ``done_through`` (occurrences of a recurring duty due on or before it are done).
    """

    @property
    def id(self) -> int: ...

    @property
    def due(self) -> date | None: ...

    @property
    def status(self) -> str: ...


@dataclass(frozen=True, slots=True)
class DigestItem:
    """One task in one day's digest."""

    task_id: int
    bucket: str
    """``"overdue"``, ``"today"`` or ``"in_N"`` (N = the offset); see :data:`BUCKET_LABELS`."""
    due: date
    """The due date this reminder is about (for a recurring duty: the occurrence)."""
    days: int
    """Calendar days from the reminder day to ``due``; negative when overdue."""
    missed_on: date | None = None
    """For :func:`missed_items`: the day the reminder should have been sent."""

    @property
    def label(self) -> str:
        """Vietnamese heading of the bucket."""
        return bucket_label(self.bucket)


# --------------------------------------------------------------------------- settings


def normalize_offsets(offsets: Iterable[int]) -> tuple[int, ...]:
    """Unique offsets, largest first; a clear Vietnamese error for anything else."""
    try:
        values = list(offsets)
    except TypeError:
        raise ConfigError(
            "Các mốc nhắc trước hạn phải là danh sách số ngày, ví dụ 7,3,1,0."
        ) from None
    out: set[int] = set()
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"Mốc nhắc trước hạn không hợp lệ: {value!r} (phải là số ngày).")
        if not 0 <= value <= MAX_OFFSET:
            raise ConfigError(
                f"Mốc nhắc trước hạn phải từ 0 đến {MAX_OFFSET} ngày (nhận được {value})."
            )
        out.add(value)
    if not out:
        raise ConfigError("Cần ít nhất một mốc nhắc trước hạn, ví dụ 7,3,1,0.")
    return tuple(sorted(out, reverse=True))


def parse_offsets(text: str) -> tuple[int, ...]:
    """Read offsets written as "7,3,1,0" (or with spaces / semicolons) from a setting."""
    parts = [p for p in re.split(r"[\s,;]+", text.strip()) if p]
    if not parts or not all(p.isdigit() for p in parts):
        raise ConfigError(
            f"Mốc nhắc trước hạn không hợp lệ: {text!r}. Hãy viết các số ngày, ví dụ 7,3,1,0."
        )
    return normalize_offsets(int(p) for p in parts)


def _check_every(overdue_every: int) -> int:
    if isinstance(overdue_every, bool) or not isinstance(overdue_every, int) or overdue_every < 0:
        raise ConfigError(
            f"Chu kỳ nhắc việc quá hạn phải là số ngày không âm (nhận được {overdue_every!r})."
        )
    return overdue_every


def parse_digest_time(text: str) -> time:
    """Read the digest time of a setting: "07:30", "7:30", "7h30", "7h" -> ``time``."""
    match = re.fullmatch(r"\s*(\d{1,2})\s*(?:[:hHgG.]\s*(\d{1,2})?)?\s*", text or "")
    if match:
        hour, minute = int(match.group(1)), int(match.group(2) or 0)
        if hour < 24 and minute < 60:
            return time(hour, minute)
    raise ConfigError(
        f"Giờ gửi bản tin không hợp lệ: {text!r}. Hãy viết dạng giờ:phút, ví dụ 07:30."
    )


# --------------------------------------------------------------------------- buckets


def bucket_for_offset(offset: int) -> str:
    """Bucket key of a before-deadline offset: 0 -> "today", 3 -> "in_3"."""
    return TODAY if offset == 0 else f"in_{offset}"


def bucket_for_days(days: int) -> str:
    """Bucket key of an item seen from its digest day, by the calendar days really left: a
    reminder moved off a weekend is shown under what it says ("còn 1 ngày" under "Còn 1
    ngày", never under "Hôm nay"), so a heading never contradicts its lines."""
    if days < 0:
        return OVERDUE
    return TODAY if days == 0 else f"in_{days}"


def bucket_rank(bucket: str) -> int:
    """Display order of a bucket key: overdue, today, then fewer days left first."""
    return _bucket_rank(bucket)


def bucket_label(bucket: str) -> str:
    """Vietnamese heading of a bucket key, also for offsets outside the defaults."""
    if bucket in BUCKET_LABELS:
        return BUCKET_LABELS[bucket]
    match = re.fullmatch(r"in_(\d+)", bucket)
    if match:
        return f"Còn {int(match.group(1))} ngày"
    raise PolicyError(f"Nhóm nhắc việc không xác định: {bucket!r}.")


def bucket_order(offsets: Iterable[int] = DEFAULT_OFFSETS) -> list[str]:
    """Bucket keys in display order, most urgent first (overdue, today, in_1, in_3, in_7)."""
    return [OVERDUE] + [bucket_for_offset(o) for o in sorted(normalize_offsets(offsets))]


def _bucket_rank(bucket: str) -> int:
    if bucket == OVERDUE:
        return -1
    if bucket == TODAY:
        return 0
    return int(bucket[3:])


def _sort_key(item: DigestItem) -> tuple[int, date, int, date]:
    return (_bucket_rank(item.bucket), item.due, item.task_id, item.missed_on or date.min)


# --------------------------------------------------------------------------- dates


def _check_date(d: date, what: str) -> date:
    if isinstance(d, datetime):
        d = d.date()
    if not isinstance(d, date):
        raise DateInputError(f"{what} không phải là một ngày: {d!r}.")
    if not MIN_YEAR <= d.year <= MAX_YEAR:
        raise DateInputError(
            f"{what} ({d.strftime('%d/%m/%Y')}) nằm ngoài khoảng năm {MIN_YEAR} đến {MAX_YEAR}."
        )
    return d


def _before_deadline_day(due: date, offset: int) -> date:
    return previous_working_day(due - timedelta(days=offset))


def _overdue_day(due: date, nominal: date) -> date:
    """Working day of an overdue reminder: the day before, unless that is not overdue yet."""
    day = previous_working_day(nominal)
    return day if day > due else next_working_day(nominal)


def _reminder_map(
    due: date,
    start: date,
    end: date,
    offsets: Sequence[int],
    overdue_every: int,
    overdue_before: date | None = None,
) -> dict[date, str]:
    """Reminder days of one due date within ``[start, end]`` -> bucket key.

    ``overdue_before``: overdue reminders stop on that day (the next occurrence's due date).
    """
    result: dict[date, str] = {}
    if start > end:
        return result
    for offset in sorted(offsets):  # most urgent first, so it wins a merged day
        day = _before_deadline_day(due, offset)
        if start <= day <= end:
            result.setdefault(day, bucket_for_offset(offset))
    first = due + _ONE_DAY
    if overdue_every == 0:
        nominals: Iterable[date] = [first]
    else:
        # Only nominal days near the window can shift into it.
        lo = start - _SHIFT_MARGIN
        k = max(0, -(-(lo - first).days // overdue_every))
        step = timedelta(days=overdue_every)
        nominals = _date_range(first + k * step, end + _SHIFT_MARGIN, step)
    for nominal in nominals:
        if overdue_before is not None and nominal >= overdue_before:
            break
        day = _overdue_day(due, nominal)
        if overdue_before is not None and day >= overdue_before:
            break
        if start <= day <= end:
            result.setdefault(day, OVERDUE)
    return result


def _date_range(first: date, last: date, step: timedelta) -> Iterable[date]:
    day = first
    while day <= last:
        yield day
        day += step


def reminder_days(
    due: date,
    today_from: date | None = None,
    offsets: Iterable[int] = DEFAULT_OFFSETS,
    overdue_every: int = DEFAULT_OVERDUE_EVERY,
    until: date | None = None,
) -> list[date]:
    """Days (working days, sorted, no repeats) a task due on ``due`` is reminded.

    Only days in ``[today_from, until]`` are returned; ``today_from`` defaults to the earliest
    reminder, ``until`` to one year after the due date (overdue reminders go on until done, so
    the caller bounds them).
    """
    due = _check_date(due, "Hạn")
    offs = normalize_offsets(offsets)
    every = _check_every(overdue_every)
    if today_from is not None:
        start = _check_date(today_from, "Ngày bắt đầu")
    else:
        start = due - timedelta(days=max(offs)) - _SHIFT_MARGIN
    if until is not None:
        end = _check_date(until, "Ngày kết thúc")
    else:
        end = max(due, start) + timedelta(days=365)
    return sorted(_reminder_map(due, start, end, offs, every))


def apply_snooze(
    days: Iterable[date], snoozed_until: date | None, due: date | None = None
) -> list[date]:
    """Drop reminders before ``snoozed_until``; bring the task back when the snooze ends.

    The task reappears on the first working day on/after ``snoozed_until`` when it is then
    due or overdue (``due`` on or before that day). Without ``due`` it reappears there only
    if the snooze dropped a reminder. The result is sorted and has no repeats.
    """
    days = sorted(set(days))
    if snoozed_until is None:
        return days
    snoozed_until = _check_date(snoozed_until, "Ngày hết tạm hoãn")
    kept = [d for d in days if d >= snoozed_until]
    resume = next_working_day(snoozed_until)
    dropped = len(kept) < len(days)
    if (due is not None and due <= resume) or (due is None and dropped):
        kept = sorted(set(kept) | {resume})
    return kept


# --------------------------------------------------------------------------- recurrences


def _clamp(year: int, month: int, day: int | None) -> date:
    """``day`` of the month, clamped to its length; the last day when ``day`` is None."""
    last = calendar.monthrange(year, month)[1]
    return date(year, month, last if day is None else min(day, last))


def _check_recurrence(recurrence: RecurrenceLike) -> tuple[str, int | None, str | None]:
    freq = str(getattr(recurrence, "freq", "") or "").strip().lower()
    if freq not in FREQUENCIES:
        raise PolicyError(
            f"Không hiểu chu kỳ lặp lại {freq!r} (chỉ hỗ trợ: hằng tuần, hằng tháng, hằng quý, "
            "6 tháng, hằng năm)."
        )
    day = getattr(recurrence, "day", None)
    if day is not None:
        valid = isinstance(day, int) and not isinstance(day, bool) and (
            day in _VN_WEEKDAYS if freq == "weekly" else 1 <= day <= 31
        )
        if not valid:
            raise PolicyError(f"Ngày của việc định kỳ không hợp lệ: {day!r}.")
    mop = getattr(recurrence, "month_of_period", None)
    if mop not in (None, "first", "last"):
        raise PolicyError(f"Tháng trong kỳ không hợp lệ: {mop!r} (chỉ \"first\" hoặc \"last\").")
    return freq, day, mop


def occurrences(recurrence: RecurrenceLike, start: date, end: date) -> list[date]:
    """Due dates of a recurring duty within ``[start, end]``, sorted.

    * weekly: each Friday, or ``day`` as a Vietnamese weekday (2 = thứ Hai ... 8 = Chủ nhật);
    * monthly: the end of each month, or ``day`` (clamped: 31 -> 28/29 Feb);
    * quarterly / semiannual: the end of each period, or ``day`` of the period's first or
      last month (``month_of_period``; last when only ``day`` is given, end of that month when
      only ``month_of_period`` is given): "trước ngày 15 của tháng cuối quý" -> 15/3, 15/6...;
    * annual: 31/12, or ``day`` of the ``month`` attribute when the object has one (else of
      January for ``month_of_period="first"``, December otherwise).
    """
    freq, day, mop = _check_recurrence(recurrence)
    start = _check_date(start, "Ngày bắt đầu")
    end = _check_date(end, "Ngày kết thúc")
    if start > end:
        return []
    if freq == "weekly":
        weekday = DEFAULT_WEEKDAY if day is None else _VN_WEEKDAYS[day]
        first = start + timedelta(days=(weekday - start.weekday()) % 7)
        return list(_date_range(first, end, timedelta(days=7)))
    dates: list[date] = []
    for year in range(start.year, end.year + 1):
        for month in _months(freq, mop, getattr(recurrence, "month", None)):
            d = _clamp(year, month, day)
            if start <= d <= end:
                dates.append(d)
    return sorted(dates)


def _months(freq: str, mop: str | None, month: int | None) -> list[int]:
    if freq == "monthly":
        return list(range(1, 13))
    if freq == "annual":
        if isinstance(month, int) and not isinstance(month, bool):
            if not 1 <= month <= 12:
                raise PolicyError(f"Tháng của việc định kỳ hằng năm không hợp lệ: {month!r}.")
            return [month]
        return [1 if mop == "first" else 12]
    length = 3 if freq == "quarterly" else 6
    shift = 0 if mop == "first" else length - 1
    return [m + shift for m in range(1, 13, length)]


# --------------------------------------------------------------------------- digest


@dataclass(frozen=True, slots=True)
class _Due:
    due: date
    overdue_before: date | None


def _is_open(task: TaskLike) -> bool:
    return str(getattr(task, "status", "")).strip().lower() == OPEN


def _due_dates(
    task: TaskLike,
    start: date,
    end: date,
    max_offset: int,
    window_start: date | None,
    window_end: date | None,
) -> list[_Due]:
    """The due dates to remind for ``task`` around ``[start, end]`` (occurrences if recurring)."""
    due = getattr(task, "due", None)
    recurrence = getattr(task, "recurrence", None)
    if recurrence is not None:
        w_start = getattr(task, "doc_period_start", None) or window_start
        w_end = getattr(task, "doc_period_end", None) or window_end
        # Without a period, look far enough back for the occurrence still overdue and far
        # enough ahead for every before-deadline reminder of the window.
        w_start = w_start or start - timedelta(days=400)
        w_end = w_end or end + timedelta(days=max_offset + 400)
        try:
            occ = occurrences(recurrence, w_start, w_end)
        except BotError as exc:
            logger.warning("Task %s: recurrence ignored: %s", getattr(task, "id", "?"), exc)
            occ = []
        if occ:
            done_through = getattr(task, "done_through", None)
            pairs = zip(occ, [*occ[1:], None], strict=True)
            return [_Due(d, nxt) for d, nxt in pairs if done_through is None or d > done_through]
    return [_Due(due, None)] if due is not None else []


def _task_items(
    task: TaskLike,
    start: date,
    end: date,
    offsets: tuple[int, ...],
    overdue_every: int,
    window_start: date | None,
    window_end: date | None,
    snoozed_until: date | None,
) -> list[tuple[date, DigestItem]]:
    """Every (reminder day, item) of ``task`` with the day in ``[start, end]``."""
    if not _is_open(task):
        return []
    out: list[tuple[date, DigestItem]] = []
    resume = next_working_day(snoozed_until) if snoozed_until else None
    for entry in _due_dates(task, start, end, max(offsets), window_start, window_end):
        due = _check_date(entry.due, "Hạn")
        days = _reminder_map(due, start, end, offsets, overdue_every, entry.overdue_before)
        if snoozed_until is not None and resume is not None:
            days = {d: b for d, b in days.items() if d >= snoozed_until}
            active = entry.overdue_before is None or resume < entry.overdue_before
            if due <= resume and active and start <= resume <= end and resume not in days:
                days[resume] = OVERDUE if due < resume else TODAY
        for day, bucket in days.items():
            out.append((day, DigestItem(task.id, bucket, due, (due - day).days)))
    return out


def _missed_day(item: DigestItem) -> date:
    return item.missed_on or date.min


def _safe_items(
    task: TaskLike,
    start: date,
    end: date,
    offsets: tuple[int, ...],
    overdue_every: int,
    window_start: date | None,
    window_end: date | None,
    snoozed: Mapping[int, date] | None,
) -> list[tuple[date, DigestItem]]:
    """:func:`_task_items`, but one task with a broken stored date cannot stop the digest."""
    try:
        return _task_items(task, start, end, offsets, overdue_every, window_start, window_end,
                           _snooze_of(task, snoozed))
    except BotError as exc:
        logger.warning("Task %s left out of the digest: %s", getattr(task, "id", "?"), exc)
        return []


def _snooze_of(task: TaskLike, snoozed: Mapping[int, date] | None) -> date | None:
    if snoozed is not None and task.id in snoozed:
        return snoozed[task.id]
    return getattr(task, "snoozed_until", None)


def digest_items(
    tasks: Iterable[TaskLike],
    today: date,
    offsets: Iterable[int] = DEFAULT_OFFSETS,
    overdue_every: int = DEFAULT_OVERDUE_EVERY,
    *,
    window_start: date | None = None,
    window_end: date | None = None,
    snoozed: Mapping[int, date] | None = None,
) -> list[DigestItem]:
    """The items of ``today``'s digest, most urgent bucket first, then by due date.

    ``window_start``/``window_end`` bound the occurrences of recurring tasks that carry no
    ``doc_period_start``/``doc_period_end``; ``snoozed`` maps task id -> snooze end and wins
    over a task's own ``snoozed_until``.
    """
    today = _check_date(today, "Ngày hôm nay")
    offs = normalize_offsets(offsets)
    every = _check_every(overdue_every)
    items: list[DigestItem] = []
    for task in tasks:
        for _, item in _safe_items(task, today, today, offs, every, window_start, window_end,
                                   snoozed):
            items.append(item)
    return sorted(items, key=_sort_key)


def missed_items(
    tasks: Iterable[TaskLike],
    last_digest_day: date | None,
    today: date,
    offsets: Iterable[int] = DEFAULT_OFFSETS,
    overdue_every: int = DEFAULT_OVERDUE_EVERY,
    *,
    window_start: date | None = None,
    window_end: date | None = None,
    snoozed: Mapping[int, date] | None = None,
    collapse: bool = True,
) -> list[DigestItem]:
    """Items that should have gone out after ``last_digest_day`` and before ``today``.

    Each carries ``missed_on``. With ``collapse`` (default) only the latest missed reminder of
    each (task, due date) is kept, and none whose (task, due date) is already in today's
    digest (today's item is fresher). ``last_digest_day=None`` means no digest was ever sent:
    nothing is missed. Tasks done since then are not returned.
    """
    today = _check_date(today, "Ngày hôm nay")
    if last_digest_day is None:
        return []
    last_digest_day = _check_date(last_digest_day, "Ngày gửi bản tin gần nhất")
    start, end = last_digest_day + _ONE_DAY, today - _ONE_DAY
    if start > end:
        return []
    if (end - start).days >= MAX_MISSED_DAYS:
        logger.warning("Digest down since %s; replaying only the last %s days",
                       last_digest_day, MAX_MISSED_DAYS)
        start = end - timedelta(days=MAX_MISSED_DAYS - 1)
    offs = normalize_offsets(offsets)
    every = _check_every(overdue_every)
    tasks = list(tasks)
    found: list[DigestItem] = []
    for task in tasks:
        for day, item in _safe_items(task, start, end, offs, every, window_start, window_end,
                                     snoozed):
            found.append(DigestItem(item.task_id, item.bucket, item.due, item.days, day))
    if collapse:
        latest: dict[tuple[int, date], DigestItem] = {}
        for item in found:
            key = (item.task_id, item.due)
            if key not in latest or _missed_day(item) > _missed_day(latest[key]):
                latest[key] = item
        current = {(i.task_id, i.due) for i in digest_items(
            tasks, today, offs, every, window_start=window_start, window_end=window_end,
            snoozed=snoozed)}
        found = [i for k, i in latest.items() if k not in current]
    return sorted(found, key=_sort_key)


# --------------------------------------------------------------------------- time


def digest_instant(day: date, at: time = DEFAULT_DIGEST_TIME, tz: tzinfo = TZ) -> datetime:
    """The aware moment of ``day``'s digest (07:30 in Hà Nội by default)."""
    if isinstance(day, datetime):
        day = day.date()
    if not isinstance(day, date) or not isinstance(at, time) or not isinstance(tz, tzinfo):
        raise PolicyError("Thời điểm gửi bản tin cần một ngày, một giờ và một múi giờ hợp lệ.")
    return datetime.combine(day, at.replace(tzinfo=None), tzinfo=tz)


def next_digest_instant(
    now: datetime, at: time = DEFAULT_DIGEST_TIME, tz: tzinfo = TZ
) -> datetime:
    """The first digest moment strictly after ``now`` (which must be timezone-aware)."""
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise PolicyError("Thời điểm hiện tại phải kèm múi giờ.")
    local = now.astimezone(tz)
    instant = digest_instant(local.date(), at, tz)
    if instant <= now:
        instant = digest_instant(local.date() + _ONE_DAY, at, tz)
    return instant


def digest_retry_at(
    now: datetime,
    tries: int,
    tz: tzinfo = TZ,
    until: time = DIGEST_RETRY_UNTIL,
    delays: Sequence[timedelta] = DIGEST_RETRY_DELAYS,
) -> datetime | None:
    """When to try again a digest that failed ``tries`` times today (5 min, 15 min, 30 min,
    1 h, then every 2 h); None when that would be after ``until`` (local) or on another day:
    its reminders then go into the chat's next digest."""
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise PolicyError("Thời điểm hiện tại phải kèm múi giờ.")
    if tries < 1 or not delays:
        raise PolicyError("Số lần gửi bản tin phải từ 1 trở lên.")
    at = now + delays[min(tries, len(delays)) - 1]
    local = now.astimezone(tz)
    cutoff = datetime.combine(local.date(), until.replace(tzinfo=None), tzinfo=tz)
    return at if at <= cutoff else None
