"""The permission matrix (issue 12, section 1), end to end against the fake Bot API.

Every privileged action on the lead unit (Công an thành phố) and every button, tried by five
outsiders, must be refused with nothing changed in the database, nothing sent to any other
chat (the unit's group, the admins) and nothing downloaded; the refusal is Vietnamese and
worded for the chat it lands in. Buttons are *forged* (``FakeBotApi.forge_callback``): a
modified client can send any callback data, so the bot must check rights on every press.

The outsiders:

* ``stranger`` — opened the bot in a private chat, belongs to nothing;
* ``other_unit`` — private chat, member of another unit (Phòng Tài chính - Kế hoạch);
* ``supporting`` — a group of the supporting unit (Phòng Y tế), the sender its administrator;
* ``group_member`` — a plain member of a group whose request to join the lead unit waits;
* ``unbound_admin`` — the administrator (creator) of a group bound to nothing.

The plan (tests/test_importer.PLAN) gives the task "census": lead Công an thành phố, support
Phòng Y tế. Cases: ``len(ACTORS) * len(ACTIONS)`` = 5 x 21 = 105.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from bot.importer import import_document
from bot.membership import invitation_payload
from bot.store import StoreData
from handlers.render import unit_ref as page_ref
from handlers.units import unit_ref as sub_ref
from tests.conftest import BotEnv
from tests.test_importer import PLAN

LEAD_CHAT = -6000
"""The lead unit's own group: nothing may reach it."""
SENDS = ("sendMessage", "sendPhoto", "sendDocument", "editMessageText",
         "editMessageReplyMarkup", "deleteMessage")
VIETNAMESE = set("ăâđêôơưàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ")


@dataclass(frozen=True)
class Who:
    name: str
    chat_id: int
    user_id: int
    chat_type: str = "private"
    group_admin: bool | None = None
    unit: str | None = None
    """"tc" or "yte": the unit the chat belongs to."""
    pending: bool = False
    """The chat's request to join the lead unit waits for the admins."""

    @property
    def group(self) -> bool:
        return self.chat_type != "private"


ACTORS = [
    Who("stranger", 7001, 7001),
    Who("other_unit", 7002, 7002, unit="tc"),
    Who("supporting", -7003, 7013, "supergroup", group_admin=True, unit="yte"),
    Who("group_member", -7004, 7014, "supergroup", group_admin=False, pending=True),
    Who("unbound_admin", -7005, 7015, "supergroup", group_admin=True),
]


# ----------------------------------------------------------------------------- set-up
def setup(env: BotEnv) -> dict[str, Any]:
    store, now = env.store, env.clock.now()
    result = import_document(store, PLAN.encode(), "kh12.txt", actor=env.ADMIN, now=now)
    census = env.store.document_tasks(result.document.id)[2]
    ca = store.match_unit("Công an thành phố")
    assert census.lead == (ca.key,) and census.support
    units = {"tc": store.match_unit("Phòng Tài chính - Kế hoạch").key,
             "yte": store.match_unit("Phòng Y tế").key}
    store.subscribe(LEAD_CHAT, ca.key, title="Tổ Công an", chat_type="supergroup",
                    actor=env.ADMIN, now=now)
    for who in ACTORS:
        if who.unit:
            store.subscribe(who.chat_id, units[who.unit], title=who.name,
                            chat_type=who.chat_type, actor=env.ADMIN, now=now)
        if who.pending:
            store.request_membership(who.chat_id, ca.key, title=who.name,
                                     chat_type=who.chat_type, user_id=env.ADMIN,
                                     user_name="Quản trị nhóm", now=now)
    invite = store.create_invitation(ca.key, actor=env.ADMIN, actor_name="QT", now=now,
                                     ttl=timedelta(days=7))
    [request] = store.join_requests(unit_key=ca.key)
    return {"ca": ca, "census": census, "doc": result.document.id, "invite": invite,
            "request": request.id, "member": store.membership(LEAD_CHAT, ca.key).id}


def snapshot(env: BotEnv) -> str:
    """Every table as the storage would write it, plus the file itself."""
    tables = {name: dict(rows) for name, rows in StoreData(env.store, None).tables()}
    path = env.store.path
    journal = path.with_name(path.name + ".journal")
    files = [path.read_bytes().decode(), journal.read_bytes().decode() if journal.exists()
             else ""]
    return json.dumps([tables, files], sort_keys=True, ensure_ascii=False, default=str)


# ----------------------------------------------------------------------------- actions
Act = Callable[[BotEnv, Who, dict[str, Any], int], Awaitable[str | None]]
"""Do the action as ``who``; return the text the actor saw (None: the bot stayed silent).
The int is a bot message in the actor's chat that forged buttons are attached to."""


def command(text: Callable[[dict[str, Any]], str]) -> Act:
    async def act(env: BotEnv, who: Who, s: dict[str, Any], _: int) -> str | None:
        kw: dict[str, Any] = {"chat_type": who.chat_type}
        if who.group:
            kw.update(is_group_admin=who.group_admin, chat_title=who.name)
        [reply] = await env.ask(who.chat_id, text(s), user_id=who.user_id, **kw)
        return reply["text"]
    return act


def button(data: Callable[[dict[str, Any]], str]) -> Act:
    async def act(env: BotEnv, who: Who, s: dict[str, Any], message_id: int) -> str | None:
        before = len(env.api.answered_callbacks)
        env.api.forge_callback(who.chat_id, message_id, data(s), user_id=who.user_id)
        assert await env.api.async_wait_for(lambda: len(env.api.answered_callbacks) > before)
        answer = env.api.answered_callbacks[before]
        assert answer["show_alert"], answer  # a refusal is an alert, never a silent spinner
        return answer["text"]
    return act


async def upload(env: BotEnv, who: Who, s: dict[str, Any], _: int) -> str | None:
    plan = PLAN.replace("12/KH-UBND", "99/KH-UBND").encode()
    before = len(env.api.messages_to(who.chat_id))
    kw: dict[str, Any] = {"chat_type": who.chat_type}
    if who.group:
        kw["is_group_admin"] = who.group_admin
    env.api.upload_document(who.chat_id, "kh99.txt", plan, user_id=who.user_id,
                            mime_type="text/plain", **kw)
    if who.group:
        # Members share files all day: a group gets no refusal per file. Updates are handled
        # in order, so once /help is answered the upload was handled (and ignored).
        await env.ask(who.chat_id, "/help", user_id=who.user_id, **kw)
        assert len(env.api.messages_to(who.chat_id)) == before + 1
        return None
    await env.api.async_wait_for(lambda: len(env.api.messages_to(who.chat_id)) > before)
    return env.api.messages_to(who.chat_id)[before]["text"]


def _forged_invite(s: dict[str, Any]) -> str:
    genuine = invitation_payload(b"not-the-bot-key-00000000000000000", s["invite"])
    return f"/start {genuine}"


CENSUS = "census"
ACTIONS: dict[str, tuple[Act, tuple[str, ...]]] = {
    # name: (action, fragments one of which the refusal holds)
    "close": (command(lambda s: f"/xong {s[CENSUS].id} đã xong"), ("chủ trì",)),
    "close_button": (button(lambda s: f"done:{s[CENSUS].id}"), ("chủ trì",)),
    "reopen": (command(lambda s: f"/mo {s[CENSUS].id}"), ("chủ trì",)),
    "snooze": (command(lambda s: f"/tamhoan {s[CENSUS].id} 30 ngày"), ("chủ trì",)),
    "snooze_button": (button(lambda s: f"snz:{s[CENSUS].id}:7"), ("chủ trì",)),
    "extension": (command(lambda s: f"/giahan {s[CENSUS].id} 15/2/2023"),
                  ("Chỉ quản trị viên của bot mới được gia hạn",)),
    "import": (upload, ("Chỉ quản trị viên của bot mới được nhập",)),
    "undo_button": (button(lambda s: f"undo:{s['doc']}"), ("quản trị viên",)),
    "announce": (command(lambda s: "/thongbao Công an thành phố: Họp khẩn"),
                 ("Chỉ quản trị viên của bot mới gửi", "Chỉ quản trị viên của bot mới được gửi")),
    "invite": (command(lambda s: "/moi Công an thành phố"),
               ("Chỉ quản trị viên của bot mới được tạo",)),
    "invite_list": (command(lambda s: "/moi"), ("Chỉ quản trị viên của bot mới được tạo",)),
    "revoke_button": (button(lambda s: f"inv:x:{s['invite'].id}"),
                      ("Chỉ quản trị viên của bot mới được",)),
    "approve_button": (button(lambda s: f"req:ok:{s['request']}"),
                       ("Chỉ quản trị viên của bot mới được duyệt",)),
    "refuse_button": (button(lambda s: f"req:no:{s['request']}"),
                      ("Chỉ quản trị viên của bot mới được duyệt",)),
    "remove_member_button": (button(lambda s: f"mem:rm:{s['member']}"),
                             ("Chỉ quản trị viên của bot mới được đưa",)),
    "list_members": (command(lambda s: "/thanhvien Công an thành phố"),
                     ("không xem được danh sách thành viên",)),
    "read_unit": (command(lambda s: "/nhiemvu Công an thành phố"),
                  ("chưa xem được nhiệm vụ",)),
    "page_button": (button(lambda s: f"pg:nhiemvu:2:u{page_ref(s['ca'].key)}"),
                    ("chưa xem được nhiệm vụ",)),
    "leave_button": (button(lambda s: f"unsub:{sub_ref(s['ca'].key)}"),
                     ("không là thành viên", "chỉ quản trị viên của nhóm")),
    "old_unit_link": (command(lambda s: f"/start u-{sub_ref(s['ca'].key)}"), ("kiểu cũ",)),
    "forged_invite_link": (command(_forged_invite), ("không hợp lệ",)),
}
PREPARE = {"reopen": lambda env, s: env.store.mark_done(s[CENSUS].id, actor=env.ADMIN,
                                                        now=env.clock.now())}
LEAKS = ("Đã ghi nhận", "Đã mở lại", "Đã tạm hoãn", "Đã gia hạn", "Thành viên của",
         "Nhiệm vụ của", "t.me/", "Đã thu hồi", "Đã duyệt", "Đã từ chối", "Đã đưa", "📢",
         "đã là thành viên", "Đã gửi yêu cầu")
"""Words of success (case matters: "Thành viên của" heads a list, a refusal says "chưa là
thành viên của"): none may appear in a refusal."""


def test_matrix_size() -> None:
    assert len(ACTORS) * len(ACTIONS) == 105


@pytest.mark.parametrize("action", sorted(ACTIONS))
@pytest.mark.parametrize("who", ACTORS, ids=[w.name for w in ACTORS])
def test_outsiders_are_refused_and_nothing_changes(bot_env: BotEnv, who: Who,
                                                   action: str) -> None:
    s = setup(bot_env)
    if action in PREPARE:
        PREPARE[action](bot_env, s)
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
        calls = api.sent[mark:]
        elsewhere = [c for c in calls if c["method"] in SENDS and c.get("chat_id") != who.chat_id]
        assert elsewhere == [], f"sent to other chats: {elsewhere}"
        assert "getFile" not in [c["method"] for c in calls]  # nothing downloaded
        assert not [c for c in calls if c["method"] == "editMessageText"]  # nothing shown
        if seen is None:  # a group member's file: ignored without a word
            assert action == "import" and who.group
            return
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
