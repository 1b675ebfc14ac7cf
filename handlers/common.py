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

from telegram import Bot, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatMemberStatus, ChatType, MessageLimit, ParseMode
from telegram.error import TelegramError
from telegram.ext import CallbackContext, ContextTypes, ExtBot

from bot.clock import Clock
from bot.config import Settings
from bot.errors import BotError, UsageError
from bot.membership import Actor
from bot.progress import Acting, acting, display_name
from bot.store import Store
from bot.text import clip, utf16_len, utf16_prefix
from schedules.dispatch import Dispatcher, keyboard

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
_ENTITY_RE = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|lt|gt|amp|quot);")


@dataclass(slots=True)
class Services:
    """The core objects a handler needs, kept in ``application.bot_data["services"]``."""

    settings: Settings
    store: Store
    clock: Clock
    invite_key: bytes | None = None
    """Signs invitation links (:func:`bot.config.load_invite_key`); set by the app builder."""

    def now(self) -> datetime:
        return self.clock.now().astimezone(self.settings.tz)

    def today(self) -> date:
        return self.now().date()


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any],
                                 dict[Any, Any]]):
    """The context every handler gets (``ContextTypes(context=BotContext)`` in
    :func:`handlers.app.build_application`): ``context.services`` is typed."""

    @property
    def services(self) -> Services:
        found = self.application.bot_data["services"]
        assert isinstance(found, Services)
        return found


CONTEXT_TYPES = ContextTypes(context=BotContext)
"""For ``ApplicationBuilder().context_types``."""


def user_id(update: Update) -> int | None:
    return update.effective_user.id if update.effective_user else None


def is_admin(update: Update, context: BotContext) -> bool:
    """Admins are the Telegram user ids listed in ADMIN_IDS."""
    return context.services.settings.is_admin(user_id(update))


def is_group(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)


async def is_group_admin(update: Update, context: BotContext) -> bool:
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


def chat_unit_keys(update: Update, context: BotContext) -> tuple[str, ...]:
    chat = update.effective_chat
    return context.services.store.chat_units(chat.id) if chat else ()


def user_name(update: Update) -> str:
    """How to name the sender to an admin: "Nguyễn Văn A (@nva)"."""
    user = update.effective_user
    if user is None:
        return ""
    return f"{user.full_name} (@{user.username})" if user.username else user.full_name


def acting_person(update: Update, context: BotContext) -> Acting:
    """Who acts in this update, for the events the rules write (:mod:`bot.progress`): the
    name history shows ("Nguyễn Văn A", else "@nva"), the chat, whether a bot admin."""
    user, chat = update.effective_user, update.effective_chat
    name = display_name(user.first_name, user.last_name, user.username) if user else ""
    return Acting(user.id if user else None, name, chat.id if chat else None,
                  is_admin(update, context) if user else False)


def actor(update: Update, context: BotContext, *,
          group_admin: bool = False) -> Actor:
    """Who is asking, for the rules of :mod:`bot.membership` (no group-admin look-up)."""
    chat = update.effective_chat
    svc = context.services
    return Actor(
        chat_id=chat.id if chat else 0, chat_type=chat.type if chat else "",
        unit_keys=chat_unit_keys(update, context), admin=is_admin(update, context),
        group_admin=group_admin, user_id=user_id(update), user_name=user_name(update),
        chat_title=(chat.title or chat.full_name or str(chat.id)) if chat else "",
        open_read=svc.settings.open_read)


async def manager(update: Update, context: BotContext) -> Actor:
    """:func:`actor`, knowing whether the sender administers the group (one getChatMember,
    only in a group and only when the sender is no bot admin)."""
    plain = actor(update, context)
    if not plain.group or plain.admin:
        return plain
    return actor(update, context, group_admin=await is_group_admin(update, context))


def dispatcher(context: BotContext) -> Dispatcher:
    """The bot's one Dispatcher (retries, pacing, delivery log), made at start-up."""
    data = context.application.bot_data
    if "dispatcher" not in data:  # normally made at start-up by schedules.jobs
        svc = context.services
        data["dispatcher"] = Dispatcher(context.bot, svc.store, svc.clock)
    return data["dispatcher"]  # type: ignore[no-any-return]


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
    """What Telegram counts toward the 4,096 limit: UTF-16 code units of the text once tags
    are dropped and entities decoded ("📋" counts 2, "&amp;" counts 1)."""
    return utf16_len(_ENTITY_RE.sub(_entity_char, _TAG_RE.sub("", text)))


def _entity_char(match: re.Match[str]) -> str:
    return html.unescape(match.group(0))


def split_html(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Split at line boundaries so each part stays within ``limit`` visible characters.

    Callers keep each line's tags balanced, so any line boundary is a safe cut. A single line
    longer than the limit is cut between words (its tags dropped first, entities kept whole).
    """
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.split("\n"):
        length = visible_length(line)
        if length > limit:
            plain = html.unescape(_TAG_RE.sub("", line))
            pieces = [html.escape(piece, quote=False) for piece in _cut_words(plain, limit)]
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
    return [p for p in parts if p.strip()] or [utf16_prefix(text, limit)]


def _cut_words(plain: str, limit: int) -> list[str]:
    """Plain text in pieces of at most ``limit`` UTF-16 units, between words when possible."""
    out: list[str] = []
    current = ""
    for word in plain.split(" "):
        candidate = f"{current} {word}" if current else word
        if current and utf16_len(candidate) > limit:
            out.append(current)
            candidate = word
        while utf16_len(candidate) > limit:  # one enormous "word"
            head = utf16_prefix(candidate, limit)
            out.append(head)
            candidate = candidate[len(head):]
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


async def send_html(bot: Bot, chat_id: int, pages: str | Sequence[str],
                    rows: Rows | None = None) -> Message | None:
    """:func:`reply_html` for a message that answers no message (e.g. after a button)."""
    texts = [pages] if isinstance(pages, str) else list(pages)
    chunks = [chunk for text in texts for chunk in split_html(text)]
    last: Message | None = None
    for index, chunk in enumerate(chunks):
        keyboard = markup(rows) if index == len(chunks) - 1 else None
        last = await bot.send_message(chat_id, chunk, parse_mode=ParseMode.HTML,
                                      reply_markup=keyboard, disable_web_page_preview=True)
    return last


async def answer(update: Update, text: str | None = None, *, alert: bool = False) -> None:
    """Answer the callback query (Telegram shows a spinner until it is answered)."""
    query = update.callback_query
    if query is None:
        return
    try:
        if text and utf16_len(text) > MAX_ANSWER_CHARS:
            text = clip(text, MAX_ANSWER_CHARS)  # between words, never half an emoji
        await query.answer(text or None, show_alert=alert)
    except TelegramError as exc:  # the query may have expired; nothing else to do
        logger.info("answerCallbackQuery failed: %s", exc)


Handler = Callable[[Update, BotContext], Awaitable[Any]]
H = TypeVar("H", bound=Handler)


def guarded(handler: H) -> H:
    """Turn a BotError into a Vietnamese reply; any other error into a polite apology.

    Callback queries get the message as their answer (an alert), so the button never spins.
    """

    @functools.wraps(handler)
    async def wrapper(update: Update, context: BotContext) -> Any:
        try:
            with acting(acting_person(update, context)):
                return await handler(update, context)
        except BotError as exc:
            await _tell(update, exc.message)
        except TelegramError:
            raise  # network trouble: the application's error handler logs it
        except Exception as exc:
            await _tell(update, UNEXPECTED)
            # The error handlers log it and report it to the admins (handlers.app.on_error).
            await context.application.process_error(update, exc)
        return None

    return wrapper  # type: ignore[return-value]


async def _tell(update: Update, message: str) -> None:
    if update.callback_query is not None:
        await answer(update, message, alert=True)
        return
    # Through the splitter: a message quoting user input must never fail as "too long".
    await reply_html(update, html.escape(message, quote=False))
