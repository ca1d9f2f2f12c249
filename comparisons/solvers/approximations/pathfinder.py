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

from ...density.space import ValueSpace
from ...errors import ApproximationFailedError, ModemeanError
from ...results.fit import Fit
from ...spec.model_spec import ModelSpec
from ..declared import PATHFINDER_MAX_ITER, SOLVER_OPTIONS
from .base import Approximation, Draws

__all__ = ["ELBO_DRAWS", "HISTORY", "MAX_ITER", "Pathfinder", "available", "budgets", "fit_pathfinder", "stopped_early"]

MAX_ITER = PATHFINDER_MAX_ITER  # L-BFGS iterations at most (Stan's default)
FIRST_BUDGET = 64  # the first L-BFGS budget tried (then doubled while L-BFGS uses all of it, see budgets)
MAXITER_OPTION = SOLVER_OPTIONS["pathfinder"]["pathfinder_maxiter"]
HISTORY = 6  # L-BFGS history size
ELBO_DRAWS = 25  # draws per ELBO estimate along the path (Stan's default)
FTOL, GTOL = 1e-12, 1e-8  # L-BFGS stops on a relative change of the objective or a gradient norm below these


def available() -> bool:
    """True when BlackJAX and JAX are installed (the ``approx`` extra)."""
    return all(importlib.util.find_spec(m) is not None for m in ("blackjax", "jax"))


class Pathfinder(Approximation):
    """BlackJAX's single-path Pathfinder from the model's initial point; needs the ``approx`` extra.

    :meth:`draw` draws from the best Gaussian on the path (:func:`fit_pathfinder`).
    """

    name = prefix = "pathfinder"
    label = draws_label = "Pathfinder"
    continuous_only = "Pathfinder needs continuous parameters only"
    options = SOLVER_OPTIONS["pathfinder"]

    def fit(
        self, spec: ModelSpec, *, seed: int, approx_draws: int, pathfinder_maxiter: int = MAXITER_OPTION.default
    ) -> Fit:
        return self.approximate(spec, seed=seed, n=approx_draws, maxiter=pathfinder_maxiter)

    def draw(self, spec: ModelSpec, space: ValueSpace, *, seed: int, n: int, maxiter: int = MAX_ITER) -> Draws:
        """Run Pathfinder (:func:`_run`) and draw ``n`` times from the Gaussian of the best ELBO on its path.

        The diagnostics hold the L-BFGS iterations and budget, the index of the chosen point on the
        path, its ELBO and the settings; reaching ``maxiter`` is reported (``converged`` False, and a note).
        """
        if not available():
            raise ApproximationFailedError("BlackJAX is not installed: pip install 'modemean[approx]'")
        state, elbo, samples, log_q, budget = _run(space, seed=seed, n=n, maxiter=maxiter)
        import blackjax  # imported by _run, after it set JAX's configuration
        import jax

        n_iter = int(np.isfinite(elbo).sum()) - 1  # the path's points: the start, then one per L-BFGS iteration
        diagnostics = {
            "method": f"blackjax {blackjax.__version__} vi.pathfinder (single path), JAX {jax.__version__}",
            "lbfgs_iterations": n_iter,
            "lbfgs_budget": budget,  # the iterations the kept run could take: its path held budget + 1 points
            "chosen_point": int(np.argmax(elbo)),
            "elbo": float(state.elbo),
            "settings": {"maxiter": maxiter, "history": HISTORY, "elbo_draws": ELBO_DRAWS, "ftol": FTOL, "gtol": GTOL},
        }
        converged = n_iter < maxiter
        notes = [] if converged else [f"L-BFGS stopped at its iteration limit ({maxiter})"]
        return Draws(samples, log_q, diagnostics, converged=converged, n_iter=n_iter, notes=notes)

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
        L-BFGS iterations at most. BlackJAX estimates the ELBO at all ``budget + 1`` path points in
        one vectorised call, so its memory grows with the budget: the budgets grow from a small one
        only while L-BFGS uses all of it (:func:`budgets`), with the result of ``maxiter`` bitwise. A
        model too large for the budget it needs fails with the size asked for and this advice.

    Returns
    -------
    Fit
        Columns ``pathfinder_<stat>``, Pareto k̂ in ``diagnostics`` (with the L-BFGS iterations,
        the index of the chosen point on the path and its ELBO). ``failed`` when BlackJAX is not
        installed, saying how to install it.
    """
    return Pathfinder().approximate(spec, seed=seed, n=draws, maxiter=maxiter)


def _run(space: ValueSpace, *, seed: int, n: int, maxiter: int):
    """BlackJAX's Pathfinder on ``space``'s log density, over the budgets of :func:`budgets`, and ``n`` draws.

    Returns
    -------
    state : blackjax PathfinderState
        The chosen Gaussian (its ``elbo``).
    elbo : ndarray, shape (budget + 1,)
        The ELBO estimate at each point of the path (not finite past L-BFGS's last iteration).
    samples : ndarray, shape (n, space.size)
    log_q : ndarray, shape (n,)
    budget : int
        The L-BFGS budget of the kept run.

    Raises
    ------
    ApproximationFailedError
        When JAX runs out of memory, with the size asked for and the advice to lower ``maxiter``.
    """
    import jax

    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_threefry_partitionable", True)  # split(key, n)[i] whatever n: see budgets
    import blackjax
    from pymc.sampling.jax import get_jaxified_graph

    log_density = _jax_log_density(space, jax, get_jaxified_graph)
    key_path, key_draws = jax.random.split(jax.random.key(seed))
    start = jax.numpy.asarray(space.ravel(space.initial_point))
    try:  # JAX dispatches asynchronously: an out-of-memory error surfaces where the results are first read
        for budget in budgets(maxiter):
            state, info = blackjax.vi.pathfinder.approximate(
                key_path,
                log_density,
                start,
                num_samples=ELBO_DRAWS,
                maxiter=budget,
                maxcor=HISTORY,
                ftol=FTOL,
                gtol=GTOL,
            )
            if stopped_early(np.asarray(info.path.position), np.asarray(info.path.grad_position)):
                break
        samples, log_q = blackjax.vi.pathfinder.sample(key_draws, state, n)
        elbo, samples, log_q = (np.asarray(a, dtype=float) for a in (info.path.elbo, samples, log_q))
    except jax.errors.JaxRuntimeError as exc:
        size = re.search(r"Out of memory allocating (\d+) bytes", str(exc))
        if size is None:
            raise
        raise ApproximationFailedError(
            f"out of memory: BlackJAX's Pathfinder estimates the ELBO at all "
            f"{budget + 1} path points at once ({ELBO_DRAWS} draws each), which asked for "
            f"{int(size.group(1)) / 1e9:.3g} GB for this model; lower --pathfinder-maxiter (now {maxiter})"
        ) from exc
    return state, elbo, samples, log_q, budget


def budgets(maxiter: int, first: int | None = None) -> list[int]:
    """The L-BFGS iteration budgets tried in turn: ``first`` (default :data:`FIRST_BUDGET`), doubled while below
    ``maxiter``, then ``maxiter``.

    BlackJAX keeps the whole path of a run and estimates the ELBO at all ``budget + 1`` points at once,
    so memory grows with the budget, not with the iterations L-BFGS takes. A run that stops before its
    budget is the run with any larger budget (the same iterations, the same ELBO keys: JAX's
    partitionable ``split`` gives key ``i`` whatever the count), so the budget only grows when L-BFGS
    used all of it: the last run's budget is below twice the iterations L-BFGS needs (or ``maxiter``).

    Examples
    --------
    >>> budgets(1000)
    [64, 128, 256, 512, 1000]
    >>> budgets(100)
    [64, 100]
    >>> budgets(30)
    [30]
    """
    out, first = [], FIRST_BUDGET if first is None else first
    while first < maxiter:
        out.append(first)
        first *= 2
    return [*out, maxiter]


def stopped_early(position: np.ndarray, grad: np.ndarray) -> bool:
    """Whether L-BFGS stopped before the end of its budget: BlackJAX's path repeats the last point after it
    stops, so the path's last two points (positions and gradients) are the same."""
    return len(position) > 1 and all(np.array_equal(a[-1], a[-2], equal_nan=True) for a in (position, grad))


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
