"""bot.plans.cells: table rows as " | " lines that keep their columns for bot.plans.tables."""

from __future__ import annotations

import pytest

from bot.plans.cells import format_row, join_cell_lines
from bot.plans.tables import cells_of


@pytest.mark.parametrize(("cells", "line"), [
    (["1", "Rà soát", "", "Quý III/2024"], "1 | Rà soát | | Quý III/2024"),
    (["1", "Rà soát", "Phòng Y tế", "", ""], "1 | Rà soát | Phòng Y tế | |"),
    (["I. Lĩnh vực kinh tế", "", "", ""], "I. Lĩnh vực kinh tế | | |"),
    (["", "Rà soát", "Phòng Y tế", "", ""], "| Rà soát | Phòng Y tế"),
    (["", "", "", ""], ""),
    (["Ủy ban nhân dân", "", "Cộng hòa"], "Ủy ban nhân dân | | Cộng hòa"),
    (["Ủy ban nhân dân", "Cộng hòa"], "Ủy ban nhân dân | Cộng hòa"),  # layout: two columns
    (["Ủy ban nhân dân", ""], "Ủy ban nhân dân"),
])
def test_format_row(cells: list[str], line: str) -> None:
    assert format_row(cells) == line


@pytest.mark.parametrize("cells", [
    ["1", "Rà soát", "", "Quý III/2024", ""],
    ["", "Rà soát", "Phòng Y tế", "", "Quý III/2024", ""],
    ["", "Rà soát", "", "", "", "Ghi chú"],
    ["STT", "Nội dung", "Chủ trì", "Phối hợp", "Thời hạn"],
])
def test_columns_survive_the_table_reader(cells: list[str]) -> None:
    """What cells_of reads back has every filled cell in its column."""
    back = cells_of(format_row(cells))
    assert back == cells[:len(back)]
    assert all(not c for c in cells[len(back):])


@pytest.mark.parametrize(("lines", "paragraphs", "text"), [
    (["Quý ", "III/2024"], False, "Quý III/2024"),
    (["Phòng Tài chính", "- Kế hoạch"], False, "Phòng Tài chính - Kế hoạch"),
    (["- Phòng Y tế", "- Công an", "huyện"], False, "Phòng Y tế; Công an huyện"),
    (["Phòng Y tế", "Công an huyện"], True, "Phòng Y tế; Công an huyện"),
    (["Phòng Y tế;", "Công an huyện."], True, "Phòng Y tế; Công an huyện."),
    (["+ Phòng Y tế", "+ Công an huyện"], True, "Phòng Y tế; Công an huyện"),
    (["Báo cáo | tổng kết"], False, "Báo cáo / tổng kết"),
    (["", "  ", "Thường   xuyên"], False, "Thường xuyên"),
])
def test_join_cell_lines(lines: list[str], paragraphs: bool, text: str) -> None:
    assert join_cell_lines(lines, paragraphs=paragraphs) == text
