"""Benchmark: /baocao and /lich_ics on a big database (1,000 / 10,000 / 100,000 tasks).

Run from the repository root::

    .venv/bin/python -m bench.reports [--sizes 1000 10000 100000]

For each size, in a fresh process (so peak memory is that of one report): the database of
``bench.commands.fill`` (the sample plans replicated across localities), then

- ``collect``: reading the store into the report, on the event loop in the bot;
- ``workbook``: building the .xlsx (a worker thread in the bot), and its size;
- ``chart``: the PNG;
- ``ics``: the calendar of every open deadline (at most ``MAX_EVENTS``, as /lich_ics);
- peak memory of the process (``ru_maxrss``).

The all-units report (an admin's ``/baocao tất cả``) is the largest one.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.commands import NOW, TODAY, fill

ROOT = Path(__file__).resolve().parent.parent


def measure(path: Path) -> dict[str, Any]:
    from bot.charts import stats_chart
    from bot.icsexport import build_calendar, pick_tasks
    from bot.reports import build_workbook, collect
    from bot.store import Store

    store = Store(path, lock=False)
    out: dict[str, Any] = {"tasks": store.task_count}
    t0 = time.perf_counter()
    report = collect(store, None, TODAY)
    out["collect_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    data = build_workbook(report)
    out["workbook_s"], out["xlsx_mb"] = time.perf_counter() - t0, len(data) / 1e6
    t0 = time.perf_counter()
    png = stats_chart(report.stats, "bench")
    out["chart_s"], out["png_kb"] = time.perf_counter() - t0, len(png) / 1e3
    tasks, _ = pick_tasks(store.open_tasks(), TODAY)
    out["events"] = len(tasks)
    t0 = time.perf_counter()
    ics = build_calendar(tasks, now=NOW, name="bench", unit_name=store.unit_name)
    out["ics_s"], out["ics_mb"] = time.perf_counter() - t0, len(ics) / 1e6
    out["memory_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    store.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return 0
    print(f"{'tasks':>7} {'collect':>8} {'xlsx':>7} {'MB':>6} {'chart':>6} {'events':>7} "
          f"{'ics':>6} {'MB':>6} {'peak MB':>8}")
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "bot.json"
            fill(path, size)
            done = subprocess.run([sys.executable, "-m", "bench.reports", "--measure",
                                   str(path)], cwd=ROOT, check=True, capture_output=True,
                                  text=True)
            r = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"{r['tasks']:>7} {r['collect_s']:>7.2f}s {r['workbook_s']:>6.2f}s "
              f"{r['xlsx_mb']:>6.1f} {r['chart_s']:>5.2f}s {r['events']:>7} {r['ics_s']:>5.2f}s "
              f"{r['ics_mb']:>6.1f} {r['memory_mb']:>8.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
