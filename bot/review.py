"""Correcting what the parser read, and giving work by hand (issue 10).

Rules over a :class:`bot.store.Store` (its :class:`bot.tracking.Tracker` and ``repo``), each
one repository transaction whose reads of the rows it writes happen inside it, and each
logged as events carrying the actor's id (``Event.actor``) and Telegram name (``by_name``):

* :func:`assign_lead` / :func:`assign_section` — give tasks without a lead unit (most of a
  nghị quyết or báo cáo) a lead unit, one task or a whole section at once ("assign_lead");
* :func:`rescope_document` — the parser did not know the document's locality: its units are
  moved to the chosen locality's directory ("rescope");
* :func:`edit_task` — /sua: lead units, supporting units, deadline, text ("edit");
* :func:`delete_task` / :func:`restore_task` — /xoa and /khoiphuc: a wrongly read task goes
  away, the "delete_task" event keeps its whole row (and its unsent reminders and snooze)
  so that it can come back unchanged ("restore_task");
* :func:`give_task` — /giao: an admin gives work by hand ("give_task").

How /giao work is stored: one document per month, "Giao việc trực tiếp tháng MM/YYYY"
(kind "other", ``file_hash`` ``"direct:YYYY-MM"``: the document's unique key, which no upload
can take since uploads are keyed by their SHA-256). Each task is then an ordinary task of an
ordinary document: /nhiemvu, digests, reminders, /baocao and /lich_ics treat it like any
other, with no new record kind for either backend. A month rather than one document per
/giao keeps /vanban readable (a few lines a year instead of one per phone call) and groups
the hand-given work the way offices report it; the task's ``line`` is its rank in the month.

No Telegram types here; rights are checked by the handlers (:mod:`bot.membership`:
admins only).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from bot.dateinput import format_date, parse_user_date
from bot.errors import BotError, UnitNotFound, UsageError
from bot.records import (
    Event,
    Reminder,
    StoredDocument,
    StoredTask,
    StoredUnit,
)
from bot.repository import Snooze, UnitDirectoryRow, locality_key
from bot.store import Store
from bot.text import fold, quote
from bot.tracking import fingerprint
from bot.units import UnitDirectory

__all__ = [
    "DIRECT_KIND", "EDIT_FIELDS", "EVENT_KINDS", "MAX_TEXT_CHARS", "GiveRequest",
    "assign_lead", "assign_section", "delete_task", "describe_event", "direct_document_hash",
    "edit_task", "fold_field", "give_task", "known_localities", "parse_give", "resolve_units",
    "rescope_document", "restore_task", "section_of", "section_ref", "short_ref",
    "unassigned", "unassigned_sections",
]

DIRECT_KIND = "other"
MAX_TEXT_CHARS = 2000
"""A task's text (noidung, /giao) at most this long."""
EDIT_FIELDS = {"chutri": "đơn vị chủ trì", "phoihop": "đơn vị phối hợp", "han": "thời hạn",
               "noidung": "nội dung"}
"""/sua fields (as typed, without accents) and how they are named to people."""
EVENT_KINDS = frozenset({"assign_lead", "rescope", "edit", "delete_task", "restore_task",
                         "give_task"})
_NONE_WORDS = frozenset({"khong", "-", "bo", "xoa", "trong"})
"""/sua values that empty a field ("phoihop không")."""
_REF_BYTES = 6
_SECTION_DEPTH = 2
"""A "section" groups tasks by the first two levels of their heading path ("II.3")."""


def short_ref(text: str) -> str:
    """8 characters of [A-Za-z0-9_-] naming ``text`` in callback data (no secret)."""
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=_REF_BYTES).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def _vn(day: date | None) -> str:
    return format_date(day) if day else "không có hạn"


# ------------------------------------------------------------------------------------------
# Reading: tasks without a lead unit, sections, localities
# ------------------------------------------------------------------------------------------
def section_of(task: StoredTask) -> str:
    """The section a task is grouped under: its heading path cut to two levels ("II.3" for
    "II.3.3.1"), or the first level for a numbered item of it ("III" for "III.2"); "" for a
    task read outside any heading."""
    parts = [p for p in task.section.split(".") if p]
    return ".".join(parts[:_SECTION_DEPTH] if len(parts) > _SECTION_DEPTH else parts[:1])


def section_ref(section: str) -> str:
    return short_ref("section\x1f" + section)


def unassigned(store: Store, doc_id: int) -> list[StoredTask]:
    """The open tasks of a document that have no lead unit, in plan order."""
    return [t for t in store.document_tasks(doc_id) if not t.lead and t.is_open]


def unassigned_sections(tasks: Iterable[StoredTask]) -> list[tuple[str, list[StoredTask]]]:
    """Tasks grouped by :func:`section_of`, sections in plan order."""
    groups: dict[str, list[StoredTask]] = {}
    for task in tasks:
        groups.setdefault(section_of(task), []).append(task)
    return list(groups.items())


def known_localities(store: Store) -> list[str]:
    """Localities the store knows (unit directories and documents), by name."""
    names = {row.locality for row in store.repo.all(UnitDirectoryRow) if row.locality}
    names |= {d.locality for d in store.documents() if d.locality}
    by_key = {locality_key(n): n for n in sorted(names)}
    return sorted(by_key.values(), key=fold)


# ------------------------------------------------------------------------------------------
# Units typed by people
# ------------------------------------------------------------------------------------------
def _match_one(store: Store, query: str, locality: str | None) -> StoredUnit:
    if locality:
        try:
            return store.match_unit(query, locality)
        except BotError:
            pass  # not a unit of the document's own place: search every locality
    return store.match_unit(query)


def resolve_units(store: Store, text: str, locality: str | None = None) -> tuple[StoredUnit, ...]:
    """The units typed in ``text`` ("Phòng Y tế; Công an thành phố"), the document's own
    locality first. Several units are separated by ";" (or "," when the whole text names
    none). Raises :class:`UnitNotFound` (Vietnamese, with suggestions)."""
    text = " ".join(text.split())
    if not text:
        raise UsageError("Hãy ghi tên đơn vị, ví dụ: Phòng Y tế.")
    parts = [p.strip() for p in text.split(";") if p.strip()]
    if len(parts) == 1 and "," in text:
        try:
            return (_match_one(store, text, locality),)
        except UnitNotFound:
            parts = [p.strip() for p in text.split(",") if p.strip()]
    found: list[StoredUnit] = []
    for part in parts:
        unit = _match_one(store, part, locality)
        if unit.key not in [u.key for u in found]:
            found.append(unit)
    return tuple(found)


def _names(store: Store, keys: Iterable[str]) -> list[str]:
    return [store.unit_name(k) for k in keys]


def _event(store: Store, now: datetime, actor: int | None, kind: str, *,
           task_id: int | None = None, doc_id: int | None = None, **data: Any) -> Event:
    repo = store.repo
    event = Event(repo.next_id("events"), now, actor, kind, task_id, doc_id, data)
    repo.put(event)
    return event


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("the review rules need timezone-aware datetimes")


def _task(store: Store, code: object) -> StoredTask:
    task = store.task(code)
    if task is None:
        raise UsageError(f"Không có nhiệm vụ mã {quote(str(code))}. Gõ /nhiemvu để xem các mã.")
    return task


# ------------------------------------------------------------------------------------------
# Assigning lead units
# ------------------------------------------------------------------------------------------
def assign_lead(store: Store, task_ids: Sequence[int], unit_key: str, *, actor: int | None,
                by_name: str, now: datetime) -> list[StoredTask]:
    """Make ``unit_key`` the lead unit of those of ``task_ids`` that still have none (read
    inside the transaction: a task someone assigned meanwhile keeps its lead). One event per
    task. Raises UsageError when none is left to assign."""
    _require_aware(now)
    repo = store.repo
    with repo.transaction():
        unit = repo.unit(unit_key)
        if unit is None:
            raise UsageError("Đơn vị này không còn trong danh bạ. Hãy gõ lại tên đơn vị.")
        tasks = [t for t in repo.tasks(task_ids) if not t.lead]
        if not tasks:
            raise UsageError("Các nhiệm vụ này đã có đơn vị chủ trì (hoặc đã bị xóa); không có "
                             "gì để giao.")
        changed = [replace(t, lead=(unit_key,),
                           support=tuple(k for k in t.support if k != unit_key))
                   for t in tasks]
        repo.put_tasks(changed)
        for task in changed:
            _event(store, now, actor, "assign_lead", task_id=task.id, doc_id=task.doc_id,
                   by_name=by_name, unit=unit_key, unit_name=unit.label,
                   tasks=len(changed))
    return changed


def assign_section(store: Store, doc_id: int, ref: str, unit_key: str, *,
                   actor: int | None, by_name: str,
                   now: datetime) -> tuple[str, list[StoredTask]]:
    """:func:`assign_lead` for every task without a lead in the document's section whose
    :func:`section_ref` is ``ref``; returns (section, tasks assigned)."""
    with store.repo.transaction():
        if store.repo.get(StoredDocument, doc_id) is None:
            raise UsageError("Văn bản này đã được hoàn tác hoặc không còn trong hệ thống.")
        groups = dict(unassigned_sections(unassigned(store, doc_id)))
        for section, tasks in groups.items():
            if section_ref(section) == ref:
                return section, assign_lead(store, [t.id for t in tasks], unit_key,
                                            actor=actor, by_name=by_name, now=now)
    raise UsageError("Các nhiệm vụ của mục này đã có đơn vị chủ trì; không có gì để giao.")


# ------------------------------------------------------------------------------------------
# The document's locality
# ------------------------------------------------------------------------------------------
def rescope_document(store: Store, doc_id: int, locality: str, *, actor: int | None,
                     by_name: str, now: datetime) -> tuple[StoredDocument, int]:
    """Say which locality a document belongs to: every unit of its tasks that was read in
    the document's former scope (no locality: ``"-"``) is added to the chosen locality's
    unit directory (its written forms) and the tasks name that unit instead. Units already
    of another scope (assigned by hand) stay. Returns (document, tasks changed).

    The former scope's directory keeps its units (other documents may name them, and chats
    may be members of them). Fingerprints stay those the parser read, so a later version of
    the plan still recognises its tasks.
    """
    _require_aware(now)
    locality = " ".join((locality or "").split())
    if not locality or locality_key(locality) == "-":
        raise UsageError("Hãy ghi tên địa phương, ví dụ: Cẩm Phả.")
    if len(locality) > 80:
        raise UsageError("Tên địa phương dài quá 80 ký tự.")
    repo = store.repo
    with repo.transaction():
        doc = repo.get(StoredDocument, doc_id)
        if doc is None:
            raise UsageError("Văn bản này đã được hoàn tác hoặc không còn trong hệ thống.")
        source, target = locality_key(doc.locality), locality_key(locality)
        if source == target:
            raise UsageError(f"Văn bản này đã thuộc địa phương {quote(locality)}.")
        source_row = repo.get(UnitDirectoryRow, source)
        forms: dict[str, list[str]] = {}
        if source_row is not None:
            for item in source_row.directory.get("units", ()):
                forms[f"{source}|{item['key']}"] = [f for f, _ in item["forms"]]
        target_row = repo.get(UnitDirectoryRow, target)
        directory = (UnitDirectory.from_json(target_row.directory) if target_row is not None
                     else UnitDirectory())
        name = target_row.locality if target_row is not None and target_row.locality \
            else locality
        moved: dict[str, str] = {}

        def move(key: str) -> str:
            if not key.startswith(source + "|") or key not in forms:
                return key
            if key not in moved:
                first = directory.add(forms[key][0], name)
                for form in forms[key][1:]:
                    if directory.resolve(form, name) is None:
                        directory.add(form, name)
                moved[key] = f"{target}|{first.key}"
            return moved[key]

        changed: list[StoredTask] = []
        for task in repo.document_tasks(doc_id):
            lead = tuple(dict.fromkeys(move(k) for k in task.lead))
            support = tuple(k for k in dict.fromkeys(move(k) for k in task.support)
                            if k not in lead)
            if (lead, support) != (task.lead, task.support):
                changed.append(replace(task, lead=lead, support=support))
        new_doc = replace(doc, locality=name)
        repo.put(new_doc)
        if moved:
            repo.put(UnitDirectoryRow(target, name, directory.to_json()))
        repo.put_tasks(changed)
        _event(store, now, actor, "rescope", doc_id=doc_id, by_name=by_name,
               old_locality=doc.locality, new_locality=name, units=len(moved),
               tasks=len(changed))
        for task in changed:
            _event(store, now, actor, "rescope", task_id=task.id, doc_id=doc_id,
                   by_name=by_name, old_locality=doc.locality, new_locality=name)
    return new_doc, len(changed)


# ------------------------------------------------------------------------------------------
# /sua
# ------------------------------------------------------------------------------------------
def _empty(value: str) -> bool:
    return fold(value).strip(" .") in _NONE_WORDS


def fold_field(field: str) -> str:
    """A /sua field as typed ("chủ trì", "ChuTri") to its key ("chutri")."""
    return fold(field).replace(" ", "")


def edit_task(store: Store, code: object, field: str, value: str, *, actor: int | None,
              by_name: str, now: datetime, today: date) -> tuple[StoredTask, StoredTask]:
    """Change one field of a task (/sua); returns (before, after).

    ``field``: "chutri"/"phoihop" (unit names, ";"-separated; "không" empties),
    "han" (a day as /giahan reads it, past days allowed: the plan's date is being corrected;
    "không" removes it), "noidung" (the text). The plan's identity of the task
    (``fingerprint``) stays, so a new version of the plan still recognises it.
    """
    _require_aware(now)
    key = fold_field(field)
    if key not in EDIT_FIELDS:
        raise UsageError(f"Không có trường «{quote(field)}». Các trường sửa được: "
                         + ", ".join(f"{k} ({v})" for k, v in EDIT_FIELDS.items()) + ".")
    value = value.strip()
    if not value:
        raise UsageError(f"Hãy ghi giá trị mới cho {EDIT_FIELDS[key]}.")
    repo = store.repo
    with repo.transaction():
        task = _task(store, code)
        doc = repo.get(StoredDocument, task.doc_id)
        locality = doc.locality if doc else None
        data: dict[str, Any] = {"field": key, "by_name": by_name}
        if key in ("chutri", "phoihop"):
            keys = () if _empty(value) else tuple(u.key for u in
                                                  resolve_units(store, value, locality))
            if key == "chutri":
                new = replace(task, lead=keys, support=tuple(k for k in task.support
                                                             if k not in keys))
                data.update(old=_names(store, task.lead), new=_names(store, keys))
            else:
                new = replace(task, support=tuple(k for k in keys if k not in task.lead))
                data.update(old=_names(store, task.support), new=_names(store, new.support))
        elif key == "han":
            due = None if _empty(value) else parse_user_date(value, today)
            new = replace(task, due=due, original_due=due,
                          due_kind="explicit" if due else None)
            data.update(old=task.due.isoformat() if task.due else None,
                        old_kind=task.due_kind,
                        old_original=task.original_due.isoformat() if task.original_due
                        else None,
                        new=due.isoformat() if due else None, typed=value[:100])
        else:
            text = " ".join(value.split())
            if len(text) > MAX_TEXT_CHARS:
                raise UsageError(f"Nội dung dài {len(text)} ký tự; tối đa {MAX_TEXT_CHARS}.")
            new = replace(task, text=text)
            data.update(old=task.text, new=text)
        if new == task:
            raise UsageError(f"Nhiệm vụ #{task.code} đã có {EDIT_FIELDS[key]} như vậy; không "
                             "có gì thay đổi.")
        repo.put_tasks([new])
        _event(store, now, actor, "edit", task_id=task.id, doc_id=task.doc_id, **data)
    return task, new


# ------------------------------------------------------------------------------------------
# /xoa, /khoiphuc
# ------------------------------------------------------------------------------------------
def delete_task(store: Store, code: object, *, actor: int | None, by_name: str,
                now: datetime) -> StoredTask:
    """Remove a wrongly read task. The "delete_task" event holds its whole row, its place
    in the document, its unsent reminders and its snooze (:func:`restore_task`); the event
    names the document, so it outlives the retention while the document exists."""
    _require_aware(now)
    repo = store.repo
    with repo.transaction():
        task = _task(store, code)
        doc = repo.get(StoredDocument, task.doc_id)
        reminders = repo.unsent_reminders(task_ids=[task.id])
        snooze = repo.get(Snooze, task.id)
        position = doc.task_ids.index(task.id) if doc and task.id in doc.task_ids else None
        _event(store, now, actor, "delete_task", task_id=task.id, doc_id=task.doc_id,
               by_name=by_name, row=task.to_row(), position=position,
               reminders=[{"id": r.id, **r.to_row()} for r in reminders],
               snooze=snooze.to_row() if snooze else None)
        if reminders:
            repo.delete(Reminder, [r.id for r in reminders])
        if snooze is not None:
            repo.delete(Snooze, [task.id])
        if doc is not None:
            repo.put(replace(doc, task_ids=tuple(i for i in doc.task_ids if i != task.id)))
        repo.delete_tasks([task.id])
    return task


def restore_task(store: Store, code: object, *, actor: int | None, by_name: str,
                 now: datetime) -> StoredTask:
    """Bring back a task removed by :func:`delete_task`, as it was (same code, place in its
    document, reminders not yet due, snooze)."""
    _require_aware(now)
    raw = str(code).strip().lstrip("#")
    if not (raw.isascii() and raw.isdigit()):
        raise UsageError(f"Mã nhiệm vụ «{quote(str(code))}» không hợp lệ; mã là một số, ví dụ "
                         "/khoiphuc 17.")
    task_id = int(raw)
    repo = store.repo
    with repo.transaction():
        if repo.task(task_id) is not None:
            raise UsageError(f"Nhiệm vụ #{task_id} vẫn đang có, không cần khôi phục.")
        deleted = None
        for event in repo.task_history(task_id):
            if event.kind == "delete_task":
                deleted = event
            elif event.kind == "restore_task":
                deleted = None
        if deleted is None or "row" not in deleted.data:
            raise UsageError(f"Không có nhiệm vụ mã {task_id} đã xóa bằng /xoa để khôi phục.")
        doc = repo.get(StoredDocument, deleted.doc_id) if deleted.doc_id is not None else None
        if doc is None:
            raise UsageError(f"Văn bản của nhiệm vụ #{task_id} đã được hoàn tác nên không khôi "
                             "phục được nhiệm vụ này; hãy nhập lại văn bản.")
        task = StoredTask.from_row(task_id, deleted.data["row"])
        if task.doc_id != doc.id:
            raise UsageError(f"Không khôi phục được nhiệm vụ #{task_id}.")
        ids = [i for i in doc.task_ids if i != task_id]
        position = deleted.data.get("position")
        at = position if isinstance(position, int) and 0 <= position <= len(ids) else len(ids)
        ids.insert(at, task_id)
        repo.put(replace(doc, task_ids=tuple(ids)))
        repo.put_tasks([task])
        reminders = [Reminder.from_row(int(r["id"]), r) for r in deleted.data.get("reminders")
                     or ()]
        reminders = [r for r in reminders if r.at > now and repo.get(Reminder, r.id) is None]
        if reminders:
            repo.put(*reminders)
        snooze = deleted.data.get("snooze")
        if snooze:
            item = Snooze.from_row(task_id, snooze)
            if item.until > now.date():
                repo.put(item)
        _event(store, now, actor, "restore_task", task_id=task_id, doc_id=doc.id,
               by_name=by_name, deleted_event=deleted.id, reminders=len(reminders))
    return task


# ------------------------------------------------------------------------------------------
# /giao
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class GiveRequest:
    """What "/giao <đơn vị> [hạn <ngày>]: <nội dung>" says."""

    units: str
    due_text: str | None
    text: str


USAGE_GIAO = ("Cách dùng: /giao <đơn vị> [hạn <ngày>]: <nội dung>. Ví dụ: /giao Phòng Y tế hạn "
              "30/12/2022: Báo cáo tình hình tiêm chủng.")
_HAN_RE = re.compile(r"\s(?:hạn|han)(?:\s+|$)", re.IGNORECASE)


def parse_give(args: str) -> GiveRequest:
    """Split the arguments of /giao; raises UsageError with the usage line."""
    head, colon, body = args.partition(":")
    text = " ".join(body.split())
    if not colon or not head.strip() or not text:
        raise UsageError(USAGE_GIAO)
    head = " " + " ".join(head.split())
    matches = list(_HAN_RE.finditer(head))
    if matches:
        last = matches[-1]
        units, due_text = head[:last.start()].strip(), head[last.end():].strip()
        if not units or not due_text:
            raise UsageError(USAGE_GIAO)
        return GiveRequest(units, due_text, text)
    return GiveRequest(head.strip(), None, text)


def direct_document_hash(day: date) -> str:
    return f"direct:{day.year:04d}-{day.month:02d}"


def give_task(store: Store, units: Sequence[StoredUnit], text: str, due: date | None, *,
              actor: int | None, by_name: str, now: datetime,
              due_phrase: str | None = None) -> StoredTask:
    """An admin gives work by hand: a new open task led by ``units`` in the month's
    "Giao việc trực tiếp" document (made at the month's first /giao)."""
    _require_aware(now)
    text = " ".join(text.split())
    if not text:
        raise UsageError(USAGE_GIAO)
    if len(text) > MAX_TEXT_CHARS:
        raise UsageError(f"Nội dung dài {len(text)} ký tự; tối đa {MAX_TEXT_CHARS}.")
    if not units:
        raise UsageError(USAGE_GIAO)
    if due is not None and due < now.date():
        raise UsageError(f"Hạn {format_date(due)} đã qua; hãy chọn một ngày từ hôm nay "
                         f"({format_date(now.date())}) trở đi.")
    repo = store.repo
    today = now.date()
    file_hash = direct_document_hash(today)
    with repo.transaction():
        for unit in units:
            if repo.unit(unit.key) is None:
                raise UsageError("Đơn vị này không còn trong danh bạ. Hãy gõ lại tên đơn vị.")
        doc = repo.document_by_hash(file_hash)
        if doc is None:
            label = f"Giao việc trực tiếp tháng {today.month:02d}/{today.year}"
            doc = StoredDocument(
                id=repo.next_id("documents"), kind=DIRECT_KIND, number=None, issuer=None,
                issued=None, title=label, period=None, locality=None, filename=label,
                file_hash=file_hash, imported_at=now, imported_by=actor, task_ids=())
            _event(store, now, actor, "give_task", doc_id=doc.id, by_name=by_name,
                   document=label)
        lead = tuple(u.key for u in units)
        line = len(doc.task_ids) + 1
        phrase = f"hạn {due_phrase}" if due_phrase else None
        task = StoredTask(
            id=repo.next_id("tasks"), doc_id=doc.id, line=line, end_line=line, section="",
            text=text, lead=lead,
            deadlines=((phrase, due.isoformat(), line),) if due and phrase else (),
            due=due, due_kind="explicit" if due else None, original_due=due,
            fingerprint=fingerprint(text, lead))
        repo.put(replace(doc, task_ids=(*doc.task_ids, task.id)))
        repo.put_tasks([task])
        _event(store, now, actor, "give_task", task_id=task.id, doc_id=doc.id, by_name=by_name,
               units=[u.label for u in units], due=due.isoformat() if due else None)
    return task


# ------------------------------------------------------------------------------------------
# History lines
# ------------------------------------------------------------------------------------------
def _iso(value: object) -> str:
    try:
        return format_date(date.fromisoformat(str(value))) if value else "không có hạn"
    except ValueError:
        return str(value)


def _list(value: object) -> str:
    if isinstance(value, list | tuple):
        return "; ".join(map(str, value)) if value else "không có"
    return str(value) if value else "không có"


def describe_event(event: Event) -> str:
    """What one of :data:`EVENT_KINDS` did, in Vietnamese (plain text)."""
    data = event.data
    kind = event.kind
    if kind == "assign_lead":
        what = f"giao đơn vị chủ trì: {data.get('unit_name') or data.get('unit')}"
        if int(data.get("tasks") or 1) > 1:
            what += f" (cùng {data['tasks']} nhiệm vụ của mục)"
        return what
    if kind == "rescope":
        return (f"xác định địa phương của văn bản: {data.get('new_locality')} (trước đó: "
                f"{data.get('old_locality') or 'chưa rõ'})")
    if kind == "edit":
        field = str(data.get("field"))
        name = EDIT_FIELDS.get(field, field)
        if field == "han":
            return f"sửa {name}: {_iso(data.get('old'))} → {_iso(data.get('new'))}"
        if field == "noidung":
            old = " ".join(str(data.get("old") or "").split()[:12])
            return f"sửa {name} (trước đó: «{old}…»)"
        return f"sửa {name}: {_list(data.get('old'))} → {_list(data.get('new'))}"
    if kind == "delete_task":
        return "xóa nhiệm vụ (đọc sai từ văn bản; khôi phục được bằng /khoiphuc)"
    if kind == "restore_task":
        return "khôi phục nhiệm vụ đã xóa"
    if kind == "give_task":
        if event.task_id is None:
            return f"tạo văn bản {data.get('document')}"
        due = f", hạn {_iso(data.get('due'))}" if data.get("due") else ", không có hạn"
        return f"giao việc trực tiếp cho {_list(data.get('units'))}{due}"
    return "thay đổi khác"
