"""Why a parameter's peak and centre of mass differ: each row's ``gap_kind`` (:data:`~.schema.GAP_KINDS`).

Pure functions of the solvers' fits and the merged table: the kind is read from what the solvers already
found (NUTS's divergences and its ``r_hat``/``ess`` flags, find_MAP's ``no_mode`` and ``boundary`` flags
and its starts, EM's marginal mode) and from the draws' tails (Pareto k̂). A row gets the first kind of
:data:`~.schema.GAP_KINDS` that applies; only a ``skew`` gap measures the shape of the posterior.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from .fit import Fit, Flag, flat_names
from .schema import GAP_KINDS, is_number

__all__ = ["KHAT_NO_MEAN", "JOINT_TOL", "tail_khat", "no_mean_flags", "several_modes", "row_kinds", "gap_kinds"]

KHAT_NO_MEAN = 1.0  # a tail's Pareto k̂ above 1: the distribution it is drawn from has no finite mean
JOINT_TOL = 0.1  # find_MAP's joint mode and EM's marginal mode further apart than this (posterior sds) differ


def tail_khat(draws: np.ndarray) -> float:
    """The larger Pareto k̂ of the two tails of one parameter's draws (ArviZ's ``pareto_khat``).

    Parameters
    ----------
    draws : ndarray
        Shape ``(chain, draw)``, or ``(draw,)`` for one chain.

    Returns
    -------
    float
        k̂ > 1: the tail is too heavy for a finite mean; NaN for draws without spread.
    """
    from arviz_stats.base import array_stats

    values = np.atleast_2d(np.asarray(draws, dtype=float))
    if not np.all(np.isfinite(values)) or np.ptp(values) == 0:
        return float("nan")
    return float(array_stats.pareto_khat(values, chain_axis=0, draw_axis=1, tail="both"))


def no_mean_flags(fits: dict[str, Fit], info: dict[str, Any]) -> dict[str, list[Flag]]:
    """A ``no_mean`` flag on ``mean`` for each parameter whose mean does not exist.

    Known from the model (its ``INFO["no_mean"]``: names of variables, or flat names, whose posterior
    mean is infinite) or found in NUTS's draws: a tail's Pareto k̂ above :data:`KHAT_NO_MEAN`.
    """
    known = set(info.get("no_mean", ()))
    nuts = fits.get("nuts")
    if nuts is None or not nuts.ok or nuts.draws is None or "posterior" not in nuts.draws.children:
        return {name: [_no_mean(name, None)] for name in sorted(known)}
    flags: dict[str, list[Flag]] = {}
    for var, da in nuts.draws["posterior"].to_dataset().data_vars.items():
        values = np.asarray(da.transpose("chain", "draw", ...).values, dtype=float)
        names = flat_names(str(var), values.shape[2:])
        values = values.reshape(values.shape[0], values.shape[1], -1)
        for i, name in enumerate(names):
            khat = tail_khat(values[:, :, i])
            if var in known or name in known or khat > KHAT_NO_MEAN:
                flags[name] = [_no_mean(name, khat, var in known or name in known)]
    return flags


def _no_mean(name: str, khat: float | None, from_model: bool = True) -> Flag:
    measured = f" (the draws' tail: Pareto k̂ = {khat:.2f})" if khat is not None and np.isfinite(khat) else ""
    why = (
        f"the model's tail is too heavy for a finite mean{measured}"
        if from_model
        else f"the draws' tail is too heavy for a finite mean (Pareto k̂ = {khat:.2f} > {KHAT_NO_MEAN:g})"
    )
    return Flag("mean", "no_mean", khat, f"mean: no finite mean: {why}; the NUTS mean and sd describe the bulk only")


def several_modes(fits: dict[str, Fit]) -> bool:
    """find_MAP's starts reached different peaks (some start reached a peak other than the best one)."""
    fit = fits.get("map")
    if fit is None or not fit.ok:
        return False
    d = fit.diagnostics
    return not d.get("no_mode") and d.get("n_stationary", 0) > d.get("n_starts_agreeing", 0)


def _unreliable(fits: dict[str, Fit], flags: Iterable[Flag]) -> bool:
    """NUTS ran and its checks failed: divergences anywhere, or this row's R-hat or bulk ESS."""
    nuts = fits.get("nuts")
    if nuts is None or not nuts.ok:
        return False
    return (nuts.diagnostics.get("divergences") or 0) > 0 or any(f.kind in ("r_hat", "ess") for f in flags)


def _joint_vs_marginal(fits: dict[str, Fit], row: pd.Series) -> bool:
    """EM found this hyper-parameter's marginal mode, and find_MAP's joint mode lies elsewhere: more than
    :data:`JOINT_TOL` posterior sds away (find_MAP's Laplace sd without NUTS; relative to the size of the
    values without either)."""
    em = fits.get("em")
    peak, marginal = row.get("map"), row.get("em")
    if em is None or not em.ok or not (is_number(peak) and is_number(marginal)):
        return False
    scale = next((row.get(c) for c in ("sd", "laplace_sd") if is_number(row.get(c)) and row.get(c) > 0), None)
    if scale is None:
        scale = max(abs(peak), abs(marginal), 1e-300)
    return abs(peak - marginal) > JOINT_TOL * scale


def row_kinds(row: pd.Series, fits: dict[str, Fit], multimodal: bool | None = None) -> list[str]:
    """Every kind of :data:`~.schema.GAP_KINDS` that applies to one row of the table, in precedence order.

    ``skew`` applies when no other kind but ``unreliable`` does and a gap (``gap_sd`` or ``gap_sd_em``)
    was measured. ``multimodal``: :func:`several_modes` of ``fits``, when already computed.
    """
    flags = list(row.get("flags") or [])
    on = {(f.column, f.kind) for f in flags}
    if any(f.kind == "constant" for f in flags):
        return []  # no spread: no gap, and nothing to explain
    applies = {
        "unreliable": _unreliable(fits, flags),
        "no_mean": any(f.kind == "no_mean" for f in flags),
        "no_mode": ("map", "no_mode") in on,
        "several_modes": several_modes(fits) if multimodal is None else multimodal,
        "boundary": bool({("map", "boundary"), ("em", "boundary")} & on),
        "joint_vs_marginal": _joint_vs_marginal(fits, row),
    }
    kinds = [k for k in GAP_KINDS if applies.get(k)]
    if not set(kinds) - {"unreliable"} and (is_number(row.get("gap_sd")) or is_number(row.get("gap_sd_em"))):
        kinds.append("skew")
    return kinds


def gap_kinds(fits: dict[str, Fit], table: pd.DataFrame) -> list[str | None]:
    """Each row's ``gap_kind``: the first of :func:`row_kinds`; ``None`` where none applies (no gap was
    measured and nothing else explains one: a constant, or a run without NUTS)."""
    multimodal = several_modes(fits)
    return [next(iter(row_kinds(row, fits, multimodal)), None) for _, row in table.iterrows()]
