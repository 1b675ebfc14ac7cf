"""Task tables: rows of cells whose header row names each column's role.

Many plans put their tasks in a table ("Phụ lục: Danh mục nhiệm vụ"): STT | Nội dung nhiệm vụ
| Cơ quan chủ trì | Cơ quan phối hợp | Thời gian hoàn thành | Sản phẩm. The readers give each
row as one line with its cells joined by " | " (.docx tables, markdown tables, text). This
module finds runs of such rows, recognises the header by the roles its wordings name (the
wordings vary: "Đơn vị chủ trì", "Cơ quan chủ trì thực hiện", "Thời hạn", "Tiến độ",
"Thời gian hoàn thành") and gives, for each data row, its cells by role. A row whose only
text is a numbered group title ("I | Lĩnh vực kinh tế") opens a group; a repeated header row
(one per page) is skipped. No I/O here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from bot.plans.source import SourceLine
from bot.text import fold

INDEX, CONTENT, LEAD, SUPPORT, DEADLINE, PRODUCT, NOTE, START = (
    "index", "content", "lead", "support", "deadline", "product", "note", "start")
# (role, folded wording), first match wins: "Cơ quan phối hợp" is support before it is a body.
ROLES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (INDEX, re.compile(r"^(?:stt|tt|so tt|so thu tu)$")),
    (SUPPORT, re.compile(r"phoi hop|tham gia|cung thuc hien")),
    (LEAD, re.compile(r"chu tri|don vi thuc hien|co quan thuc hien|don vi thuc hien|"
                      r"trach nhiem|don vi phu trach|co quan phu trach|nguoi thuc hien|"
                      r"^thuc hien$|^don vi$|^co quan$|^(?:don vi|co quan)\b.*thuc hien$")),
    (NOTE, re.compile(r"ghi chu")),
    (PRODUCT, re.compile(r"san pham|ket qua dau ra|hinh thuc van ban|ket qua du kien")),
    (START, re.compile(r"bat dau|khoi cong|^tu ngay")),
    (DEADLINE, re.compile(r"^(?:ngay|thoi gian|thoi han|tien do|han|moc thoi gian|thoi diem)\b|"
                          r"thoi gian hoan thanh|thoi han hoan thanh|ngay hoan thanh|ket thuc")),
    (CONTENT, re.compile(r"noi dung|nhiem vu|cong viec|hoat dong|^ten (?!don vi|co quan)|"
                         r"giai phap|chuong trinh|de an|du an")),
)
GROUP = re.compile(r"^(?:[IVX]{1,5}|[A-ZĐ]|PHẦN\s+\w+)\s*[.:)]?$")


@dataclass(frozen=True, slots=True)
class Row:
    """A data row of a task table, its cells given by role."""

    line: int
    number: int
    """1-based row number within the table (data rows, header excluded)."""
    group: str
    """The title of the group row above it ("I. Lĩnh vực kinh tế"), or ""."""
    cells: dict[str, str]


def cells_of(text: str) -> list[str]:
    """The cells of one row line ("1 | Rà soát … | Văn phòng Sở" -> three cells; outer pipes
    and empty cells kept in place)."""
    text = text.strip()
    if text.startswith("|") and text.endswith("|") and len(text) > 1:
        text = text[1:-1]
    return [c.strip() for c in text.split("|")]


def is_row(text: str) -> bool:
    """Whether a line is a table row: at least three cells."""
    return text.count("|") >= 2


def column_roles(cells: list[str]) -> list[str | None] | None:
    """The role of each column of a header row, or None when it is not a task header (it must
    name a content column and a unit or deadline column)."""
    if any(len(c) > 80 or re.fullmatch(r"[\d./()-]+", c) for c in cells):
        return None  # a data row: a long text, a number or a date is no column title
    roles: list[str | None] = []
    for cell in cells:
        f = fold(re.sub(r"\(.*?\)", "", cell)).strip(" .:*")
        role = next((r for r, rx in ROLES if rx.search(f)), None)
        if role == DEADLINE and re.match(r"so ngay", f):
            role = None  # "Số ngày chậm nhất …" counts days, it is no date
        if role in roles and role != CONTENT:
            role = None  # the first column of a role wins
        roles.append(role)
    if CONTENT not in roles or not ({LEAD, DEADLINE} & set(roles)):
        return None
    return roles


def split_runs(lines: list[SourceLine]) -> Iterator[tuple[bool, list[SourceLine]]]:
    """Consecutive runs of text lines and of table rows (blank lines inside a table kept)."""
    run: list[SourceLine] = []
    in_table = False
    two_columns = False  # inside a two-column table ("Ngày | Nội dung công việc")
    for ln in lines:
        if not ln.text.strip():
            run.append(ln)
            continue
        bars = ln.text.count("|")
        if bars == 1 and not (two_columns and in_table):
            two_columns = column_roles(cells_of(ln.text)) is not None
        elif bars != 1:
            two_columns = False
        row = bars >= 2 or bars == 1 and two_columns
        if row != in_table and any(x.text.strip() for x in run):
            yield in_table, run
            run = []
        in_table = row
        run.append(ln)
    if run:
        yield in_table, run


def table_rows(lines: list[SourceLine]) -> Iterator[Row]:
    """The data rows of the task tables in ``lines`` (a run of row lines)."""
    roles: list[str | None] | None = None
    header: list[str] = []
    group = ""
    number = 0
    for ln in lines:
        if not ln.text.strip():
            continue
        cells = cells_of(ln.text)
        found = column_roles(cells)
        if found is not None:
            if cells != header:
                number = 0
            roles, header = found, cells  # a header, or the header repeated on a new page
            continue
        if roles is None:
            continue
        filled = list(dict.fromkeys(c for c in cells if c))  # merged cells repeat their text
        if filled and len(filled[-1]) < 200 and (
                len(filled) == 1 and not _is_number(filled[0])
                or len(filled) == 2 and GROUP.match(filled[0])):
            group = " ".join(filled)  # "I | Lĩnh vực kinh tế", a merged "I. Lĩnh vực kinh tế"
            continue
        number += 1
        yield Row(ln.number, number, group, _by_role(roles, cells))


def _is_number(cell: str) -> bool:
    return re.fullmatch(r"\d{1,3}[.)]?", cell) is not None


def _by_role(roles: list[str | None], cells: list[str]) -> dict[str, str]:
    """Cells by role; a row with more cells than the header (a cell split in two) gives the
    extra ones to the content column."""
    extra = len(cells) - len(roles)
    if extra > 0 and CONTENT in roles:
        at = roles.index(CONTENT)
        parts = [c.rstrip(" .") for c in cells[at:at + extra + 1] if c]
        cells = [*cells[:at], ". ".join(parts) + ("." if parts else ""),
                 *cells[at + extra + 1:]]
    out: dict[str, str] = {}
    for role, cell in zip(roles, cells, strict=False):
        if role and cell:
            out[role] = f"{out[role]} {cell}" if role in out else cell
    return out
