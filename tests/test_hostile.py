"""Hostile documents (tests/hostile_files.py), each read in a child process whose address space
is limited to 1 GiB: every one ends with a Vietnamese refusal or a correct reading, never a
crash, a MemoryError or a child killed for its memory. No timer is asserted here: the code
bounds the time itself (bot/plans/source.py), and bench/hostile.py prints the figures."""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.hostile_files import CASES, MEMORY_LIMIT, Hostile, run_isolated

VIETNAMESE_RE = re.compile(r"[ăâđêôơưĂÂĐÊÔƠƯ\u1ea0-\u1ef9àáèéìíòóùúýãõĩũ]")


@pytest.fixture(scope="module")
def reports() -> dict[str, dict]:
    """Every case read once, the children side by side (one core each)."""
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        return dict(zip([c.name for c in CASES], pool.map(run_isolated, CASES), strict=True))


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_hostile_document_is_refused_or_read_within_the_memory_limit(
        case: Hostile, reports: dict[str, dict]) -> None:
    report = reports[case.name]
    assert report["outcome"] in case.outcome.split(" or "), report
    if report["outcome"] == "refused":
        message = report["message"]
        assert VIETNAMESE_RE.search(message) and "Traceback" not in message, message
        if case.outcome == "refused":
            assert case.expect in message, message
    else:
        assert report["found"], f"{case.expect!r} is not in the text read"
        assert report["missing"], f"{case.absent!r} should not be in the text read"
        assert report["tasks"] >= case.tasks, report
    assert report["peak_vm_mb"] * 1024 * 1024 <= MEMORY_LIMIT


def test_the_memory_limit_is_enforced_in_the_child() -> None:
    """The harness is not vacuous: a reading that needs about 130 MB of address space fails
    with 80 MB."""
    case = next(c for c in CASES if c.filename == "quotes.md")
    report = run_isolated(case, memory=80 * 1024 * 1024)
    assert report["outcome"] in ("memory", "died"), report
