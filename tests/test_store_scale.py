"""Storage at scale: the journal, the one-row-per-line file, migration from version 1, lazy
boards and shared task fields. Crash safety is shown by failing each step of a write (and by
killing a writer) and reopening."""

from __future__ import annotations

import json
import multiprocessing
import os
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import bot.tinystore as store_module
from bot.board import build_board
from bot.errors import ConfigError
from bot.models import Deadline, DocumentInfo, ParsedPlan, Period, Recurrence, Task
from bot.store import SCHEMA_VERSION, AtomicJSONStorage, StorageError, Store

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
T0 = datetime(2024, 3, 1, 9, 0, tzinfo=TZ)
Q1 = Period("Quý I năm 2024", date(2024, 1, 1), date(2024, 3, 31))

V1_FILE = (
    '{"meta":{"1":{"schema_version":1,"seq":{"documents":1,"tasks":3,"units":1,"subsc'
    'riptions":1,"events":7,"deliveries":1,"reminders":1,"announcements":1,"scheduled'
    '":1}}},"documents":{"1":{"kind":"ke_hoach","number":"12/KH-UBND","issuer":"UBND '
    'thành phố Cẩm Phả","issued":"2024-01-05","title":"Kế hoạch quý I","period":{"lab'
    'el":"Quý I năm 2024","start":"2024-01-01","end":"2024-03-31"},"locality":"Cẩm Ph'
    'ả","filename":"kh12.docx","file_hash":"h1","imported_at":"2024-03-01T09:00:00+07'
    ':00","imported_by":111,"task_ids":[1,2,3],"version":1}},"tasks":{"1":{"doc":1,"l'
    'ine":10,"text":"Tổ chức tiêm chủng mở rộng","status":"done","end_line":11,"secti'
    'on":"I.10","lead":["cam pha|phong y te"],"support":["cam pha|uy ban nhan dan cac'
    ' phuong xa"],"deadlines":[["trước ngày 10/03/2024","2024-03-10",10]],"due":"2024'
    '-03-10","due_kind":"explicit","done_at":"2024-03-01T09:00:00+07:00","done_by":5,'
    '"note":"Đã tiêm 98%","fp":"e503d11b34b48b22"},"2":{"doc":1,"line":20,"text":"Rà '
    'soát hộ nghèo","end_line":21,"section":"I.20","lead":["cam pha|phong lao dong th'
    'uong binh xa hoi"],"deadlines":[["trước ngày 20/02/2024","2024-02-20",20]],"due"'
    ':"2024-04-01","due_kind":"extended","original_due":"2024-02-20","fp":"b7748f4d79'
    '62cd1d"},"3":{"doc":1,"line":30,"text":"Báo cáo định kỳ","end_line":31,"section"'
    ':"I.30","lead":["cam pha|phong tai chinh ke hoach","cam pha|phong y te"],"recurr'
    'ence":{"freq":"quarterly","phrase":"định kỳ hằng quý","day":15,"month_of_period"'
    ':"last"},"fp":"3e9f1e739ba81c2c"}},"units":{"1":{"loc":"cam pha","locality":"Cẩm'
    ' Phả","directory":{"version":1,"units":[{"key":"phong y te","forms":[["Phòng Y t'
    'ế",2]]},{"key":"uy ban nhan dan cac phuong xa","forms":[["UBND các phường, xã",1'
    ']]},{"key":"phong lao dong thuong binh xa hoi","forms":[["Phòng LĐ-TB&XH",1]]},{'
    '"key":"phong tai chinh ke hoach","forms":[["Phòng TC-KH",1]]}]}}},"chats":{"-100'
    '":{"title":"Tổ Y tế","type":"group","active":true}},"subscriptions":{"1":{"chat"'
    ':-100,"unit":"cam pha|phong y te","since":"2024-03-01T09:00:00+07:00","by":1}},"'
    'events":{"1":{"at":"2024-03-01T09:00:00+07:00","actor":111,"kind":"import","task'
    '":null,"doc":1,"data":{"status":"new","filename":"kh12.docx","number":"12/KH-UBN'
    'D","version":1,"tasks":3,"kept_done":0,"removed":0}},"2":{"at":"2024-03-01T09:00'
    ':00+07:00","actor":5,"kind":"done","task":1,"doc":1,"data":{"due":"2024-03-10","'
    'days_late":0,"note":"Đã tiêm 98%"}},"3":{"at":"2024-03-01T09:00:00+07:00","actor'
    '":111,"kind":"extend","task":2,"doc":1,"data":{"old_due":"2024-02-20","old_due_k'
    'ind":"explicit","new_due":"2024-04-01","reason":"Chờ số liệu"}},"4":{"at":"2024-'
    '03-01T09:00:00+07:00","actor":1,"kind":"subscribe","task":null,"doc":null,"data"'
    ':{"chat_id":-100,"unit":"cam pha|phong y te"}},"5":{"at":"2024-03-01T09:00:00+07'
    ':00","actor":1,"kind":"reminder","task":3,"doc":1,"data":{"chat_id":-100,"at":"2'
    '024-03-01T14:00:00+07:00"}},"6":{"at":"2024-03-01T09:00:00+07:00","actor":111,"k'
    'ind":"snooze","task":3,"doc":1,"data":{"until":"2024-03-08"}},"7":{"at":"2024-03'
    '-01T09:00:00+07:00","actor":111,"kind":"schedule_announcement","task":null,"doc"'
    ':null,"data":{"announcement_id":1,"at":"2024-03-03T09:00:00+07:00","units":["cam'
    ' pha|phong y te"]}}},"deliveries":{"1":{"key":"k1","chat":-100,"status":"sent","'
    'at":"2024-03-01T09:00:00+07:00","detail":null}},"reminders":{"1":{"task":3,"chat'
    '":-100,"at":"2024-03-01T14:00:00+07:00","actor":1,"created_at":"2024-03-01T09:00'
    ':00+07:00","sent_at":null}},"announcements":{"1":{"at":"2024-03-01T09:00:00+07:0'
    '0","actor":1,"text":"Họp giao ban","chats":[-100],"units":[],"failed":[]}},"snoo'
    'zes":{"3":{"until":"2024-03-08","by":111,"at":"2024-03-01T09:00:00+07:00"}},"dig'
    'est_runs":{"0":{"day":"2024-03-01","at":"2024-03-01T09:00:00+07:00"},"-100":{"da'
    'y":"2024-03-01","at":"2024-03-01T09:00:00+07:00"}},"scheduled":{"1":{"text":"Nhắ'
    'c nộp báo cáo","units":["cam pha|phong y te"],"at":"2024-03-03T09:00:00+07:00","'
    'actor":111,"created_at":"2024-03-01T09:00:00+07:00","sent_at":null,"cancelled_at'
    '":null}}}'
)
"""A database written by the previous version of bot/store.py (schema 1, one line)."""


class Journaled(AtomicJSONStorage):
    """Journals from the first byte; the whole file is rewritten only past 1 MB of journal."""

    journal_from = 0
    journal_min = 1 << 20

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.calls = 0

    def write(self, data) -> None:
        self.calls += 1
        super().write(data)


class TinyJournal(Journaled):
    """Rewrites the whole file once the journal passes 3 KB."""

    journal_min = 3000


def task(line: int, text: str, lead=("Phòng Y tế",), support=(), due: date | None = None,
         rec: Recurrence | None = None) -> Task:
    deadlines = (Deadline(f"trước ngày {due:%d/%m/%Y}", due, line),) if due else ()
    return Task(line=line, end_line=line, section=f"I.{line}", text=text, lead=tuple(lead),
                support=tuple(support), deadlines=deadlines, due=due,
                due_kind="explicit" if due else None, recurrence=rec)


def plan(tasks, number: str | None = "12/KH-UBND", locality: str | None = "Cẩm Phả"
         ) -> ParsedPlan:
    info = DocumentInfo(kind="ke_hoach", number=number, issuer=f"UBND {locality}",
                        issued=date(2024, 1, 5), title="Kế hoạch quý I", period=Q1,
                        locality=locality)
    return ParsedPlan(document=info, tasks=tuple(tasks))


def base() -> list[Task]:
    return [
        task(10, "Tổ chức tiêm chủng mở rộng", support=["UBND các phường, xã"],
             due=date(2024, 3, 10)),
        task(20, "Rà soát hộ nghèo", lead=["Phòng LĐ-TB&XH"], due=date(2024, 2, 20)),
        task(30, "Báo cáo thu ngân sách", lead=["Phòng TC-KH", "Phòng Y tế"],
             due=date(2024, 3, 31)),
        task(40, "Kiểm tra an toàn thực phẩm"),
        task(50, "Cập nhật dữ liệu dân cư", lead=["Công an thành phố"], due=date(2024, 3, 4)),
    ]


def snapshot(store: Store) -> dict:
    """Everything a reopened store must give back."""
    ids = sorted({t.id for u in store.units() for t in store.tasks_for_units(u.key)})
    return {
        "tasks": [store.task(i) for i in ids],
        "open": store.open_tasks(),
        "docs": store.documents(),
        "units": store.units(),
        "chats": store.chats(),
        "events": [e.to_row() for e in store.recent_events(1000)],
        "history": {i: [e.to_row() for e in store.history(i)] for i in ids},
        "reminders": store.due_reminders(T0 + timedelta(days=400)),
        "deliveries": {k: store.delivery(k) for k in ("k1", "k2")},
        "announcements": store.announcements(),
        "snoozes": store.snoozes(),
        "digest": (store.digest_days(), store.last_digest_run()),
        "scheduled": store.scheduled_announcements(pending_only=False),
    }


def busy(store: Store) -> None:
    """One of every kind of change."""
    store.import_plan(plan(base()), filename="kh12.docx", file_hash="h1", actor=1, now=T0)
    store.import_plan(plan([task(1, "Việc ở Uông Bí", rec=Recurrence(
        "quarterly", "định kỳ hằng quý", 15, "last"))], number="3/KH", locality="Uông Bí"),
        filename="ub.pdf", file_hash="h2", actor=1, now=T0)
    health = store.match_unit("Phòng Y tế", "Cẩm Phả").key
    store.mark_done("1", actor=5, now=T0, note="Xong")
    store.extend("2", date(2024, 4, 1), actor=1, now=T0)
    store.subscribe(-100, health, title="Tổ Y tế", chat_type="group", actor=1, now=T0)
    store.add_reminder("3", -100, T0 + timedelta(hours=5), 1, T0)
    store.record_delivery("k1", chat_id=-100, status="sent", now=T0)
    store.log_announcement("Thông báo", actor=1, now=T0, chat_ids=[-100])
    store.snooze("4", date(2024, 3, 8), actor=1, now=T0)
    store.record_digest_run(date(2024, 3, 1), [-100], now=T0)
    store.schedule_announcement("Họp", [health], T0 + timedelta(days=1), actor=1, now=T0)
    store.import_plan(plan(base()[:3]), filename="kh12-v2.docx", file_hash="h3", actor=1,
                      now=T0)  # replaces: task 4 and 5 go, task 1 stays done
    store.migrate_chat(-100, -1009, T0)


def toggle(store: Store) -> None:
    """One small write: task 1 done <-> open."""
    if store.task(1).is_open:
        store.mark_done(1, actor=1, now=T0)
    else:
        store.reopen(1, actor=1, now=T0)


def journal(path: Path) -> Path:
    return path.with_name(path.name + ".journal")


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "bot.json"


# ----------------------------------------------------------------------------- journal
def test_journal_replays_every_kind_of_change(path: Path) -> None:
    with Store(path, storage=Journaled) as store:
        size = path.stat().st_size
        calls = store.db.storage.calls
        busy(store)
        expected = snapshot(store)
        assert path.stat().st_size == size  # the file itself was not rewritten
        lines = journal(path).read_bytes().splitlines()
        assert len(lines) == 1 + store.db.storage.calls - calls  # header + one line a write
    with Store(path, storage=Journaled) as again:
        assert snapshot(again) == expected
        again.reopen("1", actor=1, now=T0)  # and it keeps appending after a reopen
        expected = snapshot(again)
    with Store(path) as plain:
        assert snapshot(plain) == expected


def test_compact_folds_the_journal_into_the_file(path: Path) -> None:
    with Store(path, storage=Journaled) as store:
        busy(store)
        assert journal(path).exists()
        store.compact()
        assert not journal(path).exists()
        assert json.loads(path.read_bytes())["tasks"]["1"]["note"] == "Xong"
        toggle(store)  # journaling goes on afterwards
        assert journal(path).exists()
        toggle(store)
        expected = snapshot(store)
    with Store(path, storage=Journaled) as again:
        assert snapshot(again) == expected


def test_small_files_are_rewritten_whole_without_a_journal(path: Path) -> None:
    with Store(path) as store:
        busy(store)
        expected = snapshot(store)
    assert not journal(path).exists()
    data = json.loads(path.read_text("utf-8"))  # still one plain JSON document
    assert data["meta"]["1"]["schema_version"] == SCHEMA_VERSION
    assert data["tasks"]["1"]["status"] == "done"
    with Store(path) as again:
        assert snapshot(again) == expected


def test_torn_last_line_is_ignored_and_cut(path: Path) -> None:
    with Store(path, storage=Journaled) as store:
        busy(store)
        expected = snapshot(store)
    whole = journal(path).read_bytes()
    journal(path).write_bytes(whole + b'{"put":{"tasks":{"1":{"doc":1,')  # crash mid-append
    with Store(path, storage=Journaled) as again:
        assert snapshot(again) == expected
        assert journal(path).read_bytes() == whole
        again.reopen("1", actor=1, now=T0)
        expected = snapshot(again)
    with Store(path) as third:
        assert snapshot(third) == expected and third.task(1).is_open


def test_damaged_middle_line_is_a_clear_error(path: Path) -> None:
    with Store(path, storage=Journaled) as store:
        busy(store)
    lines = journal(path).read_bytes().split(b"\n")
    lines[2] = lines[2][:10]
    journal(path).write_bytes(b"\n".join(lines))
    with pytest.raises(ConfigError, match="bị hỏng ở dòng 3"):
        Store(path, storage=Journaled)


@pytest.mark.parametrize("step", ["write", "fsync"])
def test_failed_append_changes_nothing(path: Path, monkeypatch: pytest.MonkeyPatch,
                                       step: str) -> None:
    with Store(path, storage=Journaled) as store:
        busy(store)
        expected = snapshot(store)
        before = journal(path).read_bytes()
        real_write = os.write

        def half_then_fail(fd, data):
            if step == "write":
                real_write(fd, bytes(data)[: len(data) // 2])
                raise OSError(28, "No space left on device")
            return real_write(fd, data)

        monkeypatch.setattr(os, "write", half_then_fail)
        if step == "fsync":
            monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(5, "I/O")))
        with pytest.raises(StorageError, match="chưa được lưu"):
            store.reopen("1", actor=1, now=T0)
        monkeypatch.undo()
        assert snapshot(store) == expected
        assert journal(path).read_bytes() == before  # cut back to the last whole line
        store.reopen("1", actor=1, now=T0)
        expected = snapshot(store)
    with Store(path, storage=Journaled) as again:
        assert snapshot(again) == expected


def _die_inside_append(path: str) -> None:
    store = Store(path, storage=Journaled)
    real_write = os.write

    def half_then_die(fd, data):
        real_write(fd, bytes(data)[: len(data) // 2])
        os._exit(7)

    os.write = half_then_die
    store.mark_done("2", actor=1, now=T0)
    os._exit(0)


def test_process_killed_inside_append_leaves_previous_state(path: Path) -> None:
    with Store(path, storage=Journaled) as store:
        busy(store)
        expected = snapshot(store)
    proc = multiprocessing.get_context("fork").Process(target=_die_inside_append,
                                                        args=(str(path),))
    proc.start()
    proc.join(30)
    assert proc.exitcode == 7
    with Store(path, storage=Journaled) as again:
        assert snapshot(again) == expected and again.task(2).is_open


def test_journal_is_compacted_into_the_file(path: Path) -> None:
    with Store(path, storage=TinyJournal) as store:
        busy(store)
        for _ in range(6):
            store.reopen("1", actor=1, now=T0)
            store.mark_done("1", actor=1, now=T0)
        assert journal(path).stat().st_size <= TinyJournal.journal_min
        expected = snapshot(store)
    data = json.loads(path.read_text("utf-8"))
    assert int(data["meta"]["1"]["seq"]["events"]) < len(expected["events"])  # rest: journal
    with Store(path, storage=TinyJournal) as again:
        assert snapshot(again) == expected


def test_crash_between_rewrite_and_journal_removal(path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    with Store(path, storage=TinyJournal) as store:
        busy(store)
        real_unlink = Path.unlink

        def keep_journal(self, *args, **kwargs):
            if self.name.endswith(".journal"):
                raise OSError(1, "simulated crash")
            return real_unlink(self, *args, **kwargs)

        monkeypatch.setattr(Path, "unlink", keep_journal)
        generation = store.db.storage._generation
        for _ in range(100):  # until the journal overflows and the file is rewritten
            toggle(store)
            if store.db.storage._generation != generation:
                break
        header = json.loads(journal(path).read_bytes().split(b"\n")[0])
        assert header["generation"] == generation  # left behind, of the previous generation
        monkeypatch.undo()
        expected = snapshot(store)
    with Store(path, storage=TinyJournal) as again:  # its changes are in the file already
        assert snapshot(again) == expected
        toggle(again)  # a new journal replaces the stale one
        expected = snapshot(again)
    with Store(path, storage=TinyJournal) as third:
        assert snapshot(third) == expected


@pytest.mark.parametrize("step", ["replace", "fsync"])
def test_failed_rewrite_keeps_file_and_journal(path: Path, monkeypatch: pytest.MonkeyPatch,
                                               step: str) -> None:
    with Store(path, storage=TinyJournal) as store:
        busy(store)
        while not journal(path).exists() or journal(path).stat().st_size < 2500:
            store.reopen("1", actor=1, now=T0)
            store.mark_done("1", actor=1, now=T0)
        files = path.read_bytes(), journal(path).read_bytes()
        expected = snapshot(store)
        failure = OSError(5, "I/O")
        monkeypatch.setattr(os, step, lambda *a: (_ for _ in ()).throw(failure))
        with pytest.raises(StorageError):
            for _ in range(20):  # the write that overflows the journal rewrites the file
                store.reopen("1", actor=1, now=T0)
                expected = snapshot(store)
                store.mark_done("1", actor=1, now=T0)
                expected = snapshot(store)
        monkeypatch.undo()
        assert snapshot(store) == expected
        assert not store.db.storage.tmp_path.exists()
    with Store(path, storage=TinyJournal) as again:
        assert snapshot(again) == expected
    assert files[0] == path.read_bytes()  # the file was never replaced


def test_journal_of_another_generation_is_ignored(path: Path) -> None:
    with Store(path, storage=Journaled) as store:
        store.import_plan(plan(base()), filename="a", file_hash="h", actor=1, now=T0)
    backup = path.read_bytes()
    with Store(path, storage=Journaled) as store:
        store.mark_done("1", actor=1, now=T0)
    stale = journal(path).read_bytes()
    with Store(path) as store:  # a small file: a write rewrites it, with a new generation
        store.mark_done("2", actor=1, now=T0)
    assert not journal(path).exists()
    journal(path).write_bytes(stale)  # e.g. restored from a backup of another day
    with Store(path, storage=Journaled) as again:
        assert again.task(1).status == "done" and again.task(2).status == "done"
    path.write_bytes(backup)  # the backup of the journal's generation: replayed
    journal(path).write_bytes(stale)
    with Store(path, storage=Journaled) as again:
        assert again.task(1).status == "done" and again.task(2).is_open


# ----------------------------------------------------------------------------- file layout
def test_file_is_one_row_per_line_and_read_in_chunks(path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    tasks = [task(i, f"Nhiệm vụ số {i} về «an toàn» \u2028 giao thông", due=date(2024, 3, 1)
                  + timedelta(days=i % 40)) for i in range(1, 301)]
    with Store(path) as store:
        store.import_plan(plan(tasks), filename="big", file_hash="big", actor=1, now=T0)
        expected = snapshot(store)
    lines = path.read_bytes().split(b"\n")
    assert lines[0] == b"{" and lines[1] == b'"meta":{' and lines[-2:] == [b"}", b""]
    assert sum(line.startswith(b'"') and b'"text":"Nhi' in line for line in lines) == 300
    monkeypatch.setattr(store_module, "_CHUNK_BYTES", 2000)
    with Store(path) as again:
        assert snapshot(again) == expected


@pytest.mark.parametrize("cut", [b"}\n}\n", b"\n}\n}\n"])
def test_truncated_layout_is_a_clear_error(path: Path, cut: bytes) -> None:
    with Store(path) as store:
        store.import_plan(plan(base()), filename="a", file_hash="h", actor=1, now=T0)
    raw = path.read_bytes()
    assert raw.endswith(cut)
    path.write_bytes(raw[: -len(cut)])
    with pytest.raises(ConfigError, match="bị hỏng"):
        Store(path)


def test_file_of_previous_version_opens_and_is_upgraded(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_text(V1_FILE, "utf-8")
    with Store(path) as store:
        health = store.match_unit("Phòng Y tế").key
        done = store.task(1)
        assert (done.status, done.note, done.done_by) == ("done", "Đã tiêm 98%", 5)
        assert store.task(2).due == date(2024, 4, 1) and store.task(2).due_kind == "extended"
        assert store.task(3).recurrence == Recurrence("quarterly", "định kỳ hằng quý", 15,
                                                      "last")
        assert store.chat_units(-100) == (health,)
        assert [r.task_id for r in store.due_reminders(T0 + timedelta(days=1))] == [3]
        assert store.delivery_status("k1") == "sent"
        assert [a.text for a in store.announcements()] == ["Họp giao ban"]
        assert store.snoozes() == {3: date(2024, 3, 8)}
        assert store.digest_days() == {-100: date(2024, 3, 1)}
        assert [a.text for a in store.scheduled_announcements()] == ["Nhắc nộp báo cáo"]
        assert [e.kind for e in store.history(2)] == ["extend"]
        expected = snapshot(store)
        result = store.import_plan(plan([task(1, "Việc mới")], number="99/KH"), filename="n",
                                   file_hash="n", actor=1, now=T0)  # ids continue
        assert result.document.id == 2 and result.document.task_ids == (4,)
        assert store.schedule_announcement("x", [], T0 + timedelta(days=3), actor=1,
                                           now=T0) == 2
    raw = path.read_bytes()
    assert raw.startswith(b"{\n")
    assert json.loads(raw)["meta"]["1"]["schema_version"] == SCHEMA_VERSION
    with Store(path) as again:
        assert {k: v for k, v in snapshot(again).items() if k in ("chats", "reminders")} == {
            k: expected[k] for k in ("chats", "reminders")}
        assert again.task(1) == expected["tasks"][0]


def test_failed_upgrade_leaves_the_old_file(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path.parent.mkdir(parents=True)
    path.write_text(V1_FILE, "utf-8")
    monkeypatch.setattr(os, "replace", lambda a, b: (_ for _ in ()).throw(OSError(5, "I/O")))
    with pytest.raises(StorageError):
        Store(path)
    monkeypatch.undo()
    assert path.read_text("utf-8") == V1_FILE
    with Store(path) as store:
        assert store.task(1).status == "done"


def test_old_bot_would_refuse_the_new_file(path: Path) -> None:
    """Schema 2 marks files that may have a journal: version 1 code stops at the version."""
    with Store(path) as store:
        store.import_plan(plan(base()), filename="a", file_hash="h", actor=1, now=T0)
    assert json.loads(path.read_bytes())["meta"]["1"]["schema_version"] > 1


# ----------------------------------------------------------------------------- memory
def test_equal_fields_are_shared_after_load(path: Path) -> None:
    with Store(path) as store:
        for n in range(3):
            store.import_plan(plan(base(), number=f"{n}/KH", locality=f"Xã {n}"),
                              filename="a", file_hash=str(n), actor=1, now=T0)
    with Store(path) as again:
        same = [t for t in again.open_tasks() if t.text == "Rà soát hộ nghèo"]
        assert len(same) == 3
        assert same[0].text is same[1].text is same[2].text
        assert same[0].deadlines is same[1].deadlines
        assert same[0].lead != same[1].lead  # units differ by locality


def test_units_without_building_directories_match_built_ones(path: Path) -> None:
    with Store(path) as store:
        busy(store)
        store.import_plan(plan([task(1, "Việc", lead=["Phòng TC-KH", "Phòng Tài chính - Kế "
                                                       "hoạch"])], number="7/KH"),
                          filename="b", file_hash="b", actor=1, now=T0)
        built = store.units()
    with Store(path) as again:
        assert again._dirs == {}  # nothing built yet
        assert again.units() == built
        assert again.match_unit("phong y te (Uông Bí)").locality == "Uông Bí"
        assert again.match_unit("cong an thanh pho").name == "Công an thành phố"


def test_units_list_is_cached_and_refreshed(path: Path) -> None:
    with Store(path) as store:
        store.import_plan(plan(base()), filename="a", file_hash="a", actor=1, now=T0)
        first = store.units()
        first.clear()  # callers get a copy
        assert len(store.units()) == 5
        store.import_plan(plan([task(1, "Việc", lead=["Phòng Nội vụ"])], number="8/KH"),
                          filename="b", file_hash="b", actor=1, now=T0)
        assert "Phòng Nội vụ" in [u.name for u in store.units()]


# ----------------------------------------------------------------------------- lazy boards
@pytest.fixture
def spread(path: Path):
    tasks = [task(i, f"Việc {i}", lead=[f"Phòng {i % 4}"], support=[f"Phòng {(i + 1) % 4}"],
                  due=None if i % 7 == 0 else date(2024, 2, 1) + timedelta(days=i % 60))
             for i in range(1, 241)]
    store = Store(path)
    store.import_plan(plan(tasks), filename="s", file_hash="s", actor=1, now=T0)
    for code in range(1, 241, 5):
        store.mark_done(code, actor=1, now=T0)
    yield store
    store.close()


def _keys(store: Store, *names: str) -> tuple[str, ...]:
    return tuple(store.match_unit(n, "Cẩm Phả").key for n in names)


@pytest.mark.parametrize("names", [None, (), ("Phòng 1",), ("Phòng 1", "Phòng 2"),
                                   ("Phòng 0", "Phòng 1", "Phòng 3")])
@pytest.mark.parametrize("support", [True, False])
def test_lazy_board_equals_the_full_list(spread: Store, names, support: bool) -> None:
    today = date(2024, 3, 1)
    keys = None if names is None else _keys(spread, *names)
    board = build_board(spread, keys, today, include_support=support)
    wanted = None if keys is None else set(keys)
    every = [t for t in spread.tasks_for_units([u.key for u in spread.units()])
             if wanted is None or wanted & set(t.lead if not support else t.units)]
    opened = sorted((t for t in every if t.is_open),
                    key=lambda t: (t.due or date.max, t.id))
    assert list(board.tasks) == opened and len(board) == len(opened)
    assert board.overdue_count == sum(t.due is not None and t.due < today for t in opened)
    assert board.soon_count == sum(t.due is not None and today <= t.due <= today
                                   + timedelta(days=7) for t in opened)
    assert board.done_count == len(every) - len(opened)
    assert [e.task for e in board.page(2)] == opened[10:20]
    if keys is None or support:
        query = keys if keys is None else list(keys)
        assert spread.count_open(query) == len(opened)
        assert spread.open_slice(query, 3, 9) == opened[3:9]
        window = [t for t in opened if t.due and date(2024, 3, 1) <= t.due <= date(2024, 3, 9)]
        assert spread.count_open(query, date(2024, 3, 1), date(2024, 3, 9)) == len(window)


def test_lazy_board_is_rebuilt_after_a_change(spread: Store) -> None:
    today = date(2024, 3, 1)
    before = build_board(spread, None, today)
    first = before.tasks[0]
    spread.mark_done(first.id, actor=1, now=T0)
    after = build_board(spread, None, today)
    assert len(after) == len(before) - 1 and first not in list(after.tasks)
    assert after.done_count == before.done_count + 1


def test_schema_2_file_moves_far_task_ids_into_their_tables(path: Path) -> None:
    """Version 3 spreads tasks over tables of 4,096 ids (a TinyDB write rebuilds one table):
    a version 2 file with one big "tasks" table is moved over once, in one whole write."""
    with Store(path) as store:
        store.import_plan(plan(base()), filename="a", file_hash="h", actor=1, now=T0)
        expected = snapshot(store)
    data = json.loads(path.read_bytes())
    data["meta"]["1"]["schema_version"] = 2
    data["tasks"]["5000"] = dict(data["tasks"]["1"], text="Việc số 5000")
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    with Store(path) as store:
        assert store.task(5000).text == "Việc số 5000"
        assert store.task(1) == expected["tasks"][0] and len(store.open_tasks()) == 6
        skip = ("tasks", "open", "history")
        assert {k: v for k, v in snapshot(store).items() if k not in skip} == {
            k: v for k, v in expected.items() if k not in skip}
    raw = json.loads(path.read_bytes())
    assert raw["meta"]["1"]["schema_version"] == SCHEMA_VERSION == 3
    assert "5000" in raw["tasks.1"] and "5000" not in raw["tasks"] and "1" in raw["tasks"]
