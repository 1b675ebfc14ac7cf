"""The /thongke chart: one stacked horizontal bar per lead unit in the four report categories.

Drawn with matplotlib's object API on the Agg canvas (no pyplot, no global figure state), so it
can run in a worker thread and never needs a display. DejaVu Sans, matplotlib's bundled
default, has every Vietnamese glyph.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # before anything pulls in a GUI backend

from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from bot.records import StoredUnit, UnitStats  # noqa: E402

__all__ = ["CATEGORIES", "MAX_BARS", "OTHER_UNITS", "chart_rows", "stats_chart"]

logger = logging.getLogger(__name__)

MAX_BARS = 25
"""More bars than this are unreadable on a phone: the smallest units are summed."""
OTHER_UNITS = "Đơn vị khác"
MAX_LABEL_CHARS = 38

CATEGORIES: tuple[tuple[str, str, str], ...] = (
    ("done_on_time", "Hoàn thành đúng hạn", "#2e7d32"),
    ("done_late", "Hoàn thành quá hạn", "#f9a825"),
    ("not_yet_due", "Chưa đến hạn", "#1e88e5"),
    ("overdue_open", "Quá hạn chưa hoàn thành", "#c62828"),
)
"""(UnitStats field, Vietnamese label, colour) in the order of government reports."""


def _label(unit: StoredUnit, with_locality: bool) -> str:
    text = unit.label if with_locality else unit.name
    text = " ".join(text.split())
    return text if len(text) <= MAX_LABEL_CHARS else text[:MAX_LABEL_CHARS - 1] + "…"


def chart_rows(stats: Sequence[UnitStats], limit: int = MAX_BARS) -> list[UnitStats]:
    """The bars to draw: the largest units first, beyond ``limit`` summed as "Đơn vị khác"."""
    rows = sorted(stats, key=lambda s: (-s.total, -s.overdue_open))
    if len(rows) <= limit:
        return rows
    head, rest = rows[:limit - 1], rows[limit - 1:]
    other = UnitStats(StoredUnit("*", OTHER_UNITS, None),
                      *(sum(getattr(s, field) for s in rest) for field, _, _ in CATEGORIES))
    return head + [other]


def stats_chart(stats: Sequence[UnitStats], title: str) -> bytes:
    """PNG of ``stats`` (any number of units; empty gives a "no data" picture)."""
    rows = chart_rows(stats)
    localities = {s.unit.locality for s in rows if s.unit.key != "*"}
    with_locality = len(localities) > 1
    labels = [_label(s.unit, with_locality) for s in rows]

    height = min(2.0 + 0.42 * max(len(rows), 1), 14.0)
    fig = Figure(figsize=(10, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_title(title, fontsize=13, fontweight="bold", loc="left")
    if not rows or all(s.total == 0 for s in rows):
        ax.text(0.5, 0.5, "Chưa có nhiệm vụ nào để thống kê.", ha="center", va="center",
                fontsize=12, transform=ax.transAxes)
        ax.set_axis_off()
    else:
        positions = list(range(len(rows)))
        left = [0] * len(rows)
        for field, name, colour in CATEGORIES:
            values = [getattr(s, field) for s in rows]
            bars = ax.barh(positions, values, left=left, color=colour, label=name, height=0.7)
            ax.bar_label(bars, labels=[str(v) if v else "" for v in values],
                         label_type="center", color="white", fontsize=8)
            left = [a + b for a, b in zip(left, values, strict=True)]
        ax.set_yticks(positions, labels=labels, fontsize=9)
        ax.invert_yaxis()  # the largest unit on top
        ax.set_xlabel("Số nhiệm vụ")
        locator = ax.xaxis.get_major_locator()  # the default AutoLocator, a MaxNLocator
        if isinstance(locator, MaxNLocator):
            locator.set_params(integer=True)
        ax.grid(axis="x", alpha=0.3)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        fig.legend(loc="outside lower center", ncols=4, fontsize=9, frameon=False)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    logger.debug("chart with %d bars: %d bytes", len(rows), buffer.tell())
    return buffer.getvalue()
