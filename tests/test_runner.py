"""launch.telegram at start-up: a token the Bot API refuses, or an API that cannot be reached,
ends with a Vietnamese message and exit status 2, without a traceback and without the token."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import Settings
from bot.errors import StartupError
from launch import telegram as runner
from localchat.fakeapi import FakeBotApi

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "987654321:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
"""Well formed, but not the fake server's token: it answers 401 Unauthorized."""


def run_bot(tmp_path: Path, api_url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("BOT_TOKEN", "ADMIN_IDS")}
    env.update(PYTHONIOENCODING="utf-8", DATA_DIR=str(tmp_path / "data"), BOT_TOKEN=TOKEN,
               BOT_API_URL=api_url)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "bot", "run"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=120)


def assert_clean_failure(proc: subprocess.CompletedProcess[str], message: str) -> None:
    output = proc.stdout + proc.stderr
    assert proc.returncode == 2, output
    assert message in proc.stderr, output
    assert "Traceback" not in output, output
    assert TOKEN not in output and TOKEN.split(":")[1] not in output, output


def test_token_refused_by_the_bot_api(tmp_path: Path) -> None:
    with FakeBotApi() as api:
        proc = run_bot(tmp_path, api.base_url)
    assert_clean_failure(proc, "Lỗi: Máy chủ Bot API 127.0.0.1:")
    assert "từ chối BOT_TOKEN" in proc.stderr
    assert "bot_token='***'" in proc.stderr  # the start-up line still says who started


def test_bot_api_that_cannot_be_reached(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = run_bot(tmp_path, f"http://127.0.0.1:{port}/bot")
    assert_clean_failure(proc, f"Lỗi: Không kết nối được tới máy chủ Telegram (127.0.0.1:{port}) "
                               "khi khởi động (mất kết nối).")


class _App:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def run_polling(self, **_: object) -> None:
        raise self.error


@pytest.fixture
def failing_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """run_telegram with an Application whose polling raises the given error."""
    import handlers.app

    monkeypatch.setattr(runner, "configure_logging", lambda **_: None)

    def start(error: Exception, url: str | None = None) -> StartupError:
        monkeypatch.setattr(handlers.app, "build_application", lambda *a, **k: _App(error))
        settings = Settings(bot_token=TOKEN, data_dir=tmp_path, bot_api_url=url)
        with pytest.raises(StartupError) as info:
            runner.run_telegram(settings, today=None)
        return info.value

    return start


def test_token_refused_by_telegram_itself(failing_start) -> None:  # type: ignore[no-untyped-def]
    from telegram.error import InvalidToken

    error = failing_start(InvalidToken(f"The token `{TOKEN}` was rejected by the server."))
    assert error.message.startswith("Telegram từ chối BOT_TOKEN") and "@BotFather" in error.message
    assert error.__cause__ is None and error.__suppress_context__


def test_timeout_at_start_up_says_so(failing_start) -> None:  # type: ignore[no-untyped-def]
    from telegram.error import TimedOut

    error = failing_start(TimedOut())
    assert "(api.telegram.org) khi khởi động (hết thời gian chờ)" in error.message


def test_a_bad_request_at_start_up_is_not_called_a_network_problem(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from telegram.error import BadRequest

    import handlers.app

    monkeypatch.setattr(runner, "configure_logging", lambda **_: None)
    monkeypatch.setattr(handlers.app, "build_application",
                        lambda *a, **k: _App(BadRequest("Bad Request: command is invalid")))
    with pytest.raises(BadRequest):
        runner.run_telegram(Settings(bot_token=TOKEN, data_dir=tmp_path), today=None)
