"""The catalog's continuous-latent models: beta_blockers, rat_tumors, censored_lifetimes.

For each: EM's observed-data objective is the PyMC model's (marginal) log density, EM climbs,
NUTS is clean at the default settings; censored_lifetimes is checked against its closed form.
"""

import math

import numpy as np
import pymc as pm
import pytest
from scipy import integrate, stats

from modemean import models
from modemean.comparisons.density.prior import LogPrior
from modemean.comparisons.em.engine import HandWritten
from modemean.comparisons.em.loop import run_em
from modemean.comparisons.spec import load_spec

MODELS = ("beta_blockers", "rat_tumors", "censored_lifetimes")


@pytest.fixture(scope="module")
def specs():
    return {name: load_spec(name) for name in MODELS}


def _marginal_beta_blockers(data):
    """The theta_j integrated out: y_j ~ N(mu, sqrt(sigma_j^2 + tau^2))."""
    with pm.Model() as marginal:
        mu = pm.Flat("mu")
        tau = pm.HalfFlat("tau")
        pm.Normal("y", mu, pm.math.sqrt(data["sigma"] ** 2 + tau**2), observed=data["y"])
    return marginal


def _marginal_rat_tumors(data):
    """The theta_j integrated out: y_j ~ BetaBinomial(n_j, alpha, beta), same prior."""
    with pm.Model() as marginal:
        alpha = pm.HalfFlat("alpha")
        beta = pm.HalfFlat("beta")
        pm.Potential("prior", -2.5 * pm.math.log(alpha + beta))
        pm.BetaBinomial("y", alpha=alpha, beta=beta, n=data["n"], observed=data["y"])
    return marginal


def _random_params(name, rng):
    if name == "beta_blockers":
        return {"mu": rng.normal(-0.2, 0.5), "tau": rng.gamma(1.0, 0.3)}
    if name == "rat_tumors":
        return {"alpha": rng.gamma(2.0, 2.0), "beta": rng.gamma(2.0, 8.0)}
    return {"lam": rng.gamma(2.0, 0.5)}


def _value_point(model, params):
    """``{name: value}`` on each variable's own scale to the value-variable point (log for scales)."""
    point = {}
    for rv in model.free_RVs:
        transform = model.rvs_to_transforms.get(rv)
        value = np.asarray(params[rv.name], dtype=float)
        point[model.rvs_to_values[rv].name] = transform.forward(value, *rv.owner.inputs).eval() if transform else value
    return point


@pytest.mark.parametrize("name", MODELS)
def test_em_objective_is_the_marginal_log_density(specs, name):
    """e_step's log likelihood + LogPrior = log density of an independent marginal PyMC model (no Jacobian).

    censored_lifetimes has no latent variable in its PyMC model (pm.Censored integrates the censored
    lifetimes out), so the model itself is the marginal model.
    """
    spec = specs[name]
    marginal = {"beta_blockers": _marginal_beta_blockers, "rat_tumors": _marginal_rat_tumors}.get(
        name, lambda data: spec.model
    )(spec.data)
    logp = marginal.compile_logp(jacobian=False)
    prior = LogPrior(spec.model, spec.params)
    rng = np.random.default_rng(11)
    for _ in range(20):
        params = _random_params(name, rng)
        _, loglik = spec.em_engine.e_step(params)
        expected = float(logp(_value_point(marginal, params)))
        assert abs(loglik + prior(params) - expected) < 1e-8, params


@pytest.mark.parametrize(
    "name,build_marginal", [("beta_blockers", _marginal_beta_blockers), ("rat_tumors", _marginal_rat_tumors)]
)
def test_em_reaches_the_mode_of_the_marginal_model(specs, solved, name, build_marginal):
    """EM's estimate = find_MAP on the independent marginal model (theta integrated out)."""
    spec = specs[name]
    fit = pm.find_MAP(
        model=build_marginal(spec.data), return_inferencedata=True, jitter=False, progressbar=False, tol=1e-12
    )
    table = solved(name).table
    for p in spec.params:
        assert table.loc[p, "em"] == pytest.approx(float(fit.posterior[p].squeeze()), rel=1e-4), p


# ---------------------------------------------------------------- hierarchical models: joint vs marginal mode


@pytest.mark.parametrize("name,scale", [("beta_blockers", "tau"), ("rat_tumors", "alpha")])
def test_joint_mode_is_flagged_and_marginal_mode_is_interior(solved, name, scale):
    """find_MAP's joint density has no maximum here: the table says so; EM's marginal mode is interior."""
    c = solved(name)
    row = c.table.loc[scale]
    assert "map: not a mode" in row["notes"]
    assert "found no mode" in c.fits["map"].message
    assert "†" in str(c)
    assert row["hdi_low"] < row["em"] < row["mean"] < row["hdi_high"]  # the peak left of the centre of mass
    assert row["skewness"] > 0.5
    assert c.fits["em"].converged


def test_beta_blockers_joint_mode_runs_off_to_no_pooling(solved):
    row = solved("beta_blockers").table.loc["tau"]
    assert row["map"] > 10 * row["hdi_high"]  # the joint density rises as tau -> infinity
    assert 0.05 < row["em"] < 0.2  # the marginal mode (BDA3 §5.6: about 0.1)


# ---------------------------------------------------------------- censored_lifetimes: the closed form


def _gamma_posterior(data):
    """Shape and rate of the conjugate posterior Gamma(2 + d, 1 + T)."""
    mod = models.get("censored_lifetimes")
    failures = int(np.sum(data["time"] < data["window"]))
    return mod.PRIOR_SHAPE + failures, mod.PRIOR_RATE + float(data["time"].sum())


def test_censored_closed_form_is_the_pymc_posterior(specs):
    """Mode (A-1)/B, mean A/B and sd sqrt(A)/B of the normalised PyMC density, by quadrature."""
    spec = specs["censored_lifetimes"]
    a, b = _gamma_posterior(spec.data)
    logp = spec.model.compile_logp(jacobian=False)
    density = lambda lam: math.exp(float(logp({"lam_log__": np.log(lam)})))  # noqa: E731
    norm = integrate.quad(density, 0, np.inf, epsabs=0, epsrel=1e-12)[0]
    mean = integrate.quad(lambda x: x * density(x), 0, np.inf, epsabs=0, epsrel=1e-12)[0] / norm
    second = integrate.quad(lambda x: x * x * density(x), 0, np.inf, epsabs=0, epsrel=1e-12)[0] / norm
    assert mean == pytest.approx(a / b, rel=1e-9)
    assert math.sqrt(second - mean**2) == pytest.approx(math.sqrt(a) / b, rel=1e-8)
    assert density(1.0) / norm == pytest.approx(stats.gamma.pdf(1.0, a, scale=1 / b), rel=1e-9)
    mode = (a - 1) / b
    assert density(mode) > max(density(mode * (1 + 1e-4)), density(mode * (1 - 1e-4)))


def test_censored_map_em_nuts_match_the_closed_form(solved):
    c = solved("censored_lifetimes")
    a, b = _gamma_posterior(c.spec.data)
    failures = a - models.get("censored_lifetimes").PRIOR_SHAPE
    row = c.table.loc["lam"]
    assert row["map"] == pytest.approx((a - 1) / b, abs=1e-6)
    assert row["em"] == pytest.approx((a - 1) / b, abs=1e-6)
    assert row["mle"] == pytest.approx(failures / c.spec.data["time"].sum(), abs=1e-6)
    assert row["laplace_sd"] == pytest.approx(math.sqrt(a - 1) / b, rel=1e-4)
    assert row["map_unconstrained"] == pytest.approx(a / b, abs=1e-6)  # log-space mode with Jacobian = mean
    assert "not a mode" not in row["notes"] and not c.fits["map"].message
    # NUTS within Monte Carlo error: se(mean) = sd / sqrt(ess); se(sd) from the Gamma's kurtosis
    sd, ess = math.sqrt(a) / b, row["ess_bulk"]
    assert abs(row["mean"] - a / b) < 4 * sd / math.sqrt(ess)
    assert abs(row["sd"] - sd) < 4 * sd * math.sqrt((2 + 6 / a) / (4 * ess))
    assert row["gap_sd"] == pytest.approx(1 / math.sqrt(a), abs=0.1)  # (mean - mode) / sd = 1 / sqrt(A)


def test_censored_simulation_recovers_the_rate(solved):
    """The seeded data's 94% HDI holds the true rate; EM's MLE on a large simulation is within 4 se."""
    mod = models.get("censored_lifetimes")
    truth = mod.TRUE_PARAMS["lam"]
    row = solved("censored_lifetimes").table.loc["lam"]
    assert row["hdi_low"] < truth < row["hdi_high"]
    data = mod.simulate(20_000, np.random.default_rng(5))
    failures = np.sum(data["time"] < data["window"])
    steps = HandWritten(mod.em_starts, mod.e_step, mod.m_step, data)
    run = run_em(steps, steps.starts(1, np.random.default_rng(0))[0], prior=None)
    assert run.converged
    assert abs(float(run.params["lam"]) - truth) < 4 * truth / math.sqrt(failures)
