"""Deadline grammar: the phrases Vietnamese administrative texts use to say by when work is due.

General date libraries read every date in a text; most are not deadlines (dates of cited
documents, horizons in strategy names, anniversaries, meetings, reporting windows). Here a time
expression only counts when a *cue* stands right before it ("trước ngày", "chậm nhất", "đến
hết", "trong tháng", "Thời hạn nộp hồ sơ:", "trước <sự kiện> (05/9/2024)"...), or in one of a
few target forms ("Năm 2022, phấn đấu...", "đạt chuẩn ... năm 2023").

The grammar is written the way Duckling writes one (facebook/duckling, ``Duckling/Time/VI``):
named rules, each a pattern and a pure production that returns None when it can build no value;
small tables generating rules; one explicit ``RULES`` list at the bottom of this module; and a
corpus of phrases and look-alikes for every rule in tests/test_deadlines.py. Reading a paragraph:

1. The text is normalised once, into two views as long as the text itself: ``folded`` (lower
   case, accents dropped: numbers, names of periods and the words OCR damages, "phân đấu") and
   ``lower`` (lower case, accents kept: cue words whose meaning hangs on an accent, "trong" /
   "trọng", "tới" / "tối").
2. The time rules, compiled into one scanner that tries longer forms first, find the time
   expressions ("ngày 15/12/2022", "ngày 05-8", "Quý III/2024", "6 tháng đầu năm 2024", "năm
   2025"); their productions build a :class:`Time`, the span of the calendar named, with its
   year when one is written.
3. A time expression is a deadline only when a cue rule matches the words right before it (a
   clock time or a weekday may stand between: "trước 17h30', thứ Sáu, ngày 11/10/2024"), a
   follow rule the words right after it ("Ngày 29/6 là hạn cuối"), or, for a year, a target
   rule; the first production that returns a value wins. The cue rules are compiled into one
   ``$``-anchored alternation searched over at most :data:`WINDOW` characters, so the cost of
   a paragraph is linear in its length.
4. Two time expressions joined by "đến" or "-" make a range, and neither end is a deadline
   ("từ ngày 01/10 đến hết ngày 15/10/2024", "vào tháng 9 đến tháng 12"); one listed after a
   deadline takes its cue, and a list shares the year written last ("trong tháng 11, tháng 12
   năm 2025").

Values: a month means its last day, a quarter its last day, a year its 31 December, "6 tháng
đầu năm" 30 June; "trước <tháng/quý/năm>" means before that span starts. A day, month or
quarter written without a year takes ``default_year``; when the document's date (``reference``)
is in that same year and the span ended more than :data:`ROLLOVER_DAYS` days before it, the
next year is meant (a letter of 20/12/2024 asking for "trước ngày 05/01" means 2025). "trước
15/10 hằng năm" is the first 15 October on or after ``reference``, with a yearly recurrence.
An impossible date (31/02/2023) is reported with a warning, never raised.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta

from bot.text import fold, lower_same_length

__all__ = [
    "RULES", "CueRule", "FollowRule", "Found", "Rule", "TargetRule", "Time", "TimeRule",
    "checked_date", "explain_deadlines", "find_deadlines", "fold_same_length", "month_end",
    "quarter_end", "quarter_number", "read_deadline_cell",
]

WINDOW = 90
"""How far (in characters) the cue and target rules look back from a time expression."""
VERB_WINDOW = 220
"""How far "trong/vào năm 2023" looks back for the verb that makes it a target."""
ROLLOVER_DAYS = 60
"""A yearless date that far before the document's date, in the same year, is next year's."""

# --- tables --------------------------------------------------------------------------------

ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
QUARTER_DIGITS = {"1": 1, "2": 2, "3": 3, "4": 4}
QUARTER_WORDS = {"mot": 1, "nhat": 1, "hai": 2, "ba": 3, "bon": 4, "tu": 4}
# Months written as words, with their accents: folded, "tháng sáu" (June) would read "tháng
# sau" (next month). "tháng năm" (May) and "tháng một" are left out: "báo cáo tháng, năm" and
# "mỗi tháng một lần" are far more frequent than those spellings.
MONTH_WORDS = {
    "giêng": 1, "hai": 2, "ba": 3, "tư": 4, "bốn": 4, "sáu": 6, "bảy": 7, "tám": 8, "chín": 9,
    "mười": 10, "mười một": 11, "mười hai": 12, "chạp": 12,
}
# "6 tháng đầu năm": how many months, and which end of the year they are counted from.
PART_MONTHS = {"3": 3, "ba": 3, "6": 6, "sau": 6, "9": 9, "chin": 9}
# Day/month separators: "15/12/2022", "15.12.2022", "15-12-2022".
SEPARATORS = {"/": "/", ".": r"\.", "-": "-"}
WEEKDAYS = ("thứ hai", "thứ ba", "thứ tư", "thứ năm", "thứ sáu", "thứ bảy", "chủ nhật")


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def quarter_end(year: int, quarter: int) -> date:
    return month_end(year, quarter * 3)


def quarter_number(token: str) -> int | None:
    token = token.lower()
    for table in (ROMAN, QUARTER_DIGITS, QUARTER_WORDS):
        if token in table:
            return table[token]
    return None


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


# --- values ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Found:
    """A deadline found in a text: span in the text, date (None if impossible) and grain."""

    start: int
    end: int
    due: date | None
    grain: str
    warning: str | None = None
    recurrence: str | None = None
    """"annual" for "trước 15/10 hằng năm", else None."""


@dataclass(frozen=True, slots=True)
class Time:
    """A span of the calendar named in a text; ``year`` is None when no year is written."""

    grain: str
    """day, month, quarter, half or year."""
    first_month: int
    last_month: int
    day: int | None = None
    year: int | None = None
    first_year: int | None = None
    """The first year of a range ("năm 2024-2025"); None for a single span."""
    annual: bool = False
    """Written with "hằng năm": a day that comes back every year."""

    def first_day(self, year: int) -> date | None:
        if self.day is not None:
            return checked_date(year, self.first_month, self.day)[0]
        return date(year, self.first_month, 1)

    def last_day(self, year: int) -> tuple[date | None, str | None]:
        if self.day is not None:
            return checked_date(year, self.last_month, self.day)
        return month_end(year, self.last_month), None


@dataclass(frozen=True, slots=True)
class Context:
    """One paragraph, normalised once, and what is known of the document it comes from."""

    text: str
    lower: str
    folded: str
    default_year: int | None
    reference: date | None

    @classmethod
    def of(cls, text: str, default_year: int | None, reference: date | None, *,
           lower: str | None = None, folded: str | None = None) -> Context:
        """The views of ``text``; a caller that has them already (the parser folds each block
        once) passes them."""
        if lower is None or len(lower) != len(text):
            lower = lower_same_length(text)
        if len(lower) != len(text):  # a letter whose lower case is longer ("İ")
            lower = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
        if folded is None or len(folded) != len(text):
            folded = fold_same_length(text)
        return cls(text, lower, folded, default_year, reference)


@dataclass(frozen=True, slots=True)
class Token:
    """A time expression found by a time rule."""

    start: int
    end: int
    time: Time
    rule: str
    """The name of the time rule that read it."""


@dataclass(frozen=True, slots=True)
class Cue:
    """The words a cue rule matched before a time expression."""

    start: int
    words: str
    """The cue as written, lower case ("hoàn thành trước", "thời hạn nộp hồ sơ:")."""
    clock: bool
    """A clock time or a weekday stands between the cue and the date."""


@dataclass(frozen=True, slots=True)
class Due:
    """What a deadline production builds: the date (None if impossible) and the phrase's ends."""

    day: date | None
    warning: str | None = None
    recurrence: str | None = None
    start: int | None = None
    """Where the phrase starts when not at the cue (target forms start at the year)."""
    end: int | None = None
    """Where the phrase ends when not at the time expression ("… (05/9/2024)" ends after ")")."""


@dataclass(frozen=True, slots=True)
class Rule:
    """A named pattern and a pure production that returns None when it can build no value."""

    name: str
    pattern: re.Pattern[str]
    production: Callable[..., object]


@dataclass(frozen=True, slots=True)
class TimeRule(Rule):
    """A time expression, matched on folded text; production(match, context) -> Time | None."""


@dataclass(frozen=True, slots=True)
class CueRule(Rule):
    """Words right before a time expression (lower case, accents kept) that make a deadline;
    production(context, token, cue) -> Due | None."""


@dataclass(frozen=True, slots=True)
class FollowRule(Rule):
    """Words right after a time expression that make it a deadline ("Ngày 29/6 là hạn cuối"),
    lower case; production(context, token, match) -> Due | None."""


@dataclass(frozen=True, slots=True)
class TargetRule(Rule):
    """A target form with no cue, matched on folded text before a year ("phấn đấu năm 2022");
    production(context, token, match) -> Due | None."""


# --- patterns --------------------------------------------------------------------------------


def _words(*phrases: str) -> str:
    """An alternation of phrases, longest first, any run of spaces between their words."""
    ordered = sorted(phrases, key=len, reverse=True)
    return "(?:" + "|".join(r"\s+".join(map(re.escape, p.split())) for p in ordered) + ")"


_YEAR = r"(?P<year>(?:19|20)\d{2})"
# A year after a month or quarter: "tháng 12/2022", "Quý III-2024", "quý IV (của) năm 2022",
# "quý IV.2019" (a dot, as some newspapers write it).
_OF_YEAR = r"(?:\s*(?:/|-|\.(?=(?:19|20)\d{2}(?!\d))|(?:cua\s+)?nam)\s*" + _YEAR + r")?"
# "trước 15/10 hằng năm": a yearless day that comes back every year.
_EVERY_YEAR = r"(?P<every>\s+hang\s+nam)?"
# A bare day must not be the tail of a number or of a longer date ("1234/QĐ", "12/2022/NĐ").
_NOT_AFTER_NUMBER = r"(?<![\d/.-])"


def _day_full(sep: str) -> re.Pattern[str]:
    """ "<dd>/<mm>/<yyyy>": the same separator twice."""
    s = SEPARATORS[sep]
    return re.compile(r"(?:ngay\s+)?" + _NOT_AFTER_NUMBER + r"(?P<day>\d{1,2})\s*" + s
                      + r"\s*(?P<month>\d{1,2})\s*" + s + r"\s*" + _YEAR + r"(?![\d/])")


def _day_no_year(sep: str) -> re.Pattern[str]:
    """ "<dd>/<mm>"; with "." or "-" only after "ngày" ("ngày 05-8"): "5.8" is a number."""
    s = SEPARATORS[sep]
    lead = r"(?:ngay\s+)?" if sep == "/" else r"ngay\s+"
    return re.compile(lead + _NOT_AFTER_NUMBER + r"(?P<day>\d{1,2})\s*" + s
                      + r"\s*(?P<month>\d{1,2})(?![\d/])(?!\s*[.-]\s*\d)" + _EVERY_YEAR)


DAY_WORDS = re.compile(
    r"(?:ngay\s+)?(?<!\d)(?P<day>\d{1,2})\s+thang\s+(?P<month>\d{1,2})\s*,?\s*nam\s+" + _YEAR
    + r"(?!\d)"
)
DAY_WORDS_NO_YEAR = re.compile(
    r"ngay\s+(?P<day>\d{1,2})\s+thang\s+(?P<month>\d{1,2})(?!\d)(?!\s*,?\s*nam\s+\d)"
    + _EVERY_YEAR
)
PART_OF_YEAR = re.compile(
    r"(?<![a-z\d])(?P<count>" + "|".join(PART_MONTHS) + r")\s+thang\s+(?P<part>dau|cuoi)\s+nam"
    r"(?:\s+" + _YEAR + r"(?!\d)|(?!\s+hoc\b))"
)


def _quarter(table: dict[str, int]) -> re.Pattern[str]:
    return re.compile(r"(?<![a-z])quy\s+(?P<quarter>" + _words(*table) + r")(?![a-z\d])"
                      + _OF_YEAR + r"(?!\d)")


MONTH = re.compile(r"(?<![a-z])thang\s+(?P<month>\d{1,2})(?!\d)" + _OF_YEAR + r"(?![\d/])")
MONTH_WORD = re.compile(
    r"(?<![a-z])thang\s+(?P<word>" + _words(*(fold(w) for w in MONTH_WORDS)) + r")(?![a-z])"
    + _OF_YEAR + r"(?!\d)"
)
YEAR_RANGE = re.compile(
    r"(?<![a-z])nam\s+(?P<first>(?:19|20)\d{2})\s*[-–]\s*" + _YEAR + r"(?!\d)"
)
YEAR = re.compile(r"(?<![a-z])nam\s+" + _YEAR + r"(?!\d)(?!\s*[-–]\s*\d)")

# Between a cue and a date: a clock time and/or a weekday. "trước 17 giờ", "trước 16 giờ 00",
# "trước 10 giờ 30 phút", "trước 17h30'", "chậm nhất vào lúc 14h30, thứ Tư,".
_CLOCK = (r"(?:\d{1,2}\s*(?:giờ|h|g)(?:\s*\d{1,2}(?:\s*(?:phút|'|’|p\b))?)?|\d{1,2}:\d{2})"
          r"(?:\s*(?:sáng|trưa|chiều|tối))?")
_LINK = (r"(?:(?:vào\s+)?lúc\s+)?(?:" + _CLOCK + r"\s*[,;-]?\s*)?(?:" + _words(*WEEKDAYS)
         + r"\s*[,;-]?\s*)?")

# "xong trước", "hoàn thành trước": one cue ("hoàn thành chậm nhất là ngày …" is a verb, then
# the cue "chậm nhất là").
_DONE = r"(?:(?:(?:phải|được)\s+)?" + _words("hoàn thành", "hoàn tất", "xong") + r"\s+)?"
BEFORE = re.compile(_DONE + "trước")
# What may follow "chậm nhất" or "hạn chót" before the date: "chậm nhất là vào ngày",
# "hạn chót: ngày", "chậm nhất đến hết ngày".
_THEN = r"(?:\s*:)?(?:\s+là)?(?:\s+(?:vào|trong|đến\s+hết|đến|tới))?"
AT_LATEST = re.compile(_words("chậm nhất", "muộn nhất") + _THEN + "|"
                       + _words("không quá", "không muộn hơn"))
# A bare "hạn" only with "là" or a colon: "giới hạn năm 2024", "gia hạn" are no cues.
DEADLINE_WORD = re.compile(_words("thời hạn", "hạn chót", "hạn cuối") + _THEN
                           + r"|hạn(?:\s*:|\s+là)" + _THEN)
# "Thời hạn nộp hồ sơ: …", "Hạn nộp báo cáo: …", "Thời gian hoàn thành: …", "hạn chót nộp hồ
# sơ là ngày …" (never a bare "Thời gian:", which announces a meeting).
LABEL = re.compile(
    r"(?:thời\s+hạn|hạn\s+" + _words("nộp", "chót", "cuối", "gửi", "hoàn thành", "báo cáo")
    + r"|thời\s+gian\s+hoàn\s+thành)(?:[^\n.;:()\d]{0,40}:(?:\s*là)?"
    r"|\s+[^\n.;:()\d\s][^\n.;:()\d]{0,39}?\s+là(?=\s))"
)
UNTIL_END = re.compile(r"(?:(?:từ\s+nay\s+)?(?:đến|tới)\s+hết|hết)")
UNTIL = re.compile(r"(?:từ\s+nay\s+)?(?:đến|tới)")
WITHIN = re.compile(r"(?:ngay\s+)?trong")
AT = re.compile(r"vào")
END_OF = re.compile(r"cuối")
# "Ngày 29/6 là hạn cuối nộp hồ sơ": the deadline word after the date.
DEADLINE_AFTER = re.compile(r"\s*(?:,\s*)?(?:là\s+)?(?:hạn\s+(?:chót|cuối)|thời\s+hạn\s+cuối)"
                            r"(?:\s+cùng)?(?!\w)")
# "hoàn thành thi công cắm mốc ngày 22/11/2022": a verb of completion, its object, the day.
COMPLETED_ON = re.compile(
    _words("hoàn thành", "hoàn tất")
    + r"\s+(?:(?!(?<!\w)(?:trước|chậm|muộn|không quá|đến|tới|trong|"
    r"vào|hạn|từ|lúc)(?!\w))[^\n.;:()\d]){1,60}?")
# "- Ngày 5/3/2026: Hội đồng bầu cử … giải quyết khiếu nại": a timetable's line.
SCHEDULE_AFTER = re.compile(r"\s*:\s*(?=\S)")
# "trước ngày khai giảng năm học mới (05/9/2024)": an event, its date in brackets.
BEFORE_EVENT = re.compile(_DONE + r"trước\s+[^\n.;:()\d]{1,60}\(")

# Checks around a time expression.
_COMPLETION_BEFORE = re.compile(r"(?<!\w)(?:hoàn\s+thành|hoàn\s+tất|xong|kết\s+thúc|nộp)\s+$")
_PAST = re.compile(r"(?<!\w)đã\s+$")
# "vào tháng 1/2019, Thanh tra Bộ đã có kết luận": an account, not a due date.
_ACCOUNT_AFTER = re.compile(r"[^.;:\n]{0,60}?(?<!\w)đã(?!\w)")
# "những tháng cuối năm 2025", "dịp cuối năm": "cuối" describes a noun, it is no cue.
_NOUN_BEFORE = re.compile(r"(?<!\w)(?:tháng|dịp|đợt|kỳ|buổi|phiên|những|các)\s+$")
# How two time expressions are joined: a range ("tháng 9 đến tháng 12", "01/10 - 15/10") or a
# list ("trong tháng 11, tháng 12 năm 2025", "ngày 15/8 và ngày 20/8").
_RANGE_LINK = re.compile(r"\s*(?:-|–|đến|tới)\s*(?:hết\s+)?")
_LIST_LINK = re.compile(r"\s*(?:,\s*(?:và|hoặc)?|và|hoặc)\s*")
_AS_OF = re.compile(r"(?<!\w)(?:tính|kể)\s+$")
# A window of time, "từ ngày 01/10 đến hết ngày 15/10": neither end is a due date.
_WINDOW_START = re.compile(
    r"(?<!\w)từ\s+(?:ngày|tháng|quý|năm|đầu|\d)(?:[^.;:!?,]|\.(?=\S))*$"
)
_CLOSE_BRACKET = re.compile(r"\s*\)")
_TARGET_VERB = re.compile(
    r"hoàn thành|hoàn tất|xong|đạt|ban hành|đưa vào|khởi công|khánh thành|di dời|giải ngân|"
    r"thành lập|bàn giao|đi vào hoạt động"
)
_STRIVE = re.compile(r"phan dau")  # folded: "phấn đấu" and its OCR slips ("phân đầu")
HORIZON_AFTER = re.compile(r"\s*,?\s*(?:dinh huong|tam nhin)")
HORIZON_BEFORE = re.compile(
    r"(?:giai doan|dinh huong|tam nhin|thoi ky|nhiem ky|quy hoach|de an|chien luoc|"
    r"chuong trinh|ke hoach|nghi quyet|den nam \d{4}\s*,?)\s*[^,;.]{0,60}$"
)
TARGET_BEFORE = re.compile(r"(?:phan dau|dat chuan|dat muc tieu)\s*[^,;.:]{0,70}$")
SENTENCE_START = re.compile(r"(?:^|[.;:!?])\s*$")
# What follows "Năm 2022,": the rest of the clause (bounded), unless it describes the year.
_YEAR_OPENING = re.compile(r",(?!\s*năm\b)([^.;:\n]{0,80})")
_ACCOUNT = re.compile(r"(?<!\w)đã(?!\w)")
STRIVE_BEFORE = re.compile(r"(?<![a-z])phan dau\s*$")
STANDARD_BEFORE = re.compile(r"(?<![a-z])dat chuan\s[^,;.:]{0,70}$")


# --- time productions ------------------------------------------------------------------------


def day_value(m: re.Match[str], ctx: Context) -> Time | None:
    """A day; a yearless one needs a real month (a full date keeps 31/02 for its warning)."""
    d, mo = int(m["day"]), int(m["month"])
    year = int(m["year"]) if "year" in m.re.groupindex and m["year"] else None
    if year is None and not (1 <= mo <= 12 and 1 <= d <= 31):
        return None
    every = "every" in m.re.groupindex and m["every"] is not None
    return Time("day", mo, mo, day=d, year=year, annual=every)


def part_value(m: re.Match[str], ctx: Context) -> Time:
    """ "6 tháng đầu năm" -> January to June; "6 tháng cuối năm" -> July to December."""
    n = PART_MONTHS[m["count"]]
    first, last = (1, n) if m["part"] == "dau" else (13 - n, 12)
    return Time("half", first, last, year=int(m["year"]) if m["year"] else None)


def quarter_value(m: re.Match[str], ctx: Context) -> Time | None:
    q = quarter_number(m["quarter"].replace(" ", ""))
    if q is None:
        return None
    return Time("quarter", q * 3 - 2, q * 3, year=int(m["year"]) if m["year"] else None)


def month_value(m: re.Match[str], ctx: Context) -> Time | None:
    mo = int(m["month"])
    if not 1 <= mo <= 12:
        return None
    if m["year"] is None and ctx.folded.startswith(" nam", m.end()):
        return None  # "tháng 6 năm nay": the year is said in words we do not read
    return Time("month", mo, mo, year=int(m["year"]) if m["year"] else None)


def month_word_value(m: re.Match[str], ctx: Context) -> Time | None:
    """ "tháng sáu": the accents must be those of the month's name ("tháng sau" is next month)."""
    written = " ".join(ctx.lower[m.start("word"):m.end("word")].split())
    if written not in MONTH_WORDS:
        return None
    mo = MONTH_WORDS[written]
    return Time("month", mo, mo, year=int(m["year"]) if m["year"] else None)


def year_range_value(m: re.Match[str], ctx: Context) -> Time | None:
    first, last = int(m["first"]), int(m["year"])
    if last < first:
        return None
    return Time("year", 1, 12, year=last, first_year=first)


def year_value(m: re.Match[str], ctx: Context) -> Time:
    return Time("year", 1, 12, year=int(m["year"]))


# --- deadline productions --------------------------------------------------------------------


def _year_of(ctx: Context, t: Time) -> int | None:
    """The year a time expression is in: as written, else the next occurrence or the default."""
    if t.year is not None:
        return t.year
    ref = ctx.reference
    if t.annual and ref is not None:
        this_year = t.last_day(ref.year)[0]
        return ref.year + 1 if this_year is not None and this_year < ref else ref.year
    y = ctx.default_year
    if y is None:
        return None
    if ref is not None and y == ref.year and t.grain in ("day", "month", "quarter"):
        last = t.last_day(y)[0]
        if last is not None and (ref - last).days > ROLLOVER_DAYS:
            return y + 1
    return y


def _end_of(ctx: Context, token: Token) -> Due | None:
    """The last day of the span named (a single day is its own last day)."""
    t = token.time
    if t.first_year is not None:
        return None  # "năm 2024-2025" in running text names a period, not a due date
    y = _year_of(ctx, t)
    if y is None:
        return None
    last, warning = t.last_day(y)
    return Due(last, warning, "annual" if t.annual else None)


def _day_before_start(ctx: Context, token: Token) -> Due | None:
    """ "trước tháng 6/2023" -> 31/05/2023; "trước ngày 15/12" is that day."""
    t = token.time
    if t.grain == "day":
        return _end_of(ctx, token)
    if t.first_year is not None:
        return None
    y = _year_of(ctx, t)
    first = t.first_day(y) if y is not None else None
    return Due(first - timedelta(days=1)) if first else None


def _weak_day(token: Token) -> bool:
    """A yearless day ("ngày 15/12") needs a strong cue: "trước", "chậm nhất", "hạn"…"""
    return token.time.grain == "day" and token.time.year is None


def _horizon_after(ctx: Context, token: Token) -> bool:
    """ "năm 2025, định hướng đến năm 2030": the first year names a strategy's horizon."""
    return token.time.grain == "year" and HORIZON_AFTER.match(ctx.folded, token.end) is not None


def _horizon_before(ctx: Context, token: Token) -> bool:
    return HORIZON_BEFORE.search(ctx.folded, max(0, token.start - WINDOW), token.start) is not None


def _target_verb(ctx: Context, cue: Cue) -> bool:
    """ "hoàn thành … trong năm 2023" is a deadline; "các dự án triển khai trong năm 2022" is
    a description. The verb must stand in the same clause (no ". ; :" between)."""
    lo = max(0, cue.start - VERB_WINDOW)
    clause = max(ctx.lower.rfind(ch, lo, cue.start) for ch in ".;:") + 1
    clause = max(clause, lo)
    return _TARGET_VERB.search(ctx.lower, clause, cue.start + len(cue.words)) is not None or \
        _STRIVE.search(ctx.folded, clause, cue.start) is not None


def _strives_for(ctx: Context, token: Token) -> bool:
    """ "phấn đấu đến năm 2025 …" is a target; "đến năm 2030" alone is a horizon."""
    lo = max(0, token.start - WINDOW)
    return TARGET_BEFORE.search(ctx.folded, lo, token.start) is not None and \
        not _horizon_before(ctx, token)


def _window(ctx: Context, cue: Cue) -> bool:
    """ "từ ngày 01/10/2024 đến hết ngày 15/10/2024", "Từ đầu năm đến ngày 15/7/2024"."""
    return _WINDOW_START.search(ctx.lower, max(0, cue.start - 60), cue.start) is not None


def _account_after(ctx: Context, token: Token) -> bool:
    """ "vào tháng 1/2019, Thanh tra Bộ đã có kết luận": the clause tells what was done."""
    return _ACCOUNT_AFTER.match(ctx.lower, token.end) is not None


def _as_of(ctx: Context, cue: Cue) -> bool:
    """ "tính đến ngày 30/6/2024": a date of account, not a due date."""
    return _AS_OF.search(ctx.lower, max(0, cue.start - 6), cue.start) is not None


def before(ctx: Context, token: Token, cue: Cue) -> Due | None:
    """ "trước ngày 20/6/2024", "trước 17 giờ ngày 05/9/2024", "trước quý IV năm 2024" (the
    day before the quarter starts), "trước 15/10 hằng năm"."""
    if cue.clock and token.time.grain != "day":
        return None
    if token.time.grain == "year" and _horizon_after(ctx, token):
        return None
    return _day_before_start(ctx, token)


def at_latest(ctx: Context, token: Token, cue: Cue) -> Due | None:
    """ "chậm nhất là ngày 15/01/2024", "không quá ngày 20/01/2024", "hạn chót là ngày …",
    "Thời hạn: 30/8/2024": the last day of the span."""
    if cue.clock and token.time.grain != "day":
        return None
    if _horizon_after(ctx, token):
        return None
    return _end_of(ctx, token)


def until_end(ctx: Context, token: Token, cue: Cue) -> Due | None:
    """ "đến hết ngày 31/12/2022", "hết quý II năm 2023", "đến hết năm 2025"; not the end of a
    window ("từ ngày 01/10/2024 đến hết ngày 15/10/2024")."""
    if cue.clock and token.time.grain != "day":
        return None
    if _window(ctx, cue) or _as_of(ctx, cue) or _horizon_after(ctx, token):
        return None
    return _end_of(ctx, token)


def until(ctx: Context, token: Token, cue: Cue) -> Due | None:
    """ "đến ngày 30/9/2021", "đến tháng 6/2024"; a year only after a target ("phấn đấu đến năm
    2025"), never a window, an account ("tính đến ngày") or a yearless day."""
    t = token.time
    if cue.clock and t.grain != "day" or _weak_day(token) or _account_after(ctx, token):
        return None
    if _window(ctx, cue) or _as_of(ctx, cue):
        return None
    if t.grain == "year" and (_horizon_after(ctx, token) or not _strives_for(ctx, token)):
        return None
    return _end_of(ctx, token)


def within(ctx: Context, token: Token, cue: Cue) -> Due | None:
    """ "trong tháng 7/2024", "trong quý III/2024", "trong 6 tháng cuối năm 2024"; "trong năm
    2023" only after a verb of completion ("hoàn thành … trong năm 2023")."""
    t = token.time
    if cue.clock or _weak_day(token) or _account_after(ctx, token):
        return None
    if t.grain == "year" and (_horizon_after(ctx, token) or not _target_verb(ctx, cue)):
        return None
    return _end_of(ctx, token)


def completed_on(ctx: Context, token: Token, cue: Cue) -> Due | None:
    """ "hoàn thành thi công cắm mốc ngày 22/11/2022": a full day written after the work it
    completes (never a past account, a range or a day without its year)."""
    t = token.time
    if t.grain != "day" or t.year is None or _account_after(ctx, token) or \
            not ctx.lower.startswith("ngày", token.start):
        return None
    return _end_of(ctx, token)


def at(ctx: Context, token: Token, cue: Cue) -> Due | None:
    """ "vào quý III năm 2022"; a day only after a verb of completion ("hoàn thành vào ngày
    30/6/2024": "tổ chức vào ngày 14/9/2024" is an event); a yearless month or quarter, or a
    year, only after a target verb ("khởi công vào tháng 9"); never an account ("vào tháng
    1/2019, Thanh tra Bộ đã có kết luận")."""
    t = token.time
    if cue.clock and t.grain != "day" or _weak_day(token) or _account_after(ctx, token):
        return None
    if t.grain == "day" and not _COMPLETION_BEFORE.search(ctx.lower, max(0, cue.start - 15),
                                                          cue.start):
        return None
    if t.grain == "year" and _horizon_after(ctx, token):
        return None
    if t.grain != "day" and (t.year is None or t.grain == "year") and \
            not _target_verb(ctx, cue):
        return None
    return _end_of(ctx, token)


def end_of(ctx: Context, token: Token, cue: Cue) -> Due | None:
    """ "cuối tháng 6/2024", "cuối quý III", "cuối năm 2024" (not a plan's horizon, nor "những
    tháng cuối năm 2025", where "cuối" describes the months)."""
    if cue.clock or _weak_day(token) or _account_after(ctx, token):
        return None
    if _NOUN_BEFORE.search(ctx.lower, max(0, cue.start - 10), cue.start):
        return None
    if token.time.grain == "year" and (_horizon_after(ctx, token) or
                                       _horizon_before(ctx, token)):
        return None
    return _end_of(ctx, token)


def scheduled_item(ctx: Context, token: Token, m: re.Match[str]) -> Due | None:
    """ "- Ngày 5/3/2026: Hội đồng bầu cử quốc gia … giải quyết khiếu nại": a dated line of a
    timetable; the day is what the line's work is due on."""
    t = token.time
    if t.grain != "day" or t.year is None or ctx.lower[:token.start].strip(" \t-+•*–"):
        return None
    due = _end_of(ctx, token)
    return replace(due, start=token.start, end=token.end) if due else None


def deadline_after(ctx: Context, token: Token, m: re.Match[str]) -> Due | None:
    """ "Ngày 29/6 là hạn cuối nộp hồ sơ xét tuyển": the phrase runs to the deadline word."""
    due = _end_of(ctx, token)
    return replace(due, start=token.start, end=m.end()) if due else None


def before_event(ctx: Context, token: Token, cue: Cue) -> Due | None:
    """ "trước ngày khai giảng năm học mới (05/9/2024)": the bracketed day; the phrase runs to
    the closing bracket."""
    if token.time.grain != "day" or cue.clock:
        return None
    close = _CLOSE_BRACKET.match(ctx.lower, token.end)
    due = _end_of(ctx, token)
    if close is None or due is None:
        return None
    return replace(due, end=close.end())


def new_year_target(ctx: Context, token: Token, m: re.Match[str]) -> Due | None:
    """ "Năm 2022, phấn đấu …": a year opening a sentence, then a comma; not an account ("Năm
    2023, toàn tỉnh đã …") nor a description of the year ("Năm 2022, năm đầu thực hiện …")."""
    if token.time.first_year is not None or _horizon_after(ctx, token):
        return None
    after = _YEAR_OPENING.match(ctx.lower, token.end)
    if after is None or _ACCOUNT.search(after.group(1)):
        return None
    return _end_of_at_token(ctx, token)


def strive_target(ctx: Context, token: Token, m: re.Match[str]) -> Due | None:
    """ "phấn đấu năm 2022 hoàn thành …", "đạt chuẩn nông thôn mới kiểu mẫu năm 2023"."""
    if token.time.first_year is not None or _horizon_after(ctx, token):
        return None
    if _horizon_before(ctx, token):
        return None
    return _end_of_at_token(ctx, token)


def _end_of_at_token(ctx: Context, token: Token) -> Due | None:
    due = _end_of(ctx, token)
    return replace(due, start=token.start) if due else None


# --- engine ----------------------------------------------------------------------------------


def _ungrouped(pattern: str) -> str:
    """The pattern with its named groups made non-capturing (to join it into one scanner)."""
    return re.sub(r"\(\?P<\w+>", "(?:", pattern)


# Where a time expression can start: a number, or the first word of a named span. The scanner
# is only tried there, which keeps its cost to a few operations per character.
_TIME_START = re.compile(r"\d+|ngay|thang|quy|nam|(?:ba|sau|chin)(?=\s+thang)")
# The first letters of the cue rules: a cheap gate before the full alternation.
_CUE_INITIALS = "[cđhkmnptvx]"


@dataclass(frozen=True, slots=True)
class _Made:
    """A deadline and how it was made (the list after it reuses the cue: "trong tháng 11,
    tháng 12 năm 2025")."""

    found: Found
    rule: Rule
    cue: Cue | None


class _Grammar:
    """The rule list compiled: one scanner for time expressions, one for cues."""

    def __init__(self, rules: list[Rule]) -> None:
        self.times = [r for r in rules if isinstance(r, TimeRule)]
        self.cues = [r for r in rules if isinstance(r, CueRule)]
        self.follows = [r for r in rules if isinstance(r, FollowRule)]
        self.targets = [r for r in rules if isinstance(r, TargetRule)]
        self.scanner = re.compile("|".join(
            f"(?P<t{i}>{_ungrouped(r.pattern.pattern)})" for i, r in enumerate(self.times)))
        for r in self.cues:
            assert r.pattern.groups == 0, f"cue rule {r.name!r} must not capture"
        head = r"(?<!\w)(?=" + _CUE_INITIALS + r")(?:"
        tail = r")\s*(?P<link>" + _LINK + r")\s*$"
        self.cue_scanner = re.compile(head + "|".join(
            f"(?P<c{i}>{r.pattern.pattern})" for i, r in enumerate(self.cues)) + tail)
        self.cue_alone = [re.compile(head + r.pattern.pattern + tail) for r in self.cues]

    def tokens(self, ctx: Context) -> list[Token]:
        """The time expressions of the text, in order; a list of them shares its year."""
        out: list[Token] = []
        end = 0
        for anchor in _TIME_START.finditer(ctx.folded):
            if anchor.start() < end:
                continue
            m = self.scanner.match(ctx.folded, anchor.start())
            if m is None:
                continue
            assert m.lastgroup is not None
            rule = self.times[int(m.lastgroup[1:])]
            whole = rule.pattern.match(ctx.folded, m.start())
            if whole is None:
                continue
            end = whole.end()
            time = rule.production(whole, ctx)
            if isinstance(time, Time):
                out.append(Token(m.start(), end, time, rule.name))
        # "tháng 11, tháng 12 năm 2025": the year written last is the whole list's.
        for i in range(len(out) - 2, -1, -1):
            a, b = out[i], out[i + 1]
            if a.time.year is None and b.time.year is not None and \
                    a.time.grain == b.time.grain and self.joined(ctx, a, b) == "list":
                out[i] = replace(a, time=replace(a.time, year=b.time.year))
        return out

    @staticmethod
    def joined(ctx: Context, a: Token, b: Token) -> str | None:
        """ "range" for "tháng 9 đến tháng 12", "list" for "tháng 11, tháng 12", else None."""
        if _RANGE_LINK.fullmatch(ctx.lower, a.end, b.start):
            return "range"
        if a.time.grain == b.time.grain and _LIST_LINK.fullmatch(ctx.lower, a.end, b.start):
            plain_comma = "và" not in ctx.lower[a.end:b.start] and \
                "hoặc" not in ctx.lower[a.end:b.start]
            if not plain_comma or a.time.grain in ("month", "quarter"):
                return "list"
        return None

    def deadline(self, ctx: Context, token: Token) -> _Made | None:
        """The deadline a time expression makes, and the rule that made it."""
        lo = max(0, token.start - WINDOW)
        m = self.cue_scanner.search(ctx.lower, lo, token.start)
        if m is not None:
            first = next(i for i in range(len(self.cues)) if m.start(f"c{i}") >= 0)
            for i in [first, *(j for j in range(len(self.cues)) if j != first)]:
                cm = m if i == first else self.cue_alone[i].search(ctx.lower, lo, token.start)
                if cm is None or _PAST.search(ctx.lower, max(0, cm.start() - 8), cm.start()):
                    continue
                words = ctx.lower[cm.start():cm.start("link")].rstrip()
                cue = Cue(cm.start(), words, bool(cm.group("link").strip()))
                due = self.cues[i].production(ctx, token, cue)
                if isinstance(due, Due):
                    return _Made(_found(token, cue.start, due), self.cues[i], cue)
            return None
        for rule in self.follows:
            fm = rule.pattern.match(ctx.lower, token.end)
            due = rule.production(ctx, token, fm) if fm else None
            if isinstance(due, Due):
                return _Made(_found(token, token.start, due), rule, None)
        if token.time.grain != "year":
            return None
        for target in self.targets:
            tm = target.pattern.search(ctx.folded, lo, token.start)
            due = target.production(ctx, token, tm) if tm else None
            if isinstance(due, Due):
                return _Made(_found(token, token.start, due), target, None)
        return None

    def continued(self, ctx: Context, token: Token, before: _Made) -> _Made | None:
        """A time expression listed after a deadline takes the same cue ("trong tháng 11,
        tháng 12 năm 2025"); its phrase is the expression alone."""
        if before.cue is None:
            return None
        due = before.rule.production(ctx, token, before.cue)
        if not isinstance(due, Due):
            return None
        return _Made(_found(token, token.start, replace(due, start=token.start)), before.rule,
                     before.cue)


def _found(token: Token, cue_start: int, due: Due) -> Found:
    start = cue_start if due.start is None else due.start
    end = token.end if due.end is None else due.end
    return Found(start, end, due.day, token.time.grain, due.warning, due.recurrence)


def find_deadlines(text: str, *, default_year: int | None, reference: date | None = None,
                   lower: str | None = None, folded: str | None = None) -> list[Found]:
    """Every deadline phrase in ``text`` (one paragraph), in order of appearance.

    ``default_year`` is the year for a day, month or quarter written without one (the year of
    the document's period, else of its date); ``reference`` is the document's date, when known.
    ``lower`` and ``folded`` are the text's views when the caller has them already.
    """
    return [found for found, _, _ in explain_deadlines(
        text, default_year=default_year, reference=reference, lower=lower, folded=folded)]


def explain_deadlines(text: str, *, default_year: int | None, reference: date | None = None,
                      lower: str | None = None,
                      folded: str | None = None) -> list[tuple[Found, str, str]]:
    """:func:`find_deadlines` with, for each deadline, the time rule and the cue (or target)
    rule that read it: ``(found, "<dd>/<mm>/<yyyy>", "trước <time>")``.

    The two ends of a range ("từ tháng 9 đến tháng 12", "01/10 - 15/10/2024") are no
    deadlines; a time expression listed after a deadline takes its cue.
    """
    ctx = Context.of(text, default_year, reference, lower=lower, folded=folded)
    tokens = _GRAMMAR.tokens(ctx)
    links = [_GRAMMAR.joined(ctx, a, b) for a, b in zip(tokens, tokens[1:], strict=False)]
    out: list[tuple[Found, str, str]] = []
    last: _Made | None = None
    for i, token in enumerate(tokens):
        before = links[i - 1] if i else None
        after = links[i] if i < len(links) else None
        if "range" in (before, after):
            last = None
            continue
        made = _GRAMMAR.continued(ctx, token, last) if before == "list" and last else None
        made = made or _GRAMMAR.deadline(ctx, token)
        last = made
        if made is not None and (not out or made.found.start >= out[-1][0].end):
            out.append((made.found, token.rule, made.rule.name))
    return out


_CELL_PUNCT = " \t\n-–*•("
# Words a cell may open with that all mean "by the end of": "Hoàn thành trong năm 2024".
_CELL_LEAD = re.compile(r"(?:(?:hoàn\s+thành|thực\s+hiện|xong)\s+)?"
                        r"(?:(?:trong|vào|đến\s+hết|đến|tới|hết|cuối|từ)\s+)?")
_CELL_RANGE = re.compile(r"\s*(?:-|–|đến\s+hết|đến|tới)\s*")
_CELL_END = re.compile(r"(?:\W.*)?", re.DOTALL)
_BARE_YEAR = re.compile(r"\s*((?:19|20)\d{2})\s*[.;]?\s*")


def read_deadline_cell(text: str, *, default_year: int | None,
                       reference: date | None = None) -> Found | None:
    """The deadline written in the deadline column of a task table, or None.

    A cell needs no cue word: "Quý III/2024", "Tháng 11" (``default_year``), "30/6/2024",
    "Năm 2024" (its 31 December), "Năm 2024-2025" (the end of the last year), "2024", "6 tháng
    đầu năm 2024", "Từ tháng 7 đến tháng 12/2024" (the end of the range). A cell with a cue
    reads as running text: "Trước 30/6/2024", "Trước quý IV/2024" (30/9/2024). "Thường
    xuyên", "Hằng quý", "Hằng năm" and "" give None.
    """
    found = find_deadlines(text, default_year=default_year, reference=reference)
    if found:
        return found[0]
    bare = _BARE_YEAR.fullmatch(text)
    if bare:
        written = int(bare.group(1))
        return Found(bare.start(1), bare.end(1), date(written, 12, 31), "year")
    ctx = Context.of(text, default_year, reference)
    tokens = _GRAMMAR.tokens(ctx)
    start = len(text) - len(text.lstrip(_CELL_PUNCT))
    lead = _CELL_LEAD.match(ctx.lower, start)
    if not tokens or lead is None or lead.end() != tokens[0].start:
        return None
    token = tokens[0]
    if len(tokens) > 1 and _CELL_RANGE.fullmatch(ctx.lower, token.end, tokens[1].start):
        # A range ends with its second part, which may lend the first its year.
        last = tokens[1]
        if last.time.year is None and token.time.year is not None:
            last = replace(last, time=replace(last.time, year=token.time.year))
        token = last
    if not _CELL_END.fullmatch(ctx.lower, token.end):
        return None
    t = token.time
    y = _year_of(ctx, t)
    if y is None:
        return None
    last_day, warning = t.last_day(y)
    return Found(start, token.end, last_day, t.grain, warning, "annual" if t.annual else None)


# --- normalisation ---------------------------------------------------------------------------


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


# --- the rules -------------------------------------------------------------------------------

RULES: list[Rule] = [
    # Time expressions, longest forms first (the scanner takes the first that matches).
    TimeRule("ngày <dd> tháng <mm> năm <yyyy>", DAY_WORDS, day_value),
    TimeRule("ngày <dd> tháng <mm> [hằng năm]", DAY_WORDS_NO_YEAR, day_value),
    *(TimeRule(f"<dd>{sep}<mm>{sep}<yyyy>", _day_full(sep), day_value) for sep in SEPARATORS),
    TimeRule("<dd>/<mm> [hằng năm]", _day_no_year("/"), day_value),
    *(TimeRule(f"ngày <dd>{sep}<mm> [hằng năm]", _day_no_year(sep), day_value)
      for sep in SEPARATORS if sep != "/"),
    TimeRule("<n> tháng đầu|cuối năm [<year>]", PART_OF_YEAR, part_value),
    TimeRule("quý <roman> [/năm <year>]", _quarter(ROMAN), quarter_value),
    TimeRule("quý <1-4> [/năm <year>]", _quarter(QUARTER_DIGITS), quarter_value),
    TimeRule("quý <word> [năm <year>]", _quarter(QUARTER_WORDS), quarter_value),
    TimeRule("tháng <mm> [/năm <year>]", MONTH, month_value),
    TimeRule("tháng <month word> [năm <year>]", MONTH_WORD, month_word_value),
    TimeRule("năm <yyyy>-<yyyy>", YEAR_RANGE, year_range_value),
    TimeRule("năm <yyyy>", YEAR, year_value),
    # Cues: the words before a time expression that make it a deadline.
    CueRule("trước <event> (<date>)", BEFORE_EVENT, before_event),
    CueRule("trước <time>", BEFORE, before),
    CueRule("chậm nhất|không quá <time>", AT_LATEST, at_latest),
    CueRule("<label>: <time>", LABEL, at_latest),
    CueRule("thời hạn|hạn chót <time>", DEADLINE_WORD, at_latest),
    CueRule("đến hết <time>", UNTIL_END, until_end),
    CueRule("đến <time>", UNTIL, until),
    CueRule("trong <time>", WITHIN, within),
    CueRule("vào <time>", AT, at),
    CueRule("cuối <time>", END_OF, end_of),
    CueRule("hoàn thành <work> ngày <date>", COMPLETED_ON, completed_on),
    # Words after a time expression.
    FollowRule("<date> là hạn chót", DEADLINE_AFTER, deadline_after),
    FollowRule("<date>: <work> (a timetable's line)", SCHEDULE_AFTER, scheduled_item),
    # Targets: a year with no cue.
    TargetRule("năm <year>, <target>", SENTENCE_START, new_year_target),
    TargetRule("phấn đấu <year>", STRIVE_BEFORE, strive_target),
    TargetRule("đạt chuẩn … <year>", STANDARD_BEFORE, strive_target),
]

_GRAMMAR = _Grammar(RULES)
