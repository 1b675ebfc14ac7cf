"""Documents built for the tests (and the OCR bench): nothing binary is checked in.

- :func:`table_plan_docx`: a kế hoạch whose tasks are all in a table (Phụ lục), with group rows
  merged across the table, a lead cell merged over two rows, a header row repeated by hand and
  marked to repeat on each page, a list of units in one cell, and text before and after;
- :func:`convert_with_soffice`: the same document as PDF or .doc, through LibreOffice;
- :func:`scan_pdf`: pages of text rendered with Pillow in DejaVu Serif (the font matplotlib
  ships, Vietnamese glyphs included) and wrapped as an image-only PDF, like a scanner's output;
- :func:`many_pages_pdf`: a small PDF with thousands of pages (text or image), for the limits.
"""

from __future__ import annotations

import io
import json
import subprocess
import tempfile
import zlib
from pathlib import Path

from tests.tools import need_soffice

# --- gold answers for built documents ----------------------------------------------------------

GOLD = Path(__file__).resolve().parent / "fixtures" / "gold"


def relocated_gold(name: str, lines: list[str]) -> dict:
    """The gold answer ``tests/fixtures/gold/<name>.json`` with its line numbers set to where
    ``lines`` (the reader's output) hold its texts: a deadline on the first line holding its
    phrase, an assignment on the line holding its "start" (its span kept). A PDF wraps lines
    where the .docx does not, and OCR output may gain or lose a blank line, so the numbers are
    found, not fixed."""
    gold = json.loads((GOLD / f"{name}.json").read_text(encoding="utf-8"))

    def find(text: str) -> int:
        found = [i for i, line in enumerate(lines, start=1) if text in line]
        assert found, f"{text!r} is not in the text read"
        return found[0]

    for item in gold["deadlines"]:
        item["line"] = find(item["phrase"])
    for item in gold["assignments"]:
        start = find(item["start"])
        item["lines"] = [start, start + item["lines"][1] - item["lines"][0]]
    return gold


def score(plan_json: dict, gold: dict) -> dict:
    """The official scorer's totals (tests/eval_score.py) for one document."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "eval_score", Path(__file__).resolve().parent / "eval_score.py")
    assert spec and spec.loader
    scorer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scorer)
    row = scorer.score_doc(json.loads(json.dumps(plan_json, ensure_ascii=False)), gold)
    return scorer.summarize([{**row, "doc": gold["doc"], "seconds": 0.0}])


# --- a plan whose tasks are in a table --------------------------------------------------------

TABLE_HEADER = ("STT", "Nội dung nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp",
                "Thời gian hoàn thành", "Sản phẩm")
TABLE_ROWS: tuple[tuple[str, ...] | str, ...] = (
    "I. Lĩnh vực kinh tế",
    ("1", "Rà soát, điều chỉnh quy hoạch vùng nguyên liệu trồng rừng",
     "Phòng Nông nghiệp và Phát triển nông thôn", "UBND các xã, thị trấn", "Quý III/2024",
     "Báo cáo kết quả rà soát"),
    ("2", "Tổng kết sản xuất vụ Đông năm 2023 - 2024",
     "Phòng Nông nghiệp và Phát triển nông thôn", "Trạm Khuyến nông huyện", "Tháng 11/2024",
     "Báo cáo tổng kết"),
    ("3", "Báo cáo tình hình giải ngân vốn đầu tư công", "Phòng Tài chính - Kế hoạch",
     "Kho bạc Nhà nước huyện", "Hằng quý", "Báo cáo"),
    TABLE_HEADER,
    "II. Lĩnh vực văn hóa - xã hội",
    ("4", "Tổ chức Hội khỏe Phù Đổng cấp huyện", "Phòng Giáo dục và Đào tạo",
     "- Phòng Văn hóa và Thông tin\n- Trung tâm Văn hóa - Thể thao huyện", "Trước 30/6/2024",
     "Kế hoạch, báo cáo"),
    ("5", "Kiểm tra an toàn thực phẩm dịp Tết Nguyên đán", "Phòng Y tế",
     "Phòng Kinh tế và Hạ tầng, Công an huyện", "Trước ngày 31/01/2024",
     "Báo cáo kết quả kiểm tra"),
    ("6", "Tuyên truyền phòng, chống dịch bệnh mùa hè", "Trung tâm Y tế huyện",
     "UBND các xã, thị trấn", "Thường xuyên", ""),
    "III. Lĩnh vực nội chính",
    ("7", "Tổ chức tiếp công dân định kỳ", "Ban Tiếp công dân huyện", "Thanh tra huyện",
     "Hằng tháng", "Thông báo kết quả"),
    ("8", "Kiểm tra công tác cải cách hành chính tại các xã", "Phòng Nội vụ",
     "Văn phòng HĐND và UBND huyện", "Tháng 10/2024", "Báo cáo"),
)
"""Rows after the header: a string is a group row merged across the table; the header again
is the header repeated by hand; a newline in a cell separates its paragraphs."""
MERGED_LEAD_ROWS = (1, 2)
"""Data rows (1-based) whose lead cells are one cell merged vertically."""
TABLE_TASKS = 8

BEFORE_TABLE = (
    "ỦY BAN NHÂN DÂN HUYỆN TIÊN YÊN",
    "Số: 215/KH-UBND",
    "Tiên Yên, ngày 10 tháng 01 năm 2024",
    "KẾ HOẠCH",
    "Triển khai nhiệm vụ phát triển kinh tế - xã hội năm 2024",
    "I. MỤC ĐÍCH, YÊU CẦU",
    "Cụ thể hóa các chỉ tiêu của Nghị quyết Hội đồng nhân dân huyện về phát triển kinh tế - xã "
    "hội năm 2024; xác định rõ cơ quan chủ trì, cơ quan phối hợp và thời gian hoàn thành của "
    "từng nhiệm vụ để theo dõi, đôn đốc.",
    "Các cơ quan, đơn vị chủ động triển khai, bảo đảm tiến độ và chất lượng; kịp thời báo cáo "
    "những khó khăn, vướng mắc phát sinh trong quá trình thực hiện.",
)
"""Then filler paragraphs of the same section, then :data:`TABLE_HEADING` and the table."""
TABLE_HEADING = "II. NHIỆM VỤ CỤ THỂ"
AFTER_TABLE = (
    "III. TỔ CHỨC THỰC HIỆN",
    "Văn phòng HĐND và UBND huyện theo dõi, tổng hợp kết quả thực hiện kế hoạch, báo cáo "
    "Ủy ban nhân dân huyện trước ngày 15/12/2024.",
)


def table_plan_docx(*, filler_paragraphs: int = 8) -> bytes:
    """The table plan as .docx; ``filler_paragraphs`` push the table across a page break."""
    import docx
    from docx.enum.section import WD_ORIENT
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls
    from docx.shared import Inches, Pt

    document = docx.Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.left_margin = section.right_margin = Inches(0.7)
    style = document.styles["Normal"]
    style.font.name = "DejaVu Serif"
    style.font.size = Pt(10)
    for text in BEFORE_TABLE:
        document.add_paragraph(text)
    for i in range(filler_paragraphs):
        document.add_paragraph(
            f"Yêu cầu {i + 1}: bám sát chỉ đạo của cấp trên, phát huy vai trò của người đứng "
            "đầu, bảo đảm tiến độ và chất lượng trong quá trình triển khai thực hiện kế hoạch.")
    document.add_paragraph(TABLE_HEADING)
    widths = [Inches(w) for w in (0.45, 2.15, 1.35, 1.35, 0.95, 0.85)]
    table = document.add_table(rows=1 + len(TABLE_ROWS), cols=len(TABLE_HEADER))
    table.style = "Table Grid"
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    header = table.rows[0]
    header._tr.get_or_add_trPr().append(parse_xml(f"<w:tblHeader {nsdecls('w')}/>"))
    for row, values in zip(table.rows, (TABLE_HEADER, *TABLE_ROWS), strict=True):
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = width
        if isinstance(values, str):
            merged = row.cells[0].merge(row.cells[-1])
            merged.text = values
            continue
        for cell, value in zip(row.cells, values, strict=True):
            first, *more = value.split("\n")
            cell.text = first
            for paragraph in more:
                cell.add_paragraph(paragraph)
    data_rows = [i + 1 for i, values in enumerate(TABLE_ROWS)
                 if not isinstance(values, str) and values[0].isdigit()]
    top, bottom = (data_rows[n - 1] for n in MERGED_LEAD_ROWS)
    lead = TABLE_HEADER.index("Cơ quan chủ trì")
    text = table.cell(top, lead).text
    table.cell(top, lead).merge(table.cell(bottom, lead)).text = text
    for text in AFTER_TABLE:
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def convert_with_soffice(data: bytes, suffix: str, target: str) -> bytes:
    """``data`` (a file ending in ``suffix``) converted by LibreOffice to ``target`` ("pdf",
    "doc"). The test fails when LibreOffice is missing (see tests/tools.py)."""
    soffice = need_soffice()
    with tempfile.TemporaryDirectory(prefix="test-soffice-") as work:
        source = Path(work) / f"input{suffix}"
        source.write_bytes(data)
        profile = (Path(work) / "profile").as_uri()
        subprocess.run([soffice, "--headless", "--norestore", f"-env:UserInstallation={profile}",
                        "--convert-to", target, "--outdir", work, str(source)],
                       check=True, capture_output=True, timeout=180, cwd=work)
        return (Path(work) / f"input.{target}").read_bytes()


# --- scans ------------------------------------------------------------------------------------

CONG_VAN_LEFT = ("ỦY BAN NHÂN DÂN", "HUYỆN TIÊN YÊN", "", "Số: 1234/UBND-VP",
                 "V/v kiểm tra an toàn thực phẩm", "dịp Tết Nguyên đán Giáp Thìn 2024")
CONG_VAN_RIGHT = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "",
                  "Tiên Yên, ngày 20 tháng 12 năm 2023")
CONG_VAN_BODY = (
    "Kính gửi:",
    "- Phòng Y tế huyện;",
    "- Phòng Kinh tế và Hạ tầng huyện;",
    "- Ủy ban nhân dân các xã, thị trấn.",
    "",
    "Thực hiện chỉ đạo của Ủy ban nhân dân tỉnh về bảo đảm an toàn thực phẩm trong dịp Tết "
    "Nguyên đán Giáp Thìn năm 2024, Ủy ban nhân dân huyện đề nghị:",
    "1. Phòng Y tế chủ trì, phối hợp với Phòng Kinh tế và Hạ tầng huyện tổ chức kiểm tra các "
    "cơ sở sản xuất, kinh doanh thực phẩm trên địa bàn huyện; báo cáo kết quả về Ủy ban nhân "
    "dân huyện trước ngày 15/01/2024.",
    "2. Ủy ban nhân dân các xã, thị trấn tuyên truyền, hướng dẫn người dân lựa chọn thực phẩm "
    "an toàn; tổng hợp kết quả gửi Phòng Y tế trước ngày 10/01/2024.",
    "",
    "Ủy ban nhân dân huyện đề nghị các cơ quan, đơn vị nghiêm túc triển khai thực hiện./.",
)
CONG_VAN_SIGNATURE = ("KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "", "", "Nguyễn Văn An")
CONG_VAN_RECIPIENTS = ("Nơi nhận:", "- Như trên;", "- Chủ tịch, các PCT UBND huyện;",
                       "- Lưu: VT, YT.")


def _font(size: int, bold: bool = False):  # type: ignore[no-untyped-def]
    import matplotlib
    from PIL import ImageFont

    name = "DejaVuSerif-Bold.ttf" if bold else "DejaVuSerif.ttf"
    return ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name),
                              size)


def _wrap(text: str, font, width: int) -> list[str]:  # type: ignore[no-untyped-def]
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if current and font.getlength(candidate) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    return [*lines, current]


def cong_van_image(*, dpi: int = 200, blur: float = 0.0, noise: int = 0, seed: int = 1):  # type: ignore[no-untyped-def]
    """A one-page công văn as a grayscale A4 image; ``blur`` and ``noise`` spoil it."""
    import random

    from PIL import Image, ImageDraw, ImageFilter

    width, height = int(8.27 * dpi), int(11.69 * dpi)
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    size = int(13 * dpi / 72)
    regular, bold = _font(size), _font(size, bold=True)
    small, small_bold = _font(int(size * 0.85)), _font(int(size * 0.85), bold=True)
    step = int(size * 1.45)
    margin_left, margin_right = int(1.2 * dpi), int(0.8 * dpi)
    text_width = width - margin_left - margin_right
    y = int(0.8 * dpi)
    for lines, centre in ((CONG_VAN_LEFT, 0.2), (CONG_VAN_RIGHT, 0.68)):
        yy = y
        for i, line in enumerate(lines):
            font = small_bold if i < 2 else small
            x = margin_left + centre * text_width - font.getlength(line) / 2
            draw.text((x, yy), line, font=font, fill=0)
            yy += step
    y += step * (max(len(CONG_VAN_LEFT), len(CONG_VAN_RIGHT)) + 1)
    for paragraph in CONG_VAN_BODY:
        if not paragraph:
            y += step // 2
            continue
        indent = int(0.4 * dpi) if not paragraph.startswith(("-", "Kính")) else int(0.2 * dpi)
        for line in _wrap(paragraph, regular, text_width - indent):
            draw.text((margin_left + indent, y), line, font=regular, fill=0)
            y += step
            indent = 0
    y += step
    for i, line in enumerate(CONG_VAN_RECIPIENTS):
        font = small_bold if i == 0 else small
        draw.text((margin_left, y + i * step), line, font=font, fill=0)
    for i, line in enumerate(CONG_VAN_SIGNATURE):
        x = margin_left + 0.7 * text_width - bold.getlength(line) / 2
        draw.text((x, y + i * step), line, font=bold, fill=0)
    if blur:
        image = image.filter(ImageFilter.GaussianBlur(blur))
    if noise:
        rng = random.Random(seed)
        pixels = image.load()
        for _ in range(noise):
            px, py = rng.randrange(width), rng.randrange(height)
            pixels[px, py] = 0 if pixels[px, py] > 128 else 255
    return image


def text_image(lines: list[str], *, dpi: int = 200):  # type: ignore[no-untyped-def]
    """Plain lines of text on an A4 page image."""
    from PIL import Image, ImageDraw

    width, height = int(8.27 * dpi), int(11.69 * dpi)
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    font = _font(int(12 * dpi / 72))
    y = dpi
    for line in lines:
        draw.text((dpi, y), line, font=font, fill=0)
        y += int(12 * dpi / 72 * 1.5)
    return image


def scan_pdf(images: list, *, dpi: int = 200) -> bytes:  # type: ignore[type-arg]
    """Page images wrapped as an image-only PDF (no text layer), as a scanner writes it."""
    buffer = io.BytesIO()
    first, *rest = [image.convert("L") for image in images]
    first.save(buffer, "PDF", resolution=dpi, save_all=True, append_images=rest)
    return buffer.getvalue()


def pdf_file(objects: dict[int, bytes]) -> bytes:
    """A PDF file of numbered objects (object 1 the catalog), with its cross-reference table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = {}
    for oid in sorted(objects):
        offsets[oid] = len(out)
        out += b"%d 0 obj\n" % oid + objects[oid] + b"\nendobj\n"
    xref = len(out)
    size = max(objects) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for oid in range(1, size):
        out += b"%010d 00000 n \n" % offsets[oid]
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref)
    return bytes(out)


def many_pages_pdf(pages: int, *, image: bool = False) -> bytes:
    """A PDF of ``pages`` pages sharing one content stream: a line of text, or (``image``)
    one small gray image drawn over the whole page, as a scan. Small however many pages."""
    objects: dict[int, bytes] = {}
    first_page = 6
    kids = " ".join(f"{first_page + i} 0 R" for i in range(pages))
    objects[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[2] = f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode()
    objects[3] = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
    if image:
        raw = zlib.compress(bytes(range(256)) * 64)  # 128 x 128 gray pixels
        objects[4] = (b"<< /Type /XObject /Subtype /Image /Width 128 /Height 128 "
                      b"/ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode "
                      b"/Length %d >>\nstream\n" % len(raw) + raw + b"\nendstream")
        content = b"q 612 0 0 792 0 0 cm /Im1 Do Q"
    else:
        objects[4] = b"<< >>"
        content = b"BT /F1 12 Tf 72 720 Td (Phong Y te: bao cao truoc ngay 15/12/2023) Tj ET"
    objects[5] = b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream"
    resources = (b"<< /XObject << /Im1 4 0 R >> >>" if image
                 else b"<< /Font << /F1 3 0 R >> >>")
    for i in range(pages):
        objects[first_page + i] = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                                   b"/Resources " + resources + b" /Contents 5 0 R >>")
    return pdf_file(objects)
