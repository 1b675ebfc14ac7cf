"""Tests for bot.plans.recurrence: recurring duties, and the dates and windows that are none."""

from __future__ import annotations

import pytest

from bot.plans.recurrence import find_recurrence
from bot.text import fold


@pytest.mark.parametrize(("text", "freq", "day", "which", "phrase"), [
    ("Định kỳ hằng quý báo cáo UBND Thành phố kết quả thực hiện.", "quarterly", None, None,
     "Định kỳ hằng quý"),
    ("Báo cáo kết quả trước ngày 15 của tháng cuối quý.", "quarterly", 15, "last",
     "trước ngày 15 của tháng cuối quý"),
    ("Báo cáo tiến độ trước ngày 20 hằng tháng.", "monthly", 20, None,
     "trước ngày 20 hằng tháng"),
    ("Phòng Nông nghiệp tổng hợp, báo cáo UBND huyện trước ngày 25 hằng tháng.", "monthly", 25,
     None, "trước ngày 25 hằng tháng"),
    ("Định kỳ 6 tháng, năm báo cáo kết quả thực hiện.", "semiannual", None, None,
     "Định kỳ 6 tháng, năm"),
    # A day of the year: its day here, its month below.
    ("Kiểm tra việc kinh doanh khí dầu mỏ hóa lỏng; báo cáo kết quả trước 15/10 hằng năm.",
     "annual", 15, None, "trước 15/10 hằng năm"),
    ("Gửi danh sách về Sở Nội vụ trước ngày 15/11 hằng năm.", "annual", 15, None,
     "trước ngày 15/11 hằng năm"),
    ("Báo cáo trước ngày 15 tháng 10 hằng năm.", "annual", 15, None,
     "trước ngày 15 tháng 10 hằng năm"),
    # The first duty of a paragraph that names several.
    ("1. Báo cáo quý: gửi trước ngày 15 của tháng cuối quý. 3. Báo cáo năm: gửi trước 15/11 "
     "hằng năm.", "quarterly", 15, "last", "trước ngày 15 của tháng cuối quý"),
])
def test_find_recurrence(text: str, freq: str, day: int | None, which: str | None,
                         phrase: str) -> None:
    found = find_recurrence(text)
    assert found is not None
    assert (found.freq, found.day, found.month_of_period, found.phrase) == (freq, day, which,
                                                                             phrase)


@pytest.mark.parametrize(("text", "month"), [
    ("Báo cáo kết quả trước 15/10 hằng năm.", 10),
    ("Báo cáo trước ngày 15 tháng 11 hằng năm.", 11),
])
def test_yearly_duty_keeps_its_month(text: str, month: int) -> None:
    found = find_recurrence(text)
    assert found is not None and found.month == month
    assert found.to_json()["month"] == month


@pytest.mark.parametrize("text", [
    "Thực hiện tuyển dụng mới hằng năm theo chỉ tiêu được giao.",
    # Dates in words are no "day of the month" ("tháng" followed by its number).
    "Đông Triều, ngày 17 tháng 12 năm 2021",
    "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;",
    "Tổng hợp, báo cáo Chủ tịch UBND tỉnh trước ngày 15 tháng 12 năm 2024.",
    # The two ends of a window.
    "Thời gian chốt số liệu báo cáo quý tính từ ngày 15 của tháng trước kỳ báo cáo đến ngày 14 "
    "của tháng cuối quý.",
    # An event, not a duty; a time of day, not a date.
    "Tổ chức lễ kỷ niệm vào ngày 2/9 hằng năm.",
    "Báo cáo số liệu trước 15 giờ hằng ngày.",
])
def test_no_recurrence(text: str) -> None:
    assert find_recurrence(text) is None, fold(text)


def test_yearly_duty_is_reminded_on_its_day() -> None:
    from datetime import date

    from schedules.policy import occurrences

    found = find_recurrence("Sở Công Thương báo cáo kết quả trước 15/10 hằng năm.")
    assert found is not None
    assert occurrences(found, date(2025, 1, 1), date(2026, 12, 31)) == [
        date(2025, 10, 15), date(2026, 10, 15)]
