"""bot.review: assigning lead units, re-scoping a document, /sua, /xoa + /khoiphuc, /giao."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot import review
from bot.errors import BotError, DateInputError, UnitNotFound, UsageError
from bot.importer import import_document
from bot.records import Reminder, StoredDocument
from bot.repository import Snooze, UnitDirectoryRow
from bot.store import Store
from tests.test_importer import PLAN
from tests.test_repository_contract import backend  # noqa: F401 - the fixture

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2022, 12, 20, 9, 0, tzinfo=TZ)
ADMIN = 1001
NAME = "Nguyễn Văn Quản (@quan)"

NO_PLACE = """ỦY BAN NHÂN DÂN
Số: 45/KH-UBND
KẾ HOẠCH
Triển khai công tác chuyển đổi số năm 2023

I. MỤC ĐÍCH, YÊU CẦU
Bảo đảm hoàn thành các chỉ tiêu.
II. NHIỆM VỤ
1. Phòng Y tế: Tổ chức tiêm chủng mở rộng cho trẻ em, hoàn thành trước ngày 15/01/2023.
2. Phòng Tài chính - Kế hoạch: Rà soát dự toán ngân sách, báo cáo trước ngày 20/02/2023.
III. GIẢI PHÁP
1. Đẩy mạnh tuyên truyền về chuyển đổi số trong toàn xã hội.
2. Nâng cấp hạ tầng mạng tại các cơ quan, hoàn thành trước ngày 30/3/2023.
3. Tăng cường kiểm tra, giám sát việc thực hiện.
"""
"""A plan whose locality the parser cannot read, three of its tasks without a lead unit."""


@pytest.fixture
def store(backend):  # type: ignore[no-untyped-def]
    """The rules over each backend of the contract tests (TinyDB, PostgreSQL)."""
    with Store(repository=backend.open()) as s:
        yield s


def _dump(store: Store) -> list:
    """Every record the review rules touch, on any backend."""
    repo = store.repo
    return [repo.all(StoredDocument), repo.task_page(None, open_only=False),
            [(e, dict(e.data)) for e in repo.recent_events(100_000)], repo.all(Reminder),
            repo.all(Snooze), [(r.loc_key, r.version, dict(r.directory))
                               for r in repo.all(UnitDirectoryRow)]]


def _import(store: Store, text: str = PLAN, name: str = "kh.txt") -> StoredDocument:
    return import_document(store, text.encode(), name, actor=ADMIN, now=NOW).document


# ------------------------------------------------------------------------------ assigning
def test_unassigned_tasks_grouped_by_section(store: Store) -> None:
    doc = _import(store, NO_PLACE)
    tasks = review.unassigned(store, doc.id)
    assert [t.section for t in tasks] == ["III.1", "III.2", "III.3"]
    assert review.unassigned_sections(tasks) == [("III", tasks)]
    assert len(review.section_ref("III")) == 8


def test_assign_section_reaches_the_unit_and_is_logged(store: Store) -> None:
    _import(store)  # Cẩm Phả's units
    doc = _import(store, NO_PLACE, "kh45.txt")
    yte = store.match_unit("Phòng Y tế", "Cẩm Phả")
    before = store.open_tasks(yte.key)
    section, tasks = review.assign_section(store, doc.id, review.section_ref("III"), yte.key,
                                           actor=ADMIN, by_name=NAME, now=NOW)
    assert section == "III" and len(tasks) == 3
    assert all(t.lead == (yte.key,) for t in tasks)
    assert {t.id for t in store.open_tasks(yte.key)} == {t.id for t in before} | {
        t.id for t in tasks}
    assert review.unassigned(store, doc.id) == []
    for task in tasks:
        [event] = [e for e in store.history(task.id) if e.kind == "assign_lead"]
        assert event.actor == ADMIN and event.data["by_name"] == NAME
        assert event.data["unit"] == yte.key and event.data["tasks"] == 3
    # Nothing left: refused, nothing written.
    snapshot = _dump(store)
    with pytest.raises(UsageError, match="đã có đơn vị chủ trì"):
        review.assign_section(store, doc.id, review.section_ref("III"), yte.key,
                              actor=ADMIN, by_name=NAME, now=NOW)
    assert _dump(store) == snapshot


def test_assign_lead_keeps_a_lead_given_meanwhile(store: Store) -> None:
    doc = _import(store, NO_PLACE)
    first, second, _ = review.unassigned(store, doc.id)
    yte = store.match_unit("Phòng Y tế")
    tc = store.match_unit("Phòng Tài chính - Kế hoạch")
    review.assign_lead(store, [first.id], tc.key, actor=ADMIN, by_name=NAME, now=NOW)
    changed = review.assign_lead(store, [first.id, second.id], yte.key, actor=ADMIN,
                                 by_name=NAME, now=NOW)
    assert [t.id for t in changed] == [second.id]
    assert store.task(first.id).lead == (tc.key,)


# ------------------------------------------------------------------------------ locality
def test_rescope_moves_the_units_to_the_chosen_locality(store: Store) -> None:
    cam_pha = _import(store)
    yte_cp = store.match_unit("Phòng Y tế", "Cẩm Phả")
    doc = _import(store, NO_PLACE, "kh45.txt")
    assert doc.locality is None
    assert "Cẩm Phả" in review.known_localities(store)
    [first, second] = [t for t in store.document_tasks(doc.id) if t.lead]
    assert first.lead[0].startswith("-|")
    fingerprints = [t.fingerprint for t in store.document_tasks(doc.id)]
    new_doc, changed = review.rescope_document(store, doc.id, "Cẩm Phả", actor=ADMIN,
                                               by_name=NAME, now=NOW)
    assert new_doc.locality == "Cẩm Phả" and changed == 2
    assert store.document(doc.id).locality == "Cẩm Phả"
    moved = store.task(first.id)
    assert moved.lead == (yte_cp.key,)  # the same unit as in Cẩm Phả's own plan
    assert first.id in {t.id for t in store.open_tasks(yte_cp.key)}
    assert store.task(second.id).lead[0].startswith("cam pha|")
    assert [t.fingerprint for t in store.document_tasks(doc.id)] == fingerprints
    assert cam_pha.id != doc.id
    [event] = [e for e in store.history(first.id) if e.kind == "rescope"]
    assert event.data["by_name"] == NAME and event.data["new_locality"] == "Cẩm Phả"
    with pytest.raises(UsageError, match="đã thuộc"):
        review.rescope_document(store, doc.id, "cẩm phả", actor=ADMIN, by_name=NAME, now=NOW)


def test_rescope_to_a_new_locality_makes_its_directory(store: Store) -> None:
    doc = _import(store, NO_PLACE)
    review.rescope_document(store, doc.id, "Vân Đồn", actor=ADMIN, by_name=NAME, now=NOW)
    unit = store.match_unit("y te", "Vân Đồn")
    assert unit.locality == "Vân Đồn" and unit.name == "Phòng Y tế"
    assert "Vân Đồn" in review.known_localities(store)
    with pytest.raises(UsageError):
        review.rescope_document(store, doc.id, "  ", actor=ADMIN, by_name=NAME, now=NOW)


# ------------------------------------------------------------------------------ /sua
def test_edit_lead_support_deadline_and_text(store: Store) -> None:
    doc = _import(store)
    task = store.document_tasks(doc.id)[0]
    tc = store.match_unit("Phòng Tài chính - Kế hoạch")
    ca = store.match_unit("Công an thành phố")
    kw = {"actor": ADMIN, "by_name": NAME, "now": NOW, "today": NOW.date()}
    _, new = review.edit_task(store, task.id, "chutri", "tai chinh", **kw)
    assert new.lead == (tc.key,) and new.fingerprint == task.fingerprint
    _, new = review.edit_task(store, task.id, "phoihop", "Công an thành phố; Phòng Tài chính - "
                              "Kế hoạch", **kw)
    assert new.support == (ca.key,)  # the lead unit is no supporting unit
    _, new = review.edit_task(store, task.id, "phoihop", "không", **kw)
    assert new.support == ()
    _, new = review.edit_task(store, task.id, "han", "20/1/2023", **kw)
    assert new.due == date(2023, 1, 20) and new.due_kind == "explicit"
    _, new = review.edit_task(store, task.id, "noidung", "  Tổ chức   tập huấn ", **kw)
    assert new.text == "Tổ chức tập huấn"
    history = [e for e in store.history(task.id) if e.kind == "edit"]
    assert [e.data["field"] for e in history] == ["chutri", "phoihop", "phoihop", "han",
                                                  "noidung"]
    assert all(e.data["by_name"] == NAME and e.actor == ADMIN for e in history)
    assert "sửa thời hạn" in review.describe_event(history[3])


def test_edit_refusals_change_nothing(store: Store) -> None:
    doc = _import(store)
    task = store.document_tasks(doc.id)[0]
    kw = {"actor": ADMIN, "by_name": NAME, "now": NOW, "today": NOW.date()}
    snapshot = _dump(store)
    with pytest.raises(DateInputError, match="31/02/2023 không tồn tại"):
        review.edit_task(store, task.id, "han", "31/02/2023", **kw)
    with pytest.raises(UsageError, match="Không có trường"):
        review.edit_task(store, task.id, "mau", "đỏ", **kw)
    with pytest.raises(UnitNotFound):
        review.edit_task(store, task.id, "chutri", "Sở Ngoại giao sao Hỏa", **kw)
    with pytest.raises(UsageError, match="không có gì thay đổi"):
        review.edit_task(store, task.id, "noidung", task.text, **kw)
    with pytest.raises(UsageError, match="Không có nhiệm vụ"):
        review.edit_task(store, 999, "noidung", "x", **kw)
    assert _dump(store) == snapshot


# ------------------------------------------------------------------------------ /xoa, /khoiphuc
def test_delete_keeps_the_row_and_restore_brings_it_back(store: Store) -> None:
    doc = _import(store)
    tasks = store.document_tasks(doc.id)
    victim = tasks[1]
    store.add_reminder(victim.id, 555, NOW + timedelta(days=2), ADMIN, NOW)
    store.snooze(victim.id, date(2022, 12, 25), actor=ADMIN, now=NOW)
    review.delete_task(store, victim.id, actor=ADMIN, by_name=NAME, now=NOW)
    assert store.task(victim.id) is None
    assert victim.id not in store.document(doc.id).task_ids
    assert store.due_reminders(NOW + timedelta(days=30)) == []
    [event] = [e for e in store.repo.task_history(victim.id) if e.kind == "delete_task"]
    assert event.data["row"] == victim.to_row() and event.data["by_name"] == NAME
    assert event.doc_id == doc.id  # kept by pruning while the document exists
    with pytest.raises(UsageError, match="Không có nhiệm vụ"):
        review.delete_task(store, victim.id, actor=ADMIN, by_name=NAME, now=NOW)
    later = NOW + timedelta(hours=1)
    restored = review.restore_task(store, f"#{victim.id}", actor=ADMIN, by_name=NAME,
                                   now=later)
    assert restored == victim and store.task(victim.id) == victim
    assert [t.id for t in store.document_tasks(doc.id)] == [t.id for t in tasks]
    assert [r.task_id for r in store.due_reminders(NOW + timedelta(days=30))] == [victim.id]
    assert store.snoozes() == {victim.id: date(2022, 12, 25)}
    kinds = [e.kind for e in store.history(victim.id)]
    assert kinds[-2:] == ["delete_task", "restore_task"]
    with pytest.raises(UsageError, match="vẫn đang có"):
        review.restore_task(store, victim.id, actor=ADMIN, by_name=NAME, now=later)


def test_restore_refused_without_a_deletion_or_a_document(store: Store) -> None:
    doc = _import(store)
    victim = store.document_tasks(doc.id)[0]
    with pytest.raises(UsageError, match="đã xóa bằng /xoa"):
        review.restore_task(store, 4242, actor=ADMIN, by_name=NAME, now=NOW)
    with pytest.raises(UsageError, match="không hợp lệ"):
        review.restore_task(store, "abc", actor=ADMIN, by_name=NAME, now=NOW)
    review.delete_task(store, victim.id, actor=ADMIN, by_name=NAME, now=NOW)
    store.undo_import(doc.id, ADMIN, NOW)
    snapshot = _dump(store)
    with pytest.raises(UsageError, match="hoàn tác"):
        review.restore_task(store, victim.id, actor=ADMIN, by_name=NAME, now=NOW)
    assert _dump(store) == snapshot


# ------------------------------------------------------------------------------ /giao
@pytest.mark.parametrize(("args", "units", "due", "text"), [
    ("Phòng Y tế: Báo cáo tiêm chủng", "Phòng Y tế", None, "Báo cáo tiêm chủng"),
    ("Phòng Y tế hạn 30/12: Báo cáo: số liệu", "Phòng Y tế", "30/12", "Báo cáo: số liệu"),
    ("y te; tai chinh HAN cuối tháng sau : Họp", "y te; tai chinh", "cuối tháng sau", "Họp"),
])
def test_parse_give(args: str, units: str, due: str | None, text: str) -> None:
    assert review.parse_give(args) == review.GiveRequest(units, due, text)


@pytest.mark.parametrize("args", ["", "Phòng Y tế", "Phòng Y tế:", ": việc", "Phòng Y tế hạn :x"])
def test_parse_give_bad(args: str) -> None:
    with pytest.raises(UsageError, match="Cách dùng: /giao"):
        review.parse_give(args)


def test_give_task_one_document_per_month(store: Store) -> None:
    _import(store)
    yte = store.match_unit("Phòng Y tế")
    first = review.give_task(store, [yte], "Báo cáo nhanh", date(2022, 12, 28), actor=ADMIN,
                             by_name=NAME, now=NOW, due_phrase="28/12")
    second = review.give_task(store, [yte], "Họp giao ban", None, actor=ADMIN, by_name=NAME,
                              now=NOW + timedelta(days=1))
    doc = store.document(first.doc_id)
    assert second.doc_id == doc.id and doc.task_ids == (first.id, second.id)
    assert doc.title == "Giao việc trực tiếp tháng 12/2022" and doc.locality is None
    assert (first.line, second.line) == (1, 2)
    assert first.due == date(2022, 12, 28) and first.due_kind == "explicit"
    assert first.deadlines == (("hạn 28/12", "2022-12-28", 1),)
    assert {first.id, second.id} <= {t.id for t in store.open_tasks(yte.key)}
    january = review.give_task(store, [yte], "Việc tháng mới", None, actor=ADMIN, by_name=NAME,
                               now=NOW + timedelta(days=15))
    assert january.doc_id != doc.id
    [event] = [e for e in store.history(first.id) if e.kind == "give_task"]
    assert event.data["by_name"] == NAME and event.actor == ADMIN
    assert "giao việc trực tiếp cho Phòng Y tế" in review.describe_event(event)
    snapshot = _dump(store)
    with pytest.raises(UsageError, match="đã qua"):
        review.give_task(store, [yte], "Quá khứ", date(2022, 12, 1), actor=ADMIN, by_name=NAME,
                         now=NOW)
    assert _dump(store) == snapshot


def test_resolve_units_prefers_the_document_locality(store: Store) -> None:
    _import(store)
    _import(store, PLAN.replace("CẨM PHẢ", "UÔNG BÍ").replace("12/KH", "13/KH"), "ub.txt")
    with pytest.raises(BotError):
        review.resolve_units(store, "Phòng Y tế")  # two localities: ambiguous
    [unit] = review.resolve_units(store, "Phòng Y tế", "Uông Bí")
    assert unit.locality == "Uông Bí"


def test_undo_of_a_new_version_refuses_to_overwrite_corrections(store: Store) -> None:
    _import(store, NO_PLACE)
    doc = _import(store, NO_PLACE.replace("3. Tăng cường", "3. Tăng cường hơn nữa"), "v2.txt")
    assert doc.version == 2
    [task, *_] = review.unassigned(store, doc.id)
    yte = store.match_unit("Phòng Y tế")
    review.assign_lead(store, [task.id], yte.key, actor=ADMIN, by_name=NAME, now=NOW)
    snapshot = _dump(store)
    with pytest.raises(UsageError, match="hoặc sửa"):
        store.undo_import(doc.id, ADMIN, NOW)
    assert _dump(store) == snapshot
