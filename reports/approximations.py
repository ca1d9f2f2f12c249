"""The model page's section on the approximations of the posterior (Laplace, ADVI, Pathfinder) against NUTS."""

from __future__ import annotations

from html import escape

import modemean.reports.html as html  # "from . import html" would import the package reports/__init__

from .html import N_SHOWN
from .load import ModelResults, draws_spread
from .plots import model as plots
from .tables import STATUS_WORDS

SKEWED = 0.5  # |NUTS skewness| at least this: the parameter gets a figure of the approximations' densities


def section(results: ModelResults) -> str | None:
    """The approximations that ran: how far each is from NUTS and its k̂, and one figure per skewed parameter."""
    approximations = results.approximations()
    if not approximations:
        return None
    rows = [_row(name, a) for name, a in approximations.items()]
    closest = results.closest_approximation()
    reason = results.no_closest_reason()
    verdict_html = (
        f"<p>Closest to NUTS: <b>{escape(closest[1]['label'])}</b>.</p>"
        if closest
        else f"<p>{escape(reason).capitalize()}.</p>"
        if reason
        else ""
    )
    figures_html, skewed = _figures(results, approximations)
    if not skewed:
        figures_html.append(
            f"<p>No parameter is skewed (|skewness| ≥ {SKEWED}): no density figures here; the "
            "table above has every approximation's mean and sd.</p>"
        )
    return f"""<p>Each approximation's draws are summarised in the table (columns <code>&lt;approximation&gt;_…</code>);
<b>gap_sd</b> columns give its mean's distance from NUTS's in NUTS sds, <b>sd_ratio</b> its sd over NUTS's.
Pareto k̂ (PSIS on log p − log q at its draws; Yao et al. 2018): below 0.5 close to the posterior,
0.5–0.7 usable after importance reweighting, above 0.7 not to be trusted. Distance from NUTS: the largest,
over the parameters, of |gap_sd| and |ln sd_ratio|.</p>
<table class="approximations"><thead><tr><th>approximation</th><th>status</th><th>Pareto k̂</th>
<th>distance from NUTS (worst parameter)</th><th>message</th></tr></thead><tbody>{"".join(rows)}</tbody></table>
{verdict_html}{"".join(figures_html)}"""


def _row(name: str, a: dict) -> str:
    """One approximation's row: status, Pareto k̂, distance from NUTS (and its worst parameter), message."""
    khat = "—" if a["khat"] is None else f"{a['khat']:.2f}" + (" (not to be trusted)" if a["khat"] > 0.7 else "")
    far = (
        "—"
        if a["distance"] is None
        else f"{a['distance']:.2f} ({escape(a['worst'])})"
        if a["distance"] < 1e3
        else f"{a['distance']:.3g} ({escape(a['worst'])})"
    )
    why = escape(a["message"] or "")
    return (
        f'<tr data-solver="{escape(name)}"><th scope="row">{escape(a["label"])}</th>'
        f"<td>{escape(STATUS_WORDS.get(a['status'], a['status']))}</td><td>{escape(khat)}</td>"
        f"<td>{far}</td><td>{why}</td></tr>"
    )


def _figures(results: ModelResults, approximations: dict[str, dict]) -> tuple[list[str], list[str]]:
    """One figure per skewed parameter (at most :data:`html.N_SHOWN`): NUTS against every approximation."""
    figures_html = []
    skewed = [
        n
        for n in results.ranked()
        if n in results.draws
        and draws_spread(results.draws[n])
        and abs(results.parameters[n].get("skewness") or 0.0) >= SKEWED
    ][:N_SHOWN]
    for i, name in enumerate(skewed):
        # every approximation of the schema, run or not, so that each keeps its colour on every page
        curves = {
            (f"{a['label']}, k̂ {a['khat']:.2f}" if a["khat"] is not None else a["label"])
            if a
            else s: results.solver_draws.get(s, {}).get(name) if a else None
            for s, a in (
                (s, approximations.get(s))
                for s, d in results.schema["solvers"].items()
                if any(c.endswith("_gap_sd") for c in d["columns"])
            )
        }
        if any(v is not None for v in curves.values()):
            figures_html.append(
                html.figure(
                    plots.approximations_figure(name, results.draws[name], curves),
                    results.folder,
                    f"fig-approximations-{i:02d}-{html.slug(name)}.png",
                    f"density of {name}: NUTS and each approximation",
                    f"{name} (NUTS skewness {results.parameters[name]['skewness']:+.2f}): "
                    "NUTS density (grey) and each approximation's (KDE of its draws).",
                )
            )
    return figures_html, skewed
