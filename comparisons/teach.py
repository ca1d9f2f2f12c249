"""The numbers behind the teaching pages, computed by modemean's own engine (``modemean teach``).

Rendering never runs a solver, so everything a teaching page shows that needs one is computed
here and written as JSON next to the results (``OUT/teaching/*.json``):

* ``em_demo.json`` -- ``two_gaussians``, maximum-likelihood EM (the seed's demo) from each of the
  engine's restarts (the model's ``em_starts`` with the run's seed, so restart 0 is the seed's
  start and the first ``n_init`` restarts are the ones ``modemean run`` makes), run by
  :func:`comparisons.solvers.em.run_em` with the engine's E- and M-steps. The parameters of every
  iteration are recorded by wrapping the E-step (which ``run_em`` calls once per iteration, on
  the start and on every M-step's result), and the two weighted component densities
  ``w_k N(x | mu_k, sigma_k)`` are evaluated on a grid from the PyMC model's own log-density
  graph (:meth:`comparisons.discrete.DiscreteLatentEM.log_joint` on the model built at the grid
  points), so the page neither re-runs EM nor re-types a density.
* ``em_bound.json`` -- ``two_gaussians`` again: EM as coordinate ascent on a lower bound. At each
  iteration from the seed's start, the log likelihood and the bound ``Q(theta | theta_t) + H(q_t)``
  along 1-D slices through ``theta_t``, from the engine's E-step and log joint (:func:`em_bound_data`).
* ``prior_demo.json`` -- ``sparse_regression`` (Laplace prior of scale ``b``): the mode (find_MAP
  from one start, with its kink polishing, so coefficients at the L1 kink are zero) and the
  posterior mean (NUTS, modest settings: a Monte Carlo estimate), each point one :func:`compare`
  of the catalog's ``build`` with ``b`` in its data, on a grid of ``b`` from tight to practically flat, and the
  maximum-likelihood estimate by ML-EM (the model's M-step without the prior: least squares).
  Its twin ``ridge_regression`` (Gaussian prior of sd ``tau``) is conjugate: its mode and mean
  are one closed form (:func:`models.ridge_regression.closed_form`), exact at every ``tau``.
  Both catalog files read their prior scale from the data (``data["scale"]``, ``data["tau"]``;
  ``load_data`` gives the catalog's value), so the grid passes it in and no module is changed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from modemean import models

from .discrete import DiscreteLatentEM
from .errors import ModemeanError
from .results.write import jsonable, write_atomic
from .run import progress
from .run.compare import compare
from .run.hashing import CATALOG, hash_code, hash_settings
from .solvers import SEED, SOLVERS
from .solvers.em import run_em
from .spec import load_spec

__all__ = [
    "em_demo_data",
    "em_bound_data",
    "prior_demo_data",
    "build_teaching",
    "teaching_key",
    "SCALES",
    "FLAT",
    "TEACH_NUTS",
    "BOUND_SLICES",
]

SCALES = (0.01, 0.02, 0.05, 0.15, 0.3, 1.0, 3.0, 10.0, 100.0)  # Laplace scales b, tight to wide
FLAT = 1e4  # the last point: b so wide the L1 penalty 1/b is negligible (the MLE, to ~1e-5)
N_INIT = SOLVERS["em"].options["n_init"].default  # as 'modemean run'
TEACH_NUTS = {"draws": 400, "tune": 400, "chains": 2}  # modest: the mean path is a Monte Carlo estimate
GRID_POINTS = 81  # x grid of the EM demo's density curves
CURVE_UNIT = 1e-4  # density curves are stored as integers in these units (page size)
BOUND_STEPS = 10  # EM iterations drawn on the lower-bound page (the big moves happen early)
SLICE_POINTS = 81  # points along each slice of the lower-bound page
# the slices of the lower-bound page: (key, label); "step" is the line from theta_t through the M-step's theta_{t+1}
BOUND_SLICES = (("mu0", "μ₁"), ("mu1", "μ₂"), ("w0", "w₁"), ("step", "s along the line θ_t + s (θ_t+1 − θ_t)"))
BOUND_RANGES = {"mu0": (-5.0, 4.0), "mu1": (-5.0, 4.0), "w0": (0.02, 0.98), "step": (-0.6, 2.2)}


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
    starts = spec.em["em_starts"](spec.data, n_init, np.random.default_rng(seed))
    e_hook = spec.em.get("fast_e_step", spec.em["e_step"])
    restarts = []
    for start in starts:
        seen: list[dict[str, np.ndarray]] = []

        def e_step(params, seen=seen):
            seen.append({k: np.array(v, dtype=float) for k, v in params.items()})
            return e_hook(spec.data, params)

        run = run_em(e_step, lambda e: spec.em["m_step"](spec.data, e, None), None, start)
        # a restart that broke down ends with a non-finite objective (or an E-step that raised): drop it
        n = int(np.isfinite(run.trace).sum())
        seen = seen[:n]
        curves = [np.rint(np.exp(on_grid.log_joint(p)) / CURVE_UNIT).astype(int) for p in seen]
        restarts.append(
            {
                "trace": run.trace[:n],
                "mu": [p["mu"] for p in seen],
                "w": [p["w"] for p in seen],
                "sigma": [p["sigma"] for p in seen],
                "curves": curves,
                "converged": run.converged,
                "error": run.error,
                "objective": run.objective if not run.error else None,
            }
        )
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


def _slice_point(theta: dict, new: dict, key: str, value: float) -> dict:
    """The parameters at ``value`` along slice ``key`` through ``theta`` (see :data:`BOUND_SLICES`)."""
    point = {k: np.array(v, dtype=float) for k, v in theta.items()}
    if key == "step":
        return {k: point[k] + value * (np.asarray(new[k], dtype=float) - point[k]) for k in point}
    if key == "w0":
        point["w"] = np.array([value, 1.0 - value])
    else:
        point["mu"][int(key[-1])] = value
    return point


def _coordinate(params: dict, key: str) -> float:
    return float(params["w"][0]) if key == "w0" else float(params["mu"][int(key[-1])])


def em_bound_data(*, seed: int = SEED.default, steps: int = BOUND_STEPS, points: int = SLICE_POINTS) -> dict:
    """EM on ``two_gaussians`` as coordinate ascent on a lower bound, along 1-D slices of the parameters.

    At the EM iterate ``theta_t`` the E-step gives ``q_t(z_i = k) = r_ik``, the responsibilities
    (:meth:`comparisons.discrete.DiscreteLatentEM.e_step`). For any ``theta``,

    ``L(q_t, theta) = sum_ik r_ik log p(z_i = k, x_i | theta) + H(q_t)``, with
    ``H(q_t) = -sum_ik r_ik log r_ik``, and ``l(theta) - L(q_t, theta) = sum_i KL(q_t,i || p(z_i | x_i, theta)) >= 0``,

    where ``log p(z_i = k, x_i | theta)`` is the engine's :meth:`~comparisons.discrete.DiscreteLatentEM.log_joint`
    (the PyMC model's own graph) and ``l(theta)`` its logsumexp over ``k`` summed over ``i``. The
    first sum is ``Q(theta | theta_t)``. The bound touches ``l`` at ``theta_t``; the M-step (the
    model's closed form) maximises it over all of ``theta`` at once.

    Each slice varies one thing with the rest held at ``theta_t`` (:data:`BOUND_SLICES`): a mean,
    the first weight (the second is ``1 - w_1``), or the step ``theta_t + s (theta_t+1 - theta_t)``.
    The grid holds ``theta_t``'s own coordinate and the bound's maximiser along the slice (found
    by a bounded scalar search), so the drawn curves touch and peak exactly.

    Parameters
    ----------
    seed : int
        As ``modemean run --seed`` (the seed's start does not use it).
    steps : int
        EM iterations from the seed's start (means -0.5, 0.8; weights 0.5, 0.5; sds 1).
    points : int
        Evenly spaced points per slice (two more are inserted).

    Returns
    -------
    dict
        ``slices`` (key, label), ``ranges`` per coordinate slice, and ``steps``: per iteration ``t``
        ``theta`` and ``new`` (``w``, ``mu``, ``sigma`` at ``theta_t`` and after the M-step),
        ``loglik`` (``l(theta_t)``), ``bound_at_theta`` (``L(q_t, theta_t)``), ``entropy``,
        ``loglik_new`` and ``bound_new`` (at ``theta_t+1``), ``kl_new`` (their difference, the KL gap at the
        new theta) and ``slice``: per key ``x``, ``loglik``, ``bound``, ``kl`` (``l - L`` by the KL formula
        itself), ``at`` (``theta_t``'s coordinate), ``argmax`` (of the bound) and ``new`` (``theta_t+1``'s).
    """
    from scipy.optimize import minimize_scalar
    from scipy.special import log_softmax, logsumexp

    module = models.get("two_gaussians")
    spec = load_spec(module)
    engine = DiscreteLatentEM(module.build(spec.data), "z")
    theta = spec.em["em_starts"](spec.data, 1, np.random.default_rng(seed))[0]
    record = []
    for _ in range(steps):
        expectations, loglik = engine.e_step(theta)
        q = expectations["resp"].T  # (K, N): q_t(z_i = k)
        log_q = np.log(q)
        entropy = float(-(q * log_q).sum())
        new = spec.em["m_step"](spec.data, expectations, None)

        def curves(params, q=q, log_q=log_q, entropy=entropy):
            joint = engine.log_joint(params)  # (K, N) from the model's graph
            bound = float((q * joint).sum()) + entropy
            kl = float((q * (log_q - log_softmax(joint, axis=0))).sum())
            return float(logsumexp(joint, axis=0).sum()), bound, kl

        ell_new, bound_new, _ = curves(new)
        slices = {}
        for key, _label in BOUND_SLICES:
            at = 0.0 if key == "step" else _coordinate(theta, key)
            lo, hi = BOUND_RANGES[key]

            def minus_bound(v, key=key, theta=theta, new=new):
                return -curves(_slice_point(theta, new, key, v))[1]

            best = minimize_scalar(minus_bound, method="bounded", bounds=(lo, hi), options={"xatol": 1e-10}).x
            x = np.unique(np.concatenate([np.linspace(lo, hi, points), [at, best]]))
            values = np.array([curves(_slice_point(theta, new, key, v)) for v in x])
            slices[key] = {
                "x": x,
                "loglik": values[:, 0],
                "bound": values[:, 1],
                "kl": values[:, 2],
                "at": at,
                "argmax": float(best),
                "new": 1.0 if key == "step" else _coordinate(new, key),
            }
        record.append(
            {
                "theta": theta,
                "new": new,
                "loglik": loglik,
                "bound_at_theta": curves(theta)[1],
                "entropy": entropy,
                "loglik_new": ell_new,
                "bound_new": bound_new,
                "kl_new": ell_new - bound_new,
                "slice": slices,
            }
        )
        theta = new
    return jsonable(
        {
            "model": "two_gaussians",
            "seed": seed,
            "n_points": len(spec.data["x"]),
            "slices": BOUND_SLICES,
            "ranges": BOUND_RANGES,
            "steps": record,
        }
    )


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
    ridge = models.get("ridge_regression")
    grid = [float(b) for b in scales] + [float(flat)]
    maps, means, ses = [], [], []
    for b in grid:  # the prior scale is data: each point is one comparison, through the same path as a run
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
        maps.append(c.table.loc[names, "map"].tolist())
        means.append(c.table.loc[names, "mean"].tolist())
        ses.append((c.table.loc[names, "sd"] / np.sqrt(c.table.loc[names, "ess_bulk"])).tolist())
    spec = load_spec(sparse)
    start = spec.em["em_starts"](spec.data, 1, np.random.default_rng(seed))[0]
    ml = run_em(lambda p: spec.em["e_step"](spec.data, p), lambda e: spec.em["m_step"](spec.data, e, None), None, start)
    taus = np.geomspace(min(grid), max(grid), 60)
    ridge_data = ridge.load_data()
    modes = [ridge.closed_form({**ridge_data, "tau": float(tau)})[0] for tau in taus]
    return jsonable(
        {
            "model": "sparse_regression",
            "seed": seed,
            "nuts": nuts,
            "laplace": {
                "scales": grid,
                "map": maps,
                "mean": means,
                "mean_se": ses,
                "zero_atol": sparse.ZERO_ATOL,
                "scale": float(spec.data["scale"]),
                "sigma": sparse.SIGMA,
            },
            "mle": ml.params["beta"],
            "mle_converged": ml.converged,
            "gaussian": {"model": "ridge_regression", "taus": taus, "mode": modes, "tau": float(ridge_data["tau"])},
        }
    )


def build_teaching(
    out: Path, *, seed: int = SEED.default, n_init: int = N_INIT, prior: dict | None = None, force: bool = False
) -> list[tuple[Path, bool]]:
    """Compute the teaching pages' numbers: ``out/teaching/em_demo.json``, ``em_bound.json``, ``prior_demo.json``.

    A file whose stored ``key`` (:func:`teaching_key`) matches is kept: the same settings on the same
    engine, catalog and libraries give the same numbers, so a second ``make demo`` recomputes nothing.

    Parameters
    ----------
    out : path
        The results folder (``modemean run --out``).
    seed, n_init : int
        As for ``modemean run``.
    prior : dict, optional
        Keyword arguments for :func:`prior_demo_data` (``scales``, ``flat``, ``nuts``).
    force : bool, default False
        Recompute every file even when it is up to date.

    Returns
    -------
    list of (Path, bool)
        Each file, and whether it was written (``False``: kept).
    """
    folder = Path(out) / "teaching"
    folder.mkdir(parents=True, exist_ok=True)
    logging.getLogger("pymc").setLevel(logging.WARNING)
    makers: dict[
        str, tuple[Callable[..., dict], dict]
    ] = {  # each file's function and its settings (its arguments, and part of its key)
        "em_demo": (em_demo_data, {"seed": seed, "n_init": n_init}),
        "em_bound": (em_bound_data, {"seed": seed}),
        "prior_demo": (prior_demo_data, {"seed": seed, **(prior or {})}),
    }
    done = []
    for name, (make, settings) in makers.items():
        path, key = folder / f"{name}.json", teaching_key(name, settings)
        if not force and _stored_key(path) == key:
            progress.emit("done", model=path.name, seconds=0.0, cached=True, said="kept (up to date)")
            done.append((path, False))
            continue
        start = time.perf_counter()
        progress.emit("step", model=path.name, what="computing")
        data = make(**settings)
        text = json.dumps({**data, "key": key}, separators=(",", ":"), allow_nan=False)  # compact: many numbers
        write_atomic(path, lambda tmp, text=text: tmp.write_text(text + "\n"))
        progress.emit("done", model=path.name, seconds=time.perf_counter() - start, cached=False)
        done.append((path, True))
    return done


def teaching_key(name: str, settings: dict) -> str:
    """SHA-256 over what shapes a teaching file: its name and settings, the library versions, and the
    sources of the engine (``comparisons/``) and of the catalog (``models/``: code and data files)."""
    h = hashlib.sha256()
    hash_settings(h, {"file": name, **settings})
    hash_code(h, [*CATALOG.rglob("*.py"), *CATALOG.rglob("*.csv")])
    return h.hexdigest()


def _stored_key(path: Path) -> str | None:
    """The ``key`` a teaching file was written with, or ``None`` (no file, unreadable, or older than keys)."""
    try:
        return json.loads(path.read_text()).get("key")
    except (OSError, ValueError, AttributeError):
        return None
