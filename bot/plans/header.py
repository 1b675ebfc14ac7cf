"""The document header: kind, number, issuer, issue date, title, locality and the directed period.

Vietnamese administrative documents open with the issuing body in capitals, "Số: 169/KH-UBND",
"Cẩm Phả, ngày 17 tháng 12 năm 2021", the kind ("KẾ HOẠCH") and a title ("về phương hướng,
nhiệm vụ năm 2022"). Text from PDFs may lose any of these, so each is looked for on its own and
missing ones are inferred (kind from the number, issuer from the signature block, locality from
the body).

The *directed period* is the span the document gives tasks for. A report on Q1 that sets tasks
for "Quý II năm 2023" directs Q2: the period following "phương hướng" / "nhiệm vụ trọng tâm"
wins over others in the title.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

from bot.models import DocumentInfo, Period
from bot.plans.deadlines import fold_same_length, month_end, quarter_end, quarter_number
from bot.plans.source import SourceLine
from bot.text import fold, unify_tones

KINDS = [
    ("ke hoach", "ke_hoach"), ("nghi quyet", "nghi_quyet"), ("bao cao", "bao_cao"),
    ("ket luan", "ket_luan"), ("chi thi", "chi_thi"), ("thong bao", "thong_bao"),
    ("quyet dinh", "quyet_dinh"), ("cong van", "cong_van"), ("chuong trinh", "other"),
    ("to trinh", "other"), ("huong dan", "other"),
]
NUMBER_KINDS = {"kh": "ke_hoach", "nq": "nghi_quyet", "bc": "bao_cao", "kl": "ket_luan",
                "ct": "chi_thi", "tb": "thong_bao", "qd": "quyet_dinh", "cv": "cong_van"}
LABEL_KINDS = {"ke_hoach": "Kế hoạch", "nghi_quyet": "Nghị quyết", "bao_cao": "Báo cáo",
               "ket_luan": "Kết luận", "chi_thi": "Chỉ thị", "thong_bao": "Thông báo",
               "quyet_dinh": "Quyết định", "cong_van": "Công văn", "other": "Văn bản"}

NUMBER_RE = re.compile(
    r"\bS[ốoô]\s*:?\s*(\d{1,5}(?:\s*/\s*\d{4})?(?:\s*[-/]\s*[A-ZĐ0-9&.]*[A-ZĐ][A-ZĐ0-9&.]*)+)"
)
ISSUED_RE = re.compile(
    r"(?:(?P<place>[^\W\d_][^\d,]{1,40}?)\s*,\s*)?ngày\s+(?P<d>\d{1,2})\s+tháng\s+"
    r"(?P<m>\d{1,2})\s+năm\s+(?P<y>\d{4})",
    re.IGNORECASE,
)
ISSUER_HEADS = re.compile(
    r"^(?:ỦY BAN NHÂN DÂN|UỶ BAN NHÂN DÂN|UBND|HỘI ĐỒNG NHÂN DÂN|HĐND|THÀNH ỦY|THÀNH UỶ|TỈNH ỦY|"
    r"TỈNH UỶ|THỊ ỦY|THỊ UỶ|HUYỆN ỦY|HUYỆN UỶ|ĐẢNG ỦY|ĐẢNG UỶ|ĐẢNG BỘ|BAN CHẤP HÀNH|"
    r"BAN THƯỜNG VỤ|SỞ|BAN|PHÒNG|VĂN PHÒNG|BỘ)\b"
)
PLACE_WORDS = r"(?:thành phố|thị xã|huyện|tỉnh|quận|thị trấn|xã|phường)"
PLACE_RE = re.compile(
    PLACE_WORDS + r"\s+((?:[A-ZĐÂĂÊÔƠƯÁÀẢÃẠ][\wÀ-ỹ]*)(?:\s+[A-ZĐÂĂÊÔƠƯÁÀẢÃẠ][\wÀ-ỹ]*){0,3})"
)

# Period expressions on folded text.
P_QUARTER = re.compile(r"quy\s+(iv|iii|ii|i|[1-4])\b(?:\s*(?:nam|/|-)\s*((?:19|20)\d{2}))?")
P_HALF = re.compile(r"(6|sau|9|chin)\s+thang\s+(dau|cuoi)\s+nam(?:\s+((?:19|20)\d{2}))?")
P_MONTH = re.compile(r"thang\s+(\d{1,2})\s*(?:/|-|nam)\s*((?:19|20)\d{2})")
P_RANGE = re.compile(r"giai doan\s+((?:19|20)\d{2})\s*-\s*((?:19|20)\d{2})")
P_YEAR = re.compile(r"nam\s+((?:19|20)\d{2})(?!\s*-\s*\d)")
PREFERRED = ("phuong huong", "nhiem vu trong tam", "trong tam", "ke hoach", "nhiem vu",
             "chuong trinh", "ve ")


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
    for m in P_HALF.finditer(folded, pos):
        n = 6 if m.group(1) in ("6", "sau") else 9
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
        # "năm 2023" right after a quarter/month belongs to it.
        if re.search(r"(?:quy\s+\w+|thang\s+\d+|dau|cuoi)\s*$", folded[max(0, m.start() - 12):m.start()]):
            continue
        y = int(m.group(1))
        found.append((m.start(), Period(f"năm {y}", date(y, 1, 1), date(y, 12, 31))))
        break
    return min(found, key=lambda x: x[0]) if found else None


def _year_after(folded: str, pos: int, default_year: int | None) -> int | None:
    m = re.search(r"nam\s+((?:19|20)\d{2})", folded[pos:pos + 60])
    return int(m.group(1)) if m else default_year


def directed_period(text: str, default_year: int | None) -> Period | None:
    """The period a title (or heading) directs: the one after "phương hướng" and the like."""
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


def _title_case_org(text: str) -> str:
    """"THỊ ỦY ĐÔNG TRIỀU" -> "Thị ủy Đông Triều"; place names keep capitals."""
    text = unify_tones(" ".join(text.split()))
    if not text.isupper():
        return text
    words = text.lower().split()
    out: list[str] = []
    place = False
    for i, w in enumerate(words):
        if i == 0:
            out.append(w[:1].upper() + w[1:])
            continue
        if place:
            out.append(w[:1].upper() + w[1:])
            continue
        out.append(w)
        if re.fullmatch(r"(?:phố|xã|huyện|tỉnh|quận|trấn|phường|ủy|uỷ)", w):
            place = True
    return " ".join(out)


def _kind_of_line(text: str) -> str | None:
    f = fold(re.sub(r"[*#_]", "", text)).strip(" .:")
    if not f or len(f) > 40:
        return None
    for key, kind in KINDS:
        if f == key or (f.startswith(key + " ") and len(f) <= len(key) + 25):
            letters = [c for c in text if c.isalpha()]
            if letters and sum(c.isupper() for c in letters) / len(letters) > 0.6:
                return kind
    return None


def parse_header(lines: list[SourceLine]) -> tuple[DocumentInfo, int]:
    """Read the header. Returns the document info and the index in ``lines`` where the title
    ends (the body starts)."""
    head = [ln for ln in lines[:80] if ln.text.strip()][:45]
    head_text = "\n".join(ln.text for ln in head)
    kind, kind_idx = None, None
    for i, ln in enumerate(head):
        k = _kind_of_line(ln.text)
        if k:
            kind, kind_idx = k, i
            break
    number = None
    m = NUMBER_RE.search(head_text)
    if m:
        number = re.sub(r"\s+", "", m.group(1)).strip(".-")
    if kind is None and number:
        code = re.search(r"(?:^|[-/])([A-ZĐ]{2})(?:[-/]|$)", number)
        if code:
            kind = NUMBER_KINDS.get(fold(code.group(1)))
    issued, place = None, None
    m = ISSUED_RE.search(head_text)
    if m:
        try:
            issued = date(int(m["y"]), int(m["m"]), int(m["d"]))
        except ValueError:
            issued = None
        if m["place"]:
            place = m["place"].strip(" *_")
    # Title: the lines after the kind line until the body starts.
    title = None
    body_index = 0
    if kind_idx is not None:
        title_lines: list[str] = []
        start = lines.index(head[kind_idx])
        gap = 0
        j = start + 1
        while j < len(lines) and len(title_lines) < 8:
            t = lines[j].text.strip()
            if not t:
                gap += 1
                if title_lines and gap > 2:
                    break
                j += 1
                continue
            # After a blank line a title goes on in capitals, with a lower-case "về ...", or
            # as a short wrapped line; a capitalised sentence there opens the body.
            if title_lines and gap and not _continues_title(t) and (
                    len(t) > 100 or t.endswith((".", ":", ";"))
                    or re.search(r"\b(?:19|20)\d\d\W*$", title_lines[-1])):
                break
            gap = 0
            if re.fullmatch(r"[-_*=. ]{3,}", t):
                j += 1
                break
            if title_lines and (len(t) > 160 or re.match(r"(?:I|1)\s*[.\-–]", t)):
                break
            title_lines.append(re.sub(r"[*#_]", "", t).strip())
            j += 1
            if t.endswith((".", ":")):
                break
        title = " ".join(title_lines).strip() or None
        body_index = j
    default_year = issued.year if issued else None
    period = directed_period(title, default_year) if title else None
    issuer = _issuer(head, lines, title)
    locality = _locality(issuer, place, lines)
    if issuer and locality and fold(locality) not in fold(issuer) and re.search(
            r"(?:nhân dân|hội đồng|ban chấp hành đảng bộ)\s+(?:thành phố|thị xã|huyện|tỉnh)$",
            issuer, re.IGNORECASE):
        issuer = f"{issuer} {locality}"
    info = DocumentInfo(kind=kind or "other", number=number, issuer=issuer, issued=issued,
                        title=title, period=period, locality=locality)
    return info, body_index


def _continues_title(text: str) -> bool:
    letters = re.sub(r"[^\w]|[\d_]", "", text)
    return bool(letters) and (letters.isupper() or letters[0].islower())


def _issuer(head: list[SourceLine], lines: list[SourceLine], title: str | None) -> str | None:
    signer = None
    for ln in head:
        m = re.search(r"Người ký\s*:\s*(.+)", ln.text)
        if m:
            idx = head.index(ln)
            signer = m.group(1).strip()
            if idx + 1 < len(head) and len(head[idx + 1].text.split()) <= 3 \
                    and ":" not in head[idx + 1].text:
                signer += " " + head[idx + 1].text.strip()
            return _title_case_org(signer)
    for i, ln in enumerate(head[:12]):
        t = re.sub(r"[*#_]", "", ln.text).strip()
        if ISSUER_HEADS.match(t) and t.isupper() and not _kind_of_line(t):
            name = t
            if i + 1 < len(head):
                nxt = re.sub(r"[*#_]", "", head[i + 1].text).strip()
                if nxt.isupper() and re.match(r"(?:THÀNH PHỐ|THỊ XÃ|HUYỆN|TỈNH|XÃ|PHƯỜNG)\b", nxt):
                    name += " " + nxt
            return _title_case_org(name)
    if title:
        m = re.search(r"của\s+((?:ban chấp hành đảng bộ|ủy ban nhân dân|hội đồng nhân dân)"
                      r"(?:\s+(?:thành phố|thị xã|thị trấn|tỉnh|huyện|xã|phường))?)",
                      title, re.IGNORECASE)
        if m:
            name = m.group(1).split()
            for word in title[m.end():].split()[:3]:  # a place name is capitalised: "Hạ Long"
                if not word[:1].isupper() or word.isupper() and len(name) > 5:
                    break
                name.append(word.strip(",.;:"))
            return _title_case_org(" ".join(name).upper())
    # Signature block: "TM. ỦY BAN NHÂN DÂN", "T/M THÀNH ỦY".
    for ln in lines[-40:]:
        m = re.search(r"\b(?:TM|T/M|KT|Q)\.?\s+(.+)", re.sub(r"[*#_]", "", ln.text))
        if m and m.group(1).strip().isupper():
            return _title_case_org(m.group(1).strip())
    return None


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
    counts: Counter[str] = Counter()
    for ln in lines:
        for m in PLACE_RE.finditer(ln.text):
            counts[m.group(1)] += 1
    if counts:
        name, n = counts.most_common(1)[0]
        if n >= 2:
            return name
    return None


def guess_period_from_text(texts: list[str], default_year: int | None) -> Period | None:
    """Fallback when the title names no period: the headings that direct work, then the most
    frequent year in the body."""
    for t in texts:
        p = directed_period(t, default_year)
        if p:
            return p
    return None
