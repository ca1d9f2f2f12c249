"""Shared checkers of the catalog suite: random parameters, the model's own log density, EM's guarantees.

Each function computes its reference from the PyMC model through PyMC's public API (``model.logp``,
value variables, transforms), never through the EM engine's graph, so an engine that drifted from the
model would fail here. Everything is compiled with the Python linker (no C or numba compilation): the
catalog suite runs in seconds with a cold compile cache.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
from pytensor.graph.replace import graph_replace, vectorize_graph

from modemean import models
from modemean.comparisons.density.compile import SMALL_GRAPH_MODE
from modemean.comparisons.density.prior import LogPrior
from modemean.comparisons.em.discrete import DiscreteEM
from modemean.comparisons.em.engine import EMEngine
from modemean.comparisons.em.loop import EMRun, run_em
from modemean.comparisons.spec import ModelSpec

ROUNDING = 1e-12  # EM's objective may dip by rounding: this much relative to its size


def em_models() -> list[str]:
    """The catalog models where EM applies (without building them: LATENT is declared in each file)."""
    return [name for name in models.CATALOG if getattr(models.get(name), "LATENT", ())]


def random_params(spec: ModelSpec, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """EM's parameters at random plausible values, on their own scale and inside their support.

    The model file's ``random_params(rng)`` where it has one (a prior too wide or improper to draw
    from); otherwise a draw from the model's own prior (``pm.draw`` of the parameters together, so a
    parameter whose prior depends on another is drawn given it), redrawn until every value lies inside
    the support its transform defines (an ordered vector is drawn unordered, and kept once sorted by chance).
    """
    module = models.get(spec.name) if spec.name in models.CATALOG else None
    if module is not None and hasattr(module, "random_params"):
        return {k: np.asarray(v, dtype=float) for k, v in module.random_params(rng).items()}
    names = spec.em_params
    for _ in range(200):
        draws = pm.draw([spec.model[p] for p in names], random_seed=rng, mode=SMALL_GRAPH_MODE)
        params = {p: np.asarray(d, dtype=float) for p, d in zip(names, draws, strict=True)}
        point = value_point(spec.model, params)
        if all(np.all(np.isfinite(v)) for v in point.values()):
            return params
    raise AssertionError(f"{spec.name}: 200 prior draws fell outside the support; give the model a random_params(rng)")


def value_point(model: pm.Model, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``params`` (each on its own scale) as the model's value variables (transformed where the model is)."""
    point = {}
    for name, value in params.items():
        rv = model[name]
        transform = model.rvs_to_transforms.get(rv)
        value = np.asarray(value, dtype=float)
        if transform is not None:
            with np.errstate(all="ignore"):
                value = np.asarray(transform.forward(pt.as_tensor(value), *rv.owner.inputs).eval(mode=SMALL_GRAPH_MODE))
        point[model.rvs_to_values[rv].name] = value
    return point


_COMPILED: dict[tuple[int, str], object] = {}  # per model: what the checkers compiled (compiled once)


def _once(model: pm.Model, what: str, build):
    key = (id(model), what)
    if key not in _COMPILED:
        _COMPILED[key] = build()
    return _COMPILED[key]


def engine(spec: ModelSpec) -> EMEngine:
    """The spec's EM engine (every model these checks run on has one)."""
    em = spec.em_engine
    assert em is not None, f"{spec.name}: no EM engine ({spec.em_reason})"
    return em


def graph_e_step(spec: ModelSpec):
    """The E-step from the model's graph: the discrete engine's own, not its blocked fast path."""
    em = engine(spec)
    return em.derived.e_step if isinstance(em, DiscreteEM) else em.e_step


def em_objective(spec: ModelSpec, params: dict[str, np.ndarray], with_prior: bool = True) -> float:
    """EM's objective at ``params``: the E-step's observed-data log likelihood (+ the log prior for MAP-EM)."""
    _, loglik = graph_e_step(spec)(params)
    if not with_prior:
        return float(loglik)
    prior = _once(spec.as_written, "prior", lambda: LogPrior(spec.as_written, spec.em_params))
    return float(loglik) + prior(params)


def model_log_density(spec: ModelSpec, params: dict[str, np.ndarray]) -> float:
    """The model's log density at ``params`` (no Jacobian), with the latent variables integrated out.

    - latents that are not variables of ``spec.model`` (discrete labels the solvers' model has summed
      out, or latents a hand-written E-step integrates that the PyMC model never names): the model's
      ``compile_logp`` itself, which is already the marginal;
    - latents EM integrates with the Gaussian or Laplace engine: the Laplace integral of the joint
      density over them (unconstrained, with their log-Jacobian), ``log p(y, z*, theta) + d/2 log 2 pi
      - 1/2 log det(-H)`` at the conditional mode ``z*`` found here by Newton's method: exact when the
      density is quadratic in ``z`` (the Gaussian engine), and the very quantity the Laplace engine
      maximises otherwise;
    - latents a hand-written E-step integrates exactly: the joint density is separable in the latent's
      entries (each term of ``model.logp(sum=False)`` that involves the latent has its shape), so the
      integral is a product of 1-D integrals, each by the trapezoid rule on a grid of 0.05 conditional
      sds about the conditional mode, widened until the integrand at its ends is below ``e^-40`` of its
      peak (spectrally accurate for these smooth, fast-decaying integrands).
    """
    model = spec.model
    latents = [model[name] for name in spec.latent if name in model.named_vars]
    point = value_point(model, params)
    if not latents:
        logp = _once(model, "logp", lambda: model.compile_logp(jacobian=False, mode=SMALL_GRAPH_MODE))
        return float(logp(point))
    joint, z0, thetas = _once(model, "joint", lambda: _joint_in_latents(model, latents))
    theta = [point[v.name] for v in thetas]
    z, value, hess = _conditional_mode(lambda z: joint(z, *theta), z0)
    if engine(spec).kind in ("exact (Gaussian)", "Laplace (approximate)"):
        sign, logdet = np.linalg.slogdet(-hess)
        assert sign > 0, f"{spec.name}: -H is not positive definite at the conditional mode"
        return float(value + 0.5 * z.size * np.log(2 * np.pi) - 0.5 * logdet)
    off = hess - np.diag(np.diag(hess))
    assert np.max(np.abs(off)) <= 1e-10 * np.max(np.abs(hess)), f"{spec.name}: the latent's entries are coupled"
    terms = _once(model, "terms", lambda: _separable_terms(model, latents, thetas))
    peak = terms(z, *theta)[0]
    s = 1.0 / np.sqrt(-np.diag(hess))
    width = 20.0
    while True:
        u = np.arange(-width, width + 1e-9, 0.05)
        logs = terms(z + s * u[:, None], *theta) - peak  # (grid, entries)
        if np.all(logs[[0, -1]] < -40):
            break
        width *= 2
    log_integrals = np.log(0.05 * s) + np.log(np.sum(np.exp(logs), axis=0))
    return float(value + np.sum(log_integrals))


def _joint_in_latents(model: pm.Model, latents: list):
    """``(z, *theta) -> (log p, gradient, Hessian)`` of the joint density in the latents' value variables, flat.

    The latents carry their log-Jacobian (they are integrated over their unconstrained coordinates);
    the parameters (inputs ``theta``, the other value variables) do not (it would be a constant in ``z``).
    """
    z_values = [model.rvs_to_values[rv] for rv in latents]
    others = [rv for rv in model.free_RVs if rv not in latents]
    logp = model.logp(vars=latents, jacobian=True) + model.logp(
        vars=[*others, *model.observed_RVs, *model.potentials], jacobian=False
    )
    z, pieces, z0 = _flat(model, z_values)
    thetas = [model.rvs_to_values[rv] for rv in others]
    logp = graph_replace(logp, pieces, strict=False)
    grad = pt.grad(logp, z)
    v = pt.vector("v")
    f = pytensor.function([z, *thetas], [logp, grad], mode=SMALL_GRAPH_MODE, on_unused_input="ignore")
    hv = pytensor.function(
        [z, v, *thetas], pt.grad((grad * v).sum(), z), mode=SMALL_GRAPH_MODE, on_unused_input="ignore"
    )

    def joint(zk, *theta):  # the Hessian column by column: Hessian-vector products compile in a fraction of the time
        value, g = f(zk, *theta)
        hess = np.column_stack([hv(zk, e, *theta) for e in np.eye(zk.size)])
        return value, g, (hess + hess.T) / 2

    return joint, z0, thetas


def _separable_terms(model: pm.Model, latents: list, thetas: list):
    """``(z, *theta) -> per-entry log density`` of a latent whose entries enter separate terms (asserted)."""
    assert len(latents) == 1, "separable quadrature: one latent variable"
    z_value = model.rvs_to_values[latents[0]]
    shape = tuple(model.initial_point()[z_value.name].shape)
    terms = model.logp(vars=[latents[0], *model.observed_RVs, *model.potentials], jacobian=True, sum=False)
    z, pieces, _ = _flat(model, [z_value])
    involved = []
    for term in terms:
        term = graph_replace(term, pieces, strict=False)
        if z in set(pytensor.graph.traversal.ancestors([term])):
            assert term.type.ndim == len(shape), "a term couples several entries of the latent: not separable"
            involved.append(term.ravel())
    grid = pt.matrix("grid")  # one row per grid point: every row evaluated in one call
    rows = vectorize_graph(pt.add(*involved) if len(involved) > 1 else involved[0], replace={z: grid})
    f = pytensor.function([grid, *thetas], rows, mode=SMALL_GRAPH_MODE, on_unused_input="ignore")
    return lambda zs, *theta: f(np.atleast_2d(zs), *theta)


def _flat(model: pm.Model, values: list):
    """A flat vector ``z`` standing for ``values`` (their replacements), and their initial point, flat."""
    ip = model.initial_point()
    shapes = [ip[v.name].shape for v in values]
    z = pt.vector("z")
    pieces, start = {}, 0
    for v, shape in zip(values, shapes, strict=True):
        size = int(np.prod(shape))
        pieces[v] = z[start : start + size].reshape(shape)
        start += size
    return z, pieces, np.concatenate([np.ravel(ip[v.name]) for v in values]).astype(float)


def _conditional_mode(joint, z: np.ndarray, tol: float = 1e-11):
    """Newton's method (halving steps) to the peak of ``joint`` in ``z``: ``(z*, log p, Hessian)``."""
    value, grad, hess = joint(z)
    for _ in range(100):
        step = np.linalg.solve(-hess, grad)
        t = 1.0
        while t > 1e-8:
            v, g, h = joint(z + t * step)
            if np.isfinite(v) and v >= value - 1e-12 * abs(value):
                break
            t /= 2
        z, value, grad, hess = z + t * step, v, g, h
        if np.max(np.abs(grad)) < tol * max(1.0, abs(value)):
            return z, float(value), hess
    raise AssertionError(f"no conditional mode in the latents (gradient {np.max(np.abs(grad)):.3g})")


def short_em_run(spec: ModelSpec, start: dict[str, np.ndarray], with_prior: bool, max_iter: int) -> EMRun:
    """``max_iter`` EM iterations from ``start`` with the model's own steps (the fast E-step where it has one)."""
    prior = LogPrior(spec.as_written, spec.em_params) if with_prior else None
    return run_em(engine(spec), start, prior=prior, max_iter=max_iter)


def assert_em_climbs(run: EMRun, rounding: float = ROUNDING) -> None:
    """EM's objective never decreased by more than rounding, and the run did not break down.

    A reported degeneracy (a mixture component collapsing onto a point from a poor start: the likelihood
    is unbounded there, and the engine stops the run saying so) is no breakdown of EM: the objective must
    still have climbed up to it.
    """
    assert not run.error or run.degenerate, run.error
    steps = np.diff(run.trace[np.isfinite(run.trace)])
    scale = np.maximum(1.0, np.abs(run.trace[np.isfinite(run.trace)][1:]))
    assert np.all(steps >= -rounding * scale), f"objective decreased by {steps.min()} (trace {run.trace})"
    assert not run.decreases


def assert_responsibilities(resp: np.ndarray) -> None:
    """Responsibilities (labels on the last axis): non-negative, summing to 1 over the labels."""
    assert resp.min() >= 0
    np.testing.assert_allclose(resp.sum(axis=-1), 1.0, rtol=0, atol=1e-12)
