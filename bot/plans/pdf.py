"""Reading PDFs: the text layer page by page, ruled tables as rows, scanned pages through OCR.

Text comes from PDFium (pypdfium2): it is fast (about 10 ms a page where pypdf took 130 ms)
and it rebuilds Vietnamese letters that fonts draw as a base letter plus a mark, where pypdf
and pdfminer gave "Triề\\nu" and "U\\"Y" for "Triều" and "ỦY" in a LibreOffice export.

Each page is one of these kinds (blank pages aside):

- **text**: its text layer, line by line;
- **table**: a text page that draws lines; pdfplumber (its "lines" strategy) finds the ruled
  tables and their cells, and PDFium gives the text inside each cell and in the bands above,
  between and below the tables, so the page reads top to bottom as text lines and row lines
  (see :mod:`bot.plans.cells`). A cell covered by a merged cell above repeats its text, as in
  .docx; one covered from the left is empty;
- **scan**: no text layer but an image: rendered and recognised by Tesseract
  (:mod:`bot.plans.scan`), with progress reported;
- **stamp**: an image over most of the page and little text: a scan carrying a digital
  signature's stamp ("Người ký: … Thời gian ký: …"), recognised like a scan; without
  Tesseract its text layer is read instead.

Limits: :data:`~bot.plans.source.MAX_PDF_PAGES` pages in all,
:data:`~bot.plans.source.MAX_OCR_PAGES` scanned pages, and a time budget checked between pages
(:data:`~bot.plans.source.MAX_READ_SECONDS`), so a "PDF bomb" ends with a message, not a hang.
"""

from __future__ import annotations

import io
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bot.errors import BotError, BrokenFile, EmptyPlan, FileTooLarge
from bot.plans import scan, source
from bot.plans.cells import MIN_COLUMNS, format_row, join_cell_lines
from bot.plans.scan import PageOcr
from bot.plans.source import OCR, WAIT, Budget, Progress, ProgressCallback, no_progress

logger = logging.getLogger(__name__)

__all__ = ["PdfText", "read_pdf"]

MSG_PDF_BROKEN = "Tệp PDF bị hỏng hoặc không đọc được. Hãy xuất lại tệp PDF hoặc gửi bản .docx."
MSG_PDF_ENCRYPTED = (
    "Tệp PDF được khóa bằng mật khẩu nên không đọc được nội dung. "
    "Hãy gỡ mật khẩu hoặc gửi bản .docx/.txt."
)
MSG_PDF_NO_TEXT = (
    "Tệp PDF không có chữ nào đọc được (các trang trống hoặc chỉ có hình vẽ). "
    "Hãy gửi bản .docx/.txt của văn bản."
)
MSG_TOO_MANY_PAGES = (
    "Tệp PDF có {pages} trang, quá giới hạn {limit} trang mà bot đọc được. Hãy tách riêng "
    "phần kế hoạch có nhiệm vụ (và phụ lục) thành tệp nhỏ hơn rồi gửi lại."
)
MSG_TOO_MANY_SCANS = (
    "Tệp PDF có {pages} trang là bản scan (ảnh, không có lớp chữ), quá giới hạn {limit} trang "
    "mà bot nhận dạng chữ (OCR) cho một tệp. Hãy tách riêng các trang có nhiệm vụ (ví dụ các "
    "trang đầu và phụ lục) thành tệp nhỏ hơn, hoặc gửi bản .docx/.pdf có lớp chữ."
)
MSG_TOO_SLOW = (
    "Đọc tệp PDF này quá thời gian cho phép ({seconds} giây). Hãy tách tệp thành các phần nhỏ "
    "hơn hoặc gửi bản .docx."
)
MSG_SCANS_SKIPPED = (
    "Trang {pages} là ảnh scan nên chưa được đọc: máy chủ chưa cài Tesseract (gói "
    "tesseract-ocr-vie) để nhận dạng chữ. Nhiệm vụ trên các trang này chưa được nhập."
)
MSG_OCR_DONE = (
    "Đã nhận dạng chữ (OCR) {count} trang scan, độ tin cậy trung bình {confidence}%: hãy đối "
    "chiếu hạn và đơn vị với bản gốc."
)
MSG_OCR_LOW = (
    "Trang {page}: chữ nhận dạng kém (độ tin cậy {confidence}%), nội dung trang này có thể "
    "sai hoặc thiếu."
)

MSG_OCR_NOTHING = (
    "Đã nhận dạng chữ (OCR) các trang scan nhưng không đọc được chữ nào. Hãy kiểm tra bản scan "
    "(rõ nét, đúng chiều trang) rồi gửi lại."
)

MIN_TEXT_CHARS = 20
"""A page with fewer visible characters than this has no real text layer."""
STAMP_TEXT_CHARS = 600
"""A page whose image covers most of it and whose text layer is shorter than this is a scan
with a digital-signature stamp ("Người ký: … Thời gian ký: …") written over it."""
SCAN_COVERAGE = 0.6
MIN_SCAN_COVERAGE = 0.2
"""An image this large on a page without text makes it a scan (a small logo does not)."""
MIN_TABLE_PATHS = 4
"""Drawn path objects from which a page may hold a ruled table."""
_TABLE_SETTINGS = {"vertical_strategy": "lines", "horizontal_strategy": "lines"}
_LINE_BREAK_RE = re.compile(r"\r\n|\r|\n")

TEXT, TABLE, SCAN, STAMP, BLANK = "text", "table", "scan", "stamp", "blank"

PDFIUM = threading.RLock()
"""PDFium is not thread-safe, not even across documents: every call into it holds this lock
(two admins may upload at once; each import reads in its own worker thread)."""


@dataclass(frozen=True, slots=True)
class PdfText:
    """The lines of a PDF and what was noticed reading it."""

    lines: list[str]
    ocr: tuple[PageOcr, ...] = ()
    """One entry per recognised page."""
    notices: tuple[str, ...] = ()
    """Vietnamese warnings for the import summary (OCR done, low confidence, pages skipped)."""
    pages: int = 0


def read_pdf(data: bytes, *, progress: ProgressCallback = no_progress,
             clock: Callable[[], float] = time.monotonic) -> PdfText:
    """Read a PDF (see the module docstring). Raises a PlanError with a Vietnamese message."""
    import pypdfium2 as pdfium

    budget = Budget(source.MAX_READ_SECONDS,
                    MSG_TOO_SLOW.format(seconds=round(source.MAX_READ_SECONDS)), clock)
    with PDFIUM:
        try:
            document = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            logger.warning("cannot open PDF: %r", exc)
            if "password" in str(exc).lower():
                raise BrokenFile(MSG_PDF_ENCRYPTED) from exc
            raise BrokenFile(MSG_PDF_BROKEN) from exc
    try:
        return _read_document(document, data, progress, budget)
    except BotError:
        raise
    except Exception as exc:  # PDFium and pdfplumber raise many types on damaged files
        logger.warning("cannot read PDF: %r", exc)
        raise BrokenFile(MSG_PDF_BROKEN) from exc
    finally:
        with PDFIUM:
            document.close()


@contextmanager
def _page(document: Any, index: int) -> Iterator[Any]:
    """A page of ``document``, closed after use; the caller holds :data:`PDFIUM`."""
    page = document[index]
    try:
        yield page
    finally:
        page.close()


def _read_document(document: Any, data: bytes, progress: ProgressCallback,
                   budget: Budget) -> PdfText:
    with PDFIUM:
        count = len(document)
        if count > source.MAX_PDF_PAGES:
            raise FileTooLarge(MSG_TOO_MANY_PAGES.format(pages=count,
                                                         limit=source.MAX_PDF_PAGES))
        kinds = []
        for index in range(count):
            budget.check()
            with _page(document, index) as page:
                kinds.append(_page_kind(page))
    scans = [i for i, kind in enumerate(kinds) if kind in (SCAN, STAMP)]
    if len(scans) > source.MAX_OCR_PAGES:
        raise FileTooLarge(MSG_TOO_MANY_SCANS.format(pages=len(scans),
                                                     limit=source.MAX_OCR_PAGES))
    notices: list[str] = []
    if scans and scan.find_tesseract() is None:
        if all(kind in (SCAN, BLANK) for kind in kinds):
            scan.require_tesseract()  # raises UnsupportedFile with the Vietnamese message
        kinds = [TEXT if kind == STAMP else kind for kind in kinds]
        skipped = [str(i + 1) for i in scans if kinds[i] == SCAN]
        if skipped:
            notices.append(MSG_SCANS_SKIPPED.format(pages=", ".join(skipped)))
        scans = []
    recognised = _recognise(document, scans, progress, budget)
    lines: list[str] = []
    with _Tables(data) as tables:
        for index, kind in enumerate(kinds):
            budget.check()
            if index in recognised:
                lines += recognised[index].lines
            elif kind in (TABLE, TEXT):
                with PDFIUM, _page(document, index) as page:
                    rows = tables.page_lines(index, page) if kind == TABLE else None
                    lines += rows if rows is not None else _page_text(page)
    if not any(line.strip() for line in lines):
        if recognised:
            raise EmptyPlan(MSG_OCR_NOTHING)
        raise EmptyPlan(MSG_PDF_NO_TEXT)
    results = tuple(recognised[i] for i in sorted(recognised))
    notices += _ocr_notices(results)
    logger.info("PDF of %s pages: %s with tables, %s recognised in %.1f s", count,
                kinds.count(TABLE), len(results), sum(r.seconds for r in results))
    return PdfText(lines, results, tuple(notices), count)


def _recognise(document: Any, scans: list[int], progress: ProgressCallback,
               budget: Budget) -> dict[int, PageOcr]:
    """OCR of the scanned pages, in order, one file at a time. PDFium renders under its lock;
    Tesseract, a separate process, runs outside it."""
    if not scans:
        return {}
    tesseract = scan.require_tesseract()
    done: dict[int, PageOcr] = {}
    with scan.ocr_slot(lambda: progress(Progress(WAIT))):
        for number, index in enumerate(scans, start=1):
            budget.check()
            progress(Progress(OCR, number, len(scans)))
            with PDFIUM, _page(document, index) as page:
                image = scan.render_page(page)
            done[index] = scan.recognise_upright(image, page=index + 1, tesseract=tesseract,
                                                 timeout=budget.left())
    return done


def _ocr_notices(results: tuple[PageOcr, ...]) -> list[str]:
    read = [r for r in results if r.confidence is not None]
    if not read:
        return []
    mean = sum(r.confidence or 0.0 for r in read) / len(read)
    notices = [MSG_OCR_DONE.format(count=len(results), confidence=round(mean))]
    notices += [MSG_OCR_LOW.format(page=r.page, confidence=round(r.confidence or 0.0))
                for r in read if r.low]
    return notices


# --- page kinds ---------------------------------------------------------------------------


def _page_kind(page: Any) -> str:
    textpage = page.get_textpage()
    try:
        visible = len("".join(textpage.get_text_range().split()))
    finally:
        textpage.close()
    if visible < STAMP_TEXT_CHARS:
        coverage = _image_coverage(page)
        if visible < MIN_TEXT_CHARS and coverage >= MIN_SCAN_COVERAGE:
            return SCAN
        if coverage >= SCAN_COVERAGE:
            return STAMP
        if not visible:
            return BLANK
    if page.get_rotation() == 0 and _draws_lines(page):
        return TABLE
    return TEXT


def _image_coverage(page: Any) -> float:
    """The share of the page covered by its largest image (0 to 1)."""
    import pypdfium2.raw as pdfium_c

    left, bottom, right, top = page.get_mediabox()
    area = max((right - left) * (top - bottom), 1.0)
    best = 0.0
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=3):
        x0, y0, x1, y1 = obj.get_bounds()
        width = max(0.0, min(x1, right) - max(x0, left))
        height = max(0.0, min(y1, top) - max(y0, bottom))
        best = max(best, width * height / area)
        if best >= 1.0:
            break
    return best


def _draws_lines(page: Any) -> bool:
    import pypdfium2.raw as pdfium_c

    paths = page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_PATH], max_depth=3)
    return any(count >= MIN_TABLE_PATHS for count, _ in enumerate(paths, start=1))


def _split(text: str) -> list[str]:
    lines = _LINE_BREAK_RE.split(text)
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def _page_text(page: Any) -> list[str]:
    textpage = page.get_textpage()
    try:
        return _split(textpage.get_text_range())
    finally:
        textpage.close()


# --- ruled tables -------------------------------------------------------------------------


class _Tables:
    """pdfplumber over the same bytes, opened on the first page that draws lines."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pdf: Any = None
        self._broken = False

    def __enter__(self) -> _Tables:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pdf is not None:
            self._pdf.close()

    def page_lines(self, index: int, page: Any) -> list[str] | None:
        """The page as text and row lines, or None when it holds no task-like table."""
        if self._broken:
            return None
        try:
            if self._pdf is None:
                import pdfplumber

                self._pdf = pdfplumber.open(io.BytesIO(self._data))
            plumber_page = self._pdf.pages[index]
        except Exception as exc:  # pdfminer is stricter than PDFium on damaged files
            logger.warning("pdfplumber cannot open the PDF, tables read as text: %r", exc)
            self._broken = True
            return None
        try:
            tables = [t for t in plumber_page.find_tables(_TABLE_SETTINGS) if _is_grid(t)]
            return _page_with_tables(page, plumber_page, tables) if tables else None
        except Exception as exc:
            logger.warning("table extraction failed on page %s: %r", index + 1, exc)
            return None
        finally:
            plumber_page.close()


def _is_grid(table: Any) -> bool:
    rows = table.rows
    return len(rows) >= 2 and max(len(r.cells) for r in rows) >= MIN_COLUMNS


Box = tuple[float, float, float, float]
"""pdfplumber's (x0, top, x1, bottom), from the top left corner of the page."""


def _page_with_tables(page: Any, plumber_page: Any, tables: list[Any]) -> list[str]:
    """Text bands and table rows from top to bottom; text beside a table follows it.

    Each character of PDFium's text goes to the cell, or the band between tables, that holds
    its centre: a letter's box with its marks ("Ổ") may reach into the cell above, its centre
    does not. Within a region the characters keep PDFium's order and line breaks.
    """
    # pdfplumber keeps PDF x coordinates and measures "top" down from the media box's height,
    # whatever the box's origin (checked on a page whose media box starts at (-40, -30)).
    _, box_top, _, box_bottom = plumber_page.mediabox
    height = box_bottom - box_top
    tables = sorted(tables, key=lambda t: t.bbox[1])
    cells: list[list[Box]] = [[tuple(c) for c in table.cells] for table in tables]
    texts: dict[tuple[str, int, int], list[str]] = {}
    textpage = page.get_textpage()
    try:
        count = textpage.count_chars()
        chars = textpage.get_text_range(0, count)
        region: tuple[str, int, int] = ("band", 0, 0)
        for index, char in enumerate(chars[:count]):
            x0, y0, x1, y1 = textpage.get_charbox(index)
            if x1 > x0 or (y1 > y0 and not char.isspace()):
                region = _region((x0 + x1) / 2, height - (y0 + y1) / 2, tables, cells)
            texts.setdefault(region, []).append(char)
    finally:
        textpage.close()

    def lines_of(key: tuple[str, int, int]) -> list[str]:
        return _split("".join(texts.get(key, ())))

    lines: list[str] = []
    for number, table in enumerate(tables):
        positions: dict[Box, int] = {box: i for i, box in enumerate(cells[number])}

        def cell_lines(box: Box, number: int = number,
                       positions: dict[Box, int] = positions) -> list[str]:
            return lines_of(("cell", number, positions[box]))

        lines += lines_of(("band", number, 0))
        lines += _table_lines(table, cell_lines)
        lines += lines_of(("beside", number, 0))
    lines += lines_of(("band", len(tables), 0))
    return lines


def _region(x: float, y: float, tables: list[Any],
            cells: list[list[Box]]) -> tuple[str, int, int]:
    """Where a character centred at (x, y), in pdfplumber's coordinates, belongs."""
    band = 0
    for number, table in enumerate(tables):
        tx0, ttop, tx1, tbottom = table.bbox
        if y >= tbottom:
            band = number + 1
            continue
        if y >= ttop:
            if tx0 <= x <= tx1:
                for index, (cx0, ctop, cx1, cbottom) in enumerate(cells[number]):
                    if cx0 <= x <= cx1 and ctop <= y <= cbottom:
                        return ("cell", number, index)
            return ("beside", number, 0)
        break
    return ("band", band, 0)


def _table_lines(table: Any, lines_in: Callable[[Box], list[str]]) -> list[str]:
    columns = sorted({cell[0] for cell in table.cells})
    width = max(len(row.cells) for row in table.rows)
    seen: dict[Box, str] = {}
    out: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        for j, cell in enumerate(row.cells):
            if cell is not None:
                text = join_cell_lines(lines_in(cell), paragraphs=False)
                seen[tuple(cell)] = text
            else:
                text = _covered(table, row.bbox, columns[j] if j < len(columns) else None,
                                seen)
            cells.append(text)
        out.append(format_row(cells + [""] * (width - len(cells))))
    return out


def _covered(table: Any, row_box: Box, column_x: float | None, seen: dict[Box, str]) -> str:
    """The text for a grid position covered by a merged cell: the cell's text when it comes
    from the row above (a vertical merge, as .docx readers give it), else ""."""
    if column_x is None:
        return ""
    x, y = column_x + 1.0, row_box[1] + 1.0
    for cell in table.cells:
        cx0, ctop, cx1, cbottom = cell
        if cx0 <= x <= cx1 and ctop <= y <= cbottom:
            return seen.get(tuple(cell), "") if ctop < row_box[1] - 0.5 else ""
    return ""
