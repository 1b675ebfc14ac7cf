"""Understand the dates and times officials type in chat ("thứ hai tuần sau", "8h ngày mai").

dateparser gets much Vietnamese wrong ("ngày mai lúc 8 giờ" -> 18:00, "20 tháng sáu" ->
20 January, "3 ngày nữa" -> nothing), so a small grammar over :func:`bot.text.fold`-ed text
runs first; accents are therefore optional ("thu hai tuan sau"). Only text the grammar cannot
read goes to dateparser, which is imported lazily because its first call costs ~100 ms.

Choices a reader of the code needs to know (all dates relative to ``now``/``today``):

* ``d/m`` without a year is the next occurrence when ``prefer_future`` (15/1 on 20/12/2022 is
  15/01/2023); a day and month are never swapped ("5/6" is 5 June).
* A bare weekday ("thứ năm", "thứ sáu tới") is the next such day strictly after today; say
  "hôm nay" for today. "thứ X tuần này/sau/trước" is that day of this/next/previous week
  (Monday-based), even when already past. "thứ X này" is the nearest such day from today on.
* "tuần tới"/"tuần sau" is Monday of next week; "tháng sau" and "năm sau" keep the day
  (clamped: 31/1 -> 28/2); "quý sau" is the last day of next quarter (quarters are deadlines).
* Officials work Monday-Friday, so "cuối tuần" is **Friday** (the last working day), "đầu
  tuần" Monday and "giữa tuần" Wednesday. "cuối tháng/quý/năm" is the last day, "đầu ..." the
  first, "giữa tháng" the 15th, "giữa năm" 30/6.
* A period named alone means its end, as in "hoàn thành trong tháng 6": "tháng 6" -> 30/6,
  "quý 3" -> 30/9, "tuần này" -> Friday, "tháng này" -> last day, "năm 2023" -> 31/12/2023.
* Parts of the day: sáng 08:00, trưa 12:00, chiều 14:00, tối 19:00, đêm 22:00; they also
  shift a clock ("2 giờ chiều" -> 14:00, "8 giờ tối" -> 20:00).
* A clock without a day is today, or tomorrow when already past and ``prefer_future``.
* "N giờ/tiếng/phút nữa" is counted from ``now`` to the minute; "N ngày/tuần/tháng nữa" moves
  the date and uses ``default_time``.
"""

from __future__ import annotations

import calendar
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from bot.errors import DateInputError
from bot.text import fold, nfc, quote

logger = logging.getLogger(__name__)

APP_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
"""Only used by :func:`parse_user_date`, where the zone cannot change the answer."""

MAX_INPUT_CHARS = 200
"""Longer text is not a date; refusing it keeps the regexes cheap."""

EXAMPLES_DATETIME = (
    "«20/6», «14:30 20/6/2025», «ngày mai lúc 8 giờ», «2 giờ chiều thứ sáu», "
    "«3 ngày nữa», «thứ hai tuần sau», «cuối tháng»"
)
EXAMPLES_DATE = (
    "«20/6/2025», «ngày 20 tháng 6», «ngày mai», «thứ sáu tuần này», «2 tuần nữa», "
    "«cuối tháng», «cuối quý»"
)

PART_DEFAULTS = {"sang": time(8, 0), "trua": time(12, 0), "chieu": time(14, 0),
                 "toi": time(19, 0), "dem": time(22, 0)}
PART_NAMES = {"sang": "sáng", "trua": "trưa", "chieu": "chiều", "toi": "tối", "dem": "đêm"}
WEEKDAY_NAMES = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")

_NUMBER_WORDS = {"mot": 1, "hai": 2, "ba": 3, "bon": 4, "tu": 4, "nam": 5, "sau": 6, "bay": 7,
                 "tam": 8, "chin": 9, "muoi": 10}
# "tháng sau" means next month, so an unaccented "sau" is never June; "tháng sáu" is turned
# into "tháng 6" before folding (see _prepare).
_MONTH_WORDS = {"gieng": 1, "mot": 1, "hai": 2, "ba": 3, "tu": 4, "bon": 4, "nam": 5, "bay": 7,
                "tam": 8, "chin": 9, "muoi": 10, "muoi mot": 11, "muoi hai": 12, "chap": 12}
_HOUR_WORDS = {**_NUMBER_WORDS, "muoi mot": 11, "muoi hai": 12}
_WEEKDAY_WORDS = {"hai": 0, "ba": 1, "tu": 2, "nam": 3, "sau": 4, "bay": 5,
                  "2": 0, "3": 1, "4": 2, "5": 3, "6": 4, "7": 5}
_SHIFT_WORDS = {"nay": 0, "sau": 1, "toi": 1, "ke": 1, "ke tiep": 1, "tiep theo": 1,
                "truoc": -1, "ngoai": -1}
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
_FILLERS = frozenset({"luc", "vao", "ngay", "truoc", "den", "het", "han", "chot", "trong",
                      "cho", "la", "nhe", "nha", "khoang", "tai", "buoi", "|"})

_SHIFT = r"(?:ke tiep|tiep theo|nay|sau|toi|truoc|ke)"
_MONTH_WORD = r"(?:muoi mot|muoi hai|gieng|chap|muoi|mot|hai|ba|tu|bon|nam|bay|tam|chin)"
_HOUR_WORD = r"(?:muoi mot|muoi hai|muoi|mot|hai|ba|bon|tu|nam|sau|bay|tam|chin)"
_EDGE = r"(?:dau|cuoi|giua|trong|het)"
_NUM = r"(?:\d{1,3}|mot|hai|ba|bon|tu|nam|sau|bay|tam|chin|muoi|nua)"
_UNIT = r"(?:ngay|tuan|thang|nam|gio|tieng|phut|h|p)"
_END = r"(?!\w)"
_START = r"(?<!\w)"


@dataclass
class _Ctx:
    """What the rules need to turn words into dates, plus what they found so far."""

    now: datetime
    prefer_future: bool
    day: date | None = None
    clock: tuple[int, int] | None = None
    part: str | None = None
    exact: datetime | None = None
    weekday_hint: int | None = None
    original: str = ""

    @property
    def today(self) -> date:
        return self.now.date()

    def set_day(self, value: date) -> None:
        if self.day is not None or self.exact is not None:
            raise DateInputError(f"Có hai mốc ngày trong «{quote(self.original)}», "
                                 "hãy chỉ ghi một.")
        self.day = value

    def set_clock(self, hour: int, minute: int) -> None:
        if self.clock is not None or self.exact is not None:
            raise DateInputError(f"Có hai giờ khác nhau trong «{quote(self.original)}», "
                                 "hãy chỉ ghi một giờ.")
        if not (0 <= hour <= 23 and 0 <= minute <= 59):
            raise DateInputError(f"Giờ {hour}:{minute:02d} không hợp lệ: giờ từ 0 đến 23, "
                                 "phút từ 0 đến 59.")
        self.clock = (hour, minute)

    def set_part(self, part: str) -> None:
        if self.part is not None and self.part != part:
            raise DateInputError(f"Có hai buổi khác nhau ({PART_NAMES[self.part]}, "
                                 f"{PART_NAMES[part]}), hãy chỉ ghi một.")
        self.part = part

    def set_exact(self, value: datetime) -> None:
        if self.day is not None or self.clock is not None or self.exact is not None:
            raise self.mixed_error()
        self.exact = value

    def mixed_error(self) -> DateInputError:
        return DateInputError(f"«{quote(self.original)}» vừa ghi khoảng thời gian (như "
                              "«2 tiếng nữa») vừa ghi ngày giờ khác, hãy chỉ ghi một cách.")


# --- calendar helpers -------------------------------------------------------------------------


def _month_len(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _month_end(year: int, month: int) -> date:
    return date(year, month, _month_len(year, month))


def _add_months(day: date, months: int) -> date:
    """Move by whole months keeping the day when it exists (31/1 + 1 month -> 28/2)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    _check_year(year)
    return date(year, month, min(day.day, _month_len(year, month)))


def _check_year(year: int) -> None:
    if not 1900 <= year <= 2199:
        raise DateInputError(f"Năm {year} không hợp lệ.")


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _shown(day: int, month: int, year: int | None) -> str:
    text = f"{day:02d}/{month:02d}"
    return f"{text}/{year}" if year is not None else text


def _build_date(day: int, month: int, year: int | None, ctx: _Ctx) -> date:
    """Make a real date or explain in Vietnamese why it does not exist.

    Without a year the date is this year's; with ``prefer_future`` the next occurrence from
    today (29/2 finds the next leap year).
    """
    shown = _shown(day, month, year)
    if not 1 <= month <= 12:
        raise DateInputError(f"Ngày {shown} không tồn tại: một năm chỉ có 12 tháng.")
    if day < 1:
        raise DateInputError(f"Ngày {shown} không tồn tại: ngày trong tháng bắt đầu từ 1.")
    if year is not None:
        _check_year(year)
        if day > _month_len(year, month):
            raise DateInputError(f"Ngày {shown} không tồn tại: tháng {month} năm {year} chỉ có "
                                 f"{_month_len(year, month)} ngày.")
        return date(year, month, day)
    longest = _month_len(2000, month)  # 2000 is a leap year: the most days a month can have
    if day > longest:
        word = "có nhiều nhất" if month == 2 else "chỉ có"
        raise DateInputError(f"Ngày {shown} không tồn tại: tháng {month} {word} {longest} ngày.")
    year = ctx.today.year
    if not ctx.prefer_future:
        return _build_date(day, month, year, ctx)
    for candidate in range(year, year + 9):
        if day <= _month_len(candidate, month) and date(candidate, month, day) >= ctx.today:
            return date(candidate, month, day)
    raise DateInputError(f"Ngày {shown} không tồn tại.")  # pragma: no cover - 29/2 within 8 y


def _year_of(text: str) -> int:
    year = int(text)
    return 2000 + year if len(text) <= 2 else year


def _roll(target: date, ctx: _Ctx, step: Callable[[date], date]) -> date:
    """Move a target that is already past forward by ``step`` when the caller prefers future."""
    if ctx.prefer_future and target < ctx.today:
        return step(target)
    return target


# --- rules ------------------------------------------------------------------------------------
# Each rule is a regex on the prepared, folded text and a handler. Rules run in order; the text
# a rule consumes is replaced by " | " so later rules cannot match across it. A handler returns
# False to leave its match unconsumed.

Handler = Callable[[re.Match[str], _Ctx], "bool | None"]
_RULES: list[tuple[re.Pattern[str], Handler]] = []


def _rule(pattern: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        _RULES.append((re.compile(_START + pattern + _END), handler))
        return handler
    return register


@_rule(r"(?:(?:vao )?luc )(?P<h>\d{1,2})\.(?P<m>\d{2})")
def _dotted_clock(m: re.Match[str], ctx: _Ctx) -> None:
    """"lúc 8.30" is a time (a bare "8.30" is read as a date, like "15.1")."""
    ctx.set_clock(int(m["h"]), int(m["m"]))


@_rule(r"(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})")
def _iso_date(m: re.Match[str], ctx: _Ctx) -> None:
    ctx.set_day(_build_date(int(m["d"]), int(m["m"]), int(m["y"]), ctx))


@_rule(r"(?:(?:ngay|mung) )?(?P<d>\d{1,2}) (?:thang|thg) (?P<m>\d{1,2}|" + _MONTH_WORD + ")"
       r"(?:(?: nam | |/|-)(?P<y>\d{4})| nam (?P<shift>" + _SHIFT + "))?")
def _text_date(m: re.Match[str], ctx: _Ctx) -> None:
    """"ngày 15 tháng 1 năm 2023", "15 tháng 1", "20 tháng 6 năm sau"."""
    month = int(m["m"]) if m["m"].isdigit() else _MONTH_WORDS[m["m"]]
    year: int | None = int(m["y"]) if m["y"] else None
    if m["shift"]:
        year = ctx.today.year + _SHIFT_WORDS[m["shift"]]
    ctx.set_day(_build_date(int(m["d"]), month, year, ctx))


@_rule(r"(?:ngay|mung) (?P<d>\d{1,2}) thang (?P<shift>" + _SHIFT + ")")
def _day_of_shifted_month(m: re.Match[str], ctx: _Ctx) -> None:
    """"ngày 3 tháng sau" is the 3rd of next month (not "3 tháng sau", three months on)."""
    first = _add_months(ctx.today.replace(day=1), _SHIFT_WORDS[m["shift"]])
    ctx.set_day(_build_date(int(m["d"]), first.month, first.year, ctx))


@_rule(r"(?<![\d/.:-])(?:ngay )?(?P<d>\d{1,2})(?P<sep>[/.-])(?P<m>\d{1,2})"
       r"(?:(?P=sep)(?P<y>\d{4}|\d{2}))?(?![\d/.:-])")
def _numeric_date(m: re.Match[str], ctx: _Ctx) -> None:
    """"15/1/2023", "15-01-2023", "15.1.2023", "15/1" (day first, never swapped)."""
    year = _year_of(m["y"]) if m["y"] else None
    try:
        ctx.set_day(_build_date(int(m["d"]), int(m["m"]), year, ctx))
    except DateInputError as error:
        if m["sep"] == "." and year is None and int(m["d"]) < 24 and int(m["m"]) < 60:
            raise DateInputError(f"{error.message} Nếu là giờ, hãy ghi "
                                 f"«{m['d']}:{m['m']}» hoặc «{m['d']}h{m['m']}».") from None
        raise


@_rule(r"(?:(?P<edge>" + _EDGE + r") )?(?:thang|thg) (?P<m>\d{1,2}|" + _MONTH_WORD + ")"
       r"(?:(?: nam | |/|-)(?P<y>\d{4})| nam (?P<shift>" + _SHIFT + "))?")
def _named_month(m: re.Match[str], ctx: _Ctx) -> None:
    """"tháng 6" (its last day), "đầu tháng 7/2025", "cuối tháng chạp"."""
    month = int(m["m"]) if m["m"].isdigit() else _MONTH_WORDS[m["m"]]
    if not 1 <= month <= 12:
        raise DateInputError(f"Tháng {month} không tồn tại: một năm chỉ có 12 tháng.")
    explicit = m["y"] is not None or m["shift"] is not None
    year = int(m["y"]) if m["y"] else ctx.today.year + _SHIFT_WORDS.get(m["shift"] or "", 0)
    _check_year(year)

    def target(y: int) -> date:
        return _edge_of_month(m["edge"], y, month)

    day = target(year)
    if not explicit:
        day = _roll(day, ctx, lambda _: target(year + 1))
    ctx.set_day(day)


def _edge_of_month(edge: str | None, year: int, month: int) -> date:
    if edge == "dau":
        return date(year, month, 1)
    if edge == "giua":
        return date(year, month, 15)
    return _month_end(year, month)


@_rule(r"(?:(?P<edge>" + _EDGE + r") )?quy (?P<q>iv|iii|ii|i|[1-4]|" + _SHIFT + ")"
       r"(?:(?: nam | |/|-)(?P<y>\d{4})| nam (?P<shift>" + _SHIFT + "))?")
def _quarter(m: re.Match[str], ctx: _Ctx) -> None:
    """"quý IV", "cuối quý 2 năm 2023", "đầu quý sau" (a quarter alone means its last day)."""
    year = ctx.today.year
    current = (ctx.today.month - 1) // 3 + 1
    explicit = True
    if m["q"] in _SHIFT_WORDS:
        index = year * 4 + current - 1 + _SHIFT_WORDS[m["q"]]
        year, quarter = index // 4, index % 4 + 1
    else:
        quarter = _ROMAN.get(m["q"]) or int(m["q"])
        explicit = m["y"] is not None or m["shift"] is not None
        if m["y"]:
            year = int(m["y"])
        elif m["shift"]:
            year += _SHIFT_WORDS[m["shift"]]
    _check_year(year)
    day = _edge_of_quarter(m["edge"], year, quarter)
    if not explicit:
        day = _roll(day, ctx, lambda _: _edge_of_quarter(m["edge"], year + 1, quarter))
    ctx.set_day(day)


def _edge_of_quarter(edge: str | None, year: int, quarter: int) -> date:
    if edge == "dau":
        return date(year, 3 * quarter - 2, 1)
    if edge == "giua":
        return date(year, 3 * quarter - 1, 15)
    return _month_end(year, 3 * quarter)


@_rule(r"(?:(?P<pre>sau|trong vong|trong|khoang) )?"
       r"(?<!thu )(?<!thang )(?<!quy )(?<!ngay )(?<!mung )(?<!nam )"
       r"(?P<n>" + _NUM + r") ?(?P<unit>" + _UNIT + r")(?: (?P<half>ruoi))?"
       r"(?: (?P<post>nua|sau|toi|truoc|sau do))?")
def _relative(m: re.Match[str], ctx: _Ctx) -> bool:
    """"3 ngày nữa", "sau 2 tuần", "2 tiếng nữa", "nửa tiếng nữa", "3 ngày trước"."""
    if not (m["pre"] or m["post"]):
        return False  # "2 giờ" is a clock time, "15 tháng" part of a date
    number = m["n"]
    unit = m["unit"]
    hours_like = unit in ("gio", "tieng", "h")
    if number == "nua":
        if not hours_like:
            return False
        amount = 0.5
    else:
        amount = float(int(number) if number.isdigit() else _NUMBER_WORDS[number])
    if m["half"]:
        amount += 0.5
    sign = -1 if m["post"] == "truoc" else 1
    if unit in ("gio", "tieng", "h", "phut", "p"):
        minutes = amount * (60 if hours_like else 1)
        moment = ctx.now + timedelta(minutes=sign * minutes)
        ctx.set_exact(moment.replace(second=0, microsecond=0))
        return True
    if amount != int(amount):
        return False
    whole = sign * int(amount)
    try:
        if unit == "ngay":
            day = ctx.today + timedelta(days=whole)
        elif unit == "tuan":
            day = ctx.today + timedelta(weeks=whole)
        else:
            day = _add_months(ctx.today, whole * (12 if unit == "nam" else 1))
    except OverflowError:
        raise DateInputError(f"«{quote(ctx.original)}» quá xa, hãy ghi một ngày cụ thể.") from None
    _check_year(day.year)
    ctx.set_day(day)
    return True


@_rule(r"(?:thu (?P<word>hai|ba|tu|nam|sau|bay|[2-7])|(?P<sun>chu nhat|cn)|t(?P<short>[2-7]))"
       r"(?: (?P<week>tuan) (?P<wshift>" + _SHIFT + r")| (?P<shift>nay|sau|toi|nua|ke tiep))?")
def _weekday(m: re.Match[str], ctx: _Ctx) -> None:
    """"thứ hai tuần sau", "thứ 6 tuần này", "chủ nhật", "T5" (see module notes)."""
    weekday = 6 if m["sun"] else _WEEKDAY_WORDS[m["word"] or m["short"]]
    if m["week"]:
        monday = _monday(ctx.today) + timedelta(weeks=_SHIFT_WORDS[m["wshift"]])
        ctx.set_day(monday + timedelta(days=weekday))
    elif m["shift"] == "nay":
        ctx.set_day(ctx.today + timedelta(days=(weekday - ctx.today.weekday()) % 7))
    else:
        if ctx.weekday_hint is not None:
            raise DateInputError("Có hai thứ trong tuần khác nhau, hãy chỉ ghi một.")
        ctx.weekday_hint = weekday  # resolved at the end: it may only confirm a written date


@_rule(r"(?:(?P<edge>" + _EDGE + r") )?(?:(?P<sang>sang) )?tuan(?: (?P<shift>" + _SHIFT + "))?")
def _week(m: re.Match[str], ctx: _Ctx) -> bool:
    """"tuần tới" (Monday), "cuối tuần" (Friday), "đầu tuần sau", "sang tuần"."""
    if not (m["edge"] or m["sang"] or m["shift"]):
        return False
    offset = 1 if m["sang"] else _SHIFT_WORDS.get(m["shift"] or "", 0)
    monday = _monday(ctx.today) + timedelta(weeks=offset)
    edge = m["edge"]
    if edge is None:
        edge = "cuoi" if offset == 0 else "dau"
    day = monday + timedelta(days={"dau": 0, "giua": 2}.get(edge, 4))
    if not (m["shift"] or m["sang"]):
        day = _roll(day, ctx, lambda d: d + timedelta(weeks=1))
    ctx.set_day(day)
    return True


@_rule(r"(?:(?P<edge>" + _EDGE + r") )?(?:(?P<sang>sang) )?thang(?: (?P<shift>" + _SHIFT + "))?")
def _month(m: re.Match[str], ctx: _Ctx) -> bool:
    """"tháng sau" (same day), "cuối tháng này", "đầu tháng sau", "cuối tháng"."""
    if not (m["edge"] or m["sang"] or m["shift"]):
        return False
    offset = 1 if m["sang"] else _SHIFT_WORDS.get(m["shift"] or "", 0)
    first = _add_months(ctx.today.replace(day=1), offset)
    if m["edge"] is None and offset != 0:
        day = _add_months(ctx.today, offset)
    else:
        day = _edge_of_month(m["edge"], first.year, first.month)
    if not (m["shift"] or m["sang"]):
        day = _roll(day, ctx, lambda d: _edge_of_month(m["edge"], *_next_month(d)))
    ctx.set_day(day)
    return True


def _next_month(day: date) -> tuple[int, int]:
    following = _add_months(day.replace(day=1), 1)
    return following.year, following.month


@_rule(r"(?P<edge>" + _EDGE + r") quy")
def _this_quarter(m: re.Match[str], ctx: _Ctx) -> None:
    """"cuối quý" is the end of the current quarter; "đầu quý" the next start still ahead."""
    quarter = (ctx.today.month - 1) // 3 + 1
    day = _edge_of_quarter(m["edge"], ctx.today.year, quarter)
    if day < ctx.today and ctx.prefer_future:
        index = ctx.today.year * 4 + quarter
        day = _edge_of_quarter(m["edge"], index // 4, index % 4 + 1)
    ctx.set_day(day)


@_rule(r"(?:(?P<edge>" + _EDGE + r") )?(?:(?P<sang>sang) )?nam"
       r"(?: (?:(?P<shift>" + _SHIFT + r"|ngoai)|(?P<y>\d{4})))?")
def _year(m: re.Match[str], ctx: _Ctx) -> bool:
    """"cuối năm" (31/12), "năm sau" (same day), "đầu năm 2024", "sang năm"."""
    if not (m["edge"] or m["sang"] or m["shift"] or m["y"]):
        return False
    if m["y"]:
        year, offset = int(m["y"]), None
    else:
        offset = 1 if m["sang"] else _SHIFT_WORDS.get(m["shift"] or "", 0)
        year = ctx.today.year + offset
    _check_year(year)
    edge = m["edge"]
    if edge is None and offset:
        day = _add_months(ctx.today, 12 * offset)
    elif edge == "dau":
        day = date(year, 1, 1)
    elif edge == "giua":
        day = date(year, 6, 30)
    else:
        day = date(year, 12, 31)
    if not (m["shift"] or m["sang"] or m["y"]):
        day = _roll(day, ctx, lambda d: d.replace(year=d.year + 1))
    ctx.set_day(day)
    return True


@_rule(r"(?:ngay|mung) (?P<d>\d{1,2})(?![\d/.:])")
def _day_of_month(m: re.Match[str], ctx: _Ctx) -> None:
    """"ngày 25": this month's 25th, or the next month that has it once past."""
    day = int(m["d"])
    if not 1 <= day <= 31:
        raise DateInputError(f"Ngày {day} không tồn tại: một tháng có từ ngày 1 đến ngày 31.")
    first = ctx.today.replace(day=1)
    for months in range(13 if ctx.prefer_future else 1):
        start = _add_months(first, months)
        if day <= _month_len(start.year, start.month):
            candidate = start.replace(day=day)
            if candidate >= ctx.today or not ctx.prefer_future:
                ctx.set_day(candidate)
                return
        elif not ctx.prefer_future:
            break
    raise DateInputError(f"Ngày {day} không có trong tháng {first.month} năm {first.year}.")


@_rule(r"(?:ngay )?bay gio|ngay lap tuc")
def _right_now(m: re.Match[str], ctx: _Ctx) -> None:
    """"bây giờ" is now (unaccented "bay gio" too: "7 giờ" is written with digits)."""
    ctx.set_exact(ctx.now.replace(second=0, microsecond=0))


@_rule(r"(?:(?:vao )?luc )?(?P<h>\d{1,2}):(?P<m>\d{2})(?::\d{2})?(?: ?(?:h|gio))?")
def _colon_clock(m: re.Match[str], ctx: _Ctx) -> None:
    """"08:30", "17:00", "lúc 14:00"."""
    ctx.set_clock(int(m["h"]), int(m["m"]))


@_rule(r"(?:(?:vao )?luc )?(?:(?P<h>\d{1,2}) ?(?:h|g|gio)|(?P<hw>" + _HOUR_WORD + ") gio)"
       r"(?: ?(?P<m>\d{1,2})(?![\d/.:-])(?: ?(?:p|phut))?| (?P<half>ruoi)"
       r"| kem (?P<less>\d{1,2})(?: ?(?:p|phut))?)?")
def _word_clock(m: re.Match[str], ctx: _Ctx) -> None:
    """"8 giờ", "8h", "8h30", "14 giờ 30", "8 giờ rưỡi", "8 giờ kém 15" (7:45)."""
    hour = int(m["h"]) if m["h"] else _HOUR_WORDS[m["hw"]]
    minute = int(m["m"] or 0)
    if m["half"]:
        minute = 30
    if m["less"]:
        less = int(m["less"])
        if not 0 < less < 60:
            raise DateInputError(f"«kém {less}» không hợp lệ: phải từ 1 đến 59 phút.")
        hour, minute = hour - 1, 60 - less
    ctx.set_clock(hour, minute)


@_rule(r"(?:vao )?luc (?P<h>\d{1,2})(?![\d/.:-])")
def _bare_clock(m: re.Match[str], ctx: _Ctx) -> None:
    """"lúc 8"."""
    ctx.set_clock(int(m["h"]), 0)


_DAY_WORDS = {"ngay hom nay": 0, "hom nay": 0, "bua nay": 0, "nay": 0,
              "ngay mai": 1, "mai": 1,
              "ngay kia": 2, "ngay mot": 2, "mot": 2,
              "ngay hom qua": -1, "hom qua": -1, "hom kia": -2}


@_rule("(?P<w>" + "|".join(sorted(_DAY_WORDS, key=len, reverse=True)) + ")")
def _day_word(m: re.Match[str], ctx: _Ctx) -> None:
    """"hôm nay", "ngày mai"/"mai", "ngày kia"/"ngày mốt", "hôm qua", "hôm kia"."""
    ctx.set_day(ctx.today + timedelta(days=_DAY_WORDS[m["w"]]))


@_rule(r"(?:(?:vao )?buoi )?(?P<p>sang|trua|chieu|toi|buoitoi|dem|khuya)")
def _part_of_day(m: re.Match[str], ctx: _Ctx) -> None:
    """"sáng", "chiều", "tối" (alone, or shifting a clock: "2 giờ chiều")."""
    part = {"buoitoi": "toi", "khuya": "dem"}.get(m["p"], m["p"])
    ctx.set_part(part)


# --- the pipeline -----------------------------------------------------------------------------

_EVENING_RE = re.compile(r"(?<!\w)tối(?!\w)", re.IGNORECASE)
_SIX_RE = re.compile(r"(?<!\w)sáu(?!\w)", re.IGNORECASE)
_SEVEN_RE = re.compile(r"(?<!\w)bảy(?!\w)", re.IGNORECASE)
_PUNCT_RE = re.compile(r"[,;()\[\]\"'“”«»!?]+|\.(?!\d)|-(?!\d)|(?<!\d)-")


def _prepare(text: str) -> str:
    """Fold the text while keeping what only accents tell apart.

    "tối" (evening) and "tới" (next) both fold to "toi", "sáu" (six) and "sau" (after) to
    "sau", "bảy" (seven) and "bây" (in "bây giờ", now) to "bay": the accented forms are
    marked first, so "thứ hai tối" is Monday evening while an
    unaccented "toi" after "tuần" still means next.
    """
    text = _EVENING_RE.sub(" buoitoi ", text)
    text = _SIX_RE.sub(" 6 ", text)
    text = _SEVEN_RE.sub(" 7 ", text)
    folded = fold(text)
    return " ".join(_PUNCT_RE.sub(" ", folded).split())


def _scan(text: str, ctx: _Ctx) -> list[str]:
    """Run the rules; return the words no rule consumed and that are not mere fillers."""
    work = f" {_prepare(text)} "
    for pattern, handler in _RULES:
        def replace(m: re.Match[str], handler: Handler = handler) -> str:
            return m[0] if handler(m, ctx) is False else " | "
        work = pattern.sub(replace, work)
    return [w for w in work.split() if w not in _FILLERS]


def _apply_part(hour: int, minute: int, part: str | None) -> tuple[int, int, int]:
    """Shift a clock by its part of day; returns (hour, minute, extra days)."""
    if part is None:
        return hour, minute, 0
    if part == "sang":
        if hour > 12:
            raise DateInputError(f"{hour} giờ không phải buổi sáng.")
        return hour, minute, 0
    if part == "dem" and hour == 12:
        return 0, minute, 1  # "12 giờ đêm" is midnight, the start of the next day
    if part == "dem" and hour <= 4:
        return hour, minute, 0  # "1 giờ đêm"
    if part == "trua" and hour >= 10:
        return hour, minute, 0
    if hour < 12:
        return hour + 12, minute, 0
    if part in ("toi", "dem") and hour < 17:
        raise DateInputError(f"{hour} giờ không phải buổi {PART_NAMES[part]}.")
    return hour, minute, 0


def _resolve(ctx: _Ctx, default_time: time) -> datetime:
    """Combine the parts found into one aware datetime."""
    tz = ctx.now.tzinfo
    if ctx.exact is not None:
        if ctx.part is not None or ctx.weekday_hint is not None:
            raise ctx.mixed_error()
        return ctx.exact
    if ctx.weekday_hint is not None:
        if ctx.day is None:
            ahead = (ctx.weekday_hint - ctx.today.weekday() - 1) % 7 + 1
            ctx.day = ctx.today + timedelta(days=ahead)
        elif ctx.day.weekday() != ctx.weekday_hint:
            raise DateInputError(
                f"Ngày {format_date(ctx.day)} là {WEEKDAY_NAMES[ctx.day.weekday()]}, không phải "
                f"{WEEKDAY_NAMES[ctx.weekday_hint]}."
            )
    extra = 0
    if ctx.clock is not None:
        hour, minute, extra = _apply_part(*ctx.clock, ctx.part)
        clock = time(hour, minute)
    elif ctx.part is not None:
        clock = PART_DEFAULTS[ctx.part]
    else:
        clock = default_time
    if ctx.day is None:
        moment = datetime.combine(ctx.today + timedelta(days=extra), clock, tzinfo=tz)
        if ctx.prefer_future and moment < ctx.now:
            moment += timedelta(days=1)
        return moment
    return datetime.combine(ctx.day + timedelta(days=extra), clock, tzinfo=tz)


def _fallback(text: str, now: datetime, prefer_future: bool) -> tuple[date, time | None] | None:
    """Ask dateparser; returns the date and, when the text named one, the time of day."""
    from dateparser.date import DateDataParser  # lazy: ~100 ms on first use

    settings: dict[str, Any] = {
        "DATE_ORDER": "DMY",
        "PREFER_DATES_FROM": "future" if prefer_future else "current_period",
        "RELATIVE_BASE": now.replace(tzinfo=None),
        "RETURN_AS_TIMEZONE_AWARE": False,
        "RETURN_TIME_AS_PERIOD": True,
    }
    zone = _zone_name(now.tzinfo)
    if zone:
        settings["TIMEZONE"] = zone
        settings["TO_TIMEZONE"] = zone
    data = DateDataParser(languages=["vi"], settings=settings).get_date_data(text)
    logger.debug("dateparser fallback for %r -> %s (%s)", text, data.date_obj, data.period)
    if data.date_obj is None or data.period not in ("day", "week", "time"):
        return None  # "tháng 6 2023" as a month would pick an arbitrary day: refuse
    found: datetime = data.date_obj
    return found.date(), (found.time().replace(second=0, microsecond=0)
                          if data.period == "time" else None)


def _zone_name(zone: tzinfo | None) -> str | None:
    key = getattr(zone, "key", None) or getattr(zone, "zone", None)
    return key if isinstance(key, str) else None


def _analyse(text: str, now: datetime, prefer_future: bool, examples: str) -> tuple[_Ctx, bool]:
    """Scan ``text``; returns the context and whether dateparser must be asked instead."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    text = nfc(text or "").strip()
    if not text:
        raise DateInputError(f"Chưa ghi ngày giờ. Ví dụ: {examples}.")
    if len(text) > MAX_INPUT_CHARS:
        raise DateInputError(f"Đoạn ngày giờ quá dài. Ví dụ cách ghi: {examples}.")
    ctx = _Ctx(now=now, prefer_future=prefer_future, original=text)
    leftover = _scan(text, ctx)
    nothing = (ctx.day is None and ctx.clock is None and ctx.part is None and ctx.exact is None
               and ctx.weekday_hint is None)
    if not leftover and nothing:
        raise DateInputError(f"Không hiểu «{quote(text)}» là ngày giờ nào. "
                             f"Có thể ghi: {examples}.")
    return ctx, bool(leftover)


def _not_understood(text: str, examples: str) -> DateInputError:
    return DateInputError(f"Không hiểu «{quote(nfc(text))}» là ngày giờ nào. "
                          f"Có thể ghi: {examples}.")


def _use_fallback(text: str, now: datetime, prefer_future: bool) -> tuple[date, time | None]:
    if not re.search(r"[^\W\d_]", text):  # digits only ("15"): too ambiguous to guess
        raise _not_understood(text, EXAMPLES_DATETIME)
    result = _fallback(nfc(text).strip(), now, prefer_future)
    if result is None:
        raise _not_understood(text, EXAMPLES_DATETIME)
    return result


# --- public API -------------------------------------------------------------------------------


def parse_user_datetime(text: str, now: datetime, *, default_time: time = time(8, 0),
                        prefer_future: bool = True) -> datetime:
    """Read a moment typed in chat ("ngày mai lúc 8 giờ", "14h30 20/6") relative to ``now``.

    Returns an aware datetime in ``now``'s time zone; ``default_time`` fills in when only a day
    is given. Raises :class:`DateInputError` with a Vietnamese explanation otherwise.
    """
    ctx, unsure = _analyse(text, now, prefer_future, EXAMPLES_DATETIME)
    if unsure:
        day, clock = _use_fallback(text, now, prefer_future)
        return datetime.combine(day, clock or default_time, tzinfo=now.tzinfo)
    return _resolve(ctx, default_time)


def parse_user_date(text: str, today: date, *, prefer_future: bool = True) -> date:
    """Read a day typed in chat (a deadline: "20/6", "cuối tháng", "thứ sáu tuần sau").

    A time of day in the text is ignored; a past date is returned as such (the caller decides
    whether it is acceptable), but a date written without a year is its next occurrence.
    """
    now = datetime.combine(today, time(0, 0), tzinfo=APP_TZ)
    ctx, unsure = _analyse(text, now, prefer_future, EXAMPLES_DATE)
    if unsure:
        try:
            return _use_fallback(text, now, prefer_future)[0]
        except DateInputError:
            raise _not_understood(text, EXAMPLES_DATE) from None
    if ctx.exact is not None:
        raise DateInputError(f"Hạn cần là một ngày, không phải «{quote(ctx.original)}». "
                             f"Ví dụ: {EXAMPLES_DATE}.")
    if ctx.day is None and ctx.weekday_hint is None:
        raise DateInputError(f"Thiếu ngày trong «{quote(nfc(text))}». Ví dụ: {EXAMPLES_DATE}.")
    return _resolve(ctx, time(0, 0)).date()


def format_date(day: date) -> str:
    """Show a date the way Vietnamese documents write it: dd/mm/yyyy."""
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"


def format_datetime(moment: datetime) -> str:
    """Show a moment as "HH:MM dd/mm/yyyy" (the order officials write it)."""
    return f"{moment.hour:02d}:{moment.minute:02d} {format_date(moment.date())}"
