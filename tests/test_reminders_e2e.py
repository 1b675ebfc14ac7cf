"""/nhacnho, /tamhoan and /thongbao through the real Application and the fake Bot API."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from handlers.reminders import parse_announcement, snooze_until
from tests.conftest import TZ

GROUP_TC = -100501
GROUP_YT = -100502


def _bind(env, chat_id: int, query: str) -> str:
    unit = env.store.match_unit(query)
    env.store.subscribe(chat_id, unit.key, title=f"Nhóm {unit.name}", chat_type="supergroup",
                        actor=env.ADMIN, now=env.clock.now())
    env.api.add_chat(chat_id, "supergroup", title=f"Nhóm {unit.name}")
    return unit.key


def _task_of(env, key: str):
    return next(t for t in env.store.open_tasks(key) if key in t.lead)


@pytest.mark.parametrize(("text", "expected"), [
    ("3 ngày", date(2022, 12, 23)),
    ("1 tuần", date(2022, 12, 27)),
    ("trong 2 tuan", date(2023, 1, 3)),
    ("đến 5/1/2023", date(2023, 1, 5)),
])
def test_snooze_spans(text: str, expected: date) -> None:
    assert snooze_until(text, date(2022, 12, 20)) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("tất cả: Họp giao ban 14h", ("tất cả", None, "Họp giao ban 14h")),
    ("Phòng Y tế\nNộp báo cáo", ("Phòng Y tế", None, "Nộp báo cáo")),
    ("tai chinh lúc 8 giờ sáng mai: Nộp báo cáo", ("tai chinh", "8 giờ sáng mai",
                                                   "Nộp báo cáo")),
    ("tai chinh lúc 25/12 14:00: Họp", ("tai chinh", "25/12 14:00", "Họp")),
])
def test_announcement_syntax(text: str, expected: tuple) -> None:
    assert parse_announcement(text) == expected


@pytest.mark.parametrize("text", ["", "tất cả", "tất cả:", ": nội dung", "lúc 8 giờ: họp"])
def test_announcement_syntax_errors(text: str) -> None:
    from bot.errors import UsageError

    with pytest.raises(UsageError, match="Cú pháp"):
        parse_announcement(text)


def test_nhacnho_sets_a_reminder_for_the_units_chat(bot_env) -> None:
    bot_env.load_samples()
    key = _bind(bot_env, GROUP_TC, "tai chinh")
    task = _task_of(bot_env, key)

    async def scenario(app) -> None:
        [reply] = await bot_env.ask(GROUP_TC, f"/nhacnho {task.code} 8 giờ sáng mai",
                                    user_id=2002, chat_type="supergroup")
        assert "08:00" in reply["text"] and "21/12/2022" in reply["text"]
        [bad] = await bot_env.ask(GROUP_TC, f"/nhacnho {task.code} ngày 31/02/2023",
                                  user_id=2002, chat_type="supergroup")
        assert "31/02" in bad["text"] or "không có" in bad["text"].lower()
        [missing] = await bot_env.ask(GROUP_TC, f"/nhacnho {task.code}", user_id=2002,
                                      chat_type="supergroup")
        assert "Cú pháp" in missing["text"]

    bot_env.run(scenario)
    [reminder] = bot_env.store.due_reminders(datetime(2022, 12, 31, tzinfo=TZ))
    assert reminder.task_id == task.id and reminder.chat_id == GROUP_TC
    assert reminder.at == datetime(2022, 12, 21, 8, 0, tzinfo=TZ)


def test_nhacnho_refuses_a_task_of_another_unit(bot_env) -> None:
    bot_env.load_samples()
    _bind(bot_env, GROUP_TC, "tai chinh")
    other = next(t for t in bot_env.store.open_tasks() if not set(t.units) & set(
        bot_env.store.chat_units(GROUP_TC)))

    async def scenario(app) -> None:
        [reply] = await bot_env.ask(GROUP_TC, f"/nhacnho {other.code} ngày mai",
                                    user_id=2002, chat_type="supergroup")
        assert "nhóm này chưa là thành viên của đơn vị đó" in reply["text"]

    bot_env.run(scenario)
    assert bot_env.store.due_reminders(datetime(2023, 12, 31, tzinfo=TZ)) == []


def test_tamhoan_by_text_and_by_button(bot_env) -> None:
    bot_env.load_samples()
    key = _bind(bot_env, GROUP_TC, "tai chinh")
    first, second = [t for t in bot_env.store.open_tasks(key) if key in t.lead][:2]

    async def scenario(app) -> None:
        [reply] = await bot_env.ask(GROUP_TC, f"/tamhoan {first.code} 3 ngày", user_id=2002,
                                    chat_type="supergroup")
        assert "23/12/2022" in reply["text"]
        [menu] = await bot_env.ask(GROUP_TC, f"/tamhoan {second.code}", user_id=2002,
                                   chat_type="supergroup")
        await bot_env.press(GROUP_TC, menu["message_id"], f"snz:{second.id}:7", user_id=2002)

    bot_env.run(scenario)
    assert bot_env.store.snoozes() == {first.id: date(2022, 12, 23),
                                       second.id: date(2022, 12, 27)}


def test_thongbao_reaches_every_chat_of_the_unit_and_reports_failures(bot_env) -> None:
    bot_env.load_samples()
    _bind(bot_env, GROUP_TC, "tai chinh")
    _bind(bot_env, GROUP_YT, "y te")
    blocked = -100503
    _bind(bot_env, blocked, "tai chinh")
    bot_env.api.block_chat(blocked)

    async def scenario(app) -> None:
        ack, reply = await bot_env.ask(bot_env.ADMIN, "/thongbao tai chinh: Nộp <b>báo cáo</b> "
                                       "trước 16h", user_id=bot_env.ADMIN, n=2)
        assert "Đang gửi thông báo tới 2 nhóm" in ack["text"]
        assert "1/2" in reply["text"] and "Không gửi được" in reply["text"]

    bot_env.run(scenario)
    [got] = bot_env.api.messages_to(GROUP_TC)
    assert "Nộp &lt;b&gt;báo cáo&lt;/b&gt; trước 16h" in got["text"]
    assert bot_env.api.messages_to(GROUP_YT) == []
    assert not bot_env.store.chat(blocked).active
    [logged] = bot_env.store.announcements()
    assert logged.failed == (blocked,) and set(logged.chat_ids) == {GROUP_TC, blocked}


def test_thongbao_refused_to_non_admin_and_nothing_sent(bot_env) -> None:
    bot_env.load_samples()
    _bind(bot_env, GROUP_TC, "tai chinh")

    async def scenario(app) -> None:
        [reply] = await bot_env.ask(2002, "/thongbao tất cả: Họp khẩn", user_id=2002)
        assert "quản trị viên" in reply["text"]

    bot_env.run(scenario)
    assert bot_env.api.messages_to(GROUP_TC) == []
    assert bot_env.store.announcements() == []


def test_thongbao_scheduled_is_stored_for_later(bot_env) -> None:
    bot_env.load_samples()
    key = _bind(bot_env, GROUP_TC, "tai chinh")

    async def scenario(app) -> None:
        [reply] = await bot_env.ask(bot_env.ADMIN, "/thongbao tai chinh lúc 8 giờ sáng mai: "
                                    "Họp giao ban", user_id=bot_env.ADMIN)
        assert "Đã hẹn" in reply["text"] and "21/12/2022" in reply["text"]

    bot_env.run(scenario)
    assert bot_env.api.messages_to(GROUP_TC) == []
    [item] = bot_env.store.due_announcements(datetime(2022, 12, 21, 8, 0, tzinfo=TZ))
    assert item.text == "Họp giao ban" and item.unit_keys == (key,)


def test_thongbao_too_long_for_one_message_is_refused_before_sending(bot_env) -> None:
    """2,000 emoji are 4,000 characters for Telegram: with the heading they cannot fit."""
    bot_env.load_samples()
    _bind(bot_env, GROUP_TC, "tai chinh")

    async def scenario(app) -> None:
        [reply] = await bot_env.ask(bot_env.ADMIN, "/thongbao tất cả: " + "😀" * 2000,
                                    user_id=bot_env.ADMIN)
        assert "Thông báo dài 4000 ký tự; tối đa 3800" in reply["text"]

    bot_env.run(scenario)
    assert bot_env.api.messages_to(GROUP_TC) == []
    assert [r for r in bot_env.api.sent if not r["ok"]] == []


def test_announcement_report_names_uncertain_chats_apart(bot_env) -> None:
    from handlers.reminders import render_report
    from schedules.dispatch import Report

    bot_env.load_samples()
    _bind(bot_env, GROUP_TC, "tai chinh")
    _bind(bot_env, GROUP_YT, "y te")
    report = Report(sent=1, skipped=0, undeliverable=0, failed=0, failed_chats=(),
                    uncertain=1, uncertain_chats=(GROUP_YT,))
    text = render_report(bot_env.store, "tất cả đơn vị", 2, report)
    assert "Đã gửi thông báo tới 1/2 nhóm" in text
    assert "Chưa chắc đã tới" in text and "Nhóm Phòng Y tế" in text
    assert "Không gửi được" not in text
