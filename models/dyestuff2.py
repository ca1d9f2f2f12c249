"""Dyestuff2 (Box & Tiao 1973; lme4): the Dyestuff model on data whose ML between-batch sd is exactly 0."""

from pathlib import Path

from modemean.models._lmm import build_lmm, load_csv

INFO = {
    "title": "Dyestuff2: a variance component on the boundary",
    "story": (
        "Box and Tiao's simulated companion to Dyestuff: six batches of five yields, the same model "
        "Yield ~ 1 + (1 | Batch) with mean mu, residual sd sigma and between-batch sd tau. Here the batch "
        "means vary less than the residual noise alone would make them vary, so the likelihood is largest "
        "at tau = 0 exactly: the maximum likelihood fit (lme4's too) puts the batch variance on the "
        "boundary. EM creeps towards such a boundary without ever reaching it (the batch sd is still "
        "0.0075 after 100,000 iterations), so modemean evaluates the profile at tau = 0 (mu and sigma "
        "maximised) and, when it is the highest point and the objective falls as tau leaves 0, reports "
        "the mode as on the boundary and stops. NUTS, meanwhile, spreads tau over a range of plausible "
        "values well above 0."
    ),
    "why_skewed": (
        "With the likelihood maximal at tau = 0, the posterior of tau piles up against the boundary and "
        "decays to the right: its mode (with the HalfNormal prior, no Jacobian) is 0, its mean several "
        "units above. No normal approximation at the mode can describe a density cut off at its peak."
    ),
    "references": [
        "Box, G. E. P., Tiao, G. C. (1973). Bayesian Inference in Statistical Analysis, Section 5.1.2. Addison-Wesley.",
        "Bates, D. (2010). lme4: Mixed-effects modeling with R, Chapter 1 (Dyestuff2). Springer (draft).",
    ],
}
LATENT = ("eta",)
SAMPLER = {"target_accept": 0.99}
DATA = {"y": ("float", ("obs",)), "batch": ("int", ("obs",))}

CSV = Path(__file__).parent / "data" / "dyestuff2.csv"


def load_data():
    """30 simulated yields and their batch, read from ``models/data/dyestuff2.csv``."""
    return load_csv(CSV)


def build(data):
    """Non-centred random intercepts: mu ~ N(0, 20), sigma, tau ~ HalfNormal(10), eta_j ~ N(0, 1)."""
    return build_lmm(data, 0.0, 20.0, 10.0)
