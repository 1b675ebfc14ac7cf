"""Persistent state of the bot: imported plans, tasks, units, chats and logs.

Design (measured on TinyDB 4.9.0): TinyDB's own JSONStorage rewrites the file in place and
re-parses it on every read, so a crash can truncate it and a query over 100k tasks takes most
of a second. Here:

* :class:`AtomicJSONStorage` reads the file once, a megabyte of rows at a time (one row per
  line), and writes a whole new copy to a temporary file, fsyncs it and renames it over the
  old one: after a crash the file holds either the previous or the new state, never a mix.
  Once the file is big (4 MB), a write appends the changed rows as one fsynced line to a
  journal instead (~1 ms instead of ~1.5 s at 100k tasks); the journal is replayed at load
  (a torn last line ignored) and folded back into the file by an atomic rewrite when it grows.
* :class:`Store` keeps every record in memory once, as frozen dataclasses with the indexes
  the commands need (tasks, documents and events are not also kept as raw rows: the rows a
  rewrite needs are generated from them, see :class:`StoreData`), answers all queries from
  memory, and persists each public mutating call with exactly one storage write (or none
  when nothing changed).

Measured at 100k tasks (92 MB file): open 1.6 s and ~110 MB over the interpreter (was 2.9 s
and ~450 MB), /xong ~1 ms (was 1.4 s), importing a sample plan ~0.1 s (was 1.5 s).

Single writer: a Store must be used from one thread (the asyncio event loop) and one process;
a lock file next to the database, and a lock on the database file itself (so deleting the lock
file changes nothing), refuse a second bot process on the same data.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
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
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from tinydb import Storage, TinyDB

from bot.errors import BotError, ConfigError, EmptyPlan, UnitNotFound, UsageError
from bot.models import DocumentInfo, ParsedPlan
from bot.records import (
    APPROVED,
    CANCELLED,
    DONE,
    OPEN,
    ORIGIN_DANGKY,
    ORIGIN_UPGRADE,
    REFUSED,
    VIA_ADMIN,
    VIA_INVITE,
    VIA_LEGACY_ADMIN,
    VIA_LEGACY_GROUP,
    VIA_REQUEST,
    Announcement,
    Chat,
    Delivery,
    Event,
    ImportResult,
    Invitation,
    JoinRequest,
    Membership,
    Reminder,
    StoredDocument,
    StoredTask,
    StoredUnit,
    UnitStats,
)
from bot.text import DASHES, fold, quote, utf16_len
from bot.units import Unit, UnitDirectory, unit_key

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory lock, single writer by convention
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "SCHEMA_VERSION", "TABLES", "AtomicJSONStorage", "StorageError", "Store", "StoreData",
    "TaskSeq", "migrate", "scoped_unit_key", "fingerprint", "Announcement", "Chat", "Delivery", "Event",
    "ImportResult", "Reminder", "StoredDocument", "StoredTask", "StoredUnit", "UnitStats",
]

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 2
"""2: the file may come with a journal (``<name>.journal``) that older versions would ignore,
so they must refuse it; the tables themselves are those of version 1."""
TABLES = (
    "meta", "documents", "tasks", "units", "chats", "subscriptions", "events", "deliveries",
    "reminders", "announcements",
)
_META_ID = "1"
_SEQ_TABLES = (
    "documents", "tasks", "units", "subscriptions", "events", "deliveries", "reminders",
    "announcements",
)
_NO_LOCALITY = "-"


_LOCK_TRIES = 5
"""Attempts to lock a file whose name keeps being replaced (a whole write of the holder)."""


class StorageError(BotError):
    """The data file could not be written; the change was not saved."""


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


def _damaged(path: Path, detail: str) -> ConfigError:
    return ConfigError(f"Tệp dữ liệu {path} bị hỏng ({detail}). Hãy khôi phục từ bản sao lưu.")


def _parse_rows(path: Path, lines: list[bytes], first_line: int) -> dict[str, Any]:
    """``"id":{row},`` lines of one table as one dict (one C-level parse per chunk)."""
    body = b"".join(lines).rstrip()
    if body.endswith(b","):
        body = body[:-1]
    try:
        rows = json.loads(b"{" + body + b"}")
    except json.JSONDecodeError as exc:
        raise _damaged(path, f"JSON sai ở dòng {first_line + exc.lineno - 1}") from None
    except UnicodeDecodeError:
        raise _damaged(path, "không phải văn bản UTF-8") from None
    if not all(isinstance(row, dict) for row in rows.values()):
        raise ConfigError(f"Tệp dữ liệu {path} không đúng định dạng của bot. "
                          "Hãy khôi phục từ bản sao lưu.")
    return rows


class AtomicJSONStorage(Storage):
    """TinyDB storage that never leaves a half-written database behind.

    The file is JSON laid out one row per line (``{``, ``"table":{``, ``"id":{...},``...), so
    it is read a megabyte at a time instead of as one 100 MB document; older single-line files
    are still read whole. A whole-file write serialises to ``<name>.tmp``, fsyncs it,
    ``os.replace``-s it over the database and fsyncs the directory: after a crash the file
    holds the previous or the new state.

    The :class:`Store` hands :meth:`write` a :class:`StoreData`, which also carries the rows
    just changed. When the file is big (``journal_from`` bytes and up) those rows are
    appended as one line to ``<name>.journal`` and fsynced instead (a few milliseconds, not a
    second): the journal names the ``generation`` of the file it extends, its lines are
    replayed at load, a torn last line (a crash inside the append) is ignored and cut off,
    and once it outgrows ``journal_limit()`` the next write rewrites the whole file and
    removes it. A journal of another generation (left by a crash between those two steps, or
    beside a restored backup) is ignored. Plain dicts (TinyDB's own API) are always written
    whole; ``read()`` returns them from a cache after the first parse.

    If a write fails, :class:`StorageError` is raised and the files keep their previous
    content.
    """

    journal_from = 256 << 10
    """Files smaller than this are rewritten whole on every write (cheap, one plain file);
    above it a write is one appended line, so the delivery log stays cheap per message."""
    journal_min = 2 << 20

    def __init__(self, path: str | os.PathLike[str], create_dirs: bool = True,
                 lock: bool = False) -> None:
        super().__init__()
        self.path = Path(path)
        self.tmp_path = self.path.with_name(self.path.name + ".tmp")
        self.journal_path = self.path.with_name(self.path.name + ".journal")
        self.writes = 0
        self._data: Mapping[str, Mapping[str, Any]] | None = None
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
        if create_dirs:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        if lock:
            self._lock()

    def _lock(self) -> None:
        """Hold two advisory locks for the life of the storage: the ``.lock`` file (it guards
        a database not written yet) and the data file itself, so an operator deleting the
        lock file cannot let a second bot start on the same data. The data file is replaced
        by a rename on each whole write: :meth:`_write_whole` locks the new file before it
        takes the name, so the name never points at an unlocked database."""
        if fcntl is None:
            return
        self._locking = True
        self._lock_fd = self._lock_path(self.path.with_name(self.path.name + ".lock"),
                                        create=True)
        try:
            self._data_lock_fd = self._lock_path(self.path, create=False)
        except BaseException:
            os.close(self._lock_fd)
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
    def read(self) -> Mapping[str, Mapping[str, Any]] | None:
        if not self._loaded:
            data: dict[str, dict[str, Any]] = {}
            for table, rows in self.scan():
                data.setdefault(table, {}).update(rows)
            self._data = data if data or self._file_bytes else None
            self._loaded = True
        return self._data

    def scan(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """The database as ``(table, rows)`` pieces, journal applied; meta first if present.

        A table may come in several pieces; rows the journal added come last.
        """
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
            meta: dict[str, Any] = {}
            head = next(pieces, None)
            if head is not None and head[0] == "meta":
                meta = head[1]
                generation = (meta.get(_META_ID) or {}).get("generation")
                self._generation = generation if isinstance(generation, str) else None
            overlay = self._read_journal()
            if head is not None:
                yield from self._merge(overlay, head)
            for piece in pieces:
                yield from self._merge(overlay, piece)
        for table, rows in overlay.items():
            added = {row_id: row for row_id, row in rows.items() if row is not None}
            if added:
                yield table, added

    @staticmethod
    def _merge(overlay: dict[str, dict[str, Any]],
               piece: tuple[str, dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
        table, rows = piece
        changes = overlay.get(table)
        if changes:
            for row_id in [r for r in changes if r in rows]:
                row = changes.pop(row_id)
                if row is None:
                    del rows[row_id]
                else:
                    rows[row_id] = row
        yield table, rows

    def _scan_whole(self, raw: bytes) -> Iterator[tuple[str, dict[str, Any]]]:
        """A file in the single-line layout (written by older versions, or by hand)."""
        if not raw.strip():
            return
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise _damaged(self.path, f"JSON sai ở dòng {exc.lineno}, cột {exc.colno}") from None
        except UnicodeDecodeError:
            raise _damaged(self.path, "không phải văn bản UTF-8") from None
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
                    raise _damaged(self.path, f"thừa dữ liệu ở dòng {number}")
                continue
            if table is None:
                if text == b"}":
                    closed = True
                    continue
                if not text.endswith(b":{"):
                    raise _damaged(self.path, f"dòng {number} không mở một bảng")
                try:
                    table = json.loads(text[:-2])
                except (json.JSONDecodeError, UnicodeDecodeError):
                    table = None
                if not isinstance(table, str):
                    raise _damaged(self.path, f"tên bảng sai ở dòng {number}")
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
            raise _damaged(self.path, "tệp bị cắt cụt")

    def _read_journal(self) -> dict[str, dict[str, Any]]:
        """Row changes (None: deleted) of the journal of this file; a torn last line is cut."""
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
            with contextlib.suppress(OSError):
                os.truncate(self.journal_path, good)
        self._journal_bytes = good
        return overlay

    # ------------------------------------------------------------------ writing
    def journal_limit(self) -> int:
        """Journal size past which the next write rewrites the whole file instead."""
        return max(self.journal_min, self._file_bytes // 16)

    def write(self, data: Mapping[str, Mapping[str, Any]]) -> None:
        try:
            line = data.journal_line() if isinstance(data, StoreData) else None
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
        self._data, self._loaded = data, True
        self.writes += 1

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
        generation = secrets.token_hex(8) if isinstance(data, StoreData) else None
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
    """Write ``data`` in the one-row-per-line layout, a chunk at a time; returns the size."""
    if isinstance(data, StoreData):
        tables: Iterable[tuple[str, Iterable[tuple[str, Any]]]] = data.tables(generation)
    else:
        tables = ((name, rows.items()) for name, rows in data.items())
    size = 0
    buffer: list[str] = ["{\n"]
    pending = 2
    opened = False
    for name, rows in tables:
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
# Schema
# ------------------------------------------------------------------------------------------
def _schema_version(data: Mapping[str, Any]) -> int | None:
    row = (data.get("meta") or {}).get(_META_ID)
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
    data["meta"] = {_META_ID: {"schema_version": 1, "seq": _max_ids(data)}}
    return data


def _migrate_1_to_2(data: dict[str, Any]) -> dict[str, Any]:
    """Same tables; the new version number keeps older bots away from a journaled file."""
    meta = dict((data.get("meta") or {}).get(_META_ID) or {})
    meta["schema_version"] = 2
    data["meta"] = {_META_ID: meta}
    return data


_MIGRATIONS = {0: _migrate_0_to_1, 1: _migrate_1_to_2}


def migrate(data: Mapping[str, Any] | None) -> tuple[dict[str, Any], bool]:
    """Bring raw database data to :data:`SCHEMA_VERSION`; returns ``(data, changed)``.

    A file without a meta row but with records is version 0; an empty one is new.
    """
    out: dict[str, Any] = dict(data or {})
    version = _schema_version(out)
    changed = False
    if version is None:
        if any(out.values()):
            version = 0
        else:
            out["meta"] = {_META_ID: {"schema_version": SCHEMA_VERSION, "seq": {}}}
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
# Helpers
# ------------------------------------------------------------------------------------------
def _locality_key(locality: str | None) -> str:
    return fold(locality) if locality and fold(locality) else _NO_LOCALITY


def scoped_unit_key(name: str, locality: str | None = None) -> str:
    """Unit key scoped by locality: "Phòng Y tế" of Cẩm Phả differs from that of Uông Bí."""
    return f"{_locality_key(locality)}|{unit_key(name, locality)}"


def fingerprint(text: str, lead: Iterable[str]) -> str:
    """Identity of a task across versions of a plan: folded text plus its lead units."""
    material = fold(text) + "\x1f" + "\x1e".join(sorted(lead))
    return hashlib.blake2b(material.encode("utf-8"), digest_size=8).hexdigest()


def _identity(info: DocumentInfo) -> tuple[str, str] | None:
    """Number + issuer names a document across versions; no number means no identity."""
    if not info.number or not fold(info.number):
        return None
    return fold(info.number), fold(info.issuer or "")


def _require_aware(value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("the store needs timezone-aware datetimes")


def _vn_date(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def _parse_code(code: object) -> int | None:
    if isinstance(code, bool):
        return None
    if isinstance(code, int):
        return code
    text = str(code).strip().lstrip("#")
    return int(text) if text.isascii() and text.isdigit() else None


def _search_fold_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {ord(d): "-" for d in DASHES}
    for cp in itertools.chain(range(0xC0, 0x250), range(0x1E00, 0x1F00)):
        folded = fold(chr(cp))
        if folded != chr(cp):
            table[cp] = folded
    for cp in range(0x300, 0x370):  # stray combining marks
        table[cp] = None
    return table


_SEARCH_FOLD = _search_fold_table()


def search_fold(text: str) -> str:
    """:func:`bot.text.fold` for Latin/Vietnamese text in one ``translate`` (~20x faster).

    Used to index 100k task texts for /tim; equal to ``fold`` on NFC Vietnamese text.
    """
    return " ".join(text.translate(_SEARCH_FOLD).casefold().split())


def _as_keys(keys: Iterable[str] | str) -> list[str]:
    return [keys] if isinstance(keys, str) else list(dict.fromkeys(keys))


_SHIFT = 32
_ID_MASK = (1 << _SHIFT) - 1
_NO_DUE = date.max.toordinal() + 1


def _sort_key(task: StoredTask) -> int:
    """(due, id) packed in one int: tasks without a due date sort last."""
    ordinal = task.due.toordinal() if task.due else _NO_DUE
    return (ordinal << _SHIFT) | task.id


class _SortedIds:
    """Task ids ordered by (due, id); bisect answers a date range in O(log n)."""

    __slots__ = ("keys",)

    def __init__(self, keys: list[int] | None = None) -> None:
        self.keys = keys if keys is not None else []

    def add(self, key: int) -> None:
        insort(self.keys, key)

    def discard(self, key: int) -> None:
        i = bisect_left(self.keys, key)
        if i < len(self.keys) and self.keys[i] == key:
            del self.keys[i]

    def _bounds(self, first: date | None, last: date | None) -> tuple[int, int]:
        lo = 0 if first is None else bisect_left(self.keys, first.toordinal() << _SHIFT)
        hi = (len(self.keys) if last is None
              else bisect_left(self.keys, (last.toordinal() + 1) << _SHIFT))
        return lo, hi

    def between(self, first: date | None, last: date | None) -> list[int]:
        """Packed keys with ``first <= due <= last`` (None: open-ended; no-due tasks last)."""
        lo, hi = self._bounds(first, last)
        return self.keys[lo:hi]

    def count(self, first: date | None, last: date | None) -> int:
        lo, hi = self._bounds(first, last)
        return max(0, hi - lo)


class TaskSeq(Sequence[StoredTask]):
    """Tasks in (due, code) order, looked up only when read: a page of 80,000 open tasks
    costs the page, not the list. Counts by due date are bisections.

    It holds a copy of the order (ints, cheap), read through the store's live records: use it
    before the store changes again (a board is rebuilt on every change anyway).
    """

    __slots__ = ("_keys", "_tasks")

    def __init__(self, keys: list[int], tasks: Mapping[int, StoredTask]) -> None:
        self._keys, self._tasks = keys, tasks

    def __len__(self) -> int:
        return len(self._keys)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self._tasks[k & _ID_MASK] for k in self._keys[index]]
        return self._tasks[self._keys[index] & _ID_MASK]

    def __iter__(self) -> Iterator[StoredTask]:
        tasks = self._tasks
        return (tasks[k & _ID_MASK] for k in self._keys)

    def count_due_before(self, day: date) -> int:
        """How many of the tasks are due before ``day`` (they come first)."""
        return bisect_left(self._keys, day.toordinal() << _SHIFT)


class _Batch:
    """Row changes gathered for one storage write."""

    __slots__ = ("puts", "deletes", "seq", "events")

    def __init__(self, seq: Mapping[str, int]) -> None:
        self.puts: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        self.deletes: dict[str, set[str]] = defaultdict(set)
        self.seq = dict(seq)
        self.events: list[Event] = []

    def next_id(self, table: str) -> int:
        self.seq[table] = self.seq.get(table, 0) + 1
        if self.seq[table] > _ID_MASK:
            raise StorageError("Đã hết mã số cho bản ghi mới.")
        return self.seq[table]

    def put(self, table: str, row_id: int, row: dict[str, Any]) -> None:
        self.puts[table][str(row_id)] = row
        self.deletes[table].discard(str(row_id))

    def delete(self, table: str, row_id: int) -> None:
        self.deletes[table].add(str(row_id))
        self.puts[table].pop(str(row_id), None)

    def event(self, now: datetime, actor: int | None, kind: str, *, task_id: int | None = None,
              doc_id: int | None = None, **data: Any) -> Event:
        event = Event(self.next_id("events"), now, actor, kind, task_id, doc_id, data)
        self.put("events", event.id, event.to_row())
        self.events.append(event)
        return event


_TRAILING_LOCALITY_RE = re.compile(r"^(.*\S)\s*\(([^()]+)\)\s*$")


_RECORD_TABLES = frozenset({"meta", "tasks", "documents", "events"})
"""Tables whose rows the Store rebuilds from its records instead of keeping them twice."""


class StoreData(Mapping[str, Mapping[str, Any]]):
    """The database as a storage writes it: the Store's records, as rows, on demand.

    Nothing is copied: rows are generated from memory when the storage serialises them. Until
    the commit succeeds, ``batch`` holds the rows being written, laid over the records; a
    storage that journals writes only those (:meth:`journal_line`).
    """

    def __init__(self, store: Store, batch: _Batch | None) -> None:
        self._store = store
        self.batch = batch

    def _seq(self) -> dict[str, int]:
        return dict(self.batch.seq if self.batch is not None else self._store._seq)

    def journal_line(self) -> bytes | None:
        """The batch as one JSON line (None without a batch)."""
        batch = self.batch
        if batch is None:
            return None
        puts: dict[str, Any] = {t: rows for t, rows in batch.puts.items() if rows}
        if batch.seq != self._store._seq:
            puts["meta"] = {_META_ID: {"schema_version": SCHEMA_VERSION, "seq": self._seq()}}
        deletes = {t: sorted(ids) for t, ids in batch.deletes.items() if ids}
        return _encode({"put": puts, "del": deletes}).encode("utf-8") + b"\n"

    def tables(self, generation: str | None = None,
               ) -> Iterator[tuple[str, Iterator[tuple[str, Any]]]]:
        """Every table with its rows, meta first (stamped with ``generation``)."""
        meta: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "seq": self._seq()}
        if generation is not None:
            meta["generation"] = generation
        yield "meta", iter([(_META_ID, meta)])
        for name in self:
            if name != "meta":
                yield name, self.rows(name)

    def rows(self, table: str) -> Iterator[tuple[str, Any]]:
        """``(row id, row)`` of one table, with the pending batch applied."""
        if table == "meta":
            yield _META_ID, {"schema_version": SCHEMA_VERSION, "seq": self._seq()}
            return
        batch = self.batch
        puts = dict(batch.puts.get(table, {})) if batch is not None else {}
        deletes = batch.deletes.get(table, set()) if batch is not None else set()
        for row_id, row in self._store._rows(table):
            if row_id in deletes:
                continue
            yield row_id, puts.pop(row_id, row)
        yield from puts.items()

    def __getitem__(self, table: str) -> Mapping[str, Any]:
        if table not in self:
            raise KeyError(table)
        return _TableView(self, table)

    def __iter__(self) -> Iterator[str]:
        names = ["meta", *self._store._table_names()]
        if self.batch is not None:
            names += [t for t in self.batch.puts if t not in names]
        return iter(names)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __contains__(self, table: object) -> bool:
        return table in list(self)


class _TableView(Mapping[str, Any]):
    """One table of a :class:`StoreData` (rows are generated on each access)."""

    def __init__(self, data: StoreData, table: str) -> None:
        self._data, self._table = data, table

    def __getitem__(self, row_id: str) -> Any:
        for key, row in self._data.rows(self._table):
            if key == row_id:
                return row
        raise KeyError(row_id)

    def __iter__(self) -> Iterator[str]:
        return (row_id for row_id, _ in self._data.rows(self._table))

    def __len__(self) -> int:
        return sum(1 for _ in self._data.rows(self._table))


# ------------------------------------------------------------------------------------------
# Store
# ------------------------------------------------------------------------------------------
class Store:
    """Every record in memory, indexed for the commands, persisted through TinyDB.

    Not thread-safe by design: use it from the event loop only. Queries never touch the
    file; each public mutating method performs one storage write (none when nothing changes),
    and updates memory only after that write succeeded, so a failed write
    (:class:`StorageError`) leaves both the file and the memory as they were.
    """

    def _bad_record(self, table: object, row_id: object, exc: Exception) -> ConfigError:
        """The error for a record the file holds but no code can read (logged here)."""
        logger.error("bad record in %s: table %s, id %s: %r", self.path, table, row_id, exc)
        return ConfigError(f"Tệp dữ liệu {self.path} có bản ghi hỏng (bảng {table}, mã "
                           f"{row_id}). Hãy khôi phục từ bản sao lưu.")

    def __init__(self, path: str | os.PathLike[str], *,
                 storage: type[AtomicJSONStorage] = AtomicJSONStorage, lock: bool = True) -> None:
        self.path = Path(path)
        self._db = TinyDB(self.path, storage=storage, lock=lock)
        gc_was_enabled = gc.isenabled()
        gc.disable()  # loading creates ~10 objects per task; collections would triple the time
        try:
            for name in TABLES:  # no query cache: the store writes behind TinyDB's tables
                self._db.table(name, cache_size=0)
            pieces = self._db.storage.scan()
            head = next(pieces, None)
            meta_row = (head[1].get(_META_ID) if head is not None and head[0] == "meta"
                        else None)
            if isinstance(meta_row, dict) and meta_row.get("schema_version") == SCHEMA_VERSION:
                changed = False  # current data: build records while the file is read
                chunks: Iterable[tuple[str, Mapping[str, Any]]] = itertools.chain([head], pieces)
            else:  # new, old or unknown: whole, through the migrations
                data: dict[str, dict[str, Any]] = {}
                for table, rows in itertools.chain([head] if head else [], pieces):
                    data.setdefault(table, {}).update(rows)
                data, changed = migrate(data)
                chunks = list(data.items())
                del data
            self._load(chunks)  # validate before writing anything back
            del chunks
            if changed:
                self._db.storage.write(StoreData(self, None))
        except BaseException:
            self._db.close()
            raise
        finally:
            if gc_was_enabled:
                gc.enable()

    # -------------------------------------------------------------- lifecycle
    @property
    def db(self) -> TinyDB:
        """The underlying TinyDB, for inspection only: change data through the Store."""
        return self._db

    def close(self) -> None:
        self._db.close()

    def compact(self) -> None:
        """Rewrite the whole file with the journal folded in (before a backup, say): the
        data file alone then holds everything. One atomic write."""
        self._db.storage.write(StoreData(self, None))

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _load(self, chunks: Iterable[tuple[str, Mapping[str, Any]]]) -> None:
        """Build the records from ``(table, rows)`` pieces; tasks as they come (no copy)."""
        self._seq: dict[str, int] = {}
        self._raw: dict[str, dict[str, dict[str, Any]]] = {}
        """Rows of the tables kept as plain data (all but meta, tasks, documents, events)."""
        self._docs: dict[int, StoredDocument] = {}
        self._doc_by_hash: dict[str, int] = {}
        self._doc_by_ident: dict[tuple[str, str], int] = {}
        self._tasks: dict[int, StoredTask] = {}
        self._folded: dict[int, str] = {}
        self._unit_all: dict[str, _SortedIds] = {}
        self._unit_open: dict[str, _SortedIds] = {}
        self._open = _SortedIds()
        self._dirs: dict[str, UnitDirectory] = {}
        """Directories built so far (on first need: building all takes seconds at scale)."""
        self._dir_rows: dict[str, int] = {}
        self._localities: dict[str, str | None] = {}
        self._units: dict[str, StoredUnit] = {}
        self._units_sorted: list[StoredUnit] | None = None
        self._chats: dict[int, Chat] = {}
        self._subs: dict[tuple[int, str], int] = {}
        self._unit_chats: dict[str, set[int]] = defaultdict(set)
        self._events: list[Event] = []
        self._task_events: dict[int, list[Event]] = defaultdict(list)
        self._deliveries: dict[str, tuple[int, Delivery]] = {}
        self._reminders: dict[int, Reminder] = {}
        self._announcements: list[Announcement] = []

        def rows(table: str) -> Iterable[tuple[int, Mapping[str, Any]]]:
            for row_id, row in sorted(later.get(table, {}).items(), key=lambda kv: int(kv[0])):
                yield int(row_id), row

        later: dict[str, dict[str, Any]] = {}
        table: str | None = None
        row_id: Any = None
        all_keys: dict[str, list[int]] = defaultdict(list)
        open_keys: dict[str, list[int]] = defaultdict(list)
        open_all: list[int] = []
        shared: dict[Any, Any] = {}
        try:
            for table, piece in chunks:
                if table != "tasks":
                    later.setdefault(table, {}).update(piece)
                    continue
                tasks, from_row = self._tasks, StoredTask.from_row
                for row_id, row in piece.items():
                    task = from_row(int(row_id), row, shared)
                    tasks[task.id] = task
                    key = _sort_key(task)
                    units = task.units if task.support else task.lead
                    if task.status == OPEN:
                        open_all.append(key)
                        for unit in units:
                            all_keys[unit].append(key)
                            open_keys[unit].append(key)
                    else:
                        for unit in units:
                            all_keys[unit].append(key)
            del shared
            table = "tasks"
            self._unit_all = {u: _SortedIds(sorted(k)) for u, k in all_keys.items()}
            self._unit_open = {u: _SortedIds(sorted(k)) for u, k in open_keys.items()}
            self._open = _SortedIds(sorted(open_all))
            del all_keys, open_keys, open_all
            table, row_id = "meta", _META_ID
            meta = later.pop("meta", {}).get(_META_ID) or {}
            self._seq = {str(k): int(v) for k, v in (meta.get("seq") or {}).items()}
            table = "documents"
            for row_id, row in rows(table):
                self._remember_document(StoredDocument.from_row(row_id, row))
            table = "events"
            for row_id, row in rows(table):
                self._remember_event(Event.from_row(row_id, row))
            later.pop("documents", None)
            later.pop("events", None)
            for name, top in self._max_ids(later).items():
                self._seq[name] = max(self._seq.get(name, 0), top)
            self._raw = later
            labels: dict[tuple[tuple[str, int], ...], Unit] = {}
            table = "units"
            for row_id, row in rows(table):
                loc_key = row["loc"]
                self._dir_rows[loc_key] = row_id
                self._localities[loc_key] = row.get("locality")
                self._units_from_json(loc_key, row["directory"], labels)
            table = "chats"
            for row_id, row in rows(table):
                self._chats[row_id] = Chat.from_row(row_id, row)
            table = "subscriptions"
            for row_id, row in rows(table):
                chat = self._chats[row["chat"]]
                self._subs[(chat.id, row["unit"])] = row_id
                self._unit_chats[row["unit"]].add(chat.id)
                self._chats[chat.id] = replace(chat, unit_keys=chat.unit_keys + (row["unit"],))
            table = "deliveries"
            for row_id, row in rows(table):
                delivery = Delivery.from_row(row)
                self._deliveries[delivery.key] = (row_id, delivery)
            table = "reminders"
            for row_id, row in rows(table):
                self._reminders[row_id] = Reminder.from_row(row_id, row)
            table = "announcements"
            for row_id, row in rows(table):
                self._announcements.append(Announcement.from_row(row_id, row))
        except ConfigError:
            raise  # the file itself is damaged: said so already
        except (KeyError, TypeError, ValueError, IndexError, AttributeError, BotError) as exc:
            raise self._bad_record(table, row_id, exc) from exc
        logger.info("loaded %s: %d documents, %d tasks, %d units, %d chats", self.path,
                    len(self._docs), len(self._tasks), len(self._units), len(self._chats))

    def _max_ids(self, raw: Mapping[str, Mapping[str, Any]]) -> dict[str, int]:
        """Largest id per numbered table, from the records and the plain tables."""
        tops = {name: max((int(i) for i in raw.get(name) or ()), default=0)
                for name in _SEQ_TABLES}
        tops["tasks"] = max(self._tasks, default=0)
        tops["documents"] = max(self._docs, default=0)
        tops["events"] = self._events[-1].id if self._events else 0
        return tops

    def _units_from_json(self, loc_key: str, directory: Mapping[str, Any],
                         labels: dict[tuple[tuple[str, int], ...], Unit]) -> None:
        """StoredUnits of a saved directory without building it (that takes ~3 ms each).

        Each unit's name follows :class:`UnitDirectory`'s own rule, worked out once per
        distinct list of written forms: communes share most unit names.
        """
        locality = self._localities.get(loc_key)
        for item in directory["units"]:
            key = item["key"]
            if not isinstance(key, str) or not key:
                raise ValueError(key)
            forms = tuple((form, count) for form, count in item["forms"])
            unit = labels.get(forms)
            if unit is None:
                one = {"units": [{"key": "x", "forms": [list(f) for f in forms]}]}
                unit = labels[forms] = next(UnitDirectory.from_json(one).units())
            scoped = f"{loc_key}|{key}"
            self._units[scoped] = StoredUnit(scoped, unit.name, locality, unit.aliases,
                                             unit.generic)
        self._units_sorted = None

    def _directory(self, loc_key: str) -> UnitDirectory:
        """The unit directory of a locality, built from its saved row on first use."""
        directory = self._dirs.get(loc_key)
        if directory is None:
            row = self._raw["units"][str(self._dir_rows[loc_key])]
            directory = self._dirs[loc_key] = UnitDirectory.from_json(row["directory"])
        return directory

    # -------------------------------------------------------------- persistence
    def _commit(self, batch: _Batch) -> None:
        """Write ``batch`` once (the storage journals it or rewrites the file), then keep it."""
        data = StoreData(self, batch)
        self._db.storage.write(data)
        data.batch = None
        for table in set(batch.puts) | set(batch.deletes):
            if table in _RECORD_TABLES:
                continue  # the callers update their records
            rows = self._raw.setdefault(table, {})
            for row_id in batch.deletes.get(table, ()):
                rows.pop(row_id, None)
            rows.update(batch.puts.get(table, {}))
        self._seq = batch.seq
        for event in batch.events:
            self._remember_event(event)

    def _rows(self, table: str) -> Iterator[tuple[str, Any]]:
        """Current rows of one table (meta excluded), generated from the records."""
        if table == "tasks":
            return ((str(i), t.to_row()) for i, t in self._tasks.items())
        if table == "documents":
            return ((str(i), d.to_row()) for i, d in self._docs.items())
        if table == "events":
            return ((str(e.id), e.to_row()) for e in self._events)
        return iter(self._raw.get(table, {}).items())

    def _table_names(self) -> list[str]:
        return list(dict.fromkeys([*TABLES[1:], *self._raw]))

    def _remember_event(self, event: Event) -> None:
        self._events.append(event)
        if event.task_id is not None:
            self._task_events[event.task_id].append(event)

    def _remember_document(self, doc: StoredDocument) -> None:
        self._docs[doc.id] = doc
        self._doc_by_hash[doc.file_hash] = doc.id
        ident = _identity(DocumentInfo(number=doc.number, issuer=doc.issuer))
        if ident is not None:
            self._doc_by_ident[ident] = doc.id

    def _forget_document(self, doc: StoredDocument) -> None:
        self._docs.pop(doc.id, None)
        if self._doc_by_hash.get(doc.file_hash) == doc.id:
            del self._doc_by_hash[doc.file_hash]
        ident = _identity(DocumentInfo(number=doc.number, issuer=doc.issuer))
        if ident is not None and self._doc_by_ident.get(ident) == doc.id:
            del self._doc_by_ident[ident]

    def _index(self, task: StoredTask) -> None:
        key = _sort_key(task)
        for unit in task.units:
            self._unit_all.setdefault(unit, _SortedIds()).add(key)
            if task.is_open:
                self._unit_open.setdefault(unit, _SortedIds()).add(key)
        if task.is_open:
            self._open.add(key)

    def _unindex(self, task: StoredTask) -> None:
        key = _sort_key(task)
        for unit in task.units:
            self._unit_all[unit].discard(key)
            if task.is_open:
                self._unit_open[unit].discard(key)
        if task.is_open:
            self._open.discard(key)

    def _put_task(self, task: StoredTask) -> None:
        old = self._tasks.get(task.id)
        if old is not None:
            self._unindex(old)
            if old.text != task.text:
                self._folded.pop(task.id, None)
        self._tasks[task.id] = task
        self._index(task)

    def _drop_task(self, task: StoredTask) -> None:
        self._unindex(self._tasks.pop(task.id))
        self._folded.pop(task.id, None)

    def _refresh_units(self, loc_key: str) -> None:
        locality = self._localities.get(loc_key)
        for unit in self._dirs[loc_key].units():
            key = f"{loc_key}|{unit.key}"
            self._units[key] = StoredUnit(key, unit.name, locality, unit.aliases, unit.generic)
        self._units_sorted = None

    # -------------------------------------------------------------- import
    def import_plan(self, plan: ParsedPlan, *, filename: str, file_hash: str,
                    actor: int | None, now: datetime) -> ImportResult:
        """Store a parsed plan: "new", "replaced" (same number and issuer) or "duplicate".

        A replaced version keeps the id and done status of every task whose fingerprint is
        unchanged (and its /giahan date when the plan's own date did not change).
        """
        _require_aware(now)
        existing = self._doc_by_hash.get(file_hash)
        if existing is not None:
            doc = self._docs[existing]
            tasks = self.document_tasks(doc.id)
            return ImportResult("duplicate", doc, len(tasks), self._unit_names(tasks),
                                sum(t.due_kind == "explicit" for t in tasks), 0, ())
        if not plan.tasks:
            raise EmptyPlan("Không tìm thấy nhiệm vụ nào giao cho đơn vị trong văn bản này, "
                            "nên không có gì để theo dõi.")
        info = plan.document
        ident = _identity(info)
        previous_id = self._doc_by_ident.get(ident) if ident is not None else None
        previous = self._docs.get(previous_id) if previous_id is not None else None
        loc_key = _locality_key(info.locality)
        dir_row_id = self._dir_rows.get(loc_key)
        directory = (UnitDirectory.from_json(self._raw["units"][str(dir_row_id)]["directory"])
                     if dir_row_id is not None else UnitDirectory())  # a copy to extend
        warnings = list(plan.warnings)
        batch = _Batch(self._seq)

        old_by_fp: dict[str, list[StoredTask]] = defaultdict(list)
        for task in self.document_tasks(previous.id) if previous else ():
            old_by_fp[task.fingerprint].append(task)
        doc_id = previous.id if previous else batch.next_id("documents")
        new_tasks: list[StoredTask] = []
        kept_done = 0
        no_lead: list[int] = []
        for item in plan.tasks:
            lead = self._unit_keys(directory, loc_key, info.locality, item.lead, item.line,
                                   warnings)
            support = tuple(k for k in self._unit_keys(directory, loc_key, info.locality,
                                                       item.support, item.line, warnings)
                            if k not in lead)
            if not lead:
                no_lead.append(item.line)
            fp = fingerprint(item.text, lead)
            old = old_by_fp[fp].pop(0) if old_by_fp.get(fp) else None
            task = StoredTask(
                id=old.id if old else batch.next_id("tasks"), doc_id=doc_id, line=item.line,
                end_line=item.end_line, section=item.section, text=item.text, lead=lead,
                support=support,
                deadlines=tuple((d.phrase, d.due.isoformat() if d.due else None, d.line)
                                for d in item.deadlines),
                due=item.due, due_kind=item.due_kind, original_due=item.due,
                recurrence=item.recurrence, fingerprint=fp,
            )
            if old is not None:
                if not old.is_open:
                    task = replace(task, status=old.status, done_at=old.done_at,
                                   done_by=old.done_by, note=old.note)
                    kept_done += 1
                if old.due_kind == "extended" and old.original_due == item.due:
                    task = replace(task, due=old.due, due_kind="extended")
            new_tasks.append(task)
            batch.put("tasks", task.id, task.to_row())
        if no_lead:
            shown = ", ".join(map(str, no_lead[:10])) + ("…" if len(no_lead) > 10 else "")
            warnings.append(f"{len(no_lead)} nhiệm vụ chưa xác định được đơn vị chủ trì "
                            f"(dòng {shown}).")

        removed = [t for group in old_by_fp.values() for t in group]
        removed_ids = {t.id for t in removed}
        for task in removed:
            batch.delete("tasks", task.id)
        dropped_reminders = [r for r in self._reminders.values()
                             if r.task_id in removed_ids and r.sent_at is None]
        for reminder in dropped_reminders:
            batch.delete("reminders", reminder.id)
        doc = StoredDocument(
            id=doc_id, kind=info.kind, number=info.number, issuer=info.issuer,
            issued=info.issued, title=info.title, period=info.period, locality=info.locality,
            filename=filename, file_hash=file_hash, imported_at=now, imported_by=actor,
            task_ids=tuple(t.id for t in new_tasks),
            version=previous.version + 1 if previous else 1,
        )
        batch.put("documents", doc_id, doc.to_row())
        dir_row = self._dir_rows.get(loc_key) or batch.next_id("units")
        locality = self._localities.get(loc_key, info.locality)
        batch.put("units", dir_row, {"loc": loc_key, "locality": locality,
                                     "directory": directory.to_json()})
        status = "replaced" if previous else "new"
        batch.event(now, actor, "import", doc_id=doc_id, status=status, filename=filename,
                    number=info.number, version=doc.version, tasks=len(new_tasks),
                    kept_done=kept_done, removed=len(removed))
        self._commit(batch)

        for task in removed:
            self._drop_task(task)
        for reminder in dropped_reminders:
            del self._reminders[reminder.id]
        if previous is not None:
            self._forget_document(previous)
        for task in new_tasks:
            self._put_task(task)
        self._remember_document(doc)
        self._dirs[loc_key], self._dir_rows[loc_key] = directory, dir_row
        self._localities[loc_key] = locality
        self._refresh_units(loc_key)
        logger.info("imported %s as document %d (%s, %d tasks, %d kept done)", filename,
                    doc_id, status, len(new_tasks), kept_done)
        return ImportResult(status, doc, len(new_tasks), self._unit_names(new_tasks),
                            sum(t.due_kind == "explicit" for t in new_tasks), kept_done,
                            tuple(warnings))

    @staticmethod
    def _unit_keys(directory: UnitDirectory, loc_key: str, locality: str | None,
                   names: Iterable[str], line: int, warnings: list[str]) -> tuple[str, ...]:
        keys: list[str] = []
        for name in names:
            try:
                unit = directory.add(name, locality)
            except BotError:
                warnings.append(f"Dòng {line}: bỏ qua tên đơn vị không đọc được «{name}».")
                continue
            key = f"{loc_key}|{unit.key}"
            if key not in keys:
                keys.append(key)
        return tuple(keys)

    def _unit_names(self, tasks: Iterable[StoredTask]) -> tuple[str, ...]:
        keys = dict.fromkeys(k for t in tasks for k in t.units)
        names = (self._units[k].name if k in self._units else k for k in keys)
        return tuple(sorted(dict.fromkeys(names), key=fold))

    def undo_import(self, doc_id: int, actor: int | None, now: datetime) -> StoredDocument:
        """Remove a document and its tasks. A replaced earlier version is not restored."""
        _require_aware(now)
        doc = self._docs.get(doc_id)
        if doc is None:
            raise UsageError(f"Không có văn bản mã {doc_id}.")
        tasks = self.document_tasks(doc_id)
        ids = {t.id for t in tasks}
        reminders = [r for r in self._reminders.values() if r.task_id in ids and r.sent_at is None]
        batch = _Batch(self._seq)
        batch.delete("documents", doc_id)
        for task in tasks:
            batch.delete("tasks", task.id)
        for reminder in reminders:
            batch.delete("reminders", reminder.id)
        batch.event(now, actor, "undo_import", doc_id=doc_id, number=doc.number,
                    filename=doc.filename, tasks=len(tasks))
        self._commit(batch)
        for task in tasks:
            self._drop_task(task)
        for reminder in reminders:
            del self._reminders[reminder.id]
        self._forget_document(doc)
        logger.info("undid import of document %d (%d tasks)", doc_id, len(tasks))
        return doc

    # -------------------------------------------------------------- task queries
    def task(self, code: object) -> StoredTask | None:
        """The task with this code ("17", "#17" or 17), or None."""
        task_id = _parse_code(code)
        return self._tasks.get(task_id) if task_id is not None else None

    def _require(self, code: object) -> StoredTask:
        task = self.task(code)
        if task is None:
            raise UsageError(f"Không có nhiệm vụ mã {quote(str(code))}.")
        return task

    def _collect(self, index: Mapping[str, _SortedIds], keys: Iterable[str] | str,
                 first: date | None = None, last: date | None = None) -> list[StoredTask]:
        lists = [index[k].between(first, last) for k in _as_keys(keys) if k in index]
        lists = [keys_ for keys_ in lists if keys_]
        if not lists:
            return []
        packed: Iterable[int] = (lists[0] if len(lists) == 1
                                 else (k for k, _ in itertools.groupby(heapq.merge(*lists))))
        return [self._tasks[k & _ID_MASK] for k in packed]

    def count_tasks(self, keys: Iterable[str] | str) -> int:
        """``len(tasks_for_units(keys))`` without building the list."""
        lists = [self._unit_all[k].keys for k in _as_keys(keys) if k in self._unit_all]
        if len(lists) <= 1:
            return len(lists[0]) if lists else 0
        return sum(1 for _ in itertools.groupby(heapq.merge(*lists)))

    def tasks_for_units(self, keys: Iterable[str] | str, *,
                        lead_only: bool = False) -> list[StoredTask]:
        """Tasks naming any of ``keys`` (lead or support), by due date then code."""
        tasks = self._collect(self._unit_all, keys)
        if lead_only:
            wanted = set(_as_keys(keys))
            tasks = [t for t in tasks if wanted.intersection(t.lead)]
        return tasks

    def _open_keys(self, keys: Iterable[str] | str | None, first: date | None = None,
                   last: date | None = None) -> list[int]:
        """Packed (due, id) keys of open tasks, ordered, without duplicates."""
        if keys is None:
            return self._open.between(first, last)
        lists = [self._unit_open[k].between(first, last) for k in _as_keys(keys)
                 if k in self._unit_open]
        lists = [found for found in lists if found]
        if len(lists) <= 1:
            return lists[0] if lists else []
        return [k for k, _ in itertools.groupby(heapq.merge(*lists))]

    def open_sequence(self, keys: Iterable[str] | str | None = None) -> TaskSeq:
        """Open tasks of ``keys`` (None: all) like :meth:`open_tasks`, read lazily."""
        return TaskSeq(self._open_keys(keys), self._tasks)

    def count_open(self, keys: Iterable[str] | str | None = None, first: date | None = None,
                   last: date | None = None) -> int:
        """How many open tasks of ``keys`` fall due from ``first`` to ``last`` (None: open
        end; tasks without a date count only when ``last`` is None)."""
        if keys is None or isinstance(keys, str):
            index = self._open if keys is None else self._unit_open.get(keys)
            return index.count(first, last) if index is not None else 0
        return len(self._open_keys(keys, first, last))

    def open_slice(self, keys: Iterable[str] | str | None, start: int,
                   stop: int | None) -> list[StoredTask]:
        """``open_tasks(keys)[start:stop]`` without building the whole list."""
        return self.open_sequence(keys)[start:stop]

    def open_tasks(self, keys: Iterable[str] | str | None = None) -> list[StoredTask]:
        """Open tasks by due date (those without a date last)."""
        if keys is None:
            return [self._tasks[k & _ID_MASK] for k in self._open.keys]
        return self._collect(self._unit_open, keys)

    def overdue(self, keys: Iterable[str] | str | None, today: date) -> list[StoredTask]:
        """Open tasks whose deadline has passed (due before ``today``), oldest first."""
        return self._open_between(keys, None, today - timedelta(days=1))

    def upcoming(self, keys: Iterable[str] | str | None, today: date,
                 days: int) -> list[StoredTask]:
        """Open tasks due from ``today`` to ``today + days`` inclusive, soonest first."""
        if days < 0:
            raise UsageError("Số ngày phải từ 0 trở lên.")
        return self._open_between(keys, today, today + timedelta(days=days))

    def _open_between(self, keys: Iterable[str] | str | None, first: date | None,
                      last: date) -> list[StoredTask]:
        if keys is None:
            return [self._tasks[k & _ID_MASK] for k in self._open.between(first, last)]
        return self._collect(self._unit_open, keys, first, last)

    def search(self, query: str, keys: Iterable[str] | str | None = None, *,
               limit: int | None = None) -> list[StoredTask]:
        """Tasks whose text holds every word of ``query``, ignoring accents and case.

        Open tasks first, then by due date.
        """
        words = search_fold(query).split()
        if not words:
            raise UsageError("Hãy nhập từ cần tìm, ví dụ: /timkiem tiêm chủng.")
        pool: Iterable[StoredTask] = (self._tasks.values() if keys is None
                                      else self.tasks_for_units(keys))
        found = []
        folded = self._folded
        for task in pool:
            text = folded.get(task.id)
            if text is None:
                text = folded[task.id] = search_fold(task.text)
            if all(w in text for w in words):
                found.append(task)
        found.sort(key=lambda t: (not t.is_open, _sort_key(t)))
        return found[:limit] if limit is not None else found

    def documents(self) -> list[StoredDocument]:
        """All documents, most recently imported first."""
        return sorted(self._docs.values(), key=lambda d: (d.imported_at, d.id), reverse=True)

    def document(self, doc_id: int) -> StoredDocument | None:
        return self._docs.get(doc_id)

    def document_tasks(self, doc_id: int) -> list[StoredTask]:
        """The tasks of one document, in the order of the plan."""
        doc = self._docs.get(doc_id)
        return [self._tasks[i] for i in doc.task_ids if i in self._tasks] if doc else []

    @property
    def task_count(self) -> int:
        return len(self._tasks)

    # -------------------------------------------------------------- units
    def units(self) -> list[StoredUnit]:
        """Every known unit, by locality then name (sorted once per change of the units)."""
        if self._units_sorted is None:
            folded: dict[str | None, str] = {}

            def order(unit: StoredUnit) -> tuple[str, str]:
                if unit.locality not in folded:
                    folded[unit.locality] = fold(unit.locality or "")
                if unit.name not in folded:
                    folded[unit.name] = fold(unit.name)
                return folded[unit.locality], folded[unit.name]

            self._units_sorted = sorted(self._units.values(), key=order)
        return list(self._units_sorted)

    def unit(self, key: str) -> StoredUnit | None:
        return self._units.get(key)

    def unit_name(self, key: str) -> str:
        """Display name for a unit key (the key itself if the unit is unknown)."""
        unit = self._units.get(key)
        return unit.name if unit else key

    def match_unit(self, query: str, locality: str | None = None) -> StoredUnit:
        """The unit a person means by ``query`` (accents, abbreviations and typos tolerated).

        "Phòng Y tế (Uông Bí)" picks the locality; a name found in several localities raises
        :class:`UnitNotFound` whose suggestions are such qualified names.
        """
        if locality is None:
            qualified = _TRAILING_LOCALITY_RE.match(query.strip())
            if qualified and _locality_key(qualified.group(2)) in self._dir_rows:
                query, locality = qualified.group(1), qualified.group(2)
        if locality is not None:
            loc_key = _locality_key(locality)
            if loc_key not in self._dir_rows:
                raise UnitNotFound(f"Chưa có đơn vị nào thuộc «{quote(locality)}».")
            directory = self._directory(loc_key)
            return self._stored(loc_key, directory.match(query, self._localities[loc_key]))
        if not self._dir_rows:
            raise UnitNotFound("Chưa có đơn vị nào: hãy nhập một kế hoạch trước.")
        if len(self._dir_rows) == 1:
            loc_key = next(iter(self._dir_rows))
            directory = self._directory(loc_key)
            return self._stored(loc_key, directory.match(query, self._localities[loc_key]))

        exact = [(lk, u) for lk in self._dir_rows if (u := self._resolve(lk, query)) is not None]
        if len(exact) == 1:
            return self._stored(*exact[0])
        if exact:
            return self._ambiguous(query, exact)
        found: list[tuple[str, Unit]] = []
        suggestions: list[str] = []
        for loc_key in self._dir_rows:
            directory = self._directory(loc_key)
            locality_name = self._localities[loc_key]
            try:
                found.append((loc_key, directory.match(query, locality_name)))
            except UnitNotFound as exc:
                suggestions.extend(f"{s} ({locality_name})" if locality_name else s
                                   for s in exc.suggestions)
        if len(found) == 1:
            return self._stored(*found[0])
        if found:
            return self._ambiguous(query, found)
        shown = quote(query)
        if suggestions:
            raise UnitNotFound(f"Không tìm thấy đơn vị «{shown}». Có phải: "
                               + "; ".join(suggestions) + "?", suggestions)
        raise UnitNotFound(f"Không tìm thấy đơn vị «{shown}».")

    def _resolve(self, loc_key: str, query: str) -> Unit | None:
        """:meth:`UnitDirectory.resolve` without building the directory."""
        directory = self._dirs.get(loc_key)
        if directory is not None:
            return directory.resolve(query, self._localities[loc_key])
        key = unit_key(query, self._localities[loc_key])
        stored = self._units.get(f"{loc_key}|{key}") if key else None
        return Unit(key, stored.name, stored.aliases, stored.generic) if stored else None

    def _stored(self, loc_key: str, unit: Unit) -> StoredUnit:
        stored = self._units.get(f"{loc_key}|{unit.key}")
        if stored is None:
            raise UnitNotFound(f"Không tìm thấy đơn vị «{unit.name}».")
        return stored

    def _ambiguous(self, query: str, hits: list[tuple[str, Unit]]) -> StoredUnit:
        labels = [self._stored(lk, u).label for lk, u in hits]
        raise UnitNotFound(
            f"Có {len(labels)} đơn vị «{' '.join(query.split())}» ở các địa bàn khác nhau. "
            "Hãy ghi rõ địa bàn: " + "; ".join(labels) + ".", labels)

    # -------------------------------------------------------------- task changes
    def _save_task(self, old: StoredTask, new: StoredTask, batch: _Batch) -> None:
        batch.put("tasks", new.id, new.to_row())
        self._commit(batch)
        self._put_task(new)
        logger.debug("task %s: %s -> %s", new.id, old.status, new.status)

    def mark_done(self, code: object, *, actor: int | None, now: datetime,
                  note: str | None = None) -> tuple[StoredTask, int]:
        """Mark a task done; returns it with the days it was late (0 when on time)."""
        _require_aware(now)
        task = self._require(code)
        if not task.is_open:
            when = f" ngày {_vn_date(task.done_at.date())}" if task.done_at else ""
            raise UsageError(f"Nhiệm vụ {task.code} đã được đánh dấu hoàn thành{when}.")
        days_late = max(0, (now.date() - task.due).days) if task.due else 0
        new = replace(task, status=DONE, done_at=now, done_by=actor, note=note)
        batch = _Batch(self._seq)
        batch.event(now, actor, "done", task_id=task.id, doc_id=task.doc_id,
                    due=task.due.isoformat() if task.due else None, days_late=days_late,
                    note=note)
        self._save_task(task, new, batch)
        return new, days_late

    def reopen(self, code: object, *, actor: int | None, now: datetime) -> StoredTask:
        """Undo a "done": the task is open again (the event keeps who had closed it)."""
        _require_aware(now)
        task = self._require(code)
        if task.is_open:
            raise UsageError(f"Nhiệm vụ {task.code} chưa được đánh dấu hoàn thành.")
        new = replace(task, status=OPEN, done_at=None, done_by=None, note=None)
        batch = _Batch(self._seq)
        batch.event(now, actor, "reopen", task_id=task.id, doc_id=task.doc_id,
                    done_at=task.done_at.isoformat() if task.done_at else None,
                    done_by=task.done_by, note=task.note)
        self._save_task(task, new, batch)
        return new

    def extend(self, code: object, new_due: date, *, actor: int | None, now: datetime,
               reason: str | None = None) -> StoredTask:
        """Move an open task's deadline (/giahan); the plan's date stays in ``original_due``."""
        _require_aware(now)
        task = self._require(code)
        if not task.is_open:
            raise UsageError(f"Nhiệm vụ {task.code} đã hoàn thành, không cần gia hạn.")
        if new_due < now.date():
            raise UsageError(f"Ngày gia hạn {_vn_date(new_due)} đã qua.")
        if new_due == task.due:
            raise UsageError(f"Nhiệm vụ {task.code} đã có hạn {_vn_date(new_due)}.")
        new = replace(task, due=new_due, due_kind="extended")
        batch = _Batch(self._seq)
        batch.event(now, actor, "extend", task_id=task.id, doc_id=task.doc_id,
                    old_due=task.due.isoformat() if task.due else None,
                    old_due_kind=task.due_kind, new_due=new_due.isoformat(), reason=reason)
        self._save_task(task, new, batch)
        return new

    def history(self, code: object) -> list[Event]:
        """Everything that happened to a task, oldest first."""
        task = self._require(code)
        return list(self._task_events.get(task.id, ()))

    def recent_events(self, limit: int = 20) -> list[Event]:
        """The latest events of any kind, newest first."""
        return self._events[-limit:][::-1] if limit > 0 else []

    # -------------------------------------------------------------- chats
    def chat(self, chat_id: int) -> Chat | None:
        return self._chats.get(chat_id)

    def chats(self, *, active_only: bool = False) -> list[Chat]:
        return [c for c in self._chats.values() if c.active or not active_only]

    def chat_units(self, chat_id: int) -> tuple[str, ...]:
        chat = self._chats.get(chat_id)
        return chat.unit_keys if chat else ()

    def unit_chats(self, unit_key: str) -> list[Chat]:
        """Active chats that follow ``unit_key``."""
        chats = (self._chats[c] for c in sorted(self._unit_chats.get(unit_key, ())))
        return [c for c in chats if c.active]

    def subscribe(self, chat_id: int, unit_key: str, *, title: str, chat_type: str,
                  actor: int | None, now: datetime, via: str = VIA_ADMIN, by_name: str = "",
                  granted_by: int | None = None, granted_by_name: str = "",
                  ref: int | None = None) -> Chat:
        """Make a chat a member of a unit (and reactivate it); no write when nothing changes.

        ``via`` says how (:data:`bot.records.VIAS`); ``actor``/``by_name`` who made it happen,
        ``granted_by`` the admin who invited or approved, ``ref`` the invitation or request.
        A pending request of the chat for the unit is settled (cancelled) in the same write.
        Rights are the caller's business (:mod:`bot.membership`).
        """
        _require_aware(now)
        self._require_unit(unit_key)
        batch = _Batch(self._seq)
        member = Membership(0, chat_id, unit_key, now, actor, by_name, via, granted_by,
                            granted_by_name, ref)
        apply = self._stage_membership(batch, member, title=title, chat_type=chat_type)
        if apply is None:
            return self._chats[chat_id]
        self._commit(batch)
        return apply()

    def _require_unit(self, unit_key: str) -> StoredUnit:
        unit = self._units.get(unit_key)
        if unit is None:
            raise UsageError("Đơn vị này chưa có trong danh bạ; hãy nhập kế hoạch có giao việc "
                             "cho đơn vị trước.")
        return unit

    def _stage_membership(self, batch: _Batch, member: Membership, *, title: str,
                          chat_type: str) -> Any:
        """Put a membership (``member.id`` is assigned here) and its chat row into ``batch``.

        Returns a function that updates memory once the batch is committed (and returns the
        chat), or None when the chat is already an active member with the same title/type.
        """
        chat_id, unit_key, now = member.chat_id, member.unit_key, member.since
        old = self._chats.get(chat_id)
        subscribed = (chat_id, unit_key) in self._subs
        keys = old.unit_keys if old else ()
        new = Chat(chat_id, title or (old.title if old else ""),
                   chat_type or (old.type if old else ""), True,
                   keys if subscribed else keys + (unit_key,))
        if new == old:
            return None
        batch.put("chats", chat_id, new.to_row())
        sub_id = None
        settled: list[JoinRequest] = []
        if not subscribed:
            sub_id = batch.next_id("subscriptions")
            member = replace(member, id=sub_id)
            batch.put("subscriptions", sub_id, member.to_row())
            batch.event(now, member.by, "subscribe", chat_id=chat_id, unit=unit_key,
                        via=member.via)
            state = self._member_state()
            for request in state["requests"].values():
                if (request.pending and request.chat_id == chat_id
                        and request.unit_key == unit_key
                        and not (member.via == VIA_REQUEST and request.id == member.ref)):
                    done = replace(request, status=CANCELLED, decided_at=now)
                    batch.put(self._REQUESTS, done.id, done.to_row())
                    settled.append(done)

        def apply() -> Chat:
            self._chats[chat_id] = new
            if sub_id is not None:
                self._subs[(chat_id, unit_key)] = sub_id
                self._unit_chats[unit_key].add(chat_id)
            for request in settled:
                self._member_state()["requests"][request.id] = request
            return new

        return apply

    def unsubscribe(self, chat_id: int, unit_key: str, *, actor: int | None,
                    now: datetime, kind: str = "unsubscribe") -> Chat:
        """Take a chat out of a unit; the event is ``kind`` ("remove_member" for an admin's
        removal)."""
        _require_aware(now)
        sub_id = self._subs.get((chat_id, unit_key))
        if sub_id is None:
            chat = self._chats.get(chat_id)
            who = "Bạn" if chat is not None and chat.type == "private" else "Nhóm này"
            raise UsageError(f"{who} chưa theo dõi {self.unit_name(unit_key)}.")
        chat = self._chats[chat_id]
        new = replace(chat, unit_keys=tuple(k for k in chat.unit_keys if k != unit_key))
        batch = _Batch(self._seq)
        batch.delete("subscriptions", sub_id)
        batch.event(now, actor, kind, chat_id=chat_id, unit=unit_key)
        self._commit(batch)
        self._chats[chat_id] = new
        del self._subs[(chat_id, unit_key)]
        self._unit_chats[unit_key].discard(chat_id)
        return new

    def set_chat_active(self, chat_id: int, active: bool, reason: str | None,
                        now: datetime) -> Chat | None:
        """Mark a chat (in)active, e.g. when the bot is removed or blocked; None if unknown."""
        _require_aware(now)
        chat = self._chats.get(chat_id)
        if chat is None or chat.active == active:
            return chat
        new = replace(chat, active=active)
        batch = _Batch(self._seq)
        batch.put("chats", chat_id, new.to_row())
        batch.event(now, None, "chat_active", chat_id=chat_id, active=active, reason=reason)
        self._commit(batch)
        self._chats[chat_id] = new
        return new

    def migrate_chat(self, old_id: int, new_id: int, now: datetime) -> Chat | None:
        """A group became a supergroup (new id): move its subscriptions and reminders."""
        _require_aware(now)
        old = self._chats.get(old_id)
        if old_id == new_id:
            return old
        if old is None:  # a group that only asked to join a unit: its requests follow
            self._migrate_requests(old_id, new_id)
            return None
        target = self._chats.get(new_id)
        keys = target.unit_keys if target else ()
        keys += tuple(k for k in old.unit_keys if k not in keys)
        new = Chat(new_id, old.title or (target.title if target else ""), "supergroup", True,
                   keys)
        batch = _Batch(self._seq)
        batch.delete("chats", old_id)
        batch.put("chats", new_id, new.to_row())
        moved: dict[tuple[int, str], int] = {}
        for key in old.unit_keys:
            sub_id = self._subs[(old_id, key)]
            if (new_id, key) in self._subs:
                batch.delete("subscriptions", sub_id)
            else:
                row = dict(self._raw["subscriptions"][str(sub_id)], chat=new_id)
                batch.put("subscriptions", sub_id, row)
                moved[(new_id, key)] = sub_id
        reminders = [replace(r, chat_id=new_id) for r in self._reminders.values()
                     if r.chat_id == old_id and r.sent_at is None]
        for reminder in reminders:
            batch.put("reminders", reminder.id, reminder.to_row())
        requests = [replace(r, chat_id=new_id, chat_type="supergroup")
                    for r in self._member_state()["requests"].values()
                    if r.chat_id == old_id and r.pending]
        for request in requests:
            batch.put(self._REQUESTS, request.id, request.to_row())
        batch.event(now, None, "chat_migrate", chat_id=new_id, old_chat_id=old_id)
        self._commit(batch)
        del self._chats[old_id]
        self._chats[new_id] = new
        for key in old.unit_keys:
            del self._subs[(old_id, key)]
            self._unit_chats[key].discard(old_id)
            self._unit_chats[key].add(new_id)
        self._subs.update(moved)
        for reminder in reminders:
            self._reminders[reminder.id] = reminder
        for request in requests:
            self._member_state()["requests"][request.id] = request
        logger.info("chat %s migrated to %s", old_id, new_id)
        return new

    # -------------------------------------------------------------- delivery log
    def delivery(self, key: str) -> Delivery | None:
        entry = self._deliveries.get(key)
        return entry[1] if entry else None

    def delivery_status(self, key: str) -> str | None:
        """Status recorded for a reminder key ("sent", "failed"...), None if never tried."""
        entry = self._deliveries.get(key)
        return entry[1].status if entry else None

    def record_delivery(self, key: str, *, chat_id: int | None, status: str, now: datetime,
                        detail: str | None = None) -> Delivery:
        """Record (or overwrite) the outcome of delivering reminder ``key``."""
        _require_aware(now)
        delivery = Delivery(key, chat_id, status, now, detail)
        batch = _Batch(self._seq)
        entry = self._deliveries.get(key)
        row_id = entry[0] if entry else batch.next_id("deliveries")
        batch.put("deliveries", row_id, delivery.to_row())
        self._commit(batch)
        self._deliveries[key] = (row_id, delivery)
        return delivery

    def forget_deliveries(self, before: datetime) -> int:
        """Drop delivery records older than ``before`` (keeps the file small); one write."""
        old = [(k, rid) for k, (rid, d) in self._deliveries.items() if d.at < before]
        if not old:
            return 0
        batch = _Batch(self._seq)
        for _, row_id in old:
            batch.delete("deliveries", row_id)
        self._commit(batch)
        for key, _ in old:
            del self._deliveries[key]
        return len(old)

    # -------------------------------------------------------------- announcements
    def log_announcement(self, text: str, *, actor: int | None, now: datetime,
                         chat_ids: Iterable[int] = (), unit_keys: Iterable[str] = (),
                         failed: Iterable[int] = ()) -> Announcement:
        """Keep a record of a broadcast message and where it went."""
        _require_aware(now)
        batch = _Batch(self._seq)
        item = Announcement(batch.next_id("announcements"), now, actor, text, tuple(chat_ids),
                            tuple(unit_keys), tuple(failed))
        batch.put("announcements", item.id, item.to_row())
        self._commit(batch)
        self._announcements.append(item)
        return item

    def announcements(self) -> list[Announcement]:
        return list(self._announcements)

    # -------------------------------------------------------------- one-off reminders
    def add_reminder(self, code: object, chat_id: int, at: datetime, actor: int | None,
                     now: datetime) -> Reminder:
        """Remind ``chat_id`` of a task at ``at`` (aware, in the future)."""
        _require_aware(now)
        _require_aware(at)
        task = self._require(code)
        if at <= now:
            raise UsageError(f"Thời điểm nhắc {at.strftime('%H:%M %d/%m/%Y')} đã qua.")
        batch = _Batch(self._seq)
        reminder = Reminder(batch.next_id("reminders"), task.id, chat_id, at, actor, now)
        batch.put("reminders", reminder.id, reminder.to_row())
        batch.event(now, actor, "reminder", task_id=task.id, doc_id=task.doc_id,
                    chat_id=chat_id, at=at.isoformat())
        self._commit(batch)
        self._reminders[reminder.id] = reminder
        return reminder

    def due_reminders(self, until: datetime) -> list[Reminder]:
        """Unsent reminders whose time is at or before ``until``, earliest first."""
        _require_aware(until)
        due = [r for r in self._reminders.values() if r.sent_at is None and r.at <= until]
        return sorted(due, key=lambda r: (r.at, r.id))

    def mark_reminder_sent(self, reminder_id: int, now: datetime) -> Reminder:
        _require_aware(now)
        reminder = self._reminders.get(reminder_id)
        if reminder is None:
            raise UsageError(f"Không có lời nhắc mã {reminder_id}.")
        if reminder.sent_at is not None:
            return reminder
        sent = replace(reminder, sent_at=now)
        batch = _Batch(self._seq)
        batch.put("reminders", sent.id, sent.to_row())
        self._commit(batch)
        self._reminders[sent.id] = sent
        return sent

    # -------------------------------------------------------------- statistics
    def stats(self, today: date, keys: Iterable[str] | str | None = None) -> list[UnitStats]:
        """Per lead unit: done on time, done late, not yet due, overdue and still open.

        A task counts once for each of its lead units. With ``keys``, those units in that
        order (zeros included); otherwise every unit that leads a task, by name.
        """
        wanted = None if keys is None else _as_keys(keys)
        counts: dict[str, list[int]] = {k: [0, 0, 0, 0] for k in wanted or ()}
        tasks = self._tasks.values() if wanted is None else self.tasks_for_units(wanted)
        for task in tasks:
            if not task.lead:
                continue
            if not task.is_open:
                late = (task.due is not None and task.done_at is not None
                        and task.done_at.date() > task.due)
                category = 1 if late else 0
            else:
                category = 3 if task.due is not None and task.due < today else 2
            for key in task.lead:
                if wanted is None or key in counts:
                    counts.setdefault(key, [0, 0, 0, 0])[category] += 1
        result = [UnitStats(self._units.get(key) or StoredUnit(key, key, None), *numbers)
                  for key, numbers in counts.items()]
        if wanted is None:
            result.sort(key=lambda s: (fold(s.unit.locality or ""), fold(s.unit.name)))
        return result

    # ==========================================================================================
    # Scheduling additions (issue 4): snoozes, digest runs, scheduled announcements.
    # These live in three tables outside TABLES ("snoozes", "digest_runs", "scheduled"), read
    # lazily from the raw data on first use, so the loader above stays untouched and an older
    # file simply has none of them. Each mutating call is one storage write, as above.
    # ==========================================================================================
    _SNOOZES = "snoozes"
    _DIGEST_RUNS = "digest_runs"
    _DIGEST_OWED = "digest_owed"
    """Chats whose digest did not surely arrive (issue 12): one row per chat, see OwedDigest."""
    _SCHEDULED = "scheduled"
    _RUN_ROW = "0"
    """Row of "digest_runs" holding the last day the digest job ran at all (chat ids != 0)."""
    MAX_SNOOZE_DAYS = 366
    MAX_ANNOUNCEMENT_CHARS = 3800
    """Room for the heading within Telegram's 4,096 characters."""

    def _sched_state(self) -> dict[str, Any]:
        """Lazily parsed scheduling tables (memory mirrors the file after every commit)."""
        state = self.__dict__.get("_sched")
        if state is not None:
            return state
        from bot.records import ScheduledAnnouncement

        from bot.records import OwedDigest

        raw = self._raw
        table = row_id = None
        snoozes: dict[int, tuple[date, dict[str, Any]]] = {}
        runs: dict[int, date] = {}
        owed: dict[int, OwedDigest] = {}
        scheduled: dict[int, ScheduledAnnouncement] = {}
        try:
            table = self._SNOOZES
            for row_id, row in (raw.get(table) or {}).items():
                snoozes[int(row_id)] = (date.fromisoformat(row["until"]), dict(row))
            table = self._DIGEST_RUNS
            for row_id, row in (raw.get(table) or {}).items():
                runs[int(row_id)] = date.fromisoformat(row["day"])
            table = self._DIGEST_OWED
            for row_id, row in (raw.get(table) or {}).items():
                owed[int(row_id)] = OwedDigest.from_row(int(row_id), row)
            table = self._SCHEDULED
            for row_id, row in (raw.get(table) or {}).items():
                scheduled[int(row_id)] = ScheduledAnnouncement.from_row(int(row_id), row)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise self._bad_record(table, row_id, exc) from exc
        top = max(scheduled, default=0)
        if self._seq.get(self._SCHEDULED, 0) < top:  # ids are never reused
            self._seq[self._SCHEDULED] = top
        state = {"snoozes": snoozes, "runs": runs, "scheduled": scheduled, "owed": owed}
        self.__dict__["_sched"] = state
        return state

    # -------------------------------------------------------------- snoozes
    def snooze(self, code: object, until: date, *, actor: int | None,
               now: datetime) -> StoredTask:
        """Pause a task's reminders until ``until`` (they resume that day); an event is logged."""
        _require_aware(now)
        task = self._require(code)
        if not task.is_open:
            raise UsageError(f"Nhiệm vụ {task.code} đã hoàn thành, không cần hoãn nhắc.")
        if isinstance(until, datetime):
            until = until.date()
        today = now.date()
        if until <= today:
            raise UsageError(f"Ngày hoãn nhắc {_vn_date(until)} phải sau hôm nay "
                             f"({_vn_date(today)}).")
        if (until - today).days > self.MAX_SNOOZE_DAYS:
            raise UsageError(f"Chỉ hoãn nhắc được tối đa {self.MAX_SNOOZE_DAYS} ngày.")
        state = self._sched_state()
        row = {"until": until.isoformat(), "by": actor, "at": now.isoformat()}
        batch = _Batch(self._seq)
        batch.put(self._SNOOZES, task.id, row)
        batch.event(now, actor, "snooze", task_id=task.id, doc_id=task.doc_id,
                    until=until.isoformat())
        self._commit(batch)
        state["snoozes"][task.id] = (until, row)
        return task

    def unsnooze(self, code: object, *, actor: int | None, now: datetime) -> bool:
        """Resume a snoozed task's reminders now; False when it was not snoozed."""
        _require_aware(now)
        task = self._require(code)
        state = self._sched_state()
        if task.id not in state["snoozes"]:
            return False
        batch = _Batch(self._seq)
        batch.delete(self._SNOOZES, task.id)
        batch.event(now, actor, "unsnooze", task_id=task.id, doc_id=task.doc_id)
        self._commit(batch)
        del state["snoozes"][task.id]
        return True

    def snoozes(self) -> dict[int, date]:
        """Task id -> the day its reminders resume, for tasks that still exist."""
        return {task_id: until for task_id, (until, _) in self._sched_state()["snoozes"].items()
                if task_id in self._tasks}

    # -------------------------------------------------------------- digest runs
    def record_digest_run(self, day: date, chat_ids: Iterable[int], *, now: datetime,
                          undelivered: Mapping[int, tuple[str, int, datetime | None]]
                          | None = None) -> None:
        """Remember that ``day``'s digest went out (for ``chat_ids``); one write.

        The per-chat day is what missed reminders are counted from after downtime; the
        run row answers "was today's digest sent?" for the catch-up at start.
        ``undelivered`` maps each chat whose digest did not surely arrive to (reason, tries,
        retry_at): the chat owes its reminders from the first day it may lack (kept from an
        earlier miss, else the day after its last digest, else ``day``) until a digest of it
        goes out in full; a chat in ``chat_ids`` owes nothing any more.
        """
        from bot.records import OwedDigest

        _require_aware(now)
        state = self._sched_state()
        runs, owed = state["runs"], state["owed"]
        changed = {0: day} if runs.get(0) is None or runs[0] < day else {}
        delivered = set()
        for chat_id in chat_ids:
            if chat_id == 0:
                continue
            delivered.add(chat_id)
            if runs.get(chat_id) is None or runs[chat_id] < day:
                changed[chat_id] = day
        cleared = [c for c in delivered if c in owed]
        new_owed: dict[int, OwedDigest] = {}
        for chat_id, (reason, tries, retry_at) in (undelivered or {}).items():
            if chat_id == 0 or chat_id in delivered:
                continue
            before = owed.get(chat_id)
            last = runs.get(chat_id)
            since = (before.since if before is not None
                     else last + timedelta(days=1) if last is not None and last < day else day)
            new_owed[chat_id] = OwedDigest(chat_id, min(since, day), day, reason, tries,
                                           retry_at, now)
        if not changed and not cleared and not new_owed:
            return
        batch = _Batch(self._seq)
        for chat_id, value in changed.items():
            batch.put(self._DIGEST_RUNS, chat_id, {"day": value.isoformat(),
                                                   "at": now.isoformat()})
        for chat_id in cleared:
            batch.delete(self._DIGEST_OWED, chat_id)
        for chat_id, item in new_owed.items():
            batch.put(self._DIGEST_OWED, chat_id, item.to_row())
        self._commit(batch)
        runs.update(changed)
        for chat_id in cleared:
            del owed[chat_id]
        owed.update(new_owed)

    def owe_digests(self, chat_ids: Iterable[int], since: date, *, reason: str,
                    now: datetime) -> None:
        """Chats that had no digest from ``since`` on (the bot was down) owe its reminders;
        a chat already owing keeps its earlier day. One write (none when nothing changes)."""
        from bot.records import OwedDigest

        _require_aware(now)
        owed = self._sched_state()["owed"]
        new = {c: OwedDigest(c, since, since, reason, 1, None, now) for c in chat_ids
               if c != 0 and (c not in owed or owed[c].since > since)}
        if not new:
            return
        batch = _Batch(self._seq)
        for chat_id, item in new.items():
            batch.put(self._DIGEST_OWED, chat_id, item.to_row())
        self._commit(batch)
        owed.update(new)

    def digest_days(self) -> dict[int, date]:
        """Chat id -> the last day a digest was delivered (or found empty) for it."""
        return {c: d for c, d in self._sched_state()["runs"].items() if c != 0}

    def digest_owed(self) -> dict[int, Any]:
        """Chat id -> :class:`bot.records.OwedDigest` for chats whose digest did not surely
        arrive (failed, uncertain or undeliverable) and has not gone out since."""
        return dict(self._sched_state()["owed"])

    def digest_missed_since(self) -> dict[int, date]:
        """Chat id -> the day after which its reminders are still owed, for the next digest:
        the last day its digest went out, or the day before its first owed day (also for a
        chat that never had a digest)."""
        state = self._sched_state()
        out = {c: d for c, d in state["runs"].items() if c != 0}
        for chat_id, item in state["owed"].items():
            before = item.since - timedelta(days=1)
            out[chat_id] = min(before, out.get(chat_id, before))
        return out

    def last_digest_run(self) -> date | None:
        """The last day the digest job completed, or None if it never ran."""
        return self._sched_state()["runs"].get(0)

    # -------------------------------------------------------------- scheduled announcements
    def schedule_announcement(self, text: str, unit_keys: Iterable[str], at: datetime, *,
                              actor: int | None, now: datetime) -> int:
        """Plan a broadcast for ``at`` (to chats following ``unit_keys``; none = every chat)."""
        from bot.records import ScheduledAnnouncement

        _require_aware(now)
        _require_aware(at)
        text = (text or "").strip()
        if not text:
            raise UsageError("Nội dung thông báo đang trống.")
        if utf16_len(text) > self.MAX_ANNOUNCEMENT_CHARS:  # Telegram's count: emoji are 2
            raise UsageError(f"Thông báo dài {utf16_len(text)} ký tự; tối đa "
                             f"{self.MAX_ANNOUNCEMENT_CHARS} ký tự.")
        if at <= now:
            raise UsageError(f"Thời điểm gửi {at.strftime('%H:%M %d/%m/%Y')} đã qua.")
        keys = tuple(_as_keys(unit_keys))
        unknown = [k for k in keys if k not in self._units]
        if unknown:
            raise UsageError(f"Không có đơn vị «{quote(unknown[0])}» trong danh bạ.")
        state = self._sched_state()
        batch = _Batch(self._seq)
        item = ScheduledAnnouncement(batch.next_id(self._SCHEDULED), text, keys, at, actor, now)
        batch.put(self._SCHEDULED, item.id, item.to_row())
        batch.event(now, actor, "schedule_announcement", announcement_id=item.id,
                    at=at.isoformat(), units=list(keys))
        self._commit(batch)
        state["scheduled"][item.id] = item
        return item.id

    def scheduled_announcement(self, announcement_id: int) -> Any:
        """The scheduled announcement with this id (a ScheduledAnnouncement), or None."""
        return self._sched_state()["scheduled"].get(announcement_id)

    def scheduled_announcements(self, *, pending_only: bool = True) -> list[Any]:
        """Scheduled announcements (ScheduledAnnouncement), earliest first."""
        items = self._sched_state()["scheduled"].values()
        return sorted((a for a in items if a.pending or not pending_only),
                      key=lambda a: (a.at, a.id))

    def due_announcements(self, until: datetime) -> list[Any]:
        """Pending announcements whose time is at or before ``until``, earliest first."""
        _require_aware(until)
        return [a for a in self.scheduled_announcements() if a.at <= until]

    def _finish_announcement(self, announcement_id: int, now: datetime, *, actor: int | None,
                             cancel: bool) -> Any:
        _require_aware(now)
        state = self._sched_state()
        item = state["scheduled"].get(announcement_id)
        if item is None:
            raise UsageError(f"Không có thông báo hẹn giờ mã {announcement_id}.")
        if not item.pending:
            if cancel:
                raise UsageError(f"Thông báo hẹn giờ mã {announcement_id} đã được gửi hoặc "
                                 "đã bị huỷ.")
            return item
        new = replace(item, cancelled_at=now) if cancel else replace(item, sent_at=now)
        batch = _Batch(self._seq)
        batch.put(self._SCHEDULED, new.id, new.to_row())
        if cancel:
            batch.event(now, actor, "cancel_announcement", announcement_id=new.id)
        self._commit(batch)
        state["scheduled"][new.id] = new
        return new

    def mark_announcement_sent(self, announcement_id: int, now: datetime) -> Any:
        """Mark a scheduled announcement as sent (idempotent)."""
        return self._finish_announcement(announcement_id, now, actor=None, cancel=False)

    def cancel_announcement(self, announcement_id: int, *, actor: int | None,
                            now: datetime) -> Any:
        """Cancel a pending scheduled announcement."""
        return self._finish_announcement(announcement_id, now, actor=actor, cancel=True)
    # ==================================== end of scheduling additions (issue 4) ===============

    # ==========================================================================================
    # Memberships (issue 12): who belongs to a unit, invitations, join requests.
    # A membership is a row of "subscriptions" (loaded with the chats above); its fields are in
    # bot.records.Membership. Invitations and requests live in two tables outside TABLES, read
    # lazily from the raw data like the scheduling tables, so an older file simply has none.
    # Rights (who may invite, approve, join) are decided in bot.membership, not here.
    # ==========================================================================================
    _INVITATIONS = "invitations"
    _REQUESTS = "requests"
    _DECIDED = {APPROVED: "được duyệt", REFUSED: "bị từ chối",
                CANCELLED: "không còn cần duyệt (đơn vị đã nhận cuộc trò chuyện này)"}
    _INVITE_STATES = {"used": "đã được dùng", "revoked": "đã bị thu hồi", "expired": "đã hết hạn"}

    def _member_state(self) -> dict[str, Any]:
        """Lazily parsed invitations and requests (memory mirrors the file after commits)."""
        state = self.__dict__.get("_members")
        if state is not None:
            return state
        raw = self._raw
        invites: dict[int, Invitation] = {}
        requests: dict[int, JoinRequest] = {}
        table = row_id = None
        try:
            table = self._INVITATIONS
            for row_id, row in (raw.get(table) or {}).items():
                invites[int(row_id)] = Invitation.from_row(int(row_id), row)
            table = self._REQUESTS
            for row_id, row in (raw.get(table) or {}).items():
                requests[int(row_id)] = JoinRequest.from_row(int(row_id), row)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise self._bad_record(table, row_id, exc) from exc
        for name, items in ((self._INVITATIONS, invites), (self._REQUESTS, requests)):
            top = max(items, default=0)
            if self._seq.get(name, 0) < top:  # ids are never reused
                self._seq[name] = top
        state = {"invites": invites, "requests": requests}
        self.__dict__["_members"] = state
        return state

    # -------------------------------------------------------------- memberships
    def membership(self, chat_id: int, unit_key: str) -> Membership | None:
        """How ``chat_id`` belongs to ``unit_key``, or None."""
        sub_id = self._subs.get((chat_id, unit_key))
        return None if sub_id is None else self.membership_by_id(sub_id)

    def membership_by_id(self, membership_id: int) -> Membership | None:
        row = self._raw.get("subscriptions", {}).get(str(membership_id))
        return None if row is None else Membership.from_row(int(membership_id), row)

    def members(self, unit_key: str) -> list[Membership]:
        """Every chat that belongs to ``unit_key`` (inactive ones too), oldest first."""
        found = [self.membership_by_id(self._subs[(chat_id, unit_key)])
                 for chat_id in self._unit_chats.get(unit_key, ())]
        return sorted((m for m in found if m is not None), key=lambda m: (m.since, m.id))

    def remove_member(self, membership_id: int, *, actor: int | None,
                      now: datetime) -> Membership:
        """Take a chat out of a unit (an admin's decision); logged as "remove_member"."""
        member = self.membership_by_id(membership_id)
        if member is None:
            raise UsageError("Thành viên này đã được đưa ra khỏi đơn vị trước đó.")
        self.unsubscribe(member.chat_id, member.unit_key, actor=actor, now=now,
                         kind="remove_member")
        return member

    def upgrade_memberships(self, admin_ids: Iterable[int], now: datetime) -> tuple[int, int]:
        """Give the subscriptions of an older version their place; returns (kept, demoted).

        Before memberships, any private chat could follow any unit and "following" was the
        right to act. Kept: subscriptions made by a bot admin (``admin_ids``) and those of
        groups (only group administrators and bot admins could bind a group). Self-made
        private subscriptions become pending requests (origin "upgrade", dated when they were
        made): the chat no longer belongs to the unit until an admin approves. Idempotent:
        upgraded rows carry ``via``; one write, none when there is nothing to upgrade.
        """
        _require_aware(now)
        admins = set(admin_ids)
        legacy = sorted((int(i), row) for i, row in self._raw.get("subscriptions", {}).items()
                        if not row.get("via"))
        if not legacy:
            return 0, 0
        state = self._member_state()
        batch = _Batch(self._seq)
        demoted: list[tuple[int, JoinRequest]] = []
        kept = 0
        for sub_id, row in legacy:
            chat = self._chats[row["chat"]]
            group = chat.type in ("group", "supergroup") or chat.id < 0
            if row.get("by") in admins or group:
                via = VIA_LEGACY_ADMIN if row.get("by") in admins else VIA_LEGACY_GROUP
                batch.put("subscriptions", sub_id, {**row, "via": via})
                kept += 1
                continue
            batch.delete("subscriptions", sub_id)
            request = JoinRequest(batch.next_id(self._REQUESTS), chat.id, row["unit"],
                                  chat.title, chat.type or "private", row.get("by"),
                                  chat.title, datetime.fromisoformat(row["since"]),
                                  origin=ORIGIN_UPGRADE)
            batch.put(self._REQUESTS, request.id, request.to_row())
            demoted.append((sub_id, request))
        batch.event(now, None, "membership_upgrade", kept=kept, demoted=len(demoted))
        self._commit(batch)
        for _, request in demoted:
            key = (request.chat_id, request.unit_key)
            del self._subs[key]
            self._unit_chats[request.unit_key].discard(request.chat_id)
            chat = self._chats[request.chat_id]
            self._chats[chat.id] = replace(
                chat, unit_keys=tuple(k for k in chat.unit_keys if k != request.unit_key))
            state["requests"][request.id] = request
        logger.info("memberships upgraded: %d kept, %d became requests", kept, len(demoted))
        return kept, len(demoted)

    def _migrate_requests(self, old_id: int, new_id: int) -> None:
        requests = [replace(r, chat_id=new_id, chat_type="supergroup")
                    for r in self._member_state()["requests"].values()
                    if r.chat_id == old_id and r.pending]
        if not requests:
            return
        batch = _Batch(self._seq)
        for request in requests:
            batch.put(self._REQUESTS, request.id, request.to_row())
        self._commit(batch)
        for request in requests:
            self._member_state()["requests"][request.id] = request

    # -------------------------------------------------------------- invitations
    def create_invitation(self, unit_key: str, *, actor: int | None, actor_name: str,
                          now: datetime, ttl: timedelta) -> Invitation:
        """A new open invitation to ``unit_key``, valid for ``ttl``."""
        _require_aware(now)
        self._require_unit(unit_key)
        if ttl <= timedelta(0):
            raise ValueError("an invitation needs a positive lifetime")
        state = self._member_state()
        batch = _Batch(self._seq)
        item = Invitation(batch.next_id(self._INVITATIONS), unit_key, actor, actor_name, now,
                          now + ttl, secrets.token_hex(8))
        batch.put(self._INVITATIONS, item.id, item.to_row())
        batch.event(now, actor, "invite", unit=unit_key, invitation=item.id,
                    expires_at=item.expires_at.isoformat())
        self._commit(batch)
        state["invites"][item.id] = item
        return item

    def invitation(self, invite_id: int) -> Invitation | None:
        return self._member_state()["invites"].get(invite_id)

    def invitations(self, *, now: datetime, open_only: bool = True,
                    unit_key: str | None = None) -> list[Invitation]:
        """Invitations (open ones only by default), oldest first."""
        items = self._member_state()["invites"].values()
        return sorted((i for i in items
                       if (not open_only or i.status(now) == "open")
                       and (unit_key is None or i.unit_key == unit_key)), key=lambda i: i.id)

    def _open_invitation(self, invite_id: int, now: datetime) -> Invitation:
        item = self.invitation(invite_id)
        if item is None:
            raise UsageError(f"Không có lời mời mã {invite_id}.")
        status = item.status(now)
        if status != "open":
            raise UsageError(f"Lời mời mã {invite_id} {self._INVITE_STATES[status]}.")
        return item

    def revoke_invitation(self, invite_id: int, *, actor: int | None,
                          now: datetime) -> Invitation:
        """Make an open invitation unusable."""
        _require_aware(now)
        item = self._open_invitation(invite_id, now)
        revoked = replace(item, revoked_at=now, revoked_by=actor)
        batch = _Batch(self._seq)
        batch.put(self._INVITATIONS, revoked.id, revoked.to_row())
        batch.event(now, actor, "invite_revoke", unit=item.unit_key, invitation=item.id)
        self._commit(batch)
        self._member_state()["invites"][revoked.id] = revoked
        return revoked

    def accept_invitation(self, invite_id: int, *, chat_id: int, title: str, chat_type: str,
                          user_id: int | None, user_name: str, now: datetime) -> Membership:
        """Use an open invitation: the chat becomes a member; one write.

        The link's signature is checked before (:func:`bot.membership.verify_invitation`);
        here only the row's own state (open, chat not yet a member) is enforced.
        """
        _require_aware(now)
        item = self._open_invitation(invite_id, now)
        self._require_unit(item.unit_key)
        if (chat_id, item.unit_key) in self._subs:
            raise UsageError(f"Cuộc trò chuyện này đã là thành viên của "
                             f"{self.unit_name(item.unit_key)}.")
        used = replace(item, used_at=now, used_by=user_id, used_by_name=user_name,
                       used_chat=chat_id)
        batch = _Batch(self._seq)
        batch.put(self._INVITATIONS, used.id, used.to_row())
        member = Membership(0, chat_id, item.unit_key, now, user_id, user_name, VIA_INVITE,
                            item.created_by, item.created_by_name, item.id)
        apply = self._stage_membership(batch, member, title=title, chat_type=chat_type)
        self._commit(batch)
        apply()
        self._member_state()["invites"][used.id] = used
        found = self.membership(chat_id, item.unit_key)
        assert found is not None
        return found

    # -------------------------------------------------------------- requests
    def request_membership(self, chat_id: int, unit_key: str, *, title: str, chat_type: str,
                           user_id: int | None, user_name: str,
                           now: datetime) -> tuple[JoinRequest, bool]:
        """File a pending request; ``(request, False)`` when one is pending already."""
        _require_aware(now)
        self._require_unit(unit_key)
        if (chat_id, unit_key) in self._subs:
            raise UsageError(f"Cuộc trò chuyện này đã là thành viên của "
                             f"{self.unit_name(unit_key)}.")
        state = self._member_state()
        for request in state["requests"].values():
            if request.pending and request.chat_id == chat_id and request.unit_key == unit_key:
                return request, False
        batch = _Batch(self._seq)
        request = JoinRequest(batch.next_id(self._REQUESTS), chat_id, unit_key, title,
                              chat_type, user_id, user_name, now, origin=ORIGIN_DANGKY)
        batch.put(self._REQUESTS, request.id, request.to_row())
        batch.event(now, user_id, "request", chat_id=chat_id, unit=unit_key,
                    request=request.id)
        self._commit(batch)
        state["requests"][request.id] = request
        return request, True

    def join_request(self, request_id: int) -> JoinRequest | None:
        return self._member_state()["requests"].get(request_id)

    def join_requests(self, *, pending_only: bool = True, unit_key: str | None = None,
                      chat_id: int | None = None) -> list[JoinRequest]:
        """Requests (pending ones only by default), oldest first."""
        items = self._member_state()["requests"].values()
        return sorted((r for r in items
                       if (not pending_only or r.pending)
                       and (unit_key is None or r.unit_key == unit_key)
                       and (chat_id is None or r.chat_id == chat_id)), key=lambda r: r.id)

    def decide_request(self, request_id: int, *, approve: bool, actor: int | None,
                       actor_name: str, now: datetime) -> JoinRequest:
        """Approve (the chat becomes a member, same write) or refuse a pending request."""
        _require_aware(now)
        request = self.join_request(request_id)
        if request is None:
            raise UsageError(f"Không có yêu cầu mã {request_id}.")
        if not request.pending:
            by = f" bởi {request.decided_by_name}" if request.decided_by_name else ""
            raise UsageError(f"Yêu cầu mã {request_id} đã {self._DECIDED[request.status]}"
                             f"{by} trước đó.")
        decided = replace(request, status=APPROVED if approve else REFUSED, decided_at=now,
                          decided_by=actor, decided_by_name=actor_name)
        batch = _Batch(self._seq)
        batch.put(self._REQUESTS, decided.id, decided.to_row())
        batch.event(now, actor, "request_approve" if approve else "request_refuse",
                    chat_id=request.chat_id, unit=request.unit_key, request=request.id)
        apply = None
        if approve:
            self._require_unit(request.unit_key)
            member = Membership(0, request.chat_id, request.unit_key, now, request.user_id,
                                request.user_name, VIA_REQUEST, actor, actor_name, request.id)
            apply = self._stage_membership(batch, member, title=request.chat_title,
                                           chat_type=request.chat_type)
        self._commit(batch)
        if apply is not None:
            apply()
        self._member_state()["requests"][decided.id] = decided
        return decided
    # ==================================== end of membership additions (issue 12) ==============
