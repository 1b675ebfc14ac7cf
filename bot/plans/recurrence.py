"""Recurring duties: "định kỳ hằng quý báo cáo", "hằng tháng", "6 tháng, năm",
"trước ngày 15 của tháng cuối quý".

Only repetition attached to a duty counts: "định kỳ hằng quý", or "hằng quý" next to a reporting
verb (báo cáo, sơ kết, tổng hợp, rà soát, đánh giá, kiểm tra). "tuyển dụng mới hằng năm" is a
description, not a duty to remind.
"""

from __future__ import annotations

import re

from bot.models import Recurrence
from bot.plans.deadlines import fold_same_length

FREQ = {"tuan": "weekly", "thang": "monthly", "quy": "quarterly", "nam": "annual"}
_EVERY = r"(?:hang|hang)\s+(tuan|thang|quy|nam)"
_DUTY = r"(?:bao cao|so ket|tong ket|tong hop|ra soat|danh gia|kiem tra|giao ban|hop|cap nhat)"
PERIODIC = re.compile(r"dinh ky\s+(?:" + _EVERY + r"|(6|sau)\s+thang(?:\s*,\s*(?:hang\s+)?nam)?)")
EVERY_NEAR_DUTY = re.compile(
    _EVERY + r"\s+(?:\w+\s+){0,3}?" + _DUTY + r"|" + _DUTY + r"(?:\s+[^.;,]{0,60}?)?\s+" + _EVERY
)
DAY_OF = re.compile(
    r"(?:truoc|truoc ngay|vao ngay|ngay)\s+(?:ngay\s+)?(\d{1,2})\s+(?:cua\s+|hang\s+)?"
    r"(thang cuoi quy|thang dau quy|thang cuoi|hang thang|thang)"
)


def find_recurrence(text: str) -> Recurrence | None:
    """The recurring duty written in ``text``, or None."""
    folded = fold_same_length(text)
    m = DAY_OF.search(folded)
    if m and ("hang" in folded[max(0, m.start() - 40):m.end() + 40] or "quy" in m.group(2)
              or "dinh ky" in folded):
        day = int(m.group(1))
        if 1 <= day <= 31:
            where = m.group(2)
            if "quy" in where:
                which = "last" if "cuoi" in where else "first"
                return Recurrence("quarterly", text[m.start():m.end()], day, which)
            return Recurrence("monthly", text[m.start():m.end()], day)
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
