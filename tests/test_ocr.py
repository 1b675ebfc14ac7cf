"""Tests for bot.plans.ocr: repairs seen in the OCR sample, and no damage to correct text."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from bot.plans.ocr import fix_ocr, is_page_number, is_vietnamese_syllable, looks_ocr, ocr_signals

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"


def sample_lines(prefix: str) -> list[str]:
    path = next(SAMPLES.glob(f"{prefix}_*.txt"))
    return path.read_text(encoding="utf-8").split("\n")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # "tr" read as ừ/ữ/ứ/ử at the start of a word
        ("đẩy mạnh ừiển khai", "đẩy mạnh triển khai"),
        ("chính trị sâu rộng ữong Đảng bộ", "chính trị sâu rộng trong Đảng bộ"),
        ("kỷ cương ừong thực thi công vụ", "kỷ cương trong thực thi công vụ"),
        ("Sở Y tế chủ ừì, phối hợp", "Sở Y tế chủ trì, phối hợp"),
        ("bất ngờ ừên các lĩnh vực", "bất ngờ trên các lĩnh vực"),
        ("đề cao ừách nhiệm người đứng đầu", "đề cao trách nhiệm người đứng đầu"),
        ("trên mặt ữận thông tin", "trên mặt trận thông tin"),
        ("kiểm ừa cách cấp", "kiểm tra cách cấp"),
        ("cán bộ ừẻ, cán bộ nữ", "cán bộ trẻ, cán bộ nữ"),
        ("Ừong năm 2022", "Trong năm 2022"),
        ("ỪONG NĂM 2022", "TRONG NĂM 2022"),
        # real words starting with those letters stay
        ("ứng dụng công nghệ, ức chế, ửng đỏ, ứa nước mắt", "ứng dụng công nghệ, ức chế, ửng đỏ, "
         "ứa nước mắt"),
        ("ừ, được", "ừ, được"),
        # "inh" read as "mh"
        ("doanh nghiệp trong tmh đã luôn bám sát", "doanh nghiệp trong tỉnh đã luôn bám sát"),
        ("các cửa ngõ ra vào tmh...", "các cửa ngõ ra vào tỉnh..."),
        ("xử lý tmh huống của các ngành", "xử lý tình huống của các ngành"),
        ("của Chính phủ và của Tmh.", "của Chính phủ và của Tỉnh."),
        ("tỉnh Quảng Nmh trở thành", "tỉnh Quảng Ninh trở thành"),
        ("khu kinh tế của Quảng Niiứi - Hải Phòng", "khu kinh tế của Quảng Ninh - Hải Phòng"),
        ("kịp thời đmh hướng chính xác", "kịp thời định hướng chính xác"),
        ("hộ gia đmh, cơ quan", "hộ gia đình, cơ quan"),
        ("đa dạng smh học", "đa dạng sinh học"),
        ("Bệnh viện tinh Quảng Ninh", "Bệnh viện tỉnh Quảng Ninh"),
        # "nh" misread at the end of a word
        ("sinh hoạt chíiih trị", "sinh hoạt chính trị"),
        ("nhận thức và hàiứi động", "nhận thức và hành động"),
        ("tăng trưởng xanli.", "tăng trưởng xanh."),
        ("đấu tranh mạrLh mẽ", "đấu tranh mạnh mẽ"),
        # quarters and congress numbers
        ("đến hết Quỷ III/2022", "đến hết Quý III/2022"),
        ("nhiệm vụ Quỷ IV năm 2022", "nhiệm vụ Quý IV năm 2022"),
        ("Trung ương 4 khóa xm, Ban Chấp hành", "Trung ương 4 khóa XIII, Ban Chấp hành"),
        ("Nghị quyết Trung ương 4 khóa xn và", "Nghị quyết Trung ương 4 khóa XII và"),
        ("(khóa XI, XII, xm).", "(khóa XI, XII, XIII)."),
        # letter pairs that never occur in Vietnamese
        ("chuyển đổi phưong thức, ngưòi đứng đầu", "chuyển đổi phương thức, người đứng đầu"),
        ("công tác qụản lý tài chính", "công tác quản lý tài chính"),
        ("chủ động, ưr xa, từ sớm, tò cơ sở", "chủ động, từ xa, từ sớm, từ cơ sở"),
        ("Thu hút vốn FDI đạt 1,5 tỷ ƯSD; ƯBND tỉnh", "Thu hút vốn FDI đạt 1,5 tỷ USD; UBND tỉnh"),
        ("dịch COVTD-19 trên Intemet", "dịch COVID-19 trên Internet"),
        ("55 giường bệnh/l vạn dân", "55 giường bệnh/1 vạn dân"),
        ("các tổ chức chinh trị - xã hội; cải cách hành chinh", "các tổ chức chính trị - xã hội; "
         "cải cách hành chính"),
        ("phong cách Hồ Chỉ Minh", "phong cách Hồ Chí Minh"),
        ("gắn vói chuyển đổi; so vói năm 2021", "gắn với chuyển đổi; so với năm 2021"),
        # a lost breve or hook inside a fixed phrase
        ("các cấp ủy, tổ chức đảng táng cường giám sát", "các cấp ủy, tổ chức đảng tăng cường "
         "giám sát"),
        ("Tốc độ táng trưởng (GRDP) đạt trên 10%", "Tốc độ tăng trưởng (GRDP) đạt trên 10%"),
        ("TÁNG CƯỜNG KỶ LUẬT", "TĂNG CƯỜNG KỶ LUẬT"),
        ("khân trương xây dựng các phương án; xử lý khân cấp", "khẩn trương xây dựng các phương "
         "án; xử lý khẩn cấp"),
        # "chủ trì" read as "chu uri" / "chủ ui"
        ("Sở Y tế chu uri, phối hợp với", "Sở Y tế chủ trì, phối hợp với"),
        ("Phòng Y tế chủ ui phối hợp với Trung tâm", "Phòng Y tế chủ trì phối hợp với Trung tâm"),
    ],
)
def test_fix_ocr_repairs(line: str, expected: str) -> None:
    assert fix_ocr(line) == expected


@pytest.mark.parametrize(
    "line",
    [
        "Ủy ban nhân dân tỉnh Quảng Ninh; tinh thần đoàn kết; tinh gọn bộ máy",
        "Quỷ thần; quỷ kế; Quý IV năm 2022; Xuân Quý Mão",
        "ứng phó, ức chế, ửng hồng; ừ thì; ưu tiên; ước tính; ương ngạnh",
        "khoá XIII; khóa XII; xm là chữ viết tắt; XI, XII, XIII",
        "tò mò; vói tay; sò huyết; trò chơi",
        "chung tay chinh trang đô thị; chinh phục đỉnh cao",
        "giá 60 kmh; đơn vị mmHg; chuẩn ISO 9001:2015",
        "UBND, USD, ƯU TIÊN, ƯỚC TÍNH, ỨNG DỤNG",
        "an táng, mai táng phí, hỏa táng theo phong tục; táng gia bại sản",
        "tăng cường, tăng trưởng, tổ chức, khẩn trương, khăn quàng",
        "Chu Ui; ui da; chu đáo, chủ động",
        "",
    ],
)
def test_fix_ocr_leaves_correct_text_alone(line: str) -> None:
    assert fix_ocr(line) == line


@pytest.mark.parametrize("prefix", ["000", "001", "002", "004"])
def test_fix_ocr_changes_no_line_of_correct_samples(prefix: str) -> None:
    changed = [(i, line, fix_ocr(line)) for i, line in enumerate(sample_lines(prefix), 1)
               if fix_ocr(line) != line]
    assert changed == []


def test_fix_ocr_is_idempotent_and_clears_most_signals_in_ocr_sample() -> None:
    lines = sample_lines("003")
    fixed = [fix_ocr(line) for line in lines]
    assert [fix_ocr(line) for line in fixed] == fixed
    assert sum(a != b for a, b in zip(lines, fixed, strict=True)) > 50
    before, after = ocr_signals(lines), ocr_signals(fixed)
    assert before >= 30
    assert after <= before // 10


def test_fix_ocr_accepts_decomposed_input() -> None:
    nfd = unicodedata.normalize("NFD", "doanh nghiệp trong tmh")
    assert fix_ocr(nfd) == "doanh nghiệp trong tỉnh"


@pytest.mark.parametrize(("prefix", "expected"),
                         [("000", False), ("001", False), ("002", False), ("003", True),
                          ("004", False)])
def test_looks_ocr_on_samples(prefix: str, expected: bool) -> None:
    assert looks_ocr(sample_lines(prefix)) is expected


def test_looks_ocr_needs_more_than_one_slip() -> None:
    assert looks_ocr(["Một dòng có lỗi ừong văn bản", "Dòng khác hoàn toàn đúng"]) is False
    assert looks_ocr(["ừong tmh", "ừên địa bàn", "đmh hướng"]) is True


@pytest.mark.parametrize(
    ("line", "expected"),
    [("4", True), ("4 ", True), (" 12", True), ("- 12 -", True), ("Trang 3", True),
     ("Trang 3/10", True), ("2022", False), ("15/12", False), ("4.", False),
     ("1. Mục tiêu", False), ("", False), ("IV", False)],
)
def test_is_page_number(line: str, expected: bool) -> None:
    assert is_page_number(line) is expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [("trong", True), ("Quảng", True), ("người", True), ("khuya", True), ("tuyển", True),
     ("gì", True), ("Ủy", True), ("khoẻ", True), ("ĐƯỜNG", True), ("nghiêng", True),
     ("tmh", False), ("ho¹ch", False), ("chaøo", False), ("Kh¬ng", False), ("hàiih", False),
     ("caự", False), ("bạć", False), ("xyz", False)],
)
def test_is_vietnamese_syllable(word: str, expected: bool) -> None:
    assert is_vietnamese_syllable(word) is expected
