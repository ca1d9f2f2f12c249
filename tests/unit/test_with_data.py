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
