"""The model page's standard views of NUTS, drawn by arviz-plots: trace and rank, a pair plot, a forest plot.

Trace and rank plots are shown up front when NUTS warns (divergences, R-hat above :data:`RHAT_MAX` or a
bulk ESS below :data:`ESS_MIN`) and one click away otherwise. The pair plot shows the two parameters
that matter most: a funnel's scale against one effect, else the most correlated pair. The forest plot
shows every vector parameter (NUTS's mean and HDIs, find_MAP's and EM's estimates as markers).
"""

from __future__ import annotations

from html import escape

import numpy as np

import modemean.reports.html as html  # "from . import html" would import the package reports/__init__
from modemean.comparisons.results.schema import is_number

from .load import ModelResults, draws_spread
from .plots import views as plots
from .ranking import by_importance, is_latent

__all__ = ["ESS_MIN", "RHAT_MAX", "forest_section", "pair", "pair_section", "trace_section", "warns"]

RHAT_MAX, ESS_MIN = 1.01, 400  # NUTS's own thresholds (its flags): above / below, its draws are suspect
N_TRACED = 4  # parameters in the trace and rank plots (the most important)
N_PAIR_CANDIDATES = 12  # parameters searched for the most correlated pair
FUNNEL = 0.3  # |corr(log scale, log |effect - median|)| at least this: a funnel
FOREST_MAX = 400  # rows of a forest plot at most (more: the table and results.nc have them)


def warns(results: ModelResults) -> list[str]:
    """What NUTS's diagnostics warn about, in words (empty when nothing)."""
    d = results.solver("nuts").get("diagnostics") or {}
    out = []
    if (d.get("divergences") or 0) > 0:
        out.append(f"{d['divergences']} divergent transitions")
    if is_number(d.get("max_r_hat")) and d["max_r_hat"] > RHAT_MAX:
        out.append(f"R-hat {d['max_r_hat']:.3f} > {RHAT_MAX}")
    if is_number(d.get("min_ess_bulk")) and d["min_ess_bulk"] < ESS_MIN:
        out.append(f"bulk ESS {d['min_ess_bulk']:.0f} < {ESS_MIN}")
    return out


def _drawable(results: ModelResults) -> list[str]:
    return [n for n in by_importance(results) if draws_spread(results.draws.get(n))]


def trace_section(results: ModelResults) -> str | None:
    """Trace and rank plots of the most important parameters; folded in ``<details>`` when NUTS is fine."""
    if results.nuts is None:
        return None
    names = _drawable(results)[:N_TRACED]
    if not names:
        return None
    tree = plots.flat_tree(results.nuts, names)
    figures = html.figure(
        plots.trace_figure(tree),
        results.folder,
        "fig-trace.png",
        f"trace plot of {', '.join(names)}",
        "Trace plot (arviz-plots): left, each chain's density; right, each chain's draws in order; black ticks: "
        "divergent transitions. Chains that explore different regions, or stick, show here.",
    ) + html.figure(
        plots.rank_figure(tree),
        results.folder,
        "fig-rank.png",
        f"rank plot of {', '.join(names)}",
        "Rank plot (arviz-plots: fractional-rank Δ-ECDF per chain): every chain's curve stays near 0 when "
        "the chains sample the same posterior; a curve leaving the band marks a chain that disagrees.",
    )
    problems = warns(results)
    if problems:
        return (
            f'<p class="warn">NUTS warns: {escape("; ".join(problems))}. Look at these before the numbers.</p>{figures}'
        )
    return (
        f"<details><summary>Trace and rank plots ({escape(', '.join(names))}): no warning</summary>{figures}</details>"
    )


def pair(results: ModelResults) -> tuple[str, str, str] | None:
    """The pair to plot: ``(x, y, why)``; a funnel's effect and scale, else the most correlated pair."""
    names = _drawable(results)
    scales = [n for n in names if not is_latent(results, n) and np.min(results.draws[n]) > 0]
    effects = [n for n in names if is_latent(results, n)][: 4 * N_PAIR_CANDIDATES]
    best = None
    for scale in scales:
        log_scale = np.log(results.draws[scale])
        for effect in effects:
            spread = np.abs(results.draws[effect] - np.median(results.draws[effect]))
            score = abs(np.corrcoef(log_scale, np.log(spread + 1e-12 * (np.max(spread) or 1.0)))[0, 1])
            if np.isfinite(score) and (best is None or score > best[0]):
                best = (score, effect, scale)
    if best and best[0] >= FUNNEL:
        return best[1], best[2], f"a funnel: the spread of {best[1]} shrinks with the scale {best[2]}"
    candidates = names[:N_PAIR_CANDIDATES]
    pairs = [
        (abs(np.corrcoef(results.draws[a], results.draws[b])[0, 1]), a, b)
        for i, a in enumerate(candidates)
        for b in candidates[i + 1 :]
    ]
    pairs = [p for p in pairs if np.isfinite(p[0])]
    if not pairs:
        return None
    corr, a, b = max(pairs)
    return b, a, f"the most correlated pair (|correlation| {corr:.2f})"


def pair_section(results: ModelResults) -> str | None:
    """The pair plot of :func:`pair`, divergent transitions marked."""
    chosen = pair(results) if results.nuts is not None else None
    if chosen is None:
        return None
    x, y, why = chosen
    divergences = (results.solver("nuts").get("diagnostics") or {}).get("divergences") or 0
    return html.figure(
        plots.pair_figure(plots.flat_tree(results.nuts, [x, y]), x, y),
        results.folder,
        "fig-pair.png",
        f"NUTS draws of {y} against {x}",
        f"{y} against {x} ({why}): NUTS draws (arviz-plots), "
        + (f"the {divergences} divergent transitions in orange." if divergences else "no divergent transition."),
    )


def forest_section(results: ModelResults) -> str | None:
    """A forest plot of every vector parameter: NUTS's mean and HDIs, find_MAP's and EM's estimates."""
    if results.nuts is None:
        return None
    posterior = results.nuts["posterior"]
    vectors = [str(v) for v, da in posterior.data_vars.items() if da.ndim > 2 and np.prod(da.shape[2:]) > 1]
    vectors = [v for v in vectors if np.prod(posterior[v].shape[2:]) <= FOREST_MAX]
    if not vectors:
        return None
    points: dict[str, dict[str, np.ndarray]] = {}
    for column in plots.FOREST_MARKERS:
        for v in vectors:
            shape = posterior[v].shape[2:]
            flat = [results.parameters.get(f"{v}[{','.join(map(str, i))}]", {}).get(column) for i in np.ndindex(shape)]
            values = np.array([x if is_number(x) else np.nan for x in flat], dtype=float).reshape(shape)
            if np.isfinite(values).any():
                points.setdefault(column, {})[v] = values
    markers = ", ".join(f"{plots.FOREST_MARKERS[c]} {c}" for c in points)
    return html.figure(
        plots.forest_figure(results.nuts, vectors, points),
        results.folder,
        "fig-forest.png",
        f"forest plot of {', '.join(vectors)}",
        "Forest plot (arviz-plots): for each entry, NUTS's mean (circle), 50% HDI (thick) and 94% HDI (thin); "
        + (f"overlaid, the point estimates ({markers}) in their page colours." if markers else "no point estimate."),
    )
