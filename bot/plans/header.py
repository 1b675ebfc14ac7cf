"""The document header: kind, number, issuer, issue date, title, locality and the directed period.

Vietnamese administrative documents open with the issuing body in capitals, "Số: 169/KH-UBND",
"Cẩm Phả, ngày 17 tháng 12 năm 2021", the kind ("KẾ HOẠCH") and a title ("về phương hướng,
nhiệm vụ năm 2022"). A công văn has no kind line: its subject stands in the left column as
"V/v …", its number carries no kind code ("Số: 1452/UBND-VX") and "Kính gửi:" follows. Text
from PDFs may lose any of these, so each is looked for on its own and missing ones are inferred
(kind from the number, issuer from the signature block, locality from the body). A passage with
no header at all (a portal restatement) may still say what it restates: "Ngày 12/3/2024, UBND
tỉnh Tuyên Quang ban hành Công văn số 812/…".

The header is read as a *zone*: from the top, lines that are header elements (issuer lines,
"Số:", "V/v", the national motto, the date line, the kind line and its title, a quyết định's
"CHỦ TỊCH ỦY BAN NHÂN DÂN …") and short stray lines (signature metadata) until the first line
that opens the body ("Kính gửi:", "Căn cứ …", a list marker, a sentence). The body starts after
the last header element.

The *directed period* is the span the document gives tasks for, and it comes only from an
explicit expression in the title. A plan, resolution, report, conclusion, directive or
programme directs the period its title names; a report on Q1 that sets tasks for "Quý II năm
2023" directs Q2 (the period following "phương hướng" / "nhiệm vụ trọng tâm" wins). A công văn,
thông báo or quyết định directs a period only when its title says so ("phương hướng, nhiệm vụ
quý IV năm 2024", "kế hoạch công tác tháng 10/2024"): the year of an event ("Hội thi … năm
2024") is not one. A horizon ("định hướng đến năm 2030") never is.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date

from bot.models import DocumentInfo, Period
from bot.plans.deadlines import fold_same_length, month_end, quarter_end, quarter_number
from bot.plans.source import SourceLine
from bot.text import fold, unify_tones

KINDS = [
    ("ke hoach", "ke_hoach"), ("nghi quyet", "nghi_quyet"), ("bao cao", "bao_cao"),
    ("ket luan", "ket_luan"), ("chi thi", "chi_thi"), ("thong bao", "thong_bao"),
    ("quyet dinh", "quyet_dinh"), ("cong van", "cong_van"), ("chuong trinh", "other"),
    ("to trinh", "other"), ("huong dan", "other"), ("cong dien", "other"),
    ("giay moi", "other"), ("de an", "other"), ("phuong an", "other"), ("quy che", "other"),
]
# The kind code right after the number ("Số: 169/KH-UBND", "Số 09-NQ/TU").
NUMBER_KINDS = {"kh": "ke_hoach", "nq": "nghi_quyet", "bc": "bao_cao", "kl": "ket_luan",
                "ct": "chi_thi", "tb": "thong_bao", "qd": "quyet_dinh", "cv": "cong_van"}
# Codes of the other document types (Nghị định 30/2020/NĐ-CP, Phụ lục III); "ctr" is a programme.
OTHER_CODES = {"ttr", "hd", "ctr", "qc", "qyd", "pa", "da", "bb", "gm", "cd", "tt", "nd",
               "gui", "gxn", "gnp", "ggt", "pg", "pc", "pb", "bgn", "bn", "tc", "l", "hdld"}
LABEL_KINDS = {"ke_hoach": "Kế hoạch", "nghi_quyet": "Nghị quyết", "bao_cao": "Báo cáo",
               "ket_luan": "Kết luận", "chi_thi": "Chỉ thị", "thong_bao": "Thông báo",
               "quyet_dinh": "Quyết định", "cong_van": "Công văn", "other": "Văn bản"}
# Kinds whose title period is the directed period; the others need a directing cue.
PERIOD_KINDS = {"ke_hoach", "nghi_quyet", "bao_cao", "ket_luan", "chi_thi"}

HEAD_LINES = 80
"""The header is looked for in this many first lines…"""
HEAD_NONEMPTY = 45
"""…of which at most this many non-empty ones."""
LEAD_CHARS = 1500
"""How much of the first paragraph is searched for a restatement."""

NUMBER_RE = re.compile(
    r"\bS[ốoô]\s*:?\s*(\d{1,5}(?:\s*/\s*\d{4})?(?:\s*[-/]\s*[A-ZĐ0-9&.]*[A-ZĐ][A-ZĐa-z0-9&.]*)+)"
)
_DMY = (r"(?:(?P<d>\d{1,2})\s+tháng\s+(?P<m>\d{1,2})\s+năm\s+(?P<y>\d{4})"
        r"|(?P<d2>\d{1,2})\s*[/.\-]\s*(?P<m2>\d{1,2})\s*[/.\-]\s*(?P<y2>\d{4}))")
# "Hòa Bình, ngày 05 tháng 6 năm 2024" at the start of a line or of a column.
DATE_LINE_RE = re.compile(
    r"(?:^|\s{2,}|\t|\||(?<=phúc)\s+)[\s*_]*"
    r"(?P<place>[^\W\d_][\w.]*(?:\s+(?:[-–]\s+)?[^\W\d_][\w.]*){0,6})"
    r"\s*,\s*ngày\s+" + _DMY, re.IGNORECASE)
# "ngày 05 tháng 6 năm 2024" alone on its line (the place lost or wrapped).
BARE_DATE_RE = re.compile(r"^[\s*_,]*ngày\s+" + _DMY + r"[\s*_.]*$", re.IGNORECASE)
ISSUER_HEADS = re.compile(
    r"^(?:ỦY BAN NHÂN DÂN|UỶ BAN NHÂN DÂN|UBND|HỘI ĐỒNG NHÂN DÂN|HĐND|THÀNH ỦY|THÀNH UỶ|TỈNH ỦY|"
    r"TỈNH UỶ|THỊ ỦY|THỊ UỶ|HUYỆN ỦY|HUYỆN UỶ|ĐẢNG ỦY|ĐẢNG UỶ|ĐẢNG BỘ|BAN CHẤP HÀNH|"
    r"BAN THƯỜNG VỤ|SỞ|BAN|PHÒNG|VĂN PHÒNG|BỘ)\b"
)
# Further heads a header's issuer lines may start with (not used to name the issuer).
HEADER_ORG_HEADS = re.compile(
    r"^(?:TRƯỜNG|TRUNG TÂM|CÔNG AN|BỘ CHỈ HUY|CỤC|CHI CỤC|TỔNG CỤC|KHO BẠC|BẢO HIỂM|ĐOÀN|HỘI|"
    r"MẶT TRẬN|LIÊN ĐOÀN|TỔNG CÔNG TY|CÔNG TY|VIỆN|BỆNH VIỆN|ĐÀI|THANH TRA|TÒA ÁN|VIỆN KIỂM SÁT|"
    r"THÀNH PHỐ|THỊ XÃ|HUYỆN|TỈNH|QUẬN|XÃ|PHƯỜNG|THỊ TRẤN|TP\.)"
)
# The enacting authority of a quyết định or nghị quyết: "CHỦ TỊCH ỦY BAN NHÂN DÂN HUYỆN".
AUTHORITY_RE = re.compile(
    r"^(?:CHỦ TỊCH|PHÓ CHỦ TỊCH|GIÁM ĐỐC|BỘ TRƯỞNG|THỦ TƯỚNG|HIỆU TRƯỞNG|TRƯỞNG PHÒNG|"
    r"CỤC TRƯỞNG|CHI CỤC TRƯỞNG|TỔNG CỤC TRƯỞNG|TRƯỞNG BAN|CHÁNH VĂN PHÒNG|ỦY BAN NHÂN DÂN|"
    r"UỶ BAN NHÂN DÂN|HỘI ĐỒNG NHÂN DÂN|BAN THƯỜNG VỤ|THƯỜNG TRỰC|BAN CHẤP HÀNH)\b"
)
MOTTO_RE = re.compile(r"cong hoa xa hoi chu nghia viet nam|doc lap\W+tu do\W+hanh phuc|"
                      r"dang cong san viet nam")
VV_RE = re.compile(r"^V\s*[/.]\s*[vV]\b")
VV_IN_RE = re.compile(r"(?:^|(?<=\s))(V\s*/\s*[vV]\b.*)$")
KINH_GUI_RE = re.compile(r"^kinh\s*gui\b")
# A list marker opening a line: "I.", "III-", "1.", "1.2.", "2)", "a)", "(1)", "-", "+", "Điều 1.".
MARKER_RE = re.compile(
    r"^(?:[IVXL]{1,5}\s*[.\-–)](?=\s|\w)"
    r"|\d{1,2}(?:\.\d{1,2})*\s*[.\-–)/](?=\s|[^\W\d]|$)"
    r"|[a-zđ]\s*[).](?=\s)|\(\s*(?:\d{1,2}|[a-zđ])\s*\)|[-–—+•·*](?:\s+|(?=[^\W\d_]))|Điều\s+\d+)"
)
# Words that open the body (folded): "Căn cứ …", "Thực hiện …", "Theo đó, …", "Để …", "Nhằm …".
OPENER_RE = re.compile(
    r"^(?:can cu|thuc hien|theo(?! doi\b)|de\b|nham\b|kinh gui|xet\b|vua qua|sau khi|hien nay)"
)
# A portal's dateline: "20/03/2017", "09:10, 14/10/2021", "THỨ BA, 25/02/2020 08:51:00".
DATELINE_RE = re.compile(r"^(?:(?:thứ\s+\w+|chủ nhật)\s*,?\s*)?(?:\d{1,2}[:h]\d{2}\s*[,-]?\s*)?"
                         r"\d{1,2}[/.\-]\d{1,2}[/.\-]\d{4}\b", re.IGNORECASE)
# The same alone on its line, whole: the page's publication date.
DATELINE_ONLY_RE = re.compile(
    r"^(?:(?:thứ\s+\w+|chủ nhật)\s*,?\s*)?(?:\d{1,2}[:h]\d{2}\s*[,-]?\s*)?"
    r"(?P<d>\d{1,2})[/.\-](?P<m>\d{1,2})[/.\-](?P<y>\d{4})"
    r"(?:\s*[,-]?\s*\d{1,2}[:h]\d{2}(?::\d{2})?)?(?:\s*(?:GMT|UTC)\s*[+-]\s*\d{1,2})?\s*$",
    re.IGNORECASE)
# "Ngày 12/3/2024, …": a sentence that opens with its date.
DATED_SENTENCE_RE = re.compile(r"^ngày\s+" + _DMY + r"\s*,", re.IGNORECASE)

# Restatement: "UBND tỉnh Tuyên Quang (vừa) ban hành Công văn số …", "… có văn bản chỉ đạo".
_DOC_WORDS = {"công văn": "cong_van", "văn bản": "cong_van", "công điện": "other",
              "hướng dẫn": "cong_van", "kế hoạch": "ke_hoach", "chỉ thị": "chi_thi",
              "thông báo": "thong_bao", "quyết định": "quyet_dinh", "nghị quyết": "nghi_quyet",
              "báo cáo": "bao_cao", "kết luận": "ket_luan"}
_UPPER = "A-ZĐÂĂÊÔƠƯÁÀẢÃẠÉÈẺẼẸÍÌỈĨỊÓÒỎÕỌÚÙỦŨỤÝỲỶỸỴỨỪỬỮỰẤẦẨẪẬẮẰẲẴẶẾỀỂỄỆỐỒỔỖỘỚỜỞỠỢ"
RESTATE_RE = re.compile(
    r"(?:^|(?<=[.;!?])\s+|,\s+|(?<=[-–—)])\s*)(?P<subj>[" + _UPPER + r"][^.;:,()\n]{1,100}?)"
    r"\s+(?:(?:vừa\s+|đã\s+|mới\s+)?(?P<verb>ký ban hành|ban hành|phát hành|có|ký|ra)"
    r"|(?:vừa|đã)\s+xây dựng)\s+(?:các\s+|\d+\s+)?"
    r"(?P<doc>[Cc]ông văn|[Vv]ăn bản|[Cc]ông điện|[Hh]ướng dẫn|[Kk]ế hoạch|[Cc]hỉ thị|"
    r"[Tt]hông báo|[Qq]uyết định|[Nn]ghị quyết|[Bb]áo cáo|[Kk]ết luận)\b"
    r"(?:\s+(?P<tail>\w+(?:\s+\w+)?))?",
    re.MULTILINE,
)
# "… số 86/NQ-CP ngày 4/11/2025 về …": the restated document's own number, date and subject.
RESTATED_DOC_RE = re.compile(
    r"(?:(?:số\s*)?\d+(?:\s*[/\-]\s*[\w.&\-]+)*)?(?:\s*,?\s*ngày\s+"
    + _DMY.replace("?P<", "?P<r") + r")?[\s,]*(?P<about>(?:về|V/v)\b[^.;\n]{3,300})?")
# After the vaguer "văn bản" ("vừa ký ban hành văn bản triển khai …" may be any kind).
VAN_BAN_TAILS = re.compile(r"(?:số|chỉ đạo|yêu cầu|đề nghị|hỏa tốc|hoả tốc|gửi|về việc)\b")
# "Theo công văn này, …", "Công văn nêu rõ: …", "… đã có chỉ đạo …": the passage restates a
# công văn (or the kind named) without the sentence above.
SELF_REFERENCE_RE = re.compile(
    r"(?:^|[.;:!?]\s+|,\s+)(?:(?:[Tt]heo|[Tt]ại)\s+)?(?P<doc>[Cc]ông văn|[Kk]ế hoạch|[Cc]hỉ thị|"
    r"[Tt]hông báo|[Qq]uyết định|[Cc]ông điện)\s+(?:này\b|nêu rõ|yêu cầu\b|chỉ đạo\b)"
    r"|(?P<directed>\b(?:vừa|đã)\s+có\s+(?:ý kiến\s+)?chỉ đạo\b)",
    re.MULTILINE)
# "Phó Chủ tịch UBND tỉnh … kết luận như sau:": the conclusions of a meeting (a thông báo).
CONCLUDES_RE = re.compile(r"\bkết luận(?:\s+[^.;:\n]{1,80}?)?\s+như sau\s*:")
# A person who signs for a body: "Phó Bí thư Thường trực Huyện ủy X" -> "Huyện ủy X".
PERSON_TITLE_RE = re.compile(
    r"^(?:đồng chí\s+)?(?:Phó\s+)?(?:Chủ tịch|Bí thư|Giám đốc|Trưởng ban|Trưởng phòng|"
    r"Chánh Văn phòng|Cục trưởng|Bộ trưởng|Thủ tướng)(?:\s+Thường trực)?\s+(?=\S)", re.I)
DATE_OPENS_RE = re.compile(r"(?:^|[.;!?]\s+)[Nn]gày\s+" + _DMY + r"\s*,?\s*[^.;!?\n]*$",
                           re.MULTILINE)
LEADING_DATE_RE = re.compile(r"^[Nn]gày\s+" + _DMY + r"\s*,?\s*")
# "(Theo Công văn 907/UBND-KT ngày 13/3/2023)": a portal's note of its source, at the end.
SOURCE_NOTE_RE = re.compile(
    r"^[(\[]?\s*(?:Theo|Nguồn\s*:?)\s+(?:các\s+)?(?P<doc>[Cc]ông văn|[Kk]ế hoạch|[Cc]hỉ thị|"
    r"[Tt]hông báo|[Qq]uyết định|[Cc]ông điện|[Vv]ăn bản)\s+(?:số\s+)?\d")
PLACE_DOC_WORDS = re.compile(r"\b(?:luat|nghi dinh|nghi quyet|quyet dinh|thong tu|cong van|"
                             r"ke hoach|chi thi|thong bao|bao cao|ket luan|van ban)\b")

ABBREVIATIONS = {"UBND", "HĐND", "UBMTTQ", "MTTQ", "BCĐ", "BCH", "TW", "TƯ", "TP.", "TP"}

PLACE_WORDS = r"(?:thành phố|thị xã|huyện|tỉnh|quận|thị trấn|xã|phường)"
PLACE_RE = re.compile(
    PLACE_WORDS + r"\s+((?:[A-ZĐÂĂÊÔƠƯÁÀẢÃẠ][\wÀ-ỹ]*)(?:\s+[A-ZĐÂĂÊÔƠƯÁÀẢÃẠ][\wÀ-ỹ]*){0,3})"
)

# Period expressions on folded text.
P_QUARTER = re.compile(r"quy\s+(iv|iii|ii|i|[1-4])\b(?:\s*(?:nam|/|-)\s*((?:19|20)\d{2}))?")
P_HALF = re.compile(r"(3|ba|6|sau|9|chin)\s+thang\s+(dau|cuoi)\s+nam(?:\s+((?:19|20)\d{2}))?")
# "những tháng cuối năm 2025": the rest of the year (from the issue date; October without one).
P_LAST_MONTHS = re.compile(r"(?:nhung|cac)\s+thang\s+cuoi\s+nam(?:\s+((?:19|20)\d{2}))?")
P_MONTH = re.compile(r"thang\s+(\d{1,2})\s*(?:/|-|nam)\s*((?:19|20)\d{2})")
P_RANGE = re.compile(r"giai doan\s+((?:19|20)\d{2})\s*-\s*((?:19|20)\d{2})")
P_YEAR = re.compile(r"nam\s+((?:19|20)\d{2})(?!\s*-\s*\d)")
# "đến năm 2030", "tầm nhìn 2045", "định hướng đến năm 2030": horizons, never periods.
HORIZON_BEFORE = re.compile(r"(?:\bden|\btoi|\bden het|\btam nhin(?: den)?)\s*$")
# "Luật Đất đai năm 2024": the year of a law's name, not of the work ("pháp luật năm" is).
LAW_BEFORE = re.compile(r"(?<!phap )\bluat\s+[^,;]{1,40}$")
PREFERRED = ("phuong huong", "nhiem vu trong tam", "trong tam", "ke hoach", "nhiem vu",
             "chuong trinh", "ve ")
# Cues that make a công văn, thông báo or quyết định title direct a period.
DIRECTING_CUES = re.compile(
    r"phuong huong|nhiem vu trong tam|(?:ke hoach|chuong trinh|lich) cong tac|"
    r"(?<!ket qua )(?<!ket qua thuc hien )(?<!danh gia )(?<!so ket )(?<!tong ket )nhiem vu"
)


def _period_at(folded: str, pos: int, default_year: int | None) -> tuple[int, Period] | None:
    """The first period expression starting at or after ``pos``, with its offset."""
    found: list[tuple[int, Period]] = []
    for m in P_QUARTER.finditer(folded, pos):
        q = quarter_number(m.group(1))
        y = int(m.group(2)) if m.group(2) else _year_after(folded, m.end(), default_year)
        if q and y:
            label = f"Quý {['I', 'II', 'III', 'IV'][q - 1]} năm {y}"
            found.append((m.start(), Period(label, date(y, q * 3 - 2, 1), quarter_end(y, q))))
            break
    for m in P_LAST_MONTHS.finditer(folded, pos):
        y = int(m.group(1)) if m.group(1) else _year_after(folded, m.end(), default_year)
        if y:
            found.append((m.start(), Period(f"những tháng cuối năm {y}", date(y, 10, 1),
                                            date(y, 12, 31))))
            break
    for m in P_HALF.finditer(folded, pos):
        n = {"3": 3, "ba": 3, "6": 6, "sau": 6}.get(m.group(1), 9)
        y = int(m.group(3)) if m.group(3) else _year_after(folded, m.end(), default_year)
        if y:
            if m.group(2) == "dau":
                p = Period(f"{n} tháng đầu năm {y}", date(y, 1, 1), month_end(y, n))
            else:
                p = Period(f"{n} tháng cuối năm {y}", date(y, 13 - n, 1), date(y, 12, 31))
            found.append((m.start(), p))
            break
    for m in P_MONTH.finditer(folded, pos):
        mo, y = int(m.group(1)), int(m.group(2))
        if re.search(r"(?:ngay|\d)\s*$", folded[max(0, m.start() - 8):m.start()]):
            continue  # "ngày 28 tháng 9 năm 2012": a day, not the month
        if 1 <= mo <= 12:
            found.append((m.start(), Period(f"tháng {mo:02d}/{y}", date(y, mo, 1),
                                            month_end(y, mo))))
            break
    for m in P_RANGE.finditer(folded, pos):
        a, b = int(m.group(1)), int(m.group(2))
        if a <= b:
            found.append((m.start(), Period(f"giai đoạn {a}-{b}", date(a, 1, 1),
                                            date(b, 12, 31))))
            break
    for m in P_YEAR.finditer(folded, pos):
        before = folded[max(0, m.start() - 50):m.start()]
        # "năm 2023" right after a quarter/month belongs to it.
        if re.search(r"(?:quy\s+\w+|thang\s+\d+|dau|cuoi|thang cuoi)\s*$", before[-12:]):
            continue
        if HORIZON_BEFORE.search(before) or LAW_BEFORE.search(before):
            continue
        y = int(m.group(1))
        found.append((m.start(), Period(f"năm {y}", date(y, 1, 1), date(y, 12, 31))))
        break
    return min(found, key=lambda x: x[0]) if found else None


def _year_after(folded: str, pos: int, default_year: int | None) -> int | None:
    m = re.search(r"nam\s+((?:19|20)\d{2})", folded[pos:pos + 60])
    return int(m.group(1)) if m else default_year


def directed_period(text: str, default_year: int | None) -> Period | None:
    """The period a title (or heading) directs: the one after "phương hướng" and the like,
    else the last one it names. Horizons ("định hướng đến năm 2030") are not periods."""
    folded = fold_same_length(text)
    for key in PREFERRED:
        for m in re.finditer(re.escape(key), folded):
            hit = _period_at(folded, m.end(), default_year)
            if hit and hit[0] - m.end() <= 80:
                return hit[1]
    hits = []
    pos = 0
    while (hit := _period_at(folded, pos, default_year)) is not None:
        hits.append(hit)
        pos = hit[0] + 1
    return hits[-1][1] if hits else None


def cued_period(text: str, default_year: int | None) -> Period | None:
    """The period a title directs only when it says so: "phương hướng, nhiệm vụ quý IV năm
    2024", "nhiệm vụ trọng tâm năm 2025", "kế hoạch công tác tháng 10/2024". An event's year
    ("Hội thi Tin học trẻ năm 2024", "sơ kết công tác 9 tháng năm 2024") gives none."""
    folded = fold_same_length(text)
    for m in DIRECTING_CUES.finditer(folded):
        hit = _period_at(folded, m.end(), default_year)
        if hit and hit[0] - m.end() <= 40:
            return hit[1]
    return None


def title_period(title: str | None, kind: str, default_year: int | None, *,
                 programme: bool = False, issued: date | None = None) -> Period | None:
    """The period a document of ``kind`` directs according to its title. "Những tháng cuối
    năm 2025" starts on the issue date when it falls in that year."""
    if not title:
        return None
    if kind in PERIOD_KINDS or programme:
        period = directed_period(title, default_year)
        if period is not None and period.start.year != period.end.year:
            return None  # "giai đoạn 2021 - 2025": a horizon, not the span the tasks are for
    else:
        period = cued_period(title, default_year)
    if period is not None and period.label.startswith("những tháng cuối") and issued \
            and issued.year == period.end.year and issued > period.start:
        period = Period(period.label, issued, period.end)
    return period


def _title_case_org(text: str) -> str:
    """"THỊ ỦY ĐÔNG TRIỀU" -> "Thị ủy Đông Triều"; place names keep capitals."""
    text = unify_tones(" ".join(text.split()))
    if not text.isupper():
        return text
    originals = text.split()
    words = text.lower().split()
    out: list[str] = []
    place = name = False
    for i, w in enumerate(words):
        if originals[i] in ABBREVIATIONS:
            out.append(originals[i])
            continue
        if i == 0:
            out.append(w[:1].upper() + w[1:])
            continue
        if w in ("và", "các", "những"):
            place = False
        if place or _NAME_STARTS_AFTER.search(" ".join(out[-3:])) or name and (
                out[-1] == "và" or out[-1].endswith(",")) and w not in ("các", "những", "chống"):
            # a place name, or the first word of a body's name and of each of its parts:
            # "Sở Y tế", "Sở Văn hóa, Thể thao và Du lịch"
            name = name or not place
            out.append(w[:1].upper() + w[1:])
            continue
        out.append(w)
        if re.fullmatch(r"(?:phố|xã|huyện|tỉnh|quận|trấn|phường|ủy|uỷ)", w):
            place, name = True, False
    return " ".join(out)


_NAME_STARTS_AFTER = re.compile(
    r"(?:^|\s)(?:Sở|Phòng|Ban|Cục|Chi cục|Trung tâm|Văn phòng|Thanh tra|Công an|Đài|Bộ)$")


def _clean(text: str) -> str:
    return re.sub(r"[*#_]", "", text).strip()


def _is_caps(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and all(c.isupper() for c in letters)


@dataclass(frozen=True, slots=True)
class _KindLine:
    kind: str
    rest: str
    """Title words on the kind line itself ("THÔNG BÁO Về việc …" -> "Về việc …")."""
    programme: bool
    enacting: bool
    """"QUYẾT ĐỊNH:" before "Điều 1.": says the kind, has no title."""
    headline: bool = False
    """A portal's headline ("Chỉ thị của … năm 2019"): its words are the portal's, so a year
    there gives a period only with a directing cue, unless the headline names a plan ("Kế
    hoạch chuyển đổi … năm 2023": the plan's own title)."""


def _kind_line(text: str, headline: bool = False) -> _KindLine | None:
    """The kind a line names when it is a kind line: "KẾ HOẠCH", "NGHỊ QUYẾT", "QUYẾT ĐỊNH:",
    or the kind word in capitals with the title after it ("THÔNG BÁO Về việc …"). A
    ``headline`` (the first line of a passage) may write the kind word in lower case when the
    title follows it: "Thông báo: Về việc …", "Kế hoạch triển khai …", "Chỉ thị của …"."""
    if len(text) > 320:
        return None
    t = _clean(text)
    if not t or len(t) > 300:
        return None
    f = fold(t)
    for key, kind in KINDS:
        if not f.startswith(key) or (len(f) > len(key) and f[len(key)].isalnum()):
            continue
        words = t.split()[:len(key.split())]
        rest = t.split(None, len(words))[len(words)] if len(t.split()) > len(words) else ""
        if not _is_caps(" ".join(words)):
            if not (headline and words[0][:1].isupper() and rest and len(t) <= 250
                    and not t.endswith((".", ";"))):
                return None
            # "Thông báo: …" or a lower-case title word: "Kế hoạch triển khai …";
            # not "Kế hoạch hóa …", "Báo cáo viên …".
            label = words[-1].endswith(":")
            first_rest = fold(rest.split()[0]) if rest.split() else ""
            if not label and (not rest[:1].islower() or first_rest in ("hoa", "vien")):
                return None
        rest = rest.strip(" :-–.")
        enacting = kind == "quyet_dinh" and not rest and t.rstrip().endswith(":")
        if rest:
            rf = fold(rest)
            if re.match(r"(?:so\b|\d)", rf):  # "KẾ HOẠCH SỐ 12": a citation
                return None
            if t.endswith(":") and not _is_caps(rest):
                return None  # "BÁO CÁO Tình hình như sau:": a sentence
        return _KindLine(kind, rest, key == "chuong trinh", enacting,
                         headline=not _is_caps(" ".join(words)))
    return None


def _marker(text: str) -> bool:
    return bool(MARKER_RE.match(_clean(text)))


def _date_of(m: re.Match[str], prefix: str = "") -> date | None:
    """The date a match of ``_DMY`` (its groups renamed with ``prefix``) names, if it exists."""
    if m[prefix + "d"]:
        d, mo, y = m[prefix + "d"], m[prefix + "m"], m[prefix + "y"]
    else:
        d, mo, y = m[prefix + "d2"], m[prefix + "m2"], m[prefix + "y2"]
    try:
        return date(int(y), int(mo), int(d))
    except (TypeError, ValueError):
        return None


def _date_line(text: str) -> re.Match[str] | None:
    """A "Place, ngày DD tháng MM năm YYYY" line (place capitalised, not a cited document)."""
    m = DATE_LINE_RE.search(text[:300])  # a date line is short
    if not m:
        return None
    words = m["place"].split()
    caps = [w for w in words if w[:1].isupper()]
    if not words[0][:1].isupper() or len(caps) * 2 < len(words):
        return None
    if any(fold(w) in ("so", "cua", "va", "tai", "ngay", "theo", "ve") for w in words):
        return None
    if OPENER_RE.match(fold(m["place"])) or PLACE_DOC_WORDS.search(fold(m["place"])):
        return None
    return m


def _colon_sentence(text: str) -> bool:
    t = _clean(text)
    return t.endswith(":") and len(t.split()) >= 4 and not _is_caps(t)


def _body_line(text: str, first_title_line: bool = False) -> bool:
    """A line that opens the body: a list marker, an opener, "Ngày …, …", a sentence that
    introduces something with a colon."""
    t = _clean(text)
    f = fold(t[:200])
    if _marker(t) or DATED_SENTENCE_RE.match(t) or KINH_GUI_RE.match(f):
        return True
    if OPENER_RE.match(f):
        # A title may start with "Thực hiện …" ("KẾ HOẠCH / Thực hiện Kết luận số …").
        return not (first_title_line and f.startswith("thuc hien") and not t.endswith(":")
                    and len(t) <= 200)
    return _colon_sentence(t)


def _header_stop(text: str) -> bool:
    """A line that ends a title because it belongs to the header: the motto, the date line
    (or a portal's dateline)."""
    t = _clean(text)
    return bool(len(t) < 120 and MOTTO_RE.search(fold(t)) or DATELINE_RE.match(t)) \
        or _date_line(t) is not None


def _read_title(lines: list[SourceLine], start: int, first: str) -> tuple[str | None, int]:
    """The title lines from ``start``; ``first`` is text already on the kind line. Returns the
    title and the index after it."""
    title_lines: list[str] = [first] if first else []
    gap = 0
    j = start
    limit = min(len(lines), start + 40)
    while j < limit and len(title_lines) < 8:
        t = lines[j].text.strip()
        if not t:
            gap += 1
            if title_lines and gap > 2:
                break
            j += 1
            continue
        c = _clean(t)
        if re.fullmatch(r"[-_*=. ]{3,}", t):
            j += 1
            break
        if not c:
            j += 1
            continue
        if _body_line(c, first_title_line=not title_lines) or _header_stop(c):
            break
        if AUTHORITY_RE.match(c) and _is_caps(c):
            break
        if title_lines and _is_caps(c) and not _is_caps(title_lines[-1]):
            break  # capitals after a lower-case title: the enacting authority
        if title_lines and all(_is_caps(x) for x in title_lines) and not _is_caps(c) and \
                c[:1].isupper() and len(" ".join(title_lines)) >= 20:
            break  # a sentence after a title in capitals opens the body ("Do tác động …")
        if title_lines and len(t) > 160:
            break
        # After a blank line a title goes on in capitals, with a lower-case "về ...", or
        # as a short wrapped line; a capitalised sentence there opens the body.
        if title_lines and gap and not _continues_title(t) and (
                len(t) > 100 or t.endswith((".", ":", ";"))
                or re.search(r"\b(?:19|20)\d\d\W*$", title_lines[-1])):
            break
        gap = 0
        title_lines.append(c)
        j += 1
        if t.endswith((".", ":")):
            break
    title = " ".join(" ".join(title_lines).split()) or None
    return title, j


def _continues_title(text: str) -> bool:
    letters = re.sub(r"[^\w]|[\d_]", "", text)
    return bool(letters) and (letters.isupper() or letters[0].islower())


@dataclass(slots=True)
class _Zone:
    end: int = 0
    """Index in ``lines`` after the last header element."""
    kind: _KindLine | None = None
    title: str | None = None
    vv: str | None = None
    number_line: str | None = None
    kinh_gui: bool = False
    enacting: bool = False


def _header_org(c: str, dated: bool) -> bool:
    """An issuer line; the wider list of heads only above the date line (below it a line in
    capitals such as "HỘI NGHỊ …" is more likely a heading)."""
    return len(c) <= 120 and _is_caps(c) and bool(
        ISSUER_HEADS.match(c) or not dated and HEADER_ORG_HEADS.match(c))


def _read_zone(lines: list[SourceLine]) -> _Zone:
    """Walk the header from the top: header elements, short stray lines, up to the body."""
    zone = _Zone()
    limit = min(len(lines), HEAD_LINES)
    seen = 0
    prev_org = False  # the previous header element is an issuer line (it may wrap)
    dated = False  # the date line has been seen
    i = 0
    while i < limit and seen < HEAD_NONEMPTY:
        raw = lines[i].text
        c = _clean(raw)
        if not c:
            i += 1
            continue
        seen += 1
        f = fold(c[:300])
        k = _kind_line(c, headline=seen == 1) if zone.kind is None else None
        if k is not None and k.enacting:
            zone.enacting = True
            break  # "QUYẾT ĐỊNH:": the body (its articles) follows
        if k is not None:
            zone.kind = k
            zone.title, i = _read_title(lines, i + 1, k.rest)
            zone.end = i
            # The enacting authority of a quyết định / nghị quyết, then its continuation
            # ("HỘI ĐỒNG NHÂN DÂN TỈNH …" / "KHÓA XVII, KỲ HỌP THỨ 10").
            authority = False
            while i < limit:
                c2 = _clean(lines[i].text)
                if not c2:
                    i += 1
                    continue
                if len(c2) <= 120 and _is_caps(c2) and not _marker(c2) and (
                        authority or AUTHORITY_RE.match(c2)):
                    authority = True
                    i += 1
                    zone.end = i
                    continue
                break
            prev_org = False
            continue
        if KINH_GUI_RE.match(f):
            zone.kinh_gui = True
            break
        if _marker(c) or OPENER_RE.match(f) or DATED_SENTENCE_RE.match(c) or _colon_sentence(c):
            break
        # A header laid out as a table arrives as cells joined by " | " (a .docx): "ỦY BAN
        # NHÂN DÂN TỈNH X | CỘNG HÒA …", "Số: 12/UBND-VP V/v … | Hà Nội, ngày …".
        cells = [x.strip() for x in c.split(" | ")] if " | " in c and len(c) <= 600 else [c]
        roles = [_cell_role(x, dated, prev_org) for x in cells]
        role: str | None = next(
            (r for r in ("date", "motto", "number", "vv", "org") if r in roles), None)
        for cell in cells:
            if len(cell) <= 200 and NUMBER_RE.search(cell):
                zone.number_line = zone.number_line or cell
            vv = VV_IN_RE.search(cell) if len(cell) <= 400 else None
            if vv and zone.vv is None:
                parts = [_cut_date(vv.group(1))]
                j = i + 1
                while cell is cells[-1] and j < limit and len(parts) < 4:  # it may wrap
                    n = _clean(lines[j].text)
                    if not n or not n[:1].islower() or len(n) > 120 or _header_stop(n):
                        break
                    parts.append(n)
                    j += 1
                zone.vv = " ".join(" ".join(parts).split()).rstrip(" ,;")
                role = role or "vv"
                i = j - 1
        if role is None and re.fullmatch(r"[-_*=. ]{3,}", raw.strip()) and zone.end:
            role = "rule"
        if role is not None:
            dated = dated or role == "date"
            zone.end = i + 1
            prev_org = role == "org"
            i += 1
            continue
        prev_org = False
        if len(c) <= 50 and not c.endswith((".", ";")):
            i += 1  # a stray short line (signature metadata, a headline): passed over
            continue
        break
    return zone


def _cell_role(cell: str, dated: bool, prev_org: bool) -> str | None:
    """What a header line (or a cell of a header table) is: the motto, the date line, the
    number, the subject ("V/v …"), an issuer line; None for anything else."""
    f = fold(cell[:300])
    if len(cell) < 200 and MOTTO_RE.search(f):
        return "motto"
    if _date_line(cell) or BARE_DATE_RE.match(cell):
        return "date"
    if len(cell) <= 200 and NUMBER_RE.search(cell):
        return "number"
    if VV_RE.match(cell):
        return "vv"
    if _header_org(cell, dated) or prev_org and len(cell) <= 120 and _is_caps(cell):
        return "org"
    if len(cell) <= 120 and AUTHORITY_RE.match(cell) and _is_caps(cell):
        return "org"
    return None


def _cut_date(subject: str) -> str:
    """A subject line ends where a date line glued to it starts."""
    m = DATE_LINE_RE.search(subject)
    return subject[:m.start("place")] if m and m.start("place") > 0 else subject


def _first_code(number: str) -> str | None:
    codes = [s for s in re.split(r"[-/\s]+", number) if s and not s.isdigit()]
    return fold(codes[0]).strip(".") if codes else None


def _number_kind(number: str) -> str | None:
    """The kind the code right after the number names; "cong_van" when it names none
    ("1452/UBND-VX": the code is the issuer's)."""
    first = _first_code(number)
    if first is None:
        return None
    if first in NUMBER_KINDS:
        return NUMBER_KINDS[first]
    if first in OTHER_CODES:
        return "other"
    return "cong_van"


@dataclass(frozen=True, slots=True)
class _Restatement:
    kind: str
    issuer: str | None
    issued: date | None
    subject: str | None = None
    """What the restated document is about ("về triển khai nhiệm vụ … cuối năm 2025")."""


def _restatement(lines: list[SourceLine], start: int) -> _Restatement | None:
    """"Ngày 12/3/2024, UBND tỉnh Tuyên Quang ban hành Công văn số 812/…" in the first
    paragraph (the first few lines of the body: a headline and a dateline included)."""
    parts: list[str] = []
    size = 0
    for ln in lines[start:start + 16]:
        t = ln.text.strip()
        if not t:
            continue
        parts.append(t[:LEAD_CHARS])
        size += len(parts[-1])
        if len(parts) >= 4 or size >= LEAD_CHARS:
            break
    text = "\n".join(parts)[:LEAD_CHARS]
    for m in RESTATE_RE.finditer(text):
        subj = m["subj"].strip()
        issued = None
        lead = LEADING_DATE_RE.match(subj)
        if lead:  # "Ngày 16/4/2020 Ủy ban nhân dân tỉnh ban hành …" (no comma)
            issued = _date_of(lead)
            subj = subj[lead.end():]
        if not subj or len(subj.split()) > 12 or re.match(
                r"(?:Thực hiện|Căn cứ|Theo|Để|Nhằm|Ngày)\b", subj):
            continue
        doc = m["doc"].lower()
        tail = m["tail"] or ""
        if m["verb"] is None and doc not in ("kế hoạch", "công văn"):
            continue  # "đã xây dựng Kế hoạch …" names a plan, "đã xây dựng báo cáo" no document
        if doc == "văn bản" and not VAN_BAN_TAILS.match(tail):
            continue  # "ký ban hành văn bản triển khai …": some document, kind unknown
        if doc not in ("công văn", "văn bản", "hướng dẫn") and m["verb"] not in (
                None, "ban hành", "ký ban hành", "phát hành") and not tail.startswith("số"):
            continue  # "có kế hoạch tổ chức …", "ra thông báo" is an intention or news
        if doc == "hướng dẫn" and m["verb"] not in ("ban hành", "ký ban hành", "phát hành"):
            continue
        own = RESTATED_DOC_RE.match(text, m.start("tail")) if m["tail"] else None
        if issued is None:
            opens = DATE_OPENS_RE.search(text, 0, m.start("subj"))
            issued = _date_of(opens) if opens else None
        if issued is None and own is not None and (own["rd"] or own["rd2"]):
            issued = _date_of(own, "r")
        subject = own["about"] if own is not None and own["about"] else None
        return _Restatement(_DOC_WORDS[doc], _body_of(subj), issued, subject)
    if CONCLUDES_RE.search(text):
        return _Restatement("thong_bao", None, None)
    ref = SELF_REFERENCE_RE.search(text)
    if ref:
        kind = "cong_van" if ref["directed"] else _DOC_WORDS[ref["doc"].lower()]
        return _Restatement(kind, None, None)
    return None


def _body_of(subject: str) -> str | None:
    """The issuing body of a restatement's subject: "UBND tỉnh Tuyên Quang" as it stands;
    "Phó Bí thư Thường trực Huyện ủy Càng Long" -> "Huyện ủy Càng Long"; "Chủ tịch UBND
    thành phố Lê Trung Chinh" -> "UBND thành phố" (the words after the level are the
    signer's name, not a place: a place has at most two)."""
    m = PERSON_TITLE_RE.match(subject)
    if not m:
        return subject
    rest = subject[m.end():]
    org = re.match(r"(?:UBND|Ủy ban nhân dân|Uỷ ban nhân dân|HĐND|Hội đồng nhân dân|"
                   r"[Hh]uyện ủy|[Tt]ỉnh ủy|[Tt]hành ủy|[Tt]hị ủy|Đảng ủy|Sở|Ban|Bộ)\b", rest)
    if not org:
        return None
    level = re.match(r"\s+(?:thành phố|thị xã|tỉnh|huyện|quận|xã|phường|thị trấn)\b",
                     rest[org.end():])
    head_end = org.end() + (level.end() if level else 0)
    names = rest[head_end:].split()
    if level is not None and len(names) > 2:
        return rest[:head_end]
    return rest


def _source_note(lines: list[SourceLine]) -> str | None:
    """The kind a closing "(Theo Công văn 907/UBND-KT …)" names."""
    seen = 0
    for ln in reversed(lines[-12:]):
        t = ln.text.strip()
        if not t:
            continue
        m = SOURCE_NOTE_RE.match(t)
        if m:
            return _DOC_WORDS[m["doc"].lower()]
        seen += 1
        if seen >= 3:
            break
    return None


def parse_header(lines: list[SourceLine]) -> tuple[DocumentInfo, int]:
    """Read the header. Returns the document info and the index in ``lines`` where the body
    starts (after the last header element; 0 when there is no header)."""
    head = [ln for ln in lines[:HEAD_LINES] if ln.text.strip()][:HEAD_NONEMPTY]
    head_text = "\n".join(ln.text for ln in head)
    zone = _read_zone(lines)
    body_index = zone.end

    number = None
    m = NUMBER_RE.search(zone.number_line or head_text)
    if m:
        number = re.sub(r"\s+", "", m.group(1)).strip(".-")

    kind: str | None = None
    programme = False
    title = zone.title
    headline = False
    if zone.kind is not None:
        kind, programme, headline = zone.kind.kind, zone.kind.programme, zone.kind.headline
    elif zone.enacting:
        kind = "quyet_dinh"
    if kind is None and number:
        code_kind = _number_kind(number)
        if code_kind not in (None, "cong_van"):
            kind = code_kind
            programme = _first_code(number) == "ctr"
        elif zone.vv is not None or (code_kind == "cong_van" and zone.number_line):
            kind = "cong_van"
    if kind is None and _enacting_in(head):
        kind = "quyet_dinh"
    if kind is None and zone.vv is not None:
        kind = "cong_van"
    if title is None and zone.vv is not None:
        title = zone.vv
    if kind is None and (zone.kinh_gui or any(KINH_GUI_RE.match(fold(_clean(ln.text[:40])))
                                              for ln in head[:12])):
        kind = "cong_van"
    restated = _restatement(lines, body_index) if body_index < len(lines) else None
    if kind is None and restated is not None:
        kind = restated.kind
    if kind is None:
        kind = _source_note(lines)

    issued, place = None, None
    for ln in head:
        dm = _date_line(ln.text)
        if dm:
            issued = _date_of(dm)
            place = dm["place"].strip(" *_")
            break
    else:
        bare = _bare_date([ln for ln in lines[:zone.end] if ln.text.strip()])
        if bare is not None:
            issued = bare
        elif restated is not None and restated.issued is not None:
            issued = restated.issued
        else:
            issued = _publication_date(head)

    kind = kind or "other"
    default_year = issued.year if issued else None
    # A headline's year is the reporter's, unless the headline names the plan itself
    # ("Kế hoạch chuyển đổi cơ cấu cây trồng … năm 2023").
    reported = headline and kind != "ke_hoach"
    period = title_period(title, "other" if reported else kind, default_year,
                          programme=programme and not reported, issued=issued)
    if period is None and title is None and restated is not None and restated.subject:
        # A restatement names the restated document's subject: "… ban hành Nghị quyết số
        # 86/NQ-CP ngày 4/11/2025 về triển khai nhiệm vụ trọng tâm những tháng cuối năm 2025".
        # As with a headline, the words are the reporter's: a year needs a directing cue,
        # unless the restated document is a plan ("ban hành Kế hoạch số … về việc … năm 2022").
        period = title_period(restated.subject,
                              "ke_hoach" if restated.kind == "ke_hoach" else "other",
                              default_year, issued=issued)
    issuer = _issuer(head, lines, title, restated.issuer if restated else None)
    locality = _locality(issuer, place, lines)
    if issuer and locality and fold(locality) not in fold(issuer) and re.search(
            r"(?:nhân dân|hội đồng|ban chấp hành đảng bộ)\s+(?:thành phố|thị xã|huyện|tỉnh)$",
            issuer, re.IGNORECASE):
        issuer = f"{issuer} {locality}"
    info = DocumentInfo(kind=kind, number=number, issuer=issuer, issued=issued,
                        title=title, period=period, locality=locality)
    return info, body_index


def _enacting_in(head: list[SourceLine]) -> bool:
    """"QUYẾT ĐỊNH:" (or "QUYẾT ĐỊNH" followed by "Điều 1.") among the first lines."""
    for i, ln in enumerate(head):
        k = _kind_line(ln.text)
        if k is None or k.kind != "quyet_dinh" or k.rest:
            continue
        nxt = _clean(head[i + 1].text) if i + 1 < len(head) else ""
        if k.enacting or re.match(r"Điều\s+1\b", nxt):
            return True
    return False


def _bare_date(head: list[SourceLine]) -> date | None:
    """"ngày 05 tháng 6 năm 2024" alone on a line of the header, not the wrapped end of a
    citation."""
    prev = ""
    for ln in head:
        t = ln.text.strip()
        m = BARE_DATE_RE.match(t)
        if m:
            pf = fold(prev)
            if not (re.search(r".\bso\s*\d", pf) or OPENER_RE.match(pf)
                    or prev.rstrip().endswith((",", ";"))
                    and not _date_line_place(prev)):
                return _date_of(m)
        prev = t
    return None


def _publication_date(head: list[SourceLine]) -> date | None:
    """A portal's dateline among the first lines ("Thứ ba, 21/07/2020, 08:16 GMT+7",
    "06/05/2021 - 15:43"): the passage was issued by then. Used when nothing better is given."""
    for ln in head[:6]:
        t = ln.text.strip()
        m = DATELINE_ONLY_RE.match(t) if len(t) <= 60 else None
        if m:
            try:
                return date(int(m["y"]), int(m["m"]), int(m["d"]))
            except ValueError:
                return None
    return None


def _date_line_place(text: str) -> bool:
    """"Hòa Bình," alone: the place of a date line wrapped before "ngày"."""
    t = _clean(text).rstrip(",").strip()
    words = t.split()
    return 0 < len(words) <= 5 and all(w[:1].isupper() or w in "-–" for w in words)


def _issuer(head: list[SourceLine], lines: list[SourceLine], title: str | None,
            restated: str | None = None) -> str | None:
    signer = None
    for ln in head:
        m = re.search(r"Người ký\s*:\s*(.{1,80}?)(?=\s+[^\W\d_][\w ]{0,15}:|$)", ln.text[:300])
        if m:
            idx = head.index(ln)
            signer = m.group(1).strip()
            if idx + 1 < len(head) and len(head[idx + 1].text.split()) <= 3 \
                    and ":" not in head[idx + 1].text:
                signer += " " + head[idx + 1].text.strip()
            return _title_case_org(signer)
    for i, ln in enumerate(head[:12]):
        t = _left_column(ln.text)
        if ISSUER_HEADS.match(t) and t.isupper() and not _kind_line(t):
            name = t
            if i + 1 < len(head):
                nxt = _left_column(head[i + 1].text)
                if nxt.isupper() and re.match(r"(?:THÀNH PHỐ|THỊ XÃ|HUYỆN|TỈNH|XÃ|PHƯỜNG)\b", nxt):
                    name += " " + nxt
            return _title_case_org(name)
    if restated:
        return restated
    if title:
        m = re.search(r"của\s+((?:ban chấp hành đảng bộ|ủy ban nhân dân|hội đồng nhân dân)"
                      r"(?:\s+(?:thành phố|thị xã|thị trấn|tỉnh|huyện|xã|phường))?)",
                      title, re.IGNORECASE)
        if m and CITATION_RE.search(title[:m.start()]):
            # "Thực hiện Kết luận số 25-KL/TU ngày 30/9/2022 của Ban Chấp hành Đảng bộ Thành
            # phố": the body that issued the cited document, not this one.
            m = None
        if m is None:
            own = _drafting_body(lines[:40])
            if own:
                return own
        if m:
            words = m.group(1).split()
            for word in title[m.end():].split()[:3]:  # a place name is capitalised: "Hạ Long"
                if not word[:1].isupper() or word.isupper() and len(words) > 5:
                    break
                words.append(word.strip(",.;:"))
            return _title_case_org(" ".join(words).upper())
    # Signature block: "TM. ỦY BAN NHÂN DÂN", "T/M THÀNH ỦY".
    for ln in lines[-40:]:
        m = re.search(r"\b(?:TM|T/M|KT|Q)\.?\s+(.+)", re.sub(r"[*#_]", "", ln.text))
        if m and m.group(1).strip().isupper():
            return _title_case_org(m.group(1).strip())
    return None


CITATION_RE = re.compile(r"\bsố\s*\d|\bngày\s+\d{1,2}\s*[/.-]\s*\d", re.IGNORECASE)
"""A document reference: what follows it ("… của X") names the cited document's issuer."""
DRAFTING_RE = re.compile(
    r"((?:Ủy|Uỷ) ban nhân dân|UBND|Hội đồng nhân dân|HĐND|Ban Thường vụ [A-ZĐ]\w+ ủy|"
    r"Thành ủy|Thành uỷ|Tỉnh ủy|Tỉnh uỷ|Huyện ủy|Huyện uỷ|Thị ủy|Thị uỷ)"
    r"(\s+(?:[Tt]hành phố|[Tt]ỉnh|[Hh]uyện|[Tt]hị xã|[Qq]uận)"
    r"(?:\s+[A-ZĐÂĂÊÔƠƯÁÀẢÃẠ][\wÀ-ỹ]*){0,3})?"
    r"\s+(?:xây dựng|ban hành)\s+(?:Kế hoạch|Chương trình|Nghị quyết|Chỉ thị|Quyết định)\b")
"""The plan's own body in its preamble: "…, Ủy ban nhân dân Thành phố xây dựng Kế hoạch …"."""


def _drafting_body(head: list[SourceLine]) -> str | None:
    """The body that says, in the preamble, that it drafts this document."""
    text = " ".join(" ".join(ln.text.split()) for ln in head)
    m = DRAFTING_RE.search(text)
    if not m:
        return None
    name = m.group(1) + (m.group(2) or "")
    return _title_case_org(name.upper())


def _left_column(text: str) -> str:
    """The issuer's column of a header line: before a table cell break, a wide gap, the motto,
    the number or the subject ("ỦY BAN NHÂN DÂN     CỘNG HÒA XÃ HỘI …" -> "ỦY BAN NHÂN DÂN")."""
    t = _clean(text[:300])
    t = re.split(r"\s\|\s|\s{3,}|\t", t, maxsplit=1)[0]
    m = re.search(r"\s(?:CỘNG HÒA|CỘNG HOÀ|ĐẢNG CỘNG SẢN|Số\s*:?\s*\d|V\s*/\s*[vV]\b)", t)
    return (t[:m.start()] if m else t).strip()


def _locality(issuer: str | None, place: str | None, lines: list[SourceLine]) -> str | None:
    if issuer:
        m = PLACE_RE.search(issuer)
        if m:
            return m.group(1)
        m = re.search(r"(?:ủy|uỷ)\s+((?:[A-ZĐ][\wÀ-ỹ]*)(?:\s+[A-ZĐ][\wÀ-ỹ]*){0,3})$", issuer)
        if m:
            return m.group(1)
    if place and not re.search(r"\d", place) and len(place.split()) <= 4:
        return place
    # An issuer with a level and no name ("Ủy ban nhân dân Thành phố"): the place of that
    # level the body names, not a province it also mentions ("tỉnh Quảng Ninh").
    level = re.search(r"(thành phố|thị xã|huyện|tỉnh|quận)$", issuer or "", re.IGNORECASE)
    counts: Counter[str] = Counter()
    for ln in lines:
        for m in PLACE_RE.finditer(ln.text):
            if level is None or fold(m.group(0)).startswith(fold(level.group(1)) + " "):
                counts[m.group(1)] += 1
    if counts:
        name, n = counts.most_common(1)[0]
        if n >= 2:
            return name
    return None


def guess_period_from_text(texts: list[str], default_year: int | None) -> Period | None:
    """Fallback when the title names no period: the first heading that directs work and names
    a period (``texts`` are those headings)."""
    for t in texts:
        p = directed_period(t, default_year)
        if p:
            return p
    return None
