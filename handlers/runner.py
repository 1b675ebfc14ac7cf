"""Run the bot: on Telegram when BOT_TOKEN is set, otherwise as a local chat in the terminal.

On Telegram the bot receives updates by long polling, or, when WEBHOOK_URL is set, as a webhook
worker (:func:`run_webhook`): an HTTP server (uvicorn) on WEBHOOK_LISTEN:WEBHOOK_PORT behind a
reverse proxy with TLS. Several workers may run on one PostgreSQL database; each answers the
updates the proxy hands it, only the scheduler leader (:mod:`schedules.leader`) runs the
schedules and calls setWebhook (see docs/deploy.md).

The local mode is the same :class:`telegram.ext.Application` as in production, pointed at
:class:`bot.fakeapi.FakeBotApi` on 127.0.0.1, with the sample plans loaded into a separate
demo database, so a newcomer sees the real bot without a token or a network.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import signal
import socket
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from bot.clock import Clock, ShiftedClock, SystemClock
from bot.config import Settings
from bot.errors import BotError, StartupError
from bot.logmask import install_token_filter, log_uncaught_exceptions
from bot.store import Store, open_store

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
PORT_UNAVAILABLE = (
    "Không mở được cổng {listen}:{port} cho webhook ({reason}). Hãy chọn WEBHOOK_PORT khác "
    "(mỗi tiến trình một cổng) hoặc dừng chương trình đang dùng cổng này."
)
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
SECRET_HEADER = b"x-telegram-bot-api-secret-token"
HEALTH_PATH = "/healthz"
MAX_UPDATE_BYTES = 1 << 20
"""An update is a few kilobytes (files come by id); anything larger is refused (413)."""
API_UNREACHABLE = (
    "Không kết nối được tới máy chủ Telegram ({host}) khi khởi động ({reason}). Hãy kiểm tra "
    "kết nối mạng, tường lửa, proxy hoặc BOT_API_URL rồi chạy lại."
)


def _database(settings: Settings) -> str:
    """Where the data lives, for the log: never the URL (it may hold a password)."""
    return "PostgreSQL (DATABASE_URL)" if settings.database_url else str(settings.db_path)


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


@contextlib.contextmanager
def _startup_errors(settings: Settings) -> Iterator[None]:
    """A refused token or an unreachable API at start becomes a Vietnamese StartupError."""
    from telegram.error import BadRequest, InvalidToken, NetworkError, TimedOut

    host = urlsplit(settings.bot_api_url or "https://api.telegram.org").netloc
    try:
        yield
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


def _secrets(settings: Settings) -> tuple[str | None, ...]:
    password = urlsplit(settings.database_url).password if settings.database_url else None
    return (settings.bot_token, settings.webhook_secret, password)


def run_telegram(settings: Settings, *, today: date | None) -> int:
    """Poll Telegram until interrupted (Ctrl+C); jobs are rebuilt from the database.

    A token the Bot API refuses (401/404) or an API that cannot be reached when the bot starts
    raises :class:`~bot.errors.StartupError` with a Vietnamese message (the command line prints
    it and exits with status 2), not python-telegram-bot's traceback, which names the token.
    """
    from handlers.app import build_application

    if settings.webhook_mode:
        return run_webhook(settings, today=today)
    configure_logging(secrets=_secrets(settings))
    clock: Clock = ShiftedClock(today, settings.tz) if today else SystemClock(settings.tz)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = open_store(settings)  # PostgreSQL with DATABASE_URL, else the TinyDB file
    try:
        with _startup_errors(settings):
            app = build_application(settings, store, clock)
            logger.info("bot starting with %s (database %s)", settings, _database(settings))
            app.run_polling(allowed_updates=ALLOWED_UPDATES)
    finally:
        store.close()
    return 0


# ---------------------------------------------------------------------------------- webhook
class WebhookApp:
    """The worker's ASGI application: Telegram's posts at ``path``, a health check at
    :data:`HEALTH_PATH`, nothing else.

    A post without the X-Telegram-Bot-Api-Secret-Token header, or with another value, gets
    403 and is not read any further; a good one is decoded, queued for the Application and
    answered 200 at once (Telegram waits for that answer before the next update of the chat).
    """

    def __init__(self, app: Any, *, path: str, secret: str) -> None:
        self.app = app
        self.path = path
        self._secret = secret.encode()
        self.accepted = 0
        self.refused = 0

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        method, path = scope["method"], scope["path"]
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            await self._answer(send, 200, b"ok")
            return
        if path != self.path:
            await self._answer(send, 404, b"not found")
            return
        if method != "POST":
            await self._answer(send, 405, b"method not allowed")
            return
        given = next((v for k, v in scope["headers"] if k == SECRET_HEADER), None)
        if given is None or not hmac.compare_digest(given, self._secret):
            self.refused += 1
            client = (scope.get("client") or ("?",))[0]
            logger.warning("webhook: refused a post from %s (%s secret token)", client,
                           "no" if given is None else "wrong")
            await self._answer(send, 403, b"forbidden")
            return
        body = await self._body(receive)
        if body is None:
            await self._answer(send, 413, b"too large")
            return
        try:
            data = json.loads(body)
            from telegram import Update

            update = Update.de_json(data, self.app.bot) if isinstance(data, dict) else None
        except (ValueError, TypeError, KeyError):
            update = None
        if update is None:
            logger.warning("webhook: a post that is no update (%d bytes)", len(body))
            await self._answer(send, 400, b"bad update")
            return
        self.accepted += 1
        await self.app.update_queue.put(update)
        await self._answer(send, 200, b"ok")

    @staticmethod
    async def _body(receive: Any) -> bytes | None:
        chunks, size = [], 0
        while True:
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_UPDATE_BYTES:
                return None
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)

    @staticmethod
    async def _answer(send: Any, status: int, body: bytes) -> None:
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


async def set_webhook(app: Any) -> None:
    """Leader hook: point Telegram at WEBHOOK_URL with the secret (only the leader calls it,
    so N workers make one call, again after each change of leader: same URL, harmless)."""
    settings: Settings = app.bot_data["services"].settings
    await app.bot.set_webhook(url=settings.webhook_url, secret_token=settings.webhook_secret,
                              allowed_updates=ALLOWED_UPDATES)
    logger.info("webhook set to %s", settings.webhook_url)


def _bind(settings: Settings) -> socket.socket:
    family = socket.AF_INET6 if ":" in settings.webhook_listen else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((settings.webhook_listen, settings.webhook_port))
    except OSError as exc:
        sock.close()
        raise StartupError(PORT_UNAVAILABLE.format(
            listen=settings.webhook_listen, port=settings.webhook_port,
            reason=exc.strerror or exc)) from None
    sock.listen(128)
    sock.setblocking(False)
    return sock


class WebhookWorker:
    """One worker: the Application started without its updater, and the HTTP server.

    ``await start()`` initialises the bot (post_init: leader election, on the leader the
    schedules, the catch-up and setWebhook), then serves; ``await stop()`` undoes it all.
    ``settings.webhook_port`` 0 picks a free port (tests); :attr:`port` tells which.
    """

    def __init__(self, app: Any, settings: Settings) -> None:
        from schedules.jobs import LEADER_HOOKS_KEY

        self.app = app
        self.settings = settings
        self.asgi = WebhookApp(app, path=settings.webhook_path,
                               secret=settings.webhook_secret or "")
        app.bot_data.setdefault(LEADER_HOOKS_KEY, []).append(set_webhook)
        self.server: Any = None
        self._serving: asyncio.Task[None] | None = None
        self._sock: socket.socket | None = None
        self.port = settings.webhook_port

    async def start(self) -> None:
        import uvicorn

        class Server(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self) -> Iterator[None]:
                yield  # run_webhook handles SIGTERM/SIGINT itself and shuts down in order

        self._sock = _bind(self.settings)
        self.port = self._sock.getsockname()[1]
        app = self.app
        with _startup_errors(self.settings):
            await app.initialize()
            if app.post_init:
                await app.post_init(app)
        await app.start()
        config = uvicorn.Config(self.asgi, lifespan="off", access_log=False,
                                log_level="warning", proxy_headers=True,
                                forwarded_allow_ips="127.0.0.1", timeout_graceful_shutdown=10)
        self.server = Server(config)
        self._serving = asyncio.get_running_loop().create_task(
            self.server.serve(sockets=[self._sock]), name="webhook-server")
        while not self.server.started:
            if self._serving.done():
                self._serving.result()  # raises what stopped it
                raise StartupError("Máy chủ webhook dừng ngay khi khởi động.")
            await asyncio.sleep(0.01)
        logger.info("webhook worker listening on %s:%s%s", self.settings.webhook_listen,
                    self.port, self.settings.webhook_path)

    async def wait(self) -> None:
        if self._serving is not None:
            await self._serving

    async def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
        if self._serving is not None:
            with contextlib.suppress(Exception):
                await self._serving
            self._serving = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        app = self.app
        if app.running:
            await app.stop()
            if app.post_stop:
                await app.post_stop(app)
        await app.shutdown()
        if app.post_shutdown:
            await app.post_shutdown(app)


def run_webhook(settings: Settings, *, today: date | None) -> int:
    """Serve Telegram's webhook posts until SIGTERM/SIGINT (one worker process)."""
    from handlers.app import build_application

    configure_logging(secrets=_secrets(settings))
    clock: Clock = ShiftedClock(today, settings.tz) if today else SystemClock(settings.tz)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # With DATABASE_URL every worker shares the PostgreSQL database; the TinyDB file's lock
    # lets only one process use it (WORKERS>1 without DATABASE_URL is refused at start).
    store = open_store(settings)
    try:
        app = build_application(settings, store, clock)
        logger.info("bot starting (webhook) with %s (database %s)", settings,
                    _database(settings))
        asyncio.run(_serve(app, settings))
    finally:
        store.close()
    return 0


async def _serve(app: Any, settings: Settings) -> None:
    worker = WebhookWorker(app, settings)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await worker.start()
        waiter = loop.create_task(stop.wait())
        serving = loop.create_task(worker.wait())
        await asyncio.wait({waiter, serving}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        logger.info("webhook worker stopping")
    finally:
        await worker.stop()
