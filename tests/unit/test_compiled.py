"""Compile once: ``with_data`` on new observations reuses every compiled function, and gives the
answers a fresh build on those observations gives (comparisons/compiled.py)."""

import warnings

import numpy as np
import pymc as pm
import pytest
from compiles import Compiles

from modemean.comparisons.solvers import SOLVERS
from modemean.comparisons.spec import load_spec, spec_from_parts

MAP = {"n_starts": 1}  # start 0 alone: the equalities below hold start by start
EM = {"n_init": 1}


def _fresh(spec, data):
    """The spec a new load on ``data`` gives: built and compiled afresh, nothing shared."""
    return spec_from_parts(
        spec.build, data, name=spec.name, latent=spec.latent, em=spec.hooks, sample_kwargs=spec.sample_kwargs
    )


def _simulated(spec, key, seed, scale=None):
    rng = np.random.default_rng(seed)
    y = np.asarray(spec.data[key], dtype=float)
    scale = np.nanstd(y) * 0.2 if scale is None else scale
    return {**spec.data, key: y + rng.normal(0.0, scale, y.shape)}


def _same_fit(a, b):
    assert a.status == b.status and a.message == b.message
    assert a.estimates.keys() == b.estimates.keys()
    for column in a.estimates:
        assert a.estimates[column].keys() == b.estimates[column].keys()
        for name, value in a.estimates[column].items():
            assert value == pytest.approx(b.estimates[column][name], rel=1e-10, abs=1e-12), (column, name)
    for column in a.traces:
        for x, y in zip(a.traces[column], b.traces[column], strict=True):
            np.testing.assert_allclose(x, y, rtol=1e-10)


def _fit(name, spec, **options):
    return SOLVERS[name].fit(spec, seed=3, **options)


def test_eight_schools_refit_compiles_nothing_and_equals_a_fresh_build(monkeypatch):
    spec = load_spec("eight_schools")
    first = {s: _fit(s, spec, **o) for s, o in (("map", MAP), ("em", EM))}
    a = spec.with_data(_simulated(spec, "y", 1))  # the first call checks the swap against a rebuild, once
    assert a.model is spec.model and a.compiled is spec.compiled and a.compiled.swappable
    data = _simulated(spec, "y", 2)
    count = Compiles(monkeypatch)
    b = spec.with_data(data)
    fits = {s: _fit(s, b, **o) for s, o in (("map", MAP), ("em", EM))}
    assert len(count) == 0, count.where
    monkeypatch.undo()
    fresh = _fresh(spec, data)
    assert fresh.compiled is not spec.compiled
    for s, o in (("map", MAP), ("em", EM)):
        _same_fit(fits[s], _fit(s, fresh, **o))
    # the earlier spec is still itself: its observations are loaded back when it is solved
    for s, o in (("map", MAP), ("em", EM)):
        _same_fit(first[s], _fit(s, spec, **o))
    assert fits["map"].estimates["map"]["mu"] != first["map"].estimates["map"]["mu"]


@pytest.mark.slow
def test_nuts_refit_samples_the_fresh_builds_draws_compiling_only_the_trace(monkeypatch):
    spec = load_spec("eight_schools")
    options = {"draws": 60, "tune": 60, "chains": 2, "sampler": "pymc"}
    first = _fit("nuts", spec, **options)
    data = _simulated(spec, "y", 4)
    other = spec.with_data(data)
    count = Compiles(monkeypatch)
    fit = _fit("nuts", other, **options)
    monkeypatch.undo()
    # left: pymc's trace backend compiles its point function per chain (a new graph each call), and the frozen
    # model hands out a copy of its compiled log density (no rewriting, no code generation)
    unexpected = [w for w in count.where if "backends/base.py" not in w and "executor.py:copy" not in w]
    assert unexpected == [] and len(count) <= options["chains"] + 1, count.where
    fresh = _fit("nuts", _fresh(spec, data), **options)
    np.testing.assert_array_equal(fit.draws.posterior["mu"].values, fresh.draws.posterior["mu"].values)
    np.testing.assert_array_equal(fit.draws.observed_data["y"].values, data["y"])
    again = _fit("nuts", spec, **options)
    np.testing.assert_array_equal(again.draws.posterior["mu"].values, first.draws.posterior["mu"].values)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("model", "key", "solvers"),
    [
        ("two_gaussians", "x", ("em",)),  # discrete latent, EM's blocked fast path (data read as arrays)
        ("dyestuff", "y", ("em",)),  # exact Gaussian EM
        ("rat_tumors_logit", "y", ("em",)),  # Laplace EM
    ],
)
def test_refit_of_em_engines_equals_a_fresh_build(model, key, solvers, monkeypatch):
    spec = load_spec(model)
    options = {"map": MAP, "em": EM}
    for s in solvers:  # the engines run (and keep warm starts) on the original data first
        _fit(s, spec, **options[s])
    if model == "rat_tumors_logit":  # counts: resample within each group's size
        rng = np.random.default_rng(5)
        data = {**spec.data, key: rng.binomial(spec.data["n"], 0.15).astype(spec.data[key].dtype)}
    else:
        data = _simulated(spec, key, 5)
    spec.with_data(_simulated(spec, key, 6) if model != "rat_tumors_logit" else data)
    count = Compiles(monkeypatch)
    other = spec.with_data(data)
    fits = {s: _fit(s, other, **options[s]) for s in solvers}
    assert len(count) == 0, count.where
    monkeypatch.undo()
    assert other.model is spec.model
    fresh = _fresh(spec, data)
    for s in solvers:
        _same_fit(fits[s], _fit(s, fresh, **options[s]))


def _missing_build(data):
    with pm.Model() as model:
        mu = pm.Normal("mu", 0.0, 10.0)
        sigma = pm.HalfNormal("sigma", 5.0)
        pm.Normal("y", mu, sigma, observed=data["y"])
    return model


@pytest.mark.slow
def test_missing_observations_swap_with_the_same_gaps_and_rebuild_with_others(monkeypatch):
    y = np.array([1.2, np.nan, 0.3, 2.5, np.nan, 1.9, 0.7, 1.1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pm.exceptions.ImputationWarning)
        spec = spec_from_parts(_missing_build, {"y": y}, name="gaps")
        _fit("map", spec, **MAP)
        _fit("em", spec, **EM)
        spec.with_data({"y": y + 0.5})
        new = y * 1.5 - 0.2
        count = Compiles(monkeypatch)
        other = spec.with_data({"y": new})
        fits = {s: _fit(s, other, **o) for s, o in (("map", MAP), ("em", EM))}
        assert len(count) == 0, count.where
        monkeypatch.undo()
        fresh = _fresh(spec, {"y": new})
        for s, o in (("map", MAP), ("em", EM)):
            _same_fit(fits[s], _fit(s, fresh, **o))
        # complete cases: EM's mle is the sample mean of the observed entries
        assert fits["em"].estimates["mle"]["mu"] == pytest.approx(np.nanmean(new), rel=1e-6)
        moved = new.copy()
        moved[[1, 2]] = moved[[2, 1]]  # another entry missing: the model changes, so it is rebuilt
        rebuilt = spec.with_data({"y": moved})
    assert rebuilt.compiled is not spec.compiled


def test_a_changed_covariate_rebuilds_and_a_build_using_the_observations_is_never_swapped():
    spec = load_spec("eight_schools")
    other = spec.with_data({**spec.data, "sigma": spec.data["sigma"] * 2})
    assert other.compiled is not spec.compiled and other.model is not spec.model

    def centred(data):  # uses the observations twice: as data and for the prior's centre
        with pm.Model() as model:
            mu = pm.Normal("mu", float(np.mean(data["y"])), 1.0)
            pm.Normal("y", mu, 1.0, observed=data["y"])
        return model

    spec = spec_from_parts(centred, {"y": np.array([0.0, 1.0, 2.0])})
    other = spec.with_data({"y": np.array([5.0, 6.0, 7.0])})
    assert spec.compiled.swappable is False and other.compiled is not spec.compiled
    point = {"mu": np.array(6.0)}
    assert float(other.model.compile_logp()(point)) == pytest.approx(
        float(_fresh(spec, {"y": np.array([5.0, 6.0, 7.0])}).model.compile_logp()(point)), rel=1e-12
    )
