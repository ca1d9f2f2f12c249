"""EM derived from the PyMC model for discrete latent variables with finite support.

A model that writes its latent labels explicitly (``z = pm.Categorical("z", p=w, shape=N)``,
``pm.Bernoulli``, ``pm.DiscreteUniform``) gets its EM steps from its own log-density graph:

* **E-step.** The per-element log joint ``log p(z_i = k | theta) + log p(y_i | z_i = k, theta)`` is
  the model's graph with ``z`` replaced by every value of its support at once
  (``vectorize_graph``): shape ``(K, *S)`` for a latent of shape ``S``. The observation term is
  vectorised with ``z`` as a ``(K, 1)`` column, so it broadcasts over the data instead of
  gathering ``mu[z]`` K x N times, and the label term comes from the label's distribution rebuilt
  without its size (a ``(K, 1)`` column when the label probabilities are shared). That graph is
  compiled (numba for large problems); the responsibilities are its softmax over ``K`` and the
  observed-data log likelihood the sum of its logsumexp, both done in place in numpy, whose
  vectorised ``exp`` is several times faster than a compiled scalar loop.
* **M-step.** Numerically: L-BFGS on the expected complete-data log density
  ``sum_k sum_i r_ik log p(z_i = k, y_i | theta)`` (+ the log prior for MAP-EM, never the
  Jacobian) in the model's unconstrained coordinates, with PyTensor gradients. A model file may
  give a closed-form ``m_step`` instead (a tested fast path).
* **Marginal model.** find_MAP and NUTS cannot handle ``z``; :func:`marginalize` builds a new
  ``pm.Model`` that holds the same continuous random variables (the very same graph objects, so
  the priors and transforms are the written ones) and replaces ``z`` and the observations that
  depend on it by one observed ``CustomDist`` whose log density is the logsumexp over ``K`` of the
  same vectorised graph. pymc-extras' ``marginalize`` does this too but needs ``pymc < 6.4``.
* **Fast path.** When one scalar observation per latent element has a log joint that is a
  quadratic polynomial in the observation (normal mixtures), the engine reads the polynomial's
  coefficients off the model's own graph at three probe values, checks them against the full
  graph, and then runs the E-step and the weighted moments in cache-sized blocks — no hand-written
  density; on 10^6 points it runs within 4x of one ``exp`` over K x N values (benchmarks/README.md).
* **Degeneracy.** A non-finite likelihood, parameters the model refuses (a scale of exactly 0) or
  a positive parameter below ``COLLAPSE`` x its initial-point value raise :class:`DegenerateFit`
  naming the component and what to do; :func:`comparisons.solvers.em.run_em` ends that restart as
  degenerate.

The latent variable must be the only one EM integrates out, its elements conditionally
independent given the parameters, and the observations that depend on it must be indexed by it
along their leading axes (``y[i, ...]`` depends on ``z[i]`` only).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
from pymc.distributions.discrete import DiscreteUniformRV
from pytensor.tensor.random.basic import BernoulliRV, CategoricalRV
from pymc.logprob.transforms import LogTransform
from pymc.logprob.utils import ParameterValueError
from pytensor.graph.replace import graph_replace, vectorize_graph
from pytensor.graph.traversal import ancestors, applys_between
from pytensor.tensor.shape import SpecifyShape
from scipy import optimize

from ..errors import ModemeanError

__all__ = ["DegenerateFit", "DiscreteLatentEM", "discrete_latents", "marginalize", "discrete_hooks",
           "normal_mixture_m_step"]

SMALL = 200_000         # below this many log-joint entries, compile without numba (compiling costs more)
BLOCK = 16_384          # points per block on the fast path: the (K, BLOCK) temporaries stay in cache
FAST_RTOL = 1e-9        # the fast path must reproduce the full graph's log joint to this (relative)
COLLAPSE = 1e-6         # a positive parameter below this x its initial-point value has collapsed
FAST_SLACK = 1e-13      # the fast path's rounding bound must stay below this x |log likelihood|


class DegenerateFit(ArithmeticError):
    """A component collapsed (likelihood unbounded); the message says which and what to do."""


def observed_value(model: pm.Model, rv) -> np.ndarray:
    """The data of an observed variable: a constant's ``.data``, a ``pm.Data`` (shared) variable's value."""
    value = model.rvs_to_values[rv]
    if hasattr(value, "get_value"):
        return np.asarray(value.get_value())
    if hasattr(value, "data"):
        return np.asarray(value.data)
    return np.asarray(value.eval())  # e.g. data transformed in the graph: evaluate the expression


def discrete_latents(model: pm.Model, latent: tuple[str, ...]) -> list[str]:
    """The names in ``latent`` that are discrete free random variables of ``model``."""
    discrete = {model.values_to_rvs[v].name for v in model.discrete_value_vars}
    return [name for name in latent if name in discrete and model[name] in model.free_RVs]


def _support(rv) -> np.ndarray:
    """The finite support of a discrete latent, shape ``(K,)``, from its distribution."""
    op = rv.owner.op
    params = op.dist_params(rv.owner)
    if isinstance(op, BernoulliRV):
        return np.array([0, 1])
    if isinstance(op, CategoricalRV):
        return np.arange(int(params[0].shape[-1].eval()))
    if isinstance(op, DiscreteUniformRV):
        lo, hi = (np.asarray(p.eval()) for p in params)
        if lo.ndim or hi.ndim:
            raise ModemeanError(f"latent {rv.name!r}: DiscreteUniform bounds must be scalars to enumerate its support")
        return np.arange(int(lo), int(hi) + 1)
    raise ModemeanError(f"latent {rv.name!r} is a {type(op).__name__}: EM can only enumerate Categorical, "
                        "Bernoulli or DiscreteUniform latents (finite support)")


def _strip_specify_shape(out, inputs):
    """Remove ``SpecifyShape`` checks, which pin the latent's original length after vectorising."""
    nodes = [n for n in applys_between(inputs, [out]) if isinstance(n.op, SpecifyShape)]
    return graph_replace(out, {n.outputs[0]: n.inputs[0] for n in nodes}, strict=False) if nodes else out


class DiscreteLatentEM:
    """EM steps compiled from a PyMC model with one explicit discrete latent variable.

    Parameters
    ----------
    model : pymc.Model
        The model as written, with the latent (e.g. ``z``) as a free random variable.
    latent : str
        Name of the latent variable, shape ``S`` (``(N,)`` for one label per observation).

    Attributes
    ----------
    support : ndarray of shape (K,)
        The latent's values.
    params : list of str
        The parameters (every other free variable; all continuous).
    shape : tuple of int
        ``S``, the latent's shape.
    """

    def __init__(self, model: pm.Model, latent: str):
        self.model, self.latent = model, latent
        z_rv = model[latent]
        self.support = _support(z_rv)
        self.shape = tuple(int(s) for s in model.initial_point()[model.rvs_to_values[z_rv].name].shape)
        K, S = len(self.support), self.shape
        thetas = [rv for rv in model.free_RVs if rv is not z_rv]
        discrete_others = [rv.name for rv in thetas if rv.type.dtype.startswith("int")]
        if discrete_others:
            raise ModemeanError(f"EM integrates out one discrete latent ({latent!r}); {discrete_others} are discrete "
                                "too: declare them in LATENT together is not supported, marginalise them by hand")
        self.params = [rv.name for rv in thetas]
        self._positive = [rv.name for rv in thetas if isinstance(model.rvs_to_transforms.get(rv), LogTransform)]
        self._thetas = thetas
        dependent = [o for o in model.observed_RVs if z_rv in ancestors([o])]
        self._rest_obs = [o for o in model.observed_RVs if o not in dependent]
        bad = [p.name for p in model.potentials if z_rv in ancestors([p])]
        if bad:
            raise ModemeanError(f"potentials {bad} depend on the latent {latent!r}: EM cannot enumerate them")
        if not dependent:
            raise ModemeanError(f"no observed variable depends on the latent {latent!r}")
        self._dependent = dependent
        self._obs_name = dependent[0].name if len(dependent) == 1 else None

        ins = [rv.type(name=rv.name) for rv in thetas]
        z_in = z_rv.type(name=f"{latent}_value")
        to_inputs = dict(zip(thetas, ins)) | {z_rv: z_in}
        z_term = graph_replace(pm.logp(z_rv, z_in), to_inputs, strict=False)
        obs_terms = [graph_replace(pm.logp(o, model.rvs_to_values[o]), to_inputs, strict=False) for o in dependent]
        obs_sum = sum(t.sum(axis=tuple(range(len(S), t.ndim))) if t.ndim > len(S) else t for t in obs_terms)
        z_full = pt.tensor(f"{latent}_all", dtype=z_rv.type.dtype, shape=(None, *S))
        z_col = pt.tensor(f"{latent}_col", dtype=z_rv.type.dtype, shape=(None, *(1,) * len(S)))
        # the observation term broadcasts over K (no K x N gather of mu[z], sigma[z]); so does the label
        # term, from the label's distribution rebuilt without its size (log w_k is a (K, 1) column when
        # the label probabilities are shared, (K, N) when they vary over i)
        try:
            op = z_rv.owner.op
            _, unsized = op(*op.dist_params(z_rv.owner), rng=op.rng_param(z_rv.owner), return_next_rng=True)
            label_term = graph_replace(pm.logp(unsized, z_col), dict(zip(thetas, ins)), strict=False)
            shape = pytensor.function(ins + [z_col], label_term.shape, mode="FAST_COMPILE", on_unused_input="ignore")(
                *self._initial_args(model, thetas), self.support.reshape(K, *(1,) * len(S)).astype(z_rv.type.dtype))
            if tuple(shape[1:]) == (1,) * len(S):     # shared label probabilities: a (K, 1) column
                label_term = pt.specify_broadcastable(label_term, *range(1, 1 + len(S)))
            elif tuple(shape) != (K, *S):
                raise ValueError(f"label term of shape {tuple(shape)}")
        except Exception:  # noqa: BLE001 -- e.g. a symbolic distribution: enumerate at full size instead
            label_term = vectorize_graph(z_term, replace={z_in: z_full})
        log_joint = label_term + _strip_specify_shape(vectorize_graph(obs_sum, replace={z_in: z_col}), ins + [z_col])
        rest = sum((pm.logp(o, model.rvs_to_values[o]).sum() for o in self._rest_obs), pt.constant(0.0))
        rest = graph_replace(rest, dict(zip(thetas, ins)), strict=False)

        self._z_full = np.ascontiguousarray(
            np.broadcast_to(self.support.reshape(K, *(1,) * len(S)), (K, *S)).astype(z_rv.type.dtype))
        self._z_col = self.support.reshape(K, *(1,) * len(S)).astype(z_rv.type.dtype)
        self._z_in, self._ins, self._z_full_var, self._z_col_var = z_in, ins, z_full, z_col
        self._log_joint_graph, self._rest_graph = log_joint, rest
        self._mode = None if K * int(np.prod(S)) * max(1, int(np.prod(self._obs_extra()))) >= SMALL else "FAST_COMPILE"

        self._compiled: dict[str, Callable] = {}
        self._m_funcs: dict[bool, Callable] = {}
        self._convert = None
        self._fast = None
        self._moment_data = self._scalar_observation()

    # ------------------------------------------------------------------ small helpers
    @staticmethod
    def _initial_args(model: pm.Model, thetas: list) -> list[np.ndarray]:
        """The parameters at the model's initial point, on their own scale, in ``thetas`` order."""
        values = [model.rvs_to_values[rv] for rv in thetas]
        point = model.initial_point()
        f = pytensor.function(values, model.replace_rvs_by_values(thetas), mode="FAST_COMPILE", on_unused_input="ignore")
        return [np.asarray(v) for v in f(*(point[v.name] for v in values))]

    def _obs_extra(self) -> tuple[int, ...]:
        """Trailing shape of the dependent observations beyond the latent's shape (largest)."""
        extra = [np.shape(observed_value(self.model, o))[len(self.shape):] for o in self._dependent]
        return max(extra, key=lambda s: int(np.prod(s)))

    def _scalar_observation(self) -> np.ndarray | None:
        """``[1, y, y^2]`` of shape (N, 3) when one scalar observation per latent element exists."""
        if self._obs_name is None or len(self.shape) != 1:
            return None
        y = np.asarray(observed_value(self.model, self._dependent[0]), dtype=float)
        if y.shape != self.shape:
            return None
        return np.column_stack([np.ones_like(y), y, y * y])

    def _args(self, params: dict) -> list[np.ndarray]:
        return [np.asarray(params[p], dtype=float) for p in self.params]

    def _function(self, which: str) -> Callable:
        """Compile on first use: ``"joint"`` (the (K, *S) log joint) or ``"rest"`` (observations without the latent)."""
        if which not in self._compiled:
            inputs = self._ins + [self._z_full_var, self._z_col_var]
            outputs = self._log_joint_graph if which == "joint" else self._rest_graph
            self._compiled[which] = pytensor.function(inputs, outputs, mode=self._mode if which == "joint" else
                                                      "FAST_COMPILE", on_unused_input="ignore")
        return self._compiled[which]

    # ------------------------------------------------------------------ E-step
    def log_joint(self, params: dict) -> np.ndarray:
        """``log p(z_i = k, y_i | params)`` from the model's graph, shape ``(K, *S)``."""
        return np.asarray(self._function("joint")(*self._args(params), self._z_full, self._z_col))

    def e_step(self, params: dict) -> tuple[dict, float]:
        """Responsibilities from the model's own graph, and the observed-data log likelihood.

        Parameters
        ----------
        params : dict of str to ndarray
            Every parameter on its own (constrained) scale.

        Returns
        -------
        expectations : dict
            ``resp``: shape ``(*S, K)``, P(z_i = k | y, params), summing to 1 over the last axis;
            ``moments``: shape (K, 3), ``sum_i r_ik [1, y_i, y_i^2]`` when there is one scalar
            observation per latent element (else ``None``); ``params``: the parameters the
            expectations were taken at.
        log_likelihood : float
            ``log p(y | params)`` with the latent summed out.

        Raises
        ------
        DegenerateFit
            The log likelihood is not finite (a component collapsed onto a point, or the data are
            impossible under ``params``).
        """
        args = (*self._args(params), self._z_full, self._z_col)
        try:
            resp = np.array(self._function("joint")(*args), dtype=float)     # a fresh (K, *S) buffer, reused below
            rest = float(self._function("rest")(*args))
        except ParameterValueError as exc:
            raise DegenerateFit(self._collapse_message(params, f"the model refuses the parameters ({exc})")) from exc
        # softmax over K and logsumexp, in place with numpy's vectorised exp/log (the density is the graph's)
        peak = resp.max(axis=0)
        peak[~np.isfinite(peak)] = 0.0
        resp -= peak
        np.exp(resp, out=resp)
        total = resp.sum(axis=0)
        resp /= total
        with np.errstate(divide="ignore"):
            loglik = float(np.log(total).sum() + peak.sum()) + rest
        self._check(loglik, resp.reshape(len(self.support), -1).sum(axis=1), params)
        self._last_counts = resp.reshape(len(self.support), -1).sum(axis=1)
        moments = resp @ self._moment_data if self._moment_data is not None else None
        return {"resp": np.moveaxis(resp, 0, -1), "moments": moments, "params": params}, loglik

    def _check(self, loglik: float, counts: np.ndarray, params: dict) -> None:
        """Raise :class:`DegenerateFit` on a non-finite likelihood or a collapsing scale.

        A positive parameter (log-transformed: sds, rates) below ``COLLAPSE`` times its value at
        the model's initial point (its prior's own scale) counts as collapsed: on the way to 0 the
        likelihood grows without bound and, before it overflows, rounding makes EM's objective
        erratic.
        """
        self._ensure_convert()
        small = [p for p in self._positive
                 if np.any(np.asarray(params[p]) < COLLAPSE * np.asarray(self._reference[p]))]
        if np.isfinite(loglik) and not small and all(np.all(np.isfinite(np.asarray(v))) for v in params.values()):
            return
        what = f"the likelihood is {loglik}" if not np.isfinite(loglik) else \
            f"{', '.join(small)} fell below {COLLAPSE:g} x its scale at the model's initial point"
        raise DegenerateFit(self._collapse_message(params, what, counts))

    def _collapse_message(self, params: dict, what: str, counts: np.ndarray | None = None) -> str:
        """Which component collapsed (fewest effective points, a scale at 0) and what to do."""
        counts = counts if counts is not None else getattr(self, "_last_counts", None)
        self._ensure_convert()
        zero = [f"{p}{np.argwhere(~(np.atleast_1d(params[p]) >= COLLAPSE * np.atleast_1d(self._reference[p]))).ravel().tolist()}"
                for p in self._positive if not np.all(np.asarray(params[p]) >= COLLAPSE * np.asarray(self._reference[p]))]
        where = ""
        if counts is not None and np.all(np.isfinite(counts)):
            k = int(np.argmin(counts))
            where = f"component {self.latent}={self.support[k]} held {counts[k]:.3g} effective point(s); "
        return (f"{what} at {_short(params)}: {where}{'collapsed scale(s): ' + ', '.join(zero) + '; ' if zero else ''}"
                "a component collapsed onto a point and the likelihood is unbounded. What to do: use MAP-EM "
                "(column em) with a prior that keeps scales away from 0 (e.g. Gamma or InverseGamma on the sds), "
                "fewer components, or other starts; this restart is discarded")

    # ------------------------------------------------------------------ fast path (normal-family mixtures)
    def fast_e_step(self, build: Callable[[dict], pm.Model], data: dict) -> Callable | None:
        """The blocked E-step for a log joint quadratic in a scalar observation, or ``None``.

        The coefficients ``C`` (K, 3) of ``log p(z_i = k, y_i) = C[k] @ [1, t_i, t_i^2]``, with
        ``t = (y - mean y) / sd y``, are read off the model's own graph: ``build`` is called once
        more with the observation replaced by the probes t = (0, 1, -1), and that small model's
        log joint is solved for ``C``. The
        result is checked against the full graph at two parameter points (relative
        ``FAST_RTOL``); ``None`` is returned if it differs (not quadratic in y, a label prior
        that varies over i, other data of length N). At each call, if a rounding bound of the
        polynomial form exceeds ``FAST_SLACK`` x |log likelihood| (a component much narrower
        than the data), that iteration falls back to the graph's E-step. The returned E-step gives ``moments`` and
        ``resp=None``: it serves a closed-form M-step that reads the moments.

        Parameters
        ----------
        build : callable
            The model file's ``build(data)``.
        data : dict
            The data ``build`` was given.
        """
        if self._fast is None:
            self._fast = self._build_fast(build, data) or False
        return self._fast or None

    def _build_fast(self, build, data):
        if self._moment_data is None:
            return None
        y = self._moment_data[:, 1]
        keys = [k for k, v in data.items() if np.shape(v) == y.shape and np.array_equal(np.asarray(v, dtype=float), y)]
        if len(keys) != 1:
            return None
        # probe at the data's centre and +- one sd: the coefficients then multiply O(1) features,
        # so their rounding is not amplified by y^2 (waits of ~80 minutes would lose 4 digits)
        centre, half = float(np.mean(y)), float(np.std(y)) or 1.0
        try:
            probe = DiscreteLatentEM(build({**data, keys[0]: centre + half * np.array([0.0, 1.0, -1.0])}), self.latent)
            probe._mode = "FAST_COMPILE"
        except Exception:  # noqa: BLE001 -- a model that cannot be rebuilt on three points has no fast path
            return None
        design = np.array([[1.0, 0.0, 0.0], [1.0, 1.0, 1.0], [1.0, -1.0, 1.0]])

        def coefficients(params):
            return np.linalg.solve(design, probe.log_joint(params).T).T  # (K, 3), in t = (y - centre) / half

        t = (y - centre) / half
        standard = np.column_stack([np.ones_like(t), t, t * t])
        # [1, y, y^2] moments from [1, t, t^2] moments: y = centre + half t
        back = np.array([[1.0, 0.0, 0.0], [centre, half, 0.0], [centre**2, 2 * centre * half, half**2]])

        self._ensure_convert()
        jitter = np.random.default_rng(0).uniform(-0.5, 0.5, self._u0.shape)
        for params in (self.to_params(self._u0), self.to_params(self._u0 + jitter)):
            try:
                fast = coefficients(params) @ standard.T
            except Exception:  # noqa: BLE001
                return None
            full = self.log_joint(params)
            if not np.all(np.isfinite(full)) or not np.allclose(fast, full, rtol=FAST_RTOL, atol=FAST_RTOL * np.max(np.abs(full))):
                return None
        features = np.ascontiguousarray(standard.T)  # (3, N)
        rest = pytensor.function(self._ins, self._rest_graph, mode="FAST_COMPILE", on_unused_input="ignore")
        feature_sums = np.abs(standard).sum(axis=0)  # sum_i [1, |t_i|, t_i^2]

        def e_step(params):
            try:
                C = coefficients(params)
            except ParameterValueError as exc:
                raise DegenerateFit(self._collapse_message(params, f"the model refuses the parameters ({exc})")) from exc
            moments, loglik = _blocked_moments(C, features)
            # a + b t + c t^2 cancels when a component is much narrower than the data (|c| large):
            # where its rounding could exceed the monotonicity check's slack, use the graph instead
            if 8 * np.finfo(float).eps * float(np.abs(C).max(axis=0) @ feature_sums) > FAST_SLACK * max(1.0, abs(loglik)):
                return self.e_step(params)
            moments = moments @ back.T
            loglik += float(rest(*self._args(params)))
            self._check(loglik, moments[:, 0], params)
            self._last_counts = moments[:, 0]
            return {"resp": None, "moments": moments, "params": params}, loglik

        return e_step

    # ------------------------------------------------------------------ numerical M-step
    def _ensure_convert(self):
        if self._convert is not None:
            return
        model = self.model
        values = [model.rvs_to_values[rv] for rv in self._thetas]
        ip = model.initial_point()
        self._shapes = [np.shape(ip[v.name]) for v in values]
        self._u0 = np.concatenate([np.ravel(ip[v.name]) for v in values]).astype(float)
        constrained = model.replace_rvs_by_values(self._thetas)
        to_params = pytensor.function(values, constrained, mode="FAST_COMPILE", on_unused_input="ignore")
        forward = []
        for rv, x in zip(self._thetas, self._ins):
            t = model.rvs_to_transforms.get(rv)
            forward.append(t.forward(x, *rv.owner.inputs) if t is not None else x)
        forward = graph_replace(forward, dict(zip(self._thetas, self._ins)), strict=False)
        to_values = pytensor.function(self._ins, forward, mode="FAST_COMPILE", on_unused_input="ignore")
        self._values, self._constrained = values, constrained
        self._convert = (to_params, to_values)
        self._reference = self.to_params(self._u0)

    def _split(self, u: np.ndarray) -> list[np.ndarray]:
        cuts = np.cumsum([int(np.prod(s)) for s in self._shapes])[:-1]
        return [a.reshape(s) for a, s in zip(np.split(u, cuts), self._shapes)]

    def to_params(self, u: np.ndarray) -> dict:
        """Unconstrained vector (value variables, concatenated) to ``{param: value}``."""
        self._ensure_convert()
        out = self._convert[0](*self._split(np.asarray(u, dtype=float)))
        return {p: np.asarray(v, dtype=float) for p, v in zip(self.params, out)}

    def to_u(self, params: dict) -> np.ndarray:
        """``{param: value}`` to the unconstrained vector the numerical M-step works in."""
        self._ensure_convert()
        return np.concatenate([np.ravel(v) for v in self._convert[1](*self._args(params))]).astype(float)

    def _m_function(self, with_prior: bool):
        if with_prior not in self._m_funcs:
            self._ensure_convert()
            model = self.model
            resp = pt.tensor("resp", dtype="float64", shape=(None, *self.shape))
            # 0 * log 0 = 0: an impossible (label, observation) pair carries no responsibility
            q = pt.switch(pt.gt(resp, 0), resp * self._log_joint_graph, 0.0).sum() + self._rest_graph
            q = graph_replace(q, dict(zip(self._ins, self._constrained)), strict=False)
            if with_prior:
                others = set(model.free_RVs) - set(self._thetas)
                potentials = [p for p in model.potentials if not others & set(ancestors([p]))]
                prior = model.logp(vars=self._thetas, jacobian=False)
                q = q + prior + sum(model.replace_rvs_by_values(potentials), pt.constant(0.0))
            grads = pt.grad(q, self._values)
            f = pytensor.function(self._values + [resp, self._z_full_var, self._z_col_var],
                                  [q, *grads], mode=self._mode, on_unused_input="ignore")
            self._m_funcs[with_prior] = f
        return self._m_funcs[with_prior]

    def m_step(self, expectations: dict, with_prior: bool) -> dict:
        """Maximise the expected complete-data log density (+ log prior) numerically.

        L-BFGS-B in the unconstrained coordinates from the current parameters, with gradients
        from PyTensor; no Jacobian term (the same objective as find_MAP's). A result below the
        start's value (which L-BFGS should never return) falls back to the start.

        Parameters
        ----------
        expectations : dict
            From :meth:`e_step` (needs ``resp`` and ``params``).
        with_prior : bool
            MAP-EM (True) or ML-EM (False).

        Returns
        -------
        dict of str to ndarray
        """
        f = self._m_function(with_prior)
        resp = np.ascontiguousarray(np.moveaxis(expectations["resp"], -1, 0))

        def negative(u):
            try:
                q, *g = f(*self._split(u), resp, self._z_full, self._z_col)
            except ParameterValueError:  # e.g. a scale underflowed to 0: not a better point
                return np.inf, np.zeros_like(u)
            q = float(q)
            if not np.isfinite(q):
                return np.inf, np.zeros_like(u)
            return -q, -np.concatenate([np.ravel(a) for a in g])

        u0 = self.to_u(expectations["params"])
        res = optimize.minimize(negative, u0, jac=True, method="L-BFGS-B",
                                options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-10, "maxcor": 30})
        u = res.x if res.fun <= negative(u0)[0] else u0
        return self.to_params(u)

    def starts(self, n_init: int, rng: np.random.Generator) -> list[dict]:
        """The model's initial point, then jittered by U(-1, 1) in the unconstrained space."""
        self._ensure_convert()
        return [self.to_params(self._u0 + (rng.uniform(-1, 1, self._u0.shape) if i else 0.0)) for i in range(n_init)]

    # ------------------------------------------------------------------ marginal density
    def marginal_logp(self, thetas: list, values: dict) -> pt.TensorVariable:
        """The log density of the dependent observations with the latent summed out.

        Parameters
        ----------
        thetas : list of TensorVariable
            Graph variables standing for the parameters, in :attr:`params` order.
        values : dict of str to TensorVariable
            Observed variable name to the graph of its value.

        Returns
        -------
        TensorVariable of shape S
            ``logsumexp_k log p(z_i = k, y_i | theta)`` per latent element.
        """
        data = {self.model.rvs_to_values[o]: values[o.name] for o in self._dependent}
        lj = graph_replace(self._log_joint_graph, dict(zip(self._ins, thetas)) | data, strict=False)
        lj = graph_replace(lj, {self._z_full_var: pt.as_tensor(self._z_full), self._z_col_var: pt.as_tensor(self._z_col)},
                           strict=False)
        return pt.logsumexp(lj, axis=0)


def _blocked_moments(C: np.ndarray, features: np.ndarray) -> tuple[np.ndarray, float]:
    """Responsibility-weighted moments and log likelihood of a quadratic log joint, in blocks.

    Parameters
    ----------
    C : ndarray of shape (K, 3)
        ``log p(z = k, y) = C[k] @ [1, y, y^2]``.
    features : ndarray of shape (3, N)
        ``[1, y, y^2]`` per point, C-contiguous.

    Returns
    -------
    moments : ndarray of shape (K, 3)
        ``sum_i r_ik [1, y_i, y_i^2]``.
    log_likelihood : float
    """
    K, N = C.shape[0], features.shape[1]
    moments = np.zeros((K, 3))
    loglik = 0.0
    L = np.empty((K, BLOCK))
    peak = np.empty(BLOCK)
    total = np.empty(BLOCK)
    for start in range(0, N, BLOCK):
        X = features[:, start:start + BLOCK]
        b = X.shape[1]
        Lb, pb, tb = L[:, :b], peak[:b], total[:b]
        np.matmul(C, X, out=Lb)
        np.max(Lb, axis=0, out=pb)
        Lb -= pb
        np.exp(Lb, out=Lb)
        np.sum(Lb, axis=0, out=tb)
        np.divide(Lb, tb, out=Lb)
        moments += Lb @ X.T
        np.log(tb, out=tb)
        loglik += float(tb.sum() + pb.sum())
    return moments, loglik


def _short(params: dict) -> str:
    return ", ".join(f"{k}={np.array2string(np.asarray(v), precision=3)}" for k, v in params.items())


def marginalize(model: pm.Model, engine: DiscreteLatentEM) -> pm.Model:
    """A new model with the latent summed out, for find_MAP and NUTS.

    The new model registers the very same parameter random variables (their priors, transforms
    and initial values as written), the deterministics and potentials that do not involve the
    latent, the observations that do not depend on it, and one observed ``CustomDist`` (named
    after the dependent observation, or ``"<latent>_marginal"`` when several depend on it) whose
    log density is :meth:`DiscreteLatentEM.marginal_logp`.
    """
    z_rv = model[engine.latent]
    with pm.Model(coords=model.coords) as marginal:
        for rv in engine._thetas:
            marginal.register_rv(rv, rv.name, default_transform=model.rvs_to_transforms.get(rv),
                                 initval=model.rvs_to_initial_values.get(rv), dims=model.named_vars_to_dims.get(rv.name))
        for o in engine._rest_obs:
            marginal.register_rv(o, o.name, observed=observed_value(model, o), dims=model.named_vars_to_dims.get(o.name))
        for d in model.deterministics:
            if z_rv not in ancestors([d]):
                pm.Deterministic(d.name, d, dims=model.named_vars_to_dims.get(d.name))
        for p in model.potentials:
            pm.Potential(p.name, p)
        dep = engine._dependent
        data = [np.asarray(observed_value(model, o)) for o in dep]
        thetas = engine._thetas
        if len(dep) == 1:
            def logp(value, shape_carrier, *params):
                return engine.marginal_logp(list(params), {dep[0].name: value})

            # the parameters are the distribution's inputs (core shapes as written); a constant of the
            # observation's shape is passed first so the signature can name the output's core shape
            out = "(" + ",".join(f"y{j}" for j in range(data[0].ndim)) + ")"
            cores = [out] + ["(" + ",".join(f"p{i}_{j}" for j in range(rv.ndim)) + ")" for i, rv in enumerate(thetas)]
            pm.CustomDist(dep[0].name, pt.zeros(data[0].shape), *thetas,
                          logp=_reduce_to(logp, data[0].ndim, len(engine.shape)), observed=data[0],
                          signature=f"{','.join(cores)}->{out}", dtype=str(data[0].dtype))
        else:
            lp = engine.marginal_logp(list(thetas), {o.name: pt.as_tensor(x) for o, x in zip(dep, data)})
            pm.Potential(f"{engine.latent}_marginal", lp.sum())
    return marginal


def _reduce_to(logp, value_ndim: int, latent_ndim: int):
    """Wrap ``logp`` so a per-latent-element density fills a value-shaped output.

    PyMC expects an elementwise log density shaped like the observation; the marginal density
    lives on the latent's elements (the leading axes), so it is put on the first entry of the
    trailing axes and zeros elsewhere — the sum, which is all find_MAP and NUTS use, is exact.
    """
    if value_ndim == latent_ndim:
        return logp

    def wrapped(value, *params):
        lp = logp(value, *params)
        first = (slice(None),) * latent_ndim + (0,) * (value_ndim - latent_ndim)
        return pt.set_subtensor(pt.zeros_like(value, dtype="float64")[first], lp)

    return wrapped


def discrete_hooks(model: pm.Model, latent: str, em_starts: Callable | None, m_step: Callable | None,
                   build: Callable[[dict], pm.Model] | None = None,
                   ) -> tuple[dict[str, Callable], Callable[[], DiscreteLatentEM]]:
    """The model contract's ``em_starts``, ``e_step``, ``m_step`` for a discrete latent.

    The engine is compiled on the first call. ``e_step`` always comes from the model's graph;
    ``m_step`` is the model file's closed form if it gives one, else the numerical M-step;
    ``em_starts`` is the model file's, else :meth:`DiscreteLatentEM.starts`. When the model
    gives a closed-form M-step (and ``build``, to probe the graph), ``fast_e_step`` is added: the
    blocked E-step of :meth:`DiscreteLatentEM.fast_e_step` where it applies, else the graph's.

    Returns
    -------
    hooks : dict of str to callable
        Same signatures as a hand-written model file: ``em_starts(data, n_init, rng)``,
        ``e_step(data, params)``, ``m_step(data, expectations, prior)`` (``prior`` a LogPrior or
        None), plus ``fast_e_step(data, params)`` as above (may return ``None`` as engine).
    engine : callable
        Returns the (cached) :class:`DiscreteLatentEM`.
    """
    cache = {}

    def engine():
        if "engine" not in cache:
            cache["engine"] = DiscreteLatentEM(model, latent)
        return cache["engine"]

    hooks = {
        "em_starts": em_starts or (lambda data, n_init, rng: engine().starts(n_init, rng)),
        "e_step": lambda data, params: engine().e_step(params),
        "m_step": m_step or (lambda data, expectations, prior: engine().m_step(expectations, prior is not None)),
    }
    if m_step is not None and build is not None:
        def fast(data, params):
            step = engine().fast_e_step(build, data)
            return (step or engine().e_step)(params)
        hooks["fast_e_step"] = fast
    return hooks, engine


def normal_mixture_m_step(moments: np.ndarray, sigma: np.ndarray, *, alpha: float | None = None,
                          mu_loc: np.ndarray | None = None, mu_scale: float | None = None,
                          sigma_scale: float | None = None, tol: float = 1e-14, max_iter: int = 500) -> dict:
    """Exact M-step of a 1-D normal mixture from the weighted moments, with or without priors.

    Without priors (``alpha is None``): the ML update (weights n_k/N, weighted means, weighted
    variances). With the priors w ~ Dirichlet(alpha), mu_k ~ N(mu_loc_k, mu_scale),
    sigma_k ~ HalfNormal(sigma_scale) (log densities without Jacobian, as find_MAP): the joint
    maximiser of the expected complete-data log posterior, found by alternating the two
    conditional closed forms (mu | sigma, sigma | mu) to a fixed point (each is exact, so this
    converges to the joint stationary point in a few steps — K-sized arithmetic, no data pass).
    An ordering constraint on the means (``transforms.ordered``) is not imposed: when the
    components overlap so much that the maximiser swaps them, the returned means are unordered
    (the numerical M-step would stop on the constraint instead).

    Parameters
    ----------
    moments : ndarray of shape (K, 3)
        ``sum_i r_ik [1, x_i, x_i^2]``.
    sigma : ndarray of shape (K,)
        Current sds (the start of the fixed-point iteration).

    Returns
    -------
    dict
        ``w`` (K,), ``mu`` (K,), ``sigma`` (K,).
    """
    with np.errstate(divide="ignore", invalid="ignore"):  # a collapsed component gives inf/nan: the E-step reports it
        return _normal_mixture_m_step(moments, sigma, alpha, mu_loc, mu_scale, sigma_scale, tol, max_iter)


def _normal_mixture_m_step(moments, sigma, alpha, mu_loc, mu_scale, sigma_scale, tol, max_iter):
    n, s1, s2 = moments[:, 0], moments[:, 1], moments[:, 2]
    if alpha is None:
        mu = s1 / n
        return {"w": n / n.sum(), "mu": mu, "sigma": np.sqrt(np.maximum(s2 / n - mu**2, 0.0))}
    K = len(n)
    w = (n + alpha - 1) / (n.sum() + K * (alpha - 1))
    sigma = np.asarray(sigma, dtype=float)
    s2p = sigma_scale**2
    for _ in range(max_iter):
        mu = (s1 / sigma**2 + mu_loc / mu_scale**2) / (n / sigma**2 + 1 / mu_scale**2)
        scatter = np.maximum(s2 - 2 * mu * s1 + n * mu**2, 0.0)
        new = np.sqrt(s2p * (-n + np.sqrt(n**2 + 4 * scatter / s2p)) / 2)
        done = np.max(np.abs(new - sigma) / (1e-300 + sigma)) < tol
        sigma = new
        if done:
            break
    mu = (s1 / sigma**2 + mu_loc / mu_scale**2) / (n / sigma**2 + 1 / mu_scale**2)
    return {"w": w, "mu": mu, "sigma": sigma}
