"""lme4's names for a Bambi model's parameters, and the intercept on the predictors' own scale.

Bambi centres the common predictors when the model has an intercept (``center_predictors=True``):
its ``Intercept`` is the mean response at the predictors' means. lme4 reports the intercept at
predictors equal to 0. :func:`add_uncentred_intercept` adds lme4's ``(Intercept)`` as a
deterministic, so every point estimate (map, em, mle) and every draw has it.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt

__all__ = [
    "INTERCEPT",
    "add_uncentred_intercept",
    "cor_name",
    "describe_priors",
    "lme4_names",
    "sd_name",
    "split_term",
    "term_label",
]

INTERCEPT = "(Intercept)"


def split_term(name: str) -> tuple[str, str]:
    """Bambi's group-specific term ``"Days|Subject"`` as ``(expression, factor)``: ``("Days", "Subject")``."""
    expr, _, factor = name.partition("|")
    return expr, factor


def term_label(expr: str) -> str:
    """lme4's label of a term's expression: ``1`` is ``(Intercept)``."""
    return INTERCEPT if expr == "1" else expr


def sd_name(term: str) -> str:
    """lme4's name of a group-specific term's standard deviation: ``sd Subject (Intercept)``."""
    expr, factor = split_term(term)
    return f"sd {factor} {term_label(expr)}"


def cor_name(first: str, second: str) -> str:
    """lme4's name of the correlation of two terms of one factor: ``cor Subject (Intercept) Days``."""
    (a, factor), (b, _) = split_term(first), split_term(second)
    return f"cor {factor} {term_label(a)} {term_label(b)}"


def add_uncentred_intercept(model: pm.Model, component: Any) -> bool:
    """Add lme4's ``(Intercept)`` to ``model`` when Bambi centred the predictors; whether it did.

    ``(Intercept) = Intercept - mean(X) @ beta``, ``X`` the common predictors Bambi centred (the
    same columns, in the same order, as Bambi's ``_re_center_intercept`` uses for draws).
    """
    if component.intercept_term is None or not component.common_terms:
        return False
    columns, coefs = [], []
    for term in component.common_terms.values():
        columns.append(np.asarray(term.data, dtype=float).reshape(len(term.data), -1))
        coefs.append(pt.atleast_1d(model[term.alias or term.name]))
    means = np.column_stack(columns).mean(axis=0)
    intercept = model[component.intercept_term.alias or component.intercept_term.name]
    with model:
        pm.Deterministic(INTERCEPT, pt.atleast_1d(intercept)[0] - pt.dot(means, pt.concatenate(coefs)))
    return True


def lme4_names(component: Any) -> dict[str, str]:
    """The table rows of a vector common term, each with lme4's name: ``{"period[0]": "period2", ...}``.

    A factor made in the formula, ``C(period)``, is named as lme4 names a factor column: ``period2``.
    """
    names = {}
    for term in component.common_terms.values():
        label = term.alias or term.name
        base = re.sub(r"^C\((\w+)\)$", r"\1", term.name)
        for dim, levels in term.coords.items():
            if dim.startswith(term.name):
                names.update({f"{label}[{i}]": f"{base}{level}" for i, level in enumerate(levels)})
    return names


def describe_priors(bambi: Any) -> dict[str, str]:
    """The priors of a Bambi model, one readable line per term (what Bambi chose, or what was given)."""
    lines = {}
    for component in bambi.parameters.values():
        if hasattr(component, "intercept_term"):
            terms = [component.intercept_term, *component.common_terms.values()]
            terms += list(component.group_specific_terms.values())
            for term in terms:
                if term is not None:
                    lines[term.name] = str(term.prior)
        else:
            lines[component.name] = str(component.prior)
    return lines
