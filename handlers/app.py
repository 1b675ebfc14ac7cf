"""Build the python-telegram-bot Application: defaults, handlers, command menu, schedules.

All wiring is here; handler modules only expose ``register(app)``. The same Application runs
against Telegram (``BOT_TOKEN``) or against the local fake Bot API server (``base_url``).
"""

from __future__ import annotations

import html
import logging

from telegram import BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeDefault, Update
from telegram.constants import ParseMode
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ContextTypes,
    Defaults,
    MessageHandler,
    filters,
)

from bot.clock import Clock
from bot.config import Settings, load_invite_key
from bot.store import Store
from bot.text import quote
from handlers import (
    actions,
    documents,
    members,
    progress,
    reminders,
    reports,
    tasks,
    unitadmin,
    units,
)
from handlers.common import Services, guarded, reply_html
from handlers.texts import COMMANDS, UNKNOWN_COMMAND
from handlers.updates import ChatOrderedProcessor
from schedules.jobs import start_schedules

logger = logging.getLogger(__name__)

SLICES = (units, tasks, actions, documents, reminders, members, reports, unitadmin, progress)
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
    builder = (ApplicationBuilder().token(token)
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
    logger.info("bot stopped")


@guarded
async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a command no handler knows, with the list to look at."""
    text = update.effective_message.text if update.effective_message else ""
    word = (text or "").split(maxsplit=1)[0] if text else ""
    name = word.split("@", 1)[0]
    if name.lstrip("/").lower() in {c for c, _ in COMMANDS}:
        return  # handled in group 0 (with the same or another casing)
    await reply_html(update, UNKNOWN_COMMAND.format(
        command=html.escape(quote(name, QUOTE_COMMAND_CHARS), quote=False)))


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log first (without the token: PTB's messages never include it), then move on."""
    logger.error("update %s caused an error", getattr(update, "update_id", "?"),
                 exc_info=context.error)
