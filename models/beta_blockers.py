"""Beta-blockers meta-analysis (Yusuf et al. 1985; BDA3 §5.6): 22 trials, flat priors, non-centred."""

from pathlib import Path

import numpy as np
import pymc as pm

# The standardised trial effects eta_j enter the log density quadratically: EM's exact Gaussian E-step
# and its M-step are derived from this model's graph (comparisons/em/gaussian/), so the file writes none.

INFO = {
    "title": "Beta-blockers: a meta-analysis of 22 clinical trials",
    "story": (
        "Twenty-two randomised trials compared mortality after myocardial infarction with and without "
        "beta-blockers; each reports an empirical log odds ratio y_j with an approximate standard error "
        "sigma_j. The hierarchical model has trial effects theta_j = mu + tau * eta_j with eta_j ~ N(0, 1), "
        "flat priors on the mean log odds ratio mu and on the between-trial spread tau > 0, as in the book. "
        "The model is written non-centred (eta rather than theta) because the centred form makes NUTS "
        "diverge in the funnel at small tau. Three answers for tau then disagree for three different "
        "reasons. EM integrates the eta_j out and climbs the marginal posterior of (mu, tau): its mode is "
        "interior (tau about 0.10). find_MAP maximises the joint density over (mu, tau, eta) and has no "
        "mode to find: in this parameterisation the joint log density, maximised over eta, is "
        "-1/2 sum (y_j - mu)^2 / (sigma_j^2 + tau^2) plus a constant, which keeps rising as tau grows "
        "(eta_j = (y_j - mu) / tau shrinks and every trial fits its own estimate: no pooling), so the "
        "optimiser drifts to a huge tau, where it stops because the slope has become tiny, and its mu is "
        "arbitrary (modemean flags this: the log density is still rising where find_MAP stopped; with the "
        "Jacobian of log tau it rises even faster, so map_unconstrained runs off too). Written centred "
        "(theta_j ~ N(mu, tau)), the same joint density is unbounded the other way: it tends to "
        "infinity as tau -> 0 with every theta_j = mu (complete pooling). The joint "
        "mode therefore depends on how the trial effects are written, while the marginal mode (EM) and "
        "the posterior mean (NUTS) do not, since both integrate the trial effects out. The mean of tau "
        "lies above EM's mode because the marginal posterior of tau has a long right tail."
    ),
    "why_skewed": (
        "Most trials are small and their standard errors are comparable to the spread of the estimates, "
        "so the data bound tau only loosely: the marginal posterior of tau rises steeply from zero (the "
        "few large trials rule out much heterogeneity only weakly) and decays slowly to the right. Its "
        "mode sits near 0.10, its mean about 0.13 and its sd about 0.08: the peak is well left of the "
        "centre of mass relative to the posterior's width."
    ),
    "references": [
        "Yusuf, S., Peto, R., Lewis, J., Collins, R., Sleight, P. (1985). Beta blockade during and after "
        "myocardial infarction: an overview of the randomized trials. Prog. Cardiovasc. Dis. 27(5), 335-371.",
        "Gelman, A. et al. (2013). Bayesian Data Analysis, 3rd ed., Section 5.6 and Table 5.4. CRC Press.",
        "Papaspiliopoulos, O., Roberts, G. O., Skold, M. (2007). A general framework for the "
        "parametrization of hierarchical models. Stat. Sci. 22(1), 59-73.",
    ],
}
LATENT = ("eta",)
SAMPLER = {"target_accept": 0.95}

CSV = Path(__file__).parent / "data" / "beta_blockers.csv"
DATA = {"y": ("float", ("trial",)), "sigma": ("float", ("trial",))}


def load_data():
    """Each trial's log odds ratio ``y`` and its standard error ``sigma``, each shape (22,).

    Both are read from ``models/data/beta_blockers.csv`` (BDA3 Table 5.4, eq. 5.23-5.24).
    """
    table = np.genfromtxt(CSV, delimiter=",", names=True)
    return {"y": np.asarray(table["y"], dtype=float), "sigma": np.asarray(table["sigma"], dtype=float)}


def build(data):
    """Non-centred normal hierarchy: mu ~ Flat, tau ~ HalfFlat, eta_j ~ N(0, 1), y_j ~ N(mu + tau eta_j, sigma_j)."""
    with pm.Model() as model:
        mu = pm.Flat("mu")
        tau = pm.HalfFlat("tau")
        eta = pm.Normal("eta", 0.0, 1.0, shape=len(data["y"]))
        theta = pm.Deterministic("theta", mu + tau * eta)
        pm.Normal("y", theta, data["sigma"], observed=data["y"])
    return model


def random_params(rng):
    """Random plausible parameters for the catalog tests (the flat priors cannot be drawn from)."""
    return {"mu": rng.normal(-0.2, 0.5), "tau": rng.gamma(1.0, 0.3)}
