"""Pathfinder's memory follows the iterations L-BFGS takes, not its budget (issue 38, item 6).

BlackJAX keeps the whole L-BFGS path and estimates the ELBO at every point of it at once: with the
default budget of 1000 iterations a 5-parameter mixture with N = 1000 that stops after 82 held 7.1 GB.
The budget now grows from a small one only while L-BFGS uses all of it, and the result is the result
of the full budget, bitwise.
"""

import numpy as np
import pymc as pm
import pytest

from modemean.comparisons.solvers.approximations import pathfinder
from modemean.comparisons.solvers.approximations.pathfinder import available, budgets, fit_pathfinder, stopped_early
from modemean.comparisons.spec import spec_from_parts

SEED = 20261126


def test_budgets_double_from_the_first_and_end_at_maxiter():
    assert budgets(1000) == [64, 128, 256, 512, 1000]
    assert budgets(1000, first=100) == [100, 200, 400, 800, 1000]
    assert budgets(64) == [64] and budgets(65) == [64, 65] and budgets(5) == [5]
    for maxiter in (1, 63, 64, 83, 1000, 5000):
        tried = budgets(maxiter)
        assert tried[-1] == maxiter and tried == sorted(set(tried))
        # the run kept for an L-BFGS that takes k steps (the first budget above k) holds at most 2k + 1 points
        for k in (1, 10, 82, 500):
            kept = next(b for b in tried if b > k or b == maxiter)
            assert kept <= max(2 * k, pathfinder.FIRST_BUDGET) or kept == maxiter


def test_a_path_stopped_early_repeats_its_last_point():
    x = np.arange(12.0).reshape(6, 2)
    g = -x
    assert not stopped_early(x, g)  # every point differs: L-BFGS used the whole budget
    x[-1], g[-1] = x[-2], g[-2]
    assert stopped_early(x, g)
    x[-2:, 0] = np.nan  # a NaN point repeated is still a repeat
    assert stopped_early(x, g)
    assert not stopped_early(x[:1], g[:1])


def _build(data):
    with pm.Model() as model:
        w = pm.Dirichlet("w", a=np.full(2, 2.0))
        mu = pm.Normal("mu", np.array([-1.0, 1.0]), 5.0, transform=pm.distributions.transforms.ordered)
        sigma = pm.HalfNormal("sigma", 3.0, shape=2)
        pm.NormalMixture("x", w=w, mu=mu, sigma=sigma, observed=data["x"])
    return model


@pytest.mark.slow
@pytest.mark.skipif(not available(), reason="BlackJAX is not installed: pip install 'modemean[approx]'")
def test_the_default_budget_gives_the_result_of_a_budget_just_above_the_stop(monkeypatch):
    rng = np.random.default_rng(3)
    x = np.where(rng.random(200) < 0.4, rng.normal(-2.0, 1.0, 200), rng.normal(1.5, 1.3, 200))
    spec = spec_from_parts(_build, {"x": x}, name="mixture")
    monkeypatch.setattr(pathfinder, "FIRST_BUDGET", 4)  # so that the budget has to grow on this small model
    default = fit_pathfinder(spec, seed=SEED, draws=500)
    assert default.ok, default.message
    steps = default.diagnostics["lbfgs_iterations"] + 1  # the path's finite points: the start, then one per step
    assert steps > 4 and default.diagnostics["lbfgs_budget"] <= 2 * steps  # it grew, and no further than needed
    monkeypatch.setattr(pathfinder, "FIRST_BUDGET", 10_000)  # one run with the budget given
    just_above = fit_pathfinder(spec, seed=SEED, draws=500, maxiter=steps + 1)
    assert just_above.diagnostics["lbfgs_budget"] == steps + 1
    for name in ("lbfgs_iterations", "chosen_point", "elbo"):
        assert default.diagnostics[name] == just_above.diagnostics[name], name
    assert default.estimates == just_above.estimates
    for name, values in default.draws.posterior.data_vars.items():
        assert np.array_equal(values.values, just_above.draws.posterior[name].values), name
