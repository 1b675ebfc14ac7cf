"""Store additions for scheduling: snoozes, digest runs, scheduled announcements."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.errors import ConfigError, UsageError
from bot.models import DocumentInfo, ParsedPlan, Period, Task
from bot.store import AtomicJSONStorage, StorageError, Store

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2024, 3, 1, 9, 0, tzinfo=TZ)
ADMIN = 111


class CountingStorage(AtomicJSONStorage):
    """Counts write attempts and can be told to fail the next one."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.calls = 0
        self.fail = False

    def write(self, data) -> None:
        self.calls += 1
        if self.fail:
            self.fail = False
            raise StorageError("simulated disk full")
        super().write(data)


def plan() -> ParsedPlan:
    tasks = (
        Task(line=1, end_line=1, section="1", text="Tổ chức tiêm chủng", lead=("Phòng Y tế",),
             due=date(2024, 3, 10), due_kind="explicit"),
        Task(line=2, end_line=2, section="2", text="Rà soát hộ nghèo",
             lead=("Phòng LĐ-TB&XH",), due=date(2024, 3, 20), due_kind="explicit"),
    )
    info = DocumentInfo(kind="ke_hoach", number="12/KH-UBND", issuer="UBND thành phố Cẩm Phả",
                        period=Period("Quý I", date(2024, 1, 1), date(2024, 3, 31)),
                        locality="Cẩm Phả")
    return ParsedPlan(document=info, tasks=tasks)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "bot.json"


@pytest.fixture
def store(path: Path):
    s = Store(path, storage=CountingStorage)
    s.import_plan(plan(), filename="kh.txt", file_hash="h1", actor=ADMIN, now=NOW)
    yield s
    s.close()


def reopen(store: Store, path: Path) -> Store:
    store.close()
    return Store(path)


def unit(store: Store, name: str) -> str:
    return store.match_unit(name, "Cẩm Phả").key


# ----------------------------------------------------------------------------- snoozes
def test_snooze_persists_logs_an_event_and_survives_restart(store: Store, path: Path) -> None:
    before = store.db.storage.calls
    store.snooze("1", date(2024, 3, 8), actor=ADMIN, now=NOW)
    assert store.db.storage.calls == before + 1  # one write for row + event
    assert store.snoozes() == {1: date(2024, 3, 8)}
    assert [e.kind for e in store.history(1)][-1] == "snooze"
    assert store.history(1)[-1].data["until"] == "2024-03-08"
    again = reopen(store, path)
    try:
        assert again.snoozes() == {1: date(2024, 3, 8)}
        assert again.unsnooze(1, actor=ADMIN, now=NOW) is True
        assert again.unsnooze(1, actor=ADMIN, now=NOW) is False
        assert again.snoozes() == {}
    finally:
        again.close()


@pytest.mark.parametrize(("until", "fragment"), [
    (date(2024, 3, 1), "phải sau hôm nay"),
    (date(2024, 2, 1), "phải sau hôm nay"),
    (date(2025, 6, 1), "tối đa"),
])
def test_snooze_refuses_bad_dates(store: Store, until: date, fragment: str) -> None:
    with pytest.raises(UsageError, match=fragment):
        store.snooze(1, until, actor=ADMIN, now=NOW)
    assert store.snoozes() == {}


def test_snooze_of_done_or_unknown_task_is_refused_in_vietnamese(store: Store) -> None:
    store.mark_done(1, actor=ADMIN, now=NOW)
    with pytest.raises(UsageError, match="đã hoàn thành"):
        store.snooze(1, date(2024, 3, 5), actor=ADMIN, now=NOW)
    with pytest.raises(UsageError, match="Không có nhiệm vụ mã 99"):
        store.snooze(99, date(2024, 3, 5), actor=ADMIN, now=NOW)


def test_snooze_of_removed_task_disappears(store: Store) -> None:
    store.snooze(1, date(2024, 3, 8), actor=ADMIN, now=NOW)
    doc = store.documents()[0]
    store.undo_import(doc.id, ADMIN, NOW)
    assert store.snoozes() == {}


def test_failed_write_changes_nothing(store: Store) -> None:
    store.db.storage.fail = True
    with pytest.raises(StorageError):
        store.snooze(1, date(2024, 3, 8), actor=ADMIN, now=NOW)
    assert store.snoozes() == {}
    store.db.storage.fail = True
    with pytest.raises(StorageError):
        store.record_digest_run(date(2024, 3, 1), [5], now=NOW)
    assert store.last_digest_run() is None and store.digest_days() == {}


# ----------------------------------------------------------------------------- digest runs
def test_digest_runs_keep_the_latest_day_per_chat(store: Store, path: Path) -> None:
    assert store.last_digest_run() is None
    store.record_digest_run(date(2024, 3, 1), [5, -100], now=NOW)
    store.record_digest_run(date(2024, 3, 4), [5], now=NOW + timedelta(days=3))
    calls = store.db.storage.calls
    store.record_digest_run(date(2024, 3, 2), [5], now=NOW)  # older: nothing changes
    assert store.db.storage.calls == calls
    store.record_digest_run(date(2024, 3, 2), [5, -100], now=NOW)  # only -100 moves on
    assert store.db.storage.calls == calls + 1
    assert store.digest_days() == {5: date(2024, 3, 4), -100: date(2024, 3, 2)}
    assert store.last_digest_run() == date(2024, 3, 4)
    again = reopen(store, path)
    try:
        assert again.digest_days() == {5: date(2024, 3, 4), -100: date(2024, 3, 2)}
        assert again.last_digest_run() == date(2024, 3, 4)
    finally:
        again.close()


def test_digest_run_without_chats_still_counts_as_a_run(store: Store) -> None:
    store.record_digest_run(date(2024, 3, 1), [], now=NOW)
    assert store.last_digest_run() == date(2024, 3, 1)
    assert store.digest_days() == {}


def test_undelivered_chats_stay_owed_from_their_first_missing_day(store: Store,
                                                                  path: Path) -> None:
    """Issue 12: owed reminders are kept per chat, also for a chat that never had a digest."""
    mon, tue, wed = date(2024, 3, 4), date(2024, 3, 5), date(2024, 3, 6)
    retry = NOW + timedelta(minutes=5)
    store.record_digest_run(mon, [5], now=NOW)
    store.record_digest_run(tue, [], now=NOW, undelivered={5: ("failed", 1, retry),
                                                          7: ("uncertain", 1, None)})
    owed = store.digest_owed()
    assert (owed[5].since, owed[5].day, owed[5].reason, owed[5].tries, owed[5].retry_at) == (
        tue, tue, "failed", 1, retry)
    assert (owed[7].since, owed[7].reason, owed[7].retry_at) == (tue, "uncertain", None)
    # Chat 7 never had a digest: it still owes Tuesday's reminders (missed since Monday).
    assert store.digest_missed_since() == {5: mon, 7: mon}
    store.record_digest_run(wed, [7], now=NOW, undelivered={5: ("undeliverable", 1, None)})
    again = reopen(store, path)
    try:
        owed = again.digest_owed()
        assert list(owed) == [5] and (owed[5].since, owed[5].day) == (tue, wed)  # first miss
        assert again.digest_missed_since() == {5: mon, 7: wed}
        assert again.digest_days() == {5: mon, 7: wed}
        again.record_digest_run(wed, [5], now=NOW)
        assert again.digest_owed() == {} and again.digest_missed_since() == {5: wed, 7: wed}
        again.owe_digests([8], wed, reason="missed", now=NOW)  # bot down: chat 8 had none
        writes = again.db.storage.writes
        again.owe_digests([8], date(2024, 3, 7), reason="missed", now=NOW)  # later: kept
        assert again.db.storage.writes == writes
        assert again.digest_owed()[8].since == wed
        assert again.digest_missed_since()[8] == tue
    finally:
        again.close()


# ----------------------------------------------------------------------------- announcements
def test_scheduled_announcement_lifecycle(store: Store, path: Path) -> None:
    key = unit(store, "Phòng Y tế")
    at = NOW + timedelta(hours=2)
    first = store.schedule_announcement("Họp giao ban lúc 14:00", [key], at, actor=ADMIN,
                                        now=NOW)
    second = store.schedule_announcement("Nộp báo cáo quý", [], NOW + timedelta(days=1),
                                         actor=ADMIN, now=NOW)
    assert second == first + 1
    assert [a.id for a in store.due_announcements(at - timedelta(minutes=1))] == []
    due = store.due_announcements(at)
    assert [a.id for a in due] == [first] and due[0].unit_keys == (key,)
    assert any(e.kind == "schedule_announcement" for e in store.recent_events())

    again = reopen(store, path)  # a restart loses nothing
    try:
        assert [a.id for a in again.due_announcements(NOW + timedelta(days=2))] == [first,
                                                                                    second]
        sent = again.mark_announcement_sent(first, at)
        assert sent.sent_at == at and not sent.pending
        assert again.mark_announcement_sent(first, at + timedelta(hours=1)).sent_at == at
        again.cancel_announcement(second, actor=ADMIN, now=at)
        assert again.due_announcements(NOW + timedelta(days=2)) == []
        with pytest.raises(UsageError, match="đã được gửi hoặc đã bị huỷ"):
            again.cancel_announcement(second, actor=ADMIN, now=at)
        third = again.schedule_announcement("Thêm", [], at + timedelta(days=1), actor=ADMIN,
                                            now=at)
        assert third == second + 1  # ids never reused
        assert len(again.scheduled_announcements(pending_only=False)) == 3
    finally:
        again.close()


@pytest.mark.parametrize(("text", "keys", "delta", "fragment"), [
    ("  ", (), timedelta(hours=1), "trống"),
    ("Họp", (), timedelta(0), "đã qua"),
    ("Họp", ("khong|co",), timedelta(hours=1), "Không có đơn vị"),
    ("x" * 3801, (), timedelta(hours=1), "tối đa 3800 ký tự"),
])
def test_schedule_announcement_refuses_bad_input(store: Store, text, keys, delta,
                                                 fragment) -> None:
    with pytest.raises(UsageError, match=fragment):
        store.schedule_announcement(text, keys, NOW + delta, actor=ADMIN, now=NOW)
    with pytest.raises(UsageError, match="Không có thông báo hẹn giờ mã 7"):
        store.mark_announcement_sent(7, NOW)


def test_broken_scheduling_row_is_a_clear_config_error(store: Store, path: Path) -> None:
    store.close()
    data = json.loads(path.read_text("utf-8"))
    data["snoozes"] = {"1": {"until": "not a date"}}
    path.write_text(json.dumps(data), "utf-8")
    broken = Store(path)
    try:
        with pytest.raises(ConfigError, match="bảng snoozes"):
            broken.snoozes()
    finally:
        broken.close()


def test_existing_tables_untouched_by_additions(store: Store, path: Path) -> None:
    store.snooze(2, date(2024, 3, 15), actor=ADMIN, now=NOW)
    store.mark_done(1, actor=ADMIN, now=NOW)  # an existing method after an addition
    again = reopen(store, path)
    try:
        assert again.task(1).status == "done"
        assert again.snoozes() == {2: date(2024, 3, 15)}
    finally:
        again.close()
