"""Task lists and task details as Telegram HTML, and their page buttons, as pure data.

No ``telegram`` import: functions return HTML strings and keyboard rows of
``(label, callback_data)`` tuples (``handlers.common.markup`` turns them into Telegram types).
Every text that comes from a document or a person goes through :func:`html.escape`, and every
line keeps its tags balanced, so ``handlers.common.split_html`` may cut between any two lines.

Page buttons carry ``pg:<view>:<page>:<arg>`` (at most 64 bytes): ``arg`` is never a raw unit
key (those are long Vietnamese strings) but a short hash — :func:`unit_ref` for a named unit,
:func:`term_ref` for a search term — or the number of days of /sapden.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from bot import review
from bot.board import (
    DONE,
    LEAD,
    OVERDUE,
    SOON,
    Board,
    Entry,
    TaskList,
    clamp_page,
    days_left_phrase,
)
from bot.progress import (
    EXT_APPROVE,
    EXT_REFUSE,
    EXT_REQUEST,
    PROGRESS,
    pending_extension,
    progress_text,
    who_label,
)
from bot.records import Event, StoredDocument, StoredTask, TaskProgress
from bot.store import Store
from bot.text import utf16_len, utf16_prefix

logger = logging.getLogger(__name__)

Row = list[tuple[str, str]]

NHIEMVU = "nhiemvu"
SAPDEN = "sapden"
QUAHAN = "quahan"
TIMKIEM = "timkiem"
VIEWS = (NHIEMVU, SAPDEN, QUAHAN, TIMKIEM)
PAGE_PREFIX = "pg"
UNIT_ARG = "u"
"""``arg`` of a list of one named unit: "u" + :func:`unit_ref`."""
MAX_CALLBACK_BYTES = 64

SNIPPET_WORDS = 15
SNIPPET_CHARS = 160
LABEL_CHARS = 50
MAX_TITLE_UNITS = 3

PREV = "« Trước"
NEXT = "Sau »"

ROLE_LABELS = {LEAD: "chủ trì", "support": "phối hợp"}
BUCKET_MARKS = {OVERDUE: "🔴", SOON: "🟠", DONE: "✅"}
OTHER_MARK = "⚪"
SECTION_TITLES = {OVERDUE: "Quá hạn", SOON: "Sắp đến hạn", "later": "Còn lại", DONE: "Đã xong"}
KIND_LABELS = {
    "ke_hoach": "Kế hoạch", "nghi_quyet": "Nghị quyết", "bao_cao": "Báo cáo",
    "chi_thi": "Chỉ thị", "ket_luan": "Kết luận", "thong_bao": "Thông báo",
    "quyet_dinh": "Quyết định", "cong_van": "Công văn", "other": "Văn bản",
}
DUE_KIND_LABELS = {
    "explicit": "hạn ghi trong văn bản",
    "period": "hạn là hết kỳ của văn bản",
    "extended": "đã gia hạn",
}
FREQ_LABELS = {
    "weekly": "hằng tuần", "monthly": "hằng tháng", "quarterly": "hằng quý",
    "semiannual": "6 tháng một lần", "annual": "hằng năm",
}
MONTH_OF_PERIOD = {"first": "tháng đầu kỳ", "last": "tháng cuối kỳ"}

NO_UNITS_GROUP = ("Nhóm này chưa là thành viên của đơn vị nào. Quản trị viên của nhóm gõ "
                  "/dangky để gửi yêu cầu tham gia một đơn vị, hoặc mở liên kết mời do quản "
                  "trị viên bot gửi.")
NO_UNITS_PRIVATE = ("Bạn chưa là thành viên của đơn vị nào. Gõ /dangky để gửi yêu cầu tham "
                    "gia một đơn vị, hoặc mở liên kết mời do quản trị viên bot gửi.")
OPEN_READ_HINT = "Vẫn có thể xem nhiệm vụ của một đơn vị bằng /nhiemvu <tên đơn vị>."
DETAIL_HINT = "Gõ /chitiet &lt;mã&gt; để xem chi tiết một nhiệm vụ."

_e = html.escape
_TAG_RE = re.compile(r"<[^>]*>")


# ------------------------------------------------------------------------------ small parts
def vn_date(value: date) -> str:
    """dd/mm/yyyy, the way dates are written in Vietnamese documents."""
    return value.strftime("%d/%m/%Y")


def vn_datetime(value: datetime) -> str:
    return value.strftime("%H:%M %d/%m/%Y")


def days_phrase(due: date | None, today: date) -> str:
    """"còn 3 ngày", "hôm nay", "quá hạn 2 ngày" or "không có hạn"."""
    return "không có hạn" if due is None else days_left_phrase((due - today).days)


def role_label(role: str | None) -> str:
    return ROLE_LABELS.get(role or "", "")


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if utf16_len(text) <= limit:  # Telegram's count: an emoji is 2
        return text
    return utf16_prefix(text, limit - 1).rstrip(" ,;:-") + "…"


def snippet(text: str, words: int = SNIPPET_WORDS, limit: int = SNIPPET_CHARS) -> str:
    """The first ``words`` words (at most ``limit`` characters), with "…" when cut. Plain."""
    parts = text.split()
    short = " ".join(parts[:words])
    if len(parts) > words:
        short = short.rstrip(" ,;:-") + "…"
    return _clip(short, limit)


def document_label(doc: StoredDocument | None) -> str:
    """"VB 09-NQ/TU"; without a number the kind and the start of the title. Plain."""
    if doc is None:
        return "văn bản đã xóa"
    if doc.number:
        return f"VB {_clip(doc.number, LABEL_CHARS)}"
    kind = KIND_LABELS.get(doc.kind, "Văn bản")
    if doc.title:
        return f"{kind} «{snippet(doc.title, 8, LABEL_CHARS)}»"
    return f"{kind} {_clip(doc.filename, LABEL_CHARS)}"


def source_label(doc: StoredDocument | None, task: StoredTask) -> str:
    """"VB 09-NQ/TU, dòng 123": where the task stands in its plan. Plain."""
    return f"{document_label(doc)}, dòng {task.line}"


def unit_label(store: Store, key: str) -> str:
    """Name with locality ("Phòng Y tế (Cẩm Phả)"); the key itself for an unknown unit."""
    unit = store.unit(key)
    return unit.label if unit else key


def scope_title(store: Store, keys: Sequence[str] | None) -> str:
    """Whose list it is: unit labels (at most three named), or every unit. Plain."""
    if keys is None:
        return "tất cả đơn vị"
    labels = [unit_label(store, k) for k in keys]
    if len(labels) <= MAX_TITLE_UNITS:
        return "; ".join(labels)
    shown = "; ".join(labels[:MAX_TITLE_UNITS])
    return f"{shown} và {len(labels) - MAX_TITLE_UNITS} đơn vị khác"


def no_units_text(is_group: bool, *, open_read: bool = False,
                  pending: Sequence[str] = ()) -> str:
    """What a chat that belongs to no unit is told (plain text: escape it for HTML).

    ``pending`` names the units it asked to join and waits for; ``open_read`` (the setting)
    adds that any unit can still be read by name.
    """
    parts = [NO_UNITS_GROUP if is_group else NO_UNITS_PRIVATE]
    if pending:
        whose = "của nhóm" if is_group else "của bạn"
        parts.append(f"Yêu cầu tham gia {'; '.join(pending)} {whose} đang chờ quản trị viên "
                     "duyệt.")
    if open_read:
        parts.append(OPEN_READ_HINT)
    return " ".join(parts)


# ------------------------------------------------------------------------------ references
def _short_hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=6).hexdigest()


def unit_ref(key: str) -> str:
    """12 hex characters naming a unit key in callback data (resolved by scanning units)."""
    return _short_hash(key)


def term_ref(query: str) -> str:
    """12 hex characters naming a search term; the term itself is read back from the list."""
    return _short_hash(" ".join(query.split()))


def page_data(view: str, page: int, arg: str = "") -> str:
    """``pg:<view>:<page>:<arg>``; ValueError if it would exceed Telegram's 64 bytes."""
    if view not in VIEWS:
        raise ValueError(f"unknown view {view!r}")
    data = f"{PAGE_PREFIX}:{view}:{page}:{arg}"
    if len(data.encode("utf-8")) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data over {MAX_CALLBACK_BYTES} bytes: {data!r}")
    return data


def parse_page_data(data: str) -> tuple[str, int, str] | None:
    """(view, page, arg) from :func:`page_data`'s output; None for anything else."""
    parts = data.split(":", 3)
    if len(parts) != 4 or parts[0] != PAGE_PREFIX or parts[1] not in VIEWS:
        return None
    if not (parts[2].isascii() and parts[2].isdigit()) or len(parts[2]) > 6:
        return None
    return parts[1], int(parts[2]), parts[3]


def pager_rows(view: str, page: int, pages: int, arg: str = "") -> list[Row]:
    """"« Trước" / "Trang x/y" / "Sau »"; nothing for a single page.

    The middle button reloads the current page (the list may have changed meanwhile).
    """
    if pages <= 1:
        return []
    row: Row = []
    if page > 1:
        row.append((PREV, page_data(view, page - 1, arg)))
    row.append((f"Trang {page}/{pages}", page_data(view, page, arg)))
    if page < pages:
        row.append((NEXT, page_data(view, page + 1, arg)))
    return [row]


def search_query_from_text(text: str, ref: str) -> str | None:
    """The search term shown in a /timkiem list's first line, if it matches ``ref``.

    The term sits between the last «» of the first line; Telegram gives plain text back, the
    fake server the HTML we sent, so both readings are tried and the hash decides.
    """
    first = (text or "").split("\n", 1)[0]
    for candidate in (first, html.unescape(_TAG_RE.sub("", first))):
        match = re.search(r"«(.*)»\s*$", candidate)
        if match and term_ref(match.group(1)) == ref:
            return " ".join(match.group(1).split())
    return None


# ------------------------------------------------------------------------------ lists
def _who(store: Store, task: StoredTask, role: str | None) -> str:
    """The role of the listed units, or (listing every unit) the lead unit's name."""
    if role is not None:
        return role_label(role)
    if not task.lead:
        return "chưa rõ đơn vị chủ trì"
    name = _clip(store.unit_name(task.lead[0]), LABEL_CHARS)
    more = f" và {len(task.lead) - 1} đơn vị khác" if len(task.lead) > 1 else ""
    return f"chủ trì: {name}{more}"


def entry_html(store: Store, entry: Entry, today: date) -> str:
    """Three balanced lines: code, due date and phrase, role; the text; the source."""
    task = entry.task
    mark = BUCKET_MARKS.get(entry.bucket, OTHER_MARK)
    parts = [f"{mark} <b>#{task.code}</b>"]
    if task.due is not None:
        parts.append(f"hạn {vn_date(task.due)}")
    if task.is_open:
        phrase = days_phrase(task.due, today)
        parts.append(f"<b>{phrase}</b>" if entry.bucket in (OVERDUE, SOON) else phrase)
    else:
        when = f" {vn_date(task.done_at.date())}" if task.done_at else ""
        parts.append(f"đã xong{when}")
    who = _who(store, task, entry.role)
    if who:
        parts.append(_e(who))
    source = source_label(store.document(task.doc_id), task)
    return "\n".join((" · ".join(parts), _e(snippet(task.text)), f"<i>{_e(source)}</i>"))


def _page_html(store: Store, tasks: TaskList, page: int, header: str, empty: str,
               *, sections: bool) -> tuple[str, int, int]:
    """Header, page line and entries; returns (html, page, pages)."""
    page = clamp_page(page, len(tasks))
    pages = tasks.page_count()
    lines = [header]
    if not len(tasks):
        lines.append(empty)
        return "\n".join(lines), page, pages
    hint = f"Trang {page}/{pages}. {DETAIL_HINT}" if pages > 1 else DETAIL_HINT
    lines.append(f"<i>{hint}</i>")
    previous = None
    for entry in tasks.page(page):
        lines.append("")
        group = entry.bucket if entry.bucket in SECTION_TITLES else "later"
        if sections and group != previous:
            title = SECTION_TITLES[group]
            if group == SOON:
                title += f" ({tasks.soon_days} ngày tới)"
            lines.append(f"<b>— {title} —</b>")
            previous = group
        lines.append(entry_html(store, entry, tasks.today))
    return "\n".join(lines), page, pages


def board_page(store: Store, board: Board, page: int = 1, *, title: str | None = None,
               arg: str = "") -> tuple[str, list[Row]]:
    """The /nhiemvu list: overdue, due soon, the rest; counts in the header."""
    who = title if title is not None else scope_title(store, board.keys)
    header = (f"<b>Nhiệm vụ của {_e(who)}</b>: {board.overdue_count} quá hạn, "
              f"{board.soon_count} sắp đến hạn, {board.later_count} còn lại, "
              f"{board.done_count} đã xong")
    empty = ("Không có nhiệm vụ nào đang mở." if board.done_count
             else "Chưa có nhiệm vụ nào được giao. Khi có kế hoạch mới, bot sẽ báo.")
    text, page, pages = _page_html(store, board, page, header, empty, sections=True)
    return text, pager_rows(NHIEMVU, page, pages, arg)


def upcoming_page(store: Store, tasks: TaskList, days: int, page: int = 1, *,
                  title: str | None = None) -> tuple[str, list[Row]]:
    """The /sapden list: open tasks due from today to ``today + days``."""
    who = title if title is not None else scope_title(store, tasks.keys)
    until = vn_date(tasks.today + timedelta(days=days))
    header = (f"<b>Nhiệm vụ đến hạn trong {days} ngày tới của {_e(who)}</b> "
              f"(đến {until}): {len(tasks)} nhiệm vụ")
    empty = f"Không có nhiệm vụ nào đến hạn trong {days} ngày tới."
    text, page, pages = _page_html(store, tasks, page, header, empty, sections=False)
    return text, pager_rows(SAPDEN, page, pages, str(days))


def overdue_page(store: Store, tasks: TaskList, page: int = 1, *,
                 title: str | None = None) -> tuple[str, list[Row]]:
    """The /quahan list: open tasks past their deadline, most overdue first."""
    who = title if title is not None else scope_title(store, tasks.keys)
    header = f"<b>Nhiệm vụ quá hạn của {_e(who)}</b>: {len(tasks)} nhiệm vụ"
    empty = "Không có nhiệm vụ nào quá hạn. 👍"
    text, page, pages = _page_html(store, tasks, page, header, empty, sections=False)
    return text, pager_rows(QUAHAN, page, pages)


def search_page(store: Store, tasks: TaskList, query: str, page: int = 1, *,
                title: str | None = None) -> tuple[str, list[Row]]:
    """/timkiem results; the term ends the first line (read back when paging)."""
    who = title if title is not None else scope_title(store, tasks.keys)
    query = " ".join(query.split())
    header = (f"<b>Tìm trong nhiệm vụ của {_e(who)}</b>: {len(tasks)} kết quả cho "
              f"«{_e(query)}»")
    empty = ("Không có nhiệm vụ nào chứa các từ này. Hãy thử ít từ hơn hoặc từ khác "
             "(không cần gõ dấu).")
    text, page, pages = _page_html(store, tasks, page, header, empty, sections=False)
    return text, pager_rows(TIMKIEM, page, pages, term_ref(query))


# ------------------------------------------------------------------------------ detail
def _actor(actor: int | None, data: Mapping[str, Any] | None = None) -> str:
    """"Nguyễn Văn A (Phòng Y tế)" from the event's data; older events: "người dùng 1001"."""
    return who_label(data or {}, actor)


def _iso_date(value: object) -> str:
    if not value:
        return "không có hạn"
    try:
        return vn_date(date.fromisoformat(str(value)))
    except ValueError:
        return str(value)


EVENT_LABELS = {
    "import": "nhập văn bản", "undo_import": "hoàn tác việc nhập văn bản",
    "subscribe": "thêm thành viên", "unsubscribe": "thành viên rời đơn vị",
    "remove_member": "quản trị viên đưa thành viên ra", "chat_active": "đổi trạng thái nhận tin",
    "chat_migrate": "nhóm chuyển thành siêu nhóm",
    "cancel_reminder": "hủy một lời nhắc đã đặt",
}
"""Vietnamese names of the other events, should one ever reach a task's history."""


def _until(value: object) -> str:
    """The last day of a snooze: reminders resume on ``until``, so the day before it."""
    try:
        return vn_date(date.fromisoformat(str(value)) - timedelta(days=1))
    except ValueError:
        return str(value)


def event_line(event: Event) -> str:
    """One history line (HTML): when, what, by whom."""
    data = event.data
    when = vn_datetime(event.at)
    if event.kind == "extend":
        old, new = data.get("old_due"), data.get("new_due")
        verb = "đổi hạn" if old and new and str(new) < str(old) else "gia hạn"
        what = f"{verb} {_iso_date(old)} → {_iso_date(new)}"
        if data.get("reason"):
            what += f", lý do: {data['reason']}"
    elif event.kind == "done":
        late = int(data.get("days_late") or 0)
        what = "đánh dấu hoàn thành" + (f" (quá hạn {late} ngày)" if late else " (đúng hạn)")
        if data.get("note"):
            what += f", ghi chú: {data['note']}"
    elif event.kind == "reopen":
        what = "mở lại (bỏ đánh dấu hoàn thành)"
    elif event.kind == "reminder":
        at = data.get("at")
        try:
            what = f"đặt lời nhắc lúc {vn_datetime(datetime.fromisoformat(str(at)))}"
        except ValueError:
            what = "đặt lời nhắc"
    elif event.kind == "snooze":
        what = (f"tạm hoãn nhắc đến hết ngày {_until(data.get('until'))} (nhắc lại từ "
                f"{_iso_date(data.get('until'))})")
    elif event.kind == "unsnooze":
        what = "nhắc lại như thường (bỏ tạm hoãn)"
    elif event.kind == PROGRESS:
        shown = progress_text(TaskProgress(data.get("percent"), str(data.get("note") or ""),
                                           event.at))
        what = f"báo tiến độ: {shown}" if shown else "báo tiến độ"
    elif event.kind == EXT_REQUEST:
        what = (f"xin gia hạn (yêu cầu #{event.id}) {_iso_date(data.get('old_due'))} → "
                f"{_iso_date(data.get('new_due'))}, lý do: {data.get('reason') or ''}")
    elif event.kind in (EXT_APPROVE, EXT_REFUSE):
        verb = "duyệt" if event.kind == EXT_APPROVE else "từ chối"
        what = f"{verb} yêu cầu gia hạn #{data.get('request')}"
    elif event.kind in review.EVENT_KINDS:  # issue 10: corrections and hand-given work
        what = review.describe_event(event)
    else:
        what = EVENT_LABELS.get(event.kind, "thay đổi khác")
    return f"• {when} — {_e(what)} — {_e(_actor(event.actor, data))}"


def _recurrence_text(task: StoredTask) -> str | None:
    rec = task.recurrence
    if rec is None:
        return None
    parts = [FREQ_LABELS.get(rec.freq, rec.freq)]
    if rec.month_of_period in MONTH_OF_PERIOD:
        parts.append(MONTH_OF_PERIOD[rec.month_of_period])
    if rec.day:
        parts.append(f"trước ngày {rec.day}")
    text = ", ".join(parts)
    return f"{text} («{rec.phrase}»)" if rec.phrase else text


def _status_text(task: StoredTask, history: Sequence[Event] = ()) -> str:
    if task.is_open:
        return "chưa hoàn thành"
    text = "đã hoàn thành"
    if task.done_at is not None:
        text += f" lúc {vn_datetime(task.done_at)}"
    if task.done_by is not None:
        closing = next((e for e in reversed(history) if e.kind == "done"), None)
        text += f", {_actor(task.done_by, closing.data if closing else None)} đánh dấu"
    if task.due is not None and task.done_at is not None:
        late = (task.done_at.date() - task.due).days
        text += f" — quá hạn {late} ngày" if late > 0 else " — đúng hạn"
    return text


def _units_line(store: Store, keys: Iterable[str]) -> str:
    return "; ".join(_e(unit_label(store, k)) for k in keys)


def task_detail(store: Store, task: StoredTask, today: date,
                history: Sequence[Event] = ()) -> str:
    """Everything about one task (/chitiet): text, units, deadlines, status, source, history."""
    doc = store.document(task.doc_id)
    state = days_phrase(task.due, today) if task.is_open else "đã hoàn thành"
    lines = [f"<b>Nhiệm vụ #{task.code}</b> · {_e(state)}", _e(" ".join(task.text.split())), ""]
    lines.append(f"<b>Chủ trì:</b> {_units_line(store, task.lead) or 'chưa xác định'}")
    if task.support:
        lines.append(f"<b>Phối hợp:</b> {_units_line(store, task.support)}")
    if task.due is not None:
        due = f"<b>Hạn:</b> {vn_date(task.due)}"
        if task.is_open:
            due += f" ({days_phrase(task.due, today)})"
        kind = DUE_KIND_LABELS.get(task.due_kind or "")
        if task.due_kind == "extended" and task.original_due and task.original_due != task.due:
            kind = f"đã gia hạn, hạn gốc {vn_date(task.original_due)}"
        lines.append(due + (f" — {kind}" if kind else ""))
    else:
        lines.append("<b>Hạn:</b> không có hạn")
    if task.deadlines:
        lines.append("<b>Các mốc hạn trong văn bản:</b>")
        for phrase, due_iso, line in task.deadlines:
            target = _iso_date(due_iso) if due_iso else "ngày không hợp lệ"
            lines.append(f"• «{_e(phrase)}» → {target} (dòng {line})")
    if doc is not None and doc.period is not None:
        period = doc.period
        lines.append(f"<b>Kỳ của văn bản:</b> {_e(period.label)} "
                     f"({vn_date(period.start)} – {vn_date(period.end)})")
    recurrence = _recurrence_text(task)
    if recurrence:
        lines.append(f"<b>Định kỳ:</b> {_e(recurrence)}")
    lines.append(f"<b>Trạng thái:</b> {_e(_status_text(task, history))}")
    if task.progress is not None:
        lines.append(progress_line(task.progress))
    waiting = pending_extension(list(history)) if task.is_open else None
    if waiting is not None:
        lines.append(f"<b>Xin gia hạn:</b> yêu cầu #{waiting.id} đến "
                     f"{vn_date(waiting.new_due)}, đang chờ quản trị viên duyệt "
                     f"({_e(_actor(waiting.event.actor, waiting.event.data))}).")
    if task.note:
        lines.append(f"<b>Ghi chú:</b> {_e(task.note)}")
    where = f"{document_label(doc)}, dòng {task.line}"
    if task.end_line > task.line:
        where += f"–{task.end_line}"
    if task.section:
        where += f", mục {task.section}"
    lines.append(f"<b>Nguồn:</b> {_e(where)}")
    if doc is not None and doc.title and doc.number:
        lines.append(f"<i>{_e(_clip(doc.title, 200))}</i>")
    if history:
        lines.append("<b>Lịch sử:</b>")
        lines.extend(event_line(e) for e in history)
    return "\n".join(lines)


def progress_line(progress: TaskProgress) -> str:
    """/chitiet's "Tiến độ:" line: the latest report, when, who (HTML)."""
    who = _actor(progress.by, {"by_name": progress.by_name, "by_unit": progress.by_unit})
    return (f"<b>Tiến độ:</b> {_e(progress_text(progress))} "
            f"<i>({_e(who)}, {vn_datetime(progress.at)})</i>")


def unknown_task_text(code: str) -> str:
    """Plain text (raised as a UsageError message)."""
    return (f"Không có nhiệm vụ mã {code}. Mã là số đứng sau dấu # trong danh sách /nhiemvu, "
            "ví dụ /chitiet 17.")
