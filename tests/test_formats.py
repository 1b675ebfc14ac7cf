"""Plans in the forms offices send them: task tables in .docx and .pdf, old Word files (.doc),
and the bad input that comes with them.

The fixtures are built here (tests/fixture_files.py); LibreOffice makes the PDF and the .doc
from the .docx, so these tests need it (they fail without it, see tests/tools.py). The task
table is scored against tests/fixtures/gold/table_plan.json with the official scorer.
"""

from __future__ import annotations

import functools
import io
import time
from pathlib import Path

import pytest

from bot.errors import BrokenFile, FileTooLarge, UnsupportedFile
from bot.plans import convert, pdf, source
from bot.plans.parser import parse_lines
from bot.plans.readers import load_plan_bytes, read_plan_bytes
from bot.plans.source import CONVERT, Progress
from bot.plans.tables import cells_of
from tests.fixture_files import (
    TABLE_HEADER,
    TABLE_TASKS,
    convert_with_soffice,
    many_pages_pdf,
    relocated_gold,
    score,
    table_plan_docx,
)
from tests.tools import need_soffice

HEADER_LINE = " | ".join(TABLE_HEADER)


@functools.cache
def table_docx() -> bytes:
    return table_plan_docx()


@functools.cache
def _converted(target: str) -> bytes:
    return convert_with_soffice(table_docx(), ".docx", target)


def table_file(kind: str) -> bytes:
    """The table plan as ``kind`` ("docx", "pdf", "doc")."""
    return table_docx() if kind == "docx" else _converted(kind)


def texts(data: bytes, name: str) -> list[str]:
    return [line.text for line in read_plan_bytes(data, name)]


# --- .docx tables -------------------------------------------------------------------------------


def test_docx_rows_keep_every_column() -> None:
    lines = texts(table_docx(), "ke_hoach.docx")
    rows = [line for line in lines if " | " in line]
    assert rows[0] == HEADER_LINE
    assert rows[1] == "I. Lĩnh vực kinh tế | | | | |"  # merged across: text, then empty cells
    assert all(len(cells_of(r)) == len(TABLE_HEADER) for r in rows)
    first, second = (cells_of(r) for r in rows[2:4])
    assert first[2] == second[2] == "Phòng Nông nghiệp và Phát triển nông thôn"  # merged down
    assert rows.count(HEADER_LINE) == 2  # repeated by hand; the parser skips it
    unit_list = next(cells_of(r) for r in rows if r.startswith("4 |"))
    assert unit_list[3] == "Phòng Văn hóa và Thông tin; Trung tâm Văn hóa - Thể thao huyện"
    assert next(r for r in rows if r.startswith("6 |")).endswith("| Thường xuyên |")
    assert lines[lines.index(rows[-1]) + 1] == "III. TỔ CHỨC THỰC HIỆN"  # text goes on after it


def _docx_with_table(rows: list[list[str]]) -> bytes:
    import docx

    document = docx.Document()
    for text in ("KẾ HOẠCH", "Thực hiện nhiệm vụ năm 2024", "I. NHIỆM VỤ"):
        document.add_paragraph(text)
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    for row, values in zip(table.rows, rows, strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.add_paragraph("Phòng Y tế báo cáo kết quả trước ngày 15/12/2024.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_merged_cells_nested_table_and_layout_tables() -> None:
    import docx

    document = docx.Document(io.BytesIO(_docx_with_table([
        ["STT", "Nội dung", "Chủ trì", "Thời hạn", "Ghi chú"],
        ["1", "Rà soát", "Phòng Y tế", "Quý III/2024", ""],
    ])))
    table = document.tables[0]
    row = table.add_row()
    row.cells[0].text, row.cells[1].text, row.cells[2].text = "2", "Báo cáo", "Phòng Nội vụ"
    row.cells[3].merge(row.cells[4]).text = "Tháng 10/2024"  # deadline merged with the note
    nested = table.cell(1, 2).add_table(rows=2, cols=1)
    nested.cell(0, 0).text, nested.cell(1, 0).text = "Công an huyện", "Thanh tra huyện"
    layout = document.add_table(rows=1, cols=2)
    layout.cell(0, 0).text, layout.cell(0, 1).text = "Nơi nhận:", "KT. CHỦ TỊCH"
    layout.cell(0, 1).add_paragraph("PHÓ CHỦ TỊCH")
    buffer = io.BytesIO()
    document.save(buffer)
    lines = texts(buffer.getvalue(), "a.docx")
    assert lines[4] == "1 | Rà soát | Phòng Y tế; Công an huyện; Thanh tra huyện | Quý III/2024 |"
    assert lines[5] == "2 | Báo cáo | Phòng Nội vụ | Tháng 10/2024 |"
    assert lines[-1] == "Nơi nhận: | KT. CHỦ TỊCH PHÓ CHỦ TỊCH"  # two columns: layout, as before


def test_table_without_header_row_is_read_as_text() -> None:
    data = _docx_with_table([
        ["Chỉ tiêu", "Năm 2023", "Năm 2024", "Ghi chú"],
        ["Tốc độ tăng trưởng", "8,5%", "9%", ""],
        ["Thu ngân sách", "1.200 tỷ", "1.350 tỷ", "Phòng Tài chính - Kế hoạch theo dõi"],
    ])
    lines = read_plan_bytes(data, "chi_tieu.docx")
    assert [ln.text for ln in lines][3:6] == [
        "Chỉ tiêu | Năm 2023 | Năm 2024 | Ghi chú", "Tốc độ tăng trưởng | 8,5% | 9% |",
        "Thu ngân sách | 1.200 tỷ | 1.350 tỷ | Phòng Tài chính - Kế hoạch theo dõi"]
    plan = parse_lines(lines)
    assert all(t.row is None for t in plan.tasks)
    assert any(t.lead == ("Phòng Y tế",) for t in plan.tasks)  # the text after it still counts


# --- the same table as PDF and .doc -------------------------------------------------------------


def test_pdf_table_reads_as_rows_in_reading_order() -> None:
    need_soffice()
    data = table_file("pdf")
    import pypdfium2

    assert len(pypdfium2.PdfDocument(data)) == 2  # the table crosses a page break
    lines = texts(data, "ke_hoach.pdf")
    rows = [line for line in lines if " | " in line]
    docx_rows = [line for line in texts(table_docx(), "a.docx") if " | " in line]
    # LibreOffice repeats the header row on the second page: one more header line.
    assert rows.count(HEADER_LINE) == docx_rows.count(HEADER_LINE) + 1
    assert [r for r in rows if r != HEADER_LINE] == [r for r in docx_rows if r != HEADER_LINE]
    assert lines[lines.index(rows[0]) - 1] == "II. NHIỆM VỤ CỤ THỂ"
    assert lines[lines.index(rows[-1]) + 1] == "III. TỔ CHỨC THỰC HIỆN"


def test_doc_is_converted_and_read_like_the_docx() -> None:
    need_soffice()
    events: list[Progress] = []
    result = load_plan_bytes(table_file("doc"), "ke_hoach_cu.doc", progress=events.append)
    assert result.encoding == "doc"
    assert events == [Progress(CONVERT)]
    assert [ln.text for ln in result.lines] == texts(table_docx(), "a.docx")


def test_word_97_file_named_docx_is_converted_too() -> None:
    need_soffice()
    assert texts(table_file("doc"), "doi_ten.docx") == texts(table_docx(), "a.docx")


@pytest.mark.parametrize("kind", ["docx", "pdf", "doc"])
def test_every_table_row_is_a_task_scored_against_gold(kind: str) -> None:
    if kind != "docx":
        need_soffice()
    data = table_file(kind)
    lines = read_plan_bytes(data, f"ke_hoach.{kind}")
    plan = parse_lines(lines, source=f"ke_hoach.{kind}")
    rows = [t for t in plan.tasks if t.row is not None]
    assert [t.row for t in rows] == list(range(1, TABLE_TASKS + 1))
    total = score(plan.to_json(), relocated_gold("table_plan", [ln.text for ln in lines]))
    assert total["deadline_f1"] == 1.0, total
    assert total["deadline_unit_accuracy"] == 1.0, total
    assert total["assignment_f1"] == 1.0, total
    assert total["period_accuracy"] == 1.0, total
    quarterly = next(t for t in rows if t.row == 3)
    assert quarterly.recurrence is not None and quarterly.recurrence.freq == "quarterly"


def test_data_row_that_looks_like_a_header() -> None:
    """A data row whose cells fold to header wordings ('dự án', 'Hằng quý') is no header."""
    data = _docx_with_table([
        ["STT", "Nội dung nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời gian"],
        ["1", "Báo cáo giải ngân", "Phòng Tài chính - Kế hoạch",
         "Ban Quản lý dự án đầu tư xây dựng huyện", "Hằng quý"],
        ["2", "Kiểm tra an toàn thực phẩm", "Phòng Y tế", "Công an huyện", "Quý III/2024"],
    ])
    plan = parse_lines(read_plan_bytes(data, "a.docx"))
    assert [(t.row, t.lead) for t in plan.tasks if t.row] == [
        (1, ("Phòng Tài chính - Kế hoạch",)), (2, ("Phòng Y tế",))]


def test_pdf_tables_fall_back_to_text_when_pdfplumber_fails(
        monkeypatch: pytest.MonkeyPatch) -> None:
    need_soffice()
    import pdfplumber

    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("pdfminer cannot parse this")

    monkeypatch.setattr(pdfplumber, "open", broken)
    lines = texts(table_file("pdf"), "ke_hoach.pdf")
    assert not any(" | " in line for line in lines)
    assert "II. NHIỆM VỤ CỤ THỂ" in lines and "III. TỔ CHỨC THỰC HIỆN" in lines


@pytest.mark.parametrize("crop", [0, 15])
def test_pdf_with_shifted_media_box_reads_the_same_rows(crop: int) -> None:
    need_soffice()
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import RectangleObject

    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(table_file("pdf"))).pages:
        left, bottom, right, top = (float(v) for v in page.mediabox)
        page.mediabox = RectangleObject([left - 40, bottom - 30, right, top])
        page.cropbox = RectangleObject([left - 40 + crop, bottom - 30 + crop, right - crop,
                                        top - crop])
        writer.add_page(page)
    buffer = io.BytesIO()
    writer.write(buffer)
    shifted = [line for line in texts(buffer.getvalue(), "a.pdf") if " | " in line]
    assert shifted == [line for line in texts(table_file("pdf"), "a.pdf") if " | " in line]


# --- .doc: bad input and missing LibreOffice ----------------------------------------------------


@pytest.mark.parametrize("data", [
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4000),  # an empty Word 97 container
    b"{\\rtf1 \\ansi cat cut",  # a broken RTF named .doc
])
def test_doc_that_libreoffice_cannot_open(data: bytes) -> None:
    need_soffice()
    start = time.monotonic()
    with pytest.raises(BrokenFile) as info:
        read_plan_bytes(data, "hong.doc")
    assert "Word 97-2003" in info.value.message and ".docx" in info.value.message
    assert time.monotonic() - start < 60


def test_doc_that_is_no_word_file_is_refused_without_libreoffice_running(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(convert, "find_soffice", lambda: "/khong/co/soffice")
    with pytest.raises(BrokenFile) as info:
        read_plan_bytes(b"chi la van ban thuong", "a.doc")
    assert "không phải văn bản Word" in info.value.message


def test_doc_without_libreoffice_asks_for_docx(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(convert.shutil, "which", lambda name: None)
    with pytest.raises(UnsupportedFile) as info:
        read_plan_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "cu.doc")
    assert "LibreOffice" in info.value.message and ".docx" in info.value.message


def test_doc_conversion_has_a_time_limit() -> None:
    need_soffice()
    with pytest.raises(FileTooLarge) as info:
        convert.doc_to_docx(table_file("doc"), timeout=0.05)
    assert "quá thời gian" in info.value.message
    # The next conversion works: the killed LibreOffice left nothing locked.
    assert convert.doc_to_docx(table_file("doc"))[:2] == b"PK"


def test_doc_command_line_holds_no_user_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """The upload's name never reaches LibreOffice's command line."""
    seen: list[list[str]] = []

    def fake_run(command: list[str], *, timeout: float, cwd: str) -> None:
        seen.append(command)
        Path(cwd, "out", "input.docx").write_bytes(table_docx())

    monkeypatch.setattr(convert, "find_soffice", lambda: "/usr/bin/soffice")
    monkeypatch.setattr(convert, "_run", fake_run)
    lines = read_plan_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100),
                            "; rm -rf ~ $(reboot) kế hoạch.doc")
    assert len(lines) == len(texts(table_docx(), "a.docx"))
    [command] = seen
    assert command[-1].endswith("/input.doc") and not any("rm" in part for part in command)


# --- PDF limits -------------------------------------------------------------------------------


def test_pdf_with_thousands_of_pages_is_refused_quickly() -> None:
    data = many_pages_pdf(5000)
    start = time.monotonic()
    with pytest.raises(FileTooLarge) as info:
        read_plan_bytes(data, "bom.pdf")
    assert "5000 trang" in info.value.message and f"{source.MAX_PDF_PAGES} trang" in \
        info.value.message
    assert time.monotonic() - start < 10


def test_long_text_pdf_within_the_limit_is_read() -> None:
    lines = texts(many_pages_pdf(source.MAX_PDF_PAGES), "dai.pdf")
    assert len(lines) == source.MAX_PDF_PAGES
    assert lines[0] == "Phong Y te: bao cao truoc ngay 15/12/2023"


def test_reading_stops_at_the_time_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    ticks = iter(range(0, 10_000, 7))
    monkeypatch.setattr(source, "MAX_READ_SECONDS", 60.0)
    with pytest.raises(FileTooLarge) as info:
        pdf.read_pdf(many_pages_pdf(40), clock=lambda: float(next(ticks)))
    assert "quá thời gian cho phép (60 giây)" in info.value.message


def test_pdfs_read_in_parallel_threads_give_the_same_lines() -> None:
    """PDFium is not thread-safe; two uploads read at once must not crash or mix."""
    from concurrent.futures import ThreadPoolExecutor

    need_soffice()
    files = [(table_file("pdf"), "a.pdf"), (many_pages_pdf(60), "b.pdf")] * 3
    expected = [texts(data, name) for data, name in files]
    with ThreadPoolExecutor(max_workers=6) as pool:
        assert list(pool.map(lambda f: texts(*f), files)) == expected
