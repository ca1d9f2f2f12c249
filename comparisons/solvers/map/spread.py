"""The spread at find_MAP's mode (the Laplace sds) and the mode of the unconstrained density.

Each fills its own column or leaves it empty with a reason in ``errors``; neither can discard the mode.
"""

from __future__ import annotations

import numpy as np

from ...density.optimize import jacobian_mode
from ...density.space import ValueSpace

__all__ = ["laplace_sd", "map_unconstrained"]


def laplace_sd(space: ValueSpace, u: np.ndarray, errors: dict[str, str]) -> dict[str, float] | None:
    """sd of the normal approximation at ``u``: ``(-H)^-1`` in ``u``, delta method back; ``None`` if undefined."""
    hess = space.hessian(u)
    values, jac = space.constrained(u)
    if not np.all(np.isfinite(hess)) or not np.all(np.isfinite(jac)):
        errors["laplace_sd"] = "the Hessian is not finite where find_MAP stopped"
        return None
    try:
        cov = np.linalg.inv(-hess)
    except np.linalg.LinAlgError:
        errors["laplace_sd"] = "the Hessian is singular where find_MAP stopped"
        return None
    sd = np.sqrt(np.clip(np.diag(jac @ cov @ jac.T), 0.0, None))
    return dict(zip(space.names, sd.tolist(), strict=True))


def map_unconstrained(space: ValueSpace, errors: dict[str, str]) -> tuple[dict[str, float] | None, dict]:
    """Mode of the unconstrained density (with the log-Jacobian), mapped back: Laplace sampling's centre.

    :func:`comparisons.density.optimize.jacobian_mode` from the model's initial point, as Laplace sampling
    calls it, so that the column is the point Laplace sampling draws around.

    Returns
    -------
    values : dict of str to float, or None
        The outputs there on their own scale; ``None`` (and a reason in ``errors``) where the density is
        not finite where its optimiser stopped.
    result : dict
        The optimiser's ``success``, ``nit`` and ``message``.
    """
    try:
        mode, audit = jacobian_mode(space, space.ravel(space.initial_point))
    except (ValueError, np.linalg.LinAlgError, FloatingPointError) as exc:
        errors["map_unconstrained"] = f"{type(exc).__name__}: {exc}"
        return None, {}
    result = {k: audit[k] for k in ("success", "nit", "message")}
    values = space.constrained(mode)[0]
    if not np.isfinite(audit["log_density"]) or not np.all(np.isfinite(values)):
        errors["map_unconstrained"] = "the log density with the Jacobian is not finite where its optimiser stopped"
        return None, result
    return dict(zip(space.names, values.tolist(), strict=True)), result
