"""Dyestuff (Davies & Goldsmith 1972; lme4's first example): yield ~ 1 + (1 | batch), one random effect per batch."""

from pathlib import Path

from modemean.models._lmm import build_lmm, load_csv

INFO = {
    "title": "Dyestuff: batch-to-batch variation in the yield of a dye",
    "story": (
        "Five preparations from each of six batches of an intermediate product were made into dyestuff, "
        "and the yield of each preparation (grams of standard colour) was measured. How much of the "
        "variation is between batches? The linear mixed model Yield ~ 1 + (1 | Batch) has an overall "
        "mean mu, a residual sd sigma and a between-batch sd tau, with one random effect b_j ~ N(0, tau) "
        "per batch. The batch effects are conditionally Gaussian, so modemean's EM integrates them out "
        "exactly, from the PyMC graph alone (no hand-written steps): its mle column is the maximum "
        "likelihood fit that lme4 reports (ML deviance 327.327). find_MAP maximises over (mu, sigma, "
        "tau, b) jointly; NUTS averages over everything."
    ),
    "why_skewed": (
        "Six batches carry little information about a standard deviation: the marginal posterior of tau "
        "is wide and right-skewed (a long tail towards large between-batch variation, a sharp drop "
        "towards 0), so its mean lies well above its mode. The residual sd sigma, informed by 24 "
        "within-batch degrees of freedom, is much closer to symmetric."
    ),
    "references": [
        "Davies, O. L., Goldsmith, P. L. (eds.) (1972). Statistical Methods in Research and Production, "
        "4th ed. Oliver and Boyd. Table 6.3.",
        "Bates, D., Maechler, M., Bolker, B., Walker, S. (2015). Fitting linear mixed-effects models using "
        "lme4. J. Stat. Softw. 67(1), 1-48.",
        "Box, G. E. P., Tiao, G. C. (1973). Bayesian Inference in Statistical Analysis, Section 5.1. Addison-Wesley.",
    ],
}
LATENT = ("eta",)
SAMPLER = {"target_accept": 0.95}
DATA = {"y": ("float", ("obs",)), "batch": ("int", ("obs",))}

CSV = Path(__file__).parent / "data" / "dyestuff.csv"


def load_data():
    """30 yields (grams of standard colour) and their batch, read from ``models/data/dyestuff.csv``."""
    return load_csv(CSV)


def build(data):
    """Non-centred random intercepts: mu ~ N(1500, 500), sigma, tau ~ HalfNormal(100), eta_j ~ N(0, 1)."""
    return build_lmm(data, 1500.0, 500.0, 100.0)
