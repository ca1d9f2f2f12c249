"""Catalog regression models: bioassay, sparse_regression, ridge_regression, robust_regression.

Also the two engine behaviours they need: a flat prior's log density (zero, with zero gradient) and
find_MAP on a density with a kink (an L1 penalty).
"""

import numpy as np
import pymc as pm
import pytest
from scipy import stats

from modemean import models
from modemean.comparisons.density.prior import LogPrior
from modemean.comparisons.solvers.map import fit_map
from modemean.comparisons.spec import spec_from_parts

SEED = 20261126


# ---------------------------------------------------------------- engine


def test_log_prior_of_flat_priors_is_zero_with_zero_gradient():
    with pm.Model() as model:
        pm.Flat("alpha")
        pm.HalfFlat("scale")
        pm.Normal("y", model["alpha"], model["scale"], observed=[0.1, -0.3])
    value, grad = LogPrior(model, ["alpha", "scale"]).value_and_grad({"alpha": 1.5, "scale": 2.0})
    assert value == 0.0
    assert grad["alpha"] == 0.0 and grad["scale"] == 0.0


def test_find_map_reaches_the_kink_of_an_l1_penalty():
    """y_j ~ N(beta_j, 1), beta_j ~ Laplace(0, b): the mode is soft-thresholding, sign(y)(|y| - 1/b)+.

    L-BFGS-B alone stalls near the kinks (errors ~1e-2 on this problem); the Powell polish reaches
    them, so every start agrees with the closed form.
    """
    y, b = np.array([3.0, -0.4, 0.9, -2.5, 0.05, 1.6]), 0.8

    def build(data):
        with pm.Model() as model:
            beta = pm.Laplace("beta", 0.0, b, shape=len(data["y"]))
            pm.Normal("y", beta, 1.0, observed=data["y"])
        return model

    fit = fit_map(spec_from_parts(build, {"y": y}, name="kink"), seed=SEED)
    exact = np.sign(y) * np.maximum(np.abs(y) - 1.0 / b, 0.0)
    found = np.array([fit.estimates["map"][f"beta[{j}]"] for j in range(len(y))])
    np.testing.assert_allclose(found, exact, rtol=0, atol=1e-7)
    assert fit.diagnostics["starts_agree"] and not fit.message
    assert all(s["polished"] for s in fit.diagnostics["starts"])
    assert fit.converged  # a peak at a kink is a mode reached: converged, though no Hessian is negative definite there


# ---------------------------------------------------------------- the catalog models

EM_MODELS = ("bioassay", "sparse_regression", "robust_regression")
SIMULATED = ("sparse_regression", "ridge_regression", "robust_regression")


@pytest.mark.parametrize("name", EM_MODELS)
def test_map_em_equals_find_map(solved, name):
    """find_MAP and MAP-EM maximise the same objective (the latent variables are not in the PyMC model).

    Relative 1e-4 for every estimate, except the Laplace model's coefficients at 0, where a relative
    tolerance means nothing: there both must be within ``ZERO_ATOL`` = 1e-6 of 0 (EM approaches a zero
    geometrically, by the factor b |dloglik/dbeta_j| < 1 per iteration, and stops at ~1e-8; the
    Powell-polished find_MAP ends within ~1e-11).
    """
    c = solved(name)
    assert c.fits["map"].ok and c.fits["em"].ok and not c.fits["em"].message
    assert c.fits["map"].diagnostics["starts_agree"]
    zero_atol = getattr(models.get(name), "ZERO_ATOL", 0.0)
    for param in c.spec.params:
        for flat in [n for n in c.table.index if n == param or n.startswith(f"{param}[")]:
            row = c.table.loc[flat]
            if abs(row["map"]) < zero_atol:
                assert abs(row["em"]) < zero_atol, flat
            else:
                assert row["em"] == pytest.approx(row["map"], rel=1e-4), flat


@pytest.mark.parametrize("name", SIMULATED)
def test_recovers_the_simulation(solved, name):
    table = solved(name).table
    for param, values in models.get(name).TRUE_PARAMS.items():
        values = np.atleast_1d(values)
        flats = [param] if values.size == 1 and param in table.index else [f"{param}[{i}]" for i in range(values.size)]
        for flat, value in zip(flats, values, strict=True):
            row = table.loc[flat]
            assert row["hdi_low"] < value < row["hdi_high"], f"{flat}={value} outside the 94% HDI"


# ---------------------------------------------------------------- bioassay


def test_bioassay_map_is_the_mle_and_solves_the_score_equations(solved):
    """Flat prior: MAP = MLE, where sum_i (y_i - n_i p_i) [1, x_i] = 0."""
    c = solved("bioassay")
    d = c.spec.data
    alpha, beta = c.table.loc["alpha", "map"], c.table.loc["beta", "map"]
    p = 1.0 / (1.0 + np.exp(-(alpha + beta * d["x"])))
    score = np.array([np.sum(d["y"] - d["n"] * p), np.sum((d["y"] - d["n"] * p) * d["x"])])
    np.testing.assert_allclose(score, 0.0, atol=1e-5)
    for name in ("alpha", "beta"):
        assert c.table.loc[name, "mle"] == pytest.approx(c.table.loc[name, "em"], rel=1e-6)
    assert not any(s["polished"] for s in c.fits["map"].diagnostics["starts"])  # smooth: L-BFGS-B alone


def test_bioassay_normal_approximation_misplaces_the_mass(solved):
    """The Laplace approximation puts ~6% on beta < 0, the posterior almost nothing; the reverse in the tail.

    The reference sd is the inverse Fisher information Z' diag(n p (1 - p)) Z at the mode, computed
    here by hand (the flat prior adds no curvature).
    """
    c = solved("bioassay")
    d = c.spec.data
    h = models.get("bioassay").highlights(c)
    assert c.results["highlights"] == h  # stored in results.json for the report
    row = c.table.loc["beta"]
    p = 1.0 / (1.0 + np.exp(-(c.table.loc["alpha", "map"] + row["map"] * d["x"])))
    z = np.column_stack([np.ones_like(d["x"]), d["x"]])
    sd_beta = np.sqrt(np.linalg.inv(z.T @ (z * (d["n"] * p * (1 - p))[:, None]))[1, 1])
    assert row["laplace_sd"] == pytest.approx(sd_beta, rel=1e-4)
    p_negative = stats.norm.cdf(-row["map"] / sd_beta)
    assert h["P(beta < 0), Laplace approximation at the mode"] == pytest.approx(p_negative, rel=1e-3)
    assert h["P(beta < 0), Laplace approximation at the mode"] > 0.05
    assert h["P(beta < 0), NUTS draws"] < 0.005
    # and it cuts off the right tail
    assert h["P(beta > 15), NUTS draws"] > 2 * h["P(beta > 15), Laplace approximation at the mode"]
    assert row["skewness"] > 0.5 and row["mean"] > row["map"] + 0.5 * row["sd"]


# ---------------------------------------------------------------- sparse and ridge regression


def lasso_coordinate_descent(X, y, lam, tol=1e-14, max_sweeps=100_000):
    """argmin_beta |y - X beta|^2 / 2 + lam |beta|_1, by cyclic coordinate descent (exact zeros)."""
    beta = np.zeros(X.shape[1])
    norms = np.sum(X**2, axis=0)
    for _ in range(max_sweeps):
        old = beta.copy()
        for j in range(len(beta)):
            partial = X[:, j] @ (y - X @ beta + X[:, j] * beta[j])
            beta[j] = np.sign(partial) * max(abs(partial) - lam, 0.0) / norms[j]
        if np.max(np.abs(beta - old)) < tol:
            return beta
    raise AssertionError("coordinate descent did not converge")


def test_sparse_map_and_em_are_the_lasso(solved):
    c = solved("sparse_regression")
    m = models.get("sparse_regression")
    X, y = c.spec.data["X"], c.spec.data["y"]
    lasso = lasso_coordinate_descent(X / m.SIGMA, y / m.SIGMA, 1.0 / m.SCALE)
    names = [f"beta[{j}]" for j in range(X.shape[1])]
    np.testing.assert_allclose(c.table.loc[names, "map"], lasso, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(c.table.loc[names, "em"], lasso, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(c.table.loc[names, "mle"], np.linalg.lstsq(X, y, rcond=None)[0], rtol=1e-8)


def test_sparse_mode_sets_zeros_the_mean_does_not(solved):
    c = solved("sparse_regression")
    m = models.get("sparse_regression")
    h = m.highlights(c)
    truly_zero = [f"beta[{j}]" for j in np.flatnonzero(m.TRUE_PARAMS["beta"] == 0)]
    # here every true zero is found
    assert h["coefficients at 0 at the MAP (find_MAP)"] == h["coefficients at 0 at the EM mode"] == truly_zero
    zeros = c.table.loc[h["coefficients at 0 at the MAP (find_MAP)"]]
    assert (zeros["mean"].abs() > m.ZERO_ATOL).all()
    mcse = zeros["sd"] / np.sqrt(zeros["ess_bulk"])
    assert (zeros["mean"].abs() > 4 * mcse).sum() >= 3  # not Monte Carlo noise around 0
    draws = c.fits["nuts"].draws.posterior["beta"].values
    assert np.mean(np.abs(draws) < m.ZERO_ATOL) < 1e-3  # no posterior mass at exactly 0


def test_sparse_em_keeps_a_zero_coefficient_at_zero(spec):
    s = spec("sparse_regression")
    prior = LogPrior(s.model, s.params)
    engine = s.em_engine
    start = engine.starts(1, np.random.default_rng(0))[0]
    start["beta"] = start["beta"].copy()
    start["beta"][0] = 0.0  # the strongest coefficient, forced to 0
    expectations, _ = engine.e_step(start)
    new = engine.m_step(expectations, prior)["beta"]
    assert new[0] == 0.0 and np.all(np.isfinite(new))


def test_ridge_map_is_the_closed_form_and_equals_the_mean(solved):
    """find_MAP = (X'X + lambda I)^-1 X'y to L-BFGS-B's own accuracy, and the NUTS mean agrees.

    find_MAP runs L-BFGS-B at scipy's defaults, which stop once the objective f changes by less
    than factr * eps = 2.2e-9 relative; on a quadratic with smallest curvature h that leaves the
    point up to sqrt(2 * 2.2e-9 * |f| / h) from the optimum (here ~1e-4; ~1e-6 is observed).
    """
    c = solved("ridge_regression")
    m = models.get("ridge_regression")
    mean, sd = m.closed_form(c.spec.data)
    names = [f"beta[{j}]" for j in range(len(mean))]
    rows = c.table.loc[names]
    X = c.spec.data["X"]
    curvature = np.linalg.eigvalsh((X.T @ X + m.SIGMA**2 / m.TAU**2 * np.eye(len(mean))) / m.SIGMA**2).min()
    f = max(abs(s["log_density"]) for s in c.fits["map"].diagnostics["starts"])
    assert np.abs(rows["map"] - mean).max() <= np.sqrt(2 * 2.2e-9 * f / curvature)
    np.testing.assert_allclose(rows["laplace_sd"], sd, rtol=1e-5)  # the Gaussian posterior's exact sd
    mcse = rows["sd"] / np.sqrt(rows["ess_bulk"])
    assert (np.abs(rows["mean"] - mean) < 4 * mcse).all()  # mode = mean up to Monte Carlo error
    assert c.fits["em"].status == "not_applicable"


# ---------------------------------------------------------------- robust regression


def test_robust_em_downweights_the_outliers(solved):
    c = solved("robust_regression")
    m = models.get("robust_regression")
    d = c.spec.data
    params = {k: c.table.loc[k, "em"] for k in ("a", "b", "sigma")}
    weights = m.e_step(d, params)[0]["w"]
    true_errors = d["y"] - m.TRUE_PARAMS["a"] - m.TRUE_PARAMS["b"] * d["x"]
    outliers = np.argsort(-np.abs(true_errors))[:2]
    assert set(np.argsort(weights)[:2]) == set(outliers)
    assert weights[outliers].max() < 0.5 < np.median(weights)
    row = c.table.loc["sigma"]
    assert row["map"] < row["median"] < row["mean"] and row["skewness"] > 0.3
