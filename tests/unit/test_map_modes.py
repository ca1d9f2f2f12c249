"""find_MAP's verdict on a researcher's own models (issue 11): is there a mode, and where.

A centred hierarchy has no mode (its joint density is unbounded as tau -> 0); the non-centred
one has a finite supremum at tau = 0 (a mode on the boundary); a badly conditioned regression has
one interior mode that every start reaches once polished; a free discrete parameter is refused in
one line; a point where the density is undefined never discards the mode.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pymc as pm
import pytest
from scipy import optimize

from modemean import compare
from modemean.comparisons.density.space import ValueSpace
from modemean.comparisons.solvers.map import fit_map
from modemean.comparisons.spec import spec_from_parts

SEED = 20261126
EIGHT = {
    "y": np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0]),
    "sigma": np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0]),
}


def centred_eight_schools(data):
    with pm.Model() as model:
        mu = pm.Normal("mu", 0.0, 5.0)
        tau = pm.HalfCauchy("tau", 5.0)
        theta = pm.Normal("theta", mu, tau, shape=8)
        pm.Normal("y", theta, data["sigma"], observed=data["y"])
    return model


def varying_intercepts(data):
    with pm.Model() as model:
        mu = pm.Normal("mu", 0, 5)
        tau = pm.HalfNormal("tau", 2)
        sigma = pm.HalfNormal("sigma", 2)
        a = pm.Normal("a", mu, tau, shape=12)
        pm.Normal("y", a[data["g"]], sigma, observed=data["y"])
    return model


def day_regression(data):
    """Temperature on the day number (10000..10061): an uncentred predictor, a long thin ridge."""
    with pm.Model() as model:
        alpha = pm.Normal("alpha", 0, 100)
        beta = pm.Normal("beta", 0, 1)
        sigma = pm.HalfNormal("sigma", 10)
        pm.Normal("y", alpha + beta * data["x"], sigma, observed=data["y"])
    return model


def _varying_intercept_data():
    rng = np.random.default_rng(1)
    g = np.repeat(np.arange(12), 6)
    return {"g": g, "y": rng.normal(1.0, 0.3, 12)[g] + rng.normal(0, 1.0, g.size)}


@pytest.mark.parametrize(
    "build, data, groups",
    [(centred_eight_schools, EIGHT, 8), (varying_intercepts, _varying_intercept_data(), 12)],
    ids=["centred_eight_schools", "varying_intercepts"],
)
def test_centred_hierarchy_has_no_mode(build, data, groups):
    """The joint density grows by log(10) per group and decade of tau -> 0: no mode, no gap_sd."""
    c = compare(build, data, name="centred", solvers="map")
    fit = c.fits["map"]
    assert fit.ok and fit.diagnostics["no_mode"] and not fit.converged
    assert fit.message.startswith("find_MAP found no mode: the log density is unbounded as tau -> 0"), fit.message
    assert "local modes" not in fit.message
    # the profile gains one log-decade per group: its slope is the number of groups times log(10)
    assert fit.diagnostics["unbounded"]["tau"]["rise_per_decade"] == pytest.approx(groups * np.log(10), rel=0.02)
    assert "gap_sd" not in c.table or c.table["gap_sd"].isna().all()  # no gap (the column needs NUTS to exist)
    assert "laplace_sd" not in fit.estimates  # no spread at a point that is not a peak
    assert "not a mode: the log density is unbounded as tau -> 0" in c.table.loc["tau", "notes"]


def test_non_centred_eight_schools_has_its_mode_on_the_boundary(solved):
    """Same posterior of (mu, tau), other coordinates: the density stays finite as tau -> 0."""
    fit = solved("eight_schools").fits["map"]
    assert fit.ok and not fit.diagnostics["no_mode"]
    profile = fit.diagnostics["profiles"]["tau"]
    assert not profile["unbounded"] and abs(np.diff(profile["log_density"])[-1]) < 1e-6
    assert "on the boundary tau = 0" in solved("eight_schools").table.loc["tau", "notes"]
    assert np.isfinite(solved("eight_schools").table.loc["tau", "gap_sd"])


def test_badly_conditioned_regression_is_one_mode_not_several():
    """L-BFGS-B's relative-reduction test stops some starts early on the ridge; polished, all agree."""
    rng = np.random.default_rng(2)
    x = np.arange(10000, 10062).astype(float)
    data = {"x": x, "y": 9.0 + 0.02 * (x - 10031) + rng.normal(0, 1.1, x.size)}
    spec = spec_from_parts(day_regression, data, name="days")
    fit = fit_map(spec, seed=SEED)
    assert fit.ok and fit.message == "" and fit.converged
    assert fit.diagnostics["starts_agree"] and fit.diagnostics["n_stationary"] == 4
    # the same density in centred coordinates (alpha = a - beta * mean(x)) is well conditioned:
    # its optimum, found independently, is find_MAP's
    logp = spec.model.compile_logp(jacobian=False)
    xbar = x.mean()

    def negative(v):
        a, beta, log_sigma = v
        return -float(logp({"alpha": a - beta * xbar, "beta": beta, "sigma_log__": log_sigma}))

    res = optimize.minimize(
        negative, [9.0, 0.0, 0.0], method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-13, "maxiter": 20_000}
    )
    a, beta, log_sigma = res.x
    found = fit.estimates["map"]
    assert found["beta"] == pytest.approx(beta, rel=1e-5)
    assert found["alpha"] == pytest.approx(a - beta * xbar, rel=1e-5)
    assert found["sigma"] == pytest.approx(np.exp(log_sigma), rel=1e-5)


@pytest.mark.slow
def test_free_discrete_parameter_is_one_line_and_the_sampler_is_named():
    def build(data):
        with pm.Model() as model:
            n = pm.Poisson("n", 10)
            p = pm.Beta("p", 2, 2)
            pm.Binomial("y", n + 6, p, observed=data["y"])
        return model

    c = compare(
        build, {"y": np.array([3, 5, 4, 6, 2])}, name="free_n", solvers="map,nuts", draws=200, tune=200, chains=2
    )
    fit = c.fits["map"]
    assert fit.status == "not_applicable" and "\n" not in fit.message
    assert fit.message.startswith("find_MAP optimises continuous parameters only, but n (Poisson) is discrete")
    # a Poisson's support is infinite: LATENT would refuse it, so the line advises what works (issue 38, 7)
    assert "declare it in LATENT" not in fit.message and "LATENT cannot sum it out" in fit.message
    assert "truncate it to a finite support" in fit.message and "make it observed" in fit.message
    nuts = c.fits["nuts"]
    assert nuts.ok and nuts.diagnostics["sampler"] == "pymc NUTS (p) + Metropolis (n)"
    assert "n sampled by pymc NUTS (p) + Metropolis (n), not NUTS" in nuts.message


def test_undefined_density_is_minus_infinity_not_an_exception():
    """Far out on rat_tumors' ridge a Beta's alpha overflows: the parameter check fails."""
    with pm.Model() as model:
        alpha = pm.HalfFlat("alpha")
        beta = pm.HalfFlat("beta")
        theta = pm.Beta("theta", alpha, beta, shape=3)
        pm.Binomial("y", 10, theta, observed=[0, 1, 2])
    space = ValueSpace(model, ["alpha", "beta", "theta"])
    u = np.array([800.0, 0.0, 0.0, 0.0, 0.0])  # alpha = exp(800) = inf: log density -inf
    assert space.logp(u)[0] == -np.inf and space.logp_jacobian(u)[0] == -np.inf
    u = np.array([np.nan, 0.0, 0.0, 0.0, 0.0])  # alpha = NaN: the check alpha > 0 raises ParameterValueError
    with pytest.raises(Exception, match="alpha > 0"):
        space._function("logp")(u)
    value, grad = space.logp(u)
    assert value == -np.inf and np.isnan(grad).all()
    assert np.isnan(space.hessian(u)).all()
    assert np.isfinite(space.logp(np.zeros(5))[0])


@pytest.mark.slow
def test_rat_tumors_with_a_cold_compile_cache(tmp_path):
    """On a fresh PyTensor compile directory find_MAP says "no mode", never "failed"."""
    env = {**os.environ, "PYTENSOR_FLAGS": f"base_compiledir={tmp_path / 'compile'}", "MPLBACKEND": "Agg"}
    proc = subprocess.run(
        [sys.executable, "-m", "modemean.cli", "run", "rat_tumors", "--solvers", "map", "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads((tmp_path / "out" / "rat_tumors" / "results.json").read_text())
    solver = results["solvers"]["map"]
    assert solver["status"] == "ok" and solver["diagnostics"]["no_mode"], solver["message"]
    assert solver["message"].startswith("find_MAP found no mode"), solver["message"]
    assert all(p.get("gap_sd") is None for p in results["parameters"].values())  # no gap (absent without NUTS)


@pytest.mark.slow
def test_same_seed_same_draws_cold_or_warm_compile_cache(tmp_path):
    """A cold compile cache and the warm one it leaves behind give bitwise the same NUTS draws."""
    model = tmp_path / "regression.py"
    model.write_text(
        "import numpy as np\nimport pymc as pm\n"
        "INFO = {'title': 'regression', 'story': '', 'why_skewed': '', 'references': []}\n"
        "def load_data():\n"
        "    rng = np.random.default_rng(12345)\n"
        "    x = rng.normal(100, 15, 400)\n"
        "    return {'x': x, 'y': 26 + 0.6 * x + rng.normal(0, 18, 400)}\n"
        "def build(data):\n"
        "    with pm.Model() as model:\n"
        "        beta = pm.Normal('beta', 0, 100, shape=2)\n"
        "        sigma = pm.HalfNormal('sigma', 50)\n"
        "        pm.Normal('y', beta[0] + beta[1] * data['x'], sigma, observed=data['y'])\n"
        "    return model\n"
    )
    env = {**os.environ, "PYTENSOR_FLAGS": f"base_compiledir={tmp_path / 'compile'}", "MPLBACKEND": "Agg"}
    draws = []
    for run in ("cold", "warm"):
        out = tmp_path / run
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "modemean.cli",
                "run",
                str(model),
                "--solvers",
                "nuts",
                "--draws",
                "300",
                "--tune",
                "300",
                "--out",
                str(out),
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=900,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        import arviz as az

        draws.append(az.from_netcdf(out / "regression" / "results.nc").posterior.to_dataset())
    for name in ("beta", "sigma"):
        assert np.array_equal(draws[0][name].values, draws[1][name].values), name


def test_starts_are_exactly_find_map():
    """The starts share one compiled objective but are pm.find_MAP's: same start points, same optimum."""
    from modemean.comparisons.solvers.map.starts import Objective

    with pm.Model() as model:
        alpha = pm.Normal("alpha", 0, 10)
        sigma = pm.HalfNormal("sigma", 2)
        pm.Normal("y", alpha, sigma, observed=np.array([0.3, -1.2, 0.8, 2.1]))
    objective = Objective(model)
    for k in (0, 1, 2):
        found = objective.minimize(objective.start(SEED + k, jitter=k > 0), "L-BFGS-B")
        reference = pm.find_MAP(
            model=model,
            method="L-BFGS-B",
            jitter=k > 0,
            random_seed=SEED + k,
            return_inferencedata=True,
            progressbar=False,
        )
        assert np.array_equal(found.x, reference.fit["mean_vector"].values), k
        assert int(found.nit) == int(reference.optimizer_result["nit"])


def two_peaks(data):
    """``y ~ N(x^2, 0.5)`` with ``y = 4``: peaks near x = 2 and x = -2, the prior's mean 0.3 lifts the first."""
    with pm.Model() as model:
        x = pm.Normal("x", 0.3, 3.0)
        pm.Normal("y", x**2, 0.5, observed=data["y"])
    return model


def test_dyestuffs_starts_reach_one_mode():
    """Issue 38, 3: the four starts end 3e-8 nats and 2e-4 Laplace sd apart (b[1] moves by 1% of its size,
    more than AGREE_RTOL): one mode, no "several local modes"."""
    from modemean.comparisons.spec import load_spec

    fit = fit_map(load_spec("dyestuff"), seed=SEED)
    assert fit.ok and fit.message == ""
    assert fit.diagnostics["starts_agree"] and fit.diagnostics["n_starts_agreeing"] == 4


def test_same_mode_needs_the_same_height_and_the_same_point():
    from dataclasses import replace

    from modemean.comparisons.solvers.map.starts import Start, same_mode

    def start(k, log_density, params):
        return Start(k, True, 30, "", log_density, "", True, np.zeros(2), params)

    best = start(2, -179.73681591926217, {"mu": 1527.3, "b[1]": 0.669089})
    sd = {"mu": 41.9, "b[1]": 40.0}
    near = start(1, -179.73681594965078, {"mu": 1527.3001, "b[1]": 0.675652})
    assert same_mode(near, best, sd)  # dyestuff's start 1: 3e-8 nats, 1.6e-4 sd
    assert not same_mode(near, best, None)  # without sds b[1] differs by 1% of its size: AGREE_RTOL decides
    assert not same_mode(replace(near, log_density=best.log_density - 0.1), best, sd)
    across = start(3, best.log_density, {"mu": 1527.3, "b[1]": 0.669089 + 2.0})
    assert not same_mode(across, best, sd)  # the same height, 0.05 sd away: another point (a symmetric mode)


def test_two_peaks_are_several_modes_and_the_message_shows_the_difference():
    spec = spec_from_parts(two_peaks, {"y": np.array([4.0])}, name="two_peaks")
    fit = fit_map(spec, seed=SEED)
    assert fit.estimates["map"]["x"] == pytest.approx(2.0, abs=0.01)
    assert fit.diagnostics["n_stationary"] == 4 and fit.diagnostics["n_starts_agreeing"] == 3
    assert fit.message == (
        "1 find_MAP start(s) reached a different local mode (start 2: log density 0.133 below the best "
        "(-2.40362), x 31.9 Laplace sd away): the posterior has several local modes"
    )
