"""Tests for bot.plans.header: kind, number, issue date, issuer, title and directed period, on
small synthetic headers, on the sample plans (against the gold answers in tests/gold) and on
the real passages in tests/real (against tests/real/gold)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from bot.models import Period
from bot.plans import parse_file
from bot.plans.header import cued_period, directed_period, parse_header, title_period
from bot.plans.source import SourceLine
from bot.text import fold

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted((ROOT / "data" / "samples").glob("*.txt"))
GOLD = ROOT / "tests" / "gold"
REAL = ROOT / "tests" / "real"
PROBES = ROOT / "tests" / "probes"  # the copy of ../shared/eval/probes kept with the tests

UBND_PLAN = """\
ỦY BAN NHÂN DÂN
THÀNH PHỐ CẨM PHẢ
Số: 169/KH-UBND
Cẩm Phả, ngày 05 tháng 10 năm 2022

KẾ HOẠCH
Thực hiện nhiệm vụ trọng tâm Quý IV năm 2022

I. MỤC ĐÍCH, YÊU CẦU
- Quán triệt các nhiệm vụ, giải pháp."""

REPORT = """\
THÀNH ỦY UÔNG BÍ
Số: 45-BC/TU
Uông Bí, ngày 10 tháng 4 năm 2023

BÁO CÁO
Kết quả lãnh đạo thực hiện nhiệm vụ Quý I, Phương hướng nhiệm vụ Quý II năm 2023

I. KẾT QUẢ THỰC HIỆN NHIỆM VỤ QUÝ I"""

RESOLUTION = """\
THỊ ỦY ĐÔNG TRIỀU
Số 09 - NQ/TU
Đông Triều, ngày 17 tháng 12 năm 2021

NGHỊ QUYẾT
CỦA BAN CHẤP HÀNH ĐẢNG BỘ THỊ XÃ
về phương hướng, nhiệm vụ năm 2022
-----
I- MỤC TIÊU VÀ CÁC CHỈ TIÊU CHỦ YẾU"""

# A resolution whose title is followed, after one blank line, by a short opening paragraph.
RESOLUTION_NO_RULE = """\
THỊ ỦY ĐÔNG TRIỀU
Số: 09-NQ/TU
Đông Triều, ngày 17 tháng 12 năm 2021

NGHỊ QUYẾT
về phương hướng, nhiệm vụ năm 2022

Năm 2022, năm đầu thực hiện thời kỳ ổn định ngân sách 2022 - 2025.
I- MỤC TIÊU VÀ CÁC CHỈ TIÊU CHỦ YẾU"""


def lines(text: str) -> list[SourceLine]:
    return [SourceLine(i, t) for i, t in enumerate(text.split("\n"), start=1)]


def body_text(src: list[SourceLine], body: int) -> str:
    """The first non-blank line of the body (the body may start with blank lines)."""
    return next((ln.text for ln in src[body:] if ln.text.strip()), "")


def test_ubnd_plan() -> None:
    src = lines(UBND_PLAN)
    info, body = parse_header(src)
    assert info.kind == "ke_hoach"
    assert info.number == "169/KH-UBND"
    assert info.issued == date(2022, 10, 5)
    assert info.issuer is not None and fold(info.issuer) == "uy ban nhan dan thanh pho cam pha"
    assert info.locality == "Cẩm Phả"
    assert info.title == "Thực hiện nhiệm vụ trọng tâm Quý IV năm 2022"
    assert info.period == Period("Quý IV năm 2022", date(2022, 10, 1), date(2022, 12, 31))
    # The body starts at the first heading, not inside the title.
    assert src[body].text.startswith("I. MỤC ĐÍCH") or not src[body].text.strip()
    assert all("MỤC ĐÍCH" not in ln.text for ln in src[:body])


def test_report_directs_the_next_quarter() -> None:
    """A report on Q1 results that sets tasks for Q2 directs Q2."""
    info, _ = parse_header(lines(REPORT))
    assert info.kind == "bao_cao"
    assert info.number == "45-BC/TU"
    assert info.issued == date(2023, 4, 10)
    assert info.issuer == "Thành ủy Uông Bí"
    assert info.period is not None
    assert (info.period.start, info.period.end) == (date(2023, 4, 1), date(2023, 6, 30))


def test_resolution_year_and_spaced_number() -> None:
    info, _ = parse_header(lines(RESOLUTION))
    assert info.kind == "nghi_quyet"
    assert info.number == "09-NQ/TU"  # "Số 09 - NQ/TU" normalised
    assert info.issued == date(2021, 12, 17)
    assert info.issuer == "Thị ủy Đông Triều"
    assert info.locality == "Đông Triều"
    assert info.period == Period("năm 2022", date(2022, 1, 1), date(2022, 12, 31))
    assert info.title is not None and info.title.endswith("về phương hướng, nhiệm vụ năm 2022")


def test_title_stops_at_the_blank_line_before_the_body() -> None:
    src = lines(RESOLUTION_NO_RULE)
    info, body = parse_header(src)
    assert info.title == "về phương hướng, nhiệm vụ năm 2022"
    assert src[body].text.startswith("Năm 2022") or not src[body].text.strip()


def test_kind_from_number_when_no_kind_line() -> None:
    """PDF text may lose the kind line; the number "…/KH-…" still says it is a plan."""
    info, _ = parse_header(lines("ỦY BAN NHÂN DÂN\nSố: 12/KH-UBND\nNội dung không rõ."))
    assert info.kind == "ke_hoach"
    assert info.number == "12/KH-UBND"


def test_no_header_at_all() -> None:
    info, body = parse_header(lines("Một dòng chữ bất kỳ.\nDòng thứ hai."))
    assert info.kind == "other"
    assert info.number is None and info.issued is None and info.period is None
    assert body == 0


def test_impossible_issue_date_is_dropped() -> None:
    text = ("Số: 12/KH-UBND\nHạ Long, ngày 31 tháng 02 năm 2023\n\nKẾ HOẠCH\n"
            "Thực hiện nhiệm vụ năm 2023")
    info, _ = parse_header(lines(text))
    assert info.issued is None
    assert info.period is not None and info.period.end == date(2023, 12, 31)


@pytest.mark.parametrize(("title", "default_year", "label", "start", "end"), [
    ("Thực hiện nhiệm vụ trọng tâm Quý IV năm 2022", None,
     "Quý IV năm 2022", date(2022, 10, 1), date(2022, 12, 31)),
    ("Kết quả lãnh đạo thực hiện nhiệm vụ Quý I, Phương hướng nhiệm vụ Quý II năm 2023", None,
     "Quý II năm 2023", date(2023, 4, 1), date(2023, 6, 30)),
    ("về kết quả công tác 9 tháng đầu năm, phương hướng, nhiệm vụ trọng tâm Quý IV năm 2022",
     None, "Quý IV năm 2022", date(2022, 10, 1), date(2022, 12, 31)),
    ("về phương hướng, nhiệm vụ năm 2022", None, "năm 2022", date(2022, 1, 1),
     date(2022, 12, 31)),
    ("về nhiệm vụ 6 tháng cuối năm 2023", None, "6 tháng cuối năm 2023", date(2023, 7, 1),
     date(2023, 12, 31)),
    ("về nhiệm vụ 6 tháng đầu năm 2023", None, "6 tháng đầu năm 2023", date(2023, 1, 1),
     date(2023, 6, 30)),
    ("về nhiệm vụ trọng tâm tháng 10/2022", None, "tháng 10/2022", date(2022, 10, 1),
     date(2022, 10, 31)),
    ("thực hiện Kế hoạch phát triển kinh tế - xã hội giai đoạn 2021-2025", None,
     "giai đoạn 2021-2025", date(2021, 1, 1), date(2025, 12, 31)),
    ("Nhiệm vụ trọng tâm quý III", 2022, "Quý III năm 2022", date(2022, 7, 1),
     date(2022, 9, 30)),
])
def test_directed_period(title: str, default_year: int | None, label: str, start: date,
                         end: date) -> None:
    assert directed_period(title, default_year) == Period(label, start, end)


@pytest.mark.parametrize("title", ["Về công tác phòng, chống dịch", "Nhiệm vụ trọng tâm quý III"])
def test_directed_period_none(title: str) -> None:
    """No period written (and, for a bare quarter, no year to complete it)."""
    assert directed_period(title, None) is None


@pytest.mark.parametrize("sample", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_samples_match_gold(sample: Path) -> None:
    gold = json.loads((GOLD / f"{sample.stem}.json").read_text(encoding="utf-8"))
    info = parse_file(sample).document
    assert info.kind == gold["kind"]
    assert info.period is not None
    assert info.period.end.isoformat() == gold["period"]["end"]
    assert info.period.start.isoformat() == gold["period"]["start"]


def test_there_are_five_samples() -> None:
    assert len(SAMPLES) == 5



# --------------------------------------------------------------------------------------------
# Kind: công văn and the other forms a kind is written in
# --------------------------------------------------------------------------------------------

# A công văn: subject line "V/v" in the left column, then the motto and the date line.
CONG_VAN = """\
ỦY BAN NHÂN DÂN
HUYỆN BẮC QUANG
Số: 731/UBND-NV
V/v rà soát, bổ sung quy hoạch cán bộ
năm 2025
CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc

Bắc Quang, ngày 14 tháng 3 năm 2025

Kính gửi: Các cơ quan, đơn vị thuộc huyện.

Thực hiện Công văn số 90/SNV-TCCB ngày 02 tháng 3 năm 2025 của Sở Nội vụ, UBND huyện đề nghị:
1. Phòng Nội vụ rà soát, tổng hợp trước ngày 25/3/2025."""


def test_cong_van_from_vv_line() -> None:
    src = lines(CONG_VAN)
    info, body = parse_header(src)
    assert info.kind == "cong_van"
    assert info.number == "731/UBND-NV"
    assert info.issued == date(2025, 3, 14)  # the date line, not the cited one after it
    assert info.title == "V/v rà soát, bổ sung quy hoạch cán bộ năm 2025"  # wrapped subject
    assert info.period is None  # the subject's year is no directed period
    assert info.issuer is not None and fold(info.issuer) == "uy ban nhan dan huyen bac quang"
    # The body starts at "Kính gửi:" (the parser reads the addressees): after the motto and
    # the date line, never in the middle of the header.
    assert body_text(src, body).startswith("Kính gửi")
    assert all("Kính gửi" not in ln.text for ln in src[:body])


def test_cong_van_from_kinh_gui_alone() -> None:
    text = ("Kính gửi: Ủy ban nhân dân các phường, xã.\n\n"
            "Ủy ban nhân dân thành phố đề nghị các phường, xã báo cáo trước ngày 10/5/2024.")
    info, body = parse_header(lines(text))
    assert info.kind == "cong_van"
    assert body == 0 and info.title is None


def test_kinh_gui_does_not_override_a_kind_line() -> None:
    text = "TỜ TRÌNH\nVề việc phê duyệt dự toán\nKính gửi: Hội đồng nhân dân huyện."
    info, body = parse_header(lines(text))
    assert info.kind == "other"
    assert info.title == "Về việc phê duyệt dự toán"
    assert body == 2


@pytest.mark.parametrize(("number", "kind"), [
    ("Số: 1452/UBND-VX", "cong_van"),   # the code after the slash is the issuer's
    ("Số: 560/SNV-CCHC", "cong_van"),
    ("Số: 41/BCĐ-VP", "cong_van"),      # BCĐ (ban chỉ đạo) is not BC
    ("Số: 100/UBND-KH", "cong_van"),    # KH after the issuer is a unit, not the kind
    ("Số: 12/KH-UBND", "ke_hoach"),
    ("Số 45 - BC/TU", "bao_cao"),
    ("Số: 15/2024/QĐ-UBND", "quyet_dinh"),
    ("Số: 7/TB-VP", "thong_bao"),
    ("Số: 88/TTr-UBND", "other"),       # tờ trình
    ("Số: 3/HD-SGDĐT", "other"),        # hướng dẫn
])
def test_kind_from_the_code_after_the_number(number: str, kind: str) -> None:
    info, _ = parse_header(lines(f"SỞ GIÁO DỤC VÀ ĐÀO TẠO\n{number}\nNội dung không rõ"))
    assert info.kind == kind


@pytest.mark.parametrize(("text", "kind", "issued", "issuer"), [
    ("Ngày 12/3/2024, UBND tỉnh Yên Bái ban hành Công văn số 812/UBND-XD về việc đẩy nhanh "
     "giải ngân.\nTheo đó, yêu cầu các chủ đầu tư báo cáo trước ngày 25/3/2024.",
     "cong_van", date(2024, 3, 12), "UBND tỉnh Yên Bái"),
    ("Giải ngân vốn đầu tư công\n\nNgày 02/10/2024, UBND tỉnh Kon Tum có Công văn số "
     "3344/UBND-TH về dự toán năm 2025.", "cong_van", date(2024, 10, 2), "UBND tỉnh Kon Tum"),
    ("Rà soát quy hoạch rừng\nUBND tỉnh Lai Châu vừa có văn bản chỉ đạo rà soát quy hoạch "
     "ba loại rừng.", "cong_van", None, "UBND tỉnh Lai Châu"),
    ("Ngày 5 tháng 7 năm 2023, Sở Y tế ban hành Kế hoạch số 20/KH-SYT về tiêm chủng.",
     "ke_hoach", date(2023, 7, 5), "Sở Y tế"),
    ("Vừa qua, UBND huyện đã ban hành Chỉ thị số 03/CT-UBND về phòng chống cháy rừng.",
     "chi_thi", None, "UBND huyện"),
    # Without a comma after the date; the signer's title gives way to the body he signs for.
    ("Ngày 16/4/2020 Chủ tịch UBND tỉnh ký ban hành Quyết định số 11/QĐ-UBND về phòng dịch.",
     "quyet_dinh", date(2020, 4, 16), "UBND tỉnh"),
])
def test_restatement_gives_kind_date_and_issuer(text: str, kind: str, issued: date | None,
                                                issuer: str) -> None:
    info, body = parse_header(lines(text))
    assert (info.kind, info.issued, info.issuer) == (kind, issued, issuer)
    assert body == 0 and info.title is None


@pytest.mark.parametrize("text", [
    # A cited document is no restatement, and its date is no issue date.
    "Thực hiện Công văn số 2318/BYT-DP ngày 28/5/2024 của Bộ Y tế, Trung tâm Y tế huyện đề "
    "nghị các trạm y tế tăng cường tiêm chủng.",
    # "có kế hoạch" is an intention.
    "UBND huyện có kế hoạch tổ chức hội nghị vào tháng 5/2024.",
    # A meeting is not a document.
    "Ngày 20/5/2024, đồng chí Chủ tịch UBND tỉnh chủ trì cuộc họp về công tác thi cử.",
])
def test_no_restatement(text: str) -> None:
    info, _ = parse_header(lines(text))
    assert info.kind == "other"
    assert info.issued is None


def test_restatement_is_looked_for_in_the_first_paragraph_only() -> None:
    text = "\n".join(["Sở Nội vụ đề nghị các đơn vị rà soát hồ sơ."] * 6
                     + ["Ngày 12/3/2024, UBND tỉnh ban hành Công văn số 8/UBND-NC."])
    info, _ = parse_header(lines(text))
    assert info.kind == "other" and info.issued is None


@pytest.mark.parametrize(("text", "kind", "issued", "end"), [
    # The restated document's own date and subject: a period only with a directing cue.
    ("Chính phủ ban hành Nghị quyết số 12/NQ-CP ngày 6/10/2024 về nhiệm vụ trọng tâm những "
     "tháng cuối năm 2024.", "nghi_quyet", date(2024, 10, 6), date(2024, 12, 31)),
    ("Chủ tịch UBND tỉnh Gia Lai vừa ký ban hành Chỉ thị số 04/CT-UBND ngày 19-4-2022 về công "
     "tác phòng, chống thiên tai năm 2022.", "chi_thi", date(2022, 4, 19), None),
    ("Sở Nội vụ vừa có Công văn đôn đốc tổng kết công tác bầu cử.", "cong_van", None, None),
    ("Bộ GD&ĐT vừa ban hành hướng dẫn tổ chức kỳ thi năm 2016. Theo đó, các sở báo cáo.",
     "cong_van", None, None),
    # Some document of unknown kind.
    ("Phó Chủ tịch UBND tỉnh vừa ký ban hành văn bản triển khai Quyết định 1012/QĐ-TTg.",
     "other", None, None),
])
def test_restated_document(text: str, kind: str, issued: date | None, end: date | None) -> None:
    info, _ = parse_header(lines(text))
    assert (info.kind, info.issued) == (kind, issued)
    assert (info.period.end if info.period else None) == end
    if info.period and issued:
        assert info.period.start == issued  # "những tháng cuối năm": from the issue date


def test_signer_title_gives_way_to_the_body() -> None:
    info, _ = parse_header(lines(
        "Ngày 27 tháng 5 năm 2022, đồng chí Lê Văn An, Phó Bí thư Thường trực Huyện ủy Càng "
        "Long đã ký ban hành Công văn số 1127-CV/HU về đại hội chi bộ."))
    assert info.kind == "cong_van" and info.issued == date(2022, 5, 27)
    assert info.issuer == "Huyện ủy Càng Long"
    info, _ = parse_header(lines(
        "Chủ tịch UBND thành phố Nguyễn Văn Bình vừa ký ban hành Chỉ thị số 4/CT-UBND."))
    assert info.issuer == "UBND thành phố"  # the words after it are the signer's name


@pytest.mark.parametrize(("first", "issued"), [
    ("Thứ ba, 21/07/2020, 08:16 GMT+7", date(2020, 7, 21)),
    ("06/05/2021 - 15:43", date(2021, 5, 6)),
    ("09:10, 14/10/2021", date(2021, 10, 14)),
])
def test_portal_dateline_when_nothing_better(first: str, issued: date) -> None:
    text = f"Đẩy nhanh lập quy hoạch sử dụng đất\n{first}\nUBND tỉnh yêu cầu các huyện báo cáo."
    info, _ = parse_header(lines(text))
    assert info.issued == issued


def test_a_wrapped_deadline_is_no_issue_date() -> None:
    text = ("UBND huyện đề nghị các xã hoàn thành việc rà soát trước\n"
            "ngày 20 tháng 5 năm 2024\nvà báo cáo kết quả.")
    info, _ = parse_header(lines(text))
    assert info.issued is None


@pytest.mark.parametrize(("text", "kind"), [
    ("Theo công văn này, Bộ Giáo dục và Đào tạo yêu cầu các sở báo cáo.", "cong_van"),
    ("Sau khi nghe báo cáo, Phó Chủ tịch UBND tỉnh kết luận như sau:\n1. Sở Xây dựng kiểm tra.",
     "thong_bao"),
    ("UBND tỉnh có ý kiến như sau:\nGiao Sở Tài chính thẩm định.\n\n"
     "(Theo Công văn 907/UBND-KT ngày 13/3/2023)", "cong_van"),
])
def test_kind_from_other_restatement_forms(text: str, kind: str) -> None:
    info, _ = parse_header(lines(text))
    assert info.kind == kind


@pytest.mark.parametrize(("first", "kind", "title"), [
    ("THÔNG BÁO Về việc tuyển sinh lớp 10 năm học 2024-2025", "thong_bao",
     "Về việc tuyển sinh lớp 10 năm học 2024-2025"),
    ("KẾ HOẠCH Triển khai công tác dân vận năm 2025", "ke_hoach",
     "Triển khai công tác dân vận năm 2025"),
    ("KẾ HOẠCH THỰC HIỆN NHIỆM VỤ NĂM 2025", "ke_hoach", "THỰC HIỆN NHIỆM VỤ NĂM 2025"),
    # A portal's headline may write the kind word in lower case when the title follows.
    ("Thông báo: Về việc hướng dẫn công tác thống kê", "thong_bao",
     "Về việc hướng dẫn công tác thống kê"),
    ("Kế hoạch triển khai công tác bầu cử", "ke_hoach", "triển khai công tác bầu cử"),
])
def test_kind_word_and_title_on_one_line(first: str, kind: str, title: str) -> None:
    src = lines(first + "\n\nI. MỤC ĐÍCH, YÊU CẦU\n1. Các đơn vị thực hiện.")
    info, body = parse_header(src)
    assert (info.kind, info.title) == (kind, title)
    assert body_text(src, body).startswith("I. MỤC ĐÍCH")


@pytest.mark.parametrize("first", [
    "Kế hoạch hóa gia đình là nhiệm vụ của toàn xã hội",  # no kind: "kế hoạch hóa"
    "Báo cáo viên cấp tỉnh dự hội nghị",
    "Kế hoạch số 12/KH-UBND đã được triển khai.",
])
def test_lower_case_kind_word_that_names_no_kind(first: str) -> None:
    info, _ = parse_header(lines(first + "\nNội dung."))
    assert info.kind == "other"


QUYET_DINH = """\
ỦY BAN NHÂN DÂN
HUYỆN CHỢ ĐỒN
Số: 1120/QĐ-UBND
Chợ Đồn, ngày 09 tháng 9 năm 2024

QUYẾT ĐỊNH
Về việc kiện toàn Ban Chỉ đạo chuyển đổi số huyện

CHỦ TỊCH ỦY BAN NHÂN DÂN HUYỆN
Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;
Xét đề nghị của Trưởng phòng Văn hóa và Thông tin.

QUYẾT ĐỊNH:
Điều 1. Kiện toàn Ban Chỉ đạo chuyển đổi số huyện.
Điều 2. Ban Chỉ đạo hoàn thành kế hoạch hoạt động năm 2024 trước ngày 30/9/2024."""


def test_quyet_dinh_header_and_enacting_line() -> None:
    src = lines(QUYET_DINH)
    info, body = parse_header(src)
    assert info.kind == "quyet_dinh"
    assert info.issued == date(2024, 9, 9)
    # The title stops before the enacting authority, which is still header.
    assert info.title == "Về việc kiện toàn Ban Chỉ đạo chuyển đổi số huyện"
    assert body_text(src, body).startswith("Căn cứ")
    assert info.period is None  # the cited law's year is no period


def test_quyet_dinh_without_header() -> None:
    """"QUYẾT ĐỊNH:" then "Điều 1." says the kind; it is no kind line with a title."""
    text = ("Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;\n"
            "QUYẾT ĐỊNH:\nĐiều 1. Thành lập Tổ công tác.\nĐiều 2. Giao Phòng Nội vụ theo dõi.")
    info, body = parse_header(lines(text))
    assert info.kind == "quyet_dinh"
    assert info.title is None and body == 0
    assert info.issued is None  # a date after "Căn cứ" is never the issue date


# --------------------------------------------------------------------------------------------
# Issue date
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "issued"), [
    # The date line wins over a cited date standing before it.
    ("SỞ Y TẾ\nSố: 45/SYT-NV\nV/v thực hiện Công văn số 12/BYT ngày 03 tháng 5 năm 2024\n"
     "Lào Cai, ngày 10 tháng 5 năm 2024\nKính gửi: Các bệnh viện.", date(2024, 5, 10)),
    # Numeric form on the date line; a place of several words.
    ("UBND THÀNH PHỐ\nSố: 9/UBND-VP\nPhan Rang - Tháp Chàm, ngày 05/6/2024\nKính gửi: Các phòng.",
     date(2024, 6, 5)),
    # The date line may follow the issuer on the same line (two columns flattened).
    ("ỦY BAN NHÂN DÂN        Hà Giang, ngày 7 tháng 01 năm 2023\nSố: 3/UBND-KT", date(2023, 1, 7)),
    # The place lost: the date alone on its line.
    ("ỦY BAN NHÂN DÂN TỈNH\nSố: 3/UBND-KT\nngày 21 tháng 02 năm 2022\nKính gửi: Các sở.",
     date(2022, 2, 21)),
    # No date line: a deadline or a cited document's date is never the issue date.
    ("Kính gửi: Các trường.\nCăn cứ Luật Giáo dục ngày 14 tháng 6 năm 2019, Phòng Giáo dục đề "
     "nghị các trường báo cáo trước ngày 10 tháng 4 năm 2023.", None),
    ("Căn cứ Luật Đất đai,\nngày 18 tháng 01 năm 2024;\nUBND huyện đề nghị các xã rà soát.", None),
])
def test_issue_date(text: str, issued: date | None) -> None:
    info, _ = parse_header(lines(text))
    assert info.issued == issued


# --------------------------------------------------------------------------------------------
# Period: only from the title, by kind
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("header", "end"), [
    # A plan, resolution, report, conclusion, directive or programme: the period it names.
    ("KẾ HOẠCH\nPhòng, chống thiên tai năm 2025", date(2025, 12, 31)),
    ("KẾ HOẠCH\nTuyên truyền, phổ biến pháp luật năm 2024", date(2024, 12, 31)),
    ("CHỈ THỊ\nVề chủ động ứng phó thiên tai trong mùa mưa, bão năm 2024", date(2024, 12, 31)),
    ("BÁO CÁO\nKết quả 6 tháng đầu năm, phương hướng nhiệm vụ 6 tháng cuối năm 2024",
     date(2024, 12, 31)),
    ("CHƯƠNG TRÌNH CÔNG TÁC\nQuý III năm 2024", date(2024, 9, 30)),
    # Horizons, spans of several years and the year of a law's name are not periods.
    ("KẾ HOẠCH\nThực hiện Chiến lược chuyển đổi số đến năm 2025, định hướng đến năm 2030", None),
    ("KẾ HOẠCH\nSắp xếp đơn vị hành chính cấp xã giai đoạn 2023 - 2025", None),
    ("KẾ HOẠCH\nTriển khai thi hành Luật Đất đai năm 2024", None),
    # A công văn, thông báo, quyết định: only when the title says it directs that span.
    ("Số: 5/UBND-VX\nV/v triển khai tiêm bổ sung vắc xin sởi năm 2024", None),
    ("Số: 5/UBND-VX\nV/v xây dựng kế hoạch đầu tư công năm 2025", None),
    ("Số: 5/UBND-VP\nV/v báo cáo kết quả thực hiện nhiệm vụ năm 2024", None),
    ("Số: 5/UBND-VP\nV/v triển khai phương hướng, nhiệm vụ quý IV năm 2024", date(2024, 12, 31)),
    ("Số: 5/UBND-VP\nV/v xây dựng kế hoạch công tác tháng 10/2024", date(2024, 10, 31)),
    ("THÔNG BÁO\nVề việc tổ chức Hội thi Tin học trẻ năm 2024", None),
    ("THÔNG BÁO\nVề việc tổ chức Hội nghị sơ kết công tác 9 tháng năm 2024", None),
    ("THÔNG BÁO\nKết luận của Thường trực Huyện ủy về nhiệm vụ trọng tâm năm 2025",
     date(2025, 12, 31)),
    ("QUYẾT ĐỊNH\nVề việc tổ chức Kỳ thi tốt nghiệp THPT năm 2024", None),
    ("QUYẾT ĐỊNH\nVề việc ban hành Chương trình tổng thể cải cách hành chính đến năm 2030", None),
    # A portal's headline is no title: its year needs a cue, unless it names the plan itself.
    ("Chỉ thị của Chủ tịch UBND tỉnh về Tổng điều tra dân số năm 2019", None),
    ("Kế hoạch chuyển đổi cơ cấu cây trồng trên đất lúa toàn quốc năm 2023",
     date(2023, 12, 31)),
    # A caps title ends where a sentence starts: "mùa khô năm 2015" is the body's.
    ("CHỈ THỊ\nVỀ TĂNG CƯỜNG CÔNG TÁC PHÒNG, CHỐNG THIÊN TAI\nDo tác động của biến đổi khí "
     "hậu, mùa khô năm 2015 cả nước bị ảnh hưởng.", None),
    # A day written in words is no month period.
    ("KẾ HOẠCH\nLao động tuần 07 (ngày 28 tháng 9 năm 2012)", None),
    ("KẾ HOẠCH\nCông tác tháng 9 năm 2012", date(2012, 9, 30)),
])
def test_period_by_kind(header: str, end: date | None) -> None:
    info, _ = parse_header(lines(header + "\n\nI. NỘI DUNG\n1. Các đơn vị thực hiện."))
    assert (info.period.end if info.period else None) == end


def test_title_period_helpers() -> None:
    assert title_period("Về việc tổ chức Hội thi năm 2024", "thong_bao", None) is None
    assert title_period("Về việc tổ chức Hội thi năm 2024", "ke_hoach", None) == Period(
        "năm 2024", date(2024, 1, 1), date(2024, 12, 31))
    assert cued_period("phương hướng, nhiệm vụ trọng tâm quý II", 2024) == Period(
        "Quý II năm 2024", date(2024, 4, 1), date(2024, 6, 30))
    assert cued_period("sơ kết công tác 9 tháng năm 2024", None) is None
    assert directed_period("nhiệm vụ 3 tháng cuối năm 2024", None) == Period(
        "3 tháng cuối năm 2024", date(2024, 10, 1), date(2024, 12, 31))
    assert directed_period("định hướng đến năm 2030", None) is None


# --------------------------------------------------------------------------------------------
# Title and body start
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "title", "body_starts"), [
    # A heading "III." (not only "I."/"1.") ends the title.
    ("KẾ HOẠCH\nXây dựng nông thôn mới năm 2024\nIII. TỔ CHỨC THỰC HIỆN\n1. Các xã thực hiện.",
     "Xây dựng nông thôn mới năm 2024", "III. TỔ CHỨC"),
    # The body opens with "Căn cứ", "Thực hiện", "Để", "Nhằm", "Theo đó", "Kính gửi",
    # "Ngày …, …", or a sentence that ends with a colon.
    ("KẾ HOẠCH\nPhòng, chống dịch sốt xuất huyết năm 2024\nCăn cứ Kế hoạch số 12/KH-SYT;",
     "Phòng, chống dịch sốt xuất huyết năm 2024", "Căn cứ"),
    ("CHỈ THỊ\nVề tăng cường quản lý đất đai\nThực hiện Chỉ thị số 01/CT-TTg, Chủ tịch yêu cầu:",
     "Về tăng cường quản lý đất đai", "Thực hiện"),
    ("KẾ HOẠCH\nThực hiện Nghị quyết số 05-NQ/HU về phát triển du lịch\n"
     "Để triển khai hiệu quả Nghị quyết, UBND huyện ban hành Kế hoạch như sau:",
     "Thực hiện Nghị quyết số 05-NQ/HU về phát triển du lịch", "Để triển khai"),
    ("THÔNG BÁO\nKết luận của Chủ tịch UBND huyện\nNgày 03/4/2024, Chủ tịch UBND huyện chủ trì "
     "họp.", "Kết luận của Chủ tịch UBND huyện", "Ngày 03/4/2024"),
    ("THÔNG BÁO\nChủ tịch UBND huyện yêu cầu các đơn vị thực hiện như sau:\n1. Phòng Y tế báo "
     "cáo.", None, "Chủ tịch UBND huyện yêu cầu"),
    ("TỜ TRÌNH\nVề việc đề nghị phê duyệt kinh phí\nKính gửi: Ủy ban nhân dân huyện.",
     "Về việc đề nghị phê duyệt kinh phí", "Kính gửi"),
    ("NGHỊ QUYẾT\nVề nhiệm vụ năm 2025\nĐiều 1. Thông qua nhiệm vụ năm 2025.",
     "Về nhiệm vụ năm 2025", "Điều 1."),
    ("KẾ HOẠCH\nTổ chức Ngày hội đọc sách năm 2024\n- Các trường tổ chức trưng bày sách.",
     "Tổ chức Ngày hội đọc sách năm 2024", "- Các trường"),
    # The motto and the date line end the title and stay in the header.
    ("KẾ HOẠCH\nKiểm tra công tác cải cách hành chính năm 2024\n"
     "Độc lập - Tự do - Hạnh phúc\nSơn La, ngày 02 tháng 02 năm 2024\n1. Thành lập đoàn kiểm tra.",
     "Kiểm tra công tác cải cách hành chính năm 2024", "1. Thành lập"),
    # A portal's dateline after a headline.
    ("Thông báo: Về việc hướng dẫn báo cáo thống kê\n\n20/03/2017\n\nCục đề nghị các Trung tâm:",
     "Về việc hướng dẫn báo cáo thống kê", "20/03/2017"),
])
def test_title_does_not_swallow_the_body(text: str, title: str | None, body_starts: str) -> None:
    src = lines(text)
    info, body = parse_header(src)
    assert info.title == title
    assert body_text(src, body).startswith(body_starts)


def test_no_header_means_body_zero_and_no_title() -> None:
    text = ("Sơn La: Rà soát quy hoạch ba loại rừng\n"
            "UBND tỉnh yêu cầu UBND các huyện hoàn thành việc rà soát trước ngày 30/9/2024.")
    info, body = parse_header(lines(text))
    assert body == 0 and info.title is None


def test_header_elements_after_a_left_column_subject() -> None:
    """The body starts after the last header element, wherever the subject stands."""
    text = ("SỞ NỘI VỤ\nSố: 12/SNV-CCVC\nV/v tuyển dụng viên chức\n\n"
            "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n"
            "Bình Định, ngày 03 tháng 7 năm 2024\n\nSở Nội vụ đề nghị các đơn vị báo cáo.")
    src = lines(text)
    info, body = parse_header(src)
    assert info.kind == "cong_van" and info.title == "V/v tuyển dụng viên chức"
    assert info.issued == date(2024, 7, 3) and info.locality == "Bình Định"
    assert body_text(src, body).startswith("Sở Nội vụ đề nghị")
    assert "Bình Định" in src[body - 1].text or not src[body - 1].text.strip()


@pytest.mark.parametrize("text", [
    # A .docx header table: cells joined by " | ", a cell's paragraphs by spaces.
    "ỦY BAN NHÂN DÂN TỈNH BẮC KẠN | CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM Độc lập - Tự do - Hạnh "
    "phúc\nSố: 2210/UBND-GTCNXD V/v đẩy nhanh tiến độ | Bắc Kạn, ngày 12 tháng 4 năm 2024\n"
    "Kính gửi: Các sở, ngành.",
    "ỦY BAN NHÂN DÂN TỈNH BẮC KẠN Số: 2210/UBND-GTCNXD V/v đẩy nhanh tiến độ | CỘNG HÒA XÃ HỘI "
    "CHỦ NGHĨA VIỆT NAM Độc lập - Tự do - Hạnh phúc Bắc Kạn, ngày 12 tháng 4 năm 2024\n"
    "Kính gửi: Các sở, ngành.",
    # Two columns of a PDF side by side.
    "ỦY BAN NHÂN DÂN          CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\n"
    "TỈNH BẮC KẠN                Độc lập - Tự do - Hạnh phúc\nSố: 2210/UBND-GTCNXD\n"
    "V/v đẩy nhanh tiến độ        Bắc Kạn, ngày 12 tháng 4 năm 2024\nKính gửi: Các sở, ngành.",
])
def test_header_in_columns(text: str) -> None:
    src = lines(text)
    info, body = parse_header(src)
    assert (info.kind, info.number, info.issued) == ("cong_van", "2210/UBND-GTCNXD",
                                                     date(2024, 4, 12))
    assert info.title == "V/v đẩy nhanh tiến độ"
    assert info.issuer == "Ủy ban nhân dân tỉnh Bắc Kạn" and info.locality == "Bắc Kạn"
    assert body_text(src, body).startswith("Kính gửi")


def test_long_lines_cost_little() -> None:
    """Only the first lines are read; a huge paragraph is not scanned again and again."""
    import time

    para = "Sở Y tế đề nghị các đơn vị thực hiện, báo cáo trước ngày 25/3/2024; " * 6000
    src = lines("ỦY BAN NHÂN DÂN\nSố: 1/UBND-VX\nV/v báo cáo\n" + para)
    start = time.perf_counter()
    info, body = parse_header(src)
    assert time.perf_counter() - start < 1.0
    assert info.kind == "cong_van" and body == 3


# --------------------------------------------------------------------------------------------
# Real passages and probes: kind and period against their gold answers
# --------------------------------------------------------------------------------------------

def _gold_pairs(folder: Path) -> list[tuple[Path, Path]]:
    gold = folder / "gold"
    return [(p, gold / f"{p.stem}.json") for p in sorted(folder.glob("*.txt"))
            if (gold / f"{p.stem}.json").exists()]


@pytest.mark.parametrize("folder", [REAL, PROBES], ids=["real", "probes"])
def test_header_against_gold(folder: Path) -> None:
    """The header never invents a period the gold does not have, and reads the kind of nearly
    every passage (the rest name their kind nowhere a header reader can see)."""
    from bot.plans.readers import read_plan_file

    pairs = _gold_pairs(folder)
    assert pairs, f"no passages with gold answers in {folder}"
    kinds_ok = 0
    wrong_periods = []
    for txt, gold_path in pairs:
        gold = json.loads(gold_path.read_text(encoding="utf-8"))
        info, _ = parse_header(read_plan_file(txt))
        kinds_ok += info.kind == gold["kind"]
        if info.period is not None and (gold.get("period") is None
                                        or gold["period"]["end"] != info.period.end.isoformat()):
            wrong_periods.append(txt.name)
    assert wrong_periods == []
    assert kinds_ok / len(pairs) >= 0.85


def test_signer_line_in_running_text_is_bounded() -> None:
    """A "Người ký:" inside a long line names the signer, not the rest of the line."""
    long_line = ("Người ký: Thị ủy Đông Triều Email: td@qn.gov.vn Cơ quan: Tỉnh ủy "
                 + "Phòng Kinh tế tham mưu triển khai các nhiệm vụ. " * 2000)
    info, _ = parse_header([SourceLine(1, "KẾ HOẠCH"), SourceLine(2, long_line)])
    assert info.issuer is not None and len(info.issuer) < 100


@pytest.mark.parametrize(("caps", "name"), [
    ("SỞ Y TẾ TỈNH NGHỆ AN", "Sở Y tế tỉnh Nghệ An"),
    ("SỞ VĂN HÓA, THỂ THAO VÀ DU LỊCH TỈNH LÀO CAI",
     "Sở Văn hóa, Thể thao và Du lịch tỉnh Lào Cai"),
    ("PHÒNG GIÁO DỤC VÀ ĐÀO TẠO HUYỆN ĐỊNH HÓA", "Phòng Giáo dục và Đào tạo huyện Định Hóa"),
    ("BAN CHỈ ĐẠO PHÒNG, CHỐNG THIÊN TAI", "Ban Chỉ đạo phòng, chống thiên tai"),
    ("THỊ ỦY ĐÔNG TRIỀU", "Thị ủy Đông Triều"),
])
def test_issuer_written_as_a_name(caps: str, name: str) -> None:
    """An issuer in capitals is written back as Vietnamese writes the body's name."""
    info, _ = parse_header([SourceLine(1, caps), SourceLine(2, "Số: 12/KH-UBND"),
                            SourceLine(3, "KẾ HOẠCH"), SourceLine(4, "Về công tác năm 2024")])
    assert info.issuer == name


NO_HEADER_PLAN = """\
KẾ HOẠCH
Thực hiện Kết luận số 25-KL/TU ngày 30/9/2022 của Ban Chấp hành Đảng bộ
Thành phố về nhiệm vụ trọng tâm Quý IV năm 2022

Thực hiện Kết luận số 858-KL/TU ngày 26/9/2022 của Ban Chấp hành Đảng bộ Tỉnh, Ủy ban nhân
dân Thành phố xây dựng Kế hoạch triển khai thực hiện với những nội dung chủ yếu sau:
I. NHIỆM VỤ
1. Hoàn thành quy hoạch chung thành phố Cẩm Phả; phối hợp với Sở Xây dựng tỉnh Quảng Ninh.
2. Nâng cấp đường nội thị thành phố Cẩm Phả theo chỉ đạo của tỉnh Quảng Ninh.
3. Chỉnh trang đô thị thành phố Cẩm Phả, báo cáo Ủy ban nhân dân tỉnh Quảng Ninh."""


def test_issuer_is_the_drafting_body_not_the_cited_documents() -> None:
    """A plan without a header: the title's "của Ban Chấp hành …" names the body that issued
    the *cited* conclusion; the preamble says who drafts this plan, and its place is the city
    the body names, not the province it also mentions as often."""
    lines = [SourceLine(i + 1, t) for i, t in enumerate(NO_HEADER_PLAN.splitlines())]
    info, _ = parse_header(lines)
    assert info.issuer == "Ủy ban nhân dân thành phố Cẩm Phả"
    assert info.locality == "Cẩm Phả"


def test_a_plan_titled_with_its_own_body_keeps_it() -> None:
    text = ("NGHỊ QUYẾT\nCỦA BAN CHẤP HÀNH ĐẢNG BỘ THÀNH PHỐ Hạ Long về phương hướng, nhiệm vụ "
            "năm 2021\n\nI. NHIỆM VỤ\n1. Các phòng, ban thành phố Hạ Long thực hiện.")
    lines = [SourceLine(i + 1, t) for i, t in enumerate(text.splitlines())]
    info, _ = parse_header(lines)
    assert info.issuer == "Ban Chấp hành đảng bộ thành phố Hạ Long"
