"""The standard views of a NUTS run, drawn by arviz-plots: trace, rank, pair (divergences marked), forest.

Nothing here redraws what arviz-plots draws; the forest plot's map and em markers are overlaid on
arviz-plots' own forest at the rows it placed (its ``y`` aesthetic).
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from .style import RC, STYLES, rc

__all__ = ["flat_tree", "forest_figure", "pair_figure", "rank_figure", "trace_figure", "FOREST_MARKERS"]

FOREST_MARKERS = {"map": "x", "em": "D", "mle": "s"}  # marker shapes over the forest (NUTS's mean: arviz-plots')


def flat_tree(nuts: xr.DataTree, names: list[str]) -> xr.DataTree:
    """NUTS's draws of the flat parameters ``names`` (``theta[0]``) as scalar variables, with ``diverging``."""
    posterior = nuts["posterior"].to_dataset()
    out = {}
    for name in names:
        base, _, index = name.partition("[")
        da = posterior[base]
        if index:
            extra = [d for d in da.dims if d not in ("chain", "draw")]
            positions = [int(i) for i in index.rstrip("]").split(",")]
            da = da.isel(dict(zip(extra, positions, strict=True)), drop=True)
        out[name] = da.drop_vars([c for c in da.coords if c not in ("chain", "draw")])
    groups = {"posterior": xr.Dataset(out)}
    if "sample_stats" in nuts.children and "diverging" in nuts["sample_stats"].to_dataset():
        groups["sample_stats"] = nuts["sample_stats"].to_dataset()[["diverging"]]
    return xr.DataTree.from_dict(groups)


def _figure(pc) -> Figure:
    return pc.viz["figure"].item()


def trace_figure(tree: xr.DataTree) -> Figure:
    """arviz-plots' trace plot (densities per chain left, traces right; divergences as ticks)."""
    import arviz_plots as azp  # heavy: imported where a page draws

    n = len(tree["posterior"].data_vars)
    with rc():
        pc = azp.plot_trace_dist(tree, compact=True, backend="matplotlib", figure_kwargs={"figsize": (12, 2.2 * n)})
    return _figure(pc)


def rank_figure(tree: xr.DataTree) -> Figure:
    """arviz-plots' rank plot (fractional rank Δ-ECDF per chain; chains that disagree leave the band)."""
    import arviz_plots as azp

    n = len(tree["posterior"].data_vars)
    cols = min(n, 3)
    with rc():
        pc = azp.plot_rank(
            tree, backend="matplotlib", col_wrap=cols, figure_kwargs={"figsize": (4.2 * cols, 3.2 * -(-n // cols))}
        )
    return _figure(pc)


def pair_figure(tree: xr.DataTree, x: str, y: str) -> Figure:
    """arviz-plots' pair plot of ``y`` against ``x``, divergent transitions marked."""
    import arviz_plots as azp

    with rc():
        pc = azp.plot_pair_focus(
            tree,
            y,
            var_names=[x],
            backend="matplotlib",
            visuals={"divergence": {"color": "#D55E00"}, "scatter": {"alpha": 0.25}},
            figure_kwargs={"figsize": (7, 5.5)},
        )
    return _figure(pc)


def forest_figure(nuts: xr.DataTree, vectors: list[str], points: dict[str, dict[str, np.ndarray]]) -> Figure:
    """arviz-plots' forest plot of the vector variables ``vectors`` (NUTS mean, 50% and 94% HDI), with
    each estimator of ``points`` (column -> variable -> values, the variable's shape) overlaid as a marker."""
    import arviz_plots as azp

    rows = sum(int(np.prod(nuts["posterior"][v].shape[2:])) for v in vectors)
    with rc():
        pc = azp.plot_forest(
            nuts,
            var_names=vectors,
            combined=True,
            point_estimate="mean",
            ci_kind="hdi",
            ci_probs=[0.5, 0.94],
            backend="matplotlib",
            aes={"color": False},
            figure_kwargs={"figsize": (10, 1.2 + 0.28 * rows)},
        )
        ax = pc.viz["plot"].sel(column="forest").item()
        ys = pc.get_aes_as_dataset("y")
        for column, values in points.items():
            colour, _ = STYLES.get(column, ("#333333", "-"))
            for var in vectors:
                if var in values and var in ys:
                    y = np.asarray(ys[var].values, dtype=float).ravel()
                    x = np.asarray(values[var], dtype=float).ravel()
                    ax.scatter(x, y, marker=FOREST_MARKERS.get(column, "o"), color=colour, s=36, zorder=5, lw=1.6)
        ax.tick_params(labelsize=RC["xtick.labelsize"])
    return _figure(pc)
