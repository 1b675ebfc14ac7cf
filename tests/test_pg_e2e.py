"""The real bot (Application + fake Bot API) on a PostgreSQL database chosen by DATABASE_URL.

The same scenario as the TinyDB tests (tests/test_actions_e2e.py): import, memberships,
/xong, /mo, /timkiem, /nhiemvu; then a second process's view and a restart prove that every
change is in the database, not in the bot's memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from telegram.ext import Application

from bot.clock import FixedClock
from bot.config import Settings
from bot.pgstore import PgRepository
from bot.store import Store
from localchat.fakeapi import FakeBotApi
from tests.conftest import TZ, BotEnv
from tests.test_actions_e2e import CA_CHAT, TC_CHAT, YTE_CHAT, _setup


@pytest.fixture
def pg_env(tmp_path: Path, pg_url: str) -> Iterator[BotEnv]:
    clock = FixedClock(datetime(2022, 12, 20, 9, 0, tzinfo=TZ))
    settings = Settings(bot_token=None, admin_ids=frozenset({BotEnv.ADMIN}),
                        data_dir=tmp_path, database_url=pg_url)
    store = Store.open(settings)
    assert isinstance(store.repo, PgRepository)
    with FakeBotApi() as api:
        yield BotEnv(api, store, clock, settings)
        unescaped = [r["text"] for r in api.unescaped]
    store.close()
    assert unescaped == [], "messages with text not escaped for HTML"
    assert not (tmp_path / "bot.json").exists()  # nothing went to a TinyDB file


def test_commands_on_postgresql(pg_env: BotEnv) -> None:
    s = _setup(pg_env)
    task = s["vaccines"]

    async def scenario(app: Application) -> None:
        [board] = await pg_env.ask(YTE_CHAT, "/nhiemvu", user_id=pg_env.USER,
                                   chat_type="group")
        assert f"#{task.id}" in board["text"]
        [reply] = await pg_env.ask(YTE_CHAT, f"/xong {task.id} đã tiêm <đủ>",
                                   user_id=pg_env.USER, chat_type="group")
        assert f"#{task.id} — hoàn thành đúng hạn." in reply["text"]
        assert "đã tiêm &lt;đủ&gt;" in reply["text"]
        [again] = await pg_env.ask(YTE_CHAT, f"/xong {task.id}", user_id=pg_env.USER,
                                   chat_type="group")
        assert "đã được đánh dấu hoàn thành" in again["text"]
        [other] = await pg_env.ask(TC_CHAT, f"/xong {s['census'].id}", user_id=pg_env.USER,
                                   chat_type="group")
        assert "Công an thành phố" in other["text"]  # refused: not the lead
        [found] = await pg_env.ask(YTE_CHAT, "/timkiem tiem", user_id=pg_env.USER,
                                   chat_type="group")
        assert f"#{task.id}" in found["text"]

    pg_env.run(scenario)
    # another process sees what the bot wrote, and nothing the refusals would have changed
    with PgRepository(pg_env.settings.database_url, read_only=True) as other:
        done = other.task(task.id)
        assert not done.is_open and done.done_by == pg_env.USER
        assert done.note == "đã tiêm <đủ>"
        assert other.task(s["census"].id).is_open
        assert [e.kind for e in other.task_history(task.id)][-1] == "done"
        assert {m.chat_id for m in other.memberships()} == {YTE_CHAT, CA_CHAT, TC_CHAT}

    # a restart: a new Store on the same database answers from it
    pg_env.store.close()
    pg_env.store = Store.open(pg_env.settings)

    async def after_restart(app: Application) -> None:
        [opened] = await pg_env.ask(YTE_CHAT, f"/mo {task.id}", user_id=pg_env.USER,
                                    chat_type="group")
        assert f"Đã mở lại nhiệm vụ #{task.id}" in opened["text"]

    pg_env.run(after_restart)
    assert pg_env.store.task(task.id).is_open
