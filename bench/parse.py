"""Parser speed on the sample plans, in-process, against dateparser's search_dates.

Run: .venv/bin/python -m bench.parse
Prints per sample: median ms per parse (15 runs after 2 warm-ups), median ms for
dateparser.search.search_dates over the same lines (3 runs after a warm-up), the ratio, and how
many date mentions each reports. Target: <= 30 ms per sample document.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from bot.plans import parse_file
from bot.plans.readers import read_plan_file

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"


def _median_ms(fn, runs: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    from dateparser.search import search_dates

    search_dates("ngày 15/12/2022", languages=["vi"])  # first-call warm-up (~100 ms)
    print(f"{'sample':28} {'parser ms':>10} {'dateparser ms':>14} {'ratio':>7} "
          f"{'deadlines':>10} {'dp dates':>9}")
    for path in sorted(SAMPLES.glob("*.txt")):
        for _ in range(2):
            plan = parse_file(path)
        ms = _median_ms(lambda p=path: parse_file(p), 15)
        lines = [ln.text for ln in read_plan_file(path) if ln.text.strip()]
        found: list[int] = []

        def run_dp(lines: list[str] = lines, found: list[int] = found) -> None:
            found.clear()
            for text in lines:
                found.append(len(search_dates(text, languages=["vi"]) or []))

        dp_ms = _median_ms(run_dp, 3)
        deadlines = sum(len(t.deadlines) for t in plan.tasks)
        print(f"{path.name:28} {ms:10.1f} {dp_ms:14.1f} {dp_ms / ms:6.1f}x {deadlines:10d} "
              f"{sum(found):9d}")
    print("target: <= 30 ms per sample document")


if __name__ == "__main__":
    main()
