"""Long work off the update path: broadcasts run in the background, chats are answered
concurrently and each chat's updates stay in order, through the real Application and the
fake Bot API.

Nothing here measures time: the tests assert on the order in which the fake server received
messages (``api.sent`` is in arrival order). The latency figures are in ``bench.background``.
"""

from __future__ import annotations

import collections
import dataclasses
from datetime import timedelta

import pytest
from telegram.ext import AIORateLimiter

import handlers.app
from tests.conftest import BotEnv

HEADING = "📢 <b>Thông báo</b>"
SECOND_ADMIN = 1003
STRANGER = BotEnv.USER


def _members(env: BotEnv, query: str, first: int, count: int) -> tuple[str, list[int]]:
    """``count`` private chats, members of the unit (as an admin's /dangky makes them)."""
    unit = env.store.match_unit(query)
    chats = list(range(first, first + count))
    for chat in chats:
        env.store.subscribe(chat, unit.key, title=f"Cán bộ {chat}", chat_type="private",
                            actor=env.ADMIN, now=env.clock.now())
        env.api.add_chat(chat, "private", first_name=f"Cán bộ {chat}")
    return unit.key, chats


def _group(env: BotEnv, chat_id: int, query: str) -> str:
    unit = env.store.match_unit(query)
    env.store.subscribe(chat_id, unit.key, title=f"Nhóm {unit.name}", chat_type="supergroup",
                        actor=env.ADMIN, now=env.clock.now())
    env.api.add_chat(chat_id, "supergroup", title=f"Nhóm {unit.name}")
    return unit.key


def _announcements(env: BotEnv) -> list[tuple[int, dict]]:
    """(position in api.sent, record) of every announcement copy the server accepted."""
    return [(i, r) for i, r in enumerate(env.api.sent)
            if r["ok"] and r["method"] == "sendMessage" and HEADING in (r["text"] or "")]


def _position(env: BotEnv, record: dict) -> int:
    return next(i for i, r in enumerate(env.api.sent) if r is record or (
        r["chat_id"] == record["chat_id"] and r["message_id"] == record["message_id"]
        and r["method"] == record["method"] and r["text"] == record["text"]))


@pytest.fixture
def faster_limiter(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Application's rate limiter at 300 messages/s instead of 30.

    Only to keep a 2,000-chat broadcast at ~7 s instead of ~67 s in the suite; its shape is
    unchanged (one request per interval, no retries), so a broadcast still cannot end before
    2,000 intervals have passed. ``python -m bench.background`` runs the real 30/s.
    """
    def limiter(**_: object) -> AIORateLimiter:
        return AIORateLimiter(overall_max_rate=1, overall_time_period=1 / 300, max_retries=0)

    monkeypatch.setattr(handlers.app, "AIORateLimiter", limiter)


def test_help_is_answered_while_a_2000_chat_broadcast_runs(bot_env, faster_limiter) -> None:
    bot_env.load_samples()
    _, chats = _members(bot_env, "tai chinh", 300_001, 2000)
    seen: dict[str, int] = {}

    async def scenario(app) -> None:
        [ack] = await bot_env.ask(bot_env.ADMIN, "/thongbao tai chinh: Họp giao ban lúc 14h",
                                  user_id=bot_env.ADMIN)
        assert "Đang gửi thông báo tới 2000 nhóm" in ack["text"]
        # Generous waits (a loaded machine): the order of what the server received, checked
        # below, is what shows the answers did not wait for the broadcast.
        [help_reply] = await bot_env.ask(STRANGER, "/help", user_id=STRANGER, timeout=60)
        seen["help"] = _position(bot_env, help_reply)
        seen["copies_by_then"] = len(_announcements(bot_env))
        # The sender's own chat is not held either: the broadcast is no handler of it.
        [own] = await bot_env.ask(bot_env.ADMIN, "/vanban", user_id=bot_env.ADMIN, timeout=60)
        seen["own"] = _position(bot_env, own)
        ok = await bot_env.api.async_wait_for(
            lambda: len(bot_env.api.messages_to(bot_env.ADMIN)) >= 3, 240)
        assert ok, "no final report"

    bot_env.run(scenario, timeout=300)
    copies = _announcements(bot_env)
    received = collections.Counter(r["chat_id"] for _, r in copies)
    assert sorted(received) == chats and set(received.values()) == {1}  # all, exactly once
    ack, own, report = bot_env.api.messages_to(bot_env.ADMIN)
    assert "Văn bản đã nhập" in own["text"]
    assert "Đã gửi thông báo tới 2000/2000 nhóm" in report["text"]
    # /help and /vanban went out while the broadcast was still sending, not after it.
    assert seen["copies_by_then"] < 2000
    # (/help may even beat the first copy on a busy machine: what matters is the last one.)
    assert seen["help"] < seen["own"] < copies[-1][0] < _position(bot_env, report)
    assert _position(bot_env, ack) < copies[0][0]  # acknowledged before the first copy
    [logged] = bot_env.store.announcements()
    assert sorted(logged.chat_ids) == chats and logged.failed == ()


def test_two_admins_broadcast_at_once_and_nothing_is_sent_twice(bot_env) -> None:
    """Real rate limiter: 100 + 160 messages, both broadcasts overlapping."""
    bot_env.settings = dataclasses.replace(
        bot_env.settings, admin_ids=frozenset({bot_env.ADMIN, SECOND_ADMIN}))
    bot_env.load_samples()
    _, finance = _members(bot_env, "tai chinh", 400_001, 100)
    _, health = _members(bot_env, "y te", 500_001, 60)
    bot_env.api.add_chat(SECOND_ADMIN, "private")

    async def scenario(app) -> None:
        # Both commands are queued before the bot fetches either.
        bot_env.api.user_message(bot_env.ADMIN, "/thongbao tai chinh: Nộp báo cáo quý",
                                 user_id=bot_env.ADMIN)
        bot_env.api.user_message(SECOND_ADMIN, "/thongbao tất cả: Nghỉ Tết từ 20/01",
                                 user_id=SECOND_ADMIN)
        ok = await bot_env.api.async_wait_for(
            lambda: len(bot_env.api.messages_to(bot_env.ADMIN)) >= 2
            and len(bot_env.api.messages_to(SECOND_ADMIN)) >= 2, 120)
        assert ok, "a broadcast did not report"

    bot_env.run(scenario, timeout=180)
    copies = _announcements(bot_env)
    by_chat = collections.defaultdict(list)
    for _, record in copies:
        by_chat[record["chat_id"]].append(record["text"])
    assert all(len(texts) == len(set(texts)) for texts in by_chat.values())  # none twice
    assert all(len(by_chat[c]) == 2 for c in finance)  # both announcements
    assert all(len(by_chat[c]) == 1 and "Nghỉ Tết" in by_chat[c][0] for c in health)
    assert len(copies) == 2 * len(finance) + len(health)
    first = [i for i, r in copies if "Nộp báo cáo quý" in r["text"]]
    second = [i for i, r in copies if "Nghỉ Tết" in r["text"]]
    assert second[0] < first[-1] and first[0] < second[-1]  # they ran side by side
    [_, report_a] = bot_env.api.messages_to(bot_env.ADMIN)
    [_, report_b] = bot_env.api.messages_to(SECOND_ADMIN)
    assert "Đã gửi thông báo tới 100/100 nhóm" in report_a["text"]
    assert "Đã gửi thông báo tới 160/160 nhóm của tất cả đơn vị" in report_b["text"]
    assert len(bot_env.store.announcements()) == 2


def test_concurrent_done_from_two_chats_closes_the_task_once(bot_env) -> None:
    bot_env.load_samples()
    key = _group(bot_env, -100601, "tai chinh")
    _group(bot_env, -100602, "tai chinh")
    task = next(t for t in bot_env.store.open_tasks(key) if key in t.lead)
    # Queued before the bot starts: both arrive in one getUpdates batch and are processed
    # concurrently (different chats).
    for chat in (-100601, -100602):
        bot_env.api.user_message(chat, f"/xong {task.code} nhóm {chat} báo", user_id=2002,
                                 chat_type="supergroup")

    async def scenario(app) -> None:
        ok = await bot_env.api.async_wait_for(
            lambda: all(bot_env.api.messages_to(c) for c in (-100601, -100602)), 10)
        assert ok

    bot_env.run(scenario)
    replies = [bot_env.api.messages_to(c)[0]["text"] for c in (-100601, -100602)]
    assert sum("Đã ghi nhận hoàn thành" in r for r in replies) == 1
    assert sum("đã được đánh dấu hoàn thành" in r for r in replies) == 1
    done = [e for e in bot_env.store.history(task.code) if e.kind == "done"]
    assert len(done) == 1 and not bot_env.store.task(task.code).is_open


def test_one_chats_commands_are_answered_in_order(bot_env) -> None:
    """/xong, /thongke (a table, then a chart drawn in a worker thread), /chitiet, /mo,
    /chitiet in one chat, queued at once: answered one command after the other, in order (the
    chart is not overtaken by the next command's answer), while a neighbour chat is answered
    concurrently."""
    bot_env.load_samples()
    key = _group(bot_env, -100701, "tai chinh")
    _group(bot_env, -100702, "y te")
    task = next(t for t in bot_env.store.open_tasks(key) if key in t.lead)
    commands = [(-100701, f"/xong {task.code}"), (-100702, "/nhiemvu"),
                (-100701, "/thongke"), (-100701, f"/chitiet {task.code}"),
                (-100702, "/donvi"), (-100701, f"/mo {task.code}"),
                (-100701, f"/chitiet {task.code}")]
    for chat, text in commands:
        bot_env.api.user_message(chat, text, user_id=2002, chat_type="supergroup")

    async def scenario(app) -> None:
        ok = await bot_env.api.async_wait_for(
            lambda: len(bot_env.api.messages_to(-100701)) >= 6
            and len(bot_env.api.messages_to(-100702)) >= 2, 30)
        assert ok

    bot_env.run(scenario)
    got = bot_env.api.messages_to(-100701)
    assert [m["method"] for m in got] == ["sendMessage"] * 2 + ["sendPhoto"] + ["sendMessage"] * 3
    closed, table, _, shown_done, reopened, shown_open = (m["text"] for m in got)
    assert "Đã ghi nhận hoàn thành" in closed
    assert "Tình hình thực hiện nhiệm vụ" in table
    assert "đã hoàn thành" in shown_done
    assert "Đã mở lại" in reopened
    assert "chưa hoàn thành" in shown_open


def test_scheduled_announcement_reports_to_its_author_once(bot_env) -> None:
    bot_env.load_samples()
    key, chats = _members(bot_env, "tai chinh", 600_001, 3)
    bot_env.api.add_chat(bot_env.ADMIN, "private")
    at = bot_env.clock.now() + timedelta(hours=1)
    item = bot_env.store.schedule_announcement("Họp <khẩn> & ngay", [key], at,
                                               actor=bot_env.ADMIN, now=bot_env.clock.now())

    async def scenario(app) -> None:
        [sweep] = app.job_queue.get_jobs_by_name("sweep")
        bot_env.clock.set(at + timedelta(minutes=1))
        await sweep.run(app)
        await sweep.run(app)  # a second sweep neither resends nor reports again

    bot_env.run(scenario)
    assert all(len(bot_env.api.messages_to(c)) == 1 for c in chats)
    [report] = bot_env.api.messages_to(bot_env.ADMIN)
    assert f"Thông báo đã hẹn (mã {item})" in report["text"]
    assert "Đã gửi thông báo tới 3/3 nhóm" in report["text"]


def test_report_names_at_most_20_failed_chats(bot_env) -> None:
    from schedules.announce import MAX_NAMED_CHATS, report_text
    from schedules.dispatch import Report

    bot_env.load_samples()
    _, chats = _members(bot_env, "tai chinh", 700_001, 30)
    report = Report(sent=0, skipped=0, undeliverable=30, failed=0, failed_chats=tuple(chats))
    text = report_text(bot_env.store, "Phòng <Tài chính>", 30, report)
    assert "Đã gửi thông báo tới 0/30 nhóm của Phòng &lt;Tài chính&gt;." in text
    assert text.count("Cán bộ") == MAX_NAMED_CHATS == 20
    assert text.endswith("và 10 nhóm khác.")
