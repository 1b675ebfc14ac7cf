"""Delivery through a seeded fault storm (issue 12), end to end through the fake Bot API.

200 chats follow one unit; the real ExtBot and Dispatcher run Tuesday's 07:30 digest while
the fake server answers 429 (retry_after), 500, timeouts whose message is lost and timeouts
whose message was in fact delivered, with blocked chats (403), unknown chats ("chat not
found") and chats down for the whole storm; then the day's sweeps, then Wednesday's digest.
The scenario and its ledger live in :mod:`bench.dispatch` (``--storm`` prints the figures).
Waits are virtual; only the injected timeouts take (a little) real time.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bench.dispatch import (
    STORM_BLOCKED,
    STORM_DOWN,
    STORM_UNKNOWN,
    run_storm,
    storm_report,
)

pytestmark = pytest.mark.filterwarnings(
    "ignore:Deprecated since version v22.2:telegram.warnings.PTBDeprecationWarning")


@pytest.mark.parametrize("seed", [7])
def test_storm_loses_nothing_and_repeats_nothing(tmp_path: Path, seed: int, capsys) -> None:
    fig = asyncio.run(run_storm(seed, tmp_path, limiter=False, read_timeout=1.0, delay=2.0))
    storm_report(fig)  # the figures, in the test's output when it fails
    print(capsys.readouterr().out)

    assert fig.faults.get("429") and fig.faults.get("500") and fig.faults.get("timeout_delivered")
    # Every one of Tuesday's reminders is delivered, or logged undeliverable with a reason.
    assert fig.lost == 0
    assert fig.undeliverable == {"blocked": 2 * STORM_BLOCKED,
                                 "chat not found": 2 * STORM_UNKNOWN}
    assert (fig.first_run + fig.later_same_day + fig.next_digest
            + sum(fig.undeliverable.values())) == fig.reminders
    # The chats down during the storm get their digest later that day, once the storm is over.
    assert fig.later_same_day >= 2 * STORM_DOWN
    assert fig.statuses.get("failed", 0) == STORM_DOWN
    # A timed-out send is never repeated: no chat receives a message twice, and no chat
    # whose digest arrived is logged "failed". A lost one is carried to the next digest.
    assert fig.duplicates == 0
    assert fig.failed_but_received == 0
    assert fig.next_digest >= 2 * fig.faults.get("timeout", 0) > 0 or not fig.faults.get("timeout")
