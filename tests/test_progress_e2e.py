"""Issue 10 end to end: names in history, /tiendo, /xingiahan and its admin buttons, against
the fake Bot API (``bot_env`` in conftest.py), and the permission matrix of the new actions.

The plan (tests/test_importer.PLAN) gives the task "census": lead Công an thành phố, support
Phòng Y tế. ``LEAD_CHAT`` is the lead unit's group; its members act for the unit.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest

from bot import progress
from bot.membership import Actor
from bot.store import Store
from localchat.fakeapi import check_html
from tests.conftest import BotEnv
from tests.test_permissions_e2e import (
    ACTORS,
    LEAD_CHAT,
    SENDS,
    VIETNAMESE,
    Act,
    Who,
    button,
    command,
    snapshot,
)
from tests.test_permissions_e2e import setup as permissions_setup

MEMBER = 8001
"""A person in the lead unit's group."""
SECOND_ADMIN = 1002
GROUP_KW: dict[str, Any] = {"chat_type": "supergroup", "chat_title": "Tổ Công an",
                            "is_group_admin": False}


def buttons(message: dict) -> list[tuple[str, str]]:
    markup = message.get("reply_markup") or {}
    return [(b["text"], b.get("callback_data") or b.get("url"))
            for row in markup.get("inline_keyboard", []) for b in row]


def setup(env: BotEnv) -> dict[str, Any]:
    s = permissions_setup(env)
    env.api.add_chat(env.ADMIN, "private")
    env.api.add_chat(LEAD_CHAT, "supergroup", title="Tổ Công an")
    return s


async def ask_member(env: BotEnv, text: str, *, n: int = 1, user: int = MEMBER,
                     name: str = "Nguyễn Văn A") -> list[dict]:
    """A member of the lead unit's group types ``text`` (the fake server keeps one name per
    user id: another name needs another ``user``)."""
    return await env.ask(LEAD_CHAT, text, user_id=user, first_name=name, n=n, **GROUP_KW)


# ----------------------------------------------------------------------------- names, /tiendo
def test_progress_is_reported_and_shown_with_names_in_detail_and_history(
        bot_env: BotEnv) -> None:
    s = setup(bot_env)
    code = s["census"].id
    # An event written before names were recorded (and outside any update): still readable.
    bot_env.store.snooze(code, date(2022, 12, 23), actor=4242, now=bot_env.clock.now())

    async def scenario(app) -> None:
        [reply] = await ask_member(bot_env, f"/tiendo {code} 60% đã lấy ý kiến các phòng")
        text = check_html(reply["text"])
        assert f"Đã ghi nhận tiến độ nhiệm vụ #{code}" in text
        assert "60% — đã lấy ý kiến các phòng" in text
        assert "Nguyễn Văn A (Công an thành phố)" in text
        bot_env.clock.advance(timedelta(hours=2))
        [reply] = await ask_member(bot_env, f"/tiendo {code} xong bước khảo sát",
                                   user=8002, name="Trần Thị <B> & C")
        assert "xong bước khảo sát" in check_html(reply["text"])
        [done] = await ask_member(bot_env, f"/xong {code}", user=8003, name="Lê Văn Tư")
        assert "Đã ghi nhận hoàn thành" in done["text"]
        [detail] = await bot_env.ask(bot_env.ADMIN, f"/chitiet {code}", user_id=bot_env.ADMIN,
                                     first_name="Quản Trị")
        shown = check_html(detail["text"])
        assert ("Tiến độ: xong bước khảo sát (Trần Thị <B> & C (Công an thành phố), "
                "11:00 20/12/2022)") in shown
        assert "Lê Văn Tư (Công an thành phố) đánh dấu" in shown
        history = shown.split("Lịch sử:")[1]
        lines = [ln for ln in history.splitlines() if ln.startswith("•")]
        assert lines[0].endswith("— người dùng 4242")  # an old event without a name
        assert "báo tiến độ: 60% — đã lấy ý kiến các phòng — Nguyễn Văn A (Công an thành " \
               "phố)" in lines[1]
        assert "báo tiến độ: xong bước khảo sát — Trần Thị <B> & C" in lines[2]
        assert "đánh dấu hoàn thành" in lines[3] and "Lê Văn Tư" in lines[3]
        # the raw HTML escaped the name
        assert "Trần Thị &lt;B&gt; &amp; C" in detail["text"]
        [closed] = await ask_member(bot_env, f"/tiendo {code} 90%")
        assert "đã hoàn thành; không cần báo tiến độ" in closed["text"]

    bot_env.run(scenario)
    task = bot_env.store.task(code)
    assert task.progress is not None
    assert (task.progress.percent, task.progress.note, task.progress.by) == (
        None, "xong bước khảo sát", 8002)
    events = [e for e in bot_env.store.history(code) if e.kind == "progress"]
    assert [(e.data["percent"], e.data["by_name"], e.data["by_unit"]) for e in events] == [
        (60, "Nguyễn Văn A", "Công an thành phố"),
        (None, "Trần Thị <B> & C", "Công an thành phố")]


@pytest.mark.parametrize("args, message", [
    ("150%", "phần trăm phải từ 0 đến 100"),
    ("-5%", "phần trăm phải từ 0 đến 100"),
    ("101", "phần trăm phải từ 0 đến 100"),
    ("", "Cách dùng: /tiendo"),
    ("x" * 600, "tối đa 500 ký tự"),
])
def test_bad_progress_is_refused_and_nothing_changes(bot_env: BotEnv, args: str,
                                                    message: str) -> None:
    s = setup(bot_env)
    code = s["census"].id

    async def scenario(app) -> None:
        before = snapshot(bot_env)
        [reply] = await ask_member(bot_env, f"/tiendo {code} {args}".rstrip())
        assert message in reply["text"]
        assert snapshot(bot_env) == before

    bot_env.run(scenario)


def test_unknown_task_is_refused(bot_env: BotEnv) -> None:
    setup(bot_env)

    async def scenario(app) -> None:
        [reply] = await ask_member(bot_env, "/tiendo 999 50%")
        assert "Không có nhiệm vụ mã 999" in reply["text"]
        [reply] = await ask_member(bot_env, "/xingiahan 999 15/2/2023 thiếu kinh phí")
        assert "Không có nhiệm vụ mã 999" in reply["text"]

    bot_env.run(scenario)


# ----------------------------------------------------------------------------- /xingiahan
async def ask_extension(env: BotEnv, code: int, text: str = "15/2/2023 chờ số liệu của Sở"
                        ) -> tuple[dict, list[dict]]:
    """The member asks; returns the reply and the message each admin got."""
    admins = sorted(env.settings.admin_ids)
    before = {a: len(env.api.messages_to(a)) for a in admins}
    [reply] = await ask_member(env, f"/xingiahan {code} {text}")
    assert await env.api.async_wait_for(
        lambda: all(len(env.api.messages_to(a)) > before[a] for a in admins))
    return reply, [env.api.messages_to(a)[before[a]] for a in admins]


def test_extension_request_approved_once_by_the_first_admin(bot_env: BotEnv) -> None:
    bot_env.settings = replace(bot_env.settings,
                               admin_ids=frozenset({BotEnv.ADMIN, SECOND_ADMIN}))
    s = setup(bot_env)
    bot_env.api.add_chat(SECOND_ADMIN, "private")
    code = s["census"].id
    old_due = s["census"].due

    async def scenario(app) -> None:
        reply, (first, second) = await ask_extension(bot_env, code)
        assert "Đã gửi yêu cầu gia hạn #" in reply["text"]
        assert "đã gửi tới 2 quản trị viên" in reply["text"]
        text = check_html(first["text"])
        request_id = int(text.split("Yêu cầu gia hạn #")[1].split()[0])
        assert f"nhiệm vụ #{code}" in text and "→ 15/02/2023" in text
        assert "Lý do: chờ số liệu của Sở" in text
        assert "Người xin: Nguyễn Văn A (Công an thành phố)" in text
        assert buttons(first) == [("✅ Duyệt", f"xgh:ok:{request_id}"),
                                  ("❌ Từ chối", f"xgh:no:{request_id}")]
        assert buttons(second) == buttons(first)
        # A second request for the same task waits behind the first.
        [again] = await ask_member(bot_env, f"/xingiahan {code} 20/2/2023 lý do khác")
        assert f"yêu cầu gia hạn #{request_id}" in again["text"]
        assert "đang chờ quản trị viên duyệt" in again["text"]
        [detail] = await ask_member(bot_env, f"/chitiet {code}")
        assert (f"Xin gia hạn: yêu cầu #{request_id} đến 15/02/2023, đang chờ quản trị viên "
                "duyệt") in check_html(detail["text"])

        told_before = len(bot_env.api.messages_to(LEAD_CHAT))
        ok = await bot_env.press(bot_env.ADMIN, first["message_id"], f"xgh:ok:{request_id}",
                                 user_id=bot_env.ADMIN)
        assert f"Đã duyệt yêu cầu gia hạn #{request_id}" in ok["text"]
        assert await bot_env.api.async_wait_for(
            lambda: len(bot_env.api.messages_to(LEAD_CHAT)) > told_before)
        notice = check_html(bot_env.api.messages_to(LEAD_CHAT)[told_before]["text"])
        assert f"Yêu cầu gia hạn #{request_id} đã được duyệt" in notice
        assert "hạn mới 15/02/2023" in notice
        assert await bot_env.api.async_wait_for(
            lambda: buttons(bot_env.api.message(bot_env.ADMIN, first["message_id"])) == [])

        state = (bot_env.store.task(code), bot_env.store.history(code))
        again = await bot_env.press(SECOND_ADMIN, second["message_id"],
                                    f"xgh:no:{request_id}", user_id=SECOND_ADMIN)
        assert "đã được xử lý" in again["text"] and "đã được duyệt" in again["text"]
        assert again["show_alert"]
        forged = bot_env.api.forge_callback(bot_env.ADMIN, first["message_id"],
                                            f"xgh:ok:{request_id}", user_id=bot_env.ADMIN)
        assert forged
        assert await bot_env.api.async_wait_for(
            lambda: "đã được xử lý" in (bot_env.api.answered_callbacks[-1].get("text") or ""))
        # a second decision changes nothing
        assert (bot_env.store.task(code), bot_env.store.history(code)) == state
        assert len(bot_env.api.messages_to(LEAD_CHAT)) == told_before + 1  # told once

    bot_env.run(scenario)
    task = bot_env.store.task(code)
    assert (task.due, task.due_kind, task.original_due) == (date(2023, 2, 15), "extended",
                                                            old_due)
    kinds = [e.kind for e in bot_env.store.history(code)]
    assert kinds[-3:] == ["extension_request", "extend", "extension_approve"]
    extend = [e for e in bot_env.store.history(code) if e.kind == "extend"][0]
    assert extend.actor == bot_env.ADMIN and extend.data["by_unit"] == progress.ADMIN_UNIT
    assert "theo yêu cầu #" in extend.data["reason"]


def test_extension_request_survives_a_restart_and_can_be_refused(bot_env: BotEnv) -> None:
    s = setup(bot_env)
    code = s["census"].id
    old_due = bot_env.store.task(code).due
    seen: dict[str, Any] = {}

    async def first_run(app) -> None:
        _, (admin_message,) = await ask_extension(bot_env, code)
        seen["message"] = admin_message

    bot_env.run(first_run)
    path = bot_env.store.path
    bot_env.store.close()
    bot_env.store = Store(path)  # a new process: only the database remains
    message = seen["message"]
    request_id = int(buttons(message)[0][1].split(":")[2])

    async def second_run(app) -> None:
        told_before = len(bot_env.api.messages_to(LEAD_CHAT))
        no = await bot_env.press(bot_env.ADMIN, message["message_id"], f"xgh:no:{request_id}",
                                 user_id=bot_env.ADMIN, )
        assert f"Đã từ chối yêu cầu gia hạn #{request_id}" in no["text"]
        assert await bot_env.api.async_wait_for(
            lambda: len(bot_env.api.messages_to(LEAD_CHAT)) > told_before)
        notice = check_html(bot_env.api.messages_to(LEAD_CHAT)[told_before]["text"])
        assert "không được" in notice and "chấp thuận" in notice
        [detail] = await ask_member(bot_env, f"/chitiet {code}")
        text = check_html(detail["text"])
        assert "đang chờ quản trị viên duyệt" not in text
        assert f"từ chối yêu cầu gia hạn #{request_id}" in text
        # Refused: the unit may ask again.
        [reply] = await ask_member(bot_env, f"/xingiahan {code} 1/3/2023 vẫn chờ số liệu",
                                   n=1)
        assert "Đã gửi yêu cầu gia hạn #" in reply["text"]

    bot_env.run(second_run)
    assert bot_env.store.task(code).due == old_due


def test_approving_a_request_whose_date_passed_keeps_it_pending(bot_env: BotEnv) -> None:
    s = setup(bot_env)
    code = s["census"].id

    async def scenario(app) -> None:
        _, (message,) = await ask_extension(bot_env, code, "21/12/2022 chờ họp")
        request_id = int(buttons(message)[0][1].split(":")[2])
        bot_env.clock.advance(timedelta(days=2))
        before = snapshot(bot_env)
        answer = await bot_env.press(bot_env.ADMIN, message["message_id"],
                                     f"xgh:ok:{request_id}", user_id=bot_env.ADMIN)
        assert "Không duyệt được yêu cầu gia hạn" in answer["text"]
        assert "đã qua" in answer["text"]
        assert snapshot(bot_env) == before
        no = await bot_env.press(bot_env.ADMIN, message["message_id"],
                                 f"xgh:no:{request_id}", user_id=bot_env.ADMIN)
        assert "Đã từ chối" in no["text"]

    bot_env.run(scenario)


@pytest.mark.parametrize("args, message", [
    (["15/2/2023"], "Hãy ghi lý do xin gia hạn"),
    (["1/12/2022", "muộn"], "đã qua"),
    (["khi", "nào", "xong", "thì", "báo"], "Không đọc được ngày"),
    ([], "Cách dùng: /xingiahan"),
])
def test_bad_extension_requests_are_refused_and_nothing_is_sent(
        bot_env: BotEnv, args: list[str], message: str) -> None:
    s = setup(bot_env)
    code = s["census"].id

    async def scenario(app) -> None:
        before, mark = snapshot(bot_env), len(bot_env.api.sent)
        text = f"/xingiahan {code} {' '.join(args)}".rstrip() if args else "/xingiahan"
        [reply] = await ask_member(bot_env, text)
        assert message in reply["text"]
        assert snapshot(bot_env) == before
        assert bot_env.api.messages_to(bot_env.ADMIN) == []
        assert all(c.get("chat_id") == LEAD_CHAT for c in bot_env.api.sent[mark:]
                   if c["method"] in SENDS)

    bot_env.run(scenario)


# ----------------------------------------------------------------------------- permissions
def _pending_request(env: BotEnv, s: dict[str, Any]) -> int:
    lead = Actor(chat_id=LEAD_CHAT, chat_type="supergroup", unit_keys=(s["ca"].key,),
                 user_id=MEMBER, user_name="Nguyễn Văn A")
    request = progress.ask_extension(env.store, lead, s["census"].id, date(2023, 5, 1),
                                     "chờ kinh phí", env.clock.now())
    return request.id


ACTIONS: dict[str, tuple[Act, tuple[str, ...]]] = {
    "progress": (command(lambda s: f"/tiendo {s['census'].id} 50% đang làm"),
                 ("báo tiến độ",)),
    "ask_extension": (command(lambda s: f"/xingiahan {s['census'].id} 15/2/2023 chờ số liệu"),
                      ("xin gia hạn",)),
    "approve_extension": (button(lambda s: f"xgh:ok:{s['extension']}"),
                          ("Chỉ quản trị viên của bot mới được duyệt yêu cầu gia hạn",)),
    "refuse_extension": (button(lambda s: f"xgh:no:{s['extension']}"),
                         ("Chỉ quản trị viên của bot mới được duyệt yêu cầu gia hạn",)),
}
LEAKS = ("Đã ghi nhận", "Đã gửi yêu cầu", "Đã duyệt", "Đã từ chối", "⏳")


@pytest.mark.parametrize("action", sorted(ACTIONS))
@pytest.mark.parametrize("who", ACTORS, ids=[w.name for w in ACTORS])
def test_outsiders_cannot_report_progress_or_ask_or_decide_extensions(
        bot_env: BotEnv, who: Who, action: str) -> None:
    s = permissions_setup(bot_env)
    s["extension"] = _pending_request(bot_env, s)
    act, fragments = ACTIONS[action]
    api = bot_env.api
    api.add_chat(bot_env.ADMIN, "private")
    api.add_chat(LEAD_CHAT, "supergroup", title="Tổ Công an")
    api.add_chat(who.chat_id, who.chat_type, title=who.name if who.group else None)
    if who.group:
        api.set_member_status(who.chat_id, who.user_id,
                              "administrator" if who.group_admin else "member")

    async def scenario(app) -> None:
        anchor = await app.bot.send_message(who.chat_id, "Danh sách nhiệm vụ")
        before, mark = snapshot(bot_env), len(api.sent)
        seen = await act(bot_env, who, s, anchor.message_id)
        assert snapshot(bot_env) == before, "the database changed"
        elsewhere = [c for c in api.sent[mark:]
                     if c["method"] in SENDS and c.get("chat_id") != who.chat_id]
        assert elsewhere == [], f"sent to other chats: {elsewhere}"
        assert seen is not None
        text = seen.lower()
        assert set(text) & VIETNAMESE, seen
        assert any(f.lower() in text for f in fragments), seen
        assert not any(word in seen for word in LEAKS), seen
        if who.group:
            assert "bạn chưa" not in text and "bạn thuộc" not in text, seen
        else:
            assert "nhóm này" not in text, seen

    bot_env.run(scenario)
    assert api.messages_to(LEAD_CHAT) == []
    assert bot_env.store.task(s["census"].id).progress is None


# ----------------------------------------------------------------------------- announcements
def test_announcements_name_their_sender(bot_env: BotEnv) -> None:
    setup(bot_env)

    async def scenario(app) -> None:
        before = len(bot_env.api.messages_to(LEAD_CHAT))
        await bot_env.ask(bot_env.ADMIN, "/thongbao Công an thành phố: Họp giao ban lúc 14h",
                          user_id=bot_env.ADMIN, first_name="Phạm <Quản> & Trị", n=2)
        assert await bot_env.api.async_wait_for(
            lambda: len(bot_env.api.messages_to(LEAD_CHAT)) > before)
        message = bot_env.api.messages_to(LEAD_CHAT)[before]
        text = check_html(message["text"])
        assert "Người gửi: Phạm <Quản> & Trị" in text and "Họp giao ban lúc 14h" in text
        assert "Phạm &lt;Quản&gt; &amp; Trị" in message["text"]
        await bot_env.ask(bot_env.ADMIN, "/thongbao Công an thành phố lúc 8 giờ sáng mai: "
                          "Nộp báo cáo", user_id=bot_env.ADMIN)

    bot_env.run(scenario)
    [item] = bot_env.store.scheduled_announcements()
    assert item.by_name == "Phạm <Quản> & Trị"
