"""Read-only opening (``python -m bot lich`` and every read-only tool): it reads the data of
a running bot without writing, truncating, compacting or migrating anything."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.errors import ConfigError
from bot.models import DocumentInfo, ParsedPlan, Period, Task
from bot.repository import ReadOnlyError
from bot.store import AtomicJSONStorage, Store

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
T0 = datetime(2024, 3, 1, 9, 0, tzinfo=TZ)
Q1 = Period("Quý I năm 2024", date(2024, 1, 1), date(2024, 3, 31))


class Journaled(AtomicJSONStorage):
    """Journals from the first byte (as a big file does)."""

    journal_from = 0
    journal_min = 1 << 20


def plan(n: int = 5) -> ParsedPlan:
    info = DocumentInfo(kind="ke_hoach", number="12/KH-UBND", issuer="UBND Cẩm Phả",
                        issued=date(2024, 1, 5), title="Kế hoạch quý I", period=Q1,
                        locality="Cẩm Phả")
    tasks = tuple(Task(line=i, end_line=i, section="", text=f"Nhiệm vụ số {i}",
                       lead=("Phòng Y tế",), support=(), deadlines=(),
                       due=date(2024, 3, i), due_kind="explicit") for i in range(1, n + 1))
    return ParsedPlan(document=info, tasks=tasks)


def digest(*paths: Path) -> list[str | None]:
    return [hashlib.sha256(p.read_bytes()).hexdigest() if p.exists() else None for p in paths]


def _writer(path: str, ready: multiprocessing.synchronize.Event,
            done: multiprocessing.synchronize.Event) -> None:
    """A running bot: holds the lock, has written its journal, waits."""
    with Store(path, storage=Journaled) as store:
        store.mark_done("1", actor=1, now=T0)
        ready.set()
        done.wait(60)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "bot.json"


def test_read_only_open_leaves_a_torn_journal_of_a_running_writer_alone(path: Path) -> None:
    with Store(path, storage=Journaled) as store:
        store.import_plan(plan(), filename="kh.docx", file_hash="h", actor=1, now=T0)
    ctx = multiprocessing.get_context("fork")
    ready, done = ctx.Event(), ctx.Event()
    writer = ctx.Process(target=_writer, args=(str(path), ready, done))
    writer.start()
    try:
        assert ready.wait(30)
        journal = path.with_name(path.name + ".journal")
        with journal.open("ab") as handle:  # the writer is inside an append right now
            handle.write(b'{"put":{"tasks":{"2":{"doc":1,')
        files = [path, journal, path.with_name(path.name + ".lock")]
        before = digest(*files)
        names = sorted(os.listdir(path.parent))
        with Store(path, read_only=True) as reader:
            assert reader.read_only
            assert reader.task(1).status == "done"  # the whole journal lines are read
            assert reader.task(2).is_open  # the torn one is not
            with pytest.raises(ReadOnlyError):
                reader.mark_done("3", actor=1, now=T0)
            with pytest.raises(ReadOnlyError):
                reader.record_delivery("k", chat_id=1, status="sent", now=T0)
            assert reader.task(3).is_open
        assert digest(*files) == before  # not one byte changed, nothing truncated
        assert sorted(os.listdir(path.parent)) == names  # no .tmp, nothing renamed
        with pytest.raises(ConfigError, match="đang được một tiến trình bot khác"):
            Store(path)  # the writer still holds its lock
    finally:
        done.set()
        writer.join(30)
    assert writer.exitcode == 0


def test_read_only_open_of_an_old_file_migrates_in_memory_only(path: Path) -> None:
    path.parent.mkdir(parents=True)
    old = ('{"documents":{},"tasks":{"1":{"doc":1,"line":1,"text":"Việc cũ","done":true,'
           '"lead":["- |phong y te"]}}}')
    path.write_text(old, "utf-8")
    with Store(path, read_only=True) as reader:
        assert reader.task(1).status == "done"
        with pytest.raises(ReadOnlyError):
            reader.compact()
    assert path.read_text("utf-8") == old
    assert sorted(os.listdir(path.parent)) == ["bot.json"]  # not even a lock file


def test_read_only_open_of_a_missing_file_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "none" / "bot.json"
    with Store(path, read_only=True) as reader:
        assert reader.task_count == 0 and reader.units() == []
    assert not path.parent.exists()


def test_writes_after_read_only_reader_see_its_view_unchanged(path: Path) -> None:
    """A reader's answers are lists, not views: the writer's later changes do not leak in."""
    with Store(path) as store:
        store.import_plan(plan(), filename="kh.docx", file_hash="h", actor=1, now=T0)
        with Store(path, read_only=True, lock=False) as reader:
            seen = reader.open_tasks()
        store.mark_done("1", actor=1, now=T0 + timedelta(hours=1))
        assert [t.code for t in seen] == ["1", "2", "3", "4", "5"]
        assert seen[0].is_open
