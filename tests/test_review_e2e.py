"""Issue 10 end to end: the import reply's review buttons, /sua, /xoa, /khoiphuc, /giao and
their refusals, through the real Application and the fake Bot API server."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from bot import review
from bot.importer import import_document
from bot.reports import collect
from bot.repository import locality_key
from handlers.review import PREFIX
from handlers.units import unit_ref
from schedules.dispatch import Dispatcher
from schedules.jobs import run_digest
from tests.conftest import BotEnv
from tests.test_importer import PLAN
from tests.test_permissions_e2e import ACTORS, LEAD_CHAT, VIETNAMESE, Who, setup, snapshot

GROUP = -5100
"""Phòng Y tế (Cẩm Phả)'s own group."""
MEMBER = 5101
ADMIN_NAME = "Quản Trị"

NO_PLACE = """ỦY BAN NHÂN DÂN
Số: 45/KH-UBND
KẾ HOẠCH
Triển khai công tác chuyển đổi số năm 2022

I. MỤC ĐÍCH, YÊU CẦU
Bảo đảm hoàn thành các chỉ tiêu.
II. NHIỆM VỤ
1. Phòng Y tế: Tổ chức tiêm chủng mở rộng cho trẻ em, hoàn thành trước ngày 15/01/2023.
2. Phòng Tài chính - Kế hoạch: Rà soát dự toán ngân sách, báo cáo trước ngày 20/02/2023.
III. GIẢI PHÁP
1. Đẩy mạnh tuyên truyền về chuyển đổi số, hoàn thành trước ngày 27/12/2022.
2. Nâng cấp hạ tầng mạng tại các cơ quan, hoàn thành trước ngày 23/12/2022.
3. Tăng cường kiểm tra, giám sát việc thực hiện.
"""
"""No locality in the header; the three tasks of III have no lead unit (two due soon)."""


def _plain(message: dict) -> str:
    """The text as the user reads it (tags dropped, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", "", message["text"]))


def _buttons(message: dict) -> list[tuple[str, str]]:
    markup = message.get("reply_markup") or {}
    return [(_plain(b), b["callback_data"]) for row in markup.get("inline_keyboard", [])
            for b in row]


def _prepare(env: BotEnv) -> Any:
    """Cẩm Phả's plan imported; its Phòng Y tế has a member group."""
    store, now = env.store, env.clock.now()
    import_document(store, PLAN.encode(), "kh12.txt", actor=env.ADMIN, now=now)
    yte = store.match_unit("Phòng Y tế", "Cẩm Phả")
    store.subscribe(GROUP, yte.key, title="Tổ Y tế", chat_type="supergroup", actor=env.ADMIN,
                    now=now)
    env.api.add_chat(GROUP, "supergroup", title="Tổ Y tế")
    env.api.set_member_status(GROUP, MEMBER, "member")
    return yte


async def _upload(env: BotEnv, text: str, name: str) -> dict:
    before = len(env.api.messages_to(env.ADMIN))
    env.api.upload_document(env.ADMIN, name, text.encode(), user_id=env.ADMIN,
                            mime_type="text/plain")
    assert await env.api.async_wait_for(lambda: len(env.api.messages_to(env.ADMIN)) > before,
                                        30)
    return env.api.messages_to(env.ADMIN)[before]


async def _press(env: BotEnv, message: dict, data: str) -> tuple[dict, dict]:
    """Press as the admin; wait for the answer and the message that follows it."""
    chat = env.ADMIN
    before = len(env.api.messages_to(chat))
    answer = await env.press(chat, message["message_id"], data, user_id=chat)
    assert await env.api.async_wait_for(lambda: len(env.api.messages_to(chat)) > before)
    return answer, env.api.messages_to(chat)[before]


GROUP_KW = {"chat_type": "supergroup", "is_group_admin": False, "chat_title": "Tổ Y tế"}


def test_import_review_locality_then_section_reaches_the_units_digest(bot_env: BotEnv) -> None:
    yte = _prepare(bot_env)
    store, admin = bot_env.store, bot_env.ADMIN

    async def scenario(app) -> None:
        reply = await _upload(bot_env, NO_PLACE, "kh45.txt")
        text = _plain(reply)
        # The tasks without a lead unit come first, then the locality question, then the
        # usual summary; the undo button stays last.
        assert text.startswith("⚠️ 3 nhiệm vụ chưa có đơn vị chủ trì")
        assert text.index("Văn bản của địa phương nào?") < text.index("Đã nhập")
        [doc] = [d for d in store.documents() if d.number == "45/KH-UBND"]
        ids = [t.id for t in review.unassigned(store, doc.id)]
        assert all(f"#{i}" in text for i in ids)
        buttons = _buttons(reply)
        assert all(len(data.encode()) <= 64 for _, data in buttons)
        section = f"{PREFIX}s:{doc.id}:{review.section_ref('III')}"
        place = f"{PREFIX}l:{doc.id}:{review.short_ref(locality_key('Cẩm Phả'))}"
        assert ("Giao mục III (3)", section) in buttons
        assert [d for _, d in buttons if d.startswith(f"{PREFIX}t:")] == [
            f"{PREFIX}t:{i}" for i in ids]
        assert ("Cẩm Phả", place) in buttons and ("Khác…", f"{PREFIX}lo:{doc.id}") in buttons
        assert buttons[-1][1] == f"undo:{doc.id}:1"
        # The locality: the document's units become Cẩm Phả's.
        answer, told = await _press(bot_env, reply, place)
        assert "Cẩm Phả" in _plain(answer) and "thuộc Cẩm Phả" in _plain(told)
        assert store.document(doc.id).locality == "Cẩm Phả"
        first = store.document_tasks(doc.id)[0]
        assert first.lead == (yte.key,)
        # The section: asked for a unit, typed without accents, picked among buttons.
        _, prompt = await _press(bot_env, reply, section)
        assert "Gõ tên đơn vị chủ trì cho 3 nhiệm vụ của mục III" in _plain(prompt)
        assert prompt["reply_markup"].get("force_reply") is True
        [choices] = await bot_env.ask(admin, "y te", user_id=admin)
        pick = f"{PREFIX}us:{doc.id}:{review.section_ref('III')}:{unit_ref(yte.key)}"
        assert ("Phòng Y tế (Cẩm Phả)", pick) in _buttons(choices)
        assert all(len(d.encode()) <= 64 for _, d in _buttons(choices))
        assert all(not t.lead for t in store.tasks_for_units([yte.key]) if t.id in ids)
        answer, told = await _press(bot_env, choices, pick)
        assert "Đã giao 3 nhiệm vụ của mục III" in _plain(answer)
        assert "Phòng Y tế (Cẩm Phả)" in _plain(told)
        assert [store.task(i).lead for i in ids] == [(yte.key,)] * 3
        # The unit's group sees them in /nhiemvu and gets the soon-due ones in its digest.
        [listing] = await bot_env.ask(GROUP, "/nhiemvu", user_id=MEMBER, **GROUP_KW)
        assert all(f"#{i}" in _plain(listing) for i in ids)
        mark = len(bot_env.api.messages_to(GROUP))
        dispatcher = app.bot_data.get("dispatcher") or Dispatcher(app.bot, store,
                                                                   bot_env.clock)
        await run_digest(app, dispatcher, bot_env.clock.now())
        digest = "\n".join(_plain(m) for m in bot_env.api.messages_to(GROUP)[mark:])
        assert f"• {ids[0]} · 27/12/2022" in digest and f"• {ids[1]} · 23/12/2022" in digest
        # /chitiet's history names who assigned it.
        [detail] = await bot_env.ask(admin, f"/chitiet {ids[0]}", user_id=admin,
                                     first_name=ADMIN_NAME)
        assert "giao đơn vị chủ trì: Phòng Y tế (Cẩm Phả)" in _plain(detail)
        [detail] = await bot_env.ask(admin, f"/chitiet {first.id}", user_id=admin)
        assert "xác định địa phương của văn bản: Cẩm Phả (trước đó: chưa rõ)" in _plain(detail)

    bot_env.run(scenario)


def test_single_task_and_typed_locality(bot_env: BotEnv) -> None:
    _prepare(bot_env)
    store, admin = bot_env.store, bot_env.ADMIN

    async def scenario(app) -> None:
        reply = await _upload(bot_env, NO_PLACE, "kh45.txt")
        [doc] = [d for d in store.documents() if d.number == "45/KH-UBND"]
        # "Khác…": the locality is typed.
        _, prompt = await _press(bot_env, reply, f"{PREFIX}lo:{doc.id}")
        assert "Gõ tên địa phương" in _plain(prompt)
        [done] = await bot_env.ask(admin, "Vân Đồn", user_id=admin)
        assert "Vân Đồn" in _plain(done) and store.document(doc.id).locality == "Vân Đồn"
        # One task: typed name, buttons, pick.
        task = review.unassigned(store, doc.id)[2]
        await _press(bot_env, reply, f"{PREFIX}t:{task.id}")
        [choices] = await bot_env.ask(admin, "tai chinh ke hoach", user_id=admin)
        tc = store.match_unit("Phòng Tài chính - Kế hoạch", "Vân Đồn")
        pick = f"{PREFIX}ut:{task.id}:{unit_ref(tc.key)}"
        assert pick in [d for _, d in _buttons(choices)]
        await _press(bot_env, choices, pick)
        assert store.task(task.id).lead == (tc.key,)
        # Unknown name: a Vietnamese message, nothing assigned.
        await _press(bot_env, reply, f"{PREFIX}t:{review.unassigned(store, doc.id)[0].id}")
        [none] = await bot_env.ask(admin, "zzqqxx", user_id=admin)
        assert "Không tìm thấy đơn vị nào gần với «zzqqxx»" in _plain(none)
        # A stale press (already assigned) is explained.
        answer = await bot_env.press(admin, reply["message_id"], f"{PREFIX}t:{task.id}",
                                     user_id=admin)
        assert "đã có đơn vị chủ trì" in _plain(answer)

    bot_env.run(scenario)


def test_sua_xoa_khoiphuc(bot_env: BotEnv) -> None:
    _prepare(bot_env)
    store, admin = bot_env.store, bot_env.ADMIN
    first, second = store.open_tasks()[:2]
    kw = {"user_id": admin, "first_name": ADMIN_NAME}

    async def scenario(app) -> None:
        [how] = await bot_env.ask(admin, "/sua", **kw)
        assert "Cách dùng: /sua <mã> <trường> <giá trị>" in _plain(how)
        [fields] = await bot_env.ask(admin, f"/sua {first.id}", **kw)
        assert "chutri:" in _plain(fields) and "noidung" in _plain(fields)
        [bad] = await bot_env.ask(admin, f"/sua {first.id} han 31/02/2023", **kw)
        assert "31/02/2023 không tồn tại" in _plain(bad)
        assert store.task(first.id) == first
        [ok] = await bot_env.ask(admin, f"/sua {first.id} chutri tai chinh", **kw)
        assert "Đã sửa đơn vị chủ trì" in _plain(ok) and "Phòng Tài chính - Kế hoạch" in _plain(
            ok)
        [ok] = await bot_env.ask(admin, f"/sua {first.id} han 10/1/2023", **kw)
        assert "10/01/2023" in _plain(ok) and store.task(first.id).due.isoformat() == \
            "2023-01-10"
        [ok] = await bot_env.ask(admin, f"/sua {first.id} noidung Việc <mới> & khác", **kw)
        assert store.task(first.id).text == "Việc <mới> & khác"
        [detail] = await bot_env.ask(admin, f"/chitiet {first.id}", **kw)
        assert "sửa đơn vị chủ trì" in _plain(detail) and "sửa thời hạn" in _plain(detail)
        assert ADMIN_NAME in _plain(detail)
        # /xoa then /khoiphuc
        [gone] = await bot_env.ask(admin, f"/xoa {second.id}", **kw)
        assert "Đã xóa nhiệm vụ" in _plain(gone) and store.task(second.id) is None
        [missing] = await bot_env.ask(admin, f"/chitiet {second.id}", **kw)
        assert "Không có nhiệm vụ" in _plain(missing)
        [back] = await bot_env.ask(admin, f"/khoiphuc {second.id}", **kw)
        assert "Đã khôi phục" in _plain(back) and store.task(second.id) == second
        [detail] = await bot_env.ask(admin, f"/chitiet {second.id}", **kw)
        assert "xóa nhiệm vụ" in _plain(detail) and "khôi phục nhiệm vụ đã xóa" in _plain(
            detail)
        [again] = await bot_env.ask(admin, f"/khoiphuc {second.id}", **kw)
        assert "vẫn đang có" in _plain(again)
        [usage] = await bot_env.ask(admin, "/xoa", **kw)
        assert "Cách dùng: /xoa" in _plain(usage)

    bot_env.run(scenario)


def test_giao_reaches_nhiemvu_digest_and_report(bot_env: BotEnv) -> None:
    yte = _prepare(bot_env)
    store, admin = bot_env.store, bot_env.ADMIN
    kw = {"user_id": admin, "first_name": ADMIN_NAME}

    async def scenario(app) -> None:
        [reply] = await bot_env.ask(
            admin, "/giao Phòng Y tế (Cẩm Phả) hạn 23/12/2022: Báo cáo nhanh <dịch> & cúm",
            **kw)
        assert "Đã giao nhiệm vụ" in _plain(reply) and "23/12/2022" in _plain(reply)
        [task] = [t for t in store.open_tasks(yte.key) if t.text.startswith("Báo cáo nhanh")]
        doc = store.document(task.doc_id)
        assert doc.title == "Giao việc trực tiếp tháng 12/2022"
        [listing] = await bot_env.ask(GROUP, "/nhiemvu", user_id=MEMBER, **GROUP_KW)
        assert f"#{task.id}" in _plain(listing)
        mark = len(bot_env.api.messages_to(GROUP))
        dispatcher = app.bot_data.get("dispatcher") or Dispatcher(app.bot, store,
                                                                   bot_env.clock)
        await run_digest(app, dispatcher, bot_env.clock.now())
        digest = "\n".join(_plain(m) for m in bot_env.api.messages_to(GROUP)[mark:])
        assert f"• {task.id} · 23/12/2022" in digest
        report = collect(store, [yte.key], bot_env.clock.now().date())
        assert task.id in [row.task.id for row in report.rows]
        [vanban] = await bot_env.ask(admin, "/vanban", **kw)
        assert "Giao việc trực tiếp tháng 12/2022" in _plain(vanban)
        [detail] = await bot_env.ask(admin, f"/chitiet {task.id}", **kw)
        assert "giao việc trực tiếp cho Phòng Y tế (Cẩm Phả), hạn 23/12/2022" in _plain(detail)
        for bad, fragment in [("/giao Phòng Y tế", "Cách dùng: /giao"),
                              ("/giao Phòng Y tế (Cẩm Phả) hạn 31/02/2023: x",
                               "31/02/2023 không tồn tại"),
                              ("/giao Phòng Y tế (Cẩm Phả) hạn 1/12/2022: x", "đã qua"),
                              ("/giao Sở Ngoại giao sao Hỏa: x", "Không tìm thấy")]:
            count = store.task_count
            [answer] = await bot_env.ask(admin, bad, **kw)
            assert fragment in _plain(answer), _plain(answer)
            assert store.task_count == count

    bot_env.run(scenario)


# ------------------------------------------------------------------------------ refusals
def _act(kind: str, s: dict[str, Any]) -> str:
    census = s["census"].id
    doc = s["doc"]
    ref = unit_ref(s["ca"].key)
    return {
        "sua": f"/sua {census} chutri Phòng Y tế",
        "sua_help": f"/sua {census}",
        "xoa": f"/xoa {census}",
        "khoiphuc": f"/khoiphuc {census}",
        "giao": "/giao Công an thành phố hạn 30/12/2022: Tuần tra",
        "rv_task": f"{PREFIX}t:{census}",
        "rv_section": f"{PREFIX}s:{doc}:{review.section_ref('II')}",
        "rv_assign_task": f"{PREFIX}ut:{census}:{ref}",
        "rv_assign_section": f"{PREFIX}us:{doc}:{review.section_ref('II')}:{ref}",
        "rv_locality": f"{PREFIX}l:{doc}:{review.short_ref(locality_key('Uông Bí'))}",
        "rv_other_locality": f"{PREFIX}lo:{doc}",
    }[kind]


KINDS = ["sua", "sua_help", "xoa", "khoiphuc", "giao", "rv_task", "rv_section",
         "rv_assign_task", "rv_assign_section", "rv_locality", "rv_other_locality"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("who", [w for w in ACTORS if w.name in
                                 ("stranger", "other_unit", "group_member")],
                         ids=["stranger", "other_unit", "group_member"])
def test_outsiders_are_refused_and_nothing_changes(bot_env: BotEnv, who: Who,
                                                   kind: str) -> None:
    s = setup(bot_env)
    if kind == "khoiphuc":  # something to restore
        review.delete_task(bot_env.store, s["census"].id, actor=bot_env.ADMIN, by_name="QT",
                           now=bot_env.clock.now())
    api = bot_env.api
    api.add_chat(who.chat_id, who.chat_type, title=who.name if who.group else None)
    if who.group:
        api.set_member_status(who.chat_id, who.user_id, "member")

    async def scenario(app) -> None:
        anchor = await app.bot.send_message(who.chat_id, "Danh sách nhiệm vụ")
        before, mark = snapshot(bot_env), len(api.sent)
        data = _act(kind, s)
        if data.startswith("/"):
            extra: dict[str, Any] = {"chat_type": who.chat_type}
            if who.group:
                extra.update(is_group_admin=who.group_admin, chat_title=who.name)
            [reply] = await bot_env.ask(who.chat_id, data, user_id=who.user_id, **extra)
            seen = _plain(reply)
        else:
            n = len(api.answered_callbacks)
            api.forge_callback(who.chat_id, anchor.message_id, data, user_id=who.user_id)
            assert await api.async_wait_for(lambda: len(api.answered_callbacks) > n)
            answer = api.answered_callbacks[n]
            assert answer["show_alert"], answer
            seen = _plain(answer)
        assert "Chỉ quản trị viên của bot mới được" in seen, seen
        assert set(seen.lower()) & VIETNAMESE
        # A typed answer afterwards is no answer to anything: silence.
        await bot_env.ask(who.chat_id, "/help", user_id=who.user_id, chat_type=who.chat_type)
        api.user_message(who.chat_id, "y te", user_id=who.user_id, chat_type=who.chat_type)
        await bot_env.ask(who.chat_id, "/help", user_id=who.user_id, chat_type=who.chat_type)
        assert snapshot(bot_env) == before, "the database changed"
        calls = api.sent[mark:]
        assert [c for c in calls if c.get("chat_id") not in (who.chat_id, None)] == []
        texts = [_plain(m) for m in api.messages_to(who.chat_id)]
        assert not any("Chọn đơn vị" in t for t in texts)

    bot_env.run(scenario)
    assert api.messages_to(LEAD_CHAT) == []
