"""Which "mode" of eight schools' tau? The peaks the pages report, side by side, and the links between pages.

Eight schools' tau has several modes across the pages, each a right answer to a different question:
the joint mode (find_MAP), the joint mode in log coordinates (``map_unconstrained``), the marginal
mode (EM), the sample mode of the draws, the peak of the density estimate on the tau and the log tau
axis, and the best estimate under 0-1 loss. :func:`modes_note` tabulates them from the stored results
and draws (nothing typed in), for the model page and the reparameterisation page.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

import numpy as np

from ..load import ModelResults
from .common import LOSS_MODEL, LOSS_PARAMETER, ORDER, USES
from .loss_demo import WINDOW_SDS, expected_losses
from .reparam_demo import reparam_numbers

__all__ = ["tau_modes", "modes_note", "modes_section", "teaching_links"]


def tau_modes(row: dict, draws: np.ndarray) -> list[tuple[str, str, float | None]]:
    """Each mode of :data:`LOSS_PARAMETER`: ``(what it is, where it comes from, value)`` (``None``: not computed).

    ``row`` is the parameter's row of ``results.json``; ``draws`` its NUTS draws.
    """
    d, losses = reparam_numbers(draws), expected_losses(draws)

    def value(key):
        v = row.get(key)
        return float(v) if isinstance(v, (int, float)) else None

    return [
        ("joint mode: the peak of the posterior of all parameters at once, on τ's own scale", "find_MAP", value("map")),
        (
            "joint mode in the sampler's coordinates (log τ, with the Jacobian), mapped back",
            "find_MAP, unconstrained",
            value("map_unconstrained"),
        ),
        ("marginal mode: the peak over (μ, τ) with the school effects integrated out", "EM", value("em")),
        ("sample mode of the NUTS draws (half-sample mode)", "the mode column", value("mode")),
        ("peak of the density estimate of τ alone", "reparameterisation page", d["mode_tau"]),
        ("peak of the density of log τ, mapped back (exp)", "reparameterisation page", float(np.exp(d["mode_eta"]))),
        (f"best estimate under 0-1 loss (window ±{WINDOW_SDS} sd)", "loss page", losses["minimiser"]["zero_one"]),
        ("for comparison: the median", "NUTS", float(np.median(draws))),
        ("for comparison: the mean", "NUTS", float(np.mean(draws))),
    ]


def _link(prefix: str, page: str, text: str, teaching: Path | None) -> str:
    """A link to a teaching page, or its words alone where that page was not rendered (``teaching``: its folder)."""
    if teaching is not None and not (teaching / page).is_file():
        return text
    return f'<a href="{prefix}teaching/{page}">{text}</a>'


def modes_note(row: dict, draws: np.ndarray, prefix: str = "", teaching: Path | None = None) -> str:
    """The note reconciling the modes of τ, with its table; ``prefix``: the path from the page to the site root;
    ``teaching``: the teaching pages' folder, to link only those that exist (``None``: on a teaching page)."""
    reparam = _link(prefix, "reparam_demo.html", "the mode moves", teaching)
    loss = _link(prefix, "loss_demo.html", "loss decides the estimator", teaching)
    rows = "".join(
        f"<tr><td>{escape(what)}</td><td>{escape(source)}</td><td>{'—' if v is None else f'{v:.3g}'}</td></tr>"
        for what, source, v in tau_modes(row, draws)
    )
    return f"""<p>Eight schools' τ has several "modes" on these pages, far apart (the table below).
None is wrong: each answers another question. The <b>joint</b> mode is the single most probable combination of all
parameters; with eight school effects free to shrink to the mean, it sits on the boundary τ = 0. The same peak
sought in log τ (where the sampler works) moves, because a peak depends on the coordinates
({reparam}). The <b>marginal</b> mode integrates the school
effects out first. The last three look at τ's own distribution, estimated from the NUTS draws: three estimators of
its peak (a sample mode, the top of a smoothed density, and the densest narrow window, which is what 0-1 loss asks
for: {loss}). The density estimates differ in
their smoothing, so their peaks differ in the second digit.</p>
<table class="modes"><thead><tr><th>which mode of τ</th><th>from</th><th>τ</th></tr></thead>
<tbody>{rows}</tbody></table>
"""


def modes_section(results: ModelResults) -> str | None:
    """The model page's note on the modes of τ (eight schools with NUTS draws of τ only)."""
    if results.name != LOSS_MODEL or LOSS_PARAMETER not in results.draws:
        return None
    teaching = results.folder.parent / "teaching"
    return modes_note(results.parameters[LOSS_PARAMETER], results.draws[LOSS_PARAMETER], "../", teaching)


def teaching_links(results: ModelResults) -> str | None:
    """Links from a model page to the teaching pages computed from that model (those rendered)."""
    teaching = results.folder.parent / "teaching"
    pages = [
        (name, title)
        for name, title, *_ in ORDER
        if results.name in USES.get(name, ()) and (teaching / f"{name}.html").is_file()
    ]
    if not pages:
        return None
    items = "".join(f'<li><a href="../teaching/{name}.html">{escape(title)}</a></li>' for name, title in pages)
    return f"<p>The teaching pages computed from this model:</p><ul>{items}</ul>"
