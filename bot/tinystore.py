"""The embedded default :class:`bot.repository.Repository`: TinyDB, used through its API.

Layers, bottom up:

* :class:`AtomicJSONStorage` — a ``tinydb.storages.Storage``: the database as one JSON file
  laid out one row per line (read a megabyte at a time), written whole to ``<name>.tmp``,
  fsynced and renamed over the old file (after a crash: the previous or the new state, never
  a mix). Once the file is big (``journal_from``), a write whose changed rows are known
  (:attr:`AtomicJSONStorage.changes`, set by the middleware below) appends them as one
  fsynced line to ``<name>.journal`` instead (~1 ms instead of ~1.5 s at 100k tasks); the
  journal names the generation of the file it extends, is replayed at load (a torn last line
  ignored) and is folded back by a whole rewrite once it outgrows ``journal_limit()``. The
  writer holds two advisory locks (a ``.lock`` file and the data file's inode) so a second
  bot cannot open the same data; a read-only storage takes no lock and never writes,
  truncates or renames anything.
* :class:`TransactionMiddleware` — a ``tinydb.middlewares.Middleware``: keeps the data in
  memory (TinyDB re-reads the storage on every operation otherwise), groups the writes of a
  transaction into one storage write (nothing reaches the storage before the outermost
  block ends; an exception restores the data as it was), and tells the storage which rows
  changed, found by identity: TinyDB's ``Table`` builds a new dict per table on each write
  and keeps unchanged rows as the same objects, so a row that is not the same object as at
  the last write is new. Rows must therefore be replaced, never mutated in place
  (:class:`TinyRepository` replaces with ``remove`` + ``insert``; never ``update``).
* :class:`TinyRepository` — the Protocol over ``db.table(name)`` with
  ``insert``/``insert_multiple``/``remove``/``get``/iteration of ``Document(row,
  doc_id=...)``, plus in-memory indexes (tasks by unit, status and due date; documents by
  hash and identity; memberships; delivery keys) rebuilt at load and kept in step with every
  write (rebuilt from the restored data when a transaction rolls back).

Not thread-safe: one thread (the event loop) and one writer process.
"""

from __future__ import annotations

import contextlib
import gc
import heapq
import itertools
import json
import logging
import os
import re
import secrets
from bisect import bisect_left, insort
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from tinydb import Storage, TinyDB
from tinydb.middlewares import Middleware
from tinydb.table import Document, Table

from bot.errors import BotError, ConfigError
from bot.records import (
    DONE,
    OPEN,
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
    _cached_date,
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
    directory_units,
    search_fold,
)
from bot.text import fold

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory lock, single writer by convention
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "SCHEMA_VERSION", "TABLES", "AtomicJSONStorage", "TransactionMiddleware", "TinyRepository",
    "migrate",
]

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 3
"""2: the file may come with a journal (``<name>.journal``) that older versions would ignore,
so they must refuse it. 3: tasks are spread over tables of :data:`TASK_SHARD` ids ("tasks"
for ids below it, then "tasks.1", "tasks.2"...): TinyDB rebuilds a whole table on every
write, so a write costs a shard, not 100,000 rows; version 2 code would miss the shards."""
TASK_SHARD_BITS = 12
TASK_SHARD = 1 << TASK_SHARD_BITS


def task_table(task_id: int) -> str:
    """The table holding task ``task_id``."""
    shard = task_id >> TASK_SHARD_BITS
    return f"tasks.{shard}" if shard else "tasks"


def is_task_table(name: str) -> bool:
    return name == "tasks" or name.startswith("tasks.")
TABLES = (
    "meta", "documents", "tasks", "units", "chats", "subscriptions", "events", "deliveries",
    "reminders", "announcements",
)
META_ID = 1
_LOCK_TRIES = 5
"""Attempts to lock a file whose name keeps being replaced (a whole write of the holder)."""


# ------------------------------------------------------------------------------------------
# Storage
# ------------------------------------------------------------------------------------------
def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (POSIX); silently skipped where unsupported."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_encode = _ENCODER.encode
_CHUNK_BYTES = 1 << 20
"""Rows are parsed and written in pieces of about this size: memory stays flat."""
_JOURNAL_VERSION = 1
_LAYOUT_RE = re.compile(rb'\s*(?:}|"(?:[^"\\]|\\.)*":\{)\s*$')
"""Second line of a file in the one-row-per-line layout: a table opening, or the end."""


def damaged(path: Path, detail: str) -> ConfigError:
    return ConfigError(f"Tệp dữ liệu {path} bị hỏng ({detail}). Hãy khôi phục từ bản sao lưu.")


def _parse_rows(path: Path, lines: list[bytes], first_line: int) -> dict[str, Any]:
    """``"id":{row},`` lines of one table as one dict (one C-level parse per chunk)."""
    body = b"".join(lines).rstrip()
    if body.endswith(b","):
        body = body[:-1]
    try:
        rows = json.loads(b"{" + body + b"}")
    except json.JSONDecodeError as exc:
        raise damaged(path, f"JSON sai ở dòng {first_line + exc.lineno - 1}") from None
    except UnicodeDecodeError:
        raise damaged(path, "không phải văn bản UTF-8") from None
    if not all(isinstance(row, dict) for row in rows.values()):
        raise ConfigError(f"Tệp dữ liệu {path} không đúng định dạng của bot. "
                          "Hãy khôi phục từ bản sao lưu.")
    return rows


Changes = tuple[dict[str, dict[str, Any]], dict[str, list[str]]]
"""(rows put per table, row ids deleted per table)."""


class AtomicJSONStorage(Storage):
    """TinyDB storage that never leaves a half-written database behind (see the module).

    ``read_only``: no lock, and :meth:`write` raises :class:`ReadOnlyError`; a torn journal
    line is ignored but left on disk (the writer that owns it cuts it).
    If a write fails, :class:`StorageError` is raised and the files keep their content.
    """

    journal_from = 256 << 10
    """Files smaller than this are rewritten whole on every write (cheap, one plain file);
    above it a write is one appended line, so the delivery log stays cheap per message."""
    journal_min = 2 << 20

    def __init__(self, path: str | os.PathLike[str], create_dirs: bool = True,
                 lock: bool = False, read_only: bool = False) -> None:
        super().__init__()
        self.path = Path(path)
        self.read_only = read_only
        self.tmp_path = self.path.with_name(self.path.name + ".tmp")
        self.journal_path = self.path.with_name(self.path.name + ".journal")
        self.writes = 0
        self.changes: Changes | None = None
        """Rows changed since the last write, set by the caller just before :meth:`write`
        when it knows them (then the write may be a journal line); None: write whole."""
        self._data: dict[str, dict[str, Any]] | None = None
        self._loaded = False
        self._lock_fd: int | None = None
        self._data_lock_fd: int | None = None
        """A lock on the data file's current inode (see :meth:`_lock`)."""
        self._locking = False
        self._generation: str | None = None
        """Generation of the file on disk, when it is known to be a Store's."""
        self._file_bytes = 0
        self._journal_fd: int | None = None
        self._journal_bytes = 0
        """Bytes of the journal that belong to the current file (0: none, create it)."""
        if create_dirs and not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        if lock and not read_only:
            self._lock()

    # ------------------------------------------------------------------ locking
    def _lock(self) -> None:
        """Hold two advisory locks for the life of the storage: the ``.lock`` file (it guards
        a database not written yet) and the data file itself, so an operator deleting the
        lock file cannot let a second bot start on the same data. The data file is replaced
        by a rename on each whole write: :meth:`_write_whole` locks the new file before it
        takes the name, so the name never points at an unlocked database."""
        if fcntl is None:
            return
        self._locking = True
        lock_fd = self._lock_path(self.path.with_name(self.path.name + ".lock"), create=True)
        assert lock_fd is not None  # create=True always opens the file
        self._lock_fd = lock_fd
        try:
            self._data_lock_fd = self._lock_path(self.path, create=False)
        except BaseException:
            os.close(lock_fd)
            self._lock_fd = None
            raise

    def _busy(self) -> ConfigError:
        return ConfigError(
            f"Tệp dữ liệu {self.path} đang được một tiến trình bot khác sử dụng. Mỗi thư "
            "mục dữ liệu chỉ cho một bot chạy; hãy dừng tiến trình kia trước.")

    def _lock_path(self, path: Path, *, create: bool) -> int | None:
        """Open and flock ``path``, then check that the name still points at the locked
        inode (it may have been deleted or renamed over in between); retry if not. Returns
        the descriptor, or None when ``path`` does not exist and ``create`` is false."""
        assert fcntl is not None
        for _ in range(_LOCK_TRIES):
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT if create else os.O_RDONLY, 0o600)
            except FileNotFoundError:
                if create:
                    raise
                return None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                raise self._busy() from None
            held = os.fstat(fd)
            try:
                named = os.stat(path)
            except FileNotFoundError:
                named = None
            if named is not None and (named.st_dev, named.st_ino) == (held.st_dev, held.st_ino):
                return fd
            os.close(fd)  # we locked a file that no longer has this name: lock the new one
            if named is None and not create:
                return None
        raise self._busy()

    # ------------------------------------------------------------------ reading
    def read(self) -> dict[str, dict[str, Any]] | None:
        """The whole database (journal applied) as plain dicts; parsed once, then cached."""
        if not self._loaded:
            data: dict[str, dict[str, Any]] = {}
            for table, rows in self._scan():
                data.setdefault(table, {}).update(rows)
            self._data = data if data or self._file_bytes else None
            self._loaded = True
        return self._data

    def _scan(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """The database as ``(table, rows)`` pieces, journal applied; meta first if present."""
        self._generation, self._file_bytes, self._journal_bytes = None, 0, 0
        try:
            handle = self.path.open("rb")
        except FileNotFoundError:
            return
        except OSError as exc:
            raise ConfigError(f"Không đọc được tệp dữ liệu {self.path}: {exc.strerror}.") from None
        with handle:
            self._file_bytes = os.fstat(handle.fileno()).st_size
            first = handle.readline()
            second = handle.readline() if first.rstrip() == b"{" else b""
            if _LAYOUT_RE.match(second):  # one row per line: read a chunk at a time
                pieces = self._scan_lines(itertools.chain([second], handle))
            else:
                pieces = self._scan_whole(first + second + handle.read())
            head = next(pieces, None)
            if head is not None and head[0] == "meta":
                generation = (head[1].get(str(META_ID)) or {}).get("generation")
                self._generation = generation if isinstance(generation, str) else None
            overlay = self._read_journal()
            if head is not None:
                yield self._merge(overlay, head)
            for piece in pieces:
                yield self._merge(overlay, piece)
        for table, rows in overlay.items():
            added = {row_id: row for row_id, row in rows.items() if row is not None}
            if added:
                yield table, added

    @staticmethod
    def _merge(overlay: dict[str, dict[str, Any]],
               piece: tuple[str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
        table, rows = piece
        changes = overlay.get(table)
        if changes:
            for row_id in [r for r in changes if r in rows]:
                row = changes.pop(row_id)
                if row is None:
                    del rows[row_id]
                else:
                    rows[row_id] = row
        return table, rows

    def _scan_whole(self, raw: bytes) -> Iterator[tuple[str, dict[str, Any]]]:
        """A file in the single-line layout (written by older versions, or by hand)."""
        if not raw.strip():
            return
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise damaged(self.path, f"JSON sai ở dòng {exc.lineno}, cột {exc.colno}") from None
        except UnicodeDecodeError:
            raise damaged(self.path, "không phải văn bản UTF-8") from None
        del raw
        if not isinstance(data, dict) or not all(isinstance(t, dict) for t in data.values()):
            raise ConfigError(
                f"Tệp dữ liệu {self.path} không đúng định dạng của bot. "
                "Hãy khôi phục từ bản sao lưu."
            )
        if "meta" in data:
            yield "meta", data.pop("meta")
        while data:
            yield data.popitem()

    def _scan_lines(self, handle: Any) -> Iterator[tuple[str, dict[str, Any]]]:
        """The one-row-per-line layout, a chunk of rows at a time."""
        number = 1
        table: str | None = None
        chunk: list[bytes] = []
        size = start = 0
        closed = False
        for line in handle:
            number += 1
            text = line.strip()
            if closed:
                if text:
                    raise damaged(self.path, f"thừa dữ liệu ở dòng {number}")
                continue
            if table is None:
                if text == b"}":
                    closed = True
                    continue
                if not text.endswith(b":{"):
                    raise damaged(self.path, f"dòng {number} không mở một bảng")
                try:
                    table = json.loads(text[:-2])
                except (json.JSONDecodeError, UnicodeDecodeError):
                    table = None
                if not isinstance(table, str):
                    raise damaged(self.path, f"tên bảng sai ở dòng {number}")
                chunk, size, start = [], 0, number + 1
                continue
            if text in (b"}", b"},"):
                yield table, _parse_rows(self.path, chunk, start)
                table, chunk = None, []
                continue
            chunk.append(line)
            size += len(line)
            if size >= _CHUNK_BYTES and text.endswith(b","):
                yield table, _parse_rows(self.path, chunk, start)
                chunk, size, start = [], 0, number + 1
        if not closed:
            raise damaged(self.path, "tệp bị cắt cụt")

    def _read_journal(self) -> dict[str, dict[str, Any]]:
        """Row changes (None: deleted) of the journal of this file; a torn last line is
        ignored (and cut off, unless read-only)."""
        overlay: dict[str, dict[str, Any]] = {}
        try:
            raw = self.journal_path.read_bytes()
        except FileNotFoundError:
            return overlay
        except OSError as exc:
            raise ConfigError(f"Không đọc được tệp {self.journal_path}: {exc.strerror}.") from None
        lines = raw.split(b"\n")
        torn = lines.pop()  # b"" when the journal ends with a whole line
        try:
            header = json.loads(lines[0]) if lines else None
        except (json.JSONDecodeError, UnicodeDecodeError):
            header = None
        if (self._generation is None or not isinstance(header, dict)
                or header.get("generation") != self._generation):
            if raw:
                logger.warning("ignoring %s: it does not belong to this data file (%s)",
                               self.journal_path, "torn" if lines else "no header")
            return overlay
        if header.get("journal") != _JOURNAL_VERSION:
            raise ConfigError(f"Tệp {self.journal_path} có định dạng mới hơn bot này hiểu. "
                              "Hãy cập nhật bot.")
        for number, line in enumerate(lines[1:], start=2):
            try:
                batch = json.loads(line)
                puts, deletes = batch.get("put") or {}, batch.get("del") or {}
                for table, ids in deletes.items():
                    changes = overlay.setdefault(table, {})
                    for row_id in ids:
                        changes[str(row_id)] = None
                for table, rows in puts.items():
                    if not all(isinstance(row, dict) for row in rows.values()):
                        raise TypeError(table)
                    overlay.setdefault(table, {}).update(rows)
            except (json.JSONDecodeError, UnicodeDecodeError, AttributeError, TypeError):
                raise ConfigError(
                    f"Tệp {self.journal_path} bị hỏng ở dòng {number}. "
                    "Hãy khôi phục từ bản sao lưu."
                ) from None
        good = len(raw) - len(torn)
        if torn:
            logger.warning("%s: ignoring a torn last line (%d bytes)", self.journal_path,
                           len(torn))
            if not self.read_only:  # the running writer's journal is not ours to cut
                with contextlib.suppress(OSError):
                    os.truncate(self.journal_path, good)
        self._journal_bytes = good
        return overlay

    # ------------------------------------------------------------------ writing
    def journal_limit(self) -> int:
        """Journal size past which the next write rewrites the whole file instead."""
        return max(self.journal_min, self._file_bytes // 16)

    def write(self, data: Mapping[str, Mapping[str, Any]]) -> None:
        changes, self.changes = self.changes, None
        if self.read_only:
            raise ReadOnlyError(f"Tệp dữ liệu {self.path} đang được mở chỉ để đọc; "
                                "không ghi được thay đổi.")
        try:
            line = self._journal_line(changes) if changes is not None else None
            if (line is not None and self._generation is not None
                    and self._file_bytes >= self.journal_from
                    and self._journal_bytes + len(line) <= self.journal_limit()):
                self._append(line)
            else:
                self._write_whole(data)
        except BaseException as exc:
            self._data, self._loaded = None, False
            with contextlib.suppress(OSError):
                self.tmp_path.unlink()
            if isinstance(exc, OSError):
                logger.error("could not write %s: %s", self.path, exc)
                raise StorageError(
                    f"Không ghi được dữ liệu vào {self.path} ({exc.strerror or exc}); "
                    "thay đổi vừa rồi chưa được lưu."
                ) from exc
            raise
        self._data, self._loaded = data, True  # type: ignore[assignment]
        self.writes += 1

    @staticmethod
    def _journal_line(changes: Changes) -> bytes:
        puts, deletes = changes
        return _encode({"put": {t: r for t, r in puts.items() if r},
                        "del": {t: sorted(i) for t, i in deletes.items() if i}}
                       ).encode("utf-8") + b"\n"

    def _append(self, line: bytes) -> None:
        """One fsynced journal line; on failure the journal is cut back to where it was."""
        created = self._journal_bytes == 0
        if created:
            self._close_journal()
            header = _encode({"journal": _JOURNAL_VERSION, "generation": self._generation})
            line = header.encode() + b"\n" + line
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND
            self._journal_fd = os.open(self.journal_path, flags, 0o600)
        elif self._journal_fd is None:
            self._journal_fd = os.open(self.journal_path, os.O_WRONLY | os.O_APPEND)
        fd = self._journal_fd
        try:
            view = memoryview(line)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
            if created:
                _fsync_dir(self.path.parent)
        except BaseException:
            try:
                os.ftruncate(fd, self._journal_bytes)
            except OSError:  # unknown tail: make the next write rewrite everything
                self._generation = None
            raise
        self._journal_bytes += len(line)

    def _write_whole(self, data: Mapping[str, Mapping[str, Any]]) -> None:
        """Temporary file, fsync, rename, fsync the directory; then drop the old journal."""
        generation = secrets.token_hex(8) if "meta" in data else None
        fd = os.open(self.tmp_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        new_lock: int | None = None
        try:
            with os.fdopen(fd, "wb") as handle:
                size = _dump(handle, data, generation)
                handle.flush()
                os.fsync(handle.fileno())
            if self._locking and fcntl is not None:
                # Locked before it takes the name: the data file is never unlocked.
                new_lock = os.open(self.tmp_path, os.O_RDONLY)
                fcntl.flock(new_lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.replace(self.tmp_path, self.path)
        except BaseException:
            if new_lock is not None:
                os.close(new_lock)
            raise
        if new_lock is not None:
            if self._data_lock_fd is not None:
                os.close(self._data_lock_fd)  # the old inode has no name any more
            self._data_lock_fd = new_lock
        _fsync_dir(self.path.parent)
        self._generation, self._file_bytes = generation, size
        self._close_journal()
        self._journal_bytes = 0
        if self.journal_path.exists():  # now a journal of another generation: harmless
            with contextlib.suppress(OSError):
                self.journal_path.unlink()
                _fsync_dir(self.path.parent)

    def _close_journal(self) -> None:
        if self._journal_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._journal_fd)
            self._journal_fd = None

    def close(self) -> None:
        self._close_journal()
        if self._data_lock_fd is not None:
            os.close(self._data_lock_fd)
            self._data_lock_fd = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the flock
            self._lock_fd = None


def _dump(handle: Any, data: Mapping[str, Mapping[str, Any]], generation: str | None) -> int:
    """Write ``data`` in the one-row-per-line layout, a chunk at a time; returns the size.

    The meta table comes first; its row 1 is stamped with ``generation`` (on the way out:
    ``data`` itself is not changed)."""
    names = sorted(data, key=lambda n: n != "meta")
    size = 0
    buffer: list[str] = ["{\n"]
    pending = 2
    opened = False
    for name in names:
        rows: Iterable[tuple[str, Any]] = data[name].items()
        if name == "meta" and generation is not None:
            rows = [(k, {**row, "generation": generation} if k == str(META_ID) else row)
                    for k, row in rows]
        buffer.append(("},\n" if opened else "") + _encode(name) + ":{\n")
        opened = True
        first = True
        for row_id, row in rows:
            piece = ("" if first else ",\n") + _encode(str(row_id)) + ":" + _encode(row)
            first = False
            buffer.append(piece)
            pending += len(piece)
            if pending >= _CHUNK_BYTES:
                chunk = "".join(buffer).encode("utf-8")
                handle.write(chunk)
                size += len(chunk)
                buffer, pending = [], 0
        buffer.append("\n")
    buffer.append("}\n}\n" if opened else "}\n")
    chunk = "".join(buffer).encode("utf-8")
    handle.write(chunk)
    return size + len(chunk)


# ------------------------------------------------------------------------------------------
# Middleware: in-memory data, transactions, changed rows
# ------------------------------------------------------------------------------------------
class TransactionMiddleware(Middleware):
    """Caches the data, defers writes to the end of the outermost transaction, rolls back.

    ``TinyDB(path, storage=TransactionMiddleware(AtomicJSONStorage))``. Outside a
    transaction every TinyDB write is written through at once.
    """

    def __init__(self, storage_cls: Any = AtomicJSONStorage) -> None:
        super().__init__(storage_cls)
        self._data: dict[str, dict[str, Any]] | None = None
        self._base: dict[str, dict[str, Any]] = {}
        """The tables as last written (the same dict objects: TinyDB replaces, not edits)."""
        self.depth = 0
        self.commits = 0
        self._touched: dict[str, set[str]] = {}
        """Row ids a caller says it changed, per table: the diff then costs those rows."""

    def touch(self, table: str, row_ids: Iterable[int | str]) -> None:
        """Declare the rows of ``table`` a write is about to change (an optional hint: a
        table changed without one is compared row by row)."""
        self._touched.setdefault(table, set()).update(str(i) for i in row_ids)

    _OWN = frozenset({"_storage_cls", "storage", "_data", "_base", "depth", "commits",
                      "_touched"})

    def __setattr__(self, name: str, value: Any) -> None:
        """Attributes the middleware does not own are the storage's: TinyDB's Middleware
        already forwards reads of them (``db.storage.writes``), writes follow the same way."""
        if name in self._OWN or self.__dict__.get("storage") is None:
            object.__setattr__(self, name, value)
        else:
            setattr(self.storage, name, value)

    def read(self) -> dict[str, dict[str, Any]]:
        if self._data is None:
            self._data = self.storage.read() or {}
            self._base = dict(self._data)
        return self._data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        self._data = data
        if self.depth == 0:
            self.flush()

    def changes(self) -> Changes:
        """Rows put and deleted since the last write, per table (by object identity)."""
        data = self.read()
        puts: dict[str, dict[str, Any]] = {}
        deletes: dict[str, list[str]] = {}
        for name in set(data) | set(self._base):
            new, old = data.get(name, {}), self._base.get(name, {})
            if new is old:
                continue
            hinted = self._touched.get(name)
            if hinted is not None and (name in self._base or not old):
                for k in hinted:
                    row = new.get(k)
                    if row is None:
                        if k in old:
                            deletes.setdefault(name, []).append(k)
                    elif old.get(k) is not row:
                        puts.setdefault(name, {})[k] = row
                continue
            changed = {k: v for k, v in new.items() if old.get(k) is not v}
            gone = [k for k in old if k not in new] if len(new) - len(changed) < len(old) \
                else []
            if changed:
                puts[name] = changed
            if gone:
                deletes[name] = gone
        return puts, deletes

    def flush(self, *, whole: bool = False) -> bool:
        """Write what changed since the last write (``whole``: the whole file, even when
        nothing changed); True when something was written. On failure the data goes back to
        the last written state and the error propagates."""
        data = self.read()
        puts, deletes = self.changes()
        self._touched = {}
        if not whole and not puts and not deletes:
            self._base = dict(data)
            return False
        storage = self.storage
        if isinstance(storage, AtomicJSONStorage):
            storage.changes = None if whole else (puts, deletes)
        try:
            storage.write(data)
        except BaseException:
            self.rollback()
            raise
        self._base = dict(data)
        self.commits += 1
        return True

    def replace_data(self, data: dict[str, dict[str, Any]]) -> None:
        """Use ``data`` as the database in memory (a read-only view of a migration)."""
        self._data = data

    @property
    def dirty(self) -> bool:
        """Whether anything changed since the last write (tables are replaced, not edited)."""
        data = self._data
        if data is None:
            return False
        return len(data) != len(self._base) or any(
            data[name] is not self._base.get(name) for name in data)

    def rollback(self) -> None:
        """Forget every change since the last write."""
        self._data = dict(self._base)
        self._touched = {}

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self.read()
        self.depth += 1
        try:
            yield
        except BaseException:
            self.depth -= 1
            if self.depth == 0:
                self.rollback()
            raise
        self.depth -= 1
        if self.depth == 0:
            self.flush()

    def close(self) -> None:
        self.storage.close()


# ------------------------------------------------------------------------------------------
# Schema
# ------------------------------------------------------------------------------------------
_SEQ_TABLES = ID_KINDS


def _schema_version(data: Mapping[str, Any]) -> int | None:
    row = (data.get("meta") or {}).get(str(META_ID))
    if row is None:
        return None
    return int(row.get("schema_version", 0))


def _max_ids(data: Mapping[str, Any]) -> dict[str, int]:
    return {name: max((int(i) for i in data.get(name) or ()), default=0) for name in _SEQ_TABLES}


def _migrate_0_to_1(data: dict[str, Any]) -> dict[str, Any]:
    """Version 0 (pre-release) kept ``done: bool`` on tasks and no id counters."""
    tasks = {}
    for row_id, row in (data.get("tasks") or {}).items():
        row = dict(row)
        if "status" not in row:
            row["status"] = DONE if row.pop("done", False) else OPEN
        row.setdefault("due_kind", "explicit" if row.get("due") else None)
        row.setdefault("original_due", row.get("due"))
        row.setdefault("fp", "")
        tasks[row_id] = row
    data["tasks"] = tasks
    data["meta"] = {str(META_ID): {"schema_version": 1, "seq": _max_ids(data)}}
    return data


def _migrate_1_to_2(data: dict[str, Any]) -> dict[str, Any]:
    """Same tables; the new version number keeps older bots away from a journaled file."""
    meta = dict((data.get("meta") or {}).get(str(META_ID)) or {})
    meta["schema_version"] = 2
    data["meta"] = {str(META_ID): meta}
    return data


def _migrate_2_to_3(data: dict[str, Any]) -> dict[str, Any]:
    """Tasks move into their shards (see :data:`SCHEMA_VERSION`)."""
    tasks = data.get("tasks") or {}
    if any(int(i) >= TASK_SHARD for i in tasks):
        shards: dict[str, dict[str, Any]] = {}
        for row_id, row in tasks.items():
            shards.setdefault(task_table(int(row_id)), {})[row_id] = row
        data["tasks"] = shards.pop("tasks", {})
        data.update(shards)
    meta = dict((data.get("meta") or {}).get(str(META_ID)) or {})
    meta["schema_version"] = 3
    data["meta"] = {str(META_ID): meta}
    return data


_MIGRATIONS = {0: _migrate_0_to_1, 1: _migrate_1_to_2, 2: _migrate_2_to_3}


def migrate(data: Mapping[str, Any] | None) -> tuple[dict[str, Any], bool]:
    """Bring raw database data to :data:`SCHEMA_VERSION`; returns ``(data, changed)``.

    A file without a meta row but with records is version 0; an empty one is new. Tables
    a migration does not touch stay the same objects.
    """
    out: dict[str, Any] = dict(data or {})
    version = _schema_version(out)
    changed = False
    if version is None:
        if any(out.values()):
            version = 0
        else:
            out["meta"] = {str(META_ID): {"schema_version": SCHEMA_VERSION, "seq": {}}}
            version, changed = SCHEMA_VERSION, True
    if version > SCHEMA_VERSION:
        raise ConfigError(
            f"Tệp dữ liệu có phiên bản {version}, mới hơn phiên bản {SCHEMA_VERSION} mà bot "
            "này hiểu. Hãy cập nhật bot."
        )
    while version < SCHEMA_VERSION:
        logger.info("migrating data from schema %s to %s", version, version + 1)
        out = _MIGRATIONS[version](out)
        version += 1
        changed = True
    for name in TABLES:
        if name not in out:
            out[name] = {}
            changed = True
    return out, changed


# ------------------------------------------------------------------------------------------
# Task index
# ------------------------------------------------------------------------------------------
_SHIFT = 32
ID_MASK = (1 << _SHIFT) - 1
_NO_DUE = date.max.toordinal() + 1


def _row_key(task_id: int, row: Mapping[str, Any]) -> int:
    """(due, id) packed in one int: tasks without a due date sort last."""
    due = _cached_date(row.get("due"))
    return ((due.toordinal() if due else _NO_DUE) << _SHIFT) | task_id


def _row_units(row: Mapping[str, Any]) -> list[str]:
    lead = row.get("lead") or ()
    support = row.get("support") or ()
    return [*lead, *(k for k in support if k not in lead)] if support else list(lead)


class _SortedIds:
    """Task keys ordered by (due, id); bisect answers a date range in O(log n)."""

    __slots__ = ("keys",)

    def __init__(self, keys: list[int] | None = None) -> None:
        self.keys = keys if keys is not None else []

    def add(self, key: int) -> None:
        insort(self.keys, key)

    def discard(self, key: int) -> None:
        i = bisect_left(self.keys, key)
        if i < len(self.keys) and self.keys[i] == key:
            del self.keys[i]

    def bounds(self, first: date | None, last: date | None) -> tuple[int, int]:
        lo = 0 if first is None else bisect_left(self.keys, first.toordinal() << _SHIFT)
        hi = (len(self.keys) if last is None
              else bisect_left(self.keys, (last.toordinal() + 1) << _SHIFT))
        return lo, max(lo, hi)


class _SearchIndex:
    """Folded task texts for /timkiem, as one string per block of :data:`TASK_SHARD` ids
    (texts joined by newlines): a word is looked for with ``str.find`` over the whole block
    (C speed) instead of one Python test per task. Built on the first search (folding
    100,000 texts takes seconds, as before); a changed or deleted task only marks its block,
    which is rebuilt from slices of the old one on the next search."""

    __slots__ = ("_blocks", "_pos", "_pending", "_ready")

    def __init__(self) -> None:
        self._blocks: dict[int, tuple[str, list[int], list[int]]] = {}
        """block -> (joined text, start offsets, task ids), in id order."""
        self._pos: dict[int, int] = {}
        """task id -> its index in its block."""
        self._pending: set[int] = set()
        self._ready = False

    def mark(self, task_id: int) -> None:
        """The text of ``task_id`` changed, or the task came or went."""
        if self._ready:
            self._pending.add(task_id)

    def _fresh(self, row_of: Any, all_ids: Iterable[int]) -> None:
        if not self._ready:
            self._pending = set(all_ids)
            self._ready = True
        if not self._pending:
            return
        by_block: dict[int, list[int]] = defaultdict(list)
        for task_id in self._pending:
            by_block[task_id >> TASK_SHARD_BITS].append(task_id)
        for block, changed in by_block.items():
            texts: dict[int, str] = {}
            old = self._blocks.get(block)
            if old is not None:
                joined, starts, ids = old
                for index, task_id in enumerate(ids):
                    end = starts[index + 1] - 1 if index + 1 < len(ids) else len(joined) - 1
                    texts[task_id] = joined[starts[index]:end]
            for task_id in changed:
                row = row_of(task_id)
                if row is None:
                    texts.pop(task_id, None)
                else:
                    texts[task_id] = search_fold(row["text"])
            ids = sorted(texts)
            starts, offset = [], 0
            for task_id in ids:
                starts.append(offset)
                offset += len(texts[task_id]) + 1
            for index, task_id in enumerate(ids):
                self._pos[task_id] = index
            if ids:
                self._blocks[block] = ("\n".join(texts[i] for i in ids) + "\n", starts, ids)
            else:
                self._blocks.pop(block, None)
        for task_id in self._pending:
            if row_of(task_id) is None:
                self._pos.pop(task_id, None)
        self._pending = set()

    def text(self, task_id: int) -> str:
        joined, starts, ids = self._blocks[task_id >> TASK_SHARD_BITS]
        index = self._pos[task_id]
        end = starts[index + 1] - 1 if index + 1 < len(ids) else len(joined) - 1
        return joined[starts[index]:end]

    def matching(self, words: Sequence[str], row_of: Any, all_ids: Iterable[int],
                 within: Iterable[int] | None = None) -> list[int]:
        """Ids of the tasks whose folded text contains every word (``within``: only
        those tasks)."""
        self._fresh(row_of, all_ids)
        if within is not None:
            return [i for i in within if all(w in self.text(i) for w in words)]
        first = max(words, key=len)  # the longest word: the fewest hits to check
        others = [w for w in words if w != first]
        found: list[int] = []
        for block in sorted(self._blocks):
            joined, starts, ids = self._blocks[block]
            pos = joined.find(first)
            while pos != -1:
                index = bisect_left(starts, pos + 1) - 1
                end = starts[index + 1] - 1 if index + 1 < len(ids) else len(joined) - 1
                if not others or all(w in joined[starts[index]:end] for w in others):
                    found.append(ids[index])
                pos = joined.find(first, end + 1)
        return found


def _as_keys(keys: Iterable[str] | str) -> list[str]:
    return [keys] if isinstance(keys, str) else list(dict.fromkeys(keys))


# ------------------------------------------------------------------------------------------
# Record kinds
# ------------------------------------------------------------------------------------------
class _Kind:
    """How one record kind maps onto a TinyDB table."""

    def __init__(self, table: str, key: Any, to_row: Any, from_row: Any) -> None:
        self.table, self.key, self.to_row, self.from_row = table, key, to_row, from_row


def _record_row(record: Any) -> dict[str, Any]:
    return record.to_row()


_KINDS: dict[type, _Kind] = {
    StoredDocument: _Kind("documents", lambda r: r.id, _record_row, StoredDocument.from_row),
    Chat: _Kind("chats", lambda r: r.id, _record_row, None),
    Membership: _Kind("subscriptions", lambda r: r.id, _record_row, Membership.from_row),
    Event: _Kind("events", lambda r: r.id, _record_row, Event.from_row),
    Delivery: _Kind("deliveries", lambda r: r.key, _record_row,
                    lambda _id, row: Delivery.from_row(row)),
    Reminder: _Kind("reminders", lambda r: r.id, _record_row, Reminder.from_row),
    Announcement: _Kind("announcements", lambda r: r.id, _record_row, Announcement.from_row),
    ScheduledAnnouncement: _Kind("scheduled", lambda r: r.id, _record_row,
                                 ScheduledAnnouncement.from_row),
    Invitation: _Kind("invitations", lambda r: r.id, _record_row, Invitation.from_row),
    JoinRequest: _Kind("requests", lambda r: r.id, _record_row, JoinRequest.from_row),
    OwedDigest: _Kind("digest_owed", lambda r: r.chat_id, _record_row, OwedDigest.from_row),
    Snooze: _Kind("snoozes", lambda r: r.task_id, _record_row, Snooze.from_row),
    DigestRun: _Kind("digest_runs", lambda r: r.chat_id, _record_row, DigestRun.from_row),
    UnitDirectoryRow: _Kind("units", lambda r: r.loc_key, _record_row, None),
}


def _identity(number: str | None, issuer: str | None) -> tuple[str, str] | None:
    """Number + issuer names a document across versions; no number means no identity."""
    if not number or not fold(number):
        return None
    return fold(number), fold(issuer or "")


# ------------------------------------------------------------------------------------------
# Repository
# ------------------------------------------------------------------------------------------
class TinyRepository:
    """:class:`bot.repository.Repository` on a TinyDB file (see the module docstring)."""

    def __init__(self, path: str | os.PathLike[str], *,
                 storage: type[AtomicJSONStorage] = AtomicJSONStorage, lock: bool = True,
                 read_only: bool = False) -> None:
        self.path = Path(path)
        self._read_only = read_only
        self._indexes_touched = False
        self._mw = TransactionMiddleware(storage)
        self.db = TinyDB(self.path, storage=self._mw, lock=lock, read_only=read_only)
        gc_was_enabled = gc.isenabled()
        gc.disable()  # loading creates many objects; collections would triple the time
        try:
            data = self._mw.read()
            version = _schema_version(data)
            if version == SCHEMA_VERSION and all(name in data for name in TABLES):
                changed = False
            else:
                migrated, changed = migrate(data)
                if read_only:  # read the migrated form, write nothing
                    self._mw.replace_data(migrated)
                elif changed:
                    self._mw.depth += 1  # held: validated below before anything is written
                    for name, rows in migrated.items():
                        if rows is not data.get(name) or name not in data:
                            table = self._table(name)
                            table.truncate()
                            table.insert_multiple(Document(row, doc_id=int(i))
                                                  for i, row in rows.items())
                    self._mw.depth -= 1
            self._build()
            if changed and not read_only:
                self._mw.flush(whole=True)  # the migrated (or new) file, written whole
        except BaseException:
            self.db.close()
            raise
        finally:
            if gc_was_enabled:
                gc.enable()

    # -------------------------------------------------------------- lifecycle
    @property
    def read_only(self) -> bool:
        return self._read_only

    @property
    def storage(self) -> AtomicJSONStorage:
        return self._mw.storage  # type: ignore[return-value]

    def close(self) -> None:
        self.db.close()  # idempotent: the storage's close is

    def compact(self) -> None:
        """Rewrite the whole file with the journal folded in (before a backup, say)."""
        self._check_writable()
        self._mw.flush(whole=True)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        if self._mw.depth:
            with self._mw.transaction():
                yield
            return
        try:
            with self._mw.transaction():
                yield
        except BaseException:
            if self._mw.dirty or self._indexes_touched:
                self._mw.rollback()
                self._build()  # memory follows the data back to its last written state
            raise
        finally:
            self._indexes_touched = False

    def _check_writable(self) -> None:
        if self._read_only:
            raise ReadOnlyError(f"Tệp dữ liệu {self.path} đang được mở chỉ để đọc; "
                                "không ghi được thay đổi.")

    def _table(self, name: str) -> Table:
        return self.db.table(name, cache_size=0)

    def _replace(self, name: str, rows: Mapping[int, dict[str, Any]]) -> None:
        """Put whole rows by id: remove the old ones, insert the new (never edit in place)."""
        if not rows:
            return
        self._check_writable()
        self._indexes_touched = True
        table = self._table(name)
        if name in self._floor:
            self._floor[name] = max(self._floor[name], max(rows))
        with self._mw.transaction():
            self._mw.touch(name, rows)
            present = [i for i in rows if self._raw(name, i) is not None]
            if present:
                table.remove(doc_ids=present)
            table.insert_multiple(Document(row, doc_id=i) for i, row in rows.items())

    def _remove(self, name: str, ids: Iterable[int]) -> list[int]:
        present = [i for i in dict.fromkeys(ids) if self._raw(name, i) is not None]
        if present:
            self._check_writable()
            self._indexes_touched = True
            with self._mw.transaction():
                self._mw.touch(name, present)
                self._table(name).remove(doc_ids=present)
        return present

    def _raw(self, name: str, row_id: int) -> Mapping[str, Any] | None:
        """The stored row (not a copy: read it, never change it), or None."""
        return self._mw.read().get(name, {}).get(str(row_id))

    def _task_row(self, task_id: int) -> Mapping[str, Any] | None:
        return self._mw.read().get(task_table(task_id), {}).get(str(task_id))

    def _task_rows(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """The stored rows themselves (not copies): the load interns their texts in place."""
        data = self._mw.read()
        for name in [n for n in data if is_task_table(n)]:
            for row_id, row in data[name].items():
                yield int(row_id), row

    def _rows(self, name: str) -> Iterator[tuple[int, dict[str, Any]]]:
        for row_id, row in self._mw.read().get(name, {}).items():
            yield int(row_id), row

    # -------------------------------------------------------------- indexes
    def _bad_record(self, table: object, row_id: object, exc: Exception) -> ConfigError:
        logger.error("bad record in %s: table %s, id %s: %r", self.path, table, row_id, exc)
        return ConfigError(f"Tệp dữ liệu {self.path} có bản ghi hỏng (bảng {table}, mã "
                           f"{row_id}). Hãy khôi phục từ bản sao lưu.")

    def _build(self) -> None:
        """Every in-memory index, from the data (at load and after a rollback)."""
        self._unit_all: dict[str, _SortedIds] = {}
        self._unit_open: dict[str, _SortedIds] = {}
        self._open = _SortedIds()
        self._keys: dict[int, int] = {}
        self._search = _SearchIndex()
        self._docs: dict[int, StoredDocument] = {}
        self._doc_by_hash: dict[str, int] = {}
        self._doc_by_ident: dict[tuple[str, str], int] = {}
        self._task_events: dict[int, list[int]] = defaultdict(list)
        self._event_ids: list[int] = []
        self._subs: dict[tuple[int, str], int] = {}
        self._chat_subs: dict[int, dict[int, str]] = defaultdict(dict)
        self._unit_chats: dict[str, set[int]] = defaultdict(set)
        self._deliveries: dict[str, int] = {}
        self._dir_rows: dict[str, int] = {}
        self._units: dict[str, StoredUnit] = {}
        self._units_sorted: list[StoredUnit] | None = None
        self._loc_units: dict[str, list[str]] = {}
        data = self._mw.read()
        self._floor = {name: max((int(i) for i in data.get(name, {})), default=0)
                       for name in ID_KINDS}
        self._floor["tasks"] = max((int(i) for name in data if is_task_table(name)
                                    for i in data[name]), default=0)
        """Largest id per kind at load: ids are never reused, whatever the counters say."""
        table: str = "tasks"
        row_id: Any = None
        try:
            all_keys: dict[str, list[int]] = defaultdict(list)
            open_keys: dict[str, list[int]] = defaultdict(list)
            open_all: list[int] = []
            shared: dict[str, str] = {}
            for row_id, row in self._task_rows():
                if not isinstance(row["doc"], int) or not isinstance(row["text"], str):
                    raise TypeError("task row")
                text = row["text"]  # equal texts (a plan sent to many communes): one object
                row["text"] = shared.setdefault(text, text)
                key = _row_key(row_id, row)
                self._keys[row_id] = key
                units = _row_units(row)
                if row.get("status", OPEN) == OPEN:
                    open_all.append(key)
                    for unit in units:
                        all_keys[unit].append(key)
                        open_keys[unit].append(key)
                else:
                    for unit in units:
                        all_keys[unit].append(key)
            del shared
            self._unit_all = {u: _SortedIds(sorted(k)) for u, k in all_keys.items()}
            self._unit_open = {u: _SortedIds(sorted(k)) for u, k in open_keys.items()}
            self._open = _SortedIds(sorted(open_all))
            del all_keys, open_keys, open_all
            table = "documents"
            for row_id, row in self._rows(table):
                self._index_document(StoredDocument.from_row(row_id, row))
            table = "events"
            for row_id, row in sorted(self._rows(table)):
                task_id = row.get("task")
                if not isinstance(row["kind"], str):
                    raise TypeError("event kind")
                self._event_ids.append(row_id)
                if task_id is not None:
                    self._task_events[task_id].append(row_id)
            table = "subscriptions"
            chats = self._mw.read().get("chats", {})
            for row_id, row in sorted(self._rows(table)):
                if str(row["chat"]) not in chats:
                    raise KeyError(row["chat"])
                self._index_membership(row_id, row["chat"], row["unit"])
            table = "deliveries"
            for row_id, row in self._rows(table):
                self._deliveries[row["key"]] = row_id
            table = "units"
            labels: dict[Any, Any] = {}
            for row_id, row in self._rows(table):
                self._dir_rows[row["loc"]] = row_id
                self._add_units(self._directory_row(row), labels)
        except ConfigError:
            raise
        except (KeyError, TypeError, ValueError, IndexError, AttributeError, BotError) as exc:
            raise self._bad_record(table, row_id, exc) from exc
        logger.info("loaded %s: %d documents, %d tasks, %d units, %d chats", self.path,
                    len(self._docs), len(self._keys), len(self._units),
                    len(self._mw.read().get("chats", {})))

    def _index_document(self, doc: StoredDocument) -> None:
        self._docs[doc.id] = doc
        self._doc_by_hash[doc.file_hash] = doc.id
        ident = _identity(doc.number, doc.issuer)
        if ident is not None and self._doc_by_ident.get(ident, 0) <= doc.id:
            self._doc_by_ident[ident] = doc.id

    def _unindex_document(self, doc: StoredDocument) -> None:
        self._docs.pop(doc.id, None)
        if self._doc_by_hash.get(doc.file_hash) == doc.id:
            del self._doc_by_hash[doc.file_hash]
        ident = _identity(doc.number, doc.issuer)
        if ident is not None and self._doc_by_ident.get(ident) == doc.id:
            del self._doc_by_ident[ident]
            others = [d.id for d in self._docs.values()
                      if _identity(d.number, d.issuer) == ident]
            if others:
                self._doc_by_ident[ident] = max(others)

    def _index_membership(self, sub_id: int, chat_id: int, unit_key: str) -> None:
        self._subs[(chat_id, unit_key)] = sub_id
        self._chat_subs[chat_id][sub_id] = unit_key
        self._unit_chats[unit_key].add(chat_id)

    def _unindex_membership(self, sub_id: int, chat_id: int, unit_key: str) -> None:
        if self._subs.get((chat_id, unit_key)) == sub_id:
            del self._subs[(chat_id, unit_key)]
            self._unit_chats[unit_key].discard(chat_id)
        self._chat_subs[chat_id].pop(sub_id, None)

    @staticmethod
    def _directory_row(row: Mapping[str, Any]) -> UnitDirectoryRow:
        return UnitDirectoryRow(row["loc"], row.get("locality"), row["directory"],
                                int(row.get("version") or 0))

    def _add_units(self, row: UnitDirectoryRow, labels: dict[Any, Any] | None = None) -> None:
        """The units of a locality become those of ``row`` (its earlier ones go)."""
        for key in self._loc_units.pop(row.loc_key, ()):
            self._units.pop(key, None)
        keys = self._loc_units[row.loc_key] = []
        for unit in directory_units(row, labels):
            self._units[unit.key] = unit
            keys.append(unit.key)
        self._units_sorted = None

    def _index_task(self, task_id: int, row: Mapping[str, Any]) -> None:
        key = self._keys[task_id] = _row_key(task_id, row)
        is_open = row.get("status", OPEN) == OPEN
        for unit in _row_units(row):
            self._unit_all.setdefault(unit, _SortedIds()).add(key)
            if is_open:
                self._unit_open.setdefault(unit, _SortedIds()).add(key)
        if is_open:
            self._open.add(key)

    def _unindex_task(self, task_id: int, row: Mapping[str, Any]) -> None:
        key = self._keys.pop(task_id)
        is_open = row.get("status", OPEN) == OPEN
        for unit in _row_units(row):
            self._unit_all[unit].discard(key)
            if is_open:
                self._unit_open[unit].discard(key)
        if is_open:
            self._open.discard(key)

    # -------------------------------------------------------------- ids
    def next_id(self, kind: str) -> int:
        if kind not in ID_KINDS:
            raise ValueError(f"unknown id kind {kind!r}")
        self._check_writable()
        meta = dict(self._raw("meta", META_ID) or {"schema_version": SCHEMA_VERSION})
        seq = dict(meta.get("seq") or {})
        top = max(int(seq.get(kind, 0)), self._floor.get(kind, 0))
        seq[kind] = top + 1
        if seq[kind] > ID_MASK:
            raise StorageError("Đã hết mã số cho bản ghi mới.")
        meta.pop("generation", None)
        meta["seq"] = seq
        self._replace("meta", {META_ID: meta})
        return seq[kind]

    # -------------------------------------------------------------- generic records
    def get(self, kind: type, key: Any) -> Any:
        spec = _KINDS[kind]
        if kind is Delivery:
            row_id = self._deliveries.get(key)
            row = self._raw(spec.table, row_id) if row_id is not None else None
            return Delivery.from_row(row) if row is not None else None
        if kind is UnitDirectoryRow:
            row_id = self._dir_rows.get(key)
            row = self._raw(spec.table, row_id) if row_id is not None else None
            return self._directory_row(row) if row is not None else None
        if kind is StoredDocument:
            return self._docs.get(key)
        try:
            row_id = int(key)
        except (TypeError, ValueError):
            return None
        row = self._raw(spec.table, row_id)
        if row is None:
            return None
        return self._chat(row_id, row) if kind is Chat else self._convert(spec, row_id, row)

    def _chat(self, chat_id: int, row: Mapping[str, Any]) -> Chat:
        subs = self._chat_subs.get(chat_id) or {}
        return Chat.from_row(chat_id, row, tuple(subs[i] for i in sorted(subs)))

    def put(self, *records: Any) -> None:
        if not records:
            return
        self._check_writable()
        by_kind: dict[type, list[Any]] = defaultdict(list)
        for record in records:
            by_kind[type(record)].append(record)
        for kind, items in by_kind.items():  # all checks first: a refused put writes nothing
            self._check_unique(kind, items)
        with self.transaction():
            for kind, items in by_kind.items():
                self._put_kind(kind, items)

    def _check_unique(self, kind: type, items: list[Any]) -> None:
        if kind is Event:
            seen: set[int] = set()
            for item in items:
                if item.id in seen or self._raw("events", item.id) is not None:
                    raise ValueError(f"event {item.id} exists already")
                seen.add(item.id)
        elif kind is Membership:
            pairs: dict[tuple[int, str], int] = {}
            for item in items:
                pair = (item.chat_id, item.unit_key)
                clash = pairs.get(pair, self._subs.get(pair))
                if clash is not None and clash != item.id:
                    raise ValueError(f"chat {item.chat_id} is a member of "
                                     f"{item.unit_key} already")
                pairs[pair] = item.id
        elif kind is StoredDocument:
            hashes: dict[str, int] = {}
            for item in items:
                clash = hashes.get(item.file_hash, self._doc_by_hash.get(item.file_hash))
                if clash is not None and clash != item.id:
                    raise ValueError(f"a document with hash {item.file_hash} exists")
                hashes[item.file_hash] = item.id

    def _put_kind(self, kind: type, items: list[Any]) -> None:
        spec = _KINDS[kind]
        rows: dict[int, dict[str, Any]] = {}
        if kind is Delivery:
            for item in items:
                row_id = self._deliveries.get(item.key)
                if row_id is None:
                    row_id = self._deliveries[item.key] = self.next_id("deliveries")
                rows[row_id] = item.to_row()
        elif kind is UnitDirectoryRow:
            for item in items:
                row_id = self._dir_rows.get(item.loc_key)
                old = self._raw("units", row_id) if row_id is not None else None
                if row_id is None:
                    row_id = self.next_id("units")
                version = int((old or {}).get("version") or 0) + 1
                new = UnitDirectoryRow(item.loc_key, item.locality, item.directory, version)
                rows[row_id] = new.to_row()
                self._dir_rows[item.loc_key] = row_id
                self._add_units(new)
        else:
            for item in items:
                rows[int(spec.key(item))] = item.to_row()
        if kind is Membership:
            for item in items:
                old = self._raw("subscriptions", item.id)
                if old is not None:
                    self._unindex_membership(item.id, old["chat"], old["unit"])
        self._replace(spec.table, rows)
        if kind is StoredDocument:
            for item in items:
                old_doc = self._docs.get(item.id)
                if old_doc is not None:
                    self._unindex_document(old_doc)
                self._index_document(item)
        elif kind is Membership:
            for item in items:
                self._index_membership(item.id, item.chat_id, item.unit_key)
        elif kind is Event:
            for item in items:
                insort(self._event_ids, item.id)
                if item.task_id is not None:
                    insort(self._task_events[item.task_id], item.id)

    def delete(self, kind: type, keys: Iterable[Any]) -> int:
        spec = _KINDS[kind]
        keys = list(keys)
        if kind is Delivery:
            ids = [self._deliveries[k] for k in keys if k in self._deliveries]
        elif kind is UnitDirectoryRow:
            ids = [self._dir_rows[k] for k in keys if k in self._dir_rows]
        else:
            ids = [int(k) for k in keys]
        with self.transaction():
            old = {i: self._raw(spec.table, i) for i in ids}
            gone = self._remove(spec.table, ids)
        for row_id in gone:
            row = old[row_id]
            assert row is not None
            if kind is StoredDocument:
                self._unindex_document(self._docs[row_id])
            elif kind is Membership:
                self._unindex_membership(row_id, row["chat"], row["unit"])
            elif kind is Delivery:
                self._deliveries.pop(row["key"], None)
            elif kind is UnitDirectoryRow:
                self._dir_rows.pop(row["loc"], None)
                self._add_units(UnitDirectoryRow(row["loc"], None, {"units": []}))
            elif kind is Event:
                self._event_ids.remove(row_id)
                if row.get("task") is not None:
                    self._task_events[row["task"]].remove(row_id)
        return len(gone)

    def all(self, kind: type) -> list[Any]:
        spec = _KINDS[kind]
        if kind is StoredDocument:
            return [self._docs[i] for i in sorted(self._docs)]
        if kind is Delivery:
            return [Delivery.from_row(row) for row in
                    sorted((r for _, r in self._rows("deliveries")), key=lambda r: r["key"])]
        if kind is UnitDirectoryRow:
            return sorted((self._directory_row(row) for _, row in self._rows("units")),
                          key=lambda r: r.loc_key)
        rows = sorted(self._rows(spec.table), key=lambda item: item[0])
        if kind is Chat:
            return [self._chat(i, row) for i, row in rows]
        return [self._convert(spec, i, row) for i, row in rows]

    def _convert(self, spec: _Kind, row_id: int, row: Mapping[str, Any]) -> Any:
        """A record from its row; a row no code can read is a clear ConfigError."""
        try:
            return spec.from_row(row_id, row)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise self._bad_record(spec.table, row_id, exc) from exc

    # -------------------------------------------------------------- documents
    def document_by_hash(self, file_hash: str) -> StoredDocument | None:
        doc_id = self._doc_by_hash.get(file_hash)
        return self._docs.get(doc_id) if doc_id is not None else None

    def document_by_identity(self, number: str, issuer: str) -> StoredDocument | None:
        doc_id = self._doc_by_ident.get((number, issuer))
        return self._docs.get(doc_id) if doc_id is not None else None

    # -------------------------------------------------------------- tasks
    def task(self, task_id: int) -> StoredTask | None:
        row = self._task_row(task_id) if isinstance(task_id, int) else None
        return StoredTask.from_row(task_id, row) if row is not None else None

    def tasks(self, task_ids: Iterable[int]) -> list[StoredTask]:
        shared: dict[Any, Any] = {}
        out = []
        for task_id in dict.fromkeys(task_ids):
            row = self._task_row(task_id)
            if row is not None:
                out.append(StoredTask.from_row(task_id, row, shared))
        return out

    def _tasks_by_keys(self, keys: Iterable[int]) -> list[StoredTask]:
        return self.tasks(k & ID_MASK for k in keys)

    def document_tasks(self, doc_id: int) -> list[StoredTask]:
        doc = self._docs.get(doc_id)
        return self.tasks(doc.task_ids) if doc else []

    def put_tasks(self, tasks: Iterable[StoredTask]) -> None:
        tasks = list(tasks)
        if not tasks:
            return
        rows = {t.id: t.to_row() for t in tasks}
        shards: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)
        for task_id, row in rows.items():
            shards[task_table(task_id)][task_id] = row
        self._floor["tasks"] = max(self._floor["tasks"], max(rows))
        with self.transaction():
            old = {i: self._task_row(i) for i in rows}
            for name, part in shards.items():
                self._replace(name, part)
        for task_id, row in rows.items():
            before = old[task_id]
            if before is not None:
                self._unindex_task(task_id, before)
            if before is None or before["text"] != row["text"]:
                self._search.mark(task_id)
            self._index_task(task_id, row)

    def delete_tasks(self, task_ids: Iterable[int]) -> int:
        ids = list(dict.fromkeys(task_ids))
        shards: dict[str, list[int]] = defaultdict(list)
        for task_id in ids:
            shards[task_table(task_id)].append(task_id)
        gone: list[int] = []
        with self.transaction():
            old = {i: self._task_row(i) for i in ids}
            for name, part in shards.items():
                gone += self._remove(name, part)
        for task_id in gone:
            row = old[task_id]
            assert row is not None
            self._unindex_task(task_id, row)
            self._search.mark(task_id)
        return len(gone)

    def task_count(self) -> int:
        return len(self._keys)

    def _ordered_keys(self, unit_keys: Sequence[str] | None, open_only: bool,
                      first: date | None, last: date | None) -> list[int]:
        if unit_keys is None:
            if open_only:
                lo, hi = self._open.bounds(first, last)
                return self._open.keys[lo:hi]
            keys = sorted(self._keys.values())
            probe = _SortedIds(keys)
            lo, hi = probe.bounds(first, last)
            return keys[lo:hi]
        index = self._unit_open if open_only else self._unit_all
        lists = []
        for unit in _as_keys(unit_keys):
            found = index.get(unit)
            if found is not None:
                lo, hi = found.bounds(first, last)
                if hi > lo:
                    lists.append(found.keys[lo:hi])
        if len(lists) <= 1:
            return lists[0] if lists else []
        return [k for k, _ in itertools.groupby(heapq.merge(*lists))]

    def _range(self, unit_keys: Sequence[str] | None, open_only: bool, first: date | None,
               last: date | None, offset: int, limit: int | None) -> list[int]:
        """The keys of one page, without copying more than the page where possible."""
        stop = None if limit is None else offset + limit
        single = self._open if unit_keys is None and open_only else None
        if single is None and unit_keys is not None and len(_as_keys(unit_keys)) == 1:
            index = self._unit_open if open_only else self._unit_all
            single = index.get(_as_keys(unit_keys)[0], _SortedIds())
        if single is not None:
            lo, hi = single.bounds(first, last)
            return single.keys[lo + offset:hi if stop is None else min(hi, lo + stop)]
        return self._ordered_keys(unit_keys, open_only, first, last)[offset:stop]

    def task_page(self, unit_keys: Sequence[str] | None = None, *, open_only: bool = True,
                  first: date | None = None, last: date | None = None, offset: int = 0,
                  limit: int | None = None) -> list[StoredTask]:
        return self._tasks_by_keys(self._range(unit_keys, open_only, first, last,
                                               max(0, offset), limit))

    def count_tasks(self, unit_keys: Sequence[str] | None = None, *, open_only: bool = True,
                    first: date | None = None, last: date | None = None) -> int:
        if unit_keys is None and not open_only and first is None and last is None:
            return len(self._keys)
        if unit_keys is None or len(_as_keys(unit_keys)) == 1:
            if unit_keys is None:
                index = self._open if open_only else _SortedIds(sorted(self._keys.values()))
            else:
                index = (self._unit_open if open_only else self._unit_all).get(
                    _as_keys(unit_keys)[0], _SortedIds())
            lo, hi = index.bounds(first, last)
            return hi - lo
        return len(self._ordered_keys(unit_keys, open_only, first, last))

    def search_tasks(self, words: Sequence[str], unit_keys: Sequence[str] | None = None,
                     *, limit: int | None = None) -> list[StoredTask]:
        row_of = self._task_row
        within = (None if unit_keys is None else
                  [k & ID_MASK for k in self._ordered_keys(unit_keys, False, None, None)])
        found: list[tuple[bool, int, int]] = []
        for task_id in self._search.matching(words, row_of, self._keys, within):
            row = row_of(task_id)
            assert row is not None
            found.append((row.get("status", OPEN) != OPEN, self._keys[task_id], task_id))
        found.sort()
        if limit is not None:
            found = found[:limit]
        return self.tasks(task_id for _, _, task_id in found)

    def lead_stats(self, today: date, unit_keys: Sequence[str] | None = None,
                   ) -> dict[str, tuple[int, int, int, int]]:
        row_of = self._task_row
        wanted = None if unit_keys is None else set(_as_keys(unit_keys))
        ids: Iterable[int] = (self._keys if wanted is None else
                              (k & ID_MASK for k in
                               self._ordered_keys(list(wanted), False, None, None)))
        iso_today = today.isoformat()
        counts: dict[str, list[int]] = {}
        for task_id in ids:
            row = row_of(task_id)
            assert row is not None
            lead = row.get("lead")
            if not lead:
                continue
            due = row.get("due")
            if row.get("status", OPEN) != OPEN:
                done_at = row.get("done_at")
                category = 1 if due and done_at and done_at[:10] > due else 0
            else:
                category = 3 if due and due < iso_today else 2
            for key in lead:
                if wanted is None or key in wanted:
                    counts.setdefault(key, [0, 0, 0, 0])[category] += 1
        return {k: (v[0], v[1], v[2], v[3]) for k, v in counts.items()}

    # -------------------------------------------------------------- units
    def units(self) -> list[StoredUnit]:
        if self._units_sorted is None:
            folded: dict[str | None, str] = {}

            def order(unit: StoredUnit) -> tuple[str, str, str]:
                if unit.locality not in folded:
                    folded[unit.locality] = fold(unit.locality or "")
                if unit.name not in folded:
                    folded[unit.name] = fold(unit.name)
                return folded[unit.locality], folded[unit.name], unit.key

            self._units_sorted = sorted(self._units.values(), key=order)
        return list(self._units_sorted)

    def unit(self, key: str) -> StoredUnit | None:
        return self._units.get(key)

    # -------------------------------------------------------------- chats, memberships
    def memberships(self, *, unit_key: str | None = None, chat_id: int | None = None,
                    ) -> list[Membership]:
        if unit_key is not None and chat_id is not None:
            ids = [self._subs[(chat_id, unit_key)]] if (chat_id, unit_key) in self._subs else []
        elif chat_id is not None:
            ids = list(self._chat_subs.get(chat_id, {}))
        elif unit_key is not None:
            ids = [self._subs[(c, unit_key)] for c in self._unit_chats.get(unit_key, ())]
        else:
            ids = [i for i, _ in self._rows("subscriptions")]
        found = [Membership.from_row(i, self._raw("subscriptions", i))  # type: ignore[arg-type]
                 for i in ids]
        return sorted(found, key=lambda m: (m.since, m.id))

    def unit_chats(self, unit_key: str) -> list[Chat]:
        out = []
        for chat_id in sorted(self._unit_chats.get(unit_key, ())):
            row = self._raw("chats", chat_id)
            if row is not None and row.get("active", True):
                out.append(self._chat(chat_id, row))
        return out

    # -------------------------------------------------------------- events
    def task_history(self, task_id: int) -> list[Event]:
        return [Event.from_row(i, self._raw("events", i))  # type: ignore[arg-type]
                for i in self._task_events.get(task_id, ())]

    def recent_events(self, limit: int) -> list[Event]:
        if limit <= 0:
            return []
        return [Event.from_row(i, self._raw("events", i))  # type: ignore[arg-type]
                for i in reversed(self._event_ids[-limit:])]

    # -------------------------------------------------------------- delivery log
    def claim_delivery(self, key: str, *, chat_id: int | None, now: datetime) -> bool:
        held = self.get(Delivery, key)
        if held is not None and held.status not in RECLAIMABLE and not (
                held.status == CLAIMED and held.at <= now - CLAIM_TIMEOUT):
            return False
        self.put(Delivery(key, chat_id, CLAIMED, now))
        return True

    def record_delivery(self, delivery: Delivery) -> None:
        self.put(delivery)

    def prune(self, before: datetime) -> PruneCounts:
        old_deliveries = [row["key"] for _, row in self._rows("deliveries")
                          if datetime.fromisoformat(row["at"]) < before]
        old_events = []
        for row_id, row in self._rows("events"):
            if datetime.fromisoformat(row["at"]) >= before:
                continue
            task_id, doc_id = row.get("task"), row.get("doc")
            if task_id is not None and task_id in self._keys:
                continue
            if doc_id is not None and doc_id in self._docs:
                continue
            old_events.append(row_id)
        with self.transaction():
            deliveries = self.delete(Delivery, old_deliveries)
            events = self.delete(Event, old_events)
        return PruneCounts(deliveries, events)

    # -------------------------------------------------------------- reminders
    def unsent_reminders(self, *, until: datetime | None = None,
                         task_ids: Iterable[int] | None = None,
                         chat_id: int | None = None) -> list[Reminder]:
        wanted = None if task_ids is None else set(task_ids)
        out = []
        for row_id, row in self._rows("reminders"):
            if row.get("sent_at"):
                continue
            if wanted is not None and row["task"] not in wanted:
                continue
            if chat_id is not None and row["chat"] != chat_id:
                continue
            reminder = Reminder.from_row(row_id, row)
            if until is None or reminder.at <= until:
                out.append(reminder)
        return sorted(out, key=lambda r: (r.at, r.id))

    # -------------------------------------------------------------- digest
    def digest_source(self, chat_ids: Iterable[int] | None = None) -> DigestSource:
        only = None if chat_ids is None else set(chat_ids)
        chats = []
        for chat_id, row in sorted(self._rows("chats"), key=lambda item: item[0]):
            if only is not None and chat_id not in only:
                continue
            if not row.get("active", True) or not self._chat_subs.get(chat_id):
                continue
            chats.append(self._chat(chat_id, row))
        units = dict.fromkeys(k for chat in chats for k in chat.unit_keys)
        built: dict[int, StoredTask] = {}
        shared: dict[Any, Any] = {}
        open_tasks: dict[str, list[StoredTask]] = {}
        for unit in units:
            index = self._unit_open.get(unit)
            if index is None or not index.keys:
                continue
            items = []
            for key in index.keys:
                task_id = key & ID_MASK
                task = built.get(task_id)
                if task is None:
                    task = built[task_id] = StoredTask.from_row(
                        task_id, self._task_row(task_id), shared)  # type: ignore[arg-type]
                items.append(task)
            open_tasks[unit] = items
        documents = {d: self._docs[d] for d in {t.doc_id for t in built.values()}
                     if d in self._docs}
        names = {k: (self._units[k].name if k in self._units else k) for k in units}
        snoozes = {i: Snooze.from_row(i, row).until for i, row in self._rows("snoozes")
                   if i in self._keys}
        return DigestSource(chats, open_tasks, documents, names, snoozes)
