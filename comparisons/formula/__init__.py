"""Formulas as modemean models: a Bambi model, or an lme4-style formula on a CSV file (issue 37).

This package turns a Bambi model into a spec's parts (:func:`formula_parts`) and never imports
:mod:`comparisons.spec`: :func:`comparisons.spec.load_spec` assembles them (``load_spec(bmb.Model)``, a
model file whose ``build`` returns a Bambi model).
"""

from .bambi import bambi_model, formula_parts, is_bambi_model, lme4_formula
from .csv import read_table
from .names import lme4_names
from .points import with_deterministics, with_lme4_names

__all__ = [
    "bambi_model",
    "formula_parts",
    "is_bambi_model",
    "lme4_formula",
    "lme4_names",
    "read_table",
    "with_deterministics",
    "with_lme4_names",
]
