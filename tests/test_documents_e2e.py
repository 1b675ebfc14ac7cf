"""Uploading plans, the undo button and /vanban, end to end against the fake Bot API."""

from __future__ import annotations

from pathlib import Path

from telegram.ext import Application

from bot.fakeapi import check_html
from handlers.documents import undo_text, vanban_text
from tests.conftest import BotEnv
from tests.test_importer import PLAN, plan_docx

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
GROUP = -500


def _state(env: BotEnv) -> tuple[int, list[int]]:
    return env.store.task_count, [d.id for d in env.store.documents()]


async def _upload(env: BotEnv, chat_id: int, filename: str, data: bytes, *,
                  user_id: int, n: int = 1, **kw: object) -> list[dict]:
    """Send a document as a user; wait for ``n`` new messages to the chat."""
    before = len(env.api.messages_to(chat_id))
    env.api.upload_document(chat_id, filename, data, user_id=user_id, **kw)
    ok = await env.api.async_wait_for(lambda: len(env.api.messages_to(chat_id)) >= before + n)
    new = env.api.messages_to(chat_id)[before:]
    assert ok, f"no answer to the upload of {filename}: {new}"
    return new


def _undo_button(message: dict) -> str:
    [[button]] = message["reply_markup"]["inline_keyboard"]
    assert button["text"].endswith("Hoàn tác")
    return button["callback_data"]


def test_admin_uploads_sample_then_undoes(bot_env: BotEnv) -> None:
    path = next(SAMPLES.glob("004_*.txt"))
    admin = bot_env.ADMIN

    async def scenario(app: Application) -> None:
        [summary] = await _upload(bot_env, admin, path.name, path.read_bytes(), user_id=admin)
        assert "Đã nhập" in summary["text"] and "09-NQ/TU" in summary["text"]
        [doc] = bot_env.store.documents()
        assert doc.number == "09-NQ/TU" and doc.imported_by == admin
        assert f"Số nhiệm vụ: <b>{bot_env.store.task_count}</b>" in summary["text"]
        assert bot_env.store.task_count > 10
        data = _undo_button(summary)
        assert data == f"undo:{doc.id}"

        [dup] = await _upload(bot_env, admin, "ban sao.txt", path.read_bytes(), user_id=admin)
        assert "đã nhập trước đây" in dup["text"]
        assert not dup["reply_markup"]  # nothing new to undo
        assert len(bot_env.store.documents()) == 1

        refused = await bot_env.press(admin, summary["message_id"], data, user_id=bot_env.USER)
        assert refused["show_alert"] and "Chỉ quản trị viên" in refused["text"]
        assert bot_env.store.document(doc.id) is not None

        answered = await bot_env.press(admin, summary["message_id"], data, user_id=admin)
        assert "hoàn tác" in answered["text"].lower()
        assert bot_env.store.task_count == 0 and bot_env.store.documents() == []
        edited = await bot_env.api.async_wait_for(
            lambda: (m := bot_env.api.message(admin, summary["message_id"]))
            and "Đã hoàn tác" in m["text"] and m)
        assert "reply_markup" not in edited
        assert "09-NQ/TU" in edited["text"]

    bot_env.run(scenario)


def test_docx_upload_in_a_group_by_admin(bot_env: BotEnv) -> None:
    async def scenario(app: Application) -> None:
        [summary] = await _upload(bot_env, GROUP, "kế hoạch 12.docx", plan_docx(),
                                  user_id=bot_env.ADMIN, chat_type="group")
        assert "12/KH-UBND" in summary["text"]
        assert "Số nhiệm vụ: <b>3</b>" in summary["text"]
        assert bot_env.store.task_count == 3

    bot_env.run(scenario)


def test_non_admin_upload_refused_in_private_ignored_in_group(bot_env: BotEnv) -> None:
    user = bot_env.USER

    async def scenario(app: Application) -> None:
        [refused] = await _upload(bot_env, user, "kh.txt", PLAN.encode(), user_id=user)
        assert "Chỉ quản trị viên" in refused["text"]
        bot_env.api.upload_document(GROUP, "kh.txt", PLAN.encode(), user_id=user,
                                    chat_type="group")
        # Updates are handled in order: once /vanban is answered the upload was handled too.
        [listing] = await bot_env.ask(GROUP, "/vanban", user_id=user, chat_type="group")
        assert "Chưa có văn bản nào" in listing["text"]
        assert len(bot_env.api.messages_to(GROUP)) == 1
        assert bot_env.store.task_count == 0 and bot_env.store.documents() == []
        assert not any(r["method"] == "getFile" for r in bot_env.api.sent)

    bot_env.run(scenario)


BAD_UPLOADS = [
    ("chuong_trinh.exe", b"MZ\x90\x00" + bytes(100), "định dạng “.exe” chưa được hỗ trợ", 0),
    ("ke_hoach_cu.doc", b"\xd0\xcf\x11\xe0" + bytes(100), "Word 97-2003", 0),
    ("hong.docx", b"PK\x03\x04 day khong phai la docx", "Tệp .docx bị hỏng", 1),
    ("thu.txt", "Kính gửi các đồng chí.\nXin chào.\n".encode(), "Không tìm thấy nhiệm vụ", 1),
    ("lon.pdf", b"%PDF" + bytes(21 * 1024 * 1024), "quá lớn (21,0 MB)", 0),
]
"""(file name, bytes, expected message, getFile calls): type and size are refused before the
download; a broken or empty plan only once read."""


def test_bad_uploads_are_refused_and_store_nothing(bot_env: BotEnv) -> None:
    bot_env.load_samples()
    before = _state(bot_env)

    async def scenario(app: Application) -> None:
        for filename, data, fragment, downloads in BAD_UPLOADS:  # one bot start: fast
            fetched = sum(r["method"] == "getFile" for r in bot_env.api.sent)
            [reply] = await _upload(bot_env, bot_env.ADMIN, filename, data,
                                    user_id=bot_env.ADMIN)
            assert fragment in reply["text"], filename
            assert not reply["reply_markup"], filename
            now_fetched = sum(r["method"] == "getFile" for r in bot_env.api.sent)
            assert now_fetched - fetched == downloads, filename
            assert _state(bot_env) == before, filename

    bot_env.run(scenario)


def test_vanban_lists_the_samples(bot_env: BotEnv) -> None:
    bot_env.load_samples()

    async def scenario(app: Application) -> None:
        sent = await bot_env.ask(7, "/vanban", user_id=bot_env.USER)
        text = "\n".join(m["text"] for m in sent)
        assert "Văn bản đã nhập (5)" in text
        assert "Nghị quyết số 09-NQ/TU" in text and "Thị ủy Đông Triều" in text
        assert "47 nhiệm vụ" in text and "nhập lúc 09:00 20/12/2022" in text
        assert "Quý IV năm 2022" in text

    bot_env.run(scenario)


def test_vanban_and_undo_texts_are_valid_html(bot_env: BotEnv) -> None:
    results = bot_env.load_samples()
    text = vanban_text(bot_env.store)
    for line in text.split("\n"):
        check_html(line)
    assert text.count("\n") == len(results)
    doc = results[0].document
    assert "đã xóa 77 nhiệm vụ" in check_html(undo_text(doc, 77))
