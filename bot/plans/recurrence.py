"""Recurring duties: "định kỳ hằng quý báo cáo", "hằng tháng", "6 tháng, năm",
"trước ngày 15 của tháng cuối quý", "trước ngày 20 hằng tháng", "trước 15/10 hằng năm".

Only repetition attached to a duty counts: "định kỳ hằng quý", "hằng quý" next to a reporting
verb (báo cáo, sơ kết, tổng hợp, rà soát, đánh giá, kiểm tra), or a day of the month or of the
year that work is due "trước" every time. "tuyển dụng mới hằng năm" is a description, "lễ kỷ
niệm vào ngày 2/9 hằng năm" an event, "từ ngày 15 của tháng trước … đến ngày 14 …" a window:
none of them is a duty to remind.
"""

from __future__ import annotations

import re

from bot.models import Recurrence
from bot.plans.deadlines import fold_same_length

FREQ = {"tuan": "weekly", "thang": "monthly", "quy": "quarterly", "nam": "annual"}
_EVERY = r"(?<![a-z])hang\s+(tuan|thang|quy|nam)\b"
_DUTY = r"(?:bao cao|so ket|tong ket|tong hop|ra soat|danh gia|kiem tra|giao ban|hop|cap nhat)"
PERIODIC = re.compile(r"dinh ky\s+(?:" + _EVERY + r"|(6|sau)\s+thang(?:\s*,\s*(?:hang\s+)?nam)?)")
EVERY_NEAR_DUTY = re.compile(
    _EVERY + r"\s+(?:\w+\s+){0,3}?" + _DUTY + r"|" + _DUTY + r"(?:\s+[^.;,]{0,60}?)?\s+" + _EVERY
)
# "trước ngày 15 của tháng cuối quý", "trước ngày 20 hằng tháng"; "tháng" followed by a number
# is a month ("ngày 15 tháng 10"), not "of the month".
DAY_OF = re.compile(
    r"(?<![a-z])(?:truoc|truoc ngay|vao ngay|ngay)\s+(?:ngay\s+)?(\d{1,2})\s+"
    r"(?:cua\s+|hang\s+)?(thang cuoi quy|thang dau quy|thang cuoi|hang thang|thang(?!\s*\d))"
)
# "trước 15/10 hằng năm", "trước ngày 15 tháng 10 hằng năm": a day of the year, every year.
DAY_OF_YEAR = re.compile(
    r"(?<![a-z])truoc\s+(?:ngay\s+)?(\d{1,2})\s*(?:/|-|\.|\s+thang\s+)\s*(\d{1,2})\s+hang\s+nam\b"
)
EVERY_WORD = re.compile(r"(?<![a-z])hang\s+(?:ngay|tuan|thang|quy|nam)\b")
# Either end of a window: "tính từ ngày 15 của tháng trước … đến ngày 14 của tháng cuối quý".
WINDOW_BEFORE = re.compile(r"(?<![a-z])tu\s+$|(?<![a-z])tu\s+ngay\b[^.;]*\bden\s+$")
def _yearly(text: str, m: re.Match[str]) -> Recurrence | None:
    day, month = int(m.group(1)), int(m.group(2))
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return None
    return Recurrence("annual", text[m.start():m.end()], day, month=month)


def _day_of(text: str, folded: str, m: re.Match[str]) -> Recurrence | None:
    if WINDOW_BEFORE.search(folded, max(0, m.start() - 80), m.start()):
        return None
    near = EVERY_WORD.search(folded, max(0, m.start() - 40), m.end() + 40)
    where = m.group(2)
    day = int(m.group(1))
    if not (near or "quy" in where or "dinh ky" in folded) or not 1 <= day <= 31:
        return None
    if "quy" in where:
        which = "last" if "cuoi" in where else "first"
        return Recurrence("quarterly", text[m.start():m.end()], day, which)
    return Recurrence("monthly", text[m.start():m.end()], day)


def find_recurrence(text: str, *, folded: str | None = None) -> Recurrence | None:
    """The recurring duty written in ``text``, or None (the first one when there are several).
    ``folded`` is ``fold_same_length(text)`` when the caller has it already."""
    if folded is None or len(folded) != len(text):
        folded = fold_same_length(text)
    days = [(m.start(), _yearly(text, m)) for m in DAY_OF_YEAR.finditer(folded)]
    days += [(m.start(), _day_of(text, folded, m)) for m in DAY_OF.finditer(folded)]
    found = [(start, r) for start, r in days if r is not None]
    if found:
        return min(found, key=lambda item: item[0])[1]
    m = PERIODIC.search(folded)
    if m:
        if m.group(1):
            return Recurrence(FREQ[m.group(1)], text[m.start():m.end()])
        return Recurrence("semiannual", text[m.start():m.end()])
    m = EVERY_NEAR_DUTY.search(folded)
    if m:
        unit = next(g for g in m.groups() if g)
        return Recurrence(FREQ[unit], text[m.start():m.end()])
    return None


# A table's deadline column that says only how often: "Hằng tháng", "Định kỳ hằng quý".
WHOLE_CELL = re.compile(r"\s*(?:dinh ky\s*,?\s*)?" + _EVERY + r"\s*[.;]?\s*")


def cell_recurrence(cell: str) -> Recurrence | None:
    """The repetition a table's deadline cell gives its row: the cell alone ("Hằng quý"), or a
    recurring duty written in it ("trước ngày 20 hằng tháng")."""
    folded = fold_same_length(cell)
    m = WHOLE_CELL.fullmatch(folded)
    if m:
        return Recurrence(FREQ[m.group(1)], cell.strip(" .;"))
    return find_recurrence(cell, folded=folded)

