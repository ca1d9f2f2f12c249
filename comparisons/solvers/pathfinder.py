"""``pathfinder``: BlackJAX's Pathfinder on the model's log density compiled to JAX (optional extra).

Pathfinder (Zhang, Carpenter, Gelman and Vehtari 2022) runs L-BFGS on the log density of the
unconstrained coordinates (with the log-Jacobian, the density :class:`~comparisons.space.ValueSpace`
builds from the PyMC model), takes at each point of the optimisation path the Gaussian whose
covariance is L-BFGS's inverse-Hessian estimate, estimates each one's ELBO with a few draws, and
keeps the best. This is BlackJAX's single-path Pathfinder (``blackjax.vi.pathfinder``): one path
from the model's initial point, no multi-path importance resampling. The log density is compiled
from the same graph with PyMC's JAX linker (``pymc.sampling.jax.get_jaxified_graph``).

Needs ``pip install 'modemean[approx]'`` (BlackJAX and JAX, CPU). JAX computes in float64 here:
``jax_enable_x64`` is switched on for the process.
"""

from __future__ import annotations

import importlib.util

import numpy as np

from ..approximation import APPROX_DRAWS, approximation_columns, approximation_fit
from ..checks import discrete_message, free_discrete
from ..errors import ModemeanError
from ..fit import Fit
from ..space import ValueSpace
from ..spec import ModelSpec
from .base import Solver

__all__ = ["ELBO_DRAWS", "HISTORY", "MAX_ITER", "Pathfinder", "available", "fit_pathfinder"]

MAX_ITER = 1000  # L-BFGS iterations at most (Stan's default)
HISTORY = 6  # L-BFGS history size
ELBO_DRAWS = 25  # draws per ELBO estimate along the path (Stan's default)
FTOL, GTOL = 1e-12, 1e-8  # L-BFGS stops on a relative change of the objective or a gradient norm below these


def available() -> bool:
    """True when BlackJAX and JAX are installed (the ``approx`` extra)."""
    return all(importlib.util.find_spec(m) is not None for m in ("blackjax", "jax"))


class Pathfinder(Solver):
    """BlackJAX's single-path Pathfinder (:func:`fit_pathfinder`); needs the ``approx`` extra."""

    name = "pathfinder"
    label = "Pathfinder"
    columns = approximation_columns("pathfinder", "Pathfinder")
    options = {"approx_draws": APPROX_DRAWS}
    has_draws = True
    default = False

    def fit(self, spec: ModelSpec, *, seed: int, approx_draws: int) -> Fit:
        return fit_pathfinder(spec, seed=seed, draws=approx_draws)

    def check(self, options: dict) -> None:
        if not available():
            raise ModemeanError("the pathfinder solver needs BlackJAX: pip install 'modemean[approx]' "
                                "(or leave pathfinder out of --solvers)")


def fit_pathfinder(spec: ModelSpec, *, seed: int, draws: int = 4000) -> Fit:
    """Single-path Pathfinder from the model's initial point; draws from the best Gaussian on the path.

    Parameters
    ----------
    spec : ModelSpec
    seed : int
        Seeds the ELBO draws and the final draws (a JAX key).
    draws : int, default 4000

    Returns
    -------
    Fit
        Columns ``pathfinder_<stat>``, Pareto k̂ in ``diagnostics`` (with the L-BFGS iterations,
        the index of the chosen point on the path and its ELBO). ``failed`` when BlackJAX is not
        installed, saying how to install it.
    """
    model = spec.model
    discrete = free_discrete(model)
    if discrete:
        return Fit("pathfinder", "not_applicable", discrete_message(discrete, "Pathfinder needs continuous "
                                                                              "parameters only"))
    if not available():
        return Fit("pathfinder", "failed", "BlackJAX is not installed: pip install 'modemean[approx]'")
    import jax

    jax.config.update("jax_enable_x64", True)
    import blackjax
    from pymc.sampling.jax import get_jaxified_graph

    space = ValueSpace(model, [rv.name for rv in model.free_RVs] + [d.name for d in model.deterministics])
    u, log_density = space.log_density_graph()
    compiled = get_jaxified_graph(inputs=[u], outputs=[log_density])
    key_path, key_draws = jax.random.split(jax.random.key(seed))
    state, info = blackjax.vi.pathfinder.approximate(
        key_path, lambda x: compiled(x)[0], jax.numpy.asarray(space.ravel(model.initial_point())),
        num_samples=ELBO_DRAWS, maxiter=MAX_ITER, maxcor=HISTORY, ftol=FTOL, gtol=GTOL)
    samples, log_q = blackjax.vi.pathfinder.sample(key_draws, state, draws)
    elbo = np.asarray(info.path.elbo)
    n_iter = int(np.isfinite(elbo).sum()) - 1  # the path's points: the start, then one per L-BFGS iteration
    diagnostics = {"method": f"blackjax {blackjax.__version__} vi.pathfinder (single path), JAX {jax.__version__}",
                   "lbfgs_iterations": n_iter, "chosen_point": int(np.argmax(elbo)), "elbo": float(state.elbo),
                   "settings": {"maxiter": MAX_ITER, "history": HISTORY, "elbo_draws": ELBO_DRAWS, "ftol": FTOL,
                                "gtol": GTOL}}
    converged = n_iter < MAX_ITER
    notes = [] if converged else [f"L-BFGS stopped at its iteration limit ({MAX_ITER})"]
    return approximation_fit("pathfinder", "pathfinder", space, np.asarray(samples, dtype=float),
                             np.asarray(log_q, dtype=float), converged=converged, n_iter=n_iter,
                             diagnostics=diagnostics, notes=notes)
