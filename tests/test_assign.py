"""Tests for bot.plans.assign: who a block of a plan is addressed to.

The sentences come from the sample plans in data/samples (line numbers in the comments), cut to
the part that matters, so each shape of assignment the parser must read is pinned down.
"""

from __future__ import annotations

import pytest

from bot.plans.assign import (
    assignment_at,
    find_assignment,
    read_units,
    same_body,
    split_units,
    starts_with_head,
)
from bot.text import fold

# (text, expected lead, expected support or None when not checked, start of the task body)
ASSIGNED: list[tuple[str, tuple[str, ...], tuple[str, ...] | None, str]] = [
    # Colon form (000:133, 000:141).
    ("Phòng Y tế: Rà soát kỹ các đối tượng thuộc diện phải tiêm vắc xin.",
     ("Phòng Y tế",), (), "Rà soát kỹ"),
    ("Phòng Tài chính - Kế hoạch: Tham mưu giải ngân vốn đầu tư công.",
     ("Phòng Tài chính - Kế hoạch",), (), "Tham mưu giải ngân"),
    ("Ban Chỉ huy quân sự Thành phố: Bảo đảm vững chắc quốc phòng, duy trì nghiêm chế độ "
     "trực sẵn sàng chiến đấu.",
     ("Ban Chỉ huy quân sự Thành phố",), (), "Bảo đảm vững chắc"),
    # Colon form with several units (000:474, 000:308, 000:814).
    ("Phòng Tài nguyên và Môi trường, Văn phòng Đăng ký quyền sử dụng đất: Đẩy nhanh tiến độ "
     "cấp giấy chứng nhận quyền sử dụng đất.",
     ("Phòng Tài nguyên và Môi trường", "Văn phòng Đăng ký quyền sử dụng đất"), (),
     "Đẩy nhanh"),
    ("Phòng Giáo dục và Đào tạo, Trung tâm Giáo dục nghề nghiệp - Giáo dục thường xuyên: "
     "Nâng cao chất lượng giáo dục.",
     ("Phòng Giáo dục và Đào tạo", "Trung tâm Giáo dục nghề nghiệp - Giáo dục thường xuyên"), (),
     "Nâng cao"),
    ("Công an Thành phố, UBND các phường, xã: Đảm bảo an ninh trật tự trên địa bàn.",
     ("Công an Thành phố", "UBND các phường, xã"), (), "Đảm bảo"),
    # Plural head distributed over the names (000:160).
    ("Các phòng: Tài chính - Kế hoạch, Quản lý đô thị, Tài nguyên và Môi trường, Kinh tế, "
     "Ban Quản lý dự án đầu tư xây dựng Thành phố: Căn cứ chức năng, nhiệm vụ tham mưu đẩy "
     "nhanh tiến độ chuẩn bị đầu tư.",
     ("Phòng Tài chính - Kế hoạch", "Phòng Quản lý đô thị", "Phòng Tài nguyên và Môi trường",
      "Phòng Kinh tế", "Ban Quản lý dự án đầu tư xây dựng Thành phố"), (), "Căn cứ chức năng"),
    # ... with related parties, which go to the support (000:214).
    ("Các phòng: Tài chính - Kế hoạch, Quản lý đô thị, Ban Quản lý dự án đầu tư xây dựng và "
     "các cơ quan liên quan căn cứ chức năng, nhiệm vụ: Tiếp tục tham mưu hoàn thiện hạ tầng.",
     ("Phòng Tài chính - Kế hoạch", "Phòng Quản lý đô thị", "Ban Quản lý dự án đầu tư xây dựng"),
     ("các cơ quan liên quan",), "Tiếp tục tham mưu"),
    # "X phối hợp với Y:" (000:208).
    ("Phòng Kinh tế phối hợp với phòng Giáo dục và Đào tạo và các cơ quan liên quan: Tham mưu "
     "thu hút các nhà đầu tư nghiên cứu, đầu tư mô hình giáo dục chất lượng cao.",
     ("Phòng Kinh tế",), ("phòng Giáo dục và Đào tạo", "các cơ quan liên quan"),
     "Tham mưu thu hút"),
    # "X và các ... liên quan:" — the related group is support (000:439).
    ("Ban Quản lý dự án đầu tư xây dựng và các phòng, ban, đơn vị liên quan: Hoàn thành việc "
     "đầu tư xây dựng hạng mục Lầu Trống, Đền Cửa Ông.",
     ("Ban Quản lý dự án đầu tư xây dựng",), ("các phòng, ban, đơn vị liên quan",),
     "Hoàn thành việc"),
    # "X: Chủ trì, phối hợp với Y ..." after a colon: the lead is X (000:332).
    ("Phòng Văn hóa và Thông tin: Chủ trì, phối hợp với các phòng, ban, đơn vị liên quan triển "
     "khai có hiệu quả Kế hoạch số 125/KH-UBND ngày 05/4/2022.",
     ("Phòng Văn hóa và Thông tin",), None, "Chủ trì"),
    # Subject form: "X chủ trì, phối hợp với Y <verb>" (004:190).
    ("Văn phòng Thị ủy chủ trì, phối hợp với các Ban xây dựng Đảng, UBND thị xã thường xuyên "
     "tổng hợp, theo dõi tiến độ thực hiện Nghị quyết.",
     ("Văn phòng Thị ủy",), ("các Ban xây dựng Đảng", "UBND thị xã"), "thường xuyên tổng hợp"),
    ("UBND các phường, xã chủ trì, phối hợp với Công an Thành phố rà soát các cơ sở kinh doanh.",
     ("UBND các phường, xã",), ("Công an Thành phố",), "rà soát"),
    # Subject form, one unit then the predicate (002:177, 002:171, 002:173, 004:190).
    ("Ban Tuyên giáo Thành ủy tham mưu xây dựng kế hoạch tuyên truyền, quán triệt Nghị quyết.",
     ("Ban Tuyên giáo Thành ủy",), (), "tham mưu xây dựng"),
    ("Hội đồng nhân dân Thành phố cụ thể hóa thành Nghị quyết về phát triển kinh tế - xã hội.",
     ("Hội đồng nhân dân Thành phố",), (), "cụ thể hóa"),
    ("Ủy ban Nhân dân Thành phố xây dựng kế hoạch cụ thể để triển khai thực hiện Nghị quyết.",
     ("Ủy ban Nhân dân Thành phố",), (), "xây dựng kế hoạch"),
    ("Cơ quan Ủy ban Kiểm tra - Thanh tra Thành phố thực hiện việc kiểm tra, giám sát.",
     ("Cơ quan Ủy ban Kiểm tra - Thanh tra Thành phố",), (), "thực hiện việc"),
    # Subject form, a list (002:175, 003:252, 002:181).
    ("Các Ban xây dựng Đảng, Văn phòng Thành uỷ căn cứ chức năng, nhiệm vụ chủ động tham mưu "
     "triển khai thực hiện Nghị quyết.",
     ("Các Ban xây dựng Đảng", "Văn phòng Thành uỷ"), (), "căn cứ chức năng"),
    ("Các cấp ủy, tổ chức đảng tăng cường giám sát chuyên đề thực hiện Nghị quyết.",
     ("Các cấp ủy, tổ chức đảng",), (), "tăng cường"),
    ("Các đồng chí Ủy viên Ban Chấp hành Đảng bộ Thành phố, Ủy viên Ban Thường vụ Thành ủy theo "
     "chức năng, nhiệm vụ có trách nhiệm chỉ đạo triển khai.",
     ("Các đồng chí Ủy viên Ban Chấp hành Đảng bộ Thành phố", "Ủy viên Ban Thường vụ Thành ủy"),
     (), "theo chức năng"),
    # Request form: "Giao X chỉ đạo ..." (004:186), "Yêu cầu ...:" (000:109), "Đề nghị ...".
    ("Giao UBND thị xã chỉ đạo xây dựng kế hoạch tổ chức thực hiện và cụ thể hóa nội dung chủ "
     "đề công tác năm.",
     ("UBND thị xã",), (), "chỉ đạo xây dựng"),
    ("Yêu cầu các phòng, ban, ngành, đơn vị, UBND các phường, xã:",
     ("các phòng, ban, ngành, đơn vị", "UBND các phường, xã"), (), ""),
    ("Đề nghị Ủy ban Mặt trận Tổ quốc và các đoàn thể chính trị - xã hội tăng cường giám sát.",
     ("Ủy ban Mặt trận Tổ quốc", "các đoàn thể chính trị - xã hội"), (), "tăng cường"),
    # Generic lists stay whole (000:263).
    ("Các phòng, ban, đơn vị, UBND các phường, xã: Tăng cường ứng dụng công nghệ thông tin.",
     ("Các phòng, ban, đơn vị", "UBND các phường, xã"), (), "Tăng cường"),
    ("Các phòng, ban, đơn vị triển khai thực hiện nghiêm túc Kế hoạch.",
     ("Các phòng, ban, đơn vị",), (), "triển khai"),
    # A leading clause before the units (002:169).
    ("Căn cứ Nghị quyết này, các cấp uỷ đảng, chính quyền, các ban, ngành, đoàn thể theo chức "
     "năng, nhiệm vụ, quyền hạn, chủ động xây dựng kế hoạch cụ thể.",
     ("các cấp uỷ đảng, chính quyền, các ban, ngành, đoàn thể",), (), "theo chức năng"),
]

# Blocks that open with no unit: headings, goals, statistics (000, 001, 003, 004).
UNASSIGNED = [
    "Về công tác phòng, chống dịch: Tiếp tục thực hiện nghiêm các biện pháp.",
    "Tiếp tục giữ vững an ninh chính trị, trật tự an toàn xã hội.",
    "Số lượng đảng viên mới được kết nạp tăng từ 3 - 3,5% so với đầu năm.",
    "Phòng dịch là cơ bản, chiến lược, lâu dài, quyết định; y tế là trụ cột.",
    "Tổ chức tốt các hoạt động tuyên truyền, văn hóa, văn nghệ, thể thao.",
    "Chỉ đạo tổ chức đại hội các đoàn thể, hội quần chúng.",
    "Mỗi cán bộ, đảng viên phải nêu cao tinh thần tự phê bình và phê bình.",
    "Tổng thu ngân sách nhà nước trên địa bàn không thấp hơn 52.600 tỷ đồng.",
    "Quán triệt và cụ thể hóa các nhiệm vụ, giải pháp: phấn đấu hoàn thành toàn diện mục tiêu.",
    "",
]

# (written list, units)
SPLITS = [
    ("Phòng Tài nguyên và Môi trường", ["Phòng Tài nguyên và Môi trường"]),
    ("Phòng Văn hóa và Thông tin", ["Phòng Văn hóa và Thông tin"]),
    ("Các phòng, ban, đơn vị", ["Các phòng, ban, đơn vị"]),
    ("các phòng, ban, ngành, đơn vị", ["các phòng, ban, ngành, đơn vị"]),
    ("Phòng Kinh tế, Phòng Y tế và Công an Thành phố",
     ["Phòng Kinh tế", "Phòng Y tế", "Công an Thành phố"]),
    ("Chính quyền các cấp, các ngành, các địa phương",
     ["Chính quyền các cấp, các ngành, các địa phương"]),
    ("UBND thị xã và các huyện ủy", ["UBND thị xã", "các huyện ủy"]),
    ("Công an Thành phố; UBND các phường, xã", ["Công an Thành phố", "UBND các phường, xã"]),
    ("Phòng Tài chính - Kế hoạch, Phòng Quản lý đô thị,",
     ["Phòng Tài chính - Kế hoạch", "Phòng Quản lý đô thị"]),
]


def _id(text: str) -> str:
    return fold(text)[:50] or "empty"


@pytest.mark.parametrize(("text", "lead", "support", "body"), ASSIGNED,
                         ids=[_id(c[0]) for c in ASSIGNED])
def test_assignment(text: str, lead: tuple[str, ...], support: tuple[str, ...] | None,
                    body: str) -> None:
    found = find_assignment(text)
    assert found is not None
    assert found.lead == lead
    if support is not None:
        assert found.support == support
    assert text[found.body_start:].strip(" :,").startswith(body)


@pytest.mark.parametrize("text", UNASSIGNED, ids=[_id(t) for t in UNASSIGNED])
def test_no_assignment(text: str) -> None:
    assert find_assignment(text) is None


@pytest.mark.parametrize(("written", "units"), SPLITS, ids=[_id(s) for s, _ in SPLITS])
def test_split_units(written: str, units: list[str]) -> None:
    assert split_units(written) == units


def test_units_are_kept_as_written() -> None:
    """Old tone placement ("Uỷ") and lower-case heads survive: the unit directory matches them
    later, the parser must not rewrite them."""
    found = find_assignment("Văn phòng Thành uỷ: Tổng hợp kết quả thực hiện.")
    assert found is not None and found.lead == ("Văn phòng Thành uỷ",)


def test_body_start_points_after_the_colon() -> None:
    text = "Phòng Y tế: Rà soát kỹ các đối tượng."
    found = find_assignment(text)
    assert found is not None
    assert text[:found.body_start].rstrip().endswith(":")
    assert text[found.body_start:].strip() == "Rà soát kỹ các đối tượng."


@pytest.mark.parametrize(("text", "expected"), [
    ("Phòng Y tế", True), ("các cấp ủy", True), ("UBND thị xã", True), ("- Ban Tuyên giáo", True),
    ("Tiếp tục giữ vững", False), ("Về công tác", False), ("Số lượng đảng viên", False),
])
def test_starts_with_head(text: str, expected: bool) -> None:
    assert starts_with_head(text) is expected


# read_units: where a unit list starts and ends, read by the shape of the names.
# (text, units) — invented sentences in the shapes of correspondence.
READ = [
    # A name ends where the predicate starts, whatever the verb.
    ("Phòng Lao động - Thương binh và Xã hội thẩm định hồ sơ", ["Phòng Lao động - Thương binh "
                                                               "và Xã hội"]),
    ("Sở Kế hoạch và Đầu tư có nhiệm vụ tổng hợp", ["Sở Kế hoạch và Đầu tư"]),
    ("các đơn vị gửi báo cáo về Sở", ["các đơn vị"]),
    ("Công an tỉnh tuần tra các tuyến đường", ["Công an tỉnh"]),  # a level word closes the name
    ("UBND huyện Mai Châu hoàn thành", ["UBND huyện Mai Châu"]),
    ("Trung tâm Kiểm soát bệnh tật tỉnh giám sát ổ dịch", ["Trung tâm Kiểm soát bệnh tật tỉnh"]),
    ("Trung tâm Văn hóa, Thông tin và Thể thao huyện chuẩn bị", [
        "Trung tâm Văn hóa, Thông tin và Thể thao huyện"]),
    # Lists: heads start new units; categories and levels go on with the same one.
    ("Sở Tài chính và Sở Kế hoạch và Đầu tư tham mưu", ["Sở Tài chính", "Sở Kế hoạch và Đầu tư"]),
    ("UBND thành phố và các huyện hoàn thành", ["UBND thành phố", "UBND các huyện"]),
    ("UBND các huyện, thị xã, thành phố rà soát", ["UBND các huyện, thị xã, thành phố"]),
    ("các Sở, Ban, Ngành, Đoàn thể và UBND các huyện căn cứ", [
        "các Sở, Ban, Ngành, Đoàn thể", "UBND các huyện"]),
    ("Văn phòng HĐND và UBND huyện theo dõi", ["Văn phòng HĐND và UBND huyện"]),
    ("Chánh Văn phòng HĐND và UBND huyện, Trưởng phòng Nội vụ chịu trách nhiệm", [
        "Chánh Văn phòng HĐND và UBND huyện", "Trưởng phòng Nội vụ"]),
    ("Giám đốc Công an tỉnh chỉ đạo", ["Giám đốc Công an tỉnh"]),
    ("Hiệu trưởng các trường tổ chức", ["Hiệu trưởng các trường"]),
    ("Chủ tịch Ủy ban nhân dân các huyện, thành phố tổ chức", [
        "Chủ tịch Ủy ban nhân dân các huyện, thành phố"]),
    ("Bộ Chỉ huy Bộ đội Biên phòng tỉnh chịu trách nhiệm", ["Bộ Chỉ huy Bộ đội Biên phòng tỉnh"]),
    ("các thành viên Ban Chỉ đạo phòng, chống dịch các cấp; Thủ trưởng các sở, ngành triển khai",
     ["các thành viên Ban Chỉ đạo phòng, chống dịch các cấp", "Thủ trưởng các sở, ngành"]),
    ("UBND các tỉnh/thành phố trực thuộc Trung ương xây dựng", [
        "UBND các tỉnh/thành phố trực thuộc Trung ương"]),
    ("các đơn vị trên chỉnh sửa dự thảo", ["các đơn vị trên"]),
    ("Các sở, ngành là thành viên Ban Chỉ đạo có trách nhiệm", [
        "Các sở, ngành là thành viên Ban Chỉ đạo"]),
    ("các Bộ, cơ quan ngang Bộ, cơ quan thuộc Chính phủ, UBND các tỉnh thực hiện", [
        "các Bộ, cơ quan ngang Bộ", "cơ quan thuộc Chính phủ", "UBND các tỉnh"]),
    ("Giám đốc Công an tỉnh; Chỉ huy trưởng Bộ Chỉ huy quân sự tỉnh thi hành", [
        "Giám đốc Công an tỉnh", "Chỉ huy trưởng Bộ Chỉ huy quân sự tỉnh"]),
    ("các quý cơ quan phối hợp, có văn bản góp ý", ["các quý cơ quan"]),
    ("Trường phổ thông Dân tộc nội trú tỉnh tổ chức xét tuyển", [
        "Trường phổ thông Dân tộc nội trú tỉnh"]),
    ("các trường THPT công lập hoàn tất công tác tuyển sinh", ["các trường THPT công lập"]),
    ("Tỉnh ủy, thành ủy kiện toàn tổ chức", ["Tỉnh ủy", "thành ủy"]),
    ("UBND các quận huyện và TP.Thủ Đức rà soát", ["UBND các quận huyện", "TP.Thủ Đức"]),
    ("Trung tâm Kiểm soát bệnh tật (CDC) tỉnh giám sát dịch", [
        "Trung tâm Kiểm soát bệnh tật (CDC) tỉnh"]),
    ("Đài Phát thanh và Truyền hình tỉnh, Báo Quảng Ninh tăng cường tuyên truyền", [
        "Đài Phát thanh và Truyền hình tỉnh", "Báo Quảng Ninh"]),
    ("Liên hiệp các Hội Khoa học và Kỹ thuật tỉnh chủ trì", [
        "Liên hiệp các Hội Khoa học và Kỹ thuật tỉnh"]),
    ("các huyện ủy, thị ủy, thành ủy, đảng ủy trực thuộc xây dựng kế hoạch", [
        "các huyện ủy, thị ủy, thành ủy, đảng ủy trực thuộc"]),
    ("Thủ trưởng các sở, ban, ngành, thuộc tỉnh; Chủ tịch UBND các huyện chịu trách nhiệm", [
        "Thủ trưởng các sở, ban, ngành, thuộc tỉnh", "Chủ tịch UBND các huyện"]),
    ("Các cơ sở giáo dục tổ chức khai giảng vào ngày 5/9", ["Các cơ sở giáo dục"]),
]


@pytest.mark.parametrize(("text", "units"), READ, ids=[_id(t) for t, _ in READ])
def test_read_units(text: str, units: list[str]) -> None:
    found = read_units(text)
    assert found is not None
    assert list(found.units) == units


@pytest.mark.parametrize("text", [
    "phòng dịch là chính, chống dịch là quan trọng",
    "Tổ chức tốt các hoạt động tuyên truyền",
    "các thành viên có tên tại Điều 1",
    "Hồ sơ gửi về Phòng Nội vụ",
    "Tỉnh sẽ hỗ trợ kinh phí tiêm vaccine",  # a bare level is the government speaking
])
def test_no_units_here(text: str) -> None:
    assert read_units(text) is None


@pytest.mark.parametrize(("text", "lead", "support"), [
    ("Giám đốc các Sở: Lao động - Thương binh và Xã hội, Tài chính chịu trách nhiệm thi hành",
     ("Giám đốc Sở Lao động - Thương binh và Xã hội", "Giám đốc Sở Tài chính"), ()),
    ("UBND các huyện: Đakrông, Hải Lăng và các sở, ngành liên quan nghiên cứu",
     ("UBND huyện Đakrông", "UBND huyện Hải Lăng"), ("các sở, ngành liên quan",)),
    ("Sở Tài nguyên và Môi trường chủ trì, phối hợp các đơn vị, địa phương liên quan đề xuất",
     ("Sở Tài nguyên và Môi trường",), ("các đơn vị, địa phương liên quan",)),
    ("Trung tâm Hành chính công, cơ chế một cửa", None, None),  # names, not a subject
    # A bare "phối hợp" before a capitalised unit: the partner supports.
    ("UBND huyện Cam Lâm phối hợp Sở Nông nghiệp và Phát triển nông thôn kiểm điểm",
     ("UBND huyện Cam Lâm",), ("Sở Nông nghiệp và Phát triển nông thôn",)),
    ("UBND huyện phối hợp tổ chức lễ phát động", ("UBND huyện",), ()),  # "phối hợp": the verb
    ("Ban Chấp hành Đoàn trường chủ trì và phối hợp với các liên chi hội thông báo cụ thể",
     ("Ban Chấp hành Đoàn trường",), ("các liên chi hội",)),
    # A short bracket after the units is no predicate.
    ("Tỉnh ủy, Thành ủy (trước sáp nhập) xây dựng đề án", ("Tỉnh ủy", "Thành ủy"), ()),
    ("Sở Y tế (cơ quan thường trực) chủ trì, phối hợp với Sở Tài chính xây dựng kế hoạch",
     ("Sở Y tế",), ("Sở Tài chính",)),
    # A body whose head is its whole name: the lower-case word after it is the verb.
    ("Quốc hội thông qua Nghị quyết sáp nhập tỉnh", ("Quốc hội",), ()),
    ("Tỉnh ủy Quảng Ninh chỉ đạo các cấp ủy", ("Tỉnh ủy Quảng Ninh",), ()),
])
def test_assignment_at(text: str, lead: tuple[str, ...] | None,
                       support: tuple[str, ...] | None) -> None:
    found = assignment_at(text, 0)
    if lead is None:
        assert found is None
        return
    assert found is not None
    assert (found.lead, found.support) == (lead, support)


@pytest.mark.parametrize(("a", "b", "same"), [
    ("UBND tỉnh", "Ủy ban nhân dân tỉnh Hòa Bình", True),
    ("Sở Nội vụ", "SỞ NỘI VỤ TỈNH NINH THUẬN", True),
    ("UBND các huyện", "Ủy ban nhân dân tỉnh Hòa Bình", False),
    ("Sở Y tế", "Sở Y tế dự phòng", True),
    ("Sở Y", "Sở Y tế", False),
])
def test_same_body(a: str, b: str, same: bool) -> None:
    assert same_body(a, b) is same


def test_name_words_are_not_read_as_a_verb() -> None:
    """"… trung học phổ thông báo cáo …": "thông báo" straddles the name and the verb."""
    found = read_units("Hiệu trưởng các trường trung học phổ thông báo cáo kết quả về Sở")
    assert found is not None
    assert found.units == ("Hiệu trưởng các trường trung học phổ thông",)


@pytest.mark.parametrize(("text", "units"), [
    ("Phòng Giáo dục và Đào tạo thành phố Thủ Đức và các quận, huyện báo cáo",
     ["Phòng Giáo dục và Đào tạo thành phố Thủ Đức", "Phòng Giáo dục và Đào tạo các quận, huyện"]),
    ("Các cơ quan, đơn vị, tổ chức, cá nhân là đối tượng thanh tra có trách nhiệm",
     ["Các cơ quan, đơn vị, tổ chức, cá nhân là đối tượng thanh tra"]),
    ("UBND các huyện, thành, thị triển khai rà soát", ["UBND các huyện, thành, thị"]),
    ("các đồng chí lãnh đạo các địa phương, các ngành chức năng kiểm tra", [
        "các đồng chí lãnh đạo các địa phương", "các ngành chức năng"]),
])
def test_read_units_more(text: str, units: list[str]) -> None:
    found = read_units(text)
    assert found is not None and list(found.units) == units


# blind4: "lãnh đạo" is a title only where a unit follows it and a request stands before it
# (in a list it starts a new unit like any title).
@pytest.mark.parametrize(("text", "units"), [
    ("Chủ tịch UBND tỉnh yêu cầu lãnh đạo các sở, ban, ngành thuộc tỉnh, Chủ tịch UBND các "
     "huyện, thành phố, thủ trưởng các đơn vị có liên quan khẩn trương đôn đốc",
     ["lãnh đạo các sở, ban, ngành thuộc tỉnh", "Chủ tịch UBND các huyện, thành phố",
      "thủ trưởng các đơn vị có liên quan"]),
    ("Sở Y tế đề nghị Lãnh đạo Trung tâm Y tế các huyện báo cáo",
     ["Lãnh đạo Trung tâm Y tế các huyện"]),
])
def test_leadership_title_after_a_request(text: str, units: list[str]) -> None:
    low = text.lower()
    pos = max(low.find("yêu cầu "), low.find("đề nghị ")) + len("yêu cầu ")
    found = read_units(text, pos, first=True)
    assert found is not None and list(found.units) == units


@pytest.mark.parametrize("text", [
    "Trong cuộc họp báo, lãnh đạo Bộ GD&ĐT thông tin, các đoàn kiểm tra sẽ thực hiện",
    "tăng cường lãnh đạo, chỉ đạo các cấp ủy",
])
def test_leadership_as_a_verb_or_a_speaker_is_no_unit(text: str) -> None:
    pos = text.find("lãnh đạo")
    assert read_units(text, pos, first=True) is None


# blind4: a body at one place, then bare place names: the body at each place. A plural level
# ("UBND các huyện Ea Kar, Krông Pắc") stays one unit, and so does a name with commas.
@pytest.mark.parametrize(("text", "units"), [
    ("UBND huyện Quang Bình, Bắc Quang triển khai thực hiện",
     ["UBND huyện Quang Bình", "UBND huyện Bắc Quang"]),
    ("Công an tỉnh Quảng Bình và Quảng Trị tuần tra", [
        "Công an tỉnh Quảng Bình", "Công an tỉnh Quảng Trị"]),
    ("UBND huyện Quang Bình, Bắc Quang và Sở Y tế thực hiện", [
        "UBND huyện Quang Bình", "UBND huyện Bắc Quang", "Sở Y tế"]),
    ("UBND các huyện Ea Kar, Krông Pắk, Cư Kuin theo dõi", [
        "UBND các huyện Ea Kar, Krông Pắk, Cư Kuin"]),
    ("Sở Văn hóa, Thể thao và Du lịch chủ trì", ["Sở Văn hóa, Thể thao và Du lịch"]),
    ("UBND tỉnh Quảng Ninh, Sở Y tế thực hiện", ["UBND tỉnh Quảng Ninh", "Sở Y tế"]),
])
def test_one_body_at_several_places(text: str, units: list[str]) -> None:
    found = read_units(text)
    assert found is not None and list(found.units) == units


# blind4: titles that share one body, and a capitalised list of categories after a title.
@pytest.mark.parametrize(("text", "units"), [
    ("giám đốc, thủ trưởng các sở, ban, ngành thành phố và chủ tịch UBND các phường, xã chủ "
     "động ứng phó", ["giám đốc, thủ trưởng các sở, ban, ngành thành phố",
                      "chủ tịch UBND các phường, xã"]),
    ("Chánh Văn phòng Ủy ban nhân dân tỉnh, Giám đốc các Sở, Ban, ngành, đoàn thể có liên quan; "
     "Chủ tịch Ủy ban nhân dân các huyện/thành phố căn cứ Quyết định thi hành",
     ["Chánh Văn phòng Ủy ban nhân dân tỉnh", "Giám đốc các Sở, Ban, ngành, đoàn thể có liên quan",
      "Chủ tịch Ủy ban nhân dân các huyện/thành phố"]),
    # A minister's title names his ministry: two units.
    ("Bộ trưởng, Thủ trưởng cơ quan ngang bộ, cơ quan thuộc Chính phủ tập trung chỉ đạo",
     ["Bộ trưởng", "Thủ trưởng cơ quan ngang bộ, cơ quan thuộc Chính phủ"]),
    ("Giám đốc Sở Y tế, Giám đốc Sở Tài chính thực hiện", [
        "Giám đốc Sở Y tế", "Giám đốc Sở Tài chính"]),
])
def test_titles_sharing_a_body(text: str, units: list[str]) -> None:
    found = read_units(text)
    assert found is not None and list(found.units) == units


# blind4 m13: "trực thuộc sở" names the parent body; the list goes on after it.
def test_units_under_a_bare_parent() -> None:
    found = read_units("các phòng Giáo dục và Đào tạo các huyện, thị xã, thành phố, các đơn vị "
                       "trực thuộc sở, Trung tâm GDNN- GDTX các huyện, thị xã, thành phố tiếp "
                       "tục cho học sinh nghỉ học")
    assert found is not None and list(found.units) == [
        "các phòng Giáo dục và Đào tạo các huyện, thị xã, thành phố", "các đơn vị trực thuộc sở",
        "Trung tâm GDNN- GDTX các huyện, thị xã, thành phố"]
    # Without a separator after it, "sở" may start the predicate's object: left alone.
    alone = read_units("các đơn vị trực thuộc báo cáo Sở")
    assert alone is not None and alone.units == ("các đơn vị trực thuộc",)


# blind5 m19: a speaker before a colon and a quotation is not a colon-form unit.
@pytest.mark.parametrize("text", [
    "Thủ tướng: 'Làm ngày làm đêm, làm thêm ngày nghỉ' để hoàn thành công việc",
    "Bộ trưởng Bộ Y tế: “Không để thiếu thuốc, vật tư y tế”",
])
def test_speaker_and_quotation_is_no_colon_form(text: str) -> None:
    from bot.plans.assign import assignment_at

    assert assignment_at(text, 0) is None


def test_colon_form_still_reads_a_unit_label() -> None:
    from bot.plans.assign import assignment_at

    found = assignment_at("Phòng Y tế: Rà soát, báo cáo số liệu tiêm chủng.", 0)
    assert found is not None and found.lead == ("Phòng Y tế",)


# blind5 m17: "để các địa phương kịp chuẩn bị": "kịp" ends a unit name; the localities that are
# given time are no actor of a task.
def test_kip_ends_a_unit_name_and_gives_no_task() -> None:
    from bot.plans import parse_text

    plan = parse_text("Việc sắp xếp đơn vị hành chính phải hoàn thành trước tháng 10/2024 để các "
                      "địa phương kịp chuẩn bị tổ chức Đại hội.")
    assert [t.lead for t in plan.tasks] == [()]
    assert [d.due.isoformat() for t in plan.tasks for d in t.deadlines] == ["2024-09-30"]
