"""What a task list shows and in which order: the core behind /nhiemvu, /sapden, /quahan.

The store keeps open tasks sorted by (due date, code) with undated tasks last. That order is
already the one people want on a list — overdue first (most overdue first), then what falls
due within :data:`SOON_DAYS`, then the rest, undated last — so a board never sorts: it takes
the store's ordered list, counts each group by bisection and turns only the shown page into
:class:`Entry` objects.

A board of open tasks does not even build that list: its ``tasks`` is the store's
:class:`~bot.store.TaskSeq`, which looks tasks up only for the page shown.

Nothing is memoised (issue 11: no memo keyed on an object's identity, and a process-local
list goes stale when other worker processes share a PostgreSQL database): each page is built
from the store. That costs little because a board is lazy: ``bench.commands`` at 10,000
tasks, an admin's board of every unit 0.3 ms p50 fresh, pages 2-6 after page 1 0.3 ms p50
with the former memo and without it (see the README's figures at 100,000).
"""

from __future__ import annotations

import logging
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from bot.records import StoredTask
from bot.store import Store

logger = logging.getLogger(__name__)

SOON_DAYS = 7
"""Tasks due within this many days of today count as "sắp đến hạn"."""
PAGE_SIZE = 10

LEAD = "lead"
SUPPORT = "support"

OVERDUE = "overdue"
SOON = "soon"
LATER = "later"
DONE = "done"

_NO_DUE = date.max


def _due_key(task: StoredTask) -> date:
    return task.due or _NO_DUE


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of a list: the task, its group and the role of the listed units in it."""

    task: StoredTask
    bucket: str
    """OVERDUE, SOON, LATER or DONE."""
    role: str | None
    """LEAD or SUPPORT for the listed units; None when the list covers every unit."""


def days_left_phrase(days: int, due_today: str = "hôm nay") -> str:
    """"còn 3 ngày", ``due_today`` or "quá hạn 2 ngày", for lists, details and digests."""
    if days > 0:
        return f"còn {days} ngày"
    if days == 0:
        return due_today
    return f"quá hạn {-days} ngày"


def bucket_of(task: StoredTask, today: date, soon_days: int = SOON_DAYS) -> str:
    """The group a task belongs to on ``today``."""
    if not task.is_open:
        return DONE
    if task.due is None:
        return LATER
    if task.due < today:
        return OVERDUE
    return SOON if task.due <= today + timedelta(days=soon_days) else LATER


def role_of(task: StoredTask, keys: frozenset[str] | None) -> str | None:
    """LEAD when one of ``keys`` leads the task, SUPPORT otherwise; None for every unit."""
    if keys is None:
        return None
    return LEAD if keys.intersection(task.lead) else SUPPORT


def page_count(total: int, per_page: int = PAGE_SIZE) -> int:
    """Pages needed for ``total`` lines (at least one, so an empty list has page 1/1)."""
    return max(1, -(-total // per_page))


def clamp_page(page: int, total: int, per_page: int = PAGE_SIZE) -> int:
    """A 1-based page number kept inside the list (an old button may point past its end)."""
    return min(max(1, page), page_count(total, per_page))


@dataclass(frozen=True, slots=True)
class TaskList:
    """Tasks in display order plus what a page needs to describe them."""

    keys: tuple[str, ...] | None
    """The listed units; None means every unit."""
    today: date
    tasks: Sequence[StoredTask]
    soon_days: int = SOON_DAYS

    def __len__(self) -> int:
        return len(self.tasks)

    @property
    def key_set(self) -> frozenset[str] | None:
        return None if self.keys is None else frozenset(self.keys)

    def entries(self, start: int = 0, stop: int | None = None) -> list[Entry]:
        """Entries for ``tasks[start:stop]`` (only these are built)."""
        keys = self.key_set
        return [Entry(t, bucket_of(t, self.today, self.soon_days), role_of(t, keys))
                for t in self.tasks[start:stop]]

    def page(self, page: int, per_page: int = PAGE_SIZE) -> list[Entry]:
        """Entries of the 1-based ``page`` (clamped into range)."""
        page = clamp_page(page, len(self.tasks), per_page)
        start = (page - 1) * per_page
        return self.entries(start, start + per_page)

    def page_count(self, per_page: int = PAGE_SIZE) -> int:
        return page_count(len(self.tasks), per_page)


@dataclass(frozen=True, slots=True)
class Board(TaskList):
    """The /nhiemvu list: open tasks with the size of each group and how many are done."""

    overdue_count: int = 0
    soon_count: int = 0
    done_count: int = 0

    @property
    def open_count(self) -> int:
        return len(self.tasks)

    @property
    def later_count(self) -> int:
        """Open tasks due after the "soon" window, or without a date."""
        return len(self.tasks) - self.overdue_count - self.soon_count


def _normalise(keys: Iterable[str] | None) -> tuple[str, ...] | None:
    return None if keys is None else tuple(dict.fromkeys(keys))


def build_board(store: Store, keys: Iterable[str] | None, today: date, *,
                include_support: bool = True, soon_days: int = SOON_DAYS) -> Board:
    """Open tasks of ``keys`` (None: every unit) in list order, with group counts.

    ``include_support=False`` keeps only tasks one of ``keys`` leads. A fresh board costs one
    pass of the store's ordered index (no sorting) plus, for ``done_count``, the units' full
    index.
    """
    wanted = _normalise(keys)
    return _build_board(store, wanted, today, include_support, soon_days)


def _build_board(store: Store, wanted: tuple[str, ...] | None, today: date,
                 include_support: bool, soon_days: int) -> Board:
    if wanted is not None and not wanted:
        return Board(wanted, today, (), soon_days)
    soon_end = today + timedelta(days=soon_days + 1)
    if include_support or wanted is None:
        # Lazy: only the shown page is ever looked up; the groups are bisections.
        lazy = store.open_sequence(wanted)
        opened: Sequence[StoredTask] = lazy
        first_soon, first_later = lazy.count_due_before(today), lazy.count_due_before(soon_end)
        done = (store.task_count if wanted is None else store.count_tasks(wanted)) - len(lazy)
    else:
        key_set = frozenset(wanted)
        opened = tuple(t for t in store.open_sequence(wanted) if key_set.intersection(t.lead))
        done = len(store.tasks_for_units(wanted, lead_only=True)) - len(opened)
        first_soon = bisect_left(opened, today, key=_due_key)
        first_later = bisect_left(opened, soon_end, key=_due_key)
    return Board(wanted, today, opened, soon_days, overdue_count=first_soon,
                 soon_count=first_later - first_soon, done_count=done)


def upcoming_list(store: Store, keys: Iterable[str] | None, today: date,
                  days: int) -> TaskList:
    """Open tasks due from today to ``today + days``, soonest first (/sapden)."""
    wanted = _normalise(keys)
    return TaskList(wanted, today, tuple(store.upcoming(wanted, today, days)), soon_days=days)


def overdue_list(store: Store, keys: Iterable[str] | None, today: date) -> TaskList:
    """Open tasks past their deadline, most overdue first (/quahan)."""
    wanted = _normalise(keys)
    return TaskList(wanted, today, tuple(store.overdue(wanted, today)))


def search_list(store: Store, keys: Iterable[str] | None, today: date,
                query: str) -> TaskList:
    """Tasks whose text holds every word of ``query`` (accents ignored); open ones first."""
    wanted = _normalise(keys)
    return TaskList(wanted, today, tuple(store.search(query, wanted)))
