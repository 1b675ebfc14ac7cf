"""Units and chats end to end: /dangky (requests), /huydangky, /donvi, /start, /help.

The real Application talks to the fake Bot API (``bot_env`` in conftest.py) over the five
sample plans; expected numbers come from the store, never typed in.
"""

from __future__ import annotations

import functools
import hashlib
import re
from pathlib import Path

import pytest

from bot.plans import parse_file
from bot.records import StoredUnit
from bot.store import Store
from handlers.common import split_html
from handlers.texts import COMMANDS
from handlers.units import (
    closest_units,
    donvi_text,
    find_unit,
    unit_ref,
    units_keyboard,
)
from localchat.fakeapi import check_html

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
GROUP = -100200300
PRIVATE = 555


@functools.cache
def _sample_plans() -> tuple:
    """The sample plans parsed once per run (parsing is most of a test's time)."""
    return tuple((path.name, hashlib.sha256(path.read_bytes()).hexdigest(), parse_file(path))
                 for path in sorted(SAMPLES.glob("*.txt")))


def load(env) -> None:
    """Like ``env.load_samples()`` but reusing the parsed plans."""
    for name, digest, plan in _sample_plans():
        env.store.import_plan(plan, filename=name, file_hash=digest, actor=env.ADMIN,
                              now=env.clock.now())


def unit_named(store: Store, name: str, locality: str | None = None) -> StoredUnit:
    found = [u for u in store.units()
             if u.name == name and (locality is None or u.locality == locality)]
    assert len(found) == 1, [u.label for u in store.units() if name in u.name]
    return found[0]


def tai_chinh(store: Store) -> StoredUnit:
    return unit_named(store, "Phòng Tài chính - Kế hoạch")


def counts(env, key: str) -> tuple[int, int]:
    return len(env.store.open_tasks(key)), len(env.store.overdue(key, env.clock.now().date()))


def buttons(message: dict) -> list[tuple[str, str]]:
    markup = message.get("reply_markup") or {}
    return [(b["text"], b.get("callback_data") or b.get("url"))
            for row in markup.get("inline_keyboard", []) for b in row]


# ------------------------------------------------------------------------------------------
# Pure parts
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("key", [
    "cam pha|phong tai chinh ke hoach", "-|phong y te", "",
    "dong trieu|" + "rất dài " * 40, "hạ long|ủy ban nhân dân",
])
def test_unit_ref_fits_callback_data(key: str) -> None:
    ref = unit_ref(key)
    assert re.fullmatch(r"[A-Za-z0-9_-]{8}", ref)
    assert unit_ref(key) == ref  # stable across calls (and processes: no salted hash())
    assert len(f"unsub:{ref}".encode()) <= 64


def test_refs_of_distinct_units_differ_and_resolve(bot_env) -> None:
    load(bot_env)
    units = bot_env.store.units()
    assert len({unit_ref(u.key) for u in units}) == len(units)
    for unit in units[::7]:
        assert find_unit(bot_env.store, unit_ref(unit.key)) == unit
    assert find_unit(bot_env.store, unit_ref("nowhere|no unit")) is None


@pytest.mark.parametrize("page", [-3, 0, 1, 5, 99])
def test_units_keyboard_pages_and_callback_sizes(bot_env, page: int) -> None:
    load(bot_env)
    units = bot_env.store.units()
    rows, shown, pages = units_keyboard(units, "unsub:", page, marked=[units[0].key],
                                        page_size=8)
    assert pages == -(-len(units) // 8)
    assert shown == min(max(page, 0), pages - 1)
    data = [d for row in rows for _, d in row]
    assert all(len(d.encode()) <= 64 for d in data)
    unit_rows = [row for row in rows if row[0][1].startswith("unsub:") and "#" not in row[0][1]]
    assert [find_unit(bot_env.store, r[0][1][6:]) for r in unit_rows] == \
        units[shown * 8:(shown + 1) * 8]
    nav = rows[-1]
    assert ("« Trước" in [label for label, _ in nav]) == (shown > 0)
    assert ("Sau »" in [label for label, _ in nav]) == (shown < pages - 1)
    assert rows[0][0][0].startswith("✓ ") == (shown == 0)


@pytest.mark.parametrize(("query", "expected", "absent"), [
    ("van hoa", ["Phòng Văn hóa và Thông tin", "Trung tâm Truyền thông và Văn hóa"],
     "Văn phòng Thị ủy"),
    ("tuyen giao", ["Ban Tuyên giáo Thị ủy", "Ban Tuyên giáo Thành ủy"], "Phòng Y tế"),
    ("y te", ["Phòng Y tế"], "Ban Tiếp công dân"),
])
def test_closest_units_ranks_across_localities(bot_env, query: str, expected: list[str],
                                               absent: str) -> None:
    load(bot_env)
    names = [u.name for u in closest_units(bot_env.store, query)]
    assert set(expected) <= set(names)
    assert max(names.index(name) for name in expected) < len(expected) + 1
    assert absent not in names


def test_closest_units_nothing_for_gibberish(bot_env) -> None:
    load(bot_env)
    assert closest_units(bot_env.store, "qqxxzzkw") == []


# ------------------------------------------------------------------------------------------
# End to end
# ------------------------------------------------------------------------------------------
def test_setmycommands_lists_every_command_in_vietnamese(bot_env) -> None:
    async def scenario(app) -> None:
        await bot_env.api.async_wait_for(lambda: bot_env.api.commands)

    bot_env.run(scenario)
    assert bot_env.api.commands
    for payload in bot_env.api.commands:
        sent = [(c["command"], c["description"]) for c in payload["commands"]]
        assert sent == list(COMMANDS)
    assert "Xin tham gia" in dict(COMMANDS)["dangky"]


def test_private_dangky_files_a_request_that_an_admin_approves(bot_env) -> None:
    load(bot_env)
    unit = tai_chinh(bot_env.store)
    open_n, overdue_n = counts(bot_env, unit.key)
    bot_env.api.add_chat(bot_env.ADMIN, "private")

    async def scenario(app) -> None:
        first = await bot_env.ask(PRIVATE, "/dangky tai chinh", user_id=bot_env.USER)
        text = check_html(first[-1]["text"])
        assert "Đã gửi yêu cầu tới quản trị viên cho bạn tham gia" in text
        assert unit.label in text and "nhiệm vụ đang mở" not in text  # nothing of the unit yet
        assert bot_env.store.chat_units(PRIVATE) == ()
        [request] = bot_env.store.join_requests(chat_id=PRIVATE)
        assert request.unit_key == unit.key and request.user_id == bot_env.USER
        [to_admin] = bot_env.api.messages_to(bot_env.ADMIN)
        assert f"Yêu cầu #{request.id} tham gia" in check_html(to_admin["text"])
        assert buttons(to_admin) == [("✅ Duyệt", f"req:ok:{request.id}"),
                                     ("❌ Từ chối", f"req:no:{request.id}")]

        events = len(bot_env.store.recent_events(1000))
        again = await bot_env.ask(PRIVATE, "/dangky Phòng TC-KH", user_id=bot_env.USER)
        assert "đang chờ quản trị viên duyệt" in again[-1]["text"]
        assert len(bot_env.store.recent_events(1000)) == events
        assert len(bot_env.api.messages_to(bot_env.ADMIN)) == 1  # admins asked once

        before = len(bot_env.api.messages_to(PRIVATE))
        answer = await bot_env.press(bot_env.ADMIN, to_admin["message_id"],
                                     f"req:ok:{request.id}", user_id=bot_env.ADMIN)
        assert f"Đã duyệt yêu cầu #{request.id}" in answer["text"]
        assert bot_env.store.chat_units(PRIVATE) == (unit.key,)
        await bot_env.api.async_wait_for(
            lambda: len(bot_env.api.messages_to(PRIVATE)) > before)
        notice = check_html(bot_env.api.messages_to(PRIVATE)[-1]["text"])
        assert f"bạn đã là thành viên của {unit.label}" in notice
        assert not bot_env.api.message(bot_env.ADMIN, to_admin["message_id"]).get(
            "reply_markup")  # the decided request has no buttons left

        member = await bot_env.ask(PRIVATE, "/dangky tai chinh", user_id=bot_env.USER)
        member_text = check_html(member[-1]["text"])
        assert "từ trước" in member_text
        assert f"{open_n} nhiệm vụ đang mở, {overdue_n} quá hạn" in member_text

    bot_env.run(scenario)
    chat = bot_env.store.chat(PRIVATE)
    assert chat is not None and chat.type == "private" and chat.title
    membership = bot_env.store.membership(PRIVATE, unit.key)
    assert membership.via == "request" and membership.granted_by == bot_env.ADMIN


def test_refused_request_leaves_the_chat_outside(bot_env) -> None:
    load(bot_env)
    tai_chinh(bot_env.store)
    bot_env.api.add_chat(bot_env.ADMIN, "private")

    async def scenario(app) -> None:
        await bot_env.ask(PRIVATE, "/dangky tai chinh", user_id=bot_env.USER)
        [to_admin] = bot_env.api.messages_to(bot_env.ADMIN)
        [request] = bot_env.store.join_requests(chat_id=PRIVATE)
        before = len(bot_env.api.messages_to(PRIVATE))
        await bot_env.press(bot_env.ADMIN, to_admin["message_id"], f"req:no:{request.id}",
                            user_id=bot_env.ADMIN)
        await bot_env.api.async_wait_for(
            lambda: len(bot_env.api.messages_to(PRIVATE)) > before)
        assert "không được quản trị viên chấp thuận" in \
            bot_env.api.messages_to(PRIVATE)[-1]["text"]
        [late] = await bot_env.ask(PRIVATE, "/nhiemvu tai chinh", user_id=bot_env.USER)
        assert "chưa là thành viên" in late["text"]

    bot_env.run(scenario)
    assert bot_env.store.chat_units(PRIVATE) == ()
    assert bot_env.store.join_request(1).status == "refused"


def test_group_dangky_needs_a_group_admin_and_only_a_bot_admin_binds(bot_env) -> None:
    load(bot_env)
    tai_chinh(bot_env.store)
    other = unit_named(bot_env.store, "Phòng Y tế")

    async def scenario(app) -> None:
        refused = await bot_env.ask(GROUP, "/dangky tai chinh", user_id=bot_env.USER,
                                    chat_type="group", chat_title="Tổ TC-KH",
                                    is_group_admin=False)
        assert "quản trị viên" in refused[-1]["text"]
        assert bot_env.store.chat_units(GROUP) == ()
        assert bot_env.store.join_requests() == []
        assert bot_env.store.chat(GROUP) is None
        asked = await bot_env.ask(GROUP, "/dangky tai chinh", user_id=bot_env.USER,
                                  chat_type="group", is_group_admin=True)
        assert "cho nhóm này tham gia" in asked[-1]["text"]
        assert bot_env.store.chat_units(GROUP) == ()  # a request, not a binding
        [request] = bot_env.store.join_requests(chat_id=GROUP)
        assert request.chat_title == "Tổ TC-KH" and request.in_group
        # a bot admin adds a group without being its administrator
        by_admin = await bot_env.ask(GROUP, "/dangky y te", user_id=bot_env.ADMIN,
                                     chat_type="group", is_group_admin=False)
        assert other.label in by_admin[-1]["text"] and "Nhóm này đã là thành viên" in \
            by_admin[-1]["text"]
        assert "t.me/" not in by_admin[-1]["text"]  # links only come from /moi

    bot_env.run(scenario)
    assert bot_env.store.chat_units(GROUP) == (other.key,)
    chat = bot_env.store.chat(GROUP)
    assert chat.type == "group" and chat.title == "Tổ TC-KH"


def test_ambiguous_name_gives_buttons_and_pressing_one_files_a_request(bot_env) -> None:
    load(bot_env)
    target = unit_named(bot_env.store, "Ủy ban Nhân dân", "Đông Triều")

    async def scenario(app) -> None:
        reply = (await bot_env.ask(GROUP, "/dangky uy ban nhan dan", user_id=bot_env.USER,
                                   chat_type="group", is_group_admin=True))[-1]
        labels = dict(buttons(reply))
        assert labels[target.label] == f"sub:{unit_ref(target.key)}"
        assert len(labels) >= 2
        assert bot_env.store.chat_units(GROUP) == ()
        # a plain member cannot press it for the group
        bot_env.api.set_member_status(GROUP, 3003, "member")
        denied = await bot_env.press(GROUP, reply["message_id"], labels[target.label],
                                     user_id=3003)
        assert denied["show_alert"] and "quản trị viên" in denied["text"]
        assert bot_env.store.join_requests() == []
        answer = await bot_env.press(GROUP, reply["message_id"], labels[target.label],
                                     user_id=bot_env.USER)
        assert target.label in answer["text"]
        edited = bot_env.api.message(GROUP, reply["message_id"])
        assert "yêu cầu" in edited["text"] and not edited.get("reply_markup")

    bot_env.run(scenario)
    assert bot_env.store.chat_units(GROUP) == ()
    [request] = bot_env.store.join_requests(chat_id=GROUP)
    assert request.unit_key == target.key


def test_unknown_unit_is_answered_with_the_closest_names(bot_env) -> None:
    load(bot_env)

    async def scenario(app) -> None:
        close = (await bot_env.ask(PRIVATE, "/dangky van hoa", user_id=bot_env.USER))[-1]
        text = check_html(close["text"])
        assert "Phòng Văn hóa và Thông tin" in text
        assert any(label.startswith("Phòng Văn hóa và Thông tin") for label, _ in
                   buttons(close))
        nothing = (await bot_env.ask(PRIVATE, "/dangky qqxxzzkw", user_id=bot_env.USER))[-1]
        assert "Không tìm thấy" in nothing["text"] and "qqxxzzkw" in nothing["text"]
        assert not buttons(nothing)

    bot_env.run(scenario)
    assert bot_env.store.chat_units(PRIVATE) == ()


def test_dangky_without_name_pages_through_every_unit(bot_env) -> None:
    load(bot_env)
    units = bot_env.store.units()

    async def scenario(app) -> None:
        reply = (await bot_env.ask(PRIVATE, "/dangky", user_id=bot_env.USER))[-1]
        first = buttons(reply)
        assert first[0] == (units[0].label, f"sub:{unit_ref(units[0].key)}")
        assert ("Sau »", "sub:#1") in first
        noop = next(d for label, d in first if label.startswith("Trang "))
        await bot_env.press(PRIVATE, reply["message_id"], noop, user_id=bot_env.USER)
        await bot_env.press(PRIVATE, reply["message_id"], "sub:#1", user_id=bot_env.USER)
        page2 = bot_env.api.message(PRIVATE, reply["message_id"])
        second = buttons(page2)
        assert second[0][1] == f"sub:{unit_ref(units[8].key)}"
        assert ("« Trước", "sub:#0") in second
        assert "trang 2/" in page2["text"]
        pick = second[1][1]
        await bot_env.press(PRIVATE, reply["message_id"], pick, user_id=bot_env.USER)

    bot_env.run(scenario)
    assert len(bot_env.api.answered_callbacks) == 3
    assert bot_env.store.chat_units(PRIVATE) == ()
    assert [r.unit_key for r in bot_env.store.join_requests(chat_id=PRIVATE)] == [units[9].key]


def test_huydangky_by_keyboard_and_by_name(bot_env) -> None:
    load(bot_env)
    store = bot_env.store
    first, second = tai_chinh(store), unit_named(store, "Phòng Y tế")
    for unit in (first, second):
        store.subscribe(GROUP, unit.key, title="Nhóm", chat_type="group", actor=1,
                        now=bot_env.clock.now())

    async def scenario(app) -> None:
        refused = await bot_env.ask(GROUP, "/huydangky", user_id=bot_env.USER,
                                    chat_type="group", is_group_admin=False)
        assert "quản trị viên" in refused[-1]["text"]
        reply = (await bot_env.ask(GROUP, "/huydangky", user_id=bot_env.USER,
                                   chat_type="group", is_group_admin=True))[-1]
        assert buttons(reply) == [(first.label, f"unsub:{unit_ref(first.key)}"),
                                  (second.label, f"unsub:{unit_ref(second.key)}")]
        await bot_env.press(GROUP, reply["message_id"], f"unsub:{unit_ref(second.key)}",
                            user_id=bot_env.USER)
        assert store.chat_units(GROUP) == (first.key,)
        edited = bot_env.api.message(GROUP, reply["message_id"])
        assert "Đã thôi theo dõi" in edited["text"] and not edited.get("reply_markup")
        done = await bot_env.ask(GROUP, "/huydangky tai chinh", user_id=bot_env.USER,
                                 chat_type="group")
        assert first.label in done[-1]["text"]
        empty = await bot_env.ask(GROUP, "/huydangky", user_id=bot_env.USER, chat_type="group")
        assert "chưa theo dõi" in empty[-1]["text"]

    bot_env.run(scenario)
    assert store.chat_units(GROUP) == ()
    kinds = [e.kind for e in store.recent_events(10)]
    assert kinds[:2] == ["unsubscribe", "unsubscribe"]


def test_old_unsigned_unit_links_no_longer_bind(bot_env) -> None:
    load(bot_env)
    unit = unit_named(bot_env.store, "Phòng Y tế")
    payload = "u-" + unit_ref(unit.key)  # anyone could compute it

    async def scenario(app) -> None:
        for user, admin in ((bot_env.USER, True), (bot_env.USER, False)):
            refused = await bot_env.ask(GROUP, f"/start@fake_plan_bot {payload}",
                                        user_id=user, chat_type="group", is_group_admin=admin)
            assert "kiểu cũ" in refused[-1]["text"] and "/moi" in refused[-1]["text"]
        bad = await bot_env.ask(GROUP, "/start xyz", user_id=bot_env.USER,
                                chat_type="group", is_group_admin=True)
        assert "không hợp lệ" in bad[-1]["text"]
        hello = await bot_env.ask(PRIVATE, "/start", user_id=bot_env.USER)
        assert "/dangky" in hello[-1]["text"] and "/giahan" not in hello[-1]["text"]

    bot_env.run(scenario)
    assert bot_env.store.chat_units(GROUP) == () and bot_env.store.join_requests() == []


def test_donvi_shows_counts_and_admin_sees_all_units(bot_env) -> None:
    load(bot_env)
    store = bot_env.store
    followed = [tai_chinh(store), unit_named(store, "Phòng Quản lý đô thị")]
    for unit in followed:
        store.subscribe(GROUP, unit.key, title="Nhóm", chat_type="group", actor=1,
                        now=bot_env.clock.now())
    overdue_unit = next(u for u in store.units() if counts(bot_env, u.key)[1])

    async def scenario(app) -> None:
        text = check_html((await bot_env.ask(GROUP, "/donvi", user_id=bot_env.USER,
                                             chat_type="group"))[-1]["text"])
        assert "2 đơn vị" in text
        for unit in followed:
            open_n, overdue_n = counts(bot_env, unit.key)
            assert f"{unit.name} ({unit.locality}): {open_n} nhiệm vụ đang mở, " \
                   f"{overdue_n} quá hạn" in text
        lonely = await bot_env.ask(PRIVATE, "/donvi", user_id=bot_env.USER)
        assert "/dangky" in lonely[-1]["text"]
        expected = split_html(donvi_text(store, (), bot_env.clock.now().date(),
                                         all_units=True, chat_type="private"))
        admin = await bot_env.ask(bot_env.ADMIN, "/donvi", user_id=bot_env.ADMIN,
                                  n=len(expected))
        assert len(expected) > 1  # 80+ units: the long list is split, not refused
        shown = "\n".join(check_html(m["text"]) for m in admin)
        assert f"Tất cả {len(store.units())} đơn vị" in shown
        open_n, overdue_n = counts(bot_env, overdue_unit.key)
        assert f"{overdue_unit.name} ({overdue_unit.locality}): {open_n} nhiệm vụ đang mở, " \
               f"{overdue_n} quá hạn" in shown
        help_admin = await bot_env.ask(bot_env.ADMIN, "/help", user_id=bot_env.ADMIN)
        assert "/giahan" in help_admin[-1]["text"]

    bot_env.run(scenario)


def test_dangky_before_any_plan_explains_what_to_do(bot_env) -> None:
    async def scenario(app) -> None:
        reply = await bot_env.ask(PRIVATE, "/dangky", user_id=bot_env.USER)
        assert "gửi tệp kế hoạch" in reply[-1]["text"]
        named = await bot_env.ask(PRIVATE, "/dangky tai chinh", user_id=bot_env.USER)
        assert "Chưa có đơn vị" in named[-1]["text"] or "Không tìm thấy" in named[-1]["text"]

    bot_env.run(scenario)
    assert bot_env.store.chats() == []


def test_a_request_whose_notice_lost_only_its_answer_is_said_sent(bot_env) -> None:
    """Main's dispatcher logs a send whose answer was lost as "uncertain" (it most likely
    arrived, and is never repeated): the requester is not told that no admin got it."""
    load(bot_env)
    unit = tai_chinh(bot_env.store)
    bot_env.api.add_chat(bot_env.ADMIN, "private")
    bot_env.api.fail_next("sendMessage", "timeout", delay=6, deliver=True,
                          chat_id=bot_env.ADMIN)

    async def scenario(app) -> None:
        [reply] = await bot_env.ask(PRIVATE, "/dangky tai chinh", user_id=bot_env.USER,
                                    timeout=15)
        text = check_html(reply["text"])
        assert "Đã gửi yêu cầu tới quản trị viên cho bạn tham gia" in text, text
        assert unit.label in text

    bot_env.run(scenario)
    [request] = bot_env.store.join_requests(chat_id=PRIVATE)
    assert len(bot_env.api.messages_to(bot_env.ADMIN)) == 1  # delivered once, not repeated
    assert bot_env.store.delivery(f"request:{request.id}:admin:{bot_env.ADMIN}").status == \
        "uncertain"
