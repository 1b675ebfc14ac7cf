"""Acceptance: the official scorer over the sample plans copied into the project.

tests/eval_score.py is a verbatim copy of ../shared/eval/score.py; it is imported and fed the
parser's JSON in-process. Fails below the figures the parser issue sets.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.plans import parse_file
from tests import eval_score

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted((ROOT / "data" / "samples").glob("*.txt"))
GOLD = ROOT / "tests" / "gold"


@pytest.fixture(scope="module")
def totals() -> dict:
    rows = []
    for doc in SAMPLES:
        gold = json.loads((GOLD / f"{doc.stem}.json").read_text(encoding="utf-8"))
        out = json.loads(json.dumps(parse_file(doc).to_json(), ensure_ascii=False))
        row = eval_score.score_doc(out, gold)
        row.update(doc=doc.name, seconds=0.0)
        rows.append(row)
    return eval_score.summarize(rows)


def test_all_five_samples_scored(totals: dict) -> None:
    assert len(SAMPLES) == 5
    assert totals["docs"] == 5


def test_deadline_f1(totals: dict) -> None:
    assert totals["deadline_f1"] >= 0.95, totals


def test_deadline_unit_accuracy(totals: dict) -> None:
    assert totals["deadline_unit_accuracy"] >= 0.90, totals


def test_assignment_f1(totals: dict) -> None:
    assert totals["assignment_f1"] >= 0.90, totals


def test_period_accuracy(totals: dict) -> None:
    assert totals["period_accuracy"] == 1.0, totals
