"""/baocao and /lich_ics, the pure parts: periods, the report, the workbook read back with
openpyxl, the calendar parsed back with icalendar."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from openpyxl import load_workbook

from bot.errors import UsageError
from bot.icsexport import build_calendar, event_uid, pick_tasks
from bot.models import DocumentInfo, ParsedPlan, Task
from bot.reports import (
    CATEGORIES,
    HEADER_ROW,
    NO_LEAD,
    SUMMARY_HEADERS,
    SUMMARY_SHEET,
    TASK_HEADERS,
    TASK_SHEET,
    build_workbook,
    category,
    collect,
    on_time_rate,
    parse_period,
    report_filename,
    split_request,
)
from bot.store import Store

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2024, 6, 1, 9, 0, tzinfo=TZ)
TODAY = date(2024, 8, 15)
ADMIN = 1001
TC, YT, CA = "Phòng Tài chính - Kế hoạch", "Phòng Y tế", "Công an thành phố"
FORMULA = '=HYPERLINK("http://x.invalid","bấm")'


def mk(line: int, text: str, due: date | None, lead=(TC,), support=()) -> Task:
    return Task(line=line, end_line=line + 1, section=str(line), text=text, lead=tuple(lead),
                support=tuple(support), due=due, due_kind="explicit" if due else None)


PLAN_TASKS = (
    mk(10, "Báo cáo quyết toán ngân sách quý II", date(2024, 7, 10), support=(YT,)),  # on time
    mk(20, "Rà soát tài sản công", date(2024, 7, 20)),  # done late
    mk(30, "Lập dự toán năm sau", date(2024, 8, 1)),  # overdue, open
    mk(40, "Tổng hợp kế hoạch đầu tư công", date(2024, 9, 20)),  # not yet due
    mk(50, "Kiểm tra tiêm chủng", date(2024, 8, 5), lead=(YT,)),  # another unit, overdue
    mk(60, "Đánh giá cả năm", date(2024, 11, 15)),  # fourth quarter
    mk(70, "Thường xuyên theo dõi", None),  # no deadline
    mk(80, FORMULA + "\x07 chuông", date(2024, 9, 1), lead=(TC, CA)),  # two leads
)


@pytest.fixture
def store(tmp_path: Path):
    s = Store(tmp_path / "bot.json")
    info = DocumentInfo(kind="ke_hoach", number="12/KH-UBND", issuer="UBND thành phố Cẩm Phả",
                        issued=date(2024, 5, 20), locality="Cẩm Phả")
    s.import_plan(ParsedPlan(document=info, tasks=PLAN_TASKS), filename="kh12.txt",
                  file_hash="h12", actor=ADMIN, now=NOW)
    tasks = {t.line: t for t in s.document_tasks(s.documents()[0].id)}
    s.mark_done(tasks[10].id, actor=ADMIN, now=datetime(2024, 7, 9, 16, 0, tzinfo=TZ))
    s.mark_done(tasks[20].id, actor=ADMIN, now=datetime(2024, 8, 2, 8, 0, tzinfo=TZ))
    yield s
    s.close()


def key(store: Store, name: str) -> str:
    return store.match_unit(name, "Cẩm Phả").key


def by_line(store: Store) -> dict[int, object]:
    return {t.line: t for t in store.document_tasks(store.documents()[0].id)}


# ------------------------------------------------------------------------------ periods
@pytest.mark.parametrize(("text", "label", "start", "end"), [
    ("quý 3/2024", "Quý III/2024", date(2024, 7, 1), date(2024, 9, 30)),
    ("Quý III năm 2024", "Quý III/2024", date(2024, 7, 1), date(2024, 9, 30)),
    ("quy iv/2024", "Quý IV/2024", date(2024, 10, 1), date(2024, 12, 31)),
    ("quý 1-2025", "Quý I/2025", date(2025, 1, 1), date(2025, 3, 31)),
    ("6 tháng đầu năm 2024", "6 tháng đầu năm 2024", date(2024, 1, 1), date(2024, 6, 30)),
    ("sáu tháng cuối năm 2024", "6 tháng cuối năm 2024", date(2024, 7, 1), date(2024, 12, 31)),
    ("9 thang dau nam 2023", "9 tháng đầu năm 2023", date(2023, 1, 1), date(2023, 9, 30)),
    ("năm 2024", "Năm 2024", date(2024, 1, 1), date(2024, 12, 31)),
    ("NĂM  2024.", "Năm 2024", date(2024, 1, 1), date(2024, 12, 31)),
    ("tháng 5/2024", "Tháng 5/2024", date(2024, 5, 1), date(2024, 5, 31)),
    ("Tháng 02 năm 2024", "Tháng 2/2024", date(2024, 2, 1), date(2024, 2, 29)),
    ("tháng 2/2023", "Tháng 2/2023", date(2023, 2, 1), date(2023, 2, 28)),
    ("tháng 12/2024", "Tháng 12/2024", date(2024, 12, 1), date(2024, 12, 31)),
])
def test_parse_period(text, label, start, end):
    period = parse_period(text)
    assert (period.label, period.start, period.end) == (label, start, end)


@pytest.mark.parametrize(("text", "fragment"), [
    ("quý 5/2024", "Không hiểu kỳ báo cáo «quý 5/2024»"),
    ("tháng 13/2024", "Tháng 13 không có"),
    ("tháng 0/2024", "Tháng 0 không có"),
    ("năm 1999", "Năm 1999"),
    ("năm 20245", "Không hiểu kỳ báo cáo"),
    ("12 tháng đầu năm 2024", "Không hiểu kỳ báo cáo"),
    ("hôm qua", "Không hiểu kỳ báo cáo"),
    ("quý 3", "Không hiểu kỳ báo cáo"),
])
def test_bad_period_gets_a_vietnamese_message_with_the_accepted_forms(text, fragment):
    with pytest.raises(UsageError) as caught:
        parse_period(text)
    assert fragment in caught.value.message
    if "Không hiểu" in fragment:
        assert "quý 3/2024" in caught.value.message and "tháng 5/2024" in caught.value.message


@pytest.mark.parametrize(("text", "unit", "period"), [
    ("", "", ""),
    ("tài chính", "tài chính", ""),
    ("quý 3/2024", "", "quý 3/2024"),
    ("tài chính quý 3/2024", "tài chính", "quý 3/2024"),
    ("tất cả 6 tháng đầu năm 2024", "tất cả", "6 tháng đầu năm 2024"),
    ("Sở Y tế Quảng Nam năm 2024", "Sở Y tế Quảng Nam", "năm 2024"),
    ("Quỹ đầu tư phát triển", "Quỹ đầu tư phát triển", ""),
    ("y te tháng 5/2024", "y te", "tháng 5/2024"),
    ("tài chính quý 7/2024", "tài chính", "quý 7/2024"),  # refused later by parse_period
])
def test_split_request_tells_the_unit_from_the_period(text, unit, period):
    assert split_request(text) == (unit, period)


# ------------------------------------------------------------------------------ the report
def test_categories_match_the_store_statistics(store):
    lines = by_line(store)
    assert [category(lines[n], TODAY) for n in (10, 20, 30, 40, 70)] == [
        "done_on_time", "done_late", "overdue_open", "not_yet_due", "not_yet_due"]
    keys = [key(store, TC), key(store, YT), key(store, CA)]
    report = collect(store, keys, TODAY)
    assert report.stats == tuple(store.stats(TODAY, keys))


def test_unit_report_counts_and_period(store):
    tc = key(store, TC)
    whole = collect(store, [tc], TODAY, scope=TC)
    [stats] = whole.stats
    assert (stats.done_on_time, stats.done_late, stats.not_yet_due, stats.overdue_open) == \
        (1, 1, 4, 1)
    assert on_time_rate(stats) == pytest.approx(1 / 3)

    q3 = collect(store, [tc], TODAY, parse_period("quý 3/2024"), scope=TC)
    # The Q4 task and the one without a deadline are out; Phòng Y tế's task is not TC's.
    assert sorted(r.task.line for r in q3.rows) == [10, 20, 30, 40, 80]
    [stats] = q3.stats
    assert (stats.done_on_time, stats.done_late, stats.not_yet_due, stats.overdue_open) == \
        (1, 1, 2, 1)
    # Grouped by category in report order, then by deadline.
    assert [r.category for r in q3.rows] == ["done_on_time", "done_late", "not_yet_due",
                                             "not_yet_due", "overdue_open"]
    assert [r.task.line for r in q3.rows if r.category == "not_yet_due"] == [80, 40]


def test_all_units_report_has_every_lead_and_counts_a_task_once_in_the_total(store):
    report = collect(store, None, TODAY)
    names = [s.unit.name for s in report.stats]
    assert set(names) == {TC, YT, CA}
    assert report.total.total == len(PLAN_TASKS) == len(report.rows)
    assert sum(s.total for s in report.stats) == len(PLAN_TASKS) + 1  # task 80 has two leads
    assert report.multi_lead


def read(data: bytes):
    return load_workbook(io.BytesIO(data))


def test_workbook_layout_and_content(store):
    tc = key(store, TC)
    report = collect(store, [tc], TODAY, parse_period("quý 3/2024"), scope="Phòng TC (Cẩm Phả)")
    book = read(build_workbook(report))
    assert book.sheetnames == [SUMMARY_SHEET, TASK_SHEET]

    summary = book[SUMMARY_SHEET]
    assert summary.freeze_panes == f"C{HEADER_ROW + 1}"
    assert "Quý III/2024" in summary["A2"].value and "15/08/2024" in summary["A3"].value
    header = [c.value for c in summary[HEADER_ROW]]
    assert tuple(header) == SUMMARY_HEADERS
    assert all(c.font.bold for c in summary[HEADER_ROW])
    assert summary.column_dimensions["B"].width >= 40
    unit_row = [c.value for c in summary[HEADER_ROW + 1]]
    assert unit_row == [1, "Phòng Tài chính - Kế hoạch (Cẩm Phả)", 1, 1, 2, 1, 5,
                        pytest.approx(1 / 3)]
    assert summary.cell(HEADER_ROW + 1, 8).number_format == "0.0%"
    total_row = [c.value for c in summary[HEADER_ROW + 2]]
    assert total_row[1:7] == ["Tổng cộng", 1, 1, 2, 1, 5]

    tasks = book[TASK_SHEET]
    assert tasks.freeze_panes == f"C{HEADER_ROW + 1}"
    assert tuple(c.value for c in tasks[HEADER_ROW]) == TASK_HEADERS
    assert tasks.auto_filter.ref == f"A{HEADER_ROW}:K{HEADER_ROW + 5}"
    rows = {row[4]: row for row in tasks.iter_rows(min_row=HEADER_ROW + 1, values_only=True)}
    assert set(rows) == {"10–11", "20–21", "30–31", "40–41", "80–81"}
    status = {line: row[8] for line, row in rows.items()}
    assert status == {"10–11": "Hoàn thành đúng hạn", "20–21": "Hoàn thành quá hạn",
                      "30–31": "Quá hạn chưa hoàn thành", "40–41": "Chưa đến hạn",
                      "80–81": "Chưa đến hạn"}
    done_on_time = rows["10–11"]
    code, text, doc, issued, _, lead, support, due, _, progress, done = done_on_time
    assert code == by_line(store)[10].id
    assert text == "Báo cáo quyết toán ngân sách quý II"
    assert doc == "12/KH-UBND"
    assert issued == datetime(2024, 5, 20)  # real Excel dates, read back as datetimes
    assert lead == "Phòng Tài chính - Kế hoạch (Cẩm Phả)"
    assert support == "Phòng Y tế (Cẩm Phả)"
    assert due == datetime(2024, 7, 10)
    assert progress is None  # no progress data yet: the column is there, empty
    assert done == datetime(2024, 7, 9)
    assert rows["20–21"][10] == datetime(2024, 8, 2)
    assert rows["30–31"][10] is None
    date_cell = next(c for c in tasks[HEADER_ROW + 1] if c.column == 8)
    assert date_cell.is_date and date_cell.number_format == "dd/mm/yyyy"
    # A text that looks like a formula stays text; control characters are dropped.
    formula = rows["80–81"]
    assert formula[1] == FORMULA + " chuông"
    cell = next(c for row in tasks.iter_rows(min_row=HEADER_ROW + 1) for c in row
                if c.column == 2 and c.value == formula[1])
    assert cell.data_type == "s"
    assert formula[5] == "Phòng Tài chính - Kế hoạch (Cẩm Phả); Công an thành phố (Cẩm Phả)"


def test_workbook_all_units_names_the_tasks_without_a_lead(tmp_path):
    s = Store(tmp_path / "bot.json")
    try:
        info = DocumentInfo(kind="ke_hoach", number="3/KH", issuer="UBND", locality="Cẩm Phả")
        s.import_plan(ParsedPlan(document=info, tasks=(mk(5, "Việc chung", None, lead=()),
                                                       mk(6, "Việc riêng", None))),
                      filename="k.txt", file_hash="h3", actor=ADMIN, now=NOW)
        report = collect(s, None, TODAY)
        book = read(build_workbook(report))
        names = [r[1] for r in book[SUMMARY_SHEET].iter_rows(min_row=HEADER_ROW + 1,
                                                             max_row=HEADER_ROW + 3,
                                                             values_only=True)]
        assert names == ["Phòng Tài chính - Kế hoạch (Cẩm Phả)", NO_LEAD, "Tổng cộng"]
        leads = [r[5] for r in book[TASK_SHEET].iter_rows(min_row=HEADER_ROW + 1,
                                                         values_only=True)]
        assert NO_LEAD in leads
    finally:
        s.close()


def test_empty_report_still_makes_a_valid_workbook(store):
    report = collect(store, [key(store, CA)], TODAY, parse_period("tháng 1/2024"))
    assert report.rows == ()
    book = read(build_workbook(report))
    assert [c.value for c in book[SUMMARY_SHEET][HEADER_ROW + 1]][1:7] == [
        "Công an thành phố (Cẩm Phả)", 0, 0, 0, 0, 0]


def test_report_filename_is_ascii_and_safe(store):
    report = collect(store, None, TODAY, parse_period("quý 3/2024"),
                     scope="Phòng Tài chính/../Kế hoạch")
    name = report_filename(report)
    assert name == "baocao-phong-tai-chinh-ke-hoach-quy-iii-2024.xlsx"
    assert name.isascii() and "/" not in name


def test_chart_labels_are_the_report_labels():
    from bot.charts import CATEGORIES as CHART

    assert [(f, label) for f, label, _ in CHART] == list(CATEGORIES)


# ------------------------------------------------------------------------------ calendar
def test_calendar_parsed_back(store):
    lines = by_line(store)
    open_tasks = store.open_tasks([key(store, TC)])
    data = build_calendar(open_tasks, now=NOW, name="Hạn – Phòng TC",
                          unit_name=store.unit_name, document_label=lambda _: "VB 12/KH-UBND")
    calendar = Calendar.from_ical(data)
    assert str(calendar["X-WR-CALNAME"]) == "Hạn – Phòng TC"
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    # Open tasks with a deadline only: not the done ones, not the one without a date.
    assert set(events) == {event_uid(lines[n]) for n in (30, 40, 60, 80)}
    event = events[event_uid(lines[40])]
    task = lines[40]
    assert event.decoded("DTSTART") == date(2024, 9, 20)  # all-day: a DATE, not a DATETIME
    assert event.decoded("DTEND") == date(2024, 9, 21)
    assert str(event["SUMMARY"]) == f"#{task.id} Tổng hợp kế hoạch đầu tư công"
    description = str(event["DESCRIPTION"])
    assert "Tổng hợp kế hoạch đầu tư công" in description
    assert f"/chitiet {task.id}" in description
    assert "Chủ trì: Phòng Tài chính - Kế hoạch" in description
    assert "VB 12/KH-UBND, dòng 40" in description
    [alarm] = event.walk("VALARM")
    assert str(alarm["ACTION"]) == "DISPLAY"
    trigger = alarm.decoded("TRIGGER")
    assert trigger < timedelta(0) and datetime(2024, 9, 20) + trigger == datetime(2024, 9, 19, 9)
    assert event.decoded("DTSTAMP") == NOW
    # Commas, semicolons and the formula-like text survive the round trip.
    assert str(events[event_uid(lines[80])]["SUMMARY"]).startswith(f"#{lines[80].id} =HYPERLINK")
    assert "Phối hợp" not in description


def test_calendar_uid_is_stable_and_long_texts_are_shortened(store):
    lines = by_line(store)
    long = lines[40].__class__(**{**{f: getattr(lines[40], f) for f in lines[40].__slots__},
                                  "text": "rất dài " * 100})
    first = Calendar.from_ical(build_calendar([long], now=NOW, name="A", unit_name=str))
    later = Calendar.from_ical(build_calendar([long], now=NOW + timedelta(days=3), name="B",
                                              unit_name=str))
    [a], [b] = first.walk("VEVENT"), later.walk("VEVENT")
    assert a["UID"] == b["UID"] == event_uid(lines[40])
    summary = str(a["SUMMARY"])
    assert len(summary) <= 90 and summary.endswith("…")
    assert str(a["DESCRIPTION"]).startswith("rất dài " * 99 + "rất dài")


def test_pick_tasks_keeps_the_coming_deadlines_first_when_there_are_too_many(store):
    lines = by_line(store)
    open_tasks = store.open_tasks()
    chosen, dated = pick_tasks(open_tasks, TODAY)
    assert dated == 5 and [t.line for t in chosen] == [30, 50, 80, 40, 60]  # by due date
    chosen, dated = pick_tasks(open_tasks, TODAY, limit=3)
    # Coming (80: 1/9, 40: 20/9, 60: 15/11) before overdue (50: 5/8, 30: 1/8).
    assert dated == 5 and [t.line for t in chosen] == [80, 40, 60]
    chosen, _ = pick_tasks(open_tasks, TODAY, limit=4)
    assert [t.line for t in chosen] == [50, 80, 40, 60]  # then the most recent overdue
    assert lines[10] not in pick_tasks(store.tasks_for_units([key(store, TC)]), TODAY)[0]
