"""The bot's rules over any :class:`bot.repository.Repository`.

:class:`Tracker` holds no data of its own (only a parsed-directory cache keyed by locality
and directory version): every answer comes from the repository, every change is one
repository transaction (all or nothing), and every rule takes ``now`` from the caller.
Rules here: import (merging a new version of a plan), undo, done/reopen/extend, memberships
(subscribe, invitations, requests, the upgrade of older subscriptions, chat migration),
snoozes, one-off reminders, announcements (logged and scheduled), digest bookkeeping,
statistics and unit matching. Rights (who may do what) are :mod:`bot.membership`'s.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any, TypeVar, overload

from bot.errors import BotError, EmptyPlan, UnitNotFound, UsageError
from bot.models import DocumentInfo, ParsedPlan
from bot.progress import actor_fields
from bot.records import (
    APPROVED,
    CANCELLED,
    DONE,
    OPEN,
    ORIGIN_DANGKY,
    ORIGIN_UPGRADE,
    REFUSED,
    VIA_ADMIN,
    VIA_INVITE,
    VIA_LEGACY_ADMIN,
    VIA_LEGACY_GROUP,
    VIA_REQUEST,
    Announcement,
    Chat,
    Delivery,
    Event,
    ImportResult,
    Invitation,
    JoinRequest,
    Membership,
    OwedDigest,
    Reminder,
    ScheduledAnnouncement,
    StoredDocument,
    StoredTask,
    StoredUnit,
    UnitStats,
)
from bot.repository import (
    DigestRun,
    DigestSource,
    PruneCounts,
    Repository,
    Snooze,
    UnitDirectoryRow,
    locality_key,
    search_fold,
)
from bot.text import fold, quote, utf16_len
from bot.units import Unit, UnitDirectory, unit_key

__all__ = ["Tracker", "TaskPages", "fingerprint", "scoped_unit_key"]

logger = logging.getLogger(__name__)

MAX_SNOOZE_DAYS = 366
MAX_ANNOUNCEMENT_CHARS = 3800
"""Room for the heading within Telegram's 4,096 characters."""
_TRAILING_LOCALITY_RE = re.compile(r"^(.*\S)\s*\(([^()]+)\)\s*$")
_DECIDED = {APPROVED: "được duyệt", REFUSED: "bị từ chối",
            CANCELLED: "không còn cần duyệt (đơn vị đã nhận cuộc trò chuyện này)"}
_INVITE_STATES = {"used": "đã được dùng", "revoked": "đã bị thu hồi", "expired": "đã hết hạn"}


def scoped_unit_key(name: str, locality: str | None = None) -> str:
    """Unit key scoped by locality: "Phòng Y tế" of Cẩm Phả differs from that of Uông Bí."""
    return f"{locality_key(locality)}|{unit_key(name, locality)}"


def fingerprint(text: str, lead: Iterable[str]) -> str:
    """Identity of a task across versions of a plan: folded text plus its lead units."""
    material = fold(text) + "\x1f" + "\x1e".join(sorted(lead))
    return hashlib.blake2b(material.encode("utf-8"), digest_size=8).hexdigest()


def _identity(info: DocumentInfo) -> tuple[str, str] | None:
    """Number + issuer names a document across versions; no number means no identity."""
    if not info.number or not fold(info.number):
        return None
    return fold(info.number), fold(info.issuer or "")


def _require_aware(value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("the store needs timezone-aware datetimes")


def _vn_date(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def _parse_code(code: object) -> int | None:
    if isinstance(code, bool):
        return None
    if isinstance(code, int):
        return code
    text = str(code).strip().lstrip("#")
    return int(text) if text.isascii() and text.isdigit() else None


def _as_keys(keys: Iterable[str] | str) -> list[str]:
    return [keys] if isinstance(keys, str) else list(dict.fromkeys(keys))


def _keys_or_none(keys: Iterable[str] | str | None) -> list[str] | None:
    return None if keys is None else _as_keys(keys)


def _merged_keys(row: UnitDirectoryRow | None) -> dict[str, str]:
    """Unit key (unscoped, of this locality) -> the scoped key it was merged into."""
    merged = row.directory.get("merged") if row is not None else None
    return dict(merged) if isinstance(merged, Mapping) else {}


def _forms(directory: Mapping[str, Any] | None) -> dict[str, dict[str, int]]:
    return {item["key"]: {form: count for form, count in item["forms"]}
            for item in (directory or {}).get("units", ())}


def _directory_added(before: Mapping[str, Any] | None,
                     after: Mapping[str, Any]) -> list[list[Any]]:
    """What an import added to a directory: [unit key, written form, count added]."""
    old = _forms(before)
    return [[key, form, count - old.get(key, {}).get(form, 0)]
            for key, forms in _forms(after).items() for form, count in forms.items()
            if count > old.get(key, {}).get(form, 0)]


def _directory_minus(directory: Mapping[str, Any],
                     added: Iterable[Sequence[Any]]) -> tuple[dict[str, Any], list[str]]:
    """``directory`` without what :func:`_directory_added` listed; also the unit keys that
    disappear with it."""
    take: dict[tuple[str, str], int] = {(k, f): n for k, f, n in added}
    units, gone = [], []
    for item in directory.get("units", ()):
        forms = [[f, n - take.get((item["key"], f), 0)] for f, n in item["forms"]]
        forms = [pair for pair in forms if pair[1] > 0]
        if forms:
            units.append({"key": item["key"], "forms": forms})
        else:
            gone.append(item["key"])
    out = {k: v for k, v in directory.items() if k != "units"}
    out["units"] = units
    return out, gone


UNDO_BLOCKERS = ("done", "reopen", "extend", "progress", "assign_lead", "edit", "rescope")
"""Events after an import that undoing a replaced version refuses to overwrite."""

_F = TypeVar("_F", bound=Callable[..., Any])


def _atomic(method: _F) -> _F:
    """Run a rule in one repository transaction: what it reads before writing is read inside
    the transaction that writes it (a backend serialising writers of a row then makes the
    read-modify-write safe), and all its writes commit together or not at all."""

    @functools.wraps(method)
    def run(self: Tracker, *args: Any, **kwargs: Any) -> Any:
        with self.repo.transaction():
            return method(self, *args, **kwargs)

    return run  # type: ignore[return-value]


class TaskPages(Sequence[StoredTask]):
    """Open tasks of some units in (due, id) order, read a page at a time from the
    repository (never a view of its memory): a page of 80,000 open tasks costs the page.
    Counts by due date ask the repository too. Use it before the data changes again."""

    __slots__ = ("_repo", "_keys", "_len")

    def __init__(self, repo: Repository, keys: list[str] | None) -> None:
        self._repo, self._keys = repo, keys
        self._len = repo.count_tasks(keys)

    def __len__(self) -> int:
        return self._len

    @overload
    def __getitem__(self, index: int) -> StoredTask: ...

    @overload
    def __getitem__(self, index: slice) -> list[StoredTask]: ...

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            start, stop, step = index.indices(self._len)
            if step != 1:
                return list(self)[index]
            if stop <= start:
                return []
            return self._repo.task_page(self._keys, offset=start, limit=stop - start)
        position = index + self._len if index < 0 else index
        if not 0 <= position < self._len:
            raise IndexError(index)
        return self._repo.task_page(self._keys, offset=position, limit=1)[0]

    def __iter__(self) -> Iterator[StoredTask]:
        step = 2000
        for start in range(0, self._len, step):
            yield from self._repo.task_page(self._keys, offset=start, limit=step)

    def count_due_before(self, day: date) -> int:
        """How many of the tasks are due before ``day`` (they come first)."""
        return self._repo.count_tasks(self._keys, last=day - timedelta(days=1))


class Tracker:
    """The rules of the bot over a repository (see the module docstring).

    Mutating methods return the new records; each is one repository transaction (none
    when nothing changes). Bad input raises :class:`bot.errors.UsageError` (Vietnamese).
    """

    MAX_SNOOZE_DAYS = MAX_SNOOZE_DAYS
    MAX_ANNOUNCEMENT_CHARS = MAX_ANNOUNCEMENT_CHARS

    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self._dirs: dict[str, tuple[int, UnitDirectory]] = {}
        """loc_key -> (directory version, parsed directory): building one takes ~3 ms."""

    # -------------------------------------------------------------- helpers
    def _event(self, now: datetime, actor: int | None, kind: str, *, task_id: int | None = None,
               doc_id: int | None = None, **data: Any) -> Event:
        data = {**actor_fields(self.repo, actor, task_id), **data}
        event = Event(self.repo.next_id("events"), now, actor, kind, task_id, doc_id, data)
        self.repo.put(event)
        return event

    def _require(self, code: object) -> StoredTask:
        task = self.task(code)
        if task is None:
            raise UsageError(f"Không có nhiệm vụ mã {quote(str(code))}.")
        return task

    def _require_unit(self, unit_key: str) -> StoredUnit:
        unit = self.repo.unit(unit_key)
        if unit is None:
            raise UsageError("Đơn vị này chưa có trong danh bạ; hãy nhập kế hoạch có giao việc "
                             "cho đơn vị trước.")
        return unit

    def _unit_names(self, tasks: Iterable[StoredTask]) -> tuple[str, ...]:
        keys = dict.fromkeys(k for t in tasks for k in t.units)
        names = (self.unit_name(k) for k in keys)
        return tuple(sorted(dict.fromkeys(names), key=fold))

    def _directory(self, row: UnitDirectoryRow) -> UnitDirectory:
        cached = self._dirs.get(row.loc_key)
        if cached is not None and cached[0] == row.version:
            return cached[1]
        directory = UnitDirectory.from_json(row.directory)
        self._dirs[row.loc_key] = (row.version, directory)
        return directory

    # -------------------------------------------------------------- import
    @_atomic
    def import_plan(self, plan: ParsedPlan, *, filename: str, file_hash: str,
                    actor: int | None, now: datetime, by_name: str = "") -> ImportResult:
        """Store a parsed plan: "new", "replaced" (same number and issuer) or "duplicate".

        A replaced version keeps the id and done status of every task whose fingerprint is
        unchanged (and its /giahan date when the plan's own date did not change).
        """
        _require_aware(now)
        repo = self.repo
        existing = repo.document_by_hash(file_hash)
        if existing is not None:
            tasks = repo.document_tasks(existing.id)
            return ImportResult("duplicate", existing, len(tasks), self._unit_names(tasks),
                                sum(t.due_kind == "explicit" for t in tasks), 0, ())
        if not plan.tasks:
            raise EmptyPlan("Không tìm thấy nhiệm vụ nào giao cho đơn vị trong văn bản này, "
                            "nên không có gì để theo dõi.")
        info = plan.document
        ident = _identity(info)
        previous = repo.document_by_identity(*ident) if ident is not None else None
        loc_key = locality_key(info.locality)
        dir_row = repo.get(UnitDirectoryRow, loc_key)
        directory = (UnitDirectory.from_json(dir_row.directory) if dir_row is not None
                     else UnitDirectory())  # a copy to extend
        locality = dir_row.locality if dir_row is not None else info.locality
        merged = _merged_keys(dir_row)
        warnings = list(plan.warnings)
        with repo.transaction():
            old_by_fp: dict[str, list[StoredTask]] = defaultdict(list)
            old_tasks = repo.document_tasks(previous.id) if previous else []
            for task in old_tasks:
                old_by_fp[task.fingerprint].append(task)
            doc_id = previous.id if previous else repo.next_id("documents")
            new_tasks: list[StoredTask] = []
            kept_done = 0
            no_lead: list[int] = []
            for item in plan.tasks:
                lead = self._unit_keys(directory, loc_key, info.locality, item.lead, item.line,
                                       warnings, merged)
                support = tuple(k for k in self._unit_keys(directory, loc_key, info.locality,
                                                           item.support, item.line, warnings,
                                                           merged)
                                if k not in lead)
                if not lead:
                    no_lead.append(item.line)
                fp = fingerprint(item.text, lead)
                old = old_by_fp[fp].pop(0) if old_by_fp.get(fp) else None
                task = StoredTask(
                    id=old.id if old else repo.next_id("tasks"), doc_id=doc_id,
                    line=item.line, end_line=item.end_line, section=item.section,
                    text=item.text, lead=lead, support=support,
                    deadlines=tuple((d.phrase, d.due.isoformat() if d.due else None, d.line)
                                    for d in item.deadlines),
                    due=item.due, due_kind=item.due_kind, original_due=item.due,
                    recurrence=item.recurrence, fingerprint=fp,
                )
                if old is not None:
                    if old.progress is not None:  # issue 10: the last /tiendo carries over
                        task = replace(task, progress=old.progress)
                    if not old.is_open:
                        task = replace(task, status=old.status, done_at=old.done_at,
                                       done_by=old.done_by, note=old.note)
                        kept_done += 1
                    if old.due_kind == "extended" and old.original_due == item.due:
                        task = replace(task, due=old.due, due_kind="extended")
                new_tasks.append(task)
            if no_lead:
                shown = ", ".join(map(str, no_lead[:10])) + ("…" if len(no_lead) > 10 else "")
                warnings.append(f"{len(no_lead)} nhiệm vụ chưa xác định được đơn vị chủ trì "
                                f"(dòng {shown}).")
            removed = [t for group in old_by_fp.values() for t in group]
            removed_ids = [t.id for t in removed]
            doc = StoredDocument(
                id=doc_id, kind=info.kind, number=info.number, issuer=info.issuer,
                issued=info.issued, title=info.title, period=info.period,
                locality=info.locality, filename=filename, file_hash=file_hash,
                imported_at=now, imported_by=actor, task_ids=tuple(t.id for t in new_tasks),
                version=previous.version + 1 if previous else 1,
            )
            repo.put(doc)
            reminders = repo.unsent_reminders(task_ids=removed_ids) if removed_ids else []
            if removed_ids:
                repo.delete(Reminder, [r.id for r in reminders])
                repo.delete_tasks(removed_ids)
            repo.put_tasks(new_tasks)
            dir_json = directory.to_json()
            if merged:
                dir_json["merged"] = dict(merged)
            repo.put(UnitDirectoryRow(loc_key, locality, dir_json))
            written = repo.get(UnitDirectoryRow, loc_key)
            # What "Hoàn tác" needs to put everything back as it was (see undo_import).
            snapshot: dict[str, Any] = {
                "dir": {"loc": loc_key, "version": written.version if written else None,
                        "existed": dir_row is not None,
                        "added": _directory_added(dir_row.directory if dir_row else None,
                                                  dir_json)},
            }
            if previous is not None:
                snapshot.update(doc=previous.to_row(),
                                tasks=[[t.id, t.to_row()] for t in old_tasks],
                                reminders=[[r.id, r.to_row()] for r in reminders])
            status = "replaced" if previous else "new"
            self._event(now, actor, "import", doc_id=doc_id, status=status, filename=filename,
                        number=info.number, version=doc.version, tasks=len(new_tasks),
                        kept_done=kept_done, removed=len(removed), by_name=by_name,
                        undo=snapshot)
        stored = repo.get(UnitDirectoryRow, loc_key)
        if stored is not None:
            self._dirs[loc_key] = (stored.version, directory)
        logger.info("imported %s as document %d (%s, %d tasks, %d kept done)", filename,
                    doc_id, status, len(new_tasks), kept_done)
        return ImportResult(status, doc, len(new_tasks), self._unit_names(new_tasks),
                            sum(t.due_kind == "explicit" for t in new_tasks), kept_done,
                            tuple(warnings))

    @staticmethod
    def _unit_keys(directory: UnitDirectory, loc_key: str, locality: str | None,
                   names: Iterable[str], line: int, warnings: list[str],
                   merged: Mapping[str, str] | None = None) -> tuple[str, ...]:
        keys: list[str] = []
        for name in names:
            # A unit merged into another (/gopdonvi) lands on its target, never in the
            # directory again.
            target = merged.get(unit_key(name, locality)) if merged else None
            if target is not None:
                if target not in keys:
                    keys.append(target)
                continue
            try:
                unit = directory.add(name, locality)
            except BotError:
                warnings.append(f"Dòng {line}: bỏ qua tên đơn vị không đọc được «{name}».")
                continue
            key = f"{loc_key}|{unit.key}"
            if key not in keys:
                keys.append(key)
        return tuple(keys)

    @_atomic
    def undo_import(self, doc_id: int, actor: int | None, now: datetime, *,
                    version: int | None = None, by_name: str = "") -> StoredDocument:
        """Undo the import of a document's current version (``version``, when given, must
        still be the current one: a second press of the same button is refused).

        Version 1: the document, its tasks and their unsent reminders go. A later version
        (it replaced the previous one): everything that import changed comes back exactly as
        it was, from the snapshot the import kept in its event: the previous document row,
        its tasks with their done marks and /giahan dates, the reminders it deleted; tasks
        new in the undone version go with their unsent reminders. Snoozes, reminders and
        history of the tasks that come back are kept. Refused (nothing changes) when a task
        of the version was marked done, reopened or extended after the import (undoing would
        silently drop that work) and for a version imported before snapshots existed.
        A unit merged since (/gopdonvi) is followed: restored tasks name its target. The unit
        directory is put back too when nothing else changed it since (and no chat, request,
        invitation or announcement names a unit that would disappear). Returns the undone
        document (the current version before the undo).
        """
        _require_aware(now)
        repo = self.repo
        doc = repo.get(StoredDocument, doc_id)
        if doc is None:
            raise UsageError(f"Không có văn bản mã {doc_id}.")
        if version is not None and doc.version != version:
            raise UsageError(f"Phiên bản {version} của văn bản này đã được hoàn tác hoặc đã "
                             f"có phiên bản mới hơn (hiện là phiên bản {doc.version}); "
                             "không hoàn tác thêm.")
        tasks = repo.document_tasks(doc_id)
        ids = [t.id for t in tasks]
        found = self._import_event(doc)
        event, later = found if found is not None else (None, [])
        undo = event.data.get("undo") if event is not None else None
        snapshot: Mapping[str, Any] = undo if isinstance(undo, Mapping) else {}
        previous = snapshot.get("doc")
        if doc.version > 1 and previous is None:
            raise UsageError("Không thể hoàn tác phiên bản này: nó được nhập trước khi bot "
                             "lưu lại phiên bản cũ để khôi phục. Hãy gửi lại tệp của phiên "
                             "bản trước.")
        renames: dict[str, str] = {}
        for item in later:  # oldest first
            if item.kind == "unit_merge":
                source, target = item.data.get("source"), item.data.get("target")
                if not isinstance(source, str) or not isinstance(target, str):
                    continue  # every merge names both; an older malformed event renames nothing
                renames = {k: (target if v == source else v) for k, v in renames.items()}
                renames[source] = target
        if previous is not None:
            alive = set(ids)
            touched = sorted({e.task_id for e in later
                              if e.kind in UNDO_BLOCKERS and e.task_id in alive})
            if touched:
                shown = ", ".join(map(str, touched[:10])) + ("…" if len(touched) > 10 else "")
                raise UsageError(f"Không thể hoàn tác: sau khi nhập phiên bản này, nhiệm vụ "
                                 f"{shown} đã được báo hoàn thành, mở lại, gia hạn, báo "
                                 "tiến độ hoặc sửa; hoàn tác sẽ làm mất các cập nhật đó.")
        restored: StoredDocument | None = None
        with repo.transaction():
            if previous is not None:
                restored = StoredDocument.from_row(doc_id, previous)
                old_tasks = [self._renamed(StoredTask.from_row(i, row), renames)
                             for i, row in snapshot.get("tasks", ())]
                old_ids = {t.id for t in old_tasks}
                gone = [i for i in ids if i not in old_ids]
                if gone:
                    repo.delete(Reminder, [r.id for r in repo.unsent_reminders(task_ids=gone)])
                    repo.delete_tasks(gone)
                repo.put(restored)
                repo.put_tasks(old_tasks)
                reminders = [Reminder.from_row(i, row) for i, row in snapshot.get("reminders", ())]
                if reminders:
                    repo.put(*reminders)
            else:
                gone = ids
                if ids:
                    repo.delete(Reminder, [r.id for r in repo.unsent_reminders(task_ids=ids)])
                    repo.delete_tasks(ids)
                repo.delete(StoredDocument, [doc_id])
            directory = self._restore_directory(snapshot) if snapshot else False
            self._event(now, actor, "undo_import", doc_id=doc_id, number=doc.number,
                        filename=doc.filename, tasks=len(tasks), version=doc.version,
                        restored_version=restored.version if restored else None,
                        removed=len(gone), directory_restored=directory, by_name=by_name)
        logger.info("undid import of document %d version %d (%d tasks%s)", doc_id, doc.version,
                    len(tasks), f", version {restored.version} restored" if restored else "")
        return doc

    def _import_event(self, doc: StoredDocument) -> tuple[Event, list[Event]] | None:
        """The "import" event of the document's current version and every event after it
        (oldest first), read newest first in growing windows: an undo is usually right after
        its import."""
        limit = 64
        while True:
            events = self.repo.recent_events(limit)
            for index, event in enumerate(events):
                if (event.kind == "import" and event.doc_id == doc.id
                        and event.data.get("version", 1) == doc.version):
                    return event, events[:index][::-1]
            if len(events) < limit:
                return None
            limit *= 4

    @staticmethod
    def _renamed(task: StoredTask, renames: Mapping[str, str]) -> StoredTask:
        if not renames or not any(k in renames for k in task.units):
            return task
        lead = tuple(dict.fromkeys(renames.get(k, k) for k in task.lead))
        support = tuple(k for k in dict.fromkeys(renames.get(k, k) for k in task.support)
                        if k not in lead)
        return replace(task, lead=lead, support=support,
                       fingerprint=fingerprint(task.text, lead))

    def _restore_directory(self, snapshot: Mapping[str, Any]) -> bool:
        """Put the unit directory back as before the import when it is safe (see
        :meth:`undo_import`); inside the caller's transaction. True when it was."""
        repo = self.repo
        info = snapshot.get("dir") or {}
        loc_key = info.get("loc")
        if not isinstance(loc_key, str) or not loc_key:
            return False
        row = repo.get(UnitDirectoryRow, loc_key)
        if row is None or row.version != info.get("version"):
            return False
        added = info.get("added") or []
        if not added:
            return True
        before, gone = _directory_minus(row.directory, added)
        scoped = {f"{loc_key}|{k}" for k in gone}
        if scoped and self._units_in_use(scoped):
            return False
        if not info.get("existed") and not before["units"] and set(before) == {"version",
                                                                                "units"}:
            repo.delete(UnitDirectoryRow, [loc_key])
        else:
            repo.put(UnitDirectoryRow(loc_key, row.locality, before))
        self._dirs.pop(loc_key, None)
        return True

    def _units_in_use(self, keys: set[str]) -> bool:
        """Whether a task, chat, request, invitation or announcement names one of ``keys``."""
        repo = self.repo
        return bool(
            repo.count_tasks(sorted(keys), open_only=False)
            or any(m.unit_key in keys for m in repo.all(Membership))
            or any(r.unit_key in keys for r in repo.all(JoinRequest))
            or any(i.unit_key in keys for i in repo.all(Invitation))
            or any(keys.intersection(a.unit_keys) for a in repo.all(ScheduledAnnouncement)))

    # -------------------------------------------------------------- task queries
    def task(self, code: object) -> StoredTask | None:
        """The task with this code ("17", "#17" or 17), or None."""
        task_id = _parse_code(code)
        return self.repo.task(task_id) if task_id is not None else None

    def count_tasks(self, keys: Iterable[str] | str) -> int:
        """``len(tasks_for_units(keys))`` without building the list."""
        return self.repo.count_tasks(_as_keys(keys), open_only=False)

    def tasks_for_units(self, keys: Iterable[str] | str, *,
                        lead_only: bool = False) -> list[StoredTask]:
        """Tasks naming any of ``keys`` (lead or support), by due date then code."""
        wanted = _as_keys(keys)
        tasks = self.repo.task_page(wanted, open_only=False)
        if lead_only:
            found = set(wanted)
            tasks = [t for t in tasks if found.intersection(t.lead)]
        return tasks

    def open_sequence(self, keys: Iterable[str] | str | None = None) -> TaskPages:
        """Open tasks of ``keys`` (None: all) like :meth:`open_tasks`, a page at a time."""
        return TaskPages(self.repo, _keys_or_none(keys))

    def count_open(self, keys: Iterable[str] | str | None = None, first: date | None = None,
                   last: date | None = None) -> int:
        """How many open tasks of ``keys`` fall due from ``first`` to ``last`` (None: open
        end; tasks without a date count only when ``last`` is None)."""
        return self.repo.count_tasks(_keys_or_none(keys), first=first, last=last)

    def open_slice(self, keys: Iterable[str] | str | None, start: int,
                   stop: int | None) -> list[StoredTask]:
        """``open_tasks(keys)[start:stop]`` without building the whole list."""
        return self.open_sequence(keys)[start:stop]

    def open_tasks(self, keys: Iterable[str] | str | None = None) -> list[StoredTask]:
        """Open tasks by due date (those without a date last)."""
        return self.repo.task_page(_keys_or_none(keys))

    def overdue(self, keys: Iterable[str] | str | None, today: date) -> list[StoredTask]:
        """Open tasks whose deadline has passed (due before ``today``), oldest first."""
        return self.repo.task_page(_keys_or_none(keys), last=today - timedelta(days=1))

    def upcoming(self, keys: Iterable[str] | str | None, today: date,
                 days: int) -> list[StoredTask]:
        """Open tasks due from ``today`` to ``today + days`` inclusive, soonest first."""
        if days < 0:
            raise UsageError("Số ngày phải từ 0 trở lên.")
        return self.repo.task_page(_keys_or_none(keys), first=today,
                                   last=today + timedelta(days=days))

    def search(self, query: str, keys: Iterable[str] | str | None = None, *,
               limit: int | None = None) -> list[StoredTask]:
        """Tasks whose text holds every word of ``query``, ignoring accents and case.

        Open tasks first, then by due date.
        """
        words = search_fold(query).split()
        if not words:
            raise UsageError("Hãy nhập từ cần tìm, ví dụ: /timkiem tiêm chủng.")
        return self.repo.search_tasks(words, _keys_or_none(keys), limit=limit)

    def documents(self) -> list[StoredDocument]:
        """All documents, most recently imported first."""
        return sorted(self.repo.all(StoredDocument), key=lambda d: (d.imported_at, d.id),
                      reverse=True)

    def document(self, doc_id: int) -> StoredDocument | None:
        return self.repo.get(StoredDocument, doc_id)

    def document_tasks(self, doc_id: int) -> list[StoredTask]:
        """The tasks of one document, in the order of the plan."""
        return self.repo.document_tasks(doc_id)

    @property
    def task_count(self) -> int:
        return self.repo.task_count()

    # -------------------------------------------------------------- units
    def units(self) -> list[StoredUnit]:
        """Every known unit, by locality then name."""
        return self.repo.units()

    def unit(self, key: str) -> StoredUnit | None:
        return self.repo.unit(key)

    def unit_name(self, key: str) -> str:
        """Display name for a unit key (the key itself if the unit is unknown)."""
        unit = self.repo.unit(key)
        return unit.name if unit else key

    def match_unit(self, query: str, locality: str | None = None) -> StoredUnit:
        """The unit a person means by ``query`` (accents, abbreviations and typos tolerated).

        "Phòng Y tế (Uông Bí)" picks the locality; a name found in several localities raises
        :class:`UnitNotFound` whose suggestions are such qualified names.
        """
        rows = {row.loc_key: row for row in self.repo.all(UnitDirectoryRow)}
        if locality is None:
            qualified = _TRAILING_LOCALITY_RE.match(query.strip())
            if qualified and locality_key(qualified.group(2)) in rows:
                query, locality = qualified.group(1), qualified.group(2)
        if locality is not None:
            row = rows.get(locality_key(locality))
            if row is None:
                raise UnitNotFound(f"Chưa có đơn vị nào thuộc «{quote(locality)}».")
            return self._stored(row.loc_key,
                                self._directory(row).match(query, row.locality))
        if not rows:
            raise UnitNotFound("Chưa có đơn vị nào: hãy nhập một kế hoạch trước.")
        if len(rows) == 1:
            row = next(iter(rows.values()))
            return self._stored(row.loc_key, self._directory(row).match(query, row.locality))

        exact = [(lk, u) for lk, row in rows.items()
                 if (u := self._resolve(row, query)) is not None]
        if len(exact) == 1:
            return self._stored(*exact[0])
        if exact:
            return self._ambiguous(query, exact)
        found: list[tuple[str, Unit]] = []
        suggestions: list[str] = []
        for loc_key, row in rows.items():
            try:
                found.append((loc_key, self._directory(row).match(query, row.locality)))
            except UnitNotFound as exc:
                suggestions.extend(f"{s} ({row.locality})" if row.locality else s
                                   for s in exc.suggestions)
        if len(found) == 1:
            return self._stored(*found[0])
        if found:
            return self._ambiguous(query, found)
        shown = quote(query)
        if suggestions:
            raise UnitNotFound(f"Không tìm thấy đơn vị «{shown}». Có phải: "
                               + "; ".join(suggestions) + "?", suggestions)
        raise UnitNotFound(f"Không tìm thấy đơn vị «{shown}».")

    def _resolve(self, row: UnitDirectoryRow, query: str) -> Unit | None:
        """:meth:`UnitDirectory.resolve` without building the directory when not cached."""
        cached = self._dirs.get(row.loc_key)
        if cached is not None and cached[0] == row.version:
            return cached[1].resolve(query, row.locality)
        key = unit_key(query, row.locality)
        stored = self.repo.unit(f"{row.loc_key}|{key}") if key else None
        return Unit(key, stored.name, stored.aliases, stored.generic) if stored else None

    def _stored(self, loc_key: str, unit: Unit) -> StoredUnit:
        stored = self.repo.unit(f"{loc_key}|{unit.key}")
        if stored is None:
            raise UnitNotFound(f"Không tìm thấy đơn vị «{unit.name}».")
        return stored

    def _ambiguous(self, query: str, hits: list[tuple[str, Unit]]) -> StoredUnit:
        labels = [self._stored(lk, u).label for lk, u in hits]
        raise UnitNotFound(
            f"Có {len(labels)} đơn vị «{' '.join(query.split())}» ở các địa bàn khác nhau. "
            "Hãy ghi rõ địa bàn: " + "; ".join(labels) + ".", labels)

    # -------------------------------------------------------------- task changes
    def _save_task(self, new: StoredTask) -> None:
        self.repo.put_tasks([new])

    @_atomic
    def mark_done(self, code: object, *, actor: int | None, now: datetime,
                  note: str | None = None) -> tuple[StoredTask, int]:
        """Mark a task done; returns it with the days it was late (0 when on time)."""
        _require_aware(now)
        task = self._require(code)
        if not task.is_open:
            when = f" ngày {_vn_date(task.done_at.date())}" if task.done_at else ""
            raise UsageError(f"Nhiệm vụ {task.code} đã được đánh dấu hoàn thành{when}.")
        days_late = max(0, (now.date() - task.due).days) if task.due else 0
        new = replace(task, status=DONE, done_at=now, done_by=actor, note=note)
        with self.repo.transaction():
            self._event(now, actor, "done", task_id=task.id, doc_id=task.doc_id,
                        due=task.due.isoformat() if task.due else None, days_late=days_late,
                        note=note)
            self._save_task(new)
        return new, days_late

    @_atomic
    def reopen(self, code: object, *, actor: int | None, now: datetime) -> StoredTask:
        """Undo a "done": the task is open again (the event keeps who had closed it)."""
        _require_aware(now)
        task = self._require(code)
        if task.is_open:
            raise UsageError(f"Nhiệm vụ {task.code} chưa được đánh dấu hoàn thành.")
        new = replace(task, status=OPEN, done_at=None, done_by=None, note=None)
        with self.repo.transaction():
            self._event(now, actor, "reopen", task_id=task.id, doc_id=task.doc_id,
                        done_at=task.done_at.isoformat() if task.done_at else None,
                        done_by=task.done_by, note=task.note)
            self._save_task(new)
        return new

    @_atomic
    def extend(self, code: object, new_due: date, *, actor: int | None, now: datetime,
               reason: str | None = None) -> StoredTask:
        """Move an open task's deadline (/giahan); the plan's date stays in ``original_due``."""
        _require_aware(now)
        task = self._require(code)
        if not task.is_open:
            raise UsageError(f"Nhiệm vụ {task.code} đã hoàn thành, không cần gia hạn.")
        if new_due < now.date():
            raise UsageError(f"Ngày gia hạn {_vn_date(new_due)} đã qua.")
        if new_due == task.due:
            raise UsageError(f"Nhiệm vụ {task.code} đã có hạn {_vn_date(new_due)}.")
        new = replace(task, due=new_due, due_kind="extended")
        with self.repo.transaction():
            self._event(now, actor, "extend", task_id=task.id, doc_id=task.doc_id,
                        old_due=task.due.isoformat() if task.due else None,
                        old_due_kind=task.due_kind, new_due=new_due.isoformat(),
                        reason=reason)
            self._save_task(new)
        return new

    def history(self, code: object) -> list[Event]:
        """Everything that happened to a task, oldest first."""
        task = self._require(code)
        return self.repo.task_history(task.id)

    def recent_events(self, limit: int = 20) -> list[Event]:
        """The latest events of any kind, newest first."""
        return self.repo.recent_events(limit)

    # -------------------------------------------------------------- chats
    def chat(self, chat_id: int) -> Chat | None:
        return self.repo.get(Chat, chat_id)

    def chats(self, *, active_only: bool = False) -> list[Chat]:
        return [c for c in self.repo.all(Chat) if c.active or not active_only]

    def chat_units(self, chat_id: int) -> tuple[str, ...]:
        chat = self.repo.get(Chat, chat_id)
        return chat.unit_keys if chat else ()

    def unit_chats(self, unit_key: str) -> list[Chat]:
        """Active chats that follow ``unit_key``."""
        return self.repo.unit_chats(unit_key)

    @_atomic
    def subscribe(self, chat_id: int, unit_key: str, *, title: str, chat_type: str,
                  actor: int | None, now: datetime, via: str = VIA_ADMIN, by_name: str = "",
                  granted_by: int | None = None, granted_by_name: str = "",
                  ref: int | None = None) -> Chat:
        """Make a chat a member of a unit (and reactivate it); no write when nothing changes.

        ``via`` says how (:data:`bot.records.VIAS`); ``actor``/``by_name`` who made it happen,
        ``granted_by`` the admin who invited or approved, ``ref`` the invitation or request.
        A pending request of the chat for the unit is settled (cancelled) in the same write.
        Rights are the caller's business (:mod:`bot.membership`).
        """
        _require_aware(now)
        self._require_unit(unit_key)
        member = Membership(0, chat_id, unit_key, now, actor, by_name, via, granted_by,
                            granted_by_name, ref)
        with self.repo.transaction():
            return self._stage_membership(member, title=title, chat_type=chat_type)

    def _stage_membership(self, member: Membership, *, title: str, chat_type: str) -> Chat:
        """Write a membership (its id assigned here) and its chat row, inside the caller's
        transaction; nothing when the chat is already an active member with the same
        title and type. Returns the chat."""
        repo = self.repo
        chat_id, unit_key, now = member.chat_id, member.unit_key, member.since
        old = repo.get(Chat, chat_id)
        subscribed = repo.memberships(chat_id=chat_id, unit_key=unit_key) != []
        keys = old.unit_keys if old else ()
        new = Chat(chat_id, title or (old.title if old else ""),
                   chat_type or (old.type if old else ""), True,
                   keys if subscribed else keys + (unit_key,))
        if new == old:
            return old
        repo.put(new)
        if not subscribed:
            member = replace(member, id=repo.next_id("subscriptions"))
            repo.put(member)
            self._event(now, member.by, "subscribe", chat_id=chat_id, unit=unit_key,
                        via=member.via)
            for request in self.join_requests(unit_key=unit_key, chat_id=chat_id):
                if not (member.via == VIA_REQUEST and request.id == member.ref):
                    repo.put(replace(request, status=CANCELLED, decided_at=now))
        found = repo.get(Chat, chat_id)
        assert found is not None
        return found

    @_atomic
    def unsubscribe(self, chat_id: int, unit_key: str, *, actor: int | None,
                    now: datetime, kind: str = "unsubscribe") -> Chat:
        """Take a chat out of a unit; the event is ``kind`` ("remove_member" for an admin's
        removal)."""
        _require_aware(now)
        repo = self.repo
        found = repo.memberships(chat_id=chat_id, unit_key=unit_key)
        if not found:
            chat = repo.get(Chat, chat_id)
            who = "Bạn" if chat is not None and chat.type == "private" else "Nhóm này"
            raise UsageError(f"{who} chưa theo dõi {self.unit_name(unit_key)}.")
        with repo.transaction():
            repo.delete(Membership, [found[0].id])
            self._event(now, actor, kind, chat_id=chat_id, unit=unit_key)
        chat = repo.get(Chat, chat_id)
        assert chat is not None
        return chat

    @_atomic
    def set_chat_active(self, chat_id: int, active: bool, reason: str | None,
                        now: datetime) -> Chat | None:
        """Mark a chat (in)active, e.g. when the bot is removed or blocked; None if unknown."""
        _require_aware(now)
        chat = self.repo.get(Chat, chat_id)
        if chat is None or chat.active == active:
            return chat
        new = replace(chat, active=active)
        with self.repo.transaction():
            self.repo.put(new)
            self._event(now, None, "chat_active", chat_id=chat_id, active=active, reason=reason)
        return new

    @_atomic
    def migrate_chat(self, old_id: int, new_id: int, now: datetime) -> Chat | None:
        """A group became a supergroup (new id): move its memberships, reminders, requests,
        the last day its digest went out and the reminders it is owed ("nhắc bù"), so the new
        chat neither gets a day's reminders twice nor loses owed ones. Every caller (the
        service message, the dispatcher's "chat migrated" answer) gets all of it. Idempotent;
        returns the new chat, or None when the old one was not (or no longer is) known."""
        _require_aware(now)
        repo = self.repo
        old = repo.get(Chat, old_id)
        if old_id == new_id:
            return old
        requests = [replace(r, chat_id=new_id, chat_type="supergroup")
                    for r in self.join_requests(chat_id=old_id)]
        if old is None:  # a group that only asked to join a unit: its requests follow
            if requests:
                repo.put(*requests)
            self._carry_digests(old_id, new_id)
            return None
        target = repo.get(Chat, new_id)
        keys = target.unit_keys if target else ()
        keys += tuple(k for k in old.unit_keys if k not in keys)
        new = Chat(new_id, old.title or (target.title if target else ""), "supergroup", True,
                   keys)
        with repo.transaction():
            memberships = repo.memberships(chat_id=old_id)
            taken = {m.unit_key for m in repo.memberships(chat_id=new_id)}
            repo.delete(Membership, [m.id for m in memberships])
            repo.delete(Chat, [old_id])
            repo.put(new)
            moved = [replace(m, chat_id=new_id) for m in memberships if m.unit_key not in taken]
            if moved:
                repo.put(*moved)
            reminders = [replace(r, chat_id=new_id)
                         for r in repo.unsent_reminders(chat_id=old_id)]
            if reminders:
                repo.put(*reminders)
            if requests:
                repo.put(*requests)
            self._carry_digests(old_id, new_id)
            self._event(now, None, "chat_migrate", chat_id=new_id, old_chat_id=old_id)
        logger.info("chat %s migrated to %s", old_id, new_id)
        return repo.get(Chat, new_id)

    def _carry_digests(self, old_id: int, new_id: int) -> None:
        """Inside migrate_chat's transaction: the old id's digest day and owed digest go to
        the new id (the later day, the earlier owed day win when both have one)."""
        repo = self.repo
        run, owed = repo.get(DigestRun, old_id), repo.get(OwedDigest, old_id)
        if run is not None:
            there = repo.get(DigestRun, new_id)
            if there is None or there.day < run.day:
                repo.put(DigestRun(new_id, run.day, run.at))
            repo.delete(DigestRun, [old_id])
        if owed is not None:
            there_owed = repo.get(OwedDigest, new_id)
            if there_owed is None:
                repo.put(replace(owed, chat_id=new_id))
            elif owed.since < there_owed.since:
                repo.put(replace(there_owed, since=owed.since))
            repo.delete(OwedDigest, [old_id])

    # -------------------------------------------------------------- delivery log
    def delivery(self, key: str) -> Delivery | None:
        return self.repo.get(Delivery, key)

    def delivery_status(self, key: str) -> str | None:
        """Status recorded for a reminder key ("sent", "failed"...), None if never tried."""
        found = self.repo.get(Delivery, key)
        return found.status if found else None

    def claim_delivery(self, key: str, *, chat_id: int | None, now: datetime) -> bool:
        """True only for the first claimer of ``key`` (see the repository's contract)."""
        _require_aware(now)
        return self.repo.claim_delivery(key, chat_id=chat_id, now=now)

    @_atomic
    def record_delivery(self, key: str, *, chat_id: int | None, status: str, now: datetime,
                        detail: str | None = None) -> Delivery:
        """Record (or overwrite) the outcome of delivering reminder ``key``."""
        _require_aware(now)
        delivery = Delivery(key, chat_id, status, now, detail)
        self.repo.record_delivery(delivery)
        return delivery

    @_atomic
    def forget_deliveries(self, before: datetime) -> int:
        """Drop delivery records older than ``before`` (keeps the file small); one write."""
        old = [d.key for d in self.repo.all(Delivery) if d.at < before]
        return self.repo.delete(Delivery, old) if old else 0

    def prune(self, before: datetime) -> PruneCounts:
        """Delivery records and events older than ``before`` (see the repository)."""
        _require_aware(before)
        return self.repo.prune(before)

    # -------------------------------------------------------------- announcements
    @_atomic
    def log_announcement(self, text: str, *, actor: int | None, now: datetime,
                         chat_ids: Iterable[int] = (), unit_keys: Iterable[str] = (),
                         failed: Iterable[int] = ()) -> Announcement:
        """Keep a record of a broadcast message and where it went."""
        _require_aware(now)
        with self.repo.transaction():
            item = Announcement(self.repo.next_id("announcements"), now, actor, text,
                                tuple(chat_ids), tuple(unit_keys), tuple(failed))
            self.repo.put(item)
        return item

    def announcements(self) -> list[Announcement]:
        return self.repo.all(Announcement)

    # -------------------------------------------------------------- one-off reminders
    @_atomic
    def add_reminder(self, code: object, chat_id: int, at: datetime, actor: int | None,
                     now: datetime) -> Reminder:
        """Remind ``chat_id`` of a task at ``at`` (aware, in the future)."""
        _require_aware(now)
        _require_aware(at)
        task = self._require(code)
        if at <= now:
            raise UsageError(f"Thời điểm nhắc {at.strftime('%H:%M %d/%m/%Y')} đã qua.")
        with self.repo.transaction():
            reminder = Reminder(self.repo.next_id("reminders"), task.id, chat_id, at, actor,
                                now)
            self.repo.put(reminder)
            self._event(now, actor, "reminder", task_id=task.id, doc_id=task.doc_id,
                        chat_id=chat_id, at=at.isoformat())
        return reminder

    def due_reminders(self, until: datetime) -> list[Reminder]:
        """Unsent reminders whose time is at or before ``until``, earliest first."""
        _require_aware(until)
        return self.repo.unsent_reminders(until=until)

    @_atomic
    def mark_reminder_sent(self, reminder_id: int, now: datetime) -> Reminder:
        _require_aware(now)
        reminder = self.repo.get(Reminder, reminder_id)
        if reminder is None:
            raise UsageError(f"Không có lời nhắc mã {reminder_id}.")
        if reminder.sent_at is not None:
            return reminder
        sent = replace(reminder, sent_at=now)
        self.repo.put(sent)
        return sent

    # -------------------------------------------------------------- statistics
    def stats(self, today: date, keys: Iterable[str] | str | None = None) -> list[UnitStats]:
        """Per lead unit: done on time, done late, not yet due, overdue and still open.

        A task counts once for each of its lead units. With ``keys``, those units in that
        order (zeros included); otherwise every unit that leads a task, by name.
        """
        wanted = None if keys is None else _as_keys(keys)
        counts = self.repo.lead_stats(today, wanted)
        order = wanted if wanted is not None else list(counts)
        result = [UnitStats(self.repo.unit(key) or StoredUnit(key, key, None),
                            *counts.get(key, (0, 0, 0, 0)))
                  for key in order]
        if wanted is None:
            result.sort(key=lambda s: (fold(s.unit.locality or ""), fold(s.unit.name)))
        return result

    # -------------------------------------------------------------- snoozes
    @_atomic
    def snooze(self, code: object, until: date, *, actor: int | None,
               now: datetime) -> StoredTask:
        """Pause a task's reminders until ``until`` (they resume that day); an event is logged."""
        _require_aware(now)
        task = self._require(code)
        if not task.is_open:
            raise UsageError(f"Nhiệm vụ {task.code} đã hoàn thành, không cần hoãn nhắc.")
        if isinstance(until, datetime):
            until = until.date()
        today = now.date()
        if until <= today:
            raise UsageError(f"Ngày hoãn nhắc {_vn_date(until)} phải sau hôm nay "
                             f"({_vn_date(today)}).")
        if (until - today).days > self.MAX_SNOOZE_DAYS:
            raise UsageError(f"Chỉ hoãn nhắc được tối đa {self.MAX_SNOOZE_DAYS} ngày.")
        with self.repo.transaction():
            self.repo.put(Snooze(task.id, until, actor, now))
            self._event(now, actor, "snooze", task_id=task.id, doc_id=task.doc_id,
                        until=until.isoformat())
        return task

    @_atomic
    def unsnooze(self, code: object, *, actor: int | None, now: datetime) -> bool:
        """Resume a snoozed task's reminders now; False when it was not snoozed."""
        _require_aware(now)
        task = self._require(code)
        if self.repo.get(Snooze, task.id) is None:
            return False
        with self.repo.transaction():
            self.repo.delete(Snooze, [task.id])
            self._event(now, actor, "unsnooze", task_id=task.id, doc_id=task.doc_id)
        return True

    def snoozes(self) -> dict[int, date]:
        """Task id -> the day its reminders resume, for tasks that still exist."""
        items = self.repo.all(Snooze)
        alive = {t.id for t in self.repo.tasks(s.task_id for s in items)}
        return {s.task_id: s.until for s in items if s.task_id in alive}

    # -------------------------------------------------------------- digest runs
    def digest_source(self, chat_ids: Iterable[int] | None = None) -> DigestSource:
        """What one digest run reads, in one repository call."""
        return self.repo.digest_source(chat_ids)

    def _runs(self) -> dict[int, date]:
        return {r.chat_id: r.day for r in self.repo.all(DigestRun)}

    @_atomic
    def record_digest_run(self, day: date, chat_ids: Iterable[int], *, now: datetime,
                          undelivered: Mapping[int, tuple[str, int, datetime | None]]
                          | None = None) -> None:
        """Remember that ``day``'s digest went out (for ``chat_ids``); one write.

        The per-chat day is what missed reminders are counted from after downtime; the
        run row answers "was today's digest sent?" for the catch-up at start.
        ``undelivered`` maps each chat whose digest did not surely arrive to (reason, tries,
        retry_at): the chat owes its reminders from the first day it may lack (kept from an
        earlier miss, else the day after its last digest, else ``day``) until a digest of it
        goes out in full; a chat in ``chat_ids`` owes nothing any more.
        """
        _require_aware(now)
        runs = self._runs()
        owed = {o.chat_id: o for o in self.repo.all(OwedDigest)}
        changed = {0: day} if runs.get(0) is None or runs[0] < day else {}
        delivered = set()
        for chat_id in chat_ids:
            if chat_id == 0:
                continue
            delivered.add(chat_id)
            if runs.get(chat_id) is None or runs[chat_id] < day:
                changed[chat_id] = day
        cleared = [c for c in delivered if c in owed]
        new_owed: dict[int, OwedDigest] = {}
        for chat_id, (reason, tries, retry_at) in (undelivered or {}).items():
            if chat_id == 0 or chat_id in delivered:
                continue
            before = owed.get(chat_id)
            last = runs.get(chat_id)
            since = (before.since if before is not None
                     else last + timedelta(days=1) if last is not None and last < day else day)
            new_owed[chat_id] = OwedDigest(chat_id, min(since, day), day, reason, tries,
                                           retry_at, now)
        if not changed and not cleared and not new_owed:
            return
        with self.repo.transaction():
            self.repo.put(*(DigestRun(c, d, now) for c, d in changed.items()),
                          *new_owed.values())
            if cleared:
                self.repo.delete(OwedDigest, cleared)

    @_atomic
    def owe_digests(self, chat_ids: Iterable[int], since: date, *, reason: str,
                    now: datetime) -> None:
        """Chats that had no digest from ``since`` on (the bot was down) owe its reminders;
        a chat already owing keeps its earlier day. One write (none when nothing changes)."""
        _require_aware(now)
        owed = {o.chat_id: o for o in self.repo.all(OwedDigest)}
        new = [OwedDigest(c, since, since, reason, 1, None, now) for c in dict.fromkeys(chat_ids)
               if c != 0 and (c not in owed or owed[c].since > since)]
        if new:
            self.repo.put(*new)

    def digest_days(self) -> dict[int, date]:
        """Chat id -> the last day a digest was delivered (or found empty) for it."""
        return {c: d for c, d in self._runs().items() if c != 0}

    def digest_owed(self) -> dict[int, OwedDigest]:
        """Chat id -> :class:`bot.records.OwedDigest` for chats whose digest did not surely
        arrive (failed, uncertain or undeliverable) and has not gone out since."""
        return {o.chat_id: o for o in self.repo.all(OwedDigest)}

    def digest_missed_since(self) -> dict[int, date]:
        """Chat id -> the day after which its reminders are still owed, for the next digest:
        the last day its digest went out, or the day before its first owed day (also for a
        chat that never had a digest)."""
        out = self.digest_days()
        for item in self.repo.all(OwedDigest):
            before = item.since - timedelta(days=1)
            out[item.chat_id] = min(before, out.get(item.chat_id, before))
        return out

    def last_digest_run(self) -> date | None:
        """The last day the digest job completed, or None if it never ran."""
        run = self.repo.get(DigestRun, 0)
        return run.day if run else None

    # -------------------------------------------------------------- scheduled announcements
    @_atomic
    def schedule_announcement(self, text: str, unit_keys: Iterable[str], at: datetime, *,
                              actor: int | None, now: datetime) -> int:
        """Plan a broadcast for ``at`` (to chats following ``unit_keys``; none = every chat)."""
        _require_aware(now)
        _require_aware(at)
        text = (text or "").strip()
        if not text:
            raise UsageError("Nội dung thông báo đang trống.")
        if utf16_len(text) > self.MAX_ANNOUNCEMENT_CHARS:  # Telegram's count: emoji are 2
            raise UsageError(f"Thông báo dài {utf16_len(text)} ký tự; tối đa "
                             f"{self.MAX_ANNOUNCEMENT_CHARS} ký tự.")
        if at <= now:
            raise UsageError(f"Thời điểm gửi {at.strftime('%H:%M %d/%m/%Y')} đã qua.")
        keys = tuple(_as_keys(unit_keys))
        unknown = [k for k in keys if self.repo.unit(k) is None]
        if unknown:
            raise UsageError(f"Không có đơn vị «{quote(unknown[0])}» trong danh bạ.")
        with self.repo.transaction():
            item = ScheduledAnnouncement(self.repo.next_id("scheduled"), text, keys, at, actor,
                                         now, by_name=actor_fields(self.repo, actor, None)
                                         .get("by_name", ""))
            self.repo.put(item)
            self._event(now, actor, "schedule_announcement", announcement_id=item.id,
                        at=at.isoformat(), units=list(keys))
        return item.id

    def scheduled_announcement(self, announcement_id: int) -> ScheduledAnnouncement | None:
        """The scheduled announcement with this id, or None."""
        return self.repo.get(ScheduledAnnouncement, announcement_id)

    def scheduled_announcements(self, *, pending_only: bool = True,
                                ) -> list[ScheduledAnnouncement]:
        """Scheduled announcements, earliest first."""
        items = self.repo.all(ScheduledAnnouncement)
        return sorted((a for a in items if a.pending or not pending_only),
                      key=lambda a: (a.at, a.id))

    def due_announcements(self, until: datetime) -> list[ScheduledAnnouncement]:
        """Pending announcements whose time is at or before ``until``, earliest first."""
        _require_aware(until)
        return [a for a in self.scheduled_announcements() if a.at <= until]

    @_atomic
    def _finish_announcement(self, announcement_id: int, now: datetime, *, actor: int | None,
                             cancel: bool) -> ScheduledAnnouncement:
        _require_aware(now)
        item = self.repo.get(ScheduledAnnouncement, announcement_id)
        if item is None:
            raise UsageError(f"Không có thông báo hẹn giờ mã {announcement_id}.")
        if not item.pending:
            if cancel:
                raise UsageError(f"Thông báo hẹn giờ mã {announcement_id} đã được gửi hoặc "
                                 "đã bị huỷ.")
            return item
        new = replace(item, cancelled_at=now) if cancel else replace(item, sent_at=now)
        with self.repo.transaction():
            self.repo.put(new)
            if cancel:
                self._event(now, actor, "cancel_announcement", announcement_id=new.id)
        return new

    def mark_announcement_sent(self, announcement_id: int, now: datetime,
                               ) -> ScheduledAnnouncement:
        """Mark a scheduled announcement as sent (idempotent)."""
        return self._finish_announcement(announcement_id, now, actor=None, cancel=False)

    def cancel_announcement(self, announcement_id: int, *, actor: int | None,
                            now: datetime) -> ScheduledAnnouncement:
        """Cancel a pending scheduled announcement."""
        return self._finish_announcement(announcement_id, now, actor=actor, cancel=True)

    # -------------------------------------------------------------- memberships
    def membership(self, chat_id: int, unit_key: str) -> Membership | None:
        """How ``chat_id`` belongs to ``unit_key``, or None."""
        found = self.repo.memberships(chat_id=chat_id, unit_key=unit_key)
        return found[0] if found else None

    def membership_by_id(self, membership_id: int) -> Membership | None:
        return self.repo.get(Membership, membership_id)

    def members(self, unit_key: str) -> list[Membership]:
        """Every chat that belongs to ``unit_key`` (inactive ones too), oldest first."""
        return self.repo.memberships(unit_key=unit_key)

    @_atomic
    def remove_member(self, membership_id: int, *, actor: int | None,
                      now: datetime) -> Membership:
        """Take a chat out of a unit (an admin's decision); logged as "remove_member"."""
        member = self.membership_by_id(membership_id)
        if member is None:
            raise UsageError("Thành viên này đã được đưa ra khỏi đơn vị trước đó.")
        self.unsubscribe(member.chat_id, member.unit_key, actor=actor, now=now,
                         kind="remove_member")
        return member

    @_atomic
    def upgrade_memberships(self, admin_ids: Iterable[int], now: datetime) -> tuple[int, int]:
        """Give the subscriptions of an older version their place; returns (kept, demoted).

        Before memberships, any private chat could follow any unit and "following" was the
        right to act. Kept: subscriptions made by a bot admin (``admin_ids``) and those of
        groups (only group administrators and bot admins could bind a group). Self-made
        private subscriptions become pending requests (origin "upgrade", dated when they were
        made): the chat no longer belongs to the unit until an admin approves. Idempotent:
        upgraded rows carry ``via``; one write, none when there is nothing to upgrade.
        """
        _require_aware(now)
        admins = set(admin_ids)
        repo = self.repo
        legacy = sorted((m for m in repo.all(Membership) if not m.via), key=lambda m: m.id)
        if not legacy:
            return 0, 0
        kept = demoted = 0
        with repo.transaction():
            for member in legacy:
                chat = repo.get(Chat, member.chat_id)
                assert chat is not None
                group = chat.type in ("group", "supergroup") or chat.id < 0
                if member.by in admins or group:
                    via = VIA_LEGACY_ADMIN if member.by in admins else VIA_LEGACY_GROUP
                    repo.put(replace(member, via=via))
                    kept += 1
                    continue
                repo.delete(Membership, [member.id])
                repo.put(JoinRequest(repo.next_id("requests"), chat.id, member.unit_key,
                                     chat.title, chat.type or "private", member.by,
                                     chat.title, member.since, origin=ORIGIN_UPGRADE))
                demoted += 1
            self._event(now, None, "membership_upgrade", kept=kept, demoted=demoted)
        logger.info("memberships upgraded: %d kept, %d became requests", kept, demoted)
        return kept, demoted

    # -------------------------------------------------------------- invitations
    @_atomic
    def create_invitation(self, unit_key: str, *, actor: int | None, actor_name: str,
                          now: datetime, ttl: timedelta) -> Invitation:
        """A new open invitation to ``unit_key``, valid for ``ttl``."""
        _require_aware(now)
        self._require_unit(unit_key)
        if ttl <= timedelta(0):
            raise ValueError("an invitation needs a positive lifetime")
        with self.repo.transaction():
            item = Invitation(self.repo.next_id("invitations"), unit_key, actor, actor_name,
                              now, now + ttl, secrets.token_hex(8))
            self.repo.put(item)
            self._event(now, actor, "invite", unit=unit_key, invitation=item.id,
                        expires_at=item.expires_at.isoformat())
        return item

    def invitation(self, invite_id: int) -> Invitation | None:
        return self.repo.get(Invitation, invite_id)

    def invitations(self, *, now: datetime, open_only: bool = True,
                    unit_key: str | None = None) -> list[Invitation]:
        """Invitations (open ones only by default), oldest first."""
        return [i for i in self.repo.all(Invitation)
                if (not open_only or i.status(now) == "open")
                and (unit_key is None or i.unit_key == unit_key)]

    def _open_invitation(self, invite_id: int, now: datetime) -> Invitation:
        item = self.invitation(invite_id)
        if item is None:
            raise UsageError(f"Không có lời mời mã {invite_id}.")
        status = item.status(now)
        if status != "open":
            raise UsageError(f"Lời mời mã {invite_id} {_INVITE_STATES[status]}.")
        return item

    @_atomic
    def revoke_invitation(self, invite_id: int, *, actor: int | None,
                          now: datetime) -> Invitation:
        """Make an open invitation unusable."""
        _require_aware(now)
        item = self._open_invitation(invite_id, now)
        revoked = replace(item, revoked_at=now, revoked_by=actor)
        with self.repo.transaction():
            self.repo.put(revoked)
            self._event(now, actor, "invite_revoke", unit=item.unit_key, invitation=item.id)
        return revoked

    @_atomic
    def accept_invitation(self, invite_id: int, *, chat_id: int, title: str, chat_type: str,
                          user_id: int | None, user_name: str, now: datetime) -> Membership:
        """Use an open invitation: the chat becomes a member; one write.

        The link's signature is checked before (:func:`bot.membership.verify_invitation`);
        here only the row's own state (open, chat not yet a member) is enforced.
        """
        _require_aware(now)
        item = self._open_invitation(invite_id, now)
        self._require_unit(item.unit_key)
        if self.membership(chat_id, item.unit_key) is not None:
            raise UsageError(f"Cuộc trò chuyện này đã là thành viên của "
                             f"{self.unit_name(item.unit_key)}.")
        used = replace(item, used_at=now, used_by=user_id, used_by_name=user_name,
                       used_chat=chat_id)
        member = Membership(0, chat_id, item.unit_key, now, user_id, user_name, VIA_INVITE,
                            item.created_by, item.created_by_name, item.id)
        with self.repo.transaction():
            self.repo.put(used)
            self._stage_membership(member, title=title, chat_type=chat_type)
        found = self.membership(chat_id, item.unit_key)
        assert found is not None
        return found

    # -------------------------------------------------------------- requests
    @_atomic
    def request_membership(self, chat_id: int, unit_key: str, *, title: str, chat_type: str,
                           user_id: int | None, user_name: str,
                           now: datetime) -> tuple[JoinRequest, bool]:
        """File a pending request; ``(request, False)`` when one is pending already."""
        _require_aware(now)
        self._require_unit(unit_key)
        if self.membership(chat_id, unit_key) is not None:
            raise UsageError(f"Cuộc trò chuyện này đã là thành viên của "
                             f"{self.unit_name(unit_key)}.")
        for request in self.join_requests(unit_key=unit_key, chat_id=chat_id):
            return request, False
        with self.repo.transaction():
            request = JoinRequest(self.repo.next_id("requests"), chat_id, unit_key, title,
                                  chat_type, user_id, user_name, now, origin=ORIGIN_DANGKY)
            self.repo.put(request)
            self._event(now, user_id, "request", chat_id=chat_id, unit=unit_key,
                        request=request.id)
        return request, True

    def join_request(self, request_id: int) -> JoinRequest | None:
        return self.repo.get(JoinRequest, request_id)

    def join_requests(self, *, pending_only: bool = True, unit_key: str | None = None,
                      chat_id: int | None = None) -> list[JoinRequest]:
        """Requests (pending ones only by default), oldest first."""
        return [r for r in self.repo.all(JoinRequest)
                if (not pending_only or r.pending)
                and (unit_key is None or r.unit_key == unit_key)
                and (chat_id is None or r.chat_id == chat_id)]

    @_atomic
    def decide_request(self, request_id: int, *, approve: bool, actor: int | None,
                       actor_name: str, now: datetime) -> JoinRequest:
        """Approve (the chat becomes a member, same write) or refuse a pending request."""
        _require_aware(now)
        request = self.join_request(request_id)
        if request is None:
            raise UsageError(f"Không có yêu cầu mã {request_id}.")
        if not request.pending:
            by = f" bởi {request.decided_by_name}" if request.decided_by_name else ""
            raise UsageError(f"Yêu cầu mã {request_id} đã {_DECIDED[request.status]}"
                             f"{by} trước đó.")
        decided = replace(request, status=APPROVED if approve else REFUSED, decided_at=now,
                          decided_by=actor, decided_by_name=actor_name)
        if approve:
            self._require_unit(request.unit_key)
        with self.repo.transaction():
            self.repo.put(decided)
            self._event(now, actor, "request_approve" if approve else "request_refuse",
                        chat_id=request.chat_id, unit=request.unit_key, request=request.id)
            if approve:
                member = Membership(0, request.chat_id, request.unit_key, now,
                                    request.user_id, request.user_name, VIA_REQUEST, actor,
                                    actor_name, request.id)
                self._stage_membership(member, title=request.chat_title,
                                       chat_type=request.chat_type)
        return decided
