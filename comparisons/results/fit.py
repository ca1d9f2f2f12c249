"""The single result shape returned by every solver."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import product
from typing import Any

import numpy as np
import xarray as xr

from .schema import Status

__all__ = ["Fit", "Flag", "flat_names", "flatten"]


@dataclass(frozen=True)
class Flag:
    """A warning about one parameter: what kind, in which column, the number behind it, and in words.

    Code tests ``kind``, ``column`` and ``value``; ``text`` is for people (the table's notes) and is
    never parsed back.

    Parameters
    ----------
    column : str or None
        The table column the warning is about (``"map"``, ``"em"``, ``"mle"``, ``"r_hat"``,
        ``"ess_bulk"``); ``None`` for the row as a whole.
    kind : {"boundary", "no_mode", "r_hat", "ess", "imputed", "constant", "no_mean"}
        ``boundary``: the estimate sits on a finite bound of the support (``value``: the bound);
        ``no_mode``: there is no mode where the optimiser stopped (``value``: the bound the density
        is unbounded towards, or the parameter's value a step uphill); ``r_hat`` / ``ess``: the
        sampler's check failed (``value``: R-hat, bulk ESS); ``imputed``: the row is a missing
        observation PyMC imputed; ``constant``: no posterior spread (``value``: the sd); ``no_mean``: the
        posterior mean does not exist (``value``: the draws' tail Pareto k̂, :mod:`~.gaps`).
    value : float or None
    text : str
        One sentence, starting with the column (``"map: on the boundary tau = 0 (...)"``).
    """

    column: str | None
    kind: str
    value: float | None
    text: str

    def as_dict(self) -> dict[str, Any]:
        """The JSON form: ``{"column", "kind", "value", "text"}``."""
        return {"column": self.column, "kind": self.kind, "value": self.value, "text": self.text}


@dataclass(frozen=True)
class Fit:
    """What one solver found, in the same shape for ``map``, ``em`` and ``nuts``.

    Parameters
    ----------
    method : str
        The solver that produced this result (its key in :data:`comparisons.solvers.SOLVERS`).
    status : {"ok", "failed", "not_applicable"}
        ``failed`` and ``not_applicable`` carry no estimates; ``message`` says why.
    message : str
        Empty when all went well; otherwise one sentence a person can act on.
    seconds : float
        Wall time of the solver, compilation included.
    estimates : dict of str to dict of str to float
        Column of the comparison table (``"map"``, ``"laplace_sd"``, ``"em"``, ``"mean"``, ...) to
        ``{flat parameter name: value}``; vector parameters are flattened as ``theta[0]``, ...
    draws : xarray.DataTree or None
        Draws with dims ``(chain, draw, ...)`` in a ``posterior`` group, from a solver that
        declares ``has_draws`` (NUTS).
    traces : dict of str to list of ndarray
        Objective per iteration, one array of shape ``(n_iter + 1,)`` per restart, keyed by run
        (``"em"`` with the prior, ``"mle"`` without it).
    converged : bool or None
        Whether the answer is what the solver set out to find; ``None`` when it gave none
        (``failed``, ``not_applicable``). ``map``: the kept start reached a peak — a strict local
        maximum (negative definite Hessian, no Newton step left) or a kink that Powell's search
        reached (an L1 penalty at 0) — and the density has a mode (False when it is unbounded or
        still rising). ``em``: the kept restart's parameters stopped moving
        (relative change below ``tol``) without the objective going down. ``nuts``: the draws pass
        every check (no divergences, R-hat <= 1.01 with several chains, bulk ESS >= 400).
    n_iter : int or None
        Iterations the kept answer took: ``map``: L-BFGS-B's iterations (plus Powell's where it
        polished a kink) from the kept start; ``em``: EM iterations of the kept restart;
        ``nuts``: MCMC iterations per chain, tuning included (``tune + draws``). ``None`` when
        the solver gave no answer.
    diagnostics : dict
        Solver-specific audit: optimiser messages, restart spreads, R-hat, divergences, ... Its
        keys are the solver's own: generic code (the table, the reports' verdict) reads ``flags``.
    flags : dict of str to list of Flag
        Per flat parameter, structured warnings (a mode on the boundary of the support, no mode,
        R-hat, ESS).
    """

    method: str
    status: Status
    message: str = ""
    seconds: float = 0.0
    estimates: dict[str, dict[str, float]] = field(default_factory=dict)
    draws: xr.DataTree | None = None
    traces: dict[str, list[np.ndarray]] = field(default_factory=dict)
    converged: bool | None = None
    n_iter: int | None = None
    diagnostics: dict[str, Any] = field(default_factory=dict)
    flags: dict[str, list[Flag]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the solver produced estimates."""
        return self.status == "ok"


def flat_names(name: str, shape: tuple[int, ...]) -> list[str]:
    """Scalar names of a variable: ``mu`` for a scalar, ``theta[0]``, ``w[1,2]`` otherwise."""
    if not shape:
        return [name]
    return [f"{name}[{','.join(map(str, idx))}]" for idx in product(*(range(n) for n in shape))]


def flatten(values: dict[str, np.ndarray]) -> dict[str, float]:
    """``{name: array}`` to ``{flat name: float}`` in C order."""
    out: dict[str, float] = {}
    for name, value in values.items():
        arr = np.asarray(value, dtype=float)
        out.update(zip(flat_names(name, arr.shape), arr.ravel().tolist(), strict=True))
    return out
