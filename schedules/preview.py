"""What the bot will send in the next days: ``python -m bot lich [--days N]``.

Pure: it renders the digests of each future working day with :mod:`schedules.digest` (the
same code the jobs use, snoozes included), lists the pending one-off reminders and scheduled
announcements, and sends nothing. The forecast assumes nothing changes meanwhile (no task
marked done, no new plan).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.errors import UsageError
from bot.store import Store
from schedules.announce import target_chats
from schedules.digest import (
    ChatDigest,
    chat_digests,
    snippet,
    vn_date,
)
from schedules.jobs import schedule_instants
from schedules.policy import DEFAULT_OVERDUE_EVERY, bucket_label

PreviewRow = tuple[datetime, int, str]
"""(when, chat id, visible summary)."""

WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")
SUMMARY_CHARS = 70
MAX_DAYS = 366


def _digest_summary(digest: ChatDigest) -> str:
    counts = ", ".join(f"{bucket_label(b)}: {n}" for b, n in digest.counts().items())
    return f"Bản tin: {len(digest.task_ids)} nhiệm vụ ({counts})"


def preview(store: Store, settings: Any, now: datetime, days: int = 7, *,
            overdue_every: int = DEFAULT_OVERDUE_EVERY) -> list[PreviewRow]:
    """Digests, reminders and announcements due in ``(now, now + days]``, by time.

    The first digest folds in reminders missed since each chat's last digest, like the job;
    later ones assume the digests before them went out.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    if not 0 < days <= MAX_DAYS:
        raise UsageError(f"Số ngày xem trước phải từ 1 đến {MAX_DAYS}.")
    now = now.astimezone(settings.tz)
    end = now + timedelta(days=days)
    rows: list[PreviewRow] = []
    missed: Mapping[int, Any] | None = store.digest_days()
    snoozed = store.snoozes()
    for instant in schedule_instants(settings, now, days):
        for digest in chat_digests(store, instant.date(), offsets=settings.reminder_offsets,
                                   overdue_every=overdue_every, missed_since=missed,
                                   snoozed=snoozed):
            rows.append((instant, digest.chat_id, _digest_summary(digest)))
        missed = None
    for reminder in store.due_reminders(end):
        task = store.task(reminder.task_id)
        if task is None or not task.is_open:
            continue
        when = max(reminder.at.astimezone(settings.tz), now)
        rows.append((when, reminder.chat_id,
                     f"Nhắc nhiệm vụ {task.code}: {snippet(task.text, SUMMARY_CHARS)}"))
    for item in store.due_announcements(end):
        when = max(item.at.astimezone(settings.tz), now)
        for chat_id in target_chats(store, tuple(item.unit_keys)):
            rows.append((when, chat_id, f"Thông báo: {snippet(item.text, SUMMARY_CHARS)}"))
    rows.sort(key=lambda r: (r[0], r[1]))
    return rows


def format_preview(rows: Sequence[PreviewRow], *,
                   titles: Mapping[int, str] | None = None) -> str:
    """Plain Vietnamese text of :func:`preview`, grouped by day (for the CLI)."""
    if not rows:
        return "Không có tin nào sẽ được gửi trong thời gian này."
    chats = len({r[1] for r in rows})
    out = [f"Lịch gửi tin: {len(rows)} tin tới {chats} cuộc trò chuyện."]
    day = None
    for when, chat_id, summary in rows:
        if when.date() != day:
            day = when.date()
            out.append("")
            out.append(f"{WEEKDAYS[day.weekday()]}, {vn_date(day)}")
        title = (titles or {}).get(chat_id)
        who = f"{title} ({chat_id})" if title else f"chat {chat_id}"
        out.append(f"  {when.strftime('%H:%M')}  {who}: {summary}")
    return "\n".join(out)


def store_titles(store: Store) -> dict[int, str]:
    """Chat titles known to the store, for :func:`format_preview`."""
    return {c.id: c.title for c in store.chats() if c.title}


def preview_text(store: Store, settings: Any, now: datetime, days: int = 7) -> str:
    """``python -m bot lich [--days N]`` in one call: the forecast as Vietnamese text."""
    return format_preview(preview(store, settings, now, days), titles=store_titles(store))
