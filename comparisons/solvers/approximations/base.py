"""The family of approximations of the posterior: what they declare once, and what their draws become.

An approximation (``laplace``, ``advi``, ``fullrank_advi``, ``pathfinder``) is an :class:`Approximation`:
it declares its name, label and column prefix, and implements one hook, :meth:`Approximation.draw`.
The hook gives draws ``u`` in the unconstrained space of the model's value variables
(:class:`comparisons.space.ValueSpace`) and the log density ``log q(u)`` of the approximation at each
to :func:`approximation_fit`, which maps the draws back to each parameter's own scale, summarises them
in columns of its own (``advi_mean``, ``advi_sd``, ...) and measures the approximation against the
posterior with Pareto-smoothed importance sampling (:mod:`.summary`).
"""

from __future__ import annotations

from abc import abstractmethod
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from ...fit import Fit
from ...space import ValueSpace
from ..base import Column, Option, Solver
from .summary import KHAT_MAX, draws_tree, khat_words, pareto_khat, summarise_approximation

if TYPE_CHECKING:
    from ...spec import ModelSpec

__all__ = ["APPROX_DRAWS", "Approximation", "approximation_fit", "approximation_columns"]

APPROX_DRAWS = Option(
    int, 4000, "independent draws of each approximation (laplace, advi, fullrank_advi, pathfinder)", low=10
)


class Approximation(Solver):
    """An approximation of the posterior: the family's declarations, and one hook, :meth:`draw`.

    A subclass sets :attr:`name`, :attr:`label`, :attr:`prefix` and :attr:`draws_label` and implements
    :meth:`draw`. Its columns (:func:`approximation_columns` of ``prefix`` and ``draws_label``) are
    derived when the subclass is defined; every approximation takes ``approx_draws``, keeps its draws
    (``results.nc`` group ``draws_<name>``) and runs only when ``--solvers`` names it.

    Attributes
    ----------
    prefix : str
        Its columns' prefix (``<prefix>_mean``, ...); the solver's name unless that clashes with
        another solver's columns.
    draws_label : str
        How the columns' help names its draws (``"mean of the <draws_label> draws"``).
    """

    prefix: ClassVar[str]
    draws_label: ClassVar[str]
    options = {"approx_draws": APPROX_DRAWS}
    has_draws = True
    default = False

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        cls.columns = approximation_columns(cls.prefix, cls.draws_label)

    def fit(self, spec: ModelSpec, *, seed: int, approx_draws: int) -> Fit:
        """Fit the approximation and summarise ``approx_draws`` draws of it (:meth:`draw`)."""
        return self.draw(spec, seed=seed, n=approx_draws)

    @abstractmethod
    def draw(self, spec: ModelSpec, *, seed: int, n: int) -> Fit:
        """Fit the approximation to ``spec``; the :func:`approximation_fit` of ``n`` independent draws of it.

        ``not_applicable`` with free discrete parameters, ``failed`` (saying why) where there is no
        approximation to draw from. A subclass with options of its own adds them as keywords with
        their declared defaults, and passes them from its :meth:`fit`.
        """


def approximation_fit(
    method: str,
    prefix: str,
    space: ValueSpace,
    draws: np.ndarray,
    log_q: np.ndarray,
    *,
    converged: bool | None,
    n_iter: int | None,
    diagnostics: dict,
    notes: list[str] | None = None,
    traces: dict | None = None,
) -> Fit:
    """The :class:`Fit` of an approximation from its draws in the unconstrained space.

    Parameters
    ----------
    method : str
        The solver (``"advi"``, ...).
    prefix : str
        Its columns' prefix.
    space : ValueSpace
        Built with the model's free variables and deterministics as outputs.
    draws : ndarray, shape (n, space.size)
        Independent draws of the approximation in the unconstrained space.
    log_q : ndarray, shape (n,)
        The approximation's log density at each draw (any constant).
    converged, n_iter : bool or None, int or None
        The fitting procedure's own stopping rule, and its iterations.
    diagnostics : dict
        What the solver reports of its fit; ``khat``, ``khat_says``, ``n_draws`` are added.
    notes : list of str, optional
        Further sentences for the message (e.g. "stopped at the iteration limit").
    traces : dict, optional
        The objective per iteration (e.g. ADVI's negative ELBO).

    Returns
    -------
    Fit
        ``estimates``: :data:`~.summary.STATS` per output as ``<prefix>_<stat>``, and ``<prefix>_khat`` (the
        same k̂ on every row); ``draws``: a DataTree whose
        ``posterior`` holds the draws (one chain) on each variable's own scale and whose
        ``sample_stats`` holds ``log_p`` and ``log_q``. A k̂ above :data:`~.summary.KHAT_MAX` is stated in the
        message; the status stays ``ok``.
    """
    values, log_p = space.at_draws(draws)
    finite = np.isfinite(log_p)
    if not finite.any():
        return Fit(
            method,
            "failed",
            "the model's log density is undefined at every draw of the approximation",
            diagnostics=diagnostics,
        )
    khat, _ = pareto_khat(log_p - log_q)
    estimates = summarise_approximation(values, space.names, prefix)
    estimates[f"{prefix}_khat"] = dict.fromkeys(space.names, khat)
    diagnostics = {
        **diagnostics,
        "khat": khat,
        "khat_says": khat_words(khat),
        "n_draws": len(draws),
        "draws_outside_support": int((~finite).sum()),
    }
    message = list(notes or [])
    if not (np.isfinite(khat) and khat <= KHAT_MAX):
        message.append(khat_words(khat))
    return Fit(
        method,
        "ok",
        "; ".join(message),
        estimates=estimates,
        draws=draws_tree(space, values, log_p, log_q),
        converged=converged,
        n_iter=n_iter,
        diagnostics=diagnostics,
        traces=traces or {},
    )


def approximation_columns(prefix: str, label: str) -> dict[str, Column]:
    """The columns of an approximation: :data:`~.summary.STATS` of its draws, its mean and sd relative to NUTS, its k̂.

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
