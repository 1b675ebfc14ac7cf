"""Persistent state of the bot: the :class:`Store` facade most callers use.

Three layers (see each module):

* :mod:`bot.repository` — the contract: a ``typing.Protocol`` of the record operations the
  rules need (typed with :mod:`bot.records`), with transactions;
* :mod:`bot.tracking` — the rules (:class:`bot.tracking.Tracker`) over ANY repository;
* :mod:`bot.tinystore` — the embedded default repository: TinyDB through its public API,
  a crash-safe storage (atomic rewrite + fsynced journal, file locks) and a transaction
  middleware; a PostgreSQL one plugs in through ``DATABASE_URL`` (:func:`open_store`).

``Store(path)`` is the rules bound to a TinyDB file, as callers have always used it;
``Store(repository=...)`` binds them to any repository and :func:`open_store` picks the
backend from the settings. ``Store(path, read_only=True)`` (``python -m bot lich`` and the
other read-only tools) never writes, truncates, compacts or migrates the file, and takes no
lock, so it can read the data of a running bot.

Measured at 100k tasks: see ``bench/commands.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tinydb import TinyDB

from bot.records import (
    Announcement,
    Chat,
    Delivery,
    Event,
    ImportResult,
    Reminder,
    StoredDocument,
    StoredTask,
    StoredUnit,
    UnitStats,
)
from bot.repository import ReadOnlyError, Repository, StorageError, search_fold
from bot.tinystore import SCHEMA_VERSION, TABLES, AtomicJSONStorage, TinyRepository, migrate
from bot.tracking import TaskPages, Tracker, fingerprint, scoped_unit_key

__all__ = [
    "SCHEMA_VERSION", "TABLES", "AtomicJSONStorage", "ReadOnlyError", "StorageError", "Store",
    "StoreData", "TaskPages", "migrate", "open_store", "scoped_unit_key", "fingerprint",
    "search_fold", "Announcement", "Chat", "Delivery", "Event", "ImportResult", "Reminder",
    "StoredDocument", "StoredTask", "StoredUnit", "UnitStats",
]

TaskSeq = TaskPages
"""Former name of :class:`bot.tracking.TaskPages`."""


class Store(Tracker):
    """The rules of the bot bound to a repository (a TinyDB file by default).

    Not thread-safe by design: use it from the event loop only. Each public mutating method
    is one repository transaction: one storage write (none when nothing changes); a failed
    write (:class:`StorageError`) leaves both the file and the memory as they were.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *,
                 storage: type[AtomicJSONStorage] = AtomicJSONStorage, lock: bool = True,
                 read_only: bool = False, repository: Repository | None = None) -> None:
        if repository is None:
            if path is None:
                raise TypeError("Store needs a path or a repository")
            repository = TinyRepository(path, storage=storage, lock=lock,
                                        read_only=read_only)
        self.path = Path(path) if path is not None else Path(getattr(repository, "path", ""))
        super().__init__(repository)

    @classmethod
    def open(cls, settings: Any, *, read_only: bool = False) -> Store:
        """The store the settings name: PostgreSQL when ``DATABASE_URL`` is set (the
        ``bot.pgstore`` backend), else the TinyDB file ``settings.db_path``."""
        url = getattr(settings, "database_url", None)
        if url:
            from bot import pgstore  # plugged by its backend

            return cls(repository=pgstore.open_repository(url, read_only=read_only))
        return cls(settings.db_path, read_only=read_only, lock=not read_only)

    # -------------------------------------------------------------- lifecycle
    @property
    def read_only(self) -> bool:
        return self.repo.read_only

    @property
    def db(self) -> TinyDB:
        """The underlying TinyDB, for inspection only: change data through the Store."""
        repo = self.repo
        if not isinstance(repo, TinyRepository):
            raise AttributeError("this store has no TinyDB")
        return repo.db

    def close(self) -> None:
        self.repo.close()

    def compact(self) -> None:
        """Rewrite the whole file with the journal folded in (before a backup, say): the
        data file alone then holds everything. One atomic write (TinyDB backend)."""
        repo = self.repo
        if isinstance(repo, TinyRepository):
            repo.compact()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_store(settings: Any, *, read_only: bool = False) -> Store:
    """:meth:`Store.open`."""
    return Store.open(settings, read_only=read_only)


class StoreData:
    """Every table of a TinyDB-backed store as plain rows, for inspection (tests)."""

    def __init__(self, store: Store, batch: object = None) -> None:
        self._store = store

    def tables(self) -> Iterator[tuple[str, dict[str, Any]]]:
        data = self._store.db.storage.read() or {}
        for name in sorted(data, key=lambda n: n != "meta"):
            rows = data[name]
            if name == "meta":
                rows = {k: {f: v for f, v in row.items() if f != "generation"}
                        for k, row in rows.items()}
            yield name, {k: dict(v) for k, v in rows.items()}
