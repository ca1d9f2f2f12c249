"""The teaching pages (``DIR/teaching/*.html``): :func:`render_teaching` writes them and their index (:data:`ORDER`)."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

from modemean.comparisons.errors import ModemeanError

from ..load import find_models, load_model
from ..stale import stale
from . import em_bound, em_demo, loss_demo, prior_demo, reparam_demo, skew_demo
from .common import LOSS_MODEL, LOSS_PARAMETER, ORDER, nav, write
from .modes import modes_note


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
            row, draws = results.parameters[LOSS_PARAMETER], results.draws[LOSS_PARAMETER]
            note = modes_note(row, draws, prefix="../")
            reparam_demo.render(out, draws, row, LOSS_MODEL, LOSS_PARAMETER, note)
            written.update(pages)
    elif loss[0].is_file():
        written.update(pages)  # kept: made from these results, so they had the draws
    skew_demo.render(out)
    written.add("skew_demo")
    index = render_teaching_index(out, written)
    return [("The teaching pages, in a suggested order", f"teaching/{index.name}")] + [
        (title, f"teaching/{name}.html") for name, title, _, _ in ORDER if name in written
    ]


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
