"""The model's parameter space: the unconstrained vector ``u``, the way back, and the density in it.

Everything here is compiled from the PyMC model's own graph (no second copy of a density), by the
policy of :mod:`comparisons.density.compile`: the small maps in PyTensor's Python implementations, the
density, its gradient and its Hessian-vector products compiled over large data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
from pymc.logprob.transforms import IntervalTransform, LogOddsTransform, LogTransform
from pytensor.graph.replace import graph_replace, vectorize_graph

from ..results.fit import flat_names
from ..spec.observations import cached, initial_point
from .compile import SMALL_GRAPH_MODE, compile_by_size, compile_small, large_data

if TYPE_CHECKING:
    from ..spec.model_spec import ModelSpec

__all__ = ["ValueSpace", "model_space", "shape_of"]


class ValueSpace:
    """The unconstrained vector ``u`` the optimisers and NUTS work in, and the way back.

    Parameters
    ----------
    model : pymc.Model
        Model whose continuous value variables make up ``u`` (in ``model.value_vars`` order, the
        order ``pm.find_MAP`` uses).
    outputs : list of str
        Free random variables and deterministics to report in their own (constrained) space.
    over : list of str, optional
        The free variables whose value variables make up ``u`` (default: every continuous one), e.g. the
        parameters alone, without the latent variables EM integrates out.
    compile : callable, default :func:`compile_small`
        How the small functions are compiled (``pytensor.function``'s signature).

    Attributes
    ----------
    size : int
        Length of ``u``.
    names : list of str
        Flat names of the reported outputs, matching the vector ``constrained(u)`` returns.
    initial_point : dict of str to ndarray
        The model's initial point (value variables), computed once per model; read only.
    """

    def __init__(
        self, model: pm.Model, outputs: list[str], over: list[str] | None = None, compile: Callable = compile_small
    ):
        self.model, self._compile_small = model, compile
        self.value_vars = [
            v
            for v in model.value_vars
            if v in set(model.continuous_value_vars) and (over is None or model.values_to_rvs[v].name in over)
        ]
        self.initial_point = initial_point(model)  # (read only)
        shapes = [tuple(int(s) for s in self.initial_point[v.name].shape) for v in self.value_vars]
        sizes = [int(np.prod(s)) for s in shapes]
        self.size = int(sum(sizes))
        u = pt.vector("u")
        pieces, start = {}, 0
        for var, shape, size in zip(self.value_vars, shapes, sizes, strict=True):
            pieces[var] = u[start : start + size].reshape(shape)
            start += size
        rvs = [model[name] for name in outputs]
        graphs = model.replace_rvs_by_values(rvs)
        self._shapes = {name: shape_of(model, name) for name in outputs}
        self.names = [n for name in outputs for n in flat_names(name, self._shapes[name])]
        flat = pt.concatenate([pt.as_tensor(g).astype("float64").ravel() for g in graphs])
        flat = graph_replace(flat, pieces, strict=False)
        logp = graph_replace(model.logp(jacobian=True), pieces, strict=False)
        density = graph_replace(model.logp(jacobian=False), pieces, strict=False)
        # compiled on first use: a model with a discrete latent (the discrete EM engine's) has no
        # density in u alone, and EM's initial point needs no log density at all
        self._u, self._flat, self._logp_graph, self._density = u, flat, logp, density
        self._value_shapes = shapes
        self._functions: dict[str, Callable] = {}
        self._at_draws: Callable | None = None
        self._large = large_data(model)  # the density compiled over large data (density.compile)
        self._last_hessian: tuple = (None, None, None)
        self.value_names = [
            n for var, shape in zip(self.value_vars, shapes, strict=True) for n in flat_names(var.name, shape)
        ]
        self._coordinates = _coordinates(model, self.value_vars, shapes)

    def reset(self) -> None:
        """Forget the last Hessian (the observations changed, :mod:`comparisons.spec.observations`)."""
        self._last_hessian = (None, None, None)

    @property
    def shapes(self) -> dict[str, tuple[int, ...]]:
        """Each reported output's shape on its own scale, in the order of :attr:`names`."""
        return dict(self._shapes)

    def _function(self, which: str) -> Callable:
        """The compiled function ``which``, compiled on first use."""
        if which not in self._functions:
            u = self._u
            if which == "constrained":
                outputs = [self._flat, pytensor.gradient.jacobian(self._flat, u, vectorize=True)]
                function = self._compile_small([u], outputs, on_unused_input="ignore")
            elif which == "values":
                function = self._compile_small([u], self._flat, on_unused_input="ignore")
            elif which == "logp_jacobian":
                function = self._compile([u], [self._logp_graph, pt.grad(self._logp_graph, u)])
            elif which == "logp":
                function = self._compile([u], [self._density, pt.grad(self._density, u)])
            elif which in ("hessian", "hessian_jacobian"):
                direction = pt.vector("direction")
                grad = pt.grad(self._logp_graph if which == "hessian_jacobian" else self._density, u)
                function = self._compile([u, direction], pt.grad(pt.dot(grad, direction), u))
            elif which == "unconstrain":  # the forward transforms: own scale -> value variables
                rvs = [self.model.values_to_rvs[v] for v in self.value_vars]
                ins = [rv.type(name=rv.name) for rv in rvs]
                forward = []
                for rv, x in zip(rvs, ins, strict=True):
                    transform = self.model.rvs_to_transforms.get(rv)
                    forward.append(transform.forward(x, *rv.owner.inputs) if transform is not None else x)
                forward = graph_replace(forward, dict(zip(rvs, ins, strict=True)), strict=False)
                function = self._compile_small(ins, forward, on_unused_input="ignore")
            else:
                raise KeyError(which)
            self._functions[which] = function
        return self._functions[which]

    def _compile(self, inputs: list, outputs) -> Callable:
        """A density function, by :func:`~comparisons.density.compile.compile_by_size`."""
        return compile_by_size(inputs, outputs, large=self._large, small=self._compile_small)

    def ravel(self, point: dict[str, np.ndarray]) -> np.ndarray:
        """Value-variable point (``{"tau_log__": ...}``) to the vector ``u``, shape ``(size,)``."""
        return np.concatenate([np.ravel(point[v.name]) for v in self.value_vars]).astype(float)

    def constrained(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Outputs at ``u`` on their own scale, shape ``(len(names),)``, and d outputs / du."""
        values, jac = self._function("constrained")(np.asarray(u, dtype=float))
        return np.asarray(values), np.asarray(jac).reshape(len(self.names), self.size)

    def split(self, u: np.ndarray) -> list[np.ndarray]:
        """The vector ``u`` cut into the value variables' arrays, in :attr:`value_vars` order."""
        cuts = np.cumsum([int(np.prod(s)) for s in self._value_shapes])[:-1]
        pieces = np.split(np.asarray(u, dtype=float), cuts)
        return [a.reshape(s) for a, s in zip(pieces, self._value_shapes, strict=True)]

    def point(self, u: np.ndarray) -> dict[str, np.ndarray]:
        """The free variables at ``u`` on their own scale, ``{name: array}`` (e.g. for ``initvals``)."""
        values, start, out = np.asarray(self._function("values")(np.asarray(u, dtype=float))), 0, {}
        for name, shape in self._shapes.items():
            size = int(np.prod(shape))
            if self.model[name] in self.model.free_RVs:
                out[name] = values[start : start + size].reshape(shape)
            start += size
        return out

    def unconstrain(self, params: dict[str, np.ndarray]) -> np.ndarray:
        """The free variables on their own scale (``{name: array}``, every one in ``u``) to the vector ``u``."""
        rvs = [self.model.values_to_rvs[v] for v in self.value_vars]
        pieces = self._function("unconstrain")(*(np.asarray(params[rv.name], dtype=float) for rv in rvs))
        return np.concatenate([np.ravel(p) for p in pieces]).astype(float)

    def logp(self, u: np.ndarray) -> tuple[float, np.ndarray]:
        """Log density of the parameters on their own scale (no Jacobian: find_MAP's objective) at ``u``,
        and its gradient with respect to ``u``.

        Where the density is undefined (a parameter check of the model fails, e.g. a Beta's
        ``alpha`` overflowing to infinity far out on a ridge) the value is ``-inf`` and the
        gradient NaN: such a point is never higher than any other.
        """
        return _guarded(self._function("logp"), u, self.size)

    def logp_jacobian(self, u: np.ndarray) -> tuple[float, np.ndarray]:
        """Log density of ``u`` *with* the log-Jacobian of the transforms, and its gradient
        (``-inf`` and NaN where the density is undefined, as in :meth:`logp`)."""
        return _guarded(self._function("logp_jacobian"), u, self.size)

    def hessian(self, u: np.ndarray, jacobian: bool = False) -> np.ndarray:
        """Hessian of :meth:`logp` (of :meth:`logp_jacobian` if ``jacobian``) with respect to ``u``, shape
        ``(size, size)`` (NaN where undefined).

        Built from ``size`` Hessian-vector products (one column each, as ``pm.find_MAP`` does), compiled
        on first use: a small graph that compiles in well under a second, where a vectorised
        Hessian graph takes tens of seconds to compile for a mixture over many observations. The last
        Hessian is kept: the mode's audit asks for it at the same point more than once.
        """
        hessian = self._function("hessian_jacobian" if jacobian else "hessian")
        u = np.asarray(u, dtype=float)
        last_u, last_jacobian, last = self._last_hessian
        if last_u is not None and last_jacobian == jacobian and np.array_equal(last_u, u):
            return last.copy()
        try:
            with np.errstate(all="ignore"):
                hess = np.column_stack([hessian(u, e) for e in np.eye(self.size)])
        except Exception:  # noqa: BLE001 -- a failed parameter check: the Hessian is undefined there
            return np.full((self.size, self.size), np.nan)
        hess = (hess + hess.T) / 2
        self._last_hessian = (u.copy(), jacobian, hess)
        return hess.copy()

    def log_density_graph(self) -> tuple[pt.TensorVariable, pt.TensorVariable]:
        """The vector ``u`` and the graph of :meth:`logp_jacobian`'s value at it, for another backend (JAX)."""
        return self._u, self._logp_graph

    def at_draws(self, draws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The outputs and the log density with the Jacobian at many points ``u`` at once.

        Parameters
        ----------
        draws : ndarray, shape (n, size)
            Points in the unconstrained space, one per row.

        Returns
        -------
        values : ndarray, shape (n, len(names))
            :meth:`constrained` at each row.
        log_density : ndarray, shape (n,)
            :meth:`logp_jacobian` at each row, ``-inf`` where the density is undefined.

        The graphs are vectorised over the rows (one call, compiled on first use); if a parameter
        check fails for some row, the rows are evaluated one by one so that only those get ``-inf``.
        """
        draws = np.asarray(draws, dtype=float).reshape(-1, self.size)
        if self._at_draws is None:
            rows = pt.matrix("rows")
            self._at_draws = compile_small(
                [rows], vectorize_graph([self._flat, self._logp_graph], replace={self._u: rows})
            )
        try:
            with np.errstate(all="ignore"):
                values, log_density = self._at_draws(draws)
            return np.asarray(values), np.where(np.isnan(log_density), -np.inf, log_density)
        except Exception:  # noqa: BLE001 -- a parameter check failed at some row: find which, one by one
            values = np.array([self.constrained(u)[0] for u in draws])
            return values, np.array([self.logp_jacobian(u)[0] for u in draws])

    def coordinate(self, name: str) -> int | None:
        """Index in ``u`` of the coordinate that moves the output ``name`` alone, or ``None``.

        Defined for free variables whose transform acts entry by entry (none, log, log-odds,
        interval): ``tau`` is ``tau_log__``, ``sigma[1]`` is ``sigma_log__[1]``. A simplex or an
        ordered vector couples its entries, so no single coordinate moves one of them alone.
        """
        return self._coordinates.get(name)


def model_space(spec: ModelSpec) -> ValueSpace:
    """The space of every free variable and deterministic of ``spec.model``: one per model, its density,
    gradient and Hessian-vector products compiled once and shared by ``map`` (audit, Jacobian mode, Laplace
    sds), ``laplace``, ``advi``, ``fullrank_advi``, ``pathfinder`` and the specs ``with_data`` derives."""
    model = spec.model
    outputs = [rv.name for rv in model.free_RVs] + [d.name for d in model.deterministics]
    return cached(spec.compiled, ("space", tuple(outputs)), lambda: ValueSpace(model, outputs))


def _guarded(function, u: np.ndarray, size: int) -> tuple[float, np.ndarray]:
    """``function(u)`` as (value, gradient); ``(-inf, NaN)`` where the model's parameter checks fail."""
    try:
        with np.errstate(all="ignore"):
            value, grad = function(np.asarray(u, dtype=float))
    except Exception:  # noqa: BLE001 -- pymc's ParameterValueError and friends: the density is undefined there
        return -np.inf, np.full(size, np.nan)
    value = float(value)
    return (value if not np.isnan(value) else -np.inf), np.asarray(grad, dtype=float)


def _coordinates(model: pm.Model, value_vars: list, shapes: list[tuple[int, ...]]) -> dict[str, int]:
    """Flat output name to its index in ``u``, for free variables with an entry-by-entry transform."""
    out: dict[str, int] = {}
    start = 0
    for var, shape in zip(value_vars, shapes, strict=True):
        rv = model.values_to_rvs[var]
        transform = model.rvs_to_transforms.get(rv)
        if transform is None or isinstance(transform, (LogTransform, LogOddsTransform, IntervalTransform)):
            out.update((name, start + i) for i, name in enumerate(flat_names(rv.name, shape)))
        start += int(np.prod(shape))
    return out


def shape_of(model: pm.Model, name: str) -> tuple[int, ...]:
    """Shape of a free variable or deterministic on its own (constrained) scale."""
    static = model[name].type.shape
    if all(s is not None for s in static):  # known without evaluating (compiling) the shape graph
        return tuple(int(s) for s in static)
    with pytensor.config.change_flags(cxx=""):
        return tuple(int(n) for n in model[name].shape.eval(mode=SMALL_GRAPH_MODE))
