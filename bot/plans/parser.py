"""Assemble a plan: header, directive sections, tasks with units, deadlines and recurrences.

The walk over blocks keeps a heading path (the section), whether the current section directs
future work, and the units of the enclosing list item:

- in a report (báo cáo) only sections whose heading directs work ("NHIỆM VỤ TRỌNG TÂM QUÝ
  II", "PHƯƠNG HƯỚNG...") yield tasks; elsewhere sections yield tasks unless their heading
  says they are not directives (mục đích, yêu cầu, mục tiêu, chỉ tiêu, kết quả, tình hình...);
- an item "(1) Phòng Kinh tế:" gives its units to the bullets and paragraphs under it;
- inside a paragraph, a sentence that opens with its own units ("UBND thành phố chỉ đạo...")
  starts a new task.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from bot.models import Deadline, DocumentInfo, ParsedPlan, Period, Task
from bot.plans.assign import Assignment, find_assignment, find_clause_assignment
from bot.plans.deadlines import find_deadlines, fold_same_length
from bot.plans.header import guess_period_from_text, parse_header
from bot.plans.recurrence import find_recurrence
from bot.plans.source import SourceLine
from bot.plans.structure import LEVEL_PARA, Block, body_end, build_blocks

DIRECTIVE = re.compile(
    r"nhiem vu|giai phap|phuong huong|to chuc thuc hien|phan cong|trach nhiem|"
    r"ke hoach hanh dong|chuong trinh hanh dong|noi dung thuc hien|trien khai thuc hien|"
    r"de nghi|giao nhiem vu|thuc hien"
)
NOT_DIRECTIVE = re.compile(
    r"muc dich|yeu cau|muc tieu|chi tieu|ket qua|tinh hinh|danh gia|han che|ton tai|"
    r"nguyen nhan|bai hoc|can cu|thuc trang|uu diem|khuyet diem|kien nghi|de xuat|"
    r"cong tac lanh dao, chi dao|boi canh|dac diem"
)
# Headings of results that mention tasks ("KẾT QUẢ THỰC HIỆN NHIỆM VỤ") are not directives.
RESULT_FIRST = re.compile(r"^(?:ket qua|tinh hinh|danh gia)")
SENTENCE_RE = re.compile(r"(?<=[.;!?])\s+(?=\S)")
HEADING_MAX = 300


@dataclass(slots=True)
class _Context:
    level: int
    lead: tuple[str, ...]
    support: tuple[str, ...]


def classify_heading(text: str, *, top: bool = True) -> bool | None:
    """True if a heading directs work, False if it says it does not, None if neutral.

    Below the top level only strong words count: "3. Về nhiệm vụ phát triển kinh tế" inside
    "II- KẾT QUẢ CỤ THỂ" is still an account of results.
    """
    f = fold_same_length(text).strip(" *:.")
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
        letters = [c for c in block.text if c.isalpha()]
        return bool(letters) and len(block.text) < 150 and \
            sum(c.isupper() for c in letters) / len(letters) > 0.8
    if block.level > 4 or assignment is not None:
        return False
    head, colon, rest = block.text.partition(":")
    if colon and len(head) < 150 and find_assignment(rest.strip()) is not None:
        return True  # "2. Về thực hiện chủ đề công tác năm 2022: Giao UBND thị xã ..."
    body = block.text.rstrip(" :*")
    if body.endswith((".", ";")) and len(body.split()) >= 8 and not body.isupper():
        return False  # a whole sentence: "2. Phấn đấu kết nạp … đến hết quý II năm 2023."
    return len(body) < HEADING_MAX and not re.search(r"[.!?]\s+\S", body)


def parse_lines(lines: list[SourceLine], *, source: str = "") -> ParsedPlan:
    """Parse the lines of one plan (already decoded) into a :class:`ParsedPlan`."""
    info, body_start = parse_header(lines)
    end = body_end(lines)
    blocks = build_blocks(lines[body_start:end])
    warnings: list[str] = []
    period = info.period
    default_year = period.end.year if period else (info.issued.year if info.issued else None)
    if period is None:
        heads = [b.text for b in blocks if classify_heading(b.text) and len(b.text) < 200]
        period = guess_period_from_text(heads, default_year)
        if period is None:
            period = _most_common_year(blocks)
        if period:
            default_year = period.end.year
            info = DocumentInfo(kind=info.kind, number=info.number, issuer=info.issuer,
                                issued=info.issued, title=info.title, period=period,
                                locality=info.locality)
    if period is None:
        warnings.append("Không xác định được thời kỳ của văn bản (năm, quý): các nhiệm vụ "
                        "không ghi hạn sẽ không có hạn hoàn thành.")
    report = info.kind == "bao_cao"
    tasks: list[Task] = []
    path: list[tuple[int, str, bool | None]] = []  # (level, marker, directive)
    contexts: list[_Context] = []
    seen_heading = False
    for index, block in enumerate(blocks):
        assignment = find_assignment(block.text)
        if _is_heading(block, assignment):
            seen_heading = True
            level = block.level if block.level != LEVEL_PARA else 1
            while path and path[-1][0] >= level:
                path.pop()
            path.append((level, block.marker or "*", classify_heading(block.text, top=level == 1)))
            contexts = [c for c in contexts if c.level < level]
            # "1. Về công tác ...: Giao UBND ..." — a heading with content after its colon.
            head, _, rest = block.text.partition(":")
            if rest.strip() and len(head) < 150 and len(rest.strip()) > 20:
                sub = _sub_block(block, len(head) + 1)
                tasks += _tasks_from_block(sub, find_assignment(sub.text), path, contexts,
                                           period, default_year, report, warnings, info)
            continue
        if not seen_heading and not report and block.level == LEVEL_PARA:
            continue  # the preamble before the first heading gives no tasks
        contexts = [c for c in contexts if c.level < block.level or block.level == LEVEL_PARA]
        inherited = contexts
        if block.level == LEVEL_PARA and contexts and not block.continued \
                and not _list_goes_on(blocks, index, contexts[-1].level):
            inherited = []  # a closing paragraph after the last item speaks for no one unit
        tasks += _tasks_from_block(block, assignment, path, inherited, period, default_year,
                                   report, warnings, info)
        if assignment is not None and block.level != LEVEL_PARA:
            contexts.append(_Context(block.level, assignment.lead, assignment.support))
    return ParsedPlan(document=info, tasks=tuple(tasks), warnings=tuple(warnings), source=source)


def _list_goes_on(blocks: list[Block], index: int, level: int) -> bool:
    """Whether an item at ``level`` (or deeper) follows block ``index`` before anything else."""
    for b in blocks[index + 1:]:
        if b.level == LEVEL_PARA:
            continue
        return b.level >= level
    return False


def _directive(path: list[tuple[int, str, bool | None]], report: bool) -> bool:
    for _, _, d in reversed(path):
        if d is not None:
            return d
    return not report and bool(path)


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


def _tasks_from_block(block: Block, assignment: Assignment | None,
                      path: list[tuple[int, str, bool | None]], contexts: list[_Context],
                      period: Period | None, default_year: int | None, report: bool,
                      warnings: list[str], info: DocumentInfo) -> list[Task]:
    if not _directive(path, report):
        return []
    section = ".".join(m for _, m, _ in path if m != "*")
    if block.marker:
        section = f"{section}.{block.marker}" if section else block.marker
    text = block.text
    if assignment is not None:
        lead, support, body_start = assignment.lead, assignment.support, assignment.body_start
    elif contexts:
        lead, support, body_start = contexts[-1].lead, contexts[-1].support, 0
    else:
        lead, support, body_start = (), (), 0
    # Split the body where a sentence opens with its own units.
    cuts: list[tuple[int, Assignment | None]] = [(0, None)]
    for m in SENTENCE_RE.finditer(text, body_start):
        own = find_clause_assignment(text[m.end():])
        if own is not None:
            cuts.append((m.end(), own))
    out: list[Task] = []
    for i, (start, own) in enumerate(cuts):
        stop = cuts[i + 1][0] if i + 1 < len(cuts) else len(text)
        seg_lead, seg_support = (own.lead, own.support) if own else (lead, support)
        # Where the task proper starts, after "Units:" or the opening units of a sentence.
        text_start = start + own.body_start if own else body_start
        seg_text = text[start:stop].strip()
        body = text[text_start:stop].strip(" :;,")
        if len(body) < 3:
            continue
        found = find_deadlines(text[start:stop], default_year=default_year)
        deadlines: list[Deadline] = []
        for f in found:
            a, b = start + f.start, start + f.end
            phrase = text[a:b].strip(" (,;")
            d = Deadline(phrase=phrase, due=f.due, line=block.line_at(start + _first_word(
                text, a)), grain=f.grain, warning=f.warning)
            if f.warning:
                warnings.append(f"Dòng {d.line}: {f.warning}")
            elif f.due and _too_old(f.due, info, period):
                continue
            elif _restates_period(f.grain, f.due, phrase, period):
                continue
            deadlines.append(d)
        valid = [d.due for d in deadlines if d.due]
        if valid:
            due: date | None = min(valid)
            due_kind: str | None = "explicit"
        elif period is not None:
            due, due_kind = period.end, "period"
        else:
            due, due_kind = None, None
        out.append(Task(
            line=block.line_at(start + _first_word(text, start)),
            end_line=block.line_at(max(start, stop - 1)),
            section=section,
            text=seg_text,
            lead=tuple(seg_lead),
            support=tuple(u for u in seg_support if u not in seg_lead),
            deadlines=tuple(deadlines),
            due=due,
            due_kind=due_kind,
            recurrence=find_recurrence(text[start:stop]),
        ))
    return out


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


def _most_common_year(blocks: list[Block]) -> Period | None:
    counts: dict[int, int] = {}
    for b in blocks[:40]:
        for m in re.finditer(r"năm ((?:19|20)\d{2})", b.text):
            y = int(m.group(1))
            counts[y] = counts.get(y, 0) + 1
    if not counts:
        return None
    y = max(counts, key=lambda k: counts[k])
    return Period(f"năm {y}", date(y, 1, 1), date(y, 12, 31))
