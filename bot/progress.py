"""Accountability and progress (issue 10): who acted, progress reports, extension requests.

* **Who acts.** A handler runs inside :func:`acting` (``handlers.common.guarded`` does it for
  every update): the person's Telegram name and chat. :meth:`bot.tracking.Tracker._event`
  then writes ``by_name`` (and ``by_unit``, the unit the chat acted for on that task, or
  "quản trị viên") into the data of every event the person causes, whatever the rule — so
  history and /chitiet show "Nguyễn Văn A (Phòng Tài chính - Kế hoạch)". Names are kept as
  they were at the time; events written before this (or by the scheduler) have none and
  render as before ("người dùng 1001", "hệ thống").
* **Progress** (``/tiendo <mã> <phần trăm hoặc ghi chú>``): the lead unit's members and the
  admins report it; the latest report lives on the task (:class:`bot.records.TaskProgress`,
  shown by /chitiet, the digest and /baocao) and every report is a "progress" event.
* **Extension requests** (``/xingiahan <mã> <ngày> <lý do>``): a lead-unit member asks, an
  admin approves (the deadline moves by :meth:`bot.tracking.Tracker.extend`) or refuses. A
  request is an "extension_request" event and its decision an "extension_approve" /
  "extension_refuse" event naming it: no new record kind, both backends keep them, they
  survive a restart, and the task's events are never pruned while the task exists.

Every change is one repository transaction, its reads inside it (the task first: a backend
serialising writers of a row then serialises two admins deciding the same request).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from bot.errors import NotAllowed, UsageError
from bot.records import Chat, Event, StoredTask, TaskProgress
from bot.text import quote, utf16_len

if TYPE_CHECKING:
    from bot.membership import Actor
    from bot.repository import Repository
    from bot.tracking import Tracker

__all__ = [
    "ADMIN_UNIT", "ASK_VERB", "EXT_APPROVE", "EXT_REFUSE", "EXT_REQUEST", "MAX_NAME_CHARS",
    "MAX_NOTE_CHARS", "PROGRESS", "Acting", "ExtensionRequest", "acting", "actor_fields",
    "ask_extension", "check_lead", "current", "decide_extension", "decided_text",
    "display_name", "extension_request", "parse_progress", "pending_extension",
    "progress_text", "report_progress", "who_label",
]

PROGRESS = "progress"
EXT_REQUEST = "extension_request"
EXT_APPROVE = "extension_approve"
EXT_REFUSE = "extension_refuse"
MAX_NOTE_CHARS = 500
"""Longest progress note or extension reason (Telegram counting: an emoji is 2)."""
MAX_NAME_CHARS = 64
"""Telegram allows 64 characters for a first name and 64 for a last name."""
ASK_VERB = "xin gia hạn nhiệm vụ này"
ADMIN_UNIT = "quản trị viên"
"""``by_unit`` of an admin acting on a task none of whose units the chat belongs to."""

_PERCENT_RE = re.compile(r"^([+\-−]?)\s*(\d{1,4}(?:[.,]\d{1,2})?)\s*"
                         r"(?:%|phần\s*trăm\b|phan\s*tram\b)\s*[:,.;–-]?\s*", re.IGNORECASE)
_NUMBER_ONLY_RE = re.compile(r"^([+\-−]?)\s*(\d{1,4}(?:[.,]\d{1,2})?)$")
USAGE_TIENDO = ("Cách dùng: /tiendo <mã> <phần trăm hoặc ghi chú>. Ví dụ: /tiendo 12 60% đã "
                "lấy ý kiến các phòng, hoặc /tiendo 12 xong bước khảo sát.")
USAGE_XINGIAHAN = ("Cách dùng: /xingiahan <mã> <ngày mới> <lý do>. Ví dụ: /xingiahan 12 "
                   "15/1/2023 chờ ý kiến của Sở Tài chính.")


# ------------------------------------------------------------------------------------------
# Who acts
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Acting:
    """The person behind the update being handled."""

    user_id: int | None
    name: str
    """Display name: first and last name, else "@username" (see :func:`display_name`)."""
    chat_id: int | None = None
    admin: bool = False


_ACTING: ContextVar[Acting | None] = ContextVar("acting", default=None)


@contextmanager
def acting(person: Acting) -> Iterator[Acting]:
    """Events written inside the block by ``person.user_id`` carry their name. A context
    variable: each update's task has its own, so concurrent updates never mix names."""
    token = _ACTING.set(person)
    try:
        yield person
    finally:
        _ACTING.reset(token)


def current() -> Acting | None:
    return _ACTING.get()


def display_name(first_name: str | None, last_name: str | None = None,
                 username: str | None = None) -> str:
    """"Nguyễn Văn A" (first + last name), else "@nva", else ""; whitespace collapsed, cut
    to :data:`MAX_NAME_CHARS` x 2."""
    full = " ".join(" ".join(p for p in (first_name, last_name) if p).split())
    if full:
        return full[:MAX_NAME_CHARS * 2]
    return f"@{username}" if username else ""


def _unit_label(repo: Repository, key: str) -> str:
    unit = repo.unit(key)
    return unit.name if unit else key


def actor_fields(repo: Repository, actor: int | None, task_id: int | None) -> dict[str, Any]:
    """``by_name``/``by_unit`` for an event of ``actor`` (empty unless the person acting in
    this context is ``actor``); ``by_unit`` only for an event about a task."""
    person = _ACTING.get()
    if person is None or actor is None or person.user_id != actor or not person.name:
        return {}
    out: dict[str, Any] = {"by_name": person.name}
    if task_id is None:
        return out
    task = repo.task(task_id)
    chat = repo.get(Chat, person.chat_id) if person.chat_id is not None else None
    keys = chat.unit_keys if chat is not None else ()
    if task is not None:
        for key in (*task.lead, *task.support):
            if key in keys:
                out["by_unit"] = _unit_label(repo, key)
                return out
    if person.admin:
        out["by_unit"] = ADMIN_UNIT
    return out


def who_label(data: Mapping[str, Any], actor: int | None) -> str:
    """How history names who did something: "Nguyễn Văn A (Phòng Y tế)"; an event without
    a name (older, or the scheduler's) gives "người dùng 1001" or "hệ thống". Plain text."""
    name = str(data.get("by_name") or "")
    if name:
        unit = str(data.get("by_unit") or "")
        return f"{name} ({unit})" if unit else name
    return f"người dùng {actor}" if actor is not None else "hệ thống"


# ------------------------------------------------------------------------------------------
# Progress
# ------------------------------------------------------------------------------------------
def _percent(sign: str, number: str) -> int:
    value = float(number.replace(",", "."))
    if sign in ("-", "−") or value > 100:
        raise UsageError(f"Tiến độ {sign}{number}% không hợp lệ: phần trăm phải từ 0 đến 100.")
    return round(value)


def _check_note(note: str, what: str) -> str:
    note = note.strip()
    if utf16_len(note) > MAX_NOTE_CHARS:
        raise UsageError(f"{what} dài {utf16_len(note)} ký tự; tối đa {MAX_NOTE_CHARS} ký tự. "
                         "Hãy viết ngắn gọn hơn.")
    return note


def parse_progress(text: str) -> tuple[int | None, str]:
    """"60% đã lấy ý kiến" -> (60, "đã lấy ý kiến"); "xong bước khảo sát" -> (None, …);
    "60" -> (60, ""). A percent outside 0-100 or an empty text raises UsageError."""
    text = (text or "").strip()
    if not text:
        raise UsageError(USAGE_TIENDO)
    bare = _NUMBER_ONLY_RE.match(text)
    if bare:
        return _percent(*bare.groups()), ""
    match = _PERCENT_RE.match(text)
    if match is None:
        return None, _check_note(text, "Ghi chú tiến độ")
    percent = _percent(match.group(1), match.group(2))
    return percent, _check_note(text[match.end():], "Ghi chú tiến độ")


def progress_text(progress: TaskProgress | None, *, note_chars: int | None = None) -> str:
    """"60% — đã lấy ý kiến các phòng" (plain text; "" when none). ``note_chars`` cuts the
    note (whitespace collapsed) for a one-line use."""
    if progress is None:
        return ""
    note = " ".join(progress.note.split())
    if note_chars is not None and len(note) > note_chars:
        note = note[:note_chars - 1].rstrip() + "…"
    parts = [f"{progress.percent}%"] if progress.percent is not None else []
    if note:
        parts.append(note)
    return " — ".join(parts)


def _require_task(repo: Repository, code: object) -> StoredTask:
    text = str(code).strip().lstrip("#")
    task = repo.task(int(text)) if text.isascii() and text.isdigit() else None
    if task is None:
        raise UsageError(f"Không có nhiệm vụ mã {quote(str(code))}. Gõ /nhiemvu để xem các mã.")
    return task


def _event(repo: Repository, now: datetime, actor: int | None, kind: str, task: StoredTask,
           **data: Any) -> Event:
    data = {**actor_fields(repo, actor, task.id), **data}
    event = Event(repo.next_id("events"), now, actor, kind, task.id, task.doc_id, data)
    repo.put(event)
    return event


def check_lead(task: StoredTask, who: Actor, verb: str, tracker: Tracker) -> None:
    """Lead-unit members and admins; the refusal as :func:`bot.membership.check_task`'s."""
    from bot.membership import Role, not_lead, task_role

    if task_role(task, who) < Role.LEAD:
        raise not_lead(task, who, verb, tracker.unit_name)


def report_progress(tracker: Tracker, who: Actor, code: object, text: str,
                    now: datetime) -> StoredTask:
    """/tiendo: the lead unit's members (and admins) record progress; returns the task."""
    from bot.membership import Action, check_task

    repo = tracker.repo
    check_task(Action.PROGRESS, _require_task(repo, code), who, tracker.unit_name)
    percent, note = parse_progress(text)
    with repo.transaction():
        task = _require_task(repo, code)  # read again inside the transaction that writes
        check_task(Action.PROGRESS, task, who, tracker.unit_name)
        if not task.is_open:
            raise UsageError(f"Nhiệm vụ #{task.code} đã hoàn thành; không cần báo tiến độ "
                             f"nữa (gõ /mo {task.code} nếu cần mở lại).")
        fields = actor_fields(repo, who.user_id, task.id)
        progress = TaskProgress(percent, note, now, who.user_id, fields.get("by_name", ""),
                                fields.get("by_unit", ""))
        new = replace(task, progress=progress)
        repo.put_tasks([new])
        _event(repo, now, who.user_id, PROGRESS, task, percent=percent, note=note or None)
    return new


# ------------------------------------------------------------------------------------------
# Extension requests
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ExtensionRequest:
    """A lead unit's request to move a deadline, read back from its events."""

    event: Event
    decision: Event | None = None

    @property
    def id(self) -> int:
        return self.event.id

    @property
    def task_id(self) -> int:
        assert self.event.task_id is not None
        return self.event.task_id

    @property
    def new_due(self) -> date:
        return date.fromisoformat(str(self.event.data["new_due"]))

    @property
    def old_due(self) -> date | None:
        old = self.event.data.get("old_due")
        return date.fromisoformat(str(old)) if old else None

    @property
    def reason(self) -> str:
        return str(self.event.data.get("reason") or "")

    @property
    def chat_id(self) -> int | None:
        chat = self.event.data.get("chat_id")
        return int(chat) if chat is not None else None

    @property
    def pending(self) -> bool:
        return self.decision is None

    @property
    def approved(self) -> bool:
        return self.decision is not None and self.decision.kind == EXT_APPROVE


def _decisions(history: list[Event]) -> dict[int, Event]:
    return {int(e.data["request"]): e for e in history
            if e.kind in (EXT_APPROVE, EXT_REFUSE) and e.data.get("request") is not None}


def extension_request(tracker: Tracker, request_id: int) -> ExtensionRequest | None:
    """The request with this id (an event id) and its decision, or None."""
    event = tracker.repo.get(Event, request_id)
    if event is None or event.kind != EXT_REQUEST or event.task_id is None:
        return None
    decision = _decisions(tracker.repo.task_history(event.task_id)).get(event.id)
    return ExtensionRequest(event, decision)


def pending_extension(history: list[Event]) -> ExtensionRequest | None:
    """The task's request still waiting for an admin, from its history (oldest first)."""
    decided = _decisions(history)
    for event in reversed(history):
        if event.kind == EXT_REQUEST and event.id not in decided:
            return ExtensionRequest(event)
    return None


def ask_extension(tracker: Tracker, who: Actor, code: object, new_due: date,
                  reason: str, now: datetime) -> ExtensionRequest:
    """/xingiahan: a lead-unit member asks the admins to move a deadline to ``new_due``.

    One request per task waits at a time. Returns the request (the admins are told by the
    caller)."""
    repo = tracker.repo
    verb = ASK_VERB
    check_lead(_require_task(repo, code), who, verb, tracker)
    reason = _check_note(reason, "Lý do xin gia hạn")
    if not reason:
        raise UsageError("Hãy ghi lý do xin gia hạn sau ngày mới. " + USAGE_XINGIAHAN)
    with repo.transaction():
        task = _require_task(repo, code)
        check_lead(task, who, verb, tracker)
        if not task.is_open:
            raise UsageError(f"Nhiệm vụ #{task.code} đã hoàn thành, không cần gia hạn.")
        today = now.date()
        if new_due < today:
            raise UsageError(f"Ngày {new_due:%d/%m/%Y} đã qua; hãy chọn một ngày từ hôm nay "
                             f"({today:%d/%m/%Y}) trở đi.")
        if new_due == task.due:
            raise UsageError(f"Nhiệm vụ #{task.code} đã có hạn {new_due:%d/%m/%Y}.")
        waiting = pending_extension(repo.task_history(task.id))
        if waiting is not None:
            raise UsageError(f"Nhiệm vụ #{task.code} đã có yêu cầu gia hạn #{waiting.id} (đến "
                             f"{waiting.new_due:%d/%m/%Y}) đang chờ quản trị viên duyệt.")
        event = _event(repo, now, who.user_id, EXT_REQUEST, task, chat_id=who.chat_id,
                       new_due=new_due.isoformat(),
                       old_due=task.due.isoformat() if task.due else None, reason=reason)
    return ExtensionRequest(event)


def decided_text(request: ExtensionRequest) -> str:
    """"đã được duyệt bởi Trần B lúc 09:00 20/12/2022" (plain text)."""
    decision = request.decision
    if decision is None:
        return "đang chờ duyệt"
    verdict = "đã được duyệt" if decision.kind == EXT_APPROVE else "đã bị từ chối"
    by = decision.data.get("by_name")
    return (verdict + (f" bởi {by}" if by else "")
            + f" lúc {decision.at:%H:%M %d/%m/%Y}")


def decide_extension(tracker: Tracker, who: Actor, request_id: int, approve: bool,
                     now: datetime) -> tuple[ExtensionRequest, StoredTask]:
    """An admin approves (the deadline moves, same transaction) or refuses a request.

    A request already decided raises UsageError "… đã được xử lý …" (a second press, a
    second admin). Returns the decided request and the task as it now is."""
    if not who.admin:
        raise NotAllowed("Chỉ quản trị viên của bot mới được duyệt yêu cầu gia hạn.")
    repo = tracker.repo
    with repo.transaction():
        found = repo.get(Event, request_id)
        if found is None or found.kind != EXT_REQUEST or found.task_id is None:
            raise UsageError(f"Không có yêu cầu gia hạn mã {request_id}.")
        task = repo.task(found.task_id)  # the row two deciders serialise on
        request = extension_request(tracker, request_id)
        assert request is not None
        if not request.pending:
            raise UsageError(f"Yêu cầu gia hạn #{request_id} đã được xử lý: "
                             f"{decided_text(request)}.")
        if task is None:
            raise UsageError(f"Nhiệm vụ của yêu cầu gia hạn #{request_id} không còn (văn bản "
                             "đã bị gỡ).")
        if approve:
            try:
                task = tracker.extend(task.id, request.new_due, actor=who.user_id, now=now,
                                      reason=f"theo yêu cầu #{request_id}: {request.reason}")
            except UsageError as exc:
                raise UsageError(f"Không duyệt được yêu cầu gia hạn #{request_id}: "
                                 f"{exc.message} Bấm «Từ chối» để báo lại cho đơn vị.") from exc
        decision = _event(repo, now, who.user_id, EXT_APPROVE if approve else EXT_REFUSE,
                          task, request=request_id, new_due=request.new_due.isoformat())
    return replace(request, decision=decision), task
