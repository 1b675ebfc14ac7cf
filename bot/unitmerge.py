"""Merging two units that are one department (issue 10, /gopdonvi).

The same department may enter the directory twice — "Phòng Y tế (Quảng Ninh)" from one
plan, "Phòng Y tế (Cẩm Phả)" from another. :func:`merge_units` folds the source into the
target in ONE repository transaction:

* tasks: the source leaves their lead/support keys for the target (once; a task that named
  both keeps the target once, lead before support) and their fingerprint follows the new
  lead, so a later version of the plan still recognises them;
* memberships: a chat of the source becomes a chat of the target, keeping its row (who, how,
  since); a chat already in both keeps only its target membership (no duplicate);
* pending join requests for the source ask for the target (cancelled when the chat is a
  member of the target or already asks for it); open invitations to the source are revoked
  (their signed link names the source); pending scheduled announcements for the source go
  to the target;
* the unit directory: the source leaves its locality's directory and becomes an alias there
  (``"merged": {unit key: target scoped key}``), so future imports that name it land on the
  target (:meth:`bot.tracking.Tracker.import_plan`); earlier aliases pointing at the source
  point at the target.

Reminders, snoozes and digests belong to tasks and chats, whose ids do not change. The
change is logged as a "unit_merge" event with counts and the admin's name; undoing an
import made before the merge maps the source to the target (``undo_import``).
Rights are the caller's business: only bot admins (:func:`bot.membership.check_admin`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from bot.errors import UsageError
from bot.records import (
    CANCELLED,
    Event,
    Invitation,
    JoinRequest,
    Membership,
    ScheduledAnnouncement,
    StoredTask,
    StoredUnit,
)
from bot.repository import Repository, UnitDirectoryRow
from bot.tracking import Tracker, fingerprint

__all__ = ["MergePlan", "merge_units", "plan_merge"]


@dataclass(frozen=True, slots=True)
class MergePlan:
    """What a merge of ``source`` into ``target`` moves (or moved)."""

    source: StoredUnit
    target: StoredUnit
    tasks: int = 0
    """Tasks naming the source (lead or support)."""
    memberships: int = 0
    """Chats that move to the target."""
    duplicates: int = 0
    """Chats already in the target: their source membership goes."""
    requests: int = 0
    """Pending requests for the source (retargeted or cancelled)."""
    invitations: int = 0
    """Open invitations to the source (revoked)."""
    announcements: int = 0
    """Pending scheduled announcements naming the source."""


def _units(repo: Repository, source_key: str, target_key: str) -> tuple[StoredUnit, StoredUnit]:
    if source_key == target_key:
        raise UsageError("Đơn vị nguồn và đơn vị đích là cùng một đơn vị; không có gì để gộp.")
    source, target = repo.unit(source_key), repo.unit(target_key)
    if source is None:
        raise UsageError("Đơn vị nguồn không còn trong danh bạ (có thể đã được gộp trước đó).")
    if target is None:
        raise UsageError("Đơn vị đích không còn trong danh bạ (có thể đã được gộp vào đơn vị "
                         "khác).")
    return source, target


def _renamed(task: StoredTask, source: str, target: str) -> StoredTask:
    lead = tuple(dict.fromkeys(target if k == source else k for k in task.lead))
    support = tuple(k for k in dict.fromkeys(target if k == source else k for k in task.support)
                    if k not in lead)
    return replace(task, lead=lead, support=support, fingerprint=fingerprint(task.text, lead))


def _collect(repo: Repository, source: str, target: str, now: datetime) -> dict[str, Any]:
    """Every row the merge changes, read (inside the caller's transaction when merging)."""
    in_target = {m.chat_id for m in repo.memberships(unit_key=target)}
    members = repo.memberships(unit_key=source)
    requests = [r for r in repo.all(JoinRequest) if r.pending and r.unit_key == source]
    return {
        "tasks": repo.task_page([source], open_only=False),
        "moved": [m for m in members if m.chat_id not in in_target],
        "dropped": [m for m in members if m.chat_id in in_target],
        "in_target": in_target,
        "requests": requests,
        "invitations": [i for i in repo.all(Invitation) if i.unit_key == source
                        and i.status(now) == "open"],
        "announcements": [a for a in repo.all(ScheduledAnnouncement)
                          if a.pending and source in a.unit_keys],
    }


def _plan(source: StoredUnit, target: StoredUnit, rows: dict[str, Any]) -> MergePlan:
    return MergePlan(source, target, len(rows["tasks"]), len(rows["moved"]),
                     len(rows["dropped"]), len(rows["requests"]), len(rows["invitations"]),
                     len(rows["announcements"]))


def plan_merge(store: Tracker, source_key: str, target_key: str, now: datetime) -> MergePlan:
    """What :func:`merge_units` would move now (for the confirmation); changes nothing."""
    source, target = _units(store.repo, source_key, target_key)
    return _plan(source, target, _collect(store.repo, source_key, target_key, now))


def merge_units(store: Tracker, source_key: str, target_key: str, *, actor: int | None,
                by_name: str, now: datetime) -> MergePlan:
    """Fold the unit ``source_key`` into ``target_key`` (see the module); one transaction.
    Returns what moved. UsageError (Vietnamese) when either unit is unknown or they are one."""
    if now.tzinfo is None:
        raise ValueError("the store needs timezone-aware datetimes")
    repo = store.repo
    with repo.transaction():
        source, target = _units(repo, source_key, target_key)
        rows = _collect(repo, source_key, target_key, now)
        if rows["tasks"]:
            repo.put_tasks([_renamed(t, source_key, target_key) for t in rows["tasks"]])
        if rows["dropped"]:
            repo.delete(Membership, [m.id for m in rows["dropped"]])
        if rows["moved"]:
            repo.put(*(replace(m, unit_key=target_key) for m in rows["moved"]))
        asking = {r.chat_id for r in repo.all(JoinRequest)
                  if r.pending and r.unit_key == target_key}
        members = rows["in_target"] | {m.chat_id for m in rows["moved"]}
        for request in rows["requests"]:
            if request.chat_id in members or request.chat_id in asking:
                repo.put(replace(request, status=CANCELLED, decided_at=now))
            else:
                repo.put(replace(request, unit_key=target_key))
                asking.add(request.chat_id)
        for invitation in rows["invitations"]:
            repo.put(replace(invitation, revoked_at=now, revoked_by=actor))
        for item in rows["announcements"]:
            keys = tuple(dict.fromkeys(target_key if k == source_key else k
                                       for k in item.unit_keys))
            repo.put(replace(item, unit_keys=keys))
        _alias(repo, source_key, target_key)
        plan = _plan(source, target, rows)
        repo.put(Event(repo.next_id("events"), now, actor, "unit_merge", None, None, {
            "source": source_key, "target": target_key, "source_name": source.label,
            "target_name": target.label, "tasks": plan.tasks, "memberships": plan.memberships,
            "duplicates": plan.duplicates, "requests": plan.requests,
            "invitations": plan.invitations, "announcements": plan.announcements,
            "by_name": by_name}))
    return plan


def _alias(repo: Repository, source_key: str, target_key: str) -> None:
    """The source leaves its directory and becomes an alias of the target there; aliases
    that pointed at the source follow (inside the caller's transaction)."""
    loc_key, _, key = source_key.partition("|")
    for row in repo.all(UnitDirectoryRow):
        directory = dict(row.directory)
        merged = dict(directory.get("merged") or {})
        changed = False
        for alias, goal in merged.items():
            if goal == source_key:
                merged[alias] = target_key
                changed = True
        if row.loc_key == loc_key:
            directory["units"] = [u for u in directory.get("units", ()) if u["key"] != key]
            merged[key] = target_key
            changed = True
        if changed:
            directory["merged"] = merged
            repo.put(UnitDirectoryRow(row.loc_key, row.locality, directory))
