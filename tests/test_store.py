"""Tests for bot.store: crash-safe storage, import/re-import, queries, task changes, chats."""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import signal
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.clock import FixedClock
from bot.errors import ConfigError, EmptyPlan, UnitNotFound, UsageError
from bot.models import Deadline, DocumentInfo, ParsedPlan, Period, Recurrence, Task
from bot.store import (
    SCHEMA_VERSION,
    AtomicJSONStorage,
    StorageError,
    Store,
    fingerprint,
    migrate,
    scoped_unit_key,
)

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
T0 = datetime(2024, 3, 1, 9, 0, tzinfo=TZ)
Q1 = Period("Quý I năm 2024", date(2024, 1, 1), date(2024, 3, 31))
ADMIN = 111


# ----------------------------------------------------------------------------- helpers
class CountingStorage(AtomicJSONStorage):
    """Counts every write attempt, to check one write per mutating call."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.calls = 0

    def write(self, data) -> None:
        self.calls += 1
        super().write(data)


def mk_task(line: int, text: str, lead=("Phòng Y tế",), support=(), due: date | None = None,
            due_kind: str | None = None, recurrence: Recurrence | None = None) -> Task:
    if due is not None and due_kind is None:
        due_kind = "explicit"
    deadlines = ((Deadline(f"trước ngày {due:%d/%m/%Y}", due, line),)
                 if due_kind == "explicit" else ())
    return Task(line=line, end_line=line, section=f"I.{line}", text=text, lead=tuple(lead),
                support=tuple(support), deadlines=deadlines, due=due, due_kind=due_kind,
                recurrence=recurrence)


def mk_plan(tasks, number: str | None = "12/KH-UBND", issuer="UBND thành phố Cẩm Phả",
            locality: str | None = "Cẩm Phả", warnings=()) -> ParsedPlan:
    info = DocumentInfo(kind="ke_hoach", number=number, issuer=issuer, issued=date(2024, 1, 5),
                        title="Kế hoạch thực hiện nhiệm vụ quý I năm 2024", period=Q1,
                        locality=locality)
    return ParsedPlan(document=info, tasks=tuple(tasks), warnings=tuple(warnings))


def base_tasks() -> list[Task]:
    return [
        mk_task(10, "Tổ chức tiêm chủng mở rộng cho trẻ em", lead=["Phòng Y tế"],
                support=["UBND các phường, xã"], due=date(2024, 3, 10)),
        mk_task(20, "Rà soát hộ nghèo, hộ cận nghèo", lead=["Phòng LĐ-TB&XH"],
                due=date(2024, 2, 20)),
        mk_task(30, "Báo cáo kết quả thu ngân sách", lead=["Phòng TC-KH", "Phòng Y tế"],
                due=date(2024, 3, 31), due_kind="period"),
        mk_task(40, "Kiểm tra an toàn thực phẩm tại chợ", lead=["Phòng Y tế"]),
        mk_task(50, "Cập nhật dữ liệu dân cư", lead=["Công an thành phố"],
                due=date(2024, 3, 4)),
    ]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "bot.json"


@pytest.fixture
def store(db_path: Path):
    s = Store(db_path, storage=CountingStorage)
    yield s
    s.close()


@pytest.fixture
def loaded(store: Store, clock: FixedClock) -> Store:
    store.import_plan(mk_plan(base_tasks()), filename="kh12.docx", file_hash="hash-v1",
                      actor=ADMIN, now=clock.now())
    return store


def key(store: Store, name: str, locality: str | None = "Cẩm Phả") -> str:
    return store.match_unit(name, locality).key


def codes(tasks) -> list[str]:
    return [t.code for t in tasks]


def writes(store: Store) -> int:
    return store.db.storage.calls


def code_of(store: Store, text_start: str) -> str:
    found = [t for t in store.open_tasks() + store.tasks_for_units(
        [u.key for u in store.units()]) if t.text.startswith(text_start)]
    assert found, text_start
    return found[0].code


# ----------------------------------------------------------------------------- storage
def test_storage_round_trip_is_compact_utf8_and_cached(tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    storage = AtomicJSONStorage(path)
    assert storage.read() is None
    data = {"units": {"1": {"name": "Phòng Y tế", "n": 1}}}
    storage.write(data)
    raw = path.read_bytes()
    assert "Phòng Y tế".encode() in raw and b"\\u" not in raw and b": " not in raw
    assert json.loads(raw) == data
    assert not storage.tmp_path.exists()
    # Reads never touch the file again: remove it and read from a fresh instance's cache.
    fresh = AtomicJSONStorage(path)
    assert fresh.read() == data
    path.unlink()
    assert fresh.read() == data


def test_storage_through_tinydb_api(tmp_path: Path) -> None:
    from tinydb import TinyDB

    path = tmp_path / "t.json"
    with TinyDB(path, storage=AtomicJSONStorage) as db:
        db.table("x").insert_multiple([{"a": i} for i in range(5)])
        assert db.storage.writes == 1
    with TinyDB(path, storage=AtomicJSONStorage) as db:
        assert sorted(d["a"] for d in db.table("x").all()) == [0, 1, 2, 3, 4]


def test_failed_replace_keeps_previous_file(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "db.json"
    storage = AtomicJSONStorage(path)
    storage.write({"t": {"1": {"v": "old"}}})

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(StorageError) as info:
        storage.write({"t": {"1": {"v": "new"}}})
    assert "chưa được lưu" in info.value.message
    monkeypatch.undo()
    assert json.loads(path.read_text("utf-8")) == {"t": {"1": {"v": "old"}}}
    assert storage.read() == {"t": {"1": {"v": "old"}}}
    assert not storage.tmp_path.exists()


def _crash_in_fsync(path: str) -> None:
    storage = AtomicJSONStorage(path)
    storage.write({"t": {"1": {"v": 1}}})
    os.fsync = lambda fd: os._exit(3)  # die after the temp file is written, before the rename
    storage.write({"t": {"1": {"v": 2}}})
    os._exit(0)


def _write_forever(path: str, conn) -> None:
    storage = AtomicJSONStorage(path)
    n = 0
    while True:
        n += 1
        storage.write({"t": {str(i): {"n": n, "pad": "đ" * 60} for i in range(15000)}})
        if n == 2:
            conn.send(n)


def test_process_dying_inside_write_leaves_old_file(tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    proc = multiprocessing.get_context("fork").Process(target=_crash_in_fsync, args=(str(path),))
    proc.start()
    proc.join(30)
    assert proc.exitcode == 3
    assert json.loads(path.read_text("utf-8")) == {"t": {"1": {"v": 1}}}


def test_killed_writer_leaves_a_whole_version(tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    ctx = multiprocessing.get_context("fork")
    seen = []
    for _ in range(3):
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_write_forever, args=(str(path), child))
        proc.start()
        assert parent.poll(30), "writer never reported"
        parent.recv()
        os.kill(proc.pid, signal.SIGKILL)
        proc.join(30)
        assert proc.exitcode == -signal.SIGKILL
        data = json.loads(path.read_text("utf-8"))  # parses: never truncated
        versions = {row["n"] for row in data["t"].values()}
        assert len(versions) == 1 and len(data["t"]) == 15000
        seen.append(versions.pop())
    assert all(n >= 2 for n in seen)
    assert AtomicJSONStorage(path).read() == data


def test_second_store_on_same_file_is_refused(db_path: Path) -> None:
    with Store(db_path):
        with pytest.raises(ConfigError) as info:
            Store(db_path)
        assert "tiến trình bot khác" in info.value.message
    with Store(db_path):  # released on close
        pass


@pytest.mark.parametrize("content, words", [
    (b'{"tasks": {"1": {"doc"', "bị hỏng"),
    (b"\xff\xfe\x00garbage", "bị hỏng"),
    (b"[1, 2, 3]", "không đúng định dạng"),
    (b'{"meta": {"1": {"schema_version": 1, "seq": {}}}, "tasks": {"1": {"line": 3}}}',
     "bản ghi hỏng"),
])
def test_damaged_file_gives_vietnamese_error(db_path: Path, content: bytes, words: str) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(content)
    with pytest.raises(ConfigError) as info:
        Store(db_path)
    assert words in info.value.message and str(db_path) in info.value.message
    assert db_path.read_bytes() == content  # left untouched for the operator to restore
    AtomicJSONStorage(db_path, lock=True).close()  # and the lock was released


def test_deleting_the_lock_file_does_not_let_a_second_bot_in(db_path: Path,
                                                             clock: FixedClock) -> None:
    """An operator removes bot.json.lock while the bot runs: the data file is locked too."""
    first = Store(db_path)
    try:
        first.subscribe(5001, _first_unit(first, clock), title="Nhóm", chat_type="group",
                        actor=ADMIN, now=clock.now())  # whole rewrite: a new inode
        db_path.with_name("bot.json.lock").unlink()
        with pytest.raises(ConfigError, match="tiến trình bot khác"):
            Store(db_path)
        first.subscribe(5002, _first_unit(first, clock), title="Nhóm 2", chat_type="group",
                        actor=ADMIN, now=clock.now())  # and again after another rename
        with pytest.raises(ConfigError, match="tiến trình bot khác"):
            Store(db_path)
    finally:
        first.close()
    Store(db_path).close()  # released on close


def test_lock_follows_a_name_replaced_while_locking(db_path: Path, monkeypatch) -> None:
    """The path is renamed over between open and flock: the new file is the one locked."""
    import fcntl

    Store(db_path).close()
    real = fcntl.flock
    swapped = []

    def racing_flock(fd: int, flags: int) -> None:
        if not swapped and os.fstat(fd).st_ino == os.stat(db_path).st_ino:
            replacement = db_path.with_name("other.json")
            replacement.write_bytes(db_path.read_bytes())
            os.replace(replacement, db_path)  # another writer's rename, just now
            swapped.append(True)
        real(fd, flags)

    monkeypatch.setattr(fcntl, "flock", racing_flock)
    storage = AtomicJSONStorage(db_path, lock=True)
    try:
        assert swapped
        held = os.fstat(storage._data_lock_fd)
        assert (held.st_dev, held.st_ino) == (os.stat(db_path).st_dev, os.stat(db_path).st_ino)
    finally:
        storage.close()


def _first_unit(store: Store, clock: FixedClock) -> str:
    if not store.units():
        store.import_plan(ParsedPlan(document=DocumentInfo(kind="ke_hoach", locality="Thử"),
                                     tasks=(Task(line=1, end_line=1, section="1",
                                                 text="Báo cáo", lead=("Phòng Y tế",)),)),
                          filename="kh.txt", file_hash="lock", actor=ADMIN, now=clock.now())
    return store.units()[0].key


def test_newer_schema_is_refused(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_text(json.dumps({"meta": {"1": {"schema_version": SCHEMA_VERSION + 1}}}))
    with pytest.raises(ConfigError) as info:
        Store(db_path)
    assert "cập nhật bot" in info.value.message


def test_version_0_file_is_migrated(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    old = {
        "meta": {"1": {"schema_version": 0}},
        "documents": {"4": {"kind": "ke_hoach", "number": "5/KH", "issuer": "UBND",
                            "filename": "a.txt", "file_hash": "h0",
                            "imported_at": "2023-12-01T08:00:00+07:00", "task_ids": [7, 9]}},
        "tasks": {
            "7": {"doc": 4, "line": 3, "text": "Việc đã xong", "lead": ["-|phong y te"],
                  "due": "2023-12-20", "done": True, "done_at": "2023-12-19T10:00:00+07:00"},
            "9": {"doc": 4, "line": 5, "text": "Việc còn mở", "lead": ["-|phong y te"],
                  "due": None, "done": False},
        },
    }
    db_path.write_text(json.dumps(old), encoding="utf-8")
    with Store(db_path) as store:
        assert store.task(7).status == "done" and store.task(9).status == "open"
        assert store.task(7).due_kind == "explicit" and store.task(7).original_due == date(
            2023, 12, 20)
        assert store.task(9).due_kind is None
        # counters continue after the largest old ids
        result = store.import_plan(mk_plan([mk_task(1, "Việc mới")]), filename="b.txt",
                                   file_hash="h1", actor=None, now=T0)
        assert result.document.id == 5 and result.document.task_ids == (10,)
    raw = json.loads(db_path.read_text("utf-8"))
    assert raw["meta"]["1"]["schema_version"] == SCHEMA_VERSION
    assert "done" not in raw["tasks"]["7"]
    assert set(raw) >= {"documents", "tasks", "chats", "subscriptions", "events", "deliveries",
                        "reminders", "announcements", "units"}


def test_migrate_is_idempotent_for_current_data() -> None:
    fresh, changed = migrate(None)
    assert changed and fresh["meta"]["1"]["schema_version"] == SCHEMA_VERSION
    again, changed_again = migrate(fresh)
    assert not changed_again and again == fresh


# ----------------------------------------------------------------------------- import
def test_import_new_document(loaded: Store) -> None:
    docs = loaded.documents()
    assert len(docs) == 1
    doc = docs[0]
    assert (doc.number, doc.version, doc.filename, doc.imported_by) == (
        "12/KH-UBND", 1, "kh12.docx", ADMIN)
    assert doc.period == Q1 and loaded.document(doc.id) == doc
    tasks = loaded.document_tasks(doc.id)
    assert [t.line for t in tasks] == [10, 20, 30, 40, 50]
    assert [t.code for t in tasks] == [str(t.id) for t in tasks]
    first = tasks[0]
    assert first.deadlines == (("trước ngày 10/03/2024", "2024-03-10", 10),)
    assert first.lead == (key(loaded, "Phòng Y tế"),)
    assert first.support == (key(loaded, "UBND các phường, xã"),)
    assert loaded.unit(first.support[0]).generic
    history = loaded.recent_events(5)
    assert history[0].kind == "import" and history[0].data["status"] == "new"


def test_import_result_fields(store: Store, clock: FixedClock) -> None:
    result = store.import_plan(mk_plan(base_tasks() + [mk_task(60, "Việc không rõ ai làm",
                                                               lead=())],
                                       warnings=("Dòng 7: ngày 31/02/2024 không tồn tại.",)),
                               filename="kh.docx", file_hash="h", actor=ADMIN, now=clock.now())
    assert result.status == "new" and result.task_count == 6 and result.kept_done == 0
    assert result.explicit_deadlines == 3
    assert "Phòng Y tế" in result.unit_names and "Phòng TC-KH" in result.unit_names
    assert len(result.unit_names) == 5
    assert result.warnings[0].startswith("Dòng 7")
    assert any("chưa xác định được đơn vị chủ trì (dòng 60)" in w for w in result.warnings)


def test_duplicate_import_changes_nothing(loaded: Store, clock: FixedClock) -> None:
    before = writes(loaded), loaded.task_count, len(loaded.recent_events(100))
    result = loaded.import_plan(mk_plan(base_tasks()), filename="copy.docx",
                                file_hash="hash-v1", actor=222, now=clock.now())
    assert result.status == "duplicate" and result.task_count == 5
    assert result.document.filename == "kh12.docx"
    assert (writes(loaded), loaded.task_count, len(loaded.recent_events(100))) == before


def test_replaced_version_keeps_done_status(loaded: Store, clock: FixedClock) -> None:
    doc_id = loaded.documents()[0].id
    vaccine = code_of(loaded, "Tổ chức tiêm chủng")
    poor = code_of(loaded, "Rà soát hộ nghèo")
    food = code_of(loaded, "Kiểm tra an toàn")
    loaded.mark_done(vaccine, actor=5, now=clock.now(), note="Đã tiêm 98%")
    loaded.mark_done(food, actor=5, now=clock.now())
    extended = loaded.extend(poor, date(2024, 4, 15), actor=ADMIN, now=clock.now())
    clock.advance(timedelta(days=2))
    v2 = base_tasks()
    v2[3] = mk_task(40, "Kiểm tra an toàn thực phẩm tại chợ và bếp ăn tập thể",
                    lead=["Phòng Y tế"])  # text changed: its done status does not carry over
    v2.append(mk_task(70, "Tổng kết phong trào thi đua", lead=["Văn phòng HĐND và UBND"]))
    result = loaded.import_plan(mk_plan(v2), filename="kh12-sua.docx", file_hash="hash-v2",
                                actor=ADMIN, now=clock.now())
    assert result.status == "replaced" and result.kept_done == 1 and result.task_count == 6
    doc = result.document
    assert doc.id == doc_id and doc.version == 2 and doc.file_hash == "hash-v2"
    assert loaded.documents() == [doc]
    kept = loaded.task(vaccine)
    assert kept.status == "done" and kept.note == "Đã tiêm 98%" and kept.done_by == 5
    assert loaded.task(poor).due == extended.due and loaded.task(poor).due_kind == "extended"
    assert loaded.task(food) is None  # the changed task is new
    new_food = code_of(loaded, "Kiểm tra an toàn")
    assert new_food != food and loaded.task(new_food).is_open
    assert loaded.search("bếp ăn") == [loaded.task(new_food)]
    assert set(doc.task_ids) == {t.id for t in loaded.document_tasks(doc.id)}
    # importing the first file again is now a new version again, not a duplicate
    again = loaded.import_plan(mk_plan(base_tasks()), filename="kh12.docx",
                               file_hash="hash-v1", actor=ADMIN, now=clock.now())
    assert again.status == "replaced" and again.document.version == 3


def test_documents_without_number_are_identified_by_hash(store: Store,
                                                         clock: FixedClock) -> None:
    a = store.import_plan(mk_plan([mk_task(1, "Việc A")], number=None), filename="a.txt",
                          file_hash="ha", actor=None, now=clock.now())
    b = store.import_plan(mk_plan([mk_task(1, "Việc A")], number=None), filename="a2.txt",
                          file_hash="hb", actor=None, now=clock.now())
    c = store.import_plan(mk_plan([mk_task(1, "Việc A")], number=None), filename="a3.txt",
                          file_hash="ha", actor=None, now=clock.now())
    assert (a.status, b.status, c.status) == ("new", "new", "duplicate")
    assert a.document.id != b.document.id and c.document.id == a.document.id
    assert store.task_count == 2


def test_plan_without_tasks_is_refused(store: Store) -> None:
    before = writes(store)
    with pytest.raises(EmptyPlan) as info:
        store.import_plan(mk_plan([]), filename="x.txt", file_hash="x", actor=1, now=T0)
    assert "Không tìm thấy nhiệm vụ" in info.value.message
    assert writes(store) == before and store.documents() == []


def test_undo_import(loaded: Store, clock: FixedClock) -> None:
    doc = loaded.documents()[0]
    vaccine = code_of(loaded, "Tổ chức tiêm chủng")
    loaded.add_reminder(vaccine, -100, T0 + timedelta(hours=3), ADMIN, clock.now())
    n = writes(loaded)
    removed = loaded.undo_import(doc.id, ADMIN, clock.now())
    assert writes(loaded) == n + 1
    assert removed == doc and loaded.documents() == [] and loaded.task_count == 0
    assert loaded.task(vaccine) is None and loaded.open_tasks() == []
    assert loaded.tasks_for_units([u.key for u in loaded.units()]) == []
    assert loaded.due_reminders(T0 + timedelta(days=1)) == []
    assert loaded.recent_events(1)[0].kind == "undo_import"
    with pytest.raises(UsageError, match="Không có văn bản mã"):
        loaded.undo_import(doc.id, ADMIN, clock.now())
    # the same file can be imported again afterwards
    again = loaded.import_plan(mk_plan(base_tasks()), filename="kh12.docx",
                               file_hash="hash-v1", actor=ADMIN, now=clock.now())
    assert again.status == "new" and again.document.id != doc.id


def test_units_are_scoped_by_locality(store: Store, clock: FixedClock) -> None:
    store.import_plan(mk_plan([mk_task(1, "Tiêm chủng Cẩm Phả")]), filename="cp.txt",
                      file_hash="cp", actor=1, now=clock.now())
    store.import_plan(mk_plan([mk_task(1, "Tiêm chủng Uông Bí")], number="7/KH-UBND",
                              issuer="UBND thành phố Uông Bí", locality="Uông Bí"),
                      filename="ub.txt", file_hash="ub", actor=1, now=clock.now())
    cp = store.match_unit("Phòng Y tế", "Cẩm Phả")
    ub = store.match_unit("phong y te", "Uông Bí")
    assert cp.key != ub.key
    assert cp.key == scoped_unit_key("Phòng Y tế", "Cẩm Phả")
    assert cp.key.startswith("cam pha|") and ub.key.startswith("uong bi|")
    assert [t.text for t in store.tasks_for_units([cp.key])] == ["Tiêm chủng Cẩm Phả"]
    assert [t.text for t in store.tasks_for_units([ub.key])] == ["Tiêm chủng Uông Bí"]
    assert len(store.tasks_for_units([cp.key, ub.key])) == 2
    with pytest.raises(UnitNotFound) as info:
        store.match_unit("Phòng Y tế")
    assert set(info.value.suggestions) == {"Phòng Y tế (Cẩm Phả)", "Phòng Y tế (Uông Bí)"}
    assert "địa bàn" in info.value.message
    assert store.match_unit(info.value.suggestions[1]).key in {cp.key, ub.key}
    assert store.match_unit("Phòng Y tế (Uông Bí)") == ub
    assert store.unit(ub.key).label == "Phòng Y tế (Uông Bí)"


def test_match_unit_fuzzy_and_unknown(loaded: Store) -> None:
    assert loaded.match_unit("phong tai chinh ke hoach").name == "Phòng TC-KH"
    assert loaded.match_unit("Phòng Lao động - Thương binh và Xã hội").key == key(
        loaded, "Phòng LĐ-TB&XH")
    with pytest.raises(UnitNotFound) as info:
        loaded.match_unit("Sở Ngoại vụ")
    assert "Không tìm thấy đơn vị «Sở Ngoại vụ»" in info.value.message


def test_match_unit_on_empty_store(store: Store) -> None:
    with pytest.raises(UnitNotFound, match="nhập một kế hoạch"):
        store.match_unit("Phòng Y tế")


# ----------------------------------------------------------------------------- queries
def test_tasks_for_units_order_and_lead_only(loaded: Store) -> None:
    health = key(loaded, "Phòng Y tế")
    tasks = loaded.tasks_for_units([health])
    assert [t.line for t in tasks] == [10, 30, 40]  # by due date, no date last
    assert loaded.tasks_for_units(health) == tasks  # a single key is accepted too
    wards = key(loaded, "UBND các phường, xã")
    assert [t.line for t in loaded.tasks_for_units([wards])] == [10]
    assert loaded.tasks_for_units([wards], lead_only=True) == []
    both = loaded.tasks_for_units([health, key(loaded, "Phòng TC-KH"), wards])
    assert [t.line for t in both] == [10, 30, 40]  # merged without duplicates
    assert loaded.tasks_for_units(["nowhere|x"]) == []


@pytest.mark.parametrize("today, days, overdue_lines, upcoming_lines", [
    (date(2024, 2, 1), 30, [], [20]),
    (date(2024, 3, 1), 3, [20], [50]),
    (date(2024, 3, 5), 5, [20, 50], [10]),
    (date(2024, 3, 10), 0, [20, 50], [10]),
    (date(2024, 3, 11), 30, [10, 20, 50], [30]),
    (date(2024, 4, 1), 30, [10, 20, 50, 30], []),
])
def test_overdue_and_upcoming(loaded: Store, today: date, days: int, overdue_lines: list[int],
                              upcoming_lines: list[int]) -> None:
    assert sorted(t.line for t in loaded.overdue(None, today)) == sorted(overdue_lines)
    assert [t.line for t in loaded.upcoming(None, today, days)] == upcoming_lines
    health = key(loaded, "Phòng Y tế")
    assert [t.line for t in loaded.overdue([health], today)] == [
        t.line for t in loaded.overdue(None, today) if health in t.units]
    assert [t.line for t in loaded.upcoming([health], today, days)] == [
        t.line for t in loaded.upcoming(None, today, days) if health in t.units]


def test_overdue_is_sorted_and_skips_done(loaded: Store, clock: FixedClock) -> None:
    today = date(2024, 4, 1)
    assert [t.line for t in loaded.overdue(None, today)] == [20, 50, 10, 30]
    loaded.mark_done(code_of(loaded, "Rà soát"), actor=1, now=clock.now())
    assert [t.line for t in loaded.overdue(None, today)] == [50, 10, 30]
    assert [t.line for t in loaded.open_tasks()] == [50, 10, 30, 40]
    with pytest.raises(UsageError):
        loaded.upcoming(None, today, -1)


@pytest.mark.parametrize("query, lines", [
    ("tiem chung", [10]),
    ("TIÊM CHỦNG trẻ", [10]),
    ("hộ nghèo", [20]),
    ("kiem tra cho", [40]),
    ("ngân sách y tế", []),
    ("dữ liệu", [50]),
])
def test_search_is_accent_insensitive_and_needs_every_word(loaded: Store, query: str,
                                                           lines: list[int]) -> None:
    assert [t.line for t in loaded.search(query)] == lines


def test_search_limited_to_units_and_empty_query(loaded: Store) -> None:
    assert [t.line for t in loaded.search("bao cao", [key(loaded, "Phòng TC-KH")])] == [30]
    assert loaded.search("tiêm", [key(loaded, "Phòng TC-KH")]) == []
    with pytest.raises(UsageError, match="từ cần tìm"):
        loaded.search("  ")


def test_units_listing(loaded: Store) -> None:
    names = [u.name for u in loaded.units()]
    assert len(names) == 5 and "Phòng Y tế" in names and "Công an thành phố" in names
    assert all(u.locality == "Cẩm Phả" for u in loaded.units())
    assert loaded.unit("cam pha|nothing") is None
    assert loaded.unit_name("cam pha|nothing") == "cam pha|nothing"


# ----------------------------------------------------------------------------- task changes
@pytest.mark.parametrize("done_on, expected_late", [
    (date(2024, 3, 1), 0),
    (date(2024, 3, 10), 0),
    (date(2024, 3, 11), 1),
    (date(2024, 4, 9), 30),
])
def test_mark_done_days_late(loaded: Store, clock: FixedClock, done_on: date,
                             expected_late: int) -> None:
    clock.set(datetime.combine(done_on, datetime.min.time(), TZ).replace(hour=16))
    code = code_of(loaded, "Tổ chức tiêm chủng")  # due 10/03/2024
    task, days_late = loaded.mark_done(code, actor=42, now=clock.now(), note="xong")
    assert days_late == expected_late
    assert (task.status, task.done_by, task.note, task.done_at) == ("done", 42, "xong",
                                                                     clock.now())
    assert loaded.task(code) == task and task not in loaded.open_tasks()
    event = loaded.history(code)[-1]
    assert event.kind == "done" and event.actor == 42 and event.data["days_late"] == expected_late
    with pytest.raises(UsageError, match="đã được đánh dấu hoàn thành ngày"):
        loaded.mark_done(code, actor=42, now=clock.now())


def test_mark_done_without_due_is_never_late(loaded: Store, clock: FixedClock) -> None:
    clock.advance(timedelta(days=400))
    _, late = loaded.mark_done(code_of(loaded, "Kiểm tra an toàn"), actor=1, now=clock.now())
    assert late == 0


def test_reopen(loaded: Store, clock: FixedClock) -> None:
    code = code_of(loaded, "Rà soát")
    with pytest.raises(UsageError, match="chưa được đánh dấu hoàn thành"):
        loaded.reopen(code, actor=1, now=clock.now())
    loaded.mark_done(code, actor=7, now=clock.now(), note="ghi chú")
    task = loaded.reopen(code, actor=ADMIN, now=clock.now())
    assert task.is_open and task.done_at is None and task.done_by is None and task.note is None
    assert task in loaded.overdue(None, date(2024, 3, 1))
    kinds = [e.kind for e in loaded.history(code)]
    assert kinds == ["done", "reopen"]
    assert loaded.history(code)[-1].data["done_by"] == 7


def test_extend_keeps_old_dates(loaded: Store, clock: FixedClock) -> None:
    code = code_of(loaded, "Rà soát")  # due 20/02/2024, overdue on T0
    assert loaded.task(code) in loaded.overdue(None, clock.today())
    task = loaded.extend(code, date(2024, 3, 15), actor=ADMIN, now=clock.now(),
                         reason="chờ số liệu")
    assert (task.due, task.due_kind, task.original_due) == (
        date(2024, 3, 15), "extended", date(2024, 2, 20))
    assert task not in loaded.overdue(None, clock.today())
    assert task in loaded.upcoming(None, clock.today(), 14)
    task = loaded.extend(code, date(2024, 3, 30), actor=ADMIN, now=clock.now())
    assert task.original_due == date(2024, 2, 20)
    events = loaded.history(code)
    assert [(e.data["old_due"], e.data["new_due"]) for e in events] == [
        ("2024-02-20", "2024-03-15"), ("2024-03-15", "2024-03-30")]
    assert events[0].data["reason"] == "chờ số liệu" and events[0].actor == ADMIN


@pytest.mark.parametrize("new_due, message", [
    (date(2024, 2, 28), "đã qua"),
    (date(2024, 2, 20), "đã qua"),
])
def test_extend_refuses_past_dates(loaded: Store, clock: FixedClock, new_due: date,
                                   message: str) -> None:
    with pytest.raises(UsageError, match=message):
        loaded.extend(code_of(loaded, "Rà soát"), new_due, actor=1, now=clock.now())


def test_extend_refuses_done_and_same_date(loaded: Store, clock: FixedClock) -> None:
    code = code_of(loaded, "Tổ chức tiêm chủng")
    with pytest.raises(UsageError, match="đã có hạn 10/03/2024"):
        loaded.extend(code, date(2024, 3, 10), actor=1, now=clock.now())
    loaded.mark_done(code, actor=1, now=clock.now())
    with pytest.raises(UsageError, match="không cần gia hạn"):
        loaded.extend(code, date(2024, 5, 1), actor=1, now=clock.now())


@pytest.mark.parametrize("call", [
    lambda s, now: s.mark_done("999", actor=1, now=now),
    lambda s, now: s.reopen("999", actor=1, now=now),
    lambda s, now: s.extend("999", date(2024, 5, 1), actor=1, now=now),
    lambda s, now: s.history("999"),
    lambda s, now: s.add_reminder("999", 1, now + timedelta(hours=1), 1, now),
])
def test_unknown_code_message(loaded: Store, clock: FixedClock, call) -> None:
    with pytest.raises(UsageError) as info:
        call(loaded, clock.now())
    assert info.value.message == "Không có nhiệm vụ mã 999."


@pytest.mark.parametrize("code", ["abc", "", "-1", "1.5", None])
def test_task_lookup_with_bad_codes(loaded: Store, code) -> None:
    assert loaded.task(code) is None


def test_task_lookup_accepts_variants(loaded: Store) -> None:
    task = loaded.open_tasks()[0]
    assert loaded.task(task.id) == loaded.task(f" #{task.code} ") == task


# ----------------------------------------------------------------------------- chats
def test_subscribe_unsubscribe(loaded: Store, clock: FixedClock) -> None:
    health, finance = key(loaded, "Phòng Y tế"), key(loaded, "Phòng TC-KH")
    chat = loaded.subscribe(-100, health, title="Tổ Y tế", chat_type="group", actor=ADMIN,
                            now=clock.now())
    assert chat.unit_keys == (health,) and chat.active
    n = writes(loaded)
    assert loaded.subscribe(-100, health, title="Tổ Y tế", chat_type="group", actor=ADMIN,
                            now=clock.now()) == chat
    assert writes(loaded) == n  # nothing changed, nothing written
    loaded.subscribe(-100, finance, title="Tổ Y tế", chat_type="group", actor=ADMIN,
                     now=clock.now())
    loaded.subscribe(55, health, title="Anh Nam", chat_type="private", actor=55,
                     now=clock.now())
    assert loaded.chat_units(-100) == (health, finance)
    assert [c.id for c in loaded.unit_chats(health)] == [-100, 55]
    chat = loaded.unsubscribe(-100, health, actor=ADMIN, now=clock.now())
    assert chat.unit_keys == (finance,) and loaded.chat(-100) == chat
    assert [c.id for c in loaded.unit_chats(health)] == [55]
    with pytest.raises(UsageError, match="chưa theo dõi Phòng Y tế"):
        loaded.unsubscribe(-100, health, actor=ADMIN, now=clock.now())
    with pytest.raises(UsageError, match="chưa có trong danh bạ"):
        loaded.subscribe(-100, "cam pha|khong co", title="x", chat_type="group", actor=1,
                         now=clock.now())
    assert loaded.chat_units(12345) == () and loaded.chat(12345) is None


def test_inactive_chats_are_not_returned(loaded: Store, clock: FixedClock) -> None:
    health = key(loaded, "Phòng Y tế")
    loaded.subscribe(-100, health, title="Tổ", chat_type="group", actor=1, now=clock.now())
    chat = loaded.set_chat_active(-100, False, "bot bị xóa khỏi nhóm", clock.now())
    assert chat is not None and not chat.active
    assert loaded.unit_chats(health) == [] and loaded.chat_units(-100) == (health,)
    assert loaded.chats(active_only=True) == [] and loaded.chats() == [chat]
    assert loaded.recent_events(1)[0].data["reason"] == "bot bị xóa khỏi nhóm"
    n = writes(loaded)
    assert loaded.set_chat_active(-100, False, "lại", clock.now()) == chat
    assert loaded.set_chat_active(999, False, "không biết", clock.now()) is None
    assert writes(loaded) == n
    # subscribing again (the bot was re-added) reactivates the chat
    again = loaded.subscribe(-100, health, title="Tổ", chat_type="group", actor=1,
                             now=clock.now())
    assert again.active and [c.id for c in loaded.unit_chats(health)] == [-100]


def test_migrate_chat_keeps_subscriptions(loaded: Store, clock: FixedClock) -> None:
    health, finance = key(loaded, "Phòng Y tế"), key(loaded, "Phòng TC-KH")
    loaded.subscribe(-100, health, title="Tổ", chat_type="group", actor=1, now=clock.now())
    loaded.subscribe(-100, finance, title="Tổ", chat_type="group", actor=1, now=clock.now())
    reminder = loaded.add_reminder(code_of(loaded, "Rà soát"), -100,
                                   clock.now() + timedelta(hours=1), 1, clock.now())
    n = writes(loaded)
    chat = loaded.migrate_chat(-100, -1001234, clock.now())
    assert writes(loaded) == n + 1
    assert chat.id == -1001234 and chat.type == "supergroup" and chat.title == "Tổ"
    assert loaded.chat(-100) is None and loaded.chat_units(-1001234) == (health, finance)
    assert [c.id for c in loaded.unit_chats(health)] == [-1001234]
    assert loaded.due_reminders(clock.now() + timedelta(days=1))[0].chat_id == -1001234
    assert loaded.due_reminders(clock.now() + timedelta(days=1))[0].id == reminder.id
    assert loaded.migrate_chat(-100, -5, clock.now()) is None


# ----------------------------------------------------------------------------- logs
def test_delivery_log(loaded: Store, clock: FixedClock) -> None:
    assert loaded.delivery_status("r:1:2024-03-03:7") is None
    loaded.record_delivery("r:1:2024-03-03:7", chat_id=-100, status="failed", now=clock.now(),
                           detail="429")
    loaded.record_delivery("r:1:2024-03-03:7", chat_id=-100, status="sent",
                           now=clock.advance(timedelta(minutes=1)))
    assert loaded.delivery_status("r:1:2024-03-03:7") == "sent"
    assert loaded.delivery("r:1:2024-03-03:7").detail is None
    loaded.record_delivery("r:2:2024-03-03:7", chat_id=-100, status="sent",
                           now=clock.advance(timedelta(days=10)))
    assert loaded.forget_deliveries(clock.now() - timedelta(days=1)) == 1
    assert loaded.delivery_status("r:1:2024-03-03:7") is None
    assert loaded.delivery_status("r:2:2024-03-03:7") == "sent"


def test_one_off_reminders(loaded: Store, clock: FixedClock) -> None:
    code = code_of(loaded, "Rà soát")
    later = loaded.add_reminder(code, -100, T0 + timedelta(days=2), 7, clock.now())
    sooner = loaded.add_reminder(code, -100, T0 + timedelta(hours=2), 7, clock.now())
    assert loaded.due_reminders(T0 + timedelta(hours=1)) == []
    assert loaded.due_reminders(T0 + timedelta(days=3)) == [sooner, later]
    sent = loaded.mark_reminder_sent(sooner.id, T0 + timedelta(hours=2))
    assert sent.sent_at == T0 + timedelta(hours=2)
    assert loaded.due_reminders(T0 + timedelta(days=3)) == [later]
    with pytest.raises(UsageError, match="đã qua"):
        loaded.add_reminder(code, -100, T0 - timedelta(minutes=1), 7, clock.now())
    with pytest.raises(UsageError, match="Không có lời nhắc mã 999"):
        loaded.mark_reminder_sent(999, clock.now())
    assert loaded.history(code)[-1].kind == "reminder"


def test_announcements(loaded: Store, clock: FixedClock) -> None:
    item = loaded.log_announcement("Họp giao ban lúc 14 giờ", actor=ADMIN, now=clock.now(),
                                   chat_ids=[-100, 55], failed=[55])
    assert loaded.announcements() == [item]
    assert item.chat_ids == (-100, 55) and item.failed == (55,)


# ----------------------------------------------------------------------------- statistics
def test_stats_categories(store: Store, clock: FixedClock) -> None:
    tasks = [
        mk_task(1, "Đúng hạn", lead=["Phòng Y tế"], due=date(2024, 3, 5)),
        mk_task(2, "Trễ hạn", lead=["Phòng Y tế", "Phòng Nội vụ"], due=date(2024, 3, 2)),
        mk_task(3, "Chưa đến hạn", lead=["Phòng Y tế"], due=date(2024, 3, 20)),
        mk_task(4, "Quá hạn còn mở", lead=["Phòng Y tế"], due=date(2024, 3, 3)),
        mk_task(5, "Không có hạn", lead=["Phòng Y tế"], support=["Phòng Nội vụ"]),
        mk_task(6, "Đã làm không có hạn", lead=["Phòng Nội vụ"]),
    ]
    store.import_plan(mk_plan(tasks), filename="s.txt", file_hash="s", actor=1, now=T0)
    store.mark_done(code_of(store, "Đúng hạn"), actor=1, now=T0 + timedelta(days=4))
    store.mark_done(code_of(store, "Trễ hạn"), actor=1, now=T0 + timedelta(days=5))
    store.mark_done(code_of(store, "Đã làm"), actor=1, now=T0 + timedelta(days=30))
    today = date(2024, 3, 10)
    by_name = {s.unit.name: s for s in store.stats(today)}
    health, home = by_name["Phòng Y tế"], by_name["Phòng Nội vụ"]
    assert (health.done_on_time, health.done_late, health.not_yet_due,
            health.overdue_open) == (1, 1, 2, 1)
    assert health.total == 5
    assert (home.done_on_time, home.done_late, home.not_yet_due, home.overdue_open) == (
        1, 1, 0, 0)
    only = store.stats(today, [key(store, "Phòng Nội vụ"), "cam pha|khong co"])
    assert [s.unit.key for s in only] == [key(store, "Phòng Nội vụ"), "cam pha|khong co"]
    assert only[0] == home and only[1].total == 0
    # an extension moves a task back to "not yet due"
    store.extend(code_of(store, "Quá hạn"), date(2024, 3, 25), actor=1, now=T0)
    health = next(s for s in store.stats(today) if s.unit.name == "Phòng Y tế")
    assert (health.not_yet_due, health.overdue_open) == (3, 0)


# ----------------------------------------------------------------------------- persistence
def test_reopen_gives_identical_data(db_path: Path, clock: FixedClock) -> None:
    with Store(db_path) as store:
        store.import_plan(mk_plan(base_tasks()), filename="kh12.docx", file_hash="h1",
                          actor=ADMIN, now=clock.now())
        store.import_plan(mk_plan([mk_task(1, "Việc ở Uông Bí", recurrence=Recurrence(
            "quarterly", "định kỳ hằng quý", 15, "last"))], number="3/KH", locality="Uông Bí"),
            filename="ub.pdf", file_hash="h2", actor=ADMIN, now=clock.now())
        health = key(store, "Phòng Y tế")
        store.mark_done(code_of(store, "Tổ chức tiêm chủng"), actor=5, now=clock.now(),
                        note="Hoàn thành")
        store.extend(code_of(store, "Rà soát"), date(2024, 4, 1), actor=ADMIN, now=clock.now())
        store.subscribe(-100, health, title="Tổ Y tế", chat_type="group", actor=1,
                        now=clock.now())
        store.set_chat_active(-100, False, "bị xóa", clock.now())
        store.add_reminder("2", -100, clock.now() + timedelta(hours=5), 1, clock.now())
        store.record_delivery("k1", chat_id=-100, status="sent", now=clock.now())
        store.log_announcement("Thông báo", actor=1, now=clock.now(), chat_ids=[-100])
        snapshot = _snapshot(store)
    with Store(db_path) as again:
        assert _snapshot(again) == snapshot
        assert again.task(6).recurrence == Recurrence("quarterly", "định kỳ hằng quý", 15,
                                                      "last")
        assert again.match_unit("phong y te (Cẩm Phả)").key == health


def _snapshot(store: Store) -> dict:
    codes_ = [t.code for t in store.open_tasks()] + ["1", "2", "3"]
    return {
        "docs": store.documents(),
        "tasks": [store.task(c) for c in codes_],
        "units": store.units(),
        "chats": store.chats(),
        "history": [[e.to_row() for e in store.history(c)] for c in ("1", "2")],
        "events": [e.to_row() for e in store.recent_events(100)],
        "delivery": store.delivery("k1"),
        "reminders": store.due_reminders(T0 + timedelta(days=1)),
        "announcements": store.announcements(),
        "stats": store.stats(date(2024, 3, 10)),
    }


# ----------------------------------------------------------------------------- writes
MUTATIONS = {
    "import": lambda s, now: s.import_plan(mk_plan([mk_task(1, "Việc thêm")], number="9/KH"),
                                           filename="n.txt", file_hash="new", actor=1, now=now),
    "replace": lambda s, now: s.import_plan(mk_plan(base_tasks()[:2]), filename="v2.txt",
                                            file_hash="v2", actor=1, now=now),
    "undo": lambda s, now: s.undo_import(s.documents()[0].id, 1, now),
    "done": lambda s, now: s.mark_done("1", actor=1, now=now),
    "reopen": lambda s, now: s.reopen("2", actor=1, now=now),
    "extend": lambda s, now: s.extend("1", date(2024, 6, 1), actor=1, now=now),
    "subscribe": lambda s, now: s.subscribe(-9, s.units()[0].key, title="t", chat_type="group",
                                            actor=1, now=now),
    "unsubscribe": lambda s, now: s.unsubscribe(-100, s.chat_units(-100)[0], actor=1, now=now),
    "inactive": lambda s, now: s.set_chat_active(-100, False, "kicked", now),
    "migrate": lambda s, now: s.migrate_chat(-100, -1009, now),
    "delivery": lambda s, now: s.record_delivery("k", chat_id=1, status="sent", now=now),
    "announce": lambda s, now: s.log_announcement("x", actor=1, now=now, chat_ids=[1]),
    "reminder": lambda s, now: s.add_reminder("1", 1, now + timedelta(hours=1), 1, now),
    "reminder_sent": lambda s, now: s.mark_reminder_sent(1, now),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_each_mutation_writes_once(loaded: Store, clock: FixedClock, name: str) -> None:
    loaded.mark_done("2", actor=1, now=clock.now())
    loaded.subscribe(-100, loaded.units()[0].key, title="t", chat_type="group", actor=1,
                     now=clock.now())
    loaded.add_reminder("1", 1, clock.now() + timedelta(hours=1), 1, clock.now())
    before = writes(loaded)
    MUTATIONS[name](loaded, clock.now())
    assert writes(loaded) == before + 1


def test_failed_write_changes_nothing(loaded: Store, clock: FixedClock, db_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    code = code_of(loaded, "Rà soát")
    monkeypatch.setattr(os, "replace", lambda a, b: (_ for _ in ()).throw(OSError(5, "I/O")))
    with pytest.raises(StorageError):
        loaded.mark_done(code, actor=1, now=clock.now())
    with pytest.raises(StorageError):
        loaded.import_plan(mk_plan([mk_task(1, "Việc mới")], number="99/KH"), filename="n",
                           file_hash="n", actor=1, now=clock.now())
    monkeypatch.undo()
    assert loaded.task(code).is_open and loaded.history(code) == []
    assert len(loaded.documents()) == 1
    task, _ = loaded.mark_done(code, actor=1, now=clock.now())
    loaded.close()
    with Store(db_path) as again:
        assert again.task(code) == task and len(again.documents()) == 1
        assert [e.kind for e in again.history(code)] == ["done"]


# ----------------------------------------------------------------------------- scale
def test_ten_thousand_tasks(store: Store) -> None:
    units = [f"Phòng số {i}" for i in range(50)]
    start = date(2024, 1, 1)
    tasks = [mk_task(i + 1, f"Nhiệm vụ tổng hợp số {i}", lead=[units[i % 50]],
                     due=start + timedelta(days=i % 365)) for i in range(10_000)]
    result = store.import_plan(mk_plan(tasks), filename="big.txt", file_hash="big", actor=1,
                               now=T0)
    assert result.task_count == 10_000 and writes(store) == 2  # creation + import
    first = store.match_unit("Phòng số 7").key
    assert len(store.tasks_for_units([first])) == 200
    assert len(store.tasks_for_units([first, store.match_unit("Phòng số 8").key])) == 400
    today = date(2024, 3, 1)
    window = store.upcoming(None, today, 6)
    expected = sum(1 for i in range(10_000)
                   if today <= start + timedelta(days=i % 365) <= today + timedelta(days=6))
    assert len(window) == expected
    assert all(a.due <= b.due for a, b in itertools.pairwise(window))
    assert len(store.overdue([first], today)) == sum(
        1 for i in range(7, 10_000, 50) if start + timedelta(days=i % 365) < today)


def test_fingerprint_ignores_accents_case_and_lead_order() -> None:
    assert fingerprint("Tổ chức  tiêm chủng", ["b", "a"]) == fingerprint("TO CHUC TIEM CHUNG",
                                                                          ["a", "b"])
    assert fingerprint("Tiêm chủng", ["a"]) != fingerprint("Tiêm chủng", ["b"])


@pytest.mark.parametrize("text", [
    "Ủy ban nhân dân THÀNH PHỐ Cẩm Phả", "Đảng ủy – Hội đồng", "ĐOÀN Thanh niên ỨNG DỤNG",
    "Tổ chức  tiêm\tchủng", "Cu\u0309a ho\u0300a",
])
def test_search_fold_matches_fold(text: str) -> None:
    from bot.store import search_fold
    from bot.text import fold, nfc

    assert search_fold(nfc(text)) == fold(text)


def test_search_fold_matches_fold_on_sample_plans() -> None:
    from bot.store import search_fold
    from bot.text import fold, nfc

    lines = [line for path in sorted(Path(__file__).parents[1].glob("data/samples/*.txt"))
             for line in path.read_text("utf-8").splitlines()]
    if not lines:
        pytest.skip("no sample plans")
    assert [search_fold(nfc(line)) for line in lines] == [fold(line) for line in lines]
