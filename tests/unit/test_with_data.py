"""``ModelSpec.with_data`` (the same model on other data) and ``observed_keys`` (which data array is observed)."""

import numpy as np
import pytest

from modemean.comparisons.em.discrete.graph import observed_value
from modemean.comparisons.errors import ModemeanError
from modemean.comparisons.spec import load_spec, observed_keys, spec_from_parts


def _logp(spec, point):
    return float(spec.model.compile_logp()(point))


def test_with_data_rebuilds_the_model_on_the_new_observations():
    spec = load_spec("eight_schools")
    assert observed_keys(spec) == {"y": "y"}
    y = spec.data["y"] + np.arange(8.0)
    other = spec.with_data({**spec.data, "y": y})
    np.testing.assert_array_equal(observed_value(other.model, other.model["y"]), y)
    assert other.name == spec.name and other.info == spec.info and other.sample_kwargs == spec.sample_kwargs
    assert other.em_engine.kind == spec.em_engine.kind == "exact (Gaussian)"
    point = spec.model.initial_point()
    # the observation term changes by exactly the Normal log density of the new y against the old
    sigma = spec.data["sigma"]
    change = -0.5 * np.sum(((y - 0.0) / sigma) ** 2 - ((spec.data["y"] - 0.0) / sigma) ** 2)
    assert _logp(other, point) - _logp(spec, point) == pytest.approx(change, rel=1e-10)
    # the original data give back the original density, and the original spec is untouched
    assert _logp(spec.with_data(spec.data), point) == pytest.approx(_logp(spec, point), rel=1e-12)
    np.testing.assert_array_equal(observed_value(spec.model, spec.model["y"]), spec.data["y"])


def test_with_data_keeps_a_discrete_latent_marginalised():
    spec = load_spec("two_gaussians")
    assert observed_keys(spec) == {"x": "x"}
    other = spec.with_data({"x": spec.data["x"][::-1].copy()})
    assert other.written is not None and other.em_engine.kind == "exact (discrete)"
    point = spec.model.initial_point()
    assert _logp(other, point) == pytest.approx(_logp(spec, point), rel=1e-10)  # a mixture ignores the order


def test_each_specs_em_engine_reads_its_own_data():
    """Specs that share one model share its compiled EM engine, but each reads its own data (the model
    file's em_starts and m_step take ``data``): the engine is bound to them when ``em_engine`` is read."""
    spec = load_spec("two_gaussians")
    other = spec.with_data({"x": spec.data["x"] + 3.0})
    theirs = other.em_engine  # reading it loads other's observations into the shared model
    fresh = spec_from_parts(spec.build, other.data, latent=spec.latent, em=spec.hooks).em_engine
    starts = [e.starts(3, np.random.default_rng(0)) for e in (theirs, fresh)]
    start = starts[0][2]
    np.testing.assert_array_equal(start["mu"], starts[1][2]["mu"])
    their_ll = theirs.e_step(start)[1]
    assert their_ll == fresh.e_step(start)[1]
    mine = spec.em_engine  # this spec's observations again
    assert mine.derived is theirs.derived and mine.data is spec.data and theirs.data is other.data
    np.testing.assert_allclose(mine.starts(3, np.random.default_rng(0))[2]["mu"], start["mu"] - 3.0, atol=1e-12)
    assert mine.e_step(start)[1] == load_spec("two_gaussians").em_engine.e_step(start)[1] != their_ll


def test_with_data_refuses_other_keys_or_shapes():
    spec = load_spec("eight_schools")
    with pytest.raises(ModemeanError, match=r"keys \['sigma', 'y'\]"):
        spec.with_data({"y": spec.data["y"]})
    with pytest.raises(ModemeanError, match=r"data\['y'\] has shape \(7,\).*same shapes"):
        spec.with_data({**spec.data, "y": spec.data["y"][:7]})


def test_observed_keys_finds_missing_entries_and_refuses_a_computed_observation():
    import pymc as pm

    def build(data):
        with pm.Model() as model:
            mu = pm.Normal("mu")
            pm.Normal("y", mu, 1.0, observed=data["y"])
        return model

    y = np.array([0.5, np.nan, 1.5, 2.0])
    with pytest.warns(pm.exceptions.ImputationWarning):
        spec = spec_from_parts(build, {"y": y})
    assert observed_keys(spec) == {"y_observed": "y"}

    def computed(data):
        with pm.Model() as model:
            pm.Normal("y", pm.Normal("mu"), 1.0, observed=np.log(data["y"]))
        return model

    with pytest.raises(ModemeanError, match="'y' is not one of the data arrays"):
        observed_keys(spec_from_parts(computed, {"y": np.array([1.0, 2.0])}))


def test_an_observation_held_in_the_models_own_pm_data_is_rebuilt_on_new_data():
    import pymc as pm

    def build(data):
        with pm.Model() as model:
            y = pm.Data("y", data["y"])
            pm.Normal("obs", pm.Normal("mu"), 1.0, observed=y)
        return model

    spec = spec_from_parts(build, {"y": np.array([0.5, 1.5, 2.0])})
    assert observed_keys(spec) == {"obs": "y"}
    other = spec.with_data({"y": np.array([3.0, 4.0, 5.0])})
    point = {"mu": np.array(0.0)}
    assert _logp(other, point) - _logp(spec, point) == pytest.approx(-0.5 * (9 + 16 + 25 - 0.25 - 2.25 - 4), rel=1e-12)
