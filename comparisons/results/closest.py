"""Which approximation of the posterior comes closest to NUTS, or why none is named (issue 32, item 7).

An approximation is compared with NUTS through its columns relative to NUTS (``<x>_gap_sd``: its mean
off NUTS's in NUTS sds; ``<x>_sd_ratio``: its sd over NUTS's) and its Pareto k̂ (``<x>_khat``). One is
named only when NUTS itself is reliable (it ran and passed its checks) and the approximation's k̂ is at
most :data:`~.schema.KHAT_MAX`: otherwise the distance measures the reference's failure or draws that
cannot be trusted.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ..solvers import SOLVERS
from .fit import Fit
from .schema import KHAT_MAX, is_number

__all__ = ["approximation_distance", "closest_approximation"]


def approximation_distance(table: pd.DataFrame, prefix: str) -> tuple[float | None, str | None, float | None]:
    """``(distance, worst parameter, k̂)`` of the approximation whose columns start with ``prefix``.

    ``distance`` is the largest, over the parameters, of ``|<prefix>_gap_sd|`` and ``|ln <prefix>_sd_ratio|``
    (``None`` when no parameter has both); ``k̂`` is the approximation's (one per run), ``None`` if missing.
    """
    worst, distance = None, None
    for name, row in table.iterrows():
        shift, ratio = row.get(f"{prefix}_gap_sd"), row.get(f"{prefix}_sd_ratio")
        if not (is_number(shift) and is_number(ratio) and ratio > 0):
            continue
        size = max(abs(shift), abs(math.log(ratio)))
        if distance is None or size > distance:
            worst, distance = str(name), float(size)
    khats = [float(v) for v in table.get(f"{prefix}_khat", pd.Series(dtype=float)) if is_number(v)]
    return distance, worst, (khats[0] if khats else None)


def closest_approximation(fits: dict[str, Fit], table: pd.DataFrame) -> dict[str, Any] | None:
    """The approximation closest to NUTS, for ``results.json``; ``None`` when no approximation ran.

    Returns
    -------
    dict or None
        ``{"solver", "reason", "measured"}``: ``solver`` the closest approximation with k̂ ≤
        :data:`~.schema.KHAT_MAX` (``None`` when none qualifies), ``reason`` one sentence saying why none
        is named (empty otherwise), ``measured`` each approximation that ran to ``{"distance", "worst",
        "khat"}`` (:func:`approximation_distance`; ``None`` values without NUTS or when it failed).
    """
    prefixes = {
        name: next(c for c in SOLVERS[name].columns if c.endswith("_gap_sd")).removesuffix("_gap_sd")
        for name in fits
        if name in SOLVERS and any(c.endswith("_gap_sd") for c in SOLVERS[name].columns)
    }
    if not prefixes:
        return None
    measured = {name: approximation_distance(table, prefix) for name, prefix in prefixes.items() if fits[name].ok}
    none = {
        "solver": None,
        "measured": {n: dict(zip(("distance", "worst", "khat"), m, strict=True)) for n, m in measured.items()},
    }
    nuts = fits.get("nuts")
    if nuts is None or not nuts.ok:
        return {**none, "reason": "no approximation is named: NUTS, the reference, did not run or failed"}
    if nuts.converged is False or (nuts.diagnostics.get("divergences") or 0) > 0:
        return {**none, "reason": f"no approximation is named: NUTS, the reference, failed its checks ({nuts.message})"}
    trusted = {n: m[0] for n, m in measured.items() if m[0] is not None and m[2] is not None and m[2] <= KHAT_MAX}
    if not trusted:
        khats = ", ".join(
            f"{SOLVERS[n].label} {m[2]:.2f}" if m[2] is not None else f"{SOLVERS[n].label} none"
            for n, m in measured.items()
        )
        why = f"every approximation has Pareto k̂ > {KHAT_MAX} ({khats})" if measured else "no approximation succeeded"
        return {**none, "reason": f"no approximation is named: {why}"}
    best = min(trusted, key=lambda n: trusted[n])
    return {**none, "solver": best, "reason": ""}
