"""The text of a plan as the parser sees it: lines that remember where they came from.

Also the limits every reader shares, with the Vietnamese messages that refuse a file over
them, and the progress a long read reports (OCR of a scan, a .doc conversion), so that
callers (the bot, the command line) can show it.

The limits bound the work one upload can cause, whatever the file holds: its size, the size
of a .docx once unzipped, the text it yields, the pages of a PDF, and the time to read it
(:data:`MAX_READ_SECONDS`) and to parse its text (:data:`MAX_PARSE_SECONDS`). Every stage is
linear in the text, so the text limit bounds time and memory; the time limits are the
backstop.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.errors import FileTooLarge

MAX_FILE_BYTES = 20 * 1024 * 1024
"""Largest plan file accepted (Telegram lets a bot download at most 20 MB)."""

SUPPORTED_EXTENSIONS = (".txt", ".md", ".docx", ".doc", ".pdf")

MAX_PDF_PAGES = 500
"""Pages a PDF may have at all; a plan is rarely over 100 pages, and counting stays cheap."""
MAX_OCR_PAGES = 50
"""Scanned pages (no text layer) recognised per file: about 1 s each on 2 cores."""
MAX_READ_SECONDS = 300.0
"""Time one file may take to read (tables, OCR), checked between pages."""
MAX_TEXT_CHARS = 1_000_000
"""Characters of text (line breaks included) one file may give: about 300 A4 pages, 15 times
the longest sample plan. Counted while the file is read, so a bigger one stops early."""
MAX_PARSE_SECONDS = 60.0
"""Time the parser may spend on one file's text, checked between blocks and sentences
(within the text limit the slowest shapes take a few seconds)."""
MAX_DOCX_PARTS = 1000
"""Files inside a .docx (a long plan with images has a few dozen)."""
MAX_DOCX_UNZIPPED_BYTES = 64 * 1024 * 1024
"""Size of all the files inside a .docx once unzipped, as its zip directory declares them;
each part is then inflated in small steps to prove its declared size before python-docx
reads it."""
MAX_DOCX_XML_BYTES = 16 * 1024 * 1024
"""Size of the XML parts inside a .docx, which python-docx parses into memory (about 25 bytes
of memory per byte of XML): a 300-page plan's document.xml is under 10 MB."""
MAX_TABLE_COLUMNS = 63
"""Columns of a Word table (Word's own maximum); wider spans and grids are cut to it."""
MAX_XML_DEPTH = 256
"""Nesting of XML elements libxml2 reads without ``huge_tree``, which python-docx leaves off."""

_MB = 1024 * 1024


def _thousands(number: int) -> str:
    return f"{number:,}".replace(",", ".")  # Vietnamese thousands separator


MSG_TEXT_TOO_LONG = (
    "Tệp “{name}” có hơn {limit} ký tự văn bản, quá giới hạn mà bot đọc cho một tệp (khoảng "
    "300 trang A4). Hãy tách riêng phần kế hoạch có nhiệm vụ (và phụ lục) thành tệp nhỏ hơn "
    "rồi gửi lại."
)
MSG_DOCX_TOO_BIG = (
    "Tệp “{name}” khi giải nén có {what}, quá giới hạn {limit} mà bot đọc cho một tệp .docx "
    "(tệp .docx là một tệp nén). Hãy mở bằng Word, xóa bớt ảnh hoặc tách văn bản, lưu lại "
    "rồi gửi lại."
)
MSG_DOCX_TOO_DEEP = (
    "Tệp “{name}” có bảng hoặc khung nội dung lồng nhau quá sâu (hơn {depth} tầng) nên không "
    "đọc được. Hãy mở bằng Word, bỏ bớt các bảng lồng trong bảng, lưu lại rồi gửi lại."
)
MSG_PARSE_TOO_SLOW = (
    "Phân tích tệp “{name}” quá thời gian cho phép ({seconds} giây) nên bot đã dừng. Hãy tách "
    "riêng phần kế hoạch có nhiệm vụ thành tệp nhỏ hơn rồi gửi lại."
)


def text_too_long(name: str) -> FileTooLarge:
    """The refusal of a file whose text is over :data:`MAX_TEXT_CHARS`."""
    return FileTooLarge(MSG_TEXT_TOO_LONG.format(name=name, limit=_thousands(MAX_TEXT_CHARS)))


def docx_too_big(name: str, *, parts: int = 0, size: int = 0, xml: int = 0) -> FileTooLarge:
    """The refusal of a .docx whose parts are too many or too big once unzipped."""
    if parts:
        what, limit = f"{_thousands(parts)} tệp con", f"{_thousands(MAX_DOCX_PARTS)} tệp con"
    elif xml:
        what = f"{xml / _MB:.0f} MB nội dung XML".replace(".", ",")
        limit = f"{MAX_DOCX_XML_BYTES // _MB} MB"
    else:
        what = f"{size / _MB:.0f} MB dữ liệu".replace(".", ",")
        limit = f"{MAX_DOCX_UNZIPPED_BYTES // _MB} MB"
    return FileTooLarge(MSG_DOCX_TOO_BIG.format(name=name, what=what, limit=limit))


@dataclass(slots=True)
class Budget:
    """Seconds a step may take, checked at safe points with :meth:`check`.

    The clock is injected (``time.monotonic`` by default) so tests can run out of time at once.
    """

    seconds: float
    message: str
    """Vietnamese refusal raised (as :class:`~bot.errors.FileTooLarge`) once time is up."""
    clock: Callable[[], float] = time.monotonic
    start: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        self.start = self.clock()

    def left(self) -> float:
        return self.seconds - (self.clock() - self.start)

    def check(self) -> None:
        if self.left() <= 0:
            raise FileTooLarge(self.message)


def parse_budget(name: str, clock: Callable[[], float] = time.monotonic) -> Budget:
    """The parser's time budget for the text of file ``name``."""
    return Budget(MAX_PARSE_SECONDS, MSG_PARSE_TOO_SLOW.format(
        name=name or "văn bản", seconds=round(MAX_PARSE_SECONDS)), clock)


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
