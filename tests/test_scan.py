"""Scanned PDFs: OCR through Tesseract (bot.plans.scan) inside the PDF reader (bot.plans.pdf).

The scans are rendered here with Pillow (tests/fixture_files.py). Tests that run Tesseract
fail when it is missing (tests/tools.py); the rest replace it, or pretend it is absent.
"""

from __future__ import annotations

import io
import shutil
import threading
import time
from pathlib import Path

import pytest

from bot.errors import EmptyPlan, FileTooLarge, PlanError, UnsupportedFile
from bot.importer import prepare_document
from bot.plans import parse_file, pdf, scan, source
from bot.plans.parser import parse_lines
from bot.plans.readers import load_plan_bytes
from bot.plans.scan import PageOcr
from bot.plans.source import OCR, WAIT, Progress
from tests.fixture_files import (
    cong_van_image,
    many_pages_pdf,
    relocated_gold,
    scan_pdf,
    score,
    text_image,
)
from tests.test_readers import make_pdf
from tests.tools import need_tesseract


def test_scanned_cong_van_is_read_back_with_its_diacritics() -> None:
    need_tesseract()
    events: list[Progress] = []
    result = load_plan_bytes(scan_pdf([cong_van_image()]), "cong_van.pdf",
                             progress=events.append)
    lines = [ln.text for ln in result.lines]
    for expected in ("ỦY BAN NHÂN DÂN", "HUYỆN TIÊN YÊN", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                     "Độc lập - Tự do - Hạnh phúc", "Số: 1234/UBND-VP",
                     "Tiên Yên, ngày 20 tháng 12 năm 2023", "- Phòng Y tế huyện;",
                     "Thực hiện chỉ đạo của Ủy ban nhân dân tỉnh về bảo đảm an"):
        assert expected in lines
    # The header's two columns come one after the other, as a text layer gives them.
    assert lines.index("HUYỆN TIÊN YÊN") < lines.index("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    [page] = result.ocr_pages
    assert page.page == 1 and page.confidence is not None and page.confidence > 85
    assert events == [Progress(OCR, 1, 1)]
    assert result.notices[0].startswith("Đã nhận dạng chữ (OCR) 1 trang scan")


def test_scanned_cong_van_gives_its_deadlines_and_units() -> None:
    need_tesseract()
    result = load_plan_bytes(scan_pdf([cong_van_image()]), "cong_van.pdf")
    plan = parse_lines(list(result.lines), source="cong_van.pdf")
    assert plan.document.number == "1234/UBND-VP"
    total = score(plan.to_json(), relocated_gold("cong_van_scan",
                                                 [ln.text for ln in result.lines]))
    assert total["deadline_f1"] == 1.0, total
    assert total["deadline_unit_accuracy"] == 1.0, total
    assert total["assignment_f1"] == 1.0, total


@pytest.mark.parametrize("angle", [90, 180])
def test_page_scanned_sideways_or_upside_down_is_turned(angle: int) -> None:
    need_tesseract()
    data = scan_pdf([cong_van_image().rotate(angle, expand=True)])
    result = load_plan_bytes(data, "nghieng.pdf")
    [page] = result.ocr_pages
    assert page.confidence is not None and page.confidence > 85
    assert "Số: 1234/UBND-VP" in [ln.text for ln in result.lines]


def test_poorly_scanned_page_is_reported_and_the_rest_imported() -> None:
    need_tesseract()
    data = scan_pdf([cong_van_image(), cong_van_image(blur=4.5)])
    events: list[Progress] = []
    prepared = prepare_document(data, "hai_trang.pdf", progress=events.append)
    assert events == [Progress(OCR, 1, 2), Progress(OCR, 2, 2)]
    warnings = prepared.plan.warnings
    assert warnings[0].startswith("Đã nhận dạng chữ (OCR) 2 trang scan")
    assert any(w.startswith("Trang 2: chữ nhận dạng kém") for w in warnings)
    assert not any(w.startswith("Trang 1:") for w in warnings)
    assert any(t.lead == ("Phòng Y tế",) for t in prepared.plan.tasks)


# --- reading order of the words Tesseract found -----------------------------------------------


def _data(words: list[tuple[int, int, int, int, int, str]]) -> dict[str, list]:
    """image_to_data's columns from (block, paragraph, line, left, width, text)."""
    keys = ("block_num", "par_num", "line_num", "left", "width", "text")
    data: dict[str, list] = {k: [w[i] for w in words] for i, k in enumerate(keys)}
    data["height"] = [30] * len(words)
    data["conf"] = [90] * len(words)
    return data


def test_columns_of_a_header_are_read_one_after_the_other() -> None:
    data = _data([
        (1, 1, 1, 100, 120, "ỦY"), (1, 1, 1, 230, 120, "BAN"),
        (1, 1, 1, 800, 150, "CỘNG"), (1, 1, 1, 960, 120, "HÒA"),
        (1, 1, 2, 110, 200, "HUYỆN"), (1, 1, 2, 820, 200, "Độc"), (1, 1, 2, 1030, 60, "lập"),
        (1, 1, 3, 120, 300, "V/v"),  # left only
        (2, 1, 1, 100, 200, "Kính"), (2, 1, 1, 310, 90, "gửi:"),
        (2, 2, 1, 100, 90, "1."), (2, 2, 1, 200, 150, "Phòng"), (2, 2, 1, 360, 40, "Y"),
        (2, 2, 1, 410, 50, "tế"),
    ])
    lines, confidence = scan._lines(data, 1654)
    assert lines == ["ỦY BAN", "HUYỆN", "V/v", "", "CỘNG HÒA", "Độc lập", "",
                     "Kính gửi:", "", "1. Phòng Y tế"]
    assert confidence == 90


def test_loosely_justified_line_is_not_split() -> None:
    """Justified text stretches spaces to about a letter's height; columns are further apart."""
    words = [(1, 1, 1, 100 + i * 136, 100, w) for i, w in enumerate(["một", "hai", "ba", "bốn"])]
    assert scan._lines(_data(words), 1654)[0] == ["một hai ba bốn"]


# --- Tesseract missing, limits, failures -----------------------------------------------------


@pytest.mark.parametrize("how", ["no program", "no Vietnamese model"])
def test_scan_without_tesseract_gets_a_vietnamese_message(
        how: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if how == "no program":
        monkeypatch.setattr(scan.shutil, "which", lambda name: None)
    else:
        monkeypatch.setattr(scan.shutil, "which", lambda name: "/usr/bin/tesseract")
        monkeypatch.setattr(scan, "_languages", lambda path: frozenset({"eng", "osd"}))
    data = scan_pdf([text_image(["Phòng Y tế báo cáo trước ngày 15/12/2023."])])
    with pytest.raises(UnsupportedFile) as info:
        prepare_document(data, "scan.pdf")
    assert "Tesseract" in info.value.message and "tesseract-ocr-vie" in info.value.message
    assert "bản .docx" in info.value.message


def test_mixed_pdf_without_tesseract_reads_its_text_pages(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from pypdf import PdfReader, PdfWriter

    monkeypatch.setattr(scan, "find_tesseract", lambda: None)
    writer = PdfWriter()
    for part in (make_pdf([["Phong Y te: bao cao truoc ngay 15/12/2023"]]),
                 scan_pdf([text_image(["Trang ký và đóng dấu"])])):
        writer.append(PdfReader(io.BytesIO(part)))
    buffer = io.BytesIO()
    writer.write(buffer)
    result = load_plan_bytes(buffer.getvalue(), "tron.pdf")
    assert [ln.text for ln in result.lines] == ["Phong Y te: bao cao truoc ngay 15/12/2023"]
    assert result.notices == (pdf.MSG_SCANS_SKIPPED.format(pages="2"),)


def test_two_hundred_page_scan_is_refused_before_any_ocr(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def no_ocr(*args: object, **kwargs: object) -> None:
        raise AssertionError("nothing may be recognised beyond the limit")

    monkeypatch.setattr(scan, "recognise", no_ocr)
    monkeypatch.setattr(scan, "recognise_upright", no_ocr)
    start = time.monotonic()
    with pytest.raises(FileTooLarge) as info:
        load_plan_bytes(many_pages_pdf(200, image=True), "scan_200.pdf")
    assert "200 trang là bản scan" in info.value.message
    assert f"giới hạn {source.MAX_OCR_PAGES} trang" in info.value.message
    assert time.monotonic() - start < 10


def _fake_ocr(monkeypatch: pytest.MonkeyPatch, delay: float = 0.0,
              clock: list[float] | None = None) -> list[int]:
    """Replace Tesseract: each page reads as one line naming it, takes ``delay`` seconds (and
    moves ``clock[0]`` on by 100 s); returns the pages read."""
    pages: list[int] = []

    def fake(image: object, *, page: int, tesseract: str, timeout: float) -> PageOcr:
        time.sleep(delay)
        if clock is not None:
            clock[0] += 100.0
        pages.append(page)
        return PageOcr(page, (f"Trang {page}: Phòng Y tế báo cáo trước ngày 15/12/2023.",),
                       93.0, delay)

    monkeypatch.setattr(scan, "find_tesseract", lambda: "tesseract")
    monkeypatch.setattr(scan, "recognise_upright", fake)
    monkeypatch.setattr(scan, "render_page", lambda page, dpi=300: None)
    return pages


def test_scan_at_the_page_limit_is_recognised_page_by_page(
        monkeypatch: pytest.MonkeyPatch) -> None:
    pages = _fake_ocr(monkeypatch)
    events: list[Progress] = []
    result = load_plan_bytes(many_pages_pdf(source.MAX_OCR_PAGES, image=True), "scan.pdf",
                             progress=events.append)
    assert pages == list(range(1, source.MAX_OCR_PAGES + 1))
    assert events == [Progress(OCR, n, source.MAX_OCR_PAGES)
                      for n in range(1, source.MAX_OCR_PAGES + 1)]
    assert len(result.lines) == source.MAX_OCR_PAGES


def test_ocr_stops_at_the_time_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [0.0]
    pages = _fake_ocr(monkeypatch, clock=now)
    with pytest.raises(FileTooLarge) as info:
        pdf.read_pdf(many_pages_pdf(20, image=True), clock=lambda: now[0])
    assert "quá thời gian cho phép (300 giây)" in info.value.message
    assert pages == [1, 2, 3]  # 300 s of budget: the fourth page is not started


def test_tesseract_time_out_and_failure_become_messages(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import pytesseract

    def timeout(*args: object, **kwargs: object) -> None:
        raise RuntimeError("Tesseract process timeout")

    def failure(*args: object, **kwargs: object) -> None:
        raise pytesseract.TesseractError(1, "Error opening data file")

    image = text_image(["x"])
    monkeypatch.setattr(pytesseract, "image_to_data", timeout)
    with pytest.raises(FileTooLarge) as info:
        scan.recognise(image, page=3, tesseract="tesseract", timeout=12.0)
    assert "quá thời gian cho phép (12 giây)" in info.value.message
    monkeypatch.setattr(pytesseract, "image_to_data", failure)
    with pytest.raises(PlanError) as info:
        scan.recognise(image, page=3, tesseract="tesseract", timeout=12.0)
    assert "trang 3" in info.value.message


def test_scan_with_no_readable_word_is_an_empty_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan, "find_tesseract", lambda: "tesseract")
    monkeypatch.setattr(scan, "recognise_upright", lambda image, *, page, tesseract, timeout:
                        PageOcr(page, (), None, 0.1))
    monkeypatch.setattr(scan, "render_page", lambda page, dpi=300: None)
    with pytest.raises(EmptyPlan) as info:
        load_plan_bytes(many_pages_pdf(2, image=True), "trang_trang.pdf")
    assert "không đọc được chữ nào" in info.value.message


def test_second_scan_waits_for_the_first(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_ocr(monkeypatch)
    events: list[Progress] = []
    assert scan._SLOT.acquire(timeout=5)  # another file is being recognised
    done = threading.Event()

    def read() -> None:
        load_plan_bytes(many_pages_pdf(1, image=True), "cho.pdf", progress=events.append)
        done.set()

    worker = threading.Thread(target=read)
    worker.start()
    try:
        deadline = time.monotonic() + 5
        while not events and time.monotonic() < deadline:
            time.sleep(0.01)
        assert events == [Progress(WAIT)] and not done.is_set()
    finally:
        scan._SLOT.release()
    worker.join(5)
    assert done.is_set() and events == [Progress(WAIT), Progress(OCR, 1, 1)]
    assert "một tệp khác" in events[0].message


def test_a_huge_page_is_rendered_within_the_pixel_limit() -> None:
    import pypdfium2

    document = pypdfium2.PdfDocument.new()
    document.new_page(14400, 14400)  # 200 x 200 inches, the largest PDF page
    image = scan.render_page(document[0])
    assert image.width * image.height <= scan.MAX_PIXELS
    assert image.mode == "L"


def test_find_tesseract_needs_the_vietnamese_model() -> None:
    path = scan.find_tesseract()
    if path is not None:
        assert "vie" in scan._languages(path)
    elif shutil.which("tesseract"):
        assert "vie" not in scan._languages(shutil.which("tesseract") or "")


def _scan_with_signature_stamp() -> bytes:
    """A page covered by an image, with a digital signature's stamp as its only text layer."""
    import matplotlib

    matplotlib.use("Agg")
    import numpy as np
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8.27, 11.69), dpi=50)
    figure.figimage(np.full((585, 414), 0.9), cmap="gray", vmin=0, vmax=1)
    with matplotlib.rc_context({"pdf.fonttype": 42}):
        for i, line in enumerate(["Người ký: Ủy ban nhân dân huyện Tiên Yên",
                                  "Cơ quan: Tỉnh Quảng Ninh",
                                  "Thời gian ký: 20.12.2023 14:31:52 +07:00"]):
            figure.text(0.6, 0.95 - i * 0.015, line, family="DejaVu Sans", fontsize=7)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="pdf")
    return buffer.getvalue()


def test_signed_scan_is_recognised_or_read_from_its_stamp(
        monkeypatch: pytest.MonkeyPatch) -> None:
    data = _scan_with_signature_stamp()
    pages = _fake_ocr(monkeypatch)
    recognised = load_plan_bytes(data, "da_ky.pdf")
    assert pages == [1]
    assert [ln.text for ln in recognised.lines] == [
        "Trang 1: Phòng Y tế báo cáo trước ngày 15/12/2023."]
    monkeypatch.setattr(scan, "find_tesseract", lambda: None)
    stamp_only = load_plan_bytes(data, "da_ky.pdf")
    assert [ln.text for ln in stamp_only.lines][0] == "Người ký: Ủy ban nhân dân huyện Tiên Yên"
    assert stamp_only.notices == ()


def test_parse_file_keeps_what_the_reader_noticed_as_warnings(tmp_path: Path) -> None:
    # `python -m bot parse` and the local console read through parse_file: the OCR notice must
    # reach them as it reaches a chat import.
    need_tesseract()
    path = tmp_path / "cong_van.pdf"
    path.write_bytes(scan_pdf([cong_van_image()]))
    plan = parse_file(path)
    assert plan.tasks
    assert plan.warnings[0].startswith("Đã nhận dạng chữ (OCR) 1 trang scan")
