"""The fake Bot API against the real python-telegram-bot 22.8 client."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import json
import threading
import time
import urllib.error
import urllib.request

import pytest
from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    ChatMemberAdministrator,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberOwner,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MenuButtonCommands,
    Update,
)
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from localchat.fakeapi import FakeApiError, FakeBotApi, check_html, literal_ampersands

# PTB 22 warns on every RetryAfter that retry_after will become a timedelta; retry_seconds()
# copes with both.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Deprecated since version v22.2:telegram.warnings.PTBDeprecationWarning")

USER = 1001
GROUP = -1002003004005


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: float = 1_750_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def api():
    with FakeBotApi() as server:
        yield server


def build_app(api: FakeBotApi, *handlers) -> Application:
    app = (ApplicationBuilder().token(api.token).base_url(api.base_url)
           .base_file_url(api.base_file_url).build())
    for handler in handlers:
        app.add_handler(handler)
    return app


@contextlib.asynccontextmanager
async def running(app: Application):
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Trang sau", callback_data="next"),
                                      InlineKeyboardButton("Đã xong", callback_data="done")]])
    await update.message.reply_html("<b>Chào</b> bạn &amp; đơn vị", reply_markup=keyboard)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    await query.answer(f"Đã nhận {query.data}")
    await query.edit_message_text(f"Bạn chọn: {query.data}")


async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    file = await update.message.document.get_file()
    data = await file.download_as_bytearray()
    await update.message.reply_text(f"{update.message.document.file_name}: {len(data)} byte")


def chat_handlers():
    return (CommandHandler("start", on_start), CallbackQueryHandler(on_button),
            MessageHandler(filters.Document.ALL, on_document))


def retry_seconds(err: RetryAfter) -> float:
    """RetryAfter.retry_after is an int today and a timedelta later (PTB deprecation)."""
    value = err.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def post(api: FakeBotApi, method: str, body: bytes | None, ctype: str,
         token: str | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(f"{api.base_url}{token or api.token}/{method}", data=body,
                                     headers={"Content-Type": ctype}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_start_button_and_document_round_trip(api):
    payload = bytes(range(256)) * 4 + b"\r\n--boundary\r\n\x00"

    async def scenario():
        async with running(build_app(api, *chat_handlers())) as app:
            await app.bot.set_my_commands([BotCommand("start", "Bắt đầu")])
            api.user_message(USER, "/start", user_id=USER)
            reply = await api.async_wait_for(lambda: api.messages_to(USER))
            assert reply[0]["text"] == "<b>Chào</b> bạn &amp; đơn vị"
            assert reply[0]["parse_mode"] == "HTML"
            buttons = reply[0]["reply_markup"]["inline_keyboard"][0]
            assert [b["callback_data"] for b in buttons] == ["next", "done"]

            api.press_button(USER, reply[0]["message_id"], "done", user_id=USER)
            assert await api.async_wait_for(
                lambda: [r for r in api.sent if r["method"] == "editMessageText"])
            api.upload_document(USER, "kế hoạch.docx", payload, user_id=USER)
            assert await api.async_wait_for(lambda: len(api.messages_to(USER)) == 2)

    asyncio.run(scenario())
    methods = [r["method"] for r in api.sent]
    assert methods[0] == "getMe"
    assert {"deleteWebhook", "setMyCommands", "getFile"} <= set(methods)
    assert "getUpdates" not in methods
    assert api.answered_callbacks[0]["text"] == "Đã nhận done"
    assert api.answered_callbacks[0]["data"] == "done"
    first = api.messages_to(USER)[0]
    edited = api.message(USER, first["message_id"])
    assert edited["text"] == "Bạn chọn: done"
    assert "reply_markup" not in edited
    assert api.messages_to(USER)[1]["text"] == f"kế hoạch.docx: {len(payload)} byte"
    assert api.commands == [{"commands": [{"command": "start", "description": "Bắt đầu"}],
                             "scope": {"type": "default"}, "language_code": ""}]
    # /start was message 1, the reply 2, the document 3 and its answer 4: ids grow per chat.
    assert [m["message_id"] for m in api.messages_to(USER)] == [2, 4]


def test_send_document_bytes_and_vietnamese_filename(api):
    api.add_chat(USER)
    data = b"%PDF-1.4\r\n\x00\xff binary\n--x"

    async def scenario():
        async with build_app(api) as app:
            sent = await app.bot.send_document(USER, data, filename="Báo cáo tuần.pdf",
                                               caption="<i>Tuần 3</i>", parse_mode="HTML")
            file = await app.bot.get_file(sent.document.file_id)
            return sent, bytes(await file.download_as_bytearray())

    sent, downloaded = asyncio.run(scenario())
    record = api.messages_to(USER)[0]
    assert record["method"] == "sendDocument"
    assert record["document"] == data
    assert record["filename"] == "Báo cáo tuần.pdf"
    assert record["caption"] == "<i>Tuần 3</i>"
    assert sent.document.file_name == "Báo cáo tuần.pdf"
    assert downloaded == data


@pytest.mark.parametrize(("kind", "kw", "error", "check"), [
    ("429", {"retry_after": 3}, RetryAfter, lambda e: retry_seconds(e) == 3),
    ("403", {}, Forbidden, lambda e: "blocked by the user" in e.message),
    ("migrate", {"migrate_to_chat_id": -1009},
     ChatMigrated, lambda e: e.new_chat_id == -1009),
    ("500", {}, NetworkError, lambda e: "Internal Server Error" in e.message),
])
def test_injected_faults_reach_ptb_as_its_errors(api, kind, kw, error, check):
    api.add_chat(USER)
    api.fail_next("sendMessage", kind, n=2, **kw)

    async def scenario():
        async with build_app(api) as app:
            for _ in range(2):
                with pytest.raises(error) as caught:
                    await app.bot.send_message(USER, "Nhắc việc")
                assert check(caught.value)
            return await app.bot.send_message(USER, "Nhắc việc")

    message = asyncio.run(scenario())
    assert message.text == "Nhắc việc"
    failed = [r for r in api.sent if r["method"] == "sendMessage" and not r["ok"]]
    assert len(failed) == 2
    assert len(api.messages_to(USER)) == 1
    assert api.count_429 == (2 if kind == "429" else 0)


def test_fault_limited_to_one_chat(api):
    api.add_chat(USER)
    api.add_chat(USER + 1)
    api.fail_next("*", "403", chat_id=USER)

    async def scenario():
        async with build_app(api) as app:
            await app.bot.send_message(USER + 1, "Không sao")
            with pytest.raises(Forbidden):
                await app.bot.send_message(USER, "Bị chặn")

    asyncio.run(scenario())
    assert [r["chat_id"] for r in api.sent if r["method"] == "sendMessage"] == [USER + 1, USER]


@pytest.mark.parametrize("deliver", [False, True])
def test_timeout_fault_makes_client_time_out(api, deliver):
    api.add_chat(USER)
    api.fail_next("sendMessage", "timeout", delay=0.25, deliver=deliver)

    async def scenario():
        async with build_app(api) as app:
            with pytest.raises(TimedOut):
                await app.bot.send_message(USER, "Chậm", read_timeout=0.05)

    asyncio.run(scenario())
    # The server finishes the slow call on its own; only deliver=True keeps the message.
    assert api.wait_for(lambda: [r for r in api.sent if r["method"] == "sendMessage"], 3)
    assert bool(api.messages_to(USER)) is deliver


def test_block_chat_answers_forbidden_until_unblocked(api):
    api.add_chat(USER)
    api.block_chat(USER)

    async def scenario():
        async with build_app(api) as app:
            with pytest.raises(Forbidden, match="blocked"):
                await app.bot.send_message(USER, "Một")
            api.unblock_chat(USER)
            await app.bot.send_message(USER, "Hai")

    asyncio.run(scenario())
    assert [r["text"] for r in api.messages_to(USER)] == ["Hai"]


def test_enforce_limits_three_messages_in_one_second(api):
    api.add_chat(USER)
    api.enforce_limits(per_chat_per_sec=1)

    async def scenario():
        outcomes = []
        async with build_app(api) as app:
            for number in range(3):
                try:
                    await app.bot.send_message(USER, f"Tin {number}")
                    outcomes.append("ok")
                except RetryAfter as err:
                    outcomes.append(retry_seconds(err))
        return outcomes

    outcomes = asyncio.run(scenario())
    assert outcomes[0] == "ok"
    assert outcomes[1:] == [1, 1]
    assert api.count_429 == 2
    assert {r["reason"] for r in api.responses_429} == {"chat"}


def test_enforce_limits_sliding_windows_follow_the_clock():
    clock = FakeClock()
    with FakeBotApi(clock=clock) as api:
        api.add_chat(GROUP, "supergroup")
        api.add_chat(USER)
        api.add_chat(USER + 1)
        api.add_chat(USER + 2)
        api.enforce_limits(per_chat_per_sec=1, overall_per_sec=2, group_per_min=3)

        async def scenario():
            async with build_app(api) as app:
                for _ in range(3):  # one a second: within per-chat, fills the group minute
                    await app.bot.send_message(GROUP, "Nhóm")
                    clock.now += 1
                with pytest.raises(RetryAfter) as caught:
                    await app.bot.send_message(GROUP, "Quá nhiều")
                assert retry_seconds(caught.value) == 57
                await app.bot.send_message(USER, "Một")
                await app.bot.send_message(USER + 1, "Hai")
                with pytest.raises(RetryAfter):  # third chat, same second: overall limit
                    await app.bot.send_message(USER + 2, "Ba")
                clock.now += 57
                await app.bot.send_message(GROUP, "Lại được")

        asyncio.run(scenario())
        assert [r["reason"] for r in api.responses_429] == ["group", "overall"]
        assert len(api.messages_to(GROUP)) == 4


def test_chat_members_and_admins(api):
    api.user_message(GROUP, "xin chào", user_id=USER, chat_type="supergroup",
                     is_group_admin=True)
    api.user_message(GROUP, "tôi nữa", user_id=USER + 1, chat_type="supergroup")
    api.set_member_status(GROUP, USER + 2, "creator")

    async def scenario():
        async with build_app(api) as app:
            members = [await app.bot.get_chat_member(GROUP, user)
                       for user in (USER, USER + 1, USER + 2, USER + 3)]
            admins = await app.bot.get_chat_administrators(GROUP)
            chat = await app.bot.get_chat(GROUP)
            return members, admins, chat

    members, admins, chat = asyncio.run(scenario())
    assert [type(m) for m in members] == [ChatMemberAdministrator, ChatMemberMember,
                                          ChatMemberOwner, ChatMemberLeft]
    assert {a.user.id for a in admins} == {USER, USER + 2}
    assert chat.type == "supergroup"
    assert chat.title == "Nhóm thử nghiệm"
    with pytest.raises(ValueError):
        api.set_member_status(GROUP, USER, "boss")


def test_commands_per_scope_and_language_and_menu_button(api):
    api.add_chat(USER)

    async def scenario():
        async with build_app(api) as app:
            await app.bot.set_my_commands([BotCommand("start", "Bắt đầu")])
            await app.bot.set_my_commands([BotCommand("tiendo", "Tiến độ")],
                                          scope=BotCommandScopeAllGroupChats(),
                                          language_code="vi")
            group = await app.bot.get_my_commands(scope=BotCommandScopeAllGroupChats(),
                                                  language_code="vi")
            default = await app.bot.get_my_commands()
            await app.bot.delete_my_commands()
            after = await app.bot.get_my_commands()
            await app.bot.set_chat_menu_button(USER, MenuButtonCommands())
            with pytest.raises(BadRequest):
                await app.bot.set_my_commands([BotCommand("Sai Tên", "x")])
            return group, default, after

    group, default, after = asyncio.run(scenario())
    assert [c.command for c in group] == ["tiendo"]
    assert [c.command for c in default] == ["start"]
    assert after == ()
    assert api.commands_for({"type": "all_group_chats"}, "vi")[0]["command"] == "tiendo"
    assert len(api.commands) == 2
    assert any(r["method"] == "setChatMenuButton" for r in api.sent)


def test_edit_delete_and_bad_requests(api):
    api.add_chat(USER)

    async def scenario():
        async with build_app(api) as app:
            message = await app.bot.send_message(USER, "Cũ")
            with pytest.raises(BadRequest, match=r"(?i)not modified"):
                await app.bot.edit_message_text("Cũ", USER, message.message_id)
            keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]])
            edited = await app.bot.edit_message_reply_markup(USER, message.message_id,
                                                             reply_markup=keyboard)
            assert edited.reply_markup.inline_keyboard[0][0].callback_data == "a"
            assert await app.bot.delete_message(USER, message.message_id)
            with pytest.raises(BadRequest, match=r"(?i)not found"):
                await app.bot.delete_message(USER, message.message_id)
            with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
                await app.bot.send_message(USER, "<b>thiếu đóng", parse_mode="HTML")
            with pytest.raises(BadRequest, match=r"(?i)too long"):
                await app.bot.send_message(USER, "x" * 4097)
            with pytest.raises(BadRequest, match=r"(?i)chat not found"):
                await app.bot.send_message(777, "Ai đây?")
            return message

    message = asyncio.run(scenario())
    assert api.message(USER, message.message_id) is None


def test_press_button_rejects_what_telegram_could_not_send(api):
    api.add_chat(USER)
    with pytest.raises(ValueError, match="no message"):
        api.press_button(USER, 99, "x", user_id=USER)
    keyboard = {"inline_keyboard": [[{"text": "Đã xong", "callback_data": "done"}]]}
    status, body = post(api, "sendMessage", json.dumps(
        {"chat_id": str(USER), "text": "Việc 1", "reply_markup": keyboard}).encode(),
        "application/json")
    assert status == 200
    assert body["result"]["reply_markup"] == keyboard
    with pytest.raises(ValueError, match="no button"):
        api.press_button(USER, body["result"]["message_id"], "other", user_id=USER)
    update = api.press_button(USER, body["result"]["message_id"], "done", user_id=USER)
    assert update["callback_query"]["message"]["text"] == "Việc 1"
    with pytest.raises(ValueError, match="negative"):
        api.user_message(-5, "hi", user_id=USER)


def test_forged_callback_data_reaches_the_bot_like_a_modified_client_sends_it(api):
    api.add_chat(USER)
    status, body = post(api, "sendMessage", json.dumps(
        {"chat_id": str(USER), "text": "Không có nút"}).encode(), "application/json")
    assert status == 200
    message_id = body["result"]["message_id"]
    update = api.forge_callback(USER, message_id, "undo:1", user_id=42)
    query = update["callback_query"]
    assert query["data"] == "undo:1" and query["from"]["id"] == 42
    assert query["message"]["message_id"] == message_id
    with pytest.raises(ValueError, match="1-64 bytes"):
        api.forge_callback(USER, message_id, "x" * 65, user_id=42)
    with pytest.raises(ValueError, match="no message"):
        api.forge_callback(USER, 999, "undo:1", user_id=42)


def test_group_migration_updates_and_later_sends(api):
    received = []

    async def on_any(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        received.append(update.message)

    async def scenario():
        async with running(build_app(api, MessageHandler(filters.ALL, on_any))) as app:
            api.user_message(-55, "Chào nhóm", user_id=USER, chat_type="group")
            api.group_migrated(-55, GROUP, user_id=USER)
            assert await api.async_wait_for(lambda: len(received) == 3)
            with pytest.raises(ChatMigrated) as caught:
                await app.bot.send_message(-55, "Còn đó không?")
            assert caught.value.new_chat_id == GROUP
            await app.bot.send_message(GROUP, "Đã chuyển")

    asyncio.run(scenario())
    assert received[1].migrate_to_chat_id == GROUP
    assert received[2].migrate_from_chat_id == -55
    assert received[2].chat.type == "supergroup"
    assert [r["text"] for r in api.messages_to(GROUP)] == ["Đã chuyển"]


def test_get_updates_offset_long_poll_and_json_body():
    clock = FakeClock(1_700_000_000.5)
    with FakeBotApi(clock=clock) as api:
        first = api.user_message(USER, "một", user_id=USER)
        api.user_message(USER, "hai", user_id=USER)
        status, body = post(api, "getUpdates", b"timeout=0", "application/x-www-form-urlencoded")
        assert status == 200
        assert [u["message"]["text"] for u in body["result"]] == ["một", "hai"]
        assert body["result"][0]["message"]["date"] == 1_700_000_000
        last = body["result"][-1]["update_id"]
        _, body = post(api, "getUpdates", json.dumps({"offset": last, "limit": 5}).encode(),
                       "application/json")
        assert [u["update_id"] for u in body["result"]] == [last]
        assert first["update_id"] < last

        answers = []
        poller = threading.Thread(target=lambda: answers.append(post(
            api, "getUpdates", json.dumps({"offset": last + 1, "timeout": 10}).encode(),
            "application/json")))
        started = time.monotonic()
        poller.start()
        assert api.wait_for(lambda: api.waiting_polls == 1, 2)
        api.user_message(USER, "ba", user_id=USER)
        poller.join(5)
        assert time.monotonic() - started < 3
        assert [u["message"]["text"] for u in answers[0][1]["result"]] == ["ba"]
        assert api.pending_updates == 1


def test_concurrent_polls_conflict_and_command_alias(api):
    answers: dict[str, tuple[int, dict]] = {}

    def poll(name: str) -> None:
        answers[name] = post(api, "getUpdates", b"timeout=5",
                             "application/x-www-form-urlencoded")

    first = threading.Thread(target=poll, args=("first",))
    first.start()
    assert api.wait_for(lambda: api.waiting_polls == 1, 2)
    second = threading.Thread(target=poll, args=("second",))
    second.start()
    first.join(3)  # the newer poll terminates the older one, as Telegram does
    assert answers["first"][0] == 409
    update = api.command(USER, "tiendo Phường 1", user_id=USER)
    second.join(3)
    assert answers["second"][1]["result"] == [update]
    assert update["message"]["text"] == "/tiendo Phường 1"
    assert update["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 7}]


def test_method_names_are_case_insensitive(api):
    status, body = post(api, "GETME", b"", "application/json")
    assert status == 200
    assert body["result"]["is_bot"] is True
    assert api.sent[-1]["method"] == "getMe"


@pytest.mark.parametrize(("method", "token", "status", "description"), [
    ("fooBar", None, 404, "Not Found: method not found"),
    ("getMe", "1:wrong", 401, "Unauthorized"),
])
def test_unknown_method_and_wrong_token(api, method, token, status, description):
    code, body = post(api, method, b"{}", "application/json", token=token)
    assert code == status
    assert body == {"ok": False, "error_code": status, "description": description}


@pytest.mark.parametrize(("text", "visible"), [
    ("<b>Hạn</b> 30/6 &lt;gấp&gt;", "Hạn 30/6 <gấp>"),
    ('<a href="https://x.vn">liên kết</a> &amp; <i><u>ý</u></i>', "liên kết & ý"),
    ("a > b", "a > b"),
    # Telegram's parser (tdlib decode_html_entity): a "&" that starts no entity is shown as
    # written, the four named entities need no ";", numeric ones may be decimal or hex.
    ("A & B", "A & B"),
    ("R&D &nbsp; &copy;", "R&D &nbsp; &copy;"),
    ("&lt b&gt x &amp y &quot; &ltb", '< b> x & y " &ltb'),  # "ltb" is no entity
    ("&#128203; &#x1F4CB; &#0; &#X41;", "📋 📋 &#0; &#X41;"),
])
def test_check_html_accepts_telegram_html(text, visible):
    assert check_html(text) == visible


@pytest.mark.parametrize(("text", "literal"), [
    ("Nộp &lt;b&gt; &amp; ký", 0),
    ("A & B", 1),
    ('<a href="https://x.vn/?a=1&b=2">R&D</a> &nbsp;', 2),
])
def test_literal_ampersands_are_counted(text, literal):
    assert literal_ampersands(text) == literal


def test_length_is_counted_in_utf16_after_entities(api):
    """Telegram counts UTF-16 code units: 2,048 emoji fit, 2,600 do not."""
    api.add_chat(USER)

    async def scenario():
        async with build_app(api) as app:
            await app.bot.send_message(USER, "😀" * 2048)
            await app.bot.send_message(USER, "&amp;" * 4096, parse_mode="HTML")
            for text in ("😀" * 2600, "a" * 4097, "😀" + "a" * 4095):
                with pytest.raises(BadRequest, match="too long"):
                    await app.bot.send_message(USER, text)

    asyncio.run(scenario())
    assert len(api.messages_to(USER)) == 2
    assert api.unescaped == []


@pytest.mark.parametrize(("text", "reason"), [
    ("1 < 2", "Unsupported start tag"),
    ("<br>dòng", 'Unsupported start tag "br"'),
    ("<b><i>x</b></i>", "Unexpected end tag"),
    ("<b>x", "Can't find end tag"),
    ("&#55357; x", "invalid Unicode characters"),
])
def test_check_html_rejects_what_telegram_rejects(text, reason):
    with pytest.raises(FakeApiError, match=reason) as caught:
        check_html(text)
    assert caught.value.status == 400


def test_storm_is_the_same_call_for_call_whatever_the_order():
    """Two versions of the bot meet the same storm: the n-th call to a chat decides."""
    chats = list(range(3001, 3041))
    rates = {"429": 0.2, "500": 0.2, "timeout": 0.1, "timeout_delivered": 0.1}
    logs = []
    for order in (chats, chats[::-1]):
        with FakeBotApi() as server:
            for chat in chats:
                server.add_chat(chat)
            server.storm(42, rates, down={3001}, delay=0.0)
            for _ in range(3):
                for chat in order:
                    server.handle_call(server.token, "sendMessage",
                                       {"chat_id": chat, "text": "Nhắc việc"}, {})
            logs.append(sorted((e["chat_id"], e["n"], e["kind"]) for e in server.storm_log))
            delivered = {r["chat_id"] for r in server.sent if r["ok"]}
            server.calm()
            server.handle_call(server.token, "sendMessage", {"chat_id": 3001, "text": "x"}, {})
            assert server.messages_to(3001)  # the storm is over
    assert logs[0] == logs[1]
    kinds = collections.Counter(kind for _, _, kind in logs[0])
    assert set(kinds) == {"429", "500", "timeout", "timeout_delivered"}
    assert kinds["500"] >= 3  # chat 3001 is down for the whole storm
    assert 3001 not in delivered
