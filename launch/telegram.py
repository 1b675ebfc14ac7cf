"""Run the bot on Telegram: long polling, or a webhook worker (several behind a proxy).

Opens the store the settings name, builds the Application (:mod:`handlers.app`), turns a
refused token or an unreachable API into a Vietnamese message.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import signal
import socket
from collections.abc import Iterator
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from bot.clock import Clock, ShiftedClock, SystemClock
from bot.config import Settings
from bot.errors import StartupError
from bot.store import open_store
from handlers.app import stop_application
from launch.logs import configure_logging

logger = logging.getLogger(__name__)


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
        await stop_application(self.app)


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
