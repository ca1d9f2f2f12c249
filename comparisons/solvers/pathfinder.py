"""``pathfinder``: BlackJAX's Pathfinder on the model's log density compiled to JAX (optional extra).

Pathfinder (Zhang, Carpenter, Gelman and Vehtari 2022) runs L-BFGS on the log density of the
unconstrained coordinates (with the log-Jacobian, the density :class:`~comparisons.density.space.ValueSpace`
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
import re

import numpy as np

from ..approximation import APPROX_DRAWS, approximation_columns, approximation_fit
from ..density.space import ValueSpace, model_space
from ..density.start import discrete_message, free_discrete
from ..errors import ModemeanError
from ..fit import Fit
from ..spec import ModelSpec
from .base import Option, Solver

__all__ = ["ELBO_DRAWS", "HISTORY", "MAX_ITER", "Pathfinder", "available", "fit_pathfinder"]

MAX_ITER = 1000  # L-BFGS iterations at most (Stan's default)
MAXITER_OPTION = Option(
    int,
    MAX_ITER,
    "Pathfinder's L-BFGS iterations at most (BlackJAX estimates the ELBO at "
    "every path point at once: lower it if a large model runs out of memory)",
    low=1,
)
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
    options = {"approx_draws": APPROX_DRAWS, "pathfinder_maxiter": MAXITER_OPTION}
    has_draws = True
    default = False

    def fit(self, spec: ModelSpec, *, seed: int, approx_draws: int, pathfinder_maxiter: int) -> Fit:
        return fit_pathfinder(spec, seed=seed, draws=approx_draws, maxiter=pathfinder_maxiter)

    def check(self, options: dict) -> None:
        if not available():
            raise ModemeanError(
                "the pathfinder solver needs BlackJAX: pip install 'modemean[approx]' "
                "(or leave pathfinder out of --solvers)"
            )


def fit_pathfinder(spec: ModelSpec, *, seed: int, draws: int = 4000, maxiter: int = MAX_ITER) -> Fit:
    """Single-path Pathfinder from the model's initial point; draws from the best Gaussian on the path.

    Parameters
    ----------
    spec : ModelSpec
    seed : int
        Seeds the ELBO draws and the final draws (a JAX key).
    draws : int, default 4000
    maxiter : int, default 1000
        L-BFGS iterations at most. BlackJAX estimates the ELBO at all ``maxiter + 1`` path points in
        one vectorised call, so its memory grows with ``maxiter``: a model too large for that fails
        with the size asked for and this advice.

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
        return Fit(
            "pathfinder", "not_applicable", discrete_message(discrete, "Pathfinder needs continuous parameters only")
        )
    if not available():
        return Fit("pathfinder", "failed", "BlackJAX is not installed: pip install 'modemean[approx]'")
    import jax

    jax.config.update("jax_enable_x64", True)
    import blackjax
    from pymc.sampling.jax import get_jaxified_graph

    space = model_space(spec)  # shared with map's (comparisons.compiled)
    log_density = _jax_log_density(space, jax, get_jaxified_graph)
    key_path, key_draws = jax.random.split(jax.random.key(seed))
    try:  # JAX dispatches asynchronously: an out-of-memory error surfaces where the results are first read
        state, info = blackjax.vi.pathfinder.approximate(
            key_path,
            log_density,
            jax.numpy.asarray(space.ravel(space.initial_point)),
            num_samples=ELBO_DRAWS,
            maxiter=maxiter,
            maxcor=HISTORY,
            ftol=FTOL,
            gtol=GTOL,
        )
        samples, log_q = blackjax.vi.pathfinder.sample(key_draws, state, draws)
        elbo, samples, log_q = (np.asarray(a, dtype=float) for a in (info.path.elbo, samples, log_q))
    except jax.errors.JaxRuntimeError as exc:
        size = re.search(r"Out of memory allocating (\d+) bytes", str(exc))
        if size is None:
            raise
        return Fit(
            "pathfinder",
            "failed",
            f"out of memory: BlackJAX's Pathfinder estimates the ELBO at all "
            f"{maxiter + 1} path points at once ({ELBO_DRAWS} draws each), which asked for "
            f"{int(size.group(1)) / 1e9:.3g} GB for this model; lower --pathfinder-maxiter (now {maxiter})",
        )
    n_iter = int(np.isfinite(elbo).sum()) - 1  # the path's points: the start, then one per L-BFGS iteration
    diagnostics = {
        "method": f"blackjax {blackjax.__version__} vi.pathfinder (single path), JAX {jax.__version__}",
        "lbfgs_iterations": n_iter,
        "chosen_point": int(np.argmax(elbo)),
        "elbo": float(state.elbo),
        "settings": {"maxiter": maxiter, "history": HISTORY, "elbo_draws": ELBO_DRAWS, "ftol": FTOL, "gtol": GTOL},
    }
    converged = n_iter < maxiter
    notes = [] if converged else [f"L-BFGS stopped at its iteration limit ({maxiter})"]
    return approximation_fit(
        "pathfinder",
        "pathfinder",
        space,
        samples,
        log_q,
        converged=converged,
        n_iter=n_iter,
        diagnostics=diagnostics,
        notes=notes,
    )


def _jax_log_density(space: ValueSpace, jax, get_jaxified_graph):
    """The log density (with the Jacobian) of ``u`` as a JAX function whose derivative is PyTensor's gradient.

    JAX's own derivative of the jaxified graph can be NaN where PyTensor's is finite: a ``switch``
    whose untaken branch has an infinite derivative (zero_inflated_counts' ``log(0)`` term gives a NaN
    gradient in ``lam`` at every point). The value and PyTensor's symbolic gradient are compiled to
    JAX together, and the gradient is attached as the function's JVP (linear in the tangent, so
    reverse mode and ``vmap`` work).
    """
    import pytensor.tensor as pt

    u, log_density = space.log_density_graph()
    value_and_grad = get_jaxified_graph(inputs=[u], outputs=[log_density, pt.grad(log_density, u)])

    @jax.custom_jvp
    def function(x):
        return value_and_grad(x)[0]

    @function.defjvp
    def _jvp(primals, tangents):
        value, grad = value_and_grad(primals[0])
        return value, grad @ tangents[0]

    return function
