"""What every Telegram handler shares: the services, rights, replies and error translation.

Handlers stay thin: parse the arguments, make one call into ``bot/``, render, reply. Errors
meant for people are :class:`bot.errors.BotError` subclasses carrying a Vietnamese message;
:func:`guarded` turns them into a reply (or a callback answer), so handlers simply ``raise``.
"""

from __future__ import annotations

import functools
import html
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatMemberStatus, ChatType, MessageLimit
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.clock import Clock
from bot.config import Settings
from bot.errors import BotError, UsageError
from bot.store import Store
from schedules.dispatch import keyboard

logger = logging.getLogger(__name__)

Rows = Sequence[Sequence[tuple[str, str]]]
"""Inline keyboard as pure data: rows of (label, callback_data)."""

MAX_CALLBACK_BYTES = 64
MAX_ANSWER_CHARS = 200
"""Telegram shows at most 200 characters in a callback answer."""
GROUP_ADMINS = (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)
UNEXPECTED = ("Xin lỗi, đã có lỗi khi xử lý yêu cầu. Dữ liệu không bị thay đổi; "
              "hãy thử lại sau hoặc báo quản trị viên.")

_TAG_RE = re.compile(r"<[^>]*>")
_ENTITY_RE = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|\w+);")


@dataclass(slots=True)
class Services:
    """The core objects a handler needs, kept in ``application.bot_data["services"]``."""

    settings: Settings
    store: Store
    clock: Clock

    def now(self) -> datetime:
        return self.clock.now().astimezone(self.settings.tz)

    def today(self) -> date:
        return self.now().date()


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.application.bot_data["services"]  # type: ignore[no-any-return]


def user_id(update: Update) -> int | None:
    return update.effective_user.id if update.effective_user else None


def is_admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Admins are the Telegram user ids listed in ADMIN_IDS."""
    return services(context).settings.is_admin(user_id(update))


def is_group(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)


async def is_group_admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """True in a private chat; in a group, whether the sender administers the group."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return False
    if chat.type == ChatType.PRIVATE:
        return True
    try:
        member = await context.bot.get_chat_member(chat.id, user.id)
    except TelegramError as exc:  # cannot tell: refuse rather than let anyone bind the group
        logger.warning("getChatMember failed in chat %s: %s", chat.id, exc)
        return False
    return member.status in GROUP_ADMINS


def chat_unit_keys(update: Update, context: ContextTypes.DEFAULT_TYPE) -> tuple[str, ...]:
    chat = update.effective_chat
    return services(context).store.chat_units(chat.id) if chat else ()


def usage(text: str) -> UsageError:
    """A usage error to ``raise``: ``raise usage("Cú pháp: /xong <mã>")``."""
    return UsageError(text)


def markup(rows: Rows | None) -> InlineKeyboardMarkup | None:
    """Pure (label, data) rows to Telegram's keyboard; data starting with http(s):// or tg://
    is a URL button. Callback data over 64 bytes is a programming error and raises."""
    if not rows:
        return None
    for row in rows:
        for _, data in row:
            if not data.startswith(("http://", "https://", "tg://")) and \
                    len(data.encode("utf-8")) > MAX_CALLBACK_BYTES:
                raise ValueError(f"callback data over {MAX_CALLBACK_BYTES} bytes: {data!r}")
    return keyboard(rows)


def visible_length(text: str) -> int:
    """Characters Telegram counts toward the 4,096 limit: tags dropped, entities as one."""
    return len(_ENTITY_RE.sub("x", _TAG_RE.sub("", text)))


def split_html(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Split at line boundaries so each part stays under ``limit`` visible characters.

    Callers keep each line's tags balanced, so any line boundary is a safe cut. A single line
    longer than the limit is cut between words (tags inside such a line are dropped first).
    """
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.split("\n"):
        length = visible_length(line)
        if length > limit:
            plain = html.escape(html.unescape(_TAG_RE.sub("", line)), quote=False)
            pieces = _cut_words(plain, limit)
        else:
            pieces = [line]
        for piece in pieces:
            length = visible_length(piece)
            if current and size + 1 + length > limit:
                parts.append("\n".join(current))
                current, size = [], 0
            size += length + (1 if current else 0)
            current.append(piece)
    if current:
        parts.append("\n".join(current))
    return [p for p in parts if p.strip()] or [text[:limit]]


def _cut_words(line: str, limit: int) -> list[str]:
    out: list[str] = []
    current = ""
    for word in line.split(" "):
        candidate = f"{current} {word}" if current else word
        if current and visible_length(candidate) > limit:
            out.append(current)
            candidate = word
        while visible_length(candidate) > limit:  # one enormous "word"
            out.append(candidate[:limit])
            candidate = candidate[limit:]
        current = candidate
    if current:
        out.append(current)
    return out


async def reply_html(update: Update, pages: str | Sequence[str],
                     rows: Rows | None = None) -> Message | None:
    """Send ``pages`` (split further when needed); the buttons go on the last message."""
    message = update.effective_message
    if message is None:
        return None
    texts = [pages] if isinstance(pages, str) else list(pages)
    chunks = [chunk for text in texts for chunk in split_html(text)]
    last: Message | None = None
    for index, chunk in enumerate(chunks):
        keyboard = markup(rows) if index == len(chunks) - 1 else None
        last = await message.reply_html(chunk, reply_markup=keyboard,
                                        disable_web_page_preview=True)
    return last


async def answer(update: Update, text: str | None = None, *, alert: bool = False) -> None:
    """Answer the callback query (Telegram shows a spinner until it is answered)."""
    query = update.callback_query
    if query is None:
        return
    try:
        await query.answer(text[:MAX_ANSWER_CHARS] if text else None, show_alert=alert)
    except TelegramError as exc:  # the query may have expired; nothing else to do
        logger.info("answerCallbackQuery failed: %s", exc)


Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[Any]]
H = TypeVar("H", bound=Handler)


def guarded(handler: H) -> H:
    """Turn a BotError into a Vietnamese reply; any other error into a polite apology.

    Callback queries get the message as their answer (an alert), so the button never spins.
    """

    @functools.wraps(handler)
    async def wrapper(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Any:
        try:
            return await handler(update, context)
        except BotError as exc:
            await _tell(update, exc.message)
        except TelegramError:
            raise  # network trouble: the application's error handler logs it
        except Exception:
            logger.exception("handler %s failed", handler.__name__)
            await _tell(update, UNEXPECTED)
        return None

    return wrapper  # type: ignore[return-value]


async def _tell(update: Update, message: str) -> None:
    if update.callback_query is not None:
        await answer(update, message, alert=True)
        return
    if update.effective_message is not None:
        await update.effective_message.reply_html(html.escape(message, quote=False))
