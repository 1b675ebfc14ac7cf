"""Tests for bot.plans.readers: line numbers, NFC, markdown, legacy encodings, bad input."""

from __future__ import annotations

import io
import random
import re
import unicodedata
import zipfile
from pathlib import Path

import pytest

from bot.errors import (
    BotError,
    BrokenFile,
    EmptyPlan,
    EncodingUnknown,
    FileTooLarge,
    PlanError,
    UnsupportedFile,
)
from bot.plans import readers
from bot.plans.readers import (
    decode_tcvn3,
    decode_text,
    decode_vni,
    encode_tcvn3,
    encode_vni,
    load_plan_bytes,
    load_plan_file,
    read_plan_bytes,
    read_plan_file,
    strip_markdown,
)
from bot.plans.source import MAX_FILE_BYTES, SourceLine
from tests.fixture_files import pdf_file

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
VIETNAMESE_RE = re.compile(r"[ăâđêôơưĂÂĐÊÔƠƯ\u1ea0-\u1ef9àáèéìíòóùúýãõĩũ]")


def sample(prefix: str) -> Path:
    return next(SAMPLES.glob(f"{prefix}_*.txt"))


def texts(lines: list[SourceLine]) -> list[str]:
    return [line.text for line in lines]


def assert_vietnamese_error(exc: BotError) -> None:
    assert isinstance(exc, PlanError)
    assert VIETNAMESE_RE.search(exc.message), exc.message
    assert "Traceback" not in exc.message


# --- plain text: numbering, newlines, BOMs, NFC ----------------------------------------------


def test_txt_keeps_every_line_number_including_blank_lines() -> None:
    data = "KẾ HOẠCH  \n\nPhòng Y tế: trước ngày 15/12/2023   \n\n\n- Báo cáo kết quả\n".encode()
    lines = read_plan_bytes(data, "ke_hoach.txt")
    assert lines == [
        SourceLine(1, "KẾ HOẠCH"),
        SourceLine(2, ""),
        SourceLine(3, "Phòng Y tế: trước ngày 15/12/2023"),
        SourceLine(4, ""),
        SourceLine(5, ""),
        SourceLine(6, "- Báo cáo kết quả"),
    ]


@pytest.mark.parametrize(
    ("newline", "trailing"),
    [("\n", ""), ("\n", "\n"), ("\r\n", "\r\n"), ("\r", ""), ("\r", "\r")],
)
def test_line_endings_give_editor_line_numbers(newline: str, trailing: str) -> None:
    body = newline.join(["một", "", "ba", "bốn"]) + trailing
    assert texts(read_plan_bytes(body.encode(), "a.txt")) == ["một", "", "ba", "bốn"]


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("\ufeffỦy ban nhân dân\ndòng hai".encode(), "utf-8-sig"),
        ("Ủy ban nhân dân\ndòng hai".encode(), "utf-8"),
        ("Ủy ban nhân dân\ndòng hai".encode("utf-16"), "utf-16"),
        (b"\xfe\xff" + "Ủy ban nhân dân\ndòng hai".encode("utf-16-be"), "utf-16"),
        ("Ủy ban nhân dân\ndòng hai".encode("utf-32"), "utf-32"),
    ],
)
def test_unicode_encodings_with_and_without_bom(data: bytes, encoding: str) -> None:
    result = load_plan_bytes(data, "a.txt")
    assert result.encoding == encoding
    assert texts(list(result.lines)) == ["Ủy ban nhân dân", "dòng hai"]


def test_decomposed_unicode_comes_out_nfc_and_is_counted() -> None:
    nfd = unicodedata.normalize("NFD", "Phòng Tài chính - Kế hoạch")
    data = f"{nfd}\nđã chuẩn hóa\n{nfd}\n".encode()
    result = load_plan_bytes(data, "a.md")
    assert [line.text for line in result.lines] == [
        "Phòng Tài chính - Kế hoạch", "đã chuẩn hóa", "Phòng Tài chính - Kế hoạch"]
    assert all(unicodedata.is_normalized("NFC", line.text) for line in result.lines)
    assert result.non_nfc_lines == 2


def test_sample_000_nfd_lines_become_nfc_with_file_line_numbers() -> None:
    path = sample("000")
    raw = path.read_text(encoding="utf-8").split("\n")
    result = load_plan_file(path)
    assert len(result.lines) == len(raw)
    assert result.non_nfc_lines > 0
    for line, original in zip(result.lines, raw, strict=True):
        assert unicodedata.is_normalized("NFC", line.text)
        if original.strip() and not original.strip().isdigit():
            # Same words as the file line, only normalised.
            assert line.text.split() == unicodedata.normalize("NFC", original).split()


def test_page_numbers_are_blanked_but_keep_their_line() -> None:
    data = "Chủ động nắm chắc tình hình,\n4 \ndự báo đúng\n- 12 -\n".encode()
    result = load_plan_bytes(data, "a.txt")
    assert texts(list(result.lines)) == ["Chủ động nắm chắc tình hình,", "", "dự báo đúng", ""]
    assert result.page_number_lines == 2
    kept = load_plan_bytes(data, "a.txt", drop_page_numbers=False)
    assert kept.lines[1].text == "4"


# --- markdown ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("**NGHỊ QUYẾT**  ", "NGHỊ QUYẾT  "),
        ("***“Giữ vững địa bàn”*** và tập trung", "“Giữ vững địa bàn” và tập trung"),
        ("*Tiếp tục đổi mới* gắn với thực hiện", "Tiếp tục đổi mới gắn với thực hiện"),
        ("**2. Các chỉ tiêu: Về Đảng:** (1) Tỷ lệ. **Về kinh tế:** (4)",
         "2. Các chỉ tiêu: Về Đảng: (1) Tỷ lệ. Về kinh tế: (4)"),
        ("Quy định “*về giám sát của Mặt trận*”.", "Quy định “về giám sát của Mặt trận”."),
        ("__Phòng Y tế__ chủ trì", "Phòng Y tế chủ trì"),
        ("**bao gồm *in nghiêng* bên trong**", "bao gồm in nghiêng bên trong"),
        ("## II- NHIỆM VỤ VÀ GIẢI PHÁP", "II- NHIỆM VỤ VÀ GIẢI PHÁP"),
        ("### **2.1. Tăng cường công tác**", "2.1. Tăng cường công tác"),
        ("#### Mục 4 ####", "Mục 4"),
        ("-----", ""),
        ("***", ""),
        ("* * *", ""),
        ("___", ""),
        ("- Phòng Y tế: báo cáo trước 15/12", "- Phòng Y tế: báo cáo trước 15/12"),
        ("* Phòng Y tế: báo cáo", "- Phòng Y tế: báo cáo"),
        ("+ Phòng Giáo dục", "- Phòng Giáo dục"),
        ("  * mục con", "  - mục con"),
        ("Đạt 5* theo xếp hạng", "Đạt 5* theo xếp hạng"),
        ("Công thức 2*3*4 giữ nguyên", "Công thức 2*3*4 giữ nguyên"),
        ("tên_tệp_cấu_hình giữ nguyên", "tên_tệp_cấu_hình giữ nguyên"),
        ("**T/M THÀNH ỦY  ", "T/M THÀNH ỦY  "),
        ("BÍ THƯ**", "BÍ THƯ"),
        ("(sau sáp nhập).*", "(sau sáp nhập)."),
        ("> Trích dẫn", "Trích dẫn"),
        ("| Đơn vị | Nhiệm vụ | Thời hạn |", "Đơn vị | Nhiệm vụ | Thời hạn"),
        ("|---|:---:|---|", ""),
        (r"Giá 5\* sao \# không phải tiêu đề", "Giá 5* sao # không phải tiêu đề"),
        ("#hashtag không phải tiêu đề", "#hashtag không phải tiêu đề"),
    ],
)
def test_strip_markdown(line: str, expected: str) -> None:
    assert strip_markdown(line) == expected


@pytest.mark.parametrize("prefix", ["002", "004"])
def test_markdown_samples_lose_their_markup(prefix: str) -> None:
    path = sample(prefix)
    raw = path.read_text(encoding="utf-8").split("\n")
    lines = read_plan_file(path)
    assert [line.number for line in lines] == list(range(1, len(raw) + 1))
    for line in lines:
        assert "**" not in line.text
        assert not line.text.startswith("#")
        assert line.text != "-----"
    # Headings keep their words at their own line number.
    heading = next(i for i, text in enumerate(raw, 1) if text.startswith("## II-"))
    assert lines[heading - 1].text.startswith("II- NHIỆM VỤ")


def test_ocr_sample_is_repaired_in_place() -> None:
    path = sample("003")
    raw = path.read_text(encoding="utf-8").split("\n")
    result = load_plan_file(path)
    assert len(result.lines) == len(raw)
    assert result.ocr_fixed_lines > 20
    assert "trong tmh" in raw[13] and "trong tỉnh" in result.lines[13].text
    assert raw[150].strip() == "4" and result.lines[150].text == ""


# --- legacy encodings -------------------------------------------------------------------------

SENTENCES = [
    "Thực hiện Kết luận số 25-KL/TU ngày 30/9/2022 của Ban Chấp hành Đảng bộ thành phố",
    "phương hướng, nhiệm vụ trọng tâm quý IV năm 2022; Ủy ban nhân dân các phường, xã",
    "Phòng Tài chính - Kế hoạch chủ trì, phối hợp với các phòng, ban, đơn vị liên quan",
    "tỷ lệ người dân nông thôn sử dụng nguồn nước ăn uống hợp vệ sinh đạt trên 99%",
    "Tăng cường hoạt động truyền thông và xúc tiến, quảng bá du lịch; thường xuyên rà soát",
    "hoàn thành trước ngày 31/12/2021; khuyến khích, tạo điều kiện thúc đẩy phát triển",
]
_TONES = "\u0300\u0301\u0303\u0309\u0323"


def encode_cp1258(text: str) -> bytes:
    """Windows-1258 as Windows writes it: letters with shape marks precomposed, tone combined."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        parts = unicodedata.normalize("NFD", ch)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONES))
        out += (base + "".join(c for c in parts if c in _TONES)).encode("cp1258")
    return bytes(out)


ENCODERS = {"tcvn3": encode_tcvn3, "vni": encode_vni, "cp1258": encode_cp1258}


@pytest.mark.parametrize("encoding", sorted(ENCODERS))
def test_legacy_encoded_file_is_converted(encoding: str) -> None:
    data = ENCODERS[encoding]("\n".join(SENTENCES) + "\n")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    result = load_plan_bytes(data, "cu.txt")
    assert result.encoding == encoding
    got = [line.text for line in result.lines]
    if encoding == "tcvn3":  # TCVN3 has no capitals with tones: "Ủy" comes back as "ủy"
        assert [t.casefold() for t in got] == [s.casefold() for s in SENTENCES]
        assert got[0] == SENTENCES[0]
    else:
        assert got == SENTENCES


@pytest.mark.parametrize("sentence", SENTENCES)
@pytest.mark.parametrize("encoding", ["tcvn3", "vni"])
def test_legacy_tables_round_trip(sentence: str, encoding: str) -> None:
    encoded = ENCODERS[encoding](sentence).decode("cp1252")
    decoded = decode_tcvn3(encoded) if encoding == "tcvn3" else decode_vni(encoded)
    assert decoded.casefold() == sentence.casefold()
    assert encoded != sentence  # the tables really changed something


def test_known_legacy_spellings() -> None:
    assert decode_tcvn3("B¶o Th¾ng, M\xad\xeang Kh\xad\xacng") == "Bảo Thắng, Mường Khương"
    assert decode_vni("Xin chaøo caùc baïn, Ñaûng boä") == "Xin chào các bạn, Đảng bộ"
    assert decode_tcvn3("KÕ HO¹CH") == "Kế HOẠCH"


@pytest.mark.parametrize("encoding", ["tcvn3", "vni"])
def test_legacy_text_saved_as_utf8_is_repaired(encoding: str) -> None:
    mojibake = ENCODERS[encoding]("\n".join(SENTENCES)).decode("cp1252")
    result = load_plan_bytes(mojibake.encode("utf-8"), "a.txt")
    assert result.encoding == encoding
    assert [line.text.casefold() for line in result.lines] == [s.casefold() for s in SENTENCES]


def test_whole_samples_survive_legacy_round_trip() -> None:
    for prefix in ("000", "003"):
        text = unicodedata.normalize("NFC", sample(prefix).read_text(encoding="utf-8"))
        for encoding in ("vni", "cp1258"):
            decoded, detected = decode_text(ENCODERS[encoding](text))
            assert detected == encoding
            assert decoded == text


@pytest.mark.parametrize("seed", range(8))
def test_random_non_utf8_bytes_are_refused(seed: int) -> None:
    rng = random.Random(seed)
    alphabet = list(range(0x80, 0x100)) + [0x20] * 40 + list(b"abcdeghiklmnostu")
    data = bytes(rng.choice(alphabet) for _ in range(2000))
    with pytest.raises(EncodingUnknown) as info:
        read_plan_bytes(data, "rac.txt")
    assert "TCVN3/VNI" in info.value.message
    assert_vietnamese_error(info.value)


def test_western_latin1_text_is_not_mistaken_for_vietnamese() -> None:
    data = "Le café est très bon à Noël; déjà vu, naïve façade, résumé.\n".encode("latin-1")
    with pytest.raises(EncodingUnknown):
        read_plan_bytes(data, "a.txt")


def test_plain_utf8_with_latin_symbols_is_left_alone() -> None:
    data = "Nhiệt độ 25°C, diện tích 25.166,56m² ± 1%; «Quảng Ninh»\n".encode()
    assert texts(read_plan_bytes(data, "a.txt")) == [
        "Nhiệt độ 25°C, diện tích 25.166,56m² ± 1%; «Quảng Ninh»"]


# --- bad input --------------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))


def _zip_without_word() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "xin chào")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("filename", "data", "error", "fragment"),
    [
        ("trong.txt", b"", EmptyPlan, "trống"),
        ("trong.docx", b"", EmptyPlan, "trống"),
        ("khoang_trang.txt", b"  \n\t\n \r\n   ", EmptyPlan, "khoảng trắng"),
        ("khoang_trang.md", "\u00a0\u3000\n".encode(), EmptyPlan, "khoảng trắng"),
        ("chi_markdown.md", b"-----\n***\n", EmptyPlan, "không có nội dung"),
        ("anh.txt", PNG, UnsupportedFile, "ảnh PNG"),
        ("nul.txt", b"Ke hoach\x00\x00\x01\x02 nam 2023", UnsupportedFile, "nhị phân"),
        ("a.md", b"%PDF-1.4\n%\xe2\xe3", UnsupportedFile, "PDF"),
        ("bang.xlsx", b"PK\x03\x04", UnsupportedFile, ".txt, .md, .docx, .doc, .pdf"),
        ("khongduoi", b"abc", UnsupportedFile, "không có đuôi"),
        ("CU.DOC", b"abc", BrokenFile, "Word 97-2003"),  # refused before LibreOffice runs
        ("hong.docx", b"day khong phai la zip", BrokenFile, "Tệp .docx bị hỏng"),
        ("zip.docx", _zip_without_word(), BrokenFile, "không phải định dạng Word"),
        ("hong.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ngarbage", BrokenFile, "PDF"),
        ("khong_pdf.pdf", b"chi la van ban", BrokenFile, "bị hỏng"),
        ("rac.txt", bytes(range(0x80, 0x100)) * 4, EncodingUnknown, "UTF-8"),
    ],
)
def test_bad_input_gives_a_vietnamese_error(filename: str, data: bytes, error: type[BotError],
                                            fragment: str) -> None:
    with pytest.raises(error) as info:
        read_plan_bytes(data, filename)
    assert fragment in info.value.message
    assert_vietnamese_error(info.value)


@pytest.mark.parametrize("name", ["KE_HOACH.TXT", "ke_hoach.Md", "Ke.Hoach.txt"])
def test_extension_is_case_insensitive(name: str) -> None:
    assert texts(read_plan_bytes("Dòng một".encode(), name)) == ["Dòng một"]


def test_oversized_upload_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readers, "MAX_FILE_BYTES", 100)
    assert read_plan_bytes(b"a" * 100, "a.txt")[0].text == "a" * 100
    with pytest.raises(FileTooLarge) as info:
        read_plan_bytes(b"a" * 101, "a.txt")
    assert_vietnamese_error(info.value)


def test_sparse_file_over_limit_is_refused_without_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "lon.txt"
    with big.open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)

    def no_open(*args: object, **kwargs: object) -> None:
        raise AssertionError("the file must not be opened")

    monkeypatch.setattr(Path, "open", no_open)
    with pytest.raises(FileTooLarge) as info:
        read_plan_file(big)
    assert "20 MB" in info.value.message and "(20,0 MB)" in info.value.message
    assert_vietnamese_error(info.value)


def test_missing_file_is_a_plan_error(tmp_path: Path) -> None:
    with pytest.raises(PlanError) as info:
        read_plan_file(tmp_path / "khong_co.txt")
    assert_vietnamese_error(info.value)


def test_read_plan_file_accepts_str_and_path(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes("Phòng Y tế\n\nhoàn thành\n".encode())
    assert read_plan_file(str(path)) == read_plan_file(path) == [
        SourceLine(1, "Phòng Y tế"), SourceLine(2, ""), SourceLine(3, "hoàn thành")]


# --- .docx ------------------------------------------------------------------------------------


def _numbered(paragraph: object, num_id: int, level: int) -> None:
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    ppr = paragraph._p.get_or_add_pPr()  # type: ignore[attr-defined]
    ppr.append(parse_xml(f'<w:numPr {nsdecls("w")}><w:ilvl w:val="{level}"/>'
                         f'<w:numId w:val="{num_id}"/></w:numPr>'))


def _add_outline_numbering(document: object) -> int:
    """A three-level list: "1.", "a)", bullet — like plans that number duties by hand."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    numbering = document.part.numbering_part.element  # type: ignore[attr-defined]
    numbering.insert(0, parse_xml(
        f'<w:abstractNum {nsdecls("w")} w:abstractNumId="90">'
        '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/>'
        '<w:lvlText w:val="%1."/></w:lvl>'
        '<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="lowerLetter"/>'
        '<w:lvlText w:val="%2)"/></w:lvl>'
        '<w:lvl w:ilvl="2"><w:start w:val="1"/><w:numFmt w:val="bullet"/>'
        '<w:lvlText w:val="•"/></w:lvl>'
        '<w:lvl w:ilvl="3"><w:start w:val="3"/><w:numFmt w:val="upperRoman"/>'
        '<w:lvlText w:val="%4."/></w:lvl>'
        "</w:abstractNum>"))
    numbering.append(parse_xml(
        f'<w:num {nsdecls("w")} w:numId="90"><w:abstractNumId w:val="90"/></w:num>'))
    return 90


def _docx_bytes() -> bytes:
    import docx

    document = docx.Document()
    document.add_heading("KẾ HOẠCH", level=1)
    document.add_paragraph(unicodedata.normalize("NFD", "Triển khai nhiệm vụ năm 2023"))
    document.add_paragraph("Rà soát hồ sơ", style="List Number")
    document.add_paragraph("Báo cáo kết quả", style="List Number")
    document.add_paragraph("Lưu ý chung", style="List Bullet")
    table = document.add_table(rows=3, cols=3)
    for row, values in zip(table.rows, [
        ("Đơn vị", "Nhiệm vụ", "Thời hạn"),
        ("Phòng Y tế", "Báo cáo tình hình dịch bệnh", "trước ngày 15/12/2023"),
        ("Phòng Giáo dục", "", "trước ngày 20/12/2023"),
    ], strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.add_paragraph("")
    num_id = _add_outline_numbering(document)
    for text, level in [("Mục tiêu", 0), ("Nhiệm vụ thứ nhất", 1), ("Nhiệm vụ thứ hai", 1),
                        ("Ghi chú", 2), ("Tổ chức thực hiện", 0), ("Phân công", 1),
                        ("Phụ lục", 3)]:
        _numbered(document.add_paragraph(text), num_id, level)
    paragraph = document.add_paragraph("Thời hạn:\tngày 30/6")
    paragraph.add_run().add_break()
    paragraph.add_run("tiếp theo **không** phải markdown")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_paragraphs_tables_and_numbering_in_document_order(tmp_path: Path) -> None:
    path = tmp_path / "ke_hoach.DOCX"
    path.write_bytes(_docx_bytes())
    result = load_plan_file(path)
    assert result.encoding == "docx"
    assert result.non_nfc_lines == 1
    assert list(result.lines) == [
        SourceLine(1, "KẾ HOẠCH"),
        SourceLine(2, "Triển khai nhiệm vụ năm 2023"),
        SourceLine(3, "1. Rà soát hồ sơ"),
        SourceLine(4, "2. Báo cáo kết quả"),
        SourceLine(5, "- Lưu ý chung"),
        SourceLine(6, "Đơn vị | Nhiệm vụ | Thời hạn"),
        SourceLine(7, "Phòng Y tế | Báo cáo tình hình dịch bệnh | trước ngày 15/12/2023"),
        SourceLine(8, "Phòng Giáo dục | | trước ngày 20/12/2023"),
        SourceLine(9, ""),
        SourceLine(10, "1. Mục tiêu"),
        SourceLine(11, "a) Nhiệm vụ thứ nhất"),
        SourceLine(12, "b) Nhiệm vụ thứ hai"),
        SourceLine(13, "- Ghi chú"),
        SourceLine(14, "2. Tổ chức thực hiện"),
        SourceLine(15, "a) Phân công"),
        SourceLine(16, "III. Phụ lục"),
        SourceLine(17, "Thời hạn: ngày 30/6 tiếp theo **không** phải markdown"),
    ]


def test_docx_with_only_empty_paragraphs_is_empty() -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("   ")
    document.add_table(rows=1, cols=2)
    buffer = io.BytesIO()
    document.save(buffer)
    with pytest.raises(EmptyPlan) as info:
        read_plan_bytes(buffer.getvalue(), "rong.docx")
    assert_vietnamese_error(info.value)


def test_truncated_docx_is_broken() -> None:
    data = _docx_bytes()
    with pytest.raises(BrokenFile):
        read_plan_bytes(data[: len(data) // 2], "cut.docx")


# --- .pdf -------------------------------------------------------------------------------------


def make_pdf(pages: list[list[str]]) -> bytes:
    """A minimal valid PDF: standard Helvetica, WinAnsi text, one text line per entry."""

    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    objects: dict[int, bytes] = {}
    kids = []
    next_id = 4
    for lines in pages:
        page_id, content_id = next_id, next_id + 1
        next_id += 2
        kids.append(page_id)
        ops = ["BT", "/F1 12 Tf", "14 TL", "72 720 Td"]
        ops += [f"({escape(t)}) Tj" if i == 0 else f"T* ({escape(t)}) Tj"
                for i, t in enumerate(lines)]
        stream = "\n".join([*ops, "ET"]).encode("cp1252")
        objects[content_id] = (b"<< /Length %d >>\nstream\n" % len(stream) + stream
                               + b"\nendstream")
        objects[page_id] = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>"
                            % content_id)
    objects[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[2] = (b"<< /Type /Pages /Kids [%s] /Count %d >>"
                  % (" ".join(f"{k} 0 R" for k in kids).encode(), len(kids)))
    objects[3] = (b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
                  b"/Encoding /WinAnsiEncoding >>")
    return pdf_file(objects)


def test_pdf_lines_are_numbered_across_pages(tmp_path: Path) -> None:
    path = tmp_path / "ke_hoach.pdf"
    path.write_bytes(make_pdf([
        ["KE HOACH (so 12)", "Phong Y te: truoc ngay 15/12/2023"],
        ["Phong Giao duc: truoc ngay 20/12/2023", "Noi nhan:"],
    ]))
    result = load_plan_file(path)
    assert result.encoding == "pdf"
    assert list(result.lines) == [
        SourceLine(1, "KE HOACH (so 12)"),
        SourceLine(2, "Phong Y te: truoc ngay 15/12/2023"),
        SourceLine(3, "Phong Giao duc: truoc ngay 20/12/2023"),
        SourceLine(4, "Noi nhan:"),
    ]


def test_pdf_with_vietnamese_text_layer() -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 2))
    with matplotlib.rc_context({"pdf.fonttype": 42}):
        figure.text(0.05, 0.7, "Phòng Y tế: trước ngày 15/12/2023", family="DejaVu Sans")
        figure.text(0.05, 0.4, "Ủy ban nhân dân tỉnh Quảng Ninh", family="DejaVu Sans")
        buffer = io.BytesIO()
        figure.savefig(buffer, format="pdf")
    assert texts(read_plan_bytes(buffer.getvalue(), "vn.pdf")) == [
        "Phòng Y tế: trước ngày 15/12/2023", "Ủy ban nhân dân tỉnh Quảng Ninh"]


def test_pdf_with_blank_pages_only_is_empty() -> None:
    with pytest.raises(EmptyPlan) as info:
        read_plan_bytes(make_pdf([[], []]), "trang.pdf")
    assert "không có chữ nào" in info.value.message
    assert_vietnamese_error(info.value)


def _encrypted(user_password: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(make_pdf([["Phong Y te: truoc ngay 15/12/2023"]]))))
    writer.encrypt(user_password=user_password, owner_password="chu-so-huu",
                   algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_password_protected_pdf_is_refused() -> None:
    with pytest.raises(BrokenFile) as info:
        read_plan_bytes(_encrypted("bi-mat"), "khoa.pdf")
    assert "mật khẩu" in info.value.message
    assert_vietnamese_error(info.value)


def test_pdf_with_only_an_owner_password_is_read() -> None:
    assert texts(read_plan_bytes(_encrypted(""), "mo.pdf")) == [
        "Phong Y te: truoc ngay 15/12/2023"]


def test_truncated_pdf_is_broken() -> None:
    data = make_pdf([["Phong Y te: truoc ngay 15/12/2023"]])
    with pytest.raises((BrokenFile, EmptyPlan)) as info:
        read_plan_bytes(data[:40], "cut.pdf")
    assert_vietnamese_error(info.value)


# --- hostile .docx: numbering, tables, the package ------------------------------------------


@pytest.mark.parametrize(("number", "roman"), [
    (1, "i"), (4, "iv"), (9, "ix"), (14, "xiv"), (40, "xl"), (90, "xc"), (400, "cd"),
    (1994, "mcmxciv"), (3999, "mmmcmxcix"), (4000, "mmmm"),
    (32767, "m" * 32 + "dcclxvii"), (10**20, "m" * 32 + "dcclxvii"), (0, ""),
])
def test_roman_numbers_are_clamped_to_words_largest(number: int, roman: str) -> None:
    assert readers._roman(number) == roman


@pytest.mark.parametrize(("number", "letters"), [
    (1, "a"), (26, "z"), (27, "aa"), (53, "aaa"), (32767, "g" * 1261), (5_000_000, "g" * 1261),
])
def test_list_letters_are_clamped_to_words_largest(number: int, letters: str) -> None:
    assert readers._letters(number) == letters


@pytest.mark.parametrize(("value", "number"), [
    ("7", 7), (" 12 ", 12), ("0007", 7), ("-3", 0), ("99999999999999999999", 32767),
    ("1" + "0" * 5000, 32767), ("-" + "9" * 50, 0), ("abc", None), ("x", None), ("", None),
    ("1.5", None), (None, None),
])
def test_numbering_attributes_are_read_defensively(value: str | None, number: int | None) -> None:
    assert readers._number(value) == number


def _docx_lines(data: bytes) -> list[str]:
    return [line for line in texts(read_plan_bytes(data, "k.docx")) if line]


def test_numbering_that_starts_at_ten_to_the_twenty_is_read_at_32767() -> None:
    from tests.hostile_files import TASK, roman_start_bomb

    roman = "M" * 32 + "DCCLXVII"
    assert _docx_lines(roman_start_bomb()) == [f"{roman}. {TASK}"] * 3


def test_broken_numbering_definitions_are_ignored_and_the_text_read() -> None:
    from tests.hostile_files import TASK, broken_numbering

    assert _docx_lines(broken_numbering()) == [
        f"1. Mục một: {TASK}",  # start "x" -> 1; the level "abc" left out
        "Mục hai: Phòng Nội vụ báo cáo.",  # paragraph level "abc": no number
        "Mục ba: Phòng Tư pháp báo cáo.",  # level 10^11: no number
        "- Mục bốn: Phòng Văn hóa báo cáo.",  # a list that is not defined: a bullet
    ]


def test_numbering_from_a_chain_of_based_on_styles() -> None:
    from tests.hostile_files import (
        W_NS,
        document_xml,
        docx_package,
        level,
        numbering_xml,
        paragraph,
    )

    styles = (f'<w:styles xmlns:w="{W_NS}">'
              '<w:style w:styleId="a"><w:pPr><w:numPr><w:numId w:val="1"/></w:numPr></w:pPr>'
              '</w:style><w:style w:styleId="b"><w:basedOn w:val="a"/><w:pPr><w:numPr>'
              '<w:ilvl w:val="1"/></w:numPr></w:pPr></w:style>'
              '<w:style w:styleId="c"><w:basedOn w:val="b"/></w:style>'
              '<w:style w:styleId="x"><w:basedOn w:val="y"/></w:style>'
              '<w:style w:styleId="y"><w:basedOn w:val="x"/></w:style></w:styles>')
    numbering = numbering_xml(level("0", "1", "decimal", "%1.")
                              + level("1", "1", "lowerLetter", "%2)"))
    body = (paragraph("Mục", style="a") + paragraph("Việc một", style="c")
            + paragraph("Việc hai", style="c") + paragraph("Vòng", style="x")
            + paragraph("Mục hai", style="c", ilvl="0"))
    assert _docx_lines(docx_package(document_xml(body), numbering=numbering,
                                    styles=styles)) == [
        "1. Mục", "a) Việc một", "b) Việc hai", "Vòng", "2. Mục hai"]


def test_table_spans_and_grids_are_cut_at_words_widest_table() -> None:
    from tests.hostile_files import grid_span_bomb

    rows = [line for line in _docx_lines(grid_span_bomb()) if "Phòng Y tế" in line]
    assert len(rows) == 3
    # 63 skipped columns, the cell and its 62 spanned columns, two cells (the 63 skipped after
    # them are empty and the row line drops empty cells at its end)
    before, after = rows[0].split("Phòng Y tế")
    spanned, last = after.split("Báo cáo kết quả")
    assert before.count("|") == 63 and spanned.count("|") == 63
    assert last == " | trước ngày 15/12/2023"


def test_text_in_a_text_box_fallback_is_read_once() -> None:
    from tests.hostile_files import deep_runs

    lines = _docx_lines(deep_runs())
    assert lines[0].startswith("ab ab ") and lines[0].count("hộp") == 2000
    assert "HIDDEN" not in lines[0]


@pytest.mark.parametrize(("builder", "limit", "value", "fragment"), [
    ("many_parts", "MAX_DOCX_PARTS", 100, "20.007 tệp con"),
    ("image_bomb", "MAX_DOCX_UNZIPPED_BYTES", 64 * 1024 * 1024, "100 MB dữ liệu"),
    ("xml_in_png", "MAX_DOCX_XML_BYTES", 16 * 1024 * 1024, "30 MB nội dung XML"),
])
def test_docx_over_a_package_limit_is_refused_before_python_docx_reads_it(
        builder: str, limit: str, value: int, fragment: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import docx

    from bot.plans import source
    from tests import hostile_files

    monkeypatch.setattr(source, limit, value)
    monkeypatch.setattr(docx, "Document", lambda *_: pytest.fail("python-docx was called"))
    with pytest.raises(FileTooLarge) as info:
        read_plan_bytes(getattr(hostile_files, builder)(), "bom.docx")
    assert fragment in info.value.message and "khi giải nén" in info.value.message
    assert_vietnamese_error(info.value)


def _zip_with_document(document: bytes, *, declared: int | None = None) -> bytes:
    """The package of :func:`_docx_bytes` with its document.xml replaced, its declared size
    set to ``declared`` in the zip directory."""
    source_zip = zipfile.ZipFile(io.BytesIO(_docx_bytes()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source_zip.infolist():
            if info.filename != "word/document.xml":
                out.writestr(info.filename, source_zip.read(info.filename))
        out.writestr("word/document.xml", document)
        if declared is not None:
            out.filelist[-1].file_size = declared
    return buffer.getvalue()


def test_docx_part_inflating_past_its_declared_size_is_refused_unread(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """zipfile's read() would inflate the whole stream before cutting it at the declared size."""
    import docx

    document = zipfile.ZipFile(io.BytesIO(_docx_bytes())).read("word/document.xml")
    lying = _zip_with_document(document + b" " * 5_000_000, declared=len(document))
    monkeypatch.setattr(docx, "Document", lambda *_: pytest.fail("python-docx was called"))
    with pytest.raises(BrokenFile) as info:
        read_plan_bytes(lying, "lying.docx")
    assert_vietnamese_error(info.value)


def test_docx_part_shorter_than_declared_is_refused() -> None:
    document = zipfile.ZipFile(io.BytesIO(_docx_bytes())).read("word/document.xml")
    with pytest.raises(BrokenFile):
        read_plan_bytes(_zip_with_document(document, declared=len(document) + 1), "short.docx")


def test_docx_package_within_the_limits_reads_as_before() -> None:
    document = zipfile.ZipFile(io.BytesIO(_docx_bytes())).read("word/document.xml")
    assert read_plan_bytes(_zip_with_document(document), "a.docx") == \
        read_plan_bytes(_docx_bytes(), "a.docx")


def test_docx_nested_past_libxml2s_depth_gets_its_own_message() -> None:
    from tests.hostile_files import deep_tables

    with pytest.raises(FileTooLarge) as info:
        read_plan_bytes(deep_tables(300), "sau.docx")
    assert "lồng nhau quá sâu" in info.value.message and "256 tầng" in info.value.message
    assert_vietnamese_error(info.value)


# --- the text limit ---------------------------------------------------------------------------


@pytest.mark.parametrize(("filename", "build"), [
    ("a.txt", lambda n: ("Phòng Y tế báo cáo.\n" * n).encode()),
    ("a.md", lambda n: ("# Mục\n" + "Phòng Y tế báo cáo.\n" * n).encode()),
    ("a.txt", lambda n: encode_tcvn3("Phòng Y tế báo cáo.\n" * n)),
    ("a.txt", lambda n: "Phòng Y tế báo cáo.\n".encode("utf-16") * n),
    ("a.docx", lambda n: _docx_with_paragraphs(["Phòng Y tế báo cáo."] * n)),
])
def test_text_over_the_limit_is_refused_in_vietnamese(
        filename: str, build: object, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.plans import source

    monkeypatch.setattr(source, "MAX_TEXT_CHARS", 1000)
    assert read_plan_bytes(build(40), filename)  # type: ignore[operator]  # 800 characters
    with pytest.raises(FileTooLarge) as info:
        read_plan_bytes(build(60), filename)  # type: ignore[operator]
    assert "hơn 1.000 ký tự văn bản" in info.value.message
    assert_vietnamese_error(info.value)


def _docx_with_paragraphs(paragraphs: list[str]) -> bytes:
    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_a_merged_cell_repeated_down_a_table_counts_towards_the_limit(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.plans import source
    from tests.hostile_files import merged_cell_bomb

    monkeypatch.setattr(source, "MAX_TEXT_CHARS", 1_000_000)
    with pytest.raises(FileTooLarge) as info:
        read_plan_bytes(merged_cell_bomb(), "gop.docx")
    assert "ký tự văn bản" in info.value.message


# --- linear markdown ----------------------------------------------------------------------------


def test_emphasis_is_stripped_as_the_regex_specifies() -> None:
    """:func:`readers._strip_emphasis` is ``_EMPHASIS_RE.sub`` without its quadratic search."""
    rng = random.Random(12)
    pieces = ["*", "**", "***", "_", "__", "___", " ", "a", "Ắ", "1", "\\", ".", "-", "\t", "(",
              "*a*", "**b c**", "__d__"]
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 16)))
        assert readers._strip_emphasis(text) == readers._EMPHASIS_RE.sub(r"\2", text), text


@pytest.mark.parametrize(("line", "expected"), [
    ("> > > Trích dẫn", "Trích dẫn"),
    (">    > bốn dấu cách", "bốn dấu cách"),
    (">     > năm dấu cách", "    > năm dấu cách"),
    ("## Tiêu đề ##", "Tiêu đề"),
    ("## Tiêu đề#", "Tiêu đề#"),
    ("# " + " " * 1000 + "x", "x"),
    ("*a " * 3 + "b*", "a *a *a b"),
])
def test_markdown_quotes_headings_and_emphasis(line: str, expected: str) -> None:
    assert strip_markdown(line) == expected
