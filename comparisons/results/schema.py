"""The results schema's constants and the one printed form of a number: light (no PyMC, no pandas).

The writer (:mod:`.write`), the reader (:mod:`.read`), the text table and the reports all take these
from here.
"""

from __future__ import annotations

import math
from typing import Any, Literal

__all__ = [
    "EM_KINDS",
    "HDI_PROB",
    "KHAT_GOOD",
    "KHAT_MAX",
    "NOT_RUN",
    "SCHEMA_VERSION",
    "SPREAD_RTOL",
    "FlagKind",
    "GAP_KINDS",
    "GapKind",
    "Status",
    "STATUS_WORDS",
    "format_gap",
    "format_number",
    "is_number",
]

SCHEMA_VERSION = 3  # 2: results.json carries its schema, draws_<solver>; 3: status "interrupted"

# a solver's status: "interrupted" (SIGINT/SIGTERM before it finished) is written; "not_run" (not asked for) is
# what a reader says of a solver absent from results.json
Status = Literal["ok", "failed", "not_applicable", "interrupted", "not_run"]
NOT_RUN: Status = "not_run"
# how a person reads a status (the command line, the pages); "warn" and "no_mode" are the pages' refinements of ok
STATUS_WORDS: dict[str, str] = {
    "ok": "ok",
    "warn": "ok, with warnings",
    "failed": "failed",
    "not_applicable": "not applicable",
    "interrupted": "interrupted",
    "not_run": "not run",
    "no_mode": "no mode",
}
FlagKind = Literal["boundary", "no_mode", "r_hat", "ess", "imputed", "constant"]

HDI_PROB = 0.94  # the level of every HDI (NUTS's and the approximations') and of a study's intervals
SPREAD_RTOL = 1e-9  # a posterior sd below this x |mean| (or exactly 0) is rounding: the quantity is a constant
KHAT_GOOD = 0.5  # Pareto k̂ below: the approximation is close to the posterior (Yao et al. 2018)
KHAT_MAX = 0.7  # above: its draws, even importance-reweighted, cannot be trusted

# Why a parameter's peak and centre of mass differ: the ``gap_kind`` of each row, most telling first (a row
# gets the first kind that applies). Only a ``skew`` gap measures the posterior's shape; the others are
# artefacts of the comparison, named so that no index ranks them as skew.
GapKind = Literal["unreliable", "no_mean", "no_mode", "several_modes", "boundary", "joint_vs_marginal", "skew"]
GAP_KINDS: dict[str, str] = {
    "unreliable": "NUTS's diagnostics failed (divergences, R-hat or ESS): its mean and sd are not to be trusted",
    "no_mean": "a tail too heavy for a finite mean (Pareto k̂ of the draws' tail > 1, or known from the model)",
    "no_mode": "the density has no peak: it rises to a boundary or along a ridge",
    "several_modes": "find_MAP's starts reached different local peaks",
    "boundary": "the peak sits on the edge of the support (a scale at 0)",
    "joint_vs_marginal": "find_MAP's peak is the joint mode of a hierarchy; the marginal mode (gap_sd_em) is the one "
    "to compare with the mean",
    "skew": "one unimodal, skewed posterior: its peak and its centre of mass differ",
}

EM_KINDS = {
    "exact (discrete)": "the discrete latent summed out exactly: the modes of the exact marginal",
    "exact (Gaussian)": "conditionally Gaussian latents integrated out exactly: the modes of the exact marginal",
    "Laplace (approximate)": "the E-step is the Laplace approximation at the latents' conditional mode: the modes "
    "of the Laplace-approximate marginal (lme4's glmer nAGQ = 1), not of the exact one",
    "hand-written": "the model file's own E- and M-steps",
}


def is_number(value: Any) -> bool:
    """True for a finite int or float (results.json stores missing values as ``null``)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def format_gap(value: float) -> str:
    """The one printed form of a gap in posterior sds (gap_sd, gap_sd_em, skewness): signed, two decimals
    (``+1.14``, ``+0.40``, ``+0.33``); three significant digits once it is huge (``+2.5e+04``)."""
    return f"{value:+.2f}" if abs(value) < 1e4 else f"{value:+.3g}"


def format_number(value: Any, column: str = "") -> str:
    """A table number as the text table and the HTML print it: ``—`` when missing; integer ESS; 3 decimals
    for R-hat; gaps signed (:func:`format_gap`); 2 decimals for sd ratios and k̂; else 4 significant digits."""
    if not is_number(value):
        return "—"
    if column == "ess_bulk":
        return f"{value:.0f}"
    if column == "r_hat":
        return f"{value:.3f}"
    if column in ("gap_sd", "gap_sd_em", "skewness") or column.endswith("_gap_sd"):
        return format_gap(value)
    if column.endswith(("_sd_ratio", "_khat")):
        return f"{value:.2f}"
    return f"{value:.4g}"
