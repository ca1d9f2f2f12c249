"""The teaching pages (``DIR/teaching/*.html``): :func:`render_teaching` writes them and their index (:data:`ORDER`)."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

from modemean.comparisons.errors import ModemeanError

from ..load import find_models, load_model
from ..site import stale
from . import em_bound, em_demo, loss_demo, prior_demo, reparam_demo, skew_demo
from .common import LOSS_MODEL, LOSS_PARAMETER, nav, write


def render_teaching(out: Path, force: bool = False) -> list[tuple[str, str]]:
    """Write every teaching page whose numbers exist in ``out``, and their index; return ``(title, href)``.

    ``em_demo.html``, ``em_bound.html`` and ``prior_demo.html`` need ``out/teaching/em_demo.json``,
    ``em_bound.json`` and ``prior_demo.json`` (``modemean teach --out DIR``); ``loss_demo.html`` and
    ``reparam_demo.html`` need the eight schools results with NUTS draws (``modemean run eight_schools
    --out DIR``); ``skew_demo.html`` needs nothing (it places whatever catalog results exist). A page
    whose numbers are missing is skipped; one newer than its numbers and the rendering code is kept
    (the skew page and the index, which read every model's results, are always rewritten: they draw
    no figure). ``teaching/index.html`` lists them in the suggested order, one paragraph each, and
    says how to make the missing ones. A folder with no results and no teaching numbers gets nothing.

    Parameters
    ----------
    out : path
        The results folder.
    force : bool, default False
        Render every page even when it is up to date.

    Returns
    -------
    list of (str, str)
        Title and href relative to ``out``: the teaching index first, then each page written or kept,
        in the suggested order.
    """
    out = Path(out)
    if not find_models(out) and not list((out / "teaching").glob("*.json")):
        return []  # nothing to teach from (and no folder to write into)
    written = set()
    for name, render in (
        ("em_demo", em_demo.render),
        ("em_bound", em_bound.render),
        ("prior_demo", prior_demo.render),
    ):
        numbers = out / "teaching" / f"{name}.json"
        if numbers.is_file():
            if stale(out / "teaching" / f"{name}.html", [numbers], force):
                render(out, json.loads(numbers.read_text()))
            written.add(name)
    loss = [out / LOSS_MODEL / "results.json", out / LOSS_MODEL / "results.nc"]
    pages = ("loss_demo", "reparam_demo")
    if loss[0].is_file() and any(stale(out / "teaching" / f"{n}.html", loss, force) for n in pages):
        try:
            results = load_model(out, LOSS_MODEL)
        except ModemeanError:
            results = None
        if results is not None and LOSS_PARAMETER in results.draws:
            loss_demo.render(out, results.draws[LOSS_PARAMETER], results.parameters[LOSS_PARAMETER])
            reparam_demo.render(
                out, results.draws[LOSS_PARAMETER], results.parameters[LOSS_PARAMETER], LOSS_MODEL, LOSS_PARAMETER
            )
            written.update(pages)
    elif loss[0].is_file():
        written.update(pages)  # kept: made from these results, so they had the draws
    skew_demo.render(out)
    written.add("skew_demo")
    index = render_teaching_index(out, written)
    return [("The teaching pages, in a suggested order", f"teaching/{index.name}")] + [
        (title, f"teaching/{name}.html") for name, title, _, _ in ORDER if name in written
    ]


# ---------------------------------------------------------------------------------------------- index
# The suggested order: (page, title, what it teaches, what makes its numbers)
ORDER = (
    (
        "em_demo",
        "EM step by step: two Gaussians",
        "Start with the algorithm the seed demonstrates. Three hundred points, two overlapping bell curves, no labels: "
        "step through modemean's own EM run (E-step: soft labels; M-step: re-fit each curve) and watch the log "
        "likelihood climb; different starts end at different (mirror-image) peaks.",
        "modemean teach",
    ),
    (
        "em_bound",
        "EM climbs a lower bound",
        "Why the climb never goes down: each E-step builds a lower bound that touches the log likelihood where EM "
        "stands, each M-step jumps to the bound's peak. Along slices of the parameters you see the bound, its touch "
        "point, its maximum at the M-step's value and the KL gap that opens at the new point.",
        "modemean teach",
    ),
    (
        "loss_demo",
        "Loss decides the estimator: mode, median, mean",
        "EM and find_MAP report a peak; NUTS reports a centre. Which one is 'the' estimate is a choice of loss: 0-1 "
        "loss gives the mode, absolute loss the median, squared loss the mean, here on eight schools' skewed τ.",
        "modemean run eight_schools",
    ),
    (
        "skew_demo",
        "How skew separates mode, median and mean",
        "How far apart those three are is a matter of skew: slide through the log-normal and Gamma families and watch "
        "gap_sd, modemean's headline, grow with the skewness (half of it, for a Gamma); then find the catalog's "
        "parameters on the same axes.",
        "modemean run all",
    ),
    (
        "reparam_demo",
        "The mode moves, the median does not: τ and log τ",
        "A peak belongs to a coordinate system. Drawn in log τ, the same posterior peaks somewhere else (the "
        "Jacobian tilts it), while the median and every quantile stay put: why modemean reports both map and "
        "map_unconstrained.",
        "modemean run eight_schools",
    ),
    (
        "prior_demo",
        "MAP = MLE + log prior: flattening the prior",
        "Finally the prior: the MAP is the MLE plus a penalty. Widen a Laplace or Gaussian prior and watch the mode "
        "slide to the MLE, exact zeros at the Laplace kink, and the posterior mean travelling beside it.",
        "modemean teach",
    ),
)


def render_teaching_index(out: Path, written: set[str]) -> Path:
    """Write ``out/teaching/index.html``: the pages of :data:`ORDER`, linked where written, else how to make them."""
    items = []
    for name, title, text, command in ORDER:
        head, missing = f'<a href="{name}.html">{escape(title)}</a>', ""
        if name not in written:
            head = escape(title)
            missing = (
                f"<p><i>Not built yet: run <code>{escape(command)} --out DIR</code>, then "
                "<code>modemean report --out DIR</code>.</i></p>"
            )
        items.append(f"<li><h2>{head}</h2><p>{escape(text)}</p>{missing}</li>")
    body = f"""
{nav()}
<h1>Peak versus centre of mass: the teaching pages</h1>
<p class="lead">Six short pages, each computed by modemean's own engine and drawn in your browser (they work
offline, from the files). Read them in this order: the first two are about EM, the algorithm that finds a peak;
the next three about what separates a peak from a centre; the last about what the prior adds.</p>
<ol class="teaching-order">{"".join(items)}</ol>
"""
    return write(out, "index.html", "The teaching pages", body)
