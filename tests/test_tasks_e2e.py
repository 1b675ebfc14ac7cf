"""End-to-end tests of the task views (handlers.tasks) against the fake Bot API."""

from __future__ import annotations

import re
from datetime import date

import pytest

from bot.errors import UsageError
from bot.text import fold
from handlers import render, tasks
from localchat.fakeapi import check_html

USER = 2002  # not an admin
UNITS = ("cam pha|phong quan ly do thi", "dong trieu|uy ban nhan dan")
CODE_RE = re.compile(r"#(\d+)")


def codes(text: str) -> list[int]:
    return [int(c) for c in CODE_RE.findall(text)]


def follow(env, chat_id: int, keys=UNITS) -> None:
    for key in keys:
        env.store.subscribe(chat_id, key, title="Thử nghiệm", chat_type="private", actor=USER,
                            now=env.clock.now())


# ------------------------------------------------------------------------------ pure parts
@pytest.mark.parametrize(("args", "days"), [([], 7), (["1"], 1), (["14"], 14), (["366"], 366)])
def test_parse_days_accepts(args: list[str], days: int) -> None:
    assert tasks.parse_days(args) == days


@pytest.mark.parametrize("args", [["0"], ["367"], ["abc"], ["-3"], ["7", "8"], ["٣"], ["1.5"]])
def test_parse_days_refuses_with_usage(args: list[str]) -> None:
    with pytest.raises(UsageError, match="Cú pháp: /sapden"):
        tasks.parse_days(args)


def test_unit_ref_resolves_and_pages_are_pure(bot_env) -> None:
    bot_env.load_samples()
    store, today = bot_env.store, bot_env.clock.today()
    assert tasks.unit_by_ref(store, render.unit_ref(UNITS[0])) == UNITS[0]
    assert tasks.unit_by_ref(store, "000000000000") is None
    text, rows = tasks.nhiemvu_page(store, UNITS, today, 2)
    assert "Trang 2/3" in text and rows
    with pytest.raises(UsageError, match="Không có nhiệm vụ mã 424242"):
        tasks.chitiet_text(store, "424242", today)


# ------------------------------------------------------------------------------ end to end
def test_nhiemvu_lists_overdue_first_and_pages_in_place(bot_env) -> None:
    bot_env.load_samples()
    follow(bot_env, USER)
    store, today = bot_env.store, bot_env.clock.today()
    overdue = [t.id for t in store.overdue(UNITS, today)]
    assert len(overdue) == 2

    async def scenario(app) -> None:
        [reply] = await bot_env.ask(USER, "/nhiemvu")
        text = reply["text"]
        assert text.startswith("<b>Nhiệm vụ của Phòng Quản lý đô thị (Cẩm Phả); "
                               "Ủy ban Nhân dân (Đông Triều)</b>: 2 quá hạn, 0 sắp đến hạn, "
                               "24 còn lại, 0 đã xong")
        shown = codes(text)
        assert shown[:2] == overdue and len(shown) == 10
        assert "hạn 31/12/2021 · <b>quá hạn 354 ngày</b>" in text
        assert "hạn 31/12/2022 · còn 11 ngày · chủ trì" in text
        buttons = reply["reply_markup"]["inline_keyboard"][0]
        assert [b["callback_data"] for b in buttons] == ["pg:nhiemvu:1:", "pg:nhiemvu:2:"]

        answer = await bot_env.press(USER, reply["message_id"], "pg:nhiemvu:2:")
        assert answer["text"] is None and not answer["show_alert"]
        edited = bot_env.api.message(USER, reply["message_id"])
        assert "Trang 2/3" in edited["text"]
        page2 = codes(edited["text"])
        assert len(page2) == 10 and not set(page2) & set(shown)
        assert [b["text"] for b in edited["reply_markup"]["inline_keyboard"][0]] == [
            "« Trước", "Trang 2/3", "Sau »"]
        assert len(bot_env.api.messages_to(USER)) == 1  # edited, nothing new sent

        again = await bot_env.press(USER, reply["message_id"], "pg:nhiemvu:2:")  # same page
        assert again["text"] is None
        assert bot_env.api.message(USER, reply["message_id"])["text"] == edited["text"]

    bot_env.run(scenario)


def test_nhiemvu_of_a_named_unit_and_unknown_unit(bot_env) -> None:
    bot_env.load_samples()

    async def scenario(app) -> None:
        [refused] = await bot_env.ask(USER, "/nhiemvu quan ly do thi")
        assert refused["text"].startswith("Bạn chưa là thành viên của Phòng Quản lý đô thị "
                                          "(Cẩm Phả) nên chưa xem được nhiệm vụ")
        assert "/dangky" in refused["text"] and not refused.get("reply_markup")

        follow(bot_env, USER, UNITS[:1])
        [reply] = await bot_env.ask(USER, "/nhiemvu quan ly do thi")
        assert reply["text"].startswith("<b>Nhiệm vụ của Phòng Quản lý đô thị (Cẩm Phả)</b>")
        data = reply["reply_markup"]["inline_keyboard"][0][-1]["callback_data"]
        assert data == "pg:nhiemvu:2:u" + render.unit_ref(UNITS[0])
        await bot_env.press(USER, reply["message_id"], data)
        edited = bot_env.api.message(USER, reply["message_id"])["text"]
        assert "Phòng Quản lý đô thị (Cẩm Phả)" in edited and "Trang 2/3" in edited

        [unknown] = await bot_env.ask(USER, "/nhiemvu so y te")
        assert "Không tìm thấy đơn vị «so y te»" in unknown["text"]
        assert "Phòng Y tế (Cẩm Phả)" in unknown["text"]

    bot_env.run(scenario)


def test_open_read_lets_anyone_read_but_not_act(bot_env) -> None:
    from dataclasses import replace

    bot_env.settings = replace(bot_env.settings, open_read=True)
    bot_env.load_samples()
    task = bot_env.store.open_tasks(UNITS[0])[0]

    async def scenario(app) -> None:
        [reply] = await bot_env.ask(USER, "/nhiemvu quan ly do thi")
        assert reply["text"].startswith("<b>Nhiệm vụ của Phòng Quản lý đô thị (Cẩm Phả)</b>")
        [detail] = await bot_env.ask(USER, f"/chitiet {task.id}")
        assert detail["text"].startswith(f"<b>Nhiệm vụ #{task.id}</b>")
        [hint] = await bot_env.ask(USER, "/nhiemvu")
        assert "/nhiemvu &lt;tên đơn vị&gt;" in hint["text"]
        [refused] = await bot_env.ask(USER, f"/xong {task.id}")
        assert "bạn chưa là thành viên của đơn vị đó" in refused["text"]

    bot_env.run(scenario)
    assert bot_env.store.task(task.id).is_open


def test_who_sees_what_without_units(bot_env) -> None:
    bot_env.load_samples()

    async def scenario(app) -> None:
        [hint] = await bot_env.ask(USER, "/nhiemvu")
        assert "/dangky" in hint["text"] and "Nhiệm vụ của" not in hint["text"]
        [group] = await bot_env.ask(-100500, "/quahan", user_id=USER, chat_type="group",
                                    chat_title="Nhóm Y tế")
        assert group["text"].startswith("Nhóm này chưa là thành viên của đơn vị nào")
        [admin] = await bot_env.ask(bot_env.ADMIN, "/nhiemvu")
        overdue = len(bot_env.store.overdue(None, bot_env.clock.now().date()))
        assert overdue > 0
        assert admin["text"].startswith(
            f"<b>Nhiệm vụ của tất cả đơn vị</b>: {overdue} quá hạn")

    bot_env.run(scenario)


def test_chitiet_known_unknown_and_bad_codes(bot_env) -> None:
    bot_env.load_samples()
    store, now = bot_env.store, bot_env.clock.now()
    code = store.open_tasks(UNITS[0])[0].id
    store.extend(code, date(2023, 1, 15), actor=bot_env.ADMIN, now=now, reason="chờ <vốn>")

    async def scenario(app) -> None:
        [refused] = await bot_env.ask(USER, f"/chitiet {code}")
        assert "bạn chưa là thành viên của đơn vị đó nên không xem nhiệm vụ này được" in \
            refused["text"]
        follow(bot_env, USER, UNITS[:1])
        [detail] = await bot_env.ask(USER, f"/chitiet {code}")
        text = detail["text"]
        assert text.startswith(f"<b>Nhiệm vụ #{code}</b> · còn 26 ngày")
        assert "<b>Chủ trì:</b> " in text and "Phòng Quản lý đô thị (Cẩm Phả)" in text
        assert "gia hạn 31/12/2022 → 15/01/2023, lý do: chờ &lt;vốn&gt;" in text
        assert "hạn gốc 31/12/2022" in text
        [hashed] = await bot_env.ask(USER, f"/chitiet #{code}")
        assert hashed["text"] == text
        [unknown] = await bot_env.ask(USER, "/chitiet 99999")
        assert unknown["text"].startswith("Không có nhiệm vụ mã 99999.")
        for bad in ("/chitiet", "/chitiet abc", "/chitiet 1 2"):
            [usage] = await bot_env.ask(USER, bad)
            assert usage["text"].startswith("Cú pháp: /chitiet &lt;mã&gt;"), bad

    bot_env.run(scenario)


def test_sapden_and_quahan(bot_env) -> None:
    bot_env.load_samples()
    follow(bot_env, USER)

    async def scenario(app) -> None:
        for bad in ("/sapden abc", "/sapden 0", "/sapden 400", "/sapden 3 4"):
            [usage] = await bot_env.ask(USER, bad)
            assert usage["text"].startswith("Cú pháp: /sapden [số ngày]"), bad
        [week] = await bot_env.ask(USER, "/sapden")
        assert "trong 7 ngày tới" in week["text"]
        assert "(đến 27/12/2022): 0 nhiệm vụ" in week["text"]
        assert "Không có nhiệm vụ nào đến hạn trong 7 ngày tới." in week["text"]
        [fortnight] = await bot_env.ask(USER, "/sapden 14")
        assert "(đến 03/01/2023): 24 nhiệm vụ" in fortnight["text"]
        assert "🔴" not in fortnight["text"]
        buttons = fortnight["reply_markup"]["inline_keyboard"][0]
        assert buttons[-1]["callback_data"] == "pg:sapden:2:14"
        await bot_env.press(USER, fortnight["message_id"], "pg:sapden:2:14")
        assert "Trang 2/3" in bot_env.api.message(USER, fortnight["message_id"])["text"]

        [late] = await bot_env.ask(USER, "/quahan")
        assert "<b>Nhiệm vụ quá hạn của" in late["text"] and ": 2 nhiệm vụ" in late["text"]
        assert late["text"].count("quá hạn 354 ngày") == 2
        [extra] = await bot_env.ask(USER, "/quahan nhanh")
        assert extra["text"].startswith("Lệnh /quahan không cần thêm gì")

    bot_env.run(scenario)


def test_timkiem_is_accent_insensitive_and_pages(bot_env) -> None:
    bot_env.load_samples()
    store = bot_env.store
    with_phrase = {t.id for t in store.open_tasks() if "tài chính" in t.text.lower()}
    assert len(with_phrase) > 5

    async def scenario(app) -> None:
        [usage] = await bot_env.ask(bot_env.ADMIN, "/timkiem")
        assert usage["text"].startswith("Cú pháp: /timkiem")
        [found] = await bot_env.ask(bot_env.ADMIN, "/timkiem tai chinh")
        header = found["text"].split("\n")[0]
        total = int(re.search(r": (\d+) kết quả cho «tai chinh»$", header).group(1))
        pages = -(-total // 10)
        assert pages > 1
        seen = codes(found["text"])
        for page in range(2, pages + 1):
            data = f"pg:timkiem:{page}:{render.term_ref('tai chinh')}"
            await bot_env.press(bot_env.ADMIN, found["message_id"], data)
            edited = bot_env.api.message(bot_env.ADMIN, found["message_id"])["text"]
            check_html(edited)
            assert edited.split("\n")[0] == header and f"Trang {page}/{pages}" in edited
            seen += codes(edited)
        assert len(seen) == len(set(seen)) == total
        assert with_phrase <= set(seen)  # every "tài chính" task, found without accents
        assert all("tai" in fold(store.task(c).text) and "chinh" in fold(store.task(c).text)
                   for c in seen)

        [none] = await bot_env.ask(bot_env.ADMIN, "/timkiem <b>&amp; khong co")
        assert "0 kết quả cho «&lt;b&gt;&amp;amp; khong co»" in none["text"]

    bot_env.run(scenario)


def test_button_of_a_chat_that_stopped_following_is_answered(bot_env) -> None:
    bot_env.load_samples()
    follow(bot_env, USER)

    async def scenario(app) -> None:
        [reply] = await bot_env.ask(USER, "/nhiemvu")
        for key in UNITS:
            bot_env.store.unsubscribe(USER, key, actor=USER, now=bot_env.clock.now())
        answer = await bot_env.press(USER, reply["message_id"], "pg:nhiemvu:2:")
        assert answer["show_alert"] and "/dangky" in answer["text"]
        assert bot_env.api.message(USER, reply["message_id"])["text"] == reply["text"]

    bot_env.run(scenario)
