"""/nhacnho and /thongbao without arguments (issue 10): the pending one-off reminders of the
chat and the pending scheduled announcements (admins), each with a "Hủy" button. Cancelling
is logged with who did it; only the chat that set a reminder (or a bot admin) may cancel it,
only admins an announcement; forged presses by outsiders change nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

from handlers.reminders import CANCEL_ANNOUNCEMENT, CANCEL_REMINDER
from localchat.fakeapi import check_html
from tests.conftest import TZ, BotEnv
from tests.test_permissions_e2e import snapshot
from tests.test_reminders_e2e import _bind, _task_of

GROUP_TC = -100501
GROUP_YT = -100502
STRANGER = 3003
YT_PERSON = 4004
YT_PLAIN = 4005
"""A plain (not administrator) member of the Y tế group."""


def _buttons(message: dict) -> list[tuple[str, str]]:
    markup = message.get("reply_markup") or {}
    return [(b["text"], b["callback_data"]) for row in markup.get("inline_keyboard", [])
            for b in row]


async def _forge(env: BotEnv, chat_id: int, message_id: int, data: str, user_id: int) -> dict:
    before = len(env.api.answered_callbacks)
    env.api.forge_callback(chat_id, message_id, data, user_id=user_id)
    assert await env.api.async_wait_for(lambda: len(env.api.answered_callbacks) > before, 5)
    return env.api.answered_callbacks[before]


async def _edited(env: BotEnv, chat_id: int, message_id: int, data: list[str]) -> bool:
    """The list was edited in place to show these buttons only (waits for the edit)."""
    return await env.api.async_wait_for(lambda: [
        d for _, d in _buttons(env.api.message(chat_id, message_id) or {})] == data, 5)


def _setup(env: BotEnv) -> tuple[int, int, int]:
    env.load_samples()
    tc = _bind(env, GROUP_TC, "tai chinh")
    yt = _bind(env, GROUP_YT, "y te")
    env.store.subscribe(YT_PERSON, yt, title="Người Y tế", chat_type="private",
                        actor=env.ADMIN, now=env.clock.now())
    env.api.add_chat(YT_PERSON, "private")
    task_tc, task_yt = _task_of(env, tc), _task_of(env, yt)
    now = env.clock.now()
    first = env.store.add_reminder(task_tc.code, GROUP_TC, now + timedelta(days=1), 2002, now)
    second = env.store.add_reminder(task_tc.code, GROUP_TC, now + timedelta(hours=3), 2002, now)
    env.store.add_reminder(task_yt.code, GROUP_YT, now + timedelta(hours=5), 2002, now)
    return first.id, second.id, task_tc.id


def test_nhacnho_lists_and_cancels_this_chats_reminders(bot_env: BotEnv) -> None:
    first, second, task_id = _setup(bot_env)

    async def scenario(app) -> None:  # type: ignore[no-untyped-def]
        [listing] = await bot_env.ask(GROUP_TC, "/nhacnho", user_id=2002,
                                      chat_type="supergroup", first_name="Hà <Tài chính>")
        text = check_html(listing["text"])
        assert "Lời nhắc đang chờ" in text and f"#{task_id} lúc 12:00 20/12/2022" in text
        assert text.index("12:00 20/12/2022") < text.index("09:00 21/12/2022")  # earliest first
        assert [d for _, d in _buttons(listing)] == [f"{CANCEL_REMINDER}{second}",
                                                     f"{CANCEL_REMINDER}{first}"]
        assert all(label.startswith("Hủy #") for label, _ in _buttons(listing))
        answer = await bot_env.press(GROUP_TC, listing["message_id"],
                                     f"{CANCEL_REMINDER}{second}", user_id=2002)
        assert "Đã hủy lời nhắc" in answer["text"] and "12:00 20/12/2022" in answer["text"]
        assert await _edited(bot_env, GROUP_TC, listing["message_id"],
                             [f"{CANCEL_REMINDER}{first}"])
        # Pressed again (an old copy of the list): nothing left to cancel, said so.
        again = await _forge(bot_env, GROUP_TC, listing["message_id"],
                             f"{CANCEL_REMINDER}{second}", 2002)
        assert "không còn chờ gửi" in again["text"]

    bot_env.run(scenario)
    left = bot_env.store.repo.unsent_reminders(chat_id=GROUP_TC)
    assert [r.id for r in left] == [first]
    (event,) = [e for e in bot_env.store.history(task_id) if e.kind == "cancel_reminder"]
    assert event.actor == 2002 and event.data["reminder_id"] == second
    assert event.data["by_name"] == "Hà <Tài chính>" and event.data["chat_id"] == GROUP_TC
    from handlers.render import event_line

    assert "hủy một lời nhắc đã đặt" in event_line(event)
    assert "Hà &lt;Tài chính&gt;" in event_line(event)


def test_nhacnho_without_pending_reminders_says_so(bot_env: BotEnv) -> None:
    async def scenario(app) -> None:  # type: ignore[no-untyped-def]
        [reply] = await bot_env.ask(STRANGER, "/nhacnho")
        text = check_html(reply["text"])
        assert "không có lời nhắc nào đang chờ" in text and "Cú pháp" in text
        assert _buttons(reply) == []

    bot_env.run(scenario)


def test_only_the_chat_that_set_a_reminder_or_an_admin_cancels_it(bot_env: BotEnv) -> None:
    first, _, _ = _setup(bot_env)
    outsiders = [  # (chat, user, chat type, group admin)
        (STRANGER, STRANGER, "private", None),
        (YT_PERSON, YT_PERSON, "private", None),  # a member of another unit
        (GROUP_YT, YT_PLAIN, "supergroup", False),  # a plain member of another unit's group
    ]

    async def scenario(app) -> None:  # type: ignore[no-untyped-def]
        for chat, user, kind, group_admin in outsiders:
            [own] = await bot_env.ask(chat, "/nhacnho", user_id=user, chat_type=kind,
                                      is_group_admin=group_admin)
            assert f"{CANCEL_REMINDER}{first}" not in [d for _, d in _buttons(own)]
            before, sent = snapshot(bot_env), len(bot_env.api.sent)
            refusal = await _forge(bot_env, chat, own["message_id"],
                                   f"{CANCEL_REMINDER}{first}", user)
            assert "Chỉ cuộc trò chuyện đã đặt lời nhắc" in refusal["text"], chat
            assert refusal.get("show_alert")
            assert snapshot(bot_env) == before
            assert [r["method"] for r in bot_env.api.sent[sent:]] == ["answerCallbackQuery"]
        # A bot admin may, from anywhere.
        [own] = await bot_env.ask(bot_env.ADMIN, "/nhacnho")
        done = await _forge(bot_env, bot_env.ADMIN, own["message_id"],
                            f"{CANCEL_REMINDER}{first}", bot_env.ADMIN)
        assert "Đã hủy lời nhắc" in done["text"]

    bot_env.run(scenario)
    assert first not in [r.id for r in bot_env.store.repo.unsent_reminders(chat_id=GROUP_TC)]


def test_thongbao_lists_and_cancels_scheduled_announcements(bot_env: BotEnv) -> None:
    _setup(bot_env)
    now = bot_env.clock.now()
    key = bot_env.store.match_unit("tai chinh").key
    later = bot_env.store.schedule_announcement("Họp <giao ban> & tổng kết", (key,),
                                                now + timedelta(days=2), actor=bot_env.ADMIN,
                                                now=now)
    sooner = bot_env.store.schedule_announcement("Nộp báo cáo", (), now + timedelta(hours=2),
                                                 actor=bot_env.ADMIN, now=now)
    outsiders = [(STRANGER, STRANGER, "private", None), (YT_PERSON, YT_PERSON, "private", None),
                 (GROUP_YT, YT_PLAIN, "supergroup", False)]

    async def scenario(app) -> None:  # type: ignore[no-untyped-def]
        [listing] = await bot_env.ask(bot_env.ADMIN, "/thongbao", first_name="Quản trị")
        text = check_html(listing["text"])
        assert text.index(f"Mã {sooner}") < text.index(f"Mã {later}")
        assert "tới tất cả đơn vị" in text and "Họp <giao ban> & tổng kết" in text
        assert [d for _, d in _buttons(listing)] == [f"{CANCEL_ANNOUNCEMENT}{sooner}",
                                                     f"{CANCEL_ANNOUNCEMENT}{later}"]
        for chat, user, kind, group_admin in outsiders:
            [refused] = await bot_env.ask(chat, "/thongbao", user_id=user, chat_type=kind,
                                          is_group_admin=group_admin)
            assert "Chỉ quản trị viên của bot" in check_html(refused["text"])
            assert _buttons(refused) == []
            before, sent = snapshot(bot_env), len(bot_env.api.sent)
            answer = await _forge(bot_env, chat, refused["message_id"],
                                  f"{CANCEL_ANNOUNCEMENT}{later}", user)
            assert "Chỉ quản trị viên của bot mới được hủy thông báo hẹn giờ" in answer["text"]
            assert snapshot(bot_env) == before
            assert [r["method"] for r in bot_env.api.sent[sent:]] == ["answerCallbackQuery"]
        answer = await bot_env.press(bot_env.ADMIN, listing["message_id"],
                                     f"{CANCEL_ANNOUNCEMENT}{later}", user_id=bot_env.ADMIN)
        assert f"Đã hủy thông báo hẹn giờ mã {later}" in answer["text"]
        assert await _edited(bot_env, bot_env.ADMIN, listing["message_id"],
                             [f"{CANCEL_ANNOUNCEMENT}{sooner}"])

    bot_env.run(scenario)
    assert [a.id for a in bot_env.store.scheduled_announcements()] == [sooner]
    cancelled = bot_env.store.scheduled_announcement(later)
    assert cancelled is not None and cancelled.cancelled_at == now
    (event,) = [e for e in bot_env.store.recent_events(50) if e.kind == "cancel_announcement"]
    assert event.actor == bot_env.ADMIN and event.data["announcement_id"] == later
    assert event.data["by_name"] == "Quản trị"
    assert datetime.fromisoformat(event.data["at"]) == now + timedelta(days=2)
    assert TZ  # the fixture's zone: times above are shown in it
