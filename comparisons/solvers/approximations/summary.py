"""An approximation's draws summarised, and how far to trust them: Pareto-smoothed importance sampling.

The importance ratios ``log p(u) - log q(u)`` of draws ``u ~ q``, with ``log p`` the model's log
density of the unconstrained coordinates (with the log-Jacobian: the density ``q`` approximates),
give the Pareto shape ``k̂`` of their upper tail (Yao, Vehtari, Simpson and Gelman 2018, *Yes, but
did it work?: Evaluating variational inference*). Both densities are unnormalised as they come;
``k̂`` does not depend on the constants.
"""

from __future__ import annotations

# ArviZ is imported inside the functions that use it: importing it takes ~1.4 s, which the solver
# registry (and so 'modemean run --help') need not pay.
import numpy as np
import xarray as xr
from scipy import stats

from ...space import ValueSpace

__all__ = ["KHAT_GOOD", "KHAT_MAX", "STATS", "pareto_khat", "khat_words", "summarise_approximation", "draws_tree"]

KHAT_GOOD = 0.5  # below: the approximation is close to the posterior (Yao et al. 2018)
KHAT_MAX = 0.7  # above: its draws, even importance-reweighted, cannot be trusted
STATS = ("mean", "median", "sd", "hdi_low", "hdi_high", "skewness")


def pareto_khat(log_ratios: np.ndarray) -> tuple[float, np.ndarray]:
    """Pareto k̂ of importance ratios and the PSIS-smoothed normalised log weights (ArviZ).

    Parameters
    ----------
    log_ratios : ndarray, shape (n,)
        ``log p(u_i) - log q(u_i)`` for independent draws ``u_i ~ q``; ``-inf`` where ``p`` is zero.

    Returns
    -------
    khat : float
    log_weights : ndarray, shape (n,)
        Smoothed log weights, normalised to sum to one.

    Notes
    -----
    ArviZ's ``psislw`` is written for leave-one-out cross-validation: it takes log-likelihood
    values and weights each draw by the *negative* of its value (``1 / p(y_i | theta)``). Passing
    ``-(log p - log q)`` makes its weights the importance ratios ``p / q``. ``r_eff = 1``: the draws
    are independent.
    """
    import arviz  # noqa: F401  (registers the ``.azstats`` accessor)

    ratios = xr.DataArray(-np.asarray(log_ratios, dtype=float), dims=["draw"])
    log_weights, khat = ratios.azstats.psislw(dim="draw", r_eff=1.0)
    return float(khat), np.asarray(log_weights)


def khat_words(khat: float) -> str:
    """How far to trust an approximation with this Pareto k̂, in one phrase (Yao et al. 2018)."""
    if not np.isfinite(khat):
        return "Pareto k̂ could not be estimated (too few distinct importance ratios): the approximation is unchecked"
    if khat > KHAT_MAX:
        return (
            f"Pareto k̂ = {khat:.2f} > {KHAT_MAX}: the approximation is far from the posterior; "
            "its draws are not to be trusted, even importance-reweighted"
        )
    if khat > KHAT_GOOD:
        return (
            f"Pareto k̂ = {khat:.2f} in ({KHAT_GOOD}, {KHAT_MAX}]: the approximation is rough; "
            "importance-reweighted estimates are usable, its raw draws less so"
        )
    return f"Pareto k̂ = {khat:.2f} <= {KHAT_GOOD}: the approximation is close to the posterior"


def summarise_approximation(values: np.ndarray, names: list[str], prefix: str) -> dict[str, dict[str, float]]:
    """Mean, median, sd, 94% HDI and skewness of each output, in columns ``<prefix>_<stat>``.

    Parameters
    ----------
    values : ndarray, shape (n, len(names))
        Independent draws on each parameter's own scale.
    names : list of str
        Flat output names.
    prefix : str
        Column prefix, e.g. ``"advi"``.

    Returns
    -------
    dict of str to dict of str to float
    """
    import arviz as az

    tree = az.from_dict({"posterior": {n: values[None, :, i] for i, n in enumerate(names)}})
    summary = az.summary(tree, kind="stats", ci_kind="hdi", ci_prob=0.94, round_to="none")
    median = np.median(values, axis=0)
    with np.errstate(all="ignore"):
        skew = stats.skew(values, axis=0)
    columns = {
        "mean": summary["mean"],
        "sd": summary["sd"],
        "hdi_low": summary["hdi94_lb"],
        "hdi_high": summary["hdi94_ub"],
    }
    out = {f"{prefix}_{c}": {n: float(col[n]) for n in names} for c, col in columns.items()}
    out[f"{prefix}_median"] = dict(zip(names, median.tolist(), strict=True))
    out[f"{prefix}_skewness"] = dict(zip(names, skew.tolist(), strict=True))
    return out


def draws_tree(space: ValueSpace, values: np.ndarray, log_p: np.ndarray, log_q: np.ndarray) -> xr.DataTree:
    """Draws as one chain, each variable in its own shape, with ``log_p`` and ``log_q`` as sample stats."""
    import arviz as az

    posterior, column = {}, 0
    for name, shape in space.shapes.items():
        size = int(np.prod(shape))
        posterior[name] = values[:, column : column + size].reshape((1, len(values), *shape))
        column += size
    return az.from_dict({"posterior": posterior, "sample_stats": {"log_p": log_p[None, :], "log_q": log_q[None, :]}})
