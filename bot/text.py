"""Text helpers shared by the parser, the unit directory and the handlers.

Everything entering the core is NFC-normalised once (:func:`nfc`); every
accent-insensitive comparison goes through :func:`fold`.
"""

from __future__ import annotations

import re
import unicodedata

DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
_DASH_TABLE = str.maketrans({d: "-" for d in DASHES})
_DASH_RE = re.compile(f"[{DASHES}]")
_SPACES_RE = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u3000]+")

# Tone marks on "oa", "oe", "uy" are written two ways ("Uỷ ban"/"Ủy ban", "hoà"/"hòa");
# government documents mostly use the second. unify_tones() rewrites the first into it.
_TONES = "\u0300\u0301\u0309\u0303\u0323"  # huyền, sắc, hỏi, ngã, nặng
_PAIRS = {("o", "a"), ("o", "e"), ("u", "y")}


def _tone_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for first, second in _PAIRS:
        for tone in _TONES:
            for up1, up2 in ((False, False), (True, False), (True, True)):
                a = first.upper() if up1 else first
                b = second.upper() if up2 else second
                moved = unicodedata.normalize("NFC", a + b + tone)
                kept = unicodedata.normalize("NFC", a + tone + b)
                table[moved] = kept
    return table


_TONE_TABLE = _tone_table()
# "oà" only when not followed by a vowel-forming letter ("hoàn" keeps its tone on a).
_TONE_RE = re.compile(r"(?<![qQ])(" + "|".join(map(re.escape, _TONE_TABLE))
                      + r")(?![a-zđ\u00e0-\u1ef9])", re.IGNORECASE)


def nfc(text: str) -> str:
    """Return ``text`` in Unicode NFC with dashes unified and runs of spaces collapsed."""
    text = unicodedata.normalize("NFC", text)
    if _DASH_RE.search(text):  # str.translate costs per character; most lines have no dash
        text = text.translate(_DASH_TABLE)
    return _SPACES_RE.sub(" ", text)


def unify_tones(text: str) -> str:
    """Rewrite "Uỷ ban", "hoà" to "Ủy ban", "hòa" (same word, one spelling for exact matching)."""
    return _TONE_RE.sub(lambda m: _TONE_TABLE[m.group(1)], text)


def fold(text: str) -> str:
    """Lower-case, drop Vietnamese diacritics (đ -> d) and collapse spaces:
    "Ủy ban" -> "uy ban"."""
    text = unicodedata.normalize("NFD", text.translate(_DASH_TABLE))
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    text = text.replace("đ", "d").replace("Đ", "d").replace("Ð", "d").replace("ð", "d")
    return " ".join(text.casefold().split())


_LOWER_TONE_TABLE = {k: v for k, v in _TONE_TABLE.items() if k.islower()}
_LOWER_TONE_RE = re.compile(
    r"(?<!q)(" + "|".join(map(re.escape, _LOWER_TONE_TABLE)) + r")(?![a-zđ\u00e0-\u1ef9])"
)


def lower_same_length(text: str) -> str:
    """Lower case with one tone placement ("Uỷ" -> "ủy"); offsets stay those of ``text``."""
    low = text.lower()
    if len(low) != len(text):
        return low
    if _LOWER_TONE_RE.search(low) is None:
        return low
    return _LOWER_TONE_RE.sub(lambda m: _LOWER_TONE_TABLE[m.group(1)], low)


# ------------------------------------------------------------------------------ Telegram lengths
QUOTE_CHARS = 100
"""Most characters of user input a reply quotes back (an error must never outgrow a message)."""
ELLIPSIS = "…"


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units, so "📋" (outside the BMP) counts 2."""
    return len(text.encode("utf-16-le")) // 2


def utf16_prefix(text: str, limit: int) -> str:
    """The longest start of ``text`` within ``limit`` UTF-16 units (never half an emoji)."""
    if limit <= 0:
        return ""
    if len(text) <= limit // 2 or utf16_len(text) <= limit:
        return text
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return text[:index]
    return text


def clip(text: str, limit: int) -> str:
    """``text`` with whitespace collapsed, cut to ``limit`` UTF-16 units with "…" when cut.

    The cut falls on a word boundary when one is in the second half of the room.
    """
    flat = " ".join(text.split())
    if utf16_len(flat) <= limit:
        return flat
    cut = utf16_prefix(flat, max(0, limit - 1))
    space = cut.rfind(" ")
    if space >= len(cut) // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-–") + ELLIPSIS


def quote(text: str, limit: int = QUOTE_CHARS) -> str:
    """User input as a reply quotes it back: one line, at most ``limit`` characters. Plain."""
    return clip(str(text), limit)
