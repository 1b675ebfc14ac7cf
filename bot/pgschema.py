"""PostgreSQL schema of the store, as ordered migrations run in code at open.

Every kind of record the TinyDB store keeps has its own table named like the TinyDB table, with
the record's row (``to_row()``, the very dict the JSON file holds) in a ``row jsonb`` column and
real columns for everything a command queries (due date, open flag, document, unit keys, folded
text, delivery key, times). The row is what is read back (``from_row(id, row)``), so the two
backends hold the same data and ``chuyen-du-lieu`` can compare them row for row; the columns
are derived from the row on every write by :func:`columns` (one place), never edited alone.

``task_units`` is a join table (one line per task and unit it names, lead or support) kept by
a trigger on ``tasks``, so no write path can leave it stale; its partial index
``(unit_key, due, task_id) WHERE open`` answers /nhiemvu, /quahan and /sapden of a unit by an
index range scan. Search uses ``folded`` (:func:`bot.store.search_fold` of the text, computed in
Python so the semantics are exactly those of the TinyDB backend) under a pg_trgm GIN index.

Ids come from one sequence per numbered table (``nextval`` never hands the same id to two
processes). :func:`migrate` runs at open: one transaction, under a transaction-level advisory
lock, so two workers starting together apply each migration once; re-running is a no-op.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

logger = logging.getLogger(__name__)

LOCK_KEY = 0x626F745F736368  # "bot_sch": pg_advisory_xact_lock key of the migrations
SEQ_TABLES = (
    "documents", "tasks", "units", "subscriptions", "events", "deliveries", "reminders",
    "announcements", "scheduled", "invitations", "requests",
)
"""Tables whose ids come from a sequence ``<table>_id_seq`` (names as in bot.store)."""
KEYED_TABLES = ("chats", "snoozes", "digest_runs", "digest_owed")
"""Tables keyed by another record's id (a chat, a task): no sequence (units: by loc_key,
deliveries: by key; their sequences exist for next_id only)."""
DATA_TABLES = (*SEQ_TABLES, *KEYED_TABLES)
"""Every table holding records, in an order that loads cleanly (documents before tasks)."""


def _v1(cur: Any) -> None:
    """The first schema: every table, its indexes, the sequences, the task_units trigger."""
    cur.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    cur.execute("""
        CREATE TABLE meta (
            key   text PRIMARY KEY,
            value jsonb NOT NULL
        );
        CREATE TABLE documents (
            id          bigint PRIMARY KEY,
            file_hash   text NOT NULL,
            ident       text,
            imported_at timestamptz NOT NULL,
            row         jsonb NOT NULL
        );
        CREATE UNIQUE INDEX documents_file_hash ON documents (file_hash);
        CREATE INDEX documents_ident ON documents (ident) WHERE ident IS NOT NULL;
        CREATE INDEX documents_imported ON documents (imported_at DESC, id DESC);

        CREATE TABLE tasks (
            id       bigint PRIMARY KEY,
            doc_id   bigint NOT NULL,
            open     boolean NOT NULL,
            due      date,
            done_day date,
            lead    text[] NOT NULL,
            units   text[] NOT NULL,
            folded  text NOT NULL,
            row     jsonb NOT NULL
        );
        CREATE INDEX tasks_doc ON tasks (doc_id);
        CREATE INDEX tasks_open_due ON tasks (due, id) WHERE open;
        CREATE INDEX tasks_due ON tasks (open DESC, due, id);
        CREATE INDEX tasks_folded_trgm ON tasks USING gin (folded gin_trgm_ops);

        CREATE TABLE task_units (
            unit_key text NOT NULL,
            task_id  bigint NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
            lead     boolean NOT NULL,
            open     boolean NOT NULL,
            due      date,
            done_day date,
            PRIMARY KEY (unit_key, task_id)
        );
        CREATE INDEX task_units_open ON task_units (unit_key, due, task_id) WHERE open;
        CREATE INDEX task_units_all ON task_units (unit_key, due, task_id);
        CREATE INDEX task_units_task ON task_units (task_id);

        CREATE TABLE units (
            loc      text PRIMARY KEY,
            locality text,
            version  integer NOT NULL,
            row      jsonb NOT NULL
        );
        CREATE TABLE chats (
            id     bigint PRIMARY KEY,
            active boolean NOT NULL,
            row    jsonb NOT NULL
        );
        CREATE TABLE subscriptions (
            id       bigint PRIMARY KEY,
            chat_id  bigint NOT NULL,
            unit_key text NOT NULL,
            since    timestamptz NOT NULL,
            row      jsonb NOT NULL,
            UNIQUE (chat_id, unit_key)
        );
        CREATE INDEX subscriptions_unit ON subscriptions (unit_key, chat_id);
        CREATE TABLE invitations (
            id       bigint PRIMARY KEY,
            unit_key text NOT NULL,
            row      jsonb NOT NULL
        );
        CREATE INDEX invitations_unit ON invitations (unit_key, id);
        CREATE TABLE requests (
            id       bigint PRIMARY KEY,
            chat_id  bigint NOT NULL,
            unit_key text NOT NULL,
            status   text NOT NULL,
            row      jsonb NOT NULL
        );
        CREATE INDEX requests_pending ON requests (chat_id, unit_key) WHERE status = 'pending';
        CREATE INDEX requests_unit ON requests (unit_key, id);
        CREATE TABLE events (
            id      bigint PRIMARY KEY,
            at      timestamptz NOT NULL,
            kind    text NOT NULL,
            task_id bigint,
            doc_id  bigint,
            row     jsonb NOT NULL
        );
        CREATE INDEX events_task ON events (task_id, id) WHERE task_id IS NOT NULL;
        CREATE TABLE deliveries (
            key     text PRIMARY KEY,
            chat_id bigint,
            status  text NOT NULL,
            at      timestamptz NOT NULL,
            row     jsonb NOT NULL
        );
        CREATE INDEX deliveries_at ON deliveries (at);
        CREATE TABLE reminders (
            id      bigint PRIMARY KEY,
            task_id bigint NOT NULL,
            chat_id bigint NOT NULL,
            at      timestamptz NOT NULL,
            sent_at timestamptz,
            row     jsonb NOT NULL
        );
        CREATE INDEX reminders_due ON reminders (at, id) WHERE sent_at IS NULL;
        CREATE INDEX reminders_task ON reminders (task_id);
        CREATE INDEX reminders_chat ON reminders (chat_id) WHERE sent_at IS NULL;
        CREATE TABLE announcements (
            id  bigint PRIMARY KEY,
            at  timestamptz NOT NULL,
            row jsonb NOT NULL
        );
        CREATE TABLE scheduled (
            id      bigint PRIMARY KEY,
            at      timestamptz NOT NULL,
            pending boolean NOT NULL,
            row     jsonb NOT NULL
        );
        CREATE INDEX scheduled_due ON scheduled (at, id) WHERE pending;
        CREATE TABLE snoozes (
            id    bigint PRIMARY KEY,
            until date NOT NULL,
            row   jsonb NOT NULL
        );
        CREATE TABLE digest_runs (
            id  bigint PRIMARY KEY,
            day date NOT NULL,
            row jsonb NOT NULL
        );
        CREATE TABLE digest_owed (
            id  bigint PRIMARY KEY,
            row jsonb NOT NULL
        );
    """)
    for table in SEQ_TABLES:
        cur.execute(f"CREATE SEQUENCE {table}_id_seq AS bigint MINVALUE 1")
    cur.execute("""
        CREATE FUNCTION task_units_sync() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'INSERT' THEN
                DELETE FROM task_units WHERE task_id = OLD.id;
            END IF;
            IF TG_OP <> 'DELETE' THEN
                INSERT INTO task_units (unit_key, task_id, lead, open, due, done_day)
                SELECT u, NEW.id, u = ANY (NEW.lead), NEW.open, NEW.due, NEW.done_day
                FROM (SELECT DISTINCT unnest(NEW.units) AS u) AS keys;
                RETURN NEW;
            END IF;
            RETURN OLD;
        END $$;
        CREATE TRIGGER tasks_units
            AFTER INSERT OR UPDATE OF open, due, done_day, lead, units OR DELETE
            ON tasks FOR EACH ROW EXECUTE FUNCTION task_units_sync();
    """)


def unit_list_rows(loc: str, locality: str | None, directory: Mapping[str, Any],
                   labels: dict[Any, Any] | None = None) -> list[tuple[Any, ...]]:
    """The ``unit_list`` rows of one directory: (key, loc, name, locality, aliases, generic,
    sort_locality, sort_name), names as :func:`bot.repository.directory_units` gives them."""
    from bot.repository import UnitDirectoryRow, directory_units
    from bot.text import fold

    row = UnitDirectoryRow(loc, locality, directory)
    return [(u.key, loc, u.name, u.locality, list(u.aliases), u.generic,
             fold(u.locality or ""), fold(u.name))
            for u in directory_units(row, labels)]


INSERT_UNIT_LIST = ("INSERT INTO unit_list (key, loc, name, locality, aliases, generic, "
                    "sort_locality, sort_name) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)")


def _v2(cur: Any) -> None:
    """Every unit of every directory as a row, kept with its directory: /donvi and unit
    lookups read it instead of parsing every directory (seconds at thousands of localities)."""
    cur.execute("""
        CREATE TABLE unit_list (
            key           text PRIMARY KEY,
            loc           text NOT NULL REFERENCES units (loc) ON DELETE CASCADE,
            name          text NOT NULL,
            locality      text,
            aliases       text[] NOT NULL,
            generic       boolean NOT NULL,
            sort_locality text COLLATE "C" NOT NULL,
            sort_name     text COLLATE "C" NOT NULL
        );
        CREATE INDEX unit_list_loc ON unit_list (loc);
        CREATE INDEX unit_list_order ON unit_list (sort_locality, sort_name, key);
    """)
    labels: dict[Any, Any] = {}
    rows = cur.execute("SELECT loc, locality, row FROM units ORDER BY loc").fetchall()
    for loc, locality, row in rows:
        cur.executemany(INSERT_UNIT_LIST,
                        unit_list_rows(loc, locality, row["directory"], labels))


Migration = tuple[int, str, Callable[[Any], None]]
MIGRATIONS: tuple[Migration, ...] = (
    (1, "tables, indexes, sequences, task_units trigger", _v1),
    (2, "unit_list: the units of every directory, one row each", _v2),
)
"""Ordered; a new schema change is a new entry at the end (never edit an applied one)."""
SCHEMA_VERSION = MIGRATIONS[-1][0]


def current_version(conn: Any) -> int:
    """The highest applied migration (0 for an empty database)."""
    row = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
    if not row[0]:
        return 0
    row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
    return int(row[0])


def migrate(conn: Any, target: int | None = None) -> list[int]:
    """Bring the database to :data:`SCHEMA_VERSION` (or ``target``, for tests); returns the
    versions applied now.

    One transaction under ``pg_advisory_xact_lock``: a second process waits, then finds the
    work done. A database newer than this code is refused (:class:`bot.errors.ConfigError`).
    """
    from bot.errors import ConfigError

    applied: list[int] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        conn.execute("""CREATE TABLE IF NOT EXISTS schema_version (
                            version    integer PRIMARY KEY,
                            name       text NOT NULL,
                            applied_at timestamptz NOT NULL DEFAULT now())""")
        version = current_version(conn)
        if version > SCHEMA_VERSION:
            raise ConfigError(
                f"Cơ sở dữ liệu PostgreSQL có phiên bản {version}, mới hơn phiên bản "
                f"{SCHEMA_VERSION} mà bot này hiểu. Hãy cập nhật bot.")
        with conn.cursor() as cur:
            for number, name, step in MIGRATIONS:
                if number <= version or (target is not None and number > target):
                    continue
                logger.info("PostgreSQL schema: applying migration %d (%s)", number, name)
                step(cur)
                cur.execute("INSERT INTO schema_version (version, name) VALUES (%s, %s)",
                            (number, name))
                applied.append(number)
    return applied


# ------------------------------------------------------------------------------------------
# Row -> columns: the one place that derives the queried columns from a record's row
# ------------------------------------------------------------------------------------------
def _date(value: Any) -> date | None:
    return date.fromisoformat(value) if value else None


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _task_columns(row: Mapping[str, Any]) -> dict[str, Any]:
    from bot.repository import search_fold

    lead = list(row.get("lead") or ())
    support = list(row.get("support") or ())
    done_at = row.get("done_at")
    return {"doc_id": int(row["doc"]), "open": row.get("status", "open") == "open",
            "due": _date(row.get("due")),
            # the date in the offset it was stored with, as the TinyDB backend reads it
            "done_day": datetime.fromisoformat(done_at).date() if done_at else None,
            "lead": lead,
            "units": lead + [k for k in support if k not in lead],
            "folded": search_fold(row.get("text") or "")}


def _document_columns(row: Mapping[str, Any]) -> dict[str, Any]:
    from bot.text import fold

    number = row.get("number")
    ident = (fold(number) + "\x1f" + fold(row.get("issuer") or "")
             if number and fold(number) else None)
    return {"file_hash": row["file_hash"], "ident": ident,
            "imported_at": _time(row["imported_at"])}


_COLUMNS: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "documents": _document_columns,
    "tasks": _task_columns,
    "units": lambda r: {"locality": r.get("locality")},
    "chats": lambda r: {"active": bool(r.get("active", True))},
    "subscriptions": lambda r: {"chat_id": int(r["chat"]), "unit_key": r["unit"],
                                "since": _time(r["since"])},
    "invitations": lambda r: {"unit_key": r["unit"]},
    "requests": lambda r: {"chat_id": int(r["chat"]), "unit_key": r["unit"],
                           "status": r.get("status") or "pending"},
    "events": lambda r: {"at": _time(r["at"]), "kind": r["kind"], "task_id": r.get("task"),
                         "doc_id": r.get("doc")},
    "deliveries": lambda r: {"chat_id": r.get("chat"),
                             "status": r["status"], "at": _time(r["at"])},
    "reminders": lambda r: {"task_id": int(r["task"]), "chat_id": int(r["chat"]),
                            "at": _time(r["at"]), "sent_at": _time(r.get("sent_at"))},
    "announcements": lambda r: {"at": _time(r["at"])},
    "scheduled": lambda r: {"at": _time(r["at"]),
                            "pending": not r.get("sent_at") and not r.get("cancelled_at")},
    "snoozes": lambda r: {"until": _date(r["until"])},
    "digest_runs": lambda r: {"day": _date(r["day"])},
    "digest_owed": lambda r: {},
}


def columns(table: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """The queried columns of ``table`` for one row (``to_row()`` form); KeyError on an
    unknown table, KeyError/ValueError on a row missing what the columns need."""
    return _COLUMNS[table](row)


def column_names(table: str) -> tuple[str, ...]:
    """Names of the derived columns of ``table``, in a fixed order."""
    names = {
        "documents": ("file_hash", "ident", "imported_at"),
        "tasks": ("doc_id", "open", "due", "done_day", "lead", "units", "folded"),
        "units": ("locality",), "chats": ("active",),
        "subscriptions": ("chat_id", "unit_key", "since"), "invitations": ("unit_key",),
        "requests": ("chat_id", "unit_key", "status"),
        "events": ("at", "kind", "task_id", "doc_id"),
        "deliveries": ("chat_id", "status", "at"),
        "reminders": ("task_id", "chat_id", "at", "sent_at"), "announcements": ("at",),
        "scheduled": ("at", "pending"), "snoozes": ("until",), "digest_runs": ("day",),
        "digest_owed": (),
    }
    return names[table]
