"""The contract of bot.repository.Repository, run against every backend.

Each backend registers a :class:`Backend` in :data:`BACKENDS` (the PostgreSQL one adds
"postgres"); every test runs once per backend. A backend opens a repository on one database
and can open it again (``reopen``) to prove what was durable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.models import Period, Recurrence
from bot.records import (
    DONE,
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
    CLAIM_TIMEOUT,
    CLAIMED,
    ID_KINDS,
    RECLAIMABLE,
    DigestRun,
    ReadOnlyError,
    Repository,
    Snooze,
    StorageError,
    UnitDirectoryRow,
    locality_key,
    search_fold,
)
from bot.tinystore import TinyRepository
from bot.units import UnitDirectory, unit_key

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
T0 = datetime(2024, 3, 1, 9, 0, tzinfo=TZ)
LOC = locality_key("Cẩm Phả")
HEALTH = f"{LOC}|{unit_key('Phòng Y tế', 'Cẩm Phả')}"
FINANCE = f"{LOC}|{unit_key('Phòng Tài chính - Kế hoạch', 'Cẩm Phả')}"
POLICE = f"{LOC}|{unit_key('Công an thành phố', 'Cẩm Phả')}"


# ----------------------------------------------------------------------------- backends
class Backend:
    """Opens repositories on one database (subclass per backend)."""

    name = ""

    def open(self, *, read_only: bool = False) -> Any:
        raise NotImplementedError

    def reopen(self, repo: Any) -> Any:
        repo.close()
        return self.open()


class TinyBackend(Backend):
    name = "tinydb"

    def __init__(self, tmp_path: Path) -> None:
        self.path = tmp_path / "data" / "contract.json"

    def open(self, *, read_only: bool = False) -> TinyRepository:
        return TinyRepository(self.path, read_only=read_only, lock=not read_only)


class PgBackend(Backend):
    """A fresh database on the test PostgreSQL server (tests/pgcluster.py, fixture pg_url)."""

    name = "postgres"

    def __init__(self, url: str) -> None:
        self.url = url

    def open(self, *, read_only: bool = False) -> Any:
        from bot.pgstore import PgRepository

        if read_only:  # a read-only open needs the schema: made by a first writer
            PgRepository(self.url).close()
        return PgRepository(self.url, read_only=read_only)


BACKENDS: dict[str, Callable[[Path], Backend]] = {"tinydb": TinyBackend,
                                                  "postgres": PgBackend}
"""Backend name -> factory(tmp_path). Another backend adds itself here."""


@pytest.fixture(params=list(BACKENDS))
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "postgres":  # a database of the session's server, not a file
        return PgBackend(request.getfixturevalue("pg_url"))
    return BACKENDS[request.param](tmp_path)


@pytest.fixture
def repo(backend: Backend):
    opened = backend.open()
    holder = {"repo": opened}
    yield opened
    holder["repo"].close()


@pytest.fixture
def reopen(backend: Backend, repo: Any) -> Callable[[Any], Any]:
    """Close ``r`` and open the same database again (closed again at teardown)."""
    opened: list[Any] = []

    def again(r: Any) -> Any:
        new = backend.reopen(r)
        opened.append(new)
        return new

    yield again
    for r in opened:
        r.close()


# ----------------------------------------------------------------------------- records
def directory_row(*names: str) -> UnitDirectoryRow:
    return UnitDirectoryRow(LOC, "Cẩm Phả", UnitDirectory(names, "Cẩm Phả").to_json())


def doc(doc_id: int = 1, file_hash: str = "h1", number: str | None = "12/KH-UBND",
        task_ids: tuple[int, ...] = ()) -> StoredDocument:
    return StoredDocument(doc_id, "ke_hoach", number, "UBND Cẩm Phả", date(2024, 1, 5),
                          "Kế hoạch quý I", Period("Quý I năm 2024", date(2024, 1, 1),
                                                   date(2024, 3, 31)),
                          "Cẩm Phả", "kh.docx", file_hash, T0, 1, task_ids)


def task(task_id: int, text: str = "", *, due: date | None = None, lead=(HEALTH,), support=(),
         doc_id: int = 1, status: str = "open", done_at: datetime | None = None,
         rec: Recurrence | None = None) -> StoredTask:
    return StoredTask(task_id, doc_id, task_id, task_id, "I", text or f"Nhiệm vụ {task_id}",
                      tuple(lead), tuple(support), (), due, "explicit" if due else None, due,
                      rec, status, done_at, 5 if done_at else None, None, f"fp{task_id}")


def event(event_id: int, *, task_id: int | None = None, doc_id: int | None = None,
          at: datetime = T0, kind: str = "done") -> Event:
    return Event(event_id, at, 1, kind, task_id, doc_id, {"n": event_id})


def membership(mid: int, chat_id: int, unit: str = HEALTH, since: datetime = T0,
               via: str | None = "admin") -> Membership:
    return Membership(mid, chat_id, unit, since, 1, "Quản trị", via)


SAMPLES: dict[str, Callable[[], tuple[Any, Any]]] = {
    "document": lambda: (doc(3, "h3"), replace(doc(3, "h3b"), number=None, version=2)),
    "chat": lambda: (Chat(-100, "Tổ Y tế", "group"), Chat(-100, "", "supergroup", False)),
    "membership": lambda: (membership(4, -100), replace(membership(4, -100), via=None,
                                                        by_name="")),
    "event": lambda: (event(9, task_id=1), None),
    "delivery": lambda: (Delivery("digest:2024-03-01:-100", -100, "sent", T0, "ok"),
                         Delivery("digest:2024-03-01:-100", -100, "failed", T0, None)),
    "reminder": lambda: (Reminder(2, 1, -100, T0 + timedelta(hours=3), 1, T0),
                         Reminder(2, 1, -100, T0 + timedelta(hours=3), 1, T0, T0)),
    "announcement": lambda: (Announcement(1, T0, 1, "Họp giao ban", (-100,), (HEALTH,), ()),
                             Announcement(1, T0, 1, "Họp", (), (), (-100,))),
    "scheduled": lambda: (ScheduledAnnouncement(1, "Họp", (HEALTH,), T0, 1, T0),
                          ScheduledAnnouncement(1, "Họp", (), T0, 1, T0, None, T0)),
    "invitation": lambda: (Invitation(1, HEALTH, 1, "Quản trị", T0, T0 + timedelta(days=7),
                                      "abcd"),
                           Invitation(1, HEALTH, 1, "", T0, T0 + timedelta(days=7), "abcd",
                                      T0, 1)),
    "request": lambda: (JoinRequest(1, 42, HEALTH, "An", "private", 42, "An", T0),
                        JoinRequest(1, 42, HEALTH, "An", "private", 42, "An", T0, "refused",
                                    decided_at=T0, decided_by=1, decided_by_name="QT")),
    "owed": lambda: (OwedDigest(-100, date(2024, 3, 1), date(2024, 3, 2), "failed", 2,
                                T0 + timedelta(hours=1), T0),
                     OwedDigest(-100, date(2024, 3, 1), date(2024, 3, 2), "missed", 1, None,
                                T0)),
    "snooze": lambda: (Snooze(1, date(2024, 3, 8), 1, T0), Snooze(1, date(2024, 3, 9), None, T0)),
    "digest_run": lambda: (DigestRun(0, date(2024, 3, 1), T0), DigestRun(0, date(2024, 3, 2))),
}


KEY_FIELDS: dict[type, str] = {
    StoredDocument: "id", Chat: "id", Membership: "id", Event: "id", Delivery: "key",
    Reminder: "id", Announcement: "id", ScheduledAnnouncement: "id", Invitation: "id",
    JoinRequest: "id", OwedDigest: "chat_id", Snooze: "task_id", DigestRun: "chat_id",
    UnitDirectoryRow: "loc_key",
}
"""The key of each record kind (the table of bot.repository's docstring)."""


def key_of(record: Any) -> Any:
    return getattr(record, KEY_FIELDS[type(record)])


def prepare(repo: Any, kind: str) -> None:
    """Rows a record of ``kind`` refers to."""
    if kind == "membership":
        repo.put(Chat(-100, "Tổ Y tế", "group"))


# ----------------------------------------------------------------------------- lifecycle
def test_a_repository_satisfies_the_protocol(repo: Any) -> None:
    assert isinstance(repo, Repository)
    assert repo.read_only is False
    assert repo.task_count() == 0 and repo.units() == [] and repo.recent_events(5) == []


def test_ids_grow_per_kind_and_survive_reopening(repo: Any, reopen) -> None:
    first = [repo.next_id(kind) for kind in ID_KINDS]
    second = [repo.next_id(kind) for kind in ID_KINDS]
    assert all(b > a for a, b in zip(first, second, strict=True))
    with pytest.raises(ValueError):
        repo.next_id("nonsense")
    again = reopen(repo)
    assert all(again.next_id(kind) > b for kind, b in zip(ID_KINDS, second, strict=True))


def test_ids_never_reuse_a_committed_row(repo: Any, reopen) -> None:
    repo.put_tasks([task(7)])  # written with an explicit id, without next_id
    assert repo.next_id("tasks") > 7
    again = reopen(repo)
    assert again.next_id("tasks") > 7


# ----------------------------------------------------------------------------- generic records
@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_generic_put_get_all_delete(repo: Any, reopen, kind: str) -> None:
    prepare(repo, kind)
    record, changed = SAMPLES[kind]()
    cls = type(record)
    key = key_of(record)
    assert repo.get(cls, key) is None
    repo.put(record)
    got = repo.get(cls, key)
    assert got == (replace(record, unit_keys=()) if cls is Chat else record)
    assert repo.all(cls) == [got]
    if changed is not None:  # a whole record replaces: no field of the old one survives
        repo.put(changed)
        assert repo.get(cls, key) == changed
        record = changed
    elif cls is Event:
        with pytest.raises(ValueError):
            repo.put(record)
    repo = reopen(repo)
    assert repo.get(cls, key) == record
    assert repo.delete(cls, [key, key]) == 1
    assert repo.get(cls, key) is None and repo.all(cls) == []
    assert repo.delete(cls, [key]) == 0  # absent: a no-op
    repo = reopen(repo)
    assert repo.get(cls, key) is None


def test_all_orders_by_key(repo: Any) -> None:
    repo.put(Chat(5, "b", "private"), Chat(-100, "a", "group"), Chat(1, "c", "private"))
    assert [c.id for c in repo.all(Chat)] == [-100, 1, 5]
    repo.put(Delivery("b", 1, "sent", T0), Delivery("a", 1, "sent", T0))
    assert [d.key for d in repo.all(Delivery)] == ["a", "b"]


def test_unknown_keys_read_as_none(repo: Any) -> None:
    assert repo.get(Chat, 12345) is None and repo.get(StoredDocument, 99) is None
    assert repo.get(Delivery, "nope") is None and repo.get(UnitDirectoryRow, "x") is None
    assert repo.task(99) is None and repo.tasks([1, 2]) == [] and repo.document_tasks(9) == []
    assert repo.task_history(99) == [] and repo.memberships(chat_id=5) == []


def test_chat_unit_keys_come_from_memberships(repo: Any, reopen) -> None:
    repo.put(Chat(-100, "Tổ", "group", True, ("ignored",)))
    assert repo.get(Chat, -100).unit_keys == ()
    repo.put(membership(7, -100, FINANCE), membership(3, -100, HEALTH))
    assert repo.get(Chat, -100).unit_keys == (HEALTH, FINANCE)  # by membership id
    repo = reopen(repo)
    assert repo.get(Chat, -100).unit_keys == (HEALTH, FINANCE)
    repo.delete(Membership, [3])
    assert repo.get(Chat, -100).unit_keys == (FINANCE,)


def test_unique_keys_are_enforced(repo: Any) -> None:
    repo.put(Chat(-100, "Tổ", "group"), membership(1, -100))
    with pytest.raises(ValueError):
        repo.put(membership(2, -100))  # the same chat and unit again
    assert [m.id for m in repo.memberships(chat_id=-100)] == [1]
    repo.put(doc(1, "same"))
    with pytest.raises(ValueError):
        repo.put(doc(2, "same"))
    assert repo.get(StoredDocument, 2) is None


def test_reads_are_copies_not_views(repo: Any) -> None:
    repo.put(Chat(1, "a", "private"))
    repo.put_tasks([task(1, due=date(2024, 3, 5)), task(2, due=date(2024, 3, 6))])
    listed = repo.task_page()
    chats = repo.all(Chat)
    listed.clear()
    chats.append(Chat(2, "b", "private"))
    assert len(repo.task_page()) == 2 and len(repo.all(Chat)) == 1
    before = repo.task_page()
    repo.put_tasks([replace(task(1, due=date(2024, 3, 5)), status=DONE, done_at=T0)])
    assert [t.is_open for t in before] == [True, True]  # a later write changes no answer


# ----------------------------------------------------------------------------- transactions
def test_transaction_commits_everything_at_once(repo: Any, reopen) -> None:
    with repo.transaction():
        repo.put(doc(1, task_ids=(1, 2)))
        repo.put_tasks([task(1), task(2)])
        repo.put(event(repo.next_id("events"), doc_id=1, kind="import"))
        assert repo.task_count() == 2  # the block sees its own writes
        assert repo.document_by_hash("h1") is not None
    repo = reopen(repo)
    assert repo.task_count() == 2 and len(repo.recent_events(10)) == 1


def test_failed_transaction_writes_nothing(repo: Any, reopen) -> None:
    repo.put(Chat(-100, "Tổ", "group"), directory_row("Phòng Y tế"))
    repo.put_tasks([task(1, due=date(2024, 3, 5))])
    before_id = repo.next_id("events")
    with pytest.raises(RuntimeError), repo.transaction():
        repo.put(doc(1, task_ids=(1, 2)))
        repo.put_tasks([task(2), replace(task(1, due=date(2024, 3, 5)), status=DONE,
                                         done_at=T0)])
        repo.delete_tasks([1])
        repo.put(membership(1, -100), Snooze(1, date(2024, 3, 9), 1, T0))
        repo.put(directory_row("Phòng Y tế", "Phòng Tài chính - Kế hoạch"))
        repo.put(event(repo.next_id("events"), task_id=1))
        repo.record_delivery(Delivery("k", -100, "sent", T0))
        raise RuntimeError("midway")

    def check(r: Any) -> None:
        assert r.get(StoredDocument, 1) is None and r.document_by_hash("h1") is None
        assert [t.id for t in r.task_page(open_only=False)] == [1] and r.task(1).is_open
        assert r.task_count() == 1 and r.count_tasks([HEALTH]) == 1
        assert r.memberships() == [] and r.get(Chat, -100).unit_keys == ()
        assert r.unit(FINANCE) is None and r.unit(HEALTH) is not None
        assert r.recent_events(10) == [] and r.get(Delivery, "k") is None
        assert r.all(Snooze) == [] and r.unit_chats(HEALTH) == []
    check(repo)
    repo = reopen(repo)
    check(repo)
    assert repo.next_id("events") >= before_id


def test_nested_transaction_joins_the_outer_one(repo: Any, reopen) -> None:
    with pytest.raises(KeyError), repo.transaction():
        repo.put(Chat(1, "a", "private"))
        with repo.transaction():
            repo.put(Chat(2, "b", "private"))
        assert repo.get(Chat, 2) is not None  # not committed yet, but visible
        raise KeyError("outer fails")
    assert repo.all(Chat) == []
    repo = reopen(repo)
    assert repo.all(Chat) == []


def test_a_multi_record_put_is_one_transaction(repo: Any) -> None:
    repo.put(Chat(-100, "Tổ", "group"), membership(1, -100))
    with pytest.raises(ValueError):
        repo.put(Chat(5, "x", "private"), membership(2, -100))  # the second clashes
    assert repo.get(Chat, 5) is None


# ----------------------------------------------------------------------------- documents
def test_documents_by_hash_and_identity(repo: Any) -> None:
    repo.put(doc(1, "h1"), doc(2, "h2"), replace(doc(3, "h3"), number=None))
    assert repo.document_by_hash("h2").id == 2 and repo.document_by_hash("zz") is None
    from bot.text import fold
    found = repo.document_by_identity(fold("12/KH-UBND"), fold("UBND Cẩm Phả"))
    assert found is not None and found.id == 2  # several: the highest id
    repo.delete(StoredDocument, [2])
    assert repo.document_by_identity(fold("12/KH-UBND"), fold("UBND Cẩm Phả")).id == 1
    assert repo.document_by_identity(fold("99"), "") is None


# ----------------------------------------------------------------------------- tasks
@pytest.fixture
def spread(repo: Any) -> Any:
    """Tasks over three units with and without dates, some done."""
    repo.put(doc(1, task_ids=tuple(range(1, 9))))
    repo.put_tasks([
        task(1, "Tiêm chủng mở rộng", due=date(2024, 3, 10), support=(FINANCE,)),
        task(2, "Rà soát hộ nghèo", due=date(2024, 2, 20), lead=(FINANCE,)),
        task(3, "Báo cáo thu ngân sách", due=date(2024, 3, 31), lead=(FINANCE, HEALTH)),
        task(4, "Kiểm tra an toàn thực phẩm"),
        task(5, "Cập nhật dữ liệu dân cư", due=date(2024, 3, 4), lead=(POLICE,)),
        task(6, "Tiêm phòng dại", due=date(2024, 2, 1), status=DONE,
             done_at=datetime(2024, 2, 3, 8, tzinfo=TZ)),
        task(7, "Tổng kết tiêm chủng", due=date(2024, 3, 10), status=DONE,
             done_at=datetime(2024, 3, 9, 8, tzinfo=TZ)),
        task(8, "Việc không đơn vị", due=date(2024, 3, 1), lead=()),
    ])
    return repo


def ids(tasks: list[StoredTask]) -> list[int]:
    return [t.id for t in tasks]


def test_task_reads(spread: Any) -> None:
    assert spread.task(3).lead == (FINANCE, HEALTH) and spread.task_count() == 8
    assert ids(spread.tasks([5, 99, 1, 5])) == [5, 1]
    assert ids(spread.document_tasks(1)) == list(range(1, 9))
    spread.put(doc(2, "h2", task_ids=(3, 1, 42)))
    assert ids(spread.document_tasks(2)) == [3, 1]


def test_task_page_orders_filters_and_pages(spread: Any) -> None:
    assert ids(spread.task_page()) == [2, 8, 5, 1, 3, 4]  # by (due, id), undated last
    assert ids(spread.task_page(open_only=False)) == [6, 2, 8, 5, 1, 7, 3, 4]
    assert ids(spread.task_page([HEALTH])) == [1, 3, 4]
    assert ids(spread.task_page([FINANCE, HEALTH])) == [2, 1, 3, 4]  # once each
    assert ids(spread.task_page([FINANCE, HEALTH], open_only=False)) == [6, 2, 1, 7, 3, 4]
    assert ids(spread.task_page(last=date(2024, 3, 9))) == [2, 8, 5]
    assert ids(spread.task_page(first=date(2024, 3, 4), last=date(2024, 3, 10))) == [5, 1]
    assert ids(spread.task_page(first=date(2024, 3, 4))) == [5, 1, 3, 4]
    assert ids(spread.task_page(offset=2, limit=3)) == [5, 1, 3]
    assert ids(spread.task_page([FINANCE, HEALTH], offset=1, limit=2)) == [1, 3]
    assert ids(spread.task_page([HEALTH], offset=5)) == [] and spread.task_page(["x|y"]) == []
    assert spread.count_tasks() == 6 and spread.count_tasks(open_only=False) == 8
    assert spread.count_tasks([FINANCE, HEALTH]) == 4
    assert spread.count_tasks([FINANCE, HEALTH], open_only=False) == 6
    assert spread.count_tasks([HEALTH], last=date(2024, 3, 10)) == 1
    assert spread.count_tasks(first=date(2024, 3, 4), last=date(2024, 3, 31)) == 3


def test_put_and_delete_tasks_keep_the_indexes(spread: Any, reopen) -> None:
    spread.put_tasks([replace(spread.task(4), due=date(2024, 2, 25), lead=(POLICE,)),
                      replace(spread.task(2), status=DONE, done_at=T0)])
    assert ids(spread.task_page([HEALTH])) == [1, 3]
    assert ids(spread.task_page([POLICE])) == [4, 5]
    assert spread.delete_tasks([5, 99, 5]) == 1
    again = reopen(spread)
    assert ids(again.task_page()) == [4, 8, 1, 3] and again.task_count() == 7
    assert ids(again.task_page([POLICE])) == [4] and again.task(5) is None


def test_search_tasks(spread: Any) -> None:
    words = search_fold("TIÊM chủng").split()
    assert ids(spread.search_tasks(words)) == [1, 7]  # open first, then (due, id)
    assert ids(spread.search_tasks(search_fold("tiem").split())) == [1, 6, 7]
    assert ids(spread.search_tasks(["tiem"], [FINANCE])) == [1]
    assert ids(spread.search_tasks(["tiem"], limit=2)) == [1, 6]
    assert spread.search_tasks(["khong co"]) == []
    spread.put_tasks([replace(spread.task(1), text="Việc khác hẳn")])
    assert ids(spread.search_tasks(["tiem"])) == [6, 7]  # the new text is searched


def test_lead_stats(spread: Any) -> None:
    today = date(2024, 3, 5)
    assert spread.lead_stats(today) == {
        HEALTH: (1, 1, 3, 0),  # 7 on time; 6 late (done 3/2, due 1/2); 1, 3, 4 not yet due
        FINANCE: (0, 0, 1, 1),  # 3 not yet due, 2 overdue
        POLICE: (0, 0, 0, 1),  # task 8 has no lead: nowhere
    }
    assert spread.lead_stats(today, [FINANCE, "x|y"]) == {FINANCE: (0, 0, 1, 1)}


# ----------------------------------------------------------------------------- units
def test_units_come_from_directories(repo: Any, reopen) -> None:
    repo.put(directory_row("Phòng Y tế", "Phòng Tài chính - Kế hoạch"))
    first = repo.get(UnitDirectoryRow, LOC)
    assert [u.key for u in repo.units()] == [FINANCE, HEALTH]  # by name
    assert repo.unit(HEALTH).name == "Phòng Y tế" and repo.unit(HEALTH).locality == "Cẩm Phả"
    repo.put(UnitDirectoryRow("uong bi", "Uông Bí",
                              UnitDirectory(["Phòng Y tế"], "Uông Bí").to_json()))
    repo.put(directory_row("Phòng Y tế", "Công an thành phố"))
    assert repo.get(UnitDirectoryRow, LOC).version > first.version
    repo = reopen(repo)
    uong_bi = f"uong bi|{unit_key('Phòng Y tế', 'Uông Bí')}"
    assert [u.key for u in repo.units()] == [POLICE, HEALTH, uong_bi]
    assert repo.unit(FINANCE) is None


# ----------------------------------------------------------------------------- memberships
def test_memberships_and_unit_chats(repo: Any) -> None:
    repo.put(Chat(-100, "Tổ", "group"), Chat(5, "An", "private"),
             Chat(7, "Bình", "private", active=False))
    repo.put(membership(1, 5, HEALTH, T0 + timedelta(hours=2)), membership(2, -100, HEALTH),
             membership(3, 7, HEALTH), membership(4, 5, FINANCE))
    assert [m.id for m in repo.memberships(unit_key=HEALTH)] == [2, 3, 1]  # by (since, id)
    assert [m.id for m in repo.memberships(chat_id=5)] == [4, 1]
    assert [m.id for m in repo.memberships(chat_id=5, unit_key=FINANCE)] == [4]
    assert [m.id for m in repo.memberships()] == [2, 3, 4, 1]
    assert [c.id for c in repo.unit_chats(HEALTH)] == [-100, 5]  # active only, by id
    assert repo.unit_chats(POLICE) == []


# ----------------------------------------------------------------------------- events
def test_history_and_recent_events(repo: Any, reopen) -> None:
    repo.put(event(1, task_id=3), event(2, doc_id=1, kind="import"), event(3, task_id=3),
             event(4, task_id=4))
    assert [e.id for e in repo.task_history(3)] == [1, 3]
    assert [e.id for e in repo.recent_events(3)] == [4, 3, 2]
    assert repo.recent_events(0) == []
    repo = reopen(repo)
    assert repo.task_history(3)[1].data == {"n": 3}


# ----------------------------------------------------------------------------- deliveries
def test_claim_then_record_a_delivery(repo: Any, reopen) -> None:
    assert repo.claim_delivery("d:1", chat_id=5, now=T0) is True
    assert repo.claim_delivery("d:1", chat_id=5, now=T0) is False
    assert repo.get(Delivery, "d:1") == Delivery("d:1", 5, CLAIMED, T0)
    repo.record_delivery(Delivery("d:1", 5, "sent", T0 + timedelta(seconds=1)))
    assert repo.claim_delivery("d:1", chat_id=5, now=T0) is False
    repo.record_delivery(Delivery("d:2", 6, "uncertain", T0, "timeout"))
    assert repo.claim_delivery("d:2", chat_id=6, now=T0 + timedelta(days=1)) is False
    repo = reopen(repo)
    assert repo.get(Delivery, "d:1").status == "sent"
    assert repo.claim_delivery("d:1", chat_id=5, now=T0) is False


def test_a_failed_send_or_a_dead_claim_may_be_claimed_again(repo: Any, reopen) -> None:
    for status in RECLAIMABLE:
        repo.record_delivery(Delivery(f"f:{status}", 6, status, T0, "403"))
        assert repo.claim_delivery(f"f:{status}", chat_id=6, now=T0) is True
        assert repo.get(Delivery, f"f:{status}").status == CLAIMED
        assert repo.claim_delivery(f"f:{status}", chat_id=6, now=T0) is False
    assert repo.claim_delivery("live", chat_id=1, now=T0) is True
    repo = reopen(repo)
    just_alive = T0 + CLAIM_TIMEOUT - timedelta(seconds=1)
    assert repo.claim_delivery("live", chat_id=1, now=just_alive) is False
    assert repo.claim_delivery("live", chat_id=1, now=T0 + CLAIM_TIMEOUT) is True
    assert repo.get(Delivery, "live").at == T0 + CLAIM_TIMEOUT


def test_prune_keeps_what_history_needs(repo: Any, reopen) -> None:
    old, new = T0 - timedelta(days=100), T0
    repo.put(doc(1, task_ids=(1,)))
    repo.put_tasks([task(1)])
    repo.put(event(1, task_id=1, at=old), event(2, task_id=99, at=old),
             event(3, doc_id=1, at=old, kind="import"), event(4, doc_id=50, at=old),
             event(5, at=old, kind="subscribe"), event(6, at=new, kind="subscribe"),
             event(7, task_id=99, at=new))
    repo.record_delivery(Delivery("a", 1, "sent", old))
    repo.claim_delivery("b", chat_id=1, now=old)
    repo.record_delivery(Delivery("c", 1, "sent", new))
    counts = repo.prune(T0 - timedelta(days=30))
    assert (counts.deliveries, counts.events) == (2, 3)
    assert [d.key for d in repo.all(Delivery)] == ["c"]
    assert sorted(e.id for e in repo.recent_events(100)) == [1, 3, 6, 7]
    repo = reopen(repo)
    assert sorted(e.id for e in repo.recent_events(100)) == [1, 3, 6, 7]
    assert repo.prune(T0 - timedelta(days=30)).events == 0


# ----------------------------------------------------------------------------- reminders
def test_unsent_reminders(repo: Any) -> None:
    repo.put(Reminder(1, 1, 5, T0 + timedelta(hours=5), 1, T0),
             Reminder(2, 2, 5, T0 + timedelta(hours=1), 1, T0),
             Reminder(3, 1, 6, T0 + timedelta(hours=1), 1, T0),
             Reminder(4, 1, 5, T0, 1, T0, sent_at=T0))
    assert [r.id for r in repo.unsent_reminders()] == [2, 3, 1]
    assert [r.id for r in repo.unsent_reminders(until=T0 + timedelta(hours=1))] == [2, 3]
    assert [r.id for r in repo.unsent_reminders(task_ids=[1])] == [3, 1]
    assert [r.id for r in repo.unsent_reminders(chat_id=5)] == [2, 1]


# ----------------------------------------------------------------------------- digest
def test_digest_source_is_one_call(spread: Any) -> None:
    spread.put(directory_row("Phòng Y tế", "Phòng Tài chính - Kế hoạch", "Công an thành phố"))
    spread.put(Chat(-100, "Tổ Y tế", "group"), Chat(5, "An", "private"),
               Chat(6, "Tắt", "private", active=False), Chat(8, "Không đơn vị", "private"))
    spread.put(membership(1, -100, HEALTH), membership(2, 5, FINANCE), membership(3, 6, POLICE),
               membership(4, 5, "x|khong ro"))
    spread.put(Snooze(1, date(2024, 3, 8), 1, T0), Snooze(99, date(2024, 3, 8), 1, T0))
    source = spread.digest_source()
    assert [c.id for c in source.chats] == [-100, 5]
    assert {k: ids(v) for k, v in source.open_tasks.items()} == {
        HEALTH: [1, 3, 4], FINANCE: [2, 1, 3]}
    assert set(source.documents) == {1}
    assert source.unit_names == {HEALTH: "Phòng Y tế", FINANCE: "Phòng Tài chính - Kế hoạch",
                                 "x|khong ro": "x|khong ro"}
    assert source.snoozes == {1: date(2024, 3, 8)}
    only = spread.digest_source([5, 6])
    assert [c.id for c in only.chats] == [5] and set(only.open_tasks) == {FINANCE}


# ----------------------------------------------------------------------------- read-only
def test_read_only_repository_refuses_every_write(backend: Backend, repo: Any) -> None:
    repo.put(Chat(1, "a", "private"))
    repo.put_tasks([task(1)])
    reader = backend.open(read_only=True)
    try:
        assert reader.read_only and reader.get(Chat, 1) is not None
        writes = [lambda: reader.put(Chat(2, "b", "private")),
                  lambda: reader.put_tasks([task(2)]), lambda: reader.delete_tasks([1]),
                  lambda: reader.delete(Chat, [1]), lambda: reader.next_id("tasks"),
                  lambda: reader.claim_delivery("k", chat_id=1, now=T0),
                  lambda: reader.record_delivery(Delivery("k", 1, "sent", T0))]
        for write in writes:
            with pytest.raises(ReadOnlyError):
                write()
        assert issubclass(ReadOnlyError, StorageError)
        assert reader.task_count() == 1 and reader.all(Chat) == [Chat(1, "a", "private")]
    finally:
        reader.close()


def test_tasks_with_far_apart_ids(repo: Any, reopen) -> None:
    """Ids far apart (the TinyDB backend keeps them in different tables) behave as one."""
    far = [1, 4095, 4096, 70_000]
    repo.put_tasks([task(i, due=date(2024, 3, 1) + timedelta(days=n))
                    for n, i in enumerate(reversed(far))])
    assert ids(repo.task_page()) == list(reversed(far)) and repo.count_tasks() == 4
    assert repo.next_id("tasks") > 70_000
    repo.put_tasks([replace(repo.task(4096), status=DONE, done_at=T0)])
    assert repo.delete_tasks([4095, 5]) == 1
    repo = reopen(repo)
    assert ids(repo.task_page(open_only=False)) == [70_000, 4096, 1]
    assert not repo.task(4096).is_open and repo.task(4095) is None
    assert repo.lead_stats(date(2024, 3, 1))[HEALTH] == (1, 0, 2, 0)


def test_a_refused_put_leaves_the_transaction_usable(repo: Any, reopen) -> None:
    repo.put(Chat(-100, "Tổ", "group"), membership(1, -100))
    with repo.transaction():
        repo.put(Chat(5, "An", "private"))
        with pytest.raises(ValueError):
            repo.put(Chat(6, "Bình", "private"), membership(2, -100))  # clash: none of it
        assert repo.get(Chat, 6) is None
        repo.put(membership(3, 5))
    repo = reopen(repo)
    assert [c.id for c in repo.all(Chat)] == [-100, 5]
    assert [m.id for m in repo.memberships()] == [1, 3]


def test_search_follows_every_change(spread: Any) -> None:
    tiem = search_fold("tiêm").split()
    assert ids(spread.search_tasks(tiem)) == [1, 6, 7]  # the first search indexes
    spread.put_tasks([task(9000, "Tiêm chủng, tiêm nhắc lại, tiêm bù", due=date(2024, 3, 2)),
                      task(10, "Không liên quan")])
    spread.delete_tasks([6])
    assert ids(spread.search_tasks(tiem)) == [9000, 1, 7]  # once each, even with 3 hits
    assert ids(spread.search_tasks(search_fold("nhắc tiêm").split())) == [9000]
    assert ids(spread.search_tasks(search_fold("tiêm dại").split())) == []
    spread.put_tasks([replace(spread.task(10), text="Tiêm phòng")])
    assert ids(spread.search_tasks(["tiem", "phong"])) == [10]
    assert ids(spread.search_tasks(tiem, [HEALTH])) == [9000, 1, 10, 7]  # open first
