"""Exact EM for conditionally Gaussian latents, derived from the PyMC graph (comparisons/em/gaussian/).

Every reference here is computed independently of the engine: the marginal likelihood of a linear
mixed model written in numpy/scipy (y ~ N(X beta, Z G Z' + sigma^2 I)), its maximisation by scipy,
and lme4's published ML deviance for Dyestuff.
"""

import numpy as np
import pymc as pm
import pytensor
import pytest
from mixed_reference import lmm_loglik
from scipy import optimize, stats

from modemean.comparisons.density.prior import LogPrior
from modemean.comparisons.em.choose import ContinuousEM
from modemean.comparisons.em.engine import HandWritten
from modemean.comparisons.em.loop import run_em
from modemean.comparisons.errors import ModemeanError
from modemean.comparisons.solvers.em import fit_em
from modemean.comparisons.spec import load_spec, spec_from_parts

LME4_DYESTUFF_ML_DEVIANCE = 327.327059881135  # lme4 tests/lmer-1.R (Dyestuff, REML = FALSE)


# ----------------------------------------------------------------- independent references (numpy/scipy only)


def dyestuff_loglik(data, mu, sigma, tau):
    y = data["y"]
    one = np.ones((len(y), 1))
    return lmm_loglik(y, one, one, data["batch"], np.array([mu]), sigma, np.array([[tau**2]]))


def sleepstudy_loglik(data, beta, sigma, tau, rho):
    y = data["reaction"]
    X = np.column_stack([np.ones_like(y), data["days"]])
    G = np.array([[tau[0] ** 2, rho * tau[0] * tau[1]], [rho * tau[0] * tau[1], tau[1] ** 2]])
    return lmm_loglik(y, X, X, data["subject"], np.asarray(beta), sigma, G)


def maximise(negative, x0):
    """scipy's BFGS (numerical gradients), then Nelder-Mead from there to polish."""
    res = optimize.minimize(negative, x0, method="BFGS", options={"gtol": 1e-8})
    res = optimize.minimize(
        negative,
        res.x,
        method="Nelder-Mead",
        options={"xatol": 1e-9, "fatol": 1e-12, "maxiter": 20000, "maxfev": 20000},
    )
    return res.x, -res.fun


@pytest.fixture(scope="module")
def dyestuff():
    return load_spec("dyestuff")


@pytest.fixture(scope="module")
def sleepstudy():
    return load_spec("sleepstudy")


# ----------------------------------------------------------------- the E-step's objective is the marginal density


def test_objective_is_the_normal_normal_marginal_at_random_parameters(dyestuff, sleepstudy):
    rng = np.random.default_rng(1)
    for _ in range(5):
        p = {"mu": rng.normal(1500, 50), "sigma": rng.uniform(10, 100), "tau": rng.uniform(1, 100)}
        _, loglik = dyestuff.em_engine.e_step(p)
        assert loglik == pytest.approx(dyestuff_loglik(dyestuff.data, **p), rel=1e-10, abs=1e-8)
    for _ in range(5):
        p = {
            "beta": rng.normal([250, 10], [20, 5]),
            "sigma": rng.uniform(10, 50),
            "tau": rng.uniform([5, 1], [50, 15]),
            "rho": rng.uniform(-0.9, 0.9),
        }
        _, loglik = sleepstudy.em_engine.e_step(p)
        assert loglik == pytest.approx(sleepstudy_loglik(sleepstudy.data, **p), rel=1e-10, abs=1e-8)


def test_centred_objective_is_the_marginal_and_blocks_are_found(sleepstudy, dyestuff):
    spec = load_spec("eight_schools_centered")
    y, s = spec.data["y"], spec.data["sigma"]
    rng = np.random.default_rng(2)
    for _ in range(5):
        mu, tau = rng.normal(0, 10), rng.uniform(0.01, 30)
        _, loglik = spec.em_engine.e_step({"mu": mu, "tau": tau})
        assert loglik == pytest.approx(stats.norm.logpdf(y, mu, np.sqrt(s**2 + tau**2)).sum(), rel=1e-10, abs=1e-8)
    assert spec.em_engine.derived.blocks == (8, 1)
    assert dyestuff.em_engine.derived.blocks == (6, 1)
    assert sleepstudy.em_engine.derived.blocks == (18, 2)  # 18 independent 2 x 2 blocks, never a 36 x 36 inverse


# ----------------------------------------------------------------- EM's guarantees


# ----------------------------------------------------------------- ML-EM equals an independent ML fit


def test_dyestuff_mle_equals_independent_fit_and_lme4(dyestuff):
    fit = fit_em(dyestuff, seed=5, n_init=2)
    assert fit.ok and not fit.flags, (fit.message, fit.flags)
    x, best = maximise(
        lambda x: -dyestuff_loglik(dyestuff.data, x[0], np.exp(x[1]), np.exp(x[2])),
        [1500.0, np.log(40.0), np.log(30.0)],
    )
    mle = fit.estimates["mle"]
    assert mle["mu"] == pytest.approx(x[0], abs=1e-4)
    assert mle["sigma"] == pytest.approx(np.exp(x[1]), abs=1e-4)
    assert mle["tau"] == pytest.approx(np.exp(x[2]), abs=1e-4)
    objective = fit.diagnostics["mle"]["restarts"][fit.diagnostics["mle"]["best_restart"]]["objective"]
    assert -2 * objective == pytest.approx(-2 * best, abs=1e-8)
    assert -2 * objective == pytest.approx(LME4_DYESTUFF_ML_DEVIANCE, abs=1e-6)


def test_sleepstudy_mle_equals_independent_fit(sleepstudy):
    fit = fit_em(sleepstudy, seed=5, n_init=1)
    assert fit.ok, fit.message

    def negative(x):
        return -sleepstudy_loglik(sleepstudy.data, x[:2], np.exp(x[2]), np.exp(x[3:5]), np.tanh(x[5]))

    x, best = maximise(negative, [250.0, 10.0, np.log(25.0), np.log(24.0), np.log(6.0), 0.1])
    reference = {
        "beta[0]": x[0],
        "beta[1]": x[1],
        "sigma": np.exp(x[2]),
        "tau[0]": np.exp(x[3]),
        "tau[1]": np.exp(x[4]),
        "rho": np.tanh(x[5]),
    }
    for name, value in reference.items():
        assert fit.estimates["mle"][name] == pytest.approx(value, abs=1e-4), name
    objective = fit.diagnostics["mle"]["restarts"][0]["objective"]
    assert objective == pytest.approx(best, abs=1e-8)
    assert -2 * best == pytest.approx(1751.9393, abs=1e-3)  # lme4: logLik -875.9697 (ML)


# ----------------------------------------------------------------- boundary variance components


def test_dyestuff2_batch_sd_is_on_the_boundary():
    spec = load_spec("dyestuff2")
    fit = fit_em(spec, seed=5, n_init=2)
    assert fit.ok, fit.message
    for column in ("em", "mle"):
        assert fit.estimates[column]["tau"] == 0.0
        assert any(f.column == column and f.kind == "boundary" and f.value == 0 for f in fit.flags["tau"]), fit.flags
        assert all(r["n_iter"] < 50 for r in fit.diagnostics[column]["restarts"])  # stopped, not crawling
    # at tau = 0 the ML fit is the pooled mean and the pooled ML sd
    y = spec.data["y"]
    assert fit.estimates["mle"]["mu"] == pytest.approx(y.mean(), abs=1e-5)
    assert fit.estimates["mle"]["sigma"] == pytest.approx(y.std(), abs=1e-5)
    profile = maximise(
        lambda x: -dyestuff_loglik(spec.data, x[0], np.exp(x[1]), np.exp(x[2])), [5.0, np.log(3.0), np.log(1.0)]
    )[1]
    objective = fit.diagnostics["mle"]["restarts"][fit.diagnostics["mle"]["best_restart"]]["objective"]
    assert objective >= profile - 1e-7  # no interior point is higher


def test_centred_eight_schools_em_equals_non_centred():
    centred = fit_em(load_spec("eight_schools_centered"), seed=5, n_init=2)
    plain = fit_em(load_spec("eight_schools"), seed=5, n_init=2)
    assert centred.ok and plain.ok
    for column in ("em", "mle"):
        for name in ("mu", "tau"):
            assert centred.estimates[column][name] == pytest.approx(plain.estimates[column][name], abs=1e-4), (
                column,
                name,
            )
        assert any(f.column == column and f.kind == "boundary" for f in centred.flags["tau"])


# ----------------------------------------------------------------- validation of LATENT


def _random_intercepts(data):
    with pm.Model() as model:
        mu = pm.Normal("mu", 0, 10)
        tau = pm.HalfNormal("tau", 5)
        a = pm.Normal("a", mu, tau, shape=3)
        pm.Normal("y", a[data["g"]], 1.0, observed=data["y"])
    return model


DATA = {"y": np.array([0.1, 1.2, 2.3, 0.4, 1.5, 2.6]), "g": np.array([0, 1, 2, 0, 1, 2])}


def test_a_researchers_random_effects_model_gets_em_without_hooks():
    spec = spec_from_parts(_random_intercepts, DATA, name="mine", latent=("a",))
    fit = fit_em(spec, seed=1, n_init=2)
    assert fit.ok and set(fit.estimates) == {"em", "mle"} and set(fit.estimates["mle"]) == {"mu", "tau"}


@pytest.mark.parametrize(
    "latent, word", [(("nope",), "'nope', which is not a variable"), (("y",), "'y', which is an observed variable")]
)
def test_a_bad_latent_name_is_a_one_line_error(latent, word):
    with pytest.raises(ModemeanError) as info:
        spec_from_parts(_random_intercepts, DATA, name="mine", latent=latent)
    assert word in str(info.value) and "\n" not in str(info.value)


def _centred_schools(data):
    with pm.Model() as model:
        mu = pm.Normal("mu", 0.0, 5.0)
        tau = pm.HalfCauchy("tau", 5.0)
        theta = pm.Normal("theta", mu, tau, shape=len(data["y"]))
        pm.Normal("y", theta, data["sigma"], observed=data["y"])
    return model


def test_a_hyper_parameter_declared_latent_is_a_one_line_error_at_load():
    # issue 38 item 4: was PyTensor's MissingInputError (Input 0 (z)) at solve time, EM "failed", exit 0
    data = {"y": np.array([28.0, 8.0, -3.0, 7.0]), "sigma": np.array([15.0, 10.0, 16.0, 11.0])}
    with pytest.raises(ModemeanError) as info:
        spec_from_parts(_centred_schools, data, name="schools", latent=("tau",))
    message = str(info.value)
    assert "\n" not in message and "MissingInputError" not in message
    assert "LATENT names 'tau', which cannot be a latent: it is a parameter of the distribution of the free " in message
    assert "variable 'theta'" in message and "declare the random effects it scales instead" in message
    assert spec_from_parts(_centred_schools, data, name="schools", latent=("theta",)).em_reason == ""


def test_a_non_gaussian_latent_gets_the_laplace_engine():
    def poisson_effects(data):
        with pm.Model() as model:
            mu = pm.Normal("mu", 0, 2)
            tau = pm.HalfNormal("tau", 1)
            a = pm.Normal("a", mu, tau, shape=3)
            pm.Poisson("y", pm.math.exp(a[data["g"]]), observed=data["y"])
        return model

    spec = spec_from_parts(poisson_effects, {"y": np.array([0, 3, 5, 1, 2, 7]), "g": DATA["g"]}, latent=("a",))
    assert spec.em_reason == "" and spec.em_engine.kind == "Laplace (approximate)"  # tests/unit/test_laplace_em.py
    assert spec_from_parts(_random_intercepts, DATA, latent=("a",)).em_engine.kind == "exact (Gaussian)"


# ---------------------------------------------------------- eight_schools and beta_blockers: the old closed forms


def normal_normal_e_step(data, params):
    """The hand-written E-step these models had before the automatic one (kept here as the reference):
    eta_j | y, mu, tau is Gaussian with mean m_j and second moment s_j; log p(y | mu, tau) in closed form."""
    y, sigma = data["y"], data["sigma"]
    mu, tau = float(params["mu"]), float(params["tau"])
    precision = 1.0 + tau**2 / sigma**2
    m = tau * (y - mu) / sigma**2 / precision
    loglik = stats.norm.logpdf(y, mu, np.sqrt(sigma**2 + tau**2)).sum()
    return {"m": m, "s": m**2 + 1.0 / precision}, float(loglik)


def normal_normal_m_step(data, expectations, prior):
    """The old hand-written M-step: the concave quadratic Q(mu, tau) (+ log prior) by L-BFGS-B, tau >= 0."""
    y, w = data["y"], 1.0 / data["sigma"] ** 2
    m, s = expectations["m"], expectations["s"]

    def negative(x):
        mu, tau = x
        r = y - mu
        q = -0.5 * np.sum(w * (r**2 - 2 * tau * m * r + tau**2 * s))
        grad = np.array([np.sum(w * (r - tau * m)), np.sum(w * (m * r - tau * s))])
        if prior is not None:
            lp, g = prior.value_and_grad({"mu": mu, "tau": tau})
            q, grad = q + lp, grad + np.array([g["mu"], g["tau"]])
        return -q, -grad

    a = np.array([[w.sum(), (w * m).sum()], [(w * m).sum(), (w * s).sum()]])
    x0 = np.linalg.solve(a, [np.sum(w * y), np.sum(w * m * y)])
    x0[1] = max(x0[1], 0.0)
    res = optimize.minimize(
        negative,
        x0,
        jac=True,
        method="L-BFGS-B",
        bounds=[(None, None), (0.0, None)],
        options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 500},
    )
    return {"mu": float(res.x[0]), "tau": float(res.x[1])}


def normal_normal_starts(data, n_init, rng):
    y = data["y"]
    return [{"mu": np.mean(y), "tau": np.std(y)}] + [
        {"mu": rng.normal(np.mean(y), np.std(y)), "tau": np.std(y) * rng.uniform(0.05, 3.0)} for _ in range(n_init - 1)
    ]


@pytest.mark.parametrize("name", ["eight_schools", "beta_blockers"])
def test_automatic_e_step_reproduces_the_old_closed_forms(name):
    """The migrated models write no EM steps; the engine's objective and estimates equal the old closed forms'.

    The old M-step crawls towards a boundary tau = 0 (eight schools: tau 2.3e-9 with the prior, 1e-8
    without) where the engine's profile stops at exactly 0 and flags it; mu moves by O(tau^2) there.
    """
    spec = load_spec(name)
    assert isinstance(spec.em_engine, ContinuousEM) and spec.em_reason == ""  # derived, not hand-written
    rng = np.random.default_rng(21)
    for _ in range(10):
        p = {"mu": rng.normal(0, 5), "tau": rng.gamma(1.0, 5.0)}
        assert spec.em_engine.e_step(p)[1] == pytest.approx(normal_normal_e_step(spec.data, p)[1], abs=1e-8)
    fit = fit_em(spec, seed=5, n_init=3)
    assert fit.ok and not fit.diagnostics["em"]["n_decreases"], fit.message
    prior = LogPrior(spec.as_written, spec.params)
    for column, log_prior in (("em", prior), ("mle", None)):
        runs = [
            run_em(
                HandWritten(None, normal_normal_e_step, normal_normal_m_step, spec.data),
                s,
                prior=log_prior,
                max_iter=5000,
            )
            for s in normal_normal_starts(spec.data, 3, np.random.default_rng(5))
        ]
        old = max(runs, key=lambda r: r.objective)
        for p in ("mu", "tau"):
            assert fit.estimates[column][p] == pytest.approx(float(old.params[p]), abs=1e-6), (column, p)
        best = fit.diagnostics[column]["restarts"][fit.diagnostics[column]["best_restart"]]["objective"]
        assert best == pytest.approx(old.objective, abs=1e-8)
    if name == "eight_schools":
        assert fit.estimates["em"]["tau"] == 0.0 == fit.estimates["mle"]["tau"]
        assert any(f.column == "em" and f.kind == "boundary" and f.value == 0 for f in fit.flags["tau"])


@pytest.mark.skipif(not pytensor.config.cxx, reason="no C compiler: every engine graph is compiled by numba")
def test_a_failed_c_compile_falls_back_to_numba_for_that_function_only(monkeypatch):
    """A C compile that fails (a compiler error, a cache clash between processes) gives that one function
    numba; the next function is C again (once, a failure switched the whole process)."""
    import pytensor.tensor as pt

    from modemean.comparisons.density import compile as policy

    real, modes = pytensor.function, []

    def function(*args, mode=None, **kwargs):
        modes.append(mode)
        if mode is policy.MODE_C and len(modes) == 1:
            raise RuntimeError("the C compile failed")
        return real(*args, mode=mode, **kwargs)

    monkeypatch.setattr(pytensor, "function", function)
    x = pt.dvector("x")
    first, second = (policy.compile_fast([x], (x**2).sum() + k) for k in (1, 2))
    assert modes == [policy.MODE_C, policy.MODE_FALLBACK, policy.MODE_C]
    assert first(np.array([1.0, 2.0])) == 6.0 and second(np.array([1.0, 2.0])) == 7.0


@pytest.mark.skipif(not pytensor.config.cxx, reason="no C compiler: every engine graph is compiled by numba")
def test_a_compile_lock_held_by_another_process_is_waited_for_not_a_failed_compile(monkeypatch):
    """Another process compiling into the same compiledir can hold its lock past ``compile__timeout`` on a
    loaded machine (issue 38, 8a): the C compile waits again instead of falling back to numba."""
    import filelock
    import pytensor.tensor as pt

    from modemean.comparisons.density import compile as policy

    real, modes = pytensor.function, []

    def function(*args, mode=None, **kwargs):
        modes.append(mode)
        if len(modes) == 1:
            raise filelock.Timeout(pytensor.config.compiledir)  # what PyTensor's lock_ctx raises on its timeout
        return real(*args, mode=mode, **kwargs)

    monkeypatch.setattr(pytensor, "function", function)
    x = pt.dvector("x")
    f = policy.compile_fast([x], (x**2).sum() + 3)
    assert modes == [policy.MODE_C, policy.MODE_C]
    assert f(np.array([1.0, 2.0])) == 8.0
