"""Who a block of a plan is addressed to: lead units and supporting units.

Vietnamese plans assign work in a handful of shapes:

- colon form: "(2) Phòng Y tế: Rà soát ..." / "Các phòng: Tài chính - Kế hoạch, Quản lý đô thị,
  Ban Quản lý dự án ...: ..." (a plural head before a colon distributes over the names);
- subject form: "Văn phòng Thị ủy chủ trì, phối hợp với các Ban xây dựng Đảng, UBND thị xã
  thường xuyên tổng hợp ..." — the unit list ends where the predicate starts;
- request form: "Giao UBND thị xã chỉ đạo ...", "Yêu cầu các cấp ủy, cơ quan ... tiếp tục ...".

Units are kept as written. Lists split on commas and "và" only where the next piece starts
with a unit head word, so "Phòng Tài nguyên và Môi trường" and "Các phòng, ban, ngành, đơn vị"
stay whole. Related-party groups ("các cơ quan liên quan") go to the supporting units.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.plans.deadlines import fold_same_length
from bot.text import lower_same_length

# Head words that start a unit name (lower case, accents kept: "đảng" is not "đang").
HEADS = sorted(
    {
        "phòng", "ban", "sở", "ủy ban", "ubnd", "hđnd", "hội đồng", "văn phòng", "trung tâm",
        "công an", "ban chỉ huy", "bch", "đội", "cơ quan", "chi cục", "cục", "tổng cục", "bộ",
        "thành ủy", "tỉnh ủy", "thị ủy", "huyện ủy", "đảng ủy", "đảng đoàn", "đảng bộ", "chi bộ",
        "ban cán sự", "ban thường vụ", "thường trực", "mặt trận", "mttq", "liên đoàn", "hội",
        "đoàn", "ban quản lý", "bql", "kho bạc", "chi nhánh", "bảo hiểm", "ngân hàng",
        "trường", "bệnh viện", "viện", "tòa án", "viện kiểm sát", "chính quyền", "cấp ủy",
        "cấp ủy viên", "người đứng đầu", "bí thư", "chủ tịch", "phó chủ tịch", "giám đốc",
        "thủ trưởng", "trưởng", "đồng chí", "các đồng chí", "ủy viên", "cổng thông tin",
        "phường", "xã", "thị trấn", "huyện", "thị xã", "thành phố", "tỉnh", "địa phương",
        "ngành", "đơn vị", "tổ chức", "lực lượng", "hợp tác xã", "ban chỉ đạo", "tổ công tác",
        "bộ phận", "hạt kiểm lâm", "điện lực", "công ty", "tổng công ty", "ban tiếp công dân",
        "đài phát thanh", "báo quảng ninh",
        "ủy ban kiểm tra", "cán bộ", "ubkt", "vp", "ubmttq", "hội liên hiệp", "doanh nghiệp",
        "cấp", "bhxh", "chi cục thuế", "chi hội", "hội đồng nhân dân", "đoàn thể",
        "ban ngành", "ngành chức năng", "tập thể", "các cấp", "chi", "tồ chức",
    },
    key=len,
    reverse=True,
)
_HEAD_RE = re.compile(
    r"(?:các |những |toàn thể )?(?:"
    + "|".join("xã(?! hội)" if h == "xã" else re.escape(h) for h in HEADS)
    + r")(?!\w)"
)
# Category nouns that continue a generic list ("Chính quyền các cấp, các ngành, các địa phương").
GENERIC = {"ngành", "cấp", "địa phương", "đơn vị", "cơ quan", "ban", "phòng", "sở", "đoàn thể",
           "tổ chức", "ban ngành", "doanh nghiệp", "lực lượng", "ngành chức năng"}
# Words after which a unit list has ended and the predicate has begun (lower case, accents).
PREDICATE = sorted(
    {
        "chủ trì", "chủ ừì", "phối hợp", "chủ động", "có trách nhiệm", "chịu trách nhiệm",
        "phải", "cần", "căn cứ", "theo", "thực hiện", "tham mưu", "xây dựng", "tổ chức",
        "triển khai", "chỉ đạo", "tiếp tục", "tập trung", "khẩn trương", "khân trương",
        "thường xuyên", "kịp thời", "rà soát", "theo dõi", "tổng hợp", "hướng dẫn",
        "kiểm tra", "giám sát", "đôn đốc", "nghiên cứu", "tăng cường", "táng cường",
        "đẩy mạnh", "nâng cao", "cụ thể hóa", "quán triệt", "phổ biến", "tuyên truyền",
        "chuẩn bị", "hoàn thành", "hoàn thiện", "báo cáo", "đề xuất", "bố trí", "lập",
        "ban hành", "giữ vững", "không", "tự", "duy trì", "bảo đảm", "đảm bảo", "sớm", "được",
        "là", "làm", "xử lý", "vận động", "phát huy", "ưu tiên", "quan tâm", "đề cao",
        "lãnh đạo", "giải quyết", "tiến hành", "nghiêm túc", "nghiêm", "trực tiếp", "định kỳ",
        "cùng", "đồng thời", "nhằm", "gắn với", "khi", "nếu", "đã", "đang", "sẽ",
        "tích cực", "quyết liệt", "tham gia", "thể chế hóa", "cập nhật", "áp dụng", "đánh giá",
        "sơ kết", "tổng kết", "quản lý", "thu hút", "khuyến khích", "hỗ trợ", "bảo vệ",
        "thành lập", "đi trước", "nêu gương", "chú trọng", "bám sát", "tổ chức thực hiện",
        "nhất là", "trong đó", "đặc biệt là",
    },
    key=len,
    reverse=True,
)
# Predicate words that are also nouns in a list ("các cấp ủy, tổ chức Đảng").
NOUNISH = {"tổ chức", "quản lý", "lãnh đạo", "xây dựng", "đơn vị", "kiểm tra", "giám sát",
           "tổ chức thực hiện", "chỉ đạo", "bảo vệ", "tuyên truyền", "hướng dẫn",
           "tiếp công dân"}
_PREDICATE_RE = re.compile(r"(?<!\w)(?:" + "|".join(PREDICATE) + r")(?!\w)")
_REQUEST_RE = re.compile(
    r"^\s*(?:giao(?: cho)?|yeu cau|de nghi)\s+", re.IGNORECASE
)
_RELATED_RE = re.compile(r"\b(?:lien quan|co lien quan)\s*$")
_SUPPORT_RE = re.compile(r"\b(?:phoi hop voi|phoi hop cung|cung voi|voi su phoi hop cua)\s+")
_LEAD_RE = re.compile(r"\s*,?\s*\bchu tri\b\s*,?\s*")


@dataclass(frozen=True, slots=True)
class Assignment:
    """Units found at the start of a block, and where the task text proper begins."""

    lead: tuple[str, ...]
    support: tuple[str, ...]
    body_start: int
    """Offset in the block's text where the task itself starts (after "Units:")."""


# Heads that name a unit only when a proper name follows ("Phòng Y tế", not "Phòng dịch").
NAMED = {"phòng", "ban", "sở", "đội", "cục", "trường", "viện", "bộ", "hội", "đoàn",
         "trung tâm", "văn phòng", "chi cục", "công ty", "cơ quan"}
# Heads that cannot open a list on their own, only with "các"/"những" or after another unit.
WEAK = {"tổ chức", "tồ chức", "cán bộ", "cấp", "ngành", "đơn vị", "địa phương", "doanh nghiệp",
        "lực lượng", "tập thể", "đoàn thể", "chi", "ban ngành", "ngành chức năng"}
# Person titles: each starts a new unit in a list, even in lower case ("..., ủy viên Ban ...").
PERSONS = ("ủy viên", "bí thư", "chủ tịch", "phó chủ tịch", "giám đốc", "thủ trưởng",
           "trưởng", "người đứng đầu")


def starts_with_head(text: str, *, first: bool = False) -> bool:
    """Whether ``text`` (any case) starts with a unit head word ("Phòng Y tế", "các cấp ủy").

    With ``first``, the text must be able to open a list: weak heads need "các"/"những".
    """
    text = text.lstrip(" -+*•(")
    low = lower_same_length(text)
    m = _HEAD_RE.match(low)
    if m is None:
        return False
    plural = low.startswith(("các ", "những ", "toàn thể "))
    head = low[:m.end()].split(" ", 1)[1] if plural else low[:m.end()]
    if first and not plural and head in WEAK:
        return False
    if not plural and head in NAMED:
        nxt = text[m.end():].lstrip()
        if not nxt[:1].isupper() and not nxt[:1].isdigit():
            return head in ("ban", "cơ quan") and bool(re.match(
                r"(?:xây dựng đảng|cán sự|chỉ đạo|chỉ huy|quản lý|thường vụ|tổ chức|tuyên giáo|"
                r"dân vận|nội chính|kinh tế|văn hóa|pháp chế)", low[m.end():].lstrip()))
    return True


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
        if head is None:
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
    return [u for u in (_clean(u) for u in units) if u]


def distribute_plural(head_text: str, names: str) -> list[str]:
    """"Các phòng: A, B, Ban C" -> ["Phòng A", "Phòng B", "Ban C"]."""
    head = re.sub(r"^(?:các|những)\s+", "", head_text.strip(), flags=re.IGNORECASE)
    head = head[:1].upper() + head[1:]
    out: list[str] = []
    for m in re.finditer(r"[^,]+", names):
        piece = _clean(m.group(0))
        if not piece:
            continue
        if starts_with_head(piece):
            # "Ban Quản lý dự án ... và các cơ quan, đơn vị liên quan": the rest is a list.
            out.extend(split_units(names[m.start():]))
            return out
        out.append(f"{head} {piece}")
    return out


def _roles(units_text: str) -> tuple[list[str], list[str]]:
    """Lead and support in "X chủ trì, phối hợp với Y" / "X phối hợp với Y" / "X và các ... liên
    quan" / "Các phòng: A, B"."""
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
    plural = re.match(r"^\s*((?:các|những)\s+\w+)\s*:\s*(.+)$", units_text,
                      re.IGNORECASE | re.DOTALL)
    lead = distribute_plural(plural.group(1), plural.group(2)) if plural else \
        split_units(units_text)
    support = split_units(support_text) if support_text.strip() else []
    related = [u for u in lead if _RELATED_RE.search(fold_same_length(u))]
    lead = [u for u in lead if u not in related]
    return lead, support + related


def _valid(units: list[str]) -> bool:
    return bool(units) and starts_with_head(units[0], first=True) and all(
        starts_with_head(u) and len(u) <= 160 for u in units)


_LEADING_CLAUSE = re.compile(
    r"^\s*(?:căn cứ|trên cơ sở|theo|để|nhằm|trong quá trình|khi|nếu|trường hợp)\b", re.IGNORECASE
)


def find_clause_assignment(text: str) -> Assignment | None:
    """Units opening a sentence inside a paragraph: stricter than at the start of a block (the
    unit must be capitalised, and a request word or a unit head must open the sentence)."""
    stripped = text.lstrip()
    if not stripped[:1].isupper():
        return None
    found = _find(text, 0)
    if found is None:
        return None
    if ";" in text[:found.body_start].rstrip(" ;:"):
        return None
    return found


def find_assignment(text: str) -> Assignment | None:
    """Units addressed at the start of ``text`` (a block without its list marker), or None.

    A leading adverbial clause ("Căn cứ Nghị quyết này, ...", "Trong quá trình triển khai
    thực hiện, có vấn đề ..., ") may stand before the units.
    """
    found = _find(text, 0)
    if found is None and _LEADING_CLAUSE.match(text):
        sentence_end = re.search(r"[.;:]", text)
        limit = min(sentence_end.start() if sentence_end else len(text), 240)
        for comma in re.finditer(r",\s*", text[:limit]):
            found = _find(text, comma.end())
            if found is not None:
                break
    return found


def _find(text: str, offset: int) -> Assignment | None:
    folded = fold_same_length(text)
    low = lower_same_length(text)
    req = _REQUEST_RE.match(folded, offset)
    if req:
        offset = req.end()
    if not starts_with_head(text[offset:], first=True):
        return None
    # Colon form: the units end at the first colon (a plural head "Các phòng:" runs to the next).
    colon = text.find(":", offset)
    names_from = offset
    if re.match(r"\s*(?:các|những)\s+\w+\s*$", low[offset:colon] if colon > 0 else ""):
        names_from = colon + 1
        colon = text.find(":", colon + 1)
    head_part = text[offset:colon] if colon > 0 else ""
    if 0 < colon - offset <= 300 and "." not in head_part.rstrip(". ") and ";" not in head_part:
        head_end = _predicate_start(low, names_from, skip_roles=True)
        head_end = colon if head_end is None or head_end > colon else head_end
        lead, support = _roles(text[offset:head_end])
        if _valid(lead) and (not support or _valid(support)):
            return Assignment(tuple(lead), tuple(support), colon + 1)
    # Subject form: units up to the first predicate word.
    end = _predicate_start(low, offset)
    if end is None or end - offset > 300:
        return None
    subject = text[offset:end]
    rest_start = end
    lead_m = re.match(r"\s*,?\s*chu (?:tri|uri|ui)\s*,?\s*(?:(phoi hop voi|phoi hop cung)\s+)?",
                      folded[end:])
    coop_m = re.match(r"\s*,?\s*(phoi hop voi|phoi hop cung|cung voi)\s+", folded[end:])
    support: list[str] = []
    m = lead_m if lead_m and lead_m.group(1) else coop_m
    if m:
        s_start = end + m.end()
        s_end = _predicate_start(low, s_start)
        if s_end is not None and starts_with_head(text[s_start:]):
            support = split_units(text[s_start:s_end])
            rest_start = s_end
    elif lead_m:
        rest_start = end + lead_m.end()
    lead, related = _roles(subject)
    if not _valid(lead):
        return None
    return Assignment(tuple(lead), tuple(support + related), rest_start)


def _predicate_start(low: str, start: int, *, skip_roles: bool = False) -> int | None:
    """Offset of the first predicate word after a unit list starting at ``start``.

    With ``skip_roles``, "chủ trì" and "phối hợp" do not end the list (the caller splits roles).
    """
    pos = start
    while True:
        m = _PREDICATE_RE.search(low, pos)
        if m is None:
            return None
        before = low[start:m.start()]
        pos = m.end()
        if not before.strip():
            continue
        if skip_roles and m.group(0) in ("chủ trì", "chủ ừì", "phối hợp", "cùng"):
            continue
        if m.group(0) == "tự" and before.endswith("trật "):
            continue  # "Đội Kiểm tra trật tự đô thị"
        # A predicate word right after a head or a comma belongs to the name or the list:
        # "Ban xây dựng Đảng", "các cơ quan quản lý", "các cấp ủy, tổ chức Đảng".
        if re.search(r"(?<!\w)(?:các|ban|phòng|sở|cơ quan|đội|đầu tư|cán bộ|giáo dục)\s*$", before) \
                and (m.group(0) in NOUNISH or m.group(0) == "thường xuyên"):
            continue
        if before.rstrip().endswith(",") and m.group(0) in NOUNISH:
            continue
        return m.start() - (1 if low[m.start() - 1:m.start()] == " " else 0)
