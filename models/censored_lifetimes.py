"""Exponential lifetimes with right censoring and a Gamma prior on the failure rate (seeded simulation)."""

import numpy as np
import pymc as pm
from scipy import optimize

__all__ = ["INFO", "LATENT", "DATA", "TRUE_PARAMS", "simulate", "load_data", "build", "em_starts", "e_step", "m_step"]

INFO = {
    "title": "Censored lifetimes: a failure rate from a short test",
    "story": (
        "Twenty components are put on test for up to 1000 hours each (a unit put on test later is "
        "watched for less time); only the few that fail within their window have an observed lifetime, "
        "the others are right-censored: all we know is that they lasted longer than their window. "
        "Lifetimes are exponential with failure rate lam (per 1000 hours), and lam has a Gamma(2, 1) "
        "prior. The PyMC model uses pm.Censored, whose likelihood is the density for a failure and the "
        "survival function exp(-lam c_i) for a censored unit. EM treats the censored lifetimes as the "
        "missing data: by the memoryless property a unit that survived its window c_i has expected "
        "lifetime c_i + 1 / lam (E-step), and with complete lifetimes the rate's update is a ratio of "
        "counts to total time (M-step). The model is conjugate, so every answer has a closed form: "
        "the posterior is Gamma(2 + d, 1 + T) with d failures and T the total time on test, its mode "
        "(1 + d) / (1 + T) is what find_MAP and EM find, and its mean (2 + d) / (1 + T) is what NUTS "
        "estimates."
    ),
    "why_skewed": (
        "With only a handful of failures the rate is known to within a factor of two or so: its "
        "posterior is a Gamma with a small shape parameter 2 + d, skewed to the right (skewness "
        "2 / sqrt(2 + d)). The mode and the mean differ by exactly one over the posterior rate 1 + T, "
        "that is by 1 / sqrt(2 + d) posterior standard deviations: the fewer the failures, the larger "
        "the gap."
    ),
    "references": [
        "Lawless, J. F. (2003). Statistical Models and Methods for Lifetime Data, 2nd ed., Chapter 2. Wiley.",
        "Dempster, A. P., Laird, N. M., Rubin, D. B. (1977). Maximum likelihood from incomplete data via "
        "the EM algorithm. JRSS B 39(1), 1-38 (Section 4.1.3, censored exponential data).",
        "Gelman, A. et al. (2013). Bayesian Data Analysis, 3rd ed., Section 2.6 (Gamma prior for a rate). CRC Press.",
    ],
}
LATENT = ("censored_lifetimes",)  # not variables of the PyMC model: pm.Censored integrates them out
DATA = {"time": ("float", ("unit",)), "window": ("float", ("unit",))}

TRUE_PARAMS = {"lam": 0.3}
N_UNITS = 20
SEED = 7
PRIOR_SHAPE, PRIOR_RATE = 2.0, 1.0


def simulate(n_units, rng):
    """Lifetimes from Exponential(rate ``TRUE_PARAMS["lam"]``) observed through censoring windows.

    Parameters
    ----------
    n_units : int
    rng : numpy.random.Generator

    Returns
    -------
    dict
        ``time``: observed time min(lifetime, window), ``window``: each unit's censoring time
        (uniform on 0.2 to 1, in thousands of hours), each shape (n_units,). A unit failed
        exactly when ``time < window``.
    """
    lifetime = rng.exponential(1.0 / TRUE_PARAMS["lam"], n_units)
    window = rng.uniform(0.2, 1.0, n_units)
    return {"time": np.minimum(lifetime, window), "window": window}


def load_data():
    """The seeded simulation of :data:`N_UNITS` units (see :func:`simulate`)."""
    return simulate(N_UNITS, np.random.default_rng(SEED))


def build(data):
    """lam ~ Gamma(2, 1); time_i ~ Censored(Exponential(lam), upper=window_i)."""
    with pm.Model() as model:
        lam = pm.Gamma("lam", alpha=PRIOR_SHAPE, beta=PRIOR_RATE)
        pm.Censored("time", pm.Exponential.dist(lam=lam), lower=None, upper=data["window"], observed=data["time"])
    return model


def em_starts(data, n_init, rng):
    """``n_init`` starting rates: the first is failures / time on test (plus one), the others random."""
    failed = data["time"] < data["window"]
    crude = (failed.sum() + 1.0) / data["time"].sum()
    return [{"lam": crude}] + [{"lam": crude * rng.uniform(0.1, 10.0)} for _ in range(n_init - 1)]


def e_step(data, params):
    """Expected total lifetime given the rate, and the observed-data log likelihood.

    A censored unit's lifetime, given that it exceeds its window c_i, is c_i + Exponential(lam)
    (memoryless), so E[t_i | t_i > c_i] = c_i + 1 / lam.

    Returns
    -------
    expectations : dict
        ``total_time``: E[sum_i t_i | data, lam], a float; ``n``: the number of units, an int.
    log_likelihood : float
        log p(data | lam) = d log lam - lam T, with d failures and T = sum of the observed times.
    """
    time, window = data["time"], data["window"]
    lam = float(params["lam"])
    failed = time < window
    loglik = failed.sum() * np.log(lam) - lam * time.sum()
    return {"total_time": time.sum() + (~failed).sum() / lam, "n": time.size}, float(loglik)


def m_step(data, expectations, prior):
    """Maximise n log lam - lam E[sum t] (+ log prior) over lam > 0.

    Without a prior the maximiser is n / E[sum t]; with one it is found numerically over log lam
    (L-BFGS-B with exact gradients, the prior and its gradient from the PyMC model), started there.
    """
    n, total = expectations["n"], expectations["total_time"]
    if prior is None:
        return {"lam": n / total}

    def negative(x):
        lam = float(np.exp(x[0]))
        lp, g = prior.value_and_grad({"lam": lam})
        return -(n * x[0] - lam * total + lp), -np.array([n - lam * total + float(g["lam"]) * lam])

    res = optimize.minimize(
        negative,
        [np.log(n / total)],
        jac=True,
        method="L-BFGS-B",
        options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 500},
    )
    return {"lam": float(np.exp(res.x[0]))}
