"""Read plan files (.txt, .md, .docx, .doc, .pdf) into numbered, NFC-normalised lines.

The parser reports deadlines back to people by line number, so every reader keeps
numbers stable: for .txt/.md the number is the line of the file (blank lines kept),
for .docx the paragraph or table row in document order, for .pdf the line of the
extracted text (a table row is one line, see :mod:`bot.plans.cells`). Every failure a
user can cause (empty, too large, binary, damaged, unknown encoding, a scan without
Tesseract, a .doc without LibreOffice) becomes a :class:`~bot.errors.PlanError` with a
Vietnamese message.

A .doc goes through LibreOffice (:mod:`bot.plans.convert`) and is then read as a .docx; a
PDF is read by :mod:`bot.plans.pdf` (text layer, ruled tables, OCR of scanned pages). Both
can take seconds: they report :class:`~bot.plans.source.Progress` through a callback.

Old Vietnamese documents still arrive in the 8-bit encodings TCVN3 (ABC, fonts
".VnTime") and VNI (fonts "VNI-Times"), or as Windows-1258. They are converted only
when the result reads as Vietnamese; anything else is refused rather than guessed.
"""

from __future__ import annotations

import bisect
import io
import logging
import os
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import (
    BotError,
    BrokenFile,
    EmptyPlan,
    EncodingUnknown,
    FileTooLarge,
    PlanError,
    UnsupportedFile,
)
from bot.plans import source
from bot.plans.cells import MIN_COLUMNS, format_row, join_cell_lines
from bot.plans.convert import doc_to_docx, input_filter
from bot.plans.ocr import fix_ocr, is_page_number, is_vietnamese_syllable, looks_ocr
from bot.plans.pdf import read_pdf
from bot.plans.scan import PageOcr
from bot.plans.source import (
    CONVERT,
    MAX_FILE_BYTES,
    SUPPORTED_EXTENSIONS,
    Progress,
    ProgressCallback,
    SourceLine,
    docx_too_big,
    no_progress,
    text_too_long,
)
from bot.text import nfc

logger = logging.getLogger(__name__)

__all__ = [
    "PlanText",
    "decode_tcvn3",
    "decode_text",
    "decode_vni",
    "encode_tcvn3",
    "encode_vni",
    "load_plan_bytes",
    "load_plan_file",
    "read_plan_bytes",
    "read_plan_file",
    "strip_markdown",
]


@dataclass(frozen=True, slots=True)
class PlanText:
    """The lines of one plan file and how they were obtained (for logs and user notices)."""

    lines: tuple[SourceLine, ...]
    encoding: str
    """"utf-8", "utf-8-sig", "utf-16", "utf-32", "tcvn3", "vni", "cp1258", "docx", "doc" (a
    .doc converted by LibreOffice) or "pdf"."""
    non_nfc_lines: int = 0
    """Lines that were not in NFC (decomposed accents) before normalisation."""
    ocr_fixed_lines: int = 0
    """Lines changed by :func:`bot.plans.ocr.fix_ocr` (0 unless the text looked like OCR)."""
    page_number_lines: int = 0
    """Lines holding only a page number, blanked (their number is kept)."""
    notices: tuple[str, ...] = ()
    """Vietnamese warnings for the import summary (OCR confidence, pages not read)."""
    ocr_pages: tuple[PageOcr, ...] = ()
    """Pages recognised by OCR (scanned PDFs), with their confidence and time."""


# --- messages ------------------------------------------------------------------------------

_SUPPORTED = ", ".join(SUPPORTED_EXTENSIONS)
_MB = 1024 * 1024
MSG_ENCODING = (
    "Tệp không phải UTF-8 và không nhận ra bảng mã (TCVN3/VNI). "
    "Hãy mở tệp, lưu lại dưới dạng UTF-8 (Unicode) hoặc .docx rồi gửi lại."
)
MSG_DOCX_BROKEN = (
    "Tệp .docx bị hỏng hoặc không phải định dạng Word (.docx). "
    "Hãy mở tệp bằng Word, lưu lại dưới dạng .docx rồi gửi lại."
)


def _display_name(filename: str) -> str:
    return Path(filename).name or filename


# --- size and extension ----------------------------------------------------------------------


def _extension(filename: str) -> str:
    """Return the lower-cased extension, refusing the ones no reader handles."""
    name = _display_name(filename)
    ext = Path(name).suffix.lower()
    if ext not in SUPPORTED_EXTENSIONS:
        shown = f"“{ext}”" if ext else "không có đuôi"
        raise UnsupportedFile(
            f"Không đọc được tệp “{name}”: định dạng {shown} chưa được hỗ trợ. "
            f"Bot chỉ nhận các tệp {_SUPPORTED}."
        )
    return ext


def _check_size(size: int, filename: str) -> None:
    name = _display_name(filename)
    if size > MAX_FILE_BYTES:
        shown = f"{size / _MB:.1f}".replace(".", ",")  # Vietnamese decimal comma
        raise FileTooLarge(
            f"Tệp “{name}” quá lớn ({shown} MB). Bot chỉ nhận tệp tối đa "
            f"{MAX_FILE_BYTES // _MB} MB; hãy tách tệp hoặc bỏ bớt ảnh."
        )
    if size == 0:
        raise EmptyPlan(f"Tệp “{name}” trống, không có nội dung.")


# --- legacy Vietnamese encodings -------------------------------------------------------------

# TCVN 5712:1993 (VN1) bytes 0xA1..0xFF; TCVN3/ABC (VN3) is the part of it that .VnTime fonts
# use (lower-case letters with tones, upper-case letters without). 0xB0-0xB4 are combining tones.
_TCVN3_HIGH = (
    "ĂÂÊÔƠƯĐăâêôơưđẰ\u0300\u0309\u0303\u0301\u0323àảã"
    "áạẲằẳẵắẴẮẦẨẪẤỀặầẩẫấậèỂẻẽéẹềểễếệìỉỄẾỒĩíịòỔỏõóọồổỗ"
    "ốộờởỡớợùỖủũúụừửữứựỳỷỹýỵỐ"
)
assert len(_TCVN3_HIGH) == 0xFF - 0xA1 + 1
_TCVN3_DECODE = {0xA1 + i: ch for i, ch in enumerate(_TCVN3_HIGH)}
_TCVN3_ENCODE = {ch: chr(code) for code, ch in _TCVN3_DECODE.items() if len(ch) == 1}

# VNI-Windows: a base letter followed by one byte carrying shape + tone ("aù" = "á").
_TONES = ("", "\u0301", "\u0300", "\u0309", "\u0303", "\u0323")  # none, sắc, huyền, hỏi, ngã, nặng
_VNI_TONE = {"\u0301": "ù", "\u0300": "ø", "\u0309": "û", "\u0303": "õ", "\u0323": "ï"}
_VNI_CIRCUMFLEX = dict(zip(_TONES, "âáàåãä", strict=True))
_VNI_BREVE = dict(zip(_TONES, "êéèúüë", strict=True))


def _vni_marks() -> dict[str, str]:
    """VNI mark byte (as a Latin-1 character) -> the combining marks it stands for."""
    marks = {char: tone for tone, char in _VNI_TONE.items()}
    marks.update({char: "\u0302" + tone for tone, char in _VNI_CIRCUMFLEX.items()})
    marks.update({char: "\u0306" + tone for tone, char in _VNI_BREVE.items()})
    marks.update({char.upper(): combining for char, combining in list(marks.items())})
    return marks


_VNI_MARKS = _vni_marks()
# Letters that are one byte in VNI: ơ ư đ and i/y with some tones.
_VNI_LETTERS = {"ô": "ơ", "ö": "ư", "ñ": "đ", "í": "í", "ì": "ì", "æ": "ỉ", "ó": "ĩ", "ò": "ị",
                "î": "ỵ"}
_VNI_LETTERS.update({k.upper(): v.upper() for k, v in list(_VNI_LETTERS.items())})
_VNI_I_ENCODE = {"\u0301": "í", "\u0300": "ì", "\u0309": "æ", "\u0303": "ó", "\u0323": "ò"}
_VNI_VOWEL_BASES = frozenset("aeiouyAEIOUYơưƠƯ")

# Bytes 0x80-0x9F as Windows-1252 shows them (undefined ones keep their Latin-1 code point).
_CP1252_HIGH = {
    b: bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in range(0x80, 0xA0)
}
_CP1252_REVERSE = {ch: b for b, ch in _CP1252_HIGH.items()}


def _legacy_chars(data: bytes) -> str:
    """Bytes as the characters a legacy-encoded file shows in a Western code page."""
    return "".join(_CP1252_HIGH.get(b, chr(b)) for b in data)


def _legacy_bytes(text: str) -> bytes | None:
    """Inverse of :func:`_legacy_chars`; None when ``text`` holds characters it cannot produce."""
    out = bytearray()
    for ch in text:
        code = ord(ch)
        if code < 0x80 or 0xA0 <= code <= 0xFF:
            out.append(code)
        elif ch in _CP1252_REVERSE:
            out.append(_CP1252_REVERSE[ch])
        else:
            return None
    return bytes(out)


_WORD_RE = re.compile(r"[^\W\d_]+")


def _restore_upper(text: str) -> str:
    """TCVN3 writes capitals with lower-case codes in a capital font: "HOạCH" -> "HOẠCH"."""

    def fix(match: re.Match[str]) -> str:
        word = match.group(0)
        ascii_letters = [c for c in word if c.isascii()]
        if len(ascii_letters) >= 2 and all(c.isupper() for c in ascii_letters):
            return word.upper()
        return word

    return _WORD_RE.sub(fix, text)


def decode_tcvn3(text: str) -> str:
    """Convert TCVN3 (ABC) text, read as Latin-1/Windows-1252 characters, to Unicode NFC."""
    converted = "".join(_TCVN3_DECODE.get(ord(ch), ch) for ch in text)
    return _restore_upper(unicodedata.normalize("NFC", converted))


def encode_tcvn3(text: str) -> bytes:
    """Encode Unicode text as TCVN3 bytes (capitals with tones fall back to lower case, as in
    the .VnTime fonts). Used to build test files and for round trips."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        if ch in _TCVN3_ENCODE:
            out.append(_TCVN3_ENCODE[ch])
        elif ch.lower() in _TCVN3_ENCODE:
            out.append(_TCVN3_ENCODE[ch.lower()])
        else:
            out.append(ch)
    return "".join(out).encode("cp1252", errors="replace")


def decode_vni(text: str) -> str:
    """Convert VNI-Windows text, read as Latin-1/Windows-1252 characters, to Unicode NFC."""
    out: list[str] = []
    previous_base = ""
    for ch in text:
        if ch in _VNI_MARKS and previous_base in _VNI_VOWEL_BASES:
            out.append(_VNI_MARKS[ch])
            previous_base = ""
        elif ch in _VNI_LETTERS:
            letter = _VNI_LETTERS[ch]
            out.append(letter)
            previous_base = letter
        else:
            out.append(ch)
            previous_base = ch
    return unicodedata.normalize("NFC", "".join(out))


def encode_vni(text: str) -> bytes:
    """Encode Unicode text as VNI-Windows bytes. Used to build test files and for round trips."""
    out: list[str] = []
    for ch in unicodedata.normalize("NFC", text):
        parts = unicodedata.normalize("NFD", ch)
        base, marks = parts[0], parts[1:]
        upper = base.isupper()
        tone = next((m for m in marks if m in _VNI_TONE), "")
        if ch in "đĐ":
            out.append("Ñ" if upper else "ñ")
            continue
        if not marks or base.lower() not in "aeiouy":
            out.append(ch)
            continue
        if "\u031b" in marks:  # horn: ơ ư are single bytes, the tone follows
            letter = {"o": "ô", "u": "ö"}[base.lower()]
            seq = letter + _VNI_TONE.get(tone, "")
        elif "\u0302" in marks:
            seq = base.lower() + _VNI_CIRCUMFLEX[tone]
        elif "\u0306" in marks:
            seq = base.lower() + _VNI_BREVE[tone]
        elif base.lower() == "i":
            seq = _VNI_I_ENCODE[tone]
        elif base.lower() == "y" and tone == "\u0323":
            seq = "î"
        else:
            seq = base.lower() + _VNI_TONE[tone]
        out.append(seq.upper() if upper else seq)
    return "".join(out).encode("cp1252", errors="replace")


_TOKEN_SPLIT_RE = re.compile(r"[\s!-@\[-`{-~\u2010-\u206f\ufffd]+")


_HAS_VOWEL_RE = re.compile(r"[aeiouyAEIOUY\u00c0-\u00c3\u00c8-\u00ca\u00cc\u00cd\u00d2-\u00d5"
                           r"\u00d9\u00da\u00dd\u00e0-\u00e3\u00e8-\u00ea\u00ec\u00ed\u00f2-\u00f5"
                           r"\u00f9\u00fa\u00fd\u0102\u0103\u0128\u0129\u0168\u0169\u01a0\u01a1"
                           r"\u01af\u01b0\u1ea0-\u1ef9]")


def _vietnamese_score(text: str) -> tuple[int, int]:
    """(tokens with non-ASCII characters, those of them shaped like Vietnamese syllables).

    Tokens without any vowel ("NĐ", "HĐND") are acronyms and say nothing either way.
    """
    total = valid = 0
    for token in _TOKEN_SPLIT_RE.split(text):
        if not token or token.isascii():
            continue
        if token.isalpha() and not _HAS_VOWEL_RE.search(token):
            continue
        total += 1
        valid += is_vietnamese_syllable(token)
    return total, valid


_MIN_TOKENS = 3
_MIN_RATIO = 0.85
_MIN_MARGIN = 0.10


_DECODERS = {
    "tcvn3": lambda data: decode_tcvn3(_legacy_chars(data)),
    "vni": lambda data: decode_vni(_legacy_chars(data)),
    "cp1258": lambda data: unicodedata.normalize("NFC", data.decode("cp1258", errors="replace")),
}
_SAMPLE_BYTES = 64 * 1024  # ~10,000 words judge an encoding; the whole file is converted once


def _detect_legacy(data: bytes) -> tuple[str, str] | None:
    """Return (text, encoding) when exactly one legacy encoding turns ``data`` into Vietnamese."""
    sample = data[:_SAMPLE_BYTES]
    scored = []
    for name, decode in _DECODERS.items():
        total, valid = _vietnamese_score(decode(sample))
        ratio = valid / total if total else 0.0
        scored.append((ratio, valid, total, name))
    scored.sort(reverse=True)
    best_ratio, _, best_total, best_name = scored[0]
    second_ratio = scored[1][0]
    logger.debug("legacy encoding scores: %s", scored)
    if (best_total >= _MIN_TOKENS and best_ratio >= _MIN_RATIO
            and best_ratio - second_ratio >= _MIN_MARGIN):
        return _DECODERS[best_name](data), best_name
    return None


# --- bytes to text ---------------------------------------------------------------------------

_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
_MAGIC = (
    (b"%PDF-", "PDF"),
    (b"PK\x03\x04", "tệp nén ZIP (có thể là .docx/.xlsx)"),
    (b"\xd0\xcf\x11\xe0", "Word/Excel cũ (.doc/.xls)"),
    (b"\x89PNG", "ảnh PNG"),
    (b"\xff\xd8\xff", "ảnh JPEG"),
    (b"GIF8", "ảnh GIF"),
    (b"Rar!", "tệp nén RAR"),
    (b"7z\xbc\xaf", "tệp nén 7z"),
    (b"{\\rtf", "RTF"),
)
_CONTROL_BYTES = frozenset(range(0x20)) - frozenset(b"\t\n\r\x0b\x0c\x1a")
_CONTROL_TABLE = bytes(sorted(_CONTROL_BYTES))  # deleted by bytes.translate to count them


def _refuse_binary(data: bytes, filename: str) -> None:
    name = _display_name(filename)
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            raise UnsupportedFile(
                f"Tệp “{name}” có đuôi văn bản nhưng nội dung là {kind}, "
                f"không phải văn bản thuần. Hãy gửi đúng tệp với đuôi phù hợp ({_SUPPORTED})."
            )
    sample = data[:65536]
    controls = len(sample) - len(sample.translate(None, _CONTROL_TABLE))
    if b"\x00" in data or controls > len(sample) // 100:
        raise UnsupportedFile(
            f"Tệp “{name}” không phải văn bản thuần (có dữ liệu nhị phân, "
            f"ví dụ ảnh hoặc tệp nén). Hãy gửi kế hoạch dưới dạng {_SUPPORTED}."
        )


def _check_text_size(chars: int, filename: str) -> None:
    if chars > source.MAX_TEXT_CHARS:
        raise text_too_long(_display_name(filename))


def decode_text(data: bytes, filename: str = "tệp.txt") -> tuple[str, str]:
    """Decode a text file: BOM, UTF-8, then a reliably detected legacy Vietnamese encoding.

    Returns (text, encoding name). Raises UnsupportedFile for binary data,
    EncodingUnknown when no encoding gives Vietnamese text and FileTooLarge for text over
    :data:`~bot.plans.source.MAX_TEXT_CHARS` characters (checked before any conversion).
    """
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError as exc:
                raise EncodingUnknown(MSG_ENCODING) from exc
            _check_text_size(len(text), filename)
            return text, codec
    _refuse_binary(data, filename)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        # Legacy encodings take at most two bytes a character (VNI "aù" is "á").
        _check_text_size(len(data) // 2, filename)
        detected = _detect_legacy(data)
        if detected is None:
            raise EncodingUnknown(MSG_ENCODING) from None
        _check_text_size(len(detected[0]), filename)
        logger.info("%s: converted from legacy encoding %s", filename, detected[1])
        return detected
    _check_text_size(len(text), filename)
    return _repair_mojibake(text, filename)


def _repair_mojibake(text: str, filename: str) -> tuple[str, str]:
    """A legacy document pasted into a UTF-8 file shows as "KÕ ho¹ch"; convert it back."""
    # A few thousand characters decide it; scoring every word of a long plan costs ~60 ms.
    total, valid = _vietnamese_score(text[:8000])
    if total < _MIN_TOKENS or valid / total >= 0.5:
        return text, "utf-8"
    raw = _legacy_bytes(text)
    detected = _detect_legacy(raw) if raw is not None else None
    if detected is None:
        return text, "utf-8"
    logger.info("%s: UTF-8 text held %s characters; converted", filename, detected[1])
    return detected


# --- markdown ----------------------------------------------------------------------------------

_HR_RE = re.compile(r"\s{0,3}(?:(?:-\s*){3,}|(?:\*\s*){3,}|(?:_\s*){3,}|(?:=\s*){3,})")
_HEADING_RE = re.compile(r"^\s{0,3}#{1,6}(?:\s+|$)")
_QUOTES_RE = re.compile(r"^(?:\s{0,3}>\s?)+")  # "> > quoted twice", all levels at once
_BULLET_RE = re.compile(r"^(\s*)[*+](?=\s+\S)")
_TABLE_SEP_RE = re.compile(r"\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*")
_EMPHASIS_RE = re.compile(r"(?<![\w*\\])(\*{1,3}|_{2,3})(?=[^\s*_])(.*?[^\s*_\\])\1(?![\w*])")
"""What :func:`_strip_emphasis` removes (kept as its specification: searched with ``re``, the
lazy ``.*?`` scans to the end of the line from every opening star, which is quadratic)."""
_DELIMITER_RUN_RE = re.compile(r"\*+|_+")
_LEADING_EMPHASIS_RE = re.compile(r"^(\s*(?:-\s+)?)(?:\*{1,3}|_{2,3})(?=[^\s*_])")
_TRAILING_EMPHASIS_RE = re.compile(  # an italic paragraph may close on a later line: "(...).*"
    r"(?<=[^\s*_\\])(?:\*{2,3}|_{2,3}|(?<=[.,;:!?)”\"’])\*)\s*$"  # noqa: RUF001
)
_ESCAPE_RE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>])")
_MARKUP_RE = re.compile(r"[*_#>|\\+]")  # a line without any of these has no markup to strip


def _close_heading(text: str) -> str:
    """Drop a heading's closing hashes ("## Title ##" -> "## Title"): ``\\s+#+\\s*$`` removed,
    without the regex's quadratic retries along a long run of spaces."""
    body = text.rstrip()
    before = body.rstrip("#")
    if before != body and before != before.rstrip():
        return before.rstrip()
    return text


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def _strip_emphasis(text: str) -> str:
    """``_EMPHASIS_RE.sub(r"\\2", text)`` in linear time.

    Openers and closers are whole runs of one delimiter ("*", "**", "***", "__", "___"): an
    opener follows no word character, star or backslash and comes before a character that is
    neither space, star nor underscore; a closer of the same run comes after such a character
    and before no word character or star. Each opener is paired with the first closer after
    it, as the lazy regex does, found by bisection in the closers of its run.
    """
    if "*" not in text and "__" not in text:
        return text
    if "\n" in text:  # "." stops at a line break; lines never hold one
        return _EMPHASIS_RE.sub(r"\2", text)
    n = len(text)
    openers: list[tuple[int, str]] = []
    closers: dict[str, list[int]] = {}
    for m in _DELIMITER_RUN_RE.finditer(text):
        start, end, run = m.start(), m.end(), m.group(0)
        if len(run) > 3 or run == "_":
            continue
        before = text[start - 1] if start else ""
        after = text[end] if end < n else ""
        if (not before or not (_is_word(before) or before in "*\\")) and after and \
                not after.isspace() and after not in "*_":
            openers.append((start, run))
        if before and not before.isspace() and before not in "*_\\" and \
                (not after or not (_is_word(after) or after == "*")):
            closers.setdefault(run, []).append(start)
    out: list[str] = []
    pos = 0
    for start, run in openers:
        if start < pos:
            continue
        inner = start + len(run)
        found = closers.get(run, [])
        i = bisect.bisect_left(found, inner + 1)
        if i == len(found):
            continue
        close = found[i]
        out += (text[pos:start], text[inner:close])
        pos = close + len(run)
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)


def strip_markdown(line: str) -> str:
    """Remove markdown markup from one line, keeping the words and list dashes.

    Emphasis (``**``, ``*``, ``***``, ``__``) goes when it wraps words; a star glued to a
    digit ("5*") stays. Headings lose their ``#``, rules (``-----``) become blank, ``*``/``+``
    bullets become "- ", table rows lose their outer pipes.
    """
    if _HR_RE.fullmatch(line):
        return ""
    if "|" in line and _TABLE_SEP_RE.fullmatch(line):
        return ""
    if not _MARKUP_RE.search(line):
        return line  # most lines of a plan: nothing to remove
    text = _QUOTES_RE.sub("", line, count=1)
    if _HEADING_RE.match(text):
        text = _close_heading(_HEADING_RE.sub("", text, count=1))
    text = _BULLET_RE.sub(r"\1-", text)
    stripped = text.strip()
    if len(stripped) > 1 and stripped.startswith("|") and stripped.endswith("|"):
        text = " | ".join(cell.strip() for cell in stripped[1:-1].split("|"))
    for _ in range(4):  # nested emphasis: ***a*** or **x *y* z**
        new = _strip_emphasis(text)
        if new == text:
            break
        text = new
    text = _LEADING_EMPHASIS_RE.sub(r"\1", text)
    text = _TRAILING_EMPHASIS_RE.sub("", text)
    return _ESCAPE_RE.sub(r"\1", text)


# --- .docx -------------------------------------------------------------------------------------

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _w_val(element: Any, tag: str) -> str | None:
    child = element.find(_W + tag) if element is not None else None
    return child.get(_W + "val") if child is not None else None


_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"


_TEXT_TAGS = (_W + "t", _W + "tab", _W + "br", _W + "cr", _W + "noBreakHyphen")


def _fallback_nodes(root: Any) -> set[Any]:
    """Text nodes under an mc:Fallback (the same text box again, for old readers), found in
    one pass: looking up every node's ancestors cost nodes × depth (256 levels allowed)."""
    hidden: set[Any] = set()
    covered: set[Any] = set()
    for fallback in root.iter(_MC_FALLBACK):
        if fallback in covered:
            continue  # inside an outer fallback, already counted
        covered.update(fallback.iter(_MC_FALLBACK))
        hidden.update(fallback.iter(*_TEXT_TAGS))
    return hidden


def _paragraph_text(p: Any, hidden: set[Any]) -> str:
    """Text of a w:p: runs, hyperlinks, fields and insertions; tabs and breaks become spaces.
    Nodes in ``hidden`` (see :func:`_fallback_nodes`) are left out."""
    parts: list[str] = []
    for node in p.iter(*_TEXT_TAGS):
        if hidden and node in hidden:
            continue  # the same text box again, for old readers
        tag = node.tag
        if tag == _W + "t":
            parts.append(node.text or "")
        elif tag == _W + "noBreakHyphen":
            parts.append("-")
        elif tag == _W + "tab" and node.getparent().tag == _W + "tabs":
            continue  # a tab stop definition, not a tab character
        else:
            parts.append(" ")
    return "".join(parts)


MAX_LIST_NUMBER = 32767
"""Largest list number Word shows; a list that starts or counts beyond it stays there (a
"start" of 99999999999999999999 in Roman numerals took 8.8 GB to write out)."""
MAX_LIST_LEVEL = 8
"""Word's list levels are 0-8."""
MAX_LEVEL_TEXT = 64
"""Characters of a level's label pattern ("%1.%2.", "Điều %1.") that are rendered."""
_ROMAN = ((900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"), (50, "l"), (40, "xl"),
          (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"))


def _clamp(number: int) -> int:
    return max(0, min(number, MAX_LIST_NUMBER))


def _roman(number: int) -> str:
    """Lower-case Roman numeral; thousands are repeated "m" as Word writes them (4000 ->
    "mmmm"). Work is bounded by the digits of the clamped number, not by its value."""
    thousands, number = divmod(_clamp(number), 1000)
    out = ["m" * thousands]
    for value, letters in _ROMAN:
        count, number = divmod(number, value)
        out.append(letters * count)
    return "".join(out)


def _letters(number: int) -> str:
    # Word repeats the letter: 27 -> "aa".
    number = max(1, _clamp(number))
    return chr(ord("a") + (number - 1) % 26) * ((number - 1) // 26 + 1)


def _format_number(number: int, fmt: str) -> str:
    if fmt == "lowerLetter":
        return _letters(number)
    if fmt == "upperLetter":
        return _letters(number).upper()
    if fmt == "lowerRoman":
        return _roman(number)
    if fmt == "upperRoman":
        return _roman(number).upper()
    if fmt == "decimalZero":
        return f"{_clamp(number):02d}"
    if fmt == "none":
        return ""
    return str(_clamp(number))


_INT_RE = re.compile(r"\s*[+-]?\d+\s*")


def _number(value: str | None, *, low: int = 0, high: int = MAX_LIST_NUMBER) -> int | None:
    """A numeric attribute of the numbering part, clamped to [low, high]; None when absent or
    not a number ("abc", "x"): a broken definition is ignored, never a reason to refuse."""
    if value is None or not _INT_RE.fullmatch(value):
        return None
    digits = value.strip().lstrip("+-").lstrip("0")
    if len(digits) > 9:  # int() of a thousand digits is slow, and the value is clamped anyway
        return low if value.strip().startswith("-") else high
    return max(low, min(int(value), high))


@dataclass(frozen=True, slots=True)
class _Level:
    start: int
    fmt: str
    text: str


class _Numbering:
    """Render Word's automatic list numbers ("1.", "a)", bullets) that python-docx does not.

    Damaged definitions (a level "abc", a start "x", a level 10^12) are left out: their
    paragraphs are read without a number. Numbers are clamped to :data:`MAX_LIST_NUMBER`.
    """

    def __init__(self, document: Any) -> None:
        self._levels: dict[str, dict[int, _Level]] = {}
        self._num_to_abstract: dict[str, str] = {}
        self._overrides: dict[str, dict[int, int]] = {}
        self._counters: dict[str, list[int | None]] = {}
        self._started: set[str] = set()
        self._style_num: dict[str, tuple[str | None, str | None, str | None]] = {}
        self._style_cache: dict[str, tuple[str | None, str | None]] = {}
        try:
            numbering = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            numbering = None
        if numbering is not None:
            self._load_numbering(numbering)
        for style in document.styles.element.findall(_W + "style"):
            ppr = style.find(_W + "pPr")
            num_pr = ppr.find(_W + "numPr") if ppr is not None else None
            self._style_num[style.get(_W + "styleId") or ""] = (
                _w_val(num_pr, "numId"), _w_val(num_pr, "ilvl"), _w_val(style, "basedOn"))

    def _load_numbering(self, numbering: Any) -> None:
        for abstract in numbering.findall(_W + "abstractNum"):
            levels: dict[int, _Level] = {}
            for lvl in abstract.findall(_W + "lvl"):
                ilvl = _number(lvl.get(_W + "ilvl", "0"), high=MAX_LIST_LEVEL + 1)
                if ilvl is None or ilvl > MAX_LIST_LEVEL:
                    continue
                start = _number(_w_val(lvl, "start"))
                levels[ilvl] = _Level(
                    start=1 if start is None else start,
                    fmt=_w_val(lvl, "numFmt") or "decimal",
                    text=(_w_val(lvl, "lvlText") or "")[:MAX_LEVEL_TEXT],
                )
            self._levels[abstract.get(_W + "abstractNumId") or ""] = levels
        for num in numbering.findall(_W + "num"):
            num_id = num.get(_W + "numId") or ""
            self._num_to_abstract[num_id] = _w_val(num, "abstractNumId") or ""
            overrides = {}
            for override in num.findall(_W + "lvlOverride"):
                level = _number(override.get(_W + "ilvl", "0"), high=MAX_LIST_LEVEL + 1)
                start = _number(_w_val(override, "startOverride"))
                if level is not None and level <= MAX_LIST_LEVEL and start is not None:
                    overrides[level] = start
            self._overrides[num_id] = overrides

    def _style_numbering(self, style_id: str) -> tuple[str | None, str | None]:
        """The numId and ilvl a paragraph style gives, from it or the styles it is based on.

        Resolved once per style (a chain of 100,000 "basedOn" styles is walked once, not at
        every paragraph); a cycle ends the chain where it closes.
        """
        path: list[str] = []
        seen: set[str] = set()
        current: str | None = style_id
        tail: tuple[str | None, str | None] = (None, None)
        while current and current not in seen:
            if current in self._style_cache:
                tail = self._style_cache[current]
                break
            seen.add(current)
            path.append(current)
            current = self._style_num.get(current, (None, None, None))[2]
        for name in reversed(path):
            s_num, s_lvl, _ = self._style_num.get(name, (None, None, None))
            tail = (s_num or tail[0], s_lvl or tail[1])
            self._style_cache[name] = tail
        return tail

    def _num_pr(self, p: Any) -> tuple[str | None, int | None]:
        ppr = p.find(_W + "pPr")
        num_pr = ppr.find(_W + "numPr") if ppr is not None else None
        num_id, ilvl = _w_val(num_pr, "numId"), _w_val(num_pr, "ilvl")
        style_id = _w_val(ppr, "pStyle")
        if style_id and (num_id is None or ilvl is None):
            s_num, s_lvl = self._style_numbering(style_id)
            num_id, ilvl = num_id or s_num, ilvl or s_lvl
        return num_id, _number(ilvl or "0", high=MAX_LIST_LEVEL + 1)

    def label(self, p: Any) -> str:
        """The label Word would show before paragraph ``p`` ("" when it is not numbered)."""
        num_id, ilvl = self._num_pr(p)
        if not num_id or num_id == "0" or ilvl is None or ilvl > MAX_LIST_LEVEL:
            return ""
        abstract_id = self._num_to_abstract.get(num_id)
        levels = self._levels.get(abstract_id or "")
        if not levels or ilvl not in levels:
            return "- "
        counters = self._counters.setdefault(abstract_id or "", [None] * 10)
        overrides = self._overrides.get(num_id, {})
        if num_id not in self._started:
            self._started.add(num_id)
            for index, start in overrides.items():
                if index < len(counters):
                    counters[index] = start - 1
        level = levels[ilvl]
        if level.fmt == "bullet":
            return "- "
        for upper in range(ilvl):
            if counters[upper] is None and upper in levels:
                counters[upper] = levels[upper].start
        current = counters[ilvl]
        counters[ilvl] = level.start if current is None else _clamp(current + 1)
        for deeper in range(ilvl + 1, len(counters)):
            counters[deeper] = None

        def render(match: re.Match[str]) -> str:
            index = int(match.group(1)) - 1
            value = counters[index] if 0 <= index < len(counters) else None
            fmt = levels[index].fmt if index in levels else "decimal"
            return _format_number(value or 1, fmt)

        text = re.sub(r"%(\d)", render, level.text).strip()
        return f"{text} " if text else ""


def _docx_blocks(parent: Any) -> Iterator[Any]:
    """w:p and w:tbl children in document order, looking inside content controls (w:sdt)."""
    for child in parent.iterchildren():
        if child.tag in (_W + "p", _W + "tbl"):
            yield child
        elif child.tag == _W + "sdt":
            content = child.find(_W + "sdtContent")
            if content is not None:
                yield from _docx_blocks(content)


def _children(parent: Any, tag: str) -> Iterator[Any]:
    """Children with ``tag``, looking inside content controls (w:sdt) as Word does."""
    for child in parent.iterchildren():
        if child.tag == tag:
            yield child
        elif child.tag == _W + "sdt":
            content = child.find(_W + "sdtContent")
            if content is not None:
                yield from _children(content, tag)


def _cell_paragraphs(tc: Any, hidden: set[Any]) -> list[str]:
    """The paragraphs of a cell, those of nested tables included (they flatten into it)."""
    return [_paragraph_text(p, hidden) for p in tc.iter(_W + "p")]


def _v_merge(tc: Any) -> str | None:
    """"restart", "continue" (a cell covered by the one above) or None."""
    tc_pr = tc.find(_W + "tcPr")
    merge = tc_pr.find(_W + "vMerge") if tc_pr is not None else None
    if merge is None:
        return None
    return merge.get(_W + "val") or "continue"


def _int_val(parent: Any, tag: str, default: int) -> int:
    """A table attribute (gridSpan, gridBefore, gridAfter), at most a table's width."""
    value = _number(_w_val(parent, tag), high=source.MAX_TABLE_COLUMNS)
    return default if value is None else value


class _TextCount:
    """Characters read from a file so far; refuses it once past :data:`MAX_TEXT_CHARS`, so a
    bomb stops while it is being read, not after."""

    __slots__ = ("name", "total")

    def __init__(self, name: str) -> None:
        self.name = name
        self.total = 0

    def add(self, size: int) -> None:
        self.total += size
        if self.total > source.MAX_TEXT_CHARS:
            raise text_too_long(self.name)


def _table_rows(tbl: Any, count: _TextCount, hidden: set[Any]) -> Iterator[str]:
    """One line per row (see :mod:`bot.plans.cells`).

    Every grid column gives a cell: a cell spanning columns (w:gridSpan) is followed by empty
    cells, a cell continuing a vertical merge (w:vMerge) repeats the text of the cell above
    it, as Word shows it, and skipped grid columns (w:gridBefore/w:gridAfter) are empty.
    Tables narrower than three columns are layout (a công văn's header, the signature block):
    their filled cells are joined as text, paragraphs by spaces. Spans and the width are cut
    at :data:`MAX_TABLE_COLUMNS`; every cell is counted in ``count`` before it is joined (a
    merged cell repeated down 100,000 rows is text the file never wrote).
    """
    grid = tbl.find(_W + "tblGrid")
    columns = len(grid.findall(_W + "gridCol")) if grid is not None else 0
    rows: list[list[list[str]]] = []
    above: dict[int, list[str]] = {}  # grid column -> paragraphs of the cell started there
    sizes: dict[int, int] = {}  # grid column -> characters of that cell
    for tr in _children(tbl, _W + "tr"):
        tr_pr = tr.find(_W + "trPr")
        cells: list[list[str]] = [[] for _ in range(_int_val(tr_pr, "gridBefore", 0))]
        for tc in _children(tr, _W + "tc"):
            tc_pr = tc.find(_W + "tcPr")
            span = max(1, _int_val(tc_pr, "gridSpan", 1))
            column = len(cells)
            if _v_merge(tc) == "continue":
                paragraphs, size = above.get(column, []), sizes.get(column, 0)
            elif _w_val(tc_pr, "hMerge") == "continue":
                paragraphs, size = [], 0  # Word 2003's horizontal merge: the first cell has it
            else:
                paragraphs = _cell_paragraphs(tc, hidden)
                size = sum(len(text) + 1 for text in paragraphs)
            count.add(size + 3 * span)  # " | " between cells
            above[column], sizes[column] = paragraphs, size
            cells += [paragraphs] + [[] for _ in range(span - 1)]
        cells += [[] for _ in range(_int_val(tr_pr, "gridAfter", 0))]
        count.add(3 * len(cells))
        rows.append(cells)
    columns = min(max([columns, *(len(r) for r in rows)]), source.MAX_TABLE_COLUMNS)
    for cells in rows:
        if columns < MIN_COLUMNS:
            joined = (" ".join(paragraphs).strip() for paragraphs in cells)
            yield " | ".join(t for t in joined if t)
        else:
            texts = [join_cell_lines(paragraphs, paragraphs=True) for paragraphs in cells]
            yield format_row(texts + [""] * (columns - len(texts)))


_EOCD = b"PK\x05\x06"
"""A zip's end-of-central-directory record: its last 22 bytes, before a comment of up to 64 KB."""


def _zip_entry_count(data: bytes) -> int | None:
    """Entries a zip declares at its end (None: not found, or a zip64 count), read without
    building a ZipInfo per entry."""
    at = data.rfind(_EOCD, max(0, len(data) - 22 - 65535))
    if at < 0 or at + 22 > len(data):
        return None
    count = int.from_bytes(data[at + 10:at + 12], "little")
    return None if count == 0xFFFF else count


_INFLATE_CHUNK = 1 << 20
_XML_START = b" \t\r\n\x00\xef\xbb\xbf\xfe\xff"  # whitespace, BOMs, UTF-16/32 zero bytes


def _inflate_checked(data: bytes, info: zipfile.ZipInfo) -> bytes:
    """Inflate one part in bounded steps and check it is what the zip directory declares: its
    size exactly (a deflate stream may go on past the declared size, and zipfile's ``read()``
    inflates all of it before cutting it: 1 GB for a part declared as 2 KB), and its CRC.
    Returns the first bytes, to tell XML from images. Raises zipfile.BadZipFile."""
    start = info.header_offset
    if data[start:start + 4] != b"PK\x03\x04" or info.flag_bits & 0x1:
        raise zipfile.BadZipFile(f"{info.filename}: no local header, or encrypted")
    name_length = int.from_bytes(data[start + 26:start + 28], "little")
    extra_length = int.from_bytes(data[start + 28:start + 30], "little")
    begin = start + 30 + name_length + extra_length
    raw = memoryview(data)[begin:begin + info.compress_size]
    if len(raw) != info.compress_size:
        raise zipfile.BadZipFile(f"{info.filename}: truncated")
    if info.compress_type == zipfile.ZIP_STORED:
        size, crc, head = len(raw), zlib.crc32(raw), bytes(raw[:64])
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        size = crc = 0
        head = b""
        for offset in range(0, len(raw), _INFLATE_CHUNK):
            pending: bytes | memoryview = raw[offset:offset + _INFLATE_CHUNK]
            while pending:
                out = inflater.decompress(pending, _INFLATE_CHUNK)
                size += len(out)
                if size > info.file_size:
                    raise zipfile.BadZipFile(f"{info.filename}: larger than declared")
                crc = zlib.crc32(out, crc)
                head = head or out[:64]
                pending = inflater.unconsumed_tail
            if inflater.eof:
                break
        if not inflater.eof:
            raise zipfile.BadZipFile(f"{info.filename}: deflate stream cut short")
    else:  # Word writes stored or deflated parts only
        raise zipfile.BadZipFile(f"{info.filename}: compression {info.compress_type}")
    if size != info.file_size or crc != info.CRC:
        raise zipfile.BadZipFile(f"{info.filename}: size or CRC differs from the directory")
    return head


def _check_docx_package(data: bytes, name: str) -> None:
    """Refuse a zip bomb before python-docx reads it: too many parts, too much data or XML once
    unzipped. The declared sizes are checked first, then every part is inflated in bounded
    steps to prove them (about 0.3 s for the 64 MB allowed): python-docx then reads no part
    beyond its declared size. XML is told by the name or the first bytes, since the content
    type, not the name, decides what python-docx parses (an "image.png" can be the document).
    """
    count = _zip_entry_count(data)
    if count is not None and count > source.MAX_DOCX_PARTS:
        raise docx_too_big(name, parts=count)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
    if len(infos) > source.MAX_DOCX_PARTS:
        raise docx_too_big(name, parts=len(infos))
    total = sum(info.file_size for info in infos)
    if total > source.MAX_DOCX_UNZIPPED_BYTES:
        raise docx_too_big(name, size=total)
    xml = 0
    for info in infos:
        head = _inflate_checked(data, info)
        if info.filename.lower().endswith((".xml", ".rels")) or \
                head.lstrip(_XML_START).startswith(b"<"):
            xml += info.file_size
    if xml > source.MAX_DOCX_XML_BYTES:
        raise docx_too_big(name, xml=xml)


def _read_docx(data: bytes, filename: str = "tệp.docx") -> list[str]:
    """Paragraphs (with their list numbers) and table rows of a .docx, in document order.

    The package is checked first (:func:`_check_docx_package`). python-docx parses the XML
    parts itself, with ``resolve_entities=False``: no entity is expanded (billion laughs) or
    fetched (XXE), no DTD is loaded, nothing is read from the network, and libxml2 keeps its
    default limits (no ``huge_tree``; recent versions refuse entity amplification outright):
    nesting deeper than :data:`~bot.plans.source.MAX_XML_DEPTH` gets its own message. The
    text read is counted as it grows (:data:`~bot.plans.source.MAX_TEXT_CHARS`).
    """
    import docx  # python-docx; imported here so text-only use does not pay for lxml

    name = _display_name(filename)
    try:
        _check_docx_package(data, name)
        document = docx.Document(io.BytesIO(data))
        numbering = _Numbering(document)
        count = _TextCount(name)
        hidden = _fallback_nodes(document.element)
        texts: list[str] = []
        for block in _docx_blocks(document.element.body):
            if block.tag == _W + "p":
                text = _paragraph_text(block, hidden)
                label = numbering.label(block)  # an empty item still counts
                if text.strip():
                    text = label + text
                count.add(len(text) + 1)
                texts.append(text)
            else:
                texts.extend(_table_rows(block, count, hidden))
    except BotError:
        raise
    except Exception as exc:  # python-docx/lxml/zipfile raise many types on damaged packages
        logger.warning("cannot read .docx: %r", exc)
        if "Excessive depth" in str(exc):  # lxml.etree.XMLSyntaxError past MAX_XML_DEPTH
            raise FileTooLarge(source.MSG_DOCX_TOO_DEEP.format(
                name=name, depth=source.MAX_XML_DEPTH)) from exc
        raise BrokenFile(MSG_DOCX_BROKEN) from exc
    return texts


# --- common ------------------------------------------------------------------------------------

_LINE_BREAK_RE = re.compile(r"\r\n|\r|\n")
# PDFium marks a hyphen it removed at a line end with U+FFFE.
_INVISIBLE: dict[int, str | None] = {0xFEFF: None, 0x00AD: None, 0x200C: None, 0x200D: None,
                                     0x2060: None, 0xFFFE: None}
_INVISIBLE.update({c: " " for c in range(0x20) if c not in (0x0A, 0x0D)})
_INVISIBLE.update({c: " " for c in (0x7F, 0x85, 0x2028, 0x2029)})
_INVISIBLE_RE = re.compile("[" + "".join(re.escape(chr(c)) for c in _INVISIBLE) + "]")


def _split_lines(text: str) -> list[str]:
    """Split on \\n, \\r\\n or \\r only, as editors count lines; no phantom last line."""
    lines = _LINE_BREAK_RE.split(text)
    if len(lines) > 1 and lines[-1] == "":
        lines.pop()
    return lines


def _finish(raw: Iterable[str], encoding: str, *, markdown: bool, ocr: bool,
            drop_page_numbers: bool, filename: str, notices: tuple[str, ...] = (),
            ocr_pages: tuple[PageOcr, ...] = ()) -> PlanText:
    texts: list[str] = []
    non_nfc = 0
    count = _TextCount(_display_name(filename))
    for line in raw:
        count.add(len(line) + 1)
        if not unicodedata.is_normalized("NFC", line):
            non_nfc += 1
        text = nfc(line.translate(_INVISIBLE) if _INVISIBLE_RE.search(line) else line)
        if markdown:
            text = strip_markdown(text)
        texts.append(text.rstrip())
    if not any(texts):
        raise EmptyPlan(f"Tệp “{_display_name(filename)}” không có nội dung văn bản "
                        "(chỉ có khoảng trắng).")
    fixed = pages = 0
    if ocr and looks_ocr(texts):
        repaired = [fix_ocr(t) for t in texts]
        fixed = sum(a != b for a, b in zip(texts, repaired, strict=True))
        texts = repaired
    if drop_page_numbers:
        for i, text in enumerate(texts):
            if text and is_page_number(text):
                texts[i] = ""
                pages += 1
    lines = tuple(SourceLine(number=i, text=t) for i, t in enumerate(texts, start=1))
    logger.info("read %s: %s lines (%s), %s not NFC, %s OCR-fixed, %s page numbers",
                _display_name(filename), len(lines), encoding, non_nfc, fixed, pages)
    return PlanText(lines=lines, encoding=encoding, non_nfc_lines=non_nfc,
                    ocr_fixed_lines=fixed, page_number_lines=pages, notices=notices,
                    ocr_pages=ocr_pages)


def load_plan_bytes(data: bytes, filename: str, *, drop_page_numbers: bool = True,
                    progress: ProgressCallback = no_progress) -> PlanText:
    """Read an uploaded plan (bytes plus its file name, which decides the format).

    ``progress`` hears about slow steps (OCR page by page, a .doc conversion); it is called
    from this thread.
    """
    ext = _extension(filename)
    _check_size(len(data), filename)
    if ext in (".docx", ".doc"):
        encoding = "docx"
        # A .doc saved as .docx by Word is a zip; a .docx renamed .doc is one too. A Word
        # 97-2003 (or RTF, HTML) file is converted, also when it was renamed .docx.
        if not data.startswith(b"PK") and (ext == ".doc" or input_filter(data)):
            progress(Progress(CONVERT))
            data, encoding = doc_to_docx(data), "doc"
        return _finish(_read_docx(data, filename), encoding, markdown=False, ocr=False,
                       drop_page_numbers=False, filename=filename)
    if ext == ".pdf":
        pdf = read_pdf(data, progress=progress)
        return _finish(pdf.lines, "pdf", markdown=False, ocr=True,
                       drop_page_numbers=drop_page_numbers, filename=filename,
                       notices=pdf.notices, ocr_pages=pdf.ocr)
    text, encoding = decode_text(data, filename)
    return _finish(_split_lines(text), encoding, markdown=True, ocr=True,
                   drop_page_numbers=drop_page_numbers, filename=filename)


def load_plan_file(path: str | Path, *, drop_page_numbers: bool = True) -> PlanText:
    """Read a plan file from disk; the size is checked before anything is read."""
    path = Path(path)
    _extension(path.name)
    try:
        size = os.stat(path).st_size
    except OSError as exc:
        raise PlanError(f"Không mở được tệp “{path.name}”: tệp không tồn tại.") from exc
    if not path.is_file():
        raise PlanError(f"“{path.name}” không phải là một tệp.")
    _check_size(size, path.name)
    with path.open("rb") as handle:
        data = handle.read(MAX_FILE_BYTES + 1)
    return load_plan_bytes(data, path.name, drop_page_numbers=drop_page_numbers)


def read_plan_bytes(data: bytes, filename: str) -> list[SourceLine]:
    """Lines of an uploaded plan; see :func:`load_plan_bytes`."""
    return list(load_plan_bytes(data, filename).lines)


def read_plan_file(path: str | Path) -> list[SourceLine]:
    """Lines of a plan file on disk; see :func:`load_plan_file`."""
    return list(load_plan_file(path).lines)
