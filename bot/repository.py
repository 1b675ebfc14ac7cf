"""The store contract: what the domain layer (:mod:`bot.tracking`) needs from a database.

A :class:`Repository` keeps the bot's records (the frozen dataclasses of :mod:`bot.records`
plus the few small ones below) and answers the queries the commands, the digest and the
scheduler need. It holds no rule of the bot: marking done, merging a new version of a plan,
memberships, snoozes... are :mod:`bot.tracking`, which takes ANY object satisfying this
Protocol (the embedded TinyDB one, :mod:`bot.tinystore`, or a PostgreSQL one picked through
``DATABASE_URL``).

General rules, for every implementation:

* **Records in, records out.** Reads return new lists/dicts of frozen records (or ``None``);
  never live views of internal state: mutating what a read returned changes nothing, and a
  later write does not change what an earlier read returned.
* **Transactions.** ``with repo.transaction():`` groups writes: all of them are durable
  together when the block exits normally, none of them when it raises (the exception
  propagates; afterwards every read answers as before the block). Reads inside the block
  see the block's own writes. A ``transaction()`` opened inside another joins the outer one
  (only the outermost commits or rolls back). A write outside any transaction is its own
  one-write transaction. Every domain operation that changes more than one row uses one
  transaction. Implementations serialise writers (TinyDB: one process holds the file lock;
  PostgreSQL: the transaction's isolation plus the unique keys named below). Reads of a row
  inside a transaction that later writes it are serialised with other writers of that row
  (PostgreSQL: ``FOR UPDATE``), so the domain layer (:mod:`bot.tracking`) does every rule's
  reads inside the transaction that writes (read, check, then put). A :meth:`put` refused
  with ValueError (a unique key) writes none of its records and leaves the surrounding
  transaction usable.
* **Ids.** :meth:`Repository.next_id` hands out ids per kind; committed ids are unique and
  increase. An id handed out inside a transaction that rolled back may be handed out again
  (TinyDB) or skipped (PostgreSQL sequences): never rely on either. Across processes ids
  are not in commit order (a transaction holding id 5 may commit after one holding 6):
  "by id" orderings (events newest first) are id order.
* **Time.** Every ``datetime`` given to or returned by a repository is timezone-aware;
  implementations keep the offset they were given (ISO 8601 in TinyDB, ``timestamptz`` in
  PostgreSQL: compare by instant).
* **Errors.** A write that could not be made durable raises :class:`StorageError` (nothing
  of the transaction is kept). Any write on a repository opened read-only raises
  :class:`ReadOnlyError`. Damaged data found at open raises :class:`bot.errors.ConfigError`
  with a Vietnamese message. Unknown ids in reads give ``None``/empty, never an exception;
  deleting an absent row is a no-op.
* **Ordering.** "by (due, id)" means: tasks with a due date first by date ascending, then
  tasks without one, ties by id ascending.

Record kinds of the generic operations (:meth:`Repository.get`/:meth:`~Repository.put`/
:meth:`~Repository.delete`/:meth:`~Repository.all`), their key and the TinyDB table:

=======================  ===============  ================  ==============================
kind                     key attribute    TinyDB table      notes
=======================  ===============  ================  ==============================
StoredDocument           ``id``           documents         unique ``file_hash``
Chat                     ``id``           chats             ``unit_keys`` derived, below
Membership               ``id``           subscriptions     unique (chat_id, unit_key)
Event                    ``id``           events            append-only (put = insert)
Delivery                 ``key``          deliveries        also claim/record below
Reminder                 ``id``           reminders
Announcement             ``id``           announcements     the log of sent broadcasts
ScheduledAnnouncement    ``id``           scheduled
Invitation               ``id``           invitations
JoinRequest              ``id``           requests
OwedDigest               ``chat_id``      digest_owed
Snooze                   ``task_id``      snoozes
DigestRun                ``chat_id``      digest_runs       chat 0: the job's own last run
UnitDirectoryRow         ``loc_key``      units             one row per locality
=======================  ===============  ================  ==============================

Tasks (:class:`bot.records.StoredTask`, table ``tasks``) have their own operations: they are
the one big kind (100,000 rows) and every query on them must stay indexed.

``Chat.unit_keys`` is never stored: reads fill it from the chat's memberships, ordered by
membership id; :meth:`Repository.put` of a Chat ignores it.

``all(kind)`` orders by key ascending (for ``Delivery``: by key as a string).

Changes to this file after its first publication are listed in ``CONTRACT_CHANGES.md``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol, TypeVar, runtime_checkable

from bot.errors import BotError
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
from bot.text import DASHES, fold

__all__ = [
    "CLAIMED", "CLAIM_TIMEOUT", "RECLAIMABLE", "DigestRun", "DigestSource", "ReadOnlyError",
    "Record", "Repository",
    "RepositoryError", "PruneCounts", "Snooze", "StorageError", "UnitDirectoryRow",
    "directory_units", "locality_key", "search_fold", "ID_KINDS",
]


class RepositoryError(BotError):
    """Base of the repository's own errors."""


class StorageError(RepositoryError):
    """The data could not be written; the change was not saved."""


class ReadOnlyError(StorageError):
    """A write on a repository opened read-only."""


CLAIMED = "claimed"
"""Status of a delivery row written by :meth:`Repository.claim_delivery` and not yet settled
by :meth:`Repository.record_delivery`."""
CLAIM_TIMEOUT = timedelta(minutes=15)
"""A claim older than this is dead (its sender crashed or lost its lead): it may be taken."""
RECLAIMABLE = ("failed", "undeliverable")
"""Settled statuses a new send may claim again (the dispatcher retries them). "sent" and
"uncertain" (Telegram may have shown it) never are."""

ID_KINDS = (
    "documents", "tasks", "units", "subscriptions", "events", "deliveries", "reminders",
    "announcements", "scheduled", "invitations", "requests",
)
"""Kinds :meth:`Repository.next_id` numbers (the table names)."""


# ------------------------------------------------------------------------------------------
# Small records that exist only in the repository (the others are bot.records')
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Snooze:
    """A task whose reminders pause until ``until`` (they resume that day)."""

    task_id: int
    until: date
    by: int | None
    at: datetime

    def to_row(self) -> dict[str, Any]:
        return {"until": self.until.isoformat(), "by": self.by, "at": self.at.isoformat()}

    @classmethod
    def from_row(cls, task_id: int, row: Mapping[str, Any]) -> Snooze:
        return cls(task_id, date.fromisoformat(row["until"]), row.get("by"),
                   datetime.fromisoformat(row["at"]))


@dataclass(frozen=True, slots=True)
class DigestRun:
    """The last day a digest went out for ``chat_id`` (0: the last day the job ran)."""

    chat_id: int
    day: date
    at: datetime | None = None

    def to_row(self) -> dict[str, Any]:
        return {"day": self.day.isoformat(), "at": self.at.isoformat() if self.at else None}

    @classmethod
    def from_row(cls, chat_id: int, row: Mapping[str, Any]) -> DigestRun:
        at = row.get("at")
        return cls(chat_id, date.fromisoformat(row["day"]),
                   datetime.fromisoformat(at) if at else None)


@dataclass(frozen=True, slots=True)
class UnitDirectoryRow:
    """The unit directory of one locality (:class:`bot.units.UnitDirectory` as JSON).

    ``loc_key`` is :func:`locality_key` of ``locality``. ``version`` grows by one at every
    put (the repository sets it; the value given to :meth:`Repository.put` is ignored), so
    a caller may cache a parsed directory under ``(loc_key, version)``.
    """

    loc_key: str
    locality: str | None
    directory: Mapping[str, Any] = field(hash=False, compare=False)
    version: int = 0

    def to_row(self) -> dict[str, Any]:
        return {"loc": self.loc_key, "locality": self.locality,
                "directory": dict(self.directory), "version": self.version}


Record = TypeVar(
    "Record", StoredDocument, Chat, Membership, Event, Delivery, Reminder, Announcement,
    ScheduledAnnouncement, Invitation, JoinRequest, OwedDigest, Snooze, DigestRun,
    UnitDirectoryRow,
)


@dataclass(frozen=True, slots=True)
class PruneCounts:
    """Rows :meth:`Repository.prune` deleted."""

    deliveries: int = 0
    events: int = 0


@dataclass(frozen=True, slots=True)
class DigestSource:
    """Everything one digest run reads, from one :meth:`Repository.digest_source` call."""

    chats: list[Chat]
    """Active chats with at least one unit (those asked for), by chat id."""
    open_tasks: dict[str, list[StoredTask]]
    """Unit key -> open tasks naming it (lead or support), by (due, id), for every unit of
    ``chats``; a unit without open tasks may be absent."""
    documents: dict[int, StoredDocument]
    """The documents of those tasks, by id."""
    unit_names: dict[str, str]
    """Unit key -> display name for every unit of ``chats`` (the key when unknown)."""
    snoozes: dict[int, date]
    """Task id -> the day its reminders resume, for tasks that exist."""


# ------------------------------------------------------------------------------------------
# The contract
# ------------------------------------------------------------------------------------------
@runtime_checkable
class Repository(Protocol):
    """Storage of the bot's records; see the module docstring for the general rules."""

    # ------------------------------------------------------------------ lifecycle
    @property
    def read_only(self) -> bool:
        """True when opened read-only: every write raises :class:`ReadOnlyError`, and
        opening never wrote, truncated, compacted or migrated anything."""
        ...

    def close(self) -> None:
        """Release the database (file locks, connections). Idempotent."""
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """All writes of the ``with`` block commit together or not at all (see module)."""
        ...

    def next_id(self, kind: str) -> int:
        """A new id for a row of ``kind`` (one of :data:`ID_KINDS`), greater than every
        committed id of that kind. Counts as a write (inside the current transaction)."""
        ...

    # ------------------------------------------------------------------ generic records
    def get(self, kind: type[Record], key: Any) -> Record | None:
        """The record of ``kind`` with this key (see the table in the module), or None."""
        ...

    def put(self, *records: Any) -> None:
        """Insert or replace each record by its kind's key (whole record: no field of an
        earlier version survives). Several records: one transaction. ``Event``: insert only
        (an id already present raises ValueError). ``UnitDirectoryRow``: the repository
        bumps ``version``. Raises ValueError on a unique-key clash (Membership's (chat_id,
        unit_key), StoredDocument's file_hash) with another row."""
        ...

    def delete(self, kind: type[Record], keys: Iterable[Any]) -> int:
        """Delete the records of ``kind`` with these keys; returns how many existed.
        Deleting a Chat does not delete its memberships (the caller does, same
        transaction). One transaction."""
        ...

    def all(self, kind: type[Record]) -> list[Record]:
        """Every record of ``kind``, by key ascending. For the small kinds only (documents,
        chats, memberships, reminders, announcements, scheduled, invitations, requests,
        owed digests, snoozes, digest runs, unit directories); events and deliveries have
        the bounded queries below."""
        ...

    # ------------------------------------------------------------------ documents
    def document_by_hash(self, file_hash: str) -> StoredDocument | None:
        """The document imported from a file with this hash, or None."""
        ...

    def document_by_identity(self, number: str, issuer: str) -> StoredDocument | None:
        """The document whose ``fold(number)``/``fold(issuer or "")`` equal the given
        (already folded) strings, or None; when several, the one with the highest id."""
        ...

    # ------------------------------------------------------------------ tasks
    def task(self, task_id: int) -> StoredTask | None:
        """The task with this id, or None."""
        ...

    def tasks(self, task_ids: Iterable[int]) -> list[StoredTask]:
        """The existing tasks among ``task_ids``, in the order given (absent ones skipped,
        duplicates kept once)."""
        ...

    def document_tasks(self, doc_id: int) -> list[StoredTask]:
        """The tasks of a document in the order of its ``task_ids`` (plan order)."""
        ...

    def put_tasks(self, tasks: Iterable[StoredTask]) -> None:
        """Insert or replace tasks by id (whole records); one transaction."""
        ...

    def delete_tasks(self, task_ids: Iterable[int]) -> int:
        """Delete tasks by id; returns how many existed. Their snoozes, reminders and
        events are the caller's business. One transaction."""
        ...

    def task_count(self) -> int:
        """How many tasks exist."""
        ...

    def task_page(self, unit_keys: Sequence[str] | None = None, *, open_only: bool = True,
                  first: date | None = None, last: date | None = None, offset: int = 0,
                  limit: int | None = None) -> list[StoredTask]:
        """Tasks naming any of ``unit_keys`` as lead or support (None: every task), each
        once, by (due, id), restricted to ``first <= due <= last`` (None: open-ended; a
        task without a due date matches only when ``last`` is None), open ones only unless
        ``open_only`` is false; then ``[offset:offset + limit]`` of that order. Must cost
        about the page, not the whole set (an index on (unit, status, due, id))."""
        ...

    def count_tasks(self, unit_keys: Sequence[str] | None = None, *, open_only: bool = True,
                    first: date | None = None, last: date | None = None) -> int:
        """``len(task_page(...))`` with the same filters, without building it."""
        ...

    def search_tasks(self, words: Sequence[str], unit_keys: Sequence[str] | None = None,
                     *, limit: int | None = None) -> list[StoredTask]:
        """Tasks (of ``unit_keys`` as in :meth:`task_page`; None: all) whose
        :func:`search_fold`-ed text contains every one of ``words`` (already folded, non
        empty) as a substring; open tasks first, then by (due, id); the first ``limit``."""
        ...

    def lead_stats(self, today: date, unit_keys: Sequence[str] | None = None,
                   ) -> dict[str, tuple[int, int, int, int]]:
        """Per lead unit key: (done on time, done late, open not yet due, open overdue).

        A task counts once for each of its lead units (tasks without lead: nowhere). Done
        late: ``done_at`` (its date in the stored offset) after ``due``; a done task without
        due date is on time. Overdue: open and ``due < today``; open without due date: not
        yet due. With ``unit_keys`` only those keys appear (units with no task: absent).
        """
        ...

    # ------------------------------------------------------------------ units
    def units(self) -> list[StoredUnit]:
        """Every unit of every directory (:func:`directory_units`), by (fold(locality),
        fold(name)), key as tie-break."""
        ...

    def unit(self, key: str) -> StoredUnit | None:
        """The unit with this scoped key (``"<loc_key>|<unit key>"``), or None."""
        ...

    # ------------------------------------------------------------------ chats, memberships
    def memberships(self, *, unit_key: str | None = None, chat_id: int | None = None,
                    ) -> list[Membership]:
        """Memberships matching both filters (None: any), by (since, id)."""
        ...

    def unit_chats(self, unit_key: str) -> list[Chat]:
        """Active chats that are members of ``unit_key``, by chat id."""
        ...

    # ------------------------------------------------------------------ events
    def task_history(self, task_id: int) -> list[Event]:
        """Events of one task, oldest first (by id)."""
        ...

    def recent_events(self, limit: int) -> list[Event]:
        """The ``limit`` latest events of any kind, newest first (by id); [] for limit<=0."""
        ...

    # ------------------------------------------------------------------ delivery log
    def claim_delivery(self, key: str, *, chat_id: int | None, now: datetime) -> bool:
        """Write ``Delivery(key, chat_id, CLAIMED, now)`` and return True when this caller
        may send ``key``: no row yet, a row whose status is in :data:`RECLAIMABLE`, or a
        claim with ``at <= now - CLAIM_TIMEOUT``; otherwise change nothing and return False
        ("sent", "uncertain", a live claim). Atomic across processes sharing the database:
        of concurrent claimers exactly one gets True (PostgreSQL: ``INSERT … ON CONFLICT
        DO UPDATE … WHERE <reclaimable>``). A later :meth:`record_delivery` settles it."""
        ...

    def record_delivery(self, delivery: Delivery) -> None:
        """Insert or overwrite the row of ``delivery.key`` (the outcome of a send)."""
        ...

    def prune(self, before: datetime) -> PruneCounts:
        """Delete what is older than the retention, in one transaction:

        * delivery rows with ``at < before`` (settled or claimed: a claim that old is dead);
        * events with ``at < before`` except those of a task or a document that still
          exists (``task_id``/``doc_id`` naming a live row): a task's /chitiet history and
          a document's import stay whole. Digests read digest runs and owed digests, never
          events or deliveries, so they lose nothing.

        Returns how many rows of each went.
        """
        ...

    # ------------------------------------------------------------------ reminders
    def unsent_reminders(self, *, until: datetime | None = None,
                         task_ids: Iterable[int] | None = None,
                         chat_id: int | None = None) -> list[Reminder]:
        """Reminders not sent yet, with ``at <= until`` (None: any time), of those tasks
        and that chat (None: any), by (at, id)."""
        ...

    # ------------------------------------------------------------------ digest
    def digest_source(self, chat_ids: Iterable[int] | None = None) -> DigestSource:
        """What a digest run reads, in one call: see :class:`DigestSource`. ``chat_ids``
        restricts the chats (a retry); None: every active chat."""
        ...


# ------------------------------------------------------------------------------------------
# Helpers shared by the implementations
# ------------------------------------------------------------------------------------------
NO_LOCALITY = "-"


def locality_key(locality: str | None) -> str:
    """The ``loc_key`` of a locality ("-" for none)."""
    return fold(locality) if locality and fold(locality) else NO_LOCALITY


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

    What :meth:`Repository.search_tasks` matches words against (and folds words with).
    """
    return " ".join(text.translate(_SEARCH_FOLD).casefold().split())


def directory_units(row: UnitDirectoryRow,
                    labels: dict[tuple[tuple[str, int], ...], Any] | None = None,
                    ) -> Iterator[StoredUnit]:
    """The :class:`StoredUnit` of a saved directory without building it (that takes ~3 ms).

    Each unit's name follows :class:`bot.units.UnitDirectory`'s own rule, worked out once
    per distinct list of written forms (``labels`` is that cache, shareable between rows):
    communes share most unit names. Raises ValueError on a malformed directory.
    """
    from bot.units import UnitDirectory

    labels = {} if labels is None else labels
    for item in row.directory["units"]:
        key = item["key"]
        if not isinstance(key, str) or not key:
            raise ValueError(key)
        forms = tuple((form, count) for form, count in item["forms"])
        unit = labels.get(forms)
        if unit is None:
            one = {"units": [{"key": "x", "forms": [list(f) for f in forms]}]}
            unit = labels[forms] = next(UnitDirectory.from_json(one).units())
        yield StoredUnit(f"{row.loc_key}|{key}", unit.name, row.locality, unit.aliases,
                         unit.generic)
