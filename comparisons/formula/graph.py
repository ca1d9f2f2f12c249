"""Turn the PyMC model Bambi built into lme4's model: correlated group-specific terms, lme4's names.

Bambi gives the terms of one grouping factor independent effects (``(Days | Subject)`` is lme4's
``(Days || Subject)``); lme4 estimates their correlation. :func:`correlate` adds it to Bambi's
non-centred effects: ``b1 = s1 z1``, ``b2 = s2 (rho z1 + sqrt(1 - rho^2) z2)``, with ``z1, z2``
Bambi's independent standard normal offsets and ``rho`` LKJ(2) distributed (density proportional to
``1 - rho^2`` on (-1, 1), as the catalog's sleepstudy).
"""

from __future__ import annotations

import pymc as pm
import pytensor.tensor as pt
from pymc.model.fgraph import ModelDeterministic, ModelFreeRV, ModelVar, fgraph_from_model, model_from_fgraph

from ..errors import ModemeanError
from .names import cor_name

__all__ = ["correlate", "rename"]


def correlate(model: pm.Model, factor: str, terms: list[str]) -> pm.Model:
    """``model`` with the correlation of ``terms`` (two group-specific terms of ``factor``) added.

    Raises
    ------
    ModemeanError
        More than two terms, centred effects (``noncentered=False``), or a term with several columns.
    """
    if len(terms) > 2:
        raise ModemeanError(
            f"factor {factor!r} has {len(terms)} group-specific terms ({', '.join(terms)}): formulas give "
            "the correlation of at most two terms per factor yet"
        )
    first, second = terms
    offsets = [f"{t}_offset" for t in terms]
    if not all(o in model.named_vars for o in offsets):
        raise ModemeanError(
            f"factor {factor!r}: the correlation of {first} and {second} needs Bambi's non-centred effects "
            "(noncentered=True, its default)"
        )
    z1, z2 = (model[o] for o in offsets)
    if z1.ndim != 1 or z2.ndim != 1:
        raise ModemeanError(
            f"factor {factor!r}: a group-specific term with several columns ({first}, {second}) cannot be "
            "correlated yet: write one numeric predictor per term"
        )
    with model:
        rho = pm.Uniform(cor_name(first, second), -1.0, 1.0)
        pm.Potential(f"lkj2 {factor}", pt.log1p(-(rho**2)))
        effect = model[f"{second}_sigma"] * (rho * z1 + pt.sqrt(1.0 - rho**2) * z2)
    return pm.do(model, {second: effect})


def rename(model: pm.Model, names: dict[str, str], drop: tuple[str, ...] = ()) -> pm.Model:
    """A copy of ``model`` with variables renamed (``{old: new}``) and the deterministics ``drop`` left out."""
    fgraph, _ = fgraph_from_model(model)
    for index in reversed(range(len(fgraph.outputs))):
        out = fgraph.outputs[index]
        if isinstance(out.owner.op, ModelDeterministic) and out.owner.op.name in drop:
            fgraph.remove_output(index)
    for node in list(fgraph.toposort()):
        op = node.op
        if not isinstance(op, ModelVar) or op.name not in names:
            continue
        new = names[op.name]
        if isinstance(op, ModelFreeRV):
            rv, value = node.inputs
            value.name = f"{new}_{op.transform.name}__" if op.transform is not None else new
            replacement = ModelFreeRV(new, op.dims, op.transform)(rv, value)
        else:
            replacement = type(op)(new, op.dims)(*node.inputs)
        fgraph.replace(node.outputs[0], replacement, import_missing=True)
    return model_from_fgraph(fgraph, mutate_fgraph=True)
