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
    "format_column",
    "format_count",
    "STATUS_WORDS",
    "format_gap",
    "format_number",
    "wilson",
    "is_number",
]

SCHEMA_VERSION = 4  # 2: results.json carries its schema, draws_<solver>; 3: status "interrupted"; 4: each row's
# gap_kind, the flag kind "no_mean", and the schema, table and results.nc hold only the columns of the run's solvers

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
FlagKind = Literal["boundary", "no_mode", "r_hat", "ess", "imputed", "constant", "no_mean"]

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
    "of the Laplace-approximate marginal (lme4's glmer nAGQ = 1): approximately, not exactly, the marginal's modes",
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


def format_column(values: Any, column: str = "") -> list[str]:
    """A whole column's numbers, printed alike: the text table's and the notebook's one form of a column.

    Gaps, R-hat, ESS, sd ratios and k̂ as :func:`format_number`; any other column in fixed point with the
    decimals that give its largest value 4 significant digits (decimal points aligned, a value far
    smaller shows as 0), or, when its largest value is below 1e-3 or from 1e6 up, every value in
    scientific notation with 4 significant digits: never both forms in one column. Missing: ``—``.
    """
    values = list(values)
    fixed_form = column in ("ess_bulk", "r_hat", "gap_sd", "gap_sd_em", "skewness") or column.endswith(
        ("_gap_sd", "_sd_ratio", "_khat")
    )
    numbers = [abs(float(v)) for v in values if is_number(v)]
    if fixed_form or not numbers:
        return [format_number(v, column) for v in values]
    largest = max(numbers)
    if largest == 0 or 1e-3 <= largest < 1e6:
        decimals = 0 if largest == 0 else min(max(3 - math.floor(math.log10(largest)), 0), 6)
        texts = [f"{v:.{decimals}f}" if is_number(v) else "—" for v in values]
        return [t.removeprefix("-") if t.strip("-0.") == "" else t for t in texts]  # no "-0.000"
    return [f"{v:.3e}" if is_number(v) else "—" for v in values]


def format_count(count: int, n: int) -> str:
    """A probability estimated from ``n`` draws, as the count it is: ``"12 of 4000 (0.30%)"``; at 0 or
    ``n`` the bound the draws resolve (``"0 of 4000 (< 0.03%)"``, ``"4000 of 4000 (> 99.97%)"``)."""
    if n <= 0:
        return "—"
    step = math.ceil(1e4 / n) / 100  # 1 / n in percent, rounded up to 2 decimals
    if count == 0:
        return f"0 of {n} (< {step:g}%)"
    if count == n:
        return f"{n} of {n} (> {100 - step:g}%)"
    return f"{count} of {n} ({100 * count / n:.2f}%)"


def wilson(covered: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """The Wilson score interval (95% by default) of a binomial proportion ``covered / n``.

    Returns
    -------
    tuple of float
        ``(low, high)`` with ``0 <= low <= covered / n <= high <= 1`` exactly: the bounds are clipped to
        [0, 1] and to hold the rate, so 0 of n ends at 0 and n of n at 1 (rounding alone gives 1 - 1e-16).
    """
    if n <= 0:
        return (0.0, 1.0)
    p = covered / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(min(max(centre - half, 0.0), p)), float(max(min(centre + half, 1.0), p))
