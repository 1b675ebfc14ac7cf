"""Acceptance: the official scorer (tests/eval_score.py, a verbatim copy of
../shared/eval/score.py) over every set, run in-process on bot.plans.parse_file(...).to_json():

- the five sample plans (data/samples, gold in tests/gold): the plan issue's thresholds;
- the thirty correspondence-style probes (tests/probes, copied from ../shared/eval/probes);
- the real passages collected from public pages (tests/real; tests/holdout, tests/final,
  tests/blind, tests/blind2, tests/blind3, tests/blind4 and tests/blind5, each first scored
  blind): a floor
  just under the figures the parser reached on them, so that a change that reads them worse
  fails.

A failure prints the scorer's error lists for the metric that fell.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from bot.plans import parse_file

TESTS = Path(__file__).resolve().parent


def _load_scorer():  # type: ignore[no-untyped-def]
    """Import the scorer script by path (it is a script, not part of a package)."""
    spec = importlib.util.spec_from_file_location("eval_score", TESTS / "eval_score.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_scorer = _load_scorer()

SETS = {
    "samples": (TESTS.parent / "data" / "samples", TESTS / "gold"),
    "probes": (TESTS / "probes", TESTS / "probes" / "gold"),
    "real": (TESTS / "real", TESTS / "real" / "gold"),
    "holdout": (TESTS / "holdout", TESTS / "holdout" / "gold"),
    "final": (TESTS / "final", TESTS / "final" / "gold"),
    "blind": (TESTS / "blind", TESTS / "blind" / "gold"),
    "blind2": (TESTS / "blind2", TESTS / "blind2" / "gold"),
    "blind3": (TESTS / "blind3", TESTS / "blind3" / "gold"),
    "blind4": (TESTS / "blind4", TESTS / "blind4" / "gold"),
    "blind5": (TESTS / "blind5", TESTS / "blind5" / "gold"),
}
# The parser issue's thresholds (samples, probes) and the floor on the real passages.
THRESHOLDS = {
    "samples": {"deadline_f1": 0.95, "deadline_unit_accuracy": 0.90, "assignment_f1": 0.90,
                "period_accuracy": 1.0},
    "probes": {"deadline_f1": 0.90, "deadline_unit_accuracy": 0.80, "assignment_f1": 0.80,
               "period_accuracy": 0.90},
    "real": {"deadline_f1": 0.96, "deadline_unit_accuracy": 0.88, "assignment_f1": 0.87,
             "period_accuracy": 0.95},
    "holdout": {"deadline_f1": 0.95, "deadline_unit_accuracy": 0.88, "assignment_f1": 0.90,
                "period_accuracy": 0.90},
    "final": {"deadline_f1": 0.97, "deadline_unit_accuracy": 0.72, "assignment_f1": 0.82,
              "period_accuracy": 0.95},
    "blind": {"deadline_f1": 0.94, "deadline_unit_accuracy": 0.70, "assignment_f1": 0.69,
              "period_accuracy": 0.92},
    "blind2": {"deadline_f1": 0.91, "deadline_unit_accuracy": 0.68, "assignment_f1": 0.71,
               "period_accuracy": 0.95},
    "blind3": {"deadline_f1": 0.82, "deadline_unit_accuracy": 0.90, "assignment_f1": 0.73,
               "period_accuracy": 0.95},
    "blind4": {"deadline_f1": 0.97, "deadline_unit_accuracy": 0.95, "assignment_f1": 0.85,
               "period_accuracy": 0.95},
    "blind5": {"deadline_f1": 0.57, "deadline_unit_accuracy": 0.5, "assignment_f1": 0.75,
               "period_accuracy": 0.95},
}
ERRORS = {
    "deadline_f1": ("missed_deadlines", "false_deadlines"),
    "deadline_unit_accuracy": ("wrong_units",),
    "assignment_f1": ("missed_assignments", "wrong_tasks"),
    "period_accuracy": (),
}


def _rows(name: str) -> list[dict]:
    docs, gold = SETS[name]
    rows = []
    for doc in sorted(docs.glob("*.txt")):
        answer = json.loads((gold / f"{doc.stem}.json").read_text(encoding="utf-8"))
        out = json.loads(json.dumps(parse_file(doc).to_json(), ensure_ascii=False))
        row = _scorer.score_doc(out, answer)
        row.update(doc=doc.name, seconds=0.0)
        rows.append(row)
    return rows


@pytest.fixture(scope="module")
def scored() -> dict[str, tuple[list[dict], dict]]:
    out = {}
    for name in SETS:
        rows = _rows(name)
        out[name] = (rows, _scorer.summarize(rows))
    return out


@pytest.mark.parametrize("name", sorted(SETS))
def test_every_document_has_gold(name: str) -> None:
    docs, gold = SETS[name]
    texts = sorted(docs.glob("*.txt"))
    assert texts, name
    assert all((gold / f"{t.stem}.json").is_file() for t in texts)


def test_set_sizes() -> None:
    assert len(list(SETS["samples"][0].glob("*.txt"))) == 5
    assert len(list(SETS["probes"][0].glob("*.txt"))) == 30
    assert len(list(SETS["real"][0].glob("*.txt"))) >= 30
    assert len(list(SETS["holdout"][0].glob("*.txt"))) >= 20
    assert len(list(SETS["final"][0].glob("*.txt"))) >= 25
    assert len(list(SETS["blind4"][0].glob("*.txt"))) == 25
    assert len(list(SETS["blind5"][0].glob("*.txt"))) == 25


def _errors(rows: list[dict], kinds: tuple[str, ...]) -> str:
    lines = []
    for r in rows:
        for kind in kinds:
            for item in r["errors"][kind]:
                lines.append(f"{r['doc']} {kind}: {json.dumps(item, ensure_ascii=False)[:200]}")
    return "\n".join(lines)


@pytest.mark.parametrize(("name", "metric"),
                         [(n, m) for n in sorted(THRESHOLDS) for m in sorted(THRESHOLDS[n])])
def test_threshold(name: str, metric: str, scored: dict) -> None:
    rows, total = scored[name]
    assert total[metric] is not None and total[metric] >= THRESHOLDS[name][metric], (
        f"{name} {metric} = {total[metric]} < {THRESHOLDS[name][metric]}\n"
        + _errors(rows, ERRORS[metric]))


def test_no_document_fails(scored: dict) -> None:
    for _rows, total in scored.values():
        assert total["failed_docs"] == 0


@pytest.mark.parametrize("name", ["real", "holdout", "final", "blind4", "blind5"])
def test_real_passages_name_their_source(name: str) -> None:
    for path in sorted((SETS[name][1]).glob("*.json")):
        answer = json.loads(path.read_text(encoding="utf-8"))
        assert str(answer.get("source", "")).startswith("http"), path.name
