"""Formulas as modemean models: a Bambi model, or an lme4-style formula on a CSV file (issue 37)."""

from .bambi import bambi_model, is_bambi_model, spec_from_bambi, spec_from_formula
from .csv import read_table
from .names import lme4_names
from .points import with_deterministics

__all__ = [
    "bambi_model",
    "is_bambi_model",
    "lme4_names",
    "read_table",
    "spec_from_bambi",
    "spec_from_formula",
    "with_deterministics",
]
