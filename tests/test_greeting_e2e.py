"""The bot added to a group (issue 10): it greets in Vietnamese and explains /dangky; when the
person who added it is a bot admin, the greeting carries the unit picker that binds the group
at once. Removal, re-adding a member group and private chats keep their own behaviour."""

from __future__ import annotations

from handlers.units import SUB
from localchat.fakeapi import check_html
from tests.conftest import BotEnv

GROUP = -100777


def _buttons(message: dict) -> list[tuple[str, str]]:
    markup = message.get("reply_markup") or {}
    return [(b["text"], b["callback_data"]) for row in markup.get("inline_keyboard", [])
            for b in row]


def test_a_plain_user_adding_the_bot_gets_the_greeting_without_buttons(bot_env: BotEnv) -> None:
    bot_env.load_samples()

    async def scenario(app) -> None:  # type: ignore[no-untyped-def]
        bot_env.api.bot_status(GROUP, "member", chat_type="supergroup", user_id=bot_env.USER,
                               title="Nhóm <mới>")
        assert await bot_env.api.async_wait_for(lambda: bot_env.api.messages_to(GROUP), 5)

    bot_env.run(scenario)
    (greeting,) = bot_env.api.messages_to(GROUP)
    text = check_html(greeting["text"])
    assert text.startswith("👋 Xin chào!") and "/dangky <tên đơn vị>" in text
    assert "quản trị viên của nhóm" in text and "quản trị viên của bot:" not in text
    assert _buttons(greeting) == []
    assert bot_env.store.chat_units(GROUP) == ()  # a greeting grants nothing


def test_a_bot_admin_adding_the_bot_gets_the_unit_picker_and_binds_the_group(
        bot_env: BotEnv) -> None:
    bot_env.load_samples()
    tc = bot_env.store.match_unit("tai chinh")

    async def scenario(app) -> None:  # type: ignore[no-untyped-def]
        bot_env.api.bot_status(GROUP, "administrator", chat_type="supergroup",
                               user_id=bot_env.ADMIN, old_status="left")
        assert await bot_env.api.async_wait_for(lambda: bot_env.api.messages_to(GROUP), 5)
        (greeting,) = bot_env.api.messages_to(GROUP)
        text = check_html(greeting["text"])
        assert "bạn là quản trị viên của bot" in text and "gắn nhóm ngay" in text
        data = [d for _, d in _buttons(greeting)]
        assert data and all(d.startswith(SUB) for d in data)
        # A plain member of the group pressing a unit is refused; nothing changes.
        plain = await bot_env.press(GROUP, greeting["message_id"], data[0], user_id=5555)
        assert "quản trị viên của nhóm" in plain["text"]
        assert bot_env.store.chat_units(GROUP) == ()
        # The admin types /dangky in the group: bound at once, no request.
        [done] = await bot_env.ask(GROUP, "/dangky tai chinh", user_id=bot_env.ADMIN,
                                   chat_type="supergroup")
        assert "Yêu cầu" not in done["text"]

    bot_env.run(scenario)
    assert bot_env.store.chat_units(GROUP) == (tc.key,)
    assert bot_env.store.join_requests() == []


def test_no_greeting_when_removed_or_in_a_private_chat(bot_env: BotEnv) -> None:
    async def scenario(app) -> None:  # type: ignore[no-untyped-def]
        bot_env.api.bot_status(GROUP, "left", chat_type="group", user_id=bot_env.USER)
        bot_env.api.bot_status(4242, "kicked", user_id=4242)
        bot_env.api.bot_status(4242, "member", user_id=4242)
        # Updates of a chat run in order: once /help is answered in each chat, the status
        # news before it were handled.
        await bot_env.ask(4242, "/help", user_id=4242)
        bot_env.api.bot_status(GROUP, "member", chat_type="group", user_id=bot_env.USER,
                               old_status="member")  # promoted/demoted, never left
        await bot_env.ask(GROUP, "/help", user_id=bot_env.USER, chat_type="group")

    bot_env.run(scenario)
    assert len(bot_env.api.messages_to(4242)) == 1 and len(bot_env.api.messages_to(GROUP)) == 1
