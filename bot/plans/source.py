"""The text of a plan as the parser sees it: lines that remember where they came from.

Also the limits every reader shares and the progress a long read reports (OCR of a scan, a
.doc conversion), so that callers (the bot, the command line) can show it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

MAX_FILE_BYTES = 20 * 1024 * 1024
"""Largest plan file accepted (Telegram lets a bot download at most 20 MB)."""

SUPPORTED_EXTENSIONS = (".txt", ".md", ".docx", ".doc", ".pdf")

MAX_PDF_PAGES = 500
"""Pages a PDF may have at all; a plan is rarely over 100 pages, and counting stays cheap."""
MAX_OCR_PAGES = 50
"""Scanned pages (no text layer) recognised per file: about 1 s each on 2 cores."""
MAX_READ_SECONDS = 300.0
"""Time one file may take to read (tables, OCR), checked between pages."""


@dataclass(frozen=True, slots=True)
class SourceLine:
    """One line of a plan, already decoded, NFC-normalised and stripped of markup."""

    number: int
    """1-based line of the input file (for .docx: the paragraph or table row; for .pdf: the
    line of the extracted text), the number reported back to users."""
    text: str


OCR, CONVERT, WAIT = "ocr", "convert", "wait"


@dataclass(frozen=True, slots=True)
class Progress:
    """How far a long read has come, reported through a plain callback (no Telegram here)."""

    stage: str
    """:data:`OCR` (recognising page ``done`` of ``total``), :data:`CONVERT` (a .doc through
    LibreOffice) or :data:`WAIT` (another file is being recognised first)."""
    done: int = 0
    total: int = 0

    @property
    def message(self) -> str:
        """The Vietnamese text shown to the person waiting."""
        if self.stage == OCR:
            return f"Đang nhận dạng trang {self.done}/{self.total}…"
        if self.stage == CONVERT:
            return "Đang chuyển tệp .doc sang .docx…"
        return "Đang chờ lượt: bot đang nhận dạng chữ cho một tệp khác…"


ProgressCallback = Callable[[Progress], None]
"""Called from the reading thread; it must be quick and must not raise."""


def no_progress(_: Progress) -> None:
    """The default callback: nobody is watching."""
