"""/xong, /mo, /giahan, the "done:" button and /thongke: pure helpers, then end to end."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from telegram.ext import Application

from bot.errors import DateInputError, UsageError
from bot.importer import import_document
from bot.records import StoredTask, StoredUnit, UnitStats
from handlers.actions import (
    done_text,
    extend_text,
    parse_extension,
    stats_table,
)
from localchat.fakeapi import check_html
from tests.conftest import TZ, BotEnv
from tests.test_importer import PLAN

TODAY = date(2022, 12, 20)
YTE_CHAT = -100
"""Follows Phòng Y tế: leads "vaccines", supports "census"."""
CA_CHAT = -200
"""Follows Công an thành phố: leads "census"."""
TC_CHAT = -300
"""Follows Phòng Tài chính - Kế hoạch: nothing to do with "census"."""


# ----------------------------------------------------------------------------- pure
@pytest.mark.parametrize(("words", "day", "reason"), [
    ("15/1/2023 chờ kinh phí", date(2023, 1, 15), "chờ kinh phí"),
    ("15/01/2023", date(2023, 1, 15), None),
    ("cuối tháng sau", date(2023, 1, 31), None),
    ("thứ hai tuần sau lý do bận", date(2022, 12, 26), "lý do bận"),
    ("thứ 6 tuần sau", date(2022, 12, 30), None),
    ("ngày mai vì họp", date(2022, 12, 21), "vì họp"),
    ("30 ngày nữa do thiếu người", date(2023, 1, 19), "do thiếu người"),
    ("20/1 để chờ ý kiến của Sở Tài chính", date(2023, 1, 20), "để chờ ý kiến của Sở Tài chính"),
])
def test_parse_extension_longest_date_then_reason(words: str, day: date,
                                                  reason: str | None) -> None:
    assert parse_extension(words.split(), TODAY) == (day, reason)


@pytest.mark.parametrize(("words", "fragment"), [
    ("31/02/2023", "31/02/2023 không tồn tại"),
    ("31/02/2023 chờ kinh phí", "31/02/2023 không tồn tại"),
    ("sớm nhất có thể", "Không đọc được ngày gia hạn"),
])
def test_parse_extension_errors_are_specific(words: str, fragment: str) -> None:
    with pytest.raises(DateInputError) as info:
        parse_extension(words.split(), TODAY)
    assert fragment in info.value.message


def _task(**kw: object) -> StoredTask:
    base: dict = dict(id=17, doc_id=1, line=10, end_line=10, section="II.1",
                      text="Báo cáo <kết quả> & đề xuất", lead=("x|ytế",),
                      support=("x|tc",), due=date(2022, 12, 31))
    base.update(kw)
    return StoredTask(**base)


@pytest.mark.parametrize(("due", "late", "fragment"), [
    (date(2022, 12, 31), 0, "#17 — hoàn thành đúng hạn."),
    (date(2022, 12, 1), 19, "#17 — hoàn thành quá hạn 19 ngày."),
    (None, 0, "#17 — nhiệm vụ không có hạn."),
])
def test_done_text(due: date | None, late: int, fragment: str) -> None:
    text = done_text(_task(due=due, note="xong <rồi>"), late)
    visible = check_html(text)
    assert f"Đã ghi nhận hoàn thành nhiệm vụ {fragment}" in visible
    assert "Báo cáo <kết quả> & đề xuất" in visible
    assert "Ghi chú: xong <rồi>" in visible


def test_extend_text_shows_old_and_new_dates() -> None:
    visible = check_html(extend_text(_task(due=date(2023, 1, 15)), date(2022, 12, 31), "a<b"))
    assert "Đã gia hạn nhiệm vụ #17: 31/12/2022 → 15/01/2023." in visible
    assert "Lý do: a<b" in visible
    assert "chưa có hạn → 15/01/2023" in check_html(extend_text(_task(due=date(2023, 1, 15)),
                                                                None, None))


def test_stats_table_lines_are_balanced_and_aligned() -> None:
    long_name = "Phòng Lao động - Thương binh và Xã hội thành phố"
    stats = [UnitStats(StoredUnit("a|1", "Phòng <Y tế>", "A"), 1, 2, 3, 4),
             UnitStats(StoredUnit("b|2", long_name, "B"), 10, 0, 1200, 7)]
    text = stats_table(stats, TODAY)
    lines = text.split("\n")
    for line in lines:
        check_html(line)
    rows = [line for line in lines if line.startswith("<code>")]
    assert len(rows) == 3
    cells = [row[len("<code>"):row.index("</code>")] for row in rows]
    assert len({len(c) for c in cells}) == 1  # same width: columns line up in monospace
    assert cells[0].split() == ["ĐH", "TH", "CĐ", "QH"]
    assert cells[1].split() == ["1", "2", "3", "4"]
    assert cells[2].split() == ["10", "0", "1200", "7"]
    assert check_html(rows[1]).endswith("Phòng <Y tế> (A)")  # two localities: labels
    assert check_html(rows[2]).endswith(f"{long_name} (B)")  # never truncated
    assert "20/12/2022" in text
    one_place = stats_table(stats[:1], TODAY)
    assert check_html(one_place.split("\n")[-1]).endswith("Phòng <Y tế>")


# ----------------------------------------------------------------------------- end to end
def _setup(env: BotEnv) -> dict:
    """Import the small plan and bind three group chats; returns the tasks and unit keys."""
    result = import_document(env.store, PLAN.encode(), "kh12.txt", actor=env.ADMIN,
                             now=env.clock.now())
    tasks = env.store.document_tasks(result.document.id)
    yte = env.store.match_unit("Phòng Y tế").key
    ca = env.store.match_unit("Công an thành phố").key
    tc = env.store.match_unit("Phòng Tài chính - Kế hoạch").key
    now = env.clock.now()
    env.store.subscribe(YTE_CHAT, yte, title="Y tế", chat_type="group", actor=env.ADMIN,
                        now=now)
    env.store.subscribe(CA_CHAT, ca, title="Công an", chat_type="group", actor=env.ADMIN,
                        now=now)
    env.store.subscribe(TC_CHAT, tc, title="Tài chính", chat_type="group", actor=env.ADMIN,
                        now=now)
    return {"vaccines": tasks[0], "budget": tasks[1], "census": tasks[2], "yte": yte, "ca": ca}


def test_xong_by_lead_on_time_then_mo(bot_env: BotEnv) -> None:
    s = _setup(bot_env)
    task = s["vaccines"]

    async def scenario(app: Application) -> None:
        [reply] = await bot_env.ask(YTE_CHAT, f"/xong {task.id} đã tiêm <đủ> & báo cáo",
                                    user_id=bot_env.USER, chat_type="group")
        assert (f"Đã ghi nhận hoàn thành nhiệm vụ #{task.id} — hoàn thành đúng hạn."
                in reply["text"])
        assert "đã tiêm &lt;đủ&gt; &amp; báo cáo" in reply["text"]
        done = bot_env.store.task(task.id)
        assert not done.is_open and done.done_by == bot_env.USER
        assert done.note == "đã tiêm <đủ> & báo cáo"

        [again] = await bot_env.ask(YTE_CHAT, f"/xong {task.id}", user_id=bot_env.USER,
                                    chat_type="group")
        assert "đã được đánh dấu hoàn thành" in again["text"]

        [opened] = await bot_env.ask(YTE_CHAT, f"/mo {task.id}", user_id=bot_env.USER,
                                     chat_type="group")
        assert f"Đã mở lại nhiệm vụ #{task.id}" in opened["text"]
        assert bot_env.store.task(task.id).is_open
        kinds = [e.kind for e in bot_env.store.history(task.id)]
        assert kinds[-2:] == ["done", "reopen"]

    bot_env.run(scenario)


def test_xong_late_counts_days(bot_env: BotEnv) -> None:
    s = _setup(bot_env)
    bot_env.clock.set(datetime(2023, 1, 20, 10, 0, tzinfo=TZ))  # due 15/01/2023

    async def scenario(app: Application) -> None:
        [reply] = await bot_env.ask(YTE_CHAT, f"/xong #{s['vaccines'].id}",
                                    user_id=bot_env.USER, chat_type="group")
        assert "hoàn thành quá hạn 5 ngày." in reply["text"]
        stats = bot_env.store.stats(bot_env.clock.today(), s["yte"])
        assert stats[0].done_late == 1

    bot_env.run(scenario)


def test_support_and_unrelated_chats_cannot_close(bot_env: BotEnv) -> None:
    s = _setup(bot_env)
    census = s["census"]  # lead Công an thành phố, support Phòng Y tế

    async def scenario(app: Application) -> None:
        [reply] = await bot_env.ask(YTE_CHAT, f"/xong {census.id}", user_id=bot_env.USER,
                                    chat_type="group")
        assert "chỉ đơn vị chủ trì (Công an thành phố)" in reply["text"]
        [other] = await bot_env.ask(TC_CHAT, f"/xong {census.id}", user_id=bot_env.USER,
                                    chat_type="group")
        assert "do Công an thành phố chủ trì" in other["text"]
        [mo] = await bot_env.ask(TC_CHAT, f"/mo {census.id}", user_id=bot_env.USER,
                                 chat_type="group")
        assert "Công an thành phố" in mo["text"]
        assert bot_env.store.task(census.id).is_open
        [ok] = await bot_env.ask(CA_CHAT, f"/xong {census.id}", user_id=bot_env.USER,
                                 chat_type="group")
        assert "hoàn thành đúng hạn" in ok["text"]
        [unknown] = await bot_env.ask(YTE_CHAT, "/xong 9999", user_id=bot_env.USER,
                                      chat_type="group")
        assert "Không có nhiệm vụ mã 9999" in unknown["text"]
        [bare] = await bot_env.ask(YTE_CHAT, "/xong", user_id=bot_env.USER, chat_type="group")
        assert "Cách dùng: /xong &lt;mã&gt;" in bare["text"]

    bot_env.run(scenario)


def test_giahan_rights_bad_dates_and_success(bot_env: BotEnv) -> None:
    s = _setup(bot_env)
    task = s["vaccines"]
    admin = bot_env.ADMIN

    async def scenario(app: Application) -> None:
        [refused] = await bot_env.ask(YTE_CHAT, f"/giahan {task.id} 15/2/2023",
                                      user_id=bot_env.USER, chat_type="group")
        assert "Chỉ quản trị viên" in refused["text"]
        [bad] = await bot_env.ask(admin, f"/giahan {task.id} 31/02/2023 chờ kinh phí",
                                  user_id=admin)
        assert "31/02/2023 không tồn tại" in bad["text"]
        [past] = await bot_env.ask(admin, f"/giahan {task.id} 15/1/2022", user_id=admin)
        assert "đã qua" in past["text"]
        assert bot_env.store.task(task.id).due == date(2023, 1, 15)
        assert [e.kind for e in bot_env.store.history(task.id)] == []

        [ok] = await bot_env.ask(admin, f"/giahan {task.id} 15/2/2023 chờ kinh phí",
                                 user_id=admin)
        assert f"Đã gia hạn nhiệm vụ #{task.id}: 15/01/2023 → <b>15/02/2023</b>." in ok["text"]
        assert "Lý do: chờ kinh phí" in ok["text"]
        moved = bot_env.store.task(task.id)
        assert moved.due == date(2023, 2, 15) and moved.due_kind == "extended"
        assert moved.original_due == date(2023, 1, 15)
        [event] = bot_env.store.history(task.id)
        assert event.kind == "extend" and event.actor == admin
        assert event.data["old_due"] == "2023-01-15" and event.data["reason"] == "chờ kinh phí"

        [words] = await bot_env.ask(admin, f"/giahan {task.id} thứ hai tuần sau", user_id=admin)
        monday = bot_env.clock.today() + timedelta(days=6)
        assert f"15/02/2023 → <b>{monday:%d/%m/%Y}</b>" in words["text"]
        [usage] = await bot_env.ask(admin, f"/giahan {task.id}", user_id=admin)
        assert "Cách dùng: /giahan" in usage["text"]

    bot_env.run(scenario)


def test_done_button_acts_with_the_pressers_rights(bot_env: BotEnv) -> None:
    from handlers.common import markup

    s = _setup(bot_env)
    vaccines, census = s["vaccines"], s["census"]

    async def scenario(app: Application) -> None:
        bot_env.api.add_chat(YTE_CHAT, "group", title="Y tế")
        rows = [[("✅ Đã xong", f"done:{vaccines.id}"), ("✅ Đã xong", f"done:{census.id}")]]
        digest = await app.bot.send_message(YTE_CHAT, "Nhắc việc hôm nay",
                                            reply_markup=markup(rows))
        before = len(bot_env.api.messages_to(YTE_CHAT))

        refused = await bot_env.press(YTE_CHAT, digest.message_id, f"done:{census.id}",
                                      user_id=bot_env.USER)
        assert refused["show_alert"] and "chỉ đơn vị chủ trì" in refused["text"]
        assert bot_env.store.task(census.id).is_open

        answered = await bot_env.press(YTE_CHAT, digest.message_id, f"done:{vaccines.id}",
                                       user_id=bot_env.USER)
        assert f"#{vaccines.id}" in answered["text"]
        assert not bot_env.store.task(vaccines.id).is_open
        await bot_env.api.async_wait_for(
            lambda: len(bot_env.api.messages_to(YTE_CHAT)) > before)
        confirmation = bot_env.api.messages_to(YTE_CHAT)[-1]
        assert "hoàn thành đúng hạn" in confirmation["text"]
        edited = await bot_env.api.async_wait_for(
            lambda: (m := bot_env.api.message(YTE_CHAT, digest.message_id))
            and len(m["reply_markup"]["inline_keyboard"][0]) == 1 and m)
        assert edited["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == \
            f"done:{census.id}"

    bot_env.run(scenario)


def test_thongke_sends_table_and_photo(bot_env: BotEnv) -> None:
    s = _setup(bot_env)
    bot_env.store.mark_done(s["vaccines"].id, actor=bot_env.ADMIN, now=bot_env.clock.now())

    async def scenario(app: Application) -> None:
        sent = await bot_env.ask(YTE_CHAT, "/thongke", user_id=bot_env.USER, n=2,
                                 chat_type="group")
        table, photo = sent
        assert table["method"] == "sendMessage"
        assert "Phòng Y tế" in table["text"] and "hoàn thành đúng hạn" in table["text"]
        assert photo["method"] == "sendPhoto"
        assert photo["photo"].startswith(b"\x89PNG\r\n\x1a\n")
        assert "Biểu đồ" in photo["caption"]

        everything = await bot_env.ask(bot_env.ADMIN, "/thongke", user_id=bot_env.ADMIN, n=2)
        assert "Công an thành phố" in everything[0]["text"]
        assert everything[-1]["method"] == "sendPhoto"

        [nothing] = await bot_env.ask(bot_env.USER, "/thongke", user_id=bot_env.USER)
        assert "/dangky" in nothing["text"]

    bot_env.run(scenario)


def test_pure_errors_are_bot_errors() -> None:
    with pytest.raises(UsageError):
        parse_extension([], TODAY)


@pytest.mark.parametrize("code", ["ab" * 2045, "😀" * 2045, "9" * 4090],
                         ids=["letters", "emoji", "digits"])
def test_error_replies_quote_at_most_100_characters(bot_env: BotEnv, code: str) -> None:
    """"/xong" + 4,090 characters used to fail as "message is too long": no reply at all."""
    _setup(bot_env)

    async def scenario(app: Application) -> None:
        [reply] = await bot_env.ask(YTE_CHAT, f"/xong {code}", user_id=bot_env.USER,
                                    chat_type="group")
        visible = check_html(reply["text"])
        assert visible.startswith("Không có nhiệm vụ mã ") and "…" in visible
        quoted = visible.removeprefix("Không có nhiệm vụ mã ").split("…")[0]
        assert 0 < len(quoted) < 100 and code.startswith(quoted)
        [unknown] = await bot_env.ask(YTE_CHAT, "/" + code[:60] + "x" * 4000,
                                      user_id=bot_env.USER, chat_type="group")
        assert len(unknown["text"]) < 1000

    bot_env.run(scenario)
    assert bot_env.api.unescaped == []


def test_refusals_in_a_private_chat_do_not_say_nhom_nay(bot_env: BotEnv) -> None:
    """Worded by bot.membership since issue 12 section 1 ("thành viên", not "theo dõi")."""
    s = _setup(bot_env)
    census = s["census"]  # lead Công an thành phố, support Phòng Y tế
    private = 7007
    bot_env.store.subscribe(private, s["yte"], title="Cán bộ Y tế", chat_type="private",
                            actor=private, now=bot_env.clock.now())
    loner = 7008

    async def scenario(app: Application) -> None:
        replies = []
        [support] = await bot_env.ask(private, f"/xong {census.id}", user_id=private)
        assert "Bạn thuộc đơn vị phối hợp nhiệm vụ" in support["text"]
        [remind] = await bot_env.ask(private, f"/nhacnho {s['budget'].id} ngày mai",
                                     user_id=private)
        assert "bạn chưa là thành viên của đơn vị đó" in remind["text"]
        [stats] = await bot_env.ask(loner, "/thongke", user_id=loner)
        assert stats["text"].startswith("Bạn chưa là thành viên của đơn vị nào")
        replies += [support, remind, stats]
        [group] = await bot_env.ask(TC_CHAT, f"/xong {census.id}", user_id=bot_env.USER,
                                    chat_type="group")
        assert "nhóm này chưa là thành viên của đơn vị đó" in group["text"]
        assert not any("nhóm này" in r["text"].lower() for r in replies)

    bot_env.run(scenario)
    with pytest.raises(UsageError, match="^Bạn chưa theo dõi"):
        bot_env.store.unsubscribe(private, s["ca"], actor=private, now=bot_env.clock.now())
    with pytest.raises(UsageError, match="^Nhóm này chưa theo dõi"):
        bot_env.store.unsubscribe(YTE_CHAT, s["ca"], actor=1, now=bot_env.clock.now())
