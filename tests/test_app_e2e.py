"""The whole bot: every command answers bad input in Vietnamese, unknown commands are named,
and the menu is registered in Vietnamese."""

from __future__ import annotations

import pytest

from handlers.texts import COMMANDS

VIETNAMESE = set("ăâđêôơưàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ")

MISSING_ARGS = ["/chitiet", "/xong", "/mo", "/giahan", "/giahan 1", "/timkiem", "/nhacnho",
                "/nhacnho 1", "/tamhoan", "/thongbao", "/thongbao tất cả"]
BAD_ARGS = ["/chitiet 999999", "/chitiet abc", "/xong 999999", "/sapden abc", "/sapden -3",
            "/giahan 1 31/02/2023", "/nhacnho 1 ngày 31/02/2023", "/nhiemvu Phòng Không Có Thật",
            "/tamhoan 1 mãi mãi"]


def test_unknown_command_is_named_and_points_to_help(bot_env) -> None:
    async def scenario(app) -> None:
        [reply] = await bot_env.ask(7, "/lamgi <b>", user_id=7)
        assert "/lamgi" in reply["text"] and "/help" in reply["text"]
        [reply] = await bot_env.ask(7, "/NhiemVu", user_id=7)  # commands ignore case
        assert "chưa biết lệnh" not in reply["text"]

    bot_env.run(scenario)


def test_menu_is_registered_in_vietnamese(bot_env) -> None:
    async def scenario(app) -> None:
        registered = bot_env.api.commands_for()
        assert [c["command"] for c in registered] == [name for name, _ in COMMANDS]
        assert all(set(c["description"].lower()) & VIETNAMESE for c in registered)

    bot_env.run(scenario)


@pytest.mark.parametrize("text", MISSING_ARGS + BAD_ARGS)
def test_bad_input_gets_one_vietnamese_answer_and_changes_nothing(bot_env, text: str) -> None:
    bot_env.load_samples()
    before = (bot_env.store.task_count, len(bot_env.store.recent_events(10_000)))

    async def scenario(app) -> None:
        [reply] = await bot_env.ask(bot_env.ADMIN, text, user_id=bot_env.ADMIN)
        assert set(reply["text"].lower()) & VIETNAMESE, reply["text"]
        assert "Traceback" not in reply["text"] and "Error" not in reply["text"]
        assert "lỗi khi xử lý" not in reply["text"], reply["text"]  # no unexpected exception

    bot_env.run(scenario)
    assert (bot_env.store.task_count, len(bot_env.store.recent_events(10_000))) == before


@pytest.mark.parametrize("text", MISSING_ARGS)
def test_usage_messages_are_escaped_exactly_once(bot_env, text: str) -> None:
    async def scenario(app) -> None:
        [reply] = await bot_env.ask(bot_env.ADMIN, text, user_id=bot_env.ADMIN)
        assert "&amp;lt;" not in reply["text"] and "&lt;code&gt;" not in reply["text"]

    bot_env.run(scenario)
