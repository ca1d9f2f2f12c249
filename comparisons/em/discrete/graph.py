"""The latent's support and the log joint over it, vectorised, built from the model's own graph.

``log p(z_i = k | theta) + log p(y_i | z_i = k, theta)`` for every value ``k`` of the support at once
(``vectorize_graph``): shape ``(K, *S)`` for a latent of shape ``S``. The observation term is
vectorised with ``z`` as a ``(K, 1)`` column, so it broadcasts over the data instead of gathering
``mu[z]`` K x N times, and the label term comes from the label's distribution rebuilt without its
size (a ``(K, 1)`` column when the label probabilities are shared).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pymc.distributions.discrete import DiscreteUniformRV
from pytensor.graph.basic import Variable
from pytensor.graph.replace import graph_replace, vectorize_graph
from pytensor.graph.traversal import ancestors, applys_between
from pytensor.tensor.random.basic import BernoulliRV, CategoricalRV
from pytensor.tensor.shape import SpecifyShape

from ...density.compile import compile_small
from ...errors import ModemeanError
from ...spec.observations import initial_point

__all__ = [
    "LogJointGraph",
    "log_joint_graph",
    "support",
    "discrete_latents",
    "discrete_chain",
    "observed_value",
    "scalar_observation",
]


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


def discrete_chain(model: pm.Model, discrete: list[str]) -> list[tuple[str, str]]:
    """Links between discrete latents: ``(child, parent)`` where ``child``'s distribution depends on
    ``parent`` (a Markov chain ``z_t ~ Categorical(P[z_{t-1}])`` gives one link per step), in ``discrete``'s order."""
    links: list[tuple[str, str]] = []
    for name in discrete:
        rv, others = model[name], [model[d] for d in discrete if d != name]
        parents = {v.name for v in ancestors(rv.owner.inputs, blockers=others) if v in others}
        links.extend((name, parent) for parent in discrete if parent in parents)
    return links


def support(rv) -> np.ndarray:
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
    raise ModemeanError(
        f"latent {rv.name!r} is a {type(op).__name__}: EM can only enumerate Categorical, "
        "Bernoulli or DiscreteUniform latents (finite support)"
    )


@dataclass(frozen=True)
class LogJointGraph:
    """The symbolic pieces the E-step, the M-step and the marginal model share.

    Attributes
    ----------
    thetas : list of TensorVariable
        The parameters' random variables (every free variable but the latent; all continuous).
    inputs : list of TensorVariable
        Stand-ins for ``thetas`` on their own scale, the inputs of :attr:`log_joint` and :attr:`rest`.
    dependent, independent : list of TensorVariable
        The observed variables that depend on the latent, and the others.
    z_full, z_col : TensorVariable
        The latent's values as inputs: shape ``(K, *S)`` and ``(K, 1, ...)``.
    z_full_value, z_col_value : ndarray
        The support laid out in those two shapes (pass them for ``z_full`` and ``z_col``).
    log_joint : TensorVariable of shape (K, *S)
        ``log p(z_i = k, y_i | theta)`` per latent element, the dependent observations summed over
        their trailing axes.
    rest : TensorVariable
        Scalar ``log p(other observations | theta)``.
    """

    thetas: list
    inputs: list
    dependent: list
    independent: list
    z_full: pt.TensorVariable
    z_col: pt.TensorVariable
    z_full_value: np.ndarray
    z_col_value: np.ndarray
    log_joint: pt.TensorVariable
    rest: Variable


def log_joint_graph(model: pm.Model, latent: str, values: np.ndarray, shape: tuple[int, ...]) -> LogJointGraph:
    """Check that EM can enumerate ``latent`` and build the log joint over its support ``values``.

    Raises
    ------
    ModemeanError
        Another free variable is discrete, a potential depends on the latent, or no observation does.
    """
    z_rv = model[latent]
    K, S = len(values), shape
    thetas = [rv for rv in model.free_RVs if rv is not z_rv]
    discrete_others = [rv.name for rv in thetas if rv.type.dtype.startswith("int")]
    if discrete_others:
        raise ModemeanError(
            f"EM integrates out one discrete latent ({latent!r}); {discrete_others} are discrete "
            "too: declare them in LATENT together is not supported, marginalise them by hand"
        )
    dependent = [o for o in model.observed_RVs if z_rv in ancestors([o])]
    independent = [o for o in model.observed_RVs if o not in dependent]
    bad = [p.name for p in model.potentials if z_rv in ancestors([p])]
    if bad:
        raise ModemeanError(f"potentials {bad} depend on the latent {latent!r}: EM cannot enumerate them")
    if not dependent:
        raise ModemeanError(f"no observed variable depends on the latent {latent!r}")

    ins = [rv.type(name=rv.name) for rv in thetas]
    z_in = z_rv.type(name=f"{latent}_value")
    to_inputs = dict(zip(thetas, ins, strict=True)) | {z_rv: z_in}
    obs_terms = [graph_replace(pm.logp(o, model.rvs_to_values[o]), to_inputs, strict=False) for o in dependent]
    obs_sum = sum(t.sum(axis=tuple(range(len(S), t.ndim))) if t.ndim > len(S) else t for t in obs_terms)
    z_full = pt.tensor(f"{latent}_all", dtype=z_rv.type.dtype, shape=(None, *S))
    z_col = pt.tensor(f"{latent}_col", dtype=z_rv.type.dtype, shape=(None, *(1,) * len(S)))
    z_col_value = values.reshape(K, *(1,) * len(S)).astype(z_rv.type.dtype)
    label_term = _label_term(model, z_rv, thetas, ins, to_inputs, z_full, z_col, z_col_value, S)
    log_joint = label_term + _strip_specify_shape(vectorize_graph(obs_sum, replace={z_in: z_col}), ins + [z_col])
    rest = sum((pm.logp(o, model.rvs_to_values[o]).sum() for o in independent), pt.constant(0.0))
    rest = graph_replace(rest, dict(zip(thetas, ins, strict=True)), strict=False)
    z_full_value = np.ascontiguousarray(np.broadcast_to(z_col_value, (K, *S)))
    return LogJointGraph(thetas, ins, dependent, independent, z_full, z_col, z_full_value, z_col_value, log_joint, rest)


def _label_term(model, z_rv, thetas, ins, to_inputs, z_full, z_col, z_col_value, S):
    """``log p(z_i = k | theta)``: a ``(K, 1)`` column when the label probabilities are shared, else ``(K, *S)``.

    The label's distribution is rebuilt without its size and evaluated at the ``(K, 1)`` column of
    values (no K x N gather); if that fails (a symbolic distribution, say), the written label term
    is enumerated at full size instead.
    """
    z_in = to_inputs[z_rv]
    try:
        op = z_rv.owner.op
        _, unsized = op(*op.dist_params(z_rv.owner), rng=op.rng_param(z_rv.owner), return_next_rng=True)
        label_term = graph_replace(pm.logp(unsized, z_col), dict(zip(thetas, ins, strict=True)), strict=False)
        shape = compile_small(ins + [z_col], label_term.shape, on_unused_input="ignore")(
            *_initial_args(model, thetas), z_col_value
        )
        if tuple(shape[1:]) == (1,) * len(S):  # shared label probabilities: a (K, 1) column
            return pt.specify_broadcastable(label_term, *range(1, 1 + len(S)))
        if tuple(shape) != (len(z_col_value), *S):
            raise ValueError(f"label term of shape {tuple(shape)}")
        return label_term
    except Exception:  # noqa: BLE001 -- e.g. a symbolic distribution: enumerate at full size instead
        z_term = graph_replace(pm.logp(z_rv, z_in), to_inputs, strict=False)
        return vectorize_graph(z_term, replace={z_in: z_full})


def _initial_args(model: pm.Model, thetas: list) -> list[np.ndarray]:
    """The parameters at the model's initial point, on their own scale, in ``thetas`` order."""
    values = [model.rvs_to_values[rv] for rv in thetas]
    point = initial_point(model)
    f = compile_small(values, model.replace_rvs_by_values(thetas), on_unused_input="ignore")
    return [np.asarray(v) for v in f(*(point[v.name] for v in values))]


def _strip_specify_shape(out, inputs):
    """Remove ``SpecifyShape`` checks, which pin the latent's original length after vectorising."""
    nodes = [n for n in applys_between(inputs, [out]) if isinstance(n.op, SpecifyShape)]
    return graph_replace(out, {n.outputs[0]: n.inputs[0] for n in nodes}, strict=False) if nodes else out


def scalar_observation(model: pm.Model, dependent: list, shape: tuple[int, ...]) -> np.ndarray | None:
    """``[1, y, y^2]`` of shape (N, 3) when one scalar observation per latent element exists."""
    if len(dependent) != 1 or len(shape) != 1:
        return None
    y = np.asarray(observed_value(model, dependent[0]), dtype=float)
    if y.shape != shape:
        return None
    return np.column_stack([np.ones_like(y), y, y * y])


def observation_extra(model: pm.Model, dependent: list, shape: tuple[int, ...]) -> tuple[int, ...]:
    """Trailing shape of the dependent observations beyond the latent's shape (largest)."""
    extra = [np.shape(observed_value(model, o))[len(shape) :] for o in dependent]
    return max(extra, key=lambda s: int(np.prod(s)))
