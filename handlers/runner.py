"""Run the bot: on Telegram when BOT_TOKEN is set, otherwise as a local chat in the terminal.

The local mode is the same :class:`telegram.ext.Application` as in production, pointed at
:class:`bot.fakeapi.FakeBotApi` on 127.0.0.1, with the sample plans loaded into a separate
demo database, so a newcomer sees the real bot without a token or a network.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit

from bot.clock import Clock, ShiftedClock, SystemClock
from bot.config import Settings
from bot.errors import BotError, StartupError
from bot.logmask import install_token_filter, log_uncaught_exceptions
from bot.store import Store

logger = logging.getLogger(__name__)

DEMO_DB = "demo.json"
DEMO_OUT = "demo-out"
"""Folder (in DATA_DIR) where the local chat saves the files and pictures the bot sends."""
DEMO_USER = 1001
"""The person at the console: an admin of the demo bot, chatting in private chat 1001."""
DEMO_GUEST = 1002
"""A second person the console user can play (/khach): no admin, so /dangky is a request."""
DEMO_TODAY = date(2022, 12, 20)
"""Default "today" of the demo: inside the period of the sample plans."""
PLAN_SUFFIXES = (".txt", ".md", ".docx", ".pdf")

TOKEN_REJECTED = (
    "Telegram từ chối BOT_TOKEN: token sai, đã bị thu hồi, hoặc bot đã bị xóa. Hãy lấy lại "
    "token từ @BotFather (lệnh /token), sửa BOT_TOKEN trong biến môi trường hoặc tệp .env rồi "
    "chạy lại."
)
TOKEN_REJECTED_AT = (
    "Máy chủ Bot API {host} từ chối BOT_TOKEN (hoặc địa chỉ BOT_API_URL không phải một máy chủ "
    "Bot API). Hãy kiểm tra BOT_TOKEN và BOT_API_URL trong biến môi trường hoặc tệp .env rồi "
    "chạy lại."
)
API_UNREACHABLE = (
    "Không kết nối được tới máy chủ Telegram ({host}) khi khởi động ({reason}). Hãy kiểm tra "
    "kết nối mạng, tường lửa, proxy hoặc BOT_API_URL rồi chạy lại."
)


class FatalStartupTraceback(logging.Filter):
    """Drop the traceback python-telegram-bot logs for the error that ends its start-up (a
    refused token, an unreachable API) just before raising it: :func:`run_telegram` turns that
    error into a Vietnamese message, and the log keeps PTB's one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        from telegram.error import BadRequest, InvalidToken, NetworkError

        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, InvalidToken | NetworkError) and not isinstance(error, BadRequest):
            record.exc_info, record.exc_text = None, None
        return True


def configure_logging(level: int = logging.INFO, stream: TextIO = sys.stderr,
                      secrets: tuple[str | None, ...] = ()) -> None:
    """One basicConfig, then the token filter on its handlers before any library logs (see
    :mod:`bot.logmask`), uncaught tracebacks through logging, and no traceback for the error
    that ends PTB's start-up (:class:`FatalStartupTraceback`)."""
    logging.basicConfig(level=level, stream=stream,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_token_filter(secrets)
    log_uncaught_exceptions()
    # PTB's retry loop (logger "telegram.ext") logs the error that aborts it, then raises it.
    ptb = logging.getLogger("telegram.ext")
    if not any(isinstance(f, FatalStartupTraceback) for f in ptb.filters):
        ptb.addFilter(FatalStartupTraceback())
    # httpx logs every request URL at INFO, and Bot API URLs contain the token (masked by the
    # filter all the same; one line per request is noise).
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # With max_retries=0 the limiter logs a traceback for each 429 it hands to the
    # dispatcher, which waits and retries (and logs what it gives up on).
    logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)


def load_samples(store: Store, folder: Path, clock: Clock, actor: int | None) -> list[str]:
    """Import every plan in ``folder``; returns one Vietnamese line per file."""
    from bot.plans import parse_file

    lines = []
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in PLAN_SUFFIXES):
        try:
            plan = parse_file(path)
            result = store.import_plan(plan, filename=path.name,
                                       file_hash=hashlib.sha256(path.read_bytes()).hexdigest(),
                                       actor=actor, now=clock.now())
        except BotError as exc:
            lines.append(f"  {path.name}: {exc.message}")
            continue
        doc = result.document
        lines.append(f"  {doc.label}: {result.task_count} nhiệm vụ, "
                     f"{len(result.unit_names)} đơn vị")
    return lines


def run_local(settings: Settings, *, today: date | None, samples: Path,
              stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    """The local chat: fake Bot API server + the real Application + a terminal prompt."""
    from bot.fakeapi import FakeBotApi
    from handlers.app import build_application
    from handlers.console import run_console

    # The prompt shares the terminal: only errors, not the scheduler's notes about a demo day
    # whose 07:30 digest "was missed".
    configure_logging(logging.ERROR)
    clock = ShiftedClock(today or DEMO_TODAY, settings.tz)
    settings = replace(settings, admin_ids=(settings.admin_ids | {DEMO_USER}) - {DEMO_GUEST})
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db_path = settings.data_dir / DEMO_DB
    for stale in (db_path, db_path.with_name(db_path.name + ".lock")):
        stale.unlink(missing_ok=True)  # the demo starts from the samples every time
    store = Store(db_path)
    try:
        lines = load_samples(store, samples, clock, DEMO_USER)
        stdout.write(f"Cơ sở dữ liệu thử: {db_path} — đã nạp {len(lines)} kế hoạch mẫu:\n")
        stdout.write("\n".join(lines) + "\n")
        stdout.write(f"Hôm nay (giả lập): {clock.today():%d/%m/%Y} — đổi bằng "
                     "--today YYYY-MM-DD. Bạn là quản trị viên; thử /dangky tai chinh, "
                     "/nhiemvu, /quahan, /thongke, /baocao, /lich_ics, /moi tai chinh (tệp "
                     f"và ảnh bot gửi được lưu vào {settings.data_dir / DEMO_OUT}). Gõ /khach "
                     "để đóng vai một người khác gửi yêu cầu tham gia (/dangky y te), rồi "
                     "/rieng để duyệt (bấm số của nút «Duyệt»).\n\n")
        with FakeBotApi() as api:
            app = build_application(settings, store, clock, token=api.token,
                                    base_url=api.base_url, base_file_url=api.base_file_url)
            asyncio.run(run_console(app, api, chat_id=DEMO_USER, user_id=DEMO_USER,
                                    stdin=stdin, stdout=stdout, guest_id=DEMO_GUEST,
                                    out_dir=settings.data_dir / DEMO_OUT))
    finally:
        store.close()
    return 0


def run_telegram(settings: Settings, *, today: date | None) -> int:
    """Poll Telegram until interrupted (Ctrl+C); jobs are rebuilt from the database.

    A token the Bot API refuses (401/404) or an API that cannot be reached when the bot starts
    raises :class:`~bot.errors.StartupError` with a Vietnamese message (the command line prints
    it and exits with status 2), not python-telegram-bot's traceback, which names the token.
    """
    from telegram.error import BadRequest, InvalidToken, NetworkError, TimedOut

    from handlers.app import build_application

    configure_logging(secrets=(settings.bot_token,))
    clock: Clock = ShiftedClock(today, settings.tz) if today else SystemClock(settings.tz)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(settings.db_path)
    host = urlsplit(settings.bot_api_url or "https://api.telegram.org").netloc
    try:
        app = build_application(settings, store, clock)
        logger.info("bot starting with %s (database %s)", settings, settings.db_path)
        app.run_polling(allowed_updates=["message", "callback_query", "my_chat_member"])
    except InvalidToken:
        logger.error("the Bot API at %s refused the token", host)
        raise StartupError(TOKEN_REJECTED_AT.format(host=host) if settings.bot_api_url
                           else TOKEN_REJECTED) from None
    except BadRequest:
        raise  # a request the bot got wrong, not the network: keep its traceback
    except NetworkError as exc:
        logger.error("cannot reach the Bot API at %s: %s", host, exc)
        reason = "hết thời gian chờ" if isinstance(exc, TimedOut) else "mất kết nối"
        raise StartupError(API_UNREACHABLE.format(host=host, reason=reason)) from None
    finally:
        store.close()
    return 0
