"""The single result shape returned by every solver."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import xarray as xr

__all__ = ["Fit", "Status"]

Status = Literal["ok", "failed", "not_applicable"]


@dataclass(frozen=True)
class Fit:
    """What one solver found, in the same shape for ``map``, ``em`` and ``nuts``.

    Parameters
    ----------
    method : {"map", "em", "nuts"}
        The solver that produced this result.
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
        Posterior draws with dims ``(chain, draw, ...)``; only NUTS has them.
    traces : dict of str to list of ndarray
        Objective per iteration, one array of shape ``(n_iter + 1,)`` per restart, keyed by run
        (``"em"`` with the prior, ``"mle"`` without it).
    converged : bool or None
        Whether the solver met its own stopping rule (``None`` where that has no meaning).
    n_iter : int or None
        Iterations of the kept run.
    diagnostics : dict
        Solver-specific audit: optimiser messages, restart spreads, R-hat, divergences, ...
    flags : dict of str to list of str
        Per flat parameter, plain-language warnings (e.g. a mode on the boundary of the support).
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
    flags: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the solver produced estimates."""
        return self.status == "ok"
