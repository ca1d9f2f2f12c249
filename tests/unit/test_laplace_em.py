"""Laplace-EM for continuous latents that are not conditionally Gaussian (comparisons/em/laplace.py).

The references are independent of the engine, in numpy/scipy only: per group, a 1-D Newton to the
conditional mode of the random effect, the Laplace-approximate marginal likelihood (what lme4's
``glmer(nAGQ = 1)`` maximises) and an adaptive Gauss-Hermite quadrature of the exact marginal
(25 nodes per group, centred and scaled at the mode), each maximised by scipy.

The engine's M-step includes the mode-to-mean shift, so its fixed point is the Laplace ML estimate
itself (module docstring): the ``mle`` column must equal the Laplace reference to the EM's stopping
accuracy (1e-5; the engine stops when no parameter moves by 1e-8 relative in a cycle, and its cycles
contract fast), the objective to 1e-8. The exact (quadrature) MLE differs from both by the Laplace
error, here about 2e-2 in tau: the test asserts that too, so an engine that silently computed some
other approximation, or the exact marginal, would fail.
"""

import numpy as np
import pymc as pm
import pytest
from scipy import optimize, special, stats

from modemean.comparisons.em.loop import run_em
from modemean.comparisons.solvers.em import fit_em
from modemean.comparisons.spec import spec_from_parts

TOL = 1e-5


def simulate(kind, groups, per_group, seed):
    """Seeded random-intercept data: ``y`` (Bernoulli or Poisson), a covariate ``x`` and group ``g``."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(groups), per_group)
    x = rng.normal(size=g.size)
    effect = rng.normal(-0.5 if kind == "logit" else 0.3, 1.0 if kind == "logit" else 0.7, groups)
    lin = effect[g] + (0.8 if kind == "logit" else 0.5) * x
    y = (rng.random(g.size) < special.expit(lin)).astype(int) if kind == "logit" else rng.poisson(np.exp(lin))
    return {"y": y, "g": g, "x": x}


def random_intercepts(kind):
    def build(data):
        with pm.Model() as model:
            mu = pm.Normal("mu", 0, 5)
            beta = pm.Normal("beta", 0, 5)
            tau = pm.HalfNormal("tau", 2)
            a = pm.Normal("a", mu, tau, shape=int(data["g"].max()) + 1)
            lin = a[data["g"]] + beta * data["x"]
            if kind == "logit":
                pm.Bernoulli("y", logit_p=lin, observed=data["y"])
            else:
                pm.Poisson("y", pm.math.exp(lin), observed=data["y"])
        return model

    return build


# ----------------------------------------------------------------- independent references (numpy/scipy only)


def _group_terms(kind, data, a, offset):
    """Per observation: log p(y | a_g + offset), its first and second derivative in a_g."""
    lin = a[data["g"]] + offset
    y = data["y"]
    if kind == "binomial":
        n, p = data["n"], special.expit(lin)
        return (
            (
                y * lin
                - n * np.logaddexp(0, lin)
                + special.gammaln(n + 1)
                - special.gammaln(y + 1)
                - special.gammaln(n - y + 1)
            ),
            y - n * p,
            -n * p * (1 - p),
        )
    if kind == "logit":
        p = special.expit(lin)
        return y * lin - np.logaddexp(0, lin), y - p, -p * (1 - p)
    lam = np.exp(lin)
    return y * lin - lam - special.gammaln(y + 1), y - lam, -lam


def conditional_modes(kind, data, mu, beta, tau):
    """Each group's mode of log p(y_g, a_g) by 1-D Newton (concave: steps of at most 1 converge), and the log
    joint and its curvature there."""
    g = data["g"]
    G = g.max() + 1
    a = np.full(G, mu, dtype=float)
    for _ in range(100):
        _, d1, d2 = _group_terms(kind, data, a, beta * data["x"])
        step = -(np.bincount(g, d1, G) - (a - mu) / tau**2) / (np.bincount(g, d2, G) - 1 / tau**2)
        step = np.clip(step, -1.0, 1.0)  # damped: a full logistic Newton step from far away overshoots
        a = a + step
        if np.max(np.abs(step)) < 1e-14:
            break
    ll, _, d2 = _group_terms(kind, data, a, beta * data["x"])
    f = np.bincount(g, ll, G) + stats.norm.logpdf(a, mu, tau)
    return a, f, np.bincount(g, d2, G) - 1 / tau**2


def laplace_loglik(kind, data, mu, beta, tau):
    """sum_g [f_g(a_g*) + 1/2 log 2 pi - 1/2 log(-f_g''(a_g*))]: glmer's nAGQ = 1 objective."""
    _, f, h = conditional_modes(kind, data, mu, beta, tau)
    return float(np.sum(f + 0.5 * np.log(2 * np.pi) - 0.5 * np.log(-h)))


def agq_loglik(kind, data, mu, beta, tau, nodes=25):
    """The exact marginal by adaptive Gauss-Hermite quadrature (glmer's nAGQ = 25)."""
    a, _, h = conditional_modes(kind, data, mu, beta, tau)
    s = 1 / np.sqrt(-h)
    t, w = np.polynomial.hermite.hermgauss(nodes)
    A = a[:, None] + np.sqrt(2) * s[:, None] * t[None, :]  # (G, K) nodes per group
    g, G = data["g"], len(a)
    ll = np.stack([_group_terms(kind, data, A[:, k], beta * data["x"])[0] for k in range(nodes)], axis=1)
    f = np.stack([np.bincount(g, ll[:, k], G) for k in range(nodes)], axis=1) + stats.norm.logpdf(A, mu, tau)
    return float(np.sum(np.log(np.sqrt(2) * s) + special.logsumexp(f + t**2, b=w, axis=1)))


def maximise(loglik):
    """scipy: BFGS then Nelder-Mead over (mu, beta, log tau)."""
    negative = lambda x: -loglik(x[0], x[1], np.exp(x[2]))  # noqa: E731
    res = optimize.minimize(negative, [0.0, 0.0, 0.0], method="BFGS", options={"gtol": 1e-9})
    res = optimize.minimize(
        negative,
        res.x,
        method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-13, "maxiter": 20000, "maxfev": 20000},
    )
    return {"mu": res.x[0], "beta": res.x[1], "tau": np.exp(res.x[2])}, -res.fun


CASES = {"logit": ("logit", 30, 10, 14), "poisson": ("poisson", 30, 5, 7)}


@pytest.fixture(scope="module", params=list(CASES))
def case(request):
    kind, groups, per_group, seed = CASES[request.param]
    data = simulate(kind, groups, per_group, seed)
    spec = spec_from_parts(random_intercepts(kind), data, name=f"{kind}_intercepts", latent=("a",))
    return kind, spec


# ----------------------------------------------------------------- the objective and the estimates


def test_objective_is_the_laplace_marginal_at_random_parameters(case):
    kind, spec = case
    assert spec.em_reason == "" and spec.em_engine.kind == "Laplace (approximate)"
    rng = np.random.default_rng(3)
    for _ in range(5):
        p = {"mu": rng.normal(0, 1), "beta": rng.normal(0, 1), "tau": rng.uniform(0.2, 2.0)}
        _, loglik = spec.em_engine.e_step(p)
        assert loglik == pytest.approx(laplace_loglik(kind, spec.data, **p), abs=1e-8)


def test_mle_is_the_laplace_ml_estimate_not_the_exact_one(case):
    kind, spec = case
    fit = fit_em(spec, seed=1, n_init=2)
    assert fit.ok and fit.diagnostics["em_kind"] == "Laplace (approximate)"
    assert "approximate" in fit.message
    laplace, best = maximise(lambda mu, beta, tau: laplace_loglik(kind, spec.data, mu, beta, tau))
    exact, _ = maximise(lambda mu, beta, tau: agq_loglik(kind, spec.data, mu, beta, tau))
    mle = fit.estimates["mle"]
    for name in ("mu", "beta", "tau"):
        assert mle[name] == pytest.approx(laplace[name], abs=TOL), name
    objective = fit.diagnostics["mle"]["restarts"][fit.diagnostics["mle"]["best_restart"]]["objective"]
    assert objective == pytest.approx(best, abs=1e-8)
    # the Laplace error is far above the tolerance: the engine targets Laplace's marginal, not the exact one
    assert abs(mle["tau"] - exact["tau"]) > 100 * TOL
    # MAP-EM is the mode of Laplace marginal + log prior (priors: N(0, 5), N(0, 5), HalfNormal(2))
    prior = lambda mu, beta, tau: (
        stats.norm.logpdf([mu, beta], 0, 5).sum()  # noqa: E731
        + stats.halfnorm.logpdf(tau, scale=2)
    )
    posterior, _ = maximise(lambda mu, beta, tau: laplace_loglik(kind, spec.data, mu, beta, tau) + prior(mu, beta, tau))
    for name in ("mu", "beta", "tau"):
        assert fit.estimates["em"][name] == pytest.approx(posterior[name], abs=TOL), name


# ----------------------------------------------------------------- a transformed latent: Beta rates in logit space


def test_transformed_latent_is_integrated_in_its_unconstrained_space():
    """theta_j ~ Beta(a, b), y_j ~ Binomial(n_j, theta_j): in t = logit theta (with the log-Jacobian)
    the log joint is (y + a) log theta + (n - y + b) log(1 - theta) + const, so its Laplace
    approximation is closed-form: mode theta* = (y + a) / (n + a + b), curvature -(n + a + b) theta*(1 - theta*)."""
    y, n = np.array([0, 2, 5, 1, 9]), np.array([10, 12, 14, 9, 20])

    def build(data):
        with pm.Model() as model:
            a = pm.HalfNormal("a", 10)
            b = pm.HalfNormal("b", 10)
            theta = pm.Beta("theta", a, b, shape=len(data["y"]))
            pm.Binomial("y", data["n"], theta, observed=data["y"])
        return model

    spec = spec_from_parts(build, {"y": y, "n": n}, latent=("theta",))
    assert spec.em_engine.kind == "Laplace (approximate)"
    rng = np.random.default_rng(4)
    for _ in range(5):
        a, b = rng.uniform(0.5, 5), rng.uniform(1, 20)
        t = (y + a) / (n + a + b)
        f = stats.binom.logpmf(y, n, t) + stats.beta.logpdf(t, a, b) + np.log(t * (1 - t))
        expected = np.sum(f + 0.5 * np.log(2 * np.pi) - 0.5 * np.log((n + a + b) * t * (1 - t)))
        assert spec.em_engine.e_step({"a": a, "b": b})[1] == pytest.approx(expected, abs=1e-8)


# ----------------------------------------------------------------- decreases are reported, not raised


def test_a_decrease_of_the_approximate_objective_is_recorded_not_raised():
    """One binary outcome per group: the Laplace approximation is poor and its EM is not monotone."""
    data = simulate("logit", 10, 1, 3)
    spec = spec_from_parts(random_intercepts("logit"), data, name="sparse", latent=("a",))
    start = {"mu": 1.5, "beta": -1.0, "tau": 4.0}
    run = run_em(spec.em_engine, start, prior=None, max_iter=100)
    assert run.decreases and not run.error
    assert all(d < 0 for _, d in run.decreases)


# ----------------------------------------------------------------- neither engine applies


def test_a_latent_that_fits_no_engine_says_which_and_why():
    """A dense 2001-vector (every observation depends on every entry): no blocks, too big for a dense Hessian."""

    def dense(data):
        with pm.Model() as model:
            mu = pm.Normal("mu", 0, 1)
            z = pm.Normal("z", mu, 1, shape=2001)
            pm.Normal("y", z.sum() * data["w"], 1, observed=data["y"])
        return model

    spec = spec_from_parts(dense, {"y": np.array([0.5, -1.0]), "w": np.array([1.0, 2.0])}, latent=("z",))
    fit = fit_em(spec, seed=1, n_init=1)
    assert fit.status == "not_applicable"
    assert "exact Gaussian one needs" in fit.message and "the Laplace one (approximate)" in fit.message
    assert "no block structure" in fit.message and "\n" not in fit.message


# ----------------------------------------------------------------- the catalog model that uses it


def test_rat_tumors_logit_em_is_the_laplace_marginal_mode(solved):
    """The catalog's logit-normal rat tumours: em and mle equal scipy's maximisation of the Laplace marginal
    (+ the model's priors mu ~ N(-1, 2), tau ~ HalfNormal(1) for em), labelled approximate everywhere."""
    c = solved("rat_tumors_logit")
    y = c.spec.data["y"]
    data = {"y": y, "n": c.spec.data["n"], "g": np.arange(len(y)), "x": np.zeros(len(y))}

    def fit(with_prior):
        def negative(x):
            mu, tau = x[0], np.exp(x[1])
            prior = stats.norm.logpdf(mu, -1, 2) + stats.halfnorm.logpdf(tau) if with_prior else 0.0
            return -(laplace_loglik("binomial", data, mu, 0.0, tau) + prior)

        res = optimize.minimize(
            negative, [-2.0, 0.0], method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-13, "maxiter": 5000}
        )
        return {"mu": res.x[0], "tau": np.exp(res.x[1])}

    for column, with_prior in (("em", True), ("mle", False)):
        reference = fit(with_prior)
        for name in ("mu", "tau"):
            assert c.table.loc[name, column] == pytest.approx(reference[name], abs=TOL), (column, name)
    assert c.results["solvers"]["em"]["diagnostics"]["em_kind"] == "Laplace (approximate)"
    assert "em≈" in str(c) and "EM is Laplace (approximate)" in str(c)
    row = c.table.loc["tau"]
    assert row["hdi_low"] < row["em"] < row["mean"] < row["hdi_high"] < row["map"]  # marginal mode, mean, joint mode
