"""Learning curves of the benchmarks as PNG files (matplotlib, Agg backend: no display needed).

``save_curves(path, title, panels, x_label)``: one panel per metric, one line per contender; each
line is (x values, y values). ``windowed(values, window)`` turns a per-search series into the mean
of consecutive windows, with the window ends as x values.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

Line = tuple[Sequence[float], Sequence[float]]


def windowed(values: Sequence[float], window: int) -> Line:
    """(window ends, window means) of a per-search series; the last partial window is dropped."""
    arr = np.asarray(values, dtype=np.float64)
    n = len(arr) // window
    if n == 0:
        return [len(arr)], [float(arr.mean()) if len(arr) else 0.0]
    means = arr[: n * window].reshape(n, window).mean(axis=1)
    return [(i + 1) * window for i in range(n)], means.tolist()


def save_curves(path: Path, title: str, panels: Mapping[str, Mapping[str, Line]], x_label: str) -> Path:
    """Draw ``panels`` (metric -> contender -> line) side by side and save them as a PNG at ``path``."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.2), squeeze=False)
    for ax, (metric, lines) in zip(axes[0], panels.items()):
        for name, (xs, ys) in lines.items():
            ax.plot(xs, ys, label=name, linewidth=1.6, marker="o" if len(xs) < 12 else None)
        ax.set_title(metric)
        ax.set_xlabel(x_label)
        ax.grid(alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(4, len(labels)), fontsize=8, frameon=False)
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.06 + 0.03 * (len(labels) // 4), 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
