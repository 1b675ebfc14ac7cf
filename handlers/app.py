"""Build the python-telegram-bot Application: defaults, handlers, command menu, schedules.

All wiring is here; handler modules only expose ``register(app)``. The same Application runs
against Telegram (``BOT_TOKEN``) or against the local fake Bot API server (``base_url``).
"""

from __future__ import annotations

import html
import logging
import traceback
from pathlib import Path

from telegram import BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeDefault, Update
from telegram.constants import ParseMode
from telegram.error import ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    Defaults,
    MessageHandler,
    filters,
)

from bot.clock import Clock
from bot.config import Settings, load_invite_key
from bot.logmask import TokenFilter
from bot.store import Store
from bot.text import clip, quote
from bot.upkeep import ErrorThrottle
from handlers import (
    actions,
    documents,
    members,
    progress,
    reminders,
    reports,
    review,
    tasks,
    unitadmin,
    units,
)
from handlers.common import CONTEXT_TYPES, BotContext, Services, guarded, reply_html, send_html
from handlers.texts import COMMANDS, UNKNOWN_COMMAND
from handlers.updates import ChatOrderedProcessor
from schedules.jobs import start_schedules, stop_schedules

logger = logging.getLogger(__name__)

SLICES = (units, tasks, actions, documents, reminders, members, reports, unitadmin, progress,
          review)
"""Handler modules, each with ``register(app)``. Order matters only for catch-alls (last)."""
QUOTE_COMMAND_CHARS = 40
"""A command is at most 32 characters; anything longer is quoted cut."""


def build_application(settings: Settings, store: Store, clock: Clock, *,
                      token: str | None = None, base_url: str | None = None,
                      base_file_url: str | None = None) -> Application:
    """The bot, ready for ``run_polling`` (or for the local console's own start)."""
    token = token or settings.bot_token
    if not token:
        raise ValueError("build_application needs a token (the fake server's in local mode)")
    builder = (ApplicationBuilder().token(token).context_types(CONTEXT_TYPES)
               .defaults(Defaults(parse_mode=ParseMode.HTML, tzinfo=settings.tz))
               # One request per 1/30 s rather than bursts of 30 per second: the same rate,
               # without the 429s a burst draws. The dispatcher handles RetryAfter itself.
               .rate_limiter(AIORateLimiter(overall_max_rate=1, overall_time_period=1 / 30,
                                            max_retries=0))
               # Chats are answered concurrently, each chat's updates in order (see
               # handlers.updates): a long handler of one chat no longer holds the others.
               .concurrent_updates(ChatOrderedProcessor())
               .post_init(_post_init).post_shutdown(_post_shutdown))
    url = base_url or settings.bot_api_url
    if url:
        builder = builder.base_url(url)
    # Files come from the same server as the API (a self-hosted one serves files over 20 MB):
    # BOT_FILE_URL, derived from BOT_API_URL when not given (bot.config). A server started
    # with --local answers getFile with an absolute path, which python-telegram-bot reads
    # from disk when it exists on this machine.
    file_url = base_file_url or settings.bot_file_url
    if file_url:
        builder = builder.base_file_url(file_url)
    app = builder.build()
    app.bot_data["services"] = Services(settings=settings, store=store, clock=clock,
                                        invite_key=load_invite_key(settings))
    for module in SLICES:
        module.register(app)
    # Note: after every slice, so it only sees commands nobody handled.
    app.add_handler(MessageHandler(filters.COMMAND, unknown_command), group=1)
    app.add_error_handler(on_error)
    return app


async def _post_init(app: Application) -> None:
    """Memberships of an older version upgraded, the command menu in Vietnamese, then the
    reminder schedules rebuilt from the database (after the upgrade: a chat whose
    subscription became a request gets no digest)."""
    svc: Services = app.bot_data["services"]
    kept, demoted = svc.store.upgrade_memberships(svc.settings.admin_ids, svc.now())
    if kept or demoted:
        logger.info("older subscriptions: %d kept as memberships, %d became requests", kept,
                    demoted)
    commands = [BotCommand(name, description) for name, description in COMMANDS]
    await app.bot.set_my_commands(commands, scope=BotCommandScopeDefault())
    await app.bot.set_my_commands(commands, scope=BotCommandScopeAllPrivateChats())
    await start_schedules(app)


async def _post_shutdown(app: Application) -> None:
    await stop_schedules(app)  # gives the scheduler leadership up at once (several workers)
    logger.info("bot stopped")


@guarded
async def unknown_command(update: Update, context: BotContext) -> None:
    """Answer a command no handler knows, with the list to look at."""
    text = update.effective_message.text if update.effective_message else ""
    word = (text or "").split(maxsplit=1)[0] if text else ""
    name = word.split("@", 1)[0]
    if name.lstrip("/").lower() in {c for c, _ in COMMANDS}:
        return  # handled in group 0 (with the same or another casing)
    await reply_html(update, UNKNOWN_COMMAND.format(
        command=html.escape(quote(name, QUOTE_COMMAND_CHARS), quote=False)))


ERROR_THROTTLE_KEY = "error_throttle"
"""``bot_data`` key of the :class:`bot.upkeep.ErrorThrottle` of the error reports."""
NOT_REPORTED = (NetworkError, RetryAfter, Forbidden, ChatMigrated)
"""Telegram's weather (network, flood waits, a chat that blocked the bot, a group that moved):
logged, but no bug to report."""
REPORT_QUOTE_CHARS = 200
REPORT_ERROR_CHARS = 600


async def on_error(update: object, context: BotContext) -> None:
    """Log first (without the token: PTB's messages never include it), then report it to
    every admin in a private message, at most once per 10 minutes per exception type (the
    reports held back meanwhile are counted in the next one). The user was answered politely
    by :func:`handlers.common.guarded`."""
    error = context.error
    logger.error("update %s caused an error", getattr(update, "update_id", "?"),
                 exc_info=error)
    if error is None or isinstance(error, NOT_REPORTED):
        return
    svc: Services | None = context.application.bot_data.get("services")
    if svc is None or not svc.settings.admin_ids:
        return
    throttle = context.application.bot_data.setdefault(ERROR_THROTTLE_KEY, ErrorThrottle())
    kind = f"{type(error).__module__}.{type(error).__qualname__}"
    held = throttle.allow(kind, svc.clock.now())
    if held is None:
        return
    text = error_report(update, context, error, held, svc)
    for admin_id in sorted(svc.settings.admin_ids):
        try:
            await send_html(context.bot, admin_id, text)
        except TelegramError as exc:  # the admin never opened a chat with the bot, say
            logger.warning("could not report the error to admin %s: %s", admin_id, exc)


def _where(error: BaseException) -> str:
    """"handlers/tasks.py:61 in nhiemvu_page": the innermost frame of the traceback."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return ""
    frame = frames[-1]
    parts = Path(frame.filename).parts
    short = "/".join(parts[-2:]) if len(parts) >= 2 else frame.filename
    return f"{short}:{frame.lineno} trong {frame.name}"


def _update_summary(update: object, context: BotContext) -> list[str]:
    if isinstance(update, Update):
        lines = []
        chat, user = update.effective_chat, update.effective_user
        if chat is not None:
            title = chat.title or chat.full_name or ""
            lines.append(f"Cuộc trò chuyện: {chat.id} ({chat.type}) {title}".rstrip())
        if user is not None:
            name = f"{user.full_name} (@{user.username})" if user.username else user.full_name
            lines.append(f"Người gửi: {user.id} {name}")
        if update.callback_query is not None:
            lines.append(f"Nút bấm: {clip(update.callback_query.data or '', REPORT_QUOTE_CHARS)}")
        elif update.effective_message is not None:
            message = update.effective_message
            said = message.text or message.caption or (
                f"[tệp {message.document.file_name}]" if message.document else "[không có chữ]")
            lines.append(f"Nội dung: {clip(said, REPORT_QUOTE_CHARS)}")
        return lines or [f"Cập nhật {update.update_id}"]
    if context.job is not None:
        return [f"Công việc định kỳ: {context.job.name}"]
    return ["Không gắn với tin nhắn nào (tác vụ nền)"]


def error_report(update: object, context: BotContext, error: BaseException,
                 held: int, svc: Services) -> str:
    """The report to the admins, HTML-escaped; the bot token and the invitation secret (and
    anything shaped like a bot token) are masked."""
    masker = TokenFilter([svc.settings.bot_token, svc.settings.invite_secret,
                          getattr(context.bot, "token", None)])
    lines = _update_summary(update, context)
    lines.append(f"Lỗi: {type(error).__name__}: {clip(str(error), REPORT_ERROR_CHARS)}")
    where = _where(error)
    if where:
        lines.append(f"Tại: {where}")
    if held:
        lines.append(f"(Trong 10 phút trước còn {held} lỗi cùng loại không được báo riêng.)")
    body = "\n".join(html.escape(masker.mask(line), quote=False) for line in lines)
    tail = ("Người dùng đã nhận lời xin lỗi; chi tiết" if isinstance(update, Update)
            else "Chi tiết")
    return (f"<b>⚠️ Lỗi không mong đợi lúc {svc.now().strftime('%H:%M %d/%m/%Y')}</b>\n"
            f"{body}\n<i>{tail} trong nhật ký của bot.</i>")


async def stop_application(app: Application) -> None:
    """Stop what runs (the updater when polling), then shut down, with the hooks, in the
    order ``Application.run_polling`` uses: the local chat, the tests and webhook workers."""
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
        if app.post_stop:
            await app.post_stop(app)
    await app.shutdown()
    if app.post_shutdown:
        await app.post_shutdown(app)
