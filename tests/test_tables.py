"""bot.plans.tables and the table path of the parser: task tables written as rows of cells."""

from __future__ import annotations

from datetime import date

import pytest

from bot.plans import parse_text
from bot.plans.source import SourceLine
from bot.plans.tables import (
    CONTENT,
    DEADLINE,
    LEAD,
    SUPPORT,
    cells_of,
    column_roles,
    split_runs,
    table_rows,
)


@pytest.mark.parametrize(("header", "roles"), [
    ("STT | Nội dung nhiệm vụ | Cơ quan chủ trì | Cơ quan phối hợp | Thời gian hoàn thành | "
     "Sản phẩm", ["index", CONTENT, LEAD, SUPPORT, DEADLINE, "product"]),
    ("TT | Nội dung công việc | Đơn vị thực hiện | Thời hạn", ["index", CONTENT, LEAD, DEADLINE]),
    ("Số TT | Tên nhiệm vụ | Cơ quan chủ trì thực hiện | Đơn vị phối hợp | Tiến độ | Ghi chú",
     ["index", CONTENT, LEAD, SUPPORT, DEADLINE, "note"]),
    ("TT | Nội dung | Số ngày chậm nhất phải hoàn thành | Ngày chậm nhất phải hoàn thành",
     ["index", CONTENT, None, DEADLINE]),
])
def test_column_roles(header: str, roles: list[str | None]) -> None:
    assert column_roles(cells_of(header)) == roles


@pytest.mark.parametrize("row", [
    "1 | Rà soát thủ tục hành chính | Văn phòng Sở | Các phòng | Quý III/2024",
    "Họ và tên | Chức vụ | Đơn vị",  # a list of people, not tasks
    "Chỉ tiêu | Năm 2023 | Năm 2024",
])
def test_not_a_task_header(row: str) -> None:
    assert column_roles(cells_of(row)) is None


def test_cells_keep_empty_ones_and_outer_pipes() -> None:
    assert cells_of("| 1 | Rà soát |  | 30/6/2024 |") == ["1", "Rà soát", "", "30/6/2024"]


def _lines(text: str) -> list[SourceLine]:
    return [SourceLine(i, t) for i, t in enumerate(text.split("\n"), start=1)]


TABLE = """\
STT | Nội dung nhiệm vụ | Đơn vị chủ trì | Đơn vị phối hợp | Thời gian hoàn thành
I | Lĩnh vực kinh tế | | |
1 | Rà soát quy hoạch vùng nguyên liệu | Phòng Kinh tế | UBND các xã | Quý III/2024
2 | Tổng kết sản xuất vụ Đông | Phòng Kinh tế | | Tháng 11
STT | Nội dung nhiệm vụ | Đơn vị chủ trì | Đơn vị phối hợp | Thời gian hoàn thành
3 | Báo cáo tình hình giải ngân | Phòng Tài chính - Kế hoạch | Kho bạc Nhà nước huyện | Hằng quý"""


def test_rows_by_role_group_and_repeated_header() -> None:
    rows = list(table_rows(_lines(TABLE)))
    assert [r.number for r in rows] == [1, 2, 3]
    assert [r.line for r in rows] == [3, 4, 6]
    assert rows[0].group == "I Lĩnh vực kinh tế"
    assert rows[0].cells == {"index": "1", CONTENT: "Rà soát quy hoạch vùng nguyên liệu",
                             LEAD: "Phòng Kinh tế", SUPPORT: "UBND các xã",
                             DEADLINE: "Quý III/2024"}
    assert SUPPORT not in rows[1].cells


def test_runs_of_text_and_rows() -> None:
    lines = _lines("Đoạn mở đầu.\n" + TABLE + "\nĐoạn sau bảng.")
    kinds = [(is_table, [ln.number for ln in run]) for is_table, run in split_runs(lines)]
    assert kinds == [(False, [1]), (True, [2, 3, 4, 5, 6, 7]), (False, [8])]


def test_parser_makes_one_task_per_row() -> None:
    plan = parse_text("KẾ HOẠCH\nPhát triển nông nghiệp năm 2024\n\nII. NHIỆM VỤ\n" + TABLE
                      + "\n\nIII. TỔ CHỨC THỰC HIỆN\nPhòng Kinh tế chủ trì theo dõi, tổng hợp.")
    rows = [t for t in plan.tasks if t.row is not None]
    assert [t.row for t in rows] == [1, 2, 3]
    first, second, third = rows
    assert first.lead == ("Phòng Kinh tế",) and first.support == ("UBND các xã",)
    assert [d.due for d in first.deadlines] == [date(2024, 9, 30)]
    assert first.line == 7 and first.section == "II.I"
    assert [d.due for d in second.deadlines] == [date(2024, 11, 30)]  # the period's year
    assert third.deadlines == () and third.recurrence is not None
    assert third.recurrence.freq == "quarterly"
    assert third.due == date(2024, 12, 31) and third.due_kind == "period"
    # The text after the table is read as before.
    assert any(t.lead == ("Phòng Kinh tế",) and t.row is None for t in plan.tasks)
    assert rows[0].to_json()["row"] == 1


def test_table_without_unit_column_reads_the_content() -> None:
    text = ("TT | Nội dung công việc | Ngày chậm nhất phải hoàn thành\n"
            "1 | Thường trực HĐND các cấp dự kiến cơ cấu đại biểu | 07/02/2021\n"
            "2 | Mở hội nghị triển khai công tác bầu cử | 27/01/2021")
    plan = parse_text(text)
    assert [t.lead for t in plan.tasks] == [("Thường trực HĐND các cấp",), ()]
    assert [d.due for t in plan.tasks for d in t.deadlines] == [date(2021, 2, 7),
                                                                date(2021, 1, 27)]


def test_merged_group_row_spanning_the_table() -> None:
    """python-docx repeats a merged cell's text in every column it spans."""
    text = ("STT | Nội dung nhiệm vụ | Đơn vị chủ trì | Thời hạn\n"
            "I. Lĩnh vực văn hóa | I. Lĩnh vực văn hóa | I. Lĩnh vực văn hóa | "
            "I. Lĩnh vực văn hóa\n"
            "1 | Tổ chức lễ hội | Phòng Văn hóa và Thông tin | Tháng 3/2025")
    [row] = table_rows(_lines(text))
    assert row.group == "I. Lĩnh vực văn hóa"
    assert row.cells[LEAD] == "Phòng Văn hóa và Thông tin"


def test_unit_columns_name_one_unit_per_comma() -> None:
    """A unit column is a list of units, whatever their names look like."""
    text = ("TT | Nội dung công tác | Đơn vị chủ trì | Đơn vị tham gia | Thời gian thực hiện\n"
            "1 | Cập nhật thông tin thí sinh | Các sở GD&ĐT, điểm thu nhận hồ sơ | Thí sinh, "
            "Vụ Giáo dục Đại học | Trước 17h00', ngày 26/7/2017")
    [task] = parse_text(text).tasks
    assert task.lead == ("Các sở GD&ĐT", "điểm thu nhận hồ sơ")
    assert task.support == ("Thí sinh", "Vụ Giáo dục Đại học")
    assert [d.due for d in task.deadlines] == [date(2017, 7, 26)]


def test_a_deadline_cell_that_only_says_how_often_repeats_the_row() -> None:
    plan = parse_text(
        "KẾ HOẠCH\nThực hiện nhiệm vụ năm 2025\n\nII. NHIỆM VỤ\n\n"
        "| STT | Nội dung | Đơn vị chủ trì | Thời gian hoàn thành |\n|---|---|---|---|\n"
        "| 1 | Tình hình thực hiện | Phòng Nội vụ | Hằng tháng |\n"
        "| 2 | Tổng kết năm | Phòng Tư pháp | Trước ngày 15/12/2025 |\n"
        "| 3 | Kiểm tra việc thực hiện | Phòng Tư pháp | Định kỳ hằng quý |\n")
    got = [(t.recurrence.freq if t.recurrence else None, t.due) for t in plan.tasks]
    assert got == [("monthly", date(2025, 12, 31)), (None, date(2025, 12, 15)),
                   ("quarterly", date(2025, 12, 31))]
    assert plan.tasks[0].recurrence.phrase == "Hằng tháng"


def test_two_column_schedule_gives_one_task_per_units_item() -> None:
    plan = parse_text(
        "Lịch làm việc tuần 21 của Thường trực, các Ban và Văn phòng\n\n"
        "Ngày đăng bài: 22/05/2018 | Tác giả: Chánh văn phòng\n\n"
        "Ngày | Nội dung công việc\n"
        "Thứ hai 21/5 | Thường trực HĐND tỉnh đi thăm, chúc mừng các tổ chức tôn giáo.\n"
        "Thứ năm 24/5 | + Thường trực HĐND tỉnh họp lệ kỳ tháng 5 (sáng). + Ban Pháp chế "
        "giám sát Sở Nội vụ về cải cách hành chính (chiều).\n")
    got = [(t.line, t.lead) for t in plan.tasks]
    assert got == [(6, ("Thường trực HĐND tỉnh",)), (7, ("Thường trực HĐND tỉnh",)),
                   (7, ("Ban Pháp chế",))]
    assert plan.tasks[2].text.startswith("Ban Pháp chế giám sát")
