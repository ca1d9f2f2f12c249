"""What every approximation of the posterior shares: its draws summarised, and how far to trust them.

An approximation (``laplace``, ``advi``, ``fullrank_advi``, ``pathfinder``) gives draws ``u`` in the
unconstrained space of the model's value variables (:class:`comparisons.density.space.ValueSpace`) and the
log density ``log q(u)`` of the approximation at each. :func:`approximation_fit` maps the draws back
to each parameter's own scale, summarises them in columns of its own (``advi_mean``, ``advi_sd``,
...), and measures the approximation against the posterior with Pareto-smoothed importance sampling:
the importance ratios ``log p(u) - log q(u)``, with ``log p`` the model's log density of the
unconstrained coordinates (with the log-Jacobian: the density ``q`` approximates), give the Pareto
shape ``k̂`` of their upper tail (Yao, Vehtari, Simpson and Gelman 2018, *Yes, but did it work?:
Evaluating variational inference*). Both densities are unnormalised as they come; ``k̂`` does not
depend on the constants.

Each approximation is an :class:`Approximation`: it declares its name, label and column prefix, and
implements one hook, :meth:`Approximation.draw`, which returns its :class:`Draws`; the family does the rest
(the discrete-parameter check, the model's space, the Fit built from the draws).
"""

from __future__ import annotations

# ArviZ is imported inside the functions that use it: importing it takes ~1.4 s, which the solver
# registry (and so 'modemean run --help') need not pay.
from abc import abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import xarray as xr
from scipy import stats

from ...density.space import ValueSpace, model_space
from ...density.start import discrete_message, free_discrete
from ...errors import ApproximationFailedError
from ...results.fit import Fit
from ...results.schema import HDI_PROB, KHAT_GOOD, KHAT_MAX
from ..base import Column, Solver
from ..declared import APPROX_DRAWS

if TYPE_CHECKING:
    from ...spec.model_spec import ModelSpec

__all__ = [
    "APPROX_DRAWS",
    "Approximation",
    "Draws",
    "STATS",
    "pareto_khat",
    "khat_words",
    "summarise_approximation",
    "approximation_fit",
    "approximation_columns",
]

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
    summary = az.summary(tree, kind="stats", ci_kind="hdi", ci_prob=HDI_PROB, round_to="none")
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


@dataclass
class Draws:
    """What an approximation hands the family (:meth:`Approximation.draw`): its draws and how it got them.

    Attributes
    ----------
    u : ndarray, shape (n, space.size)
        Independent draws of the approximation in the unconstrained space of the model's value variables.
    log_q : ndarray, shape (n,)
        The approximation's log density at each draw (any constant: k̂ ignores it).
    diagnostics : dict
        What the approximation reports of its fit; :func:`approximation_fit` adds ``khat``, ``khat_says``,
        ``n_draws`` and ``draws_outside_support``.
    converged, n_iter : bool or None, int or None
        The fitting procedure's own stopping rule, and its iterations.
    notes : list of str
        Further sentences for the Fit's message (e.g. "stopped at the iteration limit").
    traces : dict
        The objective per iteration (e.g. ADVI's negative ELBO), the Fit's ``traces``.
    """

    u: np.ndarray
    log_q: np.ndarray
    diagnostics: dict[str, Any]
    converged: bool | None
    n_iter: int | None
    notes: list[str] = field(default_factory=list)
    traces: dict[str, list[np.ndarray]] = field(default_factory=dict)


class Approximation(Solver):
    """An approximation of the posterior: the family's declarations and steps, and one hook, :meth:`draw`.

    A subclass sets :attr:`name`, :attr:`label`, :attr:`prefix`, :attr:`draws_label` and
    :attr:`continuous_only` and implements :meth:`draw`. Its columns (:func:`approximation_columns` of
    ``prefix`` and ``draws_label``) are derived when the subclass is defined; every approximation takes
    ``approx_draws``, keeps its draws (``results.nc`` group ``draws_<name>``) and runs only when
    ``--solvers`` names it. :meth:`approximate` does what every approximation does around its draws.

    Attributes
    ----------
    prefix : str
        Its columns' prefix (``<prefix>_mean``, ...); the solver's name unless that clashes with
        another solver's columns.
    draws_label : str
        How the columns' help names its draws (``"mean of the <draws_label> draws"``).
    continuous_only : str
        The end of the ``not_applicable`` message for a model with free discrete parameters
        (e.g. ``"Pathfinder needs continuous parameters only"``).
    """

    prefix: ClassVar[str]
    draws_label: ClassVar[str]
    continuous_only: ClassVar[str]
    options = {"approx_draws": APPROX_DRAWS}  # as SOLVER_OPTIONS declares for each approximation
    has_draws = True
    default = False

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        cls.columns = approximation_columns(cls.prefix, cls.draws_label)

    def fit(self, spec: ModelSpec, *, seed: int, approx_draws: int) -> Fit:
        """Fit the approximation and summarise ``approx_draws`` draws of it (:meth:`approximate`)."""
        return self.approximate(spec, seed=seed, n=approx_draws)

    def approximate(self, spec: ModelSpec, *, seed: int, n: int, **options: Any) -> Fit:
        """The :func:`approximation_fit` of ``n`` draws of the approximation (:meth:`draw`) fitted to ``spec``.

        Parameters
        ----------
        spec : ModelSpec
        seed : int
        n : int
            Independent draws.
        **options
            The subclass's own keywords of :meth:`draw`.

        Returns
        -------
        Fit
            ``not_applicable`` with free discrete parameters (:attr:`continuous_only`); ``failed``,
            saying why, where :meth:`draw` finds nothing to draw from (``ApproximationFailedError``).
        """
        discrete = free_discrete(spec.model)
        if discrete:
            return Fit(self.name, "not_applicable", discrete_message(discrete, self.continuous_only))
        space = model_space(spec)  # shared with map's (comparisons.compiled)
        try:
            draws = self.draw(spec, space, seed=seed, n=n, **options)
        except ApproximationFailedError as exc:
            return Fit(self.name, "failed", str(exc), diagnostics=exc.diagnostics)
        return approximation_fit(self.name, self.prefix, space, draws)

    @abstractmethod
    def draw(self, spec: ModelSpec, space: ValueSpace, *, seed: int, n: int) -> Draws:
        """Fit the approximation to ``spec`` (a model without free discrete parameters); ``n`` draws of it.

        Parameters
        ----------
        spec : ModelSpec
        space : ValueSpace
            The model's space (:func:`~comparisons.density.space.model_space`): the draws' coordinates.
        seed : int
        n : int

        Returns
        -------
        Draws
            ``u`` of shape (n, space.size), ``log_q`` of shape (n,), the diagnostics.

        Raises
        ------
        ApproximationFailedError
            Where there is no approximation to draw from, saying why. A subclass with options of its
            own adds them as keywords with their declared defaults, and passes them from its :meth:`fit`.
        """


def approximation_fit(method: str, prefix: str, space: ValueSpace, draws: Draws) -> Fit:
    """The :class:`Fit` of an approximation from its draws in the unconstrained space.

    Parameters
    ----------
    method : str
        The solver (``"advi"``, ...).
    prefix : str
        Its columns' prefix.
    space : ValueSpace
        Built with the model's free variables and deterministics as outputs.
    draws : Draws
        ``u`` of shape (n, space.size), ``log_q`` of shape (n,), and how the approximation got them.

    Returns
    -------
    Fit
        ``estimates``: :data:`STATS` per output as ``<prefix>_<stat>``, and ``<prefix>_khat`` (the
        same k̂ on every row); ``draws``: a DataTree whose
        ``posterior`` holds the draws (one chain) on each variable's own scale and whose
        ``sample_stats`` holds ``log_p`` and ``log_q``. A k̂ above :data:`KHAT_MAX` is stated in the
        message; the status stays ``ok``. ``failed`` when the model's log density is undefined at every draw.
    """
    values, log_p = space.at_draws(draws.u)
    finite = np.isfinite(log_p)
    if not finite.any():
        return Fit(
            method,
            "failed",
            "the model's log density is undefined at every draw of the approximation",
            diagnostics=draws.diagnostics,
        )
    khat, _ = pareto_khat(log_p - draws.log_q)
    estimates = summarise_approximation(values, space.names, prefix)
    estimates[f"{prefix}_khat"] = dict.fromkeys(space.names, khat)
    diagnostics = {
        **draws.diagnostics,
        "khat": khat,
        "khat_says": khat_words(khat),
        "n_draws": len(draws.u),
        "draws_outside_support": int((~finite).sum()),
    }
    message = list(draws.notes)
    if not (np.isfinite(khat) and khat <= KHAT_MAX):
        message.append(khat_words(khat))
    return Fit(
        method,
        "ok",
        "; ".join(message),
        estimates=estimates,
        draws=_tree(space, values, log_p, draws.log_q),
        converged=draws.converged,
        n_iter=draws.n_iter,
        diagnostics=diagnostics,
        traces=draws.traces,
    )


def approximation_columns(prefix: str, label: str) -> dict[str, Column]:
    """The columns of an approximation: :data:`STATS` of its draws, its mean and sd relative to NUTS, its k̂.

    ``<prefix>_gap_sd = (<prefix>_mean - mean) / sd`` (how many NUTS sds its centre is off) and
    ``<prefix>_sd_ratio = <prefix>_sd / sd`` are computed from the merged table (NaN without NUTS).
    """
    out = {
        f"{prefix}_mean": Column(f"mean of the {label} draws", printed=False),
        f"{prefix}_median": Column(f"median of the {label} draws", printed=False),
        f"{prefix}_sd": Column(f"sd of the {label} draws", printed=False),
        f"{prefix}_hdi_low": Column(f"94% HDI of the {label} draws, lower end", printed=False),
        f"{prefix}_hdi_high": Column(f"94% HDI of the {label} draws, upper end", printed=False),
        f"{prefix}_skewness": Column(f"skewness of the {label} draws", printed=False),
    }
    mean, sd = f"{prefix}_mean", f"{prefix}_sd"
    out[f"{prefix}_gap_sd"] = Column(
        f"({label} mean − mean) / sd: NUTS sds between its centre and NUTS's",
        inputs=(mean, "mean", "sd"),
        formula=lambda t: (t[mean] - t["mean"]) / t["sd"],
    )
    out[f"{prefix}_sd_ratio"] = Column(
        f"{label} sd / NUTS sd (below 1: too narrow)", inputs=(sd, "sd"), formula=lambda t: t[sd] / t["sd"]
    )
    out[f"{prefix}_khat"] = Column(
        f"Pareto k̂ of the {label} draws against the posterior (one number for the "
        f"whole approximation, on every row; > {KHAT_MAX}: not to be trusted)",
        check=True,
    )
    return out


def _tree(space: ValueSpace, values: np.ndarray, log_p: np.ndarray, log_q: np.ndarray) -> xr.DataTree:
    """Draws as one chain, each variable in its own shape, with ``log_p`` and ``log_q`` as sample stats."""
    import arviz as az

    posterior, column = {}, 0
    for name, shape in space.shapes.items():
        size = int(np.prod(shape))
        posterior[name] = values[:, column : column + size].reshape((1, len(values), *shape))
        column += size
    return az.from_dict({"posterior": posterior, "sample_stats": {"log_p": log_p[None, :], "log_q": log_q[None, :]}})
