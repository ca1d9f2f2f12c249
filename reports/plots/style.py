"""The house style of every figure: colours, rc settings, PNG output and the KDE they share."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.figure import Figure

matplotlib.use("Agg")
from matplotlib import pyplot  # noqa: E402 -- after choosing the headless backend

# One look for every page: estimator column -> (colour, line style); the legend labels come from the
# results' schema (each solver's column declarations). Okabe-Ito colours (distinguishable with
# colour-blindness); line styles keep them apart in black and white.
STYLES = {
    "map": ("#D55E00", "-"),
    "map_unconstrained": ("#CC79A7", (0, (6, 2))),
    "em": ("#0072B2", "-"),
    "mle": ("#56B4E9", (0, (6, 2))),
    "mean": ("#000000", "-"),
    "median": ("#009E73", (0, (8, 2, 2, 2))),
    "mode": ("#E69F00", (0, (2, 1.5))),
}


MORE_STYLES = [
    ("#882255", (0, (4, 1, 1, 1))),
    ("#117733", (0, (1, 1))),
    ("#999933", (0, (5, 1))),
    ("#332288", (0, (3, 1, 1, 1, 1, 1))),
]  # for a solver's column not in STYLES, in turn


DENSITY = "#4D4D4D"


HDI_FILL = "#C9D7E8"


LAPLACE = ("Laplace N(MAP, laplace_sd)", "#D55E00", (0, (1, 1.5)))


RC = {
    "font.size": 13,
    "axes.titlesize": 15,
    "axes.labelsize": 13,
    "legend.fontsize": 11,
    "xtick.labelsize": 12,
    "ytick.labelsize": 12,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


DPI = 100


def save(fig: Figure, path: Path) -> Path:
    """Write ``fig`` as a PNG at ``path`` and return the path."""
    with rc():
        fig.savefig(path, dpi=DPI, format="png")
    pyplot.close(fig)  # arviz-plots draws through pyplot, which keeps every figure open until closed
    return path


def figure(width: float, height: float, ncols: int = 1) -> tuple[Figure, list]:
    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, list(fig.subplots(1, ncols, squeeze=False)[0])


def kde(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ArviZ's KDE of ``values`` (n,): grid and density, each (m,)."""
    import arviz as az  # imported on first use: a second, which a report with nothing to redraw skips

    grid, pdf, _ = az.kde(np.asarray(values, dtype=float))
    return np.asarray(grid), np.asarray(pdf)


def rc():
    return matplotlib.rc_context(RC)
