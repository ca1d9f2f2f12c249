"""Ridge regression: sparse_regression's data with a Gaussian prior, where mode and mean coincide."""

import numpy as np
import pymc as pm

from modemean.models._regression import SIGMA, TRUE_PARAMS, simulate  # noqa: F401 -- TRUE_PARAMS: the truth the tests read

INFO = {
    "title": "Ridge regression: a Gaussian prior is an L2 penalty",
    "story": (
        "The twin of sparse_regression: the same fifty observations and ten predictors, the same known "
        "noise sd sigma = 1, but a Gaussian prior beta_j ~ N(0, tau) with tau = 0.5. Its log density is "
        "-beta_j^2 / (2 tau^2), so the posterior mode is ridge regression, (X'X + lambda I)^-1 X'y with "
        "lambda = sigma^2 / tau^2 = 4. The posterior is exactly Gaussian, so its mode, mean and median "
        "are the same point and the normal approximation at the mode is exact: gap_sd is 0 up to Monte "
        "Carlo error. The penalty shrinks every coefficient towards 0 in proportion, but sets none to 0: "
        "compare the Laplace prior's exact zeros. There are no latent variables, so EM does not apply."
    ),
    "skewed": False,
    "why_skewed": (
        "It is not: a Gaussian prior with a Gaussian likelihood and known noise sd gives a Gaussian "
        "posterior. This is the control for sparse_regression, where the kink of the Laplace prior at 0 "
        "separates the mode from the mean."
    ),
    "references": [
        "Hoerl, A. E., Kennard, R. W. (1970). Ridge regression: biased estimation for nonorthogonal "
        "problems. Technometrics 12(1), 55-67.",
        "Gelman, A. et al. (2013). Bayesian Data Analysis, 3rd ed., Section 14.8. CRC Press.",
    ],
}
LATENT = ()

TAU = 0.5  # prior sd of each coefficient (data["tau"]); the L2 penalty is lambda = SIGMA**2 / tau**2


def load_data():
    """sparse_regression's simulation (:func:`models._regression.simulate`): ``X`` (50, 10), ``y`` (50,); and
    ``tau``, the prior sd :data:`TAU` (pass another in the data to move the prior)."""
    return {**simulate(), "tau": TAU}


def build(data):
    """y ~ N(X beta, SIGMA) with beta_j ~ N(0, tau = data["tau"])."""
    with pm.Model() as model:
        beta = pm.Normal("beta", 0.0, float(data["tau"]), shape=data["X"].shape[1])
        pm.Normal("y", pm.math.dot(data["X"], beta), SIGMA, observed=data["y"])
    return model


def closed_form(data):
    """The posterior mode (= mean) and sd, exactly.

    Returns
    -------
    mean : ndarray of shape (p,)
        (X'X + lambda I)^-1 X'y with lambda = SIGMA^2 / tau^2, tau = ``data["tau"]``.
    sd : ndarray of shape (p,)
        Square roots of the diagonal of SIGMA^2 (X'X + lambda I)^-1.
    """
    X, y = data["X"], data["y"]
    precision = X.T @ X + SIGMA**2 / data["tau"] ** 2 * np.eye(X.shape[1])
    return np.linalg.solve(precision, X.T @ y), np.sqrt(SIGMA**2 * np.diag(np.linalg.inv(precision)))
