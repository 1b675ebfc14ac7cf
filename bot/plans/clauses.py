"""Sentences of a block, and what each one does: who speaks, who is asked to act, or neither.

Correspondence assigns work in sentences, not in layout. A sentence is read after its leading
adverbials ("Thực hiện Công văn số … của Bộ Y tế,", "Theo đó,", "Riêng", "Để kịp thời tổng
hợp,") as one of:

- an **assignment**: units and their work, in subject form ("Sở Tài chính tham mưu …"), colon
  form ("Phòng Y tế: …") or request form, where a speaker asks units to act ("UBND tỉnh yêu cầu
  UBND các huyện, thành phố rà soát …", "Giao Sở Y tế chủ trì …", "… Công văn số 812 chỉ đạo
  các chủ đầu tư đẩy nhanh …"); the speaker is never the assignee;
- an **opener**: the speaker introduces what follows ("Chủ tịch UBND tỉnh yêu cầu:", "UBND tỉnh
  có ý kiến như sau:"); an assignment that ends with a colon opens a list too;
- **speech**: the speaker talks about itself ("UBND huyện tổ chức Hội nghị …", "Sở Y tế nhận
  được …"), a **past** account ("Phòng Kinh tế đã tổ chức …") or a **closing** formula ("… để
  các cơ quan, đơn vị biết, thực hiện", "Đề nghị các đơn vị thực hiện nghiêm túc./.");
- **plain**: none of these (it goes on with the task before it).

A purpose clause that brings a second actor starts a new assignment inside the sentence: "…
gửi về Sở Tài chính trước ngày 10/10 để Sở Tài chính tổng hợp, báo cáo UBND tỉnh trước ngày
20/10" gives the second date to Sở Tài chính.

Who speaks is decided by the caller (``is_speaker``): the document's issuer, or in a text
without a header the first singular top-level body it names as a subject.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.plans.assign import (
    GENERIC,
    Assignment,
    after_bracket,
    assignment_at,
    read_units,
)
from bot.plans.deadlines import fold_same_length
from bot.text import lower_same_length

ASSIGN, OPENER, SPEECH, PAST, CLOSING, PLAIN = "assign", "opener", "speech", "past", "closing", \
    "plain"

SENTENCE_END = re.compile(r"(?<=[.;!?])\s+(?=\S)|(?<=:)\s+(?=[A-ZĐÀ-Ỹ\"“(])")
_GIAO = r"giao(?! (?:thông|dịch|lưu|nhận|đất|khoán|tiếp|hàng|thương|hữu|diện|kết|nộp|quyền)\b)"
"""The verb "giao", not the first syllable of "giao thông", "giao dịch", "giao ban"…"""
_REQUEST = re.compile(
    r"(?<!\w)(?:kính đề nghị|đề nghị|yêu cầu|giao cho|" + _GIAO + r"|chỉ đạo|phân công|"
    r"ủy quyền cho|kêu gọi|chỉ thị|cho phép)(?!\w)"
)
_CITED_IN = re.compile(r"tại (?:báo cáo|tờ trình|công văn|văn bản|thông báo)(?!\w)")
"""A unit followed by the paper it wrote is the one who proposed, not one who is asked."""
_DONE_DIRECTING = ("chỉ đạo", "phân công")
"""Handing out work that an account reports as done ("đã chỉ đạo", "đã phân công"); "đã đề
nghị"/"đã yêu cầu" still wait for an answer and stay requests."""
_STRONG_REQUEST = ("kính đề nghị", "đề nghị", "yêu cầu", "giao cho", "giao", "phân công",
                   "ủy quyền cho", "kêu gọi", "chỉ thị", "cho phép")
"""Verbs that make their subject a speaker whoever it is ("chỉ đạo" does only for a speaker:
"UBND các huyện chỉ đạo Trung tâm Y tế …" is the districts' own task)."""
_NOUN_BEFORE_REQUEST = re.compile(
    r"(?:theo|xét|các|những|của|đáp ứng|được|đúng|có|nêu|tại|về|phiếu|hồ sơ|văn bản|tờ trình|"
    r"sự|công tác|ban|đã|mọi|với|nhiệm vụ|chỉ tiêu|kế hoạch|đúng|bàn|mục|nội dung|ý kiến)"
    r"\s+$"
)
_LIST_CUE = re.compile(r"(?:các nội dung|một số nội dung|những nội dung|nội dung sau|như sau|"
                       r"sau đây|cụ thể như sau|các nhiệm vụ sau|các việc sau)")
_SPEAKER_VERB = re.compile(
    r"\s*(?:(?:đã|vừa|sẽ|cũng|tiếp tục)\s+)*(?:có ý kiến|kết luận|thông báo|ban hành|có công văn|"
    r"có văn bản|có chỉ thị|có kế hoạch|nhận được|"
    r"(?:chủ trì|tổ chức) (?:cuộc họp|hội nghị|kỳ họp|phiên họp|buổi làm việc|họp)|"
    r"xây dựng kế hoạch|trân trọng|"
    r"kính gửi|ghi nhận|đánh giá cao|biểu dương|chỉ đạo|giao|yêu cầu|đề nghị|kêu gọi|"
    r"quyết định|lấy ý kiến|cho biết)(?!\w)"
)
_NARRATIVE_VERB = re.compile(
    r"\s*(?:(?:đã|vừa|cũng)\s+)*(?:nhận được|kết luận|trân trọng|kính gửi|ghi nhận|"
    r"đánh giá cao|biểu dương|có (?:công văn|văn bản|tờ trình|chỉ thị|công điện|thông báo)|"
    r"báo cáo như sau|"
    r"có ý kiến(?: chỉ đạo)?(?: như sau|\s*:)|chủ trì (?:cuộc họp|hội nghị|kỳ họp|buổi|phiên)|"
    r"đồng ý|nhất trí|chấp thuận|phát biểu|nhấn mạnh|thống nhất (?:chủ trương|với)|"
    r"ban hành (?:các |những )?(?:công văn|văn bản|kế hoạch|quyết định|chỉ thị|thông báo|"
    r"nghị quyết|hướng dẫn|công điện)\s+(?:số|\d)|vừa có|đã có|lấy ý kiến|cho biết|thông tin|"
    r"chia sẻ|"
    r"khẳng định|ra thông báo)(?!\w)"
)
_SPEAKER_BEFORE = re.compile(
    r"(?:ubnd|ủy ban nhân dân|chủ tịch|thủ tướng(?: chính phủ)?|bộ trưởng|giám đốc|ban thường vụ|"
    r"thường trực)(?:\s+(?!về\s|của\s|theo\s)[^\s,.;:]+){0,4}\s+(?:(?:cũng|đã|vừa|tiếp tục)"
    r"\s+)?$")
"""A speaker right before a request verb deep in a sentence: "…, Chủ tịch UBND tỉnh yêu cầu"."""
_JUST_ISSUED = re.compile(r"\s*(?:vừa|đã)\s+(?:ký\s+(?:ban hành|(?:các\s+)?(?:công văn|văn bản|"
                          r"công điện|thông báo|chỉ thị|quyết định))|ban hành)(?!\w)")
"""News of a document: "UBND tỉnh vừa ban hành khung kế hoạch …", "Bộ trưởng vừa ký công văn
gửi … và đề nghị …" (the issuer speaks)."""
_HONOUR = re.compile(r"(?:truy tặng|tặng|phong tặng|khen thưởng|xét tặng|công nhận)(?!\w)")
"""A proposal of an honour, not a request for work: "Đề nghị tặng Huân chương … cho bà …"."""
_ADVERB = re.compile(r"(?:cũng|vừa|tiếp tục|đồng thời|còn|đặc biệt|trân trọng|kính|một lần nữa)"
                     r"(?!\w)")
_PAST_CONTEXT = re.compile(r"(?:trước đó|trước đây|thời gian qua|năm qua|năm trước|vừa qua|"
                           r"thời gian vừa qua|trước đó ít ngày)(?!\w)")
"""A sentence that recounts earlier requests: "Trước đó, Phó Thủ tướng đã có văn bản …"."""
"""Verbs of a sentence about a unit rather than work for it ("Sở Y tế nhận được …")."""
_SELF_DOC = re.compile(
    r"\s*(?:(?:đã|vừa|cũng)\s+)?(?:xây dựng|ban hành)\s+(?:kế hoạch|chương trình|"
    r"hướng dẫn|nghị quyết|chỉ thị|quyết định|thông báo)"
)
"""The writer presents its own document: "UBND Thành phố xây dựng Kế hoạch … như sau:"."""
_PAST = re.compile(r"(?:[^,;.:]|\.(?=\w)){0,30}?(?<!\w)(?:đã|từng)\s(?!được giao)")
"""An account of what was done ("đã tổ chức"); "vừa" (just now) is how news restates a current
request ("UBND tỉnh vừa yêu cầu …")."""
_CLOSING_KNOW = re.compile(r"(?<!\w)để\s+(?:[^.;:]{0,80}?\s)?biết(?!\w)|"
                           r"(?<!\w)biết[,\s]+(?:và\s+)?(?:thực hiện|phối hợp|chỉ đạo|triển khai)")
_CONTENTLESS = re.compile(
    r"\s*(?:(?:quan tâm|khẩn trương|nghiêm túc|chủ động|tích cực|kịp thời|phối hợp|"
    r"triển khai|tổ chức|căn cứ|chức năng|nhiệm vụ|được giao)[\s,]*)*"
    r"(?:thực hiện|triển khai)?"
    r"(?:[\s,]*(?:thực hiện|nghiêm túc|nghiêm|đúng thời hạn|đúng thời gian|có hiệu quả|"
    r"hiệu quả|kịp thời|đầy đủ|đúng quy định|theo quy định|và|đúng|nội dung|các nội dung|"
    r"trên|này|công văn|văn bản|thông báo|kế hoạch|chỉ thị|quyết định|yêu cầu|nêu|tinh thần)"
    r")*\s*[./]*\s*$"
)
_GENERIC_BACK = re.compile(
    r"^(?:quý\s+)?(?:các\s+|những\s+)?(?:quý\s+)?(?:cơ quan|đơn vị|địa phương|cơ quan, đơn vị|"
    r"đơn vị, địa phương|cơ quan, đơn vị, địa phương|cơ quan, địa phương|sở, ngành, địa phương|"
    r"cơ quan, tổ chức|cơ quan, đơn vị, tổ chức)(?:\s+(?:trên|nêu trên|được giao|nói trên|"
    r"liên quan|có liên quan))?$"
)
_PURPOSE = re.compile(r"(?<!\w)(?:để|sau đó|đồng thời|trong khi|còn)\s+(?=\S)")
_STARTERS = re.compile(
    r"(?:căn cứ|(?:thực hiện|triển khai|thi hành|xét|quán triệt)\s+(?:các\s+|những\s+)?"
    r"(?:công văn|văn bản|kế hoạch|quyết định|chỉ thị|nghị quyết|thông báo|kết luận|"
    r"hướng dẫn|chương trình|luật|nghị định|thông tư|đề án|ý kiến|chỉ đạo|đề nghị|tinh thần|"
    r"yêu cầu|chức năng|nội dung|điều lệ|quy chế|quy định|tờ trình|báo cáo)|"
    r"theo|trên cơ sở|để|nhằm|trong|khi|nếu|trường hợp|sau khi|trước khi|"
    r"đối với|về|với|tại|ngày|hiện nay|thời gian tới|trước mắt|qua đó|từ đó|sau đó|do đó|"
    r"vì vậy|như vậy|tiếp theo|cụ thể|mặt khác|bên cạnh|ngoài ra|đồng thời|riêng|đặc biệt|"
    r"nhất là|trong đó|từ nay|để kịp thời|nhằm kịp thời|thừa lệnh|thừa ủy quyền|sáng|chiều|"
    r"tối|hôm nay|tiếp đó|tính đến|vừa qua|thời gian qua|được sự|theo đó|cuối cùng|"
    r"trước tình hình|trước diễn biến|sau|trước|định kỳ|hằng|hàng|mỗi|kể từ|từ|đến|"
    r"chậm nhất|thời gian|hiện tại|thứ nhất|thứ hai|thứ ba|thứ tư|thứ năm|thứ sáu|một là|"
    r"hai là|ba là|bốn là|năm là|kết luận|phát biểu|tại|bên cạnh đó|vào|tuy nhiên|hiện|"
    r"trao đổi|theo kế hoạch)"
    r"(?!\w)"
)
_NEWS_SOURCE = re.compile(r"(?:\(?[A-ZĐ][\w.]{1,20}\)?|\([A-ZĐ][\w.]*(?: [\w.]+){1,3}\))\s*[-–]\s*"
                          r"(?=[A-ZĐ])")
_CONDITION = re.compile(r"(?:nếu|có|khi|hoặc|phát sinh|gặp)(?!\w)")
"""Later parts of a leading adverbial: "Trong quá trình thực hiện, có vướng mắc, …"."""
_SHORT_SUBJECT_REQUEST = re.compile(
    r"(?:[^\W\d_][\w&./-]*\s+){1,5}?(?:(?:cũng|vừa|tiếp tục)\s+)?"
    r"(?P<verb>yêu cầu|đề nghị|kính đề nghị|" + _GIAO + r"|cho phép)\s+(?=\S)"
)
_DATE_LABEL = re.compile(r"[^.;:\n]{0,30}\d[^.;:\n]{0,30}:\s*")
"""A dated label before the subject: "30/6/2025:", "Trước ngày 15/7:"."""
_NAMED_PERSON = re.compile(r"(?:[Đđ]ồng chí|[Ôô]ng|[Bb]à)\s+(?:[A-ZĐÀ-Ỹ][^\s,]*\s+){1,4}?"
                           r"(?:[A-ZĐÀ-Ỹ][^\s,]*)\s*[-–,]\s*")
"""A person named before the title they speak with: "đồng chí Trần Ngọc Bình – "."""
_DATED_OPENING = re.compile(r"ngày\s+\d{1,2}\s*[/.-]\s*\d{1,2}")
_PARTICLES = re.compile(r"(?:riêng|đồng thời|ngoài ra|theo đó|bên cạnh đó|cùng với đó|"
                        r"song song với đó|mặt khác|trong đó|"
                        r"tiếp theo|sau đó|đặc biệt|nhất là|cụ thể)(?!\w)\s*,?\s*")


@dataclass(frozen=True, slots=True)
class Clause:
    """What one sentence (or the part of it after a purpose word) does."""

    kind: str
    start: int
    """Offset in the block's text where the clause starts."""
    lead: tuple[str, ...] = ()
    support: tuple[str, ...] = ()
    body_start: int = 0
    """Where the task text proper starts (after the units or the colon)."""
    request: bool = False
    """Addressed by a request verb ("đề nghị X", "giao X"), not a subject of its own."""
    generic: bool = False
    """The addressees are a back-reference ("các cơ quan, đơn vị") to be resolved."""
    opens_list: bool = False
    """The sentence introduces the items that follow ("… thực hiện các nội dung sau:")."""


Speaker = Callable[[tuple[str, ...]], bool]


def sentences(text: str, start: int = 0) -> list[tuple[int, int]]:
    """Spans of the sentences of ``text`` from ``start`` (split at . ; ! ? and before a capital
    after a colon)."""
    spans: list[tuple[int, int]] = []
    pos = start
    for m in SENTENCE_END.finditer(text, start):
        if m.start() > pos:
            spans.append((pos, m.start()))
        pos = m.end()
    if pos < len(text):
        spans.append((pos, len(text)))
    return spans


def analyse(text: str, start: int, end: int, is_speaker: Speaker, *,
            low: str | None = None, folded: str | None = None) -> list[Clause]:
    """The clauses of the sentence ``text[start:end]``: one, or more when a purpose word brings a
    new actor."""
    low = lower_same_length(text) if low is None else low
    folded = fold_same_length(text) if folded is None else folded
    first = _analyse_one(text, low, folded, start, end, is_speaker)
    out = [first]
    if first.kind in (ASSIGN, PLAIN):
        out += _purpose_clauses(text, low, folded, max(first.body_start, start), end, is_speaker)
    return out


_IN_FORCE = re.compile(
    r"(?:điều \d+\.?\s*)?(?:quyết định|chỉ thị|kế hoạch|quy chế|quy định|thông tư|nghị quyết|"
    r"văn bản)\s+này\s+(?:có hiệu lực|được áp dụng)")
"""The clause that puts the text in force: no task, whoever the item around it names."""


def _analyse_one(text: str, low: str, folded: str, start: int, end: int,
                 is_speaker: Speaker) -> Clause:
    sentence = low[start:end]
    if "biết" in sentence:
        know = _CLOSING_KNOW.search(sentence)
        # "… để các đơn vị biết, thực hiện", "Đề nghị các đơn vị biết, thực hiện."; not a
        # long request that ends "phổ biến cho đoàn viên biết và thực hiện nghiêm túc".
        if know and (know.group(0).startswith("để") or know.start() < 80):
            return Clause(CLOSING, start, body_start=start)
    if _IN_FORCE.match(low, _skip(low, start)):
        return Clause(CLOSING, start, body_start=end)  # "Quyết định này có hiệu lực kể từ …"
    if _PAST_CONTEXT.match(low, _skip(low, start)):
        return Clause(PAST, start, body_start=end)  # "Trước đó, … đã có văn bản yêu cầu …"
    for pos in _openings(text, low, start, end):
        clause = _clause_at(text, low, folded, pos, start, end, is_speaker)
        if clause is not None:
            return clause
        # "Sở yêu cầu …", "Chính phủ yêu cầu …": a short subject the unit reader does not know.
        verb = _SHORT_SUBJECT_REQUEST.match(low, pos, end)
        if verb and not _NOUN_BEFORE_REQUEST.search(low, pos, verb.start("verb")):
            # ("Nội dung đề nghị góp ý xem tại đây": a noun, not a subject that asks)
            return _addressed(text, low, folded, verb.end(), start, end, is_speaker,
                              verb.group("verb"))
    if _REQUEST.search(sentence):
        # A long leading adverbial ("Thực hiện Luật …, Chỉ thị số …, Chủ tịch UBND tỉnh yêu cầu
        # Giám đốc các sở, … với các nội dung sau:"): the request further on names the units.
        for m in _REQUEST.finditer(low, start, end):
            speaker_at = _SPEAKER_BEFORE.search(low, max(start, m.start() - 60), m.start())
            if m.group(0) in ("yêu cầu", "đề nghị", "kính đề nghị", "giao") and speaker_at \
                    and not low[max(0, speaker_at.start() - 8):speaker_at.start()].endswith(
                        ("của ", "theo ", "về ")):
                request = _addressed(text, low, folded, m.end(), m.start(), end, is_speaker,
                                     m.group(0))
                if request.lead:
                    return request
        if _ends_opener(sentence):
            return Clause(OPENER, start, body_start=end, request=True, opens_list=True)
    return Clause(PLAIN, start, body_start=start)


def _openings(text: str, low: str, start: int, end: int) -> list[int]:
    """Where the sentence's subject may start: at its start, after focus particles ("Riêng",
    "Theo đó,") and after leading adverbial phrases ending with a comma."""
    out = []
    pos = _skip(low, start)
    source = _NEWS_SOURCE.match(text, pos)  # "GDVN- Sở Giáo dục …", "(Chinhphu.vn) - …"
    if source:
        pos = _skip(low, source.end())
    label = _DATE_LABEL.match(low, pos, end)
    if label:
        out.append(pos)
        pos = _skip(low, label.end())  # "30/6/2025: - Quốc hội thông qua …"
    for _ in range(6):
        m = _PARTICLES.match(low, pos)
        if m and m.end() > pos:
            out.append(pos)
            pos = _skip(low, m.end())
            continue
        out.append(pos)
        if low.startswith("đối với ", pos):
            out.append(_skip(low, pos + 8))  # "Đối với các đoàn thể tổ chức thẩm tra …"
        if not (_STARTERS.match(low, pos) or re.match(r"\d", low[pos:pos + 1])
                or len(out) > 1 and _CONDITION.match(low, pos)):
            break
        # A leading adverbial ends at a comma: the subject may follow any of the next few.
        base = pos
        for comma in list(re.finditer(r",\s*", low[base:min(end, base + 400)]))[:8]:
            at = _skip(low, base + comma.end())
            named = _NAMED_PERSON.match(text, at)
            if named:
                at = _skip(low, named.end())  # "đồng chí Trần Ngọc Bình – Phó Chủ tịch UBND …"
            out.append(at)
            m = _PARTICLES.match(low, at)
            if m and m.end() > at:
                out.append(_skip(low, m.end()))
        break
    return out


def _skip(low: str, pos: int) -> int:
    while pos < len(low) and low[pos] in " \t-+•*“”\"'(":
        pos += 1
    return pos


def _clause_at(text: str, low: str, folded: str, pos: int, start: int, end: int,
               is_speaker: Speaker) -> Clause | None:
    """The clause when a request verb or a unit stands at ``pos``."""
    verb = _REQUEST.match(low, pos)
    if verb and verb.group(0) != "chỉ đạo":
        return _addressed(text, low, folded, verb.end(), start, end, is_speaker, verb.group(0))
    found = assignment_at(text, pos, low=low, folded=folded)
    units = read_units(text, pos, low=low)
    if found is None:
        if units is None or not (_SPEAKER_VERB.match(low, units.end) or
                                 low.startswith(",", units.end) and
                                 _REQUEST.match(low, _skip(low, units.end + 1))):
            return None
        found = Assignment(units.units, (), units.end, pos)
    # Right after the units: "UBND tỉnh (cũng) yêu cầu …", "… chủ trì cuộc họp", "… đã …".
    subject_end = after_bracket(text, units.end) if units is not None else found.body_start
    after = _skip_adverbs(low, subject_end)
    verb = _REQUEST.match(low, after)
    if verb is None and low.startswith("đã ", after):
        verb = _REQUEST.match(low, _skip_adverbs(low, after + 3))  # "X đã đề nghị Y …"
        if verb is not None and verb.group(0) in _DONE_DIRECTING:
            # "UBND tỉnh đã chỉ đạo các sở … giải quyết", "Thủ tướng đã phân công …": an
            # account of how the work was handed out, not a request still open.
            return Clause(PAST, start, body_start=end)
    if _CITED_IN.match(low, after):
        return None  # "Xét đề nghị của …, HĐND và UBND thành phố tại báo cáo số …": a proposer
    if verb is None and low.startswith(",", after):
        verb = _REQUEST.match(low, _skip(low, after + 1))  # "Chủ tịch UBND tỉnh, Yêu cầu …"
        if verb is not None and verb.group(0) not in _STRONG_REQUEST:
            verb = None
    speaker = is_speaker(found.lead)
    past = _PAST.match(low, subject_end) is not None
    if verb and (verb.group(0) in _STRONG_REQUEST or speaker):
        if past and _DATED_OPENING.match(low, _skip(low, start)):
            return Clause(PAST, start, body_start=end)
        # "UBND tỉnh yêu cầu UBND các huyện …": the subject speaks, the object acts.
        return _addressed(text, low, folded, verb.end(), start, end, is_speaker, verb.group(0))
    if after < end and _SELF_DOC.match(low, after) and _ends_opener(low[start:end]):
        return Clause(OPENER, start, body_start=end, opens_list=True)
    if speaker or _NARRATIVE_VERB.match(low, after) or _JUST_ISSUED.match(low, subject_end):
        request = _request_in(text, low, folded, after, end, is_speaker)
        if request is not None:
            # "Ngày 12/6/2020, Bộ Xây dựng đã có công văn … yêu cầu các Sở …": a dated
            # earlier letter is recounted; "Đoàn ĐBQH tỉnh đã đề nghị X …" still stands.
            recounted = past and _DATED_OPENING.match(low, _skip(low, start))
            return Clause(PAST, start, body_start=end) if recounted else request
        kind = OPENER if _ends_opener(low[start:end]) else SPEECH
        return Clause(kind, start, body_start=end, opens_list=kind == OPENER)
    if past:
        return Clause(PAST, start, body_start=end)
    generic = _is_generic(found.lead)
    if generic and _CONTENTLESS.fullmatch(low, found.body_start, end):
        return Clause(CLOSING, start, body_start=end)
    lead, support = found.lead, found.support
    if generic:
        named = _bracketed_units(text, low, units.end if units is not None else pos, end)
        if named:
            lead, support, generic = named, (), False
    return Clause(ASSIGN, start, lead, support, found.body_start,
                  generic=generic, opens_list=_opens_list(low, start, end))


def _skip_adverbs(low: str, pos: int) -> int:
    pos = _skip(low, pos)
    while True:
        m = _ADVERB.match(low, pos)
        if m is None:
            return pos
        pos = _skip(low, m.end())


def _bracketed_units(text: str, low: str, pos: int, end: int) -> tuple[str, ...]:
    """"các đơn vị thi công (Trung tâm Kỹ thuật …, Văn phòng đăng ký …)": the units a generic
    name stands for, written in brackets right after it."""
    m = re.compile(r"[^(),;.]{0,25}?\(").match(low, pos, end)
    if m is None or low.startswith(("qua ", "theo ", "gồm ", "trừ "), m.end()):
        return ()
    close = text.find(")", m.end(), end)
    if close < 0:
        return ()
    found = read_units(text, m.end(), low=low, first=False, stop=close)
    return found.units if found is not None and found.end >= close - 2 else ()


_TIME_FIRST = re.compile(r":?\s*(?:từ|kể từ|trước|trong|đến|chậm nhất|ngay từ)\s[^,;:]{1,70},\s*")
"""A time adverbial between a request verb and its addressees ("yêu cầu: từ ngày …, …")."""


def _addressed(text: str, low: str, folded: str, pos: int, start: int, end: int,
               is_speaker: Speaker, verb: str) -> Clause:
    """The clause after a request verb at ``pos``: its addressees, or an opener without them."""
    pos = _skip(low, pos)
    if low.startswith(("cho ", "với "), pos):
        pos = _skip(low, pos + 4)
    when = _TIME_FIRST.match(low, pos, end)
    if when and re.search(r"\d", when.group(0)):
        # "Chủ tịch UBND tỉnh yêu cầu: từ ngày 30/4/2020 đến hết ngày 03/5/2020, các đơn vị bố
        # trí trực …": the time comes first, the addressees after it.
        after_time = assignment_at(text, when.end(), low=low, folded=folded, first=False)
        if after_time is not None and not is_speaker(after_time.lead):
            pos = when.end()
    # After a request verb a bare category is an addressee: "yêu cầu chủ đầu tư …".
    found = assignment_at(text, pos, low=low, folded=folded, first=False)
    if found is None or is_speaker(found.lead):
        body = _skip(low, pos)
        if low[body:body + 1] == ":" or _ends_opener(low[start:end]):
            return Clause(OPENER, start, body_start=end, request=verb != "kêu gọi",
                          opens_list=True)
        if verb == "kêu gọi" or _HONOUR.match(low, body):
            return Clause(SPEECH, start, body_start=end)  # "Đề nghị tặng Bằng khen cho …"
        # "Đề nghị thực hiện …" with no addressee: those the letter is sent to.
        return Clause(ASSIGN, start, body_start=body, request=True, generic=True,
                      opens_list=_opens_list(low, start, end))
    generic = _is_generic(found.lead)
    if generic and _CONTENTLESS.fullmatch(low, found.body_start, end):
        return Clause(CLOSING, start, body_start=end)
    lead, support = found.lead, found.support
    if generic:
        named = _bracketed_units(text, low, pos, end)
        if named:
            lead, support, generic = named, (), False
    return Clause(ASSIGN, start, lead, support, found.body_start, request=True,
                  generic=generic, opens_list=_opens_list(low, start, end))


_LETTER_THAT_ASKS = re.compile(r"(?:có|ban hành|gửi)\s+văn bản(?:\s+số\s+\S+)?\s+$")
""""… vừa có văn bản đề nghị UBND các tỉnh …": the letter asks (not "văn bản đề nghị của …"); a
letter that "chỉ đạo" its addressees is told of, its requests follow."""


def _request_in(text: str, low: str, folded: str, pos: int, end: int,
                is_speaker: Speaker) -> Clause | None:
    """A request verb inside the sentence with units after it ("… chỉ đạo các chủ đầu tư …")."""
    for m in _REQUEST.finditer(low, pos, end):
        if _NOUN_BEFORE_REQUEST.search(low[max(pos, m.start() - 20):m.start()]) and \
                not (m.group(0) in ("đề nghị", "yêu cầu") and
                     _LETTER_THAT_ASKS.search(low[max(pos, m.start() - 50):m.start()])):
            continue
        at = _skip(low, m.end())
        if low.startswith(("cho ", "với "), at):
            at = _skip(low, at + 4)
        elif low.startswith(",", at):  # "… văn bản số 1345/UBND-KT chỉ đạo, UBND huyện X …"
            at = _skip(low, at + 1)
        found = assignment_at(text, at, low=low, folded=folded)
        if found is None or is_speaker(found.lead):
            continue
        generic = _is_generic(found.lead)
        if generic and _CONTENTLESS.fullmatch(low, found.body_start, end):
            return Clause(CLOSING, pos, body_start=end)
        return Clause(ASSIGN, m.start(), found.lead, found.support, found.body_start,
                      request=True, generic=generic, opens_list=_opens_list(low, pos, end))
    return None


_SENT_TO = re.compile(
    r"(?:công văn|văn bản|công điện|thông báo|kế hoạch|hướng dẫn)(?:\s+số)?[^.;:]{0,40}?"
    r"\s(?:(?:gửi|gởi)\s+(?:đến\s+|tới\s+|cho\s+)?|(?:khẩn\s+)?(?:đến|tới)\s+)")
"""A letter and the units it was sent to: "… vừa có văn bản số 497/SXD-PQH gửi các Sở, ngành
liên quan về việc …"."""


def letter_addressees(text: str, start: int, end: int, *,
                      low: str | None = None) -> tuple[str, ...]:
    """The units a letter named in ``text[start:end]`` was sent to (news restating it), or ()."""
    low = lower_same_length(text) if low is None else low
    m = _SENT_TO.search(low, start, end)
    if m is None:
        return ()
    # The list may run on past a ";" that ended the sentence: "gửi Sở A; Sở B về việc …".
    found = read_units(text, m.end(), low=low, first=False)
    return found.units if found is not None else ()


def speaks_at(low: str, pos: int) -> bool:
    """Whether a speaker's verb stands at ``pos`` (after a unit): "yêu cầu", "ban hành", "có ý
    kiến", "tổ chức hội nghị"… — the unit before it is the one who speaks."""
    return _SPEAKER_VERB.match(low, pos) is not None


def _purpose_clauses(text: str, low: str, folded: str, pos: int, end: int,
                     is_speaker: Speaker) -> list[Clause]:
    """"… để Sở Tài chính tổng hợp, báo cáo …": a second actor inside the sentence."""
    out: list[Clause] = []
    for m in _PURPOSE.finditer(low, pos, end):
        found = assignment_at(text, m.end(), low=low, folded=folded) or \
            _antecedent(text, low, m.end())
        if found is None or is_speaker(found.lead) or _is_generic(found.lead):
            continue
        if not re.match(r"\s*(?:,\s*)?[^\W\d_]", low[found.body_start:end]):
            continue
        body = _skip(low, found.body_start)
        if _RECEIVER_VERB.match(low, body) and not _PASSES_ON.search(low, body, end):
            # "báo cáo … để Chủ tịch UBND tỉnh chỉ đạo xử lý": who reads the report; but "để
            # Sở Tài chính tổng hợp, báo cáo UBND tỉnh trước ngày 20/10" is its own task.
            continue
        out.append(Clause(ASSIGN, m.start(), found.lead, found.support, found.body_start))
    return out


_RECEIVER_VERB = re.compile(r"(?:xem xét|chỉ đạo|xử lý|giải quyết|quyết định|theo dõi|biết|"
                            r"tổng hợp)(?!\w)")
"""What the one a report goes to does with it: not a task the document gives."""
_PASSES_ON = re.compile(r"\d|(?<!\w)(?:báo cáo|trình|tham mưu)(?!\w)")
_BARE_HEAD = re.compile(r"(sở|phòng|ban|trung tâm|chi cục|cục|viện|trường|công ty)\s+(?=[^\W\d_])")


def _antecedent(text: str, low: str, pos: int) -> Assignment | None:
    """"… gửi hồ sơ về Sở Tài nguyên và Môi trường trước ngày 28-10 để sở tổ chức thẩm định":
    a bare head in lower case names the last unit with that head written before it."""
    m = _BARE_HEAD.match(low, pos)
    if m is None or not text[pos].islower() or not text[m.end():m.end() + 1].islower():
        return None
    head = m.group(1)
    window = max(0, pos - 1500)
    for prior in reversed(list(re.compile(rf"(?<!\w){re.escape(head)}\s").finditer(low, window,
                                                                                    pos))):
        if text[prior.start()].isupper():
            units = read_units(text, prior.start(), low=low, first=False)
            if units is not None:
                return Assignment(units.units[:1], (), m.end(), pos)
    return None


def _ends_opener(sentence: str) -> bool:
    """Whether a sentence ends with a colon: it introduces what follows."""
    return sentence.rstrip().endswith(":")


def _opens_list(low: str, start: int, end: int) -> bool:
    sentence = low[start:end].rstrip()
    return sentence.endswith(":") or bool(_LIST_CUE.search(sentence[-60:]) and
                                          sentence.endswith((":", "sau", "sau:")))


def _is_generic(units: tuple[str, ...]) -> bool:
    """"các cơ quan, đơn vị", "Quý cơ quan": a back-reference to the addressees."""
    return len(units) == 1 and _GENERIC_BACK.match(lower_same_length(units[0])) is not None


__all__ = ["ASSIGN", "CLOSING", "GENERIC", "OPENER", "PAST", "PLAIN", "SPEECH", "Clause",
           "analyse", "letter_addressees", "sentences", "speaks_at"]
