"""``python -m bot chuyen-du-lieu``: move a TinyDB database (``bot.json``) into PostgreSQL.

The source is read under the bot's own file lock (a running bot on it is refused, so the copy
is a consistent snapshot) and never written: older schema versions are migrated in memory
only. Every row is read into its record (a damaged one stops the move, naming its table and
id) and written back as that record's ``to_row()``, the form both backends keep.

Everything happens in ONE PostgreSQL transaction: (with ``--replace``) emptying the target,
loading every table by COPY, setting the id sequences, then reading every table back and
comparing it with the source, count and content, row for row. Only a perfect match commits;
any difference rolls everything back. A target that already holds exactly the source is left
alone (re-running is safe); a target holding anything else is refused unless ``--replace``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bot import pgschema
from bot.errors import BotError, ConfigError
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
from bot.repository import DigestRun, Snooze, UnitDirectoryRow

# TinyDB table -> how one raw row becomes (PostgreSQL key, canonical row)
_ID_ROWS: dict[str, Callable[[int, Mapping[str, Any]], Any]] = {
    "documents": StoredDocument.from_row,
    "tasks": StoredTask.from_row,
    "chats": Chat.from_row,
    "subscriptions": Membership.from_row,
    "events": Event.from_row,
    "reminders": Reminder.from_row,
    "announcements": Announcement.from_row,
    "scheduled": ScheduledAnnouncement.from_row,
    "invitations": Invitation.from_row,
    "requests": JoinRequest.from_row,
    "snoozes": Snooze.from_row,
    "digest_runs": DigestRun.from_row,
    "digest_owed": OwedDigest.from_row,
}
TABLES = ("units", *_ID_ROWS, "deliveries")
"""Every table moved, in load order."""
_KNOWN_SOURCE = frozenset({*TABLES, "meta"})
_SHARD_RE = re.compile(r"tasks\.[1-9][0-9]*")

NAMES = {
    "units": "danh bạ đơn vị (địa bàn)", "documents": "văn bản", "tasks": "nhiệm vụ",
    "chats": "cuộc trò chuyện", "subscriptions": "thành viên đơn vị", "events": "nhật ký",
    "reminders": "lời nhắc", "announcements": "thông báo đã gửi",
    "scheduled": "thông báo hẹn giờ", "invitations": "lời mời", "requests": "yêu cầu tham gia",
    "snoozes": "tạm hoãn nhắc", "digest_runs": "lần gửi bản tin",
    "digest_owed": "bản tin còn nợ", "deliveries": "nhật ký gửi tin",
}


class MoveError(BotError):
    """The move was refused or failed; nothing was written to the target."""


def _plain(row: Mapping[str, Any]) -> dict[str, Any]:
    """The row as JSON gives it back (tuples become lists)."""
    return json.loads(json.dumps(row, ensure_ascii=False))


def _canonical(table: str, row_id: str, row: Any) -> tuple[Any, dict[str, Any]]:
    if not isinstance(row, Mapping):
        raise TypeError("not an object")
    if table == "deliveries":
        return str(row["key"]), _plain(Delivery.from_row(row).to_row())
    if table == "units":
        unit = UnitDirectoryRow(str(row["loc"]), row.get("locality"), row["directory"])
        out = unit.to_row()
        out["version"] = max(1, int(row.get("version") or 1))  # kept in its own column
        return unit.loc_key, _plain(out)
    record = _ID_ROWS[table](int(row_id), row)
    return int(row_id), _plain(record.to_row())


@dataclass
class Source:
    """The TinyDB database as canonical rows per table, with its id counters."""

    path: Path
    tables: dict[str, dict[Any, dict[str, Any]]] = field(default_factory=dict)
    seq: dict[str, int] = field(default_factory=dict)


def read_source(path: Path) -> Source:
    """Read (never write) a TinyDB database: migrated in memory, every row checked."""
    from bot.store import AtomicJSONStorage, migrate

    if not path.is_file():
        raise MoveError(f"Không có tệp dữ liệu {path}.")
    storage = AtomicJSONStorage(path, create_dirs=False, lock=True)  # no bot may write now
    try:
        raw = {table: dict(rows) for table, rows in (storage.read() or {}).items()}
    finally:
        storage.close()
    data, _ = migrate(raw)
    for name in sorted(n for n in data if _SHARD_RE.fullmatch(n)):
        # TinyDB schema 3 spreads tasks over "tasks", "tasks.1", "tasks.2"... (4,096 ids each)
        data.setdefault("tasks", {})
        data["tasks"] = {**data["tasks"], **data.pop(name)}
    unknown = sorted(set(data) - _KNOWN_SOURCE)
    if unknown:
        raise MoveError("Tệp dữ liệu có bảng mà lệnh chuyển chưa biết: " + ", ".join(unknown)
                        + ". Không chuyển gì để không bỏ sót dữ liệu; hãy cập nhật bot.")
    source = Source(path)
    meta = (data.get("meta") or {}).get("1") or {}
    source.seq = {str(k): int(v) for k, v in (meta.get("seq") or {}).items()}
    for table in TABLES:
        rows: dict[Any, dict[str, Any]] = {}
        for row_id, row in (data.get(table) or {}).items():
            try:
                key, canonical = _canonical(table, row_id, row)
            except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
                raise MoveError(f"Tệp dữ liệu {path} có bản ghi hỏng (bảng {table}, mã "
                                f"{row_id}: {type(exc).__name__}). Không chuyển gì.") from None
            if key in rows:
                raise MoveError(f"Tệp dữ liệu {path} có hai bản ghi cùng khóa {key!r} trong "
                                f"bảng {table}. Không chuyển gì.")
            rows[key] = canonical
        source.tables[table] = rows
    return source


@dataclass
class Report:
    lines: list[str]
    status: str
    """"moved", "already" (target held the source already)."""

    def text(self) -> str:
        return "\n".join(self.lines)


def _target_rows(conn: Any, table: str) -> dict[Any, dict[str, Any]]:
    key = {"deliveries": "key", "units": "loc"}.get(table, "id")
    out: dict[Any, dict[str, Any]] = {}
    for k, row in conn.execute(f'SELECT "{key}", row FROM "{table}"'):
        out[k] = row
    return out


def _compare(source: Source, conn: Any) -> list[str]:
    """Differences between the source and the target, one line each ([] when equal)."""
    problems = []
    for table in TABLES:
        want = source.tables[table]
        if table == "units":
            want = {k: {n: v for n, v in row.items() if n != "version"}
                    for k, row in want.items()}
        have = _target_rows(conn, table)
        if len(want) != len(have):
            problems.append(f"{NAMES[table]}: nguồn {len(want)} dòng, đích {len(have)} dòng")
            continue
        bad = [k for k, row in want.items() if have.get(k) != row]
        if bad:
            problems.append(f"{NAMES[table]}: {len(bad)} dòng khác nội dung (ví dụ mã {bad[0]})")
    return problems


def _counts(conn: Any) -> dict[str, int]:
    return {t: int(conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]) for t in TABLES}


def move(source_path: Path, url: str, *, replace: bool = False,
         now: datetime | None = None) -> Report:
    """Copy the TinyDB database at ``source_path`` into the PostgreSQL database ``url``."""
    from bot.pgstore import PgRepository, mask_url

    source = read_source(source_path)
    shown = mask_url(url)
    total = sum(len(rows) for rows in source.tables.values())
    lines = [f"Nguồn: {source_path} ({total} bản ghi).", f"Đích: {shown}."]
    with PgRepository(url, max_size=1) as repo, repo.transaction():
        conn = repo._local.conn
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (pgschema.LOCK_KEY + 1,))
        counts = _counts(conn)
        if any(counts.values()):
            if not _compare(source, conn):
                lines.append("Đích đã có đúng dữ liệu của nguồn (đã kiểm tra từng dòng): "
                             "không thay đổi gì.")
                return Report(lines, "already")
            if not replace:
                held = ", ".join(f"{NAMES[t]} {n}" for t, n in counts.items() if n)
                raise MoveError(f"Cơ sở dữ liệu đích {shown} đã có dữ liệu khác ({held}). "
                                "Không ghi gì. Dùng --replace để xoá và thay bằng dữ liệu "
                                "nguồn.")
            conn.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in TABLES)
                         + ", task_units, unit_list, meta")
            lines.append("Đã xoá dữ liệu cũ ở đích (--replace).")
        for table in TABLES:
            items: Iterable[tuple[Any, dict[str, Any]]] = source.tables[table].items()
            repo.copy_rows(table, items)
        repo.set_sequences(source.seq)
        stamp = (now or datetime.now().astimezone()).isoformat()
        conn.execute("INSERT INTO meta (key, value) VALUES ('moved_from_tinydb', %s) "
                     "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                     (json.dumps({"source": str(source_path), "at": stamp, "rows": total}),))
        problems = _compare(source, conn)
        if problems:
            raise MoveError("Kiểm tra sau khi chép không khớp, đã huỷ toàn bộ (đích không "
                            "đổi):\n" + "\n".join("  " + p for p in problems))
        lines.append("Đã chuyển và kiểm tra từng dòng (số lượng và nội dung):")
        for table in TABLES:
            count = len(source.tables[table])
            lines.append(f"  {NAMES[table]}: {count} dòng — khớp")
    lines.append("Xong. Đặt DATABASE_URL để bot dùng PostgreSQL.")
    return Report(lines, "moved")


def check_target(url: str) -> None:
    """Fail with a Vietnamese message unless ``url`` names PostgreSQL."""
    from bot.pgstore import is_postgres_url

    if not is_postgres_url(url):
        raise ConfigError("Địa chỉ đích phải có dạng postgresql://người_dùng@máy:cổng/tên_csdl.")
