"""Reminder policy: reminder days, recurrences, digest buckets, missed reminders, snooze."""

from __future__ import annotations

import logging
import os
import time as time_mod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.errors import BotError, ConfigError
from bot.models import Recurrence
from schedules.policy import (
    BUCKET_LABELS,
    TZ,
    DigestItem,
    PolicyError,
    apply_snooze,
    bucket_label,
    bucket_order,
    digest_instant,
    digest_items,
    digest_retry_at,
    missed_items,
    next_digest_instant,
    normalize_offsets,
    occurrences,
    parse_digest_time,
    parse_offsets,
    reminder_days,
)
from schedules.workdays import is_working_day

D = date


@dataclass(frozen=True)
class FakeTask:
    """What the storage module will hand over (only the protocol's attributes matter)."""

    id: int
    due: date | None
    status: str = "open"
    recurrence: Recurrence | None = None
    doc_period_start: date | None = None
    doc_period_end: date | None = None
    snoozed_until: date | None = None
    done_through: date | None = None


@dataclass(frozen=True)
class MinimalTask:
    """A task with only ``id``, ``due`` and ``status`` (the optional attributes are absent)."""

    id: int
    due: date | None
    status: str = "open"


def _days(start: date, end: date) -> Iterator[date]:
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


# --------------------------------------------------------------------------- reminder_days


@pytest.mark.parametrize(
    ("due", "offsets", "expected"),
    [
        # Wednesday: -7 Wed, -3 is a Sunday -> Friday, -1 Tuesday, on the day.
        (D(2023, 3, 15), (7, 3, 1, 0), [D(2023, 3, 8), D(2023, 3, 10), D(2023, 3, 14),
                                        D(2023, 3, 15)]),
        # Monday: -1 (Sunday) moves to Friday, where -3 already is: one reminder that day.
        (D(2023, 3, 13), (7, 3, 1, 0), [D(2023, 3, 6), D(2023, 3, 10), D(2023, 3, 13)]),
        # Right after Tết 2023 (20..26/1 off): -7, -3, -1 all fall in Tết -> Thursday 19/1.
        (D(2023, 1, 27), (7, 3, 1, 0), [D(2023, 1, 19), D(2023, 1, 27)]),
        # Due on a Sunday: the deadline stays, its reminders move to Friday.
        (D(2023, 3, 19), (7, 3, 1, 0), [D(2023, 3, 10), D(2023, 3, 16), D(2023, 3, 17)]),
        # Due on the National Day holiday 2/9/2024 (2..3/9 off).
        (D(2024, 9, 2), (7, 3, 1, 0), [D(2024, 8, 26), D(2024, 8, 30)]),
        # Configured offsets.
        (D(2023, 3, 15), (5, 2, 0), [D(2023, 3, 10), D(2023, 3, 13), D(2023, 3, 15)]),
        (D(2023, 3, 15), (14,), [D(2023, 3, 1)]),
    ],
)
def test_reminders_before_deadline(due: date, offsets: tuple[int, ...],
                                   expected: list[date]) -> None:
    assert reminder_days(due, None, offsets, 7, until=due) == expected


@pytest.mark.parametrize(
    ("due", "today_from", "until", "every", "expected"),
    [
        # Wednesday due: every Thursday after it.
        (D(2023, 3, 15), D(2023, 3, 16), D(2023, 4, 30), 7,
         [D(2023, 3, 16), D(2023, 3, 23), D(2023, 3, 30), D(2023, 4, 6), D(2023, 4, 13),
          D(2023, 4, 20), D(2023, 4, 27)]),
        # Friday due: Saturday's first overdue reminder cannot go back onto the deadline, so it
        # goes to Monday; the following Saturdays move back to Friday.
        (D(2023, 3, 17), D(2023, 3, 18), D(2023, 4, 2), 7,
         [D(2023, 3, 20), D(2023, 3, 24), D(2023, 3, 31)]),
        # Around 30/4/2024: 27/4..1/5 off, Saturday 4/5 worked.
        (D(2024, 4, 26), D(2024, 4, 27), D(2024, 5, 12), 7,
         [D(2024, 5, 2), D(2024, 5, 4), D(2024, 5, 10)]),
        # Every 3 days; weekend days move to Friday.
        (D(2023, 3, 15), D(2023, 3, 16), D(2023, 3, 31), 3,
         [D(2023, 3, 16), D(2023, 3, 17), D(2023, 3, 22), D(2023, 3, 24), D(2023, 3, 28),
          D(2023, 3, 31)]),
        # overdue_every=0: only the day after.
        (D(2023, 3, 15), D(2023, 3, 16), D(2023, 6, 30), 0, [D(2023, 3, 16)]),
    ],
)
def test_overdue_sequence(due: date, today_from: date, until: date, every: int,
                          expected: list[date]) -> None:
    assert reminder_days(due, today_from, (7, 3, 1, 0), every, until) == expected


def test_reminder_days_window_is_inclusive_and_sorted() -> None:
    days = reminder_days(D(2023, 3, 15), D(2023, 3, 10), until=D(2023, 3, 23))
    assert days == [D(2023, 3, 10), D(2023, 3, 14), D(2023, 3, 15), D(2023, 3, 16),
                    D(2023, 3, 23)]


def test_every_reminder_is_a_working_day_around_the_deadline() -> None:
    for due in _days(D(2022, 12, 1), D(2025, 1, 31)):
        days = reminder_days(due, until=due + timedelta(days=40))
        assert days == sorted(set(days))
        assert all(is_working_day(d) for d in days), due
        before = [d for d in days if d <= due]
        after = [d for d in days if d > due]
        assert before and after, due
        assert before[0] <= due - timedelta(days=7), due
        assert after[0] <= due + timedelta(days=12), due  # the longest Tết break


# --------------------------------------------------------------------------- occurrences


@dataclass(frozen=True)
class AnnualWithMonth:
    """A Recurrence-like object that also names the month (annual duties)."""

    freq: str
    day: int | None
    month_of_period: str | None
    month: int


@pytest.mark.parametrize(
    ("recurrence", "start", "end", "expected"),
    [
        # "trước ngày 15 của tháng cuối quý" over 2023.
        (Recurrence("quarterly", "trước ngày 15 của tháng cuối quý", 15, "last"),
         D(2023, 1, 1), D(2023, 12, 31),
         [D(2023, 3, 15), D(2023, 6, 15), D(2023, 9, 15), D(2023, 12, 15)]),
        (Recurrence("quarterly", "định kỳ hằng quý báo cáo"), D(2023, 1, 1), D(2023, 12, 31),
         [D(2023, 3, 31), D(2023, 6, 30), D(2023, 9, 30), D(2023, 12, 31)]),
        (Recurrence("quarterly", "ngày 10 tháng đầu quý", 10, "first"),
         D(2023, 1, 1), D(2023, 12, 31),
         [D(2023, 1, 10), D(2023, 4, 10), D(2023, 7, 10), D(2023, 10, 10)]),
        # Quý IV 2022 only.
        (Recurrence("quarterly", "hằng quý", 15, "last"), D(2022, 10, 1), D(2022, 12, 31),
         [D(2022, 12, 15)]),
        # Monthly, clamped to the month's length (2023 not leap, 2024 leap).
        (Recurrence("monthly", "ngày 31 hằng tháng", 31), D(2023, 1, 1), D(2023, 4, 30),
         [D(2023, 1, 31), D(2023, 2, 28), D(2023, 3, 31), D(2023, 4, 30)]),
        (Recurrence("monthly", "ngày 30 hằng tháng", 30), D(2024, 1, 1), D(2024, 3, 31),
         [D(2024, 1, 30), D(2024, 2, 29), D(2024, 3, 30)]),
        (Recurrence("monthly", "hằng tháng"), D(2024, 1, 15), D(2024, 3, 31),
         [D(2024, 1, 31), D(2024, 2, 29), D(2024, 3, 31)]),
        (Recurrence("monthly", "trước ngày 20 hằng tháng", 20), D(2024, 1, 21), D(2024, 3, 20),
         [D(2024, 2, 20), D(2024, 3, 20)]),
        # "6 tháng, năm" / semiannual.
        (Recurrence("semiannual", "báo cáo 6 tháng, năm"), D(2023, 1, 1), D(2024, 12, 31),
         [D(2023, 6, 30), D(2023, 12, 31), D(2024, 6, 30), D(2024, 12, 31)]),
        (Recurrence("semiannual", "ngày 20 tháng đầu kỳ", 20, "first"),
         D(2023, 1, 1), D(2023, 12, 31), [D(2023, 1, 20), D(2023, 7, 20)]),
        (Recurrence("semiannual", "trước ngày 15 tháng cuối kỳ", 15),
         D(2023, 1, 1), D(2023, 12, 31), [D(2023, 6, 15), D(2023, 12, 15)]),
        # Annual.
        (Recurrence("annual", "hằng năm"), D(2022, 6, 1), D(2024, 6, 1),
         [D(2022, 12, 31), D(2023, 12, 31)]),
        (Recurrence("annual", "trước ngày 15/12 hằng năm", 15), D(2023, 1, 1), D(2023, 12, 31),
         [D(2023, 12, 15)]),
        (AnnualWithMonth("annual", 30, None, 11), D(2023, 1, 1), D(2024, 12, 31),
         [D(2023, 11, 30), D(2024, 11, 30)]),
        # Weekly: Friday by default; day 5 = "thứ Năm hằng tuần"; 8 = Chủ nhật.
        (Recurrence("weekly", "hằng tuần"), D(2023, 3, 1), D(2023, 3, 31),
         [D(2023, 3, 3), D(2023, 3, 10), D(2023, 3, 17), D(2023, 3, 24), D(2023, 3, 31)]),
        (Recurrence("weekly", "thứ Năm hằng tuần", 5), D(2023, 3, 2), D(2023, 3, 20),
         [D(2023, 3, 2), D(2023, 3, 9), D(2023, 3, 16)]),
        (Recurrence("weekly", "Chủ nhật hằng tuần", 8), D(2023, 3, 1), D(2023, 3, 14),
         [D(2023, 3, 5), D(2023, 3, 12)]),
        # Empty window.
        (Recurrence("monthly", "hằng tháng"), D(2023, 3, 1), D(2023, 2, 1), []),
    ],
)
def test_occurrences(recurrence: Recurrence, start: date, end: date,
                     expected: list[date]) -> None:
    assert occurrences(recurrence, start, end) == expected


@pytest.mark.parametrize(
    ("recurrence", "words"),
    [
        (Recurrence("daily", "hằng ngày"), "chu kỳ"),
        (Recurrence("monthly", "ngày 40", 40), "Ngày của việc định kỳ"),
        (Recurrence("weekly", "thứ 9", 9), "Ngày của việc định kỳ"),
        (Recurrence("quarterly", "giữa quý", None, "middle"), "Tháng trong kỳ"),
        (AnnualWithMonth("annual", 1, None, 13), "Tháng của việc định kỳ"),
    ],
)
def test_bad_recurrence_gives_vietnamese_error(recurrence: Recurrence, words: str) -> None:
    with pytest.raises(PolicyError) as err:
        occurrences(recurrence, D(2023, 1, 1), D(2023, 12, 31))
    assert words in err.value.message


# --------------------------------------------------------------------------- digest


DIGEST_DAY = D(2023, 3, 10)  # a Friday
DIGEST_TABLE = [
    # (task id, due, status, expected bucket or None, days)
    (1, D(2023, 3, 13), "open", "in_1", 3),  # Monday: -3 and -1 (Sunday) both on Friday
    (2, D(2023, 3, 17), "open", "in_7", 7),
    (3, D(2023, 3, 10), "open", "today", 0),
    (4, D(2023, 3, 9), "open", "overdue", -1),  # the day after
    (5, D(2023, 3, 2), "open", "overdue", -8),  # a week after that
    (6, D(2023, 3, 14), "open", "in_3", 4),  # -3 is Saturday -> Friday, 4 days really left
    (7, D(2023, 3, 15), "open", "in_3", 5),  # -3 is Sunday -> Friday
    (8, D(2023, 3, 20), "open", None, 0),  # -7 is next Monday
    (9, D(2023, 3, 10), "done", None, 0),
    (10, None, "open", None, 0),
    (11, D(2023, 3, 12), "open", "today", 2),  # due Sunday: the last working day before it
    (12, D(2023, 2, 24), "open", "overdue", -14),  # Friday due: its Saturdays move to Friday
    (14, D(2023, 2, 27), "open", None, 0),  # overdue, reminded on Tuesdays
    (13, D(2023, 3, 1), "removed", None, 0),
]


@pytest.mark.parametrize(("task_id", "due", "status", "bucket", "days"), DIGEST_TABLE)
def test_digest_bucket_of_each_task(task_id: int, due: date | None, status: str,
                                    bucket: str | None, days: int) -> None:
    items = digest_items([FakeTask(task_id, due, status)], DIGEST_DAY)
    if bucket is None:
        assert items == []
    else:
        assert items == [DigestItem(task_id, bucket, due, days)]  # type: ignore[arg-type]


def test_digest_orders_tasks_by_urgency() -> None:
    tasks = [FakeTask(t, due, status) for t, due, status, _, _ in DIGEST_TABLE]
    items = digest_items(tasks, DIGEST_DAY)
    assert [(i.bucket, i.task_id) for i in items] == [
        ("overdue", 12), ("overdue", 5), ("overdue", 4), ("today", 3), ("today", 11), ("in_1", 1),
        ("in_3", 6), ("in_3", 7), ("in_7", 2),
    ]
    assert [i.label for i in items[2:4]] == ["Quá hạn", "Hôm nay"]


def test_digest_with_configured_offsets() -> None:
    tasks = [FakeTask(1, D(2023, 3, 15)), FakeTask(2, D(2023, 3, 24)), FakeTask(3, D(2023, 3, 14))]
    items = digest_items(tasks, D(2023, 3, 10), offsets=(14, 5, 2))
    assert items == [
        DigestItem(3, "in_2", D(2023, 3, 14), 4),
        DigestItem(1, "in_5", D(2023, 3, 15), 5),
        DigestItem(2, "in_14", D(2023, 3, 24), 14),
    ]
    assert [i.label for i in items] == ["Còn 2 ngày", "Còn 5 ngày", "Còn 14 ngày"]


def test_done_task_is_never_reminded() -> None:
    for status in ("done", "removed", "DONE"):
        tasks = [FakeTask(1, D(2023, 3, 15), status)]
        assert all(not digest_items(tasks, day) for day in _days(D(2023, 2, 1), D(2023, 6, 1)))
    open_task = [FakeTask(1, D(2023, 3, 15))]
    assert any(digest_items(open_task, day) for day in _days(D(2023, 2, 1), D(2023, 6, 1)))


def test_digest_day_matches_reminder_days() -> None:
    due = D(2023, 1, 27)  # right after Tết
    task = [MinimalTask(1, due)]
    shown = [d for d in _days(D(2023, 1, 1), D(2023, 3, 31)) if digest_items(task, d)]
    assert shown == reminder_days(due, D(2023, 1, 1), until=D(2023, 3, 31))
    assert digest_items(task, D(2023, 1, 19)) == [DigestItem(1, "in_1", due, 8)]


def test_bad_stored_date_leaves_out_only_that_task(caplog: pytest.LogCaptureFixture) -> None:
    tasks = [FakeTask(1, D(1, 1, 10)), FakeTask(2, D(2023, 3, 10))]
    with caplog.at_level(logging.WARNING, logger="schedules.policy"):
        items = digest_items(tasks, D(2023, 3, 10))
    assert [i.task_id for i in items] == [2]
    assert "Task 1" in caplog.text


# --------------------------------------------------------------------------- recurring duties


QUARTERLY = Recurrence("quarterly", "trước ngày 15 của tháng cuối quý", 15, "last")


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (D(2023, 3, 8), [("in_7", D(2023, 3, 15), 7)]),
        (D(2023, 3, 15), [("today", D(2023, 3, 15), 0)]),
        (D(2023, 3, 16), [("overdue", D(2023, 3, 15), -1)]),
        (D(2023, 3, 17), []),
        # The March occurrence, still open, is overdue while June's reminders start.
        (D(2023, 6, 8), [("overdue", D(2023, 3, 15), -85), ("in_7", D(2023, 6, 15), 7)]),
        # June falls due: March's overdue reminders stop, June takes over.
        (D(2023, 6, 15), [("today", D(2023, 6, 15), 0)]),
        (D(2023, 6, 23), [("overdue", D(2023, 6, 15), -8)]),
        # 15/9/2023 is a Friday; 15/12/2023 too. After the plan period the last one goes on.
        (D(2024, 1, 5), [("overdue", D(2023, 12, 15), -21)]),
    ],
)
def test_recurring_duty_in_digest(today: date, expected: list[tuple[str, date, int]]) -> None:
    task = FakeTask(7, None, recurrence=QUARTERLY, doc_period_start=D(2023, 1, 1),
                    doc_period_end=D(2023, 12, 31))
    got = [(i.bucket, i.due, i.days) for i in digest_items([task], today)]
    assert got == expected


def test_recurring_duty_done_through_and_window() -> None:
    task = FakeTask(7, None, recurrence=QUARTERLY, doc_period_start=D(2023, 1, 1),
                    doc_period_end=D(2023, 12, 31), done_through=D(2023, 3, 15))
    assert [(i.bucket, i.due) for i in digest_items([task], D(2023, 6, 8))] == [
        ("in_7", D(2023, 6, 15))]
    # No plan period: the caller's window bounds the occurrences.
    bare = FakeTask(8, None, recurrence=Recurrence("monthly", "hằng tháng"))
    assert digest_items([bare], D(2023, 3, 31), window_start=D(2023, 1, 1),
                        window_end=D(2023, 2, 28)) == []
    assert digest_items([bare], D(2023, 3, 31)) == [DigestItem(8, "today", D(2023, 3, 31), 0)]


def test_broken_recurrence_falls_back_to_due(caplog: pytest.LogCaptureFixture) -> None:
    task = FakeTask(9, D(2023, 3, 15), recurrence=Recurrence("daily", "hằng ngày"))
    with caplog.at_level(logging.WARNING, logger="schedules.policy"):
        items = digest_items([task], D(2023, 3, 15))
    assert items == [DigestItem(9, "today", D(2023, 3, 15), 0)]
    assert "recurrence ignored" in caplog.text


# --------------------------------------------------------------------------- missed reminders


MISSED_TASKS = [
    FakeTask(1, D(2023, 3, 8)),  # Wed: -1 on 7/3, on the day 8/3, overdue 9/3
    FakeTask(2, D(2023, 3, 14)),  # -7 on 7/3; also in today's digest (-3 Sat -> Fri 10/3)
    FakeTask(3, D(2023, 3, 16)),  # -7 on 9/3 only
    FakeTask(4, D(2023, 3, 8), "done"),
    FakeTask(5, D(2023, 3, 20)),  # nothing before 13/3
]
LAST_SENT, TODAY = D(2023, 3, 6), D(2023, 3, 10)  # down Tue 7, Wed 8, Thu 9


def test_missed_items_collapsed() -> None:
    assert missed_items(MISSED_TASKS, LAST_SENT, TODAY) == [
        DigestItem(1, "overdue", D(2023, 3, 8), -1, missed_on=D(2023, 3, 9)),
        DigestItem(3, "in_7", D(2023, 3, 16), 7, missed_on=D(2023, 3, 9)),
    ]


def test_missed_items_skip_nothing() -> None:
    every = missed_items(MISSED_TASKS, LAST_SENT, TODAY, collapse=False)
    expected = [
        (day, item) for day in _days(D(2023, 3, 7), D(2023, 3, 9))
        for item in digest_items(MISSED_TASKS, day)
    ]
    assert sorted((i.missed_on, i.task_id, i.bucket) for i in every) == sorted(
        (day, i.task_id, i.bucket) for day, i in expected)
    assert {(i.task_id, i.bucket) for i in every} == {
        (1, "in_1"), (1, "today"), (1, "overdue"), (2, "in_7"), (3, "in_7")}


@pytest.mark.parametrize("last", [None, D(2023, 3, 9), D(2023, 3, 10), D(2023, 3, 12)])
def test_nothing_missed(last: date | None) -> None:
    assert missed_items(MISSED_TASKS, last, TODAY) == []


def test_missed_after_long_downtime_is_bounded() -> None:
    items = missed_items([FakeTask(1, D(2020, 1, 1))], D(2020, 1, 1), D(2023, 3, 10),
                         collapse=False)
    assert items and min(i.missed_on for i in items if i.missed_on) >= D(2022, 3, 1)


# --------------------------------------------------------------------------- snooze


REMINDERS = [D(2023, 3, 8), D(2023, 3, 10), D(2023, 3, 14), D(2023, 3, 15), D(2023, 3, 16),
             D(2023, 3, 23)]


@pytest.mark.parametrize(
    ("snoozed_until", "due", "expected"),
    [
        (None, D(2023, 3, 15), REMINDERS),
        # Snoozed to Monday: not due yet then, so the regular reminders resume.
        (D(2023, 3, 13), D(2023, 3, 15), REMINDERS[2:]),
        # Snoozed to a Saturday after the deadline: back on Monday 20/3 (overdue).
        (D(2023, 3, 18), D(2023, 3, 15), [D(2023, 3, 20), D(2023, 3, 23)]),
        # Snoozed to the deadline itself.
        (D(2023, 3, 15), D(2023, 3, 15), REMINDERS[3:]),
        # Unknown due: back at the end of the snooze only when a reminder was dropped.
        (D(2023, 3, 18), None, [D(2023, 3, 20), D(2023, 3, 23)]),
        (D(2023, 3, 1), None, REMINDERS),
    ],
)
def test_apply_snooze(snoozed_until: date | None, due: date | None,
                      expected: list[date]) -> None:
    assert apply_snooze(REMINDERS, snoozed_until, due) == expected


def test_snooze_in_digest() -> None:
    task = FakeTask(1, D(2023, 3, 15), snoozed_until=D(2023, 3, 18))
    shown = [d for d in _days(D(2023, 3, 1), D(2023, 3, 31)) if digest_items([task], d)]
    assert shown == [D(2023, 3, 20), D(2023, 3, 23), D(2023, 3, 30)]
    assert digest_items([task], D(2023, 3, 20)) == [DigestItem(1, "overdue", D(2023, 3, 15), -5)]
    # The caller's mapping wins over the task's own value.
    plain = FakeTask(1, D(2023, 3, 15))
    assert digest_items([plain], D(2023, 3, 16), snoozed={1: D(2023, 3, 18)}) == []
    assert digest_items([task], D(2023, 3, 16), snoozed={1: D(2023, 3, 16)}) == [
        DigestItem(1, "overdue", D(2023, 3, 15), -1)]


# --------------------------------------------------------------------------- settings, labels


def test_bucket_labels() -> None:
    assert BUCKET_LABELS == {"overdue": "Quá hạn", "today": "Hôm nay", "in_1": "Còn 1 ngày",
                             "in_3": "Còn 3 ngày", "in_7": "Còn 7 ngày"}
    assert bucket_order() == ["overdue", "today", "in_1", "in_3", "in_7"]
    assert bucket_order((10, 2)) == ["overdue", "in_2", "in_10"]
    assert bucket_label("in_5") == "Còn 5 ngày"
    with pytest.raises(PolicyError):
        bucket_label("later")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("7,3,1,0", (7, 3, 1, 0)), ("0 1 3 7", (7, 3, 1, 0)), ("14; 7", (14, 7)), ("3,3", (3,))],
)
def test_parse_offsets(text: str, expected: tuple[int, ...]) -> None:
    assert parse_offsets(text) == expected


@pytest.mark.parametrize("bad", ["", "7,-1", "bảy", "400", "1.5"])
def test_bad_offsets_give_vietnamese_error(bad: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_offsets(bad)
    assert "Mốc nhắc" in err.value.message


@pytest.mark.parametrize("bad", [[], [-1], [True], ["7"], 7])
def test_bad_offset_values(bad: object) -> None:
    with pytest.raises(ConfigError):
        normalize_offsets(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("every", [-1, 1.5, "7"])
def test_bad_overdue_every(every: object) -> None:
    with pytest.raises(ConfigError) as err:
        digest_items([FakeTask(1, D(2023, 3, 15))], D(2023, 3, 16), overdue_every=every)  # type: ignore[arg-type]
    assert "quá hạn" in err.value.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [("07:30", time(7, 30)), ("7:30", time(7, 30)), ("7h30", time(7, 30)), ("8h", time(8, 0)),
     (" 18.05 ", time(18, 5))],
)
def test_parse_digest_time(text: str, expected: time) -> None:
    assert parse_digest_time(text) == expected


@pytest.mark.parametrize("bad", ["24:00", "7:60", "sáng", ""])
def test_bad_digest_time(bad: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_digest_time(bad)
    assert "Giờ gửi bản tin" in err.value.message


def test_bad_today_gives_vietnamese_error() -> None:
    with pytest.raises(BotError) as err:
        digest_items([], "2023-03-10")  # type: ignore[arg-type]
    assert "không phải là một ngày" in err.value.message


# --------------------------------------------------------------------------- time


@pytest.fixture
def foreign_tz(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run with the process in New York time, restored afterwards."""
    monkeypatch.setenv("TZ", "America/New_York")
    time_mod.tzset()
    yield
    monkeypatch.undo()
    time_mod.tzset()


def test_digest_instant_ignores_machine_timezone(foreign_tz: None) -> None:
    assert os.environ["TZ"] == "America/New_York"
    instant = digest_instant(D(2023, 3, 10), time(7, 30), TZ)
    assert instant.tzinfo is not None
    assert instant.astimezone(UTC) == datetime(2023, 3, 10, 0, 30, tzinfo=UTC)
    assert digest_instant(D(2023, 3, 10)) == instant
    # The digest does not depend on the machine's timezone either.
    assert [i.task_id for i in digest_items([FakeTask(1, D(2023, 3, 10))], D(2023, 3, 10))] == [1]


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2023, 3, 10, 7, 0, tzinfo=TZ), datetime(2023, 3, 10, 7, 30, tzinfo=TZ)),
        (datetime(2023, 3, 10, 7, 30, tzinfo=TZ), datetime(2023, 3, 11, 7, 30, tzinfo=TZ)),
        # 01:00 UTC is 08:00 in Hà Nội: today's digest is past.
        (datetime(2023, 3, 10, 1, 0, tzinfo=UTC), datetime(2023, 3, 11, 7, 30, tzinfo=TZ)),
        # 20:00 UTC on the 9th is 03:00 on the 10th in Hà Nội.
        (datetime(2023, 3, 9, 20, 0, tzinfo=UTC), datetime(2023, 3, 10, 7, 30, tzinfo=TZ)),
        (datetime(2023, 3, 10, 7, 0, tzinfo=ZoneInfo("Europe/Paris")),
         datetime(2023, 3, 11, 7, 30, tzinfo=TZ)),
    ],
)
def test_next_digest_instant(now: datetime, expected: datetime) -> None:
    got = next_digest_instant(now)
    assert got == expected and got.tzinfo == TZ


def test_naive_now_is_refused() -> None:
    with pytest.raises(PolicyError) as err:
        next_digest_instant(datetime(2023, 3, 10, 7, 0))
    assert "múi giờ" in err.value.message


@pytest.mark.parametrize(("hour", "minute", "tries", "expected"), [
    (7, 30, 1, (7, 35)),
    (7, 35, 2, (7, 50)),
    (7, 50, 3, (8, 20)),
    (8, 20, 4, (9, 20)),
    (9, 20, 5, (11, 20)),
    (11, 20, 9, (13, 20)),   # then every 2 hours
    (19, 55, 1, (20, 0)),
    (19, 56, 1, None),       # past 20:00: the next digest carries the reminders
    (23, 0, 1, None),
])
def test_digest_retry_at_backs_off_until_evening(hour, minute, tries, expected) -> None:
    now = datetime(2022, 12, 20, hour, minute, tzinfo=TZ)
    got = digest_retry_at(now, tries)
    assert (None if got is None else (got.hour, got.minute)) == expected
    if got is not None:
        assert got.date() == now.date()


def test_digest_retry_at_needs_aware_time_and_a_try() -> None:
    with pytest.raises(PolicyError):
        digest_retry_at(datetime(2022, 12, 20, 8, 0), 1)  # noqa: DTZ001 - the point
    with pytest.raises(PolicyError):
        digest_retry_at(datetime(2022, 12, 20, 8, 0, tzinfo=TZ), 0)
