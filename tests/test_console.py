"""The local chat console, fed scripted input, against a tiny real PTB application."""

from __future__ import annotations

import asyncio
import io

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.errors import ConfigError
from localchat.console import (
    DEFAULT_GROUP_ID,
    format_buttons,
    html_to_text,
    run_console,
)
from localchat.fakeapi import FakeBotApi

USER = 2002


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    keyboard = InlineKeyboardMarkup([
        [InlineKeyboardButton("Trang sau", callback_data="next"),
         InlineKeyboardButton("Đã xong", callback_data="done")],
        [InlineKeyboardButton("Hướng dẫn", url="https://example.org/hd")],
    ])
    await update.message.reply_html("<b>Chào</b> bạn &amp; đơn vị\nDòng hai",
                                    reply_markup=keyboard)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    await query.answer(f"Đã nhận {query.data}")
    await query.edit_message_text(f"Bạn chọn: {query.data}")


async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    file = await update.message.document.get_file()
    data = await file.download_as_bytearray()
    await update.message.reply_text(f"{update.message.document.file_name}: {len(data)} byte")


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat = update.effective_chat
    if update.message.text == "im lặng":
        return
    member = await context.bot.get_chat_member(chat.id, update.effective_user.id)
    await update.message.reply_text(f"{chat.type}/{member.status}: {update.message.text}")


def build_app(api: FakeBotApi) -> Application:
    app = (ApplicationBuilder().token(api.token).base_url(api.base_url)
           .base_file_url(api.base_file_url).build())
    app.add_handler(CommandHandler("start", on_start))
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_handler(MessageHandler(filters.Document.ALL, on_document))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))
    return app


def chat(script: str, **kw) -> tuple[str, FakeBotApi, Application]:
    """Run the console over ``script``; return what it printed, the server and the app."""
    out = io.StringIO()
    with FakeBotApi() as api:
        app = build_app(api)
        asyncio.run(run_console(app, api, chat_id=USER, user_id=USER, stdin=io.StringIO(script),
                                stdout=out, quiet=kw.pop("quiet", 0.1), **kw))
    return out.getvalue(), api, app


def test_start_shows_text_and_numbered_buttons_then_pressing_one():
    output, api, app = chat("/start\n1\n/thoat\nkhông được gửi\n")
    assert "Trò chuyện thử với bot" in output
    assert "Bạn> /start\n" in output  # piped input is echoed after the prompt
    assert "Bot> Chào bạn & đơn vị\n     Dòng hai\n" in output
    assert "  [1] Trang sau  [2] Đã xong\n  [3] Hướng dẫn (liên kết)\n" in output
    assert "(bấm nút «Trang sau»)" in output
    assert [c["data"] for c in api.answered_callbacks] == ["next"]
    assert "Bot> (thông báo) Đã nhận next" in output
    assert "Bot> (sửa tin nhắn trước) Bạn chọn: next" in output
    assert output.rstrip().endswith("Tạm biệt!")
    assert "không được gửi" not in output
    assert not app.running


@pytest.mark.parametrize(("script", "expected"), [
    ("5\n", "Chưa có tin nhắn nào có nút để bấm."),
    ("/start\n9\n", "Không có nút số 9; hãy chọn từ 1 đến 3."),
    ("/start\n3\n", "Nút «Hướng dẫn» mở liên kết: https://example.org/hd"),
    ("/tep\n", "Cách dùng: /tep <đường dẫn tới tệp>"),
    ("/tep /khong/co/tep.docx\n", "Không tìm thấy tệp «/khong/co/tep.docx»."),
])
def test_bad_input_gets_a_vietnamese_answer(script, expected):
    output, api, _ = chat(script)
    assert expected in output
    assert not api.answered_callbacks


def test_upload_file_reaches_the_bot(tmp_path):
    plan = tmp_path / "kế hoạch.txt"
    plan.write_bytes("Kế hoạch số 12\n1. Báo cáo trước 30/6\n".encode())
    output, api, _ = chat(f"/tep {plan}\n")
    size = plan.stat().st_size
    assert f"(gửi tệp kế hoạch.txt, {size} byte)" in output
    assert f"Bot> kế hoạch.txt: {size} byte" in output
    assert any(r["method"] == "getFile" for r in api.sent)


def test_group_switch_makes_user_group_admin():
    output, api, _ = chat("/nhom\nxin chào\n/rieng\nchào riêng\n")
    assert f"Đang ở nhóm «Nhóm thử nghiệm» (mã {DEFAULT_GROUP_ID})" in output
    assert "Bot> supergroup/administrator: xin chào" in output
    assert f"Đang ở trò chuyện riêng với bot (mã {USER})." in output
    assert "Bot> private/member: chào riêng" in output
    assert [r["text"] for r in api.messages_to(DEFAULT_GROUP_ID)] == [
        "supergroup/administrator: xin chào"]


def test_guest_switch_plays_a_second_person_in_their_own_chat():
    output, api, _ = chat("/khach\nxin chào\n/rieng\nchào riêng\n", guest_id=3003)
    assert "Đang đóng vai «Khách thử nghiệm» (mã 3003, không phải quản trị viên)" in output
    assert [r["text"] for r in api.messages_to(3003)] == ["private/member: xin chào"]
    assert [r["text"] for r in api.messages_to(USER)] == ["private/member: chào riêng"]
    without, _, _ = chat("/khach\n")
    assert "Phiên này không có người dùng thứ hai." in without


def test_silence_is_reported_and_eof_ends_the_session():
    output, _, app = chat("im lặng", reply_timeout=0.3)
    assert "(bot chưa trả lời sau 0.3 giây)" in output
    assert "Tạm biệt!" in output
    assert not app.running


def test_an_already_running_app_is_left_running():
    async def scenario(api: FakeBotApi) -> tuple[str, bool]:
        app = build_app(api)
        async with app:
            await app.start()
            await app.updater.start_polling(poll_interval=0, timeout=1)
            out = io.StringIO()
            await run_console(app, api, chat_id=USER, user_id=USER,
                              stdin=io.StringIO("hello\n"), stdout=out, quiet=0.1)
            still_running = app.running
            await app.updater.stop()
            await app.stop()
        return out.getvalue(), still_running

    with FakeBotApi() as api:
        output, still_running = asyncio.run(scenario(api))
    assert still_running
    assert "Bot> private/member: hello" in output


def test_app_not_pointed_at_the_fake_is_refused():
    app = ApplicationBuilder().token("1:x").build()
    with FakeBotApi() as api, pytest.raises(ConfigError, match="giả lập"):
        asyncio.run(run_console(app, api, chat_id=USER, user_id=USER,
                                stdin=io.StringIO(""), stdout=io.StringIO()))


@pytest.mark.parametrize(("html", "text"), [
    ("<b>Hạn</b> &lt;30/6&gt; &amp; <i>gấp</i>", "Hạn <30/6> & gấp"),
    ('<a href="https://x.vn/a">tài liệu</a>', "tài liệu (https://x.vn/a)"),
    ('<a href="https://x.vn">https://x.vn</a>', "https://x.vn"),
    ("<pre>mã</pre>&#273;", "mãđ"),
])
def test_html_to_text(html, text):
    assert html_to_text(html) == text


@pytest.mark.parametrize(("markup", "lines"), [
    (None, []),
    ({"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}, ["  [1] A"]),
    ({"inline_keyboard": [[{"text": "A", "callback_data": "a"}, {"text": "B", "url": "u"}],
                          [{"text": "C", "callback_data": "c"}]]},
     ["  [1] A  [2] B (liên kết)", "  [3] C"]),
])
def test_format_buttons(markup, lines):
    assert format_buttons(markup) == lines


# -------------------------------------------------------------------------- files, late messages
def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), "red").save(buffer, format="PNG")
    return buffer.getvalue()


async def on_files(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.message.reply_document(b"PK-xlsx-bytes", filename="../../x/bí mật.xlsx",
                                        caption="Báo cáo")
    await update.message.reply_photo(_png(), filename="thongke.png")


def test_files_and_pictures_the_bot_sends_are_saved_and_their_path_printed(tmp_path):
    out_dir = tmp_path / "demo-out"
    (out_dir).mkdir()
    (out_dir / "001-thongke.png").write_bytes(b"from an earlier session")
    out = io.StringIO()
    with FakeBotApi() as api:
        app = build_app(api)
        app.add_handler(CommandHandler("tep_gui", on_files), group=-1)
        asyncio.run(run_console(app, api, chat_id=USER, user_id=USER,
                                stdin=io.StringIO("/tep_gui\n"), stdout=out, quiet=0.3,
                                out_dir=out_dir))
    output = out.getvalue()
    document, photo = out_dir / "002-bí_mật.xlsx", out_dir / "003-thongke.png"
    assert document.read_bytes() == b"PK-xlsx-bytes"  # no path taken from the file name
    assert photo.read_bytes() == _png()
    assert (out_dir / "001-thongke.png").read_bytes() == b"from an earlier session"
    assert "Bot> [Tệp] ../../x/bí mật.xlsx" in output or "Bot> [Tệp] bí mật.xlsx" in output
    assert f"(đã lưu: {document})" in output and f"(đã lưu: {photo})" in output
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "001-thongke.png", "002-bí_mật.xlsx", "003-thongke.png"]


class _GatedInput(io.StringIO):
    """Gives "/hen", then waits (in the console's reader thread) until ``text`` has been
    printed, then ends the input. ``seen`` tells whether the wait ended by the text."""

    def __init__(self, out: io.StringIO, text: str) -> None:
        super().__init__()
        self.out, self.text, self.calls, self.seen = out, text, 0, False

    def readline(self, *args) -> str:  # type: ignore[override]
        import time

        self.calls += 1
        if self.calls == 1:
            return "/hen\n"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.text in self.out.getvalue():
                self.seen = True
                break
            time.sleep(0.02)
        return ""


async def on_later(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat_id = update.effective_chat.id

    async def later() -> None:
        await asyncio.sleep(0.6)
        await context.bot.send_message(chat_id, "Nhắc việc: hạn hôm nay")

    context.application.create_task(later())
    await update.message.reply_text("Đã hẹn")


def test_a_message_sent_later_appears_while_the_prompt_waits():
    """Causality: the input ends only once the late message is on screen, so without the
    watcher the console would wait for the next line and never show it."""
    out = io.StringIO()
    stdin = _GatedInput(out, "Nhắc việc: hạn hôm nay")
    with FakeBotApi() as api:
        app = build_app(api)
        app.add_handler(CommandHandler("hen", on_later), group=-1)
        asyncio.run(run_console(app, api, chat_id=USER, user_id=USER, stdin=stdin,
                                stdout=out, quiet=0.1))
    output = out.getvalue()
    assert stdin.seen, output
    assert output.index("Bot> Đã hẹn") < output.index("Bot> Nhắc việc: hạn hôm nay")
    assert "Bot> Nhắc việc: hạn hôm nay\nBạn> " in output  # the prompt is shown again
    assert output.count("Nhắc việc: hạn hôm nay") == 1
