"""Deadline grammar: the phrases Vietnamese plans use to say by when work must be done.

General date libraries read every date in a plan; most are not deadlines (dates of cited
documents, horizons in strategy names, anniversaries, past events). Here a time expression
only counts when a *deadline cue* stands right before it ("trước ngày", "đến hết", "chậm nhất",
"trong tháng", "vào quý"...), or when it is one of a few target forms ("Năm 2022, phấn đấu...",
"đạt chuẩn ... năm 2023"). Each rule is a named pattern with a pure production; the corpus of
examples for every rule lives in tests/test_deadlines.py.

A month means its last day, a quarter its last day, a year its 31 December; a month or quarter
without a year takes the year of the document's period. "trước <tháng/quý/năm>" means before
that span starts. An impossible date (31/02/2023) is reported with a warning, never raised.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from bot.text import fold, lower_same_length

ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
QUARTER_WORDS = {"mot": 1, "nhat": 1, "hai": 2, "ba": 3, "bon": 4, "tu": 4}
MONTH_WORDS = {
    "gieng": 1, "mot": 1, "hai": 2, "ba": 3, "tu": 4, "bon": 4, "nam": 5, "sau": 6, "bay": 7,
    "tam": 8, "chin": 9, "muoi": 10, "muoi mot": 11, "chap": 12, "muoi hai": 12,
}

# Cues are matched on lower-cased text with accents: folding would make "quan trọng năm 2021"
# read as "trong năm 2021". Longest alternatives first.
_CUE = (
    r"(?:(?:phải |được )?(?:hoàn thành |xong |thực hiện |kết thúc |báo cáo |nộp )?"
    r"(?:trước|đến hết|tới hết|đến|tới|hết|chậm nhất(?: là)?(?: vào| trong)?|"
    r"muộn nhất(?: là)?(?: vào)?|trong|vào|ngay trong|hạn(?: chót| cuối)?(?: là)?|"
    r"thời hạn(?: là)?|không quá|từ nay đến(?: hết)?|cuối))"
)


def _means_before(cue: str) -> bool:
    """"trước" as the cue itself, after any leading verb ("hoàn thành trước quý III")."""
    return re.search(r"(?:^|\s)trước$", cue.strip()) is not None


# A time of day that may stand between the cue and the date: "trước 14 giờ ngày 20/12".
_CLOCK = r"(?:\d{1,2}\s*(?:giờ|h|g)(?:\s*\d{1,2}(?:\s*phút)?)?\s*,?\s*)"
# Verbs that make "trong năm 2023" a deadline ("hoàn thành ... trong năm 2023") rather than a
# description ("các dự án triển khai trong năm 2022").
_TARGET_VERB = re.compile(
    r"(?:hoàn thành|hoàn tất|xong|phấn đấu|phân đấu|phấu đấu|phân đầu|đạt|ban hành|đưa vào|"
    r"khởi công|khánh thành|di dời|giải ngân|thành lập|bàn giao|đi vào hoạt động)[^.;:]*$"
)
_YEAR = r"(?P<y>(?:19|20)\d{2})"

DATE_NUMERIC = re.compile(
    r"(?<![\d/.-])(?P<d>\d{1,2})\s*([/.-])\s*(?P<m>\d{1,2})\s*\2\s*" + _YEAR + r"(?![\d/])"
)
DATE_WORDS = re.compile(
    r"(?P<d>\d{1,2})\s+thang\s+(?P<m>\d{1,2})\s*(?:,\s*)?nam\s+" + _YEAR
)
DATE_NO_YEAR = re.compile(r"(?<![\d/.-])(?P<d>\d{1,2})\s*/\s*(?P<m>\d{1,2})(?![\d/])")
MONTH = re.compile(
    r"thang\s+(?P<m>\d{1,2})(?:\s*(?:/|-|nam)\s*" + _YEAR + r")?(?![\d/])"
)
QUARTER = re.compile(
    r"quy\s+(?P<q>iv|iii|ii|i|[1-4]|mot|nhat|hai|ba|bon|tu)\b"
    r"(?:\s*(?:/|-|nam|cua nam)\s*" + _YEAR + r")?"
)
HALF = re.compile(r"(?P<n>6|9|sau|chin)\s+thang\s+(?P<which>dau|cuoi)\s+nam(?:\s+" + _YEAR + r")?")
YEAR = re.compile(r"nam\s+" + _YEAR + r"(?!\s*[-–]\s*\d)")

CITATION_BEFORE = re.compile(
    r"(?:\d+[\w.]*\s*[/-]\s*[a-z][\w/.-]*|ky|ban hanh|thanh lap|sinh|thang \d+)\s*,?\s*(?:ngay)?\s*$"
)
HORIZON_AFTER = re.compile(r"^\s*,?\s*(?:dinh huong|tam nhin)")
HORIZON_BEFORE = re.compile(
    r"(?:giai doan|dinh huong|tam nhin|thoi ky|nhiem ky|quy hoach|de an|chien luoc|"
    r"chuong trinh|ke hoach|nghi quyet|den nam \d{4}\s*,?)\s*[^,;.]{0,60}$"
)
TARGET_BEFORE = re.compile(r"(?:phan dau|phau dau|dat chuan|dat muc tieu)\s*[^,;.:]{0,70}$")


@dataclass(frozen=True, slots=True)
class Found:
    """A deadline found in a text: span in the text, date (None if impossible) and grain."""

    start: int
    end: int
    due: date | None
    grain: str
    warning: str | None = None


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def quarter_end(year: int, quarter: int) -> date:
    return month_end(year, quarter * 3)


def quarter_number(token: str) -> int | None:
    token = token.lower()
    if token in ROMAN:
        return ROMAN[token]
    if token.isdigit():
        return int(token) if 1 <= int(token) <= 4 else None
    return QUARTER_WORDS.get(token)


def checked_date(y: int, m: int, d: int) -> tuple[date | None, str | None]:
    """The date, or None and a Vietnamese warning when it does not exist (31/02/2023)."""
    try:
        return date(y, m, d), None
    except ValueError:
        if 1 <= m <= 12:
            last = calendar.monthrange(y, m)[1]
            why = f"tháng {m} năm {y} chỉ có {last} ngày"
        else:
            why = f"không có tháng {m}"
        return None, f"Ngày {d:02d}/{m:02d}/{y} không tồn tại ({why})."


_CUE_RE = re.compile(_CUE + r"\s+" + _CLOCK + r"?(?:ngày\s+)?$")


def _cue_before(low: str, start: int) -> re.Match[str] | None:
    """A deadline cue ending right before ``start`` (a clock time may sit between)."""
    m = _CUE_RE.search(low[max(0, start - 70):start])
    if m and m.start() > 0:
        # The cue must be a whole word: "quan trọng" is not "trong".
        window = low[max(0, start - 70):start]
        if window[m.start() - 1].isalnum():
            return None
    return m


def _before_span(kind: str, y: int, m: int = 12, q: int = 4) -> date:
    """The day before a month/quarter/year starts ("trước tháng 6/2023" -> 31/05/2023)."""
    if kind == "month":
        first = date(y, m, 1)
    elif kind == "quarter":
        first = date(y, (q - 1) * 3 + 1, 1)
    else:
        first = date(y, 1, 1)
    return first - timedelta(days=1)


def find_deadlines(text: str, *, default_year: int | None) -> list[Found]:
    """Every deadline phrase in ``text`` (one paragraph), in order of appearance.

    ``default_year`` is the year of the document's period, used for "trong tháng 6",
    "hết quý III" and "trước ngày 15/12" written without a year.
    """
    folded = fold_same_length(text)
    low = lower_same_length(text)
    taken: list[tuple[int, int]] = []
    out: list[Found] = []

    def free(a: int, b: int) -> bool:
        return all(b <= s or a >= e for s, e in taken)

    def add(cue: re.Match[str] | None, m: re.Match[str], due: date | None, grain: str,
            warning: str | None = None) -> None:
        start = m.start() - (len(cue.group(0)) if cue else 0)
        start = max(0, start)
        if not free(m.start(), m.end()):
            return
        taken.append((m.start(), m.end()))
        out.append(Found(start, m.end(), due, grain, warning))

    # Full dates: "trước ngày 05/9/2021", "chậm nhất ngày 15 tháng 12 năm 2023".
    for rx in (DATE_NUMERIC, DATE_WORDS):
        for m in rx.finditer(folded):
            cue = _cue_before(low, m.start())
            if not cue or CITATION_BEFORE.search(folded[max(0, m.start() - 40):m.start()]) and \
                    not re.search(r"(?:trước|đến|hết|chậm nhất|hạn)\s+(?:ngày\s+)?$",
                                  low[max(0, m.start() - 20):m.start()]):
                continue
            due, warning = checked_date(int(m["y"]), int(m["m"]), int(m["d"]))
            add(cue, m, due, "day", warning)
    # Dates without a year need a strong cue: "trước ngày 15/12".
    for m in DATE_NO_YEAR.finditer(folded):
        if default_year is None or not free(m.start(), m.end()):
            continue
        window = low[max(0, m.start() - 40):m.start()]
        cue = re.search(r"(?:trước|đến hết|chậm nhất(?: là)?|hạn(?: chót)?)\s+" + _CLOCK +
                        r"?ngày\s+$", window)
        if not cue:
            continue
        d, mo = int(m["d"]), int(m["m"])
        if not 1 <= mo <= 12:
            continue
        due, warning = checked_date(default_year, mo, d)
        add(cue, m, due, "day", warning)
    # Half years: "6 tháng đầu năm 2023".
    for m in HALF.finditer(folded):
        cue = _cue_before(low, m.start())
        if not cue or not free(m.start(), m.end()):
            continue
        year = int(m["y"]) if m["y"] else default_year
        if year is None:
            continue
        n = 6 if m["n"] in ("6", "sau") else 9
        due = month_end(year, n if m["which"] == "dau" else 12)
        add(cue, m, due, "half")
    # Quarters: "hết quý II năm 2023", "Quý III/2022", "vào quý III năm 2022".
    for m in QUARTER.finditer(folded):
        cue = _cue_before(low, m.start())
        q = quarter_number(m["q"])
        if not cue or q is None or not free(m.start(), m.end()):
            continue
        year = int(m["y"]) if m["y"] else default_year
        if year is None:
            continue
        before = _means_before(cue.group(0))
        due = _before_span("quarter", year, q=q) if before else quarter_end(year, q)
        add(cue, m, due, "quarter")
    # Months: "trong tháng 01/2021", "đến hết tháng 12/2022".
    for m in MONTH.finditer(folded):
        cue = _cue_before(low, m.start())
        if not cue or not free(m.start(), m.end()):
            continue
        mo = int(m["m"])
        year = int(m["y"]) if m["y"] else default_year
        if year is None or not 1 <= mo <= 12:
            continue
        if folded[m.end():m.end() + 5].startswith(" nam") and not m["y"]:
            continue  # "6 tháng năm" is a duration, not a month
        before = _means_before(cue.group(0))
        due = _before_span("month", year, m=mo) if before else month_end(year, mo)
        add(cue, m, due, "month")
    # Years: "hết năm 2022", "trong năm 2023", "Năm 2022, phấn đấu", "đạt chuẩn ... năm 2023".
    for m in YEAR.finditer(folded):
        if not free(m.start(), m.end()):
            continue
        year = int(m["y"])
        before_text = folded[max(0, m.start() - 90):m.start()]
        cue = _cue_before(low, m.start())
        if HORIZON_AFTER.search(folded[m.end():m.end() + 20]):
            continue
        if cue:
            word = cue.group(0).strip()
            if word.endswith(("trong", "vào")) and not _TARGET_VERB.search(
                    low[max(0, m.start() - 220):m.start()]):
                continue
            if word.endswith(("đến", "tới")) and not word.endswith(("đến hết", "tới hết")):
                # "đến năm 2030" is a horizon unless it follows a target verb.
                if not TARGET_BEFORE.search(before_text) or HORIZON_BEFORE.search(before_text):
                    continue
            if word.endswith("cuối") and HORIZON_BEFORE.search(before_text):
                continue
            due = date(year - 1, 12, 31) if _means_before(word) else date(year, 12, 31)
            add(cue, m, due, "year")
            continue
        sentence_start = re.search(r"(?:^|[.;:!?]\s*|\n)\s*$", folded[:m.start()])
        after = folded[m.end():m.end() + 3]
        if sentence_start and after.startswith(","):
            add(None, m, date(year, 12, 31), "year")
        elif TARGET_BEFORE.search(before_text) and not HORIZON_BEFORE.search(before_text) \
                and re.search(r"(?:phan dau|phau dau)\s*$|dat chuan [^,;.:]*$", before_text):
            add(None, m, date(year, 12, 31), "year")
    out.sort(key=lambda f: f.start)
    return out


def _build_fold_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for cp in [*range(0x41, 0x5B), *range(0xC0, 0x250), *range(0x1E00, 0x1F00)]:
        f = fold(chr(cp))
        if len(f) == 1:
            table[cp] = f
    for ch in "\t\n\r\u00a0":
        table[ord(ch)] = " "
    return table


_FOLD_TABLE = _build_fold_table()


def fold_same_length(text: str) -> str:
    """Fold accents and case character by character so offsets stay those of ``text``."""
    return text.translate(_FOLD_TABLE)
