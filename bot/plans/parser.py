"""Assemble a document: header, sections, tasks with units, deadlines and recurrences.

The walk reads blocks (paragraphs and list items) in order and keeps a small discourse state:

- the heading path (the section) and whether it directs work: in a report (báo cáo) only
  sections whose heading directs work ("PHƯƠNG HƯỚNG, NHIỆM VỤ QUÝ II") give tasks; elsewhere a
  section gives tasks unless its heading says it is an account (kết quả, tình hình, mục đích…);
- text under no heading (a công văn, a restatement, the preamble of a plan) gives a task only
  where a sentence names who must act or sets a deadline;
- the units of an enclosing item ("(1) Phòng Kinh tế:") or of a sentence that opens a list ("…
  đề nghị UBND các xã thực hiện các nội dung sau:") go to the items under it;
- the "Kính gửi:" addressees answer a request without named units and back-references ("các
  cơ quan, đơn vị");
- the speaker (the issuer, or the body the text speaks for) is never an assignee.

Inside a block, :mod:`bot.plans.clauses` cuts a new task where a sentence or a purpose clause
names its own units.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date

from bot.models import Deadline, DocumentInfo, ParsedPlan, Period, Task
from bot.plans.assign import (
    Assignment,
    expand,
    find_assignment,
    read_units,
    same_body,
    units_only,
)
from bot.plans.clauses import (
    ASSIGN,
    OPENER,
    PLAIN,
    Clause,
    analyse,
    letter_addressees,
    sentences,
    speaks_at,
)
from bot.plans.deadlines import find_deadlines, fold_same_length, read_deadline_cell
from bot.plans.header import guess_period_from_text, parse_header
from bot.plans.recurrence import cell_recurrence, find_recurrence
from bot.plans.source import Budget, SourceLine, parse_budget
from bot.plans.structure import LEVEL_PARA, Block, body_end, build_blocks
from bot.plans.tables import CONTENT, DEADLINE, LEAD, SUPPORT, Row, split_runs, table_rows
from bot.text import lower_same_length

DIRECTIVE = re.compile(
    r"nhiem vu|giai phap|phuong huong|to chuc thuc hien|phan cong|trach nhiem|"
    r"ke hoach hanh dong|chuong trinh hanh dong|noi dung thuc hien|trien khai thuc hien|"
    r"de nghi|giao nhiem vu|thuc hien|quyet dinh|ket luan|yeu cau cac"
)
NOT_DIRECTIVE = re.compile(
    r"muc dich|yeu cau|muc tieu|chi tieu|ket qua|tinh hinh|danh gia|han che|ton tai|"
    r"nguyen nhan|bai hoc|can cu|thuc trang|uu diem|khuyet diem|kien nghi|de xuat|"
    r"cong tac lanh dao, chi dao|boi canh|dac diem"
)
# Headings of results that mention tasks ("KẾT QUẢ THỰC HIỆN NHIỆM VỤ") are not directives.
RESULT_FIRST = re.compile(r"^(?:ket qua|tinh hinh|danh gia)")
# In orders (chỉ thị, công văn…) a heading that starts with a verb orders it: "ĐÁNH GIÁ …".
ORDER_KINDS = ("chi_thi", "cong_van", "quyet_dinh", "thong_bao")
HEADING_MAX = 300
_ENUMERATION = re.compile(r"\s*(?:thứ (?:hai|ba|tư|năm|sáu|bảy)|hai là|ba là|bốn là|năm là|"
                          r"ngoài ra|bên cạnh đó|đồng thời|mặt khác|sau đó|tiếp theo)\b",
                          re.IGNORECASE)
_RESTATES = re.compile(
    r"\s*(?:(?:đã|vừa|cũng)\s+)*(?:ban hành|có (?:công văn|văn bản|chỉ thị|kế hoạch|thông báo)|"
    r"thông báo|yêu cầu|đề nghị|giao|kêu gọi|cho biết)(?!\w)")
"""Verbs by which any body speaks for itself ("Sở Y tế vừa có văn bản …", "… đề nghị …")."""
_ATTRIBUTION = re.compile(r"\s*theo\s+(?!đó\b|kế hoạch\b)\S", re.IGNORECASE)
"""A paragraph that reports what someone says ("Theo Ban QLDA, …"): no one's task."""
_KINH_GUI = re.compile(r"^\s*kinh\s+gui\s*:?\s*", re.IGNORECASE)
_TITLES = re.compile(
    r"^(?:(?:(?:các\s+)?đồng chí|chủ tịch|phó chủ tịch|giám đốc|phó giám đốc|thường trực|"
    r"lãnh đạo|tập thể lãnh đạo|trưởng|phó trưởng|bí thư|phó bí thư)\s+)+",
)
_TOP_BODY = re.compile(
    r"^(?:uy ban nhan dan|hoi dong nhan dan|thanh uy|tinh uy|huyen uy|thi uy|quan uy|dang uy|"
    r"ban thuong vu|ban chap hanh|thuong truc)\b"
)


@dataclass(slots=True)
class _Context:
    level: int
    lead: tuple[str, ...]
    support: tuple[str, ...]


@dataclass(slots=True)
class _Opener:
    """A sentence that introduced a list: its units go to the items after it."""

    lead: tuple[str, ...]
    support: tuple[str, ...]
    level: int
    """The level of the block that opened the list (its items are deeper)."""
    items: int = 0


@dataclass(slots=True)
class _State:
    """What the walk knows at a block: the document, the section and the discourse."""

    info: DocumentInfo
    period: Period | None
    default_year: int | None
    reference: date | None
    """The day dates without a year are read from: the issue date, or the time the text
    speaks of ("năm học 2021-2022": dates up to July are in 2022)."""
    report: bool
    speakers: tuple[str, ...]
    addressees: tuple[str, ...] = ()
    path: list[tuple[int, str, bool | None]] = field(default_factory=list)
    contexts: list[_Context] = field(default_factory=list)
    opener: _Opener | None = None
    warnings: list[str] = field(default_factory=list)
    pending: tuple[Deadline, ...] = ()
    """Deadlines of a label line ("Trước ngày 20/2/2020:") waiting for the paragraph under it."""
    next_item: list[int | None] = field(default_factory=list)
    """For each block of the current run, the level of the next list item."""
    last_actor: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
    asked: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
    """The units the last request addressed ("UBND tỉnh yêu cầu X …"): what a later "các
    đơn vị" refers back to when there is no "Kính gửi"."""
    """The units of the last sentence that named its own: "các đơn vị trên" and follow-up
    paragraphs that set a deadline without a subject refer to them."""
    preamble_requests_only: bool = False
    """In a document with sections, the text before the first heading is an introduction:
    only explicit requests there give work ("Đề nghị các cơ quan …")."""

    speaker_names: dict[str, bool] = field(default_factory=dict)
    """is_speaker's answers so far: a document names the same few units again and again."""
    budget: Budget | None = None
    """The time the parse may take, checked at every block, row and sentence."""

    def check_time(self) -> None:
        if self.budget is not None:
            self.budget.check()

    def is_speaker(self, units: tuple[str, ...]) -> bool:
        """Whether ``units`` is the body the document speaks for (never an assignee)."""
        if len(units) != 1 or not self.speakers:
            return False
        known = self.speaker_names.get(units[0])
        if known is None:
            low = lower_same_length(units[0])
            known = not low.startswith(("các ", "những ")) and \
                any(same_body(_TITLES.sub("", low), s) for s in self.speakers)
            self.speaker_names[units[0]] = known
        return known


def classify_heading(text: str, *, top: bool = True, kind: str = "") -> bool | None:
    """True if a heading directs work, False if it says it does not, None if neutral.

    Below the top level only strong words count: "3. Về nhiệm vụ phát triển kinh tế" inside
    "II- KẾT QUẢ CỤ THỂ" is still an account of results.
    """
    f = fold_same_length(text).strip(" *:.")
    if kind in ORDER_KINDS and re.match(r"(?:danh gia|ra soat|kiem tra|tong ket|so ket)\b", f):
        return True  # "II. ĐÁNH GIÁ KẾT QUẢ THỰC HIỆN NĂM 2023" in a chỉ thị orders it
    if RESULT_FIRST.match(f):
        return False
    if re.search(r"phuong huong|nhiem vu trong tam|giai phap|to chuc thuc hien|phan cong", f):
        return True
    if NOT_DIRECTIVE.search(f):
        return False
    if top and DIRECTIVE.search(f):
        return True
    return None


def _is_heading(block: Block, assignment: Assignment | None) -> bool:
    if block.level == LEVEL_PARA:
        if len(block.text) >= 150:
            return False
        letters = [c for c in block.text if c.isalpha()]
        return bool(letters) and sum(c.isupper() for c in letters) / len(letters) > 0.8
    if block.level > 4 or assignment is not None:
        return False
    head, colon, rest = block.text.partition(":")
    if colon and len(head) < 150 and find_assignment(rest.strip()) is not None:
        return True  # "2. Về thực hiện chủ đề công tác năm 2022: Giao UBND thị xã ..."
    body = block.text.rstrip(" :*")
    if body.endswith((".", ";")) and not body.isupper() and (
            len(body.split()) >= 8 or not re.match(r"(?:Về|Đối với|Công tác)\b", body)):
        return False  # a sentence: "2. Bố trí địa điểm tập huấn.", "2. Phấn đấu kết nạp …"
    if block.marker.startswith("Điều") and not body.isupper():
        return False  # "Điều 2. Tổ công tác có nhiệm vụ …" is an article, not a heading
    return len(body) < HEADING_MAX and not re.search(r"[.!?]\s+\S", body)


def parse_lines(lines: list[SourceLine], *, source: str = "",
                budget: Budget | None = None) -> ParsedPlan:
    """Parse the lines of one document (already decoded) into a :class:`ParsedPlan`.

    Every stage is linear in the text; ``budget`` (by default
    :data:`~bot.plans.source.MAX_PARSE_SECONDS`) bounds the time all the same and raises
    :class:`~bot.errors.FileTooLarge` with a Vietnamese message when it runs out.
    """
    budget = parse_budget(source) if budget is None else budget
    info, body_start = parse_header(lines)
    end = body_end(lines)
    runs: list[tuple[bool, list[Block] | list[Row]]] = []
    for is_table, piece in split_runs(lines[body_start:end]):
        rows = list(table_rows(piece)) if is_table else []
        runs.append((True, rows) if rows else (False, build_blocks(piece)))
    blocks = [b for is_table, run in runs if not is_table for b in run
              if isinstance(b, Block)]
    period = info.period
    if period is None:
        heads = [b.text for b in blocks if len(b.text) < 200 and _is_heading(b, None)
                 and classify_heading(b.text, kind=info.kind)]
        issued_year = info.issued.year if info.issued else None
        period = guess_period_from_text(heads, issued_year)
        if period:
            info = DocumentInfo(kind=info.kind, number=info.number, issuer=info.issuer,
                                issued=info.issued, title=info.title, period=period,
                                locality=info.locality)
    reference = info.issued
    if period:
        default_year: int | None = period.end.year
    elif info.issued:
        default_year = info.issued.year
    else:
        default_year, reference = _context_year(blocks)
    budget.check()
    state = _State(info=info, period=period, default_year=default_year, reference=reference,
                   report=info.kind == "bao_cao", speakers=_speakers(info, blocks),
                   budget=budget)
    # (a heading with nothing after it is a byline or a signature: "TRIỆU TÙNG")
    state.preamble_requests_only = any(
        _is_heading(b, None) and (b.level == 1 or b.level == LEVEL_PARA)
        for b in blocks[:-1])
    if period is None and info.kind in ("ke_hoach", "nghi_quyet", "bao_cao", "chi_thi"):
        state.warnings.append("Không xác định được thời kỳ của văn bản (năm, quý): các nhiệm "
                              "vụ không ghi hạn sẽ không có hạn hoàn thành.")
    tasks: list[Task] = []
    for is_table, run in runs:
        if is_table:
            tasks += _table_tasks(run, state)  # type: ignore[arg-type]
            continue
        text_blocks: list[Block] = run  # type: ignore[assignment]
        state.next_item = _next_items(text_blocks)
        index = 0
        while index < len(text_blocks):
            state.check_time()
            block = text_blocks[index]
            if _KINH_GUI.match(fold_same_length(block.text[:12])):
                index = _read_addressees(text_blocks, index, state)
                continue
            tasks += _walk_block(text_blocks, index, state)
            index += 1
    return ParsedPlan(document=info, tasks=tuple(tasks), warnings=tuple(state.warnings),
                      source=source)


def _walk_block(blocks: list[Block], index: int, state: _State) -> list[Task]:
    block = blocks[index]
    low, folded = lower_same_length(block.text), fold_same_length(block.text)
    assignment = None if block.level == LEVEL_PARA else \
        find_assignment(block.text, low=low, folded=folded)
    if _is_heading(block, assignment):
        level = block.level if block.level != LEVEL_PARA else 1
        while state.path and state.path[-1][0] >= level:
            state.path.pop()
        state.path.append((level, block.marker or "*",
                           classify_heading(block.text, top=level == 1, kind=state.info.kind)))
        state.contexts = [c for c in state.contexts if c.level < level]
        state.opener = None
        # "1. Về công tác ...: Giao UBND ..." — a heading with content after its colon.
        head, _, rest = block.text.partition(":")
        if rest.strip() and len(head) < 150 and len(rest.strip()) > 20:
            sub = _sub_block(block, len(head) + 1)
            return _tasks_from_block(sub, state, list(state.contexts))
        return []
    if block.level != LEVEL_PARA:
        state.contexts = [c for c in state.contexts if c.level < block.level]
    inherited = state.contexts
    if block.level == LEVEL_PARA and state.contexts and not block.continued and \
            not _list_goes_on(state.next_item[index], state.contexts[-1].level):
        inherited = []  # a closing paragraph after the last item speaks for no one unit
    opener = state.opener
    if opener is not None:
        if block.level == LEVEL_PARA and opener.items and not block.continued or \
                opener.level != LEVEL_PARA and block.level <= opener.level:
            state.opener = opener = None  # the list is over
        elif block.level != LEVEL_PARA:
            opener.items += 1
    if not inherited and opener is not None:
        inherited = [_Context(0, opener.lead, opener.support)]
    if _label_only(block.text, 0, len(block.text)) and not state.pending:
        # "a) Trước ngày 20 tháng 2 năm 2020:" over the paragraph that says who does what
        labelled = _deadlines(block, 0, len(block.text), state, low, folded)
        if labelled and _zone(state) is not False:
            state.pending = tuple(labelled)
            return []
    tasks = _tasks_from_block(block, state, inherited, low=low, folded=folded)
    if state.pending and tasks:
        first = tasks[0]
        dated = (*state.pending, *first.deadlines)
        valid = [d.due for d in dated if d.due]
        tasks[0] = replace(first, deadlines=dated, due=min(valid) if valid else first.due,
                           due_kind="explicit" if valid else first.due_kind)
    state.pending = ()
    if assignment is not None and block.level != LEVEL_PARA:
        state.contexts.append(_Context(block.level, assignment.lead, assignment.support))
    return tasks


def _list_goes_on(next_item: int | None, level: int) -> bool:
    """Whether the next list item (level ``next_item``) is at ``level`` or deeper."""
    return next_item is not None and next_item >= level


def _next_items(blocks: list[Block]) -> list[int | None]:
    """For each block, the level of the first list item after it (paragraphs skipped)."""
    out: list[int | None] = [None] * len(blocks)
    following: int | None = None
    for i in range(len(blocks) - 1, -1, -1):
        out[i] = following
        if blocks[i].level != LEVEL_PARA:
            following = blocks[i].level
    return out


def _zone(state: _State) -> bool | None:
    """True in a section that directs work, False in one that does not, None under no heading
    (only sentences that name units or deadlines give tasks there)."""
    for _, _, d in reversed(state.path):
        if d is not None:
            return d
    if state.report and state.preamble_requests_only:
        return False  # a report with sections: only its directing sections give work
    return True if state.path else None


def _sub_block(block: Block, offset: int) -> Block:
    sub = Block(marker=block.marker, level=block.level)
    text = block.text[offset:]
    lead = len(text) - len(text.lstrip())
    sub.text = text.lstrip()
    for s, ln in zip(block.starts, block.lines, strict=False):
        rel = max(0, s - offset - lead)
        if not sub.starts or rel > sub.starts[-1]:
            if sub.starts and rel == sub.starts[-1]:
                continue
            if s - offset - lead <= 0:
                sub.starts, sub.lines = [0], [ln]
            else:
                sub.starts.append(rel)
                sub.lines.append(ln)
    if not sub.starts:
        sub.starts, sub.lines = [0], [block.line_at(offset)]
    return sub


@dataclass(slots=True)
class _Segment:
    """A stretch of a block that becomes one task (unless ``skip``)."""

    start: int
    body_start: int
    lead: tuple[str, ...]
    support: tuple[str, ...]
    own: bool = False
    """Its units are written in it (not inherited)."""
    skip: bool = False
    """Speech, a past account, a closing formula or an opener: no task."""
    prior: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
    """The units named last before this segment (``_State.last_actor`` when it began)."""


def _segments(block: Block, state: _State, inherited: list[_Context], low: str,
              folded: str) -> list[_Segment]:
    text = block.text
    base_lead = inherited[-1].lead if inherited else ()
    base_support = inherited[-1].support if inherited else ()
    segs = [_Segment(0, 0, base_lead, base_support, prior=state.last_actor)]
    spans = sentences(text)
    ends_with_colon = text.rstrip().endswith(":")
    for n, (a, b) in enumerate(spans):
        state.check_time()
        if a < segs[-1].body_start:
            continue  # "…, Ủy viên Ban Chấp hành; Thủ trưởng các cơ quan …": one list of units
        if not state.addressees and not state.path and _LETTER_CUE.search(low, a, b):
            # "… vừa có công văn khẩn đến UBND các quận huyện, đề nghị các địa phương …"
            state.addressees = letter_addressees(text, a, b, low=low)
        for clause in analyse(text, a, b, state.is_speaker, low=low, folded=folded):
            if clause.kind == ASSIGN and not clause.request and state.preamble_requests_only \
                    and not state.path:
                clause = Clause(PLAIN, clause.start, body_start=clause.start)
            if clause.kind == ASSIGN and segs[-1].lead and clause.start == a and \
                    text[max(0, a - 4):a].rstrip().endswith(";") and text[a:a + 1].islower() \
                    and not low.startswith("cấp ", a):
                # "Tham mưu …; yêu cầu nhà đầu tư cam kết …": the item's units go on.
                clause = Clause(PLAIN, clause.start, body_start=clause.start)
            seg = _segment_of(clause, state, base_lead, base_support)
            last = segs[-1]
            if clause.kind == PLAIN:
                if last.skip and not text[max(0, a - 3):a].rstrip().endswith(";"):
                    # (after ";" the skipped sentence goes on: "… đã có công văn gửi Sở A; Sở
                    # B về việc báo cáo … trước ngày 20/6/2020.")
                    segs.append(_Segment(clause.start, clause.start, base_lead, base_support,
                                         prior=state.last_actor))
                continue
            if last.start == clause.start or (not last.own and not last.skip and
                                              _empty(text, last, clause.start)):
                segs[-1] = seg
            elif not last.own and not last.skip and _label_only(text, last.start, clause.start):
                # "- Trước 30/7: Bộ Nội vụ hoàn thành …": the date belongs to the sentence
                seg.start = last.start
                segs[-1] = seg
            else:
                segs.append(seg)
            if (clause.opens_list or clause.kind == OPENER) and n == len(spans) - 1 \
                    and ends_with_colon:
                lead, support = (seg.lead, seg.support) if seg.lead else (state.addressees, ())
                if clause.kind == OPENER and not clause.request:
                    lead, support = (), ()
                state.opener = _Opener(lead, support, block.level)
    return segs


def _segment_of(clause: Clause, state: _State, lead: tuple[str, ...],
                support: tuple[str, ...]) -> _Segment:
    if clause.kind != ASSIGN:
        return _Segment(clause.start, clause.body_start, (), (), skip=True)
    if clause.lead and not clause.generic:
        tier = _tier_of(clause.lead, (*state.addressees, *state.asked[0], *state.last_actor[0]))
        if tier:
            # "Cấp xã hoàn thành …; cấp huyện …" after "Ủy ban bầu cử các huyện, thành phố và
            # Ủy ban bầu cử các xã, phường, thị trấn": each tier is the body named for it.
            return _Segment(clause.start, clause.body_start, tier, (), own=True)
        last = state.last_actor[0]
        if last and not state.path and _names_back(clause.lead, last):
            # "Cục đề nghị Trung tâm TGPL các tỉnh …" then "Đề nghị các Trung tâm …"
            return _Segment(clause.start, clause.body_start, *state.last_actor, own=True)
        state.last_actor = (clause.lead, clause.support)
        if clause.request:
            state.asked = state.last_actor
        return _Segment(clause.start, clause.body_start, clause.lead, clause.support, own=True)
    # A back-reference ("các cơ quan, đơn vị", "các đơn vị trên") or a request with no
    # addressee: those the letter is sent to, else the units named last in running text.
    if state.addressees:
        return _Segment(clause.start, clause.body_start, state.addressees, (), own=True)
    back = state.last_actor
    if clause.lead and not _same_kind(clause.lead, state.last_actor[0]):
        back = state.asked  # "các đơn vị" after "các trường công bố …": those asked, if any
    if back[0] and not state.path:
        return _Segment(clause.start, clause.body_start, *back, own=True)
    if clause.lead:
        return _Segment(clause.start, clause.body_start, clause.lead, clause.support, own=True)
    return _Segment(clause.start, clause.body_start, lead, support)


def _tier_of(units: tuple[str, ...], named: tuple[str, ...]) -> tuple[str, ...]:
    """The unit named before that a tier word stands for: "Cấp xã" -> "UBND các xã, phường"."""
    if len(units) != 1:
        return ()
    m = re.fullmatch(r"cấp\s+(xã|huyện|tỉnh)", lower_same_length(units[0]).strip())
    if m is None:
        return ()
    level = m.group(1)
    found = [u for u in named
             if re.search(rf"(?:các|những)\s+{level}(?!\w)", lower_same_length(u))]
    return tuple(dict.fromkeys(found))[:1]


_LETTER_CUE = re.compile(r"(?:công văn|văn bản|công điện)[^.;:]{0,60}?\s(?:gửi|gởi|đến|tới)\s")
"""A sentence that tells of a letter sent to units: those units are whom the text asks."""


def _same_kind(generic: tuple[str, ...], units: tuple[str, ...]) -> bool:
    """Whether the units named last are of the kind a back-reference names: "các đơn vị" after
    "thủ trưởng các đơn vị trường học", "các cơ quan" after "cơ quan chuyên môn"."""
    words = re.findall(r"cơ quan|đơn vị|địa phương|tổ chức", lower_same_length(" ".join(generic)))
    return any(w in lower_same_length(u) for w in words for u in units)


def _names_back(units: tuple[str, ...], before: tuple[str, ...]) -> bool:
    """Whether ``units`` is a bare plural of a head named just before ("các Trung tâm" after
    "Trung tâm TGPL các tỉnh", "các trường" after "Hiệu trưởng các trường THPT")."""
    if len(units) != 1:
        return False
    m = re.fullmatch(r"(?:các|những)\s+(\w+(?:\s\w+)?)(?:\s*,\s*\w+)*",
                     lower_same_length(units[0]).strip())  # "những huyện, thành, thị"
    if m is None:
        return False
    head = m.group(1)
    return any(re.search(rf"(?<!\w){re.escape(head)}(?!\w)", lower_same_length(u))
               and lower_same_length(u) != lower_same_length(units[0]) for u in before)


_WORD = re.compile(r"\w")
_LABEL = re.compile(r"\s*[^.;:]{1,50}:\s*$")


def _label_only(text: str, start: int, stop: int) -> bool:
    """Whether ``text[start:stop]`` is a short label ending with a colon ("Trước 30/7:")."""
    return stop - start <= 55 and _LABEL.fullmatch(text, start, stop) is not None


def _empty(text: str, seg: _Segment, stop: int) -> bool:
    """Whether a segment has no words of its own before ``stop`` (a marker, an adverbial)."""
    return _WORD.search(text, seg.start, stop) is None


def _tasks_from_block(block: Block, state: _State, inherited: list[_Context], *,
                      low: str | None = None, folded: str | None = None) -> list[Task]:
    zone = _zone(state)
    if zone is False:
        return []
    section = ".".join(m for _, m, _ in state.path if m != "*")
    if block.marker:
        section = f"{section}.{block.marker}" if section else block.marker
    text = block.text
    low = lower_same_length(text) if low is None else low
    folded = fold_same_length(text) if folded is None else folded
    segs = _segments(block, state, inherited, low, folded)
    out: list[Task] = []
    for i, seg in enumerate(segs):
        if seg.skip:
            continue
        stop = segs[i + 1].start if i + 1 < len(segs) else len(text)
        body = text[seg.body_start:stop].strip(" :;,.")
        if len(body) < 3 or not seg.own and block.level != LEVEL_PARA and \
                units_only(body, first=False):
            continue  # "1. Trường Mầm non 3-2, thị xã Cai Lậy;": a list of names, no work
        deadlines = _deadlines(block, seg.start, stop, state, low, folded)
        if not deadlines and seg.own and seg.lead:
            deadlines = _dated_action(block, seg.start, state)
        if zone is None and not seg.lead and seg.prior[0] and (
                deadlines or _ENUMERATION.match(text, seg.start)) and \
                not _ATTRIBUTION.match(text, seg.start):
            # "Hồ sơ gửi về Phòng Nội vụ chậm nhất ngày 15/11." / "Thứ hai, …": the same units
            seg.lead, seg.support = seg.prior
            seg.own = True
        if zone is None and (not seg.lead and not deadlines or
                             state.preamble_requests_only and not seg.own):
            continue  # free text that names no one and sets no date
        valid = [d.due for d in deadlines if d.due]
        if valid:
            due: date | None = min(valid)
            due_kind: str | None = "explicit"
        elif state.period is not None:
            due, due_kind = state.period.end, "period"
        else:
            due, due_kind = None, None
        out.append(Task(
            line=block.line_at(_first_word(text, seg.start)),
            end_line=block.line_at(max(seg.start, stop - 1)),
            section=section,
            text=text[seg.start:stop].strip(),
            lead=tuple(seg.lead),
            support=tuple(u for u in seg.support if u not in seg.lead),
            deadlines=tuple(deadlines),
            due=due,
            due_kind=due_kind,
            recurrence=find_recurrence(text[seg.start:stop], folded=folded[seg.start:stop]),
        ))
    return out


def _table_tasks(rows: list[Row], state: _State) -> list[Task]:
    """One task per row of a task table: units from their columns (or, without a unit column,
    from the content as a sentence, one task per bulleted unit's item), the deadline column
    read without a cue."""
    if _zone(state) is False:
        return []
    section = ".".join(m for _, m, _ in state.path if m != "*")
    out: list[Task] = []
    for row in rows:
        state.check_time()
        content = row.cells.get(CONTENT, "")
        if len(content) < 3:
            continue
        lead = _cell_units(row.cells.get(LEAD, ""))
        support = _cell_units(row.cells.get(SUPPORT, ""))
        items = [(content, (), ())] if lead else _cell_items(content, state)
        for text, item_lead, item_support in items:
            out.append(_row_task(row, text, item_lead or lead, item_support or support, state,
                                 section))
    return out


def _cell_items(content: str, state: _State) -> list[tuple[str, tuple[str, ...],
                                                          tuple[str, ...]]]:
    """A content cell without a unit column, as (text, lead, support) items: one per bulleted
    item when the cell lists several units' work ("+ Thường trực HĐND tỉnh họp …. + Ban Pháp
    chế giám sát …"), else the whole cell with the units its first sentence names."""
    pieces = [p.strip() for p in _CELL_BULLET.split(content) if p.strip(" -+•")]
    items = [(piece, *_first_units(piece, state)) for piece in pieces]
    if len(items) > 1 and sum(1 for _, lead, _ in items if lead) >= 2:
        return items
    return [(content, *_first_units(content, state))]


def _first_units(text: str, state: _State) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The lead and support of the first sentence of ``text`` that assigns work."""
    for a, b in sentences(text):
        for clause in analyse(text, a, b, state.is_speaker):
            if clause.kind == ASSIGN and clause.lead:
                return clause.lead, clause.support
    return (), ()


_CELL_BULLET = re.compile(r"(?:^|(?<=[.;]))\s*[-+•]\s+(?=[A-ZĐ])")


def _row_task(row: Row, content: str, lead: tuple[str, ...], support: tuple[str, ...],
              state: _State, section: str) -> Task:
    """The task of one table row (or of one item of its content cell)."""
    deadlines: list[Deadline] = []
    cell = row.cells.get(DEADLINE, "")
    found = read_deadline_cell(cell, default_year=state.default_year,
                               reference=state.reference) if cell else None
    if found is not None:
        deadlines.append(Deadline(phrase=cell[found.start:found.end].strip() or cell,
                                  due=found.due, line=row.line, grain=found.grain,
                                  warning=found.warning))
    valid = [d.due for d in deadlines if d.due]
    due, due_kind = (min(valid), "explicit") if valid else \
        ((state.period.end, "period") if state.period else (None, None))
    group = row.group.split(" ", 1)[0].strip(".:)") if row.group else ""
    return Task(
        line=row.line, end_line=row.line,
        section=".".join(p for p in (section, group) if p),
        text=content, lead=lead, support=tuple(u for u in support if u not in lead),
        deadlines=tuple(deadlines), due=due, due_kind=due_kind,
        recurrence=cell_recurrence(cell) or find_recurrence(content), row=row.number,
    )


def _cell_units(cell: str) -> tuple[str, ...]:
    """The units a table's unit column names: read as a list of names when it is one ("UBND
    các huyện, thành phố; Sở Y tế"), else one per comma or line ("Thí sinh, điểm thu nhận hồ
    sơ": the column says they are units)."""
    cell = cell.strip(" .;,")
    if not cell:
        return ()
    named = units_only(cell, first=False)
    if named:
        return named
    pieces = [p.strip(" .") for p in re.split(r"\s*[,;\n]\s*|\s+và\s+(?=[A-ZĐ])", cell)]
    return tuple(p for p in pieces if p)


def _deadlines(block: Block, start: int, stop: int, state: _State, low: str,
               folded: str) -> list[Deadline]:
    text = block.text
    out: list[Deadline] = []
    for f in find_deadlines(text[start:stop], default_year=state.default_year,
                            reference=state.reference, lower=low[start:stop],
                            folded=folded[start:stop]):
        a, b = start + f.start, start + f.end
        phrase = text[a:b].strip(" (,;")
        d = Deadline(phrase=phrase, due=f.due, line=block.line_at(_first_word(text, a)),
                     grain=f.grain, warning=f.warning)
        if f.warning:
            state.warnings.append(f"Dòng {d.line}: {f.warning}")
        elif f.due and _too_old(f.due, state.info, state.period) or \
                _restates_period(f.grain, f.due, phrase, state.period):
            continue
        out.append(d)
    return out


_DATED_ACTION = re.compile(r"\s*[-+•]?\s*(Ngày\s+\d{1,2}\s*[/.]\s*\d{1,2}(?:\s*[/.]\s*\d{4})?)"
                           r"\s*,\s+(?=\S)")


def _dated_action(block: Block, start: int, state: _State) -> list[Deadline]:
    """"Ngày 24/7, các Hội đồng thi công bố kết quả.": a schedule's dated line names the day
    its units act (the sentence names them; a past account never gets here)."""
    m = _DATED_ACTION.match(block.text, start)
    if m is None:
        return []
    found = read_deadline_cell(m.group(1), default_year=state.default_year,
                               reference=state.reference)
    if found is None or found.due is None or found.grain != "day" or \
            _too_old(found.due, state.info, state.period):
        return []
    return [Deadline(phrase=m.group(1), due=found.due, line=block.line_at(m.start(1)),
                     grain=found.grain)]


def _read_addressees(blocks: list[Block], index: int, state: _State) -> int:
    """Read "Kính gửi: A; B." and the bullet lines after it; return the next block's index."""
    texts = [_KINH_GUI.sub("", fold_same_length(blocks[index].text))]
    texts[0] = blocks[index].text[len(blocks[index].text) - len(texts[0]):]
    index += 1
    while index < len(blocks) and blocks[index].level != LEVEL_PARA \
            and len(blocks[index].text) < 200 and units_only(blocks[index].text):
        texts.append(blocks[index].text)
        index += 1
    units: list[str] = []
    for t in texts:
        for piece in re.split(r"\s*;\s*", t):
            found = read_units(piece.strip(" -+•.;"))
            if found is not None:
                units.extend(u for u in found.units if u not in units)
    state.addressees = tuple(units)
    return index


def _speakers(info: DocumentInfo, blocks: list[Block]) -> tuple[str, ...]:
    """Names of the body the document speaks for: its issuer (and, for an office, the body it
    serves), or else the first top-level body a sentence opens with as a speaker."""
    if info.issuer:
        names = [info.issuer]
        office = re.match(r"(?:văn phòng|vp)\s+(.+)", info.issuer, re.IGNORECASE)
        if office:
            names.append(office.group(1))
        return tuple(names)
    for block in [b for b in blocks if b.level == LEVEL_PARA][:8]:
        low = lower_same_length(block.text)
        for a, _ in sentences(block.text)[:4]:
            for pos in (a, *(a + m.end() for m in re.finditer(r",\s*", low[a:a + 300]))):
                found = read_units(block.text, pos, low=low)
                if found is None or len(found.units) != 1 or not speaks_at(low, found.end):
                    continue
                name = _TITLES.sub("", lower_same_length(found.units[0]))
                if not name.startswith(("các ", "những ", "quý ")) and (
                        _TOP_BODY.match(expand(name)) or _RESTATES.match(low, found.end)):
                    return (name,)
    return ()


_FULL_DATE_YEAR = re.compile(r"\b\d{1,2}\s*[/.-]\s*\d{1,2}\s*[/.-]\s*((?:19|20)\d{2})\b|"
                             r"(?:tháng\s+\d{1,2}|quý\s+[ivx\d]{1,4})\s*(?:năm|/|-)\s*"
                             r"((?:19|20)\d{2})\b")
_YEAR_WORD = re.compile(r"(?<!đến )(?<!tới )(?<!giai đoạn )năm\s+((?:19|20)\d{2})(?!\s*[-–]\s*\d)")


def _context_year(blocks: list[Block]) -> tuple[int | None, date | None]:
    """The year a text without a date or period speaks of, for dates written without one
    ("trước ngày 15/8"), and the day such dates are read from. It sets no period.

    In order: the latest year of its full dates; a school year ("năm học 2021-2022": dates
    from August on are in 2021, earlier ones in 2022, except for the admissions that open it);
    a lunar new year ("Tết Ất Tỵ": 2025); its most frequent "năm YYYY" (never a horizon such as
    "đến năm 2030")."""
    full: list[int] = []
    words: dict[int, int] = {}
    school: tuple[int, bool] | None = None
    lunar: int | None = None
    for block in blocks[:60]:
        low = lower_same_length(block.text)
        full.extend(int(f.group(1) or f.group(2)) for f in _FULL_DATE_YEAR.finditer(low))
        for w in _YEAR_WORD.finditer(low):
            y = int(w.group(1))
            words[y] = words.get(y, 0) + 1
        m = _SCHOOL_YEAR.search(low)
        if m and school is None:
            school = (int(m.group(1)), "tuyển sinh" in low)
        lunar = lunar or _lunar_year(low)
    if full:
        return max(full), None
    if school:
        first_year, admission = school
        # A date more than 60 days before the reference is the next year's (the grammar's
        # rule): from 30 September, dates up to July fall in the school year's second year.
        return first_year, (None if admission else date(first_year, 9, 30))
    if lunar:
        return lunar, None
    if words:
        return max(words, key=lambda y: (words[y], y)), None
    return None, None


_SCHOOL_YEAR = re.compile(r"năm học\s+((?:19|20)\d{2})\s*[-–]\s*(?:19|20)\d{2}")
_STEMS = ("canh", "tân", "nhâm", "quý", "giáp", "ất", "bính", "đinh", "mậu", "kỷ")
_BRANCHES = ("thân", "dậu", "tuất", "hợi", "tý", "sửu", "dần", "mão", "thìn", "tỵ", "ngọ", "mùi")
_LUNAR = re.compile(r"tết(?: nguyên đán)?\s+(" + "|".join(_STEMS) + r")\s+(" +
                    "|".join(_BRANCHES) + r")(?!\w)")


def _lunar_year(low: str) -> int | None:
    """The year whose new year a text names ("Tết Nguyên đán Ất Tỵ" -> 2025)."""
    m = _LUNAR.search(low)
    if m is None:
        return None
    stem, branch = _STEMS.index(m.group(1)), _BRANCHES.index(m.group(2))
    return next(y for y in range(1990, 2110) if y % 10 == stem and y % 12 == branch)


def _restates_period(grain: str, due: date | None, phrase: str, period: Period | None) -> bool:
    """"trong năm 2022" in a plan for the year 2022 says no more than the plan's own period
    (the task is due at the period's end anyway); "đến hết năm 2022" is a deadline all the same."""
    if grain != "year" or period is None or due != period.end:
        return False
    full_year = period.start == date(period.end.year, 1, 1)
    return full_year and "hết" not in phrase.lower()


def _first_word(text: str, offset: int) -> int:
    while offset < len(text) and text[offset] in " \t,;:(":
        offset += 1
    return offset


def _too_old(due: date, info: DocumentInfo, period: Period | None) -> bool:
    """A date well before the document was issued is a past event, not a deadline."""
    if info.issued:
        return (info.issued - due).days > 31
    if period:
        return (period.start - due).days > 120
    return False
