"""The panel's charts: matplotlib figures (Agg, no pyplot state) rendered to SVG bytes.

Each function takes plain rows and returns a whole SVG document; an empty series draws the reason
instead of an empty frame. Labels come from the data (strategy names, feature names) and are
escaped by matplotlib's SVG writer; the panel shows the SVG through ``<img>``, which runs no script.
"""
from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from typing import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")  # no display, and no GUI toolkit looked for in a server
from matplotlib.figure import Figure  # noqa: E402  (after choosing the backend)
from matplotlib.ticker import PercentFormatter  # noqa: E402

SIZE = (7.0, 2.6)  # inches: a chart the width of the page's main column
COLORS = ("#1f5f8b", "#d1495b", "#edae49", "#00798c", "#66a182", "#8d6a9f", "#2e4057", "#b5838d")


def _figure(title: str, height: float = SIZE[1]) -> tuple[Figure, object]:
    fig = Figure(figsize=(SIZE[0], height), layout="constrained")
    ax = fig.subplots()
    ax.set_title(title, fontsize=10, loc="left")
    ax.tick_params(labelsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax


def _svg(fig: Figure) -> bytes:
    out = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}):  # text as <text> (the browser's fonts), not glyph paths
        fig.savefig(out, format="svg")
    return out.getvalue()


def empty_chart(title: str, why: str) -> bytes:
    """A chart frame that says why there is nothing to draw."""
    fig, ax = _figure(title)
    ax.set_axis_off()
    ax.text(0.5, 0.5, why, ha="center", va="center", fontsize=10, color="#555", transform=ax.transAxes)
    return _svg(fig)


def time_chart(title: str, times_ms: Sequence[int], series: Mapping[str, Sequence[float | None]],
               ylabel: str = "", percent: bool = False, empty: str = "no searches logged yet") -> bytes:
    """Lines over time: ``series`` maps a label to one value per time (None: a gap)."""
    if not times_ms:
        return empty_chart(title, empty)
    fig, ax = _figure(title)
    when = [datetime.fromtimestamp(t / 1000, tz=timezone.utc) for t in times_ms]
    for color, (label, values) in zip(COLORS, series.items()):
        ax.plot(when, [float("nan") if v is None else v for v in values], marker="o", markersize=3,
                linewidth=1.5, color=color, label=label)
    if len(when) == 1:  # one bucket: a short span around it (matplotlib would otherwise span years)
        ax.set_xlim(when[0] - timedelta(minutes=1), when[0] + timedelta(minutes=1))
    ax.set_ylabel(ylabel, fontsize=8)
    if percent:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylim(bottom=0)
    _legend(fig, len(series))
    fig.autofmt_xdate()
    return _svg(fig)


def bar_chart(title: str, labels: Sequence[str], series: Mapping[str, Sequence[float]], xlabel: str = "",
              percent: bool = False, empty: str = "nothing to show yet") -> bytes:
    """Horizontal bars: one group per label, one bar per series (e.g. a strategy's share per slice)."""
    if not labels or not series:
        return empty_chart(title, empty)
    height = max(SIZE[1], 0.9 + 0.22 * len(labels) * max(1, len(series)))
    fig, ax = _figure(title, height)
    width = 0.8 / len(series)
    for n, (color, (name, values)) in enumerate(zip(COLORS, series.items())):
        ax.barh([i + n * width for i in range(len(labels))], values, height=width, color=color, label=name)
    ax.set_yticks([i + width * (len(series) - 1) / 2 for i in range(len(labels))], labels)
    ax.invert_yaxis()  # the first label on top
    ax.set_xlabel(xlabel, fontsize=8)
    if percent:
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    _legend(fig, len(series))
    return _svg(fig)


def _legend(fig: Figure, n: int) -> None:
    """A legend under the plot, never over the data (one series: the title says what it is)."""
    if n > 1:
        fig.legend(loc="outside lower center", ncols=min(n, 4), fontsize=8, frameon=False)
