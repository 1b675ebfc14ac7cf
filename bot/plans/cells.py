"""Table rows as the parser reads them: one line per row, its cells joined by " | ".

Both the .docx and the .pdf reader hand tables to :mod:`bot.plans.tables` in this form, so
they share how a cell's text is flattened and how empty cells keep the columns aligned:

- every grid column gives a cell, empty ones included ("1 | Rà soát | | Quý III/2024"), so
  the fourth cell of every row is the fourth column of the header;
- a cell of several paragraphs or wrapped lines becomes one line: wrapped lines join with a
  space, a list inside a cell ("- Phòng Y tế", "- Công an huyện") with "; ";
- a "|" written inside a cell becomes "/", so it cannot open a column;
- :func:`bot.plans.tables.cells_of` drops a leading and a trailing "|" together (markdown's
  outer pipes), so a row starting with an empty cell loses its empty cells at the end instead.

No I/O here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

__all__ = ["MIN_COLUMNS", "format_row", "join_cell_lines"]

MIN_COLUMNS = 3
"""Narrower tables are layout (the two-column header of a công văn, a signature block): their
cells are joined as text, as before tables were read as tables."""

_BULLET_RE = re.compile(r"^\s*(?:[-–+•*·]|\d{1,2}[.)])\s+")
_ENDS_CLAUSE_RE = re.compile(r"[.;:,!?]$")
_SPACES_RE = re.compile(r"\s+")


def join_cell_lines(lines: Iterable[str], *, paragraphs: bool) -> str:
    """One line for a cell's text.

    ``paragraphs`` says the pieces are paragraphs (a .docx cell): a piece that does not end a
    clause is then followed by "; ", since a paragraph break inside a cell separates items
    ("Phòng Y tế" / "Công an huyện"). Otherwise the pieces are lines wrapped by the layout (a
    PDF cell) and join with a space, unless the cell is a list: its first line starts with a
    bullet, and so does each item ("- Phòng Y tế" / "- Công an huyện"); a dash that only
    wrapped to the start of a line ("Phòng Tài chính" / "- Kế hoạch") stays.
    """
    out = ""
    listed = False
    for raw in lines:
        piece = _SPACES_RE.sub(" ", raw.replace("|", "/")).strip()
        if not piece:
            continue
        bullet = _BULLET_RE.match(piece) is not None and not piece[:1].isdigit()
        if not out:
            listed = bullet
        item = bullet and (listed or paragraphs)
        if item:
            piece = _BULLET_RE.sub("", piece, count=1)
        if not out:
            out = piece
        elif (paragraphs or item) and not _ENDS_CLAUSE_RE.search(out):
            out = f"{out}; {piece}"
        else:
            out = f"{out} {piece}"
    return out


def format_row(cells: Sequence[str]) -> str:
    """The line for one row of cells (already flattened); "" when every cell is empty."""
    cells = [c.strip() for c in cells]
    filled = [i for i, c in enumerate(cells) if c]
    if not filled:
        return ""
    if len(cells) < MIN_COLUMNS:
        return " | ".join(c for c in cells if c)
    if not cells[0] and filled[-1] >= 2:
        # "| a | b" keeps its leading empty cell; "| a | b |" would lose both outer ones.
        cells = cells[:filled[-1] + 1]
    line = " | ".join(cells)
    return _SPACES_RE.sub(" ", line).strip()
