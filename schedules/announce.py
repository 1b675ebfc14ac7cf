"""Announcements: one message from an official to every chat of one or more units.

Used by ``/thongbao`` (at once) and by the sweep job (announcements scheduled "lúc …"). Each
chat's copy has its own delivery key, so a re-run after a crash sends only the missing ones.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.records import Announcement
from bot.errors import UsageError
from bot.store import Store
from bot.text import clip, utf16_len
from schedules.dispatch import Dispatcher, Outgoing, Report, summarize

logger = logging.getLogger(__name__)

HEADING = "📢 <b>Thông báo</b>"
MAX_UNITS_LINE = 200
"""The "Gửi:" line of many units is cut (3,800 characters of text + this fit one message)."""


@dataclass(frozen=True, slots=True)
class Sent:
    """An announcement as logged, with its delivery counts."""

    announcement: Announcement
    report: Report
    chats: int


def target_chats(store: Store, unit_keys: Iterable[str]) -> list[int]:
    """Active chats following any of ``unit_keys`` (none: every active chat), sorted."""
    keys = list(unit_keys)
    if not keys:
        return sorted(c.id for c in store.chats(active_only=True) if c.unit_keys)
    found = {c.id for key in keys for c in store.unit_chats(key) if c.active}
    return sorted(found)


def render(store: Store, text: str, unit_keys: Iterable[str]) -> str:
    """The message: heading, to whom, then the text as typed (escaped)."""
    names = [store.unit_name(k) for k in unit_keys]
    to = (f"Gửi: {html.escape(clip('; '.join(names), MAX_UNITS_LINE), quote=False)}" if names
          else "Gửi: tất cả đơn vị")
    return f"{HEADING}\n<i>{to}</i>\n\n{html.escape(text, quote=False)}"


async def announce(dispatcher: Dispatcher, store: Store, text: str, unit_keys: Iterable[str],
                   *, actor: int | None, now: datetime, key: str) -> Sent:
    """Send ``text`` to the units' chats and log it; ``key`` identifies this announcement."""
    if utf16_len(text) > Store.MAX_ANNOUNCEMENT_CHARS:  # one message each, heading included
        raise UsageError(f"Thông báo dài {utf16_len(text)} ký tự; tối đa "
                         f"{Store.MAX_ANNOUNCEMENT_CHARS} ký tự.")
    keys = tuple(unit_keys)
    chats = target_chats(store, keys)
    body = render(store, text, keys)
    outcomes = await dispatcher.send_many(
        Outgoing(f"announce:{key}:{chat_id}", chat_id, body) for chat_id in chats)
    report = summarize(outcomes)
    logged = store.log_announcement(text, actor=actor, now=now,
                                    chat_ids=[o.chat_id for o in outcomes], unit_keys=keys,
                                    failed=report.failed_chats)
    logger.info("announcement %s: %s sent, %s failed", logged.id, report.delivered,
                len(report.failed_chats))
    return Sent(logged, report, len(chats))
