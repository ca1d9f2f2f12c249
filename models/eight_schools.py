"""Eight schools (Rubin 1981; BDA3 §5.5), non-centred, with the school effects as EM's latent variables."""

import numpy as np
import pymc as pm
from scipy import optimize, stats

INFO = {
    "title": "Eight schools: coaching effects on SAT scores",
    "story": (
        "Eight US high schools ran coaching programmes for the SAT-V test; each reports an estimated "
        "effect y_j with a known standard error sigma_j. A hierarchical model lets the schools borrow "
        "strength: theta_j = mu + tau * eta_j, with the overall effect mu, the between-school spread tau "
        "and standardised school effects eta_j. find_MAP maximises over (mu, tau, eta) jointly; EM "
        "integrates the eta_j out and maximises the marginal posterior of (mu, tau); NUTS averages over "
        "everything."
    ),
    "why_skewed": (
        "The data barely constrain tau: every school's standard error exceeds the spread of the "
        "estimates, so the likelihood for tau is flat near zero and decays slowly. The posterior of tau "
        "piles up near 0 with a long right tail: its mode is at (or near) the boundary tau = 0, while its "
        "mean sits several units above it."
    ),
    "references": [
        "Rubin, D. B. (1981). Estimation in parallel randomized experiments. J. Educ. Stat. 6(4), 377-401.",
        "Gelman, A. et al. (2013). Bayesian Data Analysis, 3rd ed., Section 5.5. CRC Press.",
    ],
}
LATENT = ("eta",)
SAMPLER = {"target_accept": 0.95}
DATA = {"y": ("float", ("school",)), "sigma": ("float", ("school",))}


def load_data():
    """The eight schools' estimated effects ``y`` and standard errors ``sigma``, each shape (8,)."""
    return {
        "y": np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0]),
        "sigma": np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0]),
    }


def build(data):
    """Non-centred hierarchical model: mu ~ N(0, 5), tau ~ HalfCauchy(5), eta_j ~ N(0, 1)."""
    with pm.Model() as model:
        mu = pm.Normal("mu", 0.0, 5.0)
        tau = pm.HalfCauchy("tau", 5.0)
        eta = pm.Normal("eta", 0.0, 1.0, shape=len(data["y"]))
        theta = pm.Deterministic("theta", mu + tau * eta)
        pm.Normal("y", theta, data["sigma"], observed=data["y"])
    return model


def em_starts(data, n_init, rng):
    """``n_init`` starting points; the first is (mean of y, sd of y), the others are random."""
    y = data["y"]
    starts = [{"mu": np.mean(y), "tau": np.std(y)}]
    for _ in range(n_init - 1):
        starts.append({"mu": rng.normal(np.mean(y), np.std(y)), "tau": np.std(y) * rng.uniform(0.05, 3.0)})
    return starts


def e_step(data, params):
    """Gaussian posterior of each eta_j given (mu, tau), and the observed-data log likelihood.

    Returns
    -------
    expectations : dict
        ``m``: E[eta_j | y, mu, tau], ``s``: E[eta_j^2 | y, mu, tau], each shape (8,).
    log_likelihood : float
        log p(y | mu, tau) = sum_j log N(y_j | mu, sqrt(sigma_j^2 + tau^2)).
    """
    y, sigma = data["y"], data["sigma"]
    mu, tau = float(params["mu"]), float(params["tau"])
    precision = 1.0 + tau**2 / sigma**2
    m = tau * (y - mu) / sigma**2 / precision
    loglik = stats.norm.logpdf(y, mu, np.sqrt(sigma**2 + tau**2)).sum()
    return {"m": m, "s": m**2 + 1.0 / precision}, float(loglik)


def m_step(data, expectations, prior):
    """Maximise E[log p(y, eta | mu, tau)] (+ log prior) over mu and tau >= 0.

    The expected complete-data log likelihood is a concave quadratic in (mu, tau); with the
    priors it is maximised numerically (L-BFGS-B with exact gradients).
    """
    y, w = data["y"], 1.0 / data["sigma"] ** 2
    m, s = expectations["m"], expectations["s"]

    def negative(x):
        mu, tau = x
        r = y - mu
        q = -0.5 * np.sum(w * (r**2 - 2 * tau * m * r + tau**2 * s))
        grad = np.array([np.sum(w * (r - tau * m)), np.sum(w * (m * r - tau * s))])
        if prior is not None:
            lp, g = prior.value_and_grad({"mu": mu, "tau": tau})
            q, grad = q + lp, grad + np.array([g["mu"], g["tau"]])
        return -q, -grad

    # the unpenalised maximiser (weighted least squares of y on [1, eta]) is a good start
    a = np.array([[w.sum(), (w * m).sum()], [(w * m).sum(), (w * s).sum()]])
    x0 = np.linalg.solve(a, [np.sum(w * y), np.sum(w * m * y)])
    x0[1] = max(x0[1], 0.0)
    res = optimize.minimize(negative, x0, jac=True, method="L-BFGS-B", bounds=[(None, None), (0.0, None)],
                            options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 500})
    return {"mu": float(res.x[0]), "tau": float(res.x[1])}
