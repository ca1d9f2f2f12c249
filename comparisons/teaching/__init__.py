"""The numbers behind the teaching pages, computed by modemean's own engine (``modemean teach``).

Rendering never runs a solver, so everything a teaching page shows that needs one is computed
here and written as JSON next to the results (``OUT/teaching/*.json``), one module per file:

* :mod:`.em_demo` -- ``em_demo.json``: every iteration of ML-EM on ``two_gaussians`` from each of
  the engine's restarts, with the two weighted component densities on a grid.
* :mod:`.em_bound` -- ``em_bound.json``: EM on ``two_gaussians`` as coordinate ascent on a lower
  bound, along 1-D slices of the parameters.
* :mod:`.prior_demo` -- ``prior_demo.json``: the MAP and posterior-mean paths of
  ``sparse_regression`` as the Laplace scale grows, the MLE, and ``ridge_regression``'s exact path.

This module keys and keeps the files (:func:`build_teaching`, :func:`teaching_key`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path

from ..results.write import write_atomic
from ..run import progress
from ..run.hashing import CATALOG, hash_code, hash_settings
from ..solvers import SEED
from .em_bound import em_bound_data
from .em_demo import N_INIT, em_demo_data
from .prior_demo import prior_demo_data

__all__ = ["build_teaching", "teaching_key"]


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
        Keyword arguments for :func:`~comparisons.teaching.prior_demo.prior_demo_data` (``scales``,
        ``flat``, ``nuts``).
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
