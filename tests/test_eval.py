"""Acceptance: the official scorer (tests/eval_score.py) over the sample plans and their gold
answers, run in-process on bot.plans.parse_file(...).to_json()."""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path

import pytest

from bot.plans import parse_file

TESTS = Path(__file__).resolve().parent


def _load_scorer():  # type: ignore[no-untyped-def]
    """Import the scorer script by path (tests/ is not a package and sys.path stays as is)."""
    spec = importlib.util.spec_from_file_location("eval_score", TESTS / "eval_score.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_scorer = _load_scorer()
score_doc, summarize = _scorer.score_doc, _scorer.summarize

SAMPLES = sorted((TESTS.parent / "data" / "samples").glob("*.txt"))
GOLD = TESTS / "gold"

# Acceptance thresholds.
THRESHOLDS = {
    "deadline_f1": 0.95,
    "deadline_unit_accuracy": 0.90,
    "assignment_f1": 0.90,
}


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    out = []
    for sample in SAMPLES:
        gold = json.loads((GOLD / f"{sample.stem}.json").read_text(encoding="utf-8"))
        start = time.perf_counter()
        parsed = parse_file(sample).to_json()
        row = score_doc(parsed, gold)
        row.update(doc=sample.name, seconds=round(time.perf_counter() - start, 3))
        out.append(row)
    return out


@pytest.fixture(scope="module")
def total(rows: list[dict]) -> dict:
    return summarize(rows)


def test_every_sample_has_gold() -> None:
    assert len(SAMPLES) == 5
    assert all((GOLD / f"{s.stem}.json").is_file() for s in SAMPLES)


def _errors(rows: list[dict], *kinds: str) -> str:
    """The scorer's error lists, for a readable failure message."""
    lines = []
    for r in rows:
        for kind in kinds:
            for item in r["errors"][kind]:
                lines.append(f"{r['doc']} {kind}: {json.dumps(item, ensure_ascii=False)[:200]}")
    return "\n".join(lines)


@pytest.mark.parametrize("metric", sorted(THRESHOLDS))
def test_threshold(metric: str, total: dict, rows: list[dict]) -> None:
    kinds = {
        "deadline_f1": ("missed_deadlines", "false_deadlines"),
        "deadline_unit_accuracy": ("wrong_units",),
        "assignment_f1": ("missed_assignments", "wrong_tasks"),
    }[metric]
    assert total[metric] is not None
    assert total[metric] >= THRESHOLDS[metric], f"{metric}={total[metric]}\n" + \
        _errors(rows, *kinds)


def test_period_accuracy(total: dict, rows: list[dict]) -> None:
    wrong = [r["doc"] for r in rows if not r["period_right"]]
    assert total["period_accuracy"] == 1.0, wrong


def test_no_failed_docs(total: dict) -> None:
    assert total["failed_docs"] == 0
    assert total["docs"] == len(SAMPLES)
