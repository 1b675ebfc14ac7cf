"""Issue 10's core (bot/progress.py) without Telegram: parsing, names in events, progress on
the task (stored, carried over a new version of the plan, in the digest and /baocao),
extension requests read back from events."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import progress
from bot.errors import NotAllowed, UsageError
from bot.membership import Actor
from bot.models import DocumentInfo, ParsedPlan, Task
from bot.progress import Acting, acting
from bot.records import StoredTask, TaskProgress
from bot.reports import collect
from bot.store import Store
from schedules.digest import build_digests, vlen

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2022, 12, 20, 9, 0, tzinfo=TZ)
ADMIN, MEMBER = 1001, 2002
YT, TC = "Phòng Y tế", "Phòng Tài chính - Kế hoạch"
CHAT = -100


def load(store: Store, tasks: list[Task], h: str = "h1") -> list[StoredTask]:
    info = DocumentInfo(kind="ke_hoach", number="12/KH-UBND", issuer="UBND thành phố Cẩm Phả",
                        locality="Cẩm Phả")
    result = store.import_plan(ParsedPlan(document=info, tasks=tuple(tasks)),
                               filename=f"{h}.txt", file_hash=h, actor=ADMIN, now=NOW)
    return store.document_tasks(result.document.id)


def mk(line: int, text: str, due: date | None, lead: tuple[str, ...] = (YT,),
       support: tuple[str, ...] = ()) -> Task:
    return Task(line=line, end_line=line, section="", text=text, lead=lead, support=support,
                due=due, due_kind="explicit" if due else None)


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "bot.json") as s:
        yield s


@pytest.fixture
def unit_task(store: Store) -> tuple[StoredTask, Actor]:
    """A task led by Phòng Y tế (supported by Tài chính) and a member group of Phòng Y tế."""
    [task] = load(store, [mk(3, "Tiêm chủng mở rộng", date(2023, 1, 17), support=(TC,))])
    store.subscribe(CHAT, task.lead[0], title="Tổ Y tế", chat_type="supergroup", actor=ADMIN,
                    now=NOW)
    who = Actor(chat_id=CHAT, chat_type="supergroup", unit_keys=(task.lead[0],),
                user_id=MEMBER, user_name="Nguyễn Văn A")
    return task, who


@pytest.mark.parametrize("text, expected", [
    ("60% đã lấy ý kiến các phòng", (60, "đã lấy ý kiến các phòng")),
    ("60 % - đã lấy ý kiến", (60, "đã lấy ý kiến")),
    ("100%", (100, "")),
    ("0%", (0, "")),
    ("45", (45, "")),
    ("62,5%: gần xong", (62, "gần xong")),
    ("80 phần trăm, chờ ký", (80, "chờ ký")),
    ("xong bước khảo sát", (None, "xong bước khảo sát")),
    ("3 phòng đã góp ý", (None, "3 phòng đã góp ý")),
])
def test_parse_progress(text: str, expected: tuple[int | None, str]) -> None:
    assert progress.parse_progress(text) == expected


@pytest.mark.parametrize("text, fragment", [
    ("150%", "từ 0 đến 100"), ("-5%", "từ 0 đến 100"), ("−5 %", "từ 0 đến 100"),
    ("101", "từ 0 đến 100"), ("", "Cách dùng"), ("   ", "Cách dùng"),
    ("50% " + "ý" * 501, "tối đa 500 ký tự"), ("😀" * 251, "tối đa 500 ký tự"),
])
def test_bad_progress_is_refused_in_vietnamese(text: str, fragment: str) -> None:
    with pytest.raises(UsageError) as exc:
        progress.parse_progress(text)
    assert fragment in exc.value.message


def test_display_name_and_who_label() -> None:
    assert progress.display_name("Nguyễn Văn", "A", "nva") == "Nguyễn Văn A"
    assert progress.display_name(" Lan ", None, None) == "Lan"
    assert progress.display_name("", None, "nva") == "@nva"
    assert progress.display_name(None) == ""
    assert progress.who_label({"by_name": "A", "by_unit": "Phòng Y tế"}, 5) == "A (Phòng Y tế)"
    assert progress.who_label({"by_name": "A"}, 5) == "A"
    assert progress.who_label({}, 5) == "người dùng 5"
    assert progress.who_label({}, None) == "hệ thống"


def test_events_carry_the_name_of_who_acts_only_for_that_person(store: Store,
                                                                 unit_task) -> None:
    task, _ = unit_task
    with acting(Acting(MEMBER, "Nguyễn Văn A", CHAT)):
        store.mark_done(task.id, actor=MEMBER, now=NOW)
        store.reopen(task.id, actor=ADMIN, now=NOW)  # another actor: no name taken
    with acting(Acting(ADMIN, "Quản Trị", 1001, admin=True)):
        store.snooze(task.id, date(2022, 12, 25), actor=ADMIN, now=NOW)
    store.unsnooze(task.id, actor=ADMIN, now=NOW)  # outside any update
    done, reopen, snooze, unsnooze = store.history(task.id)
    assert (done.data["by_name"], done.data["by_unit"]) == ("Nguyễn Văn A", "Phòng Y tế")
    assert "by_name" not in reopen.data
    assert (snooze.data["by_name"], snooze.data["by_unit"]) == ("Quản Trị", "quản trị viên")
    assert "by_name" not in unsnooze.data
    assert progress.current() is None


def test_progress_is_kept_on_the_task_and_carried_over_a_new_version(store: Store,
                                                                      unit_task) -> None:
    task, who = unit_task
    with acting(Acting(MEMBER, "Nguyễn Văn A", CHAT)):
        new = progress.report_progress(store, who, task.id, "60% đã lấy ý kiến", NOW)
    assert new.progress == TaskProgress(60, "đã lấy ý kiến", NOW, MEMBER, "Nguyễn Văn A",
                                        "Phòng Y tế")
    path = store.path
    store.close()
    with Store(path) as again:
        assert again.task(task.id).progress == new.progress
        # A new version of the plan keeps the task (same text and lead) and its progress.
        info = DocumentInfo(kind="ke_hoach", number="12/KH-UBND",
                            issuer="UBND thành phố Cẩm Phả", locality="Cẩm Phả")
        again.import_plan(ParsedPlan(document=info, tasks=(
            mk(3, "Tiêm chủng mở rộng", date(2023, 1, 20), support=(TC,)),
            mk(4, "Việc mới", None))), filename="v2.txt", file_hash="h2", actor=ADMIN,
            now=NOW + timedelta(days=1))
        assert again.task(task.id).progress == new.progress


def test_old_task_rows_without_progress_still_load() -> None:
    row = {"doc": 1, "line": 3, "text": "Việc"}
    assert StoredTask.from_row(7, row).progress is None
    task = StoredTask.from_row(7, row)
    assert "progress" not in task.to_row()
    moved = replace(task, progress=TaskProgress(None, "ghi chú", NOW))
    assert StoredTask.from_row(7, moved.to_row()) == moved


def test_only_the_lead_unit_and_admins_report_progress(store: Store, unit_task) -> None:
    task, who = unit_task
    support = Actor(chat_id=55, chat_type="private", unit_keys=(task.support[0],), user_id=55)
    stranger = Actor(chat_id=56, chat_type="private", user_id=56)
    admin = Actor(chat_id=ADMIN, chat_type="private", admin=True, user_id=ADMIN)
    with pytest.raises(NotAllowed, match="đơn vị phối hợp"):
        progress.report_progress(store, support, task.id, "10%", NOW)
    with pytest.raises(NotAllowed, match="chưa là thành viên"):
        progress.report_progress(store, stranger, task.id, "10%", NOW)
    assert store.task(task.id).progress is None and store.history(task.id) == []
    assert progress.report_progress(store, admin, task.id, "10%", NOW).progress.percent == 10


def test_progress_in_the_digest_line_and_the_report_column(store: Store, unit_task) -> None:
    task, who = unit_task
    with acting(Acting(MEMBER, "Nguyễn Văn A", CHAT)):
        progress.report_progress(store, who, task.id, "75% " + "chờ số liệu các xã " * 10,
                                 NOW)
    day = task.due - timedelta(days=1)
    [msg] = build_digests(store, day)
    line = next(ln for ln in msg.text.splitlines() if "↳" in ln)
    assert line.startswith("   ↳ tiến độ 75% — chờ số liệu các xã")
    assert line.endswith("…") and vlen(line) < 70  # one short line
    [row] = collect(store, None, NOW.date()).rows
    assert row.progress.startswith("75% — chờ số liệu các xã") and row.progress.endswith(
        "(20/12/2022)")


def test_extension_request_lifecycle(store: Store, unit_task) -> None:
    task, who = unit_task
    admin = Actor(chat_id=ADMIN, chat_type="private", admin=True, user_id=ADMIN)
    with pytest.raises(NotAllowed, match="Chỉ quản trị viên"):
        progress.decide_extension(store, who, 1, True, NOW)
    with pytest.raises(UsageError, match="Không có yêu cầu gia hạn mã 99"):
        progress.decide_extension(store, admin, 99, True, NOW)
    request = progress.ask_extension(store, who, task.id, date(2023, 2, 1), "chờ vắc xin", NOW)
    assert request.pending and request.chat_id == CHAT and request.old_due == task.due
    assert progress.pending_extension(store.history(task.id)) == request
    with pytest.raises(UsageError, match="đang chờ quản trị viên duyệt"):
        progress.ask_extension(store, who, task.id, date(2023, 3, 1), "lần nữa", NOW)
    decided, moved = progress.decide_extension(store, admin, request.id, True, NOW)
    assert decided.approved and moved.due == date(2023, 2, 1)
    assert progress.extension_request(store, request.id) == decided
    with pytest.raises(UsageError, match="đã được xử lý"):
        progress.decide_extension(store, admin, request.id, False, NOW)
    assert progress.pending_extension(store.history(task.id)) is None
    assert store.task(task.id).due == date(2023, 2, 1)


def test_scheduled_announcement_keeps_its_author_name(store: Store, unit_task) -> None:
    from bot.records import ScheduledAnnouncement
    from schedules.digest import build_announcement

    task, _ = unit_task
    with acting(Acting(ADMIN, "Phạm Quản Trị", ADMIN, admin=True)):
        item_id = store.schedule_announcement("Họp", [task.lead[0]], NOW + timedelta(days=1),
                                              actor=ADMIN, now=NOW)
    item = store.scheduled_announcement(item_id)
    assert item.by_name == "Phạm Quản Trị"
    [msg] = build_announcement(store, item)
    assert "<i>Người gửi: Phạm Quản Trị</i>" in msg.text
    old = ScheduledAnnouncement.from_row(9, {k: v for k, v in item.to_row().items()
                                             if k != "by_name"})
    assert old.by_name == ""
    assert "Người gửi" not in build_announcement(store, old)[0].text


def test_undoing_a_new_version_after_a_progress_report_is_refused(store: Store,
                                                                  unit_task) -> None:
    """Undo restores the previous version's task rows: a later /tiendo would be lost."""
    task, who = unit_task
    info = DocumentInfo(kind="ke_hoach", number="12/KH-UBND", issuer="UBND thành phố Cẩm Phả",
                        locality="Cẩm Phả")
    v2 = store.import_plan(ParsedPlan(document=info, tasks=(
        mk(3, "Tiêm chủng mở rộng", date(2023, 1, 20), support=(TC,)),)),
        filename="v2.txt", file_hash="h2", actor=ADMIN, now=NOW + timedelta(hours=1))
    progress.report_progress(store, who, task.id, "30%", NOW + timedelta(hours=2))
    with pytest.raises(UsageError, match="báo tiến độ"):
        store.undo_import(v2.document.id, ADMIN, NOW + timedelta(hours=3), version=2)
    assert store.task(task.id).progress.percent == 30
