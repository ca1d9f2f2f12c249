"""Invariants of the engine on the two foundation models and on a user's own model file."""

import json
import math
import subprocess
import sys

import numpy as np
import pymc as pm
import pytest
import rates_model

from modemean import compare, models
from modemean.comparisons.density.prior import LogPrior
from modemean.comparisons.spec import load_spec


def test_catalog_lists_the_foundation_models():
    assert {"two_gaussians", "eight_schools"} <= set(models.CATALOG)


# ---------------------------------------------------------------- two_gaussians


def test_two_gaussians_map_em_equals_find_map(solved):
    c = solved("two_gaussians")
    assert c.fits["em"].ok and c.fits["map"].ok
    table = c.table
    for name in ("w[0]", "w[1]", "mu[0]", "mu[1]", "sigma[0]", "sigma[1]"):
        assert table.loc[name, "em"] == pytest.approx(table.loc[name, "map"], rel=1e-4), name
    assert c.fits["map"].diagnostics["starts_agree"]


def test_two_gaussians_recovers_the_simulation(solved):
    table = solved("two_gaussians").table
    truth = models.get("two_gaussians").TRUE_PARAMS
    for name, values in truth.items():
        for i, value in enumerate(values):
            row = table.loc[f"{name}[{i}]"]
            assert row["hdi_low"] < value < row["hdi_high"], f"{name}[{i}]={value} outside the 94% HDI"


# ---------------------------------------------------------------- eight_schools


@pytest.fixture(scope="module")
def schools():
    return load_spec("eight_schools")


def test_eight_schools_em_objective_is_the_marginal_log_density(schools):
    """EM's objective = log N(y | mu, sqrt(sigma^2 + tau^2)) + log priors, from an independent PyMC model."""
    y, sigma = schools.data["y"], schools.data["sigma"]
    with pm.Model() as marginal:
        mu = pm.Normal("mu", 0.0, 5.0)
        tau = pm.HalfCauchy("tau", 5.0)
        pm.Normal("y", mu, pm.math.sqrt(sigma**2 + tau**2), observed=y)
    logp = marginal.compile_logp(jacobian=False)
    prior = LogPrior(schools.model, schools.params)
    rng = np.random.default_rng(3)
    for _ in range(20):
        params = {"mu": rng.normal(0, 10), "tau": rng.gamma(1.0, 5.0)}
        _, loglik = schools.em_engine.e_step(params)
        expected = float(logp({"mu": params["mu"], "tau_log__": np.log(params["tau"])}))
        assert abs(loglik + prior(params) - expected) < 1e-8


def test_eight_schools_table_marks_the_boundary_mode(solved):
    c = solved("eight_schools")
    row = c.table.loc["tau"]
    assert "map: on the boundary tau = 0" in row["notes"]
    assert row["map"] < 0.01 and row["mean"] > 2.0  # the peak at 0, the centre of mass well above it
    assert row["gap_sd"] > 0.8
    assert "†" in str(c)  # the printed table marks it
    assert "map: on the boundary" not in c.table.loc["mu", "notes"]


def test_gap_sd_is_mean_minus_map_over_sd(solved):
    table = solved("eight_schools").table
    np.testing.assert_allclose(table["gap_sd"], (table["mean"] - table["map"]) / table["sd"])


# ---------------------------------------------------------------- a researcher's own model file

A, B = rates_model.POSTERIOR  # lam's posterior: Gamma(A, rate B)


@pytest.fixture()
def user_model(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    return rates_model.write(tmp_path / "elsewhere", "my_rates")


def _check_gamma_poisson(parameters, solvers):
    lam = parameters["lam"]
    assert lam["map"] == pytest.approx((A - 1) / B, rel=1e-5)  # mode on lam's own scale
    assert lam["map_unconstrained"] == pytest.approx(A / B, rel=1e-5)  # mode of log(lam)'s density
    assert lam["laplace_sd"] == pytest.approx(np.sqrt(A - 1) / B, rel=1e-3)
    assert lam["mean"] == pytest.approx(A / B, rel=0.05)
    assert lam["sd"] == pytest.approx(np.sqrt(A) / B, rel=0.1)
    assert lam["em"] is None or math.isnan(lam["em"])
    assert solvers["em"]["status"] == "not_applicable"
    assert "no latent variables" in solvers["em"]["message"]


def test_user_model_file_through_compare(user_model, tmp_path):
    c = compare(str(user_model), draws=500, tune=500, chains=2, out=tmp_path / "out")
    _check_gamma_poisson(c.table.to_dict(orient="index"), c.results["solvers"])
    assert (tmp_path / "out" / "my_rates" / "results.nc").is_file()


@pytest.mark.slow
def test_user_model_file_through_cli(user_model, tmp_path):
    out = tmp_path / "cli-out"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "modemean.cli",
            "run",
            str(user_model),
            "--draws",
            "500",
            "--tune",
            "500",
            "--chains",
            "2",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "lam" in proc.stdout and "gap_sd" in proc.stdout
    results = json.loads((out / "my_rates" / "results.json").read_text())
    _check_gamma_poisson(results["parameters"], results["solvers"])


def test_results_files_follow_the_schema(solved, tmp_path):
    import arviz as az

    c = solved("eight_schools")
    folder = c.save(tmp_path)
    text = (folder / "results.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    results = json.loads(text)
    assert {"model", "seed", "versions", "solvers", "parameters"} <= set(results)
    assert {"python", "pymc", "arviz", "modemean"} <= set(results["versions"])
    assert set(results["solvers"]) == {"map", "em", "nuts"}
    for entry in results["solvers"].values():
        assert entry["status"] in ("ok", "failed", "not_applicable") and entry["seconds"] > 0
    assert list(results["parameters"]) == list(c.table.index)
    assert results["parameters"]["eta[0]"]["em"] is None  # latent: EM gives no estimate
    tree = az.from_netcdf(folder / "results.nc")
    assert {"posterior", "sample_stats", "point_estimates", "em_trace"} <= set(tree.children)
    np.testing.assert_allclose(tree["point_estimates"]["map"].values, c.table["map"].to_numpy())
