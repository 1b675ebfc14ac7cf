"""What the scheduled messages say: the daily digest of each chat, one-off reminders and
scheduled announcements, rendered as :class:`schedules.dispatch.Outgoing` messages.

Pure: the store is only read, ``today`` is a parameter, nothing is sent. The policy
(:mod:`schedules.policy`) decides which tasks are due for a reminder on which (working) day;
this module groups them by urgency, renders Telegram HTML and splits it into parts that fit
Telegram's limits (4,096 visible characters, kept small enough to hold one button per task,
at most :data:`MAX_BUTTONS` buttons per message). Every idempotency key is deterministic, so a
re-run after a restart repeats nothing that the delivery log holds as sent:

* ``digest:{chat_id}:{yyyy-mm-dd}:{part}`` (part from 1),
* ``remind:{reminder_id}``,
* ``announce:{announcement_id}:{chat_id}``.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from bot.board import days_left_phrase
from bot.membership import MIN_ROLE, Action, Role
from bot.models import Recurrence
from bot.progress import progress_text
from bot.records import Reminder, StoredDocument, StoredTask
from bot.repository import DigestSource
from bot.store import Store
from bot.text import clip, utf16_len
from schedules.dispatch import Outgoing
from schedules.policy import (
    DEFAULT_OFFSETS,
    DEFAULT_OVERDUE_EVERY,
    DigestItem,
    bucket_for_days,
    bucket_label,
    bucket_rank,
    digest_items,
    missed_items,
    normalize_offsets,
)

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 4096
"""Telegram's limit on a message's visible text (counted in UTF-16 code units, to be safe)."""
MAX_BUTTONS = 100
"""Telegram's limit on inline buttons in one message."""
BUTTONS_PER_ROW = 3
MAX_SNIPPET = 140
"""Longest start of a task's text in a digest line."""
MIN_SNIPPET = 16
"""Shortest start of a task's text before a digest is split into several messages."""
SPLIT_SNIPPET = 90
"""Text length used once a digest has to be split anyway."""
PROGRESS_NOTE_CHARS = 40
"""Longest progress note in a digest line (the start of the latest /tiendo note)."""
REMINDER_TEXT_CHARS = 700
ANNOUNCEMENT_CHARS = 3900
MAX_UNITS_LINE = 300
LATE_NOTE_AFTER = timedelta(minutes=10)
"""A one-off reminder sent later than this (bot was down) says so."""

DONE_PREFIX = "done:"
DONE_LABEL = "Đã xong {code}"
MISSED_NOTE = "nhắc bù"
LEAD, SUPPORT = "chủ trì", "phối hợp"
_SAFETY = 16
"""Characters kept free in each part (rounding, future tweaks of the texts)."""


# ------------------------------------------------------------------------------ helpers
def vlen(text: str) -> int:
    """Visible length as Telegram counts it (UTF-16 code units) of plain text."""
    return utf16_len(text)


def vn_date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def snippet(text: str, limit: int) -> str:
    """The start of ``text`` (whitespace collapsed) within ``limit`` UTF-16 units, cut at a
    word boundary, with "…" (an emoji counts 2, as Telegram counts it)."""
    return clip(text, limit)


def days_phrase(days: int) -> str:
    """"còn 3 ngày", "đến hạn hôm nay", "quá hạn 2 ngày"."""
    return days_left_phrase(days, "đến hạn hôm nay")


def done_rows(task_ids: Sequence[int], per_row: int = BUTTONS_PER_ROW
              ) -> tuple[tuple[tuple[str, str], ...], ...]:
    """One "Đã xong <code>" button per task (callback "done:<id>"), several per row."""
    buttons = [(DONE_LABEL.format(code=t), f"{DONE_PREFIX}{t}") for t in task_ids]
    return tuple(tuple(buttons[i:i + per_row]) for i in range(0, len(buttons), per_row))


@dataclass(frozen=True, slots=True)
class _PolicyTask:
    """A recurring task with its document's period, which the policy reads as the window."""

    id: int
    due: date | None
    status: str
    recurrence: Recurrence | None
    doc_period_start: date | None
    doc_period_end: date | None


def _policy_tasks(documents: Mapping[int, StoredDocument], tasks: Iterable[StoredTask],
                  last_day: date) -> list:
    """Tasks as the policy wants them; one-off tasks due after ``last_day`` are dropped early.

    ``documents`` holds the documents of the tasks (a missing one has no period)."""
    out: list = []
    periods: dict[int, tuple[date | None, date | None]] = {}
    for task in tasks:
        if task.recurrence is None:
            if task.due is not None and task.due <= last_day:
                out.append(task)
            continue
        if task.doc_id not in periods:
            doc = documents.get(task.doc_id)
            period = doc.period if doc else None
            periods[task.doc_id] = (period.start, period.end) if period else (None, None)
        start, end = periods[task.doc_id]
        out.append(_PolicyTask(task.id, task.due, task.status, task.recurrence, start, end))
    return out


def _chat_tasks(source: DigestSource, keys: Sequence[str]) -> list[StoredTask]:
    """Open tasks of any of ``keys``, each once, by (due, id) with undated ones last: what
    ``store.open_tasks(keys)`` answers, from the run's one read."""
    lists = [source.open_tasks.get(k, ()) for k in dict.fromkeys(keys)]
    lists = [tasks for tasks in lists if tasks]
    if len(lists) == 1:
        return list(lists[0])
    merged = {t.id: t for tasks in lists for t in tasks}
    return sorted(merged.values(), key=lambda t: (t.due is None, t.due or date.min, t.id))


# ------------------------------------------------------------------------------ digest model
@dataclass(frozen=True, slots=True)
class DigestLine:
    """One task in one chat's digest, seen from the digest day."""

    task: StoredTask
    bucket: str
    due: date
    days: int
    """Calendar days from the digest day to ``due`` (negative: overdue)."""
    lead: bool
    """True when the chat follows one of the task's lead units."""
    missed: bool = False
    """A reminder the bot could not send on its day (downtime), folded into this digest."""


@dataclass(frozen=True, slots=True)
class ChatDigest:
    """What one chat's digest of ``day`` holds, before rendering."""

    chat_id: int
    day: date
    unit_names: tuple[str, ...]
    lines: tuple[DigestLine, ...]

    def counts(self) -> dict[str, int]:
        """Lines per bucket, in display order."""
        out: dict[str, int] = {}
        for line in self.lines:
            out[line.bucket] = out.get(line.bucket, 0) + 1
        return out

    @property
    def task_ids(self) -> tuple[int, ...]:
        return tuple(dict.fromkeys(line.task.id for line in self.lines))


def chat_digests(store: Store, today: date, *, offsets: Iterable[int] = DEFAULT_OFFSETS,
                 overdue_every: int = DEFAULT_OVERDUE_EVERY,
                 missed_since: Mapping[int, date] | None = None,
                 snoozed: Mapping[int, date] | None = None,
                 chat_ids: Iterable[int] | None = None,
                 source: DigestSource | None = None) -> list[ChatDigest]:
    """The digest content of every active chat (or of ``chat_ids``) with something to say
    on ``today``.

    Everything is read in ONE store call, :meth:`bot.store.Store.digest_source` (issue 11),
    or taken from ``source`` when the caller already read it (then ``chat_ids`` is ignored).
    """
    offs = normalize_offsets(offsets)
    if source is None:
        source = store.digest_source(chat_ids)
    snoozed = source.snoozes if snoozed is None else snoozed
    # Before-deadline reminders move at most a few weeks earlier (Tết plus weekends).
    last_day = today + timedelta(days=max(offs) + 31)
    out: list[ChatDigest] = []
    for chat in source.chats:
        keys = chat.unit_keys
        if not keys:
            continue
        stored = _chat_tasks(source, keys)
        tasks = _policy_tasks(source.documents, stored, last_day)
        if not tasks:
            continue
        by_id = {t.id: t for t in stored}
        items = digest_items(tasks, today, offs, overdue_every, snoozed=snoozed)
        since = (missed_since or {}).get(chat.id)
        missed = (missed_items(tasks, since, today, offs, overdue_every, snoozed=snoozed)
                  if since is not None else [])
        if not items and not missed:
            continue
        wanted = set(keys)
        lines = [_line(by_id[i.task_id], i, today, wanted, missed=False) for i in items]
        lines += [_line(by_id[i.task_id], i, today, wanted, missed=True) for i in missed]
        lines.sort(key=lambda ln: (bucket_rank(ln.bucket), ln.due, ln.task.id))
        names = tuple(dict.fromkeys(source.unit_names.get(k, k) for k in keys))
        out.append(ChatDigest(chat.id, today, names, tuple(lines)))
    return out


def _line(task: StoredTask, item: DigestItem, today: date, wanted: set[str], *,
          missed: bool) -> DigestLine:
    """The policy's bucket says which reminder this is (the 1-day one moved off a Sunday
    comes on Friday, 3 days early); the heading follows the days really left, like the line."""
    days = (item.due - today).days
    return DigestLine(task, bucket_for_days(days), item.due, days,
                      bool(wanted.intersection(task.lead)), missed)


# ------------------------------------------------------------------------------ rendering
@dataclass(frozen=True, slots=True)
class _Piece:
    """A self-contained (balanced) line of HTML with its visible length."""

    html: str
    visible: int
    task_id: int | None = None


def _text_piece(visible_text: str, *, bold: bool = False, italic: bool = False) -> _Piece:
    body = html.escape(visible_text, quote=False)
    if bold:
        body = f"<b>{body}</b>"
    if italic:
        body = f"<i>{body}</i>"
    return _Piece(body, vlen(visible_text))


def _line_parts(line: DigestLine) -> tuple[str, str]:
    """(visible, HTML) of a line up to its text: "• 17 · 31/12/2022 · còn 7 ngày · chủ trì: "."""
    code = line.task.code
    meta = f" · {vn_date(line.due)} · {days_phrase(line.days)}"
    if line.missed:
        meta += f" · {MISSED_NOTE}"
    role = LEAD if line.lead else SUPPORT
    return (f"• {code}{meta} · {role}: ",
            f"• <b>{code}</b>{html.escape(meta, quote=False)} · <i>{role}</i>: ")


def _progress_part(line: DigestLine) -> str:
    """The task's latest progress as a short second line ("\n   ↳ tiến độ 60% — …"), or ""."""
    shown = progress_text(line.task.progress, note_chars=PROGRESS_NOTE_CHARS)
    return f"\n   ↳ tiến độ {shown}" if shown else ""


def _line_piece(line: DigestLine, text_chars: int) -> _Piece:
    visible, body = _line_parts(line)
    start = snippet(line.task.text, text_chars)
    extra = _progress_part(line)
    return _Piece(body + html.escape(start, quote=False) + html.escape(extra, quote=False),
                  vlen(visible + start + extra), line.task.id)


def _title(day: date, part: int, parts: int) -> _Piece:
    suffix = f" (phần {part}/{parts})" if parts > 1 else ""
    return _text_piece(f"📋 Bản tin nhắc việc ngày {vn_date(day)}{suffix}", bold=True)


def _intro(digest: ChatDigest) -> list[_Piece]:
    units = snippet("Đơn vị: " + "; ".join(digest.unit_names), MAX_UNITS_LINE)
    counts = " · ".join(f"{bucket_label(b)}: {n}" for b, n in digest.counts().items())
    return [_text_piece(units, italic=True),
            _text_piece(f"{len(digest.task_ids)} nhiệm vụ cần chú ý — {counts}")]


FOOTER = "Bấm «Đã xong» khi hoàn thành; /tamhoan <mã> <ngày> để hoãn nhắc."
FOOTER_MIXED = ("Bấm «Đã xong» khi hoàn thành việc mình chủ trì (việc phối hợp do đơn vị chủ "
                "trì báo); /tamhoan <mã> <ngày> để hoãn nhắc.")
FOOTER_SUPPORT = ("Các việc trên do đơn vị khác chủ trì: đơn vị chủ trì báo hoàn thành; "
                  "/nhacnho <mã> <khi nào> để tự đặt lời nhắc.")


def _may_close(line: DigestLine) -> bool:
    """Whether the chat's own role lets it close the task (:data:`bot.membership.MIN_ROLE`):
    a "Đã xong" button is shown only where pressing it can succeed."""
    role = Role.LEAD if line.lead else Role.SUPPORT
    return role >= MIN_ROLE[Action.CLOSE]


def _footer(digest: ChatDigest) -> str:
    closable = [_may_close(line) for line in digest.lines]
    return FOOTER if all(closable) else FOOTER_MIXED if any(closable) else FOOTER_SUPPORT


def render_digest(digest: ChatDigest) -> list[Outgoing]:
    """The digest as one message when it fits, else as parts (keys ``digest:chat:day:n``)."""
    if not digest.lines:
        return []
    intro = _intro(digest)
    counts = digest.counts()
    headings = {b: _text_piece(f"{bucket_label(b)} ({n})", bold=True) for b, n in counts.items()}
    footer = _text_piece(_footer(digest), italic=True)
    fixed = (_title(digest.day, 99, 99).visible + sum(p.visible + 1 for p in intro)
             + sum(h.visible + 2 for h in headings.values()) + footer.visible + 2 + _SAFETY)
    overhead = sum(vlen(_line_parts(ln)[0] + _progress_part(ln)) + 1 for ln in digest.lines)
    room = (MAX_MESSAGE_CHARS - fixed - overhead) // len(digest.lines)
    fits = len(digest.task_ids) <= MAX_BUTTONS and room >= MIN_SNIPPET
    text_chars = min(MAX_SNIPPET, room) if fits else SPLIT_SNIPPET
    pieces = [_line_piece(ln, text_chars) for ln in digest.lines]
    parts = _pack(digest, pieces, headings, intro, footer)
    total = len(parts)
    closable = {line.task.id for line in digest.lines if _may_close(line)}
    out: list[Outgoing] = []
    for number, (body, task_ids) in enumerate(parts, start=1):
        text = "\n".join([_title(digest.day, number, total).html, *body])
        out.append(Outgoing(f"digest:{digest.chat_id}:{digest.day.isoformat()}:{number}",
                            digest.chat_id, text,
                            done_rows([t for t in task_ids if t in closable])))
    return out


def _pack(digest: ChatDigest, pieces: list[_Piece], headings: Mapping[str, _Piece],
          intro: list[_Piece], footer: _Piece) -> list[tuple[list[str], list[int]]]:
    """Greedy split on line boundaries: ≤ 4,096 visible characters and ≤ 100 buttons each.

    A bucket heading is repeated ("(tiếp)") at the top of a part that continues it.
    """
    limit = MAX_MESSAGE_CHARS - _title(digest.day, 99, 99).visible - 1 - _SAFETY
    parts: list[tuple[list[str], list[int]]] = []
    body: list[str] = [p.html for p in intro]
    used = sum(p.visible + 1 for p in intro)
    ids: list[int] = []
    current = None
    for line, piece in zip(digest.lines, pieces, strict=True):
        new_task = piece.task_id not in ids
        heading = None
        if line.bucket != current:
            heading = headings[line.bucket]
        need = piece.visible + 1 + (heading.visible + 2 if heading else 0)
        if body and (used + need > limit or (new_task and len(ids) >= MAX_BUTTONS)):
            parts.append((body, ids))
            body, used, ids = [], 0, []
            new_task = True
            if heading is None:  # continuing a bucket in a new part
                heading = _text_piece(f"{bucket_label(line.bucket)} (tiếp)", bold=True)
                need += heading.visible + 2
        if heading is not None:
            body.extend(["", heading.html])
            current = line.bucket
        body.append(piece.html)
        used += need
        if new_task:
            ids.append(piece.task_id)  # type: ignore[arg-type]
    if used + footer.visible + 2 > limit:
        parts.append((body, ids))
        body, ids = [], []
    body.extend(["", footer.html])
    parts.append((body, ids))
    return parts


def build_digests(store: Store, today: date, *, offsets: Iterable[int] = DEFAULT_OFFSETS,
                  overdue_every: int = DEFAULT_OVERDUE_EVERY,
                  missed_since: Mapping[int, date] | None = None,
                  snoozed: Mapping[int, date] | None = None,
                  chat_ids: Iterable[int] | None = None,
                  source: DigestSource | None = None) -> list[Outgoing]:
    """One digest (one or more parts) per active chat whose units have reminders ``today``
    (only the chats of ``chat_ids`` when given: a retry).

    ``missed_since`` maps chat id -> the last day its digest went out: reminders that fell
    between that day and ``today`` (bot down) are folded in, marked "nhắc bù". ``snoozed``
    defaults to the snoozes of the run's one read (``source``, see :func:`chat_digests`).
    Whether ``today`` is a working day is the caller's
    business (the policy already moved every reminder onto working days).
    """
    out: list[Outgoing] = []
    for digest in chat_digests(store, today, offsets=offsets, overdue_every=overdue_every,
                               missed_since=missed_since, snoozed=snoozed, chat_ids=chat_ids,
                               source=source):
        out.extend(render_digest(digest))
    return out


# ------------------------------------------------------------------------------ one-offs
def build_reminder(store: Store, reminder: Reminder, *, now: datetime | None = None,
                   tz: tzinfo | None = None) -> Outgoing | None:
    """The message of a one-off /nhacnho reminder (key ``remind:{id}``).

    None when the task is gone or already done (nothing to remind). ``now`` (aware) adds a
    note when the reminder goes out late after downtime and counts the days left from it.
    """
    task = store.task(reminder.task_id)
    if task is None or not task.is_open:
        return None
    zone = tz or reminder.at.tzinfo
    at_local = reminder.at.astimezone(zone)
    when = now.astimezone(zone) if now is not None else at_local
    lines = [f"<b>⏰ Nhắc việc</b> (hẹn lúc {at_local.strftime('%H:%M %d/%m/%Y')})"]
    if now is not None and now - reminder.at > LATE_NOTE_AFTER:
        lines.append("<i>Gửi muộn vì bot tạm ngừng hoạt động vào giờ hẹn.</i>")
    meta = f"<b>Nhiệm vụ {task.code}</b>"
    if task.due is not None:
        meta += f" · hạn {vn_date(task.due)} · {days_phrase((task.due - when.date()).days)}"
    lines.append(meta)
    doc = store.document(task.doc_id)
    if doc is not None:
        lines.append(f"Văn bản: {html.escape(doc.label, quote=False)}")
    lines.append(html.escape(snippet(task.text, REMINDER_TEXT_CHARS), quote=False))
    lead = bool(set(task.lead).intersection(store.chat_units(reminder.chat_id)))
    rows = done_rows([task.id]) if (Role.LEAD if lead else Role.SUPPORT) >= MIN_ROLE[
        Action.CLOSE] else ()
    return Outgoing(f"remind:{reminder.id}", reminder.chat_id, "\n".join(lines), rows)


def build_announcement(store: Store, item: object) -> list[Outgoing]:
    """One message per target chat (keys ``announce:{id}:{chat_id}``); text is escaped."""
    from schedules.announce import render, target_chats

    text = getattr(item, "text", "")
    if vlen(text) > ANNOUNCEMENT_CHARS:  # the store refuses longer ones; never exceed 4,096
        text = snippet(text, ANNOUNCEMENT_CHARS)
    keys = tuple(getattr(item, "unit_keys", ()) or ())
    body = render(store, text, keys, getattr(item, "by_name", "") or "")
    item_id = getattr(item, "id", 0)
    return [Outgoing(f"announce:{item_id}:{chat_id}", chat_id, body)
            for chat_id in target_chats(store, keys)]
