"""Sparse regression: a Laplace prior on the coefficients is an L1 penalty (the Bayesian lasso)."""

import numpy as np
import pymc as pm
from scipy import stats

from modemean.models._regression import SIGMA, TRUE_PARAMS, simulate  # noqa: F401 -- TRUE_PARAMS: the truth the tests read

INFO = {
    "title": "Sparse regression: a Laplace prior is an L1 penalty",
    "story": (
        "Fifty observations, ten standardised predictors, and only four of them matter. Each "
        "coefficient gets a Laplace prior beta_j ~ Laplace(0, b): its log density is -|beta_j| / b, so "
        "the posterior mode is exactly the lasso, the least-squares fit penalised by lambda * sum |beta_j| "
        "with lambda = sigma^2 / b. find_MAP optimises that L1 objective directly; EM writes the Laplace "
        "prior as a normal scale mixture (beta_j | v_j ~ N(0, v_j), v_j exponential), treats the variances "
        "v_j as latent, and becomes iteratively reweighted ridge regression (E[1/v_j] = 1 / (b |beta_j|)) "
        "whose fixed point is the lasso. The mode sets the weakest coefficients to exactly zero; the "
        "posterior mean never does: it averages over both signs. A coefficient that reaches 0 stays at 0 "
        "in EM (its prior variance is then 0), so EM must start away from zero; the starts are "
        "least-squares fits. The noise sd sigma = 1 is known, as in the lasso itself: with sigma "
        "unknown the mode would be a lasso whose penalty moves with sigma, not a fixed-lambda lasso. "
        "Its twin, ridge_regression, puts a Gaussian prior on the same data: there the mode and the mean "
        "coincide."
    ),
    "why_skewed": (
        "The Laplace prior has a kink at zero, so a coefficient the data barely support gets a posterior "
        "with a spike-like peak at exactly 0 and most of its mass on one side: the mode is 0, the mean is "
        "not. For strong coefficients the prior only shifts the posterior towards 0 by lambda / (x'x), the "
        "same for mode and mean."
    ),
    "references": [
        "Tibshirani, R. (1996). Regression shrinkage and selection via the lasso. JRSS B 58(1), 267-288.",
        "Park, T., Casella, G. (2008). The Bayesian lasso. JASA 103(482), 681-686.",
        "Figueiredo, M. A. T. (2003). Adaptive sparseness for supervised learning. IEEE TPAMI 25(9), 1150-1159.",
        "Andrews, D. F., Mallows, C. L. (1974). Scale mixtures of normal distributions. JRSS B 36(1), 99-102.",
    ],
}
LATENT = ("v",)

SCALE = 0.15  # Laplace scale b (data["scale"]); the L1 penalty is lambda = SIGMA**2 / b (SIGMA: the known noise sd)
ZERO_ATOL = 1e-6  # a coefficient this close to 0 counts as (numerically) zero


def load_data():
    """The seeded simulation shared with ridge_regression (:func:`models._regression.simulate`).

    Returns
    -------
    dict
        ``X``: predictors, shape (50, 10), each column centred and scaled to sd 1;
        ``y``: responses, shape (50,); ``scale``: the prior's Laplace scale b, :data:`SCALE` (pass
        another in the data to move the prior, as the teaching page's prior path does).
    """
    return {**simulate(), "scale": SCALE}


def build(data):
    """y ~ N(X beta, SIGMA) with beta_j ~ Laplace(0, b = data["scale"]), written as ``pm.Laplace``."""
    with pm.Model() as model:
        beta = pm.Laplace("beta", 0.0, float(data["scale"]), shape=data["X"].shape[1])
        pm.Normal("y", pm.math.dot(data["X"], beta), SIGMA, observed=data["y"])
    return model


def random_params(rng):
    """Random coefficients for the catalog tests, one of them exactly at 0: the kink of the L1 penalty.

    (The prior's own draws are never exactly 0, and EM's E-step must be exact there too.)
    """
    beta = rng.normal(0.0, 1.0, len(TRUE_PARAMS["beta"]))
    beta[rng.integers(len(beta))] = 0.0
    return {"beta": beta}


def em_starts(data, n_init, rng):
    """``n_init`` starts: the least-squares fit, then it plus N(0, 0.5^2) noise (never exactly 0)."""
    ols = np.linalg.lstsq(data["X"], data["y"], rcond=None)[0]
    return [{"beta": ols}] + [{"beta": ols + rng.normal(0.0, 0.5, ols.shape)} for _ in range(n_init - 1)]


def e_step(data, params):
    """Expected inverse prior variances given beta, and the log likelihood.

    Returns
    -------
    expectations : dict
        ``scale``: 1 / E[1/v_j | beta_j] = b * |beta_j|, shape (p,); 0 where beta_j = 0
        (the variance's posterior is then a point mass at 0).
    log_likelihood : float
        log p(y | beta) = sum_i log N(y_i | x_i beta, SIGMA).
    """
    beta = np.asarray(params["beta"], dtype=float)
    loglik = stats.norm.logpdf(data["y"], data["X"] @ beta, SIGMA).sum()
    return {"scale": data["scale"] * np.abs(beta)}, float(loglik)


def m_step(data, expectations, prior):
    """Ridge regression with per-coefficient prior variances ``scale`` (MAP-EM) or least squares (MLE).

    With the prior, maximises E[log p(y, beta | v)] = -|y - X beta|^2 / (2 SIGMA^2) -
    sum_j beta_j^2 E[1/v_j] / 2 in closed form, written with D = diag(scale) so that a zero
    prior variance needs no division: beta = D^1/2 (D^1/2 X'X D^1/2 / SIGMA^2 + I)^-1 D^1/2 X'y /
    SIGMA^2. A coefficient with scale 0 is set to exactly 0 and stays there. The scale mixture
    represents the Laplace prior, so ``prior`` (the compiled Laplace log prior) only selects MAP-EM;
    the test proves the represented objective equals the PyMC model's log density.

    Returns
    -------
    dict
        ``beta``, shape (p,).
    """
    X, y = data["X"], data["y"]
    if prior is None:
        return {"beta": np.linalg.lstsq(X, y, rcond=None)[0]}
    root = np.sqrt(expectations["scale"])
    a = root[:, None] * (X.T @ X) * root[None, :] / SIGMA**2 + np.eye(len(root))
    return {"beta": root * np.linalg.solve(a, root * (X.T @ y) / SIGMA**2)}


def highlights(comparison):
    """The numbers a report shows for this model.

    Parameters
    ----------
    comparison : comparisons.run.comparison.Comparison

    Returns
    -------
    dict
        Label to value: the coefficients within :data:`ZERO_ATOL` of 0 at find_MAP's and at EM's
        mode, the smallest |posterior mean| among them (the mean is never 0), and the L1 penalty
        lambda = SIGMA^2 / b.
    """
    table = comparison.table.loc[[n for n in comparison.table.index if n.startswith("beta[")]]
    zero = {col: [n for n, v in table[col].items() if abs(v) < ZERO_ATOL] for col in ("map", "em")}
    return {
        "coefficients at 0 at the MAP (find_MAP)": zero["map"],
        "coefficients at 0 at the EM mode": zero["em"],
        "smallest |posterior mean| among them": float(table.loc[zero["map"], "mean"].abs().min())
        if zero["map"]
        else None,
        "L1 penalty lambda = sigma^2 / b": SIGMA**2 / float(comparison.spec.data["scale"]),
    }
