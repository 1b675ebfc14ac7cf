"""Plain data the whole application shares: what a plan says, and what the bot tracks.

The parser (``bot.plans``) produces :class:`ParsedPlan`; storage keeps :class:`StoredTask`
records derived from it. Everything is immutable; dates are ``datetime.date`` values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

DOC_KINDS = (
    "ke_hoach", "nghi_quyet", "bao_cao", "chi_thi", "ket_luan",
    "thong_bao", "quyet_dinh", "cong_van", "other",
)
KIND_NAMES = {
    "ke_hoach": "Kế hoạch", "nghi_quyet": "Nghị quyết", "bao_cao": "Báo cáo",
    "chi_thi": "Chỉ thị", "ket_luan": "Kết luận", "thong_bao": "Thông báo",
    "quyet_dinh": "Quyết định", "cong_van": "Công văn", "other": "Văn bản",
}
"""How each kind is named to people."""


@dataclass(frozen=True, slots=True)
class Period:
    """The span of time a document directs ("Quý IV năm 2022" -> 2022-10-01..2022-12-31)."""

    label: str
    start: date
    end: date

    def to_json(self) -> dict[str, str]:
        return {"label": self.label, "start": self.start.isoformat(), "end": self.end.isoformat()}


@dataclass(frozen=True, slots=True)
class Deadline:
    """One explicit deadline phrase found in a task."""

    phrase: str
    """The words as written ("đến hết ngày 31/12/2022")."""
    due: date | None
    """The last day the work may be done; ``None`` when the written date is impossible."""
    line: int
    """1-based line of the input file where the phrase stands."""
    grain: str = "day"
    """What the phrase names: day, month, quarter, half, year."""
    warning: str | None = None
    """Why ``due`` is missing (an impossible date such as 31/02/2023)."""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "phrase": self.phrase,
            "due": self.due.isoformat() if self.due else None,
            "line": self.line,
            "grain": self.grain,
        }
        if self.warning:
            out["warning"] = self.warning
        return out


@dataclass(frozen=True, slots=True)
class Recurrence:
    """A duty that repeats ("định kỳ hằng quý báo cáo", "trước ngày 15 của tháng cuối quý")."""

    freq: str
    """weekly, monthly, quarterly, semiannual or annual."""
    phrase: str
    day: int | None = None
    """Day of the month the duty falls due, when written (15 in "trước ngày 15")."""
    month_of_period: str | None = None
    """For quarterly/semiannual duties: "first", "last" or None (end of the period)."""
    month: int | None = None
    """For annual duties written with their day: the month ("trước 15/10 hằng năm" -> 10)."""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"freq": self.freq, "phrase": self.phrase, "day": self.day,
                               "month_of_period": self.month_of_period}
        if self.month is not None:
            out["month"] = self.month
        return out


@dataclass(frozen=True, slots=True)
class Task:
    """One block of a plan that gives work to units."""

    line: int
    """1-based line where the task's text starts in the input file."""
    end_line: int
    section: str
    """Heading path ("III.2.(1)")."""
    text: str
    lead: tuple[str, ...] = ()
    """Units in charge (chủ trì, or the units before the colon), as written."""
    support: tuple[str, ...] = ()
    """Units that cooperate (phối hợp)."""
    deadlines: tuple[Deadline, ...] = ()
    due: date | None = None
    due_kind: str | None = None
    """"explicit", "period" or None."""
    recurrence: Recurrence | None = None
    row: int | None = None
    """For a task read from a table: its row number in the table (``line`` is the row's line)."""

    @property
    def units(self) -> tuple[str, ...]:
        """Every unit named as responsible, lead first."""
        return self.lead + tuple(u for u in self.support if u not in self.lead)

    def to_json(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "end_line": self.end_line,
            "section": self.section,
            "text": self.text,
            "units": list(self.units),
            "lead": list(self.lead),
            "support": list(self.support),
            "deadlines": [d.to_json() for d in self.deadlines],
            "due": self.due.isoformat() if self.due else None,
            "due_kind": self.due_kind,
            "recurrence": self.recurrence.freq if self.recurrence else None,
            "recurrence_detail": self.recurrence.to_json() if self.recurrence else None,
            **({"row": self.row} if self.row is not None else {}),
        }


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    """What the header of a plan says about it."""

    kind: str = "other"
    number: str | None = None
    issuer: str | None = None
    issued: date | None = None
    title: str | None = None
    period: Period | None = None
    locality: str | None = None
    """The place the issuer governs ("Cẩm Phả"), used to scope unit names."""

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "number": self.number,
            "issuer": self.issuer,
            "issued": self.issued.isoformat() if self.issued else None,
            "title": self.title,
            "period": self.period.to_json() if self.period else None,
            "locality": self.locality,
        }


@dataclass(frozen=True, slots=True)
class ParsedPlan:
    """The parser's whole answer for one file."""

    document: DocumentInfo
    tasks: tuple[Task, ...]
    warnings: tuple[str, ...] = field(default=())
    source: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "document": self.document.to_json(),
            "tasks": [t.to_json() for t in self.tasks],
            "warnings": list(self.warnings),
        }
