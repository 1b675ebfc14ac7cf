"""From lines to blocks: paragraphs and list items, with their markers and source lines.

Plans arrive as typed text, markdown, or text extracted from PDFs and OCR, where lines are
hard-wrapped mid-sentence, some files put a blank line after every line, page numbers and
footnotes interrupt paragraphs, and words are split by a hyphen at a line end. This module
rebuilds the logical blocks:

- a line starting with a list marker (I., 1., 3.1., (1), a), -, +) starts a block;
- in normal text a blank line ends a block; in "double-spaced" text (a blank after nearly every
  line) blank lines mean nothing;
- a line after a sentence end (".", ":", "!") that starts with a capital starts a block;
- a block that stops mid-sentence continues on the next lowercase line, across a page break.

Every block keeps, for each of its characters, the input line it came from.
"""

from __future__ import annotations

import bisect
import re

from bot.plans.ocr import is_page_number
from bot.plans.source import SourceLine

ARTICLE_RE = re.compile(r"^(?P<m>Điều\s+\d{1,3})\s*[.:]\s*(?=\S)")
STAMP_RE = re.compile(
    r"^(?:[^\W\d_][\w ,]{0,30}?[, ]\s*)?\d{1,2}\s*[/.-]\s*\d{1,2}\s*[/.-]\s*\d{2,4}"
    r"(?:\s*[-,]?\s*\d{1,2}:\d{2}(?::\d{2})?)?(?:\s*\(GMT\s*[+-]\s*\d+\))?\s*$"
    r"|^\d{1,2}:\d{2}(?::\d{2})?[, ]+.{0,30}\d{1,2}\s*/\s*\d{1,2}\s*/\s*\d{2,4}.{0,12}$"
)
"""A date or time stamp alone on its line (web pages): "15/05/2021 06:01"."""
DATE_LABEL_RE = re.compile(r"\d{1,2}\s*[/.-]\s*\d{1,2}(?:\s*[/.-]\s*\d{2,4})?\s*:")
"""A timeline line opening with its date: "30/6/2025: Quốc hội thông qua …"."""
STAMP_PREFIX_RE = re.compile(r"\d{1,2}:\d{2}(?::\d{2})?,?\s+\d{1,2}/\d{1,2}/\d{4}\s+(?=[A-ZĐ])")
"""A news item's time stamp opening its first line: "10:51, 23/03/2021 UBND tỉnh …"."""
ROMAN_RE = re.compile(r"^(?P<m>(?:X{0,3})(?:IX|IV|V?I{1,3}|V|X))\s*[.\-–:)]\s*(?=\S)")
PART_RE = re.compile(r"^(?P<m>(?:PHẦN|Phần)\s+(?:THỨ\s+)?[\wÀ-ỹ]+)\s*[.:\-–]?\s*(?=\S)")
NUMBER_RE = re.compile(r"^(?P<m>\d{1,2}(?:\.\d{1,2}){0,3})(?:\.|\s*[\-–)])\s*(?=[^\d\s%/,.])")
NUMBER_DOT_RE = re.compile(r"^(?P<m>\d{1,2}(?:\.\d{1,2}){1,3})\s+(?=[^\d\s%/])")
PAREN_RE = re.compile(r"^\((?P<m>\d{1,2})\)\s*(?=\S)")
LETTER_RE = re.compile(r"^(?P<m>[a-zđ])\s*\)\s*(?=\S)")
BULLET_RE = re.compile(r"^(?P<m>[-–+•*])\s+(?=\S)")
FOOTNOTE_RE = re.compile(r"^\s*[¹²³⁴⁵⁶⁷⁸⁹⁰]+")
NOISE_TAIL_RE = re.compile(r"(?:\s*[•·]\s*(?:\w{1,2}\s*)?)+$")
END_RE = re.compile(r"^\s*(?:Nơi nhận|NƠI NHẬN|Nơi nhân)\s*:?", re.IGNORECASE)

LEVEL_ROMAN, LEVEL_PAREN, LEVEL_LETTER, LEVEL_BULLET, LEVEL_PARA = 1, 5, 6, 7, 9
TAIL = 80
"""Characters at the end of a block that decide how the next line joins it (every test on
the block so far is anchored at its end and shorter than this)."""


class Block:
    """A paragraph or list item of the plan.

    Its text is kept as the pieces appended to it and joined once, when first read: a
    paragraph of 50,000 hard-wrapped lines is built in linear time (it was rebuilt at every
    line). While blocks are being built only :meth:`tail` looks at the text.
    """

    __slots__ = ("_parts", "_size", "continued", "level", "lines", "marker", "starts")

    def __init__(self, marker: str, level: int, text: str = "", *,
                 continued: bool = False) -> None:
        self.marker = marker
        self.level = level
        self._parts: list[str] = [text] if text else []
        self._size = len(text)
        self.starts: list[int] = []
        """Offsets in ``text`` where each source line begins."""
        self.lines: list[int] = []
        """The source line numbers matching ``starts``."""
        self.continued = continued
        """Started by a sentence end inside running text (no blank line, no marker): it goes
        on with the item before it."""

    def __repr__(self) -> str:
        return (f"Block(marker={self.marker!r}, level={self.level}, text={self.text!r}, "
                f"lines={self.lines!r}, continued={self.continued})")

    @property
    def text(self) -> str:
        if len(self._parts) > 1:
            self._parts = ["".join(self._parts)]
        return self._parts[0] if self._parts else ""

    @text.setter
    def text(self, value: str) -> None:
        self._parts = [value] if value else []
        self._size = len(value)

    @property
    def line(self) -> int:
        return self.lines[0]

    @property
    def end_line(self) -> int:
        return self.lines[-1]

    def line_at(self, offset: int) -> int:
        """The source line of the character at ``offset``."""
        i = bisect.bisect_right(self.starts, offset) - 1
        return self.lines[max(0, i)]

    def tail(self, size: int) -> str:
        """The last ``size`` characters of ``text.rstrip()`` (all of it when shorter)."""
        pieces: list[str] = []
        need = size
        for part in reversed(self._parts):
            if not pieces:
                part = part.rstrip()
                if not part:
                    continue
            piece = part[-need:]
            pieces.append(piece)
            need -= len(piece)
            if need <= 0:
                break
        return "".join(reversed(pieces))

    def _rstrip(self) -> None:
        while self._parts:
            last = self._parts[-1]
            kept = last.rstrip()
            self._size -= len(last) - len(kept)
            if kept:
                self._parts[-1] = kept
                return
            self._parts.pop()

    def append(self, text: str, line: int) -> None:
        if not self._size:
            self.starts.append(0)
            self.lines.append(line)
            self.text = text
            return
        last = self._parts[-1]
        ends_with_space_dash = last.endswith(" -") or last == "-" and len(self._parts) > 1 \
            and self._parts[-2].endswith(" ")
        if last.endswith("-") and text[:1].isalnum() and not ends_with_space_dash:
            pass  # "16-\nNQ/TU": a word split at the line end.
        else:
            self._rstrip()
            self._parts.append(" ")
            self._size += 1
        self.starts.append(self._size)
        self.lines.append(line)
        if text:
            self._parts.append(text)
            self._size += len(text)


def parse_marker(text: str) -> tuple[str, int, str]:
    """Split a line into (marker, level, rest). Level 9 means no marker."""
    for rx, level in ((ROMAN_RE, LEVEL_ROMAN), (PART_RE, LEVEL_ROMAN)):
        m = rx.match(text)
        if m:
            return m["m"], level, text[m.end():]
    m = NUMBER_RE.match(text) or NUMBER_DOT_RE.match(text)
    if m:
        return m["m"], 2 + m["m"].count("."), text[m.end():]
    m = ARTICLE_RE.match(text)
    if m:
        return " ".join(m["m"].split()), 2, text[m.end():]
    for rx, level in ((PAREN_RE, LEVEL_PAREN), (LETTER_RE, LEVEL_LETTER),
                      (BULLET_RE, LEVEL_BULLET)):
        m = rx.match(text)
        if m:
            marker = f"({m['m']})" if level == LEVEL_PAREN else m["m"]
            if level == LEVEL_LETTER:
                marker += ")"
            if marker == "+":
                level = LEVEL_BULLET + 1  # "+" items nest under "-" items
            return marker, level, text[m.end():]
    return "", LEVEL_PARA, text


def _noise_tail_start(text: str) -> int | None:
    """Where :data:`NOISE_TAIL_RE` would match in ``text`` (None: nowhere), found from the end.

    The same answer as ``NOISE_TAIL_RE.search`` in one backward pass: the regex tries every
    position and scans to the end from each, which costs a 1 MB line of bullets hours.
    A noise tail is ``(\\s* [•·] \\s* (\\w{1,2} \\s*)?)+`` up to the end of the text.
    """
    start = None
    i = len(text)
    while True:
        j = i
        while j > 0 and text[j - 1].isspace():
            j -= 1
        k = j
        while k > 0 and j - k < 3 and (text[k - 1].isalnum() or text[k - 1] == "_"):
            k -= 1
        if j - k > 2:
            return start  # three word characters: not a stray letter after a bullet
        m = k
        if k < j:
            while m > 0 and text[m - 1].isspace():
                m -= 1
        if m == 0 or text[m - 1] not in "•·":
            return start
        i = m - 1
        start = i
        while start > 0 and text[start - 1].isspace():
            start -= 1


def clean_line(text: str) -> str:
    text = text.strip()
    if "•" in text or "·" in text:
        cut = _noise_tail_start(text)
        text = text if cut is None else text[:cut]
    if text[:1] in "“\"" and parse_marker(text[1:].lstrip())[1] != LEVEL_PARA:
        text = text[1:].lstrip()  # a quoted list item: "“- Giao Ủy ban nhân dân …"
    return text.strip()


def is_double_spaced(lines: list[SourceLine]) -> bool:
    """True when nearly every text line is followed by a blank line (blank lines carry no
    meaning then)."""
    text_lines = 0
    followed = 0
    for a, b in zip(lines, lines[1:], strict=False):
        if a.text.strip():
            text_lines += 1
            if not b.text.strip():
                followed += 1
    if text_lines < 10 or followed / text_lines <= 0.8:
        return False
    # One paragraph per line with blank lines between is ordinary text, not hard-wrapped.
    lengths = sorted(len(ln.text.strip()) for ln in lines if ln.text.strip())
    return lengths[len(lengths) // 2] < 140


def body_end(lines: list[SourceLine]) -> int:
    """Index of the first line after the body (the "Nơi nhận:" block), or len(lines)."""
    for i, ln in enumerate(lines):
        if END_RE.match(ln.text) and i > len(lines) // 3:
            return i
    return len(lines)


def build_blocks(lines: list[SourceLine]) -> list[Block]:
    """Rebuild paragraphs and list items from ``lines`` (the body of the plan)."""
    double = is_double_spaced(lines)
    blocks: list[Block] = []
    current: Block | None = None
    blank_run = 0
    last_line = ""
    for ln in lines:
        raw = ln.text
        if FOOTNOTE_RE.match(raw) or is_page_number(raw.strip()):
            continue  # footnotes and page numbers interrupt paragraphs; they are not content
        text = clean_line(raw)
        if not text:
            blank_run += 1
            continue
        marker, level, rest = parse_marker(text)
        if current is not None and marker in ("-", "–") and re.match(r"\d{4}\b", rest) and \
                re.search(r"\b(?:19|20)\d{2}$", current.tail(TAIL)):
            # "giai đoạn 2021\n- 2025": a range wrapped by a PDF, not a bullet
            marker, level, rest = "", LEVEL_PARA, text
        starts_new = current is None or level != LEVEL_PARA
        if current is not None and level == LEVEL_PARA:
            prev = current.tail(TAIL)  # the end of the block decides, not all of it
            ended = prev.endswith((".", ":", "!", "?", ";", "./.")) or prev.endswith(".”")
            if blank_run and not double:
                # A blank line ends a block, unless the block stopped mid-sentence and the
                # next line carries on in lower case (a page break in the middle).
                starts_new = ended or not (rest[:1].islower() or rest[:1].isdigit()) or \
                    STAMP_RE.match(rest) is not None
            elif ended and prev.endswith((".", "!", "?", ":", ".”")) and (
                    rest[:1].isupper() or DATE_LABEL_RE.match(rest)):
                starts_new = True  # a new sentence, or a timeline's "30/6/2025: …" line
            elif STAMP_RE.match(rest) or STAMP_PREFIX_RE.match(rest):
                starts_new = True  # a news item's date stamp starts its own block
            elif rest[:1].isupper() and (
                    (len(current.lines) == 1 and current.level <= 4 and len(prev) < 70
                     or not double and len(last_line) < 0.6 * len(text) and len(text) >= 80)
                    and not re.search(r"(?:[,;\-–]|\s(?:và|của|các|với|cho|về|trong|tại))$", prev)
                    or len(last_line) >= 150 or STAMP_RE.match(last_line)
                    or STAMP_RE.match(rest)):
                # A short heading line ("1. Chế độ báo cáo") with its body glued under it; a
                # short line ending a paragraph (or a title) above a full one; a paragraph
                # written on one long line; a date stamp ("15/05/2021 06:01").
                starts_new = True
        blank_before = blank_run > 0
        blank_run = 0
        last_line = text
        if starts_new:
            current = Block(marker=marker, level=level,
                            continued=level == LEVEL_PARA and (double or not blank_before))
            blocks.append(current)
            current.append(rest, ln.number)
        else:
            assert current is not None
            current.append(text, ln.number)
    return blocks
