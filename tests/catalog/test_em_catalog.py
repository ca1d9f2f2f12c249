"""Every catalog model where EM applies, through the shared checkers (no sampler, no solved catalog).

- EM's objective (E-step log likelihood + log prior) equals the model's own log density with the latents
  integrated out (:func:`checkers.model_log_density`) at random parameters (:func:`checkers.random_params`);
- EM's objective never decreases on a short run from random parameters, and on runs to convergence from
  the model's own starts, with and without the prior (exact E-steps only: the Laplace engine's objective
  is approximate and may dip, which is reported);
- the responsibilities of a discrete latent are probabilities over its labels.

A model added to the catalog with a LATENT is picked up here with nothing to write.
"""

import numpy as np
import pytest
from checkers import (
    assert_em_climbs,
    assert_responsibilities,
    em_models,
    em_objective,
    engine,
    graph_e_step,
    model_log_density,
    random_params,
    short_em_run,
)

EM_MODELS = em_models()
N_POINTS = 3  # random parameter points per model
N_ITER = 15  # iterations of the short EM runs
N_STARTS = 5  # of the model's own starts, run to convergence
# as many as the per-model tests this suite replaced ran where they ran fewer (each run costs seconds there)
FEWER_STARTS = {"sleepstudy": 1, "dyestuff2": 1, "dyestuff": 2, "eight_schools_centered": 2, "zero_inflated_counts": 3}
FEWER_STARTS |= {"two_gaussians": 4, "old_faithful": 3, "shift_alignment": 3}
SLOW_TO_CONVERGE = {"image_alignment", "image_alignment_learned"}  # 25,600 pixels: tens of seconds per run


def test_every_em_model_is_checked():
    assert {"two_gaussians", "eight_schools", "sleepstudy", "rat_tumors_logit", "bioassay"} <= set(EM_MODELS)


@pytest.mark.parametrize("name", EM_MODELS)
def test_em_objective_is_the_model_log_density(spec, name):
    s = spec(name)
    rng = np.random.default_rng(20261126)
    for _ in range(N_POINTS):
        params = random_params(s, rng)
        expected = model_log_density(s, params)
        total = em_objective(s, params)
        assert np.isfinite(expected)
        assert abs(total - expected) <= 1e-8 * max(1.0, abs(expected)), (params, total, expected)


@pytest.mark.parametrize("with_prior", [True, False], ids=["map_em", "ml_em"])
@pytest.mark.parametrize("name", EM_MODELS)
def test_em_objective_never_decreases_from_random_parameters(spec, name, with_prior):
    s = spec(name)
    if engine(s).kind == "Laplace (approximate)":
        pytest.skip("the Laplace engine's objective is approximate: EM does not guarantee it increases")
    start = random_params(s, np.random.default_rng(7))
    run = short_em_run(s, start, with_prior, N_ITER)
    assert run.n_iter >= 1
    assert_em_climbs(run)


@pytest.mark.parametrize("with_prior", [True, False], ids=["map_em", "ml_em"])
@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW_TO_CONVERGE else n for n in EM_MODELS]
)
def test_em_climbs_to_convergence_from_the_models_starts(spec, name, with_prior):
    """From each of the model's own first ``N_STARTS`` starts, EM converges and its objective never decreases."""
    s = spec(name)
    if engine(s).kind == "Laplace (approximate)":
        pytest.skip("the Laplace engine's objective is approximate: EM does not guarantee it increases")
    for start in engine(s).starts(FEWER_STARTS.get(name, N_STARTS), np.random.default_rng(12)):
        run = short_em_run(s, start, with_prior, 1000)
        assert not run.error, run.error
        assert_em_climbs(run)
        assert run.converged, run.n_iter


@pytest.mark.parametrize("name", EM_MODELS)
def test_responsibilities_sum_to_one(spec, name):
    s = spec(name)
    if engine(s).kind != "exact (discrete)":
        pytest.skip("no discrete latent")
    written = s.as_written
    z_shape = written.initial_point()[written.rvs_to_values[written[s.latent[0]]].name].shape
    rng = np.random.default_rng(3)
    for _ in range(N_POINTS):
        expectations, loglik = graph_e_step(s)(random_params(s, rng))  # the graph's E-step (not the fast one)
        resp = expectations["resp"]
        assert np.isfinite(loglik)
        assert resp.shape[:-1] == z_shape and resp.shape[-1] >= 2  # one probability per label, per latent entry
        assert_responsibilities(resp)
