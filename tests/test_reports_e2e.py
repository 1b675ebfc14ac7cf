"""/baocao and /lich_ics end to end against the fake Bot API: the files received (name, MIME
type, content read back), the chart, bad input, the workbook built off the event loop, and
the permissions (the five outsiders of tests/test_permissions_e2e.py)."""

from __future__ import annotations

import io
import threading
from typing import Any

import pytest
from icalendar import Calendar
from openpyxl import load_workbook

from bot.icsexport import event_uid
from bot.reports import HEADER_ROW, SUMMARY_SHEET, TASK_SHEET, collect
from handlers import reports
from tests.conftest import BotEnv
from tests.test_permissions_e2e import (
    ACTORS,
    LEAD_CHAT,
    SENDS,
    VIETNAMESE,
    Who,
    setup,
    snapshot,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FILES = ("sendDocument", "sendPhoto")
MEMBER = 7100
"""A plain participant (no group administrator) of the lead unit's group."""


def summary_rows(data: bytes) -> list[tuple]:
    """The summary's unit rows and its total row."""
    sheet = load_workbook(io.BytesIO(data))[SUMMARY_SHEET]
    rows = []
    for row in sheet.iter_rows(min_row=HEADER_ROW + 1, values_only=True):
        rows.append(row)
        if row[1] == "Tổng cộng":
            return rows
    raise AssertionError("no total row")


def kw_for(who: Who) -> dict[str, Any]:
    kw: dict[str, Any] = {"chat_type": who.chat_type}
    if who.group:
        kw.update(is_group_admin=who.group_admin, chat_title=who.name)
    return kw


# ------------------------------------------------------------------------------ reports
def test_admin_gets_the_workbook_and_the_chart_for_every_unit(bot_env: BotEnv) -> None:
    bot_env.load_samples()
    store, today = bot_env.store, bot_env.clock.today()
    expected = collect(store, None, today, reports.parse_period("quý 4/2022"))
    assert expected.rows

    async def scenario(app) -> None:
        document, photo = await bot_env.ask(bot_env.ADMIN, "/baocao tất cả quý 4/2022", n=2)
        assert document["method"] == "sendDocument"
        assert document["filename"] == "baocao-tat-ca-don-vi-quy-iv-2022.xlsx"
        assert document["mime_type"] == XLSX
        caption = document["caption"]
        assert "Quý IV/2022" in caption and "01/10/2022" in caption
        assert f"{len(expected.rows)} nhiệm vụ" in caption
        book = load_workbook(io.BytesIO(document["file"]))
        assert book.sheetnames == [SUMMARY_SHEET, TASK_SHEET]
        tasks = list(book[TASK_SHEET].iter_rows(min_row=HEADER_ROW + 1, values_only=True))
        assert sorted(r[0] for r in tasks) == sorted(r.task.id for r in expected.rows)
        total = next(r for r in book[SUMMARY_SHEET].iter_rows(values_only=True)
                     if r[1] == "Tổng cộng")
        assert list(total[2:7]) == [expected.total.done_on_time, expected.total.done_late,
                                    expected.total.not_yet_due, expected.total.overdue_open,
                                    len(expected.rows)]
        assert photo["method"] == "sendPhoto"
        assert photo["file"].startswith(b"\x89PNG") and photo["filename"].endswith(".png")

    bot_env.run(scenario)


def test_member_group_gets_its_unit_report_and_a_done_task_counts(bot_env: BotEnv) -> None:
    s = setup(bot_env)
    store = bot_env.store
    bot_env.api.add_chat(LEAD_CHAT, "supergroup", title="Tổ Công an")
    bot_env.api.set_member_status(LEAD_CHAT, MEMBER, "member")
    store.mark_done(s["census"].id, actor=bot_env.ADMIN, now=bot_env.clock.now())
    group = {"chat_type": "supergroup", "is_group_admin": False, "chat_title": "Tổ Công an"}

    async def scenario(app) -> None:
        document, photo = await bot_env.ask(LEAD_CHAT, "/baocao", user_id=MEMBER, n=2, **group)
        assert document["method"] == "sendDocument" and photo["method"] == "sendPhoto"
        assert document["filename"].startswith("baocao-cong-an-thanh-pho")
        rows = summary_rows(document["file"])
        assert rows[0][1].startswith("Công an thành phố")
        # The census task (no deadline) was marked done today: done on time.
        assert list(rows[0][2:7]) == [1, 0, 0, 0, 1]
        # By name too; and nothing about any other unit.
        [document2, _] = await bot_env.ask(LEAD_CHAT, "/baocao cong an thanh pho", n=2,
                                           user_id=MEMBER, **group)
        assert [r[1] for r in summary_rows(document2["file"])][:-1] == [rows[0][1]]

    bot_env.run(scenario)


@pytest.mark.parametrize(("text", "fragment"), [
    ("/baocao tất cả quý 5/2024", "Không hiểu kỳ báo cáo «quý 5/2024»"),
    ("/baocao tháng 13/2024", "Tháng 13 không có"),
    ("/baocao không có đơn vị này", "không"),
    ("/baocao tất cả tháng 1/2001",
     "Không có nhiệm vụ nào của Tất cả đơn vị có hạn trong tháng 1/2001"),
])
def test_bad_input_gets_a_message_and_no_file(bot_env: BotEnv, text: str, fragment: str) -> None:
    bot_env.load_samples()

    async def scenario(app) -> None:
        [reply] = await bot_env.ask(bot_env.ADMIN, text)
        assert reply["method"] == "sendMessage"
        assert fragment.lower() in reply["text"].lower()
        await bot_env.ask(bot_env.ADMIN, "/help")  # anything late would have come by now
        assert not [c for c in bot_env.api.sent if c["method"] in FILES]

    bot_env.run(scenario)


def test_workbook_is_built_off_the_event_loop(bot_env: BotEnv, monkeypatch) -> None:
    """While the workbook is being built, another chat is answered: the build blocks until
    that answer has arrived, so a build on the event loop (or a handler that holds the update
    queue) would never see it and the report would not come."""
    bot_env.load_samples()
    other_answered = threading.Event()
    seen: list[bool] = []
    real = reports.build_workbook

    def slow_build(report):  # type: ignore[no-untyped-def]
        seen.append(other_answered.wait(timeout=10))
        return real(report)

    monkeypatch.setattr(reports, "build_workbook", slow_build)
    api = bot_env.api

    async def scenario(app) -> None:
        api.user_message(bot_env.ADMIN, "/baocao", user_id=bot_env.ADMIN)
        [help_reply] = await bot_env.ask(bot_env.USER, "/help")
        assert help_reply["method"] == "sendMessage"
        assert not api.messages_to(bot_env.ADMIN)  # the report is still being built
        other_answered.set()
        assert await api.async_wait_for(
            lambda: any(m["method"] == "sendDocument" for m in api.messages_to(bot_env.ADMIN)),
            10)

    bot_env.run(scenario)
    assert seen == [True]


# ------------------------------------------------------------------------------ calendar
def test_lich_ics_sends_the_units_open_deadlines(bot_env: BotEnv) -> None:
    bot_env.load_samples()
    store, today = bot_env.store, bot_env.clock.today()
    unit = store.match_unit("Phòng Quản lý đô thị")
    store.subscribe(bot_env.USER, unit.key, title="Thử", chat_type="private",
                    actor=bot_env.ADMIN, now=bot_env.clock.now())
    expected = [t for t in store.open_tasks([unit.key]) if t.due is not None]
    assert expected
    done = expected[0]
    store.mark_done(done.id, actor=bot_env.ADMIN, now=bot_env.clock.now())

    async def scenario(app) -> None:
        [document] = await bot_env.ask(bot_env.USER, "/lich_ics")
        assert document["method"] == "sendDocument"
        assert document["filename"] == "lich-han-nhiem-vu.ics"
        assert document["mime_type"] == "text/calendar"
        assert f"{len(expected) - 1} nhiệm vụ" in document["caption"]
        calendar = Calendar.from_ical(document["file"])
        uids = {str(e["UID"]) for e in calendar.walk("VEVENT")}
        assert uids == {event_uid(t) for t in expected[1:]}
        first = next(e for e in calendar.walk("VEVENT") if str(e["UID"]) == event_uid(
            expected[1]))
        assert first.decoded("DTSTART") == expected[1].due
        assert f"/chitiet {expected[1].id}" in str(first["DESCRIPTION"])
        assert first.walk("VALARM")
        # A unit the chat does not belong to: refused, no file.
        [refusal] = await bot_env.ask(bot_env.USER, "/lich_ics y te")
        assert refusal["method"] == "sendMessage"
        assert "chưa xem được nhiệm vụ" in refusal["text"]

    bot_env.run(scenario)
    assert today  # the fixed demo day


def test_lich_ics_without_open_deadlines_says_so(bot_env: BotEnv) -> None:
    s = setup(bot_env)  # the census task is the unit's only one
    bot_env.store.mark_done(s["census"].id, actor=bot_env.ADMIN, now=bot_env.clock.now())

    async def scenario(app) -> None:
        [reply] = await bot_env.ask(LEAD_CHAT, "/lich_ics", user_id=MEMBER,
                                    chat_type="supergroup", is_group_admin=False,
                                    chat_title="Tổ Công an")
        assert reply["method"] == "sendMessage"
        assert "Không có nhiệm vụ đang mở nào có thời hạn" in reply["text"]

    bot_env.run(scenario)


# ------------------------------------------------------------------------------ permissions
COMMANDS = {
    "unit_report": ("/baocao Công an thành phố", ("không lập được báo cáo",
                                                  "chưa xem được nhiệm vụ")),
    "unit_report_period": ("/baocao Công an thành phố quý 1/2023", ("không lập được báo cáo",)),
    "all_units_report": ("/baocao tất cả", ("Chỉ quản trị viên của bot mới được lập báo cáo",)),
    "calendar": ("/lich_ics Công an thành phố", ("chưa xem được nhiệm vụ",)),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("who", ACTORS, ids=[w.name for w in ACTORS])
def test_outsiders_get_a_refusal_and_no_file(bot_env: BotEnv, who: Who, command: str) -> None:
    setup(bot_env)
    text, fragments = COMMANDS[command]
    api = bot_env.api
    api.add_chat(LEAD_CHAT, "supergroup", title="Tổ Công an")
    api.add_chat(who.chat_id, who.chat_type, title=who.name if who.group else None)
    if who.group:
        api.set_member_status(who.chat_id, who.user_id,
                              "administrator" if who.group_admin else "member")

    async def scenario(app) -> None:
        before, mark = snapshot(bot_env), len(api.sent)
        [reply] = await bot_env.ask(who.chat_id, text, user_id=who.user_id, **kw_for(who))
        await bot_env.ask(who.chat_id, "/help", user_id=who.user_id, **kw_for(who))
        calls = api.sent[mark:]
        assert snapshot(bot_env) == before
        assert not [c for c in calls if c["method"] in FILES], "a file was sent"
        assert not [c for c in calls if c["method"] in SENDS and c["chat_id"] != who.chat_id]
        assert reply["method"] == "sendMessage"
        seen = reply["text"]
        assert set(seen.lower()) & VIETNAMESE, seen
        assert any(f.lower() in seen.lower() for f in fragments), seen
        if who.group:
            assert "bạn chưa" not in seen.lower(), seen
        else:
            assert "nhóm này" not in seen.lower(), seen

    bot_env.run(scenario)
    assert api.messages_to(LEAD_CHAT) == []


def test_openread_opens_the_calendar_but_not_the_report(bot_env: BotEnv) -> None:
    """OPEN_READ lets any chat read any unit's tasks (so /lich_ics, as /nhiemvu); a report,
    as /thongke, stays with the unit's members."""
    from dataclasses import replace

    setup(bot_env)
    bot_env.settings = replace(bot_env.settings, open_read=True)
    stranger = 7001

    async def scenario(app) -> None:
        [calendar] = await bot_env.ask(stranger, "/lich_ics Công an thành phố")
        assert calendar["method"] == "sendDocument"
        [reply] = await bot_env.ask(stranger, "/baocao Công an thành phố")
        assert "không lập được báo cáo" in reply["text"]
        await bot_env.ask(stranger, "/help")

    bot_env.run(scenario)
    assert [c["method"] for c in bot_env.api.sent if c["method"] in FILES] == ["sendDocument"]
