"""The exact Gaussian EM engine: :class:`GaussianLatentEM`, its conversions, E-step and marginal log likelihood.

A model whose declared latent variables ``z`` (random effects, school effects, ...) enter the log
joint density quadratically (``f(z; theta) = log p(y, z | theta)`` is a quadratic polynomial in
``z`` for every ``theta``: :mod:`.structure` checks it) gets an *exact* EM from its own graph, with no
hand-written steps. The latents must be continuous free variables without a transform (``pm.Normal``,
``pm.MvNormal``).

* **E-step.** ``m = argmax_z f`` by a Newton step (two, for rounding), ``Sigma = (-H)^-1``; the
  observed-data log likelihood is exactly ``f(m; theta) + 1/2 log det(2 pi Sigma)``.
* **M-step.** :mod:`.qfunction`; each M-step of a fit is one SQUAREM cycle
  (:mod:`comparisons.em.squarem`) with the boundary test (:mod:`comparisons.em.boundary`), run by
  :class:`comparisons.em.choose.ContinuousEM`.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pymc.logprob.transforms import LogTransform
from pytensor.graph.basic import Variable
from pytensor.graph.replace import graph_replace
from pytensor.graph.traversal import ancestors

from ...density.compile import compile_fast
from ...density.prior import LogPrior
from ...density.space import ValueSpace
from ...spec.observations import initial_point
from .qfunction import maximise_q, maximise_value, sigma_point_q
from .structure import NotGaussian, block_hessian, check_quadratic, find_blocks

__all__ = ["BOUND_SHIFT", "GaussianLatentEM"]

BOUND_SHIFT = 16.0  # a scale at its bound 0 is evaluated at exp(-16) x its initial value (~1e-7)


class GaussianLatentEM:
    """Exact EM steps compiled from a PyMC model whose latents are conditionally Gaussian.

    :class:`comparisons.em.laplace.LaplaceLatentEM` reuses this machinery (block detection, the
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
        # comparisons.em.laplace; the Gaussian engine's latents have no transform, so none is added there)
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
        self.scale = scale  # public: the boundary profile reads it
        self._z_last = self._z0_init.copy()
        rng = np.random.default_rng(seed)
        self._check_form(rng)
        self._idx = self._find_blocks(rng)
        self.blocks = tuple(self._idx.shape)

    def reset(self) -> None:
        """Forget the warm starts (the last conditional mean, the M-step's curvature): behave as when built
        on the observations the model holds now (:mod:`comparisons.spec.observations`)."""
        self._z_last = self._z0_init.copy()
        self._curvature = {}

    # ------------------------------------------------------------------ conversions
    def to_u(self, params: dict) -> np.ndarray:
        """``{param: value}`` to the unconstrained vector; a scale at exactly 0 maps to its bound point."""
        with np.errstate(divide="ignore"):
            u = self._space.unconstrain(params) if self.params else np.zeros(0)
        at_bound = self.scale & np.isneginf(u)
        u[at_bound] = self._u_init[at_bound] - BOUND_SHIFT
        return u

    def at_bound(self, params: dict) -> np.ndarray:
        """Boolean mask over ``u``: scales that are exactly 0 in ``params``."""
        values = (
            np.concatenate([np.ravel(np.asarray(params[p], dtype=float)) for p in self.params])
            if self.params
            else np.zeros(0)
        )
        return self.scale & (values == 0.0)

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
        (what :func:`.structure.check_quadratic` verifies), and only gradient evaluations (no second-order graph)."""
        g0 = self._fg(z, u)[1]
        return np.stack([self._fg(z + v, u)[1] - g0 for v in V])

    # ------------------------------------------------------------------ structure checks (.structure)
    def _random_u(self, rng):
        return self._u_init + rng.normal(0.0, 0.5, self.p)

    def _random_z(self, rng):
        return self._z0_init + rng.normal(0.0, 1.0, self.n) * (1.0 + np.abs(self._z0_init))

    def _check_form(self, rng) -> None:
        """What this engine needs of ``f``: here, that it is quadratic in ``z``."""
        check_quadratic(self._fg, self._random_u, self._random_z, self._u_init, self.n, rng)

    def _find_blocks(self, rng) -> np.ndarray:
        """Index array ``(G, k)`` of conditionally independent blocks (:func:`.structure.find_blocks`)."""
        return find_blocks(self._hV, self._z_shapes, self.n, self._u_init, self._random_z, rng)

    def _block_hessian(self, z, u, idx) -> np.ndarray:
        """The ``G`` diagonal blocks of H, shape ``(G, k, k)`` (:func:`.structure.block_hessian`)."""
        return block_hessian(self._hV, z, u, idx, self.n)

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

    # ------------------------------------------------------------------ M-step (.qfunction)
    def _q_function(self):
        """``Q(u; m, S)`` (+ w x log prior) and its gradient, compiled once (:func:`.qfunction.sigma_point_q`)."""
        if self._q is None:
            self._q = sigma_point_q(self._f_graph, self._z, self._u, self._w, self._prior_graph, self._idx.shape[1])
        return self._q

    def _q_inputs(self, expectations: dict) -> tuple:
        """The E-step's quantities :meth:`_q_function` takes after ``u``: ``(m, S)``."""
        return expectations["m"], expectations["S"]

    def maximise_q(self, expectations: dict, with_prior: bool, frozen: np.ndarray | None = None) -> dict:
        """Maximise ``Q`` (+ log prior) over the unconstrained parameters; ``frozen`` entries stay put
        (:func:`.qfunction.maximise_q`, warm-started from the previous M-step's curvature)."""
        frozen = expectations["at_bound"] if frozen is None else frozen
        u = maximise_q(
            self._q_function(), self._q_inputs(expectations), expectations["u"], frozen, with_prior, self._curvature
        )
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

        def value(x):
            with np.errstate(all="ignore"):
                e, ll = self.e_step(self.to_params(x, frozen))
            return ll + weight * float(self._prior(e["u"]))

        u = maximise_value(value, self.to_u(params), frozen)
        return params if u is None else self.to_params(u, frozen)

    # ------------------------------------------------------------------ starts
    def starts(self, n_init: int, rng: np.random.Generator) -> list[dict]:
        """The model's initial point, then jittered by U(-1, 1) in the unconstrained space."""
        return [self.to_params(self._u_init + (rng.uniform(-1, 1, self.p) if i else 0.0)) for i in range(n_init)]


def _slices(values, shapes, vector):
    """``value variable -> vector[a:b].reshape(shape)`` for values laid out one after another."""
    start = 0
    for var, shape in zip(values, shapes, strict=True):
        size = int(np.prod(shape))
        yield var, vector[start : start + size].reshape(shape)
        start += size
