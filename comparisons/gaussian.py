"""Exact EM derived from the PyMC model for conditionally Gaussian continuous latent variables.

A model whose declared latent variables ``z`` (random effects, school effects, ...) enter the log
joint density quadratically — ``f(z; theta) = log p(y, z | theta)`` is a quadratic polynomial in
``z`` for every ``theta`` — gets an *exact* EM from its own graph, with no hand-written steps:

* **Check.** ``z`` must be continuous free variables without a transform (``pm.Normal``,
  ``pm.MvNormal``); that ``f`` is quadratic in ``z`` is checked on the graph at three random
  parameter points: the gradient in ``z`` is affine (midpoint identities for the gradient and the
  value) and Hessian-vector products ``g(z + v) - g(z)`` do not depend on ``z``.
* **Block structure.** When the latents share a leading axis of length ``G`` (one random
  intercept and slope per subject: ``b`` of shape ``(G, 2)``; or several latents of shape
  ``(G, ...)``), the engine tests once, at a random point, whether the Hessian is block-diagonal
  over that axis (Hessian-vector products with random weights per group). If so it never forms an
  ``n x n`` matrix: the ``G`` blocks of size ``k`` come from ``k`` Hessian-vector products (one per
  position in the block, all groups at once; for an affine gradient ``H v = g(z + v) - g(z)``
  exactly, so no second-order graph is compiled) and are factorised in a batch. Otherwise a dense
  Hessian is used for small latent sizes (``n <= DENSE_MAX``).
* **E-step.** ``m = argmax_z f`` by a Newton step (two, for rounding), ``Sigma = (-H)^-1``; the
  observed-data log likelihood is exactly ``f(m; theta) + 1/2 log det(2 pi Sigma)``.
* **M-step.** ``Q(theta) = E[f(z; theta)] = f(m; theta) + 1/2 tr(H(theta) Sigma)`` with ``m`` and
  ``Sigma`` from the previous parameters, evaluated exactly from the model's graph at ``2k + 1``
  sigma points (see :meth:`GaussianLatentEM._q_function`). ``Q`` (+ the log prior for MAP-EM, no
  Jacobian) is maximised in the unconstrained coordinates with PyTensor gradients: Newton's method
  on a finite-difference Hessian of the exact gradient, L-BFGS-B where that curvature is unusable.
* **Acceleration.** EM's linear rate is slow on mixed models (about 260 iterations on sleepstudy
  to 1e-8); each recorded iteration is one SQUAREM cycle (two EM steps and an extrapolation, kept
  only when its objective is at least the second EM step's), so the objective still never
  decreases, in about 20 cycles.
* **Boundary.** A scale (a log-transformed parameter) that EM drives slowly towards 0 would crawl
  for ever (Dyestuff2). When it does, the engine evaluates the profile at the boundary: the exact
  marginal objective with that scale at 0 and every other parameter maximised directly (EM itself
  crawls there). If the profile is at least the current objective and the objective does not rise
  when the scale leaves 0, the mode is on the boundary: the scale is reported as exactly 0 (and
  flagged by :func:`comparisons.density.bounds.boundary_flags`), and EM stops there.

Where ``f`` is not quadratic in ``z`` (Poisson or logistic random effects, Beta rates) the hooks use
:class:`comparisons.laplace.LaplaceLatentEM` instead (the same steps with the Laplace approximation
at the conditional mode, labelled approximate); where neither applies they say why.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pymc.logprob.transforms import LogTransform
from pymc.logprob.utils import ParameterValueError
from pytensor.graph.basic import Variable
from pytensor.graph.replace import graph_replace, vectorize_graph
from pytensor.graph.traversal import ancestors
from scipy import optimize

from .compiled import initial_point
from .density.compile import compile_fast
from .density.prior import LogPrior
from .density.space import ValueSpace
from .errors import ModemeanError
from .missing import imputed_variables

try:  # tiny LAPACK calls (a 2 x 2 triangular solve per graph node) crawl when OpenBLAS spins up threads
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn, not required
    from contextlib import nullcontext

    def threadpool_limits(*args, **kwargs):
        return nullcontext()


__all__ = ["GaussianLatentEM", "NotGaussian", "gaussian_hooks", "check_latent_names", "check_not_hyperparameter"]

DENSE_MAX = 2000  # a latent vector up to this size may use a dense Hessian when no blocks exist
QUAD_RTOL = 1e-7  # the quadraticity checks must hold to this (relative to the vectors' sizes)
BOUND_SHIFT = 16.0  # a scale at its bound 0 is evaluated at exp(-16) x its initial value (~1e-7)
CRAWL = 0.1  # a scale falling by less than this in log per iteration is crawling
CHECK_EVERY = np.log(2)  # after a boundary check fails, check again once the scale has halved
SIGMA_COPIES = 8  # up to this block size, Q holds one copy of the log-density graph per sigma point
GAP = 1.0  # ... and is profiled only if setting it to 0 (others kept) loses less than this
PROBE = 1e-2  # the slope at the boundary is probed at this x the scale's current value


class NotGaussian(Exception):
    """The declared latents are not conditionally Gaussian: the message says why."""


def check_latent_names(model: pm.Model, latent: tuple[str, ...], name: str) -> None:
    """Every name in ``latent`` must be a free random variable of ``model`` (one line otherwise)."""
    free = {rv.name for rv in model.free_RVs}
    for item in latent:
        if item in free:
            continue
        if item in model.named_vars:
            kind = (
                "an observed variable"
                if model[item] in model.observed_RVs
                else "a deterministic"
                if model[item] in model.deterministics
                else "not a free random variable"
            )
            raise ModemeanError(
                f"model {name!r}: LATENT names {item!r}, which is {kind}: EM integrates out free "
                f"random variables only (free variables: {', '.join(sorted(free))})"
            )
        raise ModemeanError(
            f"model {name!r}: LATENT names {item!r}, which is not a variable of the model "
            f"(free variables: {', '.join(sorted(free))})"
        )
    if len(free - set(latent)) == 0:
        raise ModemeanError(
            f"model {name!r}: LATENT {list(latent)} declares every free variable latent: "
            "nothing would be left for EM to estimate"
        )


def check_not_hyperparameter(model: pm.Model, latent: tuple[str, ...], name: str) -> None:
    """No name in ``latent`` may be a parameter of another free variable's distribution (one line otherwise).

    EM integrates the latents out given the parameters, so a parameter's prior cannot depend on a
    latent: ``tau`` in ``theta ~ N(mu, tau)`` is a hyper-parameter, and the variables it scales
    (``theta``) are the latents.
    """
    integrated = set(latent) | {m.unobserved for m in imputed_variables(model)}
    for rv in model.free_RVs:
        if rv.name in integrated:
            continue
        found = [item for item in latent if model[item] in set(ancestors(rv.owner.inputs))]
        if found:
            raise ModemeanError(
                f"model {name!r}: LATENT names {found[0]!r}, which cannot be a latent: it is a parameter of the "
                f"distribution of the free variable {rv.name!r}, and EM integrates latents out given the "
                f"parameters; declare the random effects it scales instead (LATENT = ({rv.name!r},))"
            )


class GaussianLatentEM:
    """Exact EM steps compiled from a PyMC model whose latents are conditionally Gaussian.

    :class:`comparisons.laplace.LaplaceLatentEM` reuses this machinery (block detection, the
    conversions, the M-step, the boundary profile) with the Laplace approximation in the E-step.

    Parameters
    ----------
    model : pymc.Model
    latent : tuple of str
        Continuous free variables without a transform; ``log p(y, z | theta)`` must be quadratic in them.
    seed : int
        For the random points of the structure checks.

    Raises
    ------
    NotGaussian
        A latent is discrete or transformed, or ``f`` is not quadratic in ``z``.

    Attributes
    ----------
    params : list of str
        The parameters (every other free variable).
    blocks : tuple of int
        ``(G, k)``: ``G`` independent blocks of size ``k`` (``(1, n)`` when dense).
    """

    KIND = "exact (Gaussian)"  # the EM kind reported (results.json ``em_kind``)
    TRANSFORMED_LATENTS = False  # a latent with a transform is not Gaussian in its unconstrained space

    def __init__(self, model: pm.Model, latent: tuple[str, ...], seed: int = 0):
        self.model = model
        zs = [model[n] for n in latent]
        for rv in zs:
            if not rv.type.dtype.startswith("float"):
                raise NotGaussian(f"the latent {rv.name!r} is discrete")
            if model.rvs_to_transforms.get(rv) is not None and not self.TRANSFORMED_LATENTS:
                raise NotGaussian(
                    f"the latent {rv.name!r} has a transform "
                    f"({type(model.rvs_to_transforms[rv]).__name__}): it is not Gaussian"
                )
        thetas = [rv for rv in model.free_RVs if rv not in zs]
        self.params = [rv.name for rv in thetas]
        self._thetas = thetas
        ip = initial_point(model)
        z_vals = [model.rvs_to_values[rv] for rv in zs]
        t_vals = [model.rvs_to_values[rv] for rv in thetas]
        self._z_shapes = [tuple(ip[v.name].shape) for v in z_vals]
        self._t_shapes = [tuple(ip[v.name].shape) for v in t_vals]
        self.n = int(sum(int(np.prod(s)) for s in self._z_shapes))
        self.p = int(sum(int(np.prod(s)) for s in self._t_shapes))
        self._z0_init = np.concatenate([np.ravel(ip[v.name]) for v in z_vals]).astype(float)
        self._space = ValueSpace(model, self.params, over=self.params, compile=compile_fast)  # u: the parameters
        self._u_init = self._space.ravel(ip)

        z, u = pt.vector("z"), pt.vector("u")
        pieces = dict(_slices(z_vals, self._z_shapes, z)) | dict(_slices(t_vals, self._t_shapes, u))
        # f = log p(y, z | theta): the latents' own terms, every observation, and the potentials that
        # involve a latent; the rest (the parameters' priors and their potentials) is the log prior
        latent_pots = [p for p in model.potentials if set(zs) & set(ancestors([p]))]
        # (with the latents' log-Jacobian: a transformed latent is integrated in its unconstrained space,
        # comparisons.laplace; the Gaussian engine's latents have no transform, so none is added there)
        f = model.logp(vars=[*zs, *model.observed_RVs, *latent_pots], jacobian=True)
        prior: Variable = LogPrior(model, self.params).unconstrained()
        f = graph_replace(f, pieces, strict=False)
        prior = graph_replace(prior, pieces, strict=False)
        g = pt.grad(f, z)
        self._fg = compile_fast([z, u], [f, g])
        self._f_graph, self._prior_graph, self._z = f, prior, z
        self._q, self._u, self._w = None, u, pt.scalar("prior_weight")
        self._curvature: dict[tuple, np.ndarray] = {}  # the last M-step's Cholesky factor, per (prior, free columns)
        self._prior = compile_fast([u], prior, on_unused_input="ignore")
        # scales: entries of log-transformed parameters (a variance component can sit at 0)
        scale, start = np.zeros(self.p, bool), 0
        for rv, shape in zip(thetas, self._t_shapes, strict=True):
            size = int(np.prod(shape))
            scale[start : start + size] = isinstance(model.rvs_to_transforms.get(rv), LogTransform)
            start += size
        self._scale = scale
        self._z_last = self._z0_init.copy()
        rng = np.random.default_rng(seed)
        self._check_form(rng)
        self._idx = self._find_blocks(rng)
        self.blocks = tuple(self._idx.shape)

    def reset(self) -> None:
        """Forget the warm starts (the last conditional mean, the M-step's curvature): behave as when built
        on the observations the model holds now (:mod:`comparisons.compiled`)."""
        self._z_last = self._z0_init.copy()
        self._curvature = {}

    # ------------------------------------------------------------------ conversions
    def to_u(self, params: dict) -> np.ndarray:
        """``{param: value}`` to the unconstrained vector; a scale at exactly 0 maps to its bound point."""
        with np.errstate(divide="ignore"):
            u = self._space.unconstrain(params) if self.params else np.zeros(0)
        at_bound = self._scale & np.isneginf(u)
        u[at_bound] = self._u_init[at_bound] - BOUND_SHIFT
        return u

    def at_bound(self, params: dict) -> np.ndarray:
        """Boolean mask over ``u``: scales that are exactly 0 in ``params``."""
        values = (
            np.concatenate([np.ravel(np.asarray(params[p], dtype=float)) for p in self.params])
            if self.params
            else np.zeros(0)
        )
        return self._scale & (values == 0.0)

    def to_params(self, u: np.ndarray, at_bound: np.ndarray | None = None) -> dict:
        """Unconstrained vector to ``{param: value}``; entries in ``at_bound`` are set to exactly 0."""
        params = {p: np.array(v, dtype=float) for p, v in self._space.point(u).items()}
        if at_bound is not None and at_bound.any():
            start = 0
            for p, shape in zip(self.params, self._t_shapes, strict=True):
                size = int(np.prod(shape))
                mask = at_bound[start : start + size]
                if mask.any():
                    flat = params[p].reshape(-1).copy()
                    flat[mask] = 0.0
                    params[p] = flat.reshape(params[p].shape)
                start += size
        return params

    def _hV(self, z: np.ndarray, u: np.ndarray, V: np.ndarray) -> np.ndarray:
        """``H v`` for each row ``v`` of ``V``, as ``g(z + v) - g(z)``: exact when ``g`` is affine in ``z``
        (what :meth:`_check_quadratic` verifies), and only gradient evaluations (no second-order graph)."""
        g0 = self._fg(z, u)[1]
        return np.stack([self._fg(z + v, u)[1] - g0 for v in V])

    # ------------------------------------------------------------------ structure checks
    def _random_u(self, rng):
        return self._u_init + rng.normal(0.0, 0.5, self.p)

    def _random_z(self, rng):
        return self._z0_init + rng.normal(0.0, 1.0, self.n) * (1.0 + np.abs(self._z0_init))

    def _check_form(self, rng) -> None:
        """What this engine needs of ``f``: here, that it is quadratic in ``z``."""
        self._check_quadratic(rng)

    def _check_quadratic(self, rng) -> None:
        """``f`` is quadratic in ``z``: its gradient is affine and H v does not depend on ``z``."""
        checked = 0
        for attempt in range(12):
            u = self._u_init if attempt == 0 else self._random_u(rng)
            za, zb, v = self._random_z(rng), self._random_z(rng), rng.normal(size=self.n)
            try:
                with np.errstate(all="ignore"):
                    fa, ga = self._fg(za, u)
                    fb, gb = self._fg(zb, u)
                    fm, gm = self._fg(0.5 * (za + zb), u)
                    hva = self._fg(za + v, u)[1] - ga
                    hvb = self._fg(zb + v, u)[1] - gb
            except (ParameterValueError, ValueError, FloatingPointError):
                continue
            if not all(np.all(np.isfinite(x)) for x in (fa, fb, fm, ga, gb, gm, hva, hvb)):
                continue
            scale = np.linalg.norm(hva) + np.linalg.norm(ga) + np.linalg.norm(gb) + 1e-300
            if np.linalg.norm(hva - hvb) > QUAD_RTOL * scale:
                raise NotGaussian("its Hessian in the latents changes with the latents' values")
            if np.linalg.norm(gm - 0.5 * (ga + gb)) > QUAD_RTOL * scale:
                raise NotGaussian("its gradient in the latents is not affine in them")
            # a quadratic's value at the midpoint: f(a) + f(b) - 2 f(m) = 1/4 (b - a)' (g(b) - g(a))
            d = zb - za
            if abs(fa + fb - 2 * fm - 0.25 * d @ (gb - ga)) > QUAD_RTOL * (abs(fa) + abs(fb) + abs(fm) + 1.0):
                raise NotGaussian("its value is not a quadratic polynomial in the latents")
            checked += 1
            if checked == 3:
                return
        if not checked:
            raise NotGaussian("its log density is undefined at every random point tried")

    def _find_blocks(self, rng) -> np.ndarray:
        """Index array ``(G, k)`` of conditionally independent blocks, tested once at a random point."""
        lead = {s[0] if s else 0 for s in self._z_shapes}  # 0: a scalar latent
        idx = None
        if len(lead) == 1 and next(iter(lead)) > 1:
            G = next(iter(lead))
            cols, start = [], 0
            for shape in self._z_shapes:
                size = int(np.prod(shape))
                cols.append(start + np.arange(size).reshape(G, size // G))
                start += size
            idx = np.concatenate(cols, axis=1)
            u, z = self._u_init, self._random_z(rng)
            try:
                H = self._block_hessian(z, u, idx)
                w = rng.normal(size=(G, 1)) + 2.0
                V = np.zeros((idx.shape[1], self.n))
                for j in range(idx.shape[1]):
                    V[j, idx[:, j]] = w[:, 0]
                HV = self._hV(z, u, V)  # (k, n)
                expect = H * w[:, None, :]  # block g, column j, times w_g
                got = np.transpose(HV[:, idx], (1, 2, 0))  # (G, k, k): [g, i, j]
                if not np.allclose(got, expect, rtol=1e-8, atol=1e-10 * (np.abs(expect).max() + 1e-300)):
                    idx = None
            except (ParameterValueError, ValueError, FloatingPointError):
                idx = None
        if idx is None:
            if self.n > DENSE_MAX:
                raise NotGaussian(
                    f"its Hessian in the {self.n} latent values has no block structure along a "
                    f"shared leading axis, and a dense one is refused above {DENSE_MAX}"
                )
            idx = np.arange(self.n)[None, :]
        return idx

    def _block_hessian(self, z, u, idx) -> np.ndarray:
        """The ``G`` diagonal blocks of H, shape ``(G, k, k)``, from ``k`` Hessian-vector products."""
        G, k = idx.shape
        V = np.zeros((k, self.n))
        for j in range(k):
            V[j, idx[:, j]] = 1.0
        HV = self._hV(z, u, V)  # row j: column j of every block
        H = np.transpose(HV[:, idx], (1, 2, 0))  # [g, i, j] = H[idx[g, i], idx[g, j]]
        return 0.5 * (H + np.transpose(H, (0, 2, 1)))

    # ------------------------------------------------------------------ E-step
    def e_step(self, params: dict) -> tuple[dict, float]:
        """Conditional mean and covariance factor of the latents, and the exact marginal log likelihood.

        Returns
        -------
        expectations : dict
            ``m`` (n,), the conditional mean; ``S`` (k, n), rows of a factor of ``Sigma`` (one per
            position in a block, all blocks at once); ``u``, ``params``, ``at_bound``, ``loglik``.
        log_likelihood : float
            ``log p(y | theta) = f(m) + n/2 log(2 pi) - 1/2 log det(-H)``.
        """
        u = self.to_u(params)
        idx = self._idx
        G, k = idx.shape
        z = self._z_last if np.all(np.isfinite(self._z_last)) else self._z0_init.copy()
        with np.errstate(all="ignore"):
            _, g = self._fg(z, u)
            negH = -self._block_hessian(z, u, idx)
        chol = np.linalg.cholesky(negH)  # LinAlgError when -H is not positive definite
        for _ in range(2):  # Newton (exact for a quadratic), then refine
            gb = g[idx][..., None]  # (G, k, 1)
            step = np.linalg.solve(np.transpose(chol, (0, 2, 1)), np.linalg.solve(chol, gb))[..., 0]
            z = z.copy()
            z[idx] += step
            with np.errstate(all="ignore"):
                f, g = self._fg(z, u)
        return self._expectations(z, float(f), chol, u, params)

    def _expectations(self, z: np.ndarray, f: float, chol: np.ndarray, u: np.ndarray, params: dict):
        """The E-step's result at the centre ``z`` with ``-H``'s block Cholesky factors ``chol`` (G, k, k)."""
        if not np.isfinite(f):
            raise FloatingPointError(f"the log joint density is {f} at the conditional mean of the latents")
        self._z_last = z
        logdet = 2.0 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum()
        loglik = f + 0.5 * self.n * np.log(2 * np.pi) - 0.5 * logdet
        # Sigma_g = (C C')^-1 = C^-T C^-1: the factor L_g = C^-T, whose column j is row j of C^-1
        cinv = np.linalg.inv(chol)
        S = np.zeros((self._idx.shape[1], self.n))
        S[:, self._idx] = np.transpose(cinv, (1, 0, 2))  # S[j, idx[g, i]] = cinv[g, j, i]
        return {
            "m": z,
            "S": S,
            "u": u,
            "params": params,
            "at_bound": self.at_bound(params),
            "loglik": float(loglik),
        }, float(loglik)

    def marginal_loglik(self, params: dict) -> float:
        """``log p(y | theta)`` with the latents integrated out exactly."""
        return self.e_step(params)[1]

    def log_prior(self, params: dict) -> float:
        """The parameters' log prior (no Jacobian), from the same graph as the M-step's."""
        return float(self._prior(self.to_u(params)))

    # ------------------------------------------------------------------ M-step
    def _q_function(self):
        """``Q(u; m, S) = E f(z; theta(u))`` for ``z ~ N(m, S'S)`` (+ w x log prior) and its gradient.

        ``f`` is quadratic in ``z``, so with ``s_j`` the rows of ``S`` (a factor of Sigma laid over all
        blocks) ``f(m + s_j) + f(m - s_j) = 2 f(m) + s_j' H s_j`` exactly, and
        ``E f = f(m) + 1/2 tr(H Sigma) = sum_j [f(m + s_j) + f(m - s_j)] / 2 - (k - 1) f(m)``: the
        model's own graph at 2k + 1 points, no second-order graph.
        """
        if self._q is None:
            k = self._idx.shape[1]
            m, S = pt.vector("m"), pt.matrix("S")
            f, z = self._f_graph, self._z
            if k <= SIGMA_COPIES:  # one copy of the graph per point: no batched (Blockwise) linear algebra
                at = lambda x: graph_replace(f, {z: x}, strict=False)  # noqa: E731
                q = sum(0.5 * (at(m + S[j]) + at(m - S[j])) for j in range(k)) - (k - 1) * at(m)
            else:
                Z = pt.matrix("Z")
                batch = vectorize_graph(f, replace={z: Z})
                values = graph_replace(batch, {Z: pt.concatenate([m[None] + S, m[None] - S], axis=0)}, strict=False)
                q = 0.5 * values.sum() - (k - 1) * graph_replace(f, {z: m}, strict=False)
            q = q + self._w * self._prior_graph
            self._q = compile_fast([self._u, m, S, self._w], [q, pt.grad(q, self._u)])
        return self._q

    def _q_inputs(self, expectations: dict) -> tuple:
        """The E-step's quantities :meth:`_q_function` takes after ``u``: ``(m, S)``."""
        return expectations["m"], expectations["S"]

    def maximise_q(self, expectations: dict, with_prior: bool, frozen: np.ndarray | None = None) -> dict:
        """Maximise ``Q`` (+ log prior) over the unconstrained parameters; ``frozen`` entries stay put.

        Newton's method with a finite-difference Hessian of the exact gradient (kept from the
        previous M-step while it still gives ascent steps), L-BFGS-B where the curvature is unusable.
        """
        f = self._q_function()
        inputs, u0 = self._q_inputs(expectations), expectations["u"]
        frozen = expectations["at_bound"] if frozen is None else frozen
        weight = 1.0 if with_prior else 0.0

        def negative(x):
            try:
                with np.errstate(all="ignore"):
                    q, g = f(x, *inputs, weight)
            except (ParameterValueError, ValueError, np.linalg.LinAlgError):
                return np.inf, np.zeros_like(x)
            q = float(q)
            if not np.isfinite(q) or not np.all(np.isfinite(g)):
                return np.inf, np.zeros_like(x)
            g = np.asarray(g, dtype=float).copy()
            g[frozen] = 0.0
            return -q, -g

        free = np.flatnonzero(~frozen)
        start, grad = negative(u0)
        key = (with_prior, tuple(free))
        u, value = u0, start
        if free.size and np.isfinite(start):
            result = _newton(negative, u0, start, grad, free, self._curvature.get(key))
            if result is None:  # no usable curvature: L-BFGS-B
                res = optimize.minimize(
                    negative,
                    u0,
                    jac=True,
                    method="L-BFGS-B",
                    options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-10, "maxcor": 30},
                )
                u, value = res.x, float(res.fun)
            else:
                u, value, self._curvature[key] = result
        if not value <= start:
            u = u0
        u = np.where(frozen, u0, u)
        return self.to_params(u, frozen)

    def maximise_marginal(self, params: dict, with_prior: bool, frozen: np.ndarray) -> dict:
        """Maximise the exact marginal log likelihood (+ log prior) directly, ``frozen`` entries held.

        The gradient is by central differences of the exact value: Fisher's identity (the gradient of
        ``Q`` where ``m`` and ``S`` were computed) loses every digit next to a centred scale at its
        bound, where ``(m - mu) / tau^2`` divides rounding by ``tau^2``. Used for the profile at a
        boundary, where EM itself crawls (with a scale at 0 the centred latents are pinned to their
        mean, and EM's M-step barely moves it).
        """
        weight = 1.0 if with_prior else 0.0

        def cost(x):
            try:
                with np.errstate(all="ignore"):
                    e, ll = self.e_step(self.to_params(x, frozen))
                v = ll + weight * float(self._prior(e["u"]))
            except (ParameterValueError, ValueError, FloatingPointError, np.linalg.LinAlgError):
                return np.inf
            return -v if np.isfinite(v) else np.inf

        def negative(x):
            v, g = cost(x), np.zeros_like(x)
            for i in np.flatnonzero(~frozen):
                h = 1e-5 * (1.0 + abs(x[i]))
                a, b = x.copy(), x.copy()
                a[i] += h
                b[i] -= h
                g[i] = (cost(a) - cost(b)) / (2 * h)
            return (v, g) if np.all(np.isfinite(g)) else (np.inf, np.zeros_like(x))

        u0 = self.to_u(params)
        free = np.flatnonzero(~frozen)
        start, grad = negative(u0)
        if not free.size or not np.isfinite(start):
            return params
        result = _newton(negative, u0, start, grad, free)
        if result is None:
            res = optimize.minimize(
                negative, u0, jac=True, method="L-BFGS-B", options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-10}
            )
            u, value = res.x, float(res.fun)
        else:
            u, value, _ = result
        return self.to_params(np.where(frozen, u0, u) if value <= start else u0, frozen)

    # ------------------------------------------------------------------ starts
    def starts(self, n_init: int, rng: np.random.Generator) -> list[dict]:
        """The model's initial point, then jittered by U(-1, 1) in the unconstrained space."""
        return [self.to_params(self._u_init + (rng.uniform(-1, 1, self.p) if i else 0.0)) for i in range(n_init)]


class _Boundary:
    """EM's M-step with the boundary test for scales that crawl towards 0, and SQUAREM (one per column)."""

    def __init__(self, engine: GaussianLatentEM, with_prior: bool, accelerate: bool = True):
        self.engine, self.with_prior, self.accelerate = engine, with_prior, accelerate
        self.last: dict | None = None  # params the last M-step returned (a new restart starts elsewhere)
        self.checked: dict[int, float] = {}  # coordinate -> u at its last failed boundary check
        self.found: list[tuple[int, float]] = []  # (coordinate, objective) of boundary modes found

    def objective(self, params: dict) -> float:
        value = self.engine.marginal_loglik(params)
        return value + (self.engine.log_prior(params) if self.with_prior else 0.0)

    def m_step(self, expectations: dict) -> dict:
        eng = self.engine
        old = expectations["params"]
        if self.last is None or any(not np.array_equal(old[p], self.last[p]) for p in eng.params):
            self.checked = {}  # a new restart
        u_old = expectations["u"]
        new = eng.maximise_q(expectations, self.with_prior)
        u_new = eng.to_u(new)
        bound = eng.at_bound(new)
        for i in np.flatnonzero(eng._scale & ~bound).tolist():
            fall = u_old[i] - u_new[i]
            if not (0.0 < fall < CRAWL) or u_new[i] > self.checked.get(i, np.inf) - CHECK_EVERY:
                continue
            self.checked[i] = u_new[i]
            profile = self._profile(new, i)
            if profile is not None:
                self.last = profile
                return profile
        if self.accelerate:
            new = self._squarem(expectations, new)
        self.last = new
        return new

    def _squarem(self, expectations: dict, p1: dict) -> dict:
        """One SQUAREM cycle (Varadhan & Roland 2008) from the EM step ``p1``, kept only if it is higher.

        A second EM step gives ``p2``; the extrapolation ``u0 - 2 a r + a^2 v`` (``r = u1 - u0``,
        ``v = u2 - 2 u1 + u0``, ``a = -|r| / |v|``, at most -1) is returned when its objective is at
        least ``p2``'s, else ``p2``: every cycle is at least one full EM step, so the objective still
        never decreases, and EM's slow linear crawl (hundreds of iterations on sleepstudy) shrinks to
        tens of cycles.
        """
        eng = self.engine
        frozen = expectations["at_bound"]
        if not np.array_equal(eng.at_bound(p1), frozen):
            return p1
        try:
            e1, _ = eng.e_step(p1)
            p2 = eng.maximise_q(e1, self.with_prior)
            u0, u1, u2 = expectations["u"], e1["u"], eng.to_u(p2)
            r, v = u1 - u0, u2 - 2 * u1 + u0
            nv = np.linalg.norm(v)
            if not np.array_equal(eng.at_bound(p2), frozen) or nv == 0.0:
                return p2
            a = min(-np.linalg.norm(r) / nv, -1.0)
            if a == -1.0:
                return p2
            ux = np.where(frozen, u0, u0 - 2 * a * r + a * a * v)
            px = eng.to_params(ux, frozen)
            if self.objective(px) >= self.objective(p2):
                return px
        except (ParameterValueError, ValueError, FloatingPointError, np.linalg.LinAlgError):
            return p1 if "p2" not in locals() else p2
        return p2

    def _profile(self, params: dict, i: int) -> dict | None:
        """The profile with scale coordinate ``i`` at 0, if it is the mode (else ``None``)."""
        eng = self.engine
        try:
            current = self.objective(params)
            mask = eng.at_bound(params)
            mask[i] = True
            # cheap pre-test: with the others where they are, the scale at 0 must lose less than GAP
            # (else the mode is inside for now; the test runs again once the scale has halved)
            if self.objective(eng.to_params(eng.to_u(params), mask)) < current - GAP:
                return None
            p = eng.maximise_marginal(eng.to_params(eng.to_u(params), mask), self.with_prior, mask)
            at_zero = self.objective(p)
            if not at_zero >= current - 1e-12 * max(1.0, abs(current)):
                return None
            # the objective must not rise as the scale leaves 0 (else the mode is inside)
            u_probe = eng.to_u(p)
            u_probe[i] = eng.to_u(params)[i] + np.log(PROBE)
            mask[i] = False
            probe = self.objective(eng.to_params(u_probe, mask))
            if probe > at_zero + 1e-12 * max(1.0, abs(at_zero)):
                return None
        except (ParameterValueError, ValueError, FloatingPointError, np.linalg.LinAlgError):
            return None
        self.found.append((i, at_zero))
        return p


def gaussian_hooks(
    model: pm.Model, latent: tuple[str, ...], em_starts: Callable | None = None, seed: int = 0
) -> dict[str, Callable]:
    """The model contract's ``em_starts``, ``e_step``, ``m_step`` for continuous latents without hooks.

    The exact Gaussian engine where ``log p(y, z | theta)`` is quadratic in ``z``, else the Laplace
    engine (:class:`comparisons.laplace.LaplaceLatentEM`, approximate). Nothing is compiled until a
    hook (or ``reason``) is called. ``reason()`` returns ``""`` when one of them applies, else why
    neither does (then the other hooks must not be used).

    Returns
    -------
    dict of str to callable
        ``em_starts(data, n_init, rng)``, ``e_step(data, params)``, ``m_step(data, expectations,
        prior)`` (``prior`` a LogPrior for MAP-EM or None), ``reason()``, ``engine()``, ``reset()`` (new
        observations were loaded: forget the warm starts), ``integrated()``
        (what EM integrates out: the declared latents, then any missing observations PyMC imputes,
        ``y_unobserved`` — missing-data EM, so EM's estimates equal those of the model without the
        missing entries), ``kind()``
        (the engine's ``KIND``: ``"exact (Gaussian)"`` or ``"Laplace (approximate)"``).
    """
    cache: dict = {}

    def integrated() -> tuple[str, ...]:
        if "integrated" not in cache:  # the declared latents, then the missing observations PyMC imputes
            cache["integrated"] = (*latent, *(m.unobserved for m in imputed_variables(model)))
        return cache["integrated"]

    def engine() -> GaussianLatentEM | None:
        if "engine" not in cache:
            from .laplace import LaplaceLatentEM, NotLaplace  # the Laplace engine builds on this module

            cache["engine"], cache["reason"] = None, ""
            try:
                cache["engine"] = GaussianLatentEM(model, integrated(), seed)
            except NotGaussian as exact:
                try:
                    cache["engine"] = LaplaceLatentEM(model, integrated(), seed)
                except NotLaplace as laplace:
                    cache["reason"] = (
                        f"the latent variable(s) {list(integrated())} have no EM steps in the model file and fit "
                        f"neither automatic E-step: the exact Gaussian one needs log p(y, z | theta) quadratic in z, "
                        f"and here "
                        f"{exact}; the Laplace one (approximate) needs a peak in z with a usable Hessian, and here "
                        f"{laplace}. Write em_starts, e_step and m_step in the model file"
                    )
        return cache["engine"]

    def reason() -> str:
        engine()
        return cache["reason"]

    def applicable() -> GaussianLatentEM:
        """The engine, for the steps (which run only where EM applies)."""
        eng = engine()
        if eng is None:
            raise ModemeanError(f"EM does not apply: {reason()}")
        return eng

    def reset() -> None:  # new observations (comparisons.compiled): start as a freshly built engine would
        cache.pop(("boundary", True), None)
        cache.pop(("boundary", False), None)
        if cache.get("engine") is not None:
            cache["engine"].reset()

    def boundary(with_prior: bool) -> _Boundary:
        key = ("boundary", with_prior)
        if key not in cache:
            cache[key] = _Boundary(applicable(), with_prior)
        return cache[key]

    def e_step(data, params):
        with threadpool_limits(1, user_api="blas"):
            return applicable().e_step(params)

    def m_step(data, expectations, prior):
        with threadpool_limits(1, user_api="blas"):
            return boundary(prior is not None).m_step(expectations)

    def kind() -> str:
        eng = engine()
        return eng.KIND if eng is not None else ""

    return {
        "kind": kind,
        "em_starts": em_starts or (lambda data, n_init, rng: applicable().starts(n_init, rng)),
        "e_step": e_step,
        "m_step": m_step,
        "reason": reason,
        "engine": engine,
        "integrated": integrated,
        "reset": reset,
    }


def _newton(
    negative,
    u0: np.ndarray,
    value: float,
    grad: np.ndarray,
    free: np.ndarray,
    chol: np.ndarray | None = None,
    max_iter: int = 50,
):
    """Minimise ``negative`` (value, gradient) over the coordinates ``free`` by Newton's method.

    The Hessian comes from forward differences of the exact gradient (``len(free)`` gradient
    calls), or is the Cholesky factor ``chol`` given (the previous M-step's), and is kept (a chord
    method: linear convergence at the rate of the Hessian's relative error); it is recomputed when
    a step has to be shortened. Each step is backtracked until the value decreases.

    Returns
    -------
    (u, value, chol) or None
        ``None`` when the Hessian is not positive definite.
    """
    u = u0.copy()

    def hessian(u: np.ndarray, grad: np.ndarray) -> np.ndarray | None:
        h = 1e-6 * (1.0 + np.abs(u[free]))
        H = np.empty((free.size, free.size))
        for j, (i, hj) in enumerate(zip(free, h, strict=True)):
            x = u.copy()
            x[i] += hj
            H[:, j] = (negative(x)[1][free] - grad[free]) / hj
        H = 0.5 * (H + H.T)
        try:
            return np.linalg.cholesky(H)
        except np.linalg.LinAlgError:
            return None

    fresh = chol is None
    if chol is None:
        chol = hessian(u, grad)
        if chol is None:
            return None
    for _ in range(max_iter):
        step = -np.linalg.solve(chol.T, np.linalg.solve(chol, grad[free]))
        if -grad[free] @ step < 1e-15 * max(1.0, abs(value)):  # the predicted gain is rounding: converged
            break
        t, moved = 1.0, False
        while t > 1e-6:
            x = u.copy()
            x[free] += t * step
            v, g = negative(x)
            if v <= value:
                moved = True
                break
            t *= 0.25
        if moved:
            u, value, grad = x, v, g
        if t < 1.0 or not moved:
            if fresh and not moved:
                break
            chol, fresh = hessian(u, grad), True
            if chol is None:
                return None
    return u, value, chol


def _slices(values, shapes, vector):
    """``value variable -> vector[a:b].reshape(shape)`` for values laid out one after another."""
    start = 0
    for var, shape in zip(values, shapes, strict=True):
        size = int(np.prod(shape))
        yield var, vector[start : start + size].reshape(shape)
        start += size
