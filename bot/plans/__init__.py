"""The plan parser: files in, :class:`bot.models.ParsedPlan` out. No Telegram, no storage."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from bot.models import ParsedPlan
from bot.plans.parser import parse_lines
from bot.plans.readers import PlanText, load_plan_bytes, load_plan_file
from bot.plans.source import SourceLine

__all__ = ["parse_bytes", "parse_file", "parse_lines", "parse_text"]


def parse_file(path: str | Path) -> ParsedPlan:
    """Read and parse a plan file (.txt, .md, .docx, .pdf, .doc). What the reader noticed (OCR
    confidence, pages it could not read) comes first in the warnings. Raises
    bot.errors.PlanError."""
    return _with_notices(load_plan_file(path), Path(path).name)


def parse_bytes(data: bytes, filename: str) -> ParsedPlan:
    """Parse an uploaded plan given as bytes. Raises bot.errors.PlanError."""
    return _with_notices(load_plan_bytes(data, filename), filename)


def _with_notices(text: PlanText, source: str) -> ParsedPlan:
    plan = parse_lines(list(text.lines), source=source)
    if text.notices:
        plan = dataclasses.replace(plan, warnings=(*text.notices, *plan.warnings))
    return plan


def parse_text(text: str, *, source: str = "") -> ParsedPlan:
    """Parse plan text given directly (tests, the command line)."""
    lines = [SourceLine(i, t.rstrip()) for i, t in enumerate(text.split("\n"), start=1)]
    return parse_lines(lines, source=source)
