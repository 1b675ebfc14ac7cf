"""The text of a plan as the parser sees it: lines that remember where they came from."""

from __future__ import annotations

from dataclasses import dataclass

MAX_FILE_BYTES = 20 * 1024 * 1024
"""Largest plan file accepted (Telegram lets a bot download at most 20 MB)."""

SUPPORTED_EXTENSIONS = (".txt", ".md", ".docx", ".pdf")


@dataclass(frozen=True, slots=True)
class SourceLine:
    """One line of a plan, already decoded, NFC-normalised and stripped of markup."""

    number: int
    """1-based line of the input file (for .docx: the paragraph or table row; for .pdf: the
    line of the extracted text), the number reported back to users."""
    text: str
