"""A chat's own life end to end: blocked and unblocked, removed and re-added, migrated.

The real Application against the fake Bot API: a 403 or a ``my_chat_member`` update makes a
member chat inactive; any later message, or the bot being let back in, makes it active again,
but only a chat that still is a member; a group that becomes a supergroup keeps its units and
its last digest day under the new id.
"""

from __future__ import annotations

from datetime import date, timedelta

from handlers.units import REASON_BLOCKED, REASON_REMOVED
from localchat.fakeapi import check_html
from tests.conftest import BotEnv

PRIVATE = 555
GROUP = -100200300
NEW_GROUP = -1001234567890


def _bind(env: BotEnv, chat_id: int, query: str, chat_type: str) -> str:
    unit = env.store.match_unit(query)
    env.store.subscribe(chat_id, unit.key, title=f"Chat {chat_id}", chat_type=chat_type,
                        actor=env.ADMIN, now=env.clock.now())
    env.api.add_chat(chat_id, chat_type, title=None if chat_type == "private" else "Nhóm TC")
    return unit.key


def _reasons(env: BotEnv, chat_id: int) -> list[tuple[bool, str]]:
    return [(e.data["active"], e.data["reason"]) for e in env.store.recent_events(1000)[::-1]
            if e.kind == "chat_active" and e.data.get("chat_id") == chat_id]


def test_a_blocked_user_who_writes_again_gets_everything_again(bot_env: BotEnv) -> None:
    bot_env.load_samples()
    key = _bind(bot_env, PRIVATE, "tai chinh", "private")
    label = bot_env.store.unit(key).label
    bot_env.api.add_chat(bot_env.ADMIN, "private")
    bot_env.api.block_chat(PRIVATE)

    async def scenario(app) -> None:
        _ack, report = await bot_env.ask(bot_env.ADMIN, "/thongbao tai chinh: Lần một",
                                         user_id=bot_env.ADMIN, n=2)  # sent in the background
        assert "0/1" in report["text"] and "Không gửi được" in report["text"]
        assert not bot_env.store.chat(PRIVATE).active  # the 403

        before = len(bot_env.api.messages_to(bot_env.ADMIN))
        await bot_env.ask(bot_env.ADMIN, "/donvi", user_id=bot_env.ADMIN, n=1)
        await bot_env.api.async_wait_for(lambda: len(bot_env.api.messages_to(
            bot_env.ADMIN)) >= before + 2)  # the long list of every unit comes in parts
        shown = "\n".join(check_html(m["text"]) for m in bot_env.api.messages_to(
            bot_env.ADMIN)[before:])
        line = next(ln for ln in shown.splitlines() if "Phòng Tài chính - Kế hoạch" in ln)
        assert "1 cuộc trò chuyện thành viên không nhận tin" in line

        bot_env.api.unblock_chat(PRIVATE)  # unblocking alone tells the bot nothing
        [again] = await bot_env.ask(PRIVATE, "/dangky tai chinh", user_id=PRIVATE)
        assert "từ trước" in again["text"] and label in check_html(again["text"])
        assert bot_env.store.chat(PRIVATE).active
        _ack, report = await bot_env.ask(bot_env.ADMIN, "/thongbao tai chinh: Lần hai",
                                         user_id=bot_env.ADMIN, n=2)  # sent in the background
        assert "1/1" in report["text"], report["text"]

    bot_env.run(scenario)
    received = [m["text"] for m in bot_env.api.messages_to(PRIVATE)]
    assert any("Lần hai" in t for t in received) and not any("Lần một" in t for t in received)
    assert [active for active, _ in _reasons(bot_env, PRIVATE)] == [False, True]
    from schedules.digest import chat_digests

    chats = {d.chat_id for d in chat_digests(bot_env.store, date(2022, 12, 20),
                                             offsets=range(367))}
    assert PRIVATE in chats  # digests no longer skip it


def test_a_group_that_removes_and_readds_the_bot_is_served_again(bot_env: BotEnv) -> None:
    bot_env.load_samples()
    key = _bind(bot_env, GROUP, "tai chinh", "group")
    label = bot_env.store.unit(key).label

    async def scenario(app) -> None:
        bot_env.api.bot_status(GROUP, "left", chat_type="group", user_id=bot_env.USER)
        assert await bot_env.api.async_wait_for(
            lambda: not bot_env.store.chat(GROUP).active)
        [members] = await bot_env.ask(bot_env.ADMIN, "/thanhvien tai chinh",
                                      user_id=bot_env.ADMIN)
        assert "bot đã bị gỡ khỏi nhóm" in members["text"]
        [report] = await bot_env.ask(bot_env.ADMIN, "/thongbao tai chinh: Vắng",
                                     user_id=bot_env.ADMIN)
        assert "Chưa có nhóm nào" in report["text"]  # an inactive chat is not written to

        before = len(bot_env.api.messages_to(GROUP))
        bot_env.api.bot_status(GROUP, "member", chat_type="group", user_id=bot_env.USER)
        assert await bot_env.api.async_wait_for(
            lambda: len(bot_env.api.messages_to(GROUP)) > before)
        back = check_html(bot_env.api.messages_to(GROUP)[-1]["text"])
        assert "hoạt động lại" in back and label in back
        assert bot_env.store.chat(GROUP).active
        _ack, report = await bot_env.ask(bot_env.ADMIN, "/thongbao tai chinh: Có mặt",
                                         user_id=bot_env.ADMIN, n=2)  # sent in the background
        assert "1/1" in report["text"]

    bot_env.run(scenario)
    assert _reasons(bot_env, GROUP) == [(False, REASON_REMOVED),
                                        (True, _reasons(bot_env, GROUP)[1][1])]
    assert any("Có mặt" in m["text"] for m in bot_env.api.messages_to(GROUP))


def test_a_private_block_is_recorded_with_its_reason(bot_env: BotEnv) -> None:
    bot_env.load_samples()
    _bind(bot_env, PRIVATE, "y te", "private")

    async def scenario(app) -> None:
        bot_env.api.bot_status(PRIVATE, "kicked", user_id=PRIVATE)
        assert await bot_env.api.async_wait_for(
            lambda: not bot_env.store.chat(PRIVATE).active)
        bot_env.api.bot_status(PRIVATE, "member", user_id=PRIVATE)  # unblocked
        assert await bot_env.api.async_wait_for(lambda: bot_env.store.chat(PRIVATE).active)

    bot_env.run(scenario)
    assert _reasons(bot_env, PRIVATE)[0] == (False, REASON_BLOCKED)


def test_coming_back_never_makes_a_chat_a_member(bot_env: BotEnv) -> None:
    """A group that left its unit, then removed and re-added the bot, and a user whose
    request waits: neither becomes a member nor active, nothing is sent to them."""
    bot_env.load_samples()
    key = _bind(bot_env, GROUP, "tai chinh", "group")
    bot_env.store.unsubscribe(GROUP, key, actor=bot_env.ADMIN, now=bot_env.clock.now())
    bot_env.api.add_chat(bot_env.ADMIN, "private")

    async def scenario(app) -> None:
        [asked] = await bot_env.ask(PRIVATE, "/dangky y te", user_id=PRIVATE)
        assert "Đã gửi yêu cầu" in asked["text"]
        for chat_id, chat_type in ((GROUP, "group"), (PRIVATE, "private")):
            bot_env.api.bot_status(chat_id, "kicked", chat_type=chat_type,
                                   user_id=bot_env.USER)
        assert await bot_env.api.async_wait_for(
            lambda: not bot_env.store.chat(GROUP).active)
        before = {c: len(bot_env.api.messages_to(c)) for c in (GROUP, PRIVATE)}
        for chat_id, chat_type in ((GROUP, "group"), (PRIVATE, "private")):
            bot_env.api.bot_status(chat_id, "member", chat_type=chat_type,
                                   user_id=bot_env.USER)
        # Re-added to a group that is no member: the greeting of a new group, nothing more.
        assert await bot_env.api.async_wait_for(
            lambda: len(bot_env.api.messages_to(GROUP)) == before[GROUP] + 1)
        [donvi] = await bot_env.ask(GROUP, "/donvi", user_id=bot_env.USER, chat_type="group")
        assert "chưa là thành viên" in donvi["text"]
        assert len(bot_env.api.messages_to(PRIVATE)) == before[PRIVATE]  # no "welcome back"
        greeting, _donvi = bot_env.api.messages_to(GROUP)[before[GROUP]:]
        assert "/dangky" in greeting["text"] and "hoạt động lại" not in greeting["text"]
        [again] = await bot_env.ask(GROUP, "/dangky tai chinh", user_id=bot_env.USER,
                                    chat_type="group", is_group_admin=True)
        assert "Đã gửi yêu cầu" in again["text"]  # a request, not "đã là thành viên"

    bot_env.run(scenario)
    assert bot_env.store.chat_units(GROUP) == () and bot_env.store.chat_units(PRIVATE) == ()
    assert not bot_env.store.chat(GROUP).active
    assert {c.id for c in bot_env.store.chats(active_only=True)}.isdisjoint({GROUP, PRIVATE})


def test_a_group_that_becomes_a_supergroup_keeps_its_units_and_digest_day(
        bot_env: BotEnv) -> None:
    bot_env.load_samples()
    key = _bind(bot_env, GROUP, "tai chinh", "group")
    yesterday = bot_env.clock.now().date() - timedelta(days=1)
    bot_env.store.record_digest_run(yesterday, [GROUP], now=bot_env.clock.now())
    member = bot_env.store.membership(GROUP, key)
    days: list[date] = []

    async def scenario(app) -> None:
        # The start-up catch-up may have sent today's digest already: whatever day the old
        # chat has when it migrates is the one the new chat must have.
        days.append(bot_env.store.digest_days()[GROUP])
        bot_env.api.group_migrated(GROUP, NEW_GROUP, user_id=bot_env.USER)
        assert await bot_env.api.async_wait_for(
            lambda: bot_env.store.chat(NEW_GROUP) is not None)
        [tasks] = await bot_env.ask(NEW_GROUP, "/nhiemvu", user_id=bot_env.USER,
                                    chat_type="supergroup")
        text = check_html(tasks["text"])
        assert "chưa là thành viên" not in text
        task = next(t for t in bot_env.store.open_tasks(key))
        assert f"#{task.code}" in text or str(task.code) in text

    bot_env.run(scenario)
    store = bot_env.store
    assert store.chat(GROUP) is None and store.chat_units(NEW_GROUP) == (key,)
    moved = store.membership(NEW_GROUP, key)
    assert (moved.via, moved.since, moved.by) == (member.via, member.since, member.by)
    assert days[0] >= yesterday and store.digest_days()[NEW_GROUP] == days[0]
    assert [e.kind for e in store.recent_events(1000)].count("chat_migrate") == 1


def test_carry_chat_moves_owed_reminders_and_is_idempotent(bot_env: BotEnv) -> None:
    from handlers.units import carry_chat

    bot_env.load_samples()
    store, now = bot_env.store, bot_env.clock.now()
    key = _bind(bot_env, GROUP, "tai chinh", "group")
    monday = date(2022, 12, 19)
    store.record_digest_run(date(2022, 12, 16), [GROUP], now=now)
    store.owe_digests([GROUP], monday, reason="failed", now=now)
    assert carry_chat(store, GROUP, NEW_GROUP, now) is True
    assert carry_chat(store, GROUP, NEW_GROUP, now) is False  # the second service message
    assert store.chat_units(NEW_GROUP) == (key,) and store.chat(GROUP) is None
    assert store.digest_days()[NEW_GROUP] == date(2022, 12, 16)
    assert store.digest_owed()[NEW_GROUP].since == monday
    assert store.digest_missed_since()[NEW_GROUP] == date(2022, 12, 16)
