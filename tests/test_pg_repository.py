"""The PostgreSQL repository (bot/pgstore.py) against a real server (tests/pgcluster.py).

The data set is the five sample plans imported by the TinyDB Store plus memberships,
deliveries, reminders, snoozes, invitations, requests and done/extended tasks, moved into
PostgreSQL by ``chuyen-du-lieu``; the TinyDB Store then serves as the reference the answers
of the PostgreSQL repository are compared with (same order, same records).
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import psycopg.types.json
import pytest

from bot import pgschema
from bot.errors import ConfigError
from bot.pgmove import MoveError, move
from bot.pgstore import PgRepository
from bot.records import (
    Announcement,
    Chat,
    Delivery,
    Event,
    Invitation,
    JoinRequest,
    Membership,
    OwedDigest,
    Reminder,
    ScheduledAnnouncement,
    StoredDocument,
    StoredTask,
)
from bot.repository import (
    CLAIMED,
    DigestRun,
    ReadOnlyError,
    Repository,
    Snooze,
    UnitDirectoryRow,
    search_fold,
)
from bot.store import Store
from tests.conftest import _parsed_samples

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2022, 12, 20, 9, 0, tzinfo=TZ)
TODAY = NOW.date()


# ------------------------------------------------------------------------------------------
# Fixtures
# ------------------------------------------------------------------------------------------
def build_tinydb(path: Path) -> Store:
    """The samples plus every other kind of record, in a TinyDB Store (left open)."""
    store = Store(path)
    for name, digest, plan in _parsed_samples():
        store.import_plan(plan, filename=name, file_hash=digest, actor=1001, now=NOW)
    keys = [u.key for u in store.units() if store.count_tasks(u.key)]
    store.subscribe(-100, keys[0], title="Nhóm Tài chính", chat_type="supergroup", actor=1001,
                    now=NOW)
    store.subscribe(-100, keys[1], title="Nhóm Tài chính", chat_type="supergroup", actor=1001,
                    now=NOW)
    store.subscribe(2002, keys[1], title="Chị Hoà", chat_type="private", actor=1001, now=NOW)
    store.subscribe(3003, keys[2], title="Anh Đức", chat_type="private", actor=1001, now=NOW)
    store.set_chat_active(3003, False, "blocked", NOW)
    tasks = store.open_tasks()
    store.mark_done(tasks[0].id, actor=2002, now=NOW, note="xong sớm")
    store.mark_done(tasks[1].id, actor=2002, now=NOW + timedelta(days=400))
    store.extend(tasks[2].id, TODAY + timedelta(days=30), actor=1001, now=NOW, reason="chờ vốn")
    store.snooze(tasks[3].id, TODAY + timedelta(days=3), actor=2002, now=NOW)
    store.add_reminder(tasks[4].id, 2002, NOW + timedelta(hours=2), 2002, NOW)
    store.add_reminder(tasks[5].id, -100, NOW + timedelta(days=2), 2002, NOW)
    store.record_delivery("digest:2022-12-20:-100", chat_id=-100, status="sent", now=NOW)
    store.record_delivery("digest:2022-12-20:2002", chat_id=2002, status="failed", now=NOW,
                          detail="Timed out")
    store.record_digest_run(TODAY, [-100], now=NOW,
                            undelivered={2002: ("failed", 1, NOW + timedelta(minutes=5))})
    store.log_announcement("Họp giao ban lúc 8 giờ", actor=1001, now=NOW, chat_ids=[-100],
                           unit_keys=[keys[0]])
    store.schedule_announcement("Nộp báo cáo quý", [keys[0]], NOW + timedelta(days=1),
                                actor=1001, now=NOW)
    store.create_invitation(keys[2], actor=1001, actor_name="Quản trị", now=NOW,
                            ttl=timedelta(days=7))
    store.request_membership(4004, keys[0], title="Cô Lan", chat_type="private", user_id=4004,
                             user_name="Cô Lan", now=NOW)
    store.compact()  # the data file alone holds everything (no journal beside it)
    return store


@pytest.fixture(scope="module")
def tiny_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tiny") / "bot.json"
    build_tinydb(path).close()
    return path


@pytest.fixture(scope="module")
def moved_url(tiny_path: Path, pg_cluster) -> str:  # type: ignore[no-untyped-def]
    """A database holding the TinyDB data (moved once for the module's read-only tests)."""
    url = pg_cluster.database()
    assert move(tiny_path, url).status == "moved"
    return url


@pytest.fixture(scope="module")
def tiny(tiny_path: Path, moved_url: str) -> Store:
    """The reference: the same data in the TinyDB Store (holds the file lock)."""
    store = Store(tiny_path)
    yield store
    store.close()


@pytest.fixture
def pg(moved_url: str) -> PgRepository:
    repo = PgRepository(moved_url, read_only=True)
    yield repo
    repo.close()


@pytest.fixture
def repo(pg_url: str) -> PgRepository:
    repo = PgRepository(pg_url)
    yield repo
    repo.close()


def _task(task_id: int, *, doc: int = 1, lead: tuple[str, ...] = ("x|a",),
          support: tuple[str, ...] = (), due: date | None = None, text: str = "Việc",
          status: str = "open", done_at: datetime | None = None) -> StoredTask:
    return StoredTask(task_id, doc, task_id, task_id, "I.1", text, lead, support,
                      due=due, due_kind="explicit" if due else None, original_due=due,
                      status=status, done_at=done_at, fingerprint=f"fp{task_id}")


def _doc(doc_id: int, file_hash: str, task_ids: tuple[int, ...] = (), number: str | None = None,
         issuer: str | None = None) -> StoredDocument:
    return StoredDocument(doc_id, "ke_hoach", number, issuer, None, None, None, None,
                          f"{doc_id}.txt", file_hash, NOW, 1001, task_ids)


# ------------------------------------------------------------------------------------------
# Schema and migrations
# ------------------------------------------------------------------------------------------
def test_migrations_rerun_and_race(pg_cluster) -> None:  # type: ignore[no-untyped-def]
    url = pg_cluster.database()
    errors: list[BaseException] = []
    applied: list[list[int]] = []
    gate = threading.Barrier(4)

    def worker() -> None:
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                gate.wait()
                applied.append(pgschema.migrate(conn))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(applied) == [[], [], [], [1, 2]]  # exactly one worker applied them
    with psycopg.connect(url, autocommit=True) as conn:
        assert pgschema.migrate(conn) == []
        assert conn.execute("SELECT version FROM schema_version ORDER BY 1").fetchall() == [
            (1,), (2,)]
        assert pgschema.current_version(conn) == pgschema.SCHEMA_VERSION == 2


def test_migration_2_fills_unit_list_from_existing_directories(pg_url: str) -> None:
    """A database made by the first schema (directories, no unit_list) is upgraded at open,
    its units listed from the directories it already holds."""
    directory = {"version": 1, "units": [{"key": "phong y te", "forms": [["Phòng Y tế", 2]]},
                                         {"key": "ubnd", "forms": [["UBND xã", 1]]}]}
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert pgschema.migrate(conn, target=1) == [1]
        conn.execute("INSERT INTO units (loc, locality, version, row) VALUES (%s, %s, 1, %s)",
                     ("cam pha", "Cẩm Phả", psycopg.types.json.Jsonb(
                         {"loc": "cam pha", "locality": "Cẩm Phả", "directory": directory})))
    with PgRepository(pg_url) as repo:
        assert [u.key for u in repo.units()] == ["cam pha|phong y te", "cam pha|ubnd"]
        assert repo.unit("cam pha|ubnd").locality == "Cẩm Phả"
        assert repo.delete(UnitDirectoryRow, ["cam pha"]) == 1
        assert repo.units() == [] and repo.unit("cam pha|ubnd") is None


def test_newer_schema_is_refused(pg_url: str) -> None:
    PgRepository(pg_url).close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("INSERT INTO schema_version (version, name) VALUES (99, 'future')")
    with pytest.raises(ConfigError, match="mới hơn"):
        PgRepository(pg_url)


def test_read_only_open_does_not_migrate_and_refuses_writes(pg_url: str) -> None:
    with pytest.raises(ConfigError, match="phiên bản lược đồ 0"):
        PgRepository(pg_url, read_only=True)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert pgschema.current_version(conn) == 0  # nothing created
    PgRepository(pg_url).close()
    with PgRepository(pg_url, read_only=True) as repo:
        assert repo.read_only
        for write in (lambda: repo.put(_doc(1, "h")), lambda: repo.next_id("tasks"),
                      lambda: repo.put_tasks([_task(1)]), lambda: repo.delete_tasks([1]),
                      lambda: repo.claim_delivery("k", chat_id=1, now=NOW),
                      lambda: repo.prune(NOW), lambda: repo.delete(Chat, [1])):
            with pytest.raises(ReadOnlyError):
                write()
        assert repo.task_count() == 0


def test_is_a_repository(repo: PgRepository) -> None:
    assert isinstance(repo, Repository)


def test_password_never_shown(pg_cluster) -> None:  # type: ignore[no-untyped-def]
    url = pg_cluster.url().replace("postgres@", "postgres:hunter2secret@")
    with PgRepository(url) as repo:  # trust auth: the password is not checked
        assert "hunter2secret" not in repr(repo)
        assert "***" in repr(repo)


# ------------------------------------------------------------------------------------------
# Generic records
# ------------------------------------------------------------------------------------------
RECORDS = [
    _doc(7, "hash7", (1, 2), "12/KH-UBND", "UBND Cẩm Phả"),
    Membership(3, -100, "x|a", NOW, 1001, "Quản trị", "admin", None, "", None),
    Event(5, NOW, 1001, "done", 1, 7, {"note": "xong", "days_late": 0}),
    Delivery("digest:1", -100, "sent", NOW, "ok"),
    Reminder(4, 1, -100, NOW + timedelta(hours=1), 1001, NOW),
    Announcement(2, NOW, 1001, "Họp", (-100,), ("x|a",), ()),
    ScheduledAnnouncement(6, "Sắp họp", ("x|a",), NOW + timedelta(days=1), 1001, NOW),
    Invitation(8, "x|a", 1001, "QT", NOW, NOW + timedelta(days=7), "abcd"),
    JoinRequest(9, 2002, "x|a", "Hoà", "private", 2002, "Hoà", NOW),
    OwedDigest(-100, TODAY, TODAY, "failed", 2, NOW + timedelta(minutes=5), NOW),
    Snooze(1, TODAY + timedelta(days=2), 2002, NOW),
    DigestRun(0, TODAY, NOW),
]


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: type(r).__name__)
def test_put_get_all_delete_round_trip(repo: PgRepository, record: object) -> None:
    kind = type(record)
    key = {OwedDigest: "chat_id", Snooze: "task_id", DigestRun: "chat_id",
           Delivery: "key"}.get(kind, "id")
    key_value = getattr(record, key)
    assert repo.get(kind, key_value) is None
    repo.put(record)
    got = repo.get(kind, key_value)
    assert got == record and got.to_row() == record.to_row()  # type: ignore[attr-defined]
    assert repo.all(kind) == [record]
    if kind is not Event:  # replace: no field of the old version survives
        assert repo.delete(kind, [key_value, key_value]) == 1
        assert repo.get(kind, key_value) is None
        assert repo.delete(kind, [key_value]) == 0


def test_time_offsets_are_kept(repo: PgRepository) -> None:
    utc = Reminder(1, 1, 5, datetime(2022, 12, 20, 2, 0, tzinfo=ZoneInfo("UTC")), None, NOW)
    repo.put(utc)
    assert repo.get(Reminder, 1).at.utcoffset() == timedelta(0)
    assert repo.unsent_reminders(until=NOW) == [utc]  # 02:00 UTC is 09:00 in Vietnam
    assert repo.unsent_reminders(until=NOW - timedelta(minutes=1)) == []


def test_event_put_is_insert_only(repo: PgRepository) -> None:
    event = Event(1, NOW, None, "import", None, 1, {})
    repo.put(event)
    with pytest.raises(ValueError):
        repo.put(replace(event, kind="other"))
    assert repo.get(Event, 1).kind == "import"


def test_unique_clash_raises_value_error_and_keeps_the_transaction(repo: PgRepository) -> None:
    repo.put(_doc(1, "same"))
    repo.put(Membership(1, 5, "x|a", NOW))
    with repo.transaction():
        with pytest.raises(ValueError):
            repo.put(_doc(2, "same"))
        with pytest.raises(ValueError):
            repo.put(Membership(2, 5, "x|a", NOW))
        repo.put(Membership(3, 5, "x|b", NOW))  # the block goes on
    assert [m.id for m in repo.memberships(chat_id=5)] == [1, 3]
    assert repo.get(StoredDocument, 2) is None


def test_a_refused_multi_record_put_writes_none_of_them(repo: PgRepository) -> None:
    repo.put(Membership(1, -100, "x|a", NOW))
    with repo.transaction():
        repo.put(Chat(5, "An", "private"))
        with pytest.raises(ValueError, match="thành viên"):
            repo.put(Chat(6, "Bình", "private"), Membership(2, -100, "x|a", NOW))
        assert repo.get(Chat, 6) is None
        repo.put(Membership(3, 5, "x|a", NOW))
    assert [c.id for c in repo.all(Chat)] == [5]
    assert [m.id for m in repo.memberships()] == [1, 3]
    with pytest.raises(ValueError):  # alone: its own transaction, nothing written either
        repo.put(Chat(7, "Chi", "private"), Membership(4, -100, "x|a", NOW))
    assert repo.get(Chat, 7) is None


def test_chat_unit_keys_come_from_memberships(repo: PgRepository) -> None:
    repo.put(Chat(-1, "Nhóm", "group", True, ("ignored|x",)))
    assert repo.get(Chat, -1) == Chat(-1, "Nhóm", "group", True, ())
    repo.put(Membership(9, -1, "x|b", NOW), Membership(4, -1, "x|a", NOW + timedelta(1)))
    assert repo.get(Chat, -1).unit_keys == ("x|a", "x|b")  # by membership id
    repo.put(Chat(2, "Lan", "private", False))
    repo.put(Membership(10, 2, "x|a", NOW))
    assert [c.id for c in repo.unit_chats("x|a")] == [-1]  # active only
    assert [m.id for m in repo.memberships(unit_key="x|a")] == [10, 4]  # (since, id)
    assert repo.delete(Chat, [-1]) == 1
    assert len(repo.memberships(chat_id=-1)) == 2  # the caller deletes them


def test_unit_directory_version_bumps(repo: PgRepository) -> None:
    directory = {"version": 1, "units": [{"key": "phong y te", "forms": [["Phòng Y tế", 2]]}]}
    repo.put(UnitDirectoryRow("cam pha", "Cẩm Phả", directory, version=42))
    assert repo.get(UnitDirectoryRow, "cam pha").version == 1
    assert repo.unit("cam pha|phong y te").name == "Phòng Y tế"
    repo.put(UnitDirectoryRow("cam pha", "Cẩm Phả", {"version": 1, "units": []}))
    assert repo.get(UnitDirectoryRow, "cam pha").version == 2
    assert repo.unit("cam pha|phong y te") is None  # the cache follows the version
    assert repo.units() == []


def test_next_id_unique_across_processes(pg_url: str) -> None:
    repos = [PgRepository(pg_url), PgRepository(pg_url)]
    got: list[int] = []
    lock = threading.Lock()

    def take(r: PgRepository) -> None:
        for _ in range(50):
            value = r.next_id("tasks")
            with lock:
                got.append(value)

    threads = [threading.Thread(target=take, args=(r,)) for r in repos for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in repos:
        r.close()
    assert len(got) == len(set(got)) == 200
    with PgRepository(pg_url) as r, pytest.raises(ValueError):
        r.next_id("nonsense")


def test_ids_written_without_next_id_are_never_handed_out(repo: PgRepository,
                                                           pg_url: str) -> None:
    repo.put_tasks([_task(7)])
    assert repo.next_id("tasks") == 8
    repo.put(Reminder(1, 7, 5, NOW, None, NOW))  # at the sequence's first value
    assert repo.next_id("reminders") == 2
    repo.put(Delivery("k", 1, "sent", NOW))  # keyed by text: no sequence to move
    first = repo.next_id("events")
    repo.put(Event(first - 1 if first > 1 else 1, NOW, None, "x", None, None, {}))
    assert repo.next_id("events") > first  # a lower explicit id never moves it back
    with PgRepository(pg_url) as again:
        assert again.next_id("tasks") == 9


# ------------------------------------------------------------------------------------------
# Transactions
# ------------------------------------------------------------------------------------------
def test_failed_transaction_writes_nothing(repo: PgRepository) -> None:
    repo.put_tasks([_task(1)])
    with pytest.raises(RuntimeError), repo.transaction():
        repo.put(_doc(1, "h", (1, 2)))
        repo.put_tasks([_task(2), replace(_task(1), text="đổi")])
        repo.delete_tasks([1])
        assert repo.task(1) is None and repo.task(2) is not None  # own writes seen
        raise RuntimeError("midway")
    assert repo.task(1).text == "Việc" and repo.task(2) is None
    assert repo.get(StoredDocument, 1) is None


def test_failing_statement_midway_rolls_back(repo: PgRepository) -> None:
    with pytest.raises(Exception), repo.transaction():  # noqa: B017,PT011
        repo.put_tasks([_task(1), _task(2)])
        repo.put_tasks([replace(_task(3), doc_id=None)])  # type: ignore[arg-type]
    assert repo.task_count() == 0


def test_nested_transaction_joins_the_outer(repo: PgRepository) -> None:
    with pytest.raises(KeyError), repo.transaction():
        with repo.transaction():
            repo.put_tasks([_task(1)])
        assert repo.task(1) is not None  # inner "committed" into the outer only
        raise KeyError
    assert repo.task(1) is None


def test_other_connections_do_not_see_uncommitted_writes(pg_url: str) -> None:
    a, b = PgRepository(pg_url), PgRepository(pg_url)
    try:
        with a.transaction():
            a.put_tasks([_task(1)])
            assert b.task(1) is None
        assert b.task(1) is not None
    finally:
        a.close()
        b.close()


def test_concurrent_imports(pg_url: str) -> None:
    """Two processes import plans at once: ids never clash, both plans land whole."""
    errors: list[BaseException] = []

    def importer(n: int) -> None:
        try:
            with PgRepository(pg_url) as r:
                for i in range(5):
                    with r.transaction():
                        doc_id = r.next_id("documents")
                        ids = [r.next_id("tasks") for _ in range(20)]
                        r.put_tasks([_task(t, doc=doc_id, lead=(f"p{n}|u",)) for t in ids])
                        r.put(_doc(doc_id, f"h{n}-{i}", tuple(ids)))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=importer, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with PgRepository(pg_url) as r:
        assert r.task_count() == 200
        docs = r.all(StoredDocument)
        assert len(docs) == 10
        for doc in docs:
            assert [t.id for t in r.document_tasks(doc.id)] == list(doc.task_ids)
        assert r.count_tasks(["p0|u"]) == r.count_tasks(["p1|u"]) == 100


def test_read_modify_write_waits_for_the_other_writer(pg_url: str) -> None:
    """Two processes grow the same unit directory at once: neither change is lost."""
    with PgRepository(pg_url) as r:
        r.put(UnitDirectoryRow("p", "P", {"version": 1, "units": []}))
    errors: list[BaseException] = []
    gate = threading.Barrier(2)

    def grow(name: str) -> None:
        try:
            with PgRepository(pg_url) as r:
                gate.wait()
                for i in range(10):
                    with r.transaction():
                        row = r.get(UnitDirectoryRow, "p")
                        units = [*row.directory["units"],
                                 {"key": f"{name}{i}", "forms": [[f"Phòng {name}{i}", 1]]}]
                        r.put(replace(row, directory={"version": 1, "units": units}))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=grow, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with PgRepository(pg_url) as r:
        row = r.get(UnitDirectoryRow, "p")
        assert len(row.directory["units"]) == 20 and row.version == 21
        assert len(r.units()) == 20


def test_mark_done_race_one_winner(pg_url: str) -> None:
    with PgRepository(pg_url) as r:
        r.put_tasks([_task(1)])
    winners: list[int] = []
    gate = threading.Barrier(2)

    def close(actor: int) -> None:
        with PgRepository(pg_url) as r:
            gate.wait()
            with r.transaction():
                task = r.task(1)
                if task.is_open:
                    r.put_tasks([replace(task, status="done", done_by=actor, done_at=NOW)])
                    winners.append(actor)

    threads = [threading.Thread(target=close, args=(a,)) for a in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1
    with PgRepository(pg_url) as r:
        assert r.task(1).done_by == winners[0]


def test_claim_delivery_exactly_one_winner(pg_url: str) -> None:
    repos = [PgRepository(pg_url) for _ in range(4)]
    results: list[bool] = []
    gate = threading.Barrier(8)
    lock = threading.Lock()

    def claim(r: PgRepository) -> None:
        gate.wait()
        won = r.claim_delivery("digest:2022-12-20:-100", chat_id=-100, now=NOW)
        with lock:
            results.append(won)

    threads = [threading.Thread(target=claim, args=(r,)) for r in repos for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]
    r = repos[0]
    assert r.get(Delivery, "digest:2022-12-20:-100").status == CLAIMED
    r.record_delivery(Delivery("digest:2022-12-20:-100", -100, "sent", NOW, None))
    assert r.get(Delivery, "digest:2022-12-20:-100").status == "sent"
    assert not r.claim_delivery("digest:2022-12-20:-100", chat_id=-100, now=NOW)
    for r in repos:
        r.close()


def test_reclaim_after_failure_or_dead_claim_one_winner(pg_url: str) -> None:
    """A failed delivery or a claim older than CLAIM_TIMEOUT may be claimed again: by
    exactly one of several processes at once; "sent"/"uncertain"/a live claim never."""
    from bot.repository import CLAIM_TIMEOUT

    with PgRepository(pg_url) as r:
        r.put(Delivery("failed", 1, "failed", NOW), Delivery("sent", 1, "sent", NOW),
              Delivery("uncertain", 1, "uncertain", NOW),
              Delivery("undeliverable", 1, "undeliverable", NOW))
        assert r.claim_delivery("dead", chat_id=1, now=NOW - CLAIM_TIMEOUT)
        assert r.claim_delivery("live", chat_id=1, now=NOW - CLAIM_TIMEOUT + timedelta(1 / 1440))
    later = NOW + timedelta(seconds=1)
    repos = [PgRepository(pg_url) for _ in range(3)]
    wins: dict[str, int] = {}
    lock = threading.Lock()
    gate = threading.Barrier(6)

    def claim(r: PgRepository) -> None:
        gate.wait()
        for key in ("failed", "sent", "uncertain", "undeliverable", "dead", "live"):
            if r.claim_delivery(key, chat_id=2, now=later):
                with lock:
                    wins[key] = wins.get(key, 0) + 1

    threads = [threading.Thread(target=claim, args=(r,)) for r in repos for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wins == {"failed": 1, "undeliverable": 1, "dead": 1}
    got = repos[0].get(Delivery, "dead")
    assert (got.status, got.chat_id, got.at) == (CLAIMED, 2, later)
    assert repos[0].get(Delivery, "sent").status == "sent"
    for r in repos:
        r.close()


def test_claim_inside_a_rolled_back_transaction_is_undone(repo: PgRepository) -> None:
    with pytest.raises(RuntimeError), repo.transaction():
        assert repo.claim_delivery("k", chat_id=1, now=NOW)
        raise RuntimeError
    assert repo.claim_delivery("k", chat_id=1, now=NOW)


def test_prune(repo: PgRepository) -> None:
    old = NOW - timedelta(days=100)
    repo.put_tasks([_task(1)])
    repo.put(_doc(1, "h", (1,)))
    repo.put(Delivery("old", 1, "sent", old), Delivery("new", 1, "sent", NOW))
    repo.claim_delivery("old-claim", chat_id=1, now=old)
    repo.put(Event(1, old, None, "done", 1, None, {}), Event(2, old, None, "done", 99, None, {}),
             Event(3, old, None, "import", None, 1, {}), Event(4, old, None, "x", None, None, {}),
             Event(5, NOW, None, "x", None, None, {}))
    counts = repo.prune(NOW - timedelta(days=30))
    assert (counts.deliveries, counts.events) == (2, 2)
    assert [d.key for d in repo.all(Delivery)] == ["new"]
    assert [e.id for e in repo.recent_events(10)] == [5, 3, 1]


# ------------------------------------------------------------------------------------------
# Queries compared with the TinyDB Store on the moved sample data
# ------------------------------------------------------------------------------------------
def test_moved_data_answers_like_tinydb(tiny: Store, pg: PgRepository) -> None:
    assert pg.task_count() == tiny.task_count > 100
    for doc in tiny.documents():
        assert pg.get(StoredDocument, doc.id) == doc
        assert pg.document_tasks(doc.id) == tiny.document_tasks(doc.id)
        assert pg.document_by_hash(doc.file_hash) == doc
    assert sorted(pg.all(StoredDocument), key=lambda d: d.id) == sorted(
        tiny.documents(), key=lambda d: d.id)
    numbered = next(d for d in tiny.documents() if d.number)
    from bot.text import fold

    assert pg.document_by_identity(fold(numbered.number), fold(numbered.issuer or "")) == numbered
    assert pg.all(Chat) == sorted(tiny.chats(), key=lambda c: c.id)
    assert pg.all(Reminder) == sorted(tiny.due_reminders(NOW + timedelta(days=9)),
                                      key=lambda r: r.id)


def test_units_like_tinydb(tiny: Store, pg: PgRepository) -> None:
    assert sorted(pg.units(), key=lambda u: u.key) == sorted(tiny.units(), key=lambda u: u.key)
    order = [(u.locality, u.name) for u in pg.units()]
    assert order == [(u.locality, u.name) for u in tiny.units()]
    some = tiny.units()[3]
    assert pg.unit(some.key) == some
    assert pg.unit("nowhere|nothing") is None


def test_task_pages_like_tinydb(tiny: Store, pg: PgRepository) -> None:
    keys = [u.key for u in tiny.units()]
    assert pg.task_page() == tiny.open_tasks()
    every = [t for d in tiny.documents() for t in tiny.document_tasks(d.id)]
    assert pg.task_page(open_only=False) == sorted(
        every, key=lambda t: (t.due is None, t.due or date.min, t.id))
    for key in keys:
        assert pg.task_page([key]) == tiny.open_tasks(key), key
        assert pg.task_page([key], open_only=False) == tiny.tasks_for_units(key)
        assert pg.count_tasks([key]) == tiny.count_open(key)
        assert pg.count_tasks([key], open_only=False) == tiny.count_tasks(key)
        assert pg.task_page([key], last=TODAY - timedelta(1)) == tiny.overdue(key, TODAY)
        assert pg.task_page([key], first=TODAY, last=TODAY + timedelta(7)) == tiny.upcoming(
            key, TODAY, 7)
    several = keys[:6]
    assert pg.task_page(several) == tiny.open_tasks(several)
    assert pg.count_tasks(several) == tiny.count_open(several)
    full = tiny.open_tasks(several)
    for offset, limit in ((0, 5), (5, 5), (3, 1), (len(full) - 2, 10), (len(full) + 5, 5)):
        assert pg.task_page(several, offset=offset, limit=limit) == full[offset:offset + limit]
        assert pg.task_page(None, offset=offset, limit=limit) == tiny.open_slice(
            None, offset, offset + limit)
    assert pg.task_page(several, limit=0) == []
    # an open end keeps the tasks without a date (they sort last), a closed one drops them
    first = TODAY + timedelta(days=10)
    assert pg.task_page(None, first=first) == tiny.open_sequence()[
        tiny.open_sequence().count_due_before(first):]
    assert pg.count_tasks(None, first=first) == tiny.count_open(None, first, None)
    assert all(t.due is not None for t in pg.task_page(None, first=first, last=date.max))
    assert pg.task_page(["nowhere|x"]) == [] and pg.count_tasks([]) == 0


@pytest.mark.parametrize("query", [
    "báo cáo", "BAO CAO", "tiêm chủng", "thuc hien", "a", "phong", "ủy ban", "uỷ ban",
    "kế hoạch năm", "xyz không có", "%", "_", "đ", "100%",
])
@pytest.mark.parametrize("head", [5000, 3, 40])
def test_search_like_tinydb(tiny: Store, pg: PgRepository, query: str, head: int) -> None:
    """Both plans (the head of the list, then the trigram index) give TinyDB's answer."""
    pg.SEARCH_HEAD = head
    words = search_fold(query).split()
    assert pg.search_tasks(words) == tiny.search(query)
    for limit in (1, 3, 20):
        assert pg.search_tasks(words, limit=limit) == tiny.search(query, limit=limit)
    keys = [u.key for u in tiny.units()][:8]
    assert pg.search_tasks(words, keys) == tiny.search(query, keys)
    assert pg.search_tasks(words, keys, limit=2) == tiny.search(query, keys, limit=2)


def test_search_wildcards_are_literal(repo: PgRepository) -> None:
    repo.put_tasks([_task(1, text="Giảm 50% chi phí"), _task(2, text="Giảm 50 lần chi_phí"),
                    _task(3, text="Tăng 5 phần")])
    assert [t.id for t in repo.search_tasks(["50%"])] == [1]
    assert [t.id for t in repo.search_tasks(["chi_phi"])] == [2]
    assert [t.id for t in repo.search_tasks(["giam", "chi"])] == [1, 2]
    assert [t.id for t in repo.search_tasks(["tang"], ["x|a"])] == [3]
    with pytest.raises(ValueError):
        repo.search_tasks([])


def test_lead_stats_like_tinydb(tiny: Store, pg: PgRepository) -> None:
    later = TODAY + timedelta(days=200)
    for today in (TODAY, later):
        want = {s.unit.key: (s.done_on_time, s.done_late, s.not_yet_due, s.overdue_open)
                for s in tiny.stats(today)}
        assert pg.lead_stats(today) == want
        keys = list(want)[:4]
        assert pg.lead_stats(today, keys) == {k: want[k] for k in keys}
    assert sum(a + b for a, b, _, _ in pg.lead_stats(TODAY).values()) >= 2


def test_lead_stats_done_day_in_stored_offset(repo: PgRepository) -> None:
    late_vn = datetime(2022, 12, 21, 6, 0, tzinfo=TZ)  # 20/12 23:00 UTC: the 21st in Vietnam
    repo.put_tasks([_task(1, due=date(2022, 12, 20), status="done", done_at=late_vn),
                    _task(2, due=date(2022, 12, 20), status="done",
                          done_at=late_vn.astimezone(ZoneInfo("UTC"))),
                    _task(3, status="done", done_at=late_vn), _task(4, due=date(2022, 1, 1)),
                    _task(5), _task(6, lead=())])
    assert repo.lead_stats(TODAY) == {"x|a": (2, 1, 1, 1)}


def test_memberships_and_chats_like_tinydb(tiny: Store, pg: PgRepository) -> None:
    for unit in tiny.units():
        assert pg.memberships(unit_key=unit.key) == tiny.members(unit.key)
        assert pg.unit_chats(unit.key) == tiny.unit_chats(unit.key)
    assert [m.unit_key for m in pg.memberships(chat_id=-100)] == list(tiny.chat_units(-100))
    assert pg.all(JoinRequest) == tiny.join_requests(pending_only=False)
    assert pg.all(Invitation) == tiny.invitations(now=NOW, open_only=False)


def test_events_like_tinydb(tiny: Store, pg: PgRepository) -> None:
    task_ids = {e.task_id for e in tiny.recent_events(1000) if e.task_id is not None}
    assert len(task_ids) >= 3
    for task_id in task_ids | {t.id for t in tiny.open_tasks()[:3]}:
        assert pg.task_history(task_id) == tiny.history(task_id)
    assert pg.recent_events(7) == tiny.recent_events(7)
    assert pg.recent_events(0) == []


def test_reminders_and_schedule_like_tinydb(tiny: Store, pg: PgRepository) -> None:
    until = NOW + timedelta(hours=3)
    assert pg.unsent_reminders(until=until) == tiny.due_reminders(until)
    assert pg.unsent_reminders(chat_id=-100) == [r for r in tiny.due_reminders(NOW + timedelta(9))
                                                 if r.chat_id == -100]
    first = tiny.due_reminders(NOW + timedelta(9))[0]
    assert pg.unsent_reminders(task_ids=[first.task_id]) == [first]
    assert pg.unsent_reminders(task_ids=[]) == []
    assert pg.all(ScheduledAnnouncement) == tiny.scheduled_announcements(pending_only=False)
    assert {s.task_id: s.until for s in pg.all(Snooze)} == tiny.snoozes()
    assert {r.chat_id: r.day for r in pg.all(DigestRun) if r.chat_id} == tiny.digest_days()
    assert {o.chat_id: o for o in pg.all(OwedDigest)} == tiny.digest_owed()
    assert pg.all(Announcement) == tiny.announcements()
    assert pg.get(Delivery, "digest:2022-12-20:2002") == tiny.delivery("digest:2022-12-20:2002")


def test_digest_source(tiny: Store, pg: PgRepository) -> None:
    source = pg.digest_source()
    assert [c.id for c in source.chats] == [-100, 2002]  # 3003 inactive, 4004 only asked
    for chat in source.chats:
        for key in chat.unit_keys:
            assert source.open_tasks.get(key, []) == tiny.open_tasks(key)
            assert source.unit_names[key] == tiny.unit_name(key)
    tasks = {t.doc_id for ts in source.open_tasks.values() for t in ts}
    assert set(source.documents) == tasks
    assert source.snoozes == tiny.snoozes()
    assert [c.id for c in pg.digest_source([2002, 3003]).chats] == [2002]


def test_tasks_by_ids(pg: PgRepository, tiny: Store) -> None:
    ids = [t.id for t in tiny.open_tasks()[:4]]
    wanted = [ids[2], ids[0], 10**9, ids[2], ids[1]]
    assert [t.id for t in pg.tasks(wanted)] == [ids[2], ids[0], ids[1]]
    assert pg.task(ids[0]) == tiny.task(ids[0])
    assert pg.task(10**9) is None and pg.tasks([]) == []


# ------------------------------------------------------------------------------------------
# chuyen-du-lieu
# ------------------------------------------------------------------------------------------
def test_move_is_verified_idempotent_and_refuses_other_data(tiny: Store, moved_url: str,
                                                            tmp_path: Path, pg_url: str,
                                                            capsys) -> None:  # type: ignore[no-untyped-def]
    from bot.__main__ import main

    copy = tmp_path / "bot.json"
    copy.write_bytes(tiny.path.read_bytes())
    url = pg_url.replace("postgres@", "postgres:secretpw123@")
    assert main(["chuyen-du-lieu", "--from", str(copy), "--to", url]) == 0
    out = capsys.readouterr().out
    assert "nhiệm vụ: " in out and "khớp" in out and "secretpw123" not in out
    assert "postgres:***@" in out
    # re-run: nothing to do, nothing changed
    assert main(["chuyen-du-lieu", "--from", str(copy), "--to", url]) == 0
    assert "không thay đổi gì" in capsys.readouterr().out
    with PgRepository(pg_url) as r:
        assert r.task_count() == tiny.task_count
        after = r.next_id("tasks")
        assert after > max(t.id for t in r.task_page(open_only=False))
        r.put(Chat(999, "Khác", "private", True))
    # the target now differs: refused (nothing written), then replaced
    assert main(["chuyen-du-lieu", "--from", str(copy), "--to", url]) == 2
    err = capsys.readouterr().err
    assert "--replace" in err and "Không ghi gì" in err
    with PgRepository(pg_url) as r:
        assert r.get(Chat, 999) is not None
    assert main(["chuyen-du-lieu", "--from", str(copy), "--to", url, "--replace"]) == 0
    with PgRepository(pg_url) as r:
        assert r.get(Chat, 999) is None and r.task_count() == tiny.task_count
        assert r.next_id("tasks") > after  # sequences never go back


def test_move_of_thousands_of_tasks(tmp_path: Path, pg_url: str) -> None:
    """Over 4,096 tasks (the TinyDB backend may spread them over several tables)."""
    store = Store(tmp_path / "bot.json")
    copy = 0
    while store.task_count <= 4200:
        for name, digest, plan in _parsed_samples():
            doc = plan.document
            clone = replace(plan, document=replace(
                doc, number=f"{doc.number}-{copy}" if doc.number else None,
                locality=f"Xã {copy}"))
            store.import_plan(clone, filename=name, file_hash=f"{digest}-{copy}", actor=None,
                              now=NOW)
        copy += 1
    ids = sorted(t.id for t in store.open_tasks())
    store.mark_done(ids[-1], actor=1, now=NOW)
    store.compact()
    expected = (store.task_count, store.open_tasks(), store.units())
    store.close()
    assert move(tmp_path / "bot.json", pg_url).status == "moved"
    with PgRepository(pg_url) as r:
        assert r.task_count() == expected[0] > 4096
        assert r.task_page() == expected[1]
        assert not r.task(ids[-1]).is_open
        assert sorted(r.units(), key=lambda u: u.key) == sorted(expected[2], key=lambda u: u.key)
        assert r.next_id("tasks") > ids[-1]


def test_move_refuses_damaged_source_and_bad_url(tmp_path: Path, pg_url: str,
                                                capsys) -> None:  # type: ignore[no-untyped-def]
    from bot.__main__ import main

    bad = tmp_path / "bot.json"
    bad.write_text('{"meta": {"1": {"schema_version": 2, "seq": {}}}, "tasks": {"1": '
                   '{"line": 3}}}', encoding="utf-8")
    with pytest.raises(MoveError, match="bảng tasks, mã 1"):
        move(bad, pg_url)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert pgschema.current_version(conn) == 0  # refused before touching the target
    assert main(["chuyen-du-lieu", "--from", str(tmp_path / "none.json"), "--to", pg_url]) == 2
    assert "Không có tệp dữ liệu" in capsys.readouterr().err
    assert main(["chuyen-du-lieu", "--from", str(bad), "--to", "mysql://u:p@h/db"]) == 2
    assert "postgresql://" in capsys.readouterr().err


def test_move_refuses_a_running_bot(tiny: Store, pg_url: str) -> None:
    from bot.errors import ConfigError as Busy

    with pytest.raises(Busy, match="tiến trình bot khác"):
        move(tiny.path, pg_url)  # the module's Store holds the file lock


def test_settings_database_url_masked() -> None:
    from bot.config import load_settings

    settings = load_settings({"DATABASE_URL": "postgresql://bot:pa55word@db:5432/bot"}, None)
    assert settings.database_url == "postgresql://bot:pa55word@db:5432/bot"
    assert "pa55word" not in repr(settings) and "bot:***@db:5432" in repr(settings)
    for bad in ("mysql://bot:pa55word@db/bot", "postgresql://bot:pa55word@db:0/bot",
                "postgresql://bot:pa55word@db"):
        with pytest.raises(ConfigError) as caught:
            load_settings({"DATABASE_URL": bad}, None)
        assert "pa55word" not in caught.value.message
        assert "DATABASE_URL" in caught.value.message
    assert load_settings({}, None).database_url is None


def test_open_repository_seam(pg_url: str) -> None:
    from bot.config import Settings
    from bot.pgstore import open_repository

    assert open_repository(Settings()) is None
    repo = open_repository(Settings(database_url=pg_url))
    assert isinstance(repo, PgRepository)
    repo.close()
    with open_repository(pg_url, read_only=True) as repo:  # the facade passes the URL
        assert repo.read_only
    with pytest.raises(ConfigError):
        open_repository("sqlite:///x.db")


def test_unreachable_server_is_a_vietnamese_error_without_the_password(
        caplog: pytest.LogCaptureFixture) -> None:
    from tests.pgcluster import free_port

    url = f"postgresql://bot:hunter2secret@127.0.0.1:{free_port()}/bot"
    with pytest.raises(ConfigError) as caught:
        PgRepository(url, timeout=1.0)
    assert "Không kết nối được tới PostgreSQL" in caught.value.message
    assert "bot:***@127.0.0.1" in caught.value.message
    assert "hunter2secret" not in caught.value.message
    assert "hunter2secret" not in caplog.text
