"""Recognising scanned pages: Tesseract with its Vietnamese model, through pytesseract.

A page with no text layer is rendered by PDFium (:func:`render_page`) and read by Tesseract
(:func:`recognise`), which also says how sure it is of each word; the mean over a page's words
is the page's confidence, and a low one becomes a warning in the import summary. A page that
reads poorly is tried once more turned the way Tesseract's orientation detection says
(:func:`recognise_upright`): scans arrive sideways and upside down.

Tesseract is a program, not a library: :func:`find_tesseract` looks for it (and for its
Vietnamese model, package ``tesseract-ocr-vie`` on Debian) and :func:`require_tesseract`
turns its absence into a Vietnamese message instead of a crash.

Tesseract's OpenMP threads spin against each other on a small machine: limited to one thread
it read a page three times faster on 2 cores (0.9 s against 2.8 s at 300 dpi), so
``OMP_THREAD_LIMIT=1`` is set for it unless the operator set it. One file is recognised at a
time (:func:`ocr_slot`): a second upload waits instead of slowing both down.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bot.errors import FileTooLarge, PlanError, UnsupportedFile

logger = logging.getLogger(__name__)

__all__ = [
    "LOW_CONFIDENCE", "MSG_NO_TESSERACT", "OCR_DPI", "OCR_LANGUAGE", "PageOcr",
    "find_tesseract", "ocr_slot", "recognise", "recognise_upright", "render_page",
    "require_tesseract",
]

OCR_LANGUAGE = "vie"
OCR_DPI = 300
"""Tesseract reads best at about 300 dpi; the same page took 0.9 s at 300 and 0.7 s at 150."""
MAX_PIXELS = 25_000_000
"""A page is rendered at most this big (A4 at 300 dpi is 8.7 million pixels), so an absurd
page size cannot exhaust memory."""
LOW_CONFIDENCE = 70.0
"""Mean word confidence (0-100) under which a page is reported as poorly read; a clean page
scores about 95."""
SLOT_WAIT_SECONDS = 600.0
TESSERACT = "tesseract"

MSG_NO_TESSERACT = (
    "Tệp PDF này là bản scan (không có lớp chữ) nên cần nhận dạng chữ (OCR), nhưng máy chủ "
    "của bot chưa cài Tesseract với gói tiếng Việt (tesseract-ocr, tesseract-ocr-vie). Hãy báo "
    "người quản trị máy chủ cài đặt, hoặc gửi bản .docx/.txt hay tệp PDF đã được OCR."
)
MSG_OCR_TIMEOUT = (
    "Nhận dạng chữ tệp PDF này quá thời gian cho phép ({seconds} giây). Hãy tách riêng các "
    "trang có nhiệm vụ thành tệp nhỏ hơn rồi gửi lại."
)
MSG_OCR_FAILED = "Không nhận dạng được chữ trang {page} của tệp PDF (Tesseract báo lỗi)."
MSG_BUSY = "Bot đang nhận dạng chữ cho các tệp khác quá lâu. Hãy gửi lại tệp sau ít phút."

os.environ.setdefault("OMP_THREAD_LIMIT", "1")


@dataclass(frozen=True, slots=True)
class PageOcr:
    """What Tesseract read on one page."""

    page: int
    """1-based page of the PDF."""
    lines: tuple[str, ...]
    """Text lines in reading order, "" between paragraphs."""
    confidence: float | None
    """Mean confidence (0-100) of the words read, weighted by length; None when none was."""
    seconds: float
    """Rendering and recognition time."""

    @property
    def low(self) -> bool:
        return self.confidence is not None and self.confidence < LOW_CONFIDENCE


def find_tesseract() -> str | None:
    """The path of a Tesseract that has the Vietnamese model, or None."""
    path = shutil.which(TESSERACT)
    if path is None:
        return None
    return path if OCR_LANGUAGE in _languages(path) else None


@functools.lru_cache(maxsize=4)
def _languages(path: str) -> frozenset[str]:
    try:
        done = subprocess.run([path, "--list-langs"], capture_output=True, text=True,
                              timeout=30, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        logger.warning("cannot run %s --list-langs: %r", path, exc)
        return frozenset()
    # The first line is "List of available languages in ...:"
    return frozenset(line.strip() for line in done.stdout.splitlines()[1:] if line.strip())


def require_tesseract() -> str:
    """The Tesseract path; raises UnsupportedFile (Vietnamese message) when it is missing."""
    path = find_tesseract()
    if path is None:
        logger.warning("a scanned PDF arrived but tesseract with '%s' is not installed",
                       OCR_LANGUAGE)
        raise UnsupportedFile(MSG_NO_TESSERACT)
    return path


_SLOT = threading.BoundedSemaphore(1)


@contextmanager
def ocr_slot(on_wait: Any = None, timeout: float = SLOT_WAIT_SECONDS) -> Iterator[None]:
    """Hold the one OCR slot; ``on_wait()`` is called first when another file holds it."""
    if not _SLOT.acquire(blocking=False):
        if on_wait is not None:
            on_wait()
        if not _SLOT.acquire(timeout=timeout):
            raise PlanError(MSG_BUSY)
    try:
        yield
    finally:
        _SLOT.release()


def render_page(page: Any, dpi: int = OCR_DPI) -> Any:
    """A PDFium page as a grayscale PIL image at ``dpi`` (less for a huge page).

    The image is a copy: PDFium's bitmap is freed here, under the caller's PDFium lock."""
    width, height = page.get_size()  # points, 1/72 inch
    scale = dpi / 72
    area = max(width * height, 1.0)
    if area * scale * scale > MAX_PIXELS:
        scale = math.sqrt(MAX_PIXELS / area)
    bitmap = page.render(scale=scale, grayscale=True)
    try:
        return bitmap.to_pil().copy()
    finally:
        bitmap.close()


def recognise(image: Any, *, page: int, tesseract: str, timeout: float) -> PageOcr:
    """Read one page image with Tesseract; ``timeout`` seconds at most."""
    import pytesseract

    pytesseract.pytesseract.tesseract_cmd = tesseract
    start = time.perf_counter()
    try:
        data = pytesseract.image_to_data(
            image, lang=OCR_LANGUAGE, config="--psm 3",
            output_type=pytesseract.Output.DICT, timeout=max(1, math.ceil(timeout)))
    except RuntimeError as exc:  # pytesseract's way of saying the time ran out
        if "timeout" in str(exc).lower():
            raise FileTooLarge(MSG_OCR_TIMEOUT.format(seconds=round(timeout))) from exc
        raise PlanError(MSG_OCR_FAILED.format(page=page)) from exc
    except (pytesseract.TesseractError, OSError) as exc:
        logger.warning("tesseract failed on page %s: %r", page, exc)
        raise PlanError(MSG_OCR_FAILED.format(page=page)) from exc
    lines, confidence = _lines(data, image.width)
    return PageOcr(page, tuple(lines), confidence, time.perf_counter() - start)


def recognise_upright(image: Any, *, page: int, tesseract: str, timeout: float) -> PageOcr:
    """:func:`recognise`, and when the page reads poorly, once more turned the way Tesseract's
    orientation detection says (a page scanned sideways or upside down reads at about 40%
    confidence, turned at 95%); the better reading is kept."""
    import pytesseract

    first = recognise(image, page=page, tesseract=tesseract, timeout=timeout)
    left = timeout - first.seconds
    if (first.confidence is not None and first.confidence >= LOW_CONFIDENCE) or left < 5:
        return first
    start = time.perf_counter()
    try:
        osd = pytesseract.image_to_osd(image, config="--psm 0 -c min_characters_to_try=5",
                                       output_type=pytesseract.Output.DICT,
                                       timeout=max(1, math.ceil(left / 2)))
        angle = int(osd.get("rotate", 0)) % 360
    except (RuntimeError, pytesseract.TesseractError, OSError, ValueError) as exc:
        logger.info("no orientation found for page %s: %r", page, exc)
        angle = 0
    spent = time.perf_counter() - start
    if angle == 0:
        return PageOcr(page, first.lines, first.confidence, first.seconds + spent)
    turned = recognise(image.rotate(-angle, expand=True), page=page, tesseract=tesseract,
                       timeout=max(1.0, left - spent))
    total = first.seconds + spent + turned.seconds
    best = turned if (turned.confidence or 0) > (first.confidence or 0) else first
    logger.info("page %s turned %s degrees: confidence %s -> %s", page, angle,
                first.confidence, turned.confidence)
    return PageOcr(page, best.lines, best.confidence, total)


@dataclass(frozen=True, slots=True)
class _Word:
    text: str
    left: int
    right: int
    height: int


COLUMN_GAP = 1.5
"""A gap wider than this many word heights inside a line separates two columns."""
COLUMN_GAP_SHARE = 0.02
"""... and wider than this share of the page width (a loosely justified line is not split)."""


def _lines(data: dict[str, list[Any]], page_width: int) -> tuple[list[str], float | None]:
    """Lines of text in reading order and the length-weighted mean confidence of the words.

    Words are grouped into lines by Tesseract's (block, paragraph, line) numbers, with a blank
    line between paragraphs. Tesseract reads the two columns of a công văn's header ("ỦY BAN
    NHÂN DÂN ... CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM") and of its closing ("Nơi nhận: ... KT.
    CHỦ TỊCH") as single lines; a block where lines have such a wide gap is given column by
    column, as a text layer would give it.
    """
    blocks: dict[int, dict[tuple[int, int], list[_Word]]] = {}
    weight = total = 0.0
    for i, raw in enumerate(data["text"]):
        word = (raw or "").strip()
        if not word:
            continue
        block, paragraph, line = (int(data[k][i]) for k in ("block_num", "par_num", "line_num"))
        left = int(data["left"][i])
        blocks.setdefault(block, {}).setdefault((paragraph, line), []).append(
            _Word(word, left, left + int(data["width"][i]), int(data["height"][i])))
        confidence = float(data["conf"][i])
        if confidence >= 0:
            weight += len(word)
            total += confidence * len(word)
    out: list[str] = []
    for words_by_line in blocks.values():
        if out:
            out.append("")
        out += _block_lines(words_by_line, page_width)
    return out, (total / weight if weight else None)


def _split_at_gap(words: list[_Word], page_width: int) -> int | None:
    """Index of the first word after the widest column gap in a line, or None."""
    heights = sorted(w.height for w in words)
    height = heights[len(heights) // 2]
    best, at = 0, None
    for index in range(1, len(words)):
        gap = words[index].left - words[index - 1].right
        if gap > best:
            best, at = gap, index
    if at is not None and best > COLUMN_GAP * height and best > COLUMN_GAP_SHARE * page_width:
        return at
    return None


def _side(left: int, right: int, boundary: float) -> str:
    """"left" or "right" of the column boundary (a line may stick out a little), or "both"."""
    width = max(right - left, 1)
    if right - boundary <= 0.2 * width:
        return "left"
    if boundary - left <= 0.2 * width:
        return "right"
    return "both"


def _block_lines(block: dict[tuple[int, int], list[_Word]], page_width: int) -> list[str]:
    splits = {key: _split_at_gap(words, page_width) for key, words in block.items()}
    cuts = [(words[at - 1].right + words[at].left) / 2
            for key, words in block.items() if (at := splits[key]) is not None]
    if not cuts:
        out: list[str] = []
        previous = None
        for (paragraph, _), words in block.items():
            if previous is not None and paragraph != previous:
                out.append("")
            previous = paragraph
            out.append(" ".join(w.text for w in words))
        return out
    boundary = sorted(cuts)[len(cuts) // 2]
    out = []
    left: list[str] = []
    right: list[str] = []

    def flush() -> None:
        if left and right:
            out.extend([*left, "", *right])
        else:
            out.extend(left or right)
        left.clear()
        right.clear()

    for key, words in block.items():
        at = splits[key]
        if at is not None:
            left.append(" ".join(w.text for w in words[:at]))
            right.append(" ".join(w.text for w in words[at:]))
        elif (side := _side(words[0].left, words[-1].right, boundary)) == "left":
            left.append(" ".join(w.text for w in words))
        elif side == "right":
            right.append(" ".join(w.text for w in words))
        else:
            flush()
            out.append(" ".join(w.text for w in words))
    flush()
    return out
