"""Shared fixtures: a fake Telegram server, a temporary database, a fixed clock, the real bot.

``bot_env`` runs the real python-telegram-bot ``Application`` (built by
:func:`handlers.app.build_application`) against :class:`localchat.fakeapi.FakeBotApi` on 127.0.0.1,
so tests assert on the messages the server received. Nothing sleeps for real time beyond
waiting for the bot's answer.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.clock import FixedClock
from bot.config import Settings
from bot.store import Store
from localchat.fakeapi import FakeBotApi

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@functools.cache
def _parsed_samples() -> tuple:
    from bot.plans import parse_file

    return tuple((path.name, hashlib.sha256(path.read_bytes()).hexdigest(), parse_file(path))
                 for path in sorted(SAMPLES.iterdir())
                 if path.suffix.lower() in (".txt", ".md", ".docx", ".pdf"))


class BotEnv:
    """Everything an end-to-end test touches; see the module docstring."""

    ADMIN = 1001
    USER = 2002

    def __init__(self, api: FakeBotApi, store: Store, clock: FixedClock,
                 settings: Settings) -> None:
        self.api = api
        self.store = store
        self.clock = clock
        self.settings = settings
        self.app = None

    def load_samples(self) -> list:
        """Import the five sample plans (parsed once per session); returns the ImportResults."""
        return [self.store.import_plan(plan, filename=name, file_hash=digest, actor=self.ADMIN,
                                       now=self.clock.now())
                for name, digest, plan in _parsed_samples()]

    def build(self):  # type: ignore[no-untyped-def]
        from handlers.app import build_application

        return build_application(self.settings, self.store, self.clock, token=self.api.token,
                                 base_url=self.api.base_url,
                                 base_file_url=self.api.base_file_url)

    def run(self, scenario: Callable[[object], Awaitable[None]], timeout: float = 60) -> None:
        """Start the bot, run ``async scenario(app)``, stop the bot (also on failure)."""

        async def main() -> None:
            from handlers.app import stop_application as _stop
            from localchat.console import _start

            app = self.build()
            self.app = app
            await _start(app)
            try:
                await asyncio.wait_for(scenario(app), timeout)
            finally:
                await _stop(app)

        asyncio.run(main())

    async def ask(self, chat_id: int, text: str, *, user_id: int | None = None, n: int = 1,
                  timeout: float = 5.0, **kw: object) -> list[dict]:
        """Send ``text`` as a user and wait for ``n`` new messages to ``chat_id``; return them."""
        before = len(self.api.messages_to(chat_id))
        self.api.user_message(chat_id, text, user_id=user_id or chat_id, **kw)  # type: ignore[arg-type]
        ok = await self.api.async_wait_for(
            lambda: len(self.api.messages_to(chat_id)) >= before + n, timeout)
        new = self.api.messages_to(chat_id)[before:]
        if not ok:
            raise TimeoutError(f"expected {n} message(s) to {chat_id} after {text!r}, "
                               f"got {[m.get('text') for m in new]}")
        return new

    async def press(self, chat_id: int, message_id: int, data: str, *,
                    user_id: int | None = None, timeout: float = 5.0) -> dict:
        """Press a button and wait until the bot answers the callback; return the answer."""
        before = len(self.api.answered_callbacks)
        self.api.press_button(chat_id, message_id, data, user_id=user_id or chat_id)
        ok = await self.api.async_wait_for(
            lambda: len(self.api.answered_callbacks) > before, timeout)
        if not ok:
            raise TimeoutError(f"callback {data!r} was not answered")
        return self.api.answered_callbacks[before]


@pytest.fixture
def bot_env(tmp_path: Path) -> Iterator[BotEnv]:
    clock = FixedClock(datetime(2022, 12, 20, 9, 0, tzinfo=TZ))
    settings = Settings(bot_token=None, admin_ids=frozenset({BotEnv.ADMIN}),
                        data_dir=tmp_path)
    store = Store(tmp_path / "bot.json")
    with FakeBotApi() as api:
        yield BotEnv(api, store, clock, settings)
        # Telegram shows a "&" that starts no entity as written, so it accepts unescaped
        # text; the bot must still have escaped everything it put into HTML.
        unescaped = [r["text"] for r in api.unescaped]
    store.close()
    assert unescaped == [], "messages with text not escaped for HTML"


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[object]:
    """One throwaway PostgreSQL server for the whole run (see :mod:`tests.pgcluster`)."""
    import os

    from tests.pgcluster import PgCluster, PostgresUnavailable

    try:
        cluster = PgCluster()
    except PostgresUnavailable as exc:
        if os.environ.get("BOT_TESTS_NO_POSTGRES") == "1":
            pytest.skip(f"BOT_TESTS_NO_POSTGRES=1: {exc}")
        pytest.fail(str(exc), pytrace=False)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(pg_cluster) -> str:  # type: ignore[no-untyped-def]
    """A fresh, empty database on the test server: its connection URL."""
    return pg_cluster.database()
