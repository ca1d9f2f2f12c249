"""``compare``: one model, every solver, one table."""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
import re
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pymc as pm
import xarray as xr

from modemean import models

from . import progress
from .cache import cache_key, load_cached
from .density.start import check_start
from .errors import ModemeanError, interrupted
from .fit import Fit, flat_names
from .missing import imputed_notes, imputed_variables
from .results import dump_json, remove_stale_temporaries, results_dict, results_tree, write_atomic
from .solvers import SEED, SOLVERS, check_options
from .spec import ModelSpec, load_spec, spec_from_parts
from .table import format_table, make_table, printed_columns

__all__ = ["SOLVERS", "Comparison", "compare", "stored_comparison", "check_options"]

PARTS = tuple(inspect.signature(spec_from_parts).parameters)[2:]  # name, info, latent, em, sample_kwargs


@dataclass
class Comparison:
    """The outcome of :func:`compare`.

    Attributes
    ----------
    spec : ModelSpec
    fits : dict of str to Fit
        One per solver that was asked for.
    table : pandas.DataFrame
        One row per scalar parameter; columns as in the results schema (README).
    settings : dict
        seed, draws, tune, chains, n_init, solvers.
    cache_key : str or None
        Hash of everything that shapes the results (:func:`comparisons.cache.cache_key`).
    cached : bool
        True when the results were read back from a previous run instead of solved.
    highlights : dict
        The model's own headline numbers (its ``highlights`` hook), or ``{"error": ...}``.
    payload : dict of str to ndarray
        Arrays for the model's report section (its ``payload`` hook), saved in ``results.nc``.
    """

    spec: ModelSpec
    fits: dict[str, Fit]
    table: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)
    cache_key: str | None = None
    cached: bool = False
    highlights: dict[str, Any] = field(default_factory=dict)
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def results(self) -> dict[str, Any]:
        """The content of ``results.json``."""
        return results_dict(
            self.spec.name,
            self.spec.info,
            self.settings,
            self.fits,
            self.table,
            self.spec.source,
            self.cache_key,
            self.highlights,
        )

    @property
    def tree(self) -> xr.DataTree:
        """The content of ``results.nc``: NUTS draws, ``point_estimates``, ``em_trace``, ``payload``."""
        return results_tree(self.fits, self.table, self.payload)

    def save(self, out: str | Path) -> Path:
        """Write ``out/<model>/results.json`` and ``results.nc`` atomically; return the folder."""
        folder = Path(out) / self.spec.name
        folder.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(folder)
        tree = self.tree
        write_atomic(folder / "results.nc", lambda tmp: tree.to_netcdf(tmp, engine="h5netcdf"))
        dump_json(self.results, folder / "results.json")
        return folder

    def __str__(self) -> str:
        lines = [
            f"{self.spec.name}: {self.spec.info.get('title', '')}"
            + (" (cached results: nothing changed since they were made; --force recomputes)" if self.cached else "")
        ]
        width = max([5, *map(len, self.fits)])
        for method, fit in self.fits.items():
            status = fit.status if not fit.message else f"{fit.status} — {fit.message}"
            lines.append(f"  {method:{width}s} {fit.seconds:6.1f} s  {status}")
        em = self.fits.get("em")
        kind = em.diagnostics.get("em_kind", "") if em is not None and em.ok else ""
        return "\n".join(lines) + "\n\n" + format_table(self.table, printed_columns(self.fits), em_kind=kind)

    def _repr_html_(self) -> str:
        shown = self.table.drop(columns="flags")
        return f"<h4>{self.spec.name}</h4>" + shown.to_html(float_format=lambda v: f"{v:.4g}", na_rep="—")


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
    model : str, path, module or callable
        A catalog name (``"eight_schools"``), a path to a model file that follows the contract,
        an imported model module, or a ``build(data) -> pm.Model`` function (then pass ``data``).
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
                fits[name] = _run_solver(name, spec, options[name])
        except KeyboardInterrupt:
            # keep what is done: the finished solvers are saved, the rest marked as interrupted
            for name in chosen:
                fits.setdefault(name, Fit(name, "failed", "interrupted (SIGINT/SIGTERM) before it finished: rerun"))
            if out is not None:
                Comparison(spec, fits, _table(fits, spec), {**settings, "interrupted": True}, key).save(out)
            raise
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
    if callable(model) and not isinstance(model, ModuleType):
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


def check_name(name: str) -> None:
    """A results folder name: one path component of letters, digits, ``.``, ``_``, ``-``."""
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9._-]*", name):
        raise ModemeanError(f"name must be a folder name (letters, digits, '.', '_', '-'), got {name!r}")


def planned_source(target: str | Path | ModuleType) -> str:
    """The source file a target will be loaded from (a catalog model's file, or the path), without loading it."""
    if isinstance(target, ModuleType):
        return getattr(target, "__file__", None) or target.__name__
    if str(target).endswith(".py") or Path(str(target)).is_file():
        return str(Path(target).resolve())
    if str(target) in models.CATALOG:
        return str((Path(models.__file__).parent / f"{target}.py").resolve())
    return str(target)


def planned_name(target: str | Path | ModuleType) -> str:
    """The results folder a target writes to by default: the catalog name or the file's stem."""
    if isinstance(target, ModuleType):
        file = getattr(target, "__file__", None) or ""
        return Path(file).stem if file.endswith(".py") else target.__name__
    return Path(str(target)).stem if str(target).endswith(".py") or Path(str(target)).is_file() else str(target)


def check_folder(out: Path, name: str, source: str) -> None:
    """Raise when ``out/<name>/`` holds results of another model source (a file with the same stem elsewhere,
    or a file named like a catalog model): they would be overwritten silently."""
    try:
        stored = json.loads((out / name / "results.json").read_text()).get("source")
    except (OSError, ValueError, AttributeError):
        return
    if not stored or _same_source(stored, source):
        return
    raise ModemeanError(
        f"{shown_path(out / name)} holds results of {shown_path(stored)}; pass --name NAME (or name= in "
        "compare) to keep both"
    )


def _same_source(stored: str, source: str) -> bool:
    if stored == source:
        return True  # the same file, or two models given as functions ("<python>": named by their caller)
    if "<python>" in (stored, source):
        return False
    old, new = Path(stored), Path(source)
    if old.is_file() and new.is_file():
        return old.resolve() == new.resolve()
    # a catalog model whose checkout moved: the old file is gone, the new one is the catalog's file of that name
    catalog = Path(models.__file__).parent.resolve()
    return not old.exists() and new.resolve().parent == catalog and old.name == new.name


def shown_path(path: str | Path) -> str:
    """A path relative to the working folder when it lies inside it (as the user typed it), else absolute."""
    try:
        return os.path.relpath(path) if Path(path).resolve().is_relative_to(Path.cwd().resolve()) else str(path)
    except ValueError:
        return str(path)


def check_writable(out: Path) -> None:
    """Fail before any solver runs if ``out`` cannot be created or written."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModemeanError(f"cannot create output folder {str(out)!r}: {exc.strerror}; pass --out DIR") from exc
    if not os.access(out, os.W_OK | os.X_OK):
        raise ModemeanError(f"output folder {str(out)!r} is not writable: pass --out DIR with a writable folder")


def _run_solver(name: str, spec: ModelSpec, options: dict) -> Fit:
    """Run one solver; an unexpected exception becomes a ``failed`` Fit, never a lost run."""
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
    """The comparison table, imputed entries marked as such."""
    return make_table(fits, _order(spec), imputed_notes(spec.model))


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
    return [flat for n in names for flat in flat_names(n, tuple(int(s) for s in model[n].shape.eval()))]
