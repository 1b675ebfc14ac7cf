"""Undoing an import (issue 10, part 1): a new version's "Hoàn tác" gives back the previous
version exactly as it was — its document row, its tasks with done marks and /giahan dates,
the reminders the import deleted, snoozes, history and the unit directory — in one
transaction; a second press, or an undo that would drop later work, is refused."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.errors import UsageError
from bot.store import Store, StoreData
from bot.tracking import Tracker
from tests.conftest import BotEnv
from tests.test_importer import PLAN
from tests.test_store import ADMIN, T0, CountingStorage, base_tasks, mk_plan, mk_task, writes

LATER = T0 + timedelta(hours=2)
CHAT = -100


def tables(store: Store) -> dict[str, Any]:
    """Every table as stored, but the id counters, the append-only event log (compared
    apart) and the directory's write counter (it grows at every write by contract)."""
    out: dict[str, Any] = {}
    for name, rows in StoreData(store).tables():
        if name in ("meta", "events"):
            continue
        if name == "units":
            rows = {k: {f: v for f, v in row.items() if f != "version"}
                    for k, row in rows.items()}
        out[name] = rows
    return json.loads(json.dumps(out, sort_keys=True, default=str))


def events(store: Store) -> list[dict[str, Any]]:
    return [row for _, row in sorted(dict(StoreData(store).tables())["events"].items(),
                                     key=lambda kv: int(kv[0]))]


def v2_tasks() -> list:
    """Version 2 of base_tasks(): task 20 gone, task 40 reworded, one new task for a unit the
    directory did not know; tasks 10, 30 and 50 unchanged."""
    tasks = base_tasks()
    return [tasks[0], tasks[2],
            mk_task(40, "Kiểm tra an toàn thực phẩm tại các chợ và bếp ăn tập thể",
                    lead=["Phòng Y tế"]),
            tasks[4],
            mk_task(60, "Tuyên truyền phòng chống dịch", lead=["Phòng Văn hóa và Thông tin"],
                    due=date(2024, 3, 25))]


def code(store: Store, start: str) -> int:
    found = [t for t in store.tasks_for_units([u.key for u in store.units()])
             if t.text.startswith(start)]
    assert len(found) == 1, start
    return found[0].id


@pytest.fixture
def store(tmp_path: Path):
    s = Store(tmp_path / "bot.json", storage=CountingStorage)
    yield s
    s.close()


@pytest.fixture
def worked(store: Store) -> Store:
    """Version 1 imported, then worked on: done, extended, snoozed, reminders, a member."""
    store.import_plan(mk_plan(base_tasks()), filename="v1.docx", file_hash="h1", actor=ADMIN,
                      now=T0)
    health = store.match_unit("Phòng Y tế", "Cẩm Phả").key
    store.subscribe(CHAT, health, title="Tổ Y tế", chat_type="group", actor=ADMIN, now=T0)
    vaccine, poor = code(store, "Tổ chức tiêm"), code(store, "Rà soát hộ nghèo")
    budget, food = code(store, "Báo cáo kết quả"), code(store, "Kiểm tra an toàn")
    census = code(store, "Cập nhật dữ liệu")
    store.mark_done(vaccine, actor=ADMIN, now=T0, note="xong sớm")
    store.extend(census, date(2024, 3, 20), actor=ADMIN, now=T0, reason="chờ số liệu")
    store.snooze(budget, date(2024, 3, 15), actor=ADMIN, now=T0)
    store.snooze(poor, date(2024, 3, 16), actor=ADMIN, now=T0)
    store.add_reminder(poor, CHAT, T0 + timedelta(days=2), ADMIN, T0)  # its task goes in v2
    store.add_reminder(food, CHAT, T0 + timedelta(days=3), ADMIN, T0)  # reworded in v2
    store.add_reminder(budget, CHAT, T0 + timedelta(days=4), ADMIN, T0)  # kept in v2
    return store


def import_v2(store: Store, now: datetime = LATER):
    return store.import_plan(mk_plan(v2_tasks()), filename="v2.docx", file_hash="h2",
                             actor=ADMIN, now=now, by_name="Quản trị")


def test_undo_of_a_new_version_restores_every_table_as_before(worked: Store) -> None:
    before, log = tables(worked), events(worked)
    units_before = [u.key for u in worked.units()]
    result = import_v2(worked)
    assert result.status == "replaced" and result.document.version == 2
    assert result.kept_done == 1
    assert tables(worked) != before  # the import did change things
    assert "Phòng Văn hóa và Thông tin" in [u.name for u in worked.units()]

    n = writes(worked)
    undone = worked.undo_import(result.document.id, ADMIN, LATER, version=2,
                                by_name="Quản trị")
    assert writes(worked) == n + 1  # one transaction, one write
    assert undone.version == 2 and undone.file_hash == "h2"
    assert tables(worked) == before
    assert [u.key for u in worked.units()] == units_before
    after = events(worked)
    assert after[:len(log)] == log  # history untouched, two events appended
    assert [e["kind"] for e in after[len(log):]] == ["import", "undo_import"]
    data = after[-1]["data"]
    assert (data["version"], data["restored_version"], data["by_name"]) == (2, 1, "Quản trị")
    assert data["directory_restored"] is True
    # the restored version reads as before: done mark, extension, snooze, reminders
    doc = worked.document(result.document.id)
    assert (doc.version, doc.file_hash, doc.filename) == (1, "h1", "v1.docx")
    vaccine = worked.task(code(worked, "Tổ chức tiêm"))
    assert (vaccine.status, vaccine.note) == ("done", "xong sớm")
    census = worked.task(code(worked, "Cập nhật dữ liệu"))
    assert (census.due, census.due_kind) == (date(2024, 3, 20), "extended")
    poor = code(worked, "Rà soát hộ nghèo")
    assert poor in worked.snoozes()
    assert [r.task_id for r in worked.due_reminders(T0 + timedelta(days=9))].count(poor) == 1
    assert [e.kind for e in worked.history(poor)][-2:] == ["snooze", "reminder"]
    # the same v2 file can come again (its hash is no longer known): a replace again
    again = import_v2(worked, LATER + timedelta(hours=1))
    assert again.status == "replaced" and again.document.version == 2


def test_pressing_undo_twice_undoes_once(worked: Store) -> None:
    doc_id = import_v2(worked).document.id
    worked.undo_import(doc_id, ADMIN, LATER, version=2)
    state, n = tables(worked), writes(worked)
    with pytest.raises(UsageError, match="Phiên bản 2 của văn bản này đã được hoàn tác"):
        worked.undo_import(doc_id, ADMIN, LATER, version=2)
    assert tables(worked) == state and writes(worked) == n
    # the first version's own button still undoes the first version (it is current again)
    worked.undo_import(doc_id, ADMIN, LATER, version=1)
    assert worked.documents() == [] and worked.task_count == 0


def test_undo_refused_when_a_task_was_closed_after_the_import(worked: Store) -> None:
    doc_id = import_v2(worked).document.id
    budget = code(worked, "Báo cáo kết quả")
    worked.mark_done(budget, actor=ADMIN, now=LATER)
    state, n = tables(worked), writes(worked)
    with pytest.raises(UsageError, match=f"nhiệm vụ {budget} đã được báo hoàn thành"):
        worked.undo_import(doc_id, ADMIN, LATER, version=2)
    assert tables(worked) == state and writes(worked) == n
    # reopening is a change of its own: still refused (the work record would be lost)
    worked.reopen(budget, actor=ADMIN, now=LATER)
    with pytest.raises(UsageError, match="Không thể hoàn tác"):
        worked.undo_import(doc_id, ADMIN, LATER, version=2)


def test_undo_keeps_later_reminders_and_snoozes_of_tasks_that_come_back(worked: Store) -> None:
    doc_id = import_v2(worked).document.id
    budget, new = code(worked, "Báo cáo kết quả"), code(worked, "Tuyên truyền")
    kept = worked.add_reminder(budget, CHAT, LATER + timedelta(days=1), ADMIN, LATER)
    worked.add_reminder(new, CHAT, LATER + timedelta(days=1), ADMIN, LATER)
    worked.snooze(budget, date(2024, 3, 28), actor=ADMIN, now=LATER)
    worked.undo_import(doc_id, ADMIN, LATER, version=2)
    assert worked.task(new) is None
    due = worked.due_reminders(LATER + timedelta(days=9))
    assert kept in due and new not in [r.task_id for r in due]
    assert worked.snoozes()[budget] == date(2024, 3, 28)


def test_directory_kept_when_a_chat_joined_a_unit_of_the_undone_version(worked: Store) -> None:
    doc_id = import_v2(worked).document.id
    culture = worked.match_unit("Phòng Văn hóa và Thông tin", "Cẩm Phả").key
    worked.subscribe(-300, culture, title="Tổ Văn hóa", chat_type="group", actor=ADMIN,
                     now=LATER)
    worked.undo_import(doc_id, ADMIN, LATER, version=2)
    assert worked.unit(culture) is not None  # the member's unit does not vanish
    assert worked.recent_events(1)[0].data["directory_restored"] is False
    assert worked.document(doc_id).version == 1


def test_undo_of_a_first_version_also_puts_the_directory_back(store: Store) -> None:
    empty = tables(store)
    result = store.import_plan(mk_plan(base_tasks()), filename="v1.docx", file_hash="h1",
                               actor=ADMIN, now=T0)
    store.undo_import(result.document.id, ADMIN, T0, version=1)
    assert tables(store) == empty and store.units() == []


def test_version_without_snapshot_is_refused(worked: Store,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    doc_id = import_v2(worked).document.id
    monkeypatch.setattr(Tracker, "_import_event", lambda self, doc: None)  # an older import
    state = tables(worked)
    with pytest.raises(UsageError, match="nhập trước khi bot lưu lại phiên bản cũ"):
        worked.undo_import(doc_id, ADMIN, LATER)
    assert tables(worked) == state


def test_undo_finds_its_import_behind_many_later_events(worked: Store) -> None:
    doc_id = import_v2(worked).document.id
    for i in range(300):  # more than the first windows read
        worked.record_delivery(f"k{i}", chat_id=CHAT, status="sent", now=LATER)
        worked.log_announcement(f"tin {i}", actor=ADMIN, now=LATER)
        worked.set_chat_active(CHAT, i % 2 == 1, "thử", LATER)
    worked.undo_import(doc_id, ADMIN, LATER, version=2)
    assert worked.document(doc_id).version == 1


# ----------------------------------------------------------------------------- end to end
PLAN_V2 = PLAN.replace(
    "2. Phòng Tài chính - Kế hoạch: Rà soát dự toán ngân sách <b>&</b> báo cáo trước ngày "
    "20/02/2023.\n", "").replace(
    "hoàn thành trước ngày 15/01/2023.",
    "hoàn thành trước ngày 15/01/2023.\n4. Phòng Văn hóa và Thông tin: Tuyên truyền phòng "
    "chống dịch trước ngày 25/01/2023.")


def _button(message: dict) -> str:
    [[button]] = message["reply_markup"]["inline_keyboard"]
    assert button["text"].endswith("Hoàn tác")
    return button["callback_data"]


async def _upload(env: BotEnv, name: str, text: str) -> dict:
    before = len(env.api.messages_to(env.ADMIN))
    env.api.upload_document(env.ADMIN, name, text.encode(), user_id=env.ADMIN)
    assert await env.api.async_wait_for(
        lambda: len(env.api.messages_to(env.ADMIN)) > before, 10)
    return env.api.messages_to(env.ADMIN)[before]


def test_hoan_tac_button_gives_back_the_previous_version(bot_env: BotEnv) -> None:
    store, now = bot_env.store, bot_env.clock.now()
    assert PLAN_V2 != PLAN and "Văn hóa" in PLAN_V2 and "dự toán" not in PLAN_V2
    state: dict[str, Any] = {}

    async def scenario(app) -> None:
        first = await _upload(bot_env, "kh12.txt", PLAN)
        [doc] = store.documents()
        assert _button(first) == f"undo:{doc.id}:1"
        tasks = store.document_tasks(doc.id)
        vaccine, budget, census = (t.id for t in tasks)
        [done] = await bot_env.ask(bot_env.ADMIN, f"/xong {vaccine} đã tiêm xong",
                                   user_id=bot_env.ADMIN)
        assert "Đã ghi nhận" in done["text"]
        store.extend(census, date(2023, 2, 28), actor=bot_env.ADMIN, now=now)
        store.snooze(budget, date(2023, 1, 5), actor=bot_env.ADMIN, now=now)
        store.add_reminder(budget, bot_env.ADMIN, now + timedelta(days=1), bot_env.ADMIN, now)
        state["before"], state["log"] = tables(store), events(store)

        second = await _upload(bot_env, "kh12 sửa đổi.txt", PLAN_V2)
        assert "12/KH-UBND" in second["text"]
        assert store.document(doc.id).version == 2 and store.task(budget) is None
        data = _button(second)
        assert data == f"undo:{doc.id}:2"

        refused = await bot_env.press(bot_env.ADMIN, second["message_id"], data,
                                      user_id=bot_env.USER)
        assert refused["show_alert"] and "Chỉ quản trị viên" in refused["text"]
        assert store.document(doc.id).version == 2

        answered = await bot_env.press(bot_env.ADMIN, second["message_id"], data,
                                       user_id=bot_env.ADMIN)
        assert "hoàn tác" in answered["text"].lower() and not answered["show_alert"]
        edited = await bot_env.api.async_wait_for(
            lambda: (m := bot_env.api.message(bot_env.ADMIN, second["message_id"]))
            and "Đã hoàn tác" in m["text"] and m)
        assert "phiên bản 1 (3 nhiệm vụ) đã được khôi phục" in edited["text"]
        assert "reply_markup" not in edited
        state["after"] = tables(store)

        # A double tap (or a stale client) sends the same data once more.
        mark = len(bot_env.api.answered_callbacks)
        bot_env.api.forge_callback(bot_env.ADMIN, second["message_id"], data,
                                   user_id=bot_env.ADMIN)
        assert await bot_env.api.async_wait_for(
            lambda: len(bot_env.api.answered_callbacks) > mark)
        again = bot_env.api.answered_callbacks[mark]
        assert again["show_alert"] and "đã được hoàn tác" in again["text"]
        state["again"] = tables(store)

    bot_env.run(scenario)
    assert state["after"] == state["before"]
    assert state["again"] == state["before"]
    log = events(bot_env.store)
    assert log[:len(state["log"])] == state["log"]
    assert [e["kind"] for e in log[len(state["log"]):]] == ["import", "undo_import"]
    assert log[-1]["data"]["by_name"]  # the admin's Telegram name
    [doc] = bot_env.store.documents()
    assert doc.version == 1 and doc.filename == "kh12.txt"
