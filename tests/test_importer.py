"""Tests for bot.importer: checks before download, import statuses, refusals, the summary."""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.errors import BrokenFile, EmptyPlan, FileTooLarge, PlanError, UnsupportedFile
from bot.importer import (
    MAX_UNITS_SHOWN,
    MAX_WARNINGS_SHOWN,
    check_upload,
    document_title,
    guess_filename,
    import_document,
    prepare_document,
    summarize_import,
)
from bot.plans.source import MAX_FILE_BYTES
from bot.records import ImportResult, StoredDocument
from bot.store import Store
from localchat.fakeapi import check_html

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2022, 12, 20, 9, 0, tzinfo=TZ)
ADMIN = 1001
SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
VIETNAMESE_RE = re.compile(r"[ăâđêôơưĂÂĐÊÔƠƯ\u1ea0-\u1ef9àáèéìíòóùúýãõĩũ]")

PLAN = """UỶ BAN NHÂN DÂN THÀNH PHỐ CẨM PHẢ
Số: 12/KH-UBND
KẾ HOẠCH
Thực hiện nhiệm vụ Quý I năm 2023

I. MỤC ĐÍCH, YÊU CẦU
Bảo đảm hoàn thành các chỉ tiêu.
II. NHIỆM VỤ VÀ PHÂN CÔNG TRIỂN KHAI THỰC HIỆN
1. Phòng Y tế: Tổ chức tiêm chủng mở rộng cho trẻ em, hoàn thành trước ngày 15/01/2023.
2. Phòng Tài chính - Kế hoạch: Rà soát dự toán ngân sách <b>&</b> báo cáo trước ngày 20/02/2023.
3. Công an thành phố chủ trì, phối hợp với Phòng Y tế cập nhật dữ liệu dân cư.
"""


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "bot.json") as s:
        yield s


def plan_docx(text: str = PLAN) -> bytes:
    import docx

    document = docx.Document()
    for line in text.splitlines():
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def snapshot(store: Store) -> tuple[int, list[int], int]:
    return store.task_count, [d.id for d in store.documents()], len(store.recent_events(1000))


# ----------------------------------------------------------------------------- checks
@pytest.mark.parametrize(("name", "mime", "expected"), [
    ("ke hoach.docx", None, "ke hoach.docx"),
    ("C:\\Users\\vt\\KH 12.pdf", None, "KH 12.pdf"),
    ("thư mục/kế hoạch.txt", None, "kế hoạch.txt"),
    (None, "application/pdf", "tệp.pdf"),
    ("", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
     "tệp.docx"),
    (None, "text/plain; charset=utf-8", "tệp.txt"),
    (None, None, "tệp"),
])
def test_guess_filename(name: str | None, mime: str | None, expected: str) -> None:
    assert guess_filename(name, mime) == expected


@pytest.mark.parametrize(("name", "size", "error", "fragment"), [
    ("virus.exe", 100, UnsupportedFile, "“.exe”"),
    ("khong_duoi", 100, UnsupportedFile, "không có đuôi"),
    ("anh.JPG", 100, UnsupportedFile, ".txt, .md, .docx, .doc, .pdf"),
    ("lon.pdf", MAX_FILE_BYTES + 1, FileTooLarge, "tối đa 20 MB"),
    ("lon.docx", 21 * 1024 * 1024, FileTooLarge, "21,0 MB"),
    ("rong.txt", 0, EmptyPlan, "trống"),
])
def test_check_upload_refuses(name: str, size: int, error: type[PlanError],
                              fragment: str) -> None:
    with pytest.raises(error) as info:
        check_upload(name, size)
    assert fragment in info.value.message
    assert VIETNAMESE_RE.search(info.value.message)


def test_doc_is_refused_before_download_only_without_libreoffice(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.importer

    monkeypatch.setattr(bot.importer, "find_soffice", lambda: "/usr/bin/soffice")
    assert check_upload("cu.DOC", 100) == ".doc"
    monkeypatch.setattr(bot.importer, "find_soffice", lambda: None)
    with pytest.raises(UnsupportedFile) as info:
        check_upload("cu.doc", 100)
    assert "LibreOffice" in info.value.message and ".docx" in info.value.message
    assert VIETNAMESE_RE.search(info.value.message)


@pytest.mark.parametrize(("name", "size", "ext"), [
    ("KH.DOCX", MAX_FILE_BYTES, ".docx"), ("a.pdf", None, ".pdf"), ("b.md", 1, ".md"),
    ("c.txt", 10, ".txt"),
])
def test_check_upload_accepts(name: str, size: int | None, ext: str) -> None:
    assert check_upload(name, size) == ext


# ----------------------------------------------------------------------------- import
def test_import_new_txt(store: Store) -> None:
    result = import_document(store, PLAN.encode(), "kh12.txt", actor=ADMIN, now=NOW)
    assert result.status == "new"
    assert result.task_count == 3 == store.task_count
    assert result.explicit_deadlines == 2
    assert result.document.number == "12/KH-UBND"
    assert result.document.filename == "kh12.txt"
    assert result.document.imported_by == ADMIN
    assert set(result.unit_names) == {"Phòng Y tế", "Phòng Tài chính - Kế hoạch",
                                      "Công an thành phố"}
    assert [d.id for d in store.documents()] == [result.document.id]


def test_import_docx_same_tasks_as_txt(store: Store) -> None:
    result = import_document(store, plan_docx(), "kh12.docx", actor=ADMIN, now=NOW)
    assert result.status == "new"
    tasks = store.document_tasks(result.document.id)
    assert [t.due for t in tasks] == [date(2023, 1, 15), date(2023, 2, 20), date(2023, 3, 31)]


def test_import_same_bytes_twice_is_duplicate_and_changes_nothing(store: Store) -> None:
    first = import_document(store, PLAN.encode(), "kh12.txt", actor=ADMIN, now=NOW)
    before = snapshot(store)
    again = import_document(store, PLAN.encode(), "ban sao.txt", actor=2002, now=NOW)
    assert again.status == "duplicate"
    assert again.document.id == first.document.id
    assert again.task_count == 3
    assert snapshot(store) == before


def test_new_version_replaces_and_keeps_done(store: Store) -> None:
    first = import_document(store, PLAN.encode(), "kh12.txt", actor=ADMIN, now=NOW)
    done_task = store.document_tasks(first.document.id)[0]
    store.mark_done(done_task.code, actor=ADMIN, now=NOW)
    changed = PLAN + "4. Phòng Kinh tế: Kiểm tra an toàn thực phẩm trước ngày 10/03/2023.\n"
    second = import_document(store, changed.encode(), "kh12 v2.txt", actor=ADMIN, now=NOW)
    assert second.status == "replaced"
    assert second.kept_done == 1
    assert second.document.id == first.document.id
    assert second.document.version == 2
    assert store.task_count == 4
    assert not store.task(done_task.code).is_open


@pytest.mark.parametrize(("name", "data", "error", "fragment"), [
    ("chuong_trinh.exe", b"MZ\x90\x00" + bytes(200), UnsupportedFile, "“.exe”"),
    ("hong.docx", b"day khong phai la zip", BrokenFile, ".docx bị hỏng"),
    ("rong.txt", b"", EmptyPlan, "trống"),
    ("thu.txt", "Kính gửi các đồng chí,\nXin chào và hẹn gặp lại.\n".encode(), EmptyPlan,
     "Không tìm thấy nhiệm vụ"),
])
def test_refused_files_store_nothing(store: Store, name: str, data: bytes,
                                     error: type[PlanError], fragment: str) -> None:
    import_document(store, PLAN.encode(), "kh12.txt", actor=ADMIN, now=NOW)
    before = snapshot(store)
    with pytest.raises(error) as info:
        import_document(store, data, name, actor=ADMIN, now=NOW)
    assert fragment in info.value.message
    assert snapshot(store) == before


def test_oversized_bytes_refused_before_parsing() -> None:
    with pytest.raises(FileTooLarge):
        prepare_document(b"a" * (MAX_FILE_BYTES + 1), "to.txt")


def test_prepare_is_pure_and_hashes_content() -> None:
    one = prepare_document(PLAN.encode(), "a.txt")
    two = prepare_document(PLAN.encode(), "b.txt")
    other = prepare_document((PLAN + "\n").encode(), "a.txt")
    assert one.file_hash == two.file_hash != other.file_hash
    assert len(one.plan.tasks) == 3


def test_sample_plan_imports(store: Store) -> None:
    path = next(SAMPLES.glob("004_*.txt"))
    result = import_document(store, path.read_bytes(), path.name, actor=ADMIN, now=NOW)
    assert result.document.number == "09-NQ/TU"
    assert result.task_count == store.task_count > 10


# ----------------------------------------------------------------------------- summary
def _doc(**kw: object) -> StoredDocument:
    base: dict = dict(id=7, kind="ke_hoach", number="12/KH-UBND", issuer="UBND thành phố Cẩm Phả",
                      issued=None, title=None, period=None, locality="Cẩm Phả",
                      filename="kh <12>.txt", file_hash="x", imported_at=NOW,
                      imported_by=ADMIN, task_ids=(1, 2, 3))
    base.update(kw)
    return StoredDocument(**base)


@pytest.mark.parametrize(("kw", "limit", "expected"), [
    ({}, None, "Kế hoạch số 12/KH-UBND"),
    ({"number": None, "title": "Phát triển  kinh tế"}, None, "Kế hoạch «Phát triển kinh tế»"),
    ({"number": None, "title": "Phát triển kinh tế năm 2023"}, 12, "Kế hoạch «Phát triển…»"),
    ({"number": None, "kind": "la"}, None, "Văn bản (tệp kh <12>.txt)"),
])
def test_document_title(kw: dict, limit: int | None, expected: str) -> None:
    assert document_title(_doc(**kw), limit) == expected


def test_summary_of_real_import_is_valid_html(store: Store) -> None:
    result = import_document(store, PLAN.encode(), "kh <12> & co.txt", actor=ADMIN, now=NOW)
    text = summarize_import(result)
    visible = check_html(text)  # raises like Telegram on bad HTML
    assert "Đã nhập Kế hoạch số 12/KH-UBND của Ủy ban nhân dân thành phố Cẩm Phả" in visible
    assert "kh <12> & co.txt" in visible
    assert "Số nhiệm vụ: 3, trong đó 2 nhiệm vụ có hạn ghi rõ" in visible
    assert "Quý I năm 2023 (01/01/2023 – 31/03/2023)" in visible
    assert "Phòng Y tế" in visible


@pytest.mark.parametrize(("status", "kept", "version", "fragment"), [
    ("new", 0, 1, "✅ Đã nhập"),
    ("replaced", 4, 2, "(phiên bản 2); giữ nguyên trạng thái hoàn thành của 4 nhiệm vụ"),
    ("replaced", 0, 3, "không có nhiệm vụ đã hoàn thành nào cần giữ lại"),
    ("duplicate", 0, 1, "đã nhập trước đây (lúc 09:00 20/12/2022), không có gì thay đổi"),
])
def test_summary_statuses(status: str, kept: int, version: int, fragment: str) -> None:
    result = ImportResult(status, _doc(version=version), 3, ("Phòng Y tế",), 1, kept, ())
    assert fragment in check_html(summarize_import(result))


def test_summary_escapes_and_limits_warnings_and_units() -> None:
    warnings = tuple(f"Dòng {i}: tên <đơn vị> & lạ" for i in range(MAX_WARNINGS_SHOWN + 3))
    units = tuple(f"Phòng số {i:02d} <x>" for i in range(MAX_UNITS_SHOWN + 5))
    result = ImportResult("new", _doc(), 3, units, 0, 0, warnings)
    text = summarize_import(result)
    visible = check_html(text)
    assert "Dòng 0: tên <đơn vị> & lạ" in visible
    assert f"Dòng {MAX_WARNINGS_SHOWN}:" not in visible
    assert "… và 3 cảnh báo khác." in visible
    assert f"Đơn vị được giao ({MAX_UNITS_SHOWN + 5})" in visible
    assert "và 5 đơn vị khác" in visible
    assert f"Phòng số {MAX_UNITS_SHOWN:02d}" not in visible
    for line in text.split("\n"):  # each line balanced: split_html may cut between lines
        check_html(line)


# --- limits on the work of one upload --------------------------------------------------------


def test_parse_stops_at_its_time_budget_with_a_vietnamese_message() -> None:
    from bot.plans.parser import parse_lines
    from bot.plans.readers import read_plan_file
    from bot.plans.source import parse_budget

    ticks = iter(range(0, 10**6, 7))  # seven seconds pass at every look at the clock
    budget = parse_budget("ke_hoach.txt", clock=lambda: float(next(ticks)))
    with pytest.raises(FileTooLarge) as info:
        parse_lines(read_plan_file(next(SAMPLES.glob("004_*.txt"))), source="ke_hoach.txt",
                    budget=budget)
    assert info.value.message.startswith("Phân tích tệp “ke_hoach.txt” quá thời gian cho phép "
                                         "(60 giây)")


def test_upload_over_the_parse_time_is_refused_and_nothing_stored(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.plans import source

    monkeypatch.setattr(source, "MAX_PARSE_SECONDS", 0.0)
    with pytest.raises(FileTooLarge) as info:
        import_document(store, next(SAMPLES.glob("004_*.txt")).read_bytes(), "kh.txt",
                        actor=1, now=NOW)
    assert "quá thời gian cho phép (0 giây)" in info.value.message
    assert store.documents() == []


def test_upload_over_the_text_limit_is_refused_before_parsing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.plans import parser, source

    monkeypatch.setattr(source, "MAX_TEXT_CHARS", 10_000)
    monkeypatch.setattr(parser, "parse_header", lambda *_: pytest.fail("parsed"))
    with pytest.raises(FileTooLarge) as info:
        prepare_document(next(SAMPLES.glob("004_*.txt")).read_bytes(), "kh.txt")
    assert "“kh.txt” có hơn 10.000 ký tự văn bản" in info.value.message
