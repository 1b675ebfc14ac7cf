"""What the store keeps: immutable records and their JSON row form.

Rows are plain dicts of JSON types (dates as ISO strings, datetimes as ISO strings with their
UTC offset) so that the TinyDB file stays readable and diffable. Every record type has
``to_row()`` and ``from_row(row_id, row)``; the row id is the TinyDB document id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from sys import intern
from typing import Any

from bot.models import KIND_NAMES, Period, Recurrence

OPEN = "open"
DONE = "done"
DUE_KINDS = ("explicit", "period", "extended")

DeadlineRow = tuple[str, str | None, int]
"""(phrase as written, due date ISO or None, line)."""


def _d(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


_DATES: dict[str, date] = {}


def _cached_date(value: str | None) -> date | None:
    """Parse an ISO date, sharing one object per distinct date (tasks repeat few dates)."""
    if not value:
        return None
    found = _DATES.get(value)
    if found is None:
        if len(_DATES) > 20_000:
            _DATES.clear()
        found = _DATES[value] = date.fromisoformat(value)
    return found


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """One imported plan file; a re-import of the same number and issuer bumps ``version``."""

    id: int
    kind: str
    number: str | None
    issuer: str | None
    issued: date | None
    title: str | None
    period: Period | None
    locality: str | None
    filename: str
    file_hash: str
    imported_at: datetime
    imported_by: int | None
    task_ids: tuple[int, ...]
    version: int = 1

    @property
    def label(self) -> str:
        """How to name the document to a person: "Nghị quyết 09-NQ/TU", else its kind, period
        and issuer ("Kế hoạch Quý IV năm 2022 – Thành ủy Uông Bí"), else the file name."""
        kind = KIND_NAMES.get(self.kind, KIND_NAMES["other"])
        if self.number:
            return f"{kind} {self.number}"
        parts = [kind]
        if self.period:
            parts.append(self.period.label)
        if self.issuer:
            parts.append(f"– {self.issuer}")
        return " ".join(parts) if len(parts) > 1 else self.filename

    def to_row(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "number": self.number, "issuer": self.issuer,
            "issued": _iso(self.issued), "title": self.title,
            "period": self.period.to_json() if self.period else None,
            "locality": self.locality, "filename": self.filename, "file_hash": self.file_hash,
            "imported_at": _iso(self.imported_at), "imported_by": self.imported_by,
            "task_ids": list(self.task_ids), "version": self.version,
        }

    @classmethod
    def from_row(cls, row_id: int, row: Mapping[str, Any]) -> StoredDocument:
        period = row.get("period")
        return cls(
            id=row_id, kind=row.get("kind") or "other", number=row.get("number"),
            issuer=row.get("issuer"), issued=_d(row.get("issued")), title=row.get("title"),
            period=Period(period["label"], date.fromisoformat(period["start"]),
                          date.fromisoformat(period["end"])) if period else None,
            locality=row.get("locality"), filename=row.get("filename") or "",
            file_hash=row["file_hash"], imported_at=datetime.fromisoformat(row["imported_at"]),
            imported_by=row.get("imported_by"), task_ids=tuple(row.get("task_ids") or ()),
            version=int(row.get("version") or 1),
        )


@dataclass(frozen=True, slots=True)
class TaskProgress:
    """The latest progress a lead unit reported on a task (/tiendo), kept on the task.

    ``percent`` 0-100 or None (a note only); ``note`` the words as typed (length-limited by
    :mod:`bot.progress`); ``by_name`` the reporter's Telegram name, ``by_unit`` the unit they
    reported for (its label), as they were at the time.
    """

    percent: int | None
    note: str
    at: datetime
    by: int | None = None
    by_name: str = ""
    by_unit: str = ""

    def to_json(self) -> dict[str, Any]:
        row: dict[str, Any] = {"at": self.at.isoformat()}
        _put(row, "pct", self.percent)
        _put(row, "note", self.note)
        _put(row, "by", self.by)
        _put(row, "by_name", self.by_name)
        _put(row, "by_unit", self.by_unit)
        return row

    @classmethod
    def from_json(cls, row: Mapping[str, Any]) -> TaskProgress:
        pct = row.get("pct")
        return cls(percent=int(pct) if pct is not None else None, note=row.get("note") or "",
                   at=datetime.fromisoformat(row["at"]), by=row.get("by"),
                   by_name=row.get("by_name") or "", by_unit=row.get("by_unit") or "")


@dataclass(frozen=True, slots=True)
class StoredTask:
    """One tracked task. ``lead``/``support`` hold scoped unit keys ("cam pha|phong y te")."""

    id: int
    doc_id: int
    line: int
    end_line: int
    section: str
    text: str
    lead: tuple[str, ...] = ()
    support: tuple[str, ...] = ()
    deadlines: tuple[DeadlineRow, ...] = ()
    due: date | None = None
    """Effective deadline: explicit, else the period end, else the date set by /giahan."""
    due_kind: str | None = None
    """"explicit", "period", "extended" or None."""
    original_due: date | None = None
    """The deadline the plan gave, kept when /giahan moves ``due``."""
    recurrence: Recurrence | None = None
    status: str = OPEN
    done_at: datetime | None = None
    done_by: int | None = None
    note: str | None = None
    fingerprint: str = ""
    """Folded text + lead units, to recognise the same task in a new version of a plan."""
    progress: TaskProgress | None = None
    """The latest /tiendo report (issue 10); rows written before it have none."""

    @property
    def code(self) -> str:
        """The short code people type (/xong 17)."""
        return str(self.id)

    @property
    def is_open(self) -> bool:
        return self.status == OPEN

    @property
    def units(self) -> tuple[str, ...]:
        """Every responsible unit key, lead first."""
        return self.lead + tuple(k for k in self.support if k not in self.lead)

    def to_row(self) -> dict[str, Any]:
        """Lean row: empty fields and status "open" are left out, ``original_due`` is written
        only when it differs from ``due`` (100k rows load faster and take less memory)."""
        row: dict[str, Any] = {"doc": self.doc_id, "line": self.line, "text": self.text}
        if self.status != OPEN:  # at most 10 keys for an open task: a smaller dict in memory
            row["status"] = self.status
        if self.end_line != self.line:
            row["end_line"] = self.end_line
        if self.section:
            row["section"] = self.section
        if self.lead:
            row["lead"] = list(self.lead)
        if self.support:
            row["support"] = list(self.support)
        if self.deadlines:
            row["deadlines"] = [list(d) for d in self.deadlines]
        if self.due is not None:
            row["due"] = self.due.isoformat()
        if self.due_kind is not None:
            row["due_kind"] = self.due_kind
        if self.original_due != self.due:
            row["original_due"] = _iso(self.original_due)
        if self.recurrence is not None:
            row["recurrence"] = self.recurrence.to_json()
        if self.done_at is not None:
            row["done_at"] = self.done_at.isoformat()
        if self.done_by is not None:
            row["done_by"] = self.done_by
        if self.note is not None:
            row["note"] = self.note
        if self.fingerprint:
            row["fp"] = self.fingerprint
        if self.progress is not None:
            row["progress"] = self.progress.to_json()
        return row

    @classmethod
    def from_row(cls, row_id: int, row: Mapping[str, Any],
                 shared: dict[Any, Any] | None = None) -> StoredTask:
        """``shared`` (one dict for a whole load) makes equal texts, sections, unit tuples and
        deadlines one object each: a plan sent to many communes repeats them all."""
        get = row.get
        due = _cached_date(get("due"))
        original = _cached_date(row["original_due"]) if "original_due" in row else due
        rec = get("recurrence")
        done_at = get("done_at")
        progress = get("progress")
        line = row["line"]
        text, section = row["text"], get("section", "")
        lead, support = tuple(get("lead", ())), tuple(get("support", ()))
        deadlines: tuple[DeadlineRow, ...] = tuple(map(tuple, get("deadlines", ())))
        if shared is None:
            lead, support = tuple(map(intern, lead)), tuple(map(intern, support))
        else:
            share = shared.setdefault
            text, section = share(text, text), share(section, section)
            deadlines = share(deadlines, deadlines)
            found = shared.get(lead)
            if found is None:
                found = shared[lead] = tuple(map(intern, lead))
            lead = found
            if support:
                found = shared.get(support)
                if found is None:
                    found = shared[support] = tuple(map(intern, support))
                support = found
        return cls(
            row_id, row["doc"], line, get("end_line", line), section, text, lead, support,
            deadlines,
            due, get("due_kind"), original,
            Recurrence(rec["freq"], rec.get("phrase", ""), rec.get("day"),
                       rec.get("month_of_period"), rec.get("month")) if rec else None,
            get("status", OPEN), datetime.fromisoformat(done_at) if done_at else None,
            get("done_by"), get("note"), get("fp", ""),
            TaskProgress.from_json(progress) if progress else None,
        )


@dataclass(frozen=True, slots=True)
class StoredUnit:
    """A unit as the store knows it; ``key`` is scoped by locality."""

    key: str
    name: str
    locality: str | None
    aliases: tuple[str, ...] = ()
    generic: bool = False

    @property
    def label(self) -> str:
        """Name with its locality, to tell "Phòng Y tế (Cẩm Phả)" from that of Uông Bí."""
        return f"{self.name} ({self.locality})" if self.locality else self.name


@dataclass(frozen=True, slots=True)
class Chat:
    """A Telegram chat that follows some units; inactive when the bot was removed."""

    id: int
    title: str
    type: str
    active: bool = True
    unit_keys: tuple[str, ...] = ()

    def to_row(self) -> dict[str, Any]:
        return {"title": self.title, "type": self.type, "active": self.active}

    @classmethod
    def from_row(cls, row_id: int, row: Mapping[str, Any],
                 unit_keys: tuple[str, ...] = ()) -> Chat:
        return cls(id=row_id, title=row.get("title") or "", type=row.get("type") or "",
                   active=bool(row.get("active", True)), unit_keys=unit_keys)


@dataclass(frozen=True, slots=True)
class Event:
    """One line of the audit trail: who did what, when."""

    id: int
    at: datetime
    actor: int | None
    kind: str
    task_id: int | None = None
    doc_id: int | None = None
    data: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def to_row(self) -> dict[str, Any]:
        return {"at": _iso(self.at), "actor": self.actor, "kind": self.kind,
                "task": self.task_id, "doc": self.doc_id, "data": dict(self.data)}

    @classmethod
    def from_row(cls, row_id: int, row: Mapping[str, Any]) -> Event:
        return cls(id=row_id, at=datetime.fromisoformat(row["at"]), actor=row.get("actor"),
                   kind=row["kind"], task_id=row.get("task"), doc_id=row.get("doc"),
                   data=dict(row.get("data") or {}))


@dataclass(frozen=True, slots=True)
class Delivery:
    """Outcome of one reminder delivery, keyed by the reminder's idempotency key."""

    key: str
    chat_id: int | None
    status: str
    at: datetime
    detail: str | None = None

    def to_row(self) -> dict[str, Any]:
        return {"key": self.key, "chat": self.chat_id, "status": self.status,
                "at": _iso(self.at), "detail": self.detail}

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Delivery:
        return cls(key=row["key"], chat_id=row.get("chat"), status=row["status"],
                   at=datetime.fromisoformat(row["at"]), detail=row.get("detail"))


@dataclass(frozen=True, slots=True)
class Reminder:
    """A one-off reminder a user asked for ("nhắc nhiệm vụ 17 lúc 8:00 ngày 3/10")."""

    id: int
    task_id: int
    chat_id: int
    at: datetime
    actor: int | None
    created_at: datetime
    sent_at: datetime | None = None

    def to_row(self) -> dict[str, Any]:
        return {"task": self.task_id, "chat": self.chat_id, "at": _iso(self.at),
                "actor": self.actor, "created_at": _iso(self.created_at),
                "sent_at": _iso(self.sent_at)}

    @classmethod
    def from_row(cls, row_id: int, row: Mapping[str, Any]) -> Reminder:
        return cls(id=row_id, task_id=row["task"], chat_id=row["chat"],
                   at=datetime.fromisoformat(row["at"]), actor=row.get("actor"),
                   created_at=datetime.fromisoformat(row["created_at"]),
                   sent_at=_dt(row.get("sent_at")))


@dataclass(frozen=True, slots=True)
class Announcement:
    """A message an admin broadcast to chats, kept for the record."""

    id: int
    at: datetime
    actor: int | None
    text: str
    chat_ids: tuple[int, ...] = ()
    unit_keys: tuple[str, ...] = ()
    failed: tuple[int, ...] = ()
    """Chats the message could not be delivered to."""

    def to_row(self) -> dict[str, Any]:
        return {"at": _iso(self.at), "actor": self.actor, "text": self.text,
                "chats": list(self.chat_ids), "units": list(self.unit_keys),
                "failed": list(self.failed)}

    @classmethod
    def from_row(cls, row_id: int, row: Mapping[str, Any]) -> Announcement:
        return cls(id=row_id, at=datetime.fromisoformat(row["at"]), actor=row.get("actor"),
                   text=row.get("text") or "", chat_ids=tuple(row.get("chats", ())),
                   unit_keys=tuple(row.get("units", ())), failed=tuple(row.get("failed", ())))


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What :meth:`bot.store.Store.import_plan` did, for the reply to the importer."""

    status: str
    """"new", "replaced" or "duplicate"."""
    document: StoredDocument
    task_count: int
    unit_names: tuple[str, ...]
    explicit_deadlines: int
    kept_done: int = 0
    """Tasks of the previous version whose done status carried over."""
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class UnitStats:
    """The four categories government trackers report, for one lead unit."""

    unit: StoredUnit
    done_on_time: int = 0
    """Hoàn thành đúng hạn."""
    done_late: int = 0
    """Hoàn thành quá hạn."""
    not_yet_due: int = 0
    """Chưa đến hạn (includes open tasks without a deadline)."""
    overdue_open: int = 0
    """Quá hạn chưa hoàn thành."""

    @property
    def total(self) -> int:
        return self.done_on_time + self.done_late + self.not_yet_due + self.overdue_open


# ------------------------------------------------------------------------------------------
# Scheduling (issue 4): announcements planned for later ("/thongbao ... lúc 8:00 20/12")
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ScheduledAnnouncement:
    """A broadcast an admin planned for ``at``; kept in the database so a restart loses none.

    ``unit_keys`` empty means every active chat.
    """

    id: int
    text: str
    unit_keys: tuple[str, ...]
    at: datetime
    actor: int | None
    created_at: datetime
    sent_at: datetime | None = None
    cancelled_at: datetime | None = None
    by_name: str = ""
    """The author's Telegram name (issue 10), shown in the message; "" in older rows."""

    @property
    def pending(self) -> bool:
        """Neither sent nor cancelled yet."""
        return self.sent_at is None and self.cancelled_at is None

    def to_row(self) -> dict[str, Any]:
        row: dict[str, Any] = {
            "text": self.text, "units": list(self.unit_keys), "at": _iso(self.at),
            "actor": self.actor, "created_at": _iso(self.created_at),
            "sent_at": _iso(self.sent_at), "cancelled_at": _iso(self.cancelled_at)}
        _put(row, "by_name", self.by_name)
        return row

    @classmethod
    def from_row(cls, row_id: int, row: Mapping[str, Any]) -> ScheduledAnnouncement:
        return cls(id=row_id, text=row.get("text") or "",
                   unit_keys=tuple(row.get("units") or ()),
                   at=datetime.fromisoformat(row["at"]), actor=row.get("actor"),
                   created_at=datetime.fromisoformat(row["created_at"]),
                   sent_at=_dt(row.get("sent_at")), cancelled_at=_dt(row.get("cancelled_at")),
                   by_name=row.get("by_name") or "")


@dataclass(frozen=True, slots=True)
class OwedDigest:
    """A chat whose digest did not surely arrive: its reminders are owed from ``since``.

    Kept until a digest of the chat goes out in full; until then every digest of the chat
    folds in the reminders of ``since`` onwards (whatever the chat's earlier history).
    """

    chat_id: int
    since: date
    """First day whose reminders the chat may not have."""
    day: date
    """The digest day last tried."""
    reason: str
    """Outcome of the last try: "failed", "uncertain" or "undeliverable"; "missed" when the
    bot was down on the digest's day."""
    tries: int
    """Tries of ``day``'s digest so far."""
    retry_at: datetime | None
    """When ``day``'s digest is tried again (only after "failed"); None: the next digest."""
    at: datetime

    def to_row(self) -> dict[str, Any]:
        return {"since": _iso(self.since), "day": _iso(self.day), "reason": self.reason,
                "tries": self.tries, "retry_at": _iso(self.retry_at), "at": _iso(self.at)}

    @classmethod
    def from_row(cls, chat_id: int, row: Mapping[str, Any]) -> OwedDigest:
        return cls(chat_id=chat_id, since=date.fromisoformat(row["since"]),
                   day=date.fromisoformat(row["day"]), reason=str(row["reason"]),
                   tries=int(row.get("tries") or 1), retry_at=_dt(row.get("retry_at")),
                   at=datetime.fromisoformat(row["at"]))


# ------------------------------------------------------------------------------------------
# Membership (issue 12): who belongs to a unit, invitations, requests
# ------------------------------------------------------------------------------------------
VIA_ADMIN = "admin"
"""A bot admin made the chat a member (/dangky by an admin)."""
VIA_INVITE = "invite"
"""The chat opened an invitation link."""
VIA_REQUEST = "request"
"""An admin approved the chat's request."""
VIA_LEGACY_ADMIN = "legacy_admin"
"""Made before memberships existed, by a bot admin: kept at the upgrade."""
VIA_LEGACY_GROUP = "legacy_group"
"""Made before memberships existed, in a group (by a group administrator): kept."""
VIAS = (VIA_ADMIN, VIA_INVITE, VIA_REQUEST, VIA_LEGACY_ADMIN, VIA_LEGACY_GROUP)

PENDING = "pending"
APPROVED = "approved"
REFUSED = "refused"
CANCELLED = "cancelled"
"""The chat became a member another way (an invitation, an admin) while it waited."""
REQUEST_STATES = (PENDING, APPROVED, REFUSED, CANCELLED)
ORIGIN_DANGKY = "dangky"
ORIGIN_UPGRADE = "upgrade"
"""A self-made private subscription of an older version, turned into a request."""


def _put(row: dict[str, Any], key: str, value: Any) -> None:
    """Lean rows: only the fields that are set."""
    if value not in (None, "", ()):
        row[key] = value


@dataclass(frozen=True, slots=True)
class Membership:
    """A chat that belongs to a unit: one row of the "subscriptions" table.

    Rows written before memberships existed have no ``via``; the upgrade
    (:meth:`bot.store.Store.upgrade_memberships`) gives every kept row one.
    """

    id: int
    chat_id: int
    unit_key: str
    since: datetime
    by: int | None = None
    """The user who joined (opened the link, asked) or the admin who added the chat."""
    by_name: str = ""
    via: str | None = None
    """One of :data:`VIAS`; None on a row of an older version, not upgraded yet."""
    granted_by: int | None = None
    """The admin who invited or approved (None when the admin added the chat directly)."""
    granted_by_name: str = ""
    ref: int | None = None
    """The invitation or request id."""

    def to_row(self) -> dict[str, Any]:
        row: dict[str, Any] = {"chat": self.chat_id, "unit": self.unit_key,
                               "since": self.since.isoformat(), "by": self.by}
        _put(row, "by_name", self.by_name)
        _put(row, "via", self.via)
        _put(row, "granted_by", self.granted_by)
        _put(row, "granted_by_name", self.granted_by_name)
        _put(row, "ref", self.ref)
        return row

    @classmethod
    def from_row(cls, row_id: int, row: Mapping[str, Any]) -> Membership:
        return cls(id=row_id, chat_id=row["chat"], unit_key=row["unit"],
                   since=datetime.fromisoformat(row["since"]), by=row.get("by"),
                   by_name=row.get("by_name") or "", via=row.get("via"),
                   granted_by=row.get("granted_by"),
                   granted_by_name=row.get("granted_by_name") or "", ref=row.get("ref"))


@dataclass(frozen=True, slots=True)
class Invitation:
    """An admin's invitation to a unit: one chat may join with it, until it expires.

    ``nonce`` is random and never leaves the database: the link's signature covers it, so a
    link stays tied to this very row (a database rebuilt with the same ids does not revive it).
    """

    id: int
    unit_key: str
    created_by: int | None
    created_by_name: str
    created_at: datetime
    expires_at: datetime
    nonce: str
    revoked_at: datetime | None = None
    revoked_by: int | None = None
    used_at: datetime | None = None
    used_by: int | None = None
    used_by_name: str = ""
    used_chat: int | None = None

    def status(self, now: datetime) -> str:
        """"revoked", "used", "expired" or "open"."""
        if self.revoked_at is not None:
            return "revoked"
        if self.used_at is not None:
            return "used"
        if now >= self.expires_at:
            return "expired"
        return "open"

    def to_row(self) -> dict[str, Any]:
        row: dict[str, Any] = {"unit": self.unit_key, "created_by": self.created_by,
                               "created_at": self.created_at.isoformat(),
                               "expires_at": self.expires_at.isoformat(), "nonce": self.nonce}
        _put(row, "created_by_name", self.created_by_name)
        _put(row, "revoked_at", _iso(self.revoked_at))
        _put(row, "revoked_by", self.revoked_by)
        _put(row, "used_at", _iso(self.used_at))
        _put(row, "used_by", self.used_by)
        _put(row, "used_by_name", self.used_by_name)
        _put(row, "used_chat", self.used_chat)
        return row

    @classmethod
    def from_row(cls, row_id: int, row: Mapping[str, Any]) -> Invitation:
        return cls(id=row_id, unit_key=row["unit"], created_by=row.get("created_by"),
                   created_by_name=row.get("created_by_name") or "",
                   created_at=datetime.fromisoformat(row["created_at"]),
                   expires_at=datetime.fromisoformat(row["expires_at"]), nonce=row["nonce"],
                   revoked_at=_dt(row.get("revoked_at")), revoked_by=row.get("revoked_by"),
                   used_at=_dt(row.get("used_at")), used_by=row.get("used_by"),
                   used_by_name=row.get("used_by_name") or "", used_chat=row.get("used_chat"))


@dataclass(frozen=True, slots=True)
class JoinRequest:
    """A chat asking to belong to a unit; an admin approves or refuses it."""

    id: int
    chat_id: int
    unit_key: str
    chat_title: str
    chat_type: str
    user_id: int | None
    """Who asked (in a group: the group administrator who typed /dangky)."""
    user_name: str
    created_at: datetime
    status: str = PENDING
    origin: str = ORIGIN_DANGKY
    decided_at: datetime | None = None
    decided_by: int | None = None
    decided_by_name: str = ""

    @property
    def pending(self) -> bool:
        return self.status == PENDING

    @property
    def in_group(self) -> bool:
        return self.chat_type in ("group", "supergroup") or self.chat_id < 0

    def to_row(self) -> dict[str, Any]:
        row: dict[str, Any] = {"chat": self.chat_id, "unit": self.unit_key,
                               "user": self.user_id, "created_at": self.created_at.isoformat(),
                               "status": self.status, "origin": self.origin}
        _put(row, "chat_title", self.chat_title)
        _put(row, "chat_type", self.chat_type)
        _put(row, "user_name", self.user_name)
        _put(row, "decided_at", _iso(self.decided_at))
        _put(row, "decided_by", self.decided_by)
        _put(row, "decided_by_name", self.decided_by_name)
        return row

    @classmethod
    def from_row(cls, row_id: int, row: Mapping[str, Any]) -> JoinRequest:
        status = row.get("status") or PENDING
        if status not in REQUEST_STATES:
            raise ValueError(f"unknown request status {status!r}")
        return cls(id=row_id, chat_id=row["chat"], unit_key=row["unit"],
                   chat_title=row.get("chat_title") or "", chat_type=row.get("chat_type") or "",
                   user_id=row.get("user"), user_name=row.get("user_name") or "",
                   created_at=datetime.fromisoformat(row["created_at"]), status=status,
                   origin=row.get("origin") or ORIGIN_DANGKY,
                   decided_at=_dt(row.get("decided_at")), decided_by=row.get("decided_by"),
                   decided_by_name=row.get("decided_by_name") or "")
