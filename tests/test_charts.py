"""Tests for bot.charts: a real PNG, Vietnamese text without missing glyphs, bar grouping."""

from __future__ import annotations

import warnings

import pytest

from bot.charts import CATEGORIES, MAX_BARS, OTHER_UNITS, chart_rows, stats_chart
from bot.records import StoredUnit, UnitStats

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TITLE = "Tình hình thực hiện nhiệm vụ đến ngày 20/12/2022 — Phòng Y tế, Ủy ban"


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(PNG_SIGNATURE)
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def unit_stats(n: int, locality: str | None = "Cẩm Phả") -> list[UnitStats]:
    names = ["Phòng Y tế", "Phòng Tài chính - Kế hoạch", "Công an thành phố",
             "Phòng Lao động - Thương binh và Xã hội thành phố Cẩm Phả, tỉnh Quảng Ninh"]
    return [UnitStats(StoredUnit(f"k|{i}", f"{names[i % len(names)]} {i}", locality),
                      i % 3, i % 2, (i * 7) % 5, i % 4) for i in range(n)]


def test_png_with_vietnamese_labels_and_no_missing_glyphs() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font" would be a warning
        data = stats_chart(unit_stats(4), TITLE)
    width, height = png_size(data)
    assert width == 1000
    assert 200 <= height <= 1400
    assert len(data) > 5_000


def test_more_units_make_a_taller_chart_up_to_a_limit() -> None:
    small = png_size(stats_chart(unit_stats(2), "Nhỏ"))[1]
    huge = png_size(stats_chart(unit_stats(300), "Rất nhiều đơn vị"))[1]
    assert small < huge <= 1400


@pytest.mark.parametrize("stats", [[], [UnitStats(StoredUnit("k|0", "Phòng Y tế", None))]])
def test_no_data_still_gives_a_picture(stats: list[UnitStats]) -> None:
    width, height = png_size(stats_chart(stats, "Chưa có số liệu"))
    assert width > 0 and height > 0


@pytest.mark.parametrize("n", [0, 1, MAX_BARS - 1, MAX_BARS, MAX_BARS + 1, 80])
def test_chart_rows_keep_at_most_max_bars_and_every_task(n: int) -> None:
    stats = unit_stats(n)
    rows = chart_rows(stats)
    assert len(rows) == min(n, MAX_BARS)
    for field, _, _ in CATEGORIES:
        assert sum(getattr(r, field) for r in rows) == sum(getattr(s, field) for s in stats)
    if n > MAX_BARS:
        assert rows[-1].unit.name == OTHER_UNITS
        shown = rows[:-1]
        rest_max = max(s.total for s in stats if s.unit not in {r.unit for r in shown})
        assert min(r.total for r in shown) >= rest_max  # the largest units get their own bar
    else:
        assert OTHER_UNITS not in {r.unit.name for r in rows}


def test_chart_rows_largest_first() -> None:
    rows = chart_rows(unit_stats(10))
    totals = [r.total for r in rows]
    assert totals == sorted(totals, reverse=True)


def test_categories_are_the_four_report_categories_in_order() -> None:
    assert [label for _, label, _ in CATEGORIES] == [
        "Hoàn thành đúng hạn", "Hoàn thành quá hạn", "Chưa đến hạn", "Quá hạn chưa hoàn thành"]
    assert [field for field, _, _ in CATEGORIES] == [
        "done_on_time", "done_late", "not_yet_due", "overdue_open"]
