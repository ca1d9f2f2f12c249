"""``em_demo.json``: ``two_gaussians``, maximum-likelihood EM (the seed's demo) from each of the engine's restarts.

The restarts are the model's ``em_starts`` with the run's seed, so restart 0 is the seed's start and
the first ``n_init`` restarts are the ones ``modemean run`` makes; each is run by
:func:`comparisons.em.loop.run_em` with the engine's E- and M-steps. The parameters of every
iteration are recorded by wrapping the E-step (which ``run_em`` calls once per iteration, on the
start and on every M-step's result), and the two weighted component densities
``w_k N(x | mu_k, sigma_k)`` are evaluated on a grid from the PyMC model's own log-density graph
(:meth:`comparisons.em.discrete.DiscreteLatentEM.log_joint` on the model built at the grid points),
so the page neither re-runs EM nor re-types a density.
"""

from __future__ import annotations

import numpy as np

from modemean import models

from ..em.discrete import DiscreteLatentEM
from ..em.engine import EMEngine, HandWritten, require
from ..em.loop import run_em
from ..results.write import jsonable
from ..solvers import SEED, SOLVERS
from ..spec.load import load_spec

__all__ = ["em_demo_data", "N_INIT"]

N_INIT = SOLVERS["em"].options["n_init"].default  # as 'modemean run'
GRID_POINTS = 81  # x grid of the EM demo's density curves
CURVE_UNIT = 1e-4  # density curves are stored as integers in these units (page size)


def em_demo_data(*, seed: int = SEED.default, n_init: int = N_INIT, bins: int = 30) -> dict:
    """Every iteration of ML-EM on ``two_gaussians`` from each of the engine's restarts.

    Parameters
    ----------
    seed : int
        Seeds the model's ``em_starts`` exactly as ``modemean run --seed`` does.
    n_init : int
        Restarts; restart 0 is the seed's start (means -0.5, 0.8, weights 0.5, 0.5, sds 1).
    bins : int
        Histogram bins of the data.

    Returns
    -------
    dict
        ``x`` (grid), ``hist`` (``edges``, ``density``), ``curve_unit`` and ``restarts``: one dict
        per restart with ``trace`` (log likelihood at the start and after each iteration, the
        engine's ``EMRun.trace``), ``mu``, ``w``, ``sigma`` (per iteration), ``curves`` (per
        iteration, the two weighted component densities on ``x`` in units of ``curve_unit``),
        ``converged``, ``error``, ``objective``.
    """
    module = models.get("two_gaussians")
    spec = load_spec(module)
    x = np.asarray(spec.data["x"], dtype=float)
    grid = np.linspace(x.min() - 1.0, x.max() + 1.0, GRID_POINTS)
    on_grid = DiscreteLatentEM(module.build({"x": grid}), "z")
    engine = require(spec.em_engine, spec.em_reason)
    starts = engine.starts(n_init, np.random.default_rng(seed))
    restarts = [_restart(engine, start, on_grid, spec.data) for start in starts]
    density, edges = np.histogram(x, bins=bins, density=True)
    return jsonable(
        {
            "model": "two_gaussians",
            "seed": seed,
            "n_init": n_init,
            "n_points": int(x.size),
            "x": grid,
            "hist": {"edges": edges, "density": density},
            "curve_unit": CURVE_UNIT,
            "restarts": restarts,
        }
    )


def _restart(engine: EMEngine, start: dict, on_grid: DiscreteLatentEM, data: dict) -> dict:
    """One restart of ML-EM from ``start``: its trace, the parameters of every iteration and their curves."""
    seen: list[dict[str, np.ndarray]] = []

    def e_step(data, params):
        seen.append({k: np.array(v, dtype=float) for k, v in params.items()})
        return engine.e_step(params)

    recorded = HandWritten(None, e_step, lambda data, e, prior: engine.m_step(e, prior), data)
    run = run_em(recorded, start, prior=None)
    # a restart that broke down ends with a non-finite objective (or an E-step that raised): drop it
    n = int(np.isfinite(run.trace).sum())
    seen = seen[:n]
    curves = [np.rint(np.exp(on_grid.log_joint(p)) / CURVE_UNIT).astype(int) for p in seen]
    return {
        "trace": run.trace[:n],
        "mu": [p["mu"] for p in seen],
        "w": [p["w"] for p in seen],
        "sigma": [p["sigma"] for p in seen],
        "curves": curves,
        "converged": run.converged,
        "error": run.error,
        "objective": run.objective if not run.error else None,
    }
