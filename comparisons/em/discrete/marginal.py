"""The marginal model: the latent summed out, for find_MAP and NUTS.

find_MAP and NUTS cannot handle ``z``; :func:`marginalize` builds a new ``pm.Model`` that holds the
same continuous random variables (the very same graph objects, so the priors and transforms are the
written ones) and replaces ``z`` and the observations that depend on it by one observed
``CustomDist`` whose log density is the logsumexp over ``K`` of the engine's vectorised log joint.
pymc-extras' ``marginalize`` does this too but needs ``pymc < 6.4``.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pytensor.graph.basic import Variable
from pytensor.graph.replace import graph_replace
from pytensor.graph.traversal import ancestors

from .graph import LogJointGraph, observed_value

__all__ = ["marginalize", "marginal_logp"]


def marginal_logp(graph: LogJointGraph, model: pm.Model, thetas: list, values: dict) -> pt.TensorVariable:
    """The log density of the dependent observations with the latent summed out.

    Parameters
    ----------
    graph : LogJointGraph
    model : pymc.Model
        The model ``graph`` was built from.
    thetas : list of TensorVariable
        Graph variables standing for the parameters, in ``graph.thetas`` order.
    values : dict of str to TensorVariable
        Observed variable name to the graph of its value.

    Returns
    -------
    TensorVariable of shape S
        ``logsumexp_k log p(z_i = k, y_i | theta)`` per latent element.
    """
    data = {model.rvs_to_values[o]: values[o.name] for o in graph.dependent}
    lj = graph_replace(graph.log_joint, dict(zip(graph.inputs, thetas, strict=True)) | data, strict=False)
    latent_values: dict[Variable, Variable] = {
        graph.z_full: pt.as_tensor(graph.z_full_value),
        graph.z_col: pt.as_tensor(graph.z_col_value),
    }
    lj = graph_replace(lj, latent_values, strict=False)
    return pt.logsumexp(lj, axis=0)


def marginalize(model: pm.Model, latent: str, graph: LogJointGraph, shape: tuple[int, ...]) -> pm.Model:
    """A new model with the latent summed out, for find_MAP and NUTS.

    The new model registers the very same parameter random variables (their priors, transforms
    and initial values as written), the deterministics and potentials that do not involve the
    latent, the observations that do not depend on it, and one observed ``CustomDist`` (named
    after the dependent observation, or ``"<latent>_marginal"`` when several depend on it) whose
    log density is :func:`marginal_logp`.

    Parameters
    ----------
    model : pymc.Model
        The model as written.
    latent : str
        The discrete latent's name.
    graph : LogJointGraph
        Its log joint over the support (``DiscreteLatentEM.graph``).
    shape : tuple of int
        The latent's shape.

    Returns
    -------
    pymc.Model
        The marginal model.
    """
    with pm.Model(coords=model.coords) as marginal:
        _register_written(marginal, model, latent, graph)
        _add_marginal_density(model, latent, graph, shape)
    return marginal


def _register_written(marginal: pm.Model, model: pm.Model, latent: str, graph: LogJointGraph) -> None:
    """Register in ``marginal`` (the model of the context) what it keeps of ``model`` as written.

    The parameter random variables (their priors, transforms, initial values and dims), the observations
    that do not depend on the latent, the deterministics that do not involve it, and every potential.
    """
    z_rv = model[latent]
    dims = model.named_vars_to_dims
    for rv in graph.thetas:
        marginal.register_rv(
            rv,
            rv.name,
            default_transform=model.rvs_to_transforms.get(rv),
            initval=model.rvs_to_initial_values.get(rv),
            dims=dims.get(rv.name),
        )
    for o in graph.independent:
        marginal.register_rv(o, o.name, observed=model.rvs_to_values[o], dims=dims.get(o.name))
    for d in model.deterministics:
        if z_rv not in ancestors([d]):
            pm.Deterministic(d.name, d, dims=model.named_vars_to_dims.get(d.name))
    for p in model.potentials:
        pm.Potential(p.name, p)


def _add_marginal_density(model: pm.Model, latent: str, graph: LogJointGraph, shape: tuple[int, ...]) -> None:
    """Add to the model of the context the dependent observations' density with the latent summed out.

    One dependent observation: an observed ``CustomDist`` of its name, whose elementwise log density is
    :func:`marginal_logp` (on the latent's elements, :func:`_reduce_to`), observing the written model's
    data. Several: one ``Potential`` ``"<latent>_marginal"``, their summed :func:`marginal_logp`.
    """
    dep = graph.dependent
    data = [np.asarray(observed_value(model, o)) for o in dep]
    thetas = graph.thetas
    if len(dep) == 1:

        def logp(value, shape_carrier, *params):
            return marginal_logp(graph, model, list(params), {dep[0].name: value})

        # the parameters are the distribution's inputs (core shapes as written); a constant of the
        # observation's shape is passed first so the signature can name the output's core shape
        out = "(" + ",".join(f"y{j}" for j in range(data[0].ndim)) + ")"
        cores = [out] + ["(" + ",".join(f"p{i}_{j}" for j in range(rv.ndim)) + ")" for i, rv in enumerate(thetas)]
        pm.CustomDist(
            dep[0].name,
            pt.zeros(data[0].shape),
            *thetas,
            logp=_reduce_to(logp, data[0].ndim, len(shape)),
            observed=model.rvs_to_values[dep[0]],  # the written model's data (a shared variable, swappable)
            signature=f"{','.join(cores)}->{out}",
            dtype=str(data[0].dtype),
        )
    else:
        values = {o.name: model.rvs_to_values[o] for o in dep}
        lp = marginal_logp(graph, model, list(thetas), values)
        pm.Potential(f"{latent}_marginal", lp.sum())


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
