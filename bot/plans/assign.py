"""Who a clause is addressed to: reading unit names and lists where they stand.

Vietnamese administrative writing names the units that owe work in a few shapes:

- colon form: "(2) Phòng Y tế: Rà soát ..." / "Các phòng: Tài chính - Kế hoạch, Quản lý đô thị:
  ..." (a plural head before a colon distributes over the names);
- subject form: "Văn phòng Thị ủy chủ trì, phối hợp với các Ban xây dựng Đảng ... tổng hợp ...";
- request form, with or without the speaker: "Giao UBND thị xã chỉ đạo ...", "UBND tỉnh yêu cầu
  UBND các huyện, thành phố rà soát ...", "Sở Nội vụ đề nghị các cơ quan, đơn vị ...".

A unit name is read by its shape (:func:`read_units`): a head word ("Sở", "UBND", "Giám đốc",
"các chủ đầu tư"), then the name, which may run in lower case after its first capital ("Trung
tâm Kiểm soát bệnh tật", "Ban Quản lý dự án đầu tư xây dựng"), then known tails ("tỉnh", "các
huyện, thành phố", "có liên quan", "trực thuộc"). It ends at punctuation that does not go on with
another unit or name, after a level word that is not followed by a place name, or where the
predicate starts (a lower-case verb such as "thẩm định", "gửi", "có trách nhiệm"). Lists split
at commas, semicolons and "và" only where the next piece starts with a unit head, so "Phòng Tài
nguyên và Môi trường" and "Các phòng, ban, ngành" stay whole; "UBND thành phố và các huyện"
gives its head to "các huyện". Related-party groups ("các cơ quan liên quan") go to the
supporting units.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.plans.deadlines import fold_same_length
from bot.text import fold, lower_same_length

# --- lexicon (lower case, accents kept: "đảng" is not "đang") -------------------------------

HEADS = frozenset({
    # state bodies and their offices
    "phòng", "ban", "sở", "ủy ban", "ubnd", "hđnd", "hội đồng", "văn phòng", "trung tâm",
    "công an", "ban chỉ huy", "bch", "bộ chỉ huy", "đội", "cơ quan", "chi cục", "cục",
    "tổng cục", "bộ", "thanh tra", "kho bạc", "chi nhánh", "bảo hiểm", "bhxh", "ngân hàng",
    "trường", "bệnh viện", "viện", "trạm", "trạm y tế", "bảo hiểm xã hội", "xí nghiệp",
    "tòa án", "viện kiểm sát", "chính quyền",
    "ban quản lý", "bql", "ban chỉ đạo", "tổ công tác", "tổ", "bộ phận", "hạt kiểm lâm",
    "điện lực", "công ty", "tổng công ty", "ban tiếp công dân", "đài phát thanh", "đài",
    "báo", "cổng thông tin", "ủy ban kiểm tra", "ubkt", "vp", "hội đồng nhân dân",
    "ủy ban nhân dân", "bộ đội biên phòng", "quỹ", "chi cục thuế", "cục thuế",
    "ban dân tộc", "đoàn kiểm tra", "đoàn công tác", "nhà trường", "cơ sở",
    # party and mass organisations
    "thành ủy", "tỉnh ủy", "thị ủy", "huyện ủy", "quận ủy", "đảng ủy", "đảng đoàn", "đảng bộ",
    "chi bộ", "ban cán sự", "ban thường vụ", "thường trực", "mặt trận", "mttq", "ubmttq",
    "liên đoàn", "liên minh", "hội", "hội liên hiệp", "hiệp hội", "đoàn", "đoàn thể", "chi hội",
    "tỉnh đoàn", "huyện đoàn", "thành đoàn", "cấp ủy", "cấp ủy viên", "hợp tác xã",
    # places and generic groups
    "phường", "xã", "thị trấn", "huyện", "thị xã", "thành phố", "tỉnh", "quận", "địa phương",
    "ngành", "đơn vị", "tổ chức", "lực lượng", "doanh nghiệp", "cán bộ", "cấp", "chi",
    "ban ngành", "ngành chức năng", "tập thể", "các cấp", "chủ đầu tư", "thành viên",
    "nhà thầu", "nhà đầu tư", "ấp", "thôn", "bản", "tổ dân phố", "khu phố", "khóm", "buôn",
    "làng", "bộ phận một cửa", "chính phủ", "quốc hội", "giáo viên", "công chức", "viên chức",
    "vụ", "khối", "xóm", "khu dân cư", "tp",
    # people who answer for a unit
    "người đứng đầu", "bí thư", "phó bí thư", "chủ tịch", "phó chủ tịch", "giám đốc",
    "phó giám đốc", "tổng giám đốc", "thủ trưởng", "trưởng", "phó trưởng", "trưởng phòng",
    "trưởng ban", "chánh văn phòng", "chánh thanh tra", "hiệu trưởng", "chủ nhiệm",
    "viện trưởng", "chánh án", "tổ trưởng", "ủy viên", "đồng chí", "các đồng chí",
    "thủ tướng", "phó thủ tướng", "bộ trưởng", "thứ trưởng", "tổng cục trưởng", "cục trưởng",
    "quyền chủ tịch", "quyền giám đốc", "quyền trưởng", "quyền bộ trưởng",
    "chi cục trưởng", "hiệu phó", "chỉ huy trưởng", "chính ủy", "ban chấp hành", "chi đoàn",
    "liên chi đoàn", "liên chi hội", "liên hiệp", "đài phát thanh và truyền hình",
    "đài phát thanh - truyền hình",
})
PERSONS = ("lãnh đạo", "ủy viên", "bí thư", "phó bí thư", "chủ tịch", "phó chủ tịch", "giám đốc",
           "quyền ", "chỉ huy trưởng", "chính ủy",
           "thủ tướng", "phó thủ tướng", "bộ trưởng", "thứ trưởng", "cục trưởng",
           "phó giám đốc", "tổng giám đốc", "thủ trưởng", "trưởng", "phó trưởng",
           "người đứng đầu", "chánh văn phòng", "chánh thanh tra", "hiệu trưởng", "chủ nhiệm",
           "viện trưởng", "chánh án", "tổ trưởng", "đồng chí")
"""Person titles: each starts a new unit in a list, even in lower case ("..., ủy viên Ban ...")."""
NAMED = frozenset({"phòng", "ban", "sở", "đội", "cục", "trường", "viện", "bộ", "hội", "đoàn",
                   "trung tâm", "văn phòng", "chi cục", "công ty", "cơ quan", "tổ", "trạm",
                   "quỹ", "đài", "báo", "thanh tra", "chi nhánh", "liên minh", "liên đoàn", "vụ",
                   "bảo hiểm", "ngân hàng", "bệnh viện", "xí nghiệp"})
"""Heads that name a unit only when a proper name follows ("Phòng Y tế", not "phòng dịch")."""
WEAK = frozenset({"tổ chức", "cán bộ", "cấp", "ngành", "đơn vị", "địa phương", "doanh nghiệp",
                  "lực lượng", "tập thể", "đoàn thể", "chi", "ban ngành", "ngành chức năng",
                  "chủ đầu tư", "thành viên", "cơ sở", "trường", "nhà trường", "nhà thầu",
                  "nhà đầu tư", "ấp", "thôn", "bản", "tổ dân phố", "khu phố", "khóm", "buôn",
                  "làng", "giáo viên", "công chức", "viên chức", "khối", "xóm", "khu dân cư"})
ACTOR_TYPES = ("chủ đầu tư", "nhà thầu", "nhà đầu tư")
"""Kinds of actors, each its own unit in a list ("các phường, xã, chủ đầu tư, nhà thầu")."""
"""Heads that cannot open a list on their own, only with "các"/"những" or after another unit."""
GENERIC = frozenset({"ngành", "cấp", "địa phương", "đơn vị", "cơ quan", "ban", "phòng", "sở",
                     "đoàn thể", "tổ chức", "ban ngành", "doanh nghiệp", "lực lượng",
                     "ngành chức năng", "hội", "đoàn", "trường", "cơ sở", "chi cục", "cá nhân",
                     "hộ gia đình", "thôn", "bản", "tổ dân phố", "khu phố", "chủ đầu tư",
                     "nhà đầu tư", "xã", "phường", "thị trấn", "huyện", "thị xã", "thành phố",
                     "quận", "tỉnh", "trung tâm", "bệnh viện", "trạm y tế"})
"""Category nouns that go on with a list ("Chính quyền các cấp, các ngành", "các sở, ban,
ngành", "UBND các huyện, thị xã, thành phố")."""
LEVELS = ("thành phố", "thị xã", "thị trấn", "tỉnh", "huyện", "quận", "xã", "phường")
LEVEL_AGENCIES = re.compile(
    r"^(?:(?:chủ tịch|phó chủ tịch|thường trực|ban thường vụ)\s+)?"
    r"(?:ủy ban nhân dân|ubnd|hội đồng nhân dân|hđnd|công an|ban chỉ huy quân sự|"
    r"trung tâm y tế|ủy ban mặt trận tổ quốc|ủy ban mttq|ubmttq|đảng ủy)\b"
)
"""Bodies that exist at every level: "UBND thành phố và các huyện" gives "UBND" to "các huyện"."""
TAILS = sorted(
    {"có liên quan", "liên quan", "trực thuộc", "thuộc tỉnh", "thuộc huyện", "thuộc thành phố",
     "cấp tỉnh", "cấp huyện", "cấp xã", "các cấp", "cùng cấp", "trên địa bàn", "địa bàn",
     "chuyên môn", "là thành viên", "thành viên", "chuyên ngành", "khu vực", "chức năng",
     "nhà nước", "toàn tỉnh", "toàn huyện", "trong tỉnh", "trong huyện", "tại địa phương",
     "từ thành phố đến cơ sở", "từ tỉnh đến cơ sở", "đến cơ sở", "được giao", "nêu trên",
     "là đối tượng thanh tra", "là đối tượng kiểm tra", "là đối tượng",
     "nói trên", "dưới đây", "sau đây"},
    key=len, reverse=True,
)
"""Lower-case words that go on with a unit name after it ("Sở Y tế tỉnh", "các cơ quan có liên
quan", "các đơn vị trực thuộc")."""
PREDICATE = frozenset({
    "chủ trì", "phối hợp", "chủ động", "có trách nhiệm", "chịu trách nhiệm", "có nhiệm vụ",
    "phải", "cần", "căn cứ", "theo", "thực hiện", "tham mưu", "xây dựng", "tổ chức",
    "triển khai", "chỉ đạo", "tiếp tục", "tập trung", "khẩn trương", "thường xuyên", "kịp thời",
    "rà soát", "theo dõi", "tổng hợp", "hướng dẫn", "kiểm tra", "giám sát", "đôn đốc",
    "nghiên cứu", "tăng cường", "đẩy mạnh", "nâng cao", "cụ thể hóa", "quán triệt", "phổ biến",
    "tuyên truyền", "chuẩn bị", "hoàn thành", "hoàn thiện", "hoàn tất", "báo cáo", "đề xuất",
    "bố trí", "lập", "ban hành", "giữ vững", "không", "tự", "duy trì", "bảo đảm", "đảm bảo",
    "sớm", "được", "là", "làm", "xử lý", "vận động", "phát huy", "ưu tiên", "quan tâm",
    "đề cao", "lãnh đạo", "giải quyết", "tiến hành", "nghiêm túc", "nghiêm", "trực tiếp",
    "định kỳ", "cùng", "đồng thời", "nhằm", "gắn với", "khi", "nếu", "đã", "đang", "sẽ", "vừa",
    "tích cực", "quyết liệt", "tham gia", "thể chế hóa", "cập nhật", "áp dụng", "đánh giá",
    "sơ kết", "tổng kết", "quản lý", "thu hút", "khuyến khích", "hỗ trợ", "bảo vệ",
    "thành lập", "đi trước", "nêu gương", "chú trọng", "bám sát", "nhất là", "trong đó",
    "đặc biệt là", "yêu cầu", "đề nghị", "giao", "có", "thẩm định", "thẩm tra", "gửi", "nộp",
    "trình", "cung cấp", "thống kê", "kiểm đếm", "kiểm soát", "kiểm kê", "điều tra", "khảo sát",
    "thông báo", "kêu gọi", "tiếp nhận", "thanh toán", "chi trả", "cấp phát", "phân bổ",
    "giải ngân", "đối chiếu", "treo", "kịp", "ra quân", "tuần tra", "sẵn sàng", "di dời", "sơ tán",
    "huy động", "bàn giao", "lấy ý kiến", "góp ý", "tham dự", "cử cán bộ", "cử đại diện",
    "cử người", "đăng ký", "phê duyệt", "bám", "bám vào", "cam kết", "nhận xét",
    "xác minh", "xác nhận", "niêm yết", "công khai", "công bố", "số hóa", "chuẩn hóa",
    "sửa chữa", "khắc phục", "nạo vét", "tiêm", "thanh tra", "truy quét", "ngăn chặn",
    "phòng ngừa", "xem xét", "quyết định", "chấn chỉnh", "soạn thảo", "dự thảo", "biên soạn",
    "đăng tải", "lắp đặt", "vận hành", "nâng cấp", "mua sắm", "sắp xếp", "kiện toàn",
    "bổ sung", "điều chỉnh", "sửa đổi", "thu hồi", "tạm dừng", "dừng", "ngừng", "nắm",
    "nắm bắt", "nắm chắc", "liên hệ", "trao đổi", "thống nhất", "vận chuyển", "cung ứng",
    "dự trữ", "kiểm định", "quan trắc", "cảnh báo", "dự báo", "ứng phó", "điều hành",
    "điều phối", "phân công", "nhân rộng", "phát hiện", "mở", "đóng", "cấp", "thu",
    "đẩy nhanh", "phấn đấu", "hướng tới", "tiếp thu", "giải trình", "cân đối", "tự cân đối",
    "kết luận", "nhận được", "trả lời", "phúc đáp", "chuyển", "mời", "xin", "kính",
    "tạo điều kiện", "đi vào", "phát triển", "rút kinh nghiệm", "chỉ định",
    "thường trực", "tổng rà soát", "vệ sinh", "phun", "tầm soát", "giám định", "khen thưởng",
    "xử phạt", "đề ra", "nêu", "ghi nhận", "biểu dương", "phê bình", "nhắc nhở", "lưu ý",
    "cần thiết", "tự kiểm tra", "giúp", "đưa", "đưa vào",
    "chỉ huy", "bàn", "họp", "hoạt động", "theo đúng", "trên cơ sở", "để", "với", "cho",
    "xác định", "trở thành", "trong", "tại", "về", "bằng", "đối với", "qua", "vào", "như",
    "góp phần", "tăng", "giảm", "đạt", "gồm", "bao gồm", "thì", "mà", "do", "bởi",
    "hằng năm", "hàng năm", "hằng quý", "hàng quý", "hằng tháng", "hàng tháng", "hằng ngày",
    "hàng ngày", "hằng tuần", "hàng tuần", "chỉ", "đều", "luôn", "cũng", "vẫn", "còn", "lại",
    "nên", "chỉnh sửa", "khẩn cấp", "ngay", "trước", "sau", "từ", "đến", "tới", "trong khi",
    "hoặc", "hay", "rồi", "ôn tập", "giảng dạy", "tuyển sinh", "tuyển dụng", "tặng", "trao",
    "gửi về", "tập huấn", "bồi dưỡng", "tiếp cận", "trên", "thi công", "chấm thi", "dự kiến",
    "xuất", "nhập", "in ấn", "phát hành", "lưu trữ", "bảo quản", "cấp phép",
    "cấp giấy", "hoàn trả", "nộp lại", "nghiệm thu", "quyết toán", "thanh lý", "đấu thầu",
    "lựa chọn", "chọn", "tổ chức lại", "bổ nhiệm", "miễn nhiệm", "điều động",
    "luân chuyển", "khen", "kỷ luật", "xét", "xét duyệt", "xét tuyển", "công nhận", "chứng nhận",
    "đo đạc", "khoanh", "cắm mốc", "giải phóng", "bồi thường", "di chuyển", "tiêu hủy",
    "tiêu độc", "khử trùng", "dập dịch", "cách ly", "truy vết", "điều trị", "khám",
    "tổng điều tra", "rà soát lại", "cập nhật lại", "báo cáo lại", "sáp nhập", "hợp nhất",
    "giải thể", "chia tách", "lắng nghe", "đối thoại", "tiếp dân", "giải đáp",
    "tham vấn", "thẩm định lại", "ứng dụng", "triển khai ứng dụng", "vận hành thử",
    "cảnh giới", "canh gác", "ứng trực", "túc trực", "trực ban", "theo dõi sát", "nắm tình hình",
    "thông qua", "kiểm điểm",
})
NOUNISH = frozenset({"tổ chức", "quản lý", "lãnh đạo", "xây dựng", "đơn vị", "kiểm tra",
                     "giám sát", "chỉ đạo", "bảo vệ", "tuyên truyền", "hướng dẫn", "thanh tra",
                     "tiếp công dân", "thường trực", "phát triển", "vận động", "điều hành",
                     "hoạt động", "tổ chức thực hiện", "thu", "cấp"})
"""Predicate words that are also nouns inside a name ("Ban xây dựng Đảng", "các cấp ủy, tổ
chức Đảng", "Ban Chỉ đạo phát triển ...")."""

_HEAD_RE = re.compile(
    r"(?:các quý |các |những |toàn thể |quý |tất cả (?:các )?)?(?:"
    + "|".join("xã(?! hội)" if h == "xã" else re.escape(h) for h in sorted(HEADS, key=len,
                                                                           reverse=True))
    + r")(?!\w)"
)
_FOLDED_HEADS: dict[str, tuple[str, ...]] = {}
for _h in HEADS:
    if " " in _h and _h not in PERSONS:
        _FOLDED_HEADS[fold(_h)] = (*_FOLDED_HEADS.get(fold(_h), ()), _h)
_FOLDED_HEAD_RE = re.compile(
    r"(?:cac |nhung )?(?:" + "|".join(map(re.escape, sorted(_FOLDED_HEADS, key=len, reverse=True)))
    + r")(?!\w)")
_NAME_COMPOUND = re.compile(
    r"(?:trung học phổ thông|trung học cơ sở|phổ thông|thông tin|truyền thông|giao thông|"
    r"công lập|dân lập|ngoài công lập|thi(?= công bố)|"
    r"viễn thông|phát thanh|truyền hình|dân tộc nội trú|giáo dục thường xuyên)(?!\w)")
"""Words of unit names whose syllables would otherwise read as a verb with the next word
("phổ thông báo cáo", "giao thông báo")."""
_ODD_MARK = re.compile(r"(?:(?:các|những)\s+)?\w*[ồờừữộợ]")
"""A first word with a mark OCR often puts in place of another ("tồ chức" for "tổ chức")."""
_PREDICATE_RE = re.compile(
    r"(?<!\w)(?:" + "|".join(map(re.escape, sorted(PREDICATE, key=len, reverse=True)))
    + r")(?!\w)"
)
_CLOSING_TAILS = frozenset({"có liên quan", "liên quan", "trực thuộc", "nêu trên", "trên",
                            "nói trên", "dưới đây", "sau đây", "được giao"})
_TAIL_RE = re.compile(r"(?:" + "|".join(map(re.escape, TAILS)) + r"|trên(?! cơ sở))(?!\w)")
_LEVEL_RE = re.compile(r"(?:" + "|".join(LEVELS).replace("|xã|", "|xã(?! hội)|") + r")(?!\w)")
_GENERIC_RE = re.compile(r"(?:" + "|".join(map(re.escape, sorted(GENERIC, key=len, reverse=True)))
                         + r")(?!\w)")
_REQUEST_WORD = re.compile(r"(?:yêu cầu|đề nghị|kính gửi)(?!\w)")
_SHORT_LEVEL = re.compile(r"(?:thành|thị)(?=\s*[,;.]|\s*$|\s+và\s|\s+[^\W\d_])(?! thị\b)")
"""Places abbreviated in a list: "các huyện, thành, thị" (thành phố, thị xã)."""
_TOKEN_RE = re.compile(r"[\w&]+(?:[./'’][\w&]+)*|[^\w\s]")
_RELATED_RE = re.compile(r"\b(?:lien quan|co lien quan)\s*$")
_SUPPORT_RE = re.compile(r"\b(?:phoi hop voi|phoi hop cung|cung voi|voi su phoi hop cua)\s+")
_LEAD_RE = re.compile(r"\s*,?\s*\bchu tri\b\s*,?\s*")
_OFFICE_BODIES = re.compile(r"(?:hđnd|ubnd|hội đồng nhân dân|ủy ban nhân dân|đoàn đbqh|"
                            r"đoàn đại biểu quốc hội)(?!\w)")
MAX_UNIT = 160


@dataclass(frozen=True, slots=True)
class Assignment:
    """Units found in a clause, and where the task text proper begins."""

    lead: tuple[str, ...]
    support: tuple[str, ...]
    body_start: int
    """Offset in the text where the task itself starts (after "Units:" or the units)."""
    start: int = 0
    """Offset where the units are written."""


@dataclass(frozen=True, slots=True)
class UnitList:
    """A written list of units: the pieces as written and the span they take."""

    units: tuple[str, ...]
    start: int
    end: int


# --- heads ---------------------------------------------------------------------------------


_SCHOOL = re.compile(r"(?:phổ thông|trung học|tiểu học|mầm non|mẫu giáo|cao đẳng|đại học|"
                     r"trung cấp|chính trị|dân tộc nội trú|bồi dưỡng)(?!\w)")


_ASKED_BEFORE = re.compile(r"(?:yêu cầu|đề nghị|giao(?: cho)?|kính gửi)\s*:?\s*$")
"""A request verb just before a title: "yêu cầu lãnh đạo các sở" (but "…, lãnh đạo Bộ GD&ĐT
thông tin" is a speaker)."""


def _head_match(text: str, low: str, pos: int, *, first: bool) -> int | None:
    """End of the unit head starting at ``pos`` ("Phòng", "các cấp ủy", "Giám đốc"), or None.

    With ``first``, the head must be able to open a list: weak heads need "các"/"những". Named
    heads need a capitalised name after them ("Phòng Y tế", not "phòng dịch").
    """
    if low.startswith(("lãnh đạo ", "các lãnh đạo "), pos):
        # "yêu cầu lãnh đạo các sở, ban, ngành …", "Lãnh đạo UBND thành phố …": a title only
        # when a unit follows it (not the verb in "lãnh đạo, chỉ đạo các cấp ủy").
        title_end = low.index("lãnh đạo", pos) + len("lãnh đạo")
        nxt = _skip_space(low, title_end)
        asked = not first or _ASKED_BEFORE.search(low[max(0, pos - 30):pos]) is not None
        if asked and (low.startswith(("các ", "những "), nxt) or text[nxt:nxt + 1].isupper()) \
                and _head_match(text, low, nxt, first=False) is not None:
            return title_end
        return None
    m = _HEAD_RE.match(low, pos)
    if m is None:
        # Scans damage accents ("các tồ chức"): multi-syllable heads also match folded. Only
        # a word with a mark the accented heads do not expect needs the slower look.
        if not _ODD_MARK.match(low, pos):
            return None
        m = _FOLDED_HEAD_RE.match(fold_same_length(text[pos:pos + 40]))
        if m is None:
            return None
        folded_head = m.group(0)
        word = next(h for h in _FOLDED_HEADS.get(folded_head.split(" ", 1)[-1]
                                                 if folded_head.startswith(("cac ", "nhung "))
                                                 else folded_head, ()))
        plural = folded_head.startswith(("cac ", "nhung "))
        return pos + len(folded_head) if not (first and not plural and word in WEAK) else None
    word = low[pos:m.end()]
    plural = word.startswith(("các ", "những ", "toàn thể ", "quý ", "tất cả "))
    head = re.sub(r"^(?:các quý|các|những|toàn thể|quý|tất cả(?: các)?) ", "", word) if plural \
        else word
    school = head == "trường" and text[pos:pos + 1].isupper() and _SCHOOL.match(
        low, _skip_space(low, m.end())) is not None
    if school:
        return m.end()  # "Trường phổ thông Dân tộc nội trú tỉnh", "Trường mầm non Hoa Sen"
    if head == "cấp" and not plural and first and (
            text[pos:pos + 1].isupper() or low[max(0, pos - 40):pos].rstrip().endswith(";")):
        level = _LEVEL_RE.match(low, _skip_space(low, m.end()))
        if level:
            return level.end()  # "- Cấp xã hoàn thành …": the communes, as a tier
    if first and not plural and head in WEAK:
        return None
    if head == "thành viên" and not text[_skip_space(low, m.end()):][:1].isupper():
        return None  # "các thành viên Ban Chỉ đạo", not "các thành viên có tên tại Điều 1"
    if head in ("đồng chí", "các đồng chí"):
        nxt = _skip_space(low, m.end())
        for title in ("lãnh đạo ", "thủ trưởng "):  # "các đồng chí lãnh đạo các địa phương"
            if low.startswith(title, nxt):
                return nxt + len(title) - 1
        return m.end() if _head_match(text, low, nxt, first=False) else None
    if not plural and head in NAMED:
        nxt = _skip_space(low, m.end())
        ch = text[nxt:nxt + 1]
        if text[pos:pos + 1].isupper() and (_LEVEL_RE.match(low, nxt) or not first):
            return m.end()  # "Thanh tra tỉnh"; in a list: "…, Ban bầu cử, Tổ bầu cử"
        if not (ch.isupper() or ch.isdigit()):
            if head in ("ban", "cơ quan") and re.match(
                    r"(?:xây dựng đảng|cán sự|chỉ đạo|chỉ huy|quản lý|thường vụ|tổ chức|tuyên "
                    r"giáo|dân vận|nội chính|kinh tế|văn hóa|pháp chế|dân tộc)", low[nxt:]):
                return m.end()
            if head == "cơ quan" and re.match(
                    r"(?:chuyên môn|thường trực|ngang bộ|thuộc chính phủ|thuộc bộ|nhà nước|"
                    r"hành chính|báo chí)(?!\w)", low[nxt:]):
                return m.end()
            return None
    if not plural and head in LEVELS:
        # "Thành phố, các địa phương ..." but not "huyện đã ...": a place needs its name or a list.
        nxt = _skip_space(low, m.end())
        ch = text[nxt:nxt + 1]
        if not (ch.isupper() or ch in ",;" or low.startswith("và ", nxt)):
            # "Tỉnh sẽ hỗ trợ kinh phí …": a bare level is the government speaking, not a unit
            return None
    return m.end()


def starts_with_head(text: str, *, first: bool = False) -> bool:
    """Whether ``text`` (any case) starts with a unit head word ("Phòng Y tế", "các cấp ủy")."""
    stripped = text.lstrip(" -+*•(")
    return _head_match(stripped, lower_same_length(stripped), 0, first=first) is not None


def _skip_space(low: str, pos: int) -> int:
    while pos < len(low) and low[pos] in " \t":
        pos += 1
    return pos


# --- reading a list of units -----------------------------------------------------------------


def read_units(text: str, pos: int = 0, *, low: str | None = None, first: bool = True,
               stop: int | None = None) -> UnitList | None:
    """The list of units written at ``text[pos:]`` ("UBND các huyện, thành phố", "Sở Tài chính
    và Sở Kế hoạch và Đầu tư", "Giám đốc Sở Xây dựng"), or None when no unit starts there."""
    low = lower_same_length(text) if low is None else low
    pos = _skip_space(low, pos)
    head_end = _head_match(text, low, pos, first=first)
    if head_end is None:
        count = _COUNT.match(low, pos)  # "11 Bộ, cơ quan", "hai Sở": counted, so plural
        head = _HEAD_RE.match(low, count.end()) if count else None
        if head is None:
            return None
        head_end = head.end()
    pieces: list[tuple[int, int] | list[str]] = []
    piece_start, i = pos, head_end
    named = False  # the current piece has a capitalised name
    closed = False  # the last word closed the name ("… liên quan")
    after_level = _ends_with_level(low[pos:head_end]) or \
        low[pos:head_end].removeprefix("các ").removeprefix("những ") in _COMPLETE and \
        not low.startswith(" viên", head_end)  # "Huyện ủy viên" is a member, not the body
    limit = min(len(text) if stop is None else stop, pos + 600)
    end = limit
    while True:
        j = _skip_space(low, i)
        if j >= limit:
            end = j
            break
        tail = _TAIL_RE.match(low, j)
        if tail:
            # "các đơn vị trên chỉnh sửa …", "các đơn vị liên quan, tổ chức …": after a closing
            # tail the name is over.
            i, after_level = tail.end(), tail.group(0) in _CLOSING_TAILS
            closed = after_level
            parent = _BARE_PARENT.match(low, _skip_space(low, i)) \
                if tail.group(0) == "trực thuộc" else None
            if parent:
                i = parent.end()  # "các đơn vị trực thuộc sở, Trung tâm …": the parent body
            continue
        was_closed, closed = closed, False
        tok = _TOKEN_RE.match(low, j)
        if tok is None:
            end = j
            break
        word, k = tok.group(0), tok.end()
        if word in (",", ";", "và", "cùng"):
            nxt = _skip_space(low, k)
            if word == "," and _TAIL_RE.match(low, nxt) and \
                    low.startswith(("thuộc ", "trực thuộc", "có liên quan", "liên quan"), nxt):
                i = nxt  # "Thủ trưởng các sở, ban, ngành, thuộc tỉnh": a stray comma
                continue
            if word in (",", "và") and low[piece_start:j].strip() in _BARE_TITLES and \
                    low.startswith(PERSONS, nxt):
                i = nxt  # "giám đốc, thủ trưởng các sở, ban, ngành": the titles share the body
                continue
            if _office_goes_on(low, piece_start, nxt):
                i, after_level = nxt, False  # "Văn phòng HĐND và UBND huyện"
                continue
            if word == "," and _after_levels(low, piece_start, nxt) and \
                    _word_at(low, nxt) in GENERIC - set(LEVELS):
                # "UBND các huyện, thị xã, thành phố, sở, ban, ngành liên quan"
                pieces.append((piece_start, j))
                piece_start, i, named, after_level = nxt, nxt, False, False
                continue
            if word != ";" and not was_closed and _list_goes_on(text, low, piece_start, nxt,
                                                                word, named, after_level):
                # "các sở, ban, ngành", "các huyện, thành phố", "các Sở, Ban, Ngành"
                i, after_level = nxt, False
                if text[nxt:nxt + 1].isupper():
                    i = nxt + len(_word_at(low, nxt))
                continue
            nhead = _head_match(text, low, nxt, first=False)
            if was_closed and text[nxt:nxt + 1].islower() and _PREDICATE_RE.match(low, nxt):
                nhead = None  # "… các đơn vị liên quan, tổ chức quán triệt": the verb
            if nhead is not None:
                pieces.append((piece_start, j))
                piece_start, i, named = nxt, nhead, False
                after_level = _ends_with_level(low[nxt:nhead])
                continue
            places = _place_names(text, low, piece_start, j, nxt, limit) \
                if word in (",", "và") and named and text[nxt:nxt + 1].isupper() else None
            if places is not None:
                # "UBND huyện Quang Bình, Bắc Quang", "UBND các tỉnh Thanh Hóa, Nghệ An và Hà
                # Tĩnh": one body at each place named after the level word.
                names, names_end = places
                pieces.append(names)
                piece_start = -1
                i, after_level, named, end = names_end, False, True, names_end
                nxt = _skip_space(low, names_end)
                sep = _TOKEN_RE.match(low, nxt)
                if sep and sep.group(0) in (",", ";", "và"):
                    nhead = _head_match(text, low, _skip_space(low, sep.end()), first=False)
                    if nhead is not None:
                        piece_start, i = _skip_space(low, sep.end()), nhead
                        named = False
                        continue
                break
            if word in (",", "và") and named and text[nxt:nxt + 1].isupper():
                i, after_level = nxt, False  # "Sở Văn hóa, Thể thao và Du lịch"
                continue
            if word == "và" and named:
                run = _lower_name_run(text, low, nxt)
                if run is not None:
                    i, after_level = run, False  # "Sở Giáo dục và đào tạo" in lower case
                    continue
            end = j
            break
        if word == ":" and _PLURAL_COLON.fullmatch(low[piece_start:k]) and \
                text[_skip_space(low, k):_skip_space(low, k) + 1].isupper():
            # "phối hợp các Sở: Kế hoạch và Đầu tư, Xây dựng; Ban Quản lý …": one head given
            # to each name that follows it.
            names_from = _skip_space(low, k)
            names_end = _plural_names_end(text, low, names_from, limit)
            pieces.append(distribute_plural(text[piece_start:j], text[names_from:names_end]))
            piece_start = -1
            i, after_level, named = names_end, False, True
            nxt = _skip_space(low, names_end)
            sep = _TOKEN_RE.match(low, nxt)
            if sep and sep.group(0) in (",", ";", "và"):
                nhead = _head_match(text, low, _skip_space(low, sep.end()), first=False)
                if nhead is not None:
                    piece_start, i = _skip_space(low, sep.end()), nhead
                    named = False
                    continue
            end = names_end
            break
        if word == "." and low[max(0, j - 2):j] == "tp" and text[k:k + 1].isupper():
            i = k  # "TP.Thủ Đức", "UBND TP.Hạ Long"
            continue
        if word in ("-", "–") or word == "/" and _LEVEL_RE.match(low, _skip_space(low, k)):
            i = k  # "Tài chính - Kế hoạch", "UBND các tỉnh/thành phố"
            continue
        if word == "(":
            abbr = _ABBREVIATION.match(text, j)
            after = _skip_space(low, abbr.end()) if abbr else j
            if abbr and (_LEVEL_RE.match(low, after) or text[after:after + 1].isupper()):
                i = abbr.end()  # "Trung tâm Kiểm soát bệnh tật (CDC) tỉnh": the name goes on
                continue
        if not word[0].isalnum():
            end = j
            break
        inner = _head_match(text, low, j, first=False)
        pred = _PREDICATE_RE.match(low, j) if text[j].islower() else None
        if inner is not None and inner - j > 3 and low[j:inner] not in LEVELS and not (
                pred and not _nounish(low, piece_start, j, pred.group(0), named)):
            # "Chủ tịch Ủy ban nhân dân ...", "Cơ quan Ủy ban kiểm tra", "Hiệu trưởng các trường"
            named = named or text[j].isupper()
            i, after_level = inner, _ends_with_level(low[j:inner])
            continue
        if text[j].isupper() and _REQUEST_WORD.match(low, j):
            end = j  # "Chủ tịch UBND tỉnh, Yêu cầu Cục trưởng …"
            break
        if text[j].isupper() or text[j].isdigit():
            named, after_level, i = True, False, k
            continue
        level = _LEVEL_RE.match(low, j) or (
            _SHORT_LEVEL.match(low, j) if low[max(0, j - 40):j].rstrip().endswith(",") else None)
        if level:
            i, after_level = level.end(), True
            continue
        if after_level and word not in ("các", "những"):
            end = j  # "Công an tỉnh tuần tra ...": a level word closes the name
            break
        compound = _NAME_COMPOUND.match(low, j)
        if compound:  # "trung học phổ thông báo cáo …": the name word, then the verb
            i = compound.end()
            continue
        pred = _PREDICATE_RE.match(low, j)
        if pred and not _nounish(low, piece_start, j, pred.group(0), named):
            end = j
            break
        i = k
    if piece_start >= 0:
        end = _trim_end(low, piece_start, end)
        pieces.append((piece_start, end))
    units = tuple(u for u in (_clean(n) for p in pieces
                              for n in (p if isinstance(p, list) else [text[p[0]:p[1]]])) if u)
    if not units or any(len(u) > MAX_UNIT for u in units):
        return None
    return UnitList(_distribute_levels(units), pos, end)


_ABBREVIATION = re.compile(r"\(\s*[A-ZĐ][A-ZĐ0-9&.\-]{1,11}\s*\)")


def units_only(text: str, *, first: bool = True) -> tuple[str, ...]:
    """The units, when ``text`` is nothing but a list of them ("- Phòng Y tế;", "UBND các huyện,
    thành phố; Sở Y tế"), else (): "1. Phòng Y tế rà soát …" opens with a unit, it is no list."""
    body = text.strip(" -+•.;,")
    found = read_units(body, first=first)
    if found is None or len(body[found.end:].strip(" .;,")) > 1:
        return ()
    return found.units


def _after_levels(low: str, piece_start: int, nxt: int) -> bool:
    """Whether the piece so far ends with a list of places ("UBND các huyện, thị xã")."""
    piece = low[piece_start:nxt].rstrip(" ,;")
    agency = LEVEL_AGENCIES.match(piece)
    return _LEVEL_LIST_RE.fullmatch(piece[agency.end():].strip() if agency else piece) is not None


def _plural_names_end(text: str, low: str, pos: int, limit: int) -> int:
    """Where the names after "các Sở:" end: at ";" or a full stop, before a separator that
    starts another unit, or where the predicate starts."""
    i = pos
    while True:
        j = _skip_space(low, i)
        tok = _TOKEN_RE.match(low, j) if j < limit else None
        if tok is None:
            return j
        word = tok.group(0)
        if word in (";", ".", ":", "(", ")"):
            return j
        if word in (",", "và"):
            nxt = _skip_space(low, tok.end())
            if _head_match(text, low, nxt, first=False) is not None:
                return j
        elif text[j].islower() and _verb_at(text, low, j):
            return j
        i = tok.end()


_PLACE_LEVEL = re.compile(r"(?:(?:các|những)\s+)?(" + "|".join(LEVELS) + r")\s+(?=\S)")
_PROPER_WORD = re.compile(r"[^\W\d_][\w'’.]*(?:-[^\W\d_][\w]*)?")


def _capital_run(text: str, pos: int, limit: int) -> int | None:
    """End of one to four capitalised words at ``pos`` ("Bắc Quang", "Thừa Thiên Huế")."""
    i, count, end = pos, 0, pos
    while count < 4:
        m = _PROPER_WORD.match(text, i)
        if m is None or m.end() > limit or not text[i].isupper():
            break
        count, end = count + 1, m.end()
        i = end
        while i < limit and text[i] == " ":
            i += 1
    return end if count else None


def _place_names(text: str, low: str, piece_start: int, j: int, nxt: int,
                 limit: int) -> tuple[list[str], int] | None:
    """When the piece is "<body> <level> <Name>" and bare names follow ("UBND huyện Quang Bình,
    Bắc Quang"), the body at each place and the end of the names; else None."""
    piece, lpiece = text[piece_start:j], low[piece_start:j]
    level = None
    for m in _PLACE_LEVEL.finditer(lpiece):
        if m.start() and _capital_run(piece, m.end(), len(piece)) == len(piece.rstrip()):
            level = m
    if level is None or level.group(0).startswith(("các", "những")) \
            or _head_match(text, low, piece_start, first=False) is None:
        # "UBND các huyện Ea Kar, Krông Pắc, Cư Kuin" stays one unit, like "UBND các huyện,
        # thị xã": only a body at one place ("UBND huyện Quang Bình") is given to the others.
        return None
    prefix = f"{piece[:level.start()].rstrip()} {piece[level.start(1):level.end(1)]}"
    names = [piece[level.end():].strip()]
    i = end = nxt
    while True:
        run = _capital_run(text, i, limit)
        if run is None or _head_match(text, low, i, first=False) is not None:
            return None if len(names) == 1 else ([f"{prefix} {n}" for n in names], end)
        names.append(text[i:run].strip())
        end = run
        k = _skip_space(low, run)
        sep = _TOKEN_RE.match(low, k)
        if sep is None or sep.group(0) not in (",", "và"):
            break
        after = _skip_space(low, sep.end())
        if not text[after:after + 1].isupper() or _head_match(text, low, after,
                                                              first=False) is not None:
            break
        i = after
    return [f"{prefix} {n}" for n in names], end


_BARE_PARENT = re.compile(r"(?:sở|bộ|phòng|ban|cục|tỉnh|huyện|thành phố)(?=\s*(?:[,;.:]|và\s|$))")
"""The body a unit belongs to, named by its head alone: "các đơn vị trực thuộc sở"."""
_BARE_TITLES = frozenset(p.strip() for p in PERSONS) - {
    "bộ trưởng", "thứ trưởng", "thủ tướng", "phó thủ tướng", "đồng chí", "quyền"}
"""Titles that need the body named after them ("giám đốc, thủ trưởng các sở": one unit); a
minister's title names his own ministry ("Bộ trưởng, Thủ trưởng cơ quan ngang bộ": two)."""
_PLURAL_PIECE = re.compile(
    r"(?:(?:" + "|".join(re.escape(p.strip()) for p in sorted(PERSONS, key=len, reverse=True))
    + r")\s+)?(?:các|những)\s")
"""A plural piece, after a title or not: "các Sở, Ban, ngành", "Giám đốc các Sở, Ban, ngành"."""


def _list_goes_on(text: str, low: str, piece_start: int, nxt: int, sep: str, named: bool,
                  after_level: bool) -> bool:
    """Whether the word after a comma or "và" goes on with the same unit: a list of levels
    ("UBND các huyện, thị xã, thành phố") or of categories ("các phòng, ban, ngành", "các cấp
    ủy, tổ chức đảng", "Chính quyền các cấp, các ngành, các địa phương")."""
    if low.startswith("chống", nxt) and low[max(0, nxt - 40):nxt].rstrip(" ,").endswith("phòng"):
        return True  # "Ban Chỉ đạo phòng, chống dịch", "Phòng, chống thiên tai"
    if low.startswith(PERSONS, nxt) or low.startswith(ACTOR_TYPES, nxt):
        return False
    if low.startswith(_COMPLETE, piece_start) and low.startswith(_COMPLETE, nxt):
        return False  # "Tỉnh ủy, thành ủy": two bodies, each its whole name
    if not text[nxt:nxt + 1].islower():
        # "các Sở, Ban, Ngành, Đoàn thể": a capitalised list of categories
        word = _word_at(low, nxt)
        after = _skip_space(low, nxt + len(word))
        return sep == "," and not named and word in GENERIC and \
            _PLURAL_PIECE.match(low, piece_start) is not None and \
            (after >= len(low) or low[after] in ",;.:" or low.startswith("và ", after))
    if after_level and (_LEVEL_RE.match(low, nxt) or _SHORT_LEVEL.match(low, nxt)):
        return True  # "UBND các huyện, thị xã, thành phố", "UBND các huyện, thành, thị"
    if sep != "," or named or LEVEL_AGENCIES.match(low, piece_start):
        return False
    plural = low.startswith(("các ", "những "), nxt)
    word = _word_at(low, nxt)
    if _after_levels(low, piece_start, nxt) and word not in LEVELS:
        return False  # "các phường, xã, chủ đầu tư": places, then another kind of unit
    if plural:
        # "các ngành" goes on with "Chính quyền các cấp, ..."; "các ban xây dựng Đảng" is a unit.
        after = _skip_space(low, nxt + len(low[nxt:].split(" ", 1)[0]) + 1 + len(word))
        return word in GENERIC and (after >= len(low) or low[after] in ",;.:" or
                                    _TAIL_RE.match(low, after) is not None or
                                    _verb_at(text, low, after) or
                                    low.startswith("và ", after))
    return word in GENERIC or word in NOUNISH or \
        _head_match(text, low, nxt, first=False) is not None


def _lower_name_run(text: str, low: str, pos: int) -> int | None:
    """End of one to three lower-case name words after "và" in a named unit ("Sở Giáo dục và
    đào tạo TP.HCM cho phép …"), when what follows them shows the name went on: a capital, a
    level word or a predicate. None when they look like the predicate itself."""
    i = pos
    for _ in range(3):
        j = _skip_space(low, i)
        tok = _TOKEN_RE.match(low, j)
        if tok is None or not text[j:j + 1].islower() or not tok.group(0)[0].isalpha():
            return None
        if _PREDICATE_RE.match(low, j) or _HEAD_RE.match(low, j) or _TAIL_RE.match(low, j):
            return None
        i = tok.end()
        k = _skip_space(low, i)
        if k >= len(low) or text[k].isupper() or _LEVEL_RE.match(low, k) or \
                _verb_at(text, low, k) or low[k] in ",;.:":
            return i
    return None


def _verb_at(text: str, low: str, pos: int) -> bool:
    """Whether a predicate word (lower case, not a noun of a name) stands at ``pos``."""
    m = _PREDICATE_RE.match(low, pos)
    return m is not None and text[pos:pos + 1].islower() and m.group(0) not in NOUNISH


_COMPLETE = ("quốc hội", "chính phủ", "tỉnh ủy", "thành ủy", "huyện ủy", "thị ủy", "quận ủy",
             "đảng ủy", "tỉnh đoàn", "huyện đoàn", "thành đoàn")
"""Bodies whose head is the whole name: only a capitalised place ("Tỉnh ủy Quảng Ninh") or a
level can follow, as after a level word ("Quốc hội thông qua …" is the verb)."""


def _ends_with_level(words: str) -> bool:
    return re.search(r"(?:^|\s)(?:" + "|".join(LEVELS) + r")\s*$", words) is not None


def _word_at(low: str, pos: int) -> str:
    m = _HEAD_RE.match(low, pos)
    if m:
        w = low[pos:m.end()]
        return w.split(" ", 1)[1] if w.startswith(("các ", "những ")) else w
    m = _GENERIC_RE.match(low, pos) or _PREDICATE_RE.match(low, pos) or _TOKEN_RE.match(low, pos)
    return m.group(0) if m else ""


def _office_goes_on(low: str, piece_start: int, nxt: int) -> bool:
    """"Văn phòng HĐND và UBND huyện", "Văn phòng Đoàn ĐBQH, HĐND và UBND tỉnh": one office."""
    piece = low[piece_start:nxt]
    return bool(re.match(r"(?:chánh |phó chánh )?văn phòng ", piece)) and \
        _OFFICE_BODIES.match(low, nxt) is not None and \
        _OFFICE_BODIES.search(piece) is not None


def _nounish(low: str, piece_start: int, pos: int, word: str, named: bool) -> bool:
    """A predicate word that is part of the name or the list here ("Ban xây dựng Đảng", "các
    cấp ủy, tổ chức Đảng", "Đội Kiểm tra trật tự đô thị")."""
    before = low[piece_start:pos]
    if word == "tự" and before.endswith("trật "):
        return True
    if word in ("cấp", "thu") and re.match(r"(?:cấp|thu)\s+(?:tỉnh|huyện|xã|cơ sở|ủy)", low[pos:]):
        return True
    if word == "thường xuyên" and before.endswith("giáo dục "):
        return True  # "Trung tâm Giáo dục nghề nghiệp - Giáo dục thường xuyên"
    if word not in NOUNISH and word != "thường xuyên":
        return False
    if before.rstrip().endswith(","):
        return word in NOUNISH
    return not named and re.search(
        r"(?<!\w)(?:các|ban|phòng|sở|cơ quan|đội|đầu tư|cán bộ|trung tâm|ban chỉ đạo)"
        r"\s*$", before) is not None


def _trim_end(low: str, start: int, end: int) -> int:
    while end > start and low[end - 1] in " ,;-–":
        end -= 1
    m = re.search(r"(?:\s+(?:và|cùng|với|các|những))+$", low[start:end])
    if m:
        end = start + m.start()
    return end


def _distribute_levels(units: tuple[str, ...]) -> tuple[str, ...]:
    """"UBND thành phố", "các huyện" -> "UBND thành phố", "UBND các huyện"; "Phòng Giáo dục
    và Đào tạo thành phố Thủ Đức", "các quận, huyện" -> "Phòng … Đào tạo các quận, huyện"."""
    out: list[str] = []
    for u in units:
        low = lower_same_length(u)
        if out and _LEVEL_LIST_RE.fullmatch(low):
            before = lower_same_length(out[-1])
            prev = LEVEL_AGENCIES.match(before)
            level = _LEVEL_RE.search(before)
            if prev:
                u = f"{out[-1][:prev.end()]} {u}"
            elif level and level.start() > 0 and before[:level.start()].strip():
                u = f"{out[-1][:level.start()].rstrip()} {u}"
        out.append(u)
    return _distribute_title(tuple(out))


_TITLE_HEAD = re.compile(
    r"((?:" + "|".join(re.escape(p.strip()) for p in sorted(PERSONS, key=len, reverse=True))
    + r")\s+)(sở|ban|phòng|cục|chi cục|trung tâm|viện|trường|bộ)\s+(?=[^\W\d_])")


def _distribute_title(units: tuple[str, ...]) -> tuple[str, ...]:
    """"Giám đốc Sở Nội vụ", "Sở Y tế", "Sở Tài chính" -> each "Giám đốc Sở …": a person's
    title written once before a list of bodies with the same head is every body's head."""
    first = _TITLE_HEAD.match(lower_same_length(units[0])) if len(units) > 1 else None
    if first is None:
        return units
    title, head = units[0][:first.end(1)], first.group(2)
    rest = [lower_same_length(u) for u in units[1:]]
    if not all(r.startswith(head + " ") and u[len(head) + 1:len(head) + 2].isupper()
               for r, u in zip(rest, units[1:], strict=True)):
        return units
    return (units[0], *(title + u for u in units[1:]))


_LEVEL_LIST_RE = re.compile(
    r"(?:các|những)\s+(?:{0})(?:\s*(?:,|và)\s*(?:{0}))*".format("|".join(LEVELS)))


def _clean(name: str) -> str:
    name = name.strip(" \t,;:.-*")
    name = re.sub(r"^(?:và|cùng|với)\s+", "", name, flags=re.IGNORECASE)
    return " ".join(name.split())


def split_units(text: str) -> list[str]:
    """Split a written unit list into units (see the module docstring for the rules)."""
    low = lower_same_length(text)
    pieces: list[tuple[int, int, str]] = []  # (start, end, separator before)
    pos, sep = 0, ""
    for m in re.finditer(r"\s*[,;]\s*|\s+(?:và|cùng|với)\s+", low):
        pieces.append((pos, m.start(), sep))
        pos, sep = m.end(), m.group(0).strip()
    pieces.append((pos, len(text), sep))
    units: list[str] = []
    for a, b, sep in pieces:
        piece, lpiece = text[a:b].strip(), low[a:b].strip()
        if not lpiece:
            continue
        head = _HEAD_RE.match(lpiece)
        is_and = sep in ("và", "cùng", "với")
        if not units:
            units.append(piece)
            continue
        if head is None or units and _office_goes_on(
                lower_same_length(units[-1] + " "), 0, len(units[-1]) + 1) and \
                _OFFICE_BODIES.match(lpiece):
            # "Phòng Tài nguyên và Môi trường": a "và" inside a name; "..., ban, ngành": a list.
            units[-1] = f"{units[-1]} {sep} {piece}" if is_and else f"{units[-1]}, {piece}"
            continue
        # "ban", "đơn vị", "các ngành" continue a list; "các huyện ủy" starts a new unit.
        new_unit = is_and or piece[:1].isupper() or lpiece.startswith(PERSONS) or (
            lpiece.startswith(("các ", "những ")) and lpiece.split(" ", 1)[1] not in GENERIC)
        if new_unit:
            units.append(piece)
        else:
            units[-1] = f"{units[-1]}, {piece}"
    return list(_distribute_levels(tuple(u for u in (_clean(u) for u in units) if u)))


def distribute_plural(head_text: str, names: str) -> list[str]:
    """"Các phòng: A, B, Ban C" -> ["Phòng A", "Phòng B", "Ban C"]."""
    title, _, noun = re.sub(r"\s+", " ", head_text.strip()).rpartition(" ")
    title = re.sub(r"\s*\b(?:các|những)$", "", title, flags=re.IGNORECASE).strip()
    noun = noun if title else noun[:1].upper() + noun[1:]
    head = f"{title} {noun}" if title else noun  # "Giám đốc các Sở: A" -> "Giám đốc Sở A"
    places = lower_same_length(noun) in LEVELS
    out: list[str] = []
    for m in re.finditer(r"(?:^|,|\s+và\s+)\s*([^,]+?)(?=,|\s+và\s+|$)", names):
        piece = _clean(m.group(1))
        if not piece:
            continue
        if starts_with_head(piece):
            # "Ban Quản lý dự án ... và các cơ quan, đơn vị liên quan": the rest is a list.
            out.extend(split_units(names[m.start(1):]))
            return out
        if m.group(0).lstrip(", ").startswith("và") and out and not places:
            out[-1] = f"{out[-1]} và {piece}"  # "Các phòng: Tài nguyên và Môi trường, …"
            continue
        out.append(f"{head} {piece}")  # "UBND các huyện: Đakrông, Hải Lăng và Gio Linh"
    return out


def _related(units: list[str]) -> tuple[list[str], list[str]]:
    """Split off related-party groups ("các cơ quan liên quan"): they support, not lead."""
    related = [u for u in units if _RELATED_RE.search(fold_same_length(u))]
    return [u for u in units if u not in related], related


def _roles(units_text: str) -> tuple[list[str], list[str]]:
    """Lead and support in "X chủ trì, phối hợp với Y" / "X phối hợp với Y" / "X và các ... liên
    quan" / "Các phòng: A, B" (a colon form's head part)."""
    folded = fold_same_length(units_text)
    support_text = ""
    m = _SUPPORT_RE.search(folded)
    if m:
        support_text = units_text[m.end():]
        units_text = units_text[:m.start()]
        folded = folded[:m.start()]
    lead_m = _LEAD_RE.search(folded)
    if lead_m:
        units_text = units_text[:lead_m.start()]
    plural = re.match(r"^\s*((?:[^\W\d_]+\s+){0,4}?(?:các|những)\s+\w+)\s*:\s*(.+)$",
                      units_text, re.IGNORECASE | re.DOTALL)
    lead = distribute_plural(plural.group(1), plural.group(2)) if plural else \
        split_units(units_text)
    support = split_units(support_text) if support_text.strip() else []
    lead, related = _related(lead)
    return lead, support + related


def _first_predicate(text: str, low: str, start: int, stop: int) -> int | None:
    """Offset of the first predicate word in ``low[start:stop]`` that is not a role word ("chủ
    trì", "phối hợp": the caller splits roles) nor part of a name."""
    for m in _PREDICATE_RE.finditer(low, start, stop):
        word = m.group(0)
        if not text[m.start()].islower():
            continue
        if word in ("chủ trì", "phối hợp", "cùng", "với") or _nounish(low, start, m.start(),
                                                                      word, False):
            continue
        if low[m.start() - 1:m.start()].isspace() or m.start() == start:
            return m.start()
    return None


def _valid(units: list[str] | tuple[str, ...]) -> bool:
    return bool(units) and starts_with_head(units[0], first=True) and all(
        starts_with_head(u) and len(u) <= MAX_UNIT for u in units)


# --- assignments -------------------------------------------------------------------------------

_ROLE_AFTER = re.compile(
    r"\s*,?\s*(?:chu tri|chu tri thuc hien)\s*,?\s*(?:(?:va\s+)?(phoi hop voi|phoi hop cung|"
    r"phoi hop)\s+)?")
_COOP_AFTER = re.compile(r"\s*,?\s*(?:phoi hop voi|phoi hop cung|cung voi|cung phoi hop voi|"
                         r"phoi hop(?= cac | nhung ))\s+")
_COOP_BARE = re.compile(r"\s*,?\s*phoi hop\s+")
""""X phối hợp Sở Y tế kiểm tra …": a capitalised unit right after a bare "phối hợp"."""


def assignment_at(text: str, pos: int, *, low: str | None = None,
                  folded: str | None = None, first: bool = True) -> Assignment | None:
    """Units written at ``pos`` and their roles: colon form ("Phòng Y tế: ...", "Các phòng: A,
    B: ...") or subject form ("Sở Y tế chủ trì, phối hợp với Sở Tài chính xây dựng ...")."""
    low = lower_same_length(text) if low is None else low
    folded = fold_same_length(text) if folded is None else folded
    pos = _skip_space(low, pos)
    colon = _colon_form(text, low, pos)
    if colon is not None:
        return colon
    found = read_units(text, pos, low=low, first=first)
    if found is None:
        return None
    lead = list(found.units)
    support: list[str] = []
    rest = after_bracket(text, found.end)
    role = _ROLE_AFTER.match(folded, rest)
    coop = _COOP_AFTER.match(folded, rest)
    if coop is None:
        bare = _COOP_BARE.match(folded, rest)
        if bare is not None and text[bare.end():bare.end() + 1].isupper():
            coop = bare
    m = role if role and role.group(1) else coop
    if m:
        sup = read_units(text, m.end(), low=low, first=False)
        if sup is not None:
            support = list(sup.units)
            rest = after_bracket(text, sup.end)
        elif role:
            rest = role.end()
    elif role:
        rest = role.end()
    after = _skip_space(low, rest)
    if text[after:after + 1] == "," and _verb_at(text, low, _skip_space(low, after + 1)) or \
            text[after:after + 1] in "-–" and text[after:after + 2] != "--":
        after = _skip_space(low, after + 1)
    if not (role or coop or text[after:after + 1].islower()) or _NOT_PREDICATE.match(low, after):
        # A list of names ("Trung tâm Văn hóa …; Khu xử lý …") or an object ("báo cáo Ban
        # Thường vụ, Ban Chấp hành để thống nhất …"), not a subject.
        return None
    first_related = bool(lead) and bool(_related(lead[:1])[1])
    lead, related = _related(lead)
    if lead and not first_related:
        support += related
    elif lead:
        # "các cơ quan, đơn vị, các ngành có liên quan và UBND các xã tiếp tục rà soát …": named
        # first, the related units are among those asked, not helpers.
        lead = [*related, *lead]
    else:
        lead = related  # "giao các sở, ngành liên quan …": the related units are the ones asked
    if not lead:
        return None
    return Assignment(tuple(lead), tuple(support), rest, pos)


_BRACKET = re.compile(r"\s*\([^()\n]{1,60}\)")


def after_bracket(text: str, pos: int) -> int:
    """Past a short bracket right after the units ("Tỉnh ủy, Thành ủy (trước sáp nhập) xây dựng
    …", "Sở Nông nghiệp và PTNT (NN&PTNT) kiểm tra …"); ``pos`` when there is none."""
    m = _BRACKET.match(text, pos)
    return m.end() if m else pos


_PLURAL_COLON = re.compile(
    r"(?P<title>(?:" + "|".join(PERSONS) + r"|ủy ban nhân dân|ubnd|hđnd|hội đồng nhân dân)\s+)?"
    r"(?:các|những)\s+(?P<noun>\w+)\s*:\s*"
)


_COUNT = re.compile(r"(?:\d{1,3}|hai|ba|bốn|năm|sáu|bảy|tám|chín|mười)\s+(?=\w)")
_NOT_PREDICATE = re.compile(
    r"(?:để|với(?! tinh thần| trách nhiệm| quyết tâm)|cho|của|về|bằng|như|gồm|bao gồm|thì|mà|"
    r"do|bởi|hoặc|hay|rồi|từ|đến|tới|vào|qua|nhằm|bị)(?!\w)"
)
"""Words after the units that make them an object ("báo cáo Ban Thường vụ để …") or a patient
("Huyện bị phê bình"); "với tinh thần trách nhiệm …" is a manner before the verb."""


_QUOTE_MARKS = frozenset("'\"“‘«")


def _colon_form(text: str, low: str, pos: int) -> Assignment | None:
    """"Phòng Y tế: ...", "Các phòng: A, B, Ban C: ...", "X phối hợp với Y: ...", "X và các cơ
    quan liên quan căn cứ chức năng, nhiệm vụ: ...": the units stand before a colon."""
    plural = _PLURAL_COLON.match(low, pos)
    if plural and plural.group("noun") in GENERIC:
        colon = text.find(":", pos + len(plural.group(0)), pos + 400)
        names_from = plural.end()
        end = re.search(r"[.;]\s|$", text[names_from:min(len(text), names_from + 400)])
        stop = names_from + (end.start() if end else 0)
        pred = _first_predicate(text, low, names_from, stop)
        if colon < 0 or pred is not None and pred < colon and \
                not re.match(r"(?:căn cứ|theo)\b", low[pred:]):
            # "Giám đốc các Sở: Lao động …, Tài chính chịu trách nhiệm …" (no second colon)
            if pred is None:
                return None
            lead, support = _roles(text[pos:pred])
            if not _valid(lead):
                return None
            return Assignment(tuple(lead), tuple(support), pred, pos)
    else:
        if _head_match(text, low, pos, first=True) is None:
            return None
        colon, names_from = text.find(":", pos, pos + 300), pos
    if colon < 0 or re.search(r"[.;(]\s?", text[pos:colon]):
        return None  # a sentence end, or "(trừ các TP: Hạ Long, …)" inside brackets
    if text[_skip_space(low, colon + 1):][:1] in _QUOTE_MARKS:
        return None  # "Thủ tướng: 'Làm ngày làm đêm …'": a speaker and the words quoted
    if names_from == pos and re.search(r"(?:các|những)\s+\w+\s*$", low[pos:colon]) and \
            text[_skip_space(low, colon + 1):][:1].isupper() and \
            re.search(r"\s(?:và|với|hợp|cùng)\s+(?:các|những)\s+\w+\s*$", low[pos:colon]):
        return None  # "X chủ trì, phối hợp các Sở: A, B …": the colon lists the supporters
    pred = _first_predicate(text, low, names_from, colon)
    if pred is not None and not re.match(r"(?:căn cứ|theo)\b", low[pred:]):
        return None  # "Sở Nội vụ đề nghị các cơ quan thực hiện như sau:" is no colon form
    lead, support = _roles(text[pos:colon if pred is None else pred])
    if not _valid(lead) or support and not _valid(support):
        return None
    return Assignment(tuple(lead), tuple(support), colon + 1, pos)


def find_assignment(text: str, *, low: str | None = None,
                    folded: str | None = None) -> Assignment | None:
    """Units addressed at the start of ``text`` (a block without its list marker), or None.

    "Giao/Yêu cầu/Đề nghị X ..." and a leading adverbial clause ("Căn cứ Nghị quyết này, ...")
    may stand before the units.
    """
    low = lower_same_length(text) if low is None else low
    folded = fold_same_length(text) if folded is None else folded
    start = _skip_space(low, 0)
    req = _REQUEST_START.match(folded, start)
    if req:
        found = assignment_at(text, req.end(), low=low, folded=folded)
        if found is not None:
            return found
    found = assignment_at(text, start, low=low, folded=folded)
    if found is None and _LEADING_CLAUSE.match(text):
        sentence_end = re.search(r"[.;:]", text)
        limit = min(sentence_end.start() if sentence_end else len(text), 240)
        for comma in re.finditer(r",\s*", text[:limit]):
            found = assignment_at(text, comma.end(), low=low, folded=folded)
            if found is not None:
                break
    return found


_REQUEST_START = re.compile(r"(?:giao(?: cho)?|yeu cau|de nghi|kinh de nghi)\s+")
_LEADING_CLAUSE = re.compile(
    r"^\s*(?:căn cứ|trên cơ sở|theo|để|nhằm|trong quá trình|khi|nếu|trường hợp)\b",
    re.IGNORECASE,
)


def same_body(a: str, b: str) -> bool:
    """Whether two unit names denote the same body at their start ("UBND tỉnh" and "Ủy ban nhân
    dân tỉnh Hòa Bình"): abbreviations expanded, accents and case folded, one a prefix of the
    other at a word boundary."""
    x, y = expand(a), expand(b)
    if not x or not y:
        return False
    short, long_ = sorted((x, y), key=len)
    return long_ == short or len(short) >= 6 and long_.startswith(short + " ")


_ABBREVIATIONS = (
    (r"\bubnd\b", "uy ban nhan dan"), (r"\bhdnd\b", "hoi dong nhan dan"),
    (r"\bubmttq\b", "uy ban mat tran to quoc"), (r"\bmttq\b", "mat tran to quoc"),
    (r"\bvp\b", "van phong"), (r"\bbch\b", "ban chi huy"), (r"\bbql\b", "ban quan ly"),
    (r"\bsgddt\b", "so giao duc va dao tao"), (r"\btp\b", "thanh pho"),
)


def expand(name: str) -> str:
    """Folded name with the usual abbreviations spelled out ("UBND tỉnh" -> "uy ban nhan dan
    tinh")."""
    f = fold(name).replace("&", " va ")
    for rx, full in _ABBREVIATIONS:
        f = re.sub(rx, full, f)
    return " ".join(f.split())
