"""Vietnamese working days, checked against real official schedules (holidays 0.109)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from bot.errors import BotError, DateInputError
from schedules import workdays
from schedules.workdays import (
    holiday_name,
    is_working_day,
    next_working_day,
    previous_working_day,
    working_days_between,
)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        # Tết Quý Mão 2023: offices closed Fri 20/1 (29 Tết) .. Thu 26/1 (mùng 5).
        (date(2023, 1, 19), True),
        (date(2023, 1, 20), False),
        (date(2023, 1, 23), False),
        (date(2023, 1, 26), False),
        (date(2023, 1, 27), True),
        # Tết Nhâm Dần 2022: Mon 31/1 .. Fri 4/2.
        (date(2022, 1, 28), True),
        (date(2022, 1, 31), False),
        (date(2022, 2, 4), False),
        (date(2022, 2, 7), True),
        # Tết Giáp Thìn 2024: Thu 8/2 .. Wed 14/2.
        (date(2024, 2, 7), True),
        (date(2024, 2, 8), False),
        (date(2024, 2, 14), False),
        (date(2024, 2, 15), True),
        # Giỗ Tổ Hùng Vương (10/3 lunar): 18/4/2024; in 2022 a Sunday, observed Mon 11/4.
        (date(2024, 4, 18), False),
        (date(2022, 4, 11), False),
        # 30/4 and 1/5 2024, with 29/4 swapped for Saturday 4/5 (a working Saturday).
        (date(2024, 4, 29), False),
        (date(2024, 4, 30), False),
        (date(2024, 5, 1), False),
        (date(2024, 5, 2), True),
        (date(2024, 5, 4), True),
        # 2/9 plus the extra day: 2023 Fri 1/9 and Mon 4/9, 2024 Mon 2/9 and Tue 3/9.
        (date(2023, 9, 1), False),
        (date(2023, 9, 4), False),
        (date(2023, 9, 5), True),
        (date(2024, 9, 2), False),
        (date(2024, 9, 3), False),
        (date(2024, 9, 4), True),
        # Ordinary weekends and weekdays.
        (date(2023, 3, 11), False),
        (date(2023, 3, 12), False),
        (date(2023, 3, 13), True),
        # A worked Saturday of 2014 swapped for a day off in January 2015 (across the year).
        (date(2014, 12, 27), True),
        (date(2015, 1, 2), False),
    ],
)
def test_is_working_day(day: date, working: bool) -> None:
    assert is_working_day(day) is working


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2023, 3, 15), date(2023, 3, 15)),  # a working day stays
        (date(2023, 3, 12), date(2023, 3, 10)),  # Sunday -> Friday
        (date(2023, 1, 26), date(2023, 1, 19)),  # inside Tết -> last day before it
        (date(2024, 5, 1), date(2024, 4, 26)),  # 27/4 .. 1/5/2024 off
        (date(2024, 9, 3), date(2024, 8, 30)),
        (date(2024, 5, 5), date(2024, 5, 4)),  # Sunday -> the worked Saturday
        (datetime(2023, 3, 12, 9, 0), date(2023, 3, 10)),
    ],
)
def test_previous_working_day(day: date, expected: date) -> None:
    assert previous_working_day(day) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2023, 3, 15), date(2023, 3, 15)),
        (date(2023, 3, 11), date(2023, 3, 13)),
        (date(2023, 1, 20), date(2023, 1, 27)),
        (date(2024, 4, 27), date(2024, 5, 2)),
        (date(2024, 5, 4), date(2024, 5, 4)),
        (date(2023, 9, 2), date(2023, 9, 5)),
    ],
)
def test_next_working_day(day: date, expected: date) -> None:
    assert next_working_day(day) == expected


@pytest.mark.parametrize(
    ("a", "b", "count"),
    [
        (date(2023, 3, 13), date(2023, 3, 20), 5),  # Mon -> next Mon
        (date(2023, 3, 13), date(2023, 3, 13), 0),
        (date(2023, 1, 16), date(2023, 1, 30), 5),  # Tết week counts nothing
        (date(2023, 1, 30), date(2023, 1, 16), -5),
        (date(2024, 4, 26), date(2024, 5, 6), 4),  # 26/4, 2/5, 3/5, worked Sat 4/5
        (date(2023, 3, 11), date(2023, 3, 13), 0),  # a weekend
    ],
)
def test_working_days_between(a: date, b: date, count: int) -> None:
    assert working_days_between(a, b) == count


def test_previous_next_are_working_days_and_nearest() -> None:
    day = date(2022, 1, 1)
    while day < date(2025, 1, 1):
        before, after = previous_working_day(day), next_working_day(day)
        assert is_working_day(before) and is_working_day(after)
        assert before <= day <= after
        assert working_days_between(before, day) == (1 if before < day else 0)
        day = date.fromordinal(day.toordinal() + 1)


def test_holiday_names_are_vietnamese() -> None:
    assert holiday_name(date(2023, 1, 22)) == "Tết Nguyên Đán"
    assert "Hùng Vương" in (holiday_name(date(2024, 4, 18)) or "")
    assert holiday_name(date(2023, 3, 15)) is None


def test_calendar_cached_per_year() -> None:
    workdays._calendar.cache_clear()
    is_working_day(date(2023, 5, 2))
    is_working_day(date(2023, 7, 3))
    is_working_day(date(2023, 12, 29))
    info = workdays._calendar.cache_info()
    assert info.misses == 1 and info.hits == 2


@pytest.mark.parametrize("bad", ["2023-03-15", None, 20230315])
def test_not_a_date_gives_vietnamese_error(bad: object) -> None:
    with pytest.raises(DateInputError) as err:
        is_working_day(bad)  # type: ignore[arg-type]
    assert "ngày" in err.value.message


@pytest.mark.parametrize(
    ("func", "day", "words"),
    [
        (previous_working_day, date(2023, 3, 15), "Không tìm thấy"),
        (next_working_day, date(2023, 3, 15), "Không tìm thấy"),
        (previous_working_day, date.min, "phạm vi"),
        (next_working_day, date.max, "phạm vi"),
    ],
)
def test_no_working_day_gives_vietnamese_error(
    monkeypatch: pytest.MonkeyPatch, func: object, day: date, words: str
) -> None:
    # A calendar with no working day at all: the search must stop with a message, not hang
    # or overflow with a traceback.
    monkeypatch.setattr(workdays, "is_working_day", lambda d: False)
    with pytest.raises(BotError) as err:
        func(day)  # type: ignore[operator]
    assert words in err.value.message
