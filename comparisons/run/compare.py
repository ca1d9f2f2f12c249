"""``compare``: one model, every solver, one table."""

from __future__ import annotations

import dataclasses
import inspect
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pymc as pm

from ..density.start import check_start
from ..errors import ModemeanError, interrupted
from ..formula import is_bambi_model, with_deterministics, with_lme4_names
from ..results.fit import Fit, flat_names
from ..results.gaps import no_mean_flags
from ..results.table import make_table
from ..solvers import SEED, SOLVERS, check_options
from ..spec.data import imputed_notes, imputed_variables
from ..spec.load import load_spec
from ..spec.model_spec import ModelSpec, spec_from_parts
from . import progress
from .cache import cache_key, load_cached
from .comparison import Comparison
from .output import check_folder, check_name, check_writable, planned_source

__all__ = ["compare", "stored_comparison", "run_solver"]

PARTS = tuple(inspect.signature(spec_from_parts).parameters)[2:]  # name, info, latent, em, sample_kwargs


def compare(
    model: str | Path | ModuleType | Callable[[dict], pm.Model],
    data: dict | None = None,
    *,
    solvers: str | tuple[str, ...] | None = None,
    seed: int = SEED.default,
    out: str | Path | None = None,
    force: bool = False,
    **options_and_parts,
) -> Comparison:
    """Solve one model with each solver and put the answers side by side.

    Parameters
    ----------
    model : str, path, module, callable or bambi.Model
        A catalog name (``"eight_schools"``), a path to a model file that follows the contract,
        an imported model module, a ``build(data) -> pm.Model`` function (then pass ``data``), or a
        Bambi model (:mod:`comparisons.formula`: lme4's correlations and names, effects latent).
    data : dict, optional
        Data for a ``build`` function.
    solvers : str or tuple of str, optional
        Names in :data:`comparisons.solvers.SOLVERS` (comma-separated or a tuple); default: every
        solver that runs by default (map, em, nuts).
    seed : int
        Seeds every solver (NUTS, the jittered find_MAP starts, EM's random restarts).
    out : str or path, optional
        If given, write ``out/<model>/results.json`` and ``results.nc``; and if results made with
        the same model source, data, options and library versions are already there, return them
        instead of solving again.
    force : bool, default False
        Solve even when cached results exist.
    **options_and_parts
        The solvers' options, as declared in the registry (``draws``, ``tune``, ``chains``,
        ``sampler`` for NUTS; ``n_init`` for EM; defaults as declared); an unknown name is refused.
        For a ``build`` function also its parts: ``name``, ``info``, ``latent``, ``em``,
        ``sample_kwargs`` (see :func:`comparisons.spec.spec_from_parts`). For a model file, ``name``
        names the results folder ``out/<name>/`` (default: the file's stem); a folder holding
        results of another model source is never overwritten (:func:`check_folder`).

    Returns
    -------
    Comparison

    Examples
    --------
    >>> from modemean import compare                      # doctest: +SKIP
    >>> c = compare("eight_schools", solvers="map,em")       # doctest: +SKIP
    >>> c.table.loc["tau", ["map", "em", "mean", "gap_sd"]]  # doctest: +SKIP
    """
    if out is not None:
        check_writable(Path(out))
    spec, settings, key = _prepare(model, data, solvers, seed, out, options_and_parts)
    if out is not None and not force:
        stored = _stored(spec, settings, key, Path(out))
        if stored is not None:
            return stored
    # after the lookup: results stored under this key passed it (the check compiles the log density)
    check_start(spec.model, spec.name)
    chosen = settings["solvers"]
    options = {name: {"seed": seed, **{k: settings[k] for k in SOLVERS[name].options}} for name in chosen}
    with progress.solving(spec.name):
        start = time.perf_counter()
        progress.emit("model", solvers=list(chosen))
        fits = {}
        try:
            for name in chosen:
                fits[name] = run_solver(name, spec, options[name])
        except KeyboardInterrupt:
            # keep what is done: the finished solvers are saved, the rest marked as interrupted
            for name in chosen:
                fits.setdefault(
                    name, Fit(name, "interrupted", "interrupted (SIGINT/SIGTERM) before it finished: rerun")
                )
            if out is not None:
                Comparison(spec, fits, _table(fits, spec), {**settings, "interrupted": True}, key).save(out)
            raise
        if "formula" in spec.info:  # lme4's (Intercept) at EM's points too, lme4's names for vector terms' rows
            fits = with_deterministics(fits, spec.model, spec.params)
            fits = with_lme4_names(fits, spec.info["formula"]["lme4 names"])
        comparison = Comparison(spec, fits, _table(fits, spec), settings, key)
        comparison.highlights = _highlights(spec, comparison)
        comparison.payload = _payload(spec, comparison)
        if out is not None:
            comparison.save(out)
        progress.emit("done", seconds=time.perf_counter() - start, cached=False)
    return comparison


def stored_comparison(
    model: str | Path | ModuleType | Callable[[dict], pm.Model],
    data: dict | None = None,
    *,
    out: str | Path,
    solvers: str | tuple[str, ...] | None = None,
    seed: int = SEED.default,
    **options_and_parts,
) -> Comparison | None:
    """What :func:`compare` would return from the results already in ``out``, without solving anything.

    Parameters are those of :func:`compare` (without ``force``). Building the model is the most it
    costs: nothing is compiled.

    Returns
    -------
    Comparison or None
        ``None`` when ``out`` holds no results made with the same cache key (or they cannot be read).

    Raises
    ------
    ModemeanError
        As :func:`compare` does for bad options, a model that fails to load, or a folder holding
        another model's results.
    """
    spec, settings, key = _prepare(model, data, solvers, seed, out, options_and_parts)
    return _stored(spec, settings, key, Path(out))


def _prepare(model, data, solvers, seed, out, options_and_parts) -> tuple[ModelSpec, dict[str, Any], str | None]:
    """The checked options, the loaded model and its cache key: ``(spec, settings, key)`` (see :func:`compare`)."""
    parts = {k: v for k, v in options_and_parts.items() if k in PARTS}
    chosen, values = check_options(
        solvers, {"seed": seed, **{k: v for k, v in options_and_parts.items() if k not in PARTS}}
    )
    if is_bambi_model(model):  # a formula: Bambi's model with lme4's correlations and names (comparisons.formula)
        name = parts.get("name", "formula")
        check_name(name)
        spec = dataclasses.replace(load_spec(model), name=name)
    elif callable(model) and not isinstance(model, ModuleType):
        if data is None:
            raise ModemeanError("compare(build, data): a build function needs its data dict")
        check_name(parts.get("name", "custom"))
        spec = spec_from_parts(model, data, **parts)
    else:
        name = parts.pop("name", None)
        if name is not None:
            check_name(name)
            if out is not None:  # before the model is built: nothing is solved into another model's folder
                check_folder(Path(out), name, planned_source(model))
        spec = load_spec(model)
        if name is not None:
            spec = dataclasses.replace(spec, name=name)
    if out is not None:
        check_folder(Path(out), spec.name, spec.source)
    settings = {**values, "solvers": list(chosen)}
    key = cache_key(spec, settings, model if callable(model) and not isinstance(model, ModuleType) else None)
    return spec, settings, key


def _stored(spec: ModelSpec, settings: dict[str, Any], key: str | None, out: Path) -> Comparison | None:
    """The comparison stored in ``out/<model>/`` under ``key``, or ``None``."""
    cached = load_cached(out / spec.name, key)
    if cached is None:
        return None
    fits, table, highlights, payload = cached
    progress.emit("done", model=spec.name, seconds=0.0, cached=True)
    return Comparison(spec, fits, table, settings, key, cached=True, highlights=highlights, payload=payload)


def run_solver(name: str, spec: ModelSpec, options: dict) -> Fit:
    """Run one solver (for compare and a study's replicates); an exception becomes a ``failed`` Fit, never lost."""
    start = time.perf_counter()
    progress.emit("solver", solver=name, label=SOLVERS[name].label)
    try:
        fit = SOLVERS[name].fit(spec, **options)
    except Exception as exc:  # noqa: BLE001 -- any solver error is reported, the others still run
        where = traceback.extract_tb(exc.__traceback__)[-1]
        first = (str(exc).strip().splitlines() or [""])[0]  # PyTensor appends a multi-line backtrace: one line here
        fit = Fit(name, "failed", f"{type(exc).__name__}: {first} (at {Path(where.filename).name}:{where.lineno})")
    if interrupted():  # the solver swallowed the KeyboardInterrupt (pm.sample before its first draw does)
        raise KeyboardInterrupt
    fit = Fit(**{**fit.__dict__, "seconds": time.perf_counter() - start})
    progress.emit("solver_done", solver=name, status=fit.status, seconds=fit.seconds)
    return fit


def _highlights(spec: ModelSpec, comparison: Comparison) -> dict[str, Any]:
    """The model's ``highlights(comparison)``; a hook that fails is reported, never fatal."""
    if spec.highlights is None:
        return {}
    try:
        return dict(spec.highlights(comparison))
    except Exception as exc:  # noqa: BLE001 -- e.g. a solver it needs was not run or failed
        return {"error": f"highlights not computed: {type(exc).__name__}: {exc}"}


def _payload(spec: ModelSpec, comparison: Comparison) -> dict[str, Any]:
    """The model's ``payload(comparison)``; a hook that fails leaves it empty and says why in the highlights."""
    if spec.payload is None:
        return {}
    try:
        return dict(spec.payload(comparison))
    except Exception as exc:  # noqa: BLE001 -- e.g. a solver it needs was not run or failed
        comparison.highlights["payload error"] = f"payload not computed: {type(exc).__name__}: {exc}"
        return {}


def _table(fits: dict[str, Fit], spec: ModelSpec) -> pd.DataFrame:
    """The comparison table, imputed entries marked as such, and means that do not exist."""
    notes = imputed_notes(spec.model)
    for name, flags in no_mean_flags(fits, spec.info).items():
        notes.setdefault(name, []).extend(flags)
    return make_table(fits, _order(spec), notes)


def _order(spec: ModelSpec) -> list[str]:
    """Flat names: parameters, then latent free variables, then deterministics.

    The deterministic PyMC adds for an observation with missing values (``y``, joining the data
    and ``y_unobserved``) is data, not a parameter: it gets no rows (the imputed entries have
    theirs, ``y_unobserved[j]``).
    """
    model = spec.model
    names = spec.params + [rv.name for rv in model.free_RVs if rv.name in spec.latent]
    joined = {imp.name for imp in imputed_variables(model)}
    names += [d.name for d in model.deterministics if d.name not in joined]
    rows = [flat for n in names for flat in flat_names(n, tuple(int(s) for s in model[n].shape.eval()))]
    lme4 = spec.info.get("formula", {}).get("lme4 names", {})  # a formula's vector terms: lme4's row names
    return [lme4.get(row, row) for row in rows]
