"""/baocao: the four-way status report leadership asks for, as an Excel workbook.

Three steps, each testable alone:

* :func:`parse_period` reads the period a person types ("quý 3/2024", "6 tháng đầu năm 2024",
  "năm 2024", "tháng 5/2024"), and :func:`split_request` tells the unit from the period in
  "/baocao tài chính quý 3/2024";
* :func:`collect` reads the store (its public read methods only) into a :class:`Report`:
  immutable records, each task with its category, so the workbook can be built in a worker
  thread while the bot goes on changing the store;
* :func:`build_workbook` turns a report into .xlsx bytes (openpyxl, write-only mode: rows are
  streamed, so 100,000 tasks fit in little memory) in the layout provincial trackers use: a
  summary sheet (one row per lead unit with the four counts, the total and the share done on
  time) and a sheet of tasks, with styled and frozen header rows, column widths, an
  autofilter and dates stored as real Excel dates.

The categories are those of /thongke (:meth:`bot.store.Store.stats`): a done task is late when
it was done after its deadline; an open task is overdue when its deadline has passed, and not
yet due otherwise (open tasks without a deadline included). With a period, only tasks whose
deadline falls in the period count. No Telegram types here.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from copy import copy
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.errors import UsageError
from bot.models import Period
from bot.progress import progress_text
from bot.records import StoredDocument, StoredTask, StoredUnit, UnitStats
from bot.store import Store
from bot.text import clip, fold

__all__ = [
    "ALL_UNITS_WORDS", "CATEGORIES", "HEADER_ROW", "NO_LEAD", "PERIOD_EXAMPLES",
    "SUMMARY_HEADERS", "SUMMARY_SHEET", "TASK_HEADERS", "TASK_SHEET", "Report", "ReportRow",
    "build_workbook", "category", "collect", "on_time_rate", "parse_period", "report_filename",
    "split_request",
]

CATEGORIES: tuple[tuple[str, str], ...] = (
    ("done_on_time", "Hoàn thành đúng hạn"),
    ("done_late", "Hoàn thành quá hạn"),
    ("not_yet_due", "Chưa đến hạn"),
    ("overdue_open", "Quá hạn chưa hoàn thành"),
)
"""(UnitStats field, Vietnamese label), in the order of government reports (as the chart)."""
_LABELS = dict(CATEGORIES)
_ORDER = {field: index for index, (field, _) in enumerate(CATEGORIES)}

ALL_UNITS_WORDS = frozenset({"tat ca", "toan bo", "tat ca don vi", "*"})
"""What an admin types for a report of every unit (folded)."""
NO_LEAD = "Chưa xác định đơn vị chủ trì"
PERIOD_EXAMPLES = ("quý 3/2024, 6 tháng đầu năm 2024, 6 tháng cuối năm 2024, 9 tháng đầu "
                   "năm 2024, năm 2024, tháng 5/2024")
BAD_PERIOD = ("Không hiểu kỳ báo cáo «{text}». Hãy ghi một trong các dạng: "
              + PERIOD_EXAMPLES + ".")
MIN_YEAR, MAX_YEAR = 2000, 2100

SUMMARY_SHEET = "Tổng hợp"
TASK_SHEET = "Nhiệm vụ"
HEADER_ROW = 4
"""Row of the column headers on both sheets (rows 1-3: title, scope and period, date)."""
SUMMARY_HEADERS = ("STT", "Đơn vị chủ trì", *(label for _, label in CATEGORIES), "Tổng số",
                   "Tỷ lệ đúng hạn")
TASK_HEADERS = ("Mã", "Nội dung nhiệm vụ", "Văn bản (số/ký hiệu)", "Ngày văn bản", "Dòng nguồn",
                "Đơn vị chủ trì", "Đơn vị phối hợp", "Hạn", "Trạng thái", "Tiến độ",
                "Ngày hoàn thành")
_SUMMARY_WIDTHS = (6, 48, 14, 14, 14, 16, 10, 12)
_TASK_WIDTHS = (8, 70, 26, 12, 10, 32, 32, 12, 22, 18, 14)
DATE_FORMAT = "dd/mm/yyyy"
MAX_CELL_CHARS = 32_000
"""Excel keeps at most 32,767 characters in a cell."""
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
"""Characters XML 1.0 cannot hold (openpyxl refuses them)."""


# ------------------------------------------------------------------------------ periods
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
_NUMBER_WORDS = {"mot": 1, "hai": 2, "ba": 3, "bon": 4, "tu": 4, "nam": 5, "sau": 6, "bay": 7,
                 "tam": 8, "chin": 9, "muoi": 10}
_YEAR = r"(?:\s*(?:/|-|\s)\s*|\s+nam\s+)(\d{4})"
_QUARTER_RE = re.compile(rf"quy\s+(i{{1,3}}|iv|[1-4]){_YEAR}")
_MONTH_RE = re.compile(rf"thang\s+(\d{{1,2}}){_YEAR}")
_MONTHS_RE = re.compile(r"(\d{1,2}|[a-z]+)\s+thang\s+(dau|cuoi)\s+nam\s+(\d{4})")
_YEAR_RE = re.compile(r"nam\s+(\d{4})")


def _month_end(year: int, month: int) -> date:
    if month == 12:
        return date(year, 12, 31)
    return date.fromordinal(date(year, month + 1, 1).toordinal() - 1)


def _year(text: str, original: str) -> int:
    year = int(text)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise UsageError(f"Năm {year} trong kỳ «{clip(original, 60)}» không hợp lệ; hãy ghi "
                         f"năm từ {MIN_YEAR} đến {MAX_YEAR}.")
    return year


def parse_period(text: str) -> Period:
    """The period a person means, as a :class:`bot.models.Period` (inclusive dates).

    "quý 3/2024", "quý III năm 2024", "6 tháng đầu năm 2024" (also "sáu tháng", "9 tháng đầu
    năm"), "6 tháng cuối năm 2024", "năm 2024", "tháng 5/2024", "tháng 05 năm 2024"; accents and
    case do not matter. Anything else raises UsageError with the accepted forms.
    """
    original = " ".join(text.split())
    folded = fold(original).replace("–", "-").strip(" .")
    folded = re.sub(r"\s+", " ", folded)
    if match := _QUARTER_RE.fullmatch(folded):
        raw, year = match.group(1), _year(match.group(2), original)
        quarter = _ROMAN[raw] if raw in _ROMAN else int(raw)
        roman = ("I", "II", "III", "IV")[quarter - 1]
        start = date(year, 3 * quarter - 2, 1)
        return Period(f"Quý {roman}/{year}", start, _month_end(year, 3 * quarter))
    if match := _MONTH_RE.fullmatch(folded):
        month, year = int(match.group(1)), _year(match.group(2), original)
        if not 1 <= month <= 12:
            raise UsageError(f"Tháng {month} không có; hãy ghi tháng từ 1 đến 12, ví dụ "
                             "tháng 5/2024.")
        return Period(f"Tháng {month}/{year}", date(year, month, 1), _month_end(year, month))
    if match := _MONTHS_RE.fullmatch(folded):
        raw, edge, year_text = match.groups()
        count = int(raw) if raw.isdigit() else _NUMBER_WORDS.get(raw, 0)
        year = _year(year_text, original)
        if not 1 <= count <= 11:
            raise UsageError(BAD_PERIOD.format(text=clip(original, 60)))
        if edge == "dau":
            return Period(f"{count} tháng đầu năm {year}", date(year, 1, 1),
                          _month_end(year, count))
        return Period(f"{count} tháng cuối năm {year}", date(year, 13 - count, 1),
                      date(year, 12, 31))
    if match := _YEAR_RE.fullmatch(folded):
        year = _year(match.group(1), original)
        return Period(f"Năm {year}", date(year, 1, 1), date(year, 12, 31))
    raise UsageError(BAD_PERIOD.format(text=clip(original, 60)))


def _opens_period(words: Sequence[str], index: int) -> bool:
    """Whether ``words[index]`` starts a period: "quý 3", "tháng 5", "năm 2024", "6 tháng".

    The next word must fit, so that "Quỹ", "Quảng Nam" in a unit's name open nothing."""
    word = fold(words[index])
    after = fold(words[index + 1]) if index + 1 < len(words) else ""
    if word == "quy":
        return bool(re.match(r"(?:\d|(?:i{1,3}|iv)(?![a-z]))", after))
    if word in ("thang", "nam"):
        return after[:1].isdigit()
    return (word.isdigit() or word in _NUMBER_WORDS) and after == "thang"


def split_request(text: str) -> tuple[str, str]:
    """"tài chính quý 3/2024" -> ("tài chính", "quý 3/2024"): the unit, then the period.

    The period starts at the first word that opens one (:func:`_opens_period`); either part
    may be empty. The period is not checked here (see :func:`parse_period`).
    """
    words = text.split()
    for index in range(len(words)):
        if _opens_period(words, index):
            return " ".join(words[:index]), " ".join(words[index:])
    return " ".join(words), ""


# ------------------------------------------------------------------------------ the report
def category(task: StoredTask, today: date) -> str:
    """The task's category (a :data:`CATEGORIES` field), as :meth:`Store.stats` counts it."""
    if not task.is_open:
        late = (task.due is not None and task.done_at is not None
                and task.done_at.date() > task.due)
        return "done_late" if late else "done_on_time"
    return "overdue_open" if task.due is not None and task.due < today else "not_yet_due"


def on_time_rate(stats: UnitStats) -> float | None:
    """Done on time among the tasks whose deadline has come (None when there are none)."""
    counted = stats.total - stats.not_yet_due
    return stats.done_on_time / counted if counted else None


@dataclass(frozen=True, slots=True)
class ReportRow:
    """One task of the report with everything its row shows."""

    task: StoredTask
    category: str
    document: StoredDocument | None
    lead: tuple[str, ...]
    """Lead unit labels."""
    support: tuple[str, ...]
    progress: str = ""
    """The latest /tiendo report ("60% — đã lấy ý kiến (20/12/2022)"); empty when none."""


def progress_cell(task: StoredTask) -> str:
    """The "Tiến độ" cell: percent and note of the latest report, and its date."""
    shown = progress_text(task.progress)
    if not shown or task.progress is None:
        return ""
    return f"{shown} ({task.progress.at:%d/%m/%Y})"


@dataclass(frozen=True, slots=True)
class Report:
    """What :func:`build_workbook` writes: immutable, safe to hand to a worker thread."""

    scope: str
    """Whose report: a unit's label, several, or "Tất cả đơn vị"."""
    today: date
    period: Period | None
    rows: tuple[ReportRow, ...]
    stats: tuple[UnitStats, ...]
    """Per lead unit (a task counts for each of its lead units)."""
    total: UnitStats
    """Every task once, whatever its number of lead units."""

    @property
    def multi_lead(self) -> bool:
        return any(len(row.task.lead) > 1 for row in self.rows)


def _stats(unit: StoredUnit, counts: dict[str, int]) -> UnitStats:
    return UnitStats(unit, *(counts.get(field, 0) for field, _ in CATEGORIES))


def collect(store: Store, keys: Sequence[str] | None, today: date,
            period: Period | None = None, *, scope: str = "") -> Report:
    """The report of the tasks led by ``keys`` (None: every task), due within ``period``.

    With ``keys`` the summary has one row per key in that order (zeros included); without,
    one row per unit that leads a task (by locality and name), and a row for the tasks whose
    lead unit is not known.
    """
    if keys is None:
        tasks: Iterable[StoredTask] = (task for doc in store.documents()
                                       for task in store.document_tasks(doc.id))
    else:
        tasks = store.tasks_for_units(keys, lead_only=True)
    if period is not None:
        tasks = (t for t in tasks if t.due is not None and period.start <= t.due <= period.end)
    picked = sorted({t.id: t for t in tasks}.values(),
                    key=lambda t: (_ORDER[category(t, today)], t.due or date.max, t.id))

    wanted = list(keys) if keys is not None else None
    per_unit: dict[str, dict[str, int]] = {k: {} for k in wanted or ()}
    total: dict[str, int] = {}
    labels: dict[str, str] = {}
    docs: dict[int, StoredDocument | None] = {}

    def label(key: str) -> str:
        if key not in labels:
            unit = store.unit(key)
            labels[key] = unit.label if unit else key
        return labels[key]

    rows = []
    for task in picked:
        field = category(task, today)
        total[field] = total.get(field, 0) + 1
        leads = task.lead or (("",) if wanted is None else ())
        for key in leads:
            if wanted is None or key in per_unit:
                counts = per_unit.setdefault(key, {})
                counts[field] = counts.get(field, 0) + 1
        if task.doc_id not in docs:
            docs[task.doc_id] = store.document(task.doc_id)
        rows.append(ReportRow(task, field, docs[task.doc_id],
                              tuple(label(k) for k in task.lead),
                              tuple(label(k) for k in task.support), progress_cell(task)))

    def unit_of(key: str) -> StoredUnit:
        if not key:
            return StoredUnit("", NO_LEAD, None)
        return store.unit(key) or StoredUnit(key, key, None)

    stats = [_stats(unit_of(key), counts) for key, counts in per_unit.items()]
    if wanted is None:
        stats.sort(key=lambda s: (not s.unit.key, fold(s.unit.locality or ""),
                                  fold(s.unit.name)))
    return Report(scope=scope or "Tất cả đơn vị", today=today, period=period,
                  rows=tuple(rows), stats=tuple(stats),
                  total=_stats(StoredUnit("*", "Tổng cộng", None), total))


# ------------------------------------------------------------------------------ the workbook
def _text(value: str) -> str:
    """A string Excel and XML accept: no control characters, at most 32,000 characters."""
    value = _ILLEGAL_XML.sub("", value)
    return value if len(value) <= MAX_CELL_CHARS else value[:MAX_CELL_CHARS - 1] + "…"


def _document_label(doc: StoredDocument | None) -> str:
    if doc is None:
        return "(văn bản đã xóa)"
    if doc.number:
        return doc.number
    return doc.label


def period_text(period: Period | None) -> str:
    """"Quý III/2024 (01/07/2024 – 30/09/2024)", or every deadline."""
    if period is None:
        return "Mọi thời hạn"
    return f"{period.label} (hạn từ {_vn(period.start)} đến {_vn(period.end)})"


def _vn(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"


def report_filename(report: Report) -> str:
    """"baocao-phong-tai-chinh-ke-hoach-quy-iii-2024.xlsx": ASCII, short, no path parts."""
    parts = [report.scope, report.period.label if report.period else ""]
    slug = re.sub(r"[^a-z0-9]+", "-", fold(" ".join(parts))).strip("-")
    slug = slug[:60].rstrip("-") or "tat-ca"
    return f"baocao-{slug}.xlsx"


def build_workbook(report: Report) -> bytes:
    """The report as .xlsx bytes (see the module docstring for the layout)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import (
        Alignment,
        Border,
        Font,
        PatternFill,
        Side,
    )
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    book.properties.title = f"Báo cáo tình hình thực hiện nhiệm vụ – {report.scope}"
    book.properties.creator = "Bot nhắc việc"
    thin = Side(style="thin", color="9E9E9E")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    head_font = Font(bold=True, color="FFFFFF")
    head_fill = PatternFill("solid", fgColor="1F4E78")
    head_align = Alignment(horizontal="center", vertical="center", wrap_text=True)
    wrap = Alignment(vertical="top", wrap_text=True)
    top = Alignment(vertical="top")
    fills = {"done_on_time": "E8F5E9", "done_late": "FFF8E1", "not_yet_due": "E3F2FD",
             "overdue_open": "FFEBEE"}

    styles: dict[tuple[Any, ...], Any] = {}

    # openpyxl has no type stubs: its sheets and cells are Any.
    def cell(sheet: Any, value: object, *, bold: bool = False, fmt: str | None = None,
             align: Alignment | None = None, fill: str | None = None, size: int | None = None,
             framed: bool = True) -> Any:
        item = WriteOnlyCell(sheet, value=_text(value) if isinstance(value, str) else value)
        if isinstance(value, str):
            item.data_type = "s"  # never a formula, whatever the text starts with
        # Setting a style looks it up by hashing every attribute (most of the time of a large
        # report): each combination is set once, then its style indices are copied.
        style = (bold, fmt, id(align), fill, size, framed)
        if style not in styles:
            if bold or size:
                item.font = Font(bold=bold, size=size or 11)
            if fmt:
                item.number_format = fmt
            if align is not None:
                item.alignment = align
            if fill:
                item.fill = PatternFill("solid", fgColor=fill)
            if framed:
                item.border = border
            styles[style] = copy(item._style)
        else:
            item._style = copy(styles[style])
        return item

    def header(sheet: Any, names: Sequence[str]) -> list[Any]:
        cells = []
        for name in names:
            item = cell(sheet, name)
            item.font, item.fill, item.alignment = head_font, head_fill, head_align
            cells.append(item)
        return cells

    def title_rows(sheet: Any, heading: str, width: int) -> None:
        sheet.append([cell(sheet, heading, bold=True, size=14, framed=False)])
        sheet.append([cell(sheet, f"Đơn vị: {report.scope}. Kỳ: {period_text(report.period)}.",
                           framed=False)])
        sheet.append([cell(sheet, f"Số liệu đến ngày {_vn(report.today)}.", framed=False)])
        for row in range(1, HEADER_ROW):
            sheet.merged_cells.add(f"A{row}:{get_column_letter(width)}{row}")

    def widths(sheet: Any, values: Sequence[int]) -> None:
        for index, value in enumerate(values, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = value

    # Summary: one row per lead unit, then the total.
    summary = book.create_sheet(SUMMARY_SHEET)
    widths(summary, _SUMMARY_WIDTHS)
    summary.freeze_panes = f"C{HEADER_ROW + 1}"
    title_rows(summary, "BÁO CÁO TÌNH HÌNH THỰC HIỆN NHIỆM VỤ", len(SUMMARY_HEADERS))
    summary.append(header(summary, SUMMARY_HEADERS))

    def stats_row(number: object, name: str, stats: UnitStats, bold: bool = False) -> list:
        counts = [cell(summary, getattr(stats, field), bold=bold) for field, _ in CATEGORIES]
        return [cell(summary, number, bold=bold, align=top), cell(summary, name, bold=bold,
                                                                  align=wrap),
                *counts, cell(summary, stats.total, bold=bold),
                cell(summary, on_time_rate(stats), bold=bold, fmt="0.0%")]

    for index, stats in enumerate(report.stats, start=1):
        summary.append(stats_row(index, stats.unit.label, stats))
    summary.append(stats_row("", "Tổng cộng", report.total, bold=True))
    notes = [("Tỷ lệ đúng hạn = số hoàn thành đúng hạn / số nhiệm vụ đã đến hạn (tổng số trừ "
              "chưa đến hạn). Chưa đến hạn gồm cả nhiệm vụ chưa hoàn thành không có thời hạn.")]
    if report.multi_lead:
        notes.append("Nhiệm vụ có nhiều đơn vị chủ trì được tính cho từng đơn vị; dòng Tổng "
                     "cộng tính mỗi nhiệm vụ một lần.")
    summary.append([])
    for note in notes:
        summary.append([None, cell(summary, note, framed=False,
                                   align=Alignment(wrap_text=False))])

    # Tasks: one row each, grouped by category, then by deadline.
    sheet = book.create_sheet(TASK_SHEET)
    widths(sheet, _TASK_WIDTHS)
    sheet.freeze_panes = f"C{HEADER_ROW + 1}"
    title_rows(sheet, "DANH SÁCH NHIỆM VỤ", len(TASK_HEADERS))
    sheet.append(header(sheet, TASK_HEADERS))
    for row in report.rows:
        task, doc = row.task, row.document
        line = str(task.line) if task.end_line <= task.line else f"{task.line}–{task.end_line}"
        done = task.done_at.date() if task.done_at is not None and not task.is_open else None
        sheet.append([
            cell(sheet, task.id, align=top),
            cell(sheet, " ".join(task.text.split()), align=wrap),
            cell(sheet, _document_label(doc), align=wrap),
            cell(sheet, doc.issued if doc else None, fmt=DATE_FORMAT, align=top),
            cell(sheet, line, align=top),
            cell(sheet, "; ".join(row.lead) or NO_LEAD, align=wrap),
            cell(sheet, "; ".join(row.support), align=wrap),
            cell(sheet, task.due, fmt=DATE_FORMAT, align=top),
            cell(sheet, _LABELS[row.category], align=wrap, fill=fills[row.category]),
            cell(sheet, row.progress, align=wrap),
            cell(sheet, done, fmt=DATE_FORMAT, align=top),
        ])
    last = HEADER_ROW + len(report.rows)
    sheet.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(len(TASK_HEADERS))}{last}"

    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
