"""The PostgreSQL implementation of :class:`bot.repository.Repository` (psycopg 3 + pool).

Chosen by ``DATABASE_URL=postgresql://…`` (:func:`open_repository`). Synchronous like the
TinyDB backend: the bot calls it from its event loop, a query costs a round trip or two on a
local server (measured in ``bench/pg.py``). The schema and its migrations are
:mod:`bot.pgschema`; each record is kept as its ``to_row()`` dict in a ``row jsonb`` column
beside the columns the queries use, so a record read back equals the one written.

Connections come from a :class:`psycopg_pool.ConnectionPool`, in autocommit mode: a read is one
statement; a write outside a transaction runs in its own ``BEGIN … COMMIT``;
:meth:`PgRepository.transaction` pins one connection to the calling thread until the outermost
block ends, and every call of that thread inside the block uses it (nested blocks join). Writes
that must not abort the caller's transaction on a unique-key clash (documents, memberships,
events) run under a savepoint and raise ValueError as the contract says.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool, PoolTimeout

from bot import pgschema
from bot.config import mask_url
from bot.errors import ConfigError
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
    StoredUnit,
)
from bot.repository import (
    CLAIM_TIMEOUT,
    CLAIMED,
    ID_KINDS,
    RECLAIMABLE,
    DigestRun,
    DigestSource,
    PruneCounts,
    ReadOnlyError,
    Snooze,
    StorageError,
    UnitDirectoryRow,
)

__all__ = ["PgRepository", "is_postgres_url", "mask_url"]

logger = logging.getLogger(__name__)


def _scalar(cursor: psycopg.Cursor[Any]) -> Any:
    """The first column of the one row a query always returns (``nextval``, ``max``)."""
    row = cursor.fetchone()
    if row is None:
        raise RuntimeError("the query returned no row")
    return row[0]


def is_postgres_url(url: str | None) -> bool:
    return url is not None and urlsplit(url).scheme in ("postgresql", "postgres")


def open_repository(target: Any, *, read_only: bool = False) -> PgRepository | None:
    """The seam the store facade uses to pick its backend: ``target`` is a
    ``postgresql://`` URL, or settings whose ``database_url`` may be one. Returns the
    PostgreSQL repository, or None for settings without ``database_url`` (the caller then
    opens the TinyDB one on ``settings.db_path``)."""
    url = target if isinstance(target, str) else getattr(target, "database_url", None)
    if not url:
        return None
    if not is_postgres_url(url):
        raise ConfigError("DATABASE_URL phải có dạng postgresql://…")
    logger.info("using PostgreSQL at %s", mask_url(url))
    return PgRepository(url, read_only=read_only)


# ------------------------------------------------------------------------------------------
# Kinds: table, key column, how a record becomes a row and back
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Kind:
    table: str
    key: str
    """Key column (id, key or loc)."""
    key_of: Callable[[Any], Any]
    load: Callable[[Any, dict[str, Any]], Any]
    guarded: bool = False
    """Has another unique key (or is insert-only): a put of it inside a transaction runs
    under a savepoint."""


def _unit_row(loc: Any, row: dict[str, Any]) -> UnitDirectoryRow:
    return UnitDirectoryRow(loc, row.get("locality"), row["directory"], int(row["version"]))


KINDS: dict[type, _Kind] = {
    StoredDocument: _Kind("documents", "id", lambda r: r.id, StoredDocument.from_row, True),
    Chat: _Kind("chats", "id", lambda r: r.id, Chat.from_row),
    Membership: _Kind("subscriptions", "id", lambda r: r.id, Membership.from_row, True),
    Event: _Kind("events", "id", lambda r: r.id, Event.from_row, True),
    Delivery: _Kind("deliveries", "key", lambda r: r.key, lambda k, row: Delivery.from_row(row)),
    Reminder: _Kind("reminders", "id", lambda r: r.id, Reminder.from_row),
    Announcement: _Kind("announcements", "id", lambda r: r.id, Announcement.from_row),
    ScheduledAnnouncement: _Kind("scheduled", "id", lambda r: r.id,
                                 ScheduledAnnouncement.from_row),
    Invitation: _Kind("invitations", "id", lambda r: r.id, Invitation.from_row),
    JoinRequest: _Kind("requests", "id", lambda r: r.id, JoinRequest.from_row),
    OwedDigest: _Kind("digest_owed", "id", lambda r: r.chat_id, OwedDigest.from_row),
    Snooze: _Kind("snoozes", "id", lambda r: r.task_id, Snooze.from_row),
    DigestRun: _Kind("digest_runs", "id", lambda r: r.chat_id, DigestRun.from_row),
    UnitDirectoryRow: _Kind("units", "loc", lambda r: r.loc_key, _unit_row),
}
TABLE_KINDS = {k.table: cls for cls, k in KINDS.items()}


def row_of(record: Any) -> dict[str, Any]:
    """The row stored for a record (units: without the version, kept in its own column)."""
    row = record.to_row()
    if isinstance(record, UnitDirectoryRow):
        row.pop("version", None)
    return row


def _upsert_sql(table: str, key: str) -> sql.Composed:
    cols = [key, *pgschema.column_names(table), "row"]
    names = sql.SQL(", ").join(map(sql.Identifier, cols))
    values = sql.SQL(", ").join(sql.Placeholder() * len(cols))
    sets = sql.SQL(", ").join(sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c))
                              for c in cols[1:])
    return sql.SQL("INSERT INTO {t} ({n}) VALUES ({v}) ON CONFLICT ({k}) DO UPDATE SET {s}"
                   ).format(t=sql.Identifier(table), n=names, v=values,
                            k=sql.Identifier(key), s=sets)


def _insert_sql(table: str, key: str) -> sql.Composed:
    cols = [key, *pgschema.column_names(table), "row"]
    return sql.SQL("INSERT INTO {t} ({n}) VALUES ({v})").format(
        t=sql.Identifier(table), n=sql.SQL(", ").join(map(sql.Identifier, cols)),
        v=sql.SQL(", ").join(sql.Placeholder() * len(cols)))


def _params(table: str, key: Any, row: dict[str, Any]) -> list[Any]:
    cols = pgschema.columns(table, row)
    return [key, *(cols[c] for c in pgschema.column_names(table)), Jsonb(row)]


def _task_params(task: StoredTask) -> list[Any]:
    return _params("tasks", task.id, task.to_row())


_TASK_UPSERT = _upsert_sql("tasks", "id")


class PgRepository:
    """:class:`bot.repository.Repository` on PostgreSQL. Thread-safe (a pool of connections,
    one transaction per thread at a time)."""

    def __init__(self, url: str, *, read_only: bool = False, min_size: int = 1,
                 max_size: int = 4, timeout: float = 10.0) -> None:
        self._url = url
        self._read_only = read_only
        self._local = threading.local()
        self._labels: dict[Any, Any] = {}
        """Unit names worked out per list of written forms (shared: communes repeat them)."""

        def configure(conn: psycopg.Connection) -> None:
            # Short queries: JIT compiling (~10 ms) costs more than it saves; a search's
            # bitmap of candidate rows stays exact (not lossy) in 16 MB.
            conn.execute("SET jit = off")
            conn.execute("SET work_mem = '16MB'")
            if read_only:
                conn.execute("SET default_transaction_read_only = on")

        self._pool = ConnectionPool(url, min_size=min_size, max_size=max_size, open=False,
                                    kwargs={"autocommit": True}, configure=configure,
                                    timeout=timeout, name="bot-pg")
        try:
            self._pool.open(wait=True, timeout=timeout)
        except PoolTimeout:
            self._pool.close()
            raise ConfigError(f"Không kết nối được tới PostgreSQL ({mask_url(url)}). Hãy "
                              "kiểm tra DATABASE_URL và máy chủ cơ sở dữ liệu.") from None
        try:
            with self._pool.connection() as conn:
                if read_only:
                    version = pgschema.current_version(conn)
                    if version != pgschema.SCHEMA_VERSION:
                        raise ConfigError(
                            f"Cơ sở dữ liệu PostgreSQL ({mask_url(url)}) có phiên bản lược đồ "
                            f"{version}, bot cần {pgschema.SCHEMA_VERSION}; hãy chạy bot một "
                            "lần ở chế độ ghi để nâng cấp.")
                else:
                    pgschema.migrate(conn)
        except BaseException:
            self._pool.close()
            raise

    def __repr__(self) -> str:
        return f"PgRepository({mask_url(self._url)!r}, read_only={self._read_only})"

    # ------------------------------------------------------------------ lifecycle
    @property
    def read_only(self) -> bool:
        return self._read_only

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> PgRepository:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if getattr(self._local, "conn", None) is not None:
            yield  # joins the outer block
            return
        with self._errors(), self._pool.connection() as conn, conn.transaction():
            self._local.conn = conn
            try:
                yield
            finally:
                self._local.conn = None

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Database failures (connection lost, server down, disk full) as StorageError."""
        try:
            yield
        except (psycopg.OperationalError, psycopg.errors.DiskFull, PoolTimeout) as exc:
            logger.error("PostgreSQL write failed: %s", type(exc).__name__)
            raise StorageError("Không ghi được dữ liệu vào PostgreSQL; thay đổi vừa rồi "
                               "chưa được lưu.") from exc
        except psycopg.errors.ReadOnlySqlTransaction as exc:
            raise ReadOnlyError("Cơ sở dữ liệu đang mở ở chế độ chỉ đọc.") from exc

    @contextmanager
    def _conn(self, write: bool = False) -> Iterator[psycopg.Connection]:
        """The thread's transaction connection, else one from the pool (a write in its own
        transaction)."""
        if write and self._read_only:
            raise ReadOnlyError("Cơ sở dữ liệu đang mở ở chế độ chỉ đọc.")
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            yield conn
            return
        if not write:
            with self._pool.connection() as conn:
                yield conn
            return
        with self._errors(), self._pool.connection() as conn, conn.transaction():
            yield conn

    @contextmanager
    def _snapshot(self) -> Iterator[None]:
        """Several reads that must agree: one REPEATABLE READ transaction (or the caller's)."""
        if getattr(self._local, "conn", None) is not None:
            yield
            return
        with self._pool.connection() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            self._local.conn = conn
            try:
                yield
            finally:
                self._local.conn = None

    def _rows(self, query: Any, params: Any = None) -> list[tuple[Any, ...]]:
        with self._conn() as conn:
            return conn.execute(query, params).fetchall()

    def next_id(self, kind: str) -> int:
        if kind not in ID_KINDS:
            raise ValueError(f"no ids for {kind!r}")
        with self._conn(write=True) as conn:
            value = _scalar(conn.execute(sql.SQL("SELECT nextval({})").format(
                sql.Literal(f"{kind}_id_seq"))))
        return int(value)

    # ------------------------------------------------------------------ generic records
    def _kind(self, kind: type) -> _Kind:
        try:
            return KINDS[kind]
        except KeyError:
            raise TypeError(f"not a repository record kind: {kind!r}") from None

    def _load(self, kind: type, key: Any, row: dict[str, Any], version: Any = None) -> Any:
        spec = KINDS[kind]
        if kind is UnitDirectoryRow:
            row = {**row, "version": version}
        if kind is Chat:
            return row  # filled by _chats
        return spec.load(key, row)

    def _locking(self) -> bool:
        """Inside a write transaction, single-row reads lock what they read (FOR UPDATE)
        until it ends: a read-modify-write of the domain (mark done, a directory grown by an
        import) then waits for a concurrent one instead of overwriting it."""
        return not self._read_only and getattr(self._local, "conn", None) is not None

    def get(self, kind: type, key: Any) -> Any:
        spec = self._kind(kind)
        if kind is Chat:
            found = self._chats("c.id = %s", (key,))
            return found[0] if found else None
        extra = ", version" if kind is UnitDirectoryRow else ", NULL"
        lock = ""
        if self._locking():
            lock = " FOR UPDATE"
            if kind is UnitDirectoryRow:  # also when the row does not exist yet
                self._local.conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                                         (pgschema.LOCK_KEY & 0x7FFFFFFF, str(key)))
        rows = self._rows(sql.SQL("SELECT {k}, row" + extra + " FROM {t} WHERE {k} = %s" + lock)
                          .format(k=sql.Identifier(spec.key), t=sql.Identifier(spec.table)),
                          (key,))
        return self._load(kind, *rows[0]) if rows else None

    def all(self, kind: type) -> list[Any]:
        spec = self._kind(kind)
        if kind is Chat:
            return self._chats("TRUE", ())
        extra = ", version" if kind is UnitDirectoryRow else ", NULL"
        order = sql.SQL("{k} COLLATE \"C\"" if spec.key in ("key", "loc") else "{k}").format(
            k=sql.Identifier(spec.key))
        rows = self._rows(sql.SQL("SELECT {k}, row" + extra + " FROM {t} ORDER BY {o}")
                          .format(k=sql.Identifier(spec.key), t=sql.Identifier(spec.table),
                                  o=order))
        return [self._load(kind, *r) for r in rows]

    def _chats(self, where: str, params: Sequence[Any]) -> list[Chat]:
        rows = self._rows(
            "SELECT c.id, c.row, coalesce((SELECT array_agg(s.unit_key ORDER BY s.id) "
            "FROM subscriptions s WHERE s.chat_id = c.id), '{}') "
            f"FROM chats c WHERE {where} ORDER BY c.id", params)
        return [Chat.from_row(i, row, tuple(keys)) for i, row, keys in rows]

    def put(self, *records: Any) -> None:
        if not records:
            if self._read_only:
                raise ReadOnlyError("Cơ sở dữ liệu đang mở ở chế độ chỉ đọc.")
            return
        guarded = any(getattr(KINDS.get(type(r)), "guarded", False) for r in records)
        joined = getattr(self._local, "conn", None) is not None
        try:
            with self._conn(write=True) as conn:
                if guarded and joined:
                    # A savepoint: a refused put writes none of its records and leaves the
                    # caller's transaction usable (alone, the put's own transaction rolls back).
                    with conn.transaction():
                        for record in records:
                            self._put_one(conn, record)
                else:
                    for record in records:
                        self._put_one(conn, record)
        except psycopg.errors.UniqueViolation as exc:
            what = {"events": "sự kiện cùng mã đã có",
                    "documents": "văn bản cùng tệp (file_hash) đã có",
                    "subscriptions": "cuộc trò chuyện đã là thành viên của đơn vị này"}
            raise ValueError(what.get(exc.diag.table_name or "", "trùng khóa")) from exc

    @staticmethod
    def _seq_past(conn: psycopg.Connection, table: str, top: int) -> None:
        """Ids written without next_id (a copy, a test): make the sequence hand out only
        larger ones. Moves the sequence only when it is behind, never back."""
        seq = sql.Identifier(f"{table}_id_seq")
        conn.execute(sql.SQL(
            "SELECT setval({0}, %s) FROM {1} WHERE (CASE WHEN is_called THEN last_value "
            "ELSE last_value - 1 END) < %s").format(sql.Literal(f"{table}_id_seq"), seq),
            (top, top))

    def _put_one(self, conn: psycopg.Connection, record: Any) -> None:
        if isinstance(record, StoredTask):
            conn.execute(_TASK_UPSERT, _task_params(record))
            self._seq_past(conn, "tasks", record.id)
            return
        spec = self._kind(type(record))
        row = row_of(record)
        key = spec.key_of(record)
        if isinstance(record, UnitDirectoryRow):
            try:
                units = pgschema.unit_list_rows(key, record.locality, record.directory,
                                                self._labels)
            except (KeyError, TypeError, ValueError, IndexError) as exc:
                raise ValueError(f"danh bạ đơn vị sai dạng ({type(exc).__name__})") from exc
            conn.execute(
                "INSERT INTO units (loc, locality, version, row) VALUES (%s, %s, 1, %s) "
                "ON CONFLICT (loc) DO UPDATE SET locality = EXCLUDED.locality, "
                "version = units.version + 1, row = EXCLUDED.row",
                (key, record.locality, Jsonb(row)))
            conn.execute("DELETE FROM unit_list WHERE loc = %s", (key,))
            with conn.cursor() as cur:
                cur.executemany(pgschema.INSERT_UNIT_LIST, units)
            return
        query = (_insert_sql if isinstance(record, Event) else _upsert_sql)(spec.table, spec.key)
        params = _params(spec.table, key, row)
        if spec.table in ID_KINDS and spec.key == "id":
            self._seq_past(conn, spec.table, int(key))
        conn.execute(query, params)

    def delete(self, kind: type, keys: Iterable[Any]) -> int:
        spec = self._kind(kind)
        keys = list(dict.fromkeys(keys))
        with self._conn(write=True) as conn:
            if not keys:
                return 0
            cur = conn.execute(sql.SQL("DELETE FROM {t} WHERE {k} = ANY(%s)").format(
                t=sql.Identifier(spec.table), k=sql.Identifier(spec.key)), (keys,))
            return cur.rowcount

    # ------------------------------------------------------------------ documents
    def document_by_hash(self, file_hash: str) -> StoredDocument | None:
        rows = self._rows("SELECT id, row FROM documents WHERE file_hash = %s", (file_hash,))
        return StoredDocument.from_row(*rows[0]) if rows else None

    def document_by_identity(self, number: str, issuer: str) -> StoredDocument | None:
        rows = self._rows("SELECT id, row FROM documents WHERE ident = %s "
                          "ORDER BY id DESC LIMIT 1", (number + "\x1f" + issuer,))
        return StoredDocument.from_row(*rows[0]) if rows else None

    # ------------------------------------------------------------------ tasks
    def task(self, task_id: int) -> StoredTask | None:
        if isinstance(task_id, bool) or not isinstance(task_id, int):
            return None
        lock = " FOR UPDATE" if self._locking() else ""
        rows = self._rows("SELECT id, row FROM tasks WHERE id = %s" + lock, (task_id,))
        return StoredTask.from_row(*rows[0]) if rows else None

    def tasks(self, task_ids: Iterable[int]) -> list[StoredTask]:
        ids = list(dict.fromkeys(task_ids))
        if not ids:
            return []
        rows = self._rows("SELECT t.id, t.row FROM unnest(%s::bigint[]) WITH ORDINALITY "
                          "AS w(id, n) JOIN tasks t ON t.id = w.id ORDER BY w.n", (ids,))
        shared: dict[Any, Any] = {}
        return [StoredTask.from_row(i, row, shared) for i, row in rows]

    def document_tasks(self, doc_id: int) -> list[StoredTask]:
        rows = self._rows(
            "SELECT t.id, t.row FROM documents d, jsonb_array_elements(d.row->'task_ids') "
            "WITH ORDINALITY AS w(id, n) JOIN tasks t ON t.id = (w.id)::bigint "
            "WHERE d.id = %s ORDER BY w.n", (doc_id,))
        shared: dict[Any, Any] = {}
        return [StoredTask.from_row(i, row, shared) for i, row in rows]

    def put_tasks(self, tasks: Iterable[StoredTask]) -> None:
        params = [_task_params(t) for t in tasks]
        with self._conn(write=True) as conn:
            if params:
                with conn.cursor() as cur:
                    cur.executemany(_TASK_UPSERT, params)
                self._seq_past(conn, "tasks", max(p[0] for p in params))

    def delete_tasks(self, task_ids: Iterable[int]) -> int:
        ids = list(dict.fromkeys(task_ids))
        with self._conn(write=True) as conn:
            if not ids:
                return 0
            return conn.execute("DELETE FROM tasks WHERE id = ANY(%s)", (ids,)).rowcount

    def task_count(self) -> int:
        return int(self._rows("SELECT count(*) FROM tasks")[0][0])

    @staticmethod
    def _due_filter(alias: str, first: date | None, last: date | None,
                    params: list[Any]) -> str:
        parts = []
        if last is not None:
            parts.append(f"{alias}.due <= %s")
            params.append(last)
            if first is not None:
                parts.append(f"{alias}.due >= %s")
                params.append(first)
        elif first is not None:  # no-due tasks sort last: an open end keeps them
            parts.append(f"({alias}.due >= %s OR {alias}.due IS NULL)")
            params.append(first)
        return "".join(" AND " + p for p in parts)

    def _unit_ids(self, keys: Sequence[str], open_only: bool, first: date | None,
                  last: date | None, limit: int | None) -> tuple[str, list[Any]]:
        """SQL selecting (due, task_id) of the tasks of ``keys``, each once, ordered."""
        params: list[Any] = []
        if len(keys) == 1:
            where = "tu.unit_key = %s" + (" AND tu.open" if open_only else "")
            params.append(keys[0])
            where += self._due_filter("tu", first, last, params)
            return (f"SELECT tu.due, tu.task_id FROM task_units tu WHERE {where}", params)
        # One ordered index range per unit, each cut at the page end, merged and deduplicated.
        pieces = []
        for key in keys:
            params.append(key)
            where = "tu.unit_key = %s" + (" AND tu.open" if open_only else "")
            where += self._due_filter("tu", first, last, params)
            cut = ""
            if limit is not None:
                cut = " LIMIT %s"
                params.append(limit)
            pieces.append(f"(SELECT tu.due, tu.task_id FROM task_units tu WHERE {where} "
                          f"ORDER BY tu.due, tu.task_id{cut})")
        return ("SELECT DISTINCT due, task_id FROM (" + " UNION ALL ".join(pieces) + ") AS p",
                params)

    def task_page(self, unit_keys: Sequence[str] | None = None, *, open_only: bool = True,
                  first: date | None = None, last: date | None = None, offset: int = 0,
                  limit: int | None = None) -> list[StoredTask]:
        offset = max(0, offset)
        if limit is not None and limit <= 0:
            return []
        page = ""
        page_params: list[Any] = []
        if limit is not None:
            page += " LIMIT %s"
            page_params.append(limit)
        if offset:
            page += " OFFSET %s"
            page_params.append(offset)
        if unit_keys is None:
            params: list[Any] = []
            where = ("t.open" if open_only else "TRUE") + self._due_filter("t", first, last,
                                                                           params)
            query = f"SELECT t.id, t.row FROM tasks t WHERE {where} ORDER BY t.due, t.id{page}"
        else:
            keys = list(dict.fromkeys(unit_keys))
            if not keys:
                return []
            inner, params = self._unit_ids(keys, open_only, first, last,
                                           None if limit is None else offset + limit)
            query = (f"SELECT t.id, t.row FROM ({inner} ORDER BY due, task_id{page}) AS w "
                     "JOIN tasks t ON t.id = w.task_id ORDER BY w.due, w.task_id")
        shared: dict[Any, Any] = {}
        return [StoredTask.from_row(i, row, shared)
                for i, row in self._rows(query, params + page_params)]

    def count_tasks(self, unit_keys: Sequence[str] | None = None, *, open_only: bool = True,
                    first: date | None = None, last: date | None = None) -> int:
        if unit_keys is None:
            params: list[Any] = []
            where = ("t.open" if open_only else "TRUE") + self._due_filter("t", first, last,
                                                                           params)
            return int(self._rows(f"SELECT count(*) FROM tasks t WHERE {where}", params)[0][0])
        keys = list(dict.fromkeys(unit_keys))
        if not keys:
            return 0
        params = [keys]
        where = "tu.unit_key = ANY(%s)" + (" AND tu.open" if open_only else "")
        where += self._due_filter("tu", first, last, params)
        what = "count(*)" if len(keys) == 1 else "count(DISTINCT tu.task_id)"
        return int(self._rows(f"SELECT {what} FROM task_units tu WHERE {where}", params)[0][0])

    SEARCH_HEAD = 5000
    """Tasks scanned in list order before a search falls back to the trigram index."""

    def search_tasks(self, words: Sequence[str], unit_keys: Sequence[str] | None = None,
                     *, limit: int | None = None) -> list[StoredTask]:
        """Plans that do not depend on the planner's guess of how common a word is (pg_trgm
        cannot know: "hay," and "hay" share their trigrams). Units given: their tasks first
        (a unit has hundreds), then the words. All units: the first :attr:`SEARCH_HEAD`
        tasks in list order are checked (a common word fills the page there); when they hold
        fewer than ``limit`` matches, every match is found through the trigram index and
        sorted (a rare word: few rows)."""
        words = [w for w in words if w]
        if not words:
            raise ValueError("search_tasks needs at least one word")
        if limit is not None and limit <= 0:
            return []
        likes = ["%" + w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
                 for w in words]
        match = " AND ".join(["folded LIKE %s"] * len(likes))
        order = " ORDER BY w.open DESC, w.due, w.id"
        page, page_params = ("", []) if limit is None else (" LIMIT %s", [limit])
        if unit_keys is not None:
            keys = list(dict.fromkeys(unit_keys))
            if not keys:
                return []
            query = ("WITH u AS MATERIALIZED (SELECT DISTINCT task_id FROM task_units "
                     "WHERE unit_key = ANY(%s)) SELECT w.id, w.row FROM u "
                     f"JOIN tasks w ON w.id = u.task_id WHERE {match}{order}{page}")
            return self._task_rows(query, [keys, *likes, *page_params])
        if limit is not None:
            head = ("SELECT w.id, t.row FROM (SELECT id, open, due FROM (SELECT id, folded, "
                    "open, due FROM tasks ORDER BY open DESC, due, id LIMIT %s) AS s "
                    f"WHERE {match} ORDER BY open DESC, due, id LIMIT %s) AS w "
                    f"JOIN tasks t ON t.id = w.id{order}")
            found = self._task_rows(head, [self.SEARCH_HEAD, *likes, limit])
            if len(found) == limit or self._fewer_tasks_than(self.SEARCH_HEAD):
                return found
        query = ("WITH m AS MATERIALIZED (SELECT id FROM tasks WHERE " + match + ") "
                 f"SELECT w.id, w.row FROM m JOIN tasks w ON w.id = m.id{order}{page}")
        return self._task_rows(query, [*likes, *page_params])

    def _fewer_tasks_than(self, count: int) -> bool:
        """Fewer than ``count`` tasks exist (the head scan then saw them all)."""
        rows = self._rows("SELECT count(*) FROM (SELECT 1 FROM tasks LIMIT %s) AS s", (count,))
        return int(rows[0][0]) < count

    def _task_rows(self, query: str, params: Sequence[Any]) -> list[StoredTask]:
        shared: dict[Any, Any] = {}
        return [StoredTask.from_row(i, row, shared) for i, row in self._rows(query, params)]

    def lead_stats(self, today: date, unit_keys: Sequence[str] | None = None,
                   ) -> dict[str, tuple[int, int, int, int]]:
        params: list[Any] = [today, today]
        where = "tu.lead"
        if unit_keys is not None:
            keys = list(dict.fromkeys(unit_keys))
            if not keys:
                return {}
            where += " AND tu.unit_key = ANY(%s)"
            params.append(keys)
        rows = self._rows(
            "SELECT tu.unit_key,"
            " count(*) FILTER (WHERE NOT tu.open AND NOT coalesce(tu.done_day > tu.due, false)),"
            " count(*) FILTER (WHERE NOT tu.open AND coalesce(tu.done_day > tu.due, false)),"
            " count(*) FILTER (WHERE tu.open AND NOT coalesce(tu.due < %s, false)),"
            " count(*) FILTER (WHERE tu.open AND coalesce(tu.due < %s, false)) "
            f"FROM task_units tu WHERE {where} GROUP BY tu.unit_key", params)
        return {key: (int(a), int(b), int(c), int(d)) for key, a, b, c, d in rows}

    # ------------------------------------------------------------------ units
    _UNIT_COLUMNS = "key, name, locality, aliases, generic"

    @staticmethod
    def _unit(row: tuple[Any, ...]) -> StoredUnit:
        key, name, locality, aliases, generic = row
        return StoredUnit(key, name, locality, tuple(aliases), generic)

    def units(self) -> list[StoredUnit]:
        rows = self._rows(f"SELECT {self._UNIT_COLUMNS} FROM unit_list "
                          "ORDER BY sort_locality, sort_name, key COLLATE \"C\"")
        return [self._unit(r) for r in rows]

    def unit(self, key: str) -> StoredUnit | None:
        rows = self._rows(f"SELECT {self._UNIT_COLUMNS} FROM unit_list WHERE key = %s", (key,))
        return self._unit(rows[0]) if rows else None

    def _unit_names(self, keys: Sequence[str]) -> dict[str, str]:
        rows = self._rows("SELECT key, name FROM unit_list WHERE key = ANY(%s)", (list(keys),))
        return dict(rows)

    # ------------------------------------------------------------------ chats, memberships
    def memberships(self, *, unit_key: str | None = None, chat_id: int | None = None,
                    ) -> list[Membership]:
        where: list[str] = ["TRUE"]
        params: list[Any] = []
        if unit_key is not None:
            where.append("unit_key = %s")
            params.append(unit_key)
        if chat_id is not None:
            where.append("chat_id = %s")
            params.append(chat_id)
        rows = self._rows("SELECT id, row FROM subscriptions WHERE " + " AND ".join(where)
                          + " ORDER BY since, id", params)
        return [Membership.from_row(i, row) for i, row in rows]

    def unit_chats(self, unit_key: str) -> list[Chat]:
        return self._chats("c.active AND c.id IN (SELECT chat_id FROM subscriptions "
                           "WHERE unit_key = %s)", (unit_key,))

    # ------------------------------------------------------------------ events
    def task_history(self, task_id: int) -> list[Event]:
        rows = self._rows("SELECT id, row FROM events WHERE task_id = %s ORDER BY id",
                          (task_id,))
        return [Event.from_row(i, row) for i, row in rows]

    def recent_events(self, limit: int) -> list[Event]:
        if limit <= 0:
            return []
        rows = self._rows("SELECT id, row FROM events ORDER BY id DESC LIMIT %s", (limit,))
        return [Event.from_row(i, row) for i, row in rows]

    # ------------------------------------------------------------------ delivery log
    def claim_delivery(self, key: str, *, chat_id: int | None, now: datetime) -> bool:
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("the repository needs timezone-aware datetimes")
        row = Delivery(key, chat_id, CLAIMED, now).to_row()
        with self._conn(write=True) as conn:
            # A concurrent claimer of the same key waits on the row, then sees it claimed.
            cur = conn.execute(
                "INSERT INTO deliveries (key, chat_id, status, at, row) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (key) DO UPDATE SET "
                "chat_id = EXCLUDED.chat_id, status = EXCLUDED.status, at = EXCLUDED.at, "
                "row = EXCLUDED.row WHERE deliveries.status = ANY(%s) "
                "OR (deliveries.status = %s AND deliveries.at <= %s) RETURNING key",
                (key, chat_id, CLAIMED, now, Jsonb(row), list(RECLAIMABLE), CLAIMED,
                 now - CLAIM_TIMEOUT))
            return cur.fetchone() is not None

    def record_delivery(self, delivery: Delivery) -> None:
        self.put(delivery)

    def prune(self, before: datetime) -> PruneCounts:
        with self._conn(write=True) as conn, conn.transaction():
            deliveries = conn.execute("DELETE FROM deliveries WHERE at < %s",
                                      (before,)).rowcount
            events = conn.execute(
                "DELETE FROM events e WHERE e.at < %s"
                " AND NOT (e.task_id IS NOT NULL AND EXISTS "
                "          (SELECT 1 FROM tasks t WHERE t.id = e.task_id))"
                " AND NOT (e.doc_id IS NOT NULL AND EXISTS "
                "          (SELECT 1 FROM documents d WHERE d.id = e.doc_id))",
                (before,)).rowcount
        return PruneCounts(deliveries, events)

    # ------------------------------------------------------------------ reminders
    def unsent_reminders(self, *, until: datetime | None = None,
                         task_ids: Iterable[int] | None = None,
                         chat_id: int | None = None) -> list[Reminder]:
        where: list[str] = ["sent_at IS NULL"]
        params: list[Any] = []
        if until is not None:
            where.append("at <= %s")
            params.append(until)
        if task_ids is not None:
            where.append("task_id = ANY(%s)")
            params.append(list(task_ids))
        if chat_id is not None:
            where.append("chat_id = %s")
            params.append(chat_id)
        rows = self._rows("SELECT id, row FROM reminders WHERE " + " AND ".join(where)
                          + " ORDER BY at, id", params)
        return [Reminder.from_row(i, row) for i, row in rows]

    # ------------------------------------------------------------------ digest
    def digest_source(self, chat_ids: Iterable[int] | None = None) -> DigestSource:
        with self._snapshot():
            if chat_ids is None:
                chats = self._chats("c.active AND EXISTS (SELECT 1 FROM subscriptions s "
                                    "WHERE s.chat_id = c.id)", ())
            else:
                chats = self._chats("c.active AND c.id = ANY(%s) AND EXISTS (SELECT 1 FROM "
                                    "subscriptions s WHERE s.chat_id = c.id)",
                                    (list(chat_ids),))
            keys = list(dict.fromkeys(k for c in chats for k in c.unit_keys))
            open_tasks: dict[str, list[StoredTask]] = {}
            documents: dict[int, StoredDocument] = {}
            snoozes: dict[int, date] = {}
            if keys:
                rows = self._rows(
                    "SELECT tu.unit_key, t.id, t.row FROM task_units tu JOIN tasks t "
                    "ON t.id = tu.task_id WHERE tu.unit_key = ANY(%s) AND tu.open "
                    "ORDER BY tu.unit_key, tu.due, tu.task_id", (keys,))
                shared: dict[Any, Any] = {}
                tasks: dict[int, StoredTask] = {}
                for key, task_id, row in rows:
                    task = tasks.get(task_id)
                    if task is None:
                        task = tasks[task_id] = StoredTask.from_row(task_id, row, shared)
                    open_tasks.setdefault(key, []).append(task)
                doc_ids = sorted({t.doc_id for t in tasks.values()})
                for i, row in self._rows("SELECT id, row FROM documents WHERE id = ANY(%s)",
                                         (doc_ids,)):
                    documents[i] = StoredDocument.from_row(i, row)
            for task_id, until in self._rows("SELECT s.id, s.until FROM snoozes s "
                                             "JOIN tasks t ON t.id = s.id"):
                snoozes[task_id] = until
        found = self._unit_names(keys) if keys else {}
        names = {key: found.get(key, key) for key in keys}
        return DigestSource(chats, open_tasks, documents, names, snoozes)

    # ------------------------------------------------------------------ bulk (migration, bench)
    def copy_rows(self, table: str, items: Iterable[tuple[Any, dict[str, Any]]]) -> int:
        """COPY ``(key, row)`` pairs into ``table`` (rows in ``to_row()`` form; units rows
        carry their ``version``). Inside the caller's transaction when there is one.

        Tasks: the per-row ``task_units`` trigger is off during the COPY (a lock on the table
        until the transaction ends: for moves and benchmarks, not a running bot) and the join
        rows of the copied tasks are made by one INSERT … SELECT after it (~3x faster)."""
        kind = TABLE_KINDS.get(table)
        key_col = "id" if table == "tasks" else KINDS[kind].key  # type: ignore[index]
        extra = ["version"] if table == "units" else []
        cols = [key_col, *pgschema.column_names(table), *extra, "row"]
        ids: list[Any] = []
        directories: list[tuple[Any, Any, Any]] = []
        with self._conn(write=True) as conn, conn.transaction(), conn.cursor() as cur:
            if table == "tasks":
                cur.execute("ALTER TABLE tasks DISABLE TRIGGER tasks_units")
            stmt = sql.SQL("COPY {t} ({c}) FROM STDIN").format(
                t=sql.Identifier(table), c=sql.SQL(", ").join(map(sql.Identifier, cols)))
            with cur.copy(stmt) as copy:
                for key, row in items:
                    derived = pgschema.columns(table, row)
                    values = [key, *(derived[c] for c in pgschema.column_names(table))]
                    if table == "units":
                        row = dict(row)
                        values.append(int(row.pop("version", 1) or 1))
                    values.append(Jsonb(row))
                    copy.write_row(values)
                    ids.append(key)
                    if table == "units":
                        directories.append((key, row.get("locality"), row["directory"]))
            if table == "units":
                with cur.copy("COPY unit_list (key, loc, name, locality, aliases, generic, "
                              "sort_locality, sort_name) FROM STDIN") as copy:
                    for loc, locality, directory in directories:
                        for unit_row in pgschema.unit_list_rows(loc, locality, directory,
                                                                self._labels):
                            copy.write_row(unit_row)
            if table == "tasks":
                cur.execute(
                    "INSERT INTO task_units (unit_key, task_id, lead, open, due, done_day) "
                    "SELECT k.u, t.id, k.u = ANY (t.lead), t.open, t.due, t.done_day "
                    "FROM tasks t CROSS JOIN LATERAL (SELECT DISTINCT unnest(t.units) AS u) k "
                    "WHERE t.id = ANY(%s::bigint[])", (ids,))
                cur.execute("ALTER TABLE tasks ENABLE TRIGGER tasks_units")
        return len(ids)

    def set_sequences(self, tops: dict[str, int]) -> None:
        """Make every sequence hand out ids above ``tops[kind]`` and above every stored id."""
        with self._conn(write=True) as conn:
            for kind in ID_KINDS:
                top = int(tops.get(kind, 0))
                if kind not in ("deliveries", "units"):
                    found = _scalar(conn.execute(sql.SQL(
                        "SELECT coalesce(max(id), 0) FROM {}").format(sql.Identifier(kind))))
                    top = max(top, int(found))
                if top > 0:  # never backwards: ids handed out before stay unique
                    seq = sql.Identifier(f"{kind}_id_seq")
                    conn.execute(sql.SQL(
                        "SELECT setval({0}, greatest(%s, (SELECT CASE WHEN is_called THEN "
                        "last_value ELSE 0 END FROM {1})))").format(
                            sql.Literal(f"{kind}_id_seq"), seq), (top,))

