"""Files through a self-hosted Bot API server (BOT_API_URL): downloads go to its file
address (BOT_FILE_URL, derived when not given), and a server in ``--local`` mode answers
getFile with an absolute path that the bot reads from disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_settings
from bot.errors import ConfigError
from tests.conftest import BotEnv
from tests.test_documents_e2e import _upload
from tests.test_importer import PLAN


@pytest.mark.parametrize(("api", "expected"), [
    ("https://tg.example.vn/bot", "https://tg.example.vn/file/bot"),
    ("http://127.0.0.1:8081/bot/", "http://127.0.0.1:8081/file/bot"),
    ("https://h.vn/telegram/bot", "https://h.vn/telegram/file/bot"),
    ("https://h.vn:8443", "https://h.vn:8443/file/bot"),
])
def test_file_url_is_derived_from_the_api_url(api: str, expected: str) -> None:
    settings = load_settings({"BOT_API_URL": api}, env_file=None)
    assert settings.bot_file_url == expected
    assert expected in repr(settings)


def test_file_url_given_wins_and_is_checked() -> None:
    given = load_settings({"BOT_API_URL": "https://a.vn/bot",
                           "BOT_FILE_URL": "https://files.a.vn/file/bot/"}, env_file=None)
    assert given.bot_file_url == "https://files.a.vn/file/bot"
    assert load_settings({}, env_file=None).bot_file_url is None  # Telegram's own
    with pytest.raises(ConfigError, match="BOT_FILE_URL"):
        load_settings({"BOT_FILE_URL": "ftp://x"}, env_file=None)


def _self_hosted(env: BotEnv) -> None:
    """Build the bot as `run` does with BOT_API_URL: only the settings name the server."""
    from handlers.app import build_application

    settings = load_settings({"BOT_API_URL": env.api.base_url, "ADMIN_IDS": str(env.ADMIN),
                              "DATA_DIR": str(env.settings.data_dir)}, env_file=None)
    env.settings = settings
    env.build = lambda: build_application(settings, env.store, env.clock,  # type: ignore
                                          token=env.api.token)


def _imported(env: BotEnv, messages: list[dict]) -> None:
    assert env.store.task_count > 0, [m["text"] for m in messages]
    assert "Hoàn tác" in str(messages[-1].get("reply_markup"))


def test_an_upload_is_downloaded_from_the_self_hosted_server(bot_env: BotEnv) -> None:
    _self_hosted(bot_env)

    async def scenario(app) -> None:
        got = await _upload(bot_env, bot_env.ADMIN, "kh.txt", PLAN.encode(),
                            user_id=bot_env.ADMIN, wait=30)
        _imported(bot_env, got)

    bot_env.run(scenario)


def test_a_local_server_absolute_path_is_read_from_disk(bot_env: BotEnv,
                                                        tmp_path: Path) -> None:
    _self_hosted(bot_env)
    bot_env.api.local_files(tmp_path / "telegram-bot-api")

    async def scenario(app) -> None:
        got = await _upload(bot_env, bot_env.ADMIN, "kh.txt", PLAN.encode(),
                            user_id=bot_env.ADMIN, wait=30)
        _imported(bot_env, got)

    bot_env.run(scenario)
    stored = list((tmp_path / "telegram-bot-api").rglob("*.txt"))
    assert len(stored) == 1 and stored[0].read_bytes() == PLAN.encode()
