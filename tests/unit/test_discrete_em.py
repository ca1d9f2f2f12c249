"""EM derived from the PyMC graph for discrete latents: the mixture family, zero inflation, alignment."""

import math

import numpy as np
import pymc as pm
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import special, stats

from modemean import models
from modemean.comparisons.density.prior import LogPrior
from modemean.comparisons.em.discrete import DiscreteLatentEM
from modemean.comparisons.em.engine import HandWritten
from modemean.comparisons.em.loop import run_em
from modemean.comparisons.solvers.em import fit_em
from modemean.comparisons.solvers.map import fit_map
from modemean.comparisons.spec import load_spec, spec_from_parts

DISCRETE = ("two_gaussians", "old_faithful", "zero_inflated_counts", "shift_alignment")
MIXTURES = ("two_gaussians", "old_faithful")
CLOSED_FORM = ("two_gaussians", "old_faithful", "shift_alignment")


@pytest.fixture(scope="module")
def specs():
    return {name: load_spec(name) for name in DISCRETE}


def _engine(spec):
    return DiscreteLatentEM(spec.as_written, spec.latent[0])


def _random_params(spec, engine, rng, n):
    """Random parameter points: the model's initial point jittered by U(-1.5, 1.5) in the unconstrained space."""
    u0 = engine.space.unconstrain(engine.starts(1, rng)[0])
    return [engine.space.point(u0 + rng.uniform(-1.5, 1.5, u0.shape)) for _ in range(n)]


@pytest.mark.parametrize("name", DISCRETE)
def test_the_solvers_see_the_marginalised_model(specs, name):
    spec = specs[name]
    assert spec.written is not None and spec.latent[0] in spec.written.named_vars
    assert spec.latent[0] not in spec.model.named_vars  # summed out for find_MAP / NUTS
    assert {rv.name for rv in spec.model.free_RVs} == set(spec.params)
    assert [o.name for o in spec.model.observed_RVs] == [o.name for o in spec.written.observed_RVs]


def _independent_loglik(name, data, params):
    """The marginal log likelihood from PyMC's built-in marginal distributions, or numpy (not the engine's graph)."""
    if name in MIXTURES:
        x = next(iter(data.values()))
        mixture = pm.NormalMixture.dist(w=params["w"], mu=params["mu"], sigma=params["sigma"])
        return float(pm.logp(mixture, x).sum().eval())
    if name == "zero_inflated_counts":  # PyMC's psi is the probability of the Poisson component
        dist = pm.ZeroInflatedPoisson.dist(psi=1 - params["psi"], mu=params["lam"])
        return float(pm.logp(dist, data["count"]).sum().eval())
    y, signal, sigma = data["y"], params["signal"], float(params["sigma"])
    n, T = y.shape
    prior = models.get("shift_alignment").shift_prior(n, T)
    with np.errstate(divide="ignore"):
        terms = np.log(prior) + np.stack(
            [stats.norm.logpdf(y, np.roll(signal, s), sigma).sum(axis=1) for s in range(T)], axis=1
        )
    return float(special.logsumexp(terms, axis=1).sum())


@pytest.mark.parametrize("name", DISCRETE)
def test_em_log_likelihood_matches_an_independent_marginal_density(specs, name):
    spec = specs[name]
    engine = _engine(spec)
    for params in _random_params(spec, engine, np.random.default_rng(6), 4):
        _, loglik = spec.em_engine.derived.e_step(params)  # the graph's E-step
        expected = _independent_loglik(name, spec.data, params)
        assert abs(loglik - expected) <= 1e-8 * max(1.0, abs(expected)), (loglik, expected)


@pytest.mark.parametrize("name", MIXTURES)
def test_fast_e_step_equals_the_graph_e_step(specs, name):
    spec = specs[name]
    engine = _engine(spec)
    assert engine.fast_e_step(models.get(name).build, spec.data) is not None, "the fast path should apply"
    for params in _random_params(spec, engine, np.random.default_rng(3), 4):
        fast, fast_ll = spec.em_engine.e_step(params)  # the blocked one: the model gives a closed-form M-step
        full, full_ll = spec.em_engine.derived.e_step(params)
        assert fast["resp"] is None
        np.testing.assert_allclose(fast["moments"], full["moments"], rtol=1e-10, atol=1e-10)
        assert math.isclose(fast_ll, full_ll, rel_tol=1e-12)


def test_fast_path_refuses_a_log_joint_that_is_not_quadratic(specs):
    spec = specs["zero_inflated_counts"]
    assert _engine(spec).fast_e_step(models.get("zero_inflated_counts").build, spec.data) is None


@pytest.mark.parametrize("with_prior", [True, False], ids=["map_em", "ml_em"])
@pytest.mark.parametrize("name", CLOSED_FORM)
def test_closed_form_m_step_equals_the_numerical_m_step(specs, name, with_prior):
    spec = specs[name]
    engine = _engine(spec)
    prior = LogPrior(spec.as_written, spec.params) if with_prior else None
    # points along an EM path from the model's first start: at random points overlapping components
    # may swap, where the ordered means' constraint binds for the numerical M-step and the closed
    # form (which does not impose it, see normal_mixture_m_step) differs by design
    em = spec.em_engine
    params = em.starts(1, np.random.default_rng(4))[0]
    for it in range(12):
        expectations, _ = em.derived.e_step(params)
        if it not in (0, 1, 4, 11):
            params = em.m_step(expectations, prior)
            continue
        closed = em.m_step(expectations, prior)
        numerical = engine.m_step(expectations, with_prior)
        for key in closed:
            np.testing.assert_allclose(closed[key], numerical[key], rtol=1e-6, atol=1e-8, err_msg=key)
        params = closed


@pytest.mark.slow
@pytest.mark.parametrize("name", DISCRETE)
def test_map_em_equals_find_map_on_the_marginalised_model(specs, name):
    """Same objective, same optimum: find_MAP run to tight tolerances from the best fit_map start.

    fit_map uses L-BFGS-B's default stopping rule (relative reduction of f below ~2e-9), which
    leaves up to ~1e-5 in the parameters of a 13-dimensional posterior (shift_alignment); the
    tight run removes the optimiser's own slack so the comparison tests the objective.
    """
    spec = specs[name]
    em, mp = fit_em(spec, seed=7), fit_map(spec, seed=7)
    assert em.ok and mp.ok, (em.message, mp.message)
    assert em.converged
    best = max((s for s in mp.diagnostics["starts"] if s["success"]), key=lambda s: s["log_density"])
    tight = pm.find_MAP(
        model=spec.model,
        method="L-BFGS-B",
        jitter=best["start"] > 0,
        random_seed=7 + best["start"],
        progressbar=False,
        return_inferencedata=True,
        options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 20000, "maxcor": 30},
    )
    # ftol 1e-15 is below what a line search can resolve, so L-BFGS-B may end "ABNORMAL" at the optimum:
    # require instead that it is at least as high as fit_map's best point and that the gradient vanishes
    opt = tight.optimizer_result
    assert -float(opt["fun"]) >= best["log_density"] - 1e-9, str(opt["message"].values)
    assert np.max(np.abs(opt["jac"].values)) < 1e-3 * max(1.0, abs(float(opt["fun"]))), str(opt["message"].values)
    for key in mp.estimates["map"]:
        name_, _, index = key.partition("[")
        value = tight.posterior[name_].values[0, 0]
        value = float(value[int(index[:-1])] if index else value)
        assert em.estimates["em"][key] == pytest.approx(value, rel=1e-4), key
        assert mp.estimates["map"][key] == pytest.approx(value, rel=1e-3), key  # fit_map's default stopping rule


@pytest.mark.parametrize("name", MIXTURES)
def test_ml_em_equals_sklearn_from_the_same_start(specs, name):
    mixture = pytest.importorskip("sklearn.mixture")
    spec = specs[name]
    x = np.asarray(next(iter(spec.data.values())), dtype=float)
    start = spec.em_engine.starts(1, np.random.default_rng(0))[0]
    run = run_em(spec.em_engine, start, prior=None, max_iter=5000, tol=1e-12)  # the fast E-step
    gm = mixture.GaussianMixture(
        2,
        covariance_type="spherical",
        tol=1e-14,
        max_iter=20000,
        reg_covar=0.0,
        weights_init=start["w"],
        means_init=start["mu"][:, None],
        precisions_init=1 / start["sigma"] ** 2,
    ).fit(x[:, None])
    np.testing.assert_allclose(run.params["w"], gm.weights_, rtol=1e-4)
    np.testing.assert_allclose(run.params["mu"], gm.means_[:, 0], rtol=1e-4)
    np.testing.assert_allclose(run.params["sigma"], np.sqrt(gm.covariances_), rtol=1e-4)
    assert run.trace[-1] == pytest.approx(gm.score(x[:, None]) * len(x), rel=1e-9)


def test_shift_alignment_recovers_the_signal_up_to_a_cyclic_shift(specs, capsys):
    spec = specs["shift_alignment"]
    truth = models.get("shift_alignment").TRUE_SIGNAL
    fit = fit_em(spec, seed=7)
    T = len(truth)
    # the oracle: the same observations averaged back with the TRUE shifts (what EM cannot know)
    y, shift = spec.data["y"], spec.data["shift"]
    oracle = np.mean([np.roll(y[i], -shift[i]) for i in range(len(y))], axis=0)
    oracle_error = np.linalg.norm(oracle - truth) / np.linalg.norm(truth)
    for column in ("em", "mle"):
        est = np.array([fit.estimates[column][f"signal[{t}]"] for t in range(T)])
        errors = [np.linalg.norm(np.roll(est, c) - truth) / np.linalg.norm(truth) for c in range(T)]
        best = int(np.argmin(errors))
        with capsys.disabled():
            print(
                f"\nshift_alignment {column}: relative error {errors[best]:.4f} at cyclic shift {best} "
                f"(oracle with the true shifts: {oracle_error:.4f})"
            )
        assert best == 0  # observation 0 fixes the frame: no shift left to undo
        assert errors[best] < 1.5 * oracle_error
        assert min(errors[c] for c in range(T) if c != best) > 3 * errors[best]


def test_degenerate_component_is_reported_with_what_to_do():
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.normal(0, 1, 30), [4.0, 4.0]])
    build = models.get("two_gaussians").build
    spec = spec_from_parts(
        build, {"x": x}, name="collapse", latent=("z",), em={"m_step": models.get("two_gaussians").m_step}
    )
    start = {"w": np.array([0.9, 0.1]), "mu": np.array([0.0, 4.0]), "sigma": np.array([1.0, 0.01])}
    em = spec.em_engine
    graph = HandWritten(None, lambda _, p: em.derived.e_step(p), lambda _, e, prior: em.m_step(e, prior), spec.data)
    run = run_em(graph, start, prior=None, max_iter=500)
    assert run.degenerate and "collapsed" in run.error and "What to do" in run.error


DATASETS = st.lists(
    st.sampled_from([-2.0, -1.0, 0.0, 0.5, 1.0, 3.0]) | st.floats(-5, 5, allow_nan=False), min_size=1, max_size=12
)


@pytest.mark.slow
@settings(max_examples=12, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(x=DATASETS)
def test_property_em_never_decreases_and_never_raises_on_random_mixture_data(x):
    """Tiny N and duplicate points: restarts may degenerate (reported), but none raises or decreases."""
    module = models.get("two_gaussians")
    spec = spec_from_parts(module.build, {"x": np.array(x)}, name="random", latent=("z",), em={"m_step": module.m_step})
    fit = fit_em(spec, seed=0, n_init=2, max_iter=200)
    assert fit.status in ("ok", "failed")
    for column in ("em", "mle"):
        for trace, restart in zip(fit.traces[column], fit.diagnostics[column]["restarts"], strict=True):
            steps = np.diff(trace[np.isfinite(trace)])
            assert restart["n_decreases"] == 0
            assert steps.size == 0 or steps.min() >= -1e-12 * max(1.0, np.max(np.abs(trace[np.isfinite(trace)])))


@pytest.mark.slow
@settings(max_examples=8, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(counts=st.lists(st.integers(0, 6), min_size=1, max_size=10))
def test_property_zero_inflated_em_never_decreases(counts):
    module = models.get("zero_inflated_counts")
    spec = spec_from_parts(module.build, {"count": np.array(counts, dtype="int64")}, name="zi", latent=("z",))
    fit = fit_em(spec, seed=0, n_init=2, max_iter=200)
    assert fit.status in ("ok", "failed")
    for column in ("em", "mle"):
        for restart in fit.diagnostics[column]["restarts"]:
            assert restart["n_decreases"] == 0


@pytest.mark.parametrize("name", DISCRETE)
def test_compare_runs_every_solver_and_nuts_is_clean(solved, name, capsys):
    c = solved(name)
    for method in ("map", "em", "nuts"):
        assert c.fits[method].ok, (method, c.fits[method].message)
    nuts = c.fits["nuts"].diagnostics
    row = c.table.loc[c.table["skewness"].abs().idxmax()]
    with capsys.disabled():
        print(
            f"\n{name}: most skewed {row.name}: map {row['map']:.4g} em {row['em']:.4g} mle {row['mle']:.4g} "
            f"mean {row['mean']:.4g} sd {row['sd']:.4g} gap_sd {row['gap_sd']:+.3f} skew {row['skewness']:+.2f}; "
            f"divergences {nuts['divergences']}, max R-hat {nuts['max_r_hat']:.4f}"
        )
    assert nuts["divergences"] == 0
    assert nuts["max_r_hat"] <= 1.01
