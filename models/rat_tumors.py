"""Rat tumours (Tarone 1982; BDA3 §5.1, §5.3): a beta-binomial hierarchy over 71 experiments."""

import numpy as np
import pymc as pm
from scipy import optimize, special

from modemean.models._rat_tumors import DATA, load_data  # noqa: F401 -- the model contract's data, shared

__all__ = ["INFO", "LATENT", "SAMPLER", "DATA", "load_data", "build", "em_starts", "e_step", "m_step"]

INFO = {
    "title": "Rat tumours: 71 historical control groups",
    "story": (
        "In 71 laboratory experiments, y_j of n_j control rats (untreated F344 female rats) developed an "
        "endometrial stromal polyp. Each experiment has its own tumour probability theta_j ~ Beta(alpha, "
        "beta), and y_j ~ Binomial(n_j, theta_j); the population parameters get BDA3's prior "
        "p(alpha, beta) proportional to (alpha + beta)^(-5/2), flat in the prior mean alpha / (alpha + beta) "
        "and in (alpha + beta)^(-1/2), a rough prior standard deviation. EM treats the theta_j as latent: "
        "given (alpha, beta) each has a Beta(alpha + y_j, beta + n_j - y_j) posterior, the E-step takes the "
        "expectations of log theta_j and log(1 - theta_j) (digamma functions), and the M-step maximises "
        "the expected complete-data log density numerically; the theta_j integrate out to a beta-binomial "
        "likelihood, so EM climbs the marginal posterior of (alpha, beta). find_MAP instead maximises "
        "the joint density over (alpha, beta, theta), and that density has no maximum: let alpha + beta "
        "grow with every theta_j set to the common mean alpha / (alpha + beta) (complete pooling) and each "
        "Beta density at its own mean grows like sqrt(alpha + beta), 71 of them against the prior's "
        "(alpha + beta)^(-5/2), so the joint log density rises like 33 log(alpha + beta) without bound, the "
        "counterpart of the hierarchical normal model's collapse at tau -> 0. The optimiser therefore "
        "runs off to astronomically large alpha and beta and stops wherever its line search gives up; the "
        "map column is where it stopped, not a mode. The marginal mode (EM) and the posterior mean (NUTS) "
        "are the meaningful summaries."
    ),
    "why_skewed": (
        "The data pin down the population mean alpha / (alpha + beta) (about 0.14) well, but the prior "
        "sample size alpha + beta only loosely: large values (experiments that barely differ) remain "
        "plausible, so the posterior of (alpha, beta) is a long banana-shaped ridge along a line of "
        "constant mean, and alpha and beta have long right tails: their means lie well to the right of "
        "the marginal mode EM finds. Strictly the tail is heavier still: as alpha + beta -> infinity the "
        "likelihood tends to that of complete pooling, about exp(-15) times its maximum, so the posterior "
        "density of alpha + beta decays only like (alpha + beta)^(-3/2) and its mean is infinite. That "
        "far tail carries so little probability that no practical sample reaches it; the NUTS mean and "
        "sd describe the bulk of the posterior."
    ),
    "no_mean": ("alpha", "beta"),  # the (alpha + beta)^(-3/2) tail above: each row's gap_kind is "no_mean"
    "references": [
        "Tarone, R. E. (1982). The use of historical control information in testing for a trend in "
        "proportions. Biometrics 38(1), 215-220.",
        "Gelman, A. et al. (2013). Bayesian Data Analysis, 3rd ed., Sections 5.1 and 5.3, Table 5.1. CRC Press.",
    ],
}
LATENT = ("theta",)
SAMPLER = {"target_accept": 0.95}


def build(data):
    """theta_j ~ Beta(alpha, beta), y_j ~ Bin(n_j, theta_j); p(alpha, beta) ∝ (alpha + beta)^(-5/2).

    The prior is two ``HalfFlat`` variables and a ``Potential`` that involves only them (so it is
    part of the log prior EM's M-step receives).
    """
    with pm.Model() as model:
        alpha = pm.HalfFlat("alpha")
        beta = pm.HalfFlat("beta")
        pm.Potential("prior_alpha_beta", -2.5 * pm.math.log(alpha + beta))
        theta = pm.Beta("theta", alpha, beta, shape=len(data["y"]))
        pm.Binomial("y", n=data["n"], p=theta, observed=data["y"])
    return model


def random_params(rng):
    """Random plausible parameters for the catalog tests (the improper prior cannot be drawn from)."""
    return {"alpha": rng.gamma(2.0, 2.0), "beta": rng.gamma(2.0, 8.0)}


def em_starts(data, n_init, rng):
    """``n_init`` starting points for (alpha, beta).

    The first matches the method of moments of the observed proportions (mean about 0.14); the
    others keep that mean and spread the prior sample size alpha + beta over 2 to 100.
    """
    p = data["y"] / data["n"]
    mean, var = p.mean(), p.var()
    size = mean * (1 - mean) / var - 1
    starts = [{"alpha": mean * size, "beta": (1 - mean) * size}]
    for _ in range(n_init - 1):
        size = np.exp(rng.uniform(np.log(2.0), np.log(100.0)))
        starts.append({"alpha": mean * size, "beta": (1 - mean) * size})
    return starts


def e_step(data, params):
    """Expected sufficient statistics of the theta_j, and the beta-binomial log likelihood.

    Given (alpha, beta), theta_j | y ~ Beta(a_j, b_j) with a_j = alpha + y_j, b_j = beta + n_j - y_j.

    Returns
    -------
    expectations : dict
        ``log_theta``: E[log theta_j] = psi(a_j) - psi(a_j + b_j), and ``log_1m_theta``:
        E[log(1 - theta_j)] = psi(b_j) - psi(a_j + b_j), each shape (71,); ``at``: the
        (alpha, beta) they were computed at, shape (2,), where the M-step starts.
    log_likelihood : float
        log p(y | alpha, beta) = sum_j [log C(n_j, y_j) + log B(a_j, b_j) - log B(alpha, beta)].
    """
    y, n = data["y"], data["n"]
    alpha, beta = float(params["alpha"]), float(params["beta"])
    a, b = alpha + y, beta + n - y
    psi_ab = special.digamma(a + b)
    log_choose = special.gammaln(n + 1) - special.gammaln(y + 1) - special.gammaln(n - y + 1)
    loglik = np.sum(log_choose + special.betaln(a, b) - special.betaln(alpha, beta))
    expectations = {
        "log_theta": special.digamma(a) - psi_ab,
        "log_1m_theta": special.digamma(b) - psi_ab,
        "at": np.array([alpha, beta]),
    }
    return expectations, float(loglik)


def m_step(data, expectations, prior):
    """Maximise E[log p(theta | alpha, beta)] (+ log prior) over alpha, beta > 0.

    The expected complete-data log density is
    ``(alpha - 1) S1 + (beta - 1) S2 - J log B(alpha, beta)`` with ``S1 = sum E[log theta_j]``,
    ``S2 = sum E[log(1 - theta_j)]`` (the binomial term does not involve alpha, beta). It is
    concave in (alpha, beta); with the prior it is maximised numerically over (log alpha, log beta)
    by L-BFGS-B with exact gradients, started at the current (alpha, beta).
    """
    s1, s2 = expectations["log_theta"].sum(), expectations["log_1m_theta"].sum()
    j = expectations["log_theta"].size

    def negative(x):
        alpha, beta = np.exp(x)
        psi_sum = special.digamma(alpha + beta)
        q = (alpha - 1) * s1 + (beta - 1) * s2 - j * special.betaln(alpha, beta)
        grad = np.array([s1 - j * (special.digamma(alpha) - psi_sum), s2 - j * (special.digamma(beta) - psi_sum)])
        if prior is not None:
            lp, g = prior.value_and_grad({"alpha": alpha, "beta": beta})
            q, grad = q + lp, grad + np.array([g["alpha"], g["beta"]])
        return -q, -grad * np.array([alpha, beta])  # chain rule to the log scale

    res = optimize.minimize(
        negative,
        np.log(expectations["at"]),
        jac=True,
        method="L-BFGS-B",
        options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 1000},
    )
    alpha, beta = np.exp(res.x)
    return {"alpha": float(alpha), "beta": float(beta)}
