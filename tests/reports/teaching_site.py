"""The small site the teaching tests read: eight schools with cheap NUTS (the loss and reparameterisation
pages' draws), the EM demo in full (a few seconds) and the prior path on a short grid with cheap NUTS."""

from modemean import compare
from modemean.comparisons.teaching import build_teaching
from modemean.reports import render
from modemean.reports.teaching import render_teaching

SEED = 20261126
PRIOR = {"scales": (0.05, 1.0), "nuts": {"draws": 200, "tune": 200, "chains": 1}}


def build(out):
    """Results for the loss page, the teaching numbers, every page and the index, in ``out``."""
    compare("eight_schools", solvers="map,nuts", draws=300, tune=300, chains=2, seed=SEED, out=out)
    build_teaching(out, seed=SEED, prior=PRIOR)
    render(out, extra_pages=render_teaching(out))
    return out
