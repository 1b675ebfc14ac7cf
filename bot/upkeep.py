"""Upkeep rules (issues 10 and 11): pending one-off reminders and scheduled announcements a
chat can list and cancel, the nightly pruning of old rows, and the throttle of error reports
to the admins.

Rules over :class:`bot.store.Store` (its ``repo``), each one repository transaction whose
reads of the rows it writes happen inside it; everything they change is logged as an
:class:`bot.records.Event` naming the actor (``by_name`` in its data). No Telegram here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from bot.errors import NotAllowed, UsageError
from bot.membership import Actor, check_admin
from bot.records import Event, Reminder, ScheduledAnnouncement
from bot.repository import PruneCounts

__all__ = ["ErrorThrottle", "cancel_announcement", "cancel_reminder",
           "pending_announcements", "pending_reminders", "prune_old"]

REPORT_EVERY = timedelta(minutes=10)
"""At most one error report to the admins per exception type in this span."""


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")


def _event(store: Any, now: datetime, actor: int | None, kind: str, *,
           task_id: int | None = None, doc_id: int | None = None, **data: Any) -> Event:
    repo = store.repo
    event = Event(repo.next_id("events"), now, actor, kind, task_id, doc_id, data)
    repo.put(event)
    return event


# ------------------------------------------------------------------------------------------
# One-off reminders (/nhacnho without arguments)
# ------------------------------------------------------------------------------------------
def pending_reminders(store: Any, chat_id: int) -> list[Reminder]:
    """This chat's reminders not sent yet, earliest first."""
    return list(store.repo.unsent_reminders(chat_id=chat_id))


def cancel_reminder(store: Any, reminder_id: int, actor: Actor, now: datetime) -> Reminder:
    """Delete a pending reminder: only from the chat that set it, or by a bot admin. The
    cancellation is an event of the task (``cancel_reminder``, with who and the time)."""
    _require_aware(now)
    repo = store.repo
    with repo.transaction():
        reminder = repo.get(Reminder, reminder_id)
        if reminder is None or reminder.sent_at is not None:
            raise UsageError("Lời nhắc này không còn chờ gửi (đã gửi hoặc đã bị hủy).")
        if reminder.chat_id != actor.chat_id and not actor.admin:
            raise NotAllowed("Chỉ cuộc trò chuyện đã đặt lời nhắc (hoặc quản trị viên bot) "
                             "mới được hủy lời nhắc này.")
        task = repo.task(reminder.task_id)
        repo.delete(Reminder, [reminder.id])
        _event(store, now, actor.user_id, "cancel_reminder", task_id=reminder.task_id,
               doc_id=task.doc_id if task else None, reminder_id=reminder.id,
               chat_id=reminder.chat_id, at=reminder.at.isoformat(), by_name=actor.user_name,
               from_chat=actor.chat_id)
    return reminder


# ------------------------------------------------------------------------------------------
# Scheduled announcements (/thongbao without arguments)
# ------------------------------------------------------------------------------------------
def pending_announcements(store: Any, actor: Actor) -> list[ScheduledAnnouncement]:
    """Scheduled announcements not sent or cancelled yet, earliest first (admins only)."""
    check_admin(actor, "xem các thông báo hẹn giờ")
    return store.scheduled_announcements(pending_only=True)


def cancel_announcement(store: Any, announcement_id: int, actor: Actor,
                        now: datetime) -> ScheduledAnnouncement:
    """Cancel a pending scheduled announcement (admins only); logged with who did it."""
    _require_aware(now)
    check_admin(actor, "hủy thông báo hẹn giờ")
    repo = store.repo
    with repo.transaction():
        item = repo.get(ScheduledAnnouncement, announcement_id)
        if item is None or not item.pending:
            raise UsageError(f"Thông báo hẹn giờ mã {announcement_id} không còn chờ gửi (đã "
                             "gửi hoặc đã bị hủy).")
        cancelled = replace(item, cancelled_at=now)
        repo.put(cancelled)
        _event(store, now, actor.user_id, "cancel_announcement", announcement_id=item.id,
               at=item.at.isoformat(), units=list(item.unit_keys), by_name=actor.user_name)
    return cancelled


# ------------------------------------------------------------------------------------------
# Pruning (issue 11)
# ------------------------------------------------------------------------------------------
def prune_old(store: Any, retention_days: int, now: datetime) -> PruneCounts:
    """Delivery log rows and events older than ``retention_days`` go (events of tasks and
    documents that still exist stay: see :meth:`bot.repository.Repository.prune`); when
    anything went, a ``prune`` event says how much. One transaction."""
    _require_aware(now)
    if retention_days < 1:
        raise ValueError("retention_days must be positive")
    before = now - timedelta(days=retention_days)
    repo = store.repo
    with repo.transaction():
        counts: PruneCounts = repo.prune(before)
        if counts.deliveries or counts.events:
            _event(store, now, None, "prune", before=before.isoformat(),
                   deliveries=counts.deliveries, events=counts.events,
                   by_name="lịch dọn dữ liệu tự động")
    return counts


# ------------------------------------------------------------------------------------------
# Error reports to the admins
# ------------------------------------------------------------------------------------------
@dataclass
class ErrorThrottle:
    """At most one report per ``every`` and kind (the exception's type); the reports that
    were held back are counted and the next report of that kind says how many."""

    every: timedelta = REPORT_EVERY
    _last: dict[str, datetime] = field(default_factory=dict)
    _held: dict[str, int] = field(default_factory=dict)

    def allow(self, kind: str, now: datetime) -> int | None:
        """None: hold this one back (counted). Otherwise report it now, and the number of
        reports of this kind held back since the last one is returned."""
        last = self._last.get(kind)
        if last is not None and now - last < self.every:
            self._held[kind] = self._held.get(kind, 0) + 1
            return None
        self._last[kind] = now
        return self._held.pop(kind, 0)
