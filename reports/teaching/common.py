"""What every teaching page shares: the page writer, the navigation, inline PNGs, the SVG plotting script."""

from __future__ import annotations

import base64
import io
from html import escape
from pathlib import Path

import matplotlib
from matplotlib.figure import Figure

import modemean.reports.html as html  # "from . import html" would import the package reports/__init__

from ..plots.style import RC

TEACH_CSS = html.asset("teach.css")
SVG_JS = html.asset("svg.js")  # a small SVG plotting helper the pages' scripts share


LOSS_MODEL, LOSS_PARAMETER = "eight_schools", "tau"

# The suggested order: (page, title, what it teaches, what makes its numbers)
ORDER = (
    (
        "em_demo",
        "EM step by step: two Gaussians",
        "Start with EM, the algorithm that finds a peak. Three hundred points, two overlapping bell curves, no labels: "
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


# the catalog models each teaching page is computed from: their pages link to it, it links back (the skew page,
# which places every model, is linked from the index only)
USES = {
    "em_demo": ("two_gaussians",),
    "em_bound": ("two_gaussians",),
    "loss_demo": (LOSS_MODEL,),
    "reparam_demo": (LOSS_MODEL,),
    "prior_demo": ("sparse_regression", "ridge_regression"),
}


# ---------------------------------------------------------------------------------------------- helpers
def png(fig: Figure, alt: str) -> str:
    """An inline ``<img>`` (base64 PNG) of ``fig``."""
    buffer = io.BytesIO()
    with matplotlib.rc_context(RC):
        fig.savefig(buffer, format="png", dpi=100)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{escape(alt)}">'


def write(out: Path, filename: str, title: str, body: str) -> Path:
    """Write ``out/teaching/<filename>``: ``body`` and, on a page of :data:`ORDER`, links to the previous and next."""
    page = Path(out) / "teaching" / filename
    page.parent.mkdir(parents=True, exist_ok=True)
    body += pager(Path(filename).stem)
    page.write_text(html.page(f"{title} — modemean", f"<style>{TEACH_CSS}</style>{body}"))
    return page


def nav(extra: str = "") -> str:
    """The links above a page: all models, the teaching pages, then ``extra`` (the models it is computed from)."""
    return f'<nav><a href="../index.html">← all models</a><a href="index.html">teaching pages</a>{extra}</nav>'


def pager(name: str) -> str:
    """Links to the previous and the next page of :data:`ORDER` (nothing for a page not in it)."""
    names = [n for n, *_ in ORDER]
    if name not in names:
        return ""
    i = names.index(name)
    prev = f'<a rel="prev" href="{names[i - 1]}.html">← {escape(ORDER[i - 1][1])}</a>' if i else "<span></span>"
    after = (
        f'<a rel="next" href="{names[i + 1]}.html">{escape(ORDER[i + 1][1])} →</a>'
        if i + 1 < len(names)
        else '<a href="index.html">all teaching pages →</a>'
    )
    return f'<nav class="pager">{prev}{after}</nav>'
