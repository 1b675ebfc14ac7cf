"""Invitations, /thanhvien and the upgrade of older subscriptions, end to end: the real
Application against the fake Bot API (``bot_env`` in conftest.py)."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest

from bot.importer import import_document
from bot.membership import MAX_PENDING_PER_CHAT
from bot.store import Store
from handlers.common import clip
from localchat.fakeapi import check_html
from tests.conftest import BotEnv
from tests.test_importer import PLAN

STRANGER = 5001
OTHER = 5002
GROUP = -5100
LINK_RE = re.compile(r"https://t\.me/fake_plan_bot\?(start|startgroup)=(i-[A-Za-z0-9_-]+)")


def setup(env: BotEnv) -> dict:
    result = import_document(env.store, PLAN.encode(), "kh12.txt", actor=env.ADMIN,
                             now=env.clock.now())
    tasks = env.store.document_tasks(result.document.id)
    env.api.add_chat(env.ADMIN, "private")
    return {"ca": env.store.match_unit("Công an thành phố"), "census": tasks[2],
            "yte": env.store.match_unit("Phòng Y tế")}


def buttons(message: dict) -> list[tuple[str, str]]:
    markup = message.get("reply_markup") or {}
    return [(b["text"], b.get("callback_data") or b.get("url"))
            for row in markup.get("inline_keyboard", []) for b in row]


async def invite(env: BotEnv, unit_name: str) -> tuple[dict, str, str]:
    """/moi as the admin: (the reply, private link payload, group link payload)."""
    [reply] = await env.ask(env.ADMIN, f"/moi {unit_name}", user_id=env.ADMIN)
    links = dict(LINK_RE.findall(check_html(reply["text"])))
    assert links["start"] == links["startgroup"]  # one invitation, two ways to open it
    return reply, links["start"], links["startgroup"]


def test_an_invitation_link_makes_a_private_chat_a_member_once(bot_env: BotEnv) -> None:
    s = setup(bot_env)
    ca = s["ca"]

    async def scenario(app) -> None:
        reply, payload, _ = await invite(bot_env, "công an")
        text = check_html(reply["text"])
        assert f"Lời mời #1 tham gia {ca.label}, dùng được đến 09:00 27/12/2022" in text
        assert buttons(reply)[-1] == ("Thu hồi lời mời #1", "inv:x:1")

        [joined] = await bot_env.ask(STRANGER, f"/start {payload}", user_id=STRANGER,
                                     first_name="Lê Văn Tư")
        assert f"Bạn đã là thành viên của {ca.label}" in check_html(joined["text"])
        assert bot_env.store.chat_units(STRANGER) == (ca.key,)
        told = await bot_env.api.async_wait_for(
            lambda: len(bot_env.api.messages_to(bot_env.ADMIN)) >= 2)
        assert told
        notice = check_html(bot_env.api.messages_to(bot_env.ADMIN)[-1]["text"])
        assert "Lời mời #1" in notice and "đã được dùng" in notice and "Lê Văn Tư" in notice

        [done] = await bot_env.ask(STRANGER, f"/xong {s['census'].id}", user_id=STRANGER)
        assert "hoàn thành đúng hạn" in done["text"]  # the lead unit's member acts

        [again] = await bot_env.ask(OTHER, f"/start {payload}", user_id=OTHER)
        assert "đã được dùng" in again["text"]
        [listing] = await bot_env.ask(bot_env.ADMIN, "/moi", user_id=bot_env.ADMIN)
        assert "Không có lời mời nào còn hiệu lực" in listing["text"]

    bot_env.run(scenario)
    assert bot_env.store.chat_units(OTHER) == ()
    member = bot_env.store.membership(STRANGER, ca.key)
    assert (member.via, member.granted_by, member.by) == ("invite", bot_env.ADMIN, STRANGER)


def test_in_a_group_only_its_administrator_can_use_the_link(bot_env: BotEnv) -> None:
    s = setup(bot_env)

    async def scenario(app) -> None:
        _, _, payload = await invite(bot_env, "công an")
        [refused] = await bot_env.ask(GROUP, f"/start@fake_plan_bot {payload}",
                                      user_id=OTHER, chat_type="supergroup",
                                      is_group_admin=False)
        assert "chỉ quản trị viên của nhóm" in refused["text"]
        assert bot_env.store.invitation(1).status(bot_env.clock.now()) == "open"  # not used up
        [joined] = await bot_env.ask(GROUP, f"/start@fake_plan_bot {payload}",
                                     user_id=STRANGER, chat_type="supergroup",
                                     chat_title="Tổ Công an", is_group_admin=True)
        assert "Nhóm này đã là thành viên của" in joined["text"]

    bot_env.run(scenario)
    assert bot_env.store.chat_units(GROUP) == (s["ca"].key,)
    assert bot_env.store.chat(GROUP).title == "Tổ Công an"


def test_revoked_and_expired_links_are_refused(bot_env: BotEnv) -> None:
    setup(bot_env)

    async def scenario(app) -> None:
        first, revoked, _ = await invite(bot_env, "công an")
        _, expiring, _ = await invite(bot_env, "y te")
        [listing] = await bot_env.ask(bot_env.ADMIN, "/moi", user_id=bot_env.ADMIN)
        assert [d for _, d in buttons(listing)] == ["inv:x:1", "inv:x:2"]
        answer = await bot_env.press(bot_env.ADMIN, listing["message_id"], "inv:x:1",
                                     user_id=bot_env.ADMIN)
        assert "Đã thu hồi lời mời #1" in answer["text"]
        await bot_env.api.async_wait_for(
            lambda: buttons(bot_env.api.message(bot_env.ADMIN, listing["message_id"]))
            == [("Thu hồi #2 (Phòng Y tế)", "inv:x:2")])
        [refused] = await bot_env.ask(STRANGER, f"/start {revoked}", user_id=STRANGER)
        assert "thu hồi" in refused["text"]
        stale = await bot_env.press(bot_env.ADMIN, first["message_id"], "inv:x:1",
                                    user_id=bot_env.ADMIN)
        assert "đã bị thu hồi" in stale["text"]

        bot_env.clock.advance(timedelta(days=8))
        [late] = await bot_env.ask(STRANGER, f"/start {expiring}", user_id=STRANGER)
        assert "đã hết hạn lúc 09:00 27/12/2022" in late["text"]
        forged = expiring[:-3] + ("AAA" if not expiring.endswith("AAA") else "BBB")
        [bad] = await bot_env.ask(STRANGER, f"/start {forged}", user_id=STRANGER)
        assert "không hợp lệ" in bad["text"]

    bot_env.run(scenario)
    assert bot_env.store.chat_units(STRANGER) == ()


def test_moi_is_for_admins_and_private_chats(bot_env: BotEnv) -> None:
    setup(bot_env)

    async def scenario(app) -> None:
        [refused] = await bot_env.ask(STRANGER, "/moi công an", user_id=STRANGER)
        assert "Chỉ quản trị viên của bot" in refused["text"]
        [in_group] = await bot_env.ask(GROUP, "/moi công an", user_id=bot_env.ADMIN,
                                       chat_type="supergroup")
        assert "trò chuyện riêng" in in_group["text"] and "t.me" not in in_group["text"]
        [unknown] = await bot_env.ask(bot_env.ADMIN, "/moi qqxxzz", user_id=bot_env.ADMIN)
        assert "Không tìm thấy" in unknown["text"] or "không" in unknown["text"].lower()

    bot_env.run(scenario)
    assert bot_env.store.invitations(now=bot_env.clock.now()) == []


def test_thanhvien_lists_members_and_admins_remove_one(bot_env: BotEnv) -> None:
    s = setup(bot_env)
    ca = s["ca"]
    now = bot_env.clock.now()
    bot_env.store.subscribe(GROUP, ca.key, title="Tổ <Công an>", chat_type="supergroup",
                            actor=bot_env.ADMIN, now=now, by_name="Quản trị A")
    bot_env.store.request_membership(STRANGER, ca.key, title="Người lạ", chat_type="private",
                                     user_id=STRANGER, user_name="Người lạ", now=now)

    async def scenario(app) -> None:
        [members] = await bot_env.ask(GROUP, "/thanhvien", user_id=OTHER,
                                      chat_type="supergroup")
        text = check_html(members["text"])
        assert f"Thành viên của {ca.label} (1)" in text
        assert "Tổ <Công an> (nhóm, mã -5100) — từ 20/12/2022; quản trị viên Quản trị A" in text
        assert "Người lạ" not in text and not buttons(members)  # requests: admins only

        [refused] = await bot_env.ask(OTHER, "/thanhvien công an", user_id=OTHER)
        assert refused["text"].startswith("Bạn chưa là thành viên của")

        [overview] = await bot_env.ask(bot_env.ADMIN, "/thanhvien", user_id=bot_env.ADMIN)
        seen = check_html(overview["text"])
        assert "Đang chờ duyệt (1)" in seen and "Người lạ (trò chuyện riêng, mã 5001)" in seen
        member = bot_env.store.membership(GROUP, ca.key)
        assert ("Xóa Tổ <Công an> khỏi Công an thành phố", f"mem:rm:{member.id}") in \
            buttons(overview)
        assert ("✅ Duyệt #1", "req:ok:1") in buttons(overview)

        before = len(bot_env.api.messages_to(GROUP))
        await bot_env.press(bot_env.ADMIN, overview["message_id"], f"mem:rm:{member.id}",
                            user_id=bot_env.ADMIN)
        await bot_env.api.async_wait_for(
            lambda: len(bot_env.api.messages_to(GROUP)) > before)
        assert "đưa nhóm này ra khỏi đơn vị" in bot_env.api.messages_to(GROUP)[-1]["text"]
        assert bot_env.store.chat_units(GROUP) == ()

        await bot_env.press(bot_env.ADMIN, overview["message_id"], "req:ok:1",
                            user_id=bot_env.ADMIN)
        assert bot_env.store.chat_units(STRANGER) == (ca.key,)

    bot_env.run(scenario)


def _legacy_database(env: BotEnv, keys: dict[str, str]) -> None:
    """Rewrite the test database as the previous version left it (rows without ``via``)."""
    now = env.clock.now()
    env.store.subscribe(STRANGER, keys["ca"], title="Người lạ", chat_type="private",
                        actor=STRANGER, now=now)
    env.store.subscribe(GROUP, keys["ca"], title="Tổ Công an", chat_type="group",
                        actor=OTHER, now=now)
    env.store.subscribe(OTHER, keys["yte"], title="Chị Hoa", chat_type="private",
                        actor=env.ADMIN, now=now)
    env.store.close()
    path = Path(env.store.path)
    data = json.loads(path.read_text(encoding="utf-8"))
    for row in data["subscriptions"].values():
        row.pop("via")
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    env.store = Store(path)


def test_upgrade_keeps_admin_and_group_bindings_and_queues_the_rest(bot_env: BotEnv) -> None:
    s = setup(bot_env)
    keys = {"ca": s["ca"].key, "yte": s["yte"].key}
    _legacy_database(bot_env, keys)

    async def scenario(app) -> None:
        [hint] = await bot_env.ask(STRANGER, "/nhiemvu", user_id=STRANGER)
        assert "Yêu cầu tham gia Công an thành phố" in hint["text"]
        assert "đang chờ quản trị viên duyệt" in hint["text"]
        [denied] = await bot_env.ask(STRANGER, f"/xong {s['census'].id}", user_id=STRANGER)
        assert "bạn chưa là thành viên" in denied["text"]
        [group] = await bot_env.ask(GROUP, "/nhiemvu", user_id=OTHER, chat_type="group")
        assert "Công an thành phố" in group["text"] and "#" in group["text"]
        [overview] = await bot_env.ask(bot_env.ADMIN, "/thanhvien công an",
                                       user_id=bot_env.ADMIN)
        text = check_html(overview["text"])
        assert "nhóm đăng ký trước khi có chế độ thành viên" in text
        assert "Người lạ (trò chuyện riêng, mã 5001)" in text

    bot_env.run(scenario)
    store = bot_env.store
    assert store.chat_units(STRANGER) == () and store.chat_units(GROUP) == (keys["ca"],)
    assert store.membership(OTHER, keys["yte"]).via == "legacy_admin"
    [request] = store.join_requests()
    assert request.chat_id == STRANGER and request.origin == "upgrade"
    store.close()


def test_a_stranger_cannot_flood_the_admins_with_requests(bot_env: BotEnv) -> None:
    setup(bot_env)
    more = PLAN.replace("12/KH-UBND", "13/KH-UBND").replace("Phòng Tài chính - Kế hoạch",
                                                            "Phòng Nội vụ")
    import_document(bot_env.store, more.encode(), "kh13.txt", actor=bot_env.ADMIN,
                    now=bot_env.clock.now())
    names = ["công an", "y tế", "tài chính", "nội vụ"]
    assert len(names) == MAX_PENDING_PER_CHAT + 1

    async def scenario(app) -> None:
        for name in names[:-1]:
            [sent] = await bot_env.ask(STRANGER, f"/dangky {name}", user_id=STRANGER)
            assert "Đã gửi yêu cầu" in sent["text"]
        [capped] = await bot_env.ask(STRANGER, f"/dangky {names[-1]}", user_id=STRANGER)
        assert f"Bạn đã có {MAX_PENDING_PER_CHAT} yêu cầu tham gia đang chờ duyệt" in \
            capped["text"]
        [same] = await bot_env.ask(STRANGER, "/dangky công an", user_id=STRANGER)
        assert "đang chờ quản trị viên duyệt" in same["text"]  # asking again is no new one

    bot_env.run(scenario)
    assert len(bot_env.store.join_requests()) == MAX_PENDING_PER_CHAT
    assert len(bot_env.api.messages_to(bot_env.ADMIN)) == MAX_PENDING_PER_CHAT


@pytest.mark.parametrize(("text", "limit", "expected"), [
    ("ngắn", 10, "ngắn"),
    ("Bạn chưa là thành viên của đơn vị", 20, "Bạn chưa là thành…"),
    ("khôngcókhoảngtrắngnào", 8, "khôngcó…"),
])
def test_clip_cuts_between_words(text: str, limit: int, expected: str) -> None:
    assert clip(text, limit) == expected and len(clip(text, limit)) <= limit


def test_unit_names_typed_are_quoted_at_most_100_characters(bot_env: BotEnv) -> None:
    """As main's error replies do (bot.text.quote): a 4,000-character name is no 4,000-
    character answer."""
    s = setup(bot_env)
    typed = "khong co don vi nay " * 200
    bot_env.store.subscribe(OTHER, s["yte"].key, title="Cán bộ Y tế", chat_type="private",
                            actor=bot_env.ADMIN, now=bot_env.clock.now())

    def quoted(text: str) -> str:
        return check_html(text).split("«", 1)[1].split("»", 1)[0]

    async def scenario(app) -> None:
        [missing] = await bot_env.ask(STRANGER, "/dangky " + typed, user_id=STRANGER)
        assert "Không tìm thấy đơn vị nào gần với" in missing["text"]
        [leave] = await bot_env.ask(OTHER, "/huydangky " + typed, user_id=OTHER)
        assert "không theo dõi đơn vị" in leave["text"]
        for reply in (missing, leave):
            shown = quoted(reply["text"])
            assert shown.endswith("…") and len(shown) <= 100
            assert typed.startswith(shown[:-1])
            assert len(check_html(reply["text"])) < 400

    bot_env.run(scenario)
    assert bot_env.store.join_requests() == []
