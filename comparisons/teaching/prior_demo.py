"""``prior_demo.json``: ``sparse_regression`` (Laplace prior of scale ``b``) as the prior widens.

The mode (find_MAP from one start, with its kink polishing, so coefficients at the L1 kink are zero)
and the posterior mean (NUTS, modest settings: a Monte Carlo estimate), each point one
:func:`comparisons.run.compare.compare` of the catalog's ``build`` with ``b`` in its data, on a grid of
``b`` from tight to practically flat, and the maximum-likelihood estimate by ML-EM (the model's
M-step without the prior: least squares). Its twin ``ridge_regression`` (Gaussian prior of sd
``tau``) is conjugate: its mode and mean are one closed form (:func:`models.ridge_regression.closed_form`),
exact at every ``tau``. Both catalog files read their prior scale from the data (``data["scale"]``,
``data["tau"]``; ``load_data`` gives the catalog's value), so the grid passes it in and no module is changed.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np

from modemean import models

from ..em.engine import require
from ..em.loop import run_em
from ..errors import ModemeanError
from ..results.write import jsonable
from ..run.compare import compare
from ..solvers import SEED
from ..spec.load import load_spec

__all__ = ["prior_demo_data", "SCALES", "FLAT", "TEACH_NUTS"]

SCALES = (0.01, 0.02, 0.05, 0.15, 0.3, 1.0, 3.0, 10.0, 100.0)  # Laplace scales b, tight to wide
FLAT = 1e4  # the last point: b so wide the L1 penalty 1/b is negligible (the MLE, to ~1e-5)
TEACH_NUTS = {"draws": 400, "tune": 400, "chains": 2}  # modest: the mean path is a Monte Carlo estimate


def prior_demo_data(*, seed: int = SEED.default, scales=SCALES, flat: float = FLAT, nuts: dict | None = None) -> dict:
    """MAP and posterior-mean paths of ``sparse_regression`` as the Laplace scale grows; the MLE.

    Parameters
    ----------
    seed : int
        Seeds find_MAP and NUTS.
    scales : sequence of float
        Laplace scales ``b`` (the L1 penalty is ``sigma^2 / b``); ``flat`` is appended as the last point.
    flat : float
        A scale wide enough that the mode is the MLE to about ``1e-5``.
    nuts : dict, optional
        ``draws``, ``tune``, ``chains`` for the mean path (default :data:`TEACH_NUTS`).

    Returns
    -------
    dict
        ``laplace``: ``scales``, ``map`` and ``mean`` (one list of coefficients per scale),
        ``mean_se`` (Monte Carlo standard errors sd / sqrt(ESS)), ``zero_atol`` and the catalog's
        ``scale``; ``mle`` (ML-EM: least squares); ``gaussian``: ``ridge_regression``'s exact
        ``taus`` and ``mode`` (= mean) per tau.
    """
    nuts = {**TEACH_NUTS, **(nuts or {})}
    sparse = models.get("sparse_regression")
    grid = [float(b) for b in scales] + [float(flat)]
    maps, means, ses = zip(*(_at_scale(sparse, b, seed, nuts) for b in grid), strict=True)
    spec = load_spec(sparse)
    engine = require(spec.em_engine, spec.em_reason)
    ml = run_em(engine, engine.starts(1, np.random.default_rng(seed))[0], prior=None)
    return jsonable(
        {
            "model": "sparse_regression",
            "seed": seed,
            "nuts": nuts,
            "laplace": {
                "scales": grid,
                "map": list(maps),
                "mean": list(means),
                "mean_se": list(ses),
                "zero_atol": sparse.ZERO_ATOL,
                "scale": float(spec.data["scale"]),
                "sigma": sparse.SIGMA,
            },
            "mle": ml.params["beta"],
            "mle_converged": ml.converged,
            "gaussian": _ridge_path(min(grid), max(grid)),
        }
    )


def _at_scale(sparse: ModuleType, b: float, seed: int, nuts: dict) -> tuple[list, list, list]:
    """The mode, the posterior mean and its Monte Carlo standard errors of the coefficients at Laplace scale ``b``.

    The prior scale is data: each point is one comparison, through the same path as a run.
    """
    c = compare(
        sparse.build,
        {**sparse.load_data(), "scale": b},
        name=f"sparse_regression_b{b:g}",
        solvers="map,nuts",
        seed=seed,
        n_starts=1,
        **nuts,
    )
    for fit in c.fits.values():
        if not fit.ok:
            raise ModemeanError(f"prior demo at b = {b:g}: {fit.method} {fit.status}: {fit.message}")
    names = [n for n in c.table.index if n.startswith("beta[")]
    se = c.table.loc[names, "sd"] / np.sqrt(c.table.loc[names, "ess_bulk"])
    return c.table.loc[names, "map"].tolist(), c.table.loc[names, "mean"].tolist(), se.tolist()


def _ridge_path(lo: float, hi: float) -> dict:
    """``ridge_regression``'s exact mode (= mean) on 60 prior sds ``tau`` from ``lo`` to ``hi``, and its own ``tau``."""
    ridge = models.get("ridge_regression")
    taus = np.geomspace(lo, hi, 60)
    ridge_data = ridge.load_data()
    modes = [ridge.closed_form({**ridge_data, "tau": float(tau)})[0] for tau in taus]
    return {"model": "ridge_regression", "taus": taus, "mode": modes, "tau": float(ridge_data["tau"])}
