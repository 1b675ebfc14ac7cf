"""Announcements: one message from an official to every chat of one or more units.

Used by ``/thongbao`` (at once) and by the sweep job (announcements scheduled "lúc …"). Each
chat's copy has its own delivery key, so a re-run after a crash sends only the missing ones.

A broadcast to 2,000 chats takes a minute or more at Telegram's 30 messages/s: it never runs
inside an update's handler. ``/thongbao`` acknowledges at once ("Đang gửi tới N nhóm…"),
sends from a background task and then tells the sender the delivery count (:func:`report_text`);
a scheduled one goes out from the sweep job, and its author gets the same report in a private
message (:func:`report_scheduled`).
"""

from __future__ import annotations

import html
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.dateinput import format_datetime
from bot.errors import UsageError
from bot.records import Announcement, ScheduledAnnouncement
from bot.store import Store
from bot.text import clip, utf16_len
from schedules.dispatch import Dispatcher, Outcome, Outgoing, Report, summarize

logger = logging.getLogger(__name__)

HEADING = "📢 <b>Thông báo</b>"
MAX_UNITS_LINE = 200
"""The "Gửi:" line of many units is cut (3,800 characters of text + this fit one message)."""
BROADCAST_CONCURRENCY = 30
"""Copies in flight at once (waiting in the rate limiter included). Other chats' answers queue
behind them in the Application's rate limiter: ``bench.background`` measured /help at about
1.0 s during a 2,000-chat broadcast at 30 (28/s), 0.4 s at 10 (27.5/s on the local fake;
against Telegram, 10 in flight keep 30/s only while a request takes under 1/3 s)."""
MAX_NAMED_CHATS = 20
"""A report names at most this many chats that did not get the message, then counts the rest,
each title cut at :data:`MAX_TITLE_CHARS` (2,000 blocked chats must not make a report longer
than one Telegram message)."""
MAX_TITLE_CHARS = 60


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


def render(store: Store, text: str, unit_keys: Iterable[str], by: str = "") -> str:
    """The message: heading, to whom, from whom (the sender's Telegram name, when known),
    then the text as typed (escaped)."""
    names = [store.unit_name(k) for k in unit_keys]
    to = (f"Gửi: {html.escape(clip('; '.join(names), MAX_UNITS_LINE), quote=False)}" if names
          else "Gửi: tất cả đơn vị")
    sender = f"\n<i>Người gửi: {html.escape(clip(by, MAX_TITLE_CHARS), quote=False)}</i>" if by \
        else ""
    return f"{HEADING}\n<i>{to}</i>{sender}\n\n{html.escape(text, quote=False)}"


def check_length(text: str) -> None:
    """Refuse a text that cannot go out as one message (heading included)."""
    if utf16_len(text) > Store.MAX_ANNOUNCEMENT_CHARS:
        raise UsageError(f"Thông báo dài {utf16_len(text)} ký tự; tối đa "
                         f"{Store.MAX_ANNOUNCEMENT_CHARS} ký tự.")


async def announce(dispatcher: Dispatcher, store: Store, text: str, unit_keys: Iterable[str],
                   *, actor: int | None, now: datetime, key: str,
                   chats: Iterable[int] | None = None, by: str = "") -> Sent:
    """Send ``text`` to the units' chats and log it; ``key`` identifies this announcement.

    ``chats``: the targets when the caller already counted them (for its acknowledgement);
    by default :func:`target_chats`. ``by``: the sender's name, shown in the message.
    """
    check_length(text)
    keys = tuple(unit_keys)
    chats = list(chats) if chats is not None else target_chats(store, keys)
    body = render(store, text, keys, by)
    outcomes = await dispatcher.send_many(
        (Outgoing(f"announce:{key}:{chat_id}", chat_id, body) for chat_id in chats),
        concurrency=BROADCAST_CONCURRENCY)
    report = summarize(outcomes)
    logged = store.log_announcement(text, actor=actor, now=now,
                                    chat_ids=[o.chat_id for o in outcomes], unit_keys=keys,
                                    failed=report.failed_chats)
    logger.info("announcement %s: %s sent, %s failed", logged.id, report.delivered,
                len(report.failed_chats))
    return Sent(logged, report, len(chats))


def unit_names(store: Store, unit_keys: Iterable[str]) -> str:
    """How a report names the targets: "Phòng Y tế (Cẩm Phả); …" or "tất cả đơn vị"."""
    labels = [unit.label if (unit := store.unit(key)) is not None else store.unit_name(key)
              for key in unit_keys]
    return "; ".join(labels) if labels else "tất cả đơn vị"


def report_text(store: Store, names: str, chats: int, report: Report) -> str:
    """"Đã gửi tới 3/4 nhóm của …; không gửi được: …" (HTML)."""
    shown = html.escape(clip(names, MAX_UNITS_LINE), quote=False)
    if chats == 0:
        return (f"Chưa có nhóm nào theo dõi {shown}, nên thông báo chưa được gửi tới ai. Nhờ "
                "các đơn vị gõ /dangky trong nhóm của mình.")
    lines = [f"📢 Đã gửi thông báo tới {report.delivered}/{chats} nhóm của {shown}."]
    if report.failed_chats:
        lines.append("Không gửi được tới: " + _titles(store, report.failed_chats) + ".")
    if report.uncertain_chats:
        lines.append("Chưa chắc đã tới (mạng chập chờn, Telegram không trả lời; bot không gửi "
                     "lại để tránh trùng): " + _titles(store, report.uncertain_chats) + ".")
    return "\n".join(lines)


def _titles(store: Store, chat_ids: Iterable[int]) -> str:
    ids = list(chat_ids)
    titles = []
    for chat_id in ids[:MAX_NAMED_CHATS]:
        chat = store.chat(chat_id)
        title = chat.title if chat and chat.title else str(chat_id)
        titles.append(html.escape(clip(title, MAX_TITLE_CHARS), quote=False))
    if len(ids) > MAX_NAMED_CHATS:
        titles.append(f"và {len(ids) - MAX_NAMED_CHATS} nhóm khác")
    return ", ".join(titles)


async def report_scheduled(dispatcher: Dispatcher, store: Store, item: ScheduledAnnouncement,
                           outcomes: Iterable[Outcome]) -> Outcome | None:
    """Tell the author of a scheduled announcement how it went, in a private message.

    Sent through the dispatcher with its own key, so a re-run of the sweep reports once.
    """
    if item.actor is None:
        return None
    results = list(outcomes)
    text = (f"🗓 Thông báo đã hẹn (mã {item.id}) lúc {format_datetime(item.at)}:\n"
            + report_text(store, unit_names(store, item.unit_keys), len(results),
                          summarize(results)))
    return await dispatcher.send(Outgoing(f"announce:{item.id}:report", item.actor,
                                          text))
