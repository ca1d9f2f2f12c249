"""Rat tumours on the logit scale (Tarone 1982; BDA3 §5.3's data): a logit-normal random-effects model (a GLMM)."""

import pymc as pm

from modemean.models._rat_tumors import DATA, load_data  # noqa: F401 -- the model contract's data, shared

INFO = {
    "title": "Rat tumours, logit-normal: a binomial GLMM with Laplace-EM",
    "story": (
        "The 71 historical control experiments of the rat_tumors model (y_j of n_j rats with a tumour), "
        "with the other classic form of the hierarchy: each experiment's log odds a_j = logit(theta_j) is "
        "normal around the population log odds mu with spread tau, y_j ~ Binomial(n_j, logit^-1(a_j)) — "
        "a binomial generalised linear mixed model with a random intercept, lme4's "
        "glmer(cbind(y, n - y) ~ 1 + (1 | experiment), family = binomial). The model is written "
        "non-centred (a_j = mu + tau * eta_j, eta_j ~ N(0, 1)) so that NUTS does not meet the funnel at "
        "small tau. Given (mu, tau) the eta_j are not Gaussian (a binomial likelihood in the log odds), so "
        "no E-step is exact: EM uses the Laplace approximation at each eta_j's conditional mode, derived "
        "from the PyMC graph, and its em and mle columns are the modes of the Laplace-approximate marginal "
        "posterior and likelihood (mle is glmer's nAGQ = 1 fit), labelled approximate. find_MAP maximises "
        "the joint density over (mu, tau, eta), a different question with a different answer: in these "
        "coordinates a larger tau lets every experiment keep its own log odds a_j at a smaller cost "
        "1/2 eta_j^2 = 1/2 ((a_j - mu) / tau)^2, so the joint mode drifts towards no pooling (tau about 3, "
        "where the HalfNormal(1) prior stops it; the 14 experiments without a tumour pull their a_j towards "
        "minus infinity) and its mu follows. Written centred (a_j ~ N(mu, tau)) the joint density would be "
        "unbounded the other way, as tau -> 0 (see eight_schools_centered). The marginal mode (EM) and the "
        "posterior mean (NUTS) integrate the a_j out and do not depend on how they are written."
    ),
    "why_skewed": (
        "tau is a standard deviation estimated from 71 groups, most with few events (14 experiments saw "
        "no tumour at all), so the data bound it only loosely: its marginal posterior rises from near 0, "
        "peaks near 0.65 and decays slowly to the right, so the posterior mean lies right of EM's marginal "
        "mode, while find_MAP's joint mode (about 3) lies far to the right of both."
    ),
    "references": [
        "Tarone, R. E. (1982). The use of historical control information in testing for a trend in "
        "proportions. Biometrics 38(1), 215-220.",
        "Gelman, A. et al. (2013). Bayesian Data Analysis, 3rd ed., Sections 5.1 and 5.3, Table 5.1. CRC Press.",
        "Breslow, N. E., Clayton, D. G. (1993). Approximate inference in generalized linear mixed models. "
        "J. Am. Stat. Assoc. 88(421), 9-25.",
        "Bates, D., Maechler, M., Bolker, B., Walker, S. (2015). Fitting linear mixed-effects models using "
        "lme4. J. Stat. Softw. 67(1), 1-48 (glmer: Laplace approximation, nAGQ = 1).",
    ],
}
LATENT = ("eta",)
SAMPLER = {"target_accept": 0.95}


def build(data):
    """mu ~ N(-1, 2), tau ~ HalfNormal(1), eta_j ~ N(0, 1), y_j ~ Binomial(n_j, logit^-1(mu + tau eta_j))."""
    with pm.Model() as model:
        mu = pm.Normal("mu", -1.0, 2.0)
        tau = pm.HalfNormal("tau", 1.0)
        eta = pm.Normal("eta", 0.0, 1.0, shape=len(data["y"]))
        pm.Binomial("y", n=data["n"], logit_p=mu + tau * eta, observed=data["y"])
    return model
