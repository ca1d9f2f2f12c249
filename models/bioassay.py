"""Bioassay (Racine et al. 1986; BDA3 §3.7): logistic dose-response on 20 animals, EM via Pólya-Gamma."""

from pathlib import Path

import numpy as np
import pymc as pm
from scipy import optimize, special, stats

INFO = {
    "title": "Bioassay: a dose-response curve from twenty animals",
    "story": (
        "Four groups of five animals received a compound at four log doses x_i; 0, 1, 3 and 5 of them "
        "died. The number of deaths is Binomial(5, logit^-1(alpha + beta x_i)) with a flat prior on "
        "(alpha, beta), as in BDA3 §3.7, so the posterior mode is the maximum-likelihood fit. EM uses "
        "Pólya-Gamma latent variables omega_i (Polson, Scott & Windle 2013): given them the logistic "
        "likelihood is Gaussian in alpha + beta x_i, the E-step is E[omega_i] = n_i / (2 psi_i) "
        "tanh(psi_i / 2) at psi_i = alpha + beta x_i, and the M-step is weighted least squares. The "
        "normal approximation at the mode (Laplace: centred at the MAP with the inverse Hessian as its "
        "covariance) misplaces the mass: it is symmetric in beta, so it puts several percent of its mass "
        "on beta < 0, a compound that protects, where the posterior has almost none, and it cuts off the "
        "long right tail of steep dose-response curves that the posterior keeps."
    ),
    "why_skewed": (
        "With twenty animals the data bound the slope beta from below (deaths do rise with dose) but "
        "hardly from above: any very steep curve that switches from 'all survive' to 'all die' between the "
        "doses -0.05 and 0.73 fits about as well. The posterior of beta is right-skewed, its mean lies "
        "well above its mode, and alpha, correlated with beta, inherits the skew."
    ),
    "references": [
        "Racine, A., Grieve, A. P., Fluhler, H., Smith, A. F. M. (1986). Bayesian methods in practice: "
        "experiences in the pharmaceutical industry. Applied Statistics 35(2), 93-150.",
        "Gelman, A. et al. (2013). Bayesian Data Analysis, 3rd ed., Sections 3.7 and 4.1. CRC Press.",
        "Polson, N. G., Scott, J. G., Windle, J. (2013). Bayesian inference for logistic models using "
        "Pólya-Gamma latent variables. JASA 108(504), 1339-1349.",
        "Scott, J. G., Sun, L. (2013). Expectation-maximization for logistic regression. arXiv:1306.0040.",
    ],
}
LATENT = ("omega",)

DATA_FILE = Path(__file__).parent / "data" / "bioassay.csv"


def load_data():
    """BDA3 Table 3.1 from ``models/data/bioassay.csv``.

    Returns
    -------
    dict
        ``x``: log dose (g/ml), shape (4,); ``n``: animals, shape (4,); ``y``: deaths, shape (4,).
    """
    table = np.loadtxt(DATA_FILE, delimiter=",", skiprows=1)
    return {"x": table[:, 0], "n": table[:, 1].astype(int), "y": table[:, 2].astype(int)}


def build(data):
    """deaths_i ~ Binomial(n_i, logit^-1(alpha + beta x_i)), alpha and beta flat."""
    with pm.Model() as model:
        alpha = pm.Flat("alpha")
        beta = pm.Flat("beta")
        pm.Binomial("deaths", n=data["n"], logit_p=alpha + beta * data["x"], observed=data["y"])
    return model


def random_params(rng):
    """Random plausible parameters for the catalog tests (the flat priors cannot be drawn from)."""
    return {"alpha": rng.normal(0.0, 3.0), "beta": rng.normal(5.0, 10.0)}


def em_starts(data, n_init, rng):
    """``n_init`` starts: (0, 0), then alpha ~ N(0, 2^2), beta ~ N(0, 10^2)."""
    return [{"alpha": 0.0, "beta": 0.0}] + [
        {"alpha": rng.normal(0.0, 2.0), "beta": rng.normal(0.0, 10.0)} for _ in range(n_init - 1)
    ]


def e_step(data, params):
    """Pólya-Gamma expectations given (alpha, beta), and the binomial log likelihood.

    Returns
    -------
    expectations : dict
        ``omega``: E[omega_i | y, alpha, beta] = n_i / (2 psi_i) tanh(psi_i / 2), shape (4,)
        (its limit n_i / 4 at psi_i = 0).
    log_likelihood : float
        sum_i log Binomial(y_i | n_i, logit^-1(psi_i)), binomial coefficients included.
    """
    x, n, y = data["x"], data["n"], data["y"]
    psi = float(params["alpha"]) + float(params["beta"]) * x
    small = np.abs(psi) < 1e-6
    safe = np.where(small, 1.0, psi)
    omega = np.where(small, n / 4.0, n * np.tanh(safe / 2.0) / (2.0 * safe))
    loglik = (
        special.gammaln(n + 1)
        - special.gammaln(y + 1)
        - special.gammaln(n - y + 1)
        + y * special.log_expit(psi)
        + (n - y) * special.log_expit(-psi)
    )
    return {"omega": omega}, float(loglik.sum())


def m_step(data, expectations, prior):
    """Weighted least squares of kappa_i / omega_i on [1, x_i], kappa_i = y_i - n_i / 2.

    The expected complete-data log likelihood is sum_i kappa_i psi_i - omega_i psi_i^2 / 2, a
    concave quadratic in (alpha, beta) maximised by (Z' Omega Z)^-1 Z' kappa with Z = [1, x]. With
    a prior, Q + log prior is maximised by L-BFGS-B started there; the book's flat prior has zero
    gradient, so the weighted least-squares solution is returned unchanged.

    Returns
    -------
    dict
        ``alpha``, ``beta`` (floats).
    """
    x, n, y = data["x"], data["n"], data["y"]
    z = np.column_stack([np.ones_like(x), x])
    omega, kappa = expectations["omega"], y - n / 2.0
    theta = np.linalg.solve(z.T @ (omega[:, None] * z), z.T @ kappa)
    if prior is None:
        return {"alpha": float(theta[0]), "beta": float(theta[1])}

    def negative(t):
        psi = z @ t
        lp, g = prior.value_and_grad({"alpha": t[0], "beta": t[1]})
        grad = z.T @ (kappa - omega * psi) + np.array([g["alpha"], g["beta"]])
        return -(kappa @ psi - 0.5 * omega @ psi**2 + lp), -grad

    res = optimize.minimize(
        negative, theta, jac=True, method="L-BFGS-B", options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 500}
    )
    return {"alpha": float(res.x[0]), "beta": float(res.x[1])}


def highlights(comparison):
    """The numbers a report shows: where the normal approximation at the mode puts beta < 0.

    Parameters
    ----------
    comparison : comparisons.run.comparison.Comparison
        With the ``map`` and ``nuts`` solvers.

    Returns
    -------
    dict
        Label to probability: the mass the normal approximation at the mode, N(map, laplace_sd),
        puts on beta < 0 and on beta > 15, and the fraction of NUTS draws there (Monte Carlo
        resolution 1 / number of draws).
    """
    row = comparison.table.loc["beta"]
    draws = comparison.fits["nuts"].draws.posterior["beta"].values
    laplace = stats.norm(row["map"], row["laplace_sd"])
    return {
        "P(beta < 0), Laplace approximation at the mode": float(laplace.cdf(0.0)),
        "P(beta < 0), NUTS draws": float(np.mean(draws < 0.0)),
        "P(beta > 15), Laplace approximation at the mode": float(laplace.sf(15.0)),
        "P(beta > 15), NUTS draws": float(np.mean(draws > 15.0)),
    }
