"""A Bambi model, or a formula on a data frame, as a modemean model spec.

The spec's ``build(data)`` makes the Bambi model again on the data (columns as numeric arrays,
text columns as integer codes of their levels) with the priors Bambi chose on the original data
frozen, adds lme4's correlations and ``(Intercept)`` (:mod:`.graph`, :mod:`.names`) and returns
the PyMC model. Every group-specific term's standard-normal offset is latent, so EM integrates the
effects out: ``mle`` is lme4's ML fit (``lmer(..., REML = FALSE)``, ``glmer``).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pymc as pm

from ..errors import ModemeanError
from ..spec.model_spec import ModelSpec, spec_from_parts
from .csv import read_table
from .graph import correlate, rename
from .names import add_uncentred_intercept, describe_priors, lme4_names, sd_name, split_term

__all__ = ["bambi_model", "is_bambi_model", "spec_from_bambi", "spec_from_formula"]

EXTRA = "formulas need Bambi: pip install 'modemean[formula]'"


def is_bambi_model(target: Any) -> bool:
    """Whether ``target`` is a ``bambi.Model`` (without importing Bambi)."""
    return any(f"{c.__module__}.{c.__name__}" == "bambi.models.Model" for c in type(target).__mro__)


def bambi_model(formula: Any, frame: pd.DataFrame, family: Any = "gaussian", **kwargs: Any):
    """``bambi.Model(formula, frame, family, **kwargs)``, its errors as one-line :class:`ModemeanError`.

    Raises
    ------
    ModemeanError
        Bambi not installed (naming the extra), an unknown column or family, a formula Bambi refuses.
    """
    try:
        import bambi
        import bambi.defaults.families
    except ImportError as exc:
        raise ModemeanError(f"{EXTRA} ({exc})") from exc
    known = bambi.defaults.families.BUILTIN_FAMILIES
    if isinstance(family, str) and family not in known:
        raise ModemeanError(f"unknown family {family!r}: Bambi knows {', '.join(sorted(known))}")
    try:
        return bambi.Model(formula, frame, family=family, **kwargs)
    except Exception as exc:  # noqa: BLE001 -- formulae and Bambi raise many types: one line each
        first = (str(exc).strip().splitlines() or [""])[0]
        raise ModemeanError(f"formula {str(formula)!r}: {type(exc).__name__}: {first}") from exc


def spec_from_formula(
    formula: str, data: str | Path | pd.DataFrame, *, family: str = "gaussian", name: str = "formula"
) -> ModelSpec:
    """The spec of ``formula`` on a CSV file (or a data frame), e.g. ``Reaction ~ Days + (Days | Subject)``."""
    frame = data if isinstance(data, pd.DataFrame) else read_table(data)
    spec = spec_from_bambi(bambi_model(formula, frame, family), name=name)
    return spec if isinstance(data, pd.DataFrame) else _with_source(spec, str(data))


def _with_source(spec: ModelSpec, path: str) -> ModelSpec:
    return dataclasses.replace(spec, source=path)


def spec_from_bambi(bambi: Any, *, name: str = "formula") -> ModelSpec:
    """The spec of a Bambi model: latents, lme4's names and the priors Bambi chose (``info["formula"]``)."""
    data, levels = encode(bambi.data)
    options = {"noncentered": bambi.noncentered, "center_predictors": bambi.center_predictors}
    build = partial(build_formula, bambi.formula, bambi.family, frozen_priors(bambi), levels, options)
    model = build(data)
    latent = tuple(v.name for v in model.free_RVs if v.name.endswith("_offset") or "|" in v.name)
    component = bambi.parameters[bambi.family.likelihood.parent]
    info = {
        "title": f"{bambi.formula.main} ({bambi.family.name}, Bambi)",
        "story": (
            f"The formula {bambi.formula.main} (family {bambi.family.name}) as Bambi builds it, with lme4's "
            "correlations between the group-specific terms of a factor added; the group-specific effects are "
            "integrated out by EM, so mle is lme4's maximum likelihood fit."
        ),
        "why_skewed": "",
        "references": ["Capretto, T. et al. (2022). Bambi: a simple interface for fitting Bayesian linear models "
                       "in Python. J. Stat. Softw. 103(15)."],
        "formula": {
            "formula": str(bambi.formula.main),
            "family": bambi.family.name,
            "priors": describe_priors(bambi),
            "lme4 names": lme4_names(component),
        },
    }  # fmt: skip
    return spec_from_parts(build, data, name=name, info=info, latent=latent)


def encode(frame: pd.DataFrame) -> tuple[dict[str, np.ndarray], dict[str, list]]:
    """The columns as numeric arrays (a text or categorical column as its levels' codes) and those levels."""
    data, levels = {}, {}
    for column in frame.columns:
        values = frame[column]
        if values.dtype.kind in "biuf":
            data[str(column)] = np.asarray(values, dtype=float if values.dtype.kind == "f" else np.int64)
        else:
            categorical = pd.Categorical(values)
            data[str(column)] = np.asarray(categorical.codes, dtype=np.int64)
            levels[str(column)] = list(categorical.categories)
    return data, levels


def decode(data: dict[str, np.ndarray], levels: dict[str, list]) -> pd.DataFrame:
    """The data frame :func:`encode` was given (text columns as categoricals with the same levels)."""
    columns = {
        key: pd.Categorical.from_codes(np.asarray(value), levels[key]) if key in levels else np.asarray(value)
        for key, value in data.items()
    }
    return pd.DataFrame(columns)


def frozen_priors(bambi: Any) -> dict[str, Any]:
    """Every term's prior as Bambi set it on the original data, for rebuilding on other data."""
    priors = {}
    for component in bambi.parameters.values():
        if hasattr(component, "intercept_term"):
            terms = [component.intercept_term, *component.common_terms.values()]
            for term in [*terms, *component.group_specific_terms.values()]:
                if term is not None:
                    priors[term.name] = term.prior
        elif not isinstance(component.prior, int | float):
            priors[component.name] = component.prior
    return priors


def build_formula(
    formula: Any, family: Any, priors: dict, levels: dict, options: dict, data: dict[str, np.ndarray]
) -> pm.Model:
    """The PyMC model of ``formula`` on ``data``: Bambi's model, lme4's correlations and names."""
    bambi = bambi_model(formula, decode(data, levels), family, priors=priors, **options)
    bambi.build()
    model = bambi.backend.model
    component = bambi.parameters[bambi.family.likelihood.parent]
    add_uncentred_intercept(model, component)
    by_factor = defaultdict(list)
    for term in component.group_specific_terms:
        by_factor[split_term(term)[1]].append(term)
    for factor, terms in by_factor.items():
        if len(terms) > 1:
            model = correlate(model, factor, terms)
    names = {f"{t}_sigma": sd_name(t) for t in component.group_specific_terms}
    return rename(model, names, drop=tuple(d.name for d in model.deterministics if d.name in bambi.parameters))
