"""Importing an uploaded plan file: checks, parse, store, and the summary shown to the admin.

Split in two so that the bot can parse in a worker thread (a scanned PDF is recognised page by
page, a .doc goes through LibreOffice: seconds to minutes) while the store, which is
single-threaded by design, is only touched from the event loop: :func:`prepare_document`
touches no store (it may run OCR or LibreOffice, and reports progress through a plain
callback) and :func:`store_document` writes. :func:`import_document` chains both for callers
that do not care (tests, the console).
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath

from bot.dateinput import format_date, format_datetime
from bot.errors import EmptyPlan, FileTooLarge, UnsupportedFile
from bot.models import ParsedPlan
from bot.plans.convert import MSG_NO_LIBREOFFICE, find_soffice
from bot.plans.header import LABEL_KINDS
from bot.plans.parser import parse_lines
from bot.plans.readers import load_plan_bytes
from bot.plans.source import (
    MAX_FILE_BYTES,
    SUPPORTED_EXTENSIONS,
    ProgressCallback,
    no_progress,
)
from bot.records import ImportResult, StoredDocument
from bot.store import Store

__all__ = [
    "MAX_UNITS_SHOWN", "MAX_WARNINGS_SHOWN", "PreparedDocument", "check_upload",
    "document_title", "guess_filename", "import_document", "prepare_document",
    "store_document", "summarize_import",
]

logger = logging.getLogger(__name__)

MAX_UNITS_SHOWN = 30
"""Unit names listed in the summary; the rest are counted ("và 12 đơn vị khác")."""
MAX_WARNINGS_SHOWN = 10
MAX_WARNING_CHARS = 300

_MB = 1024 * 1024
_MIME_EXTENSIONS = {
    "text/plain": ".txt",
    "text/markdown": ".md",
    "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/msword": ".doc",
}
_STATUS_ICONS = {"new": "✅", "replaced": "🔄", "duplicate": "ℹ️"}


@dataclass(frozen=True, slots=True)
class PreparedDocument:
    """A parsed upload, ready for :func:`store_document`."""

    plan: ParsedPlan
    filename: str
    file_hash: str


def _display_name(filename: str) -> str:
    return PurePath(filename.replace("\\", "/")).name or filename


def guess_filename(file_name: str | None, mime_type: str | None) -> str:
    """The name to read a Telegram document by; a nameless upload is named from its MIME type
    (Telegram omits ``file_name`` for some clients), so the reader can pick its format."""
    if file_name and file_name.strip():
        return _display_name(file_name.strip())
    ext = _MIME_EXTENSIONS.get((mime_type or "").split(";")[0].strip().lower(), "")
    return f"tệp{ext}"


def check_upload(filename: str, size: int | None) -> str:
    """Refuse a file before downloading it; returns its lower-cased extension.

    ``size`` is what Telegram claims (``document.file_size``); None means unknown and is
    checked again on the bytes by :func:`prepare_document`.
    """
    name = _display_name(filename)
    ext = PurePath(name).suffix.lower()
    if ext == ".doc" and find_soffice() is None:
        raise UnsupportedFile(MSG_NO_LIBREOFFICE)  # say so before the download
    if ext not in SUPPORTED_EXTENSIONS:
        shown = f"“{ext}”" if ext else "không có đuôi"
        raise UnsupportedFile(
            f"Không nhập được tệp “{name}”: định dạng {shown} chưa được hỗ trợ. "
            f"Bot chỉ nhận các tệp {', '.join(SUPPORTED_EXTENSIONS)}."
        )
    if size is not None and size > MAX_FILE_BYTES:
        shown_size = f"{size / _MB:.1f}".replace(".", ",")
        raise FileTooLarge(
            f"Tệp “{name}” quá lớn ({shown_size} MB). Bot chỉ nhận tệp tối đa "
            f"{MAX_FILE_BYTES // _MB} MB; hãy tách tệp hoặc bỏ bớt ảnh."
        )
    if size == 0:
        raise EmptyPlan(f"Tệp “{name}” trống, không có nội dung.")
    return ext


def prepare_document(data: bytes, filename: str, *,
                     progress: ProgressCallback = no_progress) -> PreparedDocument:
    """Check and parse an upload; it touches no store, so it may run in a worker thread.

    ``progress`` is called from that thread while a scan is recognised or a .doc converted.
    What the reader noticed (OCR confidence, pages it could not read) joins the plan's
    warnings, so it reaches the import summary. Raises a :class:`bot.errors.PlanError`
    (Vietnamese message) for a wrong type, an oversized or empty file, a damaged
    .docx/.doc/.pdf, a scan without Tesseract, or a plan in which no task was found.
    """
    name = _display_name(filename)
    check_upload(name, len(data))
    text = load_plan_bytes(data, name, progress=progress)
    plan = parse_lines(list(text.lines), source=name)
    if text.notices:
        plan = dataclasses.replace(plan, warnings=(*text.notices, *plan.warnings))
    if not plan.tasks:
        scanned = (f" Tệp là bản scan đã được nhận dạng chữ (OCR) {len(text.ocr_pages)} trang; "
                   "nếu bản scan mờ hoặc nghiêng, hãy scan lại rõ hơn hoặc gửi bản .docx."
                   if text.ocr_pages else "")
        raise EmptyPlan(f"Không tìm thấy nhiệm vụ nào giao cho đơn vị trong tệp “{name}”, "
                        f"nên không có gì để theo dõi.{scanned}")
    return PreparedDocument(plan, name, hashlib.sha256(data).hexdigest())


def store_document(store: Store, prepared: PreparedDocument, *, actor: int | None,
                   now: datetime) -> ImportResult:
    """Record a prepared upload (new, replacing an earlier version, or a duplicate)."""
    result = store.import_plan(prepared.plan, filename=prepared.filename,
                               file_hash=prepared.file_hash, actor=actor, now=now)
    logger.info("import of %s by %s: %s (document %s, %d tasks)", prepared.filename, actor,
                result.status, result.document.id, result.task_count)
    return result


def import_document(store: Store, data: bytes, filename: str, *, actor: int | None,
                    now: datetime) -> ImportResult:
    """Size and type checks, parse, hash and store; nothing is stored when it raises."""
    return store_document(store, prepare_document(data, filename), actor=actor, now=now)


# ------------------------------------------------------------------------------------------
# Summary
# ------------------------------------------------------------------------------------------
def document_title(doc: StoredDocument, max_chars: int | None = None) -> str:
    """Plain-text name of a document for people: "Nghị quyết số 09-NQ/TU".

    Without a number the title names it; ``max_chars`` shortens a long title (lists).
    """
    kind = LABEL_KINDS.get(doc.kind, "Văn bản")
    if doc.number:
        return f"{kind} số {doc.number}"
    if doc.title:
        title = " ".join(doc.title.split())
        if max_chars is not None and len(title) > max_chars:
            title = title[:max_chars - 1].rstrip() + "…"
        return f"{kind} «{title}»"
    return f"{kind} (tệp {doc.filename})"


def _period_text(doc: StoredDocument) -> str | None:
    if doc.period is None:
        return None
    period = doc.period
    return f"{period.label} ({format_date(period.start)} – {format_date(period.end)})"


def _headline(result: ImportResult) -> str:
    doc = result.document
    title = f"<b>{html.escape(document_title(doc))}</b>"
    issuer = f" của {html.escape(doc.issuer)}" if doc.issuer else ""
    icon = _STATUS_ICONS.get(result.status, "")
    if result.status == "duplicate":
        return (f"{icon} {title}{issuer} đã nhập trước đây (lúc "
                f"{format_datetime(doc.imported_at)}), không có gì thay đổi.")
    if result.status == "replaced":
        kept = (f"; giữ nguyên trạng thái hoàn thành của {result.kept_done} nhiệm vụ"
                if result.kept_done else "; không có nhiệm vụ đã hoàn thành nào cần giữ lại")
        return f"{icon} Đã cập nhật {title}{issuer} (phiên bản {doc.version}){kept}."
    return f"{icon} Đã nhập {title}{issuer}."


def summarize_import(result: ImportResult) -> str:
    """HTML reply to an import: what was stored, for whom, and what the parser doubted.

    Every line keeps its tags balanced so the reply can be split between lines.
    """
    doc = result.document
    lines = [_headline(result), f"Tệp: {html.escape(doc.filename)} (mã văn bản {doc.id})"]
    period = _period_text(doc)
    if period:
        lines.append(f"Kỳ thực hiện: {html.escape(period)}")
    lines.append(f"Số nhiệm vụ: <b>{result.task_count}</b>, trong đó "
                 f"{result.explicit_deadlines} nhiệm vụ có hạn ghi rõ trong văn bản.")
    names = result.unit_names
    if names:
        shown = ", ".join(html.escape(n) for n in names[:MAX_UNITS_SHOWN])
        more = (f" và {len(names) - MAX_UNITS_SHOWN} đơn vị khác"
                if len(names) > MAX_UNITS_SHOWN else "")
        lines.append(f"Đơn vị được giao ({len(names)}): {shown}{more}.")
    else:
        lines.append("Chưa xác định được đơn vị nào được giao việc.")
    if result.warnings:
        lines.append(f"⚠️ Cần kiểm tra ({len(result.warnings)}):")
        for warning in result.warnings[:MAX_WARNINGS_SHOWN]:
            text = " ".join(warning.split())
            if len(text) > MAX_WARNING_CHARS:
                text = text[:MAX_WARNING_CHARS - 1] + "…"
            lines.append(f"• {html.escape(text)}")
        if len(result.warnings) > MAX_WARNINGS_SHOWN:
            lines.append(f"… và {len(result.warnings) - MAX_WARNINGS_SHOWN} cảnh báo khác.")
    return "\n".join(lines)
