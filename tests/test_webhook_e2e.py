"""Webhook mode end to end: the real Application behind the worker's HTTP server, Telegram
played by the fake Bot API server (which records setWebhook and posts updates to the webhook).

A post with the right X-Telegram-Bot-Api-Secret-Token is answered; without it, or with another
value, it gets 403 and the bot never sees it. Start-up refuses a webhook without a proper
secret, and several workers without PostgreSQL. The last test runs three worker processes on
one PostgreSQL database (leadership only: the shared store is not wired in yet, see
docs/deploy.md).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from bot.clock import FixedClock
from bot.config import Settings, load_settings
from bot.errors import ConfigError
from bot.store import Store
from launch.telegram import WebhookWorker
from localchat.fakeapi import FakeBotApi
from tests.conftest import TZ
from tests.pgcluster import free_port

ROOT = Path(__file__).resolve().parent.parent
SECRET = "w3bh00k-Secret_" + "x" * 25
ADMIN = 1001


class Worker:
    """One in-process worker on a free port, against ``api``."""

    def __init__(self, api: FakeBotApi, tmp_path: Path) -> None:
        from handlers.app import build_application

        port = free_port()
        self.url = f"http://127.0.0.1:{port}/telegram"
        self.settings = Settings(bot_token=api.token, admin_ids=frozenset({ADMIN}),
                                 data_dir=tmp_path, webhook_url=self.url,
                                 webhook_secret=SECRET, webhook_port=port)
        self.store = Store(tmp_path / "bot.json")
        clock = FixedClock(datetime(2022, 12, 20, 9, 0, tzinfo=TZ))
        app = build_application(self.settings, self.store, clock, token=api.token,
                                base_url=api.base_url, base_file_url=api.base_file_url)
        self.worker = WebhookWorker(app, self.settings)

    def run(self, scenario) -> None:  # type: ignore[no-untyped-def]
        async def main() -> None:
            await self.worker.start()
            try:
                await asyncio.wait_for(scenario(self.worker), 60)
            finally:
                await self.worker.stop()

        try:
            asyncio.run(main())
        finally:
            self.store.close()


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    with FakeBotApi() as server:
        yield server


def http(url: str, method: str = "GET", body: bytes | None = None) -> int:
    request = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as err:
        return int(err.code)


def test_update_with_the_secret_is_answered_others_get_403(api: FakeBotApi,
                                                          tmp_path: Path) -> None:
    worker = Worker(api, tmp_path)
    seen: dict = {}

    async def scenario(w: WebhookWorker) -> None:
        # The only process is the leader: it registered the webhook, with the secret.
        assert api.webhook_calls == [{**api.webhook_calls[0], "url": worker.url,
                                      "secret_token": SECRET}]
        assert api.webhook_calls[0]["allowed_updates"] == [
            "message", "callback_query", "my_chat_member"]

        # Telegram (the fake) posts a user's message with the registered secret: answered.
        api.user_message(5001, "/start", user_id=5001)
        assert await api.async_wait_for(lambda: api.messages_to(5001), 10)
        assert [e["status"] for e in api.webhook_log] == [200]

        # Forged posts: no header, a wrong one, the right one with a different case.
        for secret in (None, "not-the-secret-" + "y" * 25, SECRET.upper(), ""):
            update = api.message_update(6002, "/start", user_id=6002)
            status = await asyncio.to_thread(api.post_webhook, update, url=worker.url,
                                             secret_token=secret if secret else None)
            seen.setdefault("forged", []).append(status)
        # Updates are handled in arrival order: once a later good one is answered, the
        # forged ones would have been answered before it had they been let in.
        good = api.message_update(7003, "/help", user_id=7003)
        seen["good"] = await asyncio.to_thread(api.post_webhook, good, url=worker.url)
        assert await api.async_wait_for(lambda: api.messages_to(7003), 10)
        seen["to_forger"] = api.messages_to(6002)
        seen["counts"] = (w.asgi.accepted, w.asgi.refused)

        base = worker.url.rsplit("/", 1)[0]
        seen["health"] = await asyncio.to_thread(http, base + "/healthz")
        seen["get_hook"] = await asyncio.to_thread(http, worker.url)
        seen["other_path"] = await asyncio.to_thread(http, base + "/other", "POST", b"{}")
        seen["not_json"] = await asyncio.to_thread(_post_raw, worker.url, b"{not json")

    worker.run(scenario)
    assert seen["forged"] == [403, 403, 403, 403]
    assert seen["good"] == 200
    assert seen["to_forger"] == []
    assert seen["counts"] == (2, 4)
    assert (seen["health"], seen["get_hook"], seen["other_path"], seen["not_json"]) == \
        (200, 405, 404, 400)


def _post_raw(url: str, body: bytes) -> int:
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as err:
        return int(err.code)


def test_polling_is_refused_while_the_webhook_is_set(api: FakeBotApi, tmp_path: Path) -> None:
    worker = Worker(api, tmp_path)

    async def scenario(w: WebhookWorker) -> None:
        status = await asyncio.to_thread(_post_raw, f"{api.base_url}{api.token}/getUpdates", b"")
        assert status == 409  # as Telegram: a webhook and getUpdates exclude each other

    worker.run(scenario)


# ---------------------------------------------------------------------------- settings
BASE = {"BOT_TOKEN": "123456789:FAKE-token-for-local-tests",
        "WEBHOOK_URL": "https://bot.example.gov.vn/telegram"}


@pytest.mark.parametrize("env, words", [
    ({}, "cần WEBHOOK_SECRET"),
    ({"WEBHOOK_SECRET": "short-secret"}, "WEBHOOK_SECRET không hợp lệ (12 ký tự)"),
    ({"WEBHOOK_SECRET": "có dấu " + "x" * 40}, "chỉ gồm chữ không dấu"),
    ({"WEBHOOK_SECRET": SECRET, "WEBHOOK_URL": "http://bot.example.gov.vn/t"},
     "chỉ gửi tới địa chỉ https://"),
    ({"WEBHOOK_SECRET": SECRET, "WORKERS": "3"}, "chỉ MỘT tiến trình bot"),
    ({"WEBHOOK_SECRET": SECRET, "WORKERS": "0"}, "WORKERS không hợp lệ"),
    ({"WEBHOOK_SECRET": SECRET, "WEBHOOK_PORT": "70000"}, "WEBHOOK_PORT không hợp lệ"),
    ({"WEBHOOK_SECRET": SECRET, "DATABASE_URL": "mysql://u:pw@h/db"},
     "DATABASE_URL không hợp lệ"),
])
def test_bad_deployment_settings_are_refused_in_vietnamese(env: dict, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({**BASE, **env}, env_file=None)
    assert words in info.value.message
    assert SECRET not in info.value.message and "pw@" not in info.value.message


def test_several_workers_need_the_webhook_too() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({"BOT_TOKEN": BASE["BOT_TOKEN"], "WORKERS": "2",
                       "DATABASE_URL": "postgresql://bot:pw@db/bot"}, env_file=None)
    assert "long polling" in info.value.message


def test_settings_never_show_the_webhook_secret_nor_the_database_password() -> None:
    settings = load_settings({**BASE, "WEBHOOK_SECRET": SECRET, "WORKERS": "3",
                              "WEBHOOK_PORT": "8002",
                              "DATABASE_URL": "postgresql://bot:S3cretPw@db:5432/bot"},
                             env_file=None)
    assert (settings.workers, settings.webhook_port, settings.webhook_path) == \
        (3, 8002, "/telegram")
    text = repr(settings)
    assert SECRET not in text and "S3cretPw" not in text
    assert "postgresql://bot:***@db:5432/bot" in text and "webhook_secret='***'" in text


def test_the_command_line_refuses_a_webhook_without_secret(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBHOOK_", "BOT_"))}
    env.update(BASE, PYTHONIOENCODING="utf-8", DATA_DIR=str(tmp_path / "data"),
               WEBHOOK_SECRET="abc", PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "bot", "run"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "Lỗi: WEBHOOK_SECRET không hợp lệ (3 ký tự)" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


# ------------------------------------------------------------------ three worker processes
WORKERS = 3


def _start_worker(api: FakeBotApi, pg_url: str, tmp_path: Path, index: int, port: int,
                  hook_url: str) -> tuple[subprocess.Popen, Path]:
    data = tmp_path / f"w{index}"
    data.mkdir()
    log = tmp_path / f"w{index}.log"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("WEBHOOK_", "BOT_", "DATABASE_", "WORKERS", "ADMIN_"))}
    env.update(PYTHONIOENCODING="utf-8", PYTHONPATH=str(ROOT), BOT_TOKEN=api.token,
               BOT_API_URL=api.base_url, WEBHOOK_URL=hook_url, WEBHOOK_SECRET=SECRET,
               WEBHOOK_PORT=str(port), WORKERS=str(WORKERS), DATABASE_URL=pg_url,
               DATA_DIR=str(data))
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=tmp_path, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    return proc, log


def _wait(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _healthy(port: int) -> bool:
    try:
        return http(f"http://127.0.0.1:{port}/healthz") == 200
    except OSError:
        return False


def test_three_workers_one_leader_each_update_answered_once_leader_killed(
        api: FakeBotApi, pg_url: str, tmp_path: Path) -> None:
    ports = [free_port() for _ in range(WORKERS)]
    hook = f"http://127.0.0.1:{ports[0]}/telegram"  # the proxy's address in production
    procs = [_start_worker(api, pg_url, tmp_path, i, port, hook)
             for i, port in enumerate(ports)]
    try:
        for (proc, log), port in zip(procs, ports, strict=True):
            _wait(lambda p=port, pr=proc: _healthy(p) or pr.poll() is not None, 90,
                  f"worker on {port}")
            assert proc.poll() is None, log.read_text(errors="replace")
        leaders = [i for i, (_, log) in enumerate(procs)
                   if "now the scheduler leader" in log.read_text(errors="replace")]
        assert len(leaders) == 1, leaders
        assert len(api.webhook_calls) == 1  # only the leader called setWebhook

        # Twelve users at once, spread over the three workers (the proxy's job): each
        # update reaches one worker and is answered exactly once.
        chats = list(range(8001, 8013))
        updates = [api.message_update(c, "/help", user_id=c) for c in chats]
        results: list[int] = [0] * len(updates)

        def post(i: int) -> None:
            url = f"http://127.0.0.1:{ports[i % WORKERS]}/telegram"
            results[i] = api.post_webhook(updates[i], url=url)

        import threading

        threads = [threading.Thread(target=post, args=(i,)) for i in range(len(updates))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results == [200] * len(updates)
        api.wait_for(lambda: all(api.messages_to(c) for c in chats), 30)
        sends = [r for r in api.sent if r["method"] == "sendMessage" and r["ok"]]
        assert sorted(r["chat_id"] for r in sends) == chats

        # kill -9 the leader: another worker takes the lock within its retry period
        # (10-20 s) and, as the new leader, registers the webhook again.
        old = leaders[0]
        procs[old][0].send_signal(signal.SIGKILL)
        procs[old][0].wait(timeout=30)
        api.wait_for(lambda: len(api.webhook_calls) == 2, 60)
        new = [i for i, (_, log) in enumerate(procs)
               if i != old and "now the scheduler leader" in log.read_text(errors="replace")]
        assert len(new) == 1
        assert all(procs[i][0].poll() is None for i in range(WORKERS) if i != old)
    finally:
        for proc, _ in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc, _ in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    # SIGTERM: each surviving worker shut down in order (exit status 0, "bot stopped").
    for i, (proc, log) in enumerate(procs):
        if i != old:
            text = log.read_text(errors="replace")
            assert proc.returncode == 0 and "bot stopped" in text, text[-2000:]
            assert SECRET not in text and api.token.split(":")[1] not in text
    json.dumps(api.webhook_calls)  # the calls are plain data
