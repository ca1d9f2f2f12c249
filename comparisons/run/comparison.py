"""``Comparison``: the outcome of :func:`~comparisons.run.compare.compare`: its files, its text and HTML."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import xarray as xr

from ..results.fit import Fit
from ..results.schema import STATUS_WORDS
from ..results.table import format_table, printed_columns
from ..results.write import dump_json, remove_stale_temporaries, results_dict, results_tree, write_atomic
from ..spec import ModelSpec
from .output import shown_source, source_id

__all__ = ["Comparison"]


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
        Hash of everything that shapes the results (:func:`comparisons.run.cache.cache_key`).
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
            shown_source(self.spec.source),
            self.cache_key,
            self.highlights,
            source_id(self.spec.source),
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
            word = STATUS_WORDS.get(fit.status, fit.status)
            status = word if not fit.message else f"{word} — {fit.message}"
            lines.append(f"  {method:{width}s} {fit.seconds:6.1f} s  {status}")
        em = self.fits.get("em")
        kind = em.diagnostics.get("em_kind", "") if em is not None and em.ok else ""
        return "\n".join(lines) + "\n\n" + format_table(self.table, printed_columns(self.fits), em_kind=kind)

    def _repr_html_(self) -> str:
        shown = self.table.drop(columns="flags")
        return f"<h4>{self.spec.name}</h4>" + shown.to_html(float_format=lambda v: f"{v:.4g}", na_rep="—")
